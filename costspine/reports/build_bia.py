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
from costspine.expressions import ExpressionError
from costspine.reports.inputs import (
    build_about,
    build_parameter_table,
    build_unit_price_table,
)
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
    sheets = [_bia_plan_sheet(runs), _bia_year_sheet(run, currency), _bia_category_sheet(run, currency)]
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


def _with_policies(scenarios) -> list:
    """Each model followed by its policy (``(scenario, policy or None)`` pairs), each name once."""
    out = {}
    for scenario, policy in scenarios:
        out.setdefault(scenario.name, scenario)
        if policy is not None:
            out.setdefault(policy.name, policy)
    return list(out.values())


def _parameters_of(scenarios) -> Table:
    """One scenario's parameter table (column 'Value'), or several side by side (a column per name),
    with each parameter's unit (as its file gives it) before the source."""
    from costspine.reports.build_compare import build_scenario_inputs

    if len(scenarios) == 1:
        table = build_parameter_table(scenarios[0])
    else:
        table = build_scenario_inputs([s.name for s in scenarios], scenarios)[0]
    units = {}
    for scenario in scenarios:
        for name, entry in scenario.resolved.get("parameters", {}).items():
            if isinstance(entry, dict) and isinstance(entry.get("unit"), str):
                units.setdefault(name, entry["unit"])
    at = table.column_index("Source")
    columns = (*table.columns[:at], Column("Unit"), *table.columns[at:])
    rows = [(*row[:at], units.get(row[0]), *row[at:]) for row in table.rows]
    return Table(table.name, columns, rows, title=table.title)


def build_bia_inputs(runs) -> tuple[Table, tuple[Table, ...], Table | None]:
    """The Inputs sheet of a ``bia`` workbook: one parameter table per model the plans run, and the unit prices.

    The new episodes' model (the BIA file, with its policy beside it) comes first; when a plan has
    prevalent patients, their model (with its policy) follows in a table titled
    ``Prevalent patients: <model>`` (:data:`~costspine.scenario.workbook_inputs.PREVALENT_TITLE`),
    the title by which ``--inputs`` applies its edits to that model. Unit prices cover every model.

    Returns
    -------
    inputs : Table
    more_inputs : tuple of Table
        The prevalent patients' table, or empty.
    unit_prices : Table or None
    """
    from costspine.reports.build_compare import build_scenario_prices
    from costspine.scenario.workbook_inputs import NEW_EPISODES_TITLE, PREVALENT_TITLE

    acute = _with_policies((r.scenario, r.spec.policy) for r in runs)
    prevalent = _with_policies((r.spec.prevalent.scenario, r.spec.prevalent.policy) for r in runs if r.spec.prevalent)
    inputs = _parameters_of(acute)
    if not prevalent:
        if len(acute) == 1:
            return inputs, (), build_unit_price_table(acute[0])
        return inputs, (), build_scenario_prices([s.name for s in acute], acute)
    models = [r.spec.prevalent.scenario.name for r in runs if r.spec.prevalent]
    policies = "; policies beside their model" if len(prevalent) > len(set(models)) else ""
    inputs = inputs.renamed(
        inputs.name,
        title=NEW_EPISODES_TITLE + ", ".join(r.scenario.name for r in runs) + f" — parameters (base-case values{policies})",
    )
    more = _parameters_of(prevalent)
    more = more.renamed(
        "parameters_prevalent",
        title=PREVALENT_TITLE + ", ".join(dict.fromkeys(models)) + f" — parameters (base-case values{policies})",
    )
    everything = _with_policies([(s, None) for s in acute + prevalent])
    return inputs, (more,), build_scenario_prices([s.name for s in everything], everything)


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


def _expression_text(expr, space: dict, tables: dict) -> str:
    """``rate_new_spine_episodes = 30``: the expression and, when it names parameters, its base-case value."""
    if isinstance(expr, dict):  # by age band
        return "; ".join(f"{band}: {_expression_text(e, space, tables)}" for band, e in expr.items())
    text = getattr(expr, "text", str(expr))
    if not getattr(expr, "names", None):
        return text
    try:
        value = float(np.asarray(expr.evaluate(space, tables=tables), dtype=float).reshape(-1)[0])
    except (ExpressionError, TypeError, ValueError, IndexError, KeyError):
        return text
    return f"{text} = {value:.4g}"


def _mix_text(mix: dict) -> str:
    """A raw mix table in one line: ``ice: start 0.1, end 0.4, shape linear; usual_care: rest``."""

    def value(v) -> str:
        if isinstance(v, dict):
            return ", ".join(f"{k} {value(x)}" for k, x in v.items())
        if isinstance(v, (list, tuple)):
            return "by year " + ", ".join(value(x) for x in v)
        return f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)

    return "; ".join(f"{strategy}: {value(v)}" for strategy, v in mix.items())


