"""Individual-level runs of a scenario: grid tables → kernel inputs → chunks of individuals → results.

:func:`run_microsim` simulates ``n_individuals`` individuals per strategy (and per parameter draw)
with the engine in :mod:`costspine.engines.microsim` and returns a :class:`MicrosimResult`, which
has every field of :class:`~costspine.simulate.cohort.CohortResult` plus the Monte Carlo standard
error (MCSE) of every mean and increment. See ``docs/microsimulation.md``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

from costspine._limits import given_memory_budget
from costspine._rng import MICROSIMULATION, seed_sequence
from costspine.engines.microsim import (
    BLOCK,
    COMPILE_NOTICE,
    EVENTS,
    TIME_IN_STATE,
    TRANSITIONS,
    KernelInputs,
    build_cdf_rows,
    kernel_is_ready,
    simulate_chunk,
)
from costspine.engines.outcomes import accumulate_rewards, point_index
from costspine.errors import UsageError
from costspine.model.evaluate import build_indicator_mask
from costspine.model.groups import build_groups, find_report_points, list_subgroup_attributes
from costspine.model.inputs import (
    base_case_parameters,
    build_model_inputs,
    evaluate_parameters,
)
from costspine.model.microsim_tables import DrawTables, build_draw_tables
from costspine.scenario.population import EMPTY_POPULATION
from costspine.simulate.cohort import (
    CohortResult,
    GroupedCohortResult,
    derive_reward_factors,
    run_cohort_by_group,
)

HISTORY_KIND_CODES = {"time_in_state": TIME_IN_STATE, "transitions": TRANSITIONS, "events": EVENTS}
MAX_CHUNK = 1 << 18
"""Individuals per chunk at most (progress granularity: well under a second of kernel time); memory may make
chunks smaller."""

MEMORY_SHARE = 0.25
"""Share of the available memory a chunk's working arrays may use."""

NUMPY_MAX_WORK = 1e8
"""``backend="auto"`` stays with numpy below this many metric updates (see :func:`resolve_backend`)."""


@dataclass(frozen=True)
class MicrosimResult(CohortResult):
    """Results of a microsimulation: the cohort result's fields, estimated from individuals, plus MCSEs.

    The means (``trace``, ``costs``, ``outcomes``, ``cost_per_cycle``, ``indicators``,
    ``services_per_cycle``) have the shapes documented on :class:`~costspine.model.CohortResult`.

    Attributes
    ----------
    n_individuals : int
        Individuals simulated per strategy and draw.
    seed : int or None
    common_random_numbers : bool
    costs_se, costs_undiscounted_se : ndarray, shape (draw, strategy, category)
    total_cost_se, total_cost_undiscounted_se : ndarray, shape (draw, strategy)
    outcomes_se, outcomes_undiscounted_se : ndarray, shape (draw, strategy, outcome)
    incremental_cost_se : ndarray, shape (draw, strategy)
        MCSE of the discounted total cost minus the comparator's (0 for the comparator).
    incremental_outcomes_se : ndarray, shape (draw, strategy, outcome)
    incremental_nmb_se : ndarray, shape (draw, strategy, wtp)
        MCSE of the incremental net monetary benefit ``λ ΔE − ΔC`` at each threshold.
    trace_se : ndarray, shape (draw, strategy, cycle + 1, state)
        MCSE of each occupancy share, ``sqrt(p (1 − p) / (n − 1))``.
    levels : dict of str to ndarray, optional
        Results by level of each categorical or binary population attribute (``by_level=True`` of
        :func:`run_microsim`), keyed ``"<attribute>.<field>"``; see :func:`summarize_levels`.
        None when not asked for or the scenario has no such attribute.
    """

    n_individuals: int = 0
    seed: int | None = None
    common_random_numbers: bool = True
    costs_se: np.ndarray | None = None
    costs_undiscounted_se: np.ndarray | None = None
    total_cost_se: np.ndarray | None = None
    total_cost_undiscounted_se: np.ndarray | None = None
    outcomes_se: np.ndarray | None = None
    outcomes_undiscounted_se: np.ndarray | None = None
    incremental_cost_se: np.ndarray | None = None
    incremental_outcomes_se: np.ndarray | None = None
    incremental_nmb_se: np.ndarray | None = None
    trace_se: np.ndarray | None = None
    levels: dict | None = None

    def __repr__(self) -> str:
        from costspine._text import format_repr

        return format_repr(
            type(self).__name__,
            scenario=self.scenario.name,
            strategies=self.strategies,
            draws=int(self.costs.shape[0]),
            individuals=self.n_individuals,
            seed=self.seed,
        )

    def summary(self) -> str:
        """The cohort summary tables followed by the Monte Carlo standard errors."""
        return super().summary() + "\n\n" + format_mcse(self)

    def to_frame(self):
        """Long table keyed by ``draw, strategy``: costs, outcomes and their MCSEs (``*_se``)."""
        frame = super().to_frame()
        for k, cat in enumerate(self.categories):
            frame[f"cost_{cat}_se"] = self.costs_se[:, :, k].ravel()
        frame["cost_total_se"] = self.total_cost_se.ravel()
        for o, name in enumerate(self.outcome_names):
            frame[f"{name}_se"] = self.outcomes_se[:, :, o].ravel()
        frame["incremental_cost_se"] = self.incremental_cost_se.ravel()
        for o, name in enumerate(self.outcome_names):
            frame[f"incremental_{name}_se"] = self.incremental_outcomes_se[:, :, o].ravel()
        return frame


