"""Scenario expressions evaluated over the microsimulation grid → the kernel's look-up tables.

The grid has one axis for time (cycles), one per attribute (its levels) and one per history
counter (``0..max``). Every expression is evaluated once per parameter draw with the existing
vectorised evaluator, each name shaped to broadcast along its own axis, so an expression's result
shows by its shape which axes it depends on. A table keeps only the axes some of its expressions
use (the union over strategies and cells); an individual's row is found from its group and capped
counters through offsets and strides (see :class:`costspine.engines.microsim.KernelInputs`, which
:func:`costspine.simulate.microsim.build_kernel_inputs` makes from these tables).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from costspine._limits import check_memory
from costspine.errors import AnalysisError, Problem, ScenarioError
from costspine.model.checks import find_nonfinite_problems, find_probability_problems, normalize_rows
from costspine.model.evaluate import (
    REWARD_PARTS,
    build_strategy_spaces,
    build_time_names,
    evaluate_expression,
    fill_rest,
    iter_initial_cells,
    iter_reward_cells,
    iter_transition_cells,
)

MAX_TABLE_BYTES = 2 * 1024**3
"""Largest look-up table (bytes) built for one draw; beyond it the error says which axes to shrink."""


@dataclass(frozen=True)
class Columns:
    """Reward columns of the value tables, in order: cost categories, outcomes, indicators, services."""

    categories: tuple
    outcomes: tuple
    indicators: tuple
    services: tuple

    @property
    def n(self) -> int:
        return len(self.categories) + len(self.outcomes) + len(self.indicators) + len(self.services)

    def slices(self) -> dict:
        c, o, i = len(self.categories), len(self.outcomes), len(self.indicators)
        return {
            "costs": slice(0, c),
            "outcomes": slice(c, c + o),
            "indicators": slice(c + o, c + o + i),
            "services": slice(c + o + i, self.n),
        }


@dataclass(frozen=True)
class DrawTables:
    """Everything one parameter draw needs, as probabilities and reward values on the grid.

    Addressing (``*_map``, ``*_strides``, ``*_time``) is as documented on
    :class:`costspine.engines.microsim.KernelInputs`; ``G`` groups, ``H`` history counters, ``N``
    states, ``S`` strategies, ``E`` event counters.

    Attributes
    ----------
    group_weights : ndarray, shape (G,)
    init_map : ndarray of int64, shape (G,)
    init_prob : ndarray, shape (initial group, N)
    trans_map, trans_strides, trans_time : ndarray of int64
    trans_prob : ndarray, shape (S, time, row, N)
        Transition probabilities (rows sum to 1 within the tolerance).
    event_hist, event_map, event_strides, event_time : ndarray of int64
    event_prob : ndarray, shape (E, S, time, row)
    hist_kinds : tuple of str
        ``time_in_state``, ``transitions`` or ``events`` per history counter.
    hist_cap : ndarray of int64, shape (H,)
    hist_moves : ndarray of bool, shape (H, N, N)
        Transition counters: the moves ``from -> to`` that count; time-in-state counters: the moves
        that keep counting (staying in a state, or moving within the counter's group of states).
    reward_map, reward_strides : ndarray of int64
    state_values, entry_values : ndarray, shape (strategy, time, cell, column)
        Reward per cycle in a reward cell / on entering it (columns: :class:`Columns`).
    reward_time : ndarray of int64, shape (cycle + 1,)
        Time slice of the value tables used at each trace point (point 0 uses cycle 1's).
    columns : Columns
    metric_names : tuple of str
        Names of the per-individual metrics (see :func:`list_metrics`).
    pairs : ndarray of int64, shape (Q, 2)
        Metric pairs whose cross-strategy second moments are accumulated.
    reward_levels : ndarray of int64, shape (attribute, cell)
        Level of each population attribute in each reward cell; -1 where the reward grid does not
        separate the attribute's levels (``split_by`` of :func:`build_draw_tables` makes it).
    """

    n_cycles: int
    group_weights: np.ndarray
    init_map: np.ndarray
    init_prob: np.ndarray
    trans_map: np.ndarray
    trans_strides: np.ndarray
    trans_time: np.ndarray
    trans_prob: np.ndarray
    event_hist: np.ndarray
    event_map: np.ndarray
    event_strides: np.ndarray
    event_time: np.ndarray
    event_prob: np.ndarray
    hist_kinds: tuple
    hist_cap: np.ndarray
    hist_moves: np.ndarray
    reward_map: np.ndarray
    reward_strides: np.ndarray
    state_values: np.ndarray
    entry_values: np.ndarray
    reward_time: np.ndarray
    columns: Columns
    metric_names: tuple
    pairs: np.ndarray
    reward_levels: np.ndarray


def list_reward_columns(scenario) -> Columns:
    return Columns(
        scenario.categories,
        tuple(o.name for o in scenario.outcomes),
        tuple(i.name for i in scenario.indicators),
        tuple(s.name for s in scenario.services),
    )


def list_metrics(scenario) -> tuple[tuple, int]:
    """Names of the per-individual metrics and the index of the discounted effect among them.

    Discounted: each cost category, total cost, each outcome; then the same undiscounted.
    """
    names = []
    for suffix in ("", "_undiscounted"):
        names += [f"cost_{c}{suffix}" for c in scenario.categories] + [f"cost_total{suffix}"]
        names += [f"{o.name}{suffix}" for o in scenario.outcomes]
    return tuple(names), names.index(scenario.analysis.effect)


class _Grid:
    """Names shaped for the grid of one draw: (time, attribute..., history...)."""

    def __init__(self, scenario, population, groups, values: dict, draw: int):
        self.scenario = scenario
        self.population = population
        self.groups = groups
        settings = scenario.settings
        n_cycles = settings.n_cycles
        self.attr_shape = tuple(groups.shape)
        self.hist_shape = tuple(h.cap + 1 for h in population.history)
        self.ndim = 1 + len(self.attr_shape) + len(self.hist_shape)
        self.n_cycles = n_cycles
        space = {}
        for name, v in values.items():
            space[name] = np.float64(np.ravel(v)[draw if np.size(v) > 1 else 0])
        space.update(build_time_names(n_cycles, settings.cycle_years, shape=(-1,) + (1,) * (self.ndim - 1)))
        tail = (1,) * len(self.hist_shape)
        for name, v in groups.values.items():
            v = np.asarray(v)
            v = v[draw] if v.shape[0] > 1 else v[0]
            space[name] = v.reshape((1,) + v.shape + tail)
        for h, counter in enumerate(population.history):
            shape = [1] * self.ndim
            shape[1 + len(self.attr_shape) + h] = counter.cap + 1
            space[counter.name] = np.arange(counter.cap + 1, dtype=float).reshape(shape)
        self.space = space
        self.spaces = build_strategy_spaces(scenario, space, self.evaluate)

    def evaluate(self, expr, space, where):
        return evaluate_expression(self.scenario, expr, space, where, ndim=self.ndim)

    def union(self, arrays) -> tuple:
        return np.broadcast_shapes((1,) * self.ndim, *(np.shape(a) for a in arrays if np.ndim(a)))

    def split(self, shape):
        n_attr = len(self.attr_shape)
        return shape[0], shape[1 : 1 + n_attr], shape[1 + n_attr :]

    def addressing(self, shape):
        """Group offsets (G,) and history strides (H,) of a table whose grid shape is ``shape``."""
        _, attr_used, hist_used = self.split(shape)
        n_buckets = math.prod(hist_used)
        if self.attr_shape:
            coords = np.unravel_index(np.arange(math.prod(self.attr_shape)), self.attr_shape)
            coords = tuple(c if size > 1 else np.zeros_like(c) for c, size in zip(coords, attr_used))
            offsets = np.ravel_multi_index(coords, attr_used) * n_buckets
        else:
            offsets = np.zeros(1, dtype=np.int64)
        strides = np.array([math.prod(hist_used[h + 1 :]) if size > 1 else 0 for h, size in enumerate(hist_used)], dtype=np.int64)
        return offsets.astype(np.int64), strides

    def time_index(self, shape, points: bool):
        """Time slice per cycle (``points=False``, length T) or per trace point (length T + 1)."""
        n_time = shape[0]
        if points:
            return (
                np.maximum(np.arange(self.n_cycles + 1) - 1, 0).astype(np.int64)
                if n_time > 1
                else np.zeros(self.n_cycles + 1, np.int64)
            )
        return np.arange(self.n_cycles, dtype=np.int64) if n_time > 1 else np.zeros(self.n_cycles, np.int64)

    def describe(self, shape, index) -> str:
        """``cycle=3 risk=high injections=2`` for a cell of a table of grid shape ``shape``."""
        n_attr = len(self.attr_shape)
        parts = [f"cycle={index[0] + 1}" if shape[0] > 1 else "cycle=all"]
        for k, (size, i) in enumerate(zip(shape[1 : 1 + n_attr], index[1 : 1 + n_attr])):
            if size > 1:
                parts.append(f"{self.groups.attribute_names[k]}={self.groups.level_labels[k][i]}")
        for h, (size, i) in enumerate(zip(shape[1 + n_attr :], index[1 + n_attr :])):
            if size > 1:
                parts.append(f"{self.population.history[h].name}={i}")
        return " ".join(parts)


def _check_size(scenario, what: str, shape, extra: int) -> None:
    n_bytes = 8 * math.prod(shape) * extra
    if n_bytes > MAX_TABLE_BYTES:
        raise AnalysisError(
            f"{scenario.path}: the microsimulation {what} table would need {n_bytes / 1024**3:.1f} GiB (limit "
            f"{MAX_TABLE_BYTES / 1024**3:.0f} GiB; grid shape {tuple(shape)} = strategy, cycle, attribute levels, "
            "history counts used by its expressions) — lower the max of history counters or use fewer bands/levels"
        )
    check_memory(  # and within the run's memory budget (--max-memory)
        n_bytes,
        what=f"{scenario.path}: the microsimulation {what} table",
        sizes=f"grid shape {tuple(shape)} = strategy, cycle, attribute levels, history counts",
        fix="use fewer cycles, lower the max of history counters or use fewer bands/levels",
    )


def build_draw_tables(
    scenario, population, groups, values: dict, *, draw: int, base_case: bool, split_by: tuple = ()
) -> DrawTables:
    """Look-up tables of one parameter draw.

    Parameters
    ----------
    scenario : Scenario
    population : Population
    groups : GroupGrid
        From :func:`costspine.model.groups.build_groups` (all draws).
    values : dict of str to ndarray, shape (draw,)
        Every parameter's values, derived ones included.
    draw : int
    base_case : bool
        Invalid probabilities are a ScenarioError in the base case, else an AnalysisError.
    split_by : tuple of int
        Attributes (indices into ``population.attributes``) whose levels get reward cells of their
        own even where no reward depends on them, so occupancy is counted per level (results by
        subgroup). Costs and outcomes do not change; only the cells are finer.

    Returns
    -------
    DrawTables
    """
    grid = _Grid(scenario, population, groups, values, draw)
    states, strategies = scenario.states, scenario.strategies
    n_states, n_strategies, n_cycles = len(states), len(strategies), scenario.settings.n_cycles
    problems = []

    # ---- transitions
    cells = {(k, i, j): value for k, i, j, value in iter_transition_cells(scenario, grid.spaces, grid.evaluate)}
    shape = grid.union(cells.values())
    _check_size(scenario, "transition", (n_strategies, *shape), n_states * n_states * 2)
    prob = np.zeros((n_strategies, *shape, n_states, n_states))
    for (k, i, j), value in cells.items():
        prob[k, ..., i, j] = value
    fill_rest(scenario, prob, strategy_axis=0)

    def transition_label(cell):
        k, *index, i = cell[:-1] if len(cell) == prob.ndim else cell
        words = f"strategy={strategies[k]} {grid.describe(shape, index)} from={states[i]}"
        return words + (f" to={states[cell[-1]]}" if len(cell) == prob.ndim else "")

    transition_problems = find_probability_problems(prob, transition_label)
    problems += [("transitions", message) for _, message in transition_problems]
    if not transition_problems:
        normalize_rows(prob)  # as the cohort model does: rows within tolerance sum to 1 exactly
    trans_map, trans_strides = grid.addressing(shape)
    trans_prob = prob.reshape(n_strategies, shape[0], math.prod(shape[1:]) * n_states, n_states)
    trans_time = grid.time_index(shape, points=False)

    # ---- initial distribution (attributes only)
    init_cells = dict(iter_initial_cells(scenario, grid.space, grid.evaluate))
    init_shape = grid.union(init_cells.values())
    initial = np.zeros((*init_shape, n_states))
    for i, value in init_cells.items():
        initial[..., i] = value

    def initial_label(cell):
        index = cell[: len(init_shape)]
        words = grid.describe(init_shape, index)
        return words + (f" to={states[cell[-1]]}" if len(cell) == initial.ndim else "")

    problems += [
        ("states.*.initial", message)
        for _, message in find_probability_problems(initial, initial_label, hint="the initial distribution must sum to 1")
    ]
    if not problems:
        normalize_rows(initial)
    init_map, _ = grid.addressing(init_shape)
    init_prob = initial.reshape(math.prod(init_shape[1:]), n_states)

    # ---- events
    counters = [(h, c) for h, c in enumerate(population.history) if c.kind == "events"]
    ev_cells = {}
    for e, (_h, counter) in enumerate(counters):
        for k, strategy in enumerate(strategies):
            for i, state in enumerate(states):
                expr = counter.probability.get(state)
                if expr is not None:
                    ev_cells[e, k, i] = grid.evaluate(
                        expr, grid.spaces[k], f"microsimulation.history.{counter.name}.probability.{state} (strategy {strategy})"
                    )
    ev_shape = grid.union(ev_cells.values())
    _check_size(scenario, "event", (max(len(counters), 1), n_strategies, *ev_shape), n_states)
    event_prob = np.zeros((len(counters), n_strategies, *ev_shape, n_states))
    for (e, k, i), value in ev_cells.items():
        event_prob[e, k, ..., i] = value

    def event_label(cell):
        _, k, *index, _ = cell
        return f"strategy={strategies[k]} {grid.describe(ev_shape, index)}"

    for cell, message in find_probability_problems(event_prob, event_label, rows=False, more=False):
        problems.append((f"microsimulation.history.{counters[cell[0]][1].name}.probability.{states[cell[-1]]}", message))
    event_map, event_strides = grid.addressing(ev_shape)
    event_prob = np.clip(event_prob, 0.0, 1.0).reshape(
        len(counters), n_strategies, ev_shape[0], math.prod(ev_shape[1:]) * n_states
    )
    event_time = grid.time_index(ev_shape, points=False)

    # ---- rewards
    columns = list_reward_columns(scenario)
    col_of = {}
    for reward in scenario.costs:
        col_of[reward.name] = columns.categories.index(reward.category)
    offset = len(columns.categories)
    for o, reward in enumerate(scenario.outcomes):
        col_of[("outcome", reward.name)] = offset + o
    offset += len(columns.outcomes)
    for i, reward in enumerate(scenario.indicators):
        col_of[("indicator", reward.name)] = offset + i
    offset += len(columns.indicators)
    for v, reward in enumerate(scenario.services):
        col_of[("service", reward.name)] = offset + v
    evaluated = []
    for group, kind in (
        (scenario.costs, "cost"),
        (scenario.outcomes, "outcome"),
        (scenario.indicators, "indicator"),
        (scenario.services, "service"),
    ):
        for reward in group:
            column = col_of[reward.name] if kind == "cost" else col_of[(kind, reward.name)]
            for part in REWARD_PARTS:
                evaluated += [
                    (part, k, i, column, value)
                    for k, i, value in iter_reward_cells(scenario, reward, part, grid.spaces, grid.evaluate)
                ]
    r_shape = grid.union(v for *_, v in evaluated)
    if split_by:
        r_shape = tuple(grid.attr_shape[k - 1] if 1 <= k and k - 1 in split_by else size for k, size in enumerate(r_shape))
    _check_size(scenario, "reward", (n_strategies, *r_shape), n_states * max(columns.n, 1) * 2)
    state_values = np.zeros((n_strategies, *r_shape, n_states, columns.n))
    entry_values = np.zeros_like(state_values)
    for part, k, i, column, value in evaluated:
        (state_values if part == "values" else entry_values)[k, ..., i, column] += value
    problems += _find_nonfinite_rewards(grid, r_shape, columns, state_values, entry_values)
    if problems:
        _raise(scenario, problems, base_case=base_case, draw=draw)
    reward_map, reward_strides = grid.addressing(r_shape)
    n_attr = len(grid.attr_shape)
    cell_index = np.indices(tuple(r_shape[1:]) + (n_states,)).reshape(len(r_shape), -1)
    reward_levels = np.full((n_attr, cell_index.shape[1]), -1, dtype=np.int64)
    for k in range(n_attr):
        if r_shape[1 + k] == grid.attr_shape[k]:  # the grid separates this attribute's levels
            reward_levels[k] = cell_index[k]
    reward_time = grid.time_index(r_shape, points=True)
    n_cells = math.prod(r_shape[1:]) * n_states
    state_values = state_values.reshape(n_strategies, r_shape[0], n_cells, columns.n)
    entry_values = entry_values.reshape(n_strategies, r_shape[0], n_cells, columns.n)

    metric_names, effect = list_metrics(scenario)
    _check_size(scenario, "metric", (n_strategies, n_cycles + 1, state_values.shape[2], len(metric_names)), 2)
    pairs = [(m, m) for m in range(len(metric_names))] + [(len(columns.categories), effect)]

    hist_moves = np.zeros((len(population.history), n_states, n_states), dtype=bool)
    for h, counter in enumerate(population.history):
        if counter.kind == "transitions":
            for a in counter.from_states:
                for b in counter.to_states:
                    if a != b:
                        hist_moves[h, states.index(a), states.index(b)] = True
        elif counter.kind == "time_in_state" and counter.states:  # time in a group: moves within it keep counting
            group = [states.index(a) for a in counter.states]
            hist_moves[h][np.ix_(group, group)] = True
        elif counter.kind == "time_in_state":  # time in the current state: staying keeps counting
            hist_moves[h, np.arange(n_states), np.arange(n_states)] = True
    weights = groups.flat_weights()
    return DrawTables(
        n_cycles=n_cycles,
        group_weights=weights[draw] if weights.shape[0] > 1 else weights[0],
        init_map=init_map,
        init_prob=init_prob,
        trans_map=trans_map,
        trans_strides=trans_strides,
        trans_time=trans_time,
        trans_prob=trans_prob,
        event_hist=np.array([h for h, _ in counters], dtype=np.int64),
        event_map=event_map,
        event_strides=event_strides,
        event_time=event_time,
        event_prob=np.ascontiguousarray(event_prob),
        hist_kinds=tuple(c.kind for c in population.history),
        hist_cap=np.array([c.cap for c in population.history], dtype=np.int64),
        hist_moves=hist_moves,
        reward_map=reward_map,
        reward_strides=reward_strides,
        state_values=state_values,
        entry_values=entry_values,
        reward_time=reward_time,
        columns=columns,
        metric_names=metric_names,
        pairs=np.array(pairs, dtype=np.int64).reshape(-1, 2),
        reward_levels=reward_levels,
    )


REWARD_SECTIONS = (("costs", "category"), ("outcomes", "outcome"), ("indicators", "indicator"))
"""Reward columns checked for NaN and ±inf (as in the cohort model): section and cell word."""


def _find_nonfinite_rewards(grid: _Grid, shape, columns: Columns, state_values, entry_values) -> list:
    """Reward cells that are NaN or ±inf, named by strategy, grid cell, state and column, as
    ``(section, message)`` pairs (they would make every mean NaN: the summary multiplies each
    cell by its count, 0 included)."""
    states, strategies = grid.scenario.states, grid.scenario.strategies
    names = {"costs": columns.categories, "outcomes": columns.outcomes, "indicators": columns.indicators}
    slices = columns.slices()
    problems = []
    for section, word in REWARD_SECTIONS:
        for values in (state_values, entry_values):

            def label(cell, section=section, word=word):
                k, *index, i, c = cell
                return f"strategy={strategies[k]} {grid.describe(shape, index)} state={states[i]} {word}={names[section][c]}"

            problems += [(section, message) for _, message in find_nonfinite_problems(values[..., slices[section]], label)]
    return problems


def _raise(scenario, problems, *, base_case: bool, draw: int):
    if base_case:
        raise ScenarioError([Problem(f"{scenario.path}: {where}", message) for where, message in problems])
    sections = {where for where, _ in problems}
    kinds = []
    if sections - {section for section, _ in REWARD_SECTIONS}:
        kinds.append("invalid probabilities")
    if sections & {section for section, _ in REWARD_SECTIONS}:
        kinds.append("non-finite rewards")
    raise AnalysisError(
        f"{' and '.join(kinds)} in PSA draw {draw} (microsimulation):\n"
        + "\n".join(f"  - {where}: {message}" for where, message in problems)
        + "\nCheck the distributions of the parameters these cells use."
    )
