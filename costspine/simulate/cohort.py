"""Cohort runs: the Markov engine on a scenario's arrays, rewards accumulated, labelled results;
for a scenario with a population, one cohort per group mixed by weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine._text import format_table
from costspine.engines.markov import compute_entries, simulate_trace
from costspine.engines.outcomes import (
    RewardFactors,
    accumulate_rewards,
    build_reward_factors,
    compute_entry_rewards,
    compute_indicator_occupancy,
    compute_state_rewards,
    divide_by_occupancy,
    point_index,
    total_cell_rewards,
)
from costspine.errors import UsageError
from costspine.model.groups import build_groups
from costspine.model.inputs import (
    ModelInputs,
    base_case_parameters,
    build_model_inputs,
    evaluate_parameters,
)
from costspine.scenario.population import EMPTY_POPULATION
from costspine.scenario.types import Scenario


@dataclass(frozen=True)
class CohortResult:
    """Results of a cohort run: labelled arrays; computes nothing in ``__init__``.

    Attributes
    ----------
    scenario : Scenario
    parameters : dict of str to ndarray, shape (draw,)
        The parameter values used (length 1 for the base case).
    trace : ndarray, shape (draw, strategy, cycle + 1, state)
    costs : ndarray, shape (draw, strategy, category)
        Discounted, cycle-corrected costs by category.
    costs_undiscounted : ndarray, shape (draw, strategy, category)
    outcomes, outcomes_undiscounted : ndarray, shape (draw, strategy, outcome)
    cost_per_cycle : ndarray, shape (draw, strategy, cycle, category)
        Undiscounted cost in each cycle ``1..T`` (input to budget impact).
    indicators : ndarray, shape (draw, strategy, cycle + 1, indicator)
        Occupancy-weighted mean of each indicator at each trace point.
    services_per_cycle : ndarray, shape (draw, strategy, cycle, service)
        Undiscounted expected count of each ``[services]`` entry in each cycle ``1..T``, split
        by cycle like ``cost_per_cycle`` (input to budget impact).
    """

    scenario: Scenario
    parameters: dict
    trace: np.ndarray
    costs: np.ndarray
    costs_undiscounted: np.ndarray
    outcomes: np.ndarray
    outcomes_undiscounted: np.ndarray
    cost_per_cycle: np.ndarray
    indicators: np.ndarray
    method: str = "cohort"
    services_per_cycle: np.ndarray | None = None

    @property
    def strategies(self) -> tuple:
        return self.scenario.strategies

    @property
    def categories(self) -> tuple:
        return self.scenario.categories

    @property
    def outcome_names(self) -> tuple:
        return tuple(o.name for o in self.scenario.outcomes)

    @property
    def indicator_names(self) -> tuple:
        return tuple(i.name for i in self.scenario.indicators)

    @property
    def service_names(self) -> tuple:
        return tuple(s.name for s in self.scenario.services)

    @property
    def total_cost(self) -> np.ndarray:
        """Discounted total cost, shape (draw, strategy)."""
        return self.costs.sum(axis=-1)

    def outcome(self, name: str, *, discounted: bool = True) -> np.ndarray:
        """One outcome, shape (draw, strategy)."""
        source = self.outcomes if discounted else self.outcomes_undiscounted
        return source[:, :, self.outcome_names.index(name)]

    @property
    def effect(self) -> np.ndarray:
        """The scenario's effect outcome (``[analysis] effect``), discounted, shape (draw, strategy)."""
        return self.outcome(self.scenario.analysis.effect)

    def indicator_at_years(self, name: str, years: float) -> np.ndarray:
        """Indicator at the trace point nearest to ``years`` after the start, shape (draw, strategy)."""
        point = int(round(years / self.scenario.settings.cycle_years))
        point = min(max(point, 0), self.trace.shape[2] - 1)
        return self.indicators[:, :, point, self.indicator_names.index(name)]

    def __repr__(self) -> str:
        from costspine._text import format_repr

        return format_repr(
            type(self).__name__,
            scenario=self.scenario.name,
            method=self.method,
            strategies=self.strategies,
            draws=int(self.costs.shape[0]),
            cycles=int(self.trace.shape[2] - 1),
        )

    def _repr_html_(self) -> str:
        """Mean total cost and outcomes per strategy, as an HTML table (for notebooks)."""
        from costspine._text import format_html_table

        currency = self.scenario.settings.currency
        cost, outcomes = self.total_cost.mean(axis=0), self.outcomes.mean(axis=0)
        rows = [[self.scenario.strategy_labels.get(s, s), cost[k], *outcomes[k]] for k, s in enumerate(self.strategies)]
        return format_html_table(
            ["strategy", f"total cost ({currency})", *self.outcome_names],
            rows,
            caption=f"{type(self).__name__}: {self.scenario.title} ({self.method})",
        )

    def summary(self) -> str:
        """Expected cost by category, total cost and outcomes per strategy (means over draws).

        Incremental results and ICERs are analyses: :func:`costspine.analysis.cea.compute_result_cea`.
        """
        currency = self.scenario.settings.currency
        outcomes = {o.name: " ".join(str(o.label or o.name).split()) for o in self.scenario.outcomes}
        headers = ["strategy"] + [f"{c.replace('_', ' ').capitalize()} ({currency})" for c in self.categories]
        headers += [f"Total ({currency})"] + [outcomes.get(o, o) for o in self.outcome_names]
        mean_costs = self.costs.mean(axis=0)
        mean_outcomes = self.outcomes.mean(axis=0)
        rows = [
            [self.scenario.strategy_labels.get(s, s), *mean_costs[k], mean_costs[k].sum(), *mean_outcomes[k]]
            for k, s in enumerate(self.strategies)
        ]
        return format_table(
            headers, rows, title=f"Expected costs and outcomes per patient, {self.method} ({self.scenario.title})"
        )

    def to_dict(self) -> dict:
        """Means over draws by strategy: discounted and undiscounted costs by category and outcomes."""

        def by_strategy(values, names):
            means = values.mean(axis=0)
            return {s: {n: float(means[k, i]) for i, n in enumerate(names)} for k, s in enumerate(self.strategies)}

        return {
            "scenario": self.scenario.name,
            "method": self.method,
            "draws": int(self.total_cost.shape[0]),
            "currency": self.scenario.settings.currency,
            "price_year": self.scenario.settings.price_year,
            "costs": by_strategy(self.costs, self.categories),
            "costs_undiscounted": by_strategy(self.costs_undiscounted, self.categories),
            "outcomes": by_strategy(self.outcomes, self.outcome_names),
            "outcomes_undiscounted": by_strategy(self.outcomes_undiscounted, self.outcome_names),
        }

    def to_frame(self):
        """Long table keyed by ``draw, strategy`` with one column per cost category and outcome."""
        import pandas as pd

        d, s = self.total_cost.shape
        frame = {
            "draw": np.repeat(np.arange(d), s),
            "strategy": np.tile(np.array(self.strategies, dtype=object), d),
        }
        for k, cat in enumerate(self.categories):
            frame[f"cost_{cat}"] = self.costs[:, :, k].ravel()
        frame["cost_total"] = self.total_cost.ravel()
        for o, name in enumerate(self.outcome_names):
            frame[name] = self.outcomes[:, :, o].ravel()
        return pd.DataFrame(frame)


