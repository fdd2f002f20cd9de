"""Edited workbook inputs read back: the Inputs sheet of a workbook costspine wrote, applied to a scenario.

An analyst opens ``run.xlsx`` (or ``psa.xlsx``, ``dsa.xlsx``, ``bia.xlsx``), edits on its **Inputs**
sheet a parameter's *Value*, *Distribution* or *Arguments* (or, on the **Unit prices** sheet, an
item's *Unit price*), saves it, and runs ``costspine run SCENARIO --inputs run.xlsx``.
:func:`load_scenario_with_inputs` reads the sheets, compares every row with the scenario's own parameters, and loads the scenario again with
the edited ``[parameters.NAME]`` tables laid over the file's — exactly as if the scenario file had
been edited (a child file declaring those parameters). What changed is returned with the scenario
(:attr:`Scenario.edits <costspine.scenario.types.Scenario>`, one :class:`InputEdit` per cell), the
workbook's SHA-256 joins the scenario's input files, and the commands print the edits and write
them into the manifest.

Rules, as a scenario file would have them:

- *Value* sets the parameter's base-case value only; a distribution keeps its arguments (the edit
  says so when the PSA mean then differs from the value). Edit *Arguments* to move the draws.
- *Distribution* and *Arguments* (``shape=100, scale=0.89``; any keys the family accepts, e.g.
  ``mean=0.3, sd=0.05``) replace the distribution; a ``fixed`` parameter has no arguments.
- A Dirichlet row's *Arguments* (``group g, alpha=[12, 30, 8]``) set the group's counts; a
  component's *Value* is the mean of its group and cannot be set on its own.
- A derived parameter's *Arguments* hold its expression, which may be edited; its *Value* is
  computed and cannot be.
- *Unit price* sets the value of the item's ``price_<item>`` parameter (a price derived through a
  payer multiplier is edited through ``price_base_<item>`` instead). The other price columns are
  shown for reference only.
- *Source* edits are ignored (they change no number); rows may be left out, never added.

A ``bia.xlsx`` of a plan with prevalent patients has one table per model, each under its title
(``New episodes: <plan>``, ``Prevalent patients: <model>``); the first is the scenario's, the others
go to their models (:mod:`costspine.scenario.workbook_models`). In a comparison workbook each
scenario reads its own value column (an empty cell: a parameter it does not declare).

Every bad cell is reported at once, naming the workbook, sheet, cell, parameter, what was expected
and what was found (:class:`~costspine.errors.ScenarioError`, exit code 3), and nothing is run.

This module and :mod:`costspine.reports.excel` (the writer) are the only importers of openpyxl.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from costspine._files import read_input_file
from costspine.errors import Problem, ScenarioError
from costspine.expressions import ExpressionError, parse_expression
from costspine.params import ARGUMENT_KEYS, FAMILIES, canonical_args
from costspine.problems import did_you_mean
from costspine.scenario.workbook_models import (
    POLICY_KEY,
    PREVALENT_KEY,
    PREVALENT_POLICY_KEY,
    PREVALENT_TITLE,
    carry_to_policy,
    load_prevalent_model,
    models_of,
    policy_of,
)

INPUTS_SHEET = "Inputs"
PRICES_SHEET = "Unit prices"
PARAMETER_HEADERS = ("Parameter", "Value", "Distribution", "Arguments", "Source")
"""Headers of the Inputs sheet's parameter table (a comparison workbook has one value column per scenario)."""
NOT_VALUE_HEADERS = ("Parameter", "Differs", "Distribution", "Arguments", "Unit")
"""Columns of the parameter table between Parameter and Source that hold no scenario's values."""
PRICE_HEADERS = ("Item", "Parameter", "Unit price")
"""The unit-price table's columns that are read back (the others are shown for reference)."""

MAX_WORKBOOK_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 512 * 1024 * 1024  # a workbook is a zip: refuse a decompression bomb before opening it
VALUE_RTOL = 1e-9  # a cell holds every digit; this is only floating-point noise after a round trip
ARGUMENT_RTOL = 5e-6  # arguments are shown to 6 significant digits
UNIVARIATE = tuple(f for f in FAMILIES if f not in ("dirichlet", "posterior"))


