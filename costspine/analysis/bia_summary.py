"""Text and machine-readable summaries of budget-impact runs: what ``costspine bia`` prints and
``summary.json`` holds (:meth:`BiaRun.summary`, :meth:`BiaRun.to_dict`).

Works on :class:`costspine.analysis.bia_run.BiaRun` objects (results already computed); no pandas.
"""

from __future__ import annotations

import numpy as np

from costspine._text import format_table, wrap_text

MEASURES = ("current", "new", "difference")


# --------------------------------------------------------------------------------------------
# Text


def _money(x) -> str:
    return f"{round(x):,}"  # round() first: never "-0"


def _pmpm(x) -> str:
    return f"{round(x, 2) + 0.0:,.2f}"


def _count(x) -> str:
    return f"{round(x) + 0:,}"  # whole services, one format in every column


def _words(name: str) -> str:
    """A category id as a reader writes it: 'therapy_sessions' -> 'Therapy sessions'."""
    return name.replace("_", " ").capitalize()


def _interval(row, fmt) -> list[str]:
    """The 2.5% and 97.5% cells of a 95% interval (two columns: numbers never wrap)."""
    return ["—", "—"] if row["low"] is None else [fmt(row["low"]), fmt(row["high"])]


INTERVAL = ["2.5%", "97.5%"]  # the headers of :func:`_interval`'s two columns


def _years(run) -> list:
    return list(range(1, run.n_years + 1)) + ["total"]


def describe_central(run) -> str:
    """What the central figures are: the deterministic base case, or the mean of the parameter draws."""
    if run.n_draws:
        return f"Central figures: the mean of {run.n_draws} parameter draws (seed {run.seed}), not the base case"
    return "Central figures: the deterministic base case"


def _has(run, measure, item="all", year="total") -> bool:
    try:
        run.value(measure, item, year)
    except KeyError:
        return False
    return True


