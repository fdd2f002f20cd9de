"""From a validated scenario and parameter values to the cohort engine's arrays.

:func:`build_model_inputs` evaluates every expression of a :class:`~costspine.scenario.types.Scenario`
once, vectorised over parameter draws and cycles, into a :class:`ModelInputs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine._limits import check_memory
from costspine.errors import AnalysisError, Problem, ScenarioError
from costspine.model.checks import (
    PROBABILITY_TOLERANCE,
    ROW_SUM_TOLERANCE,
    find_nonfinite_problems,
    find_probability_problems,
    normalize_rows,
)
from costspine.model.evaluate import (
    build_indicator_mask,
    build_strategy_spaces,
    build_time_names,
    evaluate_expression,
    fill_rest,
    iter_initial_cells,
    iter_reward_cells,
    iter_transition_cells,
)
from costspine.scenario.types import Scenario


def allocate_transitions(n_draws: int, n_strategies: int, n_time: int, n_states: int) -> np.ndarray:
    """Zeroed transition array for :func:`costspine.engines.markov.simulate_trace`: shaped ``(draw, strategy, time, state, state)`` in state-major memory.

    ``n_time`` is 1 for a time-homogeneous model, else the number of cycles.
    """
    native = np.zeros((n_time, n_states, n_states, n_draws, n_strategies))
    return np.moveaxis(native, (3, 4), (0, 1))


def estimate_cohort_bytes(scenario: Scenario, n_draws: int, *, n_time: int = 1) -> tuple[int, str]:
    """Bytes the cohort model's arrays will take for ``n_draws`` draws, and the sizes behind the estimate.

    Per draw and strategy: the transition array (``n_time × states²``), the reward arrays
    (``n_time × states ×`` (2 per cost category, outcome and service, 1 per indicator)) and the
    trace with its per-cycle temporaries (``3 × (cycles + 1) × states``), 8 bytes each.
    ``n_time`` is 1 for a time-homogeneous model, else the number of cycles.

    Examples
    --------
    >>> from costspine import load_scenario
    >>> n_bytes, sizes = estimate_cohort_bytes(load_scenario("scenarios/examples/hiv_chancellor.toml"), 1000)
    >>> sizes
    '1,000 draws × 2 strategies × 20 cycles × 4 states'
    """
    n_states, n_strategies, n_cycles = len(scenario.states), len(scenario.strategies), scenario.settings.n_cycles
    columns = 2 * len(scenario.categories) + 2 * len(scenario.outcomes) + 2 * len(scenario.services) + len(scenario.indicators)
    per_run = n_time * n_states * (n_states + columns) + 3 * (n_cycles + 1) * n_states
    sizes = f"{n_draws:,} draws × {n_strategies} strategies × {n_cycles:,} cycles × {n_states} states"
    if n_time > 1:
        sizes += ", time-dependent transitions"
    return 8 * int(n_draws) * n_strategies * per_run, sizes


def check_cohort_memory(scenario: Scenario, n_draws: int, *, n_time: int = 1) -> None:
    """Refuse (:class:`~costspine.errors.ResourceError`) a cohort evaluation that would not fit the memory budget.

    See :func:`estimate_cohort_bytes` and :func:`costspine._limits.check_memory`.
    """
    n_bytes, sizes = estimate_cohort_bytes(scenario, n_draws, n_time=n_time)
    check_memory(
        n_bytes,
        what=f"{scenario.path}: the cohort model's arrays",
        sizes=sizes,
        fix="use fewer draws, fewer cycles (a longer cycle) or fewer states",
    )


def check_psa_memory(
    scenario: Scenario, n_draws: int, *, chunk_size: int, n_parameters: int, method: str = "cohort", draws_in_memory: bool = True
) -> None:
    """Refuse (:class:`~costspine.errors.ResourceError`) a PSA whose arrays would not fit the memory budget.

    A run that holds its draws in memory keeps, per draw, its parameter values and each strategy's
    costs by category and outcomes (``8 × (parameters + strategies × (categories + outcomes))``
    bytes), written once more when saved; a run that writes them to disk as it goes
    (``draws_in_memory=False``, ``psa``'s ``draws/`` folder) keeps none of them. A cohort chunk of
    ``chunk_size`` draws needs :func:`estimate_cohort_bytes` on top.
    """
    n_strategies = len(scenario.strategies)
    per_draw = 8 * (n_parameters + n_strategies * (len(scenario.categories) + len(scenario.outcomes)))
    n_bytes = 2 * per_draw * int(n_draws) if draws_in_memory else 0
    sizes = f"{n_draws:,} draws × ({n_parameters} parameters + {n_strategies} strategies × results)"
    if method == "cohort":
        chunk_bytes, chunk_sizes = estimate_cohort_bytes(scenario, min(int(chunk_size), int(n_draws)))
        n_bytes += chunk_bytes
        sizes += f", plus a chunk of {chunk_sizes}"
    check_memory(n_bytes, what=f"{scenario.path}: the PSA's arrays", sizes=sizes, fix="use fewer --draws or fewer cycles")


@dataclass(frozen=True)
class ModelInputs:
    """Everything the engines need, as arrays (no labels beyond the tuples below).

    Attributes
    ----------
    initial : ndarray, shape (draw, strategy, state)
    transition : ndarray, shape (draw, strategy, time, state, state)
    state_costs, entry_costs : ndarray, shape (draw, strategy, time, state, category)
    state_outcomes : ndarray, shape (draw, strategy, time, state, outcome)
    entry_outcomes : ndarray, shape (draw, strategy, time, state, outcome), or None
        One-off outcomes on entering a state (``on_entry`` of ``[outcomes]``, e.g. a QALY loss).
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
    entry_outcomes: np.ndarray | None = None


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
    return _parameter_values(scenario, _namespace(scenario, params, n_draws), n_draws)


def _parameter_values(scenario: Scenario, space: dict, n_draws: int) -> dict[str, np.ndarray]:
    names = [name for spec in scenario.parameters for name in (spec.components or (spec.name,))]
    return {name: np.broadcast_to(np.asarray(space[name], dtype=float).reshape(-1), (n_draws,)).copy() for name in names}


def _namespace(scenario: Scenario, params: dict[str, np.ndarray], n_draws: int) -> dict:
    """Parameters shaped (draw, 1), derived parameters computed, time variables shaped (1, cycle)."""
    settings = scenario.settings
    space = build_time_names(settings.n_cycles, settings.cycle_years, shape=(1, -1))
    for name, values in params.items():
        values = np.asarray(values, dtype=float)
        if values.shape not in ((n_draws,), (1,)):
            raise AnalysisError(f"parameter {name!r} has {values.shape} values; expected {n_draws} draws")
        space[name] = values.reshape(-1, 1)
    for spec in scenario.parameters:
        if spec.family == "derived":
            value = evaluate_expression(scenario, spec.expression, space, f"parameters.{spec.name}")
            if np.ndim(value) == 2 and np.shape(value)[1] != 1:
                raise ScenarioError(Problem(f"{scenario.path}: parameters.{spec.name}", "parameters cannot depend on time"))
            space[spec.name] = np.reshape(value, (-1, 1)) if np.ndim(value) else np.full((1, 1), float(value))
        elif spec.name not in space and not spec.components:
            raise AnalysisError(f"no values were given for parameter {spec.name!r}")
    return space


def _fit(value, n_draws: int, n_time: int) -> np.ndarray:
    """Broadcast an evaluated expression to (draw, time)."""
    value = np.asarray(value, dtype=float)
    if value.ndim == 0:
        value = value.reshape(1, 1)
    elif value.ndim == 1:
        value = value.reshape(-1, 1)
    return np.broadcast_to(value, (n_draws, n_time))


def _is_time_dependent(value) -> bool:
    return np.ndim(value) == 2 and np.shape(value)[1] > 1


@dataclass(frozen=True)
class TransitionInputs:
    """The Markov chain of a scenario for given parameter values, and what evaluates its rewards.

    Attributes
    ----------
    initial : ndarray, shape (draw, strategy, state)
    transition : ndarray, shape (draw, strategy, time, state, state)
        In the engine's state-major memory (:func:`allocate_transitions`).
    spaces : list of dict
        Per-strategy name spaces (:func:`costspine.model.evaluate.build_strategy_spaces`).
    evaluate : callable(expr, space, where)
        The scenario's expression evaluation.
    n_draws : int
    parameters : dict of str to ndarray, shape (draw,)
        Every parameter's values, derived ones computed (as :func:`evaluate_parameters`).
    """

    initial: np.ndarray
    transition: np.ndarray
    spaces: list
    evaluate: object
    n_draws: int
    parameters: dict


def build_transition_inputs(scenario: Scenario, params: dict[str, np.ndarray], *, base_case: bool) -> TransitionInputs:
    """Evaluate a scenario's transitions and initial distribution (checked) for given parameter values.

    The first half of :func:`build_model_inputs`; :func:`iter_reward_values` evaluates the rewards
    in the same name spaces.

    Raises
    ------
    ScenarioError, AnalysisError
        As :func:`build_model_inputs`, for invalid probabilities.
    """
    n_draws = max((np.size(v) for v in params.values()), default=1)
    space = _namespace(scenario, params, n_draws)
    states, strategies = scenario.states, scenario.strategies
    n_states, n_strategies, n_cycles = len(states), len(strategies), scenario.settings.n_cycles

    def evaluate(expr, local, where):
        return evaluate_expression(scenario, expr, local, where)

    check_cohort_memory(scenario, n_draws, n_time=1)  # before any evaluation: the arrays of a time-homogeneous model
    spaces = build_strategy_spaces(scenario, space, evaluate)

    # Transitions: evaluate every cell, then decide whether the model is time-dependent.
    cells = {(k, i, j): value for k, i, j, value in iter_transition_cells(scenario, spaces, evaluate)}
    n_time = n_cycles if any(_is_time_dependent(v) for v in cells.values()) else 1
    if n_time > 1:
        check_cohort_memory(scenario, n_draws, n_time=n_time)
    transition = allocate_transitions(n_draws, n_strategies, n_time, n_states)
    for (k, i, j), value in cells.items():
        transition[:, k, :, i, j] = _fit(value, n_draws, n_time)
    fill_rest(scenario, transition, strategy_axis=1)

    initial = np.zeros((n_draws, n_strategies, n_states))
    for i, value in iter_initial_cells(scenario, space, evaluate):
        initial[:, :, i] = _fit(value, n_draws, 1)[:, :1]
    _check_probabilities(scenario, transition, initial, base_case=base_case)
    normalize_rows(transition)  # rows within tolerance sum to 1 exactly: the cohort's mass stays 1
    normalize_rows(initial)
    return TransitionInputs(initial, transition, spaces, evaluate, n_draws, _parameter_values(scenario, space, n_draws))


def iter_reward_values(scenario: Scenario, chain: TransitionInputs, rewards, part: str, *, group=None):
    """Evaluate every cell of ``rewards`` (``part``: ``"values"`` or ``"on_entry"``) in ``chain``'s name spaces.

    Yields
    ------
    (k, i, column, value)
        Strategy, state, column (the reward's index, or its category's in ``group``) and the
        evaluated value: a scalar or an array of shape (draw or 1, 1 or cycle).
    """
    columns = group if group is not None else tuple(r.name for r in rewards)
    for reward in rewards:
        column = columns.index(reward.category if group is not None else reward.name)
        for k, i, value in iter_reward_cells(scenario, reward, part, chain.spaces, chain.evaluate):
            yield k, i, column, value


def build_model_inputs(
    scenario: Scenario, params: dict[str, np.ndarray] | None = None, *, base_case: bool | None = None
) -> ModelInputs:
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
    chain = build_transition_inputs(scenario, params, base_case=base_case)
    n_draws, spaces, evaluate = chain.n_draws, chain.spaces, chain.evaluate
    initial, transition = chain.initial, chain.transition

    categories = scenario.categories
    state_costs = _reward_array(scenario, spaces, scenario.costs, n_draws, "values", evaluate, group=categories)
    entry_costs = _reward_array(scenario, spaces, scenario.costs, n_draws, "on_entry", evaluate, group=categories)
    state_outcomes = _reward_array(scenario, spaces, scenario.outcomes, n_draws, "values", evaluate)
    entry_outcomes = _reward_array(scenario, spaces, scenario.outcomes, n_draws, "on_entry", evaluate)
    indicator_values = _reward_array(scenario, spaces, scenario.indicators, n_draws, "values", evaluate)
    mask = build_indicator_mask(scenario)
    state_services = _reward_array(scenario, spaces, scenario.services, n_draws, "values", evaluate)
    entry_services = _reward_array(scenario, spaces, scenario.services, n_draws, "on_entry", evaluate)
    _check_finite(
        scenario,
        {
            ("costs", "category"): (state_costs, entry_costs),
            ("outcomes", "outcome"): (state_outcomes, entry_outcomes),
            ("indicators", "indicator"): (indicator_values,),
        },
        base_case=base_case,
    )
    return ModelInputs(
        initial,
        transition,
        state_costs,
        entry_costs,
        state_outcomes,
        indicator_values,
        mask,
        n_draws,
        state_services,
        entry_services,
        entry_outcomes,
    )


def _reward_array(scenario, spaces, rewards, n_draws, part, evaluate, *, group=None) -> np.ndarray:
    """Stack rewards into (draw, strategy, time, state, column); columns are rewards or categories."""
    columns = group if group is not None else tuple(r.name for r in rewards)
    evaluated = []
    for reward in rewards:
        column = columns.index(reward.category if group is not None else reward.name)
        evaluated += [(k, i, column, value) for k, i, value in iter_reward_cells(scenario, reward, part, spaces, evaluate)]
    n_time = scenario.settings.n_cycles if any(_is_time_dependent(v) for *_, v in evaluated) else 1
    out = np.zeros((n_draws, len(scenario.strategies), n_time, len(scenario.states), len(columns)))
    for k, i, column, value in evaluated:
        out[:, k, :, i, column] += _fit(value, n_draws, n_time)
    return out


def _check_probabilities(scenario: Scenario, transition: np.ndarray, initial: np.ndarray, *, base_case: bool) -> None:
    time_dependent = transition.shape[2] > 1

    def label(cell):
        d, k, t, i, *to = cell
        parts = [] if base_case else [f"draw={d}"]
        parts.append(f"strategy={scenario.strategies[k]}")
        parts.append(f"cycle={t + 1}" if time_dependent else "cycle=all")
        parts.append(f"from={scenario.states[i]}")
        parts += [f"to={scenario.states[j]}" for j in to]
        return " ".join(parts)

    problems = [message for _, message in find_probability_problems(transition, label)]
    init_sum = initial.sum(axis=-1)
    if not (np.all(np.abs(init_sum - 1) <= ROW_SUM_TOLERANCE) and np.all(initial >= -PROBABILITY_TOLERANCE)):  # NaN fails too
        problems.append(
            f"states.*.initial: the initial distribution must be >= 0 and sum to 1; it sums to {init_sum.flat[0]:.6g}"
        )
    if problems:
        if base_case:
            raise ScenarioError([Problem(f"{scenario.path}: transitions", p) for p in problems])
        raise AnalysisError(
            "invalid transition probabilities in PSA draws:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nCheck the distributions of the parameters these cells use (e.g. a normal that can go below 0)."
        )


def _check_finite(scenario: Scenario, arrays: dict, *, base_case: bool) -> None:
    """Rewards that evaluate to NaN or ±inf are errors (they would turn every total into NaN)."""
    problems = []
    for (section, column_kind), parts in arrays.items():
        columns = scenario.categories if section == "costs" else tuple(r.name for r in getattr(scenario, section))
        for array in parts:

            def label(cell, array=array, section=section, column_kind=column_kind, columns=columns):
                d, k, t, i, c = cell
                where = [] if base_case else [f"draw={d}"]
                where += [
                    f"strategy={scenario.strategies[k]}",
                    f"cycle={t + 1}" if array.shape[2] > 1 else "cycle=all",
                    f"state={scenario.states[i]}",
                    f"{column_kind}={columns[c]}",
                ]
                return f"{section}: {' '.join(where)}"

            problems += [message for _, message in find_nonfinite_problems(array, label)]
    if problems:
        if base_case:
            raise ScenarioError([Problem(f"{scenario.path}: {p.split(':', 1)[0]}", p.split(": ", 1)[1]) for p in problems])
        raise AnalysisError(
            "non-finite rewards in PSA draws:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nCheck the expressions and distributions of these values (e.g. a division by a draw that can be 0)."
        )