def run_cohort(scenario: Scenario, params: dict[str, np.ndarray] | None = None) -> CohortResult:
    """Run the cohort model for the base case, or for every draw of ``params`` at once.

    Parameters
    ----------
    scenario : Scenario
        From :func:`costspine.scenario.load_scenario`.
    params : dict of str to ndarray, shape (draw,), optional
        Parameter draws (e.g. from :func:`costspine.params.draw_parameters`); base case if omitted.

    Returns
    -------
    CohortResult

    Examples
    --------
    >>> from costspine import load_scenario, run_cohort
    >>> result = run_cohort(load_scenario("scenarios/examples/hiv_chancellor.toml"))
    >>> result.total_cost.round(2)
    array([[44663.45, 50601.65]])

    A scenario with a ``[population]`` or ``[microsimulation]`` section runs one cohort per
    attribute group (history counters at their ``cohort`` values), mixed by group weight:
    :func:`costspine.simulate.cohort.run_cohort_by_group`.
    """
    if getattr(scenario, "population", None) is not None:
        from costspine.simulate.cohort import run_cohort_by_group

        return run_cohort_by_group(scenario, params)
    inputs = build_model_inputs(scenario, params)
    return simulate_inputs(scenario, inputs, params if params is not None else base_case_parameters(scenario))


