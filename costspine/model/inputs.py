"""From a validated scenario and parameter values to the cohort engine's arrays.

:func:`build_model_inputs` evaluates every expression of a :class:`~costspine.scenario.types.Scenario`
once, vectorised over parameter draws and cycles, into a :class:`ModelInputs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine.errors import AnalysisError, Problem, ScenarioError
from costspine.expressions import ExpressionError
from costspine.scenario.types import REST, Scenario

PROBABILITY_TOLERANCE = 1e-9

MAX_LISTED_CELLS = 12

def allocate_transitions(n_draws: int, n_strategies: int, n_time: int, n_states: int) -> np.ndarray:
    """Zeroed transition array for :func:`costspine.engines.markov.simulate_trace`: shaped ``(draw, strategy, time, state, state)`` in state-major memory.

    ``n_time`` is 1 for a time-homogeneous model, else the number of cycles.
    """
    native = np.zeros((n_time, n_states, n_states, n_draws, n_strategies))
    return np.moveaxis(native, (3, 4), (0, 1))



@dataclass(frozen=True)
class ModelInputs:
    """Everything the engines need, as arrays (no labels beyond the tuples below).

    Attributes
    ----------
    initial : ndarray, shape (draw, strategy, state)
    transition : ndarray, shape (draw, strategy, time, state, state)
    state_costs, entry_costs : ndarray, shape (draw, strategy, time, state, category)
    state_outcomes : ndarray, shape (draw, strategy, time, state, outcome)
    indicator_values : ndarray, shape (draw, strategy, time, state, indicator)
    indicator_mask : ndarray of bool, shape (indicator, state)
        Which states each indicator averages over.
    state_services, entry_services : ndarray, shape (draw, strategy, time, state, service)
        Counts of services per cycle in a state and on entering it (``[services]``).
    """

    initial: np.ndarray
    transition: np.ndarray
    state_costs: np.ndarray
    entry_costs: np.ndarray
    state_outcomes: np.ndarray
    indicator_values: np.ndarray
    indicator_mask: np.ndarray
    n_draws: int
    state_services: np.ndarray | None = None
    entry_services: np.ndarray | None = None

def base_case_parameters(scenario: Scenario) -> dict[str, np.ndarray]:
    """Base-case value of every non-derived parameter, as arrays of shape (1,)."""
    values = {}
    for spec in scenario.parameters:
        for name, value in spec.base_values().items():
            values[name] = np.array([value], dtype=float)
    return values

def evaluate_parameters(scenario: Scenario, params: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Every parameter's values, derived parameters computed, each as an array of shape (draw,).

    Parameters
    ----------
    scenario : Scenario
    params : dict of str to ndarray, shape (draw,) or (1,), optional
        Values of the non-derived parameters; the base case when omitted.

    Returns
    -------
    dict of str to ndarray, shape (draw,)
        Keyed by parameter name (Dirichlet components by component name), for evaluating
        expressions over parameters outside the model (e.g. a budget-impact episode rate).
    """
    params = base_case_parameters(scenario) if params is None else params
    n_draws = max((np.size(v) for v in params.values()), default=1)
    space = _namespace(scenario, params, n_draws)
    names = [name for spec in scenario.parameters for name in (spec.components or (spec.name,))]
    return {name: np.broadcast_to(np.asarray(space[name], dtype=float).reshape(-1), (n_draws,)).copy() for name in names}

def _namespace(scenario: Scenario, params: dict[str, np.ndarray], n_draws: int) -> dict:
    """Parameters shaped (draw, 1), derived parameters computed, time variables shaped (1, cycle)."""
    settings = scenario.settings
    cycles = np.arange(1, settings.n_cycles + 1, dtype=float)[None, :]
    space = {
        "cycle": cycles,
        "time_years": (cycles - 1) * settings.cycle_years,
        "cycle_years": settings.cycle_years,
    }
    for name, values in params.items():
        values = np.asarray(values, dtype=float)
        if values.shape not in ((n_draws,), (1,)):
            raise AnalysisError(f"parameter {name!r} has {values.shape} values; expected {n_draws} draws")
        space[name] = values.reshape(-1, 1)
    for spec in scenario.parameters:
        if spec.family == "derived":
            value = _evaluate(spec.expression, space, scenario, f"parameters.{spec.name}")
            if np.ndim(value) == 2 and np.shape(value)[1] != 1:
                raise ScenarioError(Problem(f"{scenario.path}: parameters.{spec.name}", "parameters cannot depend on time"))
            space[spec.name] = np.reshape(value, (-1, 1)) if np.ndim(value) else np.full((1, 1), float(value))
        elif spec.name not in space and not spec.components:
            raise AnalysisError(f"no values were given for parameter {spec.name!r}")
    return space