@dataclass(frozen=True)
class InputEdit:
    """One edited cell of a workbook's Inputs sheet, as applied.

    Attributes
    ----------
    workbook : str
        Path of the workbook.
    cell : str
        ``Inputs!B7``.
    parameter : str
        The parameter (for a unit price: ``price_<item>``).
    field : str
        ``value``, ``distribution``, ``arguments`` or ``unit price``.
    old, new : str
        The scenario's and the workbook's content, as text.
    note : str
        What else the reader should know (e.g. the PSA draws keep their mean).
    """

    workbook: str
    cell: str
    parameter: str
    field: str
    old: str
    new: str
    note: str = ""

    def __str__(self) -> str:
        text = f"{self.parameter}: {self.field} {self.old} → {self.new} ({self.cell})"
        return f"{text}; {self.note}" if self.note else text

    def to_dict(self) -> dict:
        return {
            "workbook": self.workbook,
            "cell": self.cell,
            "parameter": self.parameter,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "note": self.note,
        }


@dataclass(frozen=True)
class _Cell:
    ref: str  # "B7"
    value: object


@dataclass(frozen=True)
class _ParameterRow:
    name: str
    name_cell: _Cell
    value: _Cell
    distribution: _Cell
    arguments: _Cell
    describes: bool = True  # False: Distribution and Arguments are another scenario's (a comparison workbook)


@dataclass(frozen=True)
class _PriceRow:
    item: str
    parameter: str
    price: _Cell


# ------------------------------------------------------------------------------------------ api


def load_scenario_with_inputs(path, workbook):
    """Load the scenario at ``path`` with the values edited on the Inputs sheet of ``workbook``.

    Parameters
    ----------
    path : str or Path
        The scenario file.
    workbook : str or Path
        An ``.xlsx`` workbook written by costspine (any command whose workbook has an Inputs sheet),
        possibly edited and saved by Excel or LibreOffice.

    Returns
    -------
    Scenario
        As :func:`~costspine.scenario.load.load_scenario` would return for the scenario file with
        the edits written into it; ``files`` also holds the workbook and its SHA-256, ``edits``
        one :class:`InputEdit` per changed cell (empty when nothing changed).

    Raises
    ------
    ScenarioError
        The scenario is invalid; or the workbook cannot be read, has no Inputs sheet, or has bad
        cells (every one named: workbook, sheet, cell, parameter, expected, found).
    """
    from costspine.scenario.load import load_scenario

    scenario = load_scenario(path)
    workbook = Path(workbook)
    data = read_input_file(workbook, max_bytes=MAX_WORKBOOK_BYTES)
    sha = hashlib.sha256(data).hexdigest()
    rows, price_rows = _read_sheets(data, where=str(workbook))
    tables = _split_tables(rows)
    where = str(workbook)
    own = [body for title, body in tables if not title.startswith(PREVALENT_TITLE)]
    params = _parse_parameters(own[0] if own else [], where=where, value_column=scenario.name)
    prices = _parse_prices(price_rows, where=where, scenario=scenario.name)
    edits, overlay = find_edits(scenario, params, prices, workbook=where)
    source = f"{workbook} (sheet {INPUTS_SHEET})"
    original = scenario
    if overlay:
        scenario = load_scenario(path, parameters=overlay, parameters_from=source)
    edits, overlays = _find_model_edits(original, scenario, overlay, edits, tables, price_rows, where=where, source=source)
    return replace(scenario, files=(*scenario.files, (str(workbook), sha)), edits=tuple(edits), model_parameters=overlays)