def format_bia(run) -> str:
    """The printed report of one scenario: budget and PMPM by year, difference by category, services."""
    scenario, spec, budget = run.scenario, run.spec, run.budget
    currency, price_year = scenario.settings.currency, scenario.settings.price_year
    draws = run.n_draws > 0
    lines = [
        wrap_text(scenario.title if scenario.title.lower().startswith("budget impact") else f"Budget impact: {scenario.title}")
    ]
    if spec.description:
        lines.append(wrap_text(spec.description))
    members0 = run.members_by_year[0]
    rate = run.rate_per_1000
    rate_text = f"{rate.mean():.3g}" + (
        f" (95% interval {np.percentile(rate, 2.5):.3g} to {np.percentile(rate, 97.5):.3g})" if draws and np.ptp(rate) > 0 else ""
    )
    lines.append(
        wrap_text(
            f"Plan: {members0:,.0f} members in year 1, {spec.member_growth_per_year:+.1%} a year; "
            f"{rate_text} new spine-pain episodes per 1,000 members a year"
        )
    )
    lines.append(wrap_text(f"  rate source: {spec.rate_source}", indent="  "))
    if spec.leave_rate is not None:
        lines.append(
            wrap_text(
                f"  members leaving the plan: {float(np.mean(run.leave_per_year)):.1%} a year (replaced by new members); "
                f"source: {spec.leave_source}",
                indent="  ",
            )
        )
    prevalent = next((seg for seg in run.segments if seg.name == "prevalent"), None)
    if prevalent is not None:
        p = spec.prevalent
        lines.append(
            wrap_text(
                f"Prevalent patients: {float(np.mean(prevalent.initial)):,.0f} in care at the start of year 1"
                + (f" ({p.description})" if p.description else "")
            )
        )
        lines.append(
            wrap_text(
                f"  model {p.scenario.name}; entering a year: "
                f"{run.value('entering', 'prevalent', 2 if run.n_years > 1 else 1)['mean']:,.0f} (onset, and new members' patients)",
                indent="  ",
            )
        )
        lines.append(wrap_text(f"  prevalence source: {p.per_1000_source}", indent="  "))
        lines.append(wrap_text(f"  onset source: {p.onset_source}", indent="  "))
    discount = "undiscounted" if spec.discount_rate == 0 else f"discounted at {spec.discount_rate:.1%} a year from year 2"
    categories = "all" if spec.categories == scenario.categories else ", ".join(spec.categories)
    # prices are held at the scenario's price year in every budget year: constant, not nominal, money
    lines.append(
        wrap_text(
            f"Perspective: {spec.perspective_text}; constant {price_year} {currency}, {discount}; cost categories: {categories}"
        )
    )
    settings = scenario.settings
    if spec.policy is None:
        lines.append("Policy: none")
    elif run.policy_applied:
        lines.append(
            wrap_text(
                f"Policy: {spec.policy.name} ({spec.policy.path}) for care delivered from year "
                f"{spec.policy_start_year} on, new world only"
            )
        )
        if spec.policy_own_cycles != settings.n_cycles:
            lines.append(
                f"  the policy runs over this file's {settings.n_cycles} cycles (its own file has {spec.policy_own_cycles})"
            )
    else:
        lines.append(
            f"Policy: {spec.policy.name} starts in year {spec.policy_start_year}, after the "
            f"{run.n_years}-year horizon: not applied"
        )
    if prevalent is not None and spec.prevalent.policy is not None:
        lines.append(
            wrap_text(
                f"Policy for prevalent patients: {spec.prevalent.policy.name} ({spec.prevalent.policy.path}) for care "
                f"delivered from year {spec.prevalent.policy_start_year} on, new world only"
                if run.prevalent_policy_applied
                else f"Policy for prevalent patients: {spec.prevalent.policy.name} starts after the horizon: not applied"
            )
        )
    lines.append(describe_central(run) + ("" if draws else "; --draws 200 adds 95% intervals"))
    horizon = budget.model_horizon_years
    unit = settings.cycle_unit + ("" if settings.cycle_length == 1 else "s")
    follow = (
        f"Model: each episode is followed for {horizon:.3g} years ({settings.n_cycles} cycles of "
        f"{settings.cycle_length:g} {unit})"
    )
    if prevalent is not None:
        follow += (
            "\n  episodes begun before year 1 are still in care; pain that persists continues among the"
            f"\n  prevalent patients (followed {prevalent.budget.model_horizon_years:.3g} years)"
        )
    elif horizon + budget.cycle_years < run.n_years - 1e-9:  # more than the last partial cycle is missing
        follow += (
            f"; care after that is not counted, so the later years of a {run.n_years}-year budget are "
            "understated (lengthen settings.n_cycles)"
        )
    lines.append(follow)

    rows = []
    for y in _years(run):
        members = run.members_by_year[y - 1] if y != "total" else run.members_by_year.sum()
        diff = run.value("budget_difference", year=y)
        episodes = run.value("entering", "acute", y)["mean"] if prevalent is not None else run.value("episodes", year=y)["mean"]
        rows.append(
            [
                str(y),
                _money(members) if y != "total" else f"{_money(members)} m-years",
                _money(episodes),
            ]
            + ([_money(run.value("in_care_current", "prevalent", y)["mean"])] if prevalent is not None else [])
            + [
                _money(run.value("budget_current", year=y)["mean"]),
                _money(run.value("budget_new", year=y)["mean"]),
                _money(diff["mean"]),
            ]
            + (_interval(diff, _money) if draws else [])
        )
    headers = (
        ["year", "members", "new episodes"]
        + (["chronic in care"] if prevalent is not None else [])
        + [f"current ({currency})", f"new ({currency})", "difference"]
    )
    lines += [
        "",
        format_table(headers + (INTERVAL if draws else []), rows, title=f"Budget by year (constant {price_year} {currency})"),
    ]

    rows = []
    for y in _years(run):
        diff = run.value("pmpm_difference", year=y)
        rows.append(
            [
                str(y),
                _pmpm(run.value("pmpm_current", year=y)["mean"]),
                _pmpm(run.value("pmpm_new", year=y)["mean"]),
                _pmpm(diff["mean"]),
            ]
            + (_interval(diff, _pmpm) if draws else [])
        )
    lines += [
        "",
        format_table(
            ["year", "current", "new", "difference"] + (INTERVAL if draws else []),
            rows,
            title=f"Per member per month ({currency})",
        ),
    ]

    rows = []
    for item in budget.categories + ("all",):
        total = run.value("budget_difference", item, "total")
        rows.append(
            ["All categories" if item == "all" else _words(item)]
            + [_money(run.value("budget_difference", item, y)["mean"]) for y in range(1, run.n_years + 1)]
            + [_money(total["mean"])]
            + (_interval(total, _money) if draws else [])
        )
    headers = ["category"] + [f"year {y}" for y in range(1, run.n_years + 1)] + ["total"]
    lines += [
        "",
        format_table(
            headers + (INTERVAL if draws else []), rows, title=f"Difference by cost category, new − current ({currency})"
        ),
    ]

    if budget.services:
        rows = []
        service_labels = {s.name: " ".join(str(s.label or s.name).split()) for s in scenario.services}
        for item in budget.services:
            total = run.value("services_difference", item, "total")
            rows.append(
                [
                    service_labels.get(item, item),
                    _count(run.value("services_current", item)["mean"]),
                    _count(run.value("services_new", item)["mean"]),
                    _count(total["mean"]),
                ]
                + (_interval(total, _count) if draws else [])
                + [_count(run.value("services_difference", item, y)["mean"]) for y in range(1, run.n_years + 1)]
            )
        headers = (
            ["service", "current", "new", "difference"]
            + (INTERVAL if draws else [])
            + [f"Δ year {y}" for y in range(1, run.n_years + 1)]
        )
        lines += ["", format_table(headers, rows, title=f"Services used over {run.n_years} years (counts)")]

    lines += _health_tables(run)

    rows = []
    for y in range(1, run.n_years + 1):
        cells = []
        for strategy in budget.strategies:
            group = strategy.partition(":")[0] if ":" in strategy else None
            entering = (
                run.value("entering", group, y)["mean"]
                if group is not None and run.segments
                else run.value("episodes", year=y)["mean"]
            )
            shares = [run.value(f"episodes_{m}", strategy, y)["mean"] / entering if entering else 0.0 for m in ("current", "new")]
            cells.append(f"{shares[0]:.0%} → {shares[1]:.0%}")
        rows.append([str(y)] + cells)
    title = (
        "Pathway mix of patients entering each group (current → new)"
        if prevalent is not None
        else "Pathway mix of new episodes (current → new)"
    )
    strategy_labels = [scenario.strategy_labels.get(s, s) for s in budget.strategies]
    lines += ["", format_table(["year", *strategy_labels], rows, title=title)]
    return "\n".join(lines)


