"""Terminal text of run results: the headline tables ``costspine run`` prints."""

from __future__ import annotations

import numpy as np

from costspine._text import TERMINAL_WIDTH, format_table, wrap_text
from costspine.analysis.cea import FRONTIER, NON_DOMINATED, compute_result_cea, compute_result_incremental, effect_unit
from costspine.simulate.cohort import CohortResult


def report_times(result) -> list[float]:
    """Times (years) at which indicators are shown: the scenario's list, else start and end."""
    settings = result.scenario.settings
    times = list(result.scenario.analysis.report_at_years)
    return times or [0.0, settings.n_cycles * settings.cycle_years]


def format_run_summary(result) -> str:
    """Headline per-strategy table, incremental results and indicator trajectory points, in labels.

    Every table fits the terminal (:data:`costspine._text.TERMINAL_WIDTH` columns); ICERs are
    given in the scenario's currency per unit of its effect ('USD per QALY') with the workbook's
    words (:func:`costspine.reports.wording.icer_cell`): never negative, and never quoted for a
    strategy off the efficiency frontier ('dominated by X', 'extendedly dominated').
    """
    from costspine.reports.wording import Increment, category_labels, describe_time, icer_cell, indicator_labels, outcome_labels

    scenario = result.scenario
    settings = scenario.settings
    currency = settings.currency
    cea = compute_result_cea(result)
    incremental = compute_result_incremental(result)
    labels = scenario.strategy_labels
    outcomes = outcome_labels(scenario)
    categories = category_labels(scenario)
    effect = outcomes.get(scenario.analysis.effect, scenario.analysis.effect)
    mean_costs = result.costs.mean(axis=0)
    names = [labels.get(s, s) for s in result.strategies]
    cost_rows = [[categories.get(c, c), *mean_costs[:, i]] for i, c in enumerate(result.categories)]
    cost_rows.append(["Total", *mean_costs.sum(axis=1)])
    outcome_rows = [[outcomes.get(o, o), *result.outcomes[:, :, i].mean(axis=0)] for i, o in enumerate(result.outcome_names)]
    horizon = settings.n_cycles * settings.cycle_years
    start = "; discounted at the start of each cycle" if getattr(settings, "discount_timing", "point") == "start" else ""
    parts = [
        wrap_text(scenario.title),
        f"horizon {horizon:.3g} years ({settings.n_cycles} cycles of {settings.cycle_length:g} {settings.cycle_unit}"
        f"{'s' if settings.cycle_length != 1 else ''}); "
        f"discounting: costs {settings.discount_costs:.1%}, outcomes {settings.discount_outcomes:.1%}",
        f"{currency} at {settings.price_year} prices; correction: {settings.cycle_correction}{start}",
        wrap_text(f"Perspective: {scenario.analysis.perspective_text}"),
        "",
        format_table(
            ["cost category", *names], cost_rows, title=f"Expected cost per patient by category ({currency}, discounted)"
        ),
        "",
        format_table(["outcome", *names], outcome_rows, title="Expected outcomes per patient (discounted)"),
    ]
    unit = effect_unit(effect)
    inc_rows = []
    notes = {s: incremental.describe(i) for i, s in enumerate(incremental.strategies) if incremental.status[i] != NON_DOMINATED}
    for k, strategy in enumerate(result.strategies):
        comparator = strategy == cea.comparator
        # the workbook's words (reports.wording), so the terminal and Excel say the same
        entry = Increment(
            labels.get(strategy, strategy),
            float(cea.incremental_cost[k]),
            float(cea.incremental_effect[k]),
            float(cea.icer_vs_comparator[k]),
            notes.get(strategy, ""),
        )
        inc_rows.append(
            [
                entry.label,
                None if comparator else entry.incremental_cost,
                None if comparator else entry.incremental_effect,
                icer_cell(entry, strategy, cea.comparator, unit=unit),
                "on the frontier" if cea.status[k] == FRONTIER else cea.status[k],
            ]
        )
    parts += [
        "",
        format_table(
            ["strategy", f"Δ cost ({currency})", f"Δ {effect}", f"ICER ({currency} per {unit})", "efficiency frontier"],
            inc_rows,
            title=f"Incremental results vs {labels.get(cea.comparator, cea.comparator)}",
        ),
    ]
    parts += ["", incremental.summary(width=TERMINAL_WIDTH)]
    if result.indicator_names:
        times = report_times(result)
        for name, label in indicator_labels(scenario).items():
            ind_rows = []
            for k, strategy in enumerate(result.strategies):
                ind_rows.append(
                    [labels.get(strategy, strategy)]
                    + [float(np.nanmean(result.indicator_at_years(name, t)[:, k])) for t in times]
                )
            parts += [
                "",
                format_table(
                    ["strategy"] + [describe_time(t) for t in times],
                    ind_rows,
                    title=f"{'' if label.lower().startswith('mean') else 'Mean '}{label} over time",
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
    """Side-by-side table of several scenarios: total cost, outcomes and indicators per strategy.

    Costs by category are in each scenario's own table above it (and in the workbook and files).
    """
    from costspine.reports.wording import describe_time, indicator_labels, outcome_labels

    outcomes = list(dict.fromkeys(o for r in results for o in r.outcome_names))
    indicators = list(dict.fromkeys(i for r in results for i in r.indicator_names))
    times = list(dict.fromkeys(t for r in results for t in report_times(r))) if indicators else []
    currency = results[0].scenario.settings.currency
    words = {}
    for r in results:  # labels of the first scenario that names each id
        for table in (outcome_labels(r.scenario), indicator_labels(r.scenario)):
            for key, label in table.items():
                words.setdefault(key, label)
    headers = ["scenario", "strategy", f"Total cost ({currency})"] + [words.get(o, o) for o in outcomes]
    headers += [f"{words.get(name, name)}, {describe_time(t)}" for name in indicators for t in times]
    rows = []
    for r in results:
        for k, strategy in enumerate(r.strategies):
            row = [r.scenario.name, r.scenario.strategy_labels.get(strategy, strategy), r.total_cost[:, k].mean()]
            row += [r.outcomes[:, k, r.outcome_names.index(o)].mean() if o in r.outcome_names else None for o in outcomes]
            row += [
                float(np.nanmean(r.indicator_at_years(name, t)[:, k])) if name in r.indicator_names else None
                for name in indicators
                for t in times
            ]
            rows.append(row)
    return format_table(headers, rows, title="Scenario comparison (discounted, per patient)", keep=2)
