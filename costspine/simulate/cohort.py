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
)
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

    def summary(self) -> str:
        """Expected cost by category, total cost and outcomes per strategy (means over draws).

        Incremental results and ICERs are analyses: :func:`costspine.analysis.cea.compute_result_cea`.
        """
        currency = self.scenario.settings.currency
        headers = ["strategy"] + [f"{c} ({currency})" for c in self.categories] + [f"total ({currency})"]
        headers += list(self.outcome_names)
        mean_costs = self.costs.mean(axis=0)
        mean_outcomes = self.outcomes.mean(axis=0)
        rows = [[self.scenario.strategy_labels.get(s, s), *mean_costs[k], mean_costs[k].sum(), *mean_outcomes[k]]
                for k, s in enumerate(self.strategies)]
        return format_table(headers, rows, title=f"Expected costs and outcomes per patient, {self.method} ({self.scenario.title})")

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
    entries = compute_entries(trace, inputs.transition)
    factors = derive_reward_factors(settings)
    correction = factors.cycle_correction                 # which cycle's value each point counts
    totals = accumulate_rewards(
        trace,
        factors=factors,
        state_costs=compute_state_rewards(trace, inputs.state_costs, correction=correction),
        entry_costs=compute_entry_rewards(entries, inputs.entry_costs),
        state_outcomes=compute_state_rewards(trace, inputs.state_outcomes, correction=correction),
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
    return build_reward_factors(settings.n_cycles, cycle_correction=settings.cycle_correction, cycle_years=settings.cycle_years,
                                discount_costs=settings.discount_costs, discount_outcomes=settings.discount_outcomes,
                                discount_timing=getattr(settings, "discount_timing", "point"),
                                weights=getattr(settings, "weights", None))


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
    if not population.attributes and not population.history:   # nothing to expand: the plain cohort model
        return simulate_inputs(scenario, build_model_inputs(scenario, params, base_case=base_case), params)
    values = evaluate_parameters(scenario, params)
    n_draws = max((np.size(v) for v in values.values()), default=1)
    groups = build_groups(population, values, tables=scenario.tables, where=str(scenario.path), base_case=base_case)
    weights = groups.flat_weights()                                        # (D, G)
    attr = groups.flat_values()                                            # name -> (D, G)
    n_groups = groups.n_groups
    history = {h.name: np.array([h.cohort], dtype=float) for h in population.history}
    batch = max(1, max_rows // max(n_groups, 1))
    parts = []
    for d0 in range(0, n_draws, batch):
        d1 = min(n_draws, d0 + batch)
        expanded = {k: np.repeat(np.broadcast_to(np.asarray(v, dtype=float), (n_draws,))[d0:d1], n_groups) for k, v in params.items()}
        for name, v in attr.items():
            expanded[name] = np.broadcast_to(v, (n_draws, n_groups))[d0:d1].reshape(-1)
        expanded.update(history)
        inputs = build_model_inputs(scenario, expanded, base_case=base_case)
        result = simulate_inputs(scenario, inputs, expanded)
        parts.append(_mix(result, inputs, weights[d0:d1] if weights.shape[0] > 1 else np.broadcast_to(weights, (d1 - d0, n_groups)), n_groups))
    mixed = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return CohortResult(scenario=scenario, parameters={k: np.asarray(v, dtype=float) for k, v in params.items()},
                        method="cohort (by group)", **mixed)

def _mix(result: CohortResult, inputs, weights: np.ndarray, n_groups: int) -> dict:
    """Population means of a cohort result whose draw axis is (draw × group)."""
    def grouped(a):
        return a.reshape((a.shape[0] // n_groups, n_groups) + a.shape[1:])

    def mix(a):
        a = grouped(a)
        w = weights.reshape(weights.shape + (1,) * (a.ndim - 2))
        return (a * w).sum(axis=1)

    out = {k: mix(getattr(result, k)) for k in ("trace", "costs", "costs_undiscounted", "outcomes", "outcomes_undiscounted",
                                                "cost_per_cycle", "services_per_cycle")}
    if inputs.indicator_mask.size:
        occupied = compute_indicator_occupancy(result.trace, inputs.indicator_mask)
        weighted = np.nan_to_num(result.indicators) * occupied
        out["indicators"] = divide_by_occupancy(mix(weighted), mix(occupied))
    else:
        out["indicators"] = mix(result.indicators)
    return out
