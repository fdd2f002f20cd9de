"""Results → report descriptions: each command's :class:`~costspine.reports.workbook.Workbook` and its figures.

This is the one place that decides what a reader sees: which tables, which charts, which
sentences. It holds no openpyxl and no matplotlib: workbooks are plain descriptions written by
:func:`costspine.reports.excel.write_workbook`, and figures are *planned* here as calls to the
``plot_*`` functions of :mod:`costspine.reports.figures` (``functools.partial`` objects with their
``path``), which the command runs when it writes its files.

Numbers are read from typed fields: the result's arrays and its CEA table through
:func:`costspine.reports.run_results.strategy_results` (the same expressions
:func:`costspine.reports.run_summary.summarize_result` writes to ``summary.json``), and the
sequential table from :func:`costspine.analysis.cea.compute_result_incremental`.

Example
-------
>>> from datetime import UTC, datetime
>>> from costspine import load_scenario, run_cohort
>>> from costspine.reports.manifest import build_manifest
>>> result = run_cohort(load_scenario("scenarios/examples/hiv_chancellor.toml"))
>>> manifest = build_manifest(command="run", argv=[], inputs=[], started=datetime.now(UTC), outputs=[])
>>> book = build_run_workbook(result, manifest=manifest)
>>> book.sheet_names
('Summary', 'Inputs', 'Costs', 'Incremental', 'Net benefit', 'Trace', 'About')
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from costspine.analysis.cea import compute_result_incremental
from costspine.reports.inputs import (
    build_about,
    build_parameter_table,
    build_unit_price_table,
)
from costspine.reports.run_results import strategy_results
from costspine.reports.text import report_times
from costspine.reports.wording import (
    EFFECT_DECIMALS,
    INDICATOR_DECIMALS,
    category_labels,
    describe_comparison,
    describe_horizon,
    describe_money,
    describe_perspective,
    describe_time,
    effect_label_of,
    format_money,
    icer_cell,
    in_sentence,
    indicator_labels,
    join_words,
    one_line,
    outcome_labels,
    singular,
    unique_labels,
)
from costspine.reports.workbook import (
    Chart,
    Column,
    Sheet,
    Table,
    Workbook,
)

# ---------------------------------------------------------------------------------------- reading


def describe_best_nmb(result, *, effect_label: str) -> str | None:
    """'ICE has the highest net monetary benefit at $50,000, $100,000 and $150,000 per QALY.'"""
    wtp = list(result.scenario.analysis.wtp)
    if not wtp:
        return None
    currency, unit = result.scenario.settings.currency, singular(in_sentence(effect_label))
    strategies = strategy_results(result)
    groups: dict[str, list[str]] = {}
    for j, w in enumerate(wtp):
        values = {k: s.nmb[j] for k, s in enumerate(strategies)}
        if any(v is None or not math.isfinite(v) for v in values.values()):
            return None
        best = max(values, key=values.get)
        groups.setdefault(strategies[best].label, []).append(format_money(w, currency))
    parts = [f"{label} at {join_words(amounts)} per {unit}" for label, amounts in groups.items()]
    return "Highest net monetary benefit: " + "; ".join(parts) + "."


def describe_run(result) -> list[str]:
    """Plain-language reading of a base-case run: each strategy against the comparator, the frontier,
    the best net benefit, how money is counted, indicators at the last report time."""
    scenario = result.scenario
    settings = scenario.settings
    analysis = scenario.analysis
    effect_label = effect_label_of(scenario, analysis.effect)
    horizon = describe_horizon(settings)
    strategies = strategy_results(result)
    comparator = next(s for s in strategies if s.strategy == analysis.comparator)
    currency = settings.currency
    sentences = [
        describe_comparison(s, comparator, currency=currency, effect_label=effect_label, horizon=horizon)
        for s in strategies
        if s.strategy != analysis.comparator
    ]
    off = [(s.label, s.frontier_status) for s in strategies if s.frontier_status != "frontier"]
    if off:
        sentences.append(
            "Off the efficiency frontier: "
            + "; ".join(f"{label} ({status})" for label, status in off)
            + " — another strategy, or a mix of two, gives more health for less money."
        )
    best = describe_best_nmb(result, effect_label=effect_label)
    if best:
        sentences.append(best)
    sentences.append(describe_money(settings, effect_label))
    sentences.append(describe_perspective(analysis))
    if result.indicator_names:
        t = report_times(result)[-1]
        for name, label in indicator_labels(scenario).items():
            values = ", ".join(f"{in_sentence(s.label)} {s.indicators[name][t]:.{INDICATOR_DECIMALS}f}" for s in strategies)
            sentences.append(f"{label} at {describe_time(t)}: {values}.")
    if result.method == "microsim":
        sentences.append(
            f"Microsimulation of {result.n_individuals:,} individuals per strategy (seed {result.seed}); "
            "Monte Carlo standard errors are on the 'Monte Carlo error' sheet."
        )
    return sentences


def workbook_path(xlsx_path, *, out_dir, command: str) -> Path:
    """Where a command writes its workbook: ``--xlsx PATH`` if given, else ``<command>.xlsx`` in ``out_dir``.

    Raises
    ------
    UsageError
        ``PATH`` does not end in ``.xlsx`` (checked before the command computes anything).
    """
    from costspine.errors import UsageError

    path = Path(xlsx_path) if xlsx_path is not None else Path(out_dir) / f"{command}.xlsx"
    if path.suffix.lower() != ".xlsx":
        raise UsageError(
            f"--xlsx {path}: a workbook must be written to a .xlsx file; got suffix {path.suffix!r} — "
            f"use {path.with_suffix('.xlsx').name}"
        )
    return path


def output_name(path, out_dir) -> str:
    """A written file as a manifest lists it: relative to the output folder when inside it, else as given."""
    try:
        return str(Path(path).relative_to(out_dir))
    except ValueError:
        return str(path)


def with_about(book: Workbook, manifest: dict) -> Workbook:
    """``book`` with its About sheet rebuilt from ``manifest``.

    A command builds (and so checks) its workbook before writing any file, with a provisional
    manifest, and swaps in the final one — listing every file written — just before writing it.
    """
    return replace(book, about=build_about(manifest))


# ---------------------------------------------------------------------------------------- run


def _headline_columns(result) -> tuple[list[Column], list]:
    """Columns of the run's headline table and, for each, how to read its value from a :class:`StrategyResult`."""
    scenario = result.scenario
    currency = scenario.settings.currency
    effect = scenario.analysis.effect
    outcomes = outcome_labels(scenario)
    effect_label = outcomes.get(effect, effect)
    unit = singular(effect_label)
    columns = [Column("Strategy"), Column("Total cost", "currency")]
    keys = [lambda s: s.label, lambda s: s.cost_total]
    order = [effect] + [o for o in outcomes if o != effect]
    for name in order:
        columns.append(Column(outcomes[name], "number", decimals=EFFECT_DECIMALS))
        keys.append(lambda s, name=name: s.outcomes[name])
    if result.indicator_names:
        for name, label in indicator_labels(scenario).items():
            for t in report_times(result):
                columns.append(Column(f"{label}, {describe_time(t)}", "number", decimals=INDICATOR_DECIMALS))
                keys.append(lambda s, name=name, t=t: s.indicators[name][t])
    comparator = scenario.analysis.comparator
    columns += [
        Column("Incremental cost", "currency"),
        Column(f"Incremental {in_sentence(effect_label)}", "number", decimals=EFFECT_DECIMALS),
        Column(f"ICER ({currency} per {in_sentence(unit)})", "currency"),
        Column("Efficiency frontier"),
    ]
    keys += [
        lambda s: s.incremental_cost,
        lambda s: s.incremental_effect,
        lambda s: icer_cell(s, s.strategy, comparator),
        lambda s: s.frontier_status,
    ]
    names = unique_labels({i: c.name for i, c in enumerate(columns)})
    columns = [Column(names[i], c.kind, c.decimals) for i, c in enumerate(columns)]
    return columns, keys