def simulate_inputs(scenario: Scenario, inputs: ModelInputs, params: dict) -> CohortResult:
    """Run the cohort engine on already-built inputs and accumulate rewards."""
    settings = scenario.settings
    trace = simulate_trace(inputs.initial, inputs.transition, settings.n_cycles)
    has_services = inputs.state_services is not None and inputs.state_services.shape[-1]
    has_entry_outcomes = inputs.entry_outcomes is not None and inputs.entry_outcomes.any()
    entries = compute_entries(trace, inputs.transition)
    factors = derive_reward_factors(settings)
    correction = factors.cycle_correction  # which cycle's value each point counts
    totals = accumulate_rewards(
        trace,
        factors=factors,
        state_costs=compute_state_rewards(trace, inputs.state_costs, correction=correction),
        entry_costs=compute_entry_rewards(entries, inputs.entry_costs),
        state_outcomes=compute_state_rewards(trace, inputs.state_outcomes, correction=correction),
        entry_outcomes=compute_entry_rewards(entries, inputs.entry_outcomes) if has_entry_outcomes else None,
        indicator_points=compute_state_rewards(trace, inputs.indicator_values) if inputs.indicator_mask.size else None,
        indicator_mask=inputs.indicator_mask,
        state_services=compute_state_rewards(trace, inputs.state_services, correction=correction) if has_services else None,
        entry_services=compute_entry_rewards(entries, inputs.entry_services) if has_services else None,
    )
    return CohortResult(
        scenario=scenario,
        parameters={k: np.asarray(v, dtype=float) for k, v in params.items()},
        trace=trace,
        **totals,
    )


def derive_reward_factors(settings) -> RewardFactors:
    """Cycle-correction weights and discount factors of a scenario's ``[settings]``, for both engines."""
    return build_reward_factors(
        settings.n_cycles,
        cycle_correction=settings.cycle_correction,
        cycle_years=settings.cycle_years,
        discount_costs=settings.discount_costs,
        discount_outcomes=settings.discount_outcomes,
        discount_timing=getattr(settings, "discount_timing", "point"),
        weights=getattr(settings, "weights", None),
    )


def run_cohort_by_group(scenario, params: dict | None = None, *, max_rows: int = 20_000) -> CohortResult:
    """Cohort model of a scenario with a population: one cohort per group, mixed by group weight.

    Each group's cohort sees its attribute values (band means for continuous attributes) and each
    history counter at its ``cohort`` value. Exact for the population when the model is Markov
    given the attributes (no history in the expressions); the microsimulation converges to it.

    Parameters
    ----------
    scenario : Scenario
    params : dict of str to ndarray, shape (draw,), optional
        Base case if omitted.
    max_rows : int
        Draw × group rows evaluated at once (bounds memory).

    Returns
    -------
    CohortResult
        Population means; ``indicators`` are occupancy-weighted over all groups.
    """
    population = scenario.population or EMPTY_POPULATION
    base_case = params is None
    params = base_case_parameters(scenario) if params is None else params
    if not population.attributes and not population.history:  # nothing to expand: the plain cohort model
        return simulate_inputs(scenario, build_model_inputs(scenario, params, base_case=base_case), params)
    params = anchor_parameters(scenario, params, base_case=base_case, max_rows=max_rows)
    return _run_mixed(scenario, params, base_case=base_case, max_rows=max_rows)


