"""The comparison workbook of ``costspine run A B ...``: several scenarios side by side.

Like :mod:`costspine.reports.build` (whose helpers it uses), it describes a
:class:`~costspine.reports.workbook.Workbook` and plans figure calls; it writes nothing and imports
neither openpyxl nor matplotlib.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import numpy as np

from costspine.analysis.cea import compute_result_incremental
from costspine.reports.build import trajectory_series
from costspine.reports.inputs import (
    UNIT_PRICE_COLUMNS,
    VALUE_DECIMALS,
    build_about,
    cell_value,
    resolve_scenario_prices,
    unit_price_row,
)
from costspine.reports.run_results import StrategyResult, strategy_results
from costspine.reports.text import (
    report_times,
)
from costspine.reports.wording import (
    EFFECT_DECIMALS,
    INDICATOR_DECIMALS,
    category_labels,
    describe_horizon,
    describe_money,
    describe_perspective,
    describe_time,
    describe_verdict,
    effect_label_of,
    format_amount,
    format_money,
    icer_cell,
    in_sentence,
    indicator_labels,
    one_line,
    outcome_labels,
    singular,
    unique_labels,
)
from costspine.reports.workbook import Chart, Column, Sheet, Table, Workbook


def _scenario_names(results) -> list[str]:
    names, seen = [], set()
    for r in results:
        name, n = r.scenario.name, 2
        while name.casefold() in seen:
            name, n = f"{r.scenario.name} ({n})", n + 1
        seen.add(name.casefold())
        names.append(name)
    return names


def _by_strategy(result) -> dict[str, StrategyResult]:
    """Strategy id → :class:`~costspine.reports.run_results.StrategyResult` of one result, in its order."""
    return {s.strategy: s for s in strategy_results(result)}


def build_comparison_workbook(results, *, manifest: dict) -> Workbook:
    """One workbook comparing the base cases of several scenarios (``costspine run A B ...``).

    Parameters
    ----------
    results : list of CohortResult
    manifest : dict

    Returns
    -------
    Workbook
        Summary (scenario × strategy: cost by category, total, outcomes, indicators at the report
        times, difference from the first scenario), Inputs (every parameter's value in every
        scenario), Costs (stacked bars by scenario and strategy; total cost per scenario),
        Cost-effectiveness (each scenario's incremental results and sequential incremental table),
        Trajectory, About.
    """
    names = _scenario_names(results)
    first = results[0]
    runs = [_by_strategy(r) for r in results]
    base = runs[0]
    currency = first.scenario.settings.currency
    categories = unique_labels({c: text for r in results for c, text in category_labels(r.scenario).items()})
    outcomes = unique_labels({o: text for r in results for o, text in outcome_labels(r.scenario).items()})
    effect = first.scenario.analysis.effect
    effect_label = outcomes.get(effect, effect)
    times = list(dict.fromkeys(t for r in results if r.indicator_names for t in report_times(r)))
    indicators = unique_labels({i: text for r in results for i, text in indicator_labels(r.scenario).items()})

    columns = [
        Column("Scenario"),
        Column("Strategy"),
        *(Column(text, "currency") for text in categories.values()),
        Column("Total cost", "currency"),
        *(Column(text, "number", decimals=EFFECT_DECIMALS) for text in outcomes.values()),
        *(
            Column(f"{text}, {describe_time(t)}", "number", decimals=INDICATOR_DECIMALS)
            for text in indicators.values()
            for t in times
        ),
        Column(f"Cost vs {names[0]}", "currency"),
        Column(f"{effect_label} vs {names[0]}", "number", decimals=EFFECT_DECIMALS),
    ]
    header = unique_labels({i: c.name for i, c in enumerate(columns)})
    columns = [Column(header[i], c.kind, c.decimals) for i, c in enumerate(columns)]
    rows = []
    for name, run in zip(names, runs):
        for strategy, e in run.items():
            ref = base.get(strategy)
            rows.append(
                (
                    name,
                    e.label,
                    *(e.cost_by_category.get(c) for c in categories),
                    e.cost_total,
                    *(e.outcomes.get(o) for o in outcomes),
                    *(e.indicators.get(i, {}).get(t) for i in indicators for t in times),
                    None if ref is None else e.cost_total - ref.cost_total,
                    None if ref is None or effect not in e.outcomes else e.outcomes[effect] - ref.outcomes[effect],
                )
            )
    horizon = describe_horizon(first.scenario.settings)
    headline = Table("headline", tuple(columns), rows, title=f"Expected results per patient by scenario and strategy ({horizon})")

    sheets = [
        _comparison_costs_sheet(names, runs, categories, currency),
        _comparison_cea_sheet(names, results, runs),
        _comparison_trajectory_sheet(names, results),
    ]
    description = "\n".join(
        f"{k}. {name}: {one_line(r.scenario.title or r.scenario.name)}"
        for k, (name, r) in enumerate(zip(names, results), start=1)
    )
    inputs, prices = build_scenario_inputs(names, [r.scenario for r in results])
    return Workbook(
        title=f"Scenario comparison: {', '.join(names)}"[:200],
        description=description,
        currency=currency,
        reading=describe_scenarios(names, results),
        headline=headline,
        inputs=inputs,
        unit_prices=prices,
        sheets=tuple(s for s in sheets if s is not None),
        about=build_about(manifest),
    )


def describe_scenarios(names, results) -> list[str]:
    """Reading of a comparison: what each scenario changes against the first, and each one's verdict."""
    runs = [_by_strategy(r) for r in results]
    base = runs[0]
    currency = results[0].scenario.settings.currency
    effect = results[0].scenario.analysis.effect
    effect_label = effect_label_of(results[0].scenario, effect)
    sentences = [
        f"{len(names)} scenarios per patient over {describe_horizon(results[0].scenario.settings)}; "
        f"differences are against {names[0]}. "
        + describe_money(results[0].scenario.settings, effect_label)
        + " "
        + describe_perspective(results[0].scenario.analysis)
    ]
    perspectives = {r.scenario.analysis.perspective_text for r in results}
    if len(perspectives) > 1:
        sentences.append(
            "Caution: the scenarios count costs from different perspectives ("
            + "; ".join(f"{n}: {r.scenario.analysis.perspective_text}" for n, r in zip(names, results))
            + "); their differences include costs one of them does not count."
        )
    money = {(r.scenario.settings.currency, r.scenario.settings.price_year) for r in results}
    if len(money) > 1:
        sentences.append(
            "Caution: the scenarios count money differently ("
            + ", ".join(f"{c} {y}" for c, y in sorted(money))
            + "); each amount is in its own scenario's currency and price year, and differences mix them."
        )
    for name, run in zip(names[1:], runs[1:]):
        parts = []
        for strategy, e in run.items():
            ref = base.get(strategy)
            if ref is None:
                continue
            dc = e.cost_total - ref.cost_total
            cost = "the same cost" if abs(dc) < 0.005 else f"{format_money(dc, currency)} {'more' if dc > 0 else 'less'}"
            de = e.outcomes.get(effect, math.nan) - ref.outcomes[effect]
            gain = (
                ""
                if not math.isfinite(de)
                else (
                    f", {format_amount(de)} {'more' if de > 0 else 'fewer'} {in_sentence(effect_label)}"
                    if de != 0
                    else f", the same {in_sentence(effect_label)}"
                )
            )
            parts.append(f"{in_sentence(e.label)} {cost}{gain}")
        if parts:
            sentences.append(f"{name} against {names[0]}: " + "; ".join(parts) + ".")
    for name, result, run in zip(names, results, runs):
        analysis = result.scenario.analysis
        label = effect_label_of(result.scenario, analysis.effect)
        comparator = run[analysis.comparator]
        verdicts = [
            describe_verdict(e, comparator, currency=result.scenario.settings.currency, effect_label=label)
            for s, e in run.items()
            if s != analysis.comparator
        ]
        if verdicts:
            sentences.append(f"In {name}: " + "; ".join(verdicts) + ".")
    return sentences


def _bar_label(name: str, strategy_label: str) -> str:
    return f"{name} / {strategy_label}"


def _comparison_costs_sheet(names, runs, categories: dict, currency: str) -> Sheet:
    label = "Scenario / strategy"
    cat_labels = unique_labels(categories, taken=(label, "Total"))
    columns = (Column(label), *(Column(text, "currency") for text in cat_labels.values()), Column("Total", "currency"))
    rows = [
        (_bar_label(name, e.label), *(e.cost_by_category.get(c) for c in cat_labels), e.cost_total)
        for name, run in zip(names, runs)
        for e in run.values()
    ]
    by_category = Table("costs_by_scenario", columns, rows, title="Cost per patient by category")
    strategies = {s: e.label for run in runs for s, e in run.items()}
    strategy_labels = unique_labels(strategies, taken=("Scenario",))
    totals = Table(
        "total_cost_by_scenario",
        (Column("Scenario"), *(Column(text, "currency") for text in strategy_labels.values())),
        [(name, *(run[s].cost_total if s in run else None for s in strategy_labels)) for name, run in zip(names, runs)],
        title="Total cost per patient",
    )
    charts = (
        Chart(
            "stacked_bar",
            "Cost per patient by category",
            "costs_by_scenario",
            label,
            tuple(cat_labels.values()),
            x_title="Scenario / strategy",
            y_title=f"Cost per patient ({currency})",
        ),
        Chart(
            "bar",
            "Total cost per patient by scenario",
            "total_cost_by_scenario",
            "Scenario",
            tuple(strategy_labels.values()),
            x_title="Scenario",
            y_title=f"Cost per patient ({currency})",
        ),
    )
    return Sheet("Costs", (by_category, totals), charts, notes=("Expected cost per patient, as on the Summary sheet.",))


def _comparison_cea_sheet(names, results, runs) -> Sheet:
    currency = results[0].scenario.settings.currency
    effect_label = effect_label_of(results[0].scenario, results[0].scenario.analysis.effect)
    unit = singular(effect_label)
    columns = (
        Column("Scenario"),
        Column("Strategy"),
        Column("Total cost", "currency"),
        Column(effect_label, "number", decimals=EFFECT_DECIMALS),
        Column("Incremental cost", "currency"),
        Column(f"Incremental {in_sentence(effect_label)}", "number", decimals=EFFECT_DECIMALS),
        Column(f"ICER ({currency} per {in_sentence(unit)})", "currency"),
        Column("Efficiency frontier"),
    )
    rows = [
        (
            name,
            e.label,
            e.cost_total,
            e.outcomes.get(result.scenario.analysis.effect),
            e.incremental_cost,
            e.incremental_effect,
            icer_cell(e, strategy, result.scenario.analysis.comparator),
            e.frontier_status,
        )
        for name, result, run in zip(names, results, runs)
        for strategy, e in run.items()
    ]
    table = Table("cea_by_scenario", columns, rows, title="Incremental results within each scenario")
    sequential = Table(
        "incremental_by_scenario",
        (
            Column("Scenario"),
            Column("Strategy"),
            Column("Cost", "currency"),
            Column(effect_label, "number", decimals=EFFECT_DECIMALS),
            Column("Status"),
            Column(f"ICER ({currency} per {in_sentence(unit)})", "currency"),
            Column("Compared with"),
        ),
        [
            (
                name,
                t.labels[k],
                float(t.cost[k]),
                float(t.effect[k]),
                t.status[k],
                float(t.icer[k]) if math.isfinite(t.icer[k]) else None,
                t.describe(k),
            )
            for name, t in zip(names, map(compute_result_incremental, results))
            for k in range(len(t.strategies))
        ],
        title="Sequential incremental analysis within each scenario",
    )
    notes = (
        "Each scenario against its own comparator.",
        "Sequential table: strategies by cost; ND non-dominated (on the frontier), D dominated, ED extendedly "
        "dominated; each ND strategy's ICER is against the previous ND strategy.",
    )
    return Sheet("Cost-effectiveness", (table, sequential), notes=notes)


def _comparison_trajectory(names, results) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """Union of time points and, per indicator, one series per 'scenario / strategy' (NaN where absent)."""
    grids = [np.round(np.arange(r.trace.shape[2]) * r.scenario.settings.cycle_years, 9) for r in results if r.indicator_names]
    time = np.unique(np.concatenate(grids)) if grids else np.array([])
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, r in zip(names, results):
        if not r.indicator_names:
            continue
        own_time, series = trajectory_series(r)
        index = np.searchsorted(time, np.round(own_time, 9))
        for indicator, by_strategy in series.items():
            for strategy_label, values in by_strategy.items():
                full = np.full(len(time), np.nan)
                full[index] = values
                out.setdefault(indicator, {})[_bar_label(name, strategy_label)] = full
    return time, out


def _comparison_trajectory_sheet(names, results) -> Sheet | None:
    time, series = _comparison_trajectory(names, results)
    if not series:
        return None
    labels = unique_labels({i: text for r in results for i, text in indicator_labels(r.scenario).items()})
    tables, charts = [], []
    for n, (indicator, by_line) in enumerate(series.items()):
        line_labels = unique_labels({k: k for k in by_line}, taken=("Years",))
        columns = (
            Column("Years", "number", decimals=2),
            *(Column(text, "number", decimals=INDICATOR_DECIMALS) for text in line_labels.values()),
        )
        rows = [(float(t), *(None if math.isnan(v[j]) else float(v[j]) for v in by_line.values())) for j, t in enumerate(time)]
        table_name = f"trajectory_{n + 1}"
        tables.append(Table(table_name, columns, rows, title=f"{labels[indicator]} by scenario and strategy"))
        charts.append(
            Chart(
                "line",
                f"{labels[indicator]} over time",
                table_name,
                "Years",
                tuple(line_labels.values()),
                x_title="Years from start",
                y_title=labels[indicator],
            )
        )
    return Sheet("Trajectory", tuple(tables), tuple(charts))


def build_scenario_inputs(names, scenarios) -> tuple[Table, Table | None]:
    """Inputs of several scenarios: every parameter's base-case value in each (a 'Differs' column flags
    what a policy scenario changes), and unit prices once per distinct ``[unit_costs]`` section.

    Returns ``(parameters, unit_prices)``; ``unit_prices`` is None when no scenario has prices.
    """
    from costspine.reports.run_summary import scenario_parameter_rows

    per_scenario = [{row[0]: row for row in scenario_parameter_rows(s)} for s in scenarios]
    order = list(dict.fromkeys(name for rows in per_scenario for name in rows))
    value_names = unique_labels({n: n for n in names}, taken=("Parameter", "Differs", "Distribution", "Arguments", "Source"))
    columns = (
        Column("Parameter"),
        *(Column(v, "number", decimals=VALUE_DECIMALS) for v in value_names.values()),
        Column("Differs"),
        Column("Distribution"),
        Column("Arguments"),
        Column("Source"),
    )
    rows = []
    for parameter in order:
        present = [rows_[parameter] for rows_ in per_scenario if parameter in rows_]
        values = [cell_value(rows_[parameter][1]) if parameter in rows_ else None for rows_ in per_scenario]
        described = {tuple(p[1:4]) for p in present}
        differs = "yes" if len(described) > 1 or len(present) < len(scenarios) else ""
        sources = list(dict.fromkeys(p[4] for p in present))
        if len(sources) == 1:
            source = sources[0]
        else:
            source = "\n".join(f"{name}: {rows_[parameter][4]}" for name, rows_ in zip(names, per_scenario) if parameter in rows_)
        rows.append((parameter, *values, differs, present[0][2], present[0][3], source))
    inputs = Table("parameters", columns, rows, title="Parameters (base-case value in each scenario)")
    return inputs, build_scenario_prices(names, scenarios)


def build_scenario_prices(names, scenarios) -> Table | None:
    """Unit prices of several scenarios, once per distinct ``[unit_costs]`` section, with a
    'Scenarios' column naming those that use them ('all' when every one does); None without prices."""
    groups: dict[str, tuple[list, object]] = {}  # one entry per distinct [unit_costs] section
    for name, scenario in zip(names, scenarios):
        section = scenario.sections.get("unit_costs")
        if section:
            groups.setdefault(repr(sorted(section.items())), ([], scenario))[0].append(name)
    if not groups:
        return None
    price_rows = []
    for members, scenario in groups.values():
        shown = "all" if len(members) == len(names) else ", ".join(members)
        price_rows += [(shown, *unit_price_row(p)) for p in resolve_scenario_prices(scenario)]
    return Table(
        "unit_prices",
        (Column("Scenarios"), *UNIT_PRICE_COLUMNS),
        price_rows,
        title="Unit prices: catalogue price × CPI factor × payer multiplier",
    )


def plan_comparison_figures(results, *, folder) -> list[partial]:
    """The comparison's PNG figures: cost by category per scenario and strategy, indicators over time.

    Returns ``functools.partial`` calls as :func:`plan_run_figures` does.
    """
    from costspine.reports import figures

    folder = Path(folder)
    names = _scenario_names(results)
    currency = results[0].scenario.settings.currency
    categories = unique_labels({c: text for r in results for c, text in category_labels(r.scenario).items()})
    bars = [(name, e) for name, r in zip(names, results) for e in strategy_results(r)]
    series = {label: [e.cost_by_category.get(c, 0.0) for _, e in bars] for c, label in categories.items()}
    plans = [
        partial(
            figures.to_png(figures.plot_cost_by_category),
            [f"{name}\n{e.label}" for name, e in bars],
            series,
            currency=currency,
            path=folder / "cost_by_category.png",
            title="Cost per patient by category, by scenario and strategy",
        )
    ]
    time, by_indicator = _comparison_trajectory(names, results)
    labels = unique_labels({i: text for r in results for i, text in indicator_labels(r.scenario).items()})
    for indicator, lines in by_indicator.items():
        plans.append(
            partial(
                figures.to_png(figures.plot_trajectory),
                time,
                lines,
                ylabel=labels[indicator],
                title=f"{labels[indicator]} over time",
                path=folder / f"{indicator}_trajectory.png",
            )
        )
    return plans