def _evaluate(expr, space, scenario, where):
    try:
        return np.asarray(expr.evaluate(space, tables=scenario.tables), dtype=float)
    except ExpressionError as exc:
        raise ScenarioError(Problem(f"{scenario.path}: {where}", str(exc))) from None
    except (TypeError, ValueError) as exc:
        raise ScenarioError(Problem(f"{scenario.path}: {where}", f"cannot evaluate {expr.text!r}: {exc}")) from None

def _fit(value, n_draws: int, n_time: int) -> np.ndarray:
    """Broadcast an evaluated expression to (draw, time)."""
    value = np.asarray(value, dtype=float)
    if value.ndim == 0:
        value = value.reshape(1, 1)
    elif value.ndim == 1:
        value = value.reshape(-1, 1)
    return np.broadcast_to(value, (n_draws, n_time))

def build_model_inputs(scenario: Scenario, params: dict[str, np.ndarray] | None = None, *, base_case: bool | None = None) -> ModelInputs:
    """Evaluate a scenario's expressions for given parameter values.

    Parameters
    ----------
    scenario : Scenario
    params : dict of str to ndarray of shape (draw,) or (1,), optional
        Parameter values; the base case when omitted.
    base_case : bool, optional
        Whether invalid probabilities are a scenario error (base case) or an analysis error
        (a PSA draw). Defaults to ``params is None``.

    Returns
    -------
    ModelInputs

    Raises
    ------
    ScenarioError
        Base case: probabilities outside [0, 1], rows not summing to 1, an initial distribution
        not summing to 1 — each cell named by strategy, cycle and state.
    AnalysisError
        The same for PSA draws (the draw is named too).
    """
    if base_case is None:
        base_case = params is None
    if params is None:
        params = base_case_parameters(scenario)
    n_draws = max((np.size(v) for v in params.values()), default=1)
    space = _namespace(scenario, params, n_draws)
    states, strategies = scenario.states, scenario.strategies
    n_states, n_strategies, n_cycles = len(states), len(strategies), scenario.settings.n_cycles

    spaces = []
    for strategy in strategies:
        local = dict(space)
        for name, expr in scenario.strategy_values[strategy].items():
            local[name] = _evaluate(expr, local, scenario, f"strategies.{strategy}.values.{name}")
        spaces.append(local)

    # Transitions: evaluate every cell, then decide whether the model is time-dependent.
    cells = {}
    for k, strategy in enumerate(strategies):
        for i, origin in enumerate(states):
            for j, dest in enumerate(states):
                expr = scenario.transitions[strategy][origin].get(dest)
                if expr is not None and expr != REST:
                    cells[k, i, j] = _evaluate(expr, spaces[k], scenario, f"transitions.{origin}.{dest} (strategy {strategy})")
    time_dependent = any(np.ndim(v) == 2 and np.shape(v)[1] > 1 for v in cells.values())
    n_time = n_cycles if time_dependent else 1
    transition = allocate_transitions(n_draws, n_strategies, n_time, n_states)
    for (k, i, j), value in cells.items():
        transition[:, k, :, i, j] = _fit(value, n_draws, n_time)
    for k, strategy in enumerate(strategies):
        for i, origin in enumerate(states):
            row = scenario.transitions[strategy][origin]
            rest = [j for j, dest in enumerate(states) if row.get(dest) == REST]
            if rest:
                j = rest[0]
                transition[:, k, :, i, j] = 1.0 - (transition[:, k, :, i, :].sum(axis=-1) - transition[:, k, :, i, j])

    initial = np.zeros((n_draws, n_strategies, n_states))
    for i, state in enumerate(states):
        if state in scenario.initial:
            initial[:, :, i] = _fit(_evaluate(scenario.initial[state], space, scenario, f"states.{state}.initial"), n_draws, 1)[:, :1]
    _check_probabilities(scenario, transition, initial, base_case=base_case)

    categories = scenario.categories
    state_costs = _reward_array(scenario, spaces, scenario.costs, n_draws, "values", group=categories)
    entry_costs = _reward_array(scenario, spaces, scenario.costs, n_draws, "on_entry", group=categories)
    state_outcomes = _reward_array(scenario, spaces, scenario.outcomes, n_draws, "values")
    indicator_values = _reward_array(scenario, spaces, scenario.indicators, n_draws, "values")
    mask = np.array([[any(s in ind.state_values.get(st, {}) for st in strategies) for s in states]
                     for ind in scenario.indicators], dtype=bool).reshape(len(scenario.indicators), n_states)
    state_services = _reward_array(scenario, spaces, scenario.services, n_draws, "values")
    entry_services = _reward_array(scenario, spaces, scenario.services, n_draws, "on_entry")
    _check_finite(scenario, {("costs", "category"): (state_costs, entry_costs), ("outcomes", "outcome"): (state_outcomes,),
                             ("indicators", "indicator"): (indicator_values,)}, base_case=base_case)
    return ModelInputs(initial, transition, state_costs, entry_costs, state_outcomes, indicator_values, mask, n_draws,
                       state_services, entry_services)