def _run_mixed(scenario, params: dict, *, base_case: bool, max_rows: int) -> CohortResult:
    """:func:`run_cohort_by_group` with ``params`` as given (anchors not solved)."""
    parts = [
        _mix(result, inputs, weights, n_groups)
        for result, inputs, weights, n_groups in _iter_group_batches(scenario, params, base_case=base_case, max_rows=max_rows)[1]
    ]
    mixed = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return CohortResult(
        scenario=scenario,
        parameters={k: np.asarray(v, dtype=float) for k, v in params.items()},
        method="cohort (by group)",
        **mixed,
    )


ANCHOR_TOLERANCE = 1e-7  # indicator units (ODI points): what "reproduces" means for an anchor
ANCHOR_ITERATIONS = 25
ANCHOR_STEP = 1e-4  # relative step of the finite-difference Jacobian


def anchor_parameters(scenario, params: dict, *, base_case: bool = False, max_rows: int = 20_000) -> dict:
    """Solve a population's anchors in every draw: ``params`` with each anchored parameter replaced.

    A scenario whose groups differ (a hazard ratio between risk groups, a baseline shift) declares in
    ``[population] homogeneous`` the parameter values that make the groups alike, and in
    ``[population.anchors.PARAMETER]`` multipliers that are solved so that the heterogeneous
    population's indicator (``indicator`` of ``strategy`` at ``years``) equals the homogeneous
    population's in the same draw. So the mixed population reproduces the calibrated model's targets
    in every PSA draw, by construction, not only at the base case.

    Parameters
    ----------
    scenario : Scenario
    params : dict of str to ndarray, shape (draw,)
    base_case : bool
        Whether a failure is the scenario's (base case) or a PSA draw's.
    max_rows : int

    Returns
    -------
    dict of str to ndarray
        ``params`` itself when the scenario has no anchors.

    Raises
    ------
    ScenarioError, AnalysisError
        An anchor naming an unknown indicator, or no solution within tolerance after
        :data:`ANCHOR_ITERATIONS` steps (the draw and the anchor named).

    Notes
    -----
    With ``f(k) = y_mixed(k) - y_homogeneous`` for the ``A`` anchors of a draw, the Jacobian
    ``J`` is taken by forward differences at ``k = 1`` (``A + 1`` runs, all draws at once); then
    quasi-Newton steps ``k <- k - J^{-1} f(k)`` (each bounded to a factor of 2, ``J`` updated by
    Broyden's rule) run on the draws not yet within :data:`ANCHOR_TOLERANCE` only, until every
    ``|f|`` is within it. The reference is the same draw with the ``homogeneous``
    values and every anchor at 1.
    """
    from costspine.errors import AnalysisError, Problem, ScenarioError

    population = scenario.population or EMPTY_POPULATION
    anchors = population.anchors
    if not anchors:
        return params
    where = str(scenario.path)
    names = tuple(i.name for i in scenario.indicators)
    bad = [a for a in anchors if a.indicator not in names]
    if bad:
        raise ScenarioError(
            [
                Problem(
                    f"{where}: population.anchors.{a.parameter}.indicator",
                    f"expected one of the scenario's indicators ({', '.join(names) or 'none'}); got {a.indicator!r}",
                )
                for a in bad
            ]
        )
    n = max((np.size(v) for v in params.values()), default=1)
    params = {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for k, v in params.items()}
    cycle_years = scenario.settings.cycle_years
    cells = [
        (
            scenario.strategies.index(a.strategy),
            min(int(round(a.years / cycle_years)), scenario.settings.n_cycles),
            names.index(a.indicator),
        )
        for a in anchors
    ]

    def measure(values, rows=slice(None)):
        values = {name: v[rows] for name, v in values.items()}
        result = _run_mixed(scenario, values, base_case=base_case, max_rows=max_rows)
        return np.stack([result.indicators[:, k, t, i] for k, t, i in cells], axis=1)  # (draw, anchor)

    def with_k(k):
        values = dict(params)
        for j, a in enumerate(anchors):
            values[a.parameter] = k[:, j]
        return values

    reference = dict(params)
    reference.update({name: np.full(n, value) for name, value in population.homogeneous})
    for a in anchors:
        reference[a.parameter] = np.ones(n)
    target = measure(reference)
    k = np.ones((n, len(anchors)))
    f = measure(with_k(k)) - target
    jacobian = np.empty((n, len(anchors), len(anchors)))
    for j in range(len(anchors)):
        step = k.copy()
        step[:, j] += ANCHOR_STEP
        jacobian[:, :, j] = (measure(with_k(step)) - target - f) / ANCHOR_STEP
    for _ in range(ANCHOR_ITERATIONS):
        active = np.flatnonzero(~np.all(np.abs(f) < ANCHOR_TOLERANCE, axis=1))  # draws still off
        if not active.size:
            break
        with np.errstate(all="ignore"):
            step = np.nan_to_num(np.linalg.solve(jacobian[active], f[active, :, None])[:, :, 0])
        old_k, old_f = k[active], f[active]
        k[active] = np.clip(old_k - step, old_k / 2, old_k * 2)  # damped: at most a factor 2 per step
        f[active] = measure(with_k(k), active) - target[active]
        # Broyden's update of each active draw's Jacobian: J += (df - J dk) dk' / (dk' dk)
        dk, df = k[active] - old_k, f[active] - old_f
        norm = np.einsum("da,da->d", dk, dk)
        ok = norm > 0
        change = (df - np.einsum("dab,db->da", jacobian[active], dk))[:, :, None] * dk[:, None, :]
        jacobian[active[ok]] += change[ok] / norm[ok, None, None]
    worst = np.nan_to_num(np.abs(f), nan=np.inf)
    if not np.all(worst < ANCHOR_TOLERANCE * 100):
        d, j = np.unravel_index(int(np.argmax(worst)), worst.shape)
        a = anchors[j]
        message = (
            f"the anchor {a.parameter} found no value that makes {a.strategy}'s {a.indicator} at {a.years:g} years match "
            f"the homogeneous population (off by {float(f[d, j]):.3g} after {ANCHOR_ITERATIONS} steps, at {float(k[d, j]):.4g})"
        )
        if base_case:
            raise ScenarioError([Problem(f"{where}: population.anchors.{a.parameter}", message)])
        raise AnalysisError(f"draw {d}: {message}")
    return with_k(k)


