"""Run results as plain data for files: ``summary.json`` payloads, parameter, trajectory and
MCSE rows, and the side-by-side comparison text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from costspine.analysis.cea import compute_result_cea, compute_result_incremental
from costspine.model.inputs import evaluate_parameters
from costspine.reports.text import report_times
from costspine.simulate.cohort import CohortResult

if TYPE_CHECKING:  # annotations only: the microsimulation is not imported for a cohort run
    from costspine.simulate.microsim import MicrosimResult


def describe_mcse(result: MicrosimResult) -> dict:
    """Machine-readable MCSEs of the base case (first draw), for ``summary.json``."""
    strategies = {}
    for k, strategy in enumerate(result.strategies):
        strategies[strategy] = {
            "cost_total_se": float(result.total_cost_se[0, k]),
            "cost_by_category_se": {c: float(result.costs_se[0, k, i]) for i, c in enumerate(result.categories)},
            "cost_total_undiscounted_se": float(result.total_cost_undiscounted_se[0, k]),
            "outcomes_se": {o: float(result.outcomes_se[0, k, i]) for i, o in enumerate(result.outcome_names)},
            "outcomes_undiscounted_se": {
                o: float(result.outcomes_undiscounted_se[0, k, i]) for i, o in enumerate(result.outcome_names)
            },
            "incremental_cost_se": float(result.incremental_cost_se[0, k]),
            "incremental_outcomes_se": {
                o: float(result.incremental_outcomes_se[0, k, i]) for i, o in enumerate(result.outcome_names)
            },
            "incremental_nmb_se": {
                f"{w:g}": float(result.incremental_nmb_se[0, k, j]) for j, w in enumerate(result.scenario.analysis.wtp)
            },
        }
    return {
        "individuals": result.n_individuals,
        "seed": result.seed,
        "common_random_numbers": result.common_random_numbers,
        "strategies": strategies,
    }


def mcse_rows(result: MicrosimResult) -> list[list]:
    """``strategy, quantity, mean, mcse`` rows (base case / first draw) for ``mcse.csv``."""
    rows = []
    comparator = result.strategies.index(result.scenario.analysis.comparator)
    for k, strategy in enumerate(result.strategies):
        for i, c in enumerate(result.categories):
            rows.append([strategy, f"cost_{c}", result.costs[0, k, i], result.costs_se[0, k, i]])
        rows.append([strategy, "cost_total", result.total_cost[0, k], result.total_cost_se[0, k]])
        rows.append(
            [strategy, "cost_total_undiscounted", result.costs_undiscounted[0, k].sum(), result.total_cost_undiscounted_se[0, k]]
        )
        for i, o in enumerate(result.outcome_names):
            rows.append([strategy, o, result.outcomes[0, k, i], result.outcomes_se[0, k, i]])
            rows.append(
                [strategy, f"{o}_undiscounted", result.outcomes_undiscounted[0, k, i], result.outcomes_undiscounted_se[0, k, i]]
            )
        if k != comparator:
            rows.append(
                [
                    strategy,
                    "incremental_cost",
                    result.total_cost[0, k] - result.total_cost[0, comparator],
                    result.incremental_cost_se[0, k],
                ]
            )
            for i, o in enumerate(result.outcome_names):
                rows.append(
                    [
                        strategy,
                        f"incremental_{o}",
                        result.outcomes[0, k, i] - result.outcomes[0, comparator, i],
                        result.incremental_outcomes_se[0, k, i],
                    ]
                )
    return rows


def summarize_result(result: CohortResult) -> dict:
    """Machine-readable headline results of a (base-case) run."""
    scenario = result.scenario
    cea = compute_result_cea(result)
    strategies = {}
    for k, strategy in enumerate(result.strategies):
        entry = {
            "label": scenario.strategy_labels[strategy],
            "cost_total": float(result.total_cost[:, k].mean()),
            "cost_by_category": {c: float(result.costs[:, k, i].mean()) for i, c in enumerate(result.categories)},
            "cost_total_undiscounted": float(result.costs_undiscounted[:, k].sum(axis=-1).mean()),
            "cost_by_category_undiscounted": {
                c: float(result.costs_undiscounted[:, k, i].mean()) for i, c in enumerate(result.categories)
            },
            "outcomes": {o: float(result.outcomes[:, k, i].mean()) for i, o in enumerate(result.outcome_names)},
            "outcomes_undiscounted": {
                o: float(result.outcomes_undiscounted[:, k, i].mean()) for i, o in enumerate(result.outcome_names)
            },
            "incremental_cost": float(cea.incremental_cost[k]),
            "incremental_effect": float(cea.incremental_effect[k]),
            "icer": cea.reportable_icer(k),  # null unless a cost per unit gained (or a saving per unit forgone)
            "icer_status": cea.icer_status(k),
            "versus_comparator": cea.describe_vs_comparator(k),
            "frontier_status": cea.status[k],
            "frontier_icer": float(cea.frontier_icer[k]),
            "nmb": {str(w): float(cea.nmb[k, j]) for j, w in enumerate(cea.wtp)},
        }
        if result.indicator_names:
            entry["indicators"] = {
                name: {f"{t:g}": float(np.nanmean(result.indicator_at_years(name, t)[:, k])) for t in report_times(result)}
                for name in result.indicator_names
            }
        strategies[strategy] = entry
    settings = scenario.settings
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "description": scenario.description,
        "currency": settings.currency,
        "price_year": settings.price_year,
        "horizon_years": settings.n_cycles * settings.cycle_years,
        "effect": scenario.analysis.effect,
        "comparator": scenario.analysis.comparator,
        "wtp": list(scenario.analysis.wtp),
        **scenario.analysis.perspective_record(),
        "strategies": strategies,
        "incremental_table": compute_result_incremental(result).to_dict(),
    }


def parameter_rows(result: CohortResult) -> list[list]:
    """One row per parameter of the result's scenario: see :func:`scenario_parameter_rows`."""
    return scenario_parameter_rows(result.scenario)


