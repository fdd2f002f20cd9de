"""One probability and finiteness checker for every model array; the caller names the cells.

The cohort inputs name a cell by ``draw strategy cycle from to``, the microsimulation grid by
``strategy cycle <attribute>=<level> <counter>=<count> from to``: each caller passes a ``label``
function from a cell's index to its words, and the checker finds the bad cells, lists at most
:data:`MAX_LISTED_CELLS` of them and says how many more there are. Callers decide whether the
problems are a :class:`~costspine.errors.ScenarioError` (base case) or an
:class:`~costspine.errors.AnalysisError` (a PSA draw).
"""

from __future__ import annotations

import numpy as np

PROBABILITY_TOLERANCE = 1e-9
"""How far below 0 or above 1 a probability may round."""

ROW_SUM_TOLERANCE = 1e-6
"""How far from 1 a row of transition probabilities (or an initial distribution) may sum."""

MAX_LISTED_CELLS = 12
"""Bad cells listed per kind of problem; the rest are counted."""

REST_HINT = 'use "rest" for the remainder'


def find_probability_problems(
    prob: np.ndarray, label, *, rows: bool = True, hint: str = REST_HINT, more: bool = True
) -> list[tuple[tuple | None, str]]:
    """Cells outside [0, 1] and rows not summing to 1, each named by the caller.

    Parameters
    ----------
    prob : ndarray
        Probabilities; with ``rows``, the last axis is the destination state of a row.
    label : callable(index) -> str
        Words naming a cell from its index tuple: for a probability, the full index including
        the destination (the label should then end in ``to=<state>``); for a row, the index
        without the last axis.
    rows : bool
        Also check that rows along the last axis sum to 1 within :data:`ROW_SUM_TOLERANCE`.
    hint : str
        Added to a row-sum problem: ``expected 1 (<hint>)``.
    more : bool
        Add ``... and N more cells like these`` when more cells were bad than listed.

    Returns
    -------
    list of (index or None, message)
        The cell index of each problem (``None`` for the count of the rest) and its message,
        e.g. ``strategy=ice cycle=3 from=moderate: row sums to 1.02, expected 1 (...)``.

    Notes
    -----
    NaN fails both checks. A valid array costs one ``min``, one ``max`` and one row sum.
    """
    tol = PROBABILITY_TOLERANCE
    problems = []
    in_range = bool(prob.min() >= -tol) and bool(prob.max() <= 1 + tol) if prob.size else True
    bad = np.zeros((0, prob.ndim), dtype=int) if in_range else np.argwhere(~((prob >= -tol) & (prob <= 1 + tol)))
    for cell in bad[:MAX_LISTED_CELLS]:
        cell = tuple(int(c) for c in cell)
        problems.append((cell, f"{label(cell)}: probability {prob[cell]:.6g} is outside [0, 1]"))
    n_bad = len(bad)
    if rows:
        sums = prob.sum(axis=-1)
        rows_ok = bool(np.abs(sums - 1.0).max() <= ROW_SUM_TOLERANCE) if sums.size else True
        bad_rows = np.zeros((0, sums.ndim), dtype=int) if rows_ok else np.argwhere(~(np.abs(sums - 1.0) <= ROW_SUM_TOLERANCE))
        for cell in bad_rows[:MAX_LISTED_CELLS]:
            cell = tuple(int(c) for c in cell)
            problems.append((cell, f"{label(cell)}: row sums to {sums[cell]:.6g}, expected 1 ({hint})"))
        n_bad += len(bad_rows)
    if more and n_bad > len(problems):
        problems.append((None, f"... and {n_bad - len(problems)} more cells like these"))
    return problems


def normalize_rows(prob: np.ndarray) -> np.ndarray:
    """Make rows that passed :func:`find_probability_problems` sum to 1 exactly (in place; returns ``prob``).

    Cells within :data:`PROBABILITY_TOLERANCE` below 0 become 0, then each row (last axis) is
    divided by its sum, which is within :data:`ROW_SUM_TOLERANCE` of 1. The correction is at
    most that tolerance per row, but without it a row summing to ``1 + 1e-6`` would grow the
    cohort by ``(1 + 1e-6) ** T``: +10 % over 100,000 cycles. Call it only on checked arrays.

    Examples
    --------
    >>> normalize_rows(np.array([[0.5, 0.5000004]])).sum()
    np.float64(1.0)
    """
    np.maximum(prob, 0.0, out=prob)
    prob /= prob.sum(axis=-1, keepdims=True)
    return prob


def find_nonfinite_problems(values: np.ndarray, label) -> list[tuple[tuple, str]]:
    """Cells that are NaN or ±inf (they would turn every total into NaN), each named by the caller.

    Parameters
    ----------
    values : ndarray
    label : callable(index) -> str
        Words naming a cell from its index tuple.

    Returns
    -------
    list of (index, message)
        At most :data:`MAX_LISTED_CELLS`, e.g. ``strategy=old cycle=2 state=alive
        category=care: expected a finite value, got inf``.
    """
    finite = np.isfinite(values)
    if finite.all():
        return []
    problems = []
    for cell in np.argwhere(~finite)[:MAX_LISTED_CELLS]:
        cell = tuple(int(c) for c in cell)
        problems.append((cell, f"{label(cell)}: expected a finite value, got {values[cell]}"))
    return problems
