"""One expression-evaluation path for every model: names, evaluation, transitions, initial states, rewards.

The cohort inputs (:mod:`costspine.model.inputs`), the microsimulation grid tables
(:mod:`costspine.model.microsim_tables`) and the symbolic model of the calibration
(:mod:`costspine.bayes.fit`) all evaluate a scenario the same way:

1. a name space holds the parameters, the time names (``cycle``, ``time_years``,
   ``cycle_years``) and, for the grid, attribute levels and history counts, each shaped to
   broadcast along its own axis (:func:`build_time_names`);
2. each strategy's values (the shared ``[values]`` and its own) are evaluated in order on top of it
   (:func:`build_strategy_spaces`);
3. every transition cell that is not ``rest`` (:func:`iter_transition_cells`), every initial
   share (:func:`iter_initial_cells`) and every reward cell (:func:`iter_reward_cells`) is evaluated
   in its strategy's space, an error naming the file and the key (:func:`evaluate_expression`);
4. ``rest`` takes the remainder of its row (:func:`fill_rest`).

Callers only decide the shapes: the cohort model broadcasts over ``(draw, time)``, the grid over
``(time, attribute..., history...)``, the calibration builds a PyTensor graph.
"""

from __future__ import annotations

import numpy as np

from costspine.errors import Problem, ScenarioError
from costspine.expressions import ExpressionError
from costspine.scenario.types import REST

REWARD_PARTS = ("values", "on_entry")
"""The two tables of a reward: per cycle in a state, and once on entering it."""


def build_time_names(n_cycles: int, cycle_years: float, *, shape: tuple = (-1,)) -> dict:
    """The time names of every expression: ``cycle`` (1..T), ``time_years`` at the start of each cycle
    and ``cycle_years``.

    Parameters
    ----------
    n_cycles : int
        ``T``.
    cycle_years : float
        Cycle length in years.
    shape : tuple of int
        Shape of ``cycle`` and ``time_years`` (one ``-1`` for the time axis), e.g. ``(1, -1)`` for
        the cohort's ``(draw, time)`` or ``(-1, 1, 1)`` for a grid.

    Returns
    -------
    dict of str to ndarray or float

    Examples
    --------
    >>> names = build_time_names(3, 0.5, shape=(1, -1))
    >>> names["time_years"].tolist()
    [[0.0, 0.5, 1.0]]
    """
    cycles = np.arange(1, n_cycles + 1, dtype=float).reshape(shape)
    return {"cycle": cycles, "time_years": (cycles - 1) * cycle_years, "cycle_years": cycle_years}


def evaluate_expression(scenario, expr, space: dict, where: str, *, ndim: int | None = None, backend=None, tables=None):
    """Evaluate one expression of ``scenario``; errors name the file and the key.

    Parameters
    ----------
    scenario : Scenario
    expr : Expression
    space : dict
        Names visible to the expression.
    where : str
        Key path of the expression in the scenario file (``transitions.mild.severe (strategy ice)``).
    ndim : int, optional
        The result must be a scalar or have exactly this many axes (the grid's).
    backend : Backend, optional
        Another array library (the calibration's PyTensor); the result is then returned as the
        backend makes it, not converted to a float array.
    tables : dict, optional
        Look-up tables callable from expressions; the scenario's by default.

    Returns
    -------
    ndarray of float (numpy backend), or the backend's value

    Raises
    ------
    ScenarioError
        ``<file>: <where>``: the expression cannot be evaluated (unknown name, wrong arguments,
        a value of an unexpected shape).
    """
    return evaluate_in_file(
        expr,
        space,
        file=scenario.path,
        key=where,
        tables=scenario.tables if tables is None else tables,
        ndim=ndim,
        backend=backend,
    )


def evaluate_in_file(expr, space: dict, *, file, key: str, tables: dict, ndim: int | None = None, backend=None):
    """:func:`evaluate_expression` for a caller that holds the file name and tables but no scenario
    (population attributes); problems are ``<file>: <key>``."""
    try:
        if backend is not None:
            return expr.evaluate(space, tables=tables, backend=backend)
        value = np.asarray(expr.evaluate(space, tables=tables), dtype=float)
    except ExpressionError as exc:
        raise ScenarioError(Problem(f"{file}: {key}", str(exc))) from None
    except (TypeError, ValueError) as exc:
        raise ScenarioError(Problem(f"{file}: {key}", f"cannot evaluate {expr.text!r}: {exc}")) from None
    if ndim is not None and value.ndim not in (0, ndim):
        raise ScenarioError(Problem(f"{file}: {key}", f"{expr.text!r} has an unexpected shape {value.shape}"))
    return value