def _health_tables(run) -> list[str]:
    """QALYs and mean ODI by year, and people in each state, beside the budget."""
    if not _has(run, "health_current", "qalys") and not _has(run, "health_current", "mean_odi"):
        return []
    draws = run.n_draws > 0
    rows = []
    for y in _years(run):
        row = [str(y)]
        if _has(run, "health_current", "qalys"):
            diff = run.value("health_difference", "qalys", y)
            row += [
                _count(run.value("health_current", "qalys", y)["mean"]),
                _count(run.value("health_new", "qalys", y)["mean"]),
                f"{diff['mean']:+,.1f}",
            ]
            row += _interval(diff, lambda v: f"{v:+,.1f}") if draws else []
        if _has(run, "health_current", "mean_odi"):
            row += [f"{run.value(f'health_{m}', 'mean_odi', y)['mean']:.2f}" for m in ("current", "new")]
        rows.append(row)
    headers = ["year"]
    if _has(run, "health_current", "qalys"):
        headers += ["QALYs current", "QALYs new", "Δ QALYs"] + (INTERVAL if draws else [])
    if _has(run, "health_current", "mean_odi"):
        headers += ["mean ODI current", "mean ODI new"]
    out = ["", format_table(headers, rows, title="Health of the patients in the pathways (undiscounted)")]
    states = [
        r["item"] for r in run.rows if r["measure"] == "health_current" and r["item"].startswith("people:") and r["year"] == 1
    ]
    if states:
        rows = []
        for item in states:
            rows.append(
                [item.removeprefix("people:")]
                + [_money(run.value("health_current", item, y)["mean"]) for y in range(1, run.n_years + 1)]
                + [f"{run.value('health_difference', item, y)['mean']:+,.0f}" for y in (run.n_years,)]
            )
        headers = ["state"] + [f"year {y}" for y in range(1, run.n_years + 1)] + [f"Δ year {run.n_years}"]
        out += [
            "",
            format_table(headers, rows, title="People in each state, average over the year (current world; Δ = new − current)"),
        ]
    return out


