"""The ``[budget_impact]`` section of a scenario: every problem at once, and pathway mixes by year.

:func:`check_budget_impact` adds every problem of the table (key path, what was expected, what
was found) to the one :class:`~costspine.problems.Collector`, never raising;
:func:`check_budget_impact_section` adds those of a scenario's section and of the policy file it
names (``costspine validate``), and :func:`read_bia_spec` raises them together as one
:class:`~costspine.errors.ScenarioError` (``costspine bia``). :func:`build_mix` turns a valid ``mix_current`` or
``mix_new`` table into an array of shape (year, strategy). The keys are documented in
``docs/budget-impact.md``; the arithmetic of the budget is in :mod:`costspine.analysis.bia`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from costspine.errors import Problem, ScenarioError, UsageError, describe_value as _describe
from costspine.expressions import FUNCTIONS, TIME_NAMES, parse_expression
from costspine.problems import Collector, collector_at, did_you_mean
from costspine.scenario.load import load_scenario
from costspine.scenario.types import Scenario

MAX_YEARS = 10
MAX_MEMBERS = 10_000_000_000
"""Most plan members accepted (more than the world's population: a typo, and it would overflow budgets)."""
SHARE_TOLERANCE = 1e-6
REST = "rest"
UPTAKE_SHAPES = ("linear", "s-curve")
PERSPECTIVES = ("payer",)
SECTION_KEYS = {"description", "perspective", "years", "members", "member_growth_per_year", "age_mix",
                "episodes_per_1000_members", "mix_current", "mix_new", "policy", "categories",
                "discount_rate"}
REQUIRED_KEYS = SECTION_KEYS - {"description", "age_mix", "policy"}
EPISODE_KEYS = {"value", "source"}
POLICY_KEYS = {"scenario", "start_year"}
UPTAKE_KEYS = {"start", "end", "shape"}

def find_budget_impact_problems(section: dict, *, where: str, strategies: list[str], categories: list[str],
                                parameters=None) -> list[Problem]:
    """Every problem of a ``[budget_impact]`` table (keys in ``docs/budget-impact.md``); never raises.

    Parameters
    ----------
    section : dict
        The table as read from TOML.
    where : str
        ``file: key.path`` of the table, e.g. ``"scenarios/bia.toml: budget_impact"``.
    strategies, categories : list of str
        The scenario's strategies and cost categories.
    parameters : collection of str, optional
        The scenario's parameter names; when given, names in ``episodes_per_1000_members.value``
        expressions are checked against them.

    Returns
    -------
    list of Problem
        Empty when the section is valid.
    """
    c, keypath = collector_at(where)
    check_budget_impact(c, section, keypath=keypath, strategies=strategies, categories=categories,
                        parameters=parameters)
    return c.problems


def check_budget_impact(c: Collector, section, *, strategies, categories, parameters=None,
                        keypath: str = "budget_impact") -> None:
    """Add every problem of a ``[budget_impact]`` table to the collector ``c``; never raises.

    The same checks as :func:`find_budget_impact_problems`, for a reader that collects the problems
    of every section (``costspine validate``, :func:`read_bia_spec`).
    """
    def at(key):
        return f"{keypath}.{key}" if key else keypath

    if not isinstance(section, dict):
        c.add(keypath, f"expected a table, got {_describe(section)}")
        return
    c.unknown_keys(keypath, section, SECTION_KEYS, listing="expected one of")
    for key in sorted(REQUIRED_KEYS - set(section)):
        c.add(at(key), "missing (every input that changes the budget is written in the file; see docs/budget-impact.md)")
    years = _number(c, at("years"), section.get("years"), low=1, high=MAX_YEARS, integer=True,
                    hint=" — ISPOR recommends 1 to 5 years")
    _text(c, at("perspective"), section.get("perspective"), choices=PERSPECTIVES)
    _text(c, at("description"), section.get("description"))
    _number(c, at("members"), section.get("members"), low=0, high=MAX_MEMBERS, exclusive_low=True)
    _number(c, at("member_growth_per_year"), section.get("member_growth_per_year"), low=-1, high=1,
            exclusive_low=True, exclusive_high=True,
            hint=_percent_hint(section.get("member_growth_per_year"), "growth is a fraction"))
    _number(c, at("discount_rate"), section.get("discount_rate"), low=0, high=1, exclusive_high=True,
            hint=_percent_hint(section.get("discount_rate"), "rates are fractions")
            + " (ISPOR BIA reports undiscounted budgets: discount_rate = 0)")
    bands = _check_age_mix(c, at("age_mix"), section.get("age_mix"))
    _check_episode_rate(c, at("episodes_per_1000_members"), section.get("episodes_per_1000_members"), bands, parameters)
    if "categories" in section:
        _check_categories(c, at("categories"), section["categories"], categories)
    for key in ("mix_current", "mix_new"):
        if key in section:
            _resolve_mix(c, section[key], strategies=list(strategies), years=years or 1, keypath=at(key),
                         shape_only=years is None)
    if "policy" in section:
        _check_policy(c, at("policy"), section["policy"], years)


def build_mix(spec: dict, *, strategies, years: int, where: str = "budget_impact.mix") -> np.ndarray:
    """Pathway shares by year, shape (year, strategy), from a ``mix_current``/``mix_new`` table.

    Entries are a share, a list of shares by year, an uptake curve ``{start, end, shape}`` or
    ``"rest"`` (one minus the others); strategies not listed have share 0.

    Raises
    ------
    ScenarioError
        With every problem of the table.
    """
    c, keypath = collector_at(where)
    mix = _resolve_mix(c, spec, strategies=list(strategies), years=years, keypath=keypath)
    c.raise_if_any()
    return mix


def _resolve_mix(c: Collector, spec, *, strategies, years, keypath, shape_only=False):
    def path(*parts):
        return ".".join(p for p in (keypath,) + parts if p)

    if not isinstance(spec, dict) or not spec:
        c.add(path(), f"expected a table {{strategy = share}}, got {_describe(spec)}")
        return None
    shares = np.zeros((years, len(strategies)))
    rest, ok = [], True
    for name, value in spec.items():
        if name not in strategies:
            c.add(path(name), "unknown strategy" + did_you_mean(name, strategies, always=True))
            ok = False
            continue
        j = strategies.index(name)
        if value == REST:
            rest.append(name)
        elif isinstance(value, list):
            if not shape_only and len(value) != years:
                c.add(path(name), f"has {len(value)} shares; expected one per year ({years}), or a single share")
                ok = False
                continue
            for t, v in enumerate(value):
                number = _number(c, path(name) + f"[{t}]", v, low=0, high=1)
                ok = ok and number is not None
                if number is not None and not shape_only:
                    shares[t, j] = number
        elif isinstance(value, dict):
            ok = _uptake_into(c, path(name), value, shares[:, j], years, shape_only) and ok
        elif isinstance(value, str):
            c.add(path(name), f"expected a share, a list of shares by year, {{start, end, shape}} or \"rest\"; got {value!r}")
            ok = False
        else:
            number = _number(c, path(name), value, low=0, high=1)
            ok = ok and number is not None
            shares[:, j] = number or 0.0
    if len(rest) > 1:
        c.add(path(), f"at most one strategy may be \"rest\"; got {', '.join(rest)}")
        return None
    if not ok or shape_only:
        return None
    others = shares.sum(axis=1)
    if rest:
        remainder = 1.0 - others
        bad = np.flatnonzero(remainder < -SHARE_TOLERANCE)
        if bad.size:
            c.add(path(rest[0]), "\"rest\" would be negative: " + "; ".join(
                f"year {t + 1}: the other shares sum to {others[t]:.6g}" for t in bad))
            return None
        shares[:, strategies.index(rest[0])] = np.maximum(remainder, 0.0)
        return shares
    bad = np.flatnonzero(np.abs(others - 1.0) > SHARE_TOLERANCE)
    if bad.size:
        c.add(path(), "shares must sum to 1 in every year: " + "; ".join(
            f"year {t + 1} sums to {others[t]:.6g}" for t in bad) + " — or let one strategy be \"rest\"")
        return None
    return shares


def _uptake_into(c: Collector, key, spec, out, years, shape_only) -> bool:
    ok = True
    for k in spec:
        if k not in UPTAKE_KEYS:
            c.add(f"{key}.{k}", "unknown key" + did_you_mean(k, UPTAKE_KEYS, always=True))
            ok = False
    for k in sorted(UPTAKE_KEYS - set(spec)):
        c.add(f"{key}.{k}", "missing; an uptake curve is {start = share, end = share, shape = \"linear\"}")
        ok = False
    start = _number(c, f"{key}.start", spec.get("start"), low=0, high=1)
    end = _number(c, f"{key}.end", spec.get("end"), low=0, high=1)
    shape = _text(c, f"{key}.shape", spec.get("shape"), choices=UPTAKE_SHAPES)
    if not ok or None in (start, end, shape):
        return False
    if shape_only:
        return True
    if years == 1 and start != end:
        c.add(key, f"one year cannot go from {start} to {end}; give a single share")
        return False

    out[:] = uptake_curve(start, end, years, shape=shape)
    return True


def _check_age_mix(c: Collector, key, spec):
    if spec is None:
        return None
    if not isinstance(spec, dict) or not spec:
        c.add(key, f"expected a table {{band = share}} such as {{\"18-44\" = 0.5, \"45-64\" = 0.5}}; got {_describe(spec)}")
        return None
    values = [_number(c, f"{key}.{band}", v, low=0, high=1) for band, v in spec.items()]
    if None not in values and abs(sum(values) - 1.0) > SHARE_TOLERANCE:
        c.add(key, f"shares must sum to 1; got {sum(values):.6g}")
    return list(spec)


def _check_episode_rate(c: Collector, key, spec, bands, parameters):
    if spec is None:
        return
    if not isinstance(spec, dict):
        c.add(key, f"expected a table {{value = ..., source = \"...\"}}, got {_describe(spec)}"
                   " — the rate needs its source (write \"assumption: ...\" where there is none)")
        return
    for k in spec:
        if k not in EPISODE_KEYS:
            c.add(f"{key}.{k}", "unknown key" + did_you_mean(k, EPISODE_KEYS, always=True))
    source = _text(c, f"{key}.source", spec.get("source"), required=True)
    if source is not None and not source.strip():
        c.add(f"{key}.source", "is empty; cite the source or write \"assumption: <reasoning>\"")
    value = spec.get("value")
    if value is None:
        c.add(f"{key}.value", "missing; expected episodes per 1,000 members per year (a number, an expression "
                              "or, with age_mix, a table by age band)")
    elif isinstance(value, dict):
        if bands is None:
            c.add(f"{key}.value", "a rate by age band needs an age_mix table with the same bands")
            return
        for band in value:
            if band not in bands:
                c.add(f"{key}.value.{band}", "not a band of age_mix" + did_you_mean(band, bands, always=True))
        for band in bands:
            if band not in value:
                c.add(f"{key}.value.{band}", "missing; give a rate for every band of age_mix")
            else:
                _rate(c, f"{key}.value.{band}", value[band], parameters)
    else:
        if bands is not None:
            c.add(f"{key}.value", "with age_mix, give a table of rates by age band")
        _rate(c, f"{key}.value", value, parameters)


def _rate(c: Collector, key, value, parameters):
    if isinstance(value, str):
        expr = c.expression(key, value)
        if expr is None:
            return
        unknown = sorted(expr.names - set(parameters)) if parameters is not None else []
        for name in unknown:
            c.add(key, f"{name!r} is not a parameter" + did_you_mean(name, parameters))
        if not expr.names and expr.calls <= set(FUNCTIONS):
            _number(c, key, float(np.asarray(expr.evaluate({}))), low=0)
    else:
        _number(c, key, value, low=0)


def _check_categories(c: Collector, key, value, categories):
    if value == "all":
        return
    if not isinstance(value, list) or not value:
        c.add(key, f"expected \"all\" or a non-empty array of cost categories; got {_describe(value)}")
        return
    seen = set()
    for i, name in enumerate(value):
        if not isinstance(name, str) or name not in categories:
            c.add(f"{key}[{i}]", f"unknown cost category {name!r}" + did_you_mean(str(name), categories, always=True))
        elif name in seen:
            c.add(f"{key}[{i}]", f"{name!r} is listed twice")
        seen.add(name)


def _check_policy(c: Collector, key, spec, years):
    if not isinstance(spec, dict):
        c.add(key, f"expected a table {{scenario = \"file.toml\", start_year = 2}}; got {_describe(spec)}")
        return
    for k in spec:
        if k not in POLICY_KEYS:
            c.add(f"{key}.{k}", "unknown key" + did_you_mean(k, POLICY_KEYS, always=True))
    for k in sorted(POLICY_KEYS - set(spec)):
        c.add(f"{key}.{k}", "missing; a policy is {scenario = \"file.toml\", start_year = 2}")
    scenario = _text(c, f"{key}.scenario", spec.get("scenario"))
    if scenario is not None and not scenario.endswith(".toml"):
        c.add(f"{key}.scenario", f"expected the path of a scenario file ending in .toml; got {scenario!r}")
    high = years if years is not None else MAX_YEARS
    _number(c, f"{key}.start_year", spec.get("start_year"), low=1, high=high, integer=True,
            hint=f" — the policy must start within the horizon (years = {high})")


def _number(c: Collector, key, value, **bounds):
    """A number in the section (never an expression); None (and no problem) when absent."""
    if value is None:
        return None
    return c.number(key, value, expressions=False, compact=True, **bounds)


def _text(c: Collector, key, value, *, choices=None, required=False):
    return c.text(key, value, choices=choices, required=required, missing="missing; expected text")


def _percent_hint(value, what: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= abs(value) < 100:
        return f" — {what}, did you mean {value / 100:g}?"
    return ""


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
        raise ScenarioError(Problem(f"{scenario.path}: budget_impact", "missing; `costspine bia` needs a [budget_impact] "
                                    "section — add one, or write a small BIA file that `extends` this scenario (see "
                                    "docs/budget-impact.md)"))
    c = Collector(scenario.origin, str(scenario.path))
    policy, policy_own_cycles = check_budget_impact_section(c, scenario)
    c.raise_if_any()
    policy_entry = section.get("policy")
    rate_value = section["episodes_per_1000_members"]["value"]
    if isinstance(rate_value, dict):
        rate = {band: parse_expression(rate_value[band]) for band in section["age_mix"]}
    else:
        rate = parse_expression(rate_value)
    categories = scenario.categories if section["categories"] == "all" else \
        tuple(cat for cat in scenario.categories if cat in section["categories"])
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
    )

def check_budget_impact_section(c: Collector, scenario: Scenario) -> tuple[Scenario | None, int | None]:
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
    check_budget_impact(c, section, strategies=list(scenario.strategies), categories=list(scenario.categories),
                        parameters=_parameter_names(scenario))
    policy_entry = section.get("policy") if isinstance(section, dict) else None
    policy_ok = not any(p.where.partition(": ")[2].startswith("budget_impact.policy") for p in c.problems[start:])
    if policy_ok and isinstance(policy_entry, dict) and isinstance(policy_entry.get("scenario"), str):
        return _load_policy(c, scenario, policy_entry["scenario"])
    return None, None

def _parameter_names(scenario: Scenario) -> set:
    return {name for spec in scenario.parameters for name in (spec.components or (spec.name,))}

def _load_policy(c: Collector, scenario: Scenario, relative: str) -> tuple[Scenario | None, int | None]:
    """Load the policy scenario and check it lines up with the BIA scenario, adding problems to ``c``.

    ``relative`` is resolved against the folder of the file that declares ``[budget_impact.policy]``.
    Returns ``(policy ready to run, its own n_cycles)``, or ``(None, None)`` when there are problems.
    """
    keypath = "budget_impact.policy.scenario"
    path = scenario.declared_path(keypath, relative)
    if not path.is_file():
        c.add(keypath, f"file not found: {path} (the path is relative to {path.parent}/, the folder of "
                       f"{c.file_of(keypath)})")
        return None, None
    try:
        policy = load_scenario(path)
    except ScenarioError as exc:
        c.extend(exc.problems)
        return None, None
    start = len(c.problems)
    if set(policy.strategies) != set(scenario.strategies):
        c.add_at(f"{policy.path}: strategies", f"a policy must declare the same strategies as "
                 f"{scenario.path} ({', '.join(scenario.strategies)}); got {', '.join(policy.strategies)}")
    if set(policy.categories) != set(scenario.categories):
        c.add_at(f"{policy.path}: costs", f"a policy must use the same cost categories as "
                 f"{scenario.path} ({', '.join(scenario.categories)}); got {', '.join(policy.categories)}")
    ours, theirs = scenario.settings, policy.settings
    for key in ("cycle_length", "cycle_unit", "cycle_correction", "weights", "currency", "price_year"):
        if getattr(ours, key) != getattr(theirs, key):
            c.add_at(f"{policy.path}: settings.{key}", f"must equal {scenario.path}'s "
                     f"({getattr(ours, key)!r}) so that both run on the same cycles and prices; "
                     f"got {getattr(theirs, key)!r}")
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
            c.add_at(f"{policy_files.file_of(f'services.{name}')}: services.{name}", f"not declared in {scenario.path}; "
                     "the BIA file lists the services counted — add it there, or remove it here")
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
                        c.add(f"services.{service.name}.{part}.{state}",
                              f"is also counted under the policy {policy.path}, which has no {what} "
                              f"(strategy {strategy}); declare [services.{service.name}] in the policy file")
        services.append(service)
    return tuple(services)


def uptake_curve(start: float, end: float, years: int, *, shape: str = "linear") -> np.ndarray:
    """Share of new episodes taking up a pathway in each year, from ``start`` (year 1) to ``end`` (last year).

    Parameters
    ----------
    start, end : float
        Shares in [0, 1] in year 1 and in year ``years``.
    years : int
        ≥ 1; with one year ``start`` must equal ``end``.
    shape : {"linear", "s-curve"}
        ``linear``: ``f(x) = x``; ``s-curve``: smoothstep ``f(x) = 3x² − 2x³`` (slow, fast, slow).

    Returns
    -------
    ndarray, shape (year,)
        ``start + (end − start) · f((t − 1) / (years − 1))``.

    Examples
    --------
    >>> uptake_curve(0.1, 0.5, 5)
    array([0.1, 0.2, 0.3, 0.4, 0.5])
    """
    if shape not in UPTAKE_SHAPES:
        raise UsageError(f"uptake_curve: shape must be one of {', '.join(UPTAKE_SHAPES)}; got {shape!r}")
    for name, value in (("start", start), ("end", end)):
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise UsageError(f"uptake_curve: {name} must be a share in [0, 1]; got {value!r}")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise UsageError(f"uptake_curve: years must be a whole number >= 1; got {years!r}")
    if years == 1:
        if start != end:
            raise UsageError(f"uptake_curve: with one year the curve has one point; start ({start}) and end "
                             f"({end}) differ — give a single share instead")
        return np.array([float(start)])
    x = np.arange(years, dtype=float) / (years - 1)
    f = x if shape == "linear" else x * x * (3.0 - 2.0 * x)
    return start + (end - start) * f