def build_strategy_spaces(scenario, space: dict, evaluate) -> list[dict]:
    """One name space per strategy: ``space`` plus the strategy's values, evaluated in order.

    A strategy's values are the shared ``[values]`` and its own ``[strategies.X.values]`` (its own
    replacing a shared one of the same name), ordered by their dependencies when the scenario was
    loaded: a shared value is evaluated in each strategy's space, on that strategy's own values.

    ``evaluate(expr, space, where)`` is the caller's evaluation (shapes, backend). Returns a list
    in the scenario's strategy order; ``space`` is not modified.
    """
    spaces = []
    for strategy in scenario.strategies:
        local = dict(space)
        for name, expr in scenario.strategy_values[strategy].items():
            local[name] = evaluate(expr, local, scenario.value_keypath(strategy, name))
        spaces.append(local)
    return spaces


def iter_transition_cells(scenario, spaces: list, evaluate):
    """Evaluate every transition cell that is not ``rest``.

    Parameters
    ----------
    scenario : Scenario
    spaces : list of dict
        Per-strategy name spaces (:func:`build_strategy_spaces`).
    evaluate : callable(expr, space, where)
        The caller's evaluation (:func:`evaluate_expression` with its shapes or backend).

    Yields
    ------
    (k, i, j, value)
        Strategy, origin and destination indices and the evaluated probability.
    """
    states = scenario.states
    for k, strategy in enumerate(scenario.strategies):
        for i, origin in enumerate(states):
            row = scenario.transitions[strategy][origin]
            for j, dest in enumerate(states):
                expr = row.get(dest)
                if expr is not None and expr != REST:
                    yield k, i, j, evaluate(expr, spaces[k], f"transitions.{origin}.{dest} (strategy {strategy})")


def find_rest_cells(scenario) -> list[tuple[int, int, int]]:
    """``(k, i, j)`` of every ``rest`` cell: strategy, origin and the destination taking the remainder."""
    cells = []
    for k, strategy in enumerate(scenario.strategies):
        for i, origin in enumerate(scenario.states):
            row = scenario.transitions[strategy][origin]
            rest = [j for j, dest in enumerate(scenario.states) if row.get(dest) == REST]
            if rest:
                cells.append((k, i, rest[0]))
    return cells


def fill_rest(scenario, prob: np.ndarray, *, strategy_axis: int) -> None:
    """Set each ``rest`` cell of ``prob`` (in place) to one minus the other cells of its row.

    Parameters
    ----------
    scenario : Scenario
    prob : ndarray, shape (..., state, state)
        Transition probabilities with the strategies along ``strategy_axis`` and the origin and
        destination states last; ``rest`` cells may hold anything (zeros).
    strategy_axis : int
        Axis of ``prob`` indexing the scenario's strategies.

    Notes
    -----
    ``p[i, rest] = 1 - (sum_j p[i, j] - p[i, rest])``.
    """
    lead = (slice(None),) * strategy_axis
    for k, i, j in find_rest_cells(scenario):
        view = prob[lead + (k,)]
        view[..., i, j] = 1.0 - (view[..., i, :].sum(axis=-1) - view[..., i, j])


def iter_initial_cells(scenario, space: dict, evaluate):
    """Evaluate each state's initial share in ``space`` (no strategy values: the start is common to
    all strategies). Yields ``(i, value)`` for the states that have one."""
    for i, state in enumerate(scenario.states):
        if state in scenario.initial:
            yield i, evaluate(scenario.initial[state], space, f"states.{state}.initial")


def iter_reward_cells(scenario, reward, part: str, spaces: list, evaluate):
    """Evaluate one reward's cells.

    Parameters
    ----------
    scenario : Scenario
    reward : Reward
    part : {"values", "on_entry"}
        Per cycle in a state, or once on entering it.
    spaces : list of dict
        Per-strategy name spaces (:func:`build_strategy_spaces`).
    evaluate : callable(expr, space, where)

    Yields
    ------
    (k, i, value)
        Strategy and state indices and the evaluated value, strategy by strategy, state by state.
    """
    table = reward.state_values if part == "values" else reward.entry_values
    for k, strategy in enumerate(scenario.strategies):
        cells = table.get(strategy, {})
        for i, state in enumerate(scenario.states):
            expr = cells.get(state)
            if expr is not None:
                yield k, i, evaluate(expr, spaces[k], f"{reward.kind}s.{reward.name}.{part}.{state} (strategy {strategy})")


def build_indicator_mask(scenario) -> np.ndarray:
    """Which states each indicator averages over: those with a value under some strategy.

    Returns
    -------
    ndarray of bool, shape (indicator, state)
    """
    states, strategies = scenario.states, scenario.strategies
    return np.array(
        [[any(s in ind.state_values.get(st, {}) for st in strategies) for s in states] for ind in scenario.indicators], dtype=bool
    ).reshape(len(scenario.indicators), len(states))