def format_bia_comparison(runs: list) -> str:
    """Side-by-side totals and yearly differences of several BIA scenarios."""
    draws = any(r.n_draws for r in runs)
    max_years = max(r.n_years for r in runs)
    headers = (
        ["scenario", "years", "currency", "current", "new", "difference"]
        + (INTERVAL if draws else [])
        + ["PMPM Δ"]
        + [f"Δ year {y}" for y in range(1, max_years + 1)]
    )
    rows = []
    for r in runs:
        diff = r.value("budget_difference")
        s = r.scenario.settings
        rows.append(
            [
                r.scenario.name,
                str(r.n_years),
                f"constant {s.price_year} {s.currency}",
                _money(r.value("budget_current")["mean"]),
                _money(r.value("budget_new")["mean"]),
                _money(diff["mean"]),
            ]
            + (_interval(diff, _money) if draws else [])
            + [_pmpm(r.value("pmpm_difference")["mean"])]
            + [_money(r.value("budget_difference", year=y)["mean"]) if y <= r.n_years else "—" for y in range(1, max_years + 1)]
        )
    return format_table(headers, rows, title="Budget impact side by side (totals over each scenario's years)")


def _health_items(run) -> list:
    return list(dict.fromkeys(r["item"] for r in run.rows if r["measure"] == "health_current"))


def summarize_bia(run) -> dict:
    """Machine-readable results of one scenario (``summary.json``)."""
    scenario, spec, budget = run.scenario, run.spec, run.budget

    def headline(measure, item="all"):
        return {str(y): {k: run.value(measure, item, y)[k] for k in ("mean", "low", "high")} for y in _years(run)}

    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "description": spec.description,
        "perspective": spec.perspective,
        "perspective_text": spec.perspective_text,
        "currency": scenario.settings.currency,
        "price_year": scenario.settings.price_year,
        "nominal": False,  # prices held at price_year in every year
        "price_basis": f"constant {scenario.settings.price_year} {scenario.settings.currency}",
        "discount_rate": spec.discount_rate,
        "years": run.n_years,
        "years_in_file": spec.years,
        "members_by_year": run.members_by_year,
        "member_growth_per_year": spec.member_growth_per_year,
        "episodes_per_1000_members": {
            "mean": float(run.rate_per_1000.mean()),
            "source": spec.rate_source,
            "age_shares": spec.age_shares,
        },
        "categories": list(budget.categories),
        "services": list(budget.services),
        "strategies": list(run.segments[0].budget.strategies) if run.segments else list(budget.strategies),
        "strategies_by_group": {seg.name: list(seg.budget.strategies) for seg in run.segments},
        "policy": None
        if spec.policy is None
        else {
            "scenario": str(spec.policy.path),
            "name": spec.policy.name,
            "start_year": spec.policy_start_year,
            "applied": run.policy_applied,
        },
        "draws": run.n_draws,
        "seed": run.seed,
        "central": run.central,
        "central_text": describe_central(run),
        "interval": "95% (2.5th and 97.5th percentiles over draws)" if run.n_draws else None,
        "model_horizon_years": budget.model_horizon_years,
        "cycle_years": budget.cycle_years,
        "budget_current": headline("budget_current"),
        "budget_new": headline("budget_new"),
        "budget_difference": headline("budget_difference"),
        "pmpm_difference": headline("pmpm_difference"),
        "health": {
            measure: {item: headline(measure, item) for item in _health_items(run)}
            for measure in ("health_current", "health_new", "health_difference")
        },
        "leave_plan_per_year": None
        if spec.leave_rate is None
        else {"mean": float(np.mean(run.leave_per_year)), "source": spec.leave_source},
        "prevalent": None
        if spec.prevalent is None
        else {
            "scenario": str(spec.prevalent.scenario.path),
            "name": spec.prevalent.scenario.name,
            "description": spec.prevalent.description,
            "at_start": float(np.mean(next(s.initial for s in run.segments if s.name == "prevalent"))),
            "per_1000_source": spec.prevalent.per_1000_source,
            "onset_source": spec.prevalent.onset_source,
            "policy": None
            if spec.prevalent.policy is None
            else {
                "scenario": str(spec.prevalent.policy.path),
                "name": spec.prevalent.policy.name,
                "start_year": spec.prevalent.policy_start_year,
                "applied": run.prevalent_policy_applied,
            },
        },
        "posterior": run.posterior,
        "records": run.rows,
    }
