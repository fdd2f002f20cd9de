"""Workbooks and figures of ``costspine psa`` and ``voi`` (``dsa``: :mod:`costspine.reports.build_dsa`; ``bia``:
:mod:`costspine.reports.build_bia`).

Like :mod:`costspine.reports.build` (whose helpers it uses), each ``build_*_workbook`` describes a
:class:`~costspine.reports.workbook.Workbook` whose headline numbers are read from the command's
``summary`` (what ``summary.json`` holds) or from the same records, and each ``plan_*_figures``
returns ``functools.partial`` calls of :mod:`costspine.reports.figures` (``keywords["path"]`` is
the file). No openpyxl, no matplotlib, no files written here.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import numpy as np

from costspine.reports.inputs import (
    build_about,
    build_parameter_table,
    build_unit_price_table,
)
from costspine.reports.wording import (
    Increment,
    category_labels,
    describe_comparison,
    describe_horizon,
    describe_money,
    describe_perspective,
    effect_label_of,
    format_money,
    icer_cell,
    in_sentence,
    join_words,
    one_line,
    singular,
    unique_labels,
)
from costspine.reports.workbook import Chart, Column, Sheet, Table, Workbook

MAX_PLANE_ROWS = 1000  # draws shown on the CE-plane sheet (every draw is in draws/)


def _at_each(pairs: list[tuple[str, str]], unit: str) -> str:
    """'$217 at $5,000 and $82 at $10,000 per QALY' from (value, threshold) pairs."""
    return join_words([f"{value} at {w}" for value, w in pairs]) + f" per {unit}"


def _number(value: float) -> str:
    """A parameter value in a sentence: 16,720, 48.67 or 0.23."""
    size = abs(value)
    return f"{value:,.0f}" if size >= 100 else f"{value:.2f}" if size >= 1 else f"{value:.2g}"


def _finite(value):
    return None if value is None or not math.isfinite(value) else float(value)


# ---------------------------------------------------------------------------------------- psa


def build_psa_workbook(scenario, psa, *, manifest: dict, extra_sheets=()) -> Workbook:
    """The ``psa`` workbook.

    Parameters
    ----------
    scenario : Scenario
        The scenario the draws come from (description, parameters, unit prices, horizon).
    psa : costspine.analysis.psa_summary.PSASummary
        Read through its typed fields: headline numbers, the CEAC, CEAF and EVPI curves, EVPPI
        records, and the draws (for the CE-plane sheet, capped at :data:`MAX_PLANE_ROWS` draws).
    manifest : dict
    extra_sheets : sequence of Sheet
        Added after the PSA summary sheet ("Subgroups": :func:`costspine.reports.subgroup_report.build_subgroup_sheet`).

    Returns
    -------
    Workbook
        Summary, Inputs, PSA summary, the extra sheets, CE plane, CEAC, EVPI (with EVPPI), About.
    """
    draws = psa.draws
    currency, comparator = draws.currency, draws.comparator
    effect_label = effect_label_of(scenario, draws.effect_name)
    unit = singular(in_sentence(effect_label))
    labels = psa.labels
    sheets = [
        _psa_summary_sheet(scenario, psa, effect_label),
        *extra_sheets,
        _ce_plane_sheet(draws, labels, effect_label),
        _ceac_sheet(psa, labels, unit),
        _evpi_sheet(psa, unit),
    ]
    return Workbook(
        title=one_line(scenario.title or scenario.name) + " — probabilistic sensitivity analysis",
        description=scenario.description or "",
        currency=currency,
        reading=describe_psa(scenario, psa, effect_label),
        headline=_psa_headline(psa, effect_label, currency, comparator),
        inputs=build_parameter_table(scenario, draws.posterior),
        unit_prices=build_unit_price_table(scenario),
        sheets=tuple(sheets),
        about=build_about(manifest),
    )


def _incremental_entry(psa, k: int) -> Increment:
    """PSA strategy ``k`` against the comparator (label, incremental cost and effect, ICER), from the means."""
    inc = psa.incremental
    label = psa.labels[psa.strategies[k]]
    if k == inc.comparator:
        return Increment(label, 0.0, 0.0, math.nan)
    status = psa.frontier_status[k]  # of the means: a strategy off the frontier has no ICER quoted
    note = "" if status == "frontier" else status
    return Increment(label, float(inc.cost.mean[k]), float(inc.effect.mean[k]), float(inc.icer_of_means[k]), note)


def _psa_headline(psa, effect_label: str, currency: str, comparator: str) -> Table:
    unit = singular(in_sentence(effect_label))
    draws = psa.draws
    e = draws.outcome_names.index(draws.effect_name)
    wtp = [float(w) for w in psa.wtp]
    columns = [
        Column("Strategy"),
        Column("Mean cost", "currency"),
        Column("Cost 2.5%", "currency"),
        Column("Cost 97.5%", "currency"),
        Column(f"Mean {in_sentence(effect_label)}", "number", decimals=3),
        Column(f"{effect_label} 2.5%", "number", decimals=3),
        Column(f"{effect_label} 97.5%", "number", decimals=3),
        Column("Incremental cost", "currency"),
        Column(f"Incremental {in_sentence(effect_label)}", "number", decimals=3),
        Column(f"ICER of means ({currency} per {unit})", "currency"),
        *(Column(f"P(cost-effective) at {format_money(w, currency)}", "probability") for w in wtp),
        Column("Efficiency frontier (means)"),
    ]
    rows = []
    cost, outcomes = psa.cost_total, psa.outcomes
    for k, s in enumerate(psa.strategies):
        entry = _incremental_entry(psa, k)
        rows.append(
            (
                entry.label,
                float(cost.mean[k]),
                float(cost.lower[k]),
                float(cost.upper[k]),
                float(outcomes.mean[k, e]),
                float(outcomes.lower[k, e]),
                float(outcomes.upper[k, e]),
                entry.incremental_cost,
                entry.incremental_effect,
                icer_cell(entry, s, comparator),
                *(float(psa.prob_cost_effective[j, k]) for j in range(len(wtp))),
                psa.frontier_status[k],
            )
        )
    return Table("headline", tuple(columns), rows, title=f"Means over {draws.n_draws:,} draws, with 95% intervals, per patient")


def describe_psa(scenario, psa, effect_label: str) -> list[str]:
    """Plain-language reading of a PSA (a :class:`~costspine.analysis.psa_summary.PSASummary`): the mean
    comparison, probabilities, CEAF and EVPI."""
    draws = psa.draws
    currency = draws.currency
    unit = singular(in_sentence(effect_label))
    horizon = describe_horizon(scenario.settings)
    sentences = [
        f"{draws.n_draws:,} probabilistic draws of every uncertain parameter (seed {draws.seed}); "
        "costs and effects below are means over the draws."
    ]
    inc = psa.incremental
    reference = _incremental_entry(psa, inc.comparator)
    for k in range(len(psa.strategies)):
        if k == inc.comparator:
            continue
        entry = _incremental_entry(psa, k)
        sentences.append(
            describe_comparison(entry, reference, currency=currency, effect_label=effect_label, horizon=horizon)
            + f" Probability that it costs less: {float(inc.prob_cost_saving[k]):.2f}; that it yields more "
            f"{in_sentence(effect_label)}: {float(inc.prob_more_effect[k]):.2f}."
        )
    wtp = [float(w) for w in psa.wtp]
    groups: dict[str, list[str]] = {}
    for j, w in enumerate(wtp):
        groups.setdefault(psa.labels[psa.ceaf_optimal[j]], []).append(
            f"{format_money(w, currency)} (probability {float(psa.ceaf_prob_cost_effective[j]):.2f})"
        )
    if groups:
        sentences.append(
            "Highest expected net benefit: "
            + "; ".join(f"{label} at {join_words(ws)}" for label, ws in groups.items())
            + f" per {unit}."
        )
    evpi = [(format_money(float(v), currency), format_money(w, currency)) for w, v in zip(wtp, psa.evpi_per_person)]
    if evpi:
        sentences.append("Expected value of perfect information per person: " + _at_each(evpi, unit) + ".")
    if psa.population is not None:
        pop = psa.population
        values = [(format_money(float(v), currency), format_money(w, currency)) for w, v in zip(wtp, psa.evpi_population)]
        sentences.append(
            f"For {pop['per_year']:,.0f} people a year over {pop['years']} years (discounted at "
            f"{pop['discount_rate']:.1%}): " + _at_each(values, unit) + "."
        )
    sentences.append(describe_money(scenario.settings, effect_label))
    sentences.append(describe_perspective(scenario.analysis))
    return sentences


def _stat_row(label: str, item: str, stats, index) -> tuple:
    """A table row of one cell of a :class:`~costspine.analysis.decision.DrawSummary`: mean, SD, 2.5%, 97.5%."""
    return (label, item, float(stats.mean[index]), float(stats.sd[index]), float(stats.lower[index]), float(stats.upper[index]))


def _psa_summary_sheet(scenario, psa, effect_label: str) -> Sheet:
    draws = psa.draws
    currency = draws.currency
    categories = category_labels(scenario)
    labels = psa.labels
    inc = psa.incremental
    wtp = [float(w) for w in psa.wtp]
    stats = (Column("Mean", "currency"), Column("SD", "currency"), Column("2.5%", "currency"), Column("97.5%", "currency"))
    cost_rows, outcome_rows = [], []
    for k, s in enumerate(psa.strategies):
        label = labels[s]
        cost_rows.append(_stat_row(label, "total cost", psa.cost_total, k))
        cost_rows += [
            _stat_row(label, f"cost: {categories.get(c, c)}", psa.cost_by_category, (k, i))
            for i, c in enumerate(draws.categories)
        ]
        cost_rows += [
            _stat_row(label, f"net monetary benefit at {format_money(w, currency)}", psa.nmb, (k, j)) for j, w in enumerate(wtp)
        ]
        outcome_rows += [_stat_row(label, o, psa.outcomes, (k, i)) for i, o in enumerate(draws.outcome_names)]
        if k != inc.comparator:
            versus = labels[draws.comparator]
            cost_rows.append(_stat_row(label, f"incremental cost vs {versus}", inc.cost, k))
            cost_rows += [
                _stat_row(label, f"incremental net benefit vs {versus} at {format_money(w, currency)}", inc.nmb, (k, j))
                for j, w in enumerate(wtp)
            ]
            outcome_rows.append(_stat_row(label, f"incremental {draws.effect_name} vs {versus}", inc.effect, k))
    costs = Table(
        "psa_costs", (Column("Strategy"), Column("Quantity"), *stats), cost_rows, title=f"Costs and net benefit ({currency})"
    )
    outcomes = Table(
        "psa_outcomes",
        (Column("Strategy"), Column("Outcome"), *(Column(c.name, "number", decimals=4) for c in stats)),
        outcome_rows,
        title="Outcomes",
    )
    conv_rows = [
        (labels[s], w, float(inc.mc_mean[k, j]), float(inc.mcse[k, j]), inc.mcse_relative(k, j))
        for k, s in enumerate(psa.strategies)
        if k != inc.comparator
        for j, w in enumerate(wtp)
    ]
    convergence = Table(
        "convergence",
        (
            Column("Strategy"),
            Column("WTP", "currency"),
            Column("Mean incremental NMB", "currency"),
            Column("Monte Carlo SE", "currency", decimals=2),
            Column("SE / mean", "percent", decimals=2),
        ),
        conv_rows,
        title="Monte Carlo error of the mean incremental net benefit",
    )
    notes = (f"Mean, standard deviation and 95% interval (2.5th and 97.5th percentiles) over {draws.n_draws:,} draws.",)
    return Sheet("PSA summary", (costs, outcomes, convergence), notes=notes)


def _ce_plane_sheet(draws, labels: dict, effect_label: str) -> Sheet:
    ref = draws.comparator_index
    from costspine.analysis.psa_result import DrawColumns

    shown = min(draws.n_draws, MAX_PLANE_ROWS)
    with DrawColumns(draws) as cols:  # the first draws only, not the whole run's costs
        cost, effect = cols.cost_effect(0, shown)
    others = [k for k in range(len(draws.strategies)) if k != ref]
    names = unique_labels({k: labels.get(draws.strategies[k], draws.strategies[k]) for k in others})
    columns, x_names, y_names = [Column("Draw", "int")], [], []
    for k in others:
        x_names.append(f"Incremental {in_sentence(effect_label)}, {names[k]}")
        y_names.append(f"Incremental cost, {names[k]}")
        columns += [Column(x_names[-1], "number", decimals=4), Column(y_names[-1], "currency")]
    rows = [(i, *(v for k in others for v in (effect[i, k] - effect[i, ref], cost[i, k] - cost[i, ref]))) for i in range(shown)]
    table = Table("ce_plane", tuple(columns), rows, title=f"Incremental results against {labels[draws.comparator]}, per draw")
    sheet_charts = ()
    if others and rows:
        sheet_charts = (
            Chart(
                "scatter",
                "Cost-effectiveness plane",
                "ce_plane",
                tuple(x_names),
                tuple(y_names),
                x_title=f"Incremental {in_sentence(effect_label)}",
                y_title=f"Incremental cost ({draws.currency})",
                max_points=MAX_PLANE_ROWS,
            ),
        )
    note = (f"The first {shown:,} of {draws.n_draws:,} draws (every draw is in draws/, and in ce_plane.csv with --csv).",)
    return Sheet("CE plane", (table,), sheet_charts, notes=note)


def _ceac_sheet(psa, labels: dict, unit: str) -> Sheet:
    currency = psa.draws.currency
    curves = psa.curves
    names = unique_labels(labels, taken=("WTP", "Frontier (CEAF)", "Optimal strategy"))
    index = {s: k for k, s in enumerate(psa.strategies)}
    rows = [
        (
            float(w),
            *(float(curves.prob_cost_effective[j, index[s]]) for s in names),
            float(curves.frontier_prob[j]),
            labels[psa.strategies[curves.optimal[j]]],
        )
        for j, w in enumerate(curves.wtp)
    ]
    x_name = f"WTP ({currency} per {unit})"
    columns = (
        Column(x_name, "currency"),
        *(Column(n, "probability") for n in names.values()),
        Column("Frontier (CEAF)", "probability"),
        Column("Optimal strategy"),
    )
    table = Table("ceac", columns, rows, title="Probability that each strategy is cost-effective")
    chart = Chart(
        "line",
        "Cost-effectiveness acceptability curves and frontier",
        "ceac",
        x_name,
        (*names.values(), "Frontier (CEAF)"),
        x_title=f"Willingness to pay ({currency} per {unit})",
        y_title="Probability cost-effective",
    )
    note = (
        "The frontier (CEAF) follows the strategy with the highest expected net benefit, which need not be the one "
        "most likely to be cost-effective.",
    )
    return Sheet("CEAC", (table,), (chart,), notes=note)


def _evpi_sheet(psa, unit: str) -> Sheet:
    currency = psa.draws.currency
    curves = psa.curves
    x_name = f"WTP ({currency} per {unit})"
    columns = [Column(x_name, "currency"), Column("EVPI per person", "currency", decimals=2)]
    rows = [(float(w), float(v)) for w, v in zip(curves.wtp, curves.evpi_per_person)]
    if psa.population is not None:
        columns.append(Column("EVPI, population", "currency"))
        factor = psa.population["discounted_persons"]
        rows = [(w, v, v * factor) for w, v in rows]
    table = Table("evpi", tuple(columns), rows, title="Expected value of perfect information")
    chart = Chart(
        "line",
        "Expected value of perfect information",
        "evpi",
        x_name,
        ("EVPI per person",),
        x_title=f"Willingness to pay ({currency} per {unit})",
        y_title=f"EVPI per person ({currency})",
    )
    tables_ = [table]
    if psa.evppi:
        tables_.append(_evppi_table(psa.evppi))
    return Sheet(
        "EVPI",
        tuple(tables_),
        (chart,),
        notes=("What removing all uncertainty (EVPI), or that of some parameters (EVPPI), is worth per person.",),
    )


def _evppi_table(evppi_rows) -> Table:
    columns = (
        Column("Parameters"),
        Column("WTP", "currency"),
        Column("EVPPI per person", "currency", decimals=2),
        Column("Standard error", "currency", decimals=2),
        Column("EVPI per person", "currency", decimals=2),
        Column("Method"),
        Column("Draws", "int"),
    )
    rows = [
        (
            ", ".join(r["parameters"])
            if r["group"] == "+".join(r["parameters"])
            else f"{r['group']} ({', '.join(r['parameters'])})",
            r["wtp"],
            r["evppi_per_person"],
            r["se"],
            r["evpi_per_person"],
            r["method"],
            r["draws"],
        )
        for r in evppi_rows
    ]
    return Table("evppi", columns, rows, title="Expected value of partial perfect information")


EVPPI_CHART_GROUPS = 15  # parameter groups in the EVPPI bar chart (all of them stay in the table)


def _evppi_chart(evppi_rows, currency: str, unit: str) -> tuple[Table, Chart]:
    """EVPPI per person by parameter group, one column per threshold, largest first (at the highest
    threshold), at most :data:`EVPPI_CHART_GROUPS` groups; and its horizontal bar chart."""
    wtps = sorted({float(r["wtp"]) for r in evppi_rows})
    by_group: dict[str, dict[float, float]] = {}
    for r in evppi_rows:
        by_group.setdefault(r["group"], {})[float(r["wtp"])] = r["evppi_per_person"]
    order = sorted(by_group, key=lambda g: -(by_group[g].get(wtps[-1]) or 0.0))[:EVPPI_CHART_GROUPS]
    names = {w: f"at {format_money(w, currency)} per {unit}" for w in wtps}
    columns = (Column("Parameter group"), *(Column(names[w], "currency", decimals=2) for w in wtps))
    rows = [(g, *(by_group[g].get(w) for w in wtps)) for g in order]
    shown = "" if len(by_group) <= EVPPI_CHART_GROUPS else f" (largest {EVPPI_CHART_GROUPS} of {len(by_group)})"
    table = Table("evppi_by_group", columns, rows, title=f"EVPPI per person by parameter group{shown}")
    chart = Chart(
        "hbar",
        f"EVPPI per person by parameter group{shown}",
        "evppi_by_group",
        "Parameter group",
        tuple(names[w] for w in wtps),
        x_title="Parameter group",
        y_title=f"EVPPI per person ({currency})",
    )
    return table, chart


def plan_psa_figures(scenario, psa, *, folder) -> list[partial]:
    """CE plane, CEAC with the CEAF, and EVPI curve of a PSA summary, as calls of :mod:`costspine.reports.figures`."""
    from costspine.reports import figures

    folder = Path(folder)
    draws = psa.draws
    effect_label = effect_label_of(scenario, draws.effect_name)
    currency, ref = draws.currency, draws.comparator_index
    labels = [psa.labels[s] for s in draws.strategies]
    others = [k for k in range(len(draws.strategies)) if k != ref]
    unit = singular(in_sentence(effect_label))
    plans = []
    if others:
        wtp = float(psa.wtp[len(psa.wtp) // 2]) if psa.wtp else None
        plans.append(
            partial(
                figures.to_png(figures.plot_ce_plane),
                draws.total_cost[:, others] - draws.total_cost[:, [ref]],
                draws.effect[:, others] - draws.effect[:, [ref]],
                wtp=wtp,
                labels=[f"{labels[k]} vs {labels[ref]}" for k in others],
                currency=currency,
                effect_name=in_sentence(effect_label),
                path=folder / "ce_plane.png",
            )
        )
    curves = psa.curves
    plans.append(
        partial(
            figures.to_png(figures.plot_ceac),
            np.array(curves.wtp, dtype=float),
            np.array(curves.prob_cost_effective, dtype=float),
            strategies=labels,
            frontier=[int(k) for k in curves.optimal],
            currency=currency,
            effect_name=unit,
            path=folder / "ceac.png",
        )
    )
    plans.append(
        partial(
            figures.to_png(figures.plot_evpi),
            [float(w) for w in curves.wtp],
            [float(v) for v in curves.evpi_per_person],
            currency=currency,
            effect_name=unit,
            path=folder / "evpi.png",
        )
    )
    return plans


# ---------------------------------------------------------------------------------------- voi


def build_voi_workbook(voi, *, manifest: dict) -> Workbook:
    """The ``voi`` workbook: EVPI per person (and population) and EVPPI with standard errors.

    Parameters
    ----------
    voi : costspine.analysis.voi_summary.VOISummary
        Read through its fields (thresholds, EVPI arrays, EVPPI records, the draws' labels).
    manifest : dict
    """
    draws = voi.draws
    currency = draws.currency
    unit = singular(draws.effect_name.replace("_", " "))
    columns = [Column(f"WTP ({currency} per {unit})", "currency"), Column("EVPI per person", "currency", decimals=2)]
    rows = [[float(w), float(v)] for w, v in zip(voi.wtp, voi.evpi)]
    if voi.evpi_population is not None:
        columns.append(Column("EVPI, population", "currency"))
        rows = [r + [float(v)] for r, v in zip(rows, voi.evpi_population)]
    headline = Table("headline", tuple(columns), [tuple(r) for r in rows], title="Expected value of perfect information")
    sheets = []
    if voi.evppi:
        top, chart = _evppi_chart(voi.evppi, currency, unit)
        sheets.append(
            Sheet(
                "EVPPI",
                (_evppi_table(voi.evppi), top),
                (chart,),
                notes=(
                    "EVPPI by regression of the net benefit on the parameters (standard errors from "
                    "the PSA seed); it cannot truly exceed the EVPI, so estimates above it read as ≈ EVPI.",
                ),
            )
        )
    source = (
        "" if voi.results_dir is None else f" saved in {voi.results_dir}" if voi.draws_path else f" read from {voi.results_dir}"
    )
    reading = [
        f"From {draws.n_draws:,} PSA draws (seed {draws.seed}){source}.",
        "Expected value of perfect information per person: "
        + _at_each([(format_money(r[1], currency), format_money(r[0], currency)) for r in rows], unit)
        + ".",
    ]
    for w in voi.wtp:
        at = [r for r in voi.evppi if r["wtp"] == float(w)]
        if at:
            top = max(at, key=lambda r: r["evppi_per_person"])
            reading.append(
                f"At {format_money(w, currency)} per {unit}, the largest EVPPI is {top['group']}: "
                f"{format_money(top['evppi_per_person'], currency)} per person (SE {format_money(top['se'], currency)})."
            )
    return Workbook(
        title=one_line(draws.title) + " — value of information",
        description="",
        currency=currency,
        reading=reading,
        headline=headline,
        sheets=tuple(sheets),
        about=build_about(manifest),
    )


def plan_voi_figures(voi, *, folder) -> list[partial]:
    """The EVPI curve at the thresholds (when there are at least two), from a ``VOISummary``."""
    from costspine.reports import figures

    wtp = list(voi.wtp)
    if len(wtp) < 2:
        return []
    return [
        partial(
            figures.to_png(figures.plot_evpi),
            wtp,
            [float(v) for v in voi.evpi],
            currency=voi.draws.currency,
            effect_name=singular(voi.draws.effect_name.replace("_", " ")),
            path=Path(folder) / "evpi.png",
        )
    ]
