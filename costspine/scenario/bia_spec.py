"""A scenario's validated ``[budget_impact]`` section and its policy file: :class:`BiaSpec`.

:func:`check_budget_impact_section` adds every problem of a scenario's section and of the policy
file it names to the one :class:`~costspine.problems.Collector` (``costspine validate``);
:func:`read_bia_spec` raises them together as one :class:`~costspine.errors.ScenarioError` and
returns a :class:`BiaSpec` (``costspine bia``). Loading the policy scenario and checking that it
lines up with the BIA file (strategies, categories, cycles, prices, services) lives here too; the
checks of the section's own keys are in :mod:`costspine.scenario.budget_impact`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from costspine.errors import Problem, ScenarioError
from costspine.expressions import FUNCTIONS, TIME_NAMES, parse_expression
from costspine.problems import Collector
from costspine.scenario.budget_impact import MAX_YEARS, PERSPECTIVES as BIA_PERSPECTIVES, check_budget_impact, check_mix
from costspine.scenario.load import load_scenario
from costspine.scenario.types import Scenario


@dataclass(frozen=True)
class BiaSpec:
    """The validated ``[budget_impact]`` section of one scenario, plus its loaded policy scenario.

    Attributes
    ----------
    years : int
        The file's horizon; uptake curves and by-year lists are defined over it.
    members : float
        Average members in year 1.
    member_growth_per_year, discount_rate : float
        Fractions.
    categories : tuple of str
        The cost categories counted in the payer's budget, in the scenario's order.
    rate : Expression or dict of str to Expression
        Episodes per 1,000 members per year (by age band with ``age_shares``).
    rate_source : str
    age_shares : dict of str to float, or None
    mix_current, mix_new : dict
        The raw mix tables (resolved by :func:`costspine.analysis.bia_section.build_mix`).
    policy : Scenario or None
        The policy scenario, ready to run: its strategies and services line up with the BIA file's,
        and it runs over the BIA file's horizon (``settings.n_cycles``).
    policy_start_year : int or None
    policy_own_cycles : int or None
        The policy file's own ``n_cycles``, for the report.
    leave_rate : Expression or None
        Fraction of members leaving the plan a year (``leave_plan_per_year``); None: nobody leaves.
    leave_source : str
    prevalent : PrevalentSpec or None
        The plan's existing patients and their pathway model (``[budget_impact.prevalent]``).
    """

    perspective: str
    description: str
    years: int
    members: float
    member_growth_per_year: float
    discount_rate: float
    categories: tuple
    rate: object
    rate_source: str
    age_shares: dict | None
    mix_current: dict
    mix_new: dict
    policy: Scenario | None
    policy_start_year: int | None
    policy_own_cycles: int | None = None
    leave_rate: object = None
    leave_source: str = ""
    prevalent: PrevalentSpec | None = None
    perspective_text: str = ""


@dataclass(frozen=True)
class PrevalentSpec:
    """The ``[budget_impact.prevalent]`` table: the plan's existing patients and their pathway model.

    Attributes
    ----------
    scenario : Scenario
        Their pathway model (e.g. ``chronic_pathway.toml``), run over its own ``n_cycles``.
    description : str
    per_1000 : Expression
        Prevalent patients per 1,000 members at the start of year 1 (and among members who join).
    per_1000_source : str
    onset : Expression
        New patients per 1,000 members a year among members (onset while enrolled).
    onset_source : str
    mix_current, mix_new : dict
        Raw mix tables over the prevalent model's strategies.
    policy : Scenario or None
        Its policy scenario, lined up with ``scenario`` and run over its ``n_cycles``.
    policy_start_year, policy_own_cycles : int or None
    """

    scenario: Scenario
    description: str
    per_1000: object
    per_1000_source: str
    onset: object
    onset_source: str
    mix_current: dict
    mix_new: dict
    policy: Scenario | None = None
    policy_start_year: int | None = None
    policy_own_cycles: int | None = None


def read_bia_spec(scenario: Scenario) -> BiaSpec:
    """Validate a scenario's ``[budget_impact]`` section and load its policy scenario.

    Parameters
    ----------
    scenario : Scenario
        A loaded scenario (the BIA file).

    Returns
    -------
    BiaSpec

    Raises
    ------
    ScenarioError
        With every problem of the section, of the policy file, and of how the policy lines up
        with the BIA scenario (strategies, categories, cycles, currency, services).
    """
    section = scenario.sections.get("budget_impact")
    if section is None:
        raise ScenarioError(
            Problem(
                f"{scenario.path}: budget_impact",
                "missing; `costspine bia` needs a [budget_impact] "
                "section — add one, or write a small BIA file that `extends` this scenario (see "
                "docs/budget-impact.md)",
            )
        )
    c = Collector(scenario.origin, str(scenario.path))
    policy, policy_own_cycles = _check_policy_section(c, scenario)
    prevalent = _check_prevalent_section(c, scenario)
    c.raise_if_any()
    policy_entry = section.get("policy")
    rate_value = section["episodes_per_1000_members"]["value"]
    if isinstance(rate_value, dict):
        rate = {band: parse_expression(rate_value[band]) for band in section["age_mix"]}
    else:
        rate = parse_expression(rate_value)
    categories = (
        scenario.categories
        if section["categories"] == "all"
        else tuple(cat for cat in scenario.categories if cat in section["categories"])
    )
    return BiaSpec(
        perspective=section["perspective"],
        description=section.get("description", ""),
        years=int(section["years"]),
        members=float(section["members"]),
        member_growth_per_year=float(section["member_growth_per_year"]),
        discount_rate=float(section["discount_rate"]),
        categories=categories,
        rate=rate,
        rate_source=section["episodes_per_1000_members"]["source"],
        age_shares={band: float(v) for band, v in section["age_mix"].items()} if "age_mix" in section else None,
        mix_current=section["mix_current"],
        mix_new=section["mix_new"],
        policy=policy,
        policy_start_year=int(policy_entry["start_year"]) if policy is not None else None,
        policy_own_cycles=policy_own_cycles,
        leave_rate=parse_expression(section["leave_plan_per_year"]["value"]) if "leave_plan_per_year" in section else None,
        leave_source=section["leave_plan_per_year"]["source"] if "leave_plan_per_year" in section else "",
        prevalent=prevalent,
        perspective_text=scenario.analysis.perspective_text,
    )


def _check_prevalent_section(c: Collector, scenario: Scenario) -> PrevalentSpec | None:
    """Load the prevalent patients' pathway model (and its policy), adding problems to ``c``.

    The model must price in the BIA file's currency and price year and count the same cost
    categories; its mixes are checked against its own strategies.
    """
    section = scenario.sections.get("budget_impact")
    spec = section.get("prevalent") if isinstance(section, dict) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("scenario"), str):
        return None
    if any(p.where.partition(": ")[2].startswith("budget_impact.prevalent.scenario") for p in c.problems):
        return None
    keypath = "budget_impact.prevalent.scenario"
    path = scenario.declared_path(keypath, spec["scenario"])
    if not path.is_file():
        c.add(keypath, f"file not found: {path} (the path is relative to {path.parent}/, the folder of {c.file_of(keypath)})")
        return None
    edited, edited_from = scenario.model_parameters.get(keypath, (None, ""))  # --inputs edits of this model
    try:
        model = load_scenario(path, parameters=edited, parameters_from=edited_from)
    except ScenarioError as exc:
        c.extend(exc.problems)
        return None
    start = len(c.problems)
    if set(model.categories) != set(scenario.categories):
        c.add_at(
            f"{model.path}: costs",
            f"the prevalent patients' model must use the same cost categories as {scenario.path} "
            f"({', '.join(scenario.categories)}) so that one budget adds them up; got {', '.join(model.categories)}",
        )
    for key in ("currency", "price_year"):
        if getattr(model.settings, key) != getattr(scenario.settings, key):
            c.add_at(
                f"{model.path}: settings.{key}",
                f"must equal {scenario.path}'s ({getattr(scenario.settings, key)!r}) so that one budget adds "
                f"both pathways; got {getattr(model.settings, key)!r}",
            )
    years = section.get("years")
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= MAX_YEARS:
        years = None  # an invalid horizon is reported by check_budget_impact; check the mixes' shape only
    for key in ("mix_current", "mix_new"):
        if key in spec:
            check_mix(c, spec[key], strategies=list(model.strategies), years=years, keypath=f"budget_impact.prevalent.{key}")
    policy = own = None
    policy_entry = spec.get("policy")
    if isinstance(policy_entry, dict) and isinstance(policy_entry.get("scenario"), str) and len(c.problems) == start:
        policy, own = _load_policy(
            c, model, policy_entry["scenario"], keypath="budget_impact.prevalent.policy.scenario", declarer=scenario
        )
    if len(c.problems) > start or any(p.where.partition(": ")[2].startswith("budget_impact.prevalent") for p in c.problems):
        return None
    return PrevalentSpec(
        scenario=model,
        description=spec.get("description", ""),
        per_1000=parse_expression(spec["per_1000_members"]["value"]),
        per_1000_source=spec["per_1000_members"]["source"],
        onset=parse_expression(spec["onset_per_1000_members"]["value"]),
        onset_source=spec["onset_per_1000_members"]["source"],
        mix_current=spec["mix_current"],
        mix_new=spec["mix_new"],
        policy=policy,
        policy_start_year=int(policy_entry["start_year"]) if policy is not None else None,
        policy_own_cycles=own,
    )


def check_budget_impact_section(c: Collector, scenario: Scenario) -> tuple[Scenario | None, int | None]:
    """Add every problem of ``scenario``'s ``[budget_impact]`` section, of its policy file and of its
    prevalent patients' model (and that model's policy) to ``c``.

    The checks of :func:`read_bia_spec` (what ``costspine bia`` rejects as a file problem), for a
    reader that collects the problems of every section, such as ``costspine validate``.

    Returns
    -------
    policy : Scenario or None
        The policy scenario, ready to run (None when there is none or it has problems).
    policy_own_cycles : int or None
        The policy file's own ``n_cycles``.
    """
    found = _check_policy_section(c, scenario)
    _check_prevalent_section(c, scenario)
    return found


def _check_policy_section(c: Collector, scenario: Scenario) -> tuple[Scenario | None, int | None]:
    """Add every problem of ``scenario``'s ``[budget_impact]`` section and of its policy file to ``c``.

    The checks of :func:`read_bia_spec` (what ``costspine bia`` rejects as a file problem), for a
    reader that collects the problems of every section, such as ``costspine validate``. Each
    problem names the file that declares its key; the policy file is resolved against the folder
    of the file that declares ``[budget_impact.policy]``.

    Returns
    -------
    policy : Scenario or None
        The policy scenario, ready to run (None when there is none or it has problems).
    policy_own_cycles : int or None
        The policy file's own ``n_cycles``.
    """
    section = scenario.sections.get("budget_impact")
    if section is None:
        return None, None
    start = len(c.problems)
    check_budget_impact(
        c,
        section,
        strategies=list(scenario.strategies),
        categories=list(scenario.categories),
        parameters=_parameter_names(scenario),
    )
    _check_perspective(c, scenario, section)
    policy_entry = section.get("policy") if isinstance(section, dict) else None
    policy_ok = not any(p.where.partition(": ")[2].startswith("budget_impact.policy") for p in c.problems[start:])
    if policy_ok and isinstance(policy_entry, dict) and isinstance(policy_entry.get("scenario"), str):
        return _load_policy(c, scenario, policy_entry["scenario"])
    return None, None


def _check_perspective(c: Collector, scenario: Scenario, section) -> None:
    """The BIA file's ``perspective`` must be the scenario's ``[analysis] perspective``: one perspective, one wording."""
    value = section.get("perspective") if isinstance(section, dict) else None
    if not isinstance(value, str) or value not in BIA_PERSPECTIVES:
        return  # a missing or unknown value is reported by check_budget_impact
    analysis = scenario.analysis
    if value != analysis.perspective:
        declared = "analysis.perspective" in (scenario.origin or {})
        where = f"set in {c.file_of('analysis.perspective')}" if declared else "the default"
        c.add(
            "budget_impact.perspective",
            f"expected the scenario's [analysis] perspective {analysis.perspective!r} "
            f"({analysis.perspective_text}; {where}), got {value!r}; the budget is counted from the scenario's one "
            f"perspective — set both to the same (a budget impact analysis supports {', '.join(BIA_PERSPECTIVES)})",
        )


def _parameter_names(scenario: Scenario) -> set:
    return {name for spec in scenario.parameters for name in (spec.components or (spec.name,))}


def _load_policy(
    c: Collector, scenario: Scenario, relative: str, *, keypath: str = "budget_impact.policy.scenario", declarer=None
) -> tuple[Scenario | None, int | None]:
    """Load the policy scenario and check it lines up with ``scenario``, adding problems to ``c``.

    ``relative`` is resolved against the folder of the file that declares ``keypath`` in
    ``declarer`` (default: ``scenario``, the BIA file). Returns ``(policy ready to run, its own
    n_cycles)``, or ``(None, None)`` when there are problems.
    """
    path = (declarer or scenario).declared_path(keypath, relative)
    if not path.is_file():
        c.add(keypath, f"file not found: {path} (the path is relative to {path.parent}/, the folder of {c.file_of(keypath)})")
        return None, None
    try:
        edited, edited_from = (declarer or scenario).model_parameters.get(keypath, (None, ""))  # --inputs edits it inherits
        policy = load_scenario(path, parameters=edited, parameters_from=edited_from)
    except ScenarioError as exc:
        c.extend(exc.problems)
        return None, None
    start = len(c.problems)
    if set(policy.strategies) != set(scenario.strategies):
        c.add_at(
            f"{policy.path}: strategies",
            f"a policy must declare the same strategies as "
            f"{scenario.path} ({', '.join(scenario.strategies)}); got {', '.join(policy.strategies)}",
        )
    if set(policy.categories) != set(scenario.categories):
        c.add_at(
            f"{policy.path}: costs",
            f"a policy must use the same cost categories as "
            f"{scenario.path} ({', '.join(scenario.categories)}); got {', '.join(policy.categories)}",
        )
    ours, theirs = scenario.settings, policy.settings
    for key in ("cycle_length", "cycle_unit", "cycle_correction", "weights", "currency", "price_year"):
        if getattr(ours, key) != getattr(theirs, key):
            c.add_at(
                f"{policy.path}: settings.{key}",
                f"must equal {scenario.path}'s "
                f"({getattr(ours, key)!r}) so that both run on the same cycles and prices; "
                f"got {getattr(theirs, key)!r}",
            )
    services = _policy_services(c, scenario, policy)
    if len(c.problems) > start:
        return None, None
    # The BIA file sets how long an episode is followed; the policy changes prices and volumes only.
    settings = dataclasses.replace(theirs, n_cycles=ours.n_cycles)
    return dataclasses.replace(policy, settings=settings, services=services), theirs.n_cycles


def _policy_services(c: Collector, scenario: Scenario, policy: Scenario) -> tuple:
    """The services counted under the policy: the policy's own entry of a name, else the BIA file's.

    A BIA file's ``[services]`` entry is evaluated in the policy scenario (its parameters, its
    trace), so a policy that changes volumes through a parameter changes the counts too.
    """
    own = {s.name: s for s in policy.services}
    policy_files = Collector(policy.origin, str(policy.path))
    for name in own:
        if name not in {s.name for s in scenario.services}:
            c.add_at(
                f"{policy_files.file_of(f'services.{name}')}: services.{name}",
                f"not declared in {scenario.path}; the BIA file lists the services counted — add it there, or remove it here",
            )
    known = _parameter_names(policy) | TIME_NAMES
    callable_names = set(FUNCTIONS) | set(policy.tables)
    services = []
    for service in scenario.services:
        if service.name in own:
            services.append(own[service.name])
            continue
        for strategy in policy.strategies:
            local = known | set(policy.strategy_values.get(strategy, {}))
            for part, table in (("values", service.state_values), ("on_entry", service.entry_values)):
                for state, expr in table.get(strategy, {}).items():
                    missing = sorted((expr.names - local) | (expr.calls - callable_names))
                    unknown_state = state not in policy.states
                    if missing or unknown_state:
                        what = f"names {', '.join(map(repr, missing))}" if missing else f"state {state!r}"
                        c.add(
                            f"services.{service.name}.{part}.{state}",
                            f"is also counted under the policy {policy.path}, which has no {what} "
                            f"(strategy {strategy}); declare [services.{service.name}] in the policy file",
                        )
        services.append(service)
    return tuple(services)
