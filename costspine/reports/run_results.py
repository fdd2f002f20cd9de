"""A run's base-case numbers per strategy, as typed fields: what the run workbook and figures read.

Each :class:`StrategyResult` is read from the result's arrays (means over its draws) and its
:class:`~costspine.analysis.cea.CEATable`, with the same expressions as
:func:`costspine.reports.run_summary.summarize_result`, so the workbook and ``summary.json`` agree.

Example
-------
>>> from costspine import load_scenario, run_cohort
>>> result = run_cohort(load_scenario("scenarios/examples/hiv_chancellor.toml"))
>>> [(s.strategy, s.frontier_status) for s in strategy_results(result)]
[('mono', 'frontier'), ('comb', 'frontier')]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine.analysis.cea import NON_DOMINATED, compute_result_cea, compute_result_incremental
from costspine.reports.text import report_times


@dataclass(frozen=True)
class StrategyResult:
    """One strategy of a run: costs, outcomes, the comparison with the comparator, net benefit.

    Attributes
    ----------
    strategy, label : str
        Strategy id and label.
    cost_total, cost_total_undiscounted : float
        Expected cost per patient.
    cost_by_category, cost_by_category_undiscounted : dict of str to float
        Expected cost per patient by category id, in the result's category order.
    outcomes : dict of str to float
        Expected (discounted) outcomes by outcome name.
    incremental_cost, incremental_effect, icer : float
        Against the comparator (0, 0 and NaN for the comparator itself).
    frontier_status : str
        ``frontier``, ``dominated`` or ``extendedly dominated``.
    nmb : tuple of float
        Net monetary benefit at each threshold of ``scenario.analysis.wtp``, in that order.
    indicators : dict of str to dict of float to float
        Indicator name → report time (years, :func:`costspine.reports.text.report_times`) → mean.
    frontier_note : str
        Off the efficiency frontier, what puts it there ('dominated by ICE', 'extendedly dominated
        (by a mix of A and B)'), from the sequential incremental table; empty on the frontier.
    """

    strategy: str
    label: str
    cost_total: float
    cost_by_category: dict
    cost_total_undiscounted: float
    cost_by_category_undiscounted: dict
    outcomes: dict
    incremental_cost: float
    incremental_effect: float
    icer: float
    frontier_status: str
    nmb: tuple
    indicators: dict
    frontier_note: str = ""


def strategy_results(result) -> tuple[StrategyResult, ...]:
    """Every strategy of a run result, in the result's order.

    Parameters
    ----------
    result : CohortResult or MicrosimResult
        Base-case result (:func:`costspine.simulate.cohort.run_cohort`, :func:`costspine.simulate.microsim.run_microsim`).
    """
    scenario = result.scenario
    cea = compute_result_cea(result)
    sequential = compute_result_incremental(result)
    notes = {s: sequential.describe(i) for i, s in enumerate(sequential.strategies) if sequential.status[i] != NON_DOMINATED}
    times = report_times(result) if result.indicator_names else ()
    out = []
    for k, strategy in enumerate(result.strategies):
        indicators = {
            name: {t: float(np.nanmean(result.indicator_at_years(name, t)[:, k])) for t in times}
            for name in result.indicator_names
        }
        out.append(
            StrategyResult(
                strategy=strategy,
                label=scenario.strategy_labels[strategy],
                cost_total=float(result.total_cost[:, k].mean()),
                cost_by_category={c: float(result.costs[:, k, i].mean()) for i, c in enumerate(result.categories)},
                cost_total_undiscounted=float(result.costs_undiscounted[:, k].sum(axis=-1).mean()),
                cost_by_category_undiscounted={
                    c: float(result.costs_undiscounted[:, k, i].mean()) for i, c in enumerate(result.categories)
                },
                outcomes={o: float(result.outcomes[:, k, i].mean()) for i, o in enumerate(result.outcome_names)},
                incremental_cost=float(cea.incremental_cost[k]),
                incremental_effect=float(cea.incremental_effect[k]),
                icer=float(cea.icer_vs_comparator[k]),
                frontier_status=cea.status[k],
                nmb=tuple(float(v) for v in cea.nmb[k]),
                indicators=indicators,
                frontier_note=notes.get(strategy, ""),
            )
        )
    return tuple(out)
