"""Terminal text of run results: the headline tables ``costspine run`` prints."""

from __future__ import annotations

import numpy as np

from costspine._text import format_table
from costspine.analysis.cea import compute_result_cea, compute_result_incremental
from costspine.simulate.cohort import CohortResult


def report_times(result) -> list[float]:
    """Times (years) at which indicators are shown: the scenario's list, else start and end."""
    settings = result.scenario.settings
    times = list(result.scenario.analysis.report_at_years)
    return times or [0.0, settings.n_cycles * settings.cycle_years]


def format_run_summary(result) -> str:
    """Headline per-strategy table, incremental results and indicator trajectory points."""
    scenario = result.scenario
    currency = scenario.settings.currency
    cea = compute_result_cea(result)
    mean_costs = result.costs.mean(axis=0)
    headers = ["strategy"] + [f"{c} ({currency})" for c in result.categories] + [f"total ({currency})"]
    headers += list(result.outcome_names)
    rows = []
    for k, strategy in enumerate(result.strategies):
        row = [scenario.strategy_labels.get(strategy, strategy)]
        row += list(mean_costs[k]) + [mean_costs[k].sum()]
        row += [result.outcomes[:, k, o].mean() for o in range(len(result.outcome_names))]
        rows.append(row)
    settings = scenario.settings
    horizon = settings.n_cycles * settings.cycle_years
    parts = [
        f"{scenario.title}",
        f"horizon {horizon:.3g} years ({settings.n_cycles} cycles of {settings.cycle_length:g} {settings.cycle_unit}"
        f"{'s' if settings.cycle_length != 1 else ''}); "
        f"discounting: costs {settings.discount_costs:.1%}, outcomes {settings.discount_outcomes:.1%}; "
        f"{currency} {settings.price_year}; correction: {settings.cycle_correction}"
        f"{'; discounted at the start of each cycle' if getattr(settings, 'discount_timing', 'point') == 'start' else ''}",
        f"Perspective: {scenario.analysis.perspective_text}",
        "",
        format_table(headers, rows, title="Expected costs and outcomes per patient (discounted)"),
    ]
    effect = scenario.analysis.effect
    inc_rows = []
    for k, strategy in enumerate(result.strategies):
        inc_rows.append(
            [
                scenario.strategy_labels.get(strategy, strategy),
                cea.incremental_cost[k],
                cea.incremental_effect[k],
                "—" if strategy == cea.comparator else cea.describe_vs_comparator(k),
                cea.status[k],
            ]
        )
    parts += [
        "",
        format_table(
            ["strategy", f"Δ cost ({currency})", f"Δ {effect}", f"ICER ({currency}/{effect})", "frontier"],
            inc_rows,
            title=f"Incremental results vs {scenario.strategy_labels.get(cea.comparator, cea.comparator)}",
        ),
    ]
    parts += ["", compute_result_incremental(result).summary(width=100)]
    if result.indicator_names:
        times = report_times(result)
        for name in result.indicator_names:
            ind_rows = []
            for k, strategy in enumerate(result.strategies):
                ind_rows.append(
                    [scenario.strategy_labels.get(strategy, strategy)]
                    + [float(np.nanmean(result.indicator_at_years(name, t)[:, k])) for t in times]
                )
            parts += [
                "",
                format_table(
                    ["strategy"] + [f"{t:g} y" for t in times], ind_rows, title=f"Mean {name} over time (years since start)"
                ),
            ]
    return "\n".join(parts)


def format_run_text(results) -> str:
    """What ``costspine run`` prints: each result's summary (with Monte Carlo standard errors for a
    microsimulation), then a side-by-side comparison when there are several."""
    from costspine.simulate.microsim import format_mcse

    parts = [format_run_summary(r) + ("\n\n" + format_mcse(r) if r.method == "microsim" else "") for r in results]
    if len(results) > 1:
        parts.append(format_comparison(results))
    return "\n\n".join(parts)


def format_comparison(results: list[CohortResult]) -> str:
    """Side-by-side table of several scenarios: cost by category, outcomes and indicators."""
    categories = list(dict.fromkeys(c for r in results for c in r.categories))
    outcomes = list(dict.fromkeys(o for r in results for o in r.outcome_names))
    indicators = list(dict.fromkeys(i for r in results for i in r.indicator_names))
    times = list(dict.fromkeys(t for r in results for t in report_times(r))) if indicators else []
    currency = results[0].scenario.settings.currency
    headers = ["scenario / strategy"] + [f"{c}" for c in categories] + [f"total ({currency})"] + outcomes
    headers += [f"{name} {t:g} y" for name in indicators for t in times]
    rows = []
    for r in results:
        for k, strategy in enumerate(r.strategies):
            costs = {c: r.costs[:, k, i].mean() for i, c in enumerate(r.categories)}
            row = [f"{r.scenario.name} / {strategy}"] + [costs.get(c, 0.0) for c in categories] + [r.total_cost[:, k].mean()]
            row += [r.outcomes[:, k, r.outcome_names.index(o)].mean() if o in r.outcome_names else None for o in outcomes]
            row += [
                float(np.nanmean(r.indicator_at_years(name, t)[:, k])) if name in r.indicator_names else None
                for name in indicators
                for t in times
            ]
            rows.append(row)
    return format_table(headers, rows, title="Scenario comparison (discounted, per patient)")