def _reward_array(scenario, spaces, rewards, n_draws, part, *, group=None) -> np.ndarray:
    """Stack rewards into (draw, strategy, time, state, column); columns are rewards or categories."""
    columns = group if group is not None else tuple(r.name for r in rewards)
    evaluated, time_dependent = [], False
    for reward in rewards:
        column = columns.index(reward.category if group is not None else reward.name)
        for k, strategy in enumerate(scenario.strategies):
            table = reward.state_values if part == "values" else reward.entry_values
            for i, state in enumerate(scenario.states):
                expr = table.get(strategy, {}).get(state)
                if expr is None:
                    continue
                value = _evaluate(expr, spaces[k], scenario, f"{reward.kind}s.{reward.name}.{part}.{state} (strategy {strategy})")
                time_dependent |= np.ndim(value) == 2 and np.shape(value)[1] > 1
                evaluated.append((k, i, column, value))
    n_time = scenario.settings.n_cycles if time_dependent else 1
    out = np.zeros((n_draws, len(scenario.strategies), n_time, len(scenario.states), len(columns)))
    for k, i, column, value in evaluated:
        out[:, k, :, i, column] += _fit(value, n_draws, n_time)
    return out

def _check_probabilities(scenario: Scenario, transition: np.ndarray, initial: np.ndarray, *, base_case: bool) -> None:
    problems = []
    tol = PROBABILITY_TOLERANCE
    time_dependent = transition.shape[2] > 1

    def label(d, k, t, i, j=None):
        parts = [] if base_case else [f"draw={d}"]
        parts.append(f"strategy={scenario.strategies[k]}")
        parts.append(f"cycle={t + 1}" if time_dependent else "cycle=all")
        parts.append(f"from={scenario.states[i]}")
        if j is not None:
            parts.append(f"to={scenario.states[j]}")
        return " ".join(parts)

    in_range = bool(transition.min() >= -tol) and bool(transition.max() <= 1 + tol)  # NaN fails too; fast when valid
    bad = np.zeros((0, 5), dtype=int) if in_range else np.argwhere(~((transition >= -tol) & (transition <= 1 + tol)))
    for d, k, t, i, j in bad[:MAX_LISTED_CELLS]:
        problems.append(f"{label(d, k, t, i, j)}: probability {transition[d, k, t, i, j]:.6g} is outside [0, 1]")
    sums = transition.sum(axis=-1)
    rows_ok = bool(np.abs(sums - 1.0).max() <= 1e-6)
    bad_rows = np.zeros((0, 4), dtype=int) if rows_ok else np.argwhere(~(np.abs(sums - 1.0) <= 1e-6))
    for d, k, t, i in bad_rows[:MAX_LISTED_CELLS]:
        problems.append(f"{label(d, k, t, i)}: row sums to {sums[d, k, t, i]:.6g}, expected 1 (use \"rest\" for the remainder)")
    more = len(bad) + len(bad_rows) - len(problems)
    if more > 0:
        problems.append(f"... and {more} more cells like these")
    init_sum = initial.sum(axis=-1)
    if not (np.all(np.abs(init_sum - 1) <= 1e-6) and np.all(initial >= -tol)):  # NaN fails too
        problems.append(f"states.*.initial: the initial distribution must be >= 0 and sum to 1; it sums to {init_sum.flat[0]:.6g}")
    if problems:
        if base_case:
            raise ScenarioError([Problem(f"{scenario.path}: transitions", p) for p in problems])
        raise AnalysisError("invalid transition probabilities in PSA draws:\n" + "\n".join(f"  - {p}" for p in problems)
                            + "\nCheck the distributions of the parameters these cells use (e.g. a normal that can go below 0).")

def _check_finite(scenario: Scenario, arrays: dict, *, base_case: bool) -> None:
    """Rewards that evaluate to NaN or ±inf are errors (they would turn every total into NaN)."""
    problems = []
    for (section, column_kind), parts in arrays.items():
        columns = scenario.categories if section == "costs" else tuple(r.name for r in getattr(scenario, section))
        for array in parts:
            finite = np.isfinite(array)
            if finite.all():
                continue
            bad = np.argwhere(~finite)
            for d, k, t, i, c in bad[:MAX_LISTED_CELLS]:
                where = [] if base_case else [f"draw={d}"]
                where += [f"strategy={scenario.strategies[k]}", f"cycle={t + 1}" if array.shape[2] > 1 else "cycle=all",
                          f"state={scenario.states[i]}", f"{column_kind}={columns[c]}"]
                problems.append(f"{section}: {' '.join(where)}: expected a finite value, got {array[d, k, t, i, c]}")
    if problems:
        if base_case:
            raise ScenarioError([Problem(f"{scenario.path}: {p.split(':', 1)[0]}", p.split(": ", 1)[1]) for p in problems])
        raise AnalysisError("non-finite rewards in PSA draws:\n" + "\n".join(f"  - {p}" for p in problems)
                            + "\nCheck the expressions and distributions of these values (e.g. a division by a draw that can be 0).")