def _find_model_edits(original, scenario, overlay: dict, edits: list, tables, price_rows, *, where: str, source: str):
    """The edits of the BIA file's policy and of the prevalent patients' model (and its policy).

    Parameters
    ----------
    original, scenario : Scenario
        The BIA file as written and with its own table's edits (``overlay``, ``edits``) applied.
    tables : list of (str, list)
        The Inputs sheet's parameter tables with their titles.
    price_rows : list
        The Unit prices sheet's cells.
    where, source : str
        The workbook, for problems; the workbook and sheet, for the loaded files' problems.

    Returns
    -------
    edits : list of InputEdit
        ``edits`` with notes on what a policy inherits, then the prevalent model's edits (parameter
        ``<model>.<name>``).
    model_parameters : dict
        Key path of a model file → ``(parameters, source)``, for :class:`~costspine.scenario.types.Scenario`.

    Raises
    ------
    ScenarioError
        A bad cell of the prevalent model's table, or a workbook whose prevalent table names another model.
    """
    from costspine.scenario.load import load_scenario

    edits = list(edits)
    overlays: dict = {}
    edits = carry_to_policy(original, overlay, edits, POLICY_KEY, declarer=scenario, into=overlays, source=source)
    own = [body for title, body in tables if not title.startswith(PREVALENT_TITLE)]
    if own:
        edits += _policy_column_edits(own[0], POLICY_KEY, declarer=scenario, into=overlays, where=where, source=source)
    model = load_prevalent_model(scenario)
    chosen = [body for title, body in tables if model is not None and model.name in models_of(title)]
    others = [title for title, _ in tables if models_of(title)]
    if model is not None and others and not chosen:  # edits there would be ignored without a word
        _fail(
            f"{where}: sheet {INPUTS_SHEET}",
            f"expected a table titled {PREVALENT_TITLE!r}... naming {model.name!r}, the prevalent patients' model of "
            f"{scenario.name!r}; found {', '.join(map(repr, others))} — write the workbook again from this scenario",
        )
    if chosen:  # the plan's prevalent patients run through a second model: its table's edits go to it
        model_params = _parse_parameters(chosen[0], where=where, value_column=model.name)
        model_prices = _parse_prices(price_rows, where=where, scenario=model.name)
        model_edits, model_overlay = find_edits(model, model_params, model_prices, workbook=where)
        if model_overlay:
            load_scenario(model.path, parameters=model_overlay, parameters_from=source)  # its problems, now
            overlays[PREVALENT_KEY] = (model_overlay, source)
        model_edits = carry_to_policy(
            model, model_overlay, model_edits, PREVALENT_POLICY_KEY, declarer=scenario, into=overlays, source=source
        )
        edits += [replace(e, parameter=f"{model.name}.{e.parameter}") for e in model_edits]
        edits += _policy_column_edits(
            chosen[0], PREVALENT_POLICY_KEY, declarer=scenario, into=overlays, where=where, source=source
        )
    return edits, overlays


def _policy_column_edits(body, keypath: str, *, declarer, into: dict, where: str, source: str) -> list:
    """Edits made in a policy's column of a model's table (the column headed by the policy's name).

    They apply to the policy as an edit of the policy's file would, over what it inherits from its
    model's edits (``into[keypath]``, from :func:`carry_to_policy`); each is named
    ``<policy>.<parameter>``. A table without the policy's column gives none.
    """
    from costspine.scenario.load import load_scenario

    policy = policy_of(declarer, keypath)
    if policy is None:
        return []
    header = next((row for row in body if _is_parameter_header(row)), None)
    if header is None or not any(c.value == policy.name for c in header):
        return []
    params = _parse_parameters(body, where=where, value_column=policy.name)
    edits, overlay = find_edits(policy, params, [], workbook=where)
    if not overlay:
        return []
    inherited = into.get(keypath, ({}, source))[0]
    merged = {**inherited, **overlay}
    load_scenario(policy.path, parameters=merged, parameters_from=source)  # its problems, now
    into[keypath] = (merged, source)
    return [replace(e, parameter=f"{policy.name}.{e.parameter}") for e in edits]


# ---------------------------------------------------------------------------------------- reading


def _fail(where: str, message: str):
    raise ScenarioError([Problem(where, message)])


