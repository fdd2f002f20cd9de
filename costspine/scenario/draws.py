"""PSA draws made by any tool, read from plain CSV: costspine's long tables or one wide table.

Two layouts are read (``docs/psa.md``, "External draws"):

* **long** — ``results.csv``: one row per draw and strategy, columns ``draw, strategy``, the
  total cost (``cost_total`` or ``cost``) and/or cost categories ``cost_<category>``, and one or
  more outcome columns (the effect among them); plus, optionally, ``parameters.csv``: one row per
  draw, ``draw`` and one column per parameter. This is what ``costspine psa`` writes.
* **wide** — one row per draw: ``draw`` (optional), ``cost_<strategy>`` and ``effect_<strategy>``
  for every strategy; every other column is a parameter.

Rows are counted as a spreadsheet counts them: the header is row 1. Every problem names the file,
the row and the column, what was expected and what was found, never a cell's content. All
problems of the files are collected and raised together as one
:class:`~costspine.errors.DrawsError` (exit code 3). The arrays returned carry labels only; the
analysis layer wraps them into a :class:`~costspine.analysis.psa_result.PSAResult`.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costspine._files import MAX_TABLE_BYTES, read_input_file
from costspine.errors import DrawsError, InputFileError, Problem, UsageError
from costspine.problems import did_you_mean

RESULTS_FILE = "results.csv"
PARAMETERS_FILE = "parameters.csv"
MIN_DRAWS = 2
"""Fewest draws accepted (EVPI needs a spread; regression EVPPI asks for more, see ``min_draws``)."""

TOTAL_COST_COLUMNS = ("cost_total", "cost")
_SAY_AT_MOST = 3  # problems of one kind said row by row; the rest counted


@dataclass(frozen=True)
class DrawTables:
    """Draws read from CSV files: arrays and their labels, no analysis.

    Attributes
    ----------
    layout : {"long", "wide"}
    files : tuple of Path
        The files read, results first.
    strategies : tuple of str
        In order of first appearance (long) or of the ``cost_<strategy>`` columns (wide).
    draw_ids : ndarray of int, shape (draw,)
        The ``draw`` column (long: order of first appearance), else 0, 1, ...
    categories : tuple of str
        Cost categories; ``("total",)`` when the file gives totals only.
    costs : ndarray, shape (draw, strategy, category)
    outcome_names : tuple of str
    outcomes : ndarray, shape (draw, strategy, outcome)
    effect_name : str
        The outcome that is the effect (one of ``outcome_names``).
    parameter_names : tuple of str
    parameters : ndarray, shape (draw, parameter)
    """

    layout: str
    files: tuple
    strategies: tuple
    draw_ids: np.ndarray
    categories: tuple
    costs: np.ndarray
    outcome_names: tuple
    outcomes: np.ndarray
    effect_name: str
    parameter_names: tuple
    parameters: np.ndarray

    @property
    def n_draws(self) -> int:
        return self.costs.shape[0]


def find_draw_files(path, *, parameters=None) -> tuple[str, Path, Path | None]:
    """Which layout ``path`` holds and which files to read: ``(layout, results, parameters)``.

    ``path`` is a folder holding ``results.csv`` (and ``parameters.csv``), a long results file
    (its header has a ``strategy`` column) or a wide file. ``parameters`` names the parameters
    file of a long layout explicitly.

    Raises
    ------
    UsageError
        No results file in the folder, or ``parameters`` given with a wide file.
    """
    path = Path(path)
    params = None if parameters is None else Path(parameters)
    if path.is_dir():
        results = path / RESULTS_FILE
        if not results.is_file():
            raise UsageError(
                f"{path}: holds neither draws/ nor draws.npz (a `costspine psa` folder) nor {RESULTS_FILE}; give a "
                f"folder written by `costspine psa`, a folder with {RESULTS_FILE} (+ {PARAMETERS_FILE}), "
                "or one wide CSV file"
            )
        if params is None and (path / PARAMETERS_FILE).is_file():
            params = path / PARAMETERS_FILE
        layout = "long"
    else:
        layout = "long" if "strategy" in _header(path) else "wide"
        results = path
        if layout == "wide" and params is not None:
            raise UsageError(
                f"--parameters {params}: {path} is a wide file (no 'strategy' column), which holds its "
                "parameters as columns; give the parameters file with a long results file only"
            )
    if params is not None and not params.is_file():
        raise UsageError(f"--parameters {params}: no such file")
    return layout, results, params


def read_draw_tables(path, *, parameters=None, effect: str | None = None, min_draws: int = MIN_DRAWS) -> DrawTables:
    """Read PSA draws from CSV: a folder with ``results.csv`` (+ ``parameters.csv``), a long results file or a wide file.

    Parameters
    ----------
    path : path
        See :func:`find_draw_files`.
    parameters : path, optional
        The parameters file of a long layout (default: ``parameters.csv`` beside ``results.csv``
        in a folder; none for a single long file).
    effect : str, optional
        The outcome column that is the effect (long layout). Default: the column ``effect``, else
        the only outcome column.
    min_draws : int
        Fewest draws accepted.

    Returns
    -------
    DrawTables

    Raises
    ------
    DrawsError
        Every problem of the files: missing columns, non-numeric or empty cells, ragged rows,
        duplicate draws, results and parameters whose draws differ, too few draws.
    UsageError
        No results file, or ``effect`` not an outcome column (or needed to choose among several).
    """
    layout, results, params = find_draw_files(path, parameters=parameters)
    problems: list[Problem] = []
    if layout == "wide":
        tables = _read_wide(results, problems)
    else:
        tables = _read_long(results, params, effect, problems)
    if tables is not None and tables.n_draws < min_draws:
        problems.append(
            Problem(
                str(results),
                f"{tables.n_draws} draw{'s' if tables.n_draws != 1 else ''}; expected at "
                f"least {min_draws}" + (" (regression EVPPI needs that many)" if min_draws > MIN_DRAWS else ""),
            )
        )
    if problems:
        raise DrawsError(problems)
    return tables


# ------------------------------------------------------------------------------------ CSV cells


def _header(path: Path) -> list[str]:
    rows = _rows(path, [], header_only=True)
    return rows[0] if rows else []


def _rows(path: Path, problems: list, *, header_only: bool = False) -> list[list[str]] | None:
    """Rows of a CSV file as text (header first, blank lines dropped); None and a problem if unreadable."""
    try:
        text = read_input_file(path, max_bytes=MAX_TABLE_BYTES).decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text, newline=""))
        if header_only:
            return [next(reader, [])]
        return [row for row in reader]
    except InputFileError as exc:
        problems.append(Problem(exc.path, exc.reason))
    except UnicodeDecodeError:
        problems.append(Problem(str(path), "expected UTF-8 text (CSV); found bytes that are not UTF-8 — save it as CSV UTF-8"))
    except csv.Error as exc:
        problems.append(Problem(str(path), f"not readable as CSV ({exc})"))
    except OSError as exc:
        problems.append(Problem(str(path), f"cannot read the file ({exc.strerror or exc})"))
    return None


def _check_header(path: Path, rows, problems: list) -> list[str] | None:
    if not rows or not any(cell.strip() for cell in rows[0]):
        problems.append(Problem(str(path), "empty file; expected a header row and one row per draw"))
        return None
    header = [cell.strip() for cell in rows[0]]
    ok = True
    for j, name in enumerate(header):
        if not name:
            problems.append(Problem(f"{path}: row 1", f"column {j + 1} has no name; expected a column name"))
            ok = False
        elif name in header[:j]:
            problems.append(Problem(f"{path}: row 1", f"column {name!r} appears twice; expected each column once"))
            ok = False
    return header if ok else None


def _body(path: Path, rows, header: list[str], problems: list) -> list[tuple[int, list[str]]]:
    """``(row number, cells)`` of every data row with as many cells as the header (blank rows skipped)."""
    body = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                Problem(
                    f"{path}: row {number}",
                    f"{len(row)} cells; expected {len(header)} as in the header (ragged row: a missing or extra separator?)",
                )
            )
            continue
        body.append((number, row))
    return body


def _numbers(path: Path, body, header: list[str], columns: list[str], problems: list) -> np.ndarray:
    """The ``columns`` of every row as floats, shape (row, column); each bad cell named by row and column
    (the first few of each column, the rest counted). Bad cells read as NaN."""
    index = [header.index(c) for c in columns]
    out = np.full((len(body), len(columns)), np.nan)
    bad: dict[str, list] = {}
    for i, (number, row) in enumerate(body):
        for k, j in enumerate(index):
            cell = row[j].strip()
            try:
                value = float(cell)
            except ValueError:
                bad.setdefault(columns[k], []).append((number, "an empty cell" if not cell else "text that is not a number"))
                continue
            if not math.isfinite(value):
                bad.setdefault(columns[k], []).append((number, "a non-finite number (nan or inf)"))
                continue
            out[i, k] = value
    for column, cells in bad.items():
        if len(cells) == len(body) > _SAY_AT_MOST:
            problems.append(
                Problem(
                    f"{path}: column {column}",
                    f"expected finite numbers; found none in its {len(body)} rows (a text column? remove it)",
                )
            )
            continue
        for number, found in cells[:_SAY_AT_MOST]:
            problems.append(Problem(f"{path}: row {number}, column {column}", f"expected a finite number; found {found}"))
        if len(cells) > _SAY_AT_MOST:
            problems.append(Problem(f"{path}: column {column}", f"{len(cells) - _SAY_AT_MOST} more rows without a finite number"))
    return out


def _draw_ids(path: Path, body, header: list[str], problems: list) -> np.ndarray | None:
    """The ``draw`` column as integers; None (and problems) if any cell is not a whole number."""
    values = _numbers(path, body, header, ["draw"], problems)[:, 0]
    whole = np.isfinite(values) & (values == np.round(values))
    for number in [body[i][0] for i in np.flatnonzero(np.isfinite(values) & ~whole)[:_SAY_AT_MOST]]:
        problems.append(
            Problem(f"{path}: row {number}, column draw", "expected a whole number (the draw's id); found a fraction")
        )
    return values.astype(np.int64) if whole.all() else None


def _say_rows(problems: list, where: str, rows: list[int], message: str, *, plural: str) -> None:
    for number in rows[:_SAY_AT_MOST]:
        problems.append(Problem(f"{where}: row {number}", message))
    if len(rows) > _SAY_AT_MOST:
        problems.append(Problem(where, f"{len(rows) - _SAY_AT_MOST} more {plural}"))


# ------------------------------------------------------------------------------------ wide


def _read_wide(path: Path, problems: list) -> DrawTables | None:
    rows = _rows(path, problems)
    if rows is None:
        return None
    header = _check_header(path, rows, problems)
    if header is None:
        return None
    cost = {c[len("cost_") :]: c for c in header if c.startswith("cost_") and len(c) > len("cost_")}
    effect = {c[len("effect_") :]: c for c in header if c.startswith("effect_") and len(c) > len("effect_")}
    for s in cost:
        if s not in effect:
            problems.append(
                Problem(
                    f"{path}: row 1",
                    f"missing column 'effect_{s}'; expected one beside 'cost_{s}' "
                    "(each strategy needs cost_<strategy> and effect_<strategy>)",
                )
            )
    for s in effect:
        if s not in cost:
            problems.append(
                Problem(
                    f"{path}: row 1",
                    f"missing column 'cost_{s}'; expected one beside 'effect_{s}' "
                    "(each strategy needs cost_<strategy> and effect_<strategy>)",
                )
            )
    strategies = [s for s in cost if s in effect]
    if len(strategies) < 2 and len(cost) == len(effect) == len(strategies):
        found = ", ".join(repr(c) for c in header)
        problems.append(
            Problem(
                f"{path}: row 1",
                "expected cost_<strategy> and effect_<strategy> columns for at least "
                f"two strategies (e.g. cost_usual, effect_usual, cost_new, effect_new); "
                f"found columns {found}",
            )
        )
    body = _body(path, rows, header, problems)
    if problems:
        return None
    parameter_names = [c for c in header if c != "draw" and c not in cost.values() and c not in effect.values()]
    values = _numbers(
        path, body, header, [cost[s] for s in strategies] + [effect[s] for s in strategies] + parameter_names, problems
    )
    draw_ids = np.arange(len(body))
    if "draw" in header:
        ids = _draw_ids(path, body, header, problems)
        if ids is not None:
            _check_unique_draws(path, body, ids, problems)
            draw_ids = ids
    if problems:
        return None
    n = len(strategies)
    return DrawTables(
        layout="wide",
        files=(path,),
        strategies=tuple(strategies),
        draw_ids=draw_ids,
        categories=("total",),
        costs=values[:, :n, None].copy(),
        outcome_names=("effect",),
        outcomes=values[:, n : 2 * n, None].copy(),
        effect_name="effect",
        parameter_names=tuple(parameter_names),
        parameters=values[:, 2 * n :].copy(),
    )


def _check_unique_draws(path: Path, body, ids: np.ndarray, problems: list) -> None:
    first: dict[int, int] = {}
    repeats = []
    for (number, _), draw in zip(body, ids.tolist()):
        if draw in first:
            repeats.append((number, first[draw]))
        else:
            first[draw] = number
    for number, earlier in repeats[:_SAY_AT_MOST]:
        problems.append(
            Problem(f"{path}: row {number}, column draw", f"repeats the draw of row {earlier}; expected each draw once")
        )
    if len(repeats) > _SAY_AT_MOST:
        problems.append(Problem(f"{path}: column draw", f"{len(repeats) - _SAY_AT_MOST} more repeated draws"))


# ------------------------------------------------------------------------------------ long


def _read_long(path: Path, params_path: Path | None, effect: str | None, problems: list) -> DrawTables | None:
    rows = _rows(path, problems)
    if rows is None:
        return None
    header = _check_header(path, rows, problems)
    if header is None:
        return None
    for key in ("draw", "strategy"):
        if key not in header:
            problems.append(
                Problem(
                    f"{path}: row 1",
                    f"missing column {key!r}; a long results file has columns draw, "
                    "strategy, cost_total (or cost) and the outcomes",
                )
            )
    totals = [c for c in TOTAL_COST_COLUMNS if c in header]
    categories = [c for c in header if c.startswith("cost_") and c not in TOTAL_COST_COLUMNS]
    if len(totals) > 1:
        problems.append(Problem(f"{path}: row 1", "columns 'cost_total' and 'cost' both present; expected one total cost column"))
    if not totals and not categories:
        problems.append(
            Problem(
                f"{path}: row 1",
                "missing cost column; expected 'cost_total' (or 'cost', or cost_<category> columns that add up to the total)",
            )
        )
    outcome_names = [c for c in header if c not in ("draw", "strategy", *totals, *categories)]
    if not outcome_names:
        problems.append(
            Problem(
                f"{path}: row 1", "no outcome column; expected the effect beside the costs (e.g. a column 'effect' or 'qalys')"
            )
        )
    body = _body(path, rows, header, problems)
    if problems:
        return None
    effect_name = _choose_effect(path, outcome_names, effect)
    strategy_column = header.index("strategy")
    labels = [row[strategy_column].strip() for _, row in body]
    for number in [n for (n, _), s in zip(body, labels) if not s][:_SAY_AT_MOST]:
        problems.append(Problem(f"{path}: row {number}, column strategy", "expected a strategy name; found an empty cell"))
    ids = _draw_ids(path, body, header, problems)
    cost_columns = totals + categories
    values = _numbers(path, body, header, cost_columns + outcome_names, problems)
    if problems or ids is None:
        return None
    strategies = list(dict.fromkeys(labels))
    draws = list(dict.fromkeys(ids.tolist()))
    d_index = {d: i for i, d in enumerate(draws)}
    s_index = {s: k for k, s in enumerate(strategies)}
    seen = np.zeros((len(draws), len(strategies)), dtype=np.int64)  # row number of each (draw, strategy); 0 = none
    repeats, first_row = [], {}
    table = np.full((len(draws), len(strategies), values.shape[1]), np.nan)
    for (number, _), draw, s, row in zip(body, ids.tolist(), labels, values):
        i, k = d_index[draw], s_index[s]
        first_row.setdefault(draw, number)
        if seen[i, k]:
            repeats.append((number, int(seen[i, k])))
            continue
        seen[i, k] = number
        table[i, k] = row
    for number, earlier in repeats[:_SAY_AT_MOST]:
        problems.append(
            Problem(
                f"{path}: row {number}", f"repeats the draw and strategy of row {earlier}; expected one row per draw and strategy"
            )
        )
    if len(repeats) > _SAY_AT_MOST:
        problems.append(Problem(str(path), f"{len(repeats) - _SAY_AT_MOST} more repeated draw and strategy rows"))
    for k, s in enumerate(strategies):
        missing = [first_row[draws[i]] for i in np.flatnonzero(seen[:, k] == 0)]
        _say_rows(
            problems,
            str(path),
            missing,
            f"the draw of this row has no row for strategy {s!r}; expected one row per draw and strategy",
            plural=f"draws without strategy {s!r}",
        )
    if len(strategies) < 2:
        problems.append(Problem(f"{path}: column strategy", f"{len(strategies)} strategy; expected at least two to compare"))
    n_total = len(totals)
    if n_total and categories:
        gap = np.abs(table[:, :, 0] - table[:, :, 1 : 1 + len(categories)].sum(axis=-1))
        off = gap > 1e-9 * np.maximum(1.0, np.abs(table[:, :, 0]))
        rows_off = sorted(int(seen[i, k]) for i, k in np.argwhere(off))
        _say_rows(
            problems,
            str(path),
            rows_off,
            f"column {totals[0]} is not the sum of the cost_<category> columns "
            f"({', '.join(categories)}); expected them to add up, or give the total only",
            plural="rows whose total is not the sum of its categories",
        )
    parameter_names, parameters = (), np.zeros((len(draws), 0))
    if params_path is not None:
        read = _read_parameters(params_path, path, draws, first_row, problems)
        if read is not None:
            parameter_names, parameters = read
    if problems:
        return None
    if categories:
        costs = table[:, :, n_total : n_total + len(categories)]
        category_names = tuple(c[len("cost_") :] for c in categories)
    else:
        costs, category_names = table[:, :, :1], ("total",)
    files = (path,) if params_path is None else (path, params_path)
    return DrawTables(
        layout="long",
        files=files,
        strategies=tuple(strategies),
        draw_ids=np.array(draws, dtype=np.int64),
        categories=category_names,
        costs=np.ascontiguousarray(costs),
        outcome_names=tuple(outcome_names),
        outcomes=np.ascontiguousarray(table[:, :, len(cost_columns) :]),
        effect_name=effect_name,
        parameter_names=parameter_names,
        parameters=parameters,
    )


def _choose_effect(path: Path, outcome_names: list[str], effect: str | None) -> str:
    if effect is not None:
        if effect not in outcome_names:
            raise UsageError(
                f"--effect {effect!r}: not an outcome column of {path}{did_you_mean(effect, outcome_names)}"
                f" Outcome columns: {', '.join(outcome_names)}"
            )
        return effect
    if "effect" in outcome_names:
        return "effect"
    if len(outcome_names) == 1:
        return outcome_names[0]
    raise UsageError(
        f"{path}: several outcome columns ({', '.join(outcome_names)}); say which is the effect with "
        f"--effect (e.g. --effect {outcome_names[0]})"
    )


def _read_parameters(path: Path, results: Path, draws: list, first_row: dict, problems: list):
    """``(names, values (draw, parameter))`` in the order of ``draws``; None (and problems) if bad."""
    rows = _rows(path, problems)
    if rows is None:
        return None
    header = _check_header(path, rows, problems)
    if header is None:
        return None
    if "draw" not in header:
        problems.append(
            Problem(f"{path}: row 1", "missing column 'draw'; a parameters file has columns draw and one per parameter")
        )
        return None
    body = _body(path, rows, header, problems)
    names = [c for c in header if c != "draw"]
    values = _numbers(path, body, header, names, problems)
    ids = _draw_ids(path, body, header, problems)
    if ids is None:
        return None
    _check_unique_draws(path, body, ids, problems)
    d_index = {d: i for i, d in enumerate(draws)}
    out = np.full((len(draws), len(names)), np.nan)
    have = np.zeros(len(draws), dtype=bool)
    unknown = []
    for (number, _), draw, row in zip(body, ids.tolist(), values):
        i = d_index.get(draw)
        if i is None:
            unknown.append(number)
        elif not have[i]:
            out[i], have[i] = row, True
    _say_rows(
        problems,
        str(path),
        unknown,
        f"its draw has no rows in {results.name}; expected the same draws in both files",
        plural=f"rows whose draw is not in {results.name}",
    )
    missing = [first_row[draws[i]] for i in np.flatnonzero(~have)]
    _say_rows(
        problems,
        str(results),
        missing,
        f"its draw has no row in {path.name}; expected the same draws in both files",
        plural=f"draws without a row in {path.name}",
    )
    return tuple(names), out
