"""Plain-text tables for the terminal. No pandas: the CLI's start-up stays fast."""

from __future__ import annotations

import math

import numpy as np


def format_table(headers: list[str], rows: list[list], *, title: str | None = None) -> str:
    """Right-aligned fixed-width table (first column left-aligned)."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths))))
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.2f}"
    return f"{value:.4f}"


def report_times(result) -> list[float]:
    """Times (years) at which indicators are shown: the scenario's list, else start and end."""
    settings = result.scenario.settings
    times = list(result.scenario.analysis.report_at_years)
    return times or [0.0, settings.n_cycles * settings.cycle_years]


def format_run_summary(result) -> str:
    """Headline per-strategy table, incremental results and indicator trajectory points."""
    scenario = result.scenario
    currency = scenario.settings.currency
    cea = result.cea()
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
        f"{currency} {settings.price_year}; correction: {settings.cycle_correction}",
        "",
        format_table(headers, rows, title="Expected costs and outcomes per patient (discounted)"),
    ]
    effect = scenario.analysis.effect
    inc_rows = []
    for k, strategy in enumerate(result.strategies):
        inc_rows.append([
            scenario.strategy_labels.get(strategy, strategy),
            cea.incremental_cost[k], cea.incremental_effect[k],
            "—" if strategy == cea.comparator else cea.describe_vs_comparator(k),
            cea.status[k],
        ])
    parts += ["", format_table(["strategy", f"Δ cost ({currency})", f"Δ {effect}", f"ICER ({currency}/{effect})", "frontier"],
                               inc_rows, title=f"Incremental results vs {scenario.strategy_labels.get(cea.comparator, cea.comparator)}")]
    if result.indicator_names:
        times = report_times(result)
        for name in result.indicator_names:
            ind_rows = []
            for k, strategy in enumerate(result.strategies):
                ind_rows.append([scenario.strategy_labels.get(strategy, strategy)]
                                + [float(np.nanmean(result.indicator_at_years(name, t)[:, k])) for t in times])
            parts += ["", format_table(["strategy"] + [f"{t:g} y" for t in times], ind_rows, title=f"Mean {name} over time (years since start)")]
    return "\n".join(parts)
