"""Workbook and figures of ``costspine dsa`` (``psa`` and ``voi``: :mod:`costspine.reports.build_psa`).

Like :mod:`costspine.reports.build` (whose helpers it uses), :func:`build_dsa_workbook` describes a
:class:`~costspine.reports.workbook.Workbook` whose headline numbers are read from the command's
``summary`` (what ``summary.json`` holds) or from the same records, and :func:`plan_dsa_figures`
returns ``functools.partial`` calls of :mod:`costspine.reports.figures` (``keywords["path"]`` is
the file). No openpyxl, no matplotlib, no files written here.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from costspine.reports.build_psa import _finite, _number
from costspine.reports.inputs import build_about, build_parameter_table, build_unit_price_table
from costspine.reports.wording import (
    effect_label_of,
    format_money,
    format_signed_money,
    in_sentence,
    join_words,
    one_line,
    singular,
    unique_labels,
)
from costspine.reports.workbook import Chart, Column, Sheet, Table, Workbook

TORNADO_BARS = 15  # parameters drawn in a tornado chart (the table lists them all)


def _tornado_groups(result, by: str) -> dict[tuple[str, float], list[dict]]:
    groups: dict[tuple[str, float], list[dict]] = {}
    for row in result.tornado(by=by):
        groups.setdefault((row["strategy"], row["wtp"]), []).append(row)
    return groups


def build_dsa_workbook(result, *, summary: dict, by: str, manifest: dict) -> Workbook:
    """The ``dsa`` workbook: the most influential parameters, a tornado per comparison and threshold,
    the ranges used, threshold values.

    Parameters
    ----------
    result : costspine.analysis.dsa.DSAResult
    summary : dict
        :func:`costspine.analysis.dsa.summarize_dsa` of ``result`` (base case, ranges).
    by : {"nmb", "icer"}
        What the tornado is ranked and drawn by.
    manifest : dict
    """
    scenario = result.scenario
    currency = summary["currency"]
    effect_label = effect_label_of(scenario, summary["effect"])
    unit = singular(in_sentence(effect_label))
    labels = {s: scenario.strategy_labels.get(s, s) for s in result.strategies}
    groups = _tornado_groups(result, by)
    if groups:
        (strategy, wtp), rows = next(iter(groups.items()))
        headline = _tornado_table("headline", rows[:10], currency, by)
        headline = headline.renamed(
            "headline",
            title=f"Most influential parameters: {labels[strategy]} vs "
            f"{in_sentence(labels[rows[0]['comparator']])} at {format_money(wtp, currency)} per {unit}",
        )
    else:
        headline = Table(
            "headline",
            (Column("Strategy"), Column("Cost", "currency"), Column(effect_label, "number", decimals=3)),
            [(labels[s], v["cost_total"], v["effect"]) for s, v in summary["base_case"].items()],
            title="Base case (no parameter varies)",
        )
    sheets = []
    strategies = list(dict.fromkeys(s for s, _ in groups))
    sheet_names = unique_labels({s: f"Tornado {s}"[:31] for s in strategies})
    for k, strategy in enumerate(strategies):
        tables, charts = [], []
        for j, ((s, wtp), rows) in enumerate((key, rows) for key, rows in groups.items() if key[0] == strategy):
            name = f"tornado_{k + 1}_{j + 1}"
            tables.append(
                _tornado_table(name, rows, currency, by, unit=unit).renamed(
                    name, title=f"At {format_money(wtp, currency)} per {unit}"
                )
            )
            low, high, base = (
                ("Incremental NMB, low", "Incremental NMB, high", rows[0]["inc_nmb_base"])
                if by == "nmb"
                else ("ICER, low", "ICER, high", _finite(rows[0]["icer_base"]))
            )
            charts.append(
                Chart(
                    "tornado",
                    f"{labels[s]} vs {labels[rows[0]['comparator']]} at {format_money(wtp, currency)}",
                    name,
                    "Parameter",
                    (low, high),
                    x_title="Parameter",
                    y_title=(
                        f"Incremental net monetary benefit ({currency})" if by == "nmb" else f"ICER ({currency} per {unit})"
                    ),
                    max_points=TORNADO_BARS,
                    base=base,
                )
            )
        sheets.append(
            Sheet(
                sheet_names[strategy],
                tuple(tables),
                tuple(charts),
                notes=(
                    f"Each parameter at its low and high value, the others at base case; ranked by the swing "
                    f"in {'incremental net monetary benefit' if by == 'nmb' else 'the ICER'}. Charts show the "
                    f"top {TORNADO_BARS}.",
                ),
            )
        )
    ranges = Table(
        "ranges",
        (
            Column("Parameter"),
            Column("Group"),
            Column("Distribution"),
            *(Column(n, "number", decimals=4) for n in ("Base", "Low", "High")),
            Column("Range from"),
        ),
        [(p["parameter"], p["group"], p["family"], p["base"], p["low"], p["high"], p["source"]) for p in summary["parameters"]],
        title="Ranges varied",
    )
    sheets.append(Sheet("Ranges", (ranges,)))
    if result.thresholds:
        thresholds = Table(
            "thresholds",
            (
                Column("WTP", "currency"),
                Column("Parameter"),
                Column("Threshold value", "number", decimals=4),
                Column("Optimal below"),
                Column("Optimal above"),
            ),
            [
                (t.wtp, t.parameter, t.value, labels.get(t.below, t.below), labels.get(t.above, t.above))
                for t in result.thresholds
            ],
            title="Where the optimal strategy changes",
        )
        sheets.append(Sheet("Thresholds", (thresholds,)))
    return Workbook(
        title=one_line(scenario.title or scenario.name) + " — one-way sensitivity analysis",
        description=scenario.description or "",
        currency=currency,
        reading=describe_dsa(result, summary, groups, labels, unit),
        headline=headline,
        inputs=build_parameter_table(scenario),
        unit_prices=build_unit_price_table(scenario),
        sheets=tuple(sheets),
        about=build_about(manifest),
    )


def _tornado_table(name: str, rows: list[dict], currency: str, by: str, *, unit: str = "unit") -> Table:
    """One tornado as a table; an ICER cell holds the number only where it is a cost per ``unit``
    gained, else the words (dominant, dominated): never a negative ICER."""
    from costspine.analysis.dsa import icer_cell

    columns = (
        Column("Rank", "int"),
        Column("Parameter"),
        Column("Low value", "number", decimals=4),
        Column("High value", "number", decimals=4),
        Column("Incremental NMB, low", "currency"),
        Column("Incremental NMB, high", "currency"),
        Column("NMB swing", "currency"),
        Column("ICER, low", "currency"),
        Column("ICER, high", "currency"),
    )
    return Table(
        name,
        columns,
        [
            (
                r["rank"],
                r["parameter"],
                r["low_value"],
                r["high_value"],
                r["inc_nmb_low"],
                r["inc_nmb_high"],
                r["swing_nmb"],
                icer_cell(r, "low", unit),
                icer_cell(r, "high", unit),
            )
            for r in rows
        ],
    )


def describe_dsa(result, summary: dict, groups: dict, labels: dict, unit: str) -> list[str]:
    """Reading of a DSA: what was varied, the top parameters per comparison, threshold values."""
    currency = summary["currency"]
    how = (
        "its declared low and high values (else the 2.5% and 97.5% points of its distribution)"
        if summary["range"] == "minmax"
        else "the 2.5% and 97.5% points of its distribution"
    )
    sentences = [f"{len(summary['parameters'])} parameters, each set to {how} while the others keep their base-case values."]
    if summary.get("perspective_text"):
        sentences.append(f"Perspective: {summary['perspective_text']}.")
    seen = set()
    for (strategy, wtp), rows in groups.items():
        if strategy in seen:
            continue  # one sentence per comparison, at the first threshold
        seen.add(strategy)
        top = join_words(
            [
                f"{r['parameter']} ({format_signed_money(r['inc_nmb_low'], currency)} to "
                f"{format_signed_money(r['inc_nmb_high'], currency)})"
                for r in rows[:3]
            ]
        )
        sentences.append(
            f"The incremental net monetary benefit of {labels[strategy]} against "
            f"{in_sentence(labels[rows[0]['comparator']])} at {format_money(wtp, currency)} per {unit} "
            f"(base case {format_signed_money(rows[0]['inc_nmb_base'], currency)}) is most sensitive to {top}."
        )
    for t in result.thresholds:
        sentences.append(
            f"At {format_money(t.wtp, currency)} per {unit}, the strategy with the highest net benefit changes "
            f"from {labels.get(t.below, t.below)} to {labels.get(t.above, t.above)} when {t.parameter} "
            f"rises past {_number(t.value)}."
        )
    if not result.thresholds:
        sentences.append("No parameter changes the optimal strategy within its range at any threshold.")
    return sentences


def plan_dsa_figures(result, *, by: str, folder) -> list[partial]:
    """One tornado PNG per comparison, at the first threshold, top :data:`TORNADO_BARS` parameters."""
    from costspine.reports import figures

    scenario = result.scenario
    currency = scenario.settings.currency
    unit = singular(in_sentence(effect_label_of(scenario, scenario.analysis.effect)))
    labels = {s: scenario.strategy_labels.get(s, s) for s in result.strategies}
    plans, seen = [], set()
    for (strategy, wtp), rows in _tornado_groups(result, by).items():
        if strategy in seen:
            continue
        seen.add(strategy)
        rows = rows[:TORNADO_BARS]
        if by == "nmb":
            low, high, base = [r["inc_nmb_low"] for r in rows], [r["inc_nmb_high"] for r in rows], rows[0]["inc_nmb_base"]
            xlabel = f"Incremental net monetary benefit ({currency}) at {format_money(wtp, currency)} per {unit}"
        else:
            if _finite(rows[0]["icer_base"]) is None:
                continue  # no base-case ICER to draw from
            low, high, base = [r["icer_low"] for r in rows], [r["icer_high"] for r in rows], rows[0]["icer_base"]
            xlabel = f"ICER ({currency} per {unit})"
        xlabel += f"\n{labels[strategy]} vs {in_sentence(labels[rows[0]['comparator']])}"
        plans.append(
            partial(
                figures.to_png(figures.plot_tornado),
                [r["parameter"] for r in rows],
                low,
                high,
                base=base,
                xlabel=xlabel,
                currency=currency,
                title="One-way sensitivity analysis",
                path=Path(folder) / f"tornado_{strategy}.png",
            )
        )
    return plans
