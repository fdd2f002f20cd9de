"""The inputs of a ``bia`` workbook: one parameter table per model the plans run, unit prices of
every model, and the Plan sheet of plan-level inputs (``[budget_impact]``).

Part of :mod:`costspine.reports.build_bia`; describes tables only (no openpyxl, no files). The
titles of the parameter tables are how :mod:`costspine.scenario.workbook_models` sends an edit to
the model of the table it was made in.
"""

from __future__ import annotations

import numpy as np

from costspine.expressions import ExpressionError
from costspine.reports.inputs import build_parameter_table, build_unit_price_table
from costspine.reports.workbook import Column, Sheet, Table


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
    ``Prevalent patients: <model>`` (:data:`~costspine.scenario.workbook_models.PREVALENT_TITLE`),
    the title by which ``--inputs`` applies its edits to that model. Unit prices cover every model.

    Returns
    -------
    inputs : Table
    more_inputs : tuple of Table
        The prevalent patients' table, or empty.
    unit_prices : Table or None
    """
    from costspine.reports.build_compare import build_scenario_prices
    from costspine.scenario.workbook_models import NEW_EPISODES_TITLE, PREVALENT_TITLE

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


def build_bia_plan_sheet(runs) -> Sheet:
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