def build_headline_table(result) -> Table:
    """Per strategy: total cost, outcomes, indicators at the report times, incremental results, ICER, frontier."""
    columns, keys = _headline_columns(result)
    rows = [tuple(key(s) for key in keys) for s in strategy_results(result)]
    return Table(
        "headline", tuple(columns), rows, title=f"Expected results per patient over {describe_horizon(result.scenario.settings)}"
    )


def _cost_table(name: str, strategies, category_labels: dict, *, undiscounted: bool, title: str) -> Table:
    columns = (
        Column("Strategy"),
        *(Column(label, "currency") for label in category_labels.values()),
        Column("Total", "currency"),
    )
    if undiscounted:
        rows = [
            (s.label, *(s.cost_by_category_undiscounted[c] for c in category_labels), s.cost_total_undiscounted)
            for s in strategies
        ]
    else:
        rows = [(s.label, *(s.cost_by_category[c] for c in category_labels), s.cost_total) for s in strategies]
    return Table(name, columns, rows, title=title)


def build_costs_sheet(result) -> Sheet:
    """Cost by category and strategy (discounted, and undiscounted when it differs), stacked-bar chart."""
    settings = result.scenario.settings
    labels = unique_labels(category_labels(result.scenario), taken=("Strategy", "Total"))
    currency = settings.currency
    strategies = strategy_results(result)
    discounted = settings.discount_costs != 0
    tables = [
        _cost_table(
            "costs_by_category",
            strategies,
            labels,
            undiscounted=False,
            title="Cost per patient by category" + (" (discounted)" if discounted else ""),
        )
    ]
    if discounted:
        tables.append(
            _cost_table(
                "costs_by_category_undiscounted",
                strategies,
                labels,
                undiscounted=True,
                title="Cost per patient by category (undiscounted)",
            )
        )
    chart = Chart(
        "stacked_bar",
        "Cost per patient by category",
        "costs_by_category",
        "Strategy",
        tuple(labels.values()),
        x_title="Strategy",
        y_title=f"Cost per patient ({currency})",
    )
    notes = [f"Expected cost per patient over {describe_horizon(settings)}, {currency} at {settings.price_year} prices."]
    if discounted:
        notes.append(f"Costs discounted at {settings.discount_costs:.1%} a year; undiscounted totals on the right.")
    return Sheet("Costs", tuple(tables), (chart,), notes=tuple(notes))