def _iter_group_batches(scenario, params: dict, *, base_case: bool, max_rows: int):
    """The population's groups and a lazy sequence of cohort runs over (draw batch × group).

    Returns ``(groups, batches)``; each batch is ``(result, inputs, weights, n_groups)`` with the
    result's draw axis laid out as (draw × group) and ``weights`` of shape (draws in batch, group).
    """
    population = scenario.population or EMPTY_POPULATION
    values = evaluate_parameters(scenario, params)
    n_draws = max((np.size(v) for v in values.values()), default=1)
    groups = build_groups(population, values, tables=scenario.tables, where=str(scenario.path), base_case=base_case)
    weights = groups.flat_weights()  # (D, G)
    attr = groups.flat_values()  # name -> (D, G)
    n_groups = groups.n_groups
    history = {h.name: np.array([h.cohort], dtype=float) for h in population.history}
    batch = max(1, max_rows // max(n_groups, 1))

    def batches():
        for d0 in range(0, n_draws, batch):
            d1 = min(n_draws, d0 + batch)
            expanded = {
                k: np.repeat(np.broadcast_to(np.asarray(v, dtype=float), (n_draws,))[d0:d1], n_groups) for k, v in params.items()
            }
            for name, v in attr.items():
                expanded[name] = np.broadcast_to(v, (n_draws, n_groups))[d0:d1].reshape(-1)
            expanded.update(history)
            inputs = build_model_inputs(scenario, expanded, base_case=base_case)
            result = simulate_inputs(scenario, inputs, expanded)
            yield (
                result,
                inputs,
                weights[d0:d1] if weights.shape[0] > 1 else np.broadcast_to(weights, (d1 - d0, n_groups)),
                n_groups,
            )

    return groups, batches()


@dataclass(frozen=True)
class GroupedCohortResult:
    """Unmixed results of a cohort-by-group run: one cohort per population group.

    Attributes
    ----------
    scenario : Scenario
    labels : tuple of str
        One label per group, ``"widespread=1, age=35-50"`` (C order of the attribute axes).
    weights : ndarray, shape (draw, group)
        Population share of each group (sums to 1 over groups in every draw).
    costs, costs_undiscounted : ndarray, shape (draw, group, strategy, category)
    outcomes, outcomes_undiscounted : ndarray, shape (draw, group, strategy, outcome)
    indicators : ndarray, shape (draw, group, strategy, cycle + 1, indicator), optional
        Each group's occupancy-weighted indicator means (NaN where nobody is in its states).
    indicator_occupancy : ndarray, shape (draw, group, strategy, cycle + 1, indicator), optional
        Each group's share in the states each indicator averages over.

    Notes
    -----
    The population mean of any of the cost and outcome arrays is ``sum_g weights[d, g] * x[d, g, ...]``,
    which is what :func:`run_cohort_by_group` reports (:meth:`mixed_total_cost`, :meth:`mixed_outcome`);
    an indicator's population mean weights each group by ``weights * indicator_occupancy``.
    """

    scenario: Scenario
    labels: tuple
    weights: np.ndarray
    costs: np.ndarray
    costs_undiscounted: np.ndarray
    outcomes: np.ndarray
    outcomes_undiscounted: np.ndarray
    indicators: np.ndarray | None = None
    indicator_occupancy: np.ndarray | None = None

    @property
    def strategies(self) -> tuple:
        return self.scenario.strategies

    @property
    def outcome_names(self) -> tuple:
        return tuple(o.name for o in self.scenario.outcomes)

    @property
    def indicator_names(self) -> tuple:
        return tuple(i.name for i in self.scenario.indicators)

    @property
    def total_cost(self) -> np.ndarray:
        """Discounted total cost per group, shape (draw, group, strategy)."""
        return self.costs.sum(axis=-1)

    def outcome(self, name: str, *, discounted: bool = True) -> np.ndarray:
        """One outcome per group, shape (draw, group, strategy)."""
        source = self.outcomes if discounted else self.outcomes_undiscounted
        return source[..., self.outcome_names.index(name)]

    @property
    def effect(self) -> np.ndarray:
        """The scenario's effect outcome per group, discounted, shape (draw, group, strategy)."""
        return self.outcome(self.scenario.analysis.effect)

    def mixed_total_cost(self) -> np.ndarray:
        """Population-mean total cost, shape (draw, strategy)."""
        return np.einsum("dg,dgs->ds", self.weights, self.total_cost)

    def mixed_outcome(self, name: str) -> np.ndarray:
        """Population-mean outcome ``name`` (discounted), shape (draw, strategy)."""
        return np.einsum("dg,dgs->ds", self.weights, self.outcome(name))

    def summary(self) -> str:
        """Mean over draws of each group's share, total cost and effect per strategy."""
        currency = self.scenario.settings.currency
        effect = self.scenario.analysis.effect
        effect = next((" ".join(str(o.label or o.name).split()) for o in self.scenario.outcomes if o.name == effect), effect)
        labels = [self.scenario.strategy_labels.get(s, s) for s in self.strategies]
        headers = ["group", "share"] + [f"{s}: cost ({currency})" for s in labels] + [f"{s}: {effect}" for s in labels]
        cost, eff, w = self.total_cost.mean(axis=0), self.effect.mean(axis=0), self.weights.mean(axis=0)
        rows = [[label, w[g], *cost[g], *eff[g]] for g, label in enumerate(self.labels)]
        return format_table(headers, rows, title=f"Expected costs and outcomes per patient by group ({self.scenario.title})")

    def to_frame(self):
        """Long table keyed by ``draw, group, strategy``: weight, total cost and every outcome."""
        import pandas as pd

        d, g, s = self.total_cost.shape
        frame = {
            "draw": np.repeat(np.arange(d), g * s),
            "group": np.tile(np.repeat(np.array(self.labels, dtype=object), s), d),
            "strategy": np.tile(np.array(self.strategies, dtype=object), d * g),
            "weight": np.repeat(self.weights.reshape(-1), s),
            "cost_total": self.total_cost.ravel(),
        }
        for o, name in enumerate(self.outcome_names):
            frame[name] = self.outcomes[..., o].ravel()
        return pd.DataFrame(frame)

    def to_dict(self) -> dict:
        """Means over draws per group and strategy: weight, total cost and outcomes."""
        cost, out, w = self.total_cost.mean(axis=0), self.outcomes.mean(axis=0), self.weights.mean(axis=0)
        return {
            "scenario": self.scenario.name,
            "draws": int(self.weights.shape[0]),
            "currency": self.scenario.settings.currency,
            "groups": [
                {
                    "group": label,
                    "weight": float(w[g]),
                    "strategies": {
                        s: {"cost_total": float(cost[g, k]), **{n: float(out[g, k, o]) for o, n in enumerate(self.outcome_names)}}
                        for k, s in enumerate(self.strategies)
                    },
                }
                for g, label in enumerate(self.labels)
            ],
        }


def run_cohort_groups(scenario, params: dict | None = None, *, max_rows: int = 20_000) -> GroupedCohortResult:
    """Cohort model of a scenario with a population, one cohort per group, *not* mixed.

    The same runs as :func:`run_cohort_by_group` (same groups, attribute values and weights), with
    each group's costs and outcomes kept: what a per-phenotype decision needs (value of
    individualised care, :mod:`costspine.analysis.individualised`).

    Parameters
    ----------
    scenario : Scenario
        With a ``[population]`` section that declares at least one attribute.
    params : dict of str to ndarray, shape (draw,), optional
        Base case if omitted.
    max_rows : int
        Draw × group rows evaluated at once (bounds memory).

    Returns
    -------
    GroupedCohortResult
        ``weights``-weighted sums over groups equal :func:`run_cohort_by_group`'s population means.

    Raises
    ------
    UsageError
        The scenario has no population attributes (one group: nothing to individualise).

    Examples
    --------
    >>> from costspine import load_scenario
    >>> grouped = run_cohort_groups(load_scenario("scenarios/spine/base_case_microsim.toml"))
    >>> grouped.labels[:2]
    ('risk=low, age=18-35', 'risk=low, age=35-50')
    >>> bool(abs(grouped.weights.sum() - 1) < 1e-12)
    True
    """
    population = scenario.population or EMPTY_POPULATION
    if not population.attributes:
        raise UsageError(
            f"{scenario.path}: population.attributes: results by group need at least one attribute; "
            "the scenario declares none — add a [population.attributes.NAME] table or use run_cohort"
        )
    base_case = params is None
    params = base_case_parameters(scenario) if params is None else params
    params = anchor_parameters(scenario, params, base_case=base_case, max_rows=max_rows)
    groups, batches = _iter_group_batches(scenario, params, base_case=base_case, max_rows=max_rows)
    keys = ("costs", "costs_undiscounted", "outcomes", "outcomes_undiscounted")
    parts: dict[str, list] = {k: [] for k in (*keys, "indicators", "indicator_occupancy")}
    weight_parts = []
    for result, inputs, weights, n_groups in batches:
        arrays = {k: getattr(result, k) for k in keys}
        arrays["indicators"] = result.indicators
        arrays["indicator_occupancy"] = compute_indicator_occupancy(result.trace, inputs.indicator_mask)
        for k, a in arrays.items():
            parts[k].append(a.reshape((a.shape[0] // n_groups, n_groups) + a.shape[1:]))
        weight_parts.append(np.asarray(weights, dtype=float))
    return GroupedCohortResult(
        scenario=scenario,
        labels=tuple(groups.label(g) for g in range(groups.n_groups)),
        weights=np.concatenate(weight_parts),
        **{k: np.concatenate(v) for k, v in parts.items()},
    )


def _mix(result: CohortResult, inputs, weights: np.ndarray, n_groups: int) -> dict:
    """Population means of a cohort result whose draw axis is (draw × group)."""

    def grouped(a):
        return a.reshape((a.shape[0] // n_groups, n_groups) + a.shape[1:])

    def mix(a):
        a = grouped(a)
        w = weights.reshape(weights.shape + (1,) * (a.ndim - 2))
        return (a * w).sum(axis=1)

    out = {
        k: mix(getattr(result, k))
        for k in (
            "trace",
            "costs",
            "costs_undiscounted",
            "outcomes",
            "outcomes_undiscounted",
            "cost_per_cycle",
            "services_per_cycle",
        )
    }
    if inputs.indicator_mask.size:
        occupied = compute_indicator_occupancy(result.trace, inputs.indicator_mask)
        weighted = np.nan_to_num(result.indicators) * occupied
        out["indicators"] = divide_by_occupancy(mix(weighted), mix(occupied))
    else:
        out["indicators"] = mix(result.indicators)
    return out


def run_cohort_totals(scenario: Scenario, params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, dict]:
    """Discounted costs by category and outcomes of every draw: what a PSA keeps of :func:`run_cohort`.

    The same model and the same totals as :func:`run_cohort` (equal to rounding: the terms are
    added in another order), without the per-cycle arrays a PSA does not keep: rewards are
    accumulated cell by cell on the trace (:func:`~costspine.engines.outcomes.total_cell_rewards`),
    never expanded to a (draw, strategy, cycle, state, category) array. A scenario with a
    population runs :func:`run_cohort` (one cohort per group). Draws that give a non-finite total
    are rerun by :func:`run_cohort`, whose checks name the draw and the cell.

    Parameters
    ----------
    scenario : Scenario
    params : dict of str to ndarray, shape (draw,)

    Returns
    -------
    costs : ndarray, shape (draw, strategy, category)
    outcomes : ndarray, shape (draw, strategy, outcome)
    parameters : dict of str to ndarray, shape (draw,)
        Every parameter's values, derived ones computed
        (:func:`~costspine.model.inputs.evaluate_parameters`).
    """
    from costspine.model.inputs import build_transition_inputs, iter_reward_values

    if getattr(scenario, "population", None) is not None:
        result = run_cohort(scenario, params)
        return result.costs, result.outcomes, evaluate_parameters(scenario, params)
    settings = scenario.settings
    chain = build_transition_inputs(scenario, params, base_case=False)
    trace = simulate_trace(chain.initial, chain.transition, settings.n_cycles)  # (draw, strategy, point, state)
    occupancy = np.ascontiguousarray(trace.transpose(2, 3, 1, 0))  # (point, state, strategy, draw)
    factors = derive_reward_factors(settings)
    state_index = point_index(settings.n_cycles, settings.n_cycles, correction=factors.cycle_correction)
    entry_index = np.arange(settings.n_cycles)
    entries = None

    def totals(kind, rewards, n_columns, group=None):
        nonlocal entries
        total = total_cell_rewards(
            occupancy,
            iter_reward_values(scenario, chain, rewards, "values", group=group),
            n_columns,
            factor=factors.per_point(kind),
            time_index=state_index,
        )
        entry_cells = list(iter_reward_values(scenario, chain, rewards, "on_entry", group=group))
        if entry_cells:
            if entries is None:
                entries = np.ascontiguousarray(compute_entries(trace, chain.transition).transpose(2, 3, 1, 0))
            total += total_cell_rewards(
                entries, entry_cells, n_columns, factor=factors.per_point(kind, entry=True)[1:], time_index=entry_index
            )
        return total

    costs = totals("costs", scenario.costs, len(scenario.categories), group=scenario.categories)
    outcomes = totals("outcomes", scenario.outcomes, len(scenario.outcomes))
    if not (np.isfinite(costs).all() and np.isfinite(outcomes).all()):
        result = run_cohort(scenario, params)  # raises with the draw and cell named when a reward is not finite
        return result.costs, result.outcomes, chain.parameters
    return costs, outcomes, chain.parameters