def scenario_parameter_rows(scenario) -> list[list]:
    """One row per parameter: name, base-case value, distribution, arguments, source.

    Derived parameters show their base-case value (the expression evaluated on every other
    parameter's base case), so each number of the model can be traced.
    """
    rows = []
    derived = {}
    if any(spec.family == "derived" for spec in scenario.parameters):
        derived = evaluate_parameters(scenario)
    for spec in scenario.parameters:
        if spec.family == "dirichlet":
            for name, value in spec.base_values().items():
                rows.append([name, value, "dirichlet", f"group {spec.name}, alpha={list(spec.args['alpha'])}", spec.source])
        elif spec.family == "derived":
            rows.append([spec.name, float(derived[spec.name][0]), "derived", spec.expression.text, spec.source])
        else:
            args = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in spec.args.items())
            rows.append([spec.name, spec.value, spec.family, args, spec.source])
    return rows


def trajectory_rows(result: CohortResult) -> list[list]:
    """Indicator means (e.g. ODI) per strategy at every trace point."""
    cycle_years = result.scenario.settings.cycle_years
    rows = []
    for i, name in enumerate(result.indicator_names):
        for k, strategy in enumerate(result.strategies):
            for t in range(result.trace.shape[2]):
                rows.append([name, strategy, t, t * cycle_years, float(np.nanmean(result.indicators[:, k, t, i]))])
    return rows


TRACE_HEADERS = ["strategy", "cycle", "state", "occupancy"]


def trace_rows(result: CohortResult) -> list[list]:
    """The Markov trace as a long table for ``trace.csv``: ``strategy, cycle, state, occupancy``.

    One row per strategy × trace point ``0..T`` × state, base case (first draw); occupancy is the
    share of the cohort (for a microsimulation, of the individuals) in the state at that point.
    """
    states = result.scenario.states
    rows = []
    for k, strategy in enumerate(result.strategies):
        for t in range(result.trace.shape[2]):
            for i, state in enumerate(states):
                rows.append([strategy, t, state, float(result.trace[0, k, t, i])])
    return rows