def build_net_benefit_sheet(result) -> Sheet | None:
    """Net monetary benefit of each strategy at each willingness to pay, with a line chart."""
    wtp = list(result.scenario.analysis.wtp)
    if not wtp:
        return None
    currency = result.scenario.settings.currency
    effect_label = effect_label_of(result.scenario, result.scenario.analysis.effect)
    unit = singular(effect_label)
    strategies = strategy_results(result)
    x_name = f"WTP ({currency} per {in_sentence(unit)})"
    labels = unique_labels({k: s.label for k, s in enumerate(strategies)}, taken=(x_name,))
    columns = (Column(x_name, "currency"), *(Column(label, "currency") for label in labels.values()))
    rows = [(float(w), *(strategies[k].nmb[j] for k in labels)) for j, w in enumerate(wtp)]
    table = Table("net_benefit", columns, rows, title="Net monetary benefit per patient")
    chart = Chart(
        "line",
        "Net monetary benefit by willingness to pay",
        "net_benefit",
        x_name,
        tuple(labels.values()),
        x_title=f"Willingness to pay ({currency} per {in_sentence(unit)})",
        y_title=f"Net monetary benefit ({currency})",
    )
    notes = (
        f"Net monetary benefit = {in_sentence(effect_label)} × willingness to pay − cost; the strategy with the "
        "highest value is cost-effective at that threshold.",
    )
    return Sheet("Net benefit", (table,), (chart,), notes=notes)


def trajectory_series(result) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """Time points (years) and, per indicator, the mean per strategy label at every trace point."""
    scenario = result.scenario
    time = np.arange(result.trace.shape[2]) * scenario.settings.cycle_years
    labels = unique_labels({s: one_line(scenario.strategy_labels.get(s, s)) for s in result.strategies}, taken=("Cycle", "Years"))
    out = {}
    with np.errstate(invalid="ignore"):
        for i, name in enumerate(result.indicator_names):
            values = result.indicators[..., i]
            mean = np.nanmean(values, axis=0) if values.shape[0] > 1 else values[0]
            out[name] = {labels[s]: mean[k] for k, s in enumerate(result.strategies)}
    return time, out


def build_trajectory_sheet(result) -> Sheet | None:
    """Each indicator (e.g. mean ODI) at every cycle, by strategy, with a line chart each."""
    if not result.indicator_names:
        return None
    time, series = trajectory_series(result)
    labels = indicator_labels(result.scenario)
    tables, charts = [], []
    for n, (name, by_strategy) in enumerate(series.items()):
        table_name = f"trajectory_{n + 1}"
        columns = (
            Column("Cycle", "int"),
            Column("Years", "number", decimals=2),
            *(Column(s, "number", decimals=INDICATOR_DECIMALS) for s in by_strategy),
        )
        rows = [(t, time[t], *(float(v[t]) for v in by_strategy.values())) for t in range(len(time))]
        rows = [tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row) for row in rows]
        tables.append(Table(table_name, columns, rows, title=f"{labels[name]} by strategy"))
        charts.append(
            Chart(
                "line",
                f"{labels[name]} over time",
                table_name,
                "Years",
                tuple(by_strategy),
                x_title="Years from start",
                y_title=labels[name],
            )
        )
    notes = ("Mean over the people alive at each cycle's end (cycle 0 is the start).",)
    return Sheet("Trajectory", tuple(tables), tuple(charts), notes=notes)