def derive_seed_sequence(seed) -> np.random.SeedSequence:
    """The microsimulation's own stream of a run: ``(MICROSIMULATION,)`` in :mod:`costspine._rng`.

    Keyed by name (like parameter streams), so adding other components never shifts it.
    """
    return seed_sequence(seed, MICROSIMULATION)


def draw_keys(seq: np.random.SeedSequence, draw: int, strategies: tuple, *, common_random_numbers: bool) -> np.ndarray:
    """Stream keys for one draw, one per strategy: all equal with common random numbers, else
    independent (keyed by strategy name, so the order of strategies does not matter).

    ``draw`` is the draw's index in the whole run (a PSA's draw ``d``, or 0 for the base case):
    the stream ``(MICROSIMULATION, draw)``, plus the strategy's name without common random numbers.
    """

    def key(*path):
        return seed_sequence(seq, int(draw), *path).generate_state(1, dtype=np.uint64)[0]

    if common_random_numbers:
        return np.full(len(strategies), key(), dtype=np.uint64)
    return np.array([key(s) for s in strategies], dtype=np.uint64)


def read_available_memory() -> int:
    """Bytes of memory available to this process (``MemAvailable`` on Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2 * 1024**3


def choose_chunk_size(n_individuals: int, kernel, n_strategies: int, *, backend: str, memory: int | None = None) -> int:
    """Individuals per chunk: the working arrays of a chunk stay within :data:`MEMORY_SHARE` of
    the available memory (or of ``--max-memory`` / :func:`costspine._limits.memory_budget`). A multiple of :data:`~costspine.engines.microsim.BLOCK`.

    The numba kernel keeps nothing per individual but the block sums; the numpy reference holds
    about ``(S·M + Q·S² + 2N + 3H + E + 16) × 3`` doubles per individual (metrics, cross products,
    state arrays and temporaries).
    """
    if memory is None:  # --max-memory, if given, is the budget the chunk's share is taken from
        given = given_memory_budget()
        memory = read_available_memory() if given is None else given / MEMORY_SHARE
    n_metrics = kernel.metric_state.shape[-1]
    n_pairs = kernel.pairs.shape[0]
    n_states = kernel.init_cdf.shape[1]
    per_block = 8 * (n_strategies * n_metrics + n_pairs * n_strategies**2)
    if backend == "numpy":
        per_individual = (
            8
            * 3
            * (
                n_strategies * n_metrics
                + n_pairs * n_strategies**2
                + 2 * n_states
                + 3 * kernel.hist_kind.shape[0]
                + kernel.event_hist.shape[0]
                + 16
            )
        )
    else:
        per_individual = per_block / BLOCK + 1
    size = int(memory * MEMORY_SHARE / per_individual)
    size = max(BLOCK, min(size, MAX_CHUNK, -(-n_individuals // BLOCK) * BLOCK))
    return size // BLOCK * BLOCK


def resolve_backend(backend: str, n_individuals: int, kernel, n_strategies: int, *, n_draws: int = 1) -> str:
    """``auto``: numpy for small runs, numba for the rest. Results are identical either way.

    A whole process pays about a second to import numba and load its cached kernel; the numpy
    reference pays per metric update, ``n (T·S·M + Q·S²)`` of them per draw (``M`` per-individual
    metrics, ``Q`` moment pairs), about 10 ns each. Below :data:`NUMPY_MAX_WORK` updates over all
    ``n_draws`` draws numpy finishes first.
    """
    if backend == "auto":
        n_metrics, n_pairs = kernel.metric_state.shape[-1], kernel.pairs.shape[0]
        work = n_draws * n_individuals * (kernel.n_cycles * n_strategies * n_metrics + n_pairs * n_strategies**2)
        if work < NUMPY_MAX_WORK:
            return "numpy"
        try:
            import numba  # noqa: F401
        except ImportError:  # pragma: no cover - numba is a declared dependency
            return "numpy"
        return "numba"
    if backend not in ("numba", "numpy"):
        raise UsageError(f"unknown microsimulation backend {backend!r}; expected auto, numba or numpy")
    return backend


def build_kernel_inputs(scenario, tables: DrawTables, *, by_level: bool = False) -> KernelInputs:
    """The kernel's inputs from one draw's grid tables: cumulative probabilities, history kind
    codes, and per-individual metric tables already weighted and discounted.

    ``by_level=True`` also sums, per group, the metrics results by subgroup need
    (:func:`list_level_metrics`): the discounted total cost and each discounted outcome and their
    cross-strategy products (for each subgroup's MCSEs)."""
    metric_state, metric_entry = _metrics(scenario, tables.columns, tables.state_values, tables.entry_values, tables.reward_time)
    level_metrics, level_pairs = list_level_metrics(scenario) if by_level else ((), ())
    return KernelInputs(
        n_cycles=tables.n_cycles,
        group_cum=build_cdf_rows(tables.group_weights),
        init_map=tables.init_map,
        init_cdf=np.ascontiguousarray(build_cdf_rows(tables.init_prob)),
        trans_map=tables.trans_map,
        trans_strides=tables.trans_strides,
        trans_time=tables.trans_time,
        trans_cdf=np.ascontiguousarray(build_cdf_rows(tables.trans_prob)),
        event_hist=tables.event_hist,
        event_map=tables.event_map,
        event_strides=tables.event_strides,
        event_time=tables.event_time,
        event_prob=tables.event_prob,
        hist_kind=np.array([HISTORY_KIND_CODES[kind] for kind in tables.hist_kinds], dtype=np.int64),
        hist_cap=tables.hist_cap,
        hist_moves=tables.hist_moves,
        reward_map=tables.reward_map,
        reward_strides=tables.reward_strides,
        n_reward_cells=int(tables.state_values.shape[2]),
        metric_state=metric_state,
        metric_entry=metric_entry,
        pairs=tables.pairs,
        level_metrics=np.array(level_metrics, dtype=np.int64),
        level_pairs=np.array(level_pairs, dtype=np.int64).reshape(-1, 2),
    )


def list_level_metrics(scenario) -> tuple[tuple, tuple]:
    """Per-individual metrics summed per group for results by subgroup, and their pairs.

    Metrics (indices into :func:`costspine.model.microsim_tables.list_metrics`): the discounted
    total cost, then each discounted outcome. Pairs (metric indices): each of them with itself
    (cross-strategy products), what :func:`summarize_levels` needs for the MCSEs of each
    subgroup's means and increments.
    """
    n_cat, n_out = len(scenario.categories), len(scenario.outcomes)
    metrics = (n_cat, *range(n_cat + 1, n_cat + 1 + n_out))
    return metrics, tuple((m, m) for m in metrics)


def _metrics(scenario, columns, state_values, entry_values, reward_time):
    """Per-individual metric tables, shape (strategy, point, cell, metric): the reward at each
    trace point already multiplied by its cycle-correction weight and discount factor (entries:
    discount only). Metrics: each cost category, total cost, each outcome; discounted, then not."""
    f = derive_reward_factors(scenario.settings)
    cols = columns.slices()
    n_cost, n_out = len(columns.categories) + 1, len(columns.outcomes)
    state_time = state_reward_time(f, reward_time, state_values.shape[1])

    def block(values, time):
        values = values[:, time]  # (S, T+1, cell, column)
        costs = values[..., cols["costs"]]
        return np.concatenate([costs, costs.sum(axis=-1, keepdims=True), values[..., cols["outcomes"]]], axis=-1)

    def factors(*, entry, discounted):
        cost, outcome = (f.per_point(kind, entry=entry, discounted=discounted) for kind in ("costs", "outcomes"))
        return np.concatenate([np.repeat(cost[:, None], n_cost, 1), np.repeat(outcome[:, None], n_out, 1)], 1)

    state, entry = block(state_values, state_time), block(entry_values, reward_time)
    f_state = np.concatenate([factors(entry=False, discounted=True), factors(entry=False, discounted=False)], axis=1)
    f_entry = np.concatenate([factors(entry=True, discounted=True), factors(entry=True, discounted=False)], axis=1)
    metric_state = np.concatenate([state, state], axis=-1) * f_state[None, :, None, :]
    metric_entry = np.concatenate([entry, entry], axis=-1) * f_entry[None, :, None, :]
    return np.ascontiguousarray(metric_state), np.ascontiguousarray(metric_entry)


def state_reward_time(factors, reward_time: np.ndarray, n_time: int) -> np.ndarray:
    """Time slice each trace point's state rewards use: ``reward_time``, except with ``beginning``
    counting, where point ``t`` counts cycle ``t + 1`` (:func:`~costspine.engines.outcomes.point_index`)."""
    if n_time == 1:
        return reward_time
    return point_index(len(reward_time) - 1, n_time, correction=factors.cycle_correction).astype(reward_time.dtype)


def run_microsim(
    scenario,
    params: dict | None = None,
    *,
    n_individuals: int | None = None,
    seed=None,
    first_draw: int = 0,
    chunk_size: int | None = None,
    backend: str = "auto",
    common_random_numbers: bool = True,
    progress=None,
    notice=None,
    group: int | None = None,
    by_level: bool = False,
) -> MicrosimResult:
    """Simulate individuals through a scenario under every strategy.

    Parameters
    ----------
    scenario : Scenario
        From :func:`costspine.scenario.load_scenario`; its ``[population]`` and
        ``[microsimulation]`` sections (if any) give attributes and history.
    params : dict of str to ndarray, shape (draw,), optional
        Parameter draws (PSA); the base case if omitted. Each draw simulates its own individuals.
    n_individuals : int, optional
        Individuals per strategy and draw; default ``[microsimulation] individuals``.
    seed : int or numpy.random.SeedSequence
        The run's seed; the individuals of draw ``d`` come from the stream
        ``(MICROSIMULATION, first_draw + d)`` of :mod:`costspine._rng`.
    first_draw : int
        Index of ``params``' first draw in the whole run (a PSA chunk's first draw), so a PSA's
        draw has the same individuals whatever its chunk. 0 for the base case.
    chunk_size : int, optional
        Individuals per chunk (rounded down to a multiple of 1024); default from available memory.
        Results do not depend on it.
    backend : {"auto", "numba", "numpy"}
        Results do not depend on it.
    common_random_numbers : bool
        Same uniforms for an individual under every strategy (default). ``False`` gives each
        strategy independent streams (only useful to show what common random numbers buy).
    progress : callable(done, total), optional
        Called with 0 first, then after each chunk with individuals done so far (over all draws).
    notice : callable(str), optional
        Told :data:`~costspine.engines.microsim.COMPILE_NOTICE` before the numba kernel is compiled
        (first run on a machine), so nobody waits ~20 s without a word.
    group : int, optional
        Simulate only individuals of this population group (flat index, as in
        :meth:`~costspine.model.groups.GroupGrid.label`) instead of sampling groups from their
        shares: what :func:`run_microsim_groups` uses for results by group.
    by_level : bool
        Also keep results by level of each categorical or binary population attribute (the
        ``levels`` of the result; :func:`summarize_levels`), accumulated chunk by chunk — nothing per
        individual is kept. Needs common random numbers (else ignored: an individual's level would
        differ between strategies). The population means do not change beyond float rounding.

    Returns
    -------
    MicrosimResult

    Raises
    ------
    UsageError
        No number of individuals, or no seed.
    ScenarioError, AnalysisError
        Invalid probabilities or population shares (base case / PSA draw), each cell named.

    Examples
    --------
    >>> from costspine.scenario.load import load_scenario
    >>> s = load_scenario("scenarios/examples/sick_sicker.toml")
    >>> r = run_microsim(s, n_individuals=100_000, seed=1)
    >>> r.total_cost.shape  # (draw, strategy)
    (1, 2)
    >>> bool((r.total_cost_se < 0.01 * r.total_cost).all())  # MCSE under 1% of each mean
    True
    """
    population = scenario.population or EMPTY_POPULATION
    n = n_individuals if n_individuals is not None else population.individuals
    if n is None:
        raise UsageError(
            f"{scenario.path}: give the number of individuals (--individuals N, or individuals = N in [microsimulation])"
        )
    if int(n) < 2:
        raise UsageError(f"the microsimulation needs at least 2 individuals (for standard errors); got {n}")
    if seed is None:
        raise UsageError("the microsimulation needs a seed (--seed S); results are reproducible for a given seed")
    n = int(n)
    base_case = params is None
    if population.anchors:  # multipliers solved per draw on the cohort-by-group model (exact expectation)
        from costspine.simulate.cohort import anchor_parameters

        params = anchor_parameters(scenario, base_case_parameters(scenario) if base_case else params, base_case=base_case)
    values = evaluate_parameters(scenario, params)
    n_draws = max((np.size(v) for v in values.values()), default=1)
    groups = build_groups(population, values, tables=scenario.tables, where=str(scenario.path), base_case=base_case)
    if group is not None:
        if not 0 <= int(group) < groups.n_groups:
            raise UsageError(f"group {group}: the population has groups 0..{groups.n_groups - 1}")
        only = np.zeros((groups.weights.shape[0], groups.n_groups))
        only[:, int(group)] = 1.0
        groups = dataclasses.replace(groups, weights=only.reshape(groups.weights.shape))
    seq = derive_seed_sequence(seed)
    strategies = scenario.strategies
    level_attrs = list_subgroup_attributes(scenario) if by_level and common_random_numbers else ()
    split_by = tuple(population.attributes.index(a) for a in level_attrs)

    per_draw = []
    done = 0
    if progress is not None:
        progress(0, n * n_draws)  # a bar starts its clock now, not after the first chunk
    for d in range(n_draws):
        tables = build_draw_tables(scenario, population, groups, values, draw=d, base_case=base_case, split_by=split_by)
        kernel = build_kernel_inputs(scenario, tables, by_level=bool(split_by))
        if d == 0:
            backend = resolve_backend(backend, n, kernel, len(strategies), n_draws=n_draws)
            if backend == "numba" and notice is not None and not kernel_is_ready():
                notice(COMPILE_NOTICE)
        keys = draw_keys(seq, first_draw + d, strategies, common_random_numbers=common_random_numbers)
        size = (
            choose_chunk_size(n, kernel, len(strategies), backend=backend)
            if chunk_size is None
            else max(BLOCK, int(chunk_size) // BLOCK * BLOCK)
        )
        occupancy = entries = None
        sums, crosses, group_sums, group_crosses = [], [], [], []
        for start in range(0, n, size):
            out = simulate_chunk(kernel, keys=keys, start=start, count=min(size, n - start), backend=backend)
            occupancy = out.occupancy if occupancy is None else occupancy + out.occupancy
            entries = out.entries if entries is None else entries + out.entries
            sums.append(out.block_sum)
            crosses.append(out.block_cross)
            if split_by:
                group_sums.append(out.group_sum)
                group_crosses.append(out.group_cross)
            done += min(size, n - start)
            if progress is not None:
                progress(done, n * n_draws)
        block_sum = np.cumsum(np.concatenate(sums), axis=0)[-1]  # blocks summed in order
        block_cross = np.cumsum(np.concatenate(crosses), axis=0)[-1]
        summary = _summarize_draw(scenario, tables, occupancy, entries, block_sum, block_cross, n)
        if split_by:
            group_sum = np.cumsum(np.concatenate(group_sums), axis=0)[-1]  # per group, blocks summed in order
            group_cross = np.cumsum(np.concatenate(group_crosses), axis=0)[-1]
            summary["levels"] = summarize_levels(
                scenario, tables, occupancy, entries, group_sum, group_cross, groups=groups, attributes=split_by
            )
        per_draw.append(summary)
    return _assemble(
        scenario, per_draw, params if params is not None else base_case_parameters(scenario), n, seed, common_random_numbers
    )


@dataclass(frozen=True)
class GroupedMicrosimResult(GroupedCohortResult):
    """Results by population group of a microsimulation (:func:`run_microsim_groups`).

    The fields of :class:`~costspine.simulate.cohort.GroupedCohortResult` (``weights`` are the
    simulated shares ``individuals / n``), plus:

    Attributes
    ----------
    individuals : ndarray of int, shape (draw, group)
        Individuals simulated in each group (a multinomial sample of ``n`` from the group shares).
    total_cost_se : ndarray, shape (draw, group, strategy)
        Monte Carlo standard error of each group's mean discounted total cost.
    outcomes_se : ndarray, shape (draw, group, strategy, outcome)
    n_individuals : int
    """

    individuals: np.ndarray | None = None
    total_cost_se: np.ndarray | None = None
    outcomes_se: np.ndarray | None = None
    n_individuals: int = 0


def run_microsim_groups(
    scenario, params: dict | None = None, *, n_individuals: int | None = None, seed=None, first_draw: int = 0, on_draw=None
) -> GroupedMicrosimResult:
    """Microsimulation of a scenario with a population, with every group's results kept apart.

    In each draw, the ``n`` individuals' groups are sampled from the group shares (a multinomial
    draw of the group sizes, from the stream ``(MICROSIMULATION, "group sizes", draw)``); each
    group's individuals are then simulated under every strategy (:func:`run_microsim` with
    ``group=g``, stream ``(MICROSIMULATION, "group", g)``). The ``individuals``-weighted mean over
    groups is the mean over all ``n`` individuals: a population sampled from its prevalences, as
    in :func:`run_microsim`, with each phenotype's means and MCSEs reported too.

    Parameters
    ----------
    scenario : Scenario
        With at least one population attribute.
    params : dict of str to ndarray, shape (draw,), optional
        Parameter draws; the base case if omitted.
    n_individuals : int, optional
        Individuals per strategy and draw (all groups together); default ``[microsimulation] individuals``.
    seed : int
    first_draw : int
        Index of ``params``' first draw in the whole run.
    on_draw : callable(), optional
        Called after each draw.

    Returns
    -------
    GroupedMicrosimResult

    Raises
    ------
    UsageError
        No attributes, no number of individuals or seed, or a group with fewer than 2 individuals
        in some draw (its mean and MCSE are not defined: more individuals are needed).
    """
    population = scenario.population or EMPTY_POPULATION
    if not population.attributes:
        raise UsageError(
            f"{scenario.path}: population.attributes: results by group need at least one attribute; the scenario declares none"
        )
    n = n_individuals if n_individuals is not None else population.individuals
    if n is None:
        raise UsageError(
            f"{scenario.path}: give the number of individuals (--individuals N, or individuals = N in [microsimulation])"
        )
    if seed is None:
        raise UsageError("the microsimulation needs a seed (--seed S); results are reproducible for a given seed")
    n = int(n)
    base_case = params is None
    params = base_case_parameters(scenario) if params is None else params
    values = evaluate_parameters(scenario, None if base_case else params)
    groups = build_groups(population, values, tables=scenario.tables, where=str(scenario.path), base_case=base_case)
    weights = groups.flat_weights()
    n_draws = max((np.size(v) for v in params.values()), default=1)
    weights = np.broadcast_to(weights, (n_draws, groups.n_groups))
    seq = derive_seed_sequence(seed)
    counts = np.zeros((n_draws, groups.n_groups), dtype=np.int64)
    keys = ("costs", "costs_undiscounted", "outcomes", "outcomes_undiscounted", "total_cost_se", "outcomes_se")
    parts: dict[str, list] = {k: [] for k in keys}
    for d in range(n_draws):
        rng = np.random.default_rng(seed_sequence(seq, "group sizes", first_draw + d))
        w = np.clip(weights[d], 0.0, None)
        counts[d] = rng.multinomial(n, w / w.sum())
        small = [groups.label(g) for g in range(groups.n_groups) if counts[d, g] < 2]
        if small:
            raise UsageError(
                f"{scenario.path}: {n} individuals leave fewer than 2 in group {small[0]}"
                + (f" (and {len(small) - 1} more)" if len(small) > 1 else "")
                + (f" in draw {first_draw + d}" if not base_case else "")
                + "; results by group need more: raise --individuals"
            )
        draw_params = params if base_case else {k: np.atleast_1d(np.asarray(v))[d : d + 1] for k, v in params.items()}
        per_group = {k: [] for k in keys}
        for g in range(groups.n_groups):
            r = run_microsim(
                scenario,
                None if base_case else draw_params,
                n_individuals=int(counts[d, g]),
                seed=seed_sequence(seq, "group", g),
                first_draw=first_draw + d,
                group=g,
            )
            for k in keys:
                per_group[k].append(getattr(r, k)[0])
        for k in keys:
            parts[k].append(np.stack(per_group[k]))
        if on_draw is not None:
            on_draw()
    return GroupedMicrosimResult(
        scenario=scenario,
        labels=tuple(groups.label(g) for g in range(groups.n_groups)),
        weights=counts / n,
        individuals=counts,
        n_individuals=n,
        **{k: np.stack(v) for k, v in parts.items()},
    )


def _summarize_draw(scenario, tables, occupancy, entries, block_sum, block_cross, n: int) -> dict:
    """Means from the integer counts; MCSEs from the block moment sums. Arrays without the draw axis."""
    out = _means(scenario, tables, occupancy, entries, n)
    out.update(_mcse(scenario, tables, block_sum, block_cross, n, out["trace"]))
    return out


def _means(scenario, tables, occupancy, entries, n: int) -> dict:
    """Trace, totals and indicator means of ``n`` individuals from their integer counts (no draw axis)."""
    settings = scenario.settings
    n_cycles = settings.n_cycles
    n_states = len(scenario.states)
    n_strategies = len(scenario.strategies)
    cols = tables.columns.slices()
    counts = occupancy.astype(float) / n  # (S, T+1, cell)
    flows = entries.astype(float) / n
    trace = counts.reshape(n_strategies, n_cycles + 1, -1, n_states).sum(axis=2)
    time = tables.reward_time
    factors = derive_reward_factors(settings)
    state_time = state_reward_time(factors, time, tables.state_values.shape[1])
    state_points = np.einsum("stc,stcr->str", counts, tables.state_values[:, state_time])[None]  # (1, S, T+1, R)
    entry_points = np.einsum("stc,stcr->str", flows, tables.entry_values[:, time])[None]
    entry_points[:, :, 0] = 0.0
    c, o, i, v = cols["costs"], cols["outcomes"], cols["indicators"], cols["services"]
    indicator_points = state_points[..., i]
    if not np.array_equal(state_time, time):  # indicators are means at each point, whatever the counting
        indicator_points = np.einsum("stc,stcr->str", counts, tables.state_values[:, time][..., i])[None]
    mask = build_indicator_mask(scenario)
    totals = accumulate_rewards(
        trace[None],
        factors=factors,
        state_costs=state_points[..., c],
        entry_costs=entry_points[..., c],
        state_outcomes=state_points[..., o],
        entry_outcomes=entry_points[..., o],
        indicator_points=indicator_points,
        indicator_mask=mask,
        state_services=state_points[..., v],
        entry_services=entry_points[..., v],
    )
    return {"trace": trace, **{k: value[0] for k, value in totals.items()}}


LEVEL_FIELDS = (
    "individuals",
    "cost",
    "outcomes",
    "indicators",
    "cost_se",
    "outcomes_se",
    "incremental_cost_se",
    "incremental_effect_se",
)
"""What :func:`summarize_levels` gives per attribute (keys ``"<attribute>.<field>"``)."""


def summarize_levels(scenario, tables, occupancy, entries, group_sum, group_cross, *, groups, attributes) -> dict:
    """One draw's results by level of each attribute in ``attributes``, from its counts and group sums.

    Parameters
    ----------
    scenario : Scenario
    tables : DrawTables
        Built with ``split_by=attributes`` (each level has reward cells of its own).
    occupancy, entries : ndarray of int64, shape (strategy, cycle + 1, cell)
        The draw's counts, all chunks summed.
    group_sum : ndarray, shape (group, strategy, level metric)
        Sums of :func:`list_level_metrics`' metrics over each group's individuals.
    group_cross : ndarray, shape (group, level pair, strategy, strategy)
    groups : GroupGrid
    attributes : tuple of int
        Indices into the population's attributes.

    Returns
    -------
    dict of str to ndarray
        Per attribute ``a`` with ``L`` levels (no draw axis): ``a.individuals`` (L,) simulated in each
        level (the realised shares times ``n``); ``a.cost`` (L, strategy) mean discounted total cost;
        ``a.outcomes`` (L, strategy, outcome); ``a.indicators`` (L, strategy, report time, indicator)
        at :func:`~costspine.model.groups.find_report_points`; ``a.cost_se``, ``a.outcomes_se``,
        ``a.incremental_cost_se``, ``a.incremental_effect_se``: Monte Carlo standard errors of the
        level's means and of its increments against the comparator (NaN with fewer than 2 individuals).

    Notes
    -----
    Means come from the level's cells of the integer counts exactly as the population's do
    (:func:`_means`), so the levels' means weighted by ``individuals / n`` are the population means
    up to float rounding. MCSEs use the level's moment sums: ``var = (Σx² − n_l x̄²) / (n_l − 1)``,
    ``se = sqrt(var / n_l)``, and ``Σ(x_s − x_c)²`` for an increment.
    """
    _, points = find_report_points(scenario)
    metrics, pairs = list_level_metrics(scenario)
    n_out = len(scenario.outcomes)
    comparator = scenario.strategies.index(scenario.analysis.comparator)
    e = 1 + [o.name for o in scenario.outcomes].index(scenario.analysis.effect)  # the effect's level metric (and pair)
    coords = np.unravel_index(np.arange(groups.n_groups), groups.shape) if groups.shape else ()
    out = {}
    for k in attributes:
        attr = scenario.population.attributes[k]
        fields = {f: [] for f in LEVEL_FIELDS}
        for level in range(len(attr.levels)):
            in_level = tables.reward_levels[k] == level
            occ = np.where(in_level, occupancy, 0)
            n_level = int(occ[0, 0].sum())
            member = coords[k] == level
            sums = group_sum[member].sum(axis=0) / max(n_level, 1)  # (S, M'): means
            second = group_cross[member].sum(axis=0) / max(n_level, 1)  # (Q', S, S)
            with np.errstate(invalid="ignore", divide="ignore"):
                if n_level:
                    means = _means(scenario, tables, occ, np.where(in_level, entries, 0), n_level)
                    cost, outcomes = means["costs"].sum(axis=-1), means["outcomes"]
                    indicators = means["indicators"][:, points]
                else:
                    cost = np.full(len(scenario.strategies), np.nan)
                    outcomes = np.full((len(scenario.strategies), n_out), np.nan)
                    indicators = np.full((len(scenario.strategies), len(points), len(scenario.indicators)), np.nan)
                correction = n_level / (n_level - 1) if n_level > 1 else np.nan
                square = np.stack([np.diagonal(second[q]) for q in range(len(metrics))], axis=-1)  # (S, M'): E[x_s²]
                with_comparator = np.stack([second[q][:, comparator] for q in range(len(metrics))], axis=-1)  # E[x_s x_c]
                se = np.sqrt(np.maximum(square - sums**2, 0.0) * correction / n_level)
                delta = sums - sums[comparator]
                var_inc = np.maximum(square + square[comparator] - 2 * with_comparator - delta**2, 0.0) * correction
                se_inc = np.sqrt(var_inc / n_level)
                inc_cost, inc_effect = se_inc[:, 0], se_inc[:, e]
            fields["individuals"].append(n_level)
            fields["cost"].append(cost)
            fields["outcomes"].append(outcomes)
            fields["indicators"].append(indicators)
            fields["cost_se"].append(se[:, 0])
            fields["outcomes_se"].append(se[:, 1:])
            fields["incremental_cost_se"].append(inc_cost)
            fields["incremental_effect_se"].append(inc_effect)
        for f, values in fields.items():
            out[f"{attr.name}.{f}"] = np.array(values, dtype=np.int64 if f == "individuals" else float)
    return out


def _mcse(scenario, tables, block_sum, block_cross, n: int, trace) -> dict:
    """Standard errors from ``sum x`` (S, M) and ``sum x_{s1,m1} x_{s2,m2}`` (Q, S, S).

    ``var = (Σx² − n x̄²) / (n − 1)``, ``se = sqrt(var / n)``; an increment ``x_s − x_c`` uses
    ``Σ(x_s − x_c)² = Σx_s² + Σx_c² − 2 Σx_s x_c``; ``λΔE − ΔC`` adds ``−2λ cov(ΔC, ΔE)``.
    """
    names = tables.metric_names
    n_cat = len(scenario.categories)
    n_out = len(scenario.outcomes)
    comparator = scenario.strategies.index(scenario.analysis.comparator)
    mean = block_sum / n  # (S, M)
    second = block_cross / n  # (Q, S, S)
    n_metrics = len(names)
    diag = np.stack([np.diagonal(second[m]) for m in range(n_metrics)], axis=-1)  # (S, M): E[x_s^2]
    correction = n / (n - 1)
    var = np.maximum(diag - mean**2, 0.0) * correction
    se = np.sqrt(var / n)
    cross_same = np.stack([second[m][:, comparator] for m in range(n_metrics)], axis=-1)  # E[x_s x_c]
    delta = mean - mean[comparator]
    var_inc = np.maximum(diag + diag[comparator] - 2 * cross_same - delta**2, 0.0) * correction
    se_inc = np.sqrt(var_inc / n)
    total = n_cat  # index of the discounted total cost
    effect = names.index(scenario.analysis.effect)
    ce = second[n_metrics]  # E[C_{s1} E_{s2}]
    cov_inc = (
        ce.diagonal() - ce[:, comparator] - ce[comparator, :] + ce[comparator, comparator] - delta[:, total] * delta[:, effect]
    ) * correction
    wtp = np.asarray(scenario.analysis.wtp, dtype=float)
    var_nmb = wtp**2 * var_inc[:, effect, None] + var_inc[:, total, None] - 2 * wtp * cov_inc[:, None]
    se_nmb = np.sqrt(np.maximum(var_nmb, 0.0) / n)
    se_nmb[comparator] = 0.0
    und = n_cat + 1 + n_out
    p = trace
    return {
        "costs_se": se[:, :n_cat],
        "total_cost_se": se[:, n_cat],
        "outcomes_se": se[:, n_cat + 1 : und],
        "costs_undiscounted_se": se[:, und : und + n_cat],
        "total_cost_undiscounted_se": se[:, und + n_cat],
        "outcomes_undiscounted_se": se[:, und + n_cat + 1 :],
        "incremental_cost_se": se_inc[:, total],
        "incremental_outcomes_se": se_inc[:, n_cat + 1 : und],
        "incremental_nmb_se": se_nmb,
        "trace_se": np.sqrt(np.maximum(p * (1 - p), 0.0) / (n - 1)),
    }


def _assemble(scenario, per_draw: list, params: dict, n: int, seed, crn: bool) -> MicrosimResult:
    stacked = {k: np.stack([d[k] for d in per_draw]) for k in per_draw[0] if k != "levels"}
    if "levels" in per_draw[0]:
        stacked["levels"] = {k: np.stack([d["levels"][k] for d in per_draw]) for k in per_draw[0]["levels"]}
    return MicrosimResult(
        scenario=scenario,
        parameters={k: np.asarray(v, dtype=float) for k, v in params.items()},
        method="microsim",
        n_individuals=n,
        seed=int(seed) if isinstance(seed, (int, np.integer)) else None,
        common_random_numbers=crn,
        **stacked,
    )


def check_model(scenario) -> CohortResult | None:
    """Build the base case the way ``costspine run`` would (``costspine validate``): the cohort
    inputs, and for a scenario with a population the cohort by group and the microsimulation's
    grid tables, so every invalid probability is reported with its group and history.

    Returns the base-case cohort result when it was run (a scenario with a population), else None."""
    if scenario.population is None:
        build_model_inputs(scenario)
        return None

    values = evaluate_parameters(scenario)
    groups = build_groups(scenario.population, values, tables=scenario.tables, where=str(scenario.path), base_case=True)
    build_draw_tables(scenario, scenario.population, groups, values, draw=0, base_case=True)
    return run_cohort_by_group(scenario)


def format_mcse(result: MicrosimResult) -> str:
    """Plain-text table of means ± MCSE and increments ± MCSE (first draw or the base case)."""
    from costspine._text import format_table

    scenario = result.scenario
    e = result.outcome_names.index(scenario.analysis.effect)
    effect = " ".join(
        str(
            next((o.label for o in scenario.outcomes if o.name == scenario.analysis.effect), None) or scenario.analysis.effect
        ).split()
    )
    currency = scenario.settings.currency
    comparator = result.strategies.index(scenario.analysis.comparator)
    rows = []
    for k, strategy in enumerate(result.strategies):
        rows.append(
            [
                scenario.strategy_labels.get(strategy, strategy),
                float(result.total_cost[0, k]),
                float(result.total_cost_se[0, k]),
                float(result.outcomes[0, k, e]),
                float(result.outcomes_se[0, k, e]),
                None if k == comparator else float(result.incremental_cost_se[0, k]),
                None if k == comparator else float(result.incremental_outcomes_se[0, k, e]),
            ]
        )
    crn = "common random numbers" if result.common_random_numbers else "independent streams per strategy"
    title = f"Monte Carlo standard errors ({result.n_individuals:,} individuals per strategy, {crn}, seed {result.seed})"
    headers = [
        "strategy",
        f"cost ({currency})",
        "± MCSE",
        effect,
        "± MCSE",
        f"MCSE of Δ cost ({currency})",
        f"MCSE of Δ {effect}",
    ]
    return format_table(headers, rows, title=title)