def _plan_rows(run) -> list[tuple]:
    """``(setting, value, key, source)`` of every plan-level input of one run."""
    from costspine.model.inputs import evaluate_parameters

    spec, scenario = run.spec, run.scenario
    space = {name: values[0] for name, values in evaluate_parameters(scenario).items()}

    def expression(expr) -> str:
        return _expression_text(expr, space, scenario.tables)

    key = "budget_impact"
    rows = [
        ("Years", f"{run.n_years}", f"{key}.years (--years: fewer)", ""),
        ("Members in year 1", f"{run.members_by_year[0]:,.0f}", f"{key}.members (--members)", ""),
        ("Member growth a year", f"{spec.member_growth_per_year:+.1%}", f"{key}.member_growth_per_year", ""),
    ]
    if spec.leave_rate is not None:
        rows.append(
            (
                "Members leaving the plan a year",
                expression(spec.leave_rate),
                f"{key}.leave_plan_per_year",
                spec.leave_source,
            )
        )
    rows.append(
        (
            "New episodes per 1,000 members a year",
            expression(spec.rate),
            f"{key}.episodes_per_1000_members",
            spec.rate_source,
        )
    )
    if spec.age_shares:
        rows.append(("Age mix of members", ", ".join(f"{b} {v:.0%}" for b, v in spec.age_shares.items()), f"{key}.age_mix", ""))
    rows += [
        ("Discount rate", f"{spec.discount_rate:.1%}", f"{key}.discount_rate", ""),
        ("Cost categories counted", ", ".join(spec.categories), f"{key}.categories", ""),
        ("Perspective", spec.perspective_text or spec.perspective, f"{key}.perspective", ""),
        ("New episodes: current mix", _mix_text(spec.mix_current), f"{key}.mix_current", ""),
        ("New episodes: new mix", _mix_text(spec.mix_new), f"{key}.mix_new", ""),
    ]
    if spec.policy is not None:
        rows.append(
            (
                "New episodes: policy",
                f"{spec.policy.name} ({spec.policy.path}) from year {spec.policy_start_year}",
                f"{key}.policy",
                "",
            )
        )
    prevalent = spec.prevalent
    if prevalent is not None:
        pkey = f"{key}.prevalent"
        rows += [
            ("Prevalent patients: model", f"{prevalent.scenario.name} ({prevalent.scenario.path})", f"{pkey}.scenario", ""),
            (
                "Prevalent patients per 1,000 members",
                expression(prevalent.per_1000),
                f"{pkey}.per_1000_members",
                prevalent.per_1000_source,
            ),
            (
                "Onset per 1,000 members a year",
                expression(prevalent.onset),
                f"{pkey}.onset_per_1000_members",
                prevalent.onset_source,
            ),
            ("Prevalent patients: current mix", _mix_text(prevalent.mix_current), f"{pkey}.mix_current", ""),
            ("Prevalent patients: new mix", _mix_text(prevalent.mix_new), f"{pkey}.mix_new", ""),
        ]
        if prevalent.policy is not None:
            rows.append(
                (
                    "Prevalent patients: policy",
                    f"{prevalent.policy.name} ({prevalent.policy.path}) from year {prevalent.policy_start_year}",
                    f"{pkey}.policy",
                    "",
                )
            )

    def declared(where: str) -> str:  # the file of the chain (extends) that sets it
        keypath = where.split(" ")[0]
        return f"{scenario.origin.get(keypath, scenario.path)}: {where}"

    return [(setting, value, declared(where), source or None) for setting, value, where, source in rows]


def _bia_plan_sheet(runs) -> Sheet:
    """The plan-level inputs of each run: horizon, members, rates, mixes, policies, the prevalent patients' model."""
    several = len(runs) > 1
    columns = (
        *((Column("Scenario"),) if several else ()),
        Column("Setting"),
        Column("Value"),
        Column("Set in"),
        Column("Source"),
    )
    rows = [(*((run.scenario.name,) if several else ()), *row) for run in runs for row in _plan_rows(run)]
    notes = (
        "The plan's own inputs, from the [budget_impact] section of the scenario file (members and years also from "
        "--members and --years). Change them there: --inputs reads the Inputs and Unit prices sheets only.",
        "Names in the values (e.g. rate_new_spine_episodes) are parameters: edit those on the Inputs sheet.",
    )
    return Sheet("Plan", (Table("plan", columns, rows, title="Plan-level inputs"),), notes=notes)


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
        sheets=(_bia_plan_sheet(runs), Sheet("By year", (by_year,), (chart,))),
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