INCREMENTAL_STATUS = {"ND": "ND (on the frontier)", "D": "D (dominated)", "ED": "ED (extendedly dominated)"}


def _finite_or_none(value) -> float | None:
    return float(value) if math.isfinite(value) else None


def build_incremental_sheet(result) -> Sheet:
    """The sequential incremental table (:func:`costspine.analysis.cea.compute_result_incremental`): strategies
    by cost, ND / D / ED, and each frontier strategy's ICER against the previous one."""
    table = compute_result_incremental(result)
    currency = result.scenario.settings.currency
    effect_label = effect_label_of(result.scenario, result.scenario.analysis.effect)
    unit = in_sentence(singular(effect_label))
    columns = (
        Column("Strategy"),
        Column("Cost", "currency"),
        Column(effect_label, "number", decimals=EFFECT_DECIMALS),
        Column("Status"),
        Column("Incremental cost", "currency"),
        Column(f"Incremental {in_sentence(effect_label)}", "number", decimals=EFFECT_DECIMALS),
        Column(f"ICER ({currency} per {unit})", "currency"),
        Column("Compared with"),
    )
    rows = [
        (
            table.labels[k],
            float(table.cost[k]),
            float(table.effect[k]),
            INCREMENTAL_STATUS[table.status[k]],
            _finite_or_none(table.incremental_cost[k]),
            _finite_or_none(table.incremental_effect[k]),
            _finite_or_none(table.icer[k]),
            table.describe(k),
        )
        for k in range(len(table.strategies))
    ]
    notes = (
        "Strategies in order of cost. ND: non-dominated, on the efficiency frontier; D: dominated (another "
        "strategy costs no more and yields at least as much); ED: extendedly dominated (a mix of the two "
        "neighbouring frontier strategies yields more for less).",
        "Each ND strategy after the first is compared with the previous ND strategy; dominated strategies have no ICER.",
    )
    return Sheet("Incremental", (Table("incremental", columns, rows, title="Sequential incremental analysis"),), notes=notes)


def trace_series(result) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """Time points (years) and, per strategy label, the occupancy of each state label (base case / first draw)."""
    scenario = result.scenario
    time = np.arange(result.trace.shape[2]) * scenario.settings.cycle_years
    strategies = unique_labels({s: one_line(scenario.strategy_labels.get(s, s)) for s in result.strategies})
    states = unique_labels({s: one_line(scenario.state_labels.get(s, s)) for s in scenario.states}, taken=("Cycle", "Years"))
    return time, {
        strategies[s]: {states[x]: result.trace[0, k, :, i] for i, x in enumerate(scenario.states)}
        for k, s in enumerate(result.strategies)
    }


def build_trace_sheet(result) -> Sheet:
    """The Markov trace: share of the cohort in each state at every cycle, one table and line chart per strategy."""
    time, series = trace_series(result)
    tables, charts = [], []
    for n, (strategy, by_state) in enumerate(series.items()):
        name = f"trace_{n + 1}"
        columns = (
            Column("Cycle", "int"),
            Column("Years", "number", decimals=2),
            *(Column(state, "probability", decimals=4) for state in by_state),
        )
        rows = [(t, float(time[t]), *(float(v[t]) for v in by_state.values())) for t in range(len(time))]
        tables.append(Table(name, columns, rows, title=f"Markov trace: {strategy}"))
        charts.append(
            Chart(
                "line",
                f"State occupancy: {strategy}",
                name,
                "Years",
                tuple(by_state),
                x_title="Years from start",
                y_title="Share of the cohort (0–1)",
            )
        )
    notes = (
        "Share of the cohort in each state at the start (cycle 0) and at the end of every cycle; base case "
        "(first draw). Also in trace.csv.",
    )
    return Sheet("Trace", tuple(tables), tuple(charts), notes=notes)