def _check_archive(data: bytes, where: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        _fail(
            where,
            "expected an .xlsx workbook (a zip archive) written by costspine; found a file that is not one — "
            "save it from Excel or LibreOffice as 'Excel 2007-365 (.xlsx)'",
        )
    with archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        _fail(where, f"the workbook unpacks to {unpacked:,} bytes; at most {MAX_UNPACKED_BYTES:,} are read")


def read_inputs_sheet(data: bytes, *, where: str, value_column: str = "Value") -> tuple[list[_ParameterRow], list[_PriceRow]]:
    """The parameter and unit-price rows of the Inputs sheet of the workbook in ``data``.

    ``value_column`` names the value column of a comparison workbook (one column per scenario,
    headed by the scenario's name); a single-scenario workbook's column is ``Value``.
    """
    rows, price_rows = _read_sheets(data, where=where)
    own = [body for title, body in _split_tables(rows) if not title.startswith(PREVALENT_TITLE)]
    return _parse_parameters(own[0] if own else [], where=where, value_column=value_column), _parse_prices(
        price_rows, where=where, scenario=value_column
    )


def _read_sheets(data: bytes, *, where: str) -> tuple[list[list[_Cell]], list[list[_Cell]]]:
    """The cells of the Inputs and Unit prices sheets (the latter empty when there is none)."""
    from openpyxl import load_workbook

    _check_archive(data, where)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many types on a damaged file; each is the user's file
        _fail(where, f"expected a workbook openpyxl can read; found a damaged or unsupported file ({type(exc).__name__})")
    try:
        if INPUTS_SHEET not in book.sheetnames:
            _fail(
                where,
                f"expected a sheet called {INPUTS_SHEET!r} (the workbook of run, psa, dsa or bia); "
                f"found sheets {', '.join(map(repr, book.sheetnames))}",
            )
        rows = _cells(book[INPUTS_SHEET])
        price_rows = _cells(book[PRICES_SHEET]) if PRICES_SHEET in book.sheetnames else []
        if not price_rows and any(c.value == "Unit price" for row in rows[:20] for c in row):
            _fail(  # an edited price there would be ignored without a word
                f"{where}: sheet {INPUTS_SHEET}",
                f"expected unit prices on a sheet of their own, {PRICES_SHEET!r}; found them beside the parameters, as "
                "workbooks written before --inputs existed have them — write the workbook again with this version",
            )
    finally:
        book.close()
    return rows, price_rows


def _is_parameter_header(row) -> bool:
    texts = [c.value.strip() if isinstance(c.value, str) else c.value for c in row]
    return "Parameter" in texts and "Distribution" in texts and "Arguments" in texts


def _split_tables(rows) -> list[tuple[str, list]]:
    """The parameter tables of the Inputs sheet: ``(title, rows from its header row to the next table's title)``.

    A table's title is the text in the row above its header (empty when there is none).
    """
    starts = [i for i, row in enumerate(rows) if _is_parameter_header(row)]
    tables = []
    for k, i in enumerate(starts):
        above = rows[i - 1] if i > 0 else []
        title = next((c.value.strip() for c in above if isinstance(c.value, str) and c.value.strip()), "")
        end = starts[k + 1] - 1 if k + 1 < len(starts) else len(rows)  # the next table's title row is not a parameter
        tables.append((title, rows[i:end]))
    return tables


def _cells(sheet) -> list[list[_Cell]]:
    """Every cell by position from A1 (a read-only sheet gives empty cells no coordinate: they keep their place)."""
    from openpyxl.utils import get_column_letter

    return [
        [_Cell(f"{get_column_letter(j)}{i}", c.value) for j, c in enumerate(row, start=1)]
        for i, row in enumerate(sheet.iter_rows(min_row=1, min_col=1), start=1)
    ]


def _columns(header) -> dict[str, list[int]]:
    col = {}
    for j, cell in enumerate(header):
        if isinstance(cell.value, str):
            col.setdefault(cell.value.strip(), []).append(j)
    return col


def _cell(row, j) -> _Cell:
    return row[j] if j < len(row) else _Cell("", None)


def _parse_parameters(rows, *, where: str, value_column: str) -> list[_ParameterRow]:
    sheet = f"{where}: sheet {INPUTS_SHEET}"
    for i, row in enumerate(rows):
        if _is_parameter_header(row):
            header, body = row, rows[i + 1 :]
            break
    else:
        _fail(sheet, f"expected a table headed {', '.join(PARAMETER_HEADERS)}; found no such header row")
    col = _columns(header)
    p_name = col["Parameter"][0]
    p_source = next((j for j in col.get("Source", []) if j > p_name), len(header))
    span = range(p_name, p_source)
    value_at = next((j for name in ("Value", value_column) for j in col.get(name, []) if j in span), None)
    if value_at is None:
        shown = [header[j].value for j in span if header[j].value not in NOT_VALUE_HEADERS]
        _fail(
            sheet,
            f"expected a value column headed 'Value' (or, in a comparison workbook, {value_column!r}, the scenario's name); "
            f"found {', '.join(map(repr, shown)) or 'none'}",
        )
    p_dist = next(j for j in col["Distribution"] if j in span)
    p_args = next(j for j in col["Arguments"] if j in span)
    # A comparison table has one value column per scenario (an empty cell: the scenario lacks the
    # parameter) and shows the distribution of the first scenario that has it.
    comparison = header[value_at].value != "Value"
    value_columns = [j for j in span if j != p_name and header[j].value not in NOT_VALUE_HEADERS]
    params = []
    for row in body:
        name = _cell(row, p_name)
        if not (isinstance(name.value, str) and name.value.strip()):
            continue
        value = _cell(row, value_at)
        describes = True
        if comparison:
            if value.value is None:
                continue  # another scenario's parameter
            describes = next(j for j in value_columns if _cell(row, j).value is not None) == value_at
        params.append(_ParameterRow(name.value.strip(), name, value, _cell(row, p_dist), _cell(row, p_args), describes))
    return params


def _parse_prices(rows, *, where: str, scenario: str) -> list[_PriceRow]:
    for i, row in enumerate(rows):
        texts = [c.value.strip() if isinstance(c.value, str) else c.value for c in row]
        if all(h in texts for h in PRICE_HEADERS):
            header, body = row, rows[i + 1 :]
            break
    else:
        if rows:
            _fail(f"{where}: sheet {PRICES_SHEET}", f"expected a table headed {', '.join(PRICE_HEADERS)}, ...; found none")
        return []
    col = _columns(header)
    item = col["Item"][0]
    price_param = next((j for j in col["Parameter"] if j > item), col["Parameter"][0])
    price_at = col["Unit price"][0]
    # a comparison workbook lists prices once per distinct [unit_costs] section, naming its scenarios
    owners = col.get("Scenarios", [None])[0]
    prices = []
    for row in body:
        item_cell, parameter = _cell(row, item), _cell(row, price_param)
        if owners is not None:
            names = [n.strip() for n in str(_cell(row, owners).value or "").split(",")]
            if "all" not in names and scenario not in names:
                continue  # another scenario's prices
        if isinstance(item_cell.value, str) and item_cell.value.strip() and isinstance(parameter.value, str):
            prices.append(_PriceRow(item_cell.value.strip(), parameter.value.strip(), _cell(row, price_at)))
    return prices


# ---------------------------------------------------------------------------------------- comparing


def _describe(value) -> str:
    if value is None:
        return "an empty cell"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).upper()}"
    return f"{type(value).__name__} {value!r}"


