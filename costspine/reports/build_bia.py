"""Workbook and figures of ``costspine bia``: budget by year, by category, services, pathway mix.

Like :mod:`costspine.reports.build`, it describes a :class:`~costspine.reports.workbook.Workbook`
(every number from ``run.value(...)``, the records ``summary.json`` holds) and plans figure calls;
no openpyxl, no matplotlib, no files written here.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import numpy as np

from costspine.analysis.bia_summary import describe_central
from costspine.reports.build_bia_inputs import build_bia_inputs, build_bia_plan_sheet
from costspine.reports.inputs import build_about
from costspine.reports.wording import (
    category_labels,
    format_money,
    format_signed_money,
    join_words,
    one_line,
    unique_labels,
)
from costspine.reports.workbook import Chart, Column, Sheet, Table, Workbook


def _years(run) -> list:
    return list(range(1, run.n_years + 1)) + ["total"]


def _interval_columns(draws: bool, name: str) -> list[Column]:
    return [Column(f"{name} 2.5%", "currency"), Column(f"{name} 97.5%", "currency")] if draws else []


def build_bia_workbook(runs, *, manifest: dict) -> Workbook:
    """The ``bia`` workbook of one scenario (budget by year, by category, services, pathway mix) or,
    for several, a side-by-side comparison.

    Parameters
    ----------
    runs : list of costspine.analysis.bia_run.BiaRun
        Every number comes from ``run.value(...)``, the records ``summary.json`` holds.
    manifest : dict
    """
    if len(runs) > 1:
        return _bia_comparison(runs, manifest)
    run = runs[0]
    scenario, spec = run.scenario, run.spec
    currency = scenario.settings.currency
    draws = run.n_draws > 0
    columns = [
        Column("Year", "int"),
        Column("Members", "int"),
        Column("New episodes" if spec.prevalent is not None else "Episodes", "number", decimals=0),
        *((Column("Chronic in care", "number", decimals=0),) if spec.prevalent is not None else ()),
        Column("Current budget", "currency"),
        Column("New budget", "currency"),
        Column("Difference", "currency"),
        *_interval_columns(draws, "Difference"),
        Column("PMPM current", "currency", decimals=2),
        Column("PMPM new", "currency", decimals=2),
        Column("PMPM difference", "currency", decimals=2),
    ]
    rows = []
    for y in _years(run):
        diff = run.value("budget_difference", year=y)
        members = run.members_by_year.sum() if y == "total" else run.members_by_year[y - 1]
        rows.append(
            (
                "total" if y == "total" else y,
                float(members),
                run.value("entering", "acute", y)["mean"]
                if spec.prevalent is not None
                else run.value("episodes", year=y)["mean"],
                *((run.value("in_care_current", "prevalent", y)["mean"],) if spec.prevalent is not None else ()),
                run.value("budget_current", year=y)["mean"],
                run.value("budget_new", year=y)["mean"],
                diff["mean"],
                *((diff["low"], diff["high"]) if draws else ()),
                *(run.value(f"pmpm_{m}", year=y)["mean"] for m in ("current", "new", "difference")),
            )
        )
    headline = Table("headline", tuple(columns), rows, title=f"Plan budget by year ({currency} {scenario.settings.price_year})")
    sheets = [build_bia_plan_sheet(runs), _bia_year_sheet(run, currency), _bia_category_sheet(run, currency)]
    if run.budget.services:
        sheets.append(_bia_services_sheet(run))
    health = _bia_health_sheet(run)
    if health is not None:
        sheets.append(health)
    sheets.append(_bia_mix_sheet(run))
    if not draws:  # the calculator is the base case's arithmetic
        from costspine.reports.build_bia_calculator import build_bia_calculator

        sheets.append(build_bia_calculator(run))
    inputs, more_inputs, prices = build_bia_inputs(runs)
    return Workbook(
        title=one_line(scenario.title or scenario.name),
        description=spec.description or scenario.description or "",
        currency=currency,
        reading=describe_bia(run),
        headline=headline,
        inputs=inputs,
        more_inputs=more_inputs,
        unit_prices=prices,
        sheets=tuple(sheets),
        about=build_about(manifest),
    )


def describe_bia(run) -> list[str]:
    """Reading of one budget impact: the total difference and PMPM, the largest categories, the plan, the policy."""
    scenario, spec = run.scenario, run.spec
    currency, settings = scenario.settings.currency, scenario.settings
    diff, pmpm = run.value("budget_difference"), run.value("pmpm_difference")
    way = "more" if diff["mean"] > 0 else "less"
    interval = (
        f" (95% interval {format_signed_money(diff['low'], currency)} to {format_signed_money(diff['high'], currency)})"
        if diff["low"] is not None
        else ""
    )
    sentences = [
        f"Over {run.n_years} years the new mix of care costs the plan {format_money(diff['mean'], currency)} {way} "
        f"than the current mix{interval}: {format_signed_money(pmpm['mean'], currency)} per member per month."
    ]
    by_category = sorted(
        ((c, run.value("budget_difference", c)["mean"]) for c in run.budget.categories), key=lambda item: -abs(item[1])
    )[:3]
    names = category_labels(scenario)
    if by_category:
        sentences.append(
            "Largest changes by category: "
            + join_words([f"{names.get(c, c)} {format_signed_money(v, currency)}" for c, v in by_category])
            + "."
        )
    sentences.append(
        f"Plan: {run.members_by_year[0]:,.0f} members in year 1 ({spec.member_growth_per_year:+.1%} a year), "
        f"{float(np.mean(run.rate_per_1000)):.3g} new spine-pain episodes per 1,000 members a year."
    )
    if spec.policy is None:
        sentences.append("No policy change: the new world differs from the current one in its mix of care only.")
    elif run.policy_applied:
        sentences.append(
            f"Policy {spec.policy.name} applies to care delivered from year {spec.policy_start_year} on "
            "(new world only); its parameter values are beside the base scenario's on the Inputs sheet."
        )
    else:
        sentences.append(f"Policy {spec.policy.name} starts in year {spec.policy_start_year}, after the horizon: not applied.")
    discount = "undiscounted" if spec.discount_rate == 0 else f"discounted at {spec.discount_rate:.1%} a year from year 2"
    sentences.append(
        f"Money in constant {settings.price_year} {currency} (prices held at {settings.price_year} in every year), "
        f"{discount}; perspective: {spec.perspective_text}. "
        + (
            f"Intervals from {run.n_draws} parameter draws (seed {run.seed})."
            if run.n_draws
            else "Deterministic base case (no intervals)."
        )
    )
    sentences.append(describe_central(run) + ".")
    if not run.n_draws:
        sentences.append(
            "The Calculator sheet holds this budget as live Excel formulas: change members, growth, the episode "
            "rate, uptake by year or the cost per patient there and the budget, PMPM and difference recalculate."
        )
    if run.spec.prevalent is not None:
        chronic = run.value("in_care_current", "prevalent", 1)["mean"]
        sentences.append(
            f"The budget covers new spine-pain episodes and the plan's prevalent patients "
            f"({run.spec.prevalent.description or 'prevalent patients'}): about {chronic:,.0f} in care in year 1."
        )
    return sentences


def _bia_year_sheet(run, currency: str) -> Sheet:
    draws = run.n_draws > 0
    years = list(range(1, run.n_years + 1))
    budget = Table(
        "budget_by_year",
        (
            Column("Year", "int"),
            Column("Current mix", "currency"),
            Column("New mix", "currency"),
            Column("Difference", "currency"),
            *_interval_columns(draws, "Difference"),
        ),
        [
            (
                y,
                run.value("budget_current", year=y)["mean"],
                run.value("budget_new", year=y)["mean"],
                run.value("budget_difference", year=y)["mean"],
                *(
                    (run.value("budget_difference", year=y)["low"], run.value("budget_difference", year=y)["high"])
                    if draws
                    else ()
                ),
            )
            for y in years
        ],
        title="Budget by year",
    )
    pmpm = Table(
        "pmpm_by_year",
        (Column("Year", "int"), *(Column(n, "currency", decimals=2) for n in ("Current", "New", "Difference"))),
        [(y, *(run.value(f"pmpm_{m}", year=y)["mean"] for m in ("current", "new", "difference"))) for y in years],
        title="Per member per month",
    )
    chart = Chart(
        "bar",
        "Budget by year",
        "budget_by_year",
        "Year",
        ("Current mix", "New mix"),
        x_title="Year",
        y_title=f"Budget ({currency})",
    )
    return Sheet("Budget by year", (budget, pmpm), (chart,))


def _bia_category_sheet(run, currency: str) -> Sheet:
    draws = run.n_draws > 0
    names = unique_labels(
        {c: category_labels(run.scenario).get(c, c) for c in run.budget.categories}, taken=("Year", "Total", "Category")
    )
    by_year = Table(
        "difference_by_category",
        (Column("Year", "int"), *(Column(n, "currency") for n in names.values()), Column("Total", "currency")),
        [
            (y, *(run.value("budget_difference", c, y)["mean"] for c in names), run.value("budget_difference", year=y)["mean"])
            for y in range(1, run.n_years + 1)
        ],
        title="Difference (new − current) by category",
    )
    totals = Table(
        "budget_by_category",
        (
            Column("Category"),
            Column("Current mix", "currency"),
            Column("New mix", "currency"),
            Column("Difference", "currency"),
            *_interval_columns(draws, "Difference"),
        ),
        [
            (
                names[c],
                run.value("budget_current", c)["mean"],
                run.value("budget_new", c)["mean"],
                run.value("budget_difference", c)["mean"],
                *((run.value("budget_difference", c)["low"], run.value("budget_difference", c)["high"]) if draws else ()),
            )
            for c in names
        ],
        title=f"Over {run.n_years} years",
    )
    chart = Chart(
        "stacked_bar",
        "Difference by category and year",
        "difference_by_category",
        "Year",
        tuple(names.values()),
        x_title="Year",
        y_title=f"New − current ({currency})",
    )
    return Sheet("By category", (by_year, totals), (chart,))


def _bia_health_sheet(run) -> Sheet | None:
    """QALYs, mean ODI and people in each state by year, beside the budget (undiscounted)."""
    items = list(dict.fromkeys(r["item"] for r in run.rows if r["measure"] == "health_current"))
    if not items:
        return None
    years = list(range(1, run.n_years + 1)) + ["total"]
    columns = (
        Column("Measure"),
        Column("World"),
        *(Column(f"Year {y}" if y != "total" else "Total", "number", decimals=1) for y in years),
    )
    rows = []
    for item in items:
        label = {"qalys": "QALYs", "mean_odi": "Mean ODI (0-100)"}.get(item, item.replace("people:", "People: "))
        for world in ("current", "new", "difference"):
            rows.append((label, world, *(run.value(f"health_{world}", item, y)["mean"] for y in years)))
    table = Table(
        "health_by_year",
        columns,
        rows,
        title="Health of the patients in the pathways (undiscounted). People: average number in the state over the year "
        "(total: person-years); mean ODI: patients in care",
    )
    return Sheet("Health", (table,))


def _bia_services_sheet(run) -> Sheet:
    draws = run.n_draws > 0
    columns = (
        Column("Service"),
        Column("Current mix", "number", decimals=1),
        Column("New mix", "number", decimals=1),
        Column("Difference", "number", decimals=1),
        *((Column("Difference 2.5%", "number", decimals=1), Column("Difference 97.5%", "number", decimals=1)) if draws else ()),
    )
    rows = []
    for s in run.budget.services:
        diff = run.value("services_difference", s)
        rows.append(
            (
                s,
                run.value("services_current", s)["mean"],
                run.value("services_new", s)["mean"],
                diff["mean"],
                *((diff["low"], diff["high"]) if draws else ()),
            )
        )
    return Sheet("Services", (Table("services", columns, rows, title=f"Services used over {run.n_years} years (counts)"),))


def _bia_mix_sheet(run) -> Sheet:
    labels = unique_labels({s: run.scenario.strategy_labels.get(s, s) for s in run.budget.strategies})
    columns = [Column("Year", "int")]
    for label in labels.values():
        columns += [Column(f"{label}, current", "percent"), Column(f"{label}, new", "percent")]
    rows = []
    for y in range(1, run.n_years + 1):
        episodes = run.value("episodes", year=y)["mean"]
        rows.append(
            (
                y,
                *(
                    run.value(f"episodes_{m}", s, y)["mean"] / episodes if episodes else None
                    for s in labels
                    for m in ("current", "new")
                ),
            )
        )
    return Sheet("Pathway mix", (Table("pathway_mix", tuple(columns), rows, title="Share of new episodes by pathway"),))


def _bia_comparison(runs, manifest: dict) -> Workbook:
    currency = runs[0].scenario.settings.currency
    draws = any(r.n_draws for r in runs)
    names = [r.scenario.name for r in runs]
    columns = (
        Column("Scenario"),
        Column("Years", "int"),
        Column("Current budget", "currency"),
        Column("New budget", "currency"),
        Column("Difference", "currency"),
        *_interval_columns(draws, "Difference"),
        Column("PMPM difference", "currency", decimals=2),
    )
    rows = [
        (
            r.scenario.name,
            r.n_years,
            r.value("budget_current")["mean"],
            r.value("budget_new")["mean"],
            r.value("budget_difference")["mean"],
            *((r.value("budget_difference")["low"], r.value("budget_difference")["high"]) if draws else ()),
            r.value("pmpm_difference")["mean"],
        )
        for r in runs
    ]
    headline = Table("headline", columns, rows, title="Budget impact over each scenario's years")
    n_years = max(r.n_years for r in runs)
    series = unique_labels({n: n for n in names}, taken=("Year",))
    by_year = Table(
        "difference_by_year",
        (Column("Year", "int"), *(Column(n, "currency") for n in series.values())),
        [
            (y, *(r.value("budget_difference", year=y)["mean"] if y <= r.n_years else None for r in runs))
            for y in range(1, n_years + 1)
        ],
        title="Difference (new − current) by year",
    )
    chart = Chart(
        "bar",
        "Budget difference by year",
        "difference_by_year",
        "Year",
        tuple(series.values()),
        x_title="Year",
        y_title=f"New − current ({currency})",
    )
    reading = [describe_bia(r)[0].replace("Over ", f"{r.scenario.name}: over ", 1) for r in runs]
    inputs, more_inputs, prices = build_bia_inputs(runs)
    return Workbook(
        title="Budget impact comparison: " + ", ".join(names),
        description="\n".join(f"{k}. {r.scenario.name}: {one_line(r.scenario.title)}" for k, r in enumerate(runs, start=1)),
        currency=currency,
        reading=reading,
        headline=headline,
        inputs=inputs,
        more_inputs=more_inputs,
        unit_prices=prices,
        sheets=(build_bia_plan_sheet(runs), Sheet("By year", (by_year,), (chart,))),
        about=build_about(manifest),
    )


def plan_bia_figures(runs, *, folder) -> list[partial]:
    """Budget by year (current and new mix) and the difference by category, or, for several
    scenarios, the difference by year side by side."""
    from costspine.reports import figures

    folder = Path(folder)
    currency = runs[0].scenario.settings.currency
    if len(runs) > 1:
        n_years = max(r.n_years for r in runs)
        years = list(range(1, n_years + 1))
        series = {
            r.scenario.name: [r.value("budget_difference", year=y)["mean"] if y <= r.n_years else math.nan for y in years]
            for r in runs
        }
        return [
            partial(
                figures.to_png(figures.plot_budget),
                years,
                series,
                currency=currency,
                path=folder / "budget_difference.png",
                title="Budget difference (new − current) by year",
                ylabel=f"New − current ({currency})",
            )
        ]
    run = runs[0]
    years = list(range(1, run.n_years + 1))
    names = category_labels(run.scenario)
    return [
        partial(
            figures.to_png(figures.plot_budget),
            years,
            {
                "current mix": [run.value("budget_current", year=y)["mean"] for y in years],
                "new mix": [run.value("budget_new", year=y)["mean"] for y in years],
            },
            currency=currency,
            path=folder / "budget_by_year.png",
        ),
        partial(
            figures.to_png(figures.plot_cost_by_category),
            [f"Year {y}" for y in years],
            {names.get(c, c): [run.value("budget_difference", c, y)["mean"] for y in years] for c in run.budget.categories},
            currency=currency,
            path=folder / "budget_difference_by_category.png",
            title="Budget difference (new − current) by category",
            ylabel=f"New − current ({currency})",
        ),
    ]