def build_mcse_sheet(result) -> Sheet | None:
    """Monte Carlo standard errors of a microsimulation run (base case / first draw); ``None`` for a cohort run."""
    if result.method != "microsim":
        return None
    categories, outcomes = category_labels(result.scenario), outcome_labels(result.scenario)
    analysis = result.scenario.analysis
    rows = []
    for k, entry in enumerate(strategy_results(result)):
        label = entry.label
        rows.append((label, "Total cost", entry.cost_total, float(result.total_cost_se[0, k])))
        for i, category in enumerate(result.categories):
            rows.append(
                (
                    label,
                    f"Cost: {categories.get(category, category)}",
                    entry.cost_by_category[category],
                    float(result.costs_se[0, k, i]),
                )
            )
        for i, outcome in enumerate(result.outcome_names):
            rows.append((label, outcomes.get(outcome, outcome), entry.outcomes[outcome], float(result.outcomes_se[0, k, i])))
        if entry.strategy != analysis.comparator:
            rows.append((label, "Incremental cost", entry.incremental_cost, float(result.incremental_cost_se[0, k])))
            for i, outcome in enumerate(result.outcome_names):
                mean = entry.incremental_effect if outcome == analysis.effect else None
                rows.append(
                    (
                        label,
                        f"Incremental {in_sentence(outcomes.get(outcome, outcome))}",
                        mean,
                        float(result.incremental_outcomes_se[0, k, i]),
                    )
                )
    columns = (
        Column("Strategy"),
        Column("Quantity"),
        Column("Mean", "number", decimals=4),
        Column("Monte Carlo SE", "number", decimals=4),
    )
    table = Table("monte_carlo_error", columns, rows, title="Monte Carlo standard errors")
    note = (
        f"{result.n_individuals:,} individuals per strategy, seed {result.seed}, common random numbers: "
        f"{'yes' if result.common_random_numbers else 'no'}.",
    )
    return Sheet("Monte Carlo error", (table,), notes=note)


def build_run_workbook(result, *, manifest: dict, extra_sheets=()) -> Workbook:
    """The ``run`` workbook of one scenario.

    Parameters
    ----------
    result : CohortResult or MicrosimResult
        Base-case result (:func:`costspine.simulate.cohort.run_cohort`, :func:`costspine.simulate.microsim.run_microsim`).
    manifest : dict
        :func:`costspine.reports.manifest.build_manifest` of the command, for the About sheet.
    extra_sheets : sequence of Sheet or None
        Added after the Incremental sheet (e.g. "Subgroups", :func:`costspine.reports.subgroup_report.build_subgroup_sheet`).

    Returns
    -------
    Workbook
        Summary (reading and headline), Inputs (parameters; unit prices when the scenario has a
        ``[unit_costs]`` section), Costs, Incremental (the sequential incremental table), the extra
        sheets, Net benefit, Trace (state occupancy), Trajectory (when the scenario has indicators),
        Monte Carlo error (microsimulation), About.
    """
    scenario = result.scenario
    sheets = [
        build_costs_sheet(result),
        build_incremental_sheet(result),
        *extra_sheets,
        build_net_benefit_sheet(result),
        build_trace_sheet(result),
        build_trajectory_sheet(result),
        build_mcse_sheet(result),
    ]
    return Workbook(
        title=one_line(scenario.title or scenario.name),
        description=scenario.description or "",
        currency=scenario.settings.currency,
        reading=describe_run(result),
        headline=build_headline_table(result),
        inputs=build_parameter_table(scenario),
        unit_prices=build_unit_price_table(scenario),
        sheets=tuple(s for s in sheets if s is not None),
        about=build_about(manifest),
    )


def plan_run_figures(result, *, folder) -> list[partial]:
    """The run's PNG figures as calls to make: cost by category, the trace, and each indicator over time.

    Returns ``functools.partial`` objects of :mod:`costspine.reports.figures` functions; each
    one's ``keywords["path"]`` is the file it writes (in ``folder``). Nothing is drawn here.
    """
    from costspine.reports import figures

    folder = Path(folder)
    currency = result.scenario.settings.currency
    labels = category_labels(result.scenario)
    strategies = strategy_results(result)
    series = {labels[c]: [s.cost_by_category[c] for s in strategies] for c in labels}
    horizon = describe_horizon(result.scenario.settings)
    plans = [
        partial(
            figures.to_png(figures.plot_cost_by_category),
            [s.label for s in strategies],
            series,
            currency=currency,
            path=folder / "cost_by_category.png",
            title=f"Cost per patient by category, {horizon}",
        )
    ]
    time, by_strategy = trace_series(result)
    plans.append(
        partial(
            figures.to_png(figures.plot_trace),
            time,
            by_strategy,
            path=folder / "trace.png",
            title=f"Markov trace: share of the cohort in each state, {horizon}",
        )
    )
    if result.indicator_names:
        time, by_indicator = trajectory_series(result)
        labels = indicator_labels(result.scenario)
        for name, values in by_indicator.items():
            plans.append(
                partial(
                    figures.to_png(figures.plot_trajectory),
                    time,
                    values,
                    ylabel=labels[name],
                    title=f"{labels[name]} over time",
                    path=folder / f"{name}_trajectory.png",
                )
            )
    return plans
