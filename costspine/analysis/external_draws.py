"""PSA draws from wherever they were made, as one :class:`~costspine.analysis.psa_result.PSAResult`.

:func:`load_draws` reads a folder written by ``costspine psa`` (its ``draws/``), or draws made by
any tool (R, TreeAge, Excel) as plain CSV — costspine's long ``results.csv`` + ``parameters.csv``
or one wide table (read by :mod:`costspine.scenario.draws`). CSV draws carry no scenario, so the
thresholds are given and the labels a scenario would hold are the file's.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from costspine.analysis.psa_draws_file import DRAWS_DIR, draws_location, load_psa_draws
from costspine.analysis.psa_result import PSAResult
from costspine.errors import UsageError
from costspine.scenario.draws import MIN_DRAWS, find_draw_files, read_draw_tables

NO_CURRENCY = "XXX"
"""ISO 4217's code for "no currency": the currency of CSV draws when none is named."""
DEFAULT_SEED = 20260101
"""Seed of the EVPPI standard errors' random numbers for CSV draws (the ``--seed`` default of psa)."""


def is_psa_folder(path) -> bool:
    """True when ``path`` is a folder holding the draws that ``costspine psa`` wrote (its ``draws/``
    folder, or the ``draws.npz`` of an older costspine)."""
    return Path(path).is_dir() and draws_location(path) is not None


def name_draws(path) -> str:
    """The name of the draws at ``path`` (for the default output folder): the PSA's scenario name
    for a ``costspine psa`` folder, else the folder's name or the file's stem."""
    path = Path(path)
    if is_psa_folder(path):
        return load_psa_draws(path).scenario
    return path.resolve().name if path.is_dir() else path.stem


def load_draws(
    path,
    *,
    parameters=None,
    wtp=None,
    comparator: str | None = None,
    effect: str | None = None,
    currency: str | None = None,
    seed: int | None = None,
    min_draws: int = MIN_DRAWS,
) -> PSAResult:
    """PSA draws as a :class:`PSAResult`, from a ``costspine psa`` folder or from CSV files.

    Parameters
    ----------
    path : path
        A folder written by ``costspine psa`` (``draws/``, or an older ``draws.npz``); a folder holding ``results.csv``
        (and ``parameters.csv``) in costspine's long layout; a long results file; or one wide CSV
        (``draw``, ``cost_<strategy>``, ``effect_<strategy>``, parameters). See ``docs/psa.md``.
    parameters : path, optional
        The parameters file of long results (default: ``parameters.csv`` beside ``results.csv``).
    wtp : sequence of float
        Thresholds; required for CSV draws (a PSA folder has its scenario's).
    comparator : str, optional
        CSV draws: the comparator strategy (default: the first strategy in the file).
    effect : str, optional
        CSV draws, long layout: the outcome column that is the effect (see
        :func:`~costspine.scenario.draws.read_draw_tables`).
    currency : str, optional
        CSV draws: the ISO 4217 code of the costs' currency, for the reports (default ``XXX``,
        ISO 4217's "no currency").
    seed : int, optional
        Seed of the EVPPI standard errors (default: the PSA's seed; 20260101 for CSV draws).
    min_draws : int
        Fewest draws accepted from CSV.

    Returns
    -------
    PSAResult
        For CSV draws: ``scenario`` is the folder's name or the file's stem, ``inputs`` the files
        read with their SHA-256, ``extra["draws_files"]`` the layout and files, and
        ``discount_outcomes`` NaN (no scenario to take it from).

    Raises
    ------
    DrawsError
        A bad CSV file (exit code 3): every problem named by file, row and column.
    UsageError
        No draws at ``path``; ``wtp`` missing for CSV draws; an option that does not apply; an
        unknown comparator or effect.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "draws.csv").write_text("cost_a,effect_a,cost_b,effect_b,p\\n0,0,10,1,0.2\\n0,0,30,1,0.4\\n")
    >>> d = load_draws(folder / "draws.csv", wtp=[20])
    >>> d.strategies, d.total_cost.tolist(), d.parameter_names
    (('a', 'b'), [[0.0, 10.0], [0.0, 30.0]], ('p',))
    """
    if is_psa_folder(path):
        for option, value in (
            ("--parameters", parameters),
            ("--comparator", comparator),
            ("--effect", effect),
            ("--currency", currency),
        ):
            if value is not None:
                raise UsageError(
                    f"{option}: applies to CSV draws; {Path(path) / DRAWS_DIR} names its own (from the PSA's scenario)"
                )
        draws = load_psa_draws(path)
        changes = {}
        if wtp is not None:
            changes["wtp"] = tuple(float(w) for w in wtp)
        if seed is not None:
            changes["seed"] = int(seed)
        return dataclasses.replace(draws, **changes) if changes else draws
    find_draw_files(path, parameters=parameters)  # no draws at all is said before a missing --wtp
    if wtp is None or len(tuple(wtp)) == 0:
        raise UsageError(
            f"{path}: CSV draws carry no scenario to take thresholds from; give them with --wtp (e.g. --wtp 20000,30000)"
        )
    tables = read_draw_tables(path, parameters=parameters, effect=effect, min_draws=min_draws)
    if comparator is None:
        comparator = tables.strategies[0]
    elif comparator not in tables.strategies:
        from costspine.problems import did_you_mean

        raise UsageError(
            f"--comparator {comparator!r}: not a strategy of {tables.files[0]}"
            f"{did_you_mean(comparator, tables.strategies)} Strategies: {', '.join(tables.strategies)}"
        )
    files = [str(f) for f in tables.files]
    return PSAResult(
        scenario=name_draws(path),
        title=f"{Path(path).name}: PSA draws ({tables.layout} CSV)",
        currency=currency or NO_CURRENCY,
        effect_name=tables.effect_name,
        strategies=tables.strategies,
        strategy_labels={s: s for s in tables.strategies},
        comparator=comparator,
        wtp=tuple(float(w) for w in wtp),
        categories=tables.categories,
        outcome_names=tables.outcome_names,
        parameter_names=tables.parameter_names,
        parameter_groups={},
        parameters=tables.parameters,
        costs=tables.costs,
        outcomes=tables.outcomes,
        seed=DEFAULT_SEED if seed is None else int(seed),
        discount_outcomes=float("nan"),
        inputs=[(f, hashlib.sha256(Path(f).read_bytes()).hexdigest()) for f in files],
        extra={"draws_files": {"layout": tables.layout, "files": files}},
    )