def _show(value: float) -> str:
    return f"{value:.6g}"


def _same(a: float, b: float, rtol: float) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-300)


def _number(cell: _Cell):
    """The cell as a float, or None when it is not a finite number."""
    value = cell.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _parse_arguments(text: str) -> tuple[dict, str | None]:
    """``"shape=100, scale=0.8895"`` → ``({"shape": 100.0, "scale": 0.8895}, None)``, else ``({}, problem)``."""
    given = {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        key, sep, number = part.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[a-z_]+", key):
            return {}, f"key=number pairs separated by commas (e.g. 'mean=0.3, sd=0.05'); {part!r} is not one"
        try:
            given[key] = float(number.strip().replace("_", ""))
        except ValueError:
            return {}, f"a number after {key}= (key=number pairs separated by commas)"
        if not math.isfinite(given[key]):
            return {}, f"a finite number after {key}="
    return given, None


_DIRICHLET = re.compile(r"^\s*group\s+(?P<group>\w+)\s*,\s*alpha\s*=\s*\[(?P<alpha>[^\]]*)\]\s*$")


def _base_values(scenario) -> dict[str, float]:
    """Base-case value of every parameter, derived ones evaluated (as the Inputs sheet shows them)."""
    import numpy as np

    space = {}
    for spec in scenario.parameters:
        if spec.family == "derived":
            try:
                value = spec.expression.evaluate(space, tables=scenario.tables)
                space[spec.name] = float(np.asarray(value, dtype=float).reshape(-1)[0])
            except (ExpressionError, TypeError, ValueError, IndexError):
                space[spec.name] = math.nan
        else:
            space.update(spec.base_values())
    return space


def find_edits(scenario, params, prices, *, workbook: str) -> tuple[list[InputEdit], dict]:
    """Compare the workbook's rows with ``scenario``: the edits and the ``[parameters]`` tables that apply them.

    Raises
    ------
    ScenarioError
        Every bad cell, each naming the workbook, sheet, cell, parameter, expected and found.
    """
    problems: list[Problem] = []
    edits: list[InputEdit] = []
    overlay: dict[str, dict] = {}
    raw_params = scenario.resolved.get("parameters", {})
    specs = {spec.name: spec for spec in scenario.parameters}
    component_of = {c: spec for spec in scenario.parameters for c in spec.components}
    values = _base_values(scenario)
    seen: dict[str, str] = {}
    group_alpha: dict[str, tuple[str, dict]] = {}  # Dirichlet group -> (cell, counts) of its first edited row
    value_cells: dict[str, tuple[str, float]] = {}  # parameter -> (cell, value) of an edited Value

    def where(cell: _Cell, name: str, column: str, sheet: str = INPUTS_SHEET) -> str:
        return f"{workbook}: sheet {sheet} cell {cell.ref} (parameter {name}, {column})"

    def bad(cell, name, column, expected, found=None):
        found = _describe(cell.value) if found is None else found
        sheet = PRICES_SHEET if column == "Unit price" else INPUTS_SHEET
        problems.append(Problem(where(cell, name, column, sheet), f"expected {expected}; found {found}"))

    def entry_of(name: str) -> dict:
        return overlay.setdefault(name, dict(raw_params.get(name, {})))

    def edit(cell, name, field, old, new, note=""):
        sheet = f"'{PRICES_SHEET}'" if field == "unit price" else INPUTS_SHEET
        edits.append(InputEdit(workbook, f"{sheet}!{cell.ref}", name, field, old, new, note))

    for row in params:
        name = row.name
        if name in seen:
            problems.append(
                Problem(
                    where(row.name_cell, name, "Parameter"),
                    f"expected each parameter once; found it again (first at {seen[name]}) — delete one of the rows",
                )
            )
            continue
        seen[name] = row.name_cell.ref
        spec = specs.get(name) or component_of.get(name)
        if spec is None:
            known = sorted(set(specs) | set(component_of))
            problems.append(
                Problem(
                    where(row.name_cell, name, "Parameter"),
                    f"expected a parameter of scenario {scenario.name!r}; found {name!r}, which it does not declare"
                    + did_you_mean(name, known)
                    + " (rows cannot be added: declare new parameters in the scenario file)",
                )
            )
            continue
        if row.describes:
            family_text = row.distribution.value.strip() if isinstance(row.distribution.value, str) else row.distribution.value
            args_text = row.arguments.value if row.arguments.value is not None else ""
        else:  # the cells show another scenario's distribution: this one keeps its own, only its Value is read
            family_text, args_text = spec.family, _arguments_text(spec)
        if not isinstance(args_text, str):
            args_text = str(args_text)
        number = _number(row.value)
        if number is None:
            bad(row.value, name, "Value", "a finite number")
            continue
        old_value = values.get(name, math.nan)
        value_changed = not (math.isfinite(old_value) and _same(number, old_value, VALUE_RTOL))

        if spec.family == "dirichlet":
            if family_text != "dirichlet":
                bad(row.distribution, name, "Distribution", "'dirichlet' (a Dirichlet component stays one)")
                continue
            match = _DIRICHLET.match(args_text)
            alpha = None
            if match and match.group("group") == spec.name:
                try:
                    alpha = [float(a.replace("_", "")) for a in match.group("alpha").split(",") if a.strip()]
                except ValueError:
                    alpha = None
            if alpha is None or len(alpha) != len(spec.components) or not all(math.isfinite(a) and a > 0 for a in alpha):
                bad(
                    row.arguments,
                    name,
                    "Arguments",
                    f"'group {spec.name}, alpha=[...]' with {len(spec.components)} counts > 0 "
                    f"(one per component: {', '.join(spec.components)})",
                )
                continue
            alpha_changed = not all(_same(a, b, ARGUMENT_RTOL) for a, b in zip(alpha, spec.args["alpha"]))
            if value_changed and not alpha_changed:
                bad(
                    row.value,
                    name,
                    "Value",
                    f"the mean of its Dirichlet group, {_show(old_value)} (a component's value is alpha / sum(alpha): "
                    "edit the counts in Arguments instead)",
                    found=_show(number),
                )
                continue
            if alpha_changed:
                new_alpha = dict(zip(spec.components, alpha))
                if spec.name in group_alpha:
                    first_ref, first_alpha = group_alpha[spec.name]
                    if first_alpha != new_alpha:
                        bad(
                            row.arguments,
                            name,
                            "Arguments",
                            f"the counts given at {first_ref} (every row of group {spec.name})",
                            found=repr(args_text),
                        )
                    continue
                group_alpha[spec.name] = (row.arguments.ref, new_alpha)
                entry_of(spec.name)["alpha"] = new_alpha
                shown = ", ".join(f"{a:g}" for a in spec.args["alpha"])
                edit(row.arguments, spec.name, "arguments", f"alpha=[{shown}]", f"alpha=[{', '.join(f'{a:g}' for a in alpha)}]")
            continue

        if spec.family == "derived":
            if family_text != "derived":
                bad(
                    row.distribution, name, "Distribution", "'derived' (a derived parameter is an expression, not a distribution)"
                )
                continue
            text = args_text.strip()
            if text != spec.expression.text.strip():
                try:
                    parse_expression(text)
                except ExpressionError as exc:
                    bad(row.arguments, name, "Arguments", f"an expression over other parameters ({exc})", found=repr(text))
                    continue
                entry = entry_of(name)
                entry["value"] = text
                edit(row.arguments, name, "expression", spec.expression.text, text)
            elif value_changed:
                bad(
                    row.value,
                    name,
                    "Value",
                    f"{_show(old_value)}, the value of its expression {spec.expression.text} (edit the expression in "
                    "Arguments or the parameters it uses)",
                    found=_show(number),
                )
            continue

        if spec.family == "posterior":
            if family_text != "posterior":
                bad(row.distribution, name, "Distribution", "'posterior' (draws come from a calibration; edit them there)")
                continue
            if value_changed:
                entry = entry_of(name)
                entry["value"] = number
                edit(row.value, name, "value", _show(old_value), _show(number), "PSA draws still come from the posterior")
            continue

        # fixed and univariate distributions
        if family_text not in UNIVARIATE:
            bad(row.distribution, name, "Distribution", f"one of {', '.join(UNIVARIATE)}")
            continue
        new_args = {}
        if family_text == "fixed":
            if args_text.strip():
                bad(row.arguments, name, "Arguments", "an empty cell for a fixed parameter", found=repr(args_text))
                continue
        else:
            given, problem = _parse_arguments(args_text)
            if problem:
                bad(row.arguments, name, "Arguments", problem, found=repr(args_text))
                continue
            unknown = sorted(set(given) - ARGUMENT_KEYS[family_text])
            if unknown:
                bad(
                    row.arguments,
                    name,
                    "Arguments",
                    f"{family_text} arguments among {', '.join(sorted(ARGUMENT_KEYS[family_text]))}",
                    found=repr(args_text),
                )
                continue
            new_args, mean, problem = canonical_args(family_text, given)
            if problem:
                bad(row.arguments, name, "Arguments", f"valid {family_text} arguments ({problem})", found=repr(args_text))
                continue
            new_args = dict(given)
        family_changed = family_text != spec.family
        args_changed = family_changed or (
            family_text != "fixed" and not _same_args(canonical_args(family_text, new_args)[0], spec.args)
        )
        if not (value_changed or args_changed):
            continue
        entry = entry_of(name)
        if args_changed:
            for keys in ARGUMENT_KEYS.values():
                for key in keys:
                    entry.pop(key, None)
            entry["distribution"] = family_text
            entry.update(new_args)
            if family_changed:
                edit(row.distribution, name, "distribution", spec.family, family_text)
            if family_text != "fixed":
                old = ", ".join(f"{k}={_show(v)}" for k, v in spec.args.items()) or "none"
                edit(row.arguments, name, "arguments", old, ", ".join(f"{k}={_show(v)}" for k, v in new_args.items()))
            if family_text == "fixed" and not value_changed:
                entry["value"] = old_value
            elif "value" in entry and not value_changed:
                mean = canonical_args(family_text, new_args)[1]
                if not _same(mean, old_value, 1e-6):
                    edits[-1] = replace(
                        edits[-1],
                        note=f"the base-case value stays {_show(old_value)} (the distribution's mean is {_show(mean)}) — "
                        "edit Value to move it",
                    )
        if value_changed:
            entry["value"] = number
            value_cells[name] = (row.value.ref, number)
            note = ""
            if family_text != "fixed":
                mean = canonical_args(family_text, new_args if args_changed else _file_args(raw_params.get(name, {}), spec))[1]
                if not _same(mean, number, 1e-6):
                    note = (
                        f"the {family_text} distribution keeps its mean {_show(mean)} for PSA draws — edit Arguments to move it"
                    )
            edit(row.value, name, "value", _show(old_value), _show(number), note)

    for row in prices:
        name = row.parameter
        spec = specs.get(name)
        label = f"{name} (unit price of {row.item})"
        if spec is None:
            problems.append(
                Problem(
                    where(row.price, label, "Unit price", PRICES_SHEET),
                    f"expected a unit price of scenario {scenario.name!r}; found item {row.item!r}, which it does not price",
                )
            )
            continue
        number = _number(row.price)
        if number is None or number < 0:
            bad(row.price, label, "Unit price", "a finite number ≥ 0")
            continue
        old_value = values.get(name, math.nan)
        if math.isfinite(old_value) and _same(number, old_value, VALUE_RTOL):
            continue
        if spec.family == "derived":
            bad(
                row.price,
                label,
                "Unit price",
                f"{_show(old_value)} = {spec.expression.text}: this price is derived through a payer multiplier — edit the "
                f"Value of price_base_{row.item} (the price before the multiplier) on the parameter table instead",
                found=_show(number),
            )
            continue
        if name in value_cells:  # also edited on the parameter table: the two must agree
            ref, value = value_cells[name]
            if not _same(value, number, VALUE_RTOL):
                bad(
                    row.price,
                    label,
                    "Unit price",
                    f"the value given to {name} at {ref}, {_show(value)} (edit one of the two)",
                    found=_show(number),
                )
            continue
        entry_of(name)["value"] = number
        note = ""
        if spec.family != "fixed":
            mean = canonical_args(spec.family, _file_args(raw_params.get(name, {}), spec))[1]
            note = (
                f"the {spec.family} distribution keeps its mean {_show(mean)} for PSA draws — edit Arguments of {name} to move it"
            )
        edit(row.price, name, "unit price", _show(old_value), _show(number), note)

    if problems:
        raise ScenarioError(problems)
    return edits, overlay


def _arguments_text(spec) -> str:
    """A parameter's own distribution arguments as the Arguments cell would hold them (every digit)."""
    if spec.family == "dirichlet":
        return f"group {spec.name}, alpha=[{', '.join(repr(float(a)) for a in spec.args['alpha'])}]"
    if spec.family == "derived":
        return spec.expression.text
    if spec.family in ("fixed", "posterior"):
        return ""
    return ", ".join(f"{k}={float(v)!r}" for k, v in spec.args.items())


def _file_args(entry: dict, spec) -> dict:
    """The distribution arguments as the file gave them (else the canonical ones)."""
    given = {k: float(v) for k, v in entry.items() if k in ARGUMENT_KEYS.get(spec.family, ()) and isinstance(v, (int, float))}
    return given or dict(spec.args)


def _same_args(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(_same(float(a[k]), float(b[k]), ARGUMENT_RTOL) for k in a)
