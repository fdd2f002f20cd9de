"""The ``[budget_impact]`` section of a scenario: every problem at once, and pathway mixes by year.

:func:`check_budget_impact` adds every problem of the table (key path, what was expected, what
was found) to the one :class:`~costspine.problems.Collector`, never raising. :func:`build_mix` turns a
valid ``mix_current`` or ``mix_new`` table into an array of shape (year, strategy) and
:func:`uptake_curve` gives a pathway's share by year. Reading a scenario's whole section and its
policy file into a :class:`~costspine.scenario.bia_spec.BiaSpec` is in
:mod:`costspine.scenario.bia_spec`. The keys are documented in
``docs/budget-impact.md``; the arithmetic of the budget is in :mod:`costspine.analysis.bia`.
"""

from __future__ import annotations

import math

import numpy as np

from costspine.errors import Problem, UsageError, describe_value as _describe
from costspine.expressions import FUNCTIONS
from costspine.problems import Collector, collector_at, did_you_mean

MAX_YEARS = 10
MAX_MEMBERS = 10_000_000_000
"""Most plan members accepted (more than the world's population: a typo, and it would overflow budgets)."""
SHARE_TOLERANCE = 1e-6
REST = "rest"
UPTAKE_SHAPES = ("linear", "s-curve")
PERSPECTIVES = ("payer",)
SECTION_KEYS = {
    "description",
    "perspective",
    "years",
    "members",
    "member_growth_per_year",
    "age_mix",
    "episodes_per_1000_members",
    "mix_current",
    "mix_new",
    "policy",
    "categories",
    "discount_rate",
    "leave_plan_per_year",
    "prevalent",
}
REQUIRED_KEYS = SECTION_KEYS - {"description", "age_mix", "policy", "leave_plan_per_year", "prevalent"}
EPISODE_KEYS = {"value", "source"}
POLICY_KEYS = {"scenario", "start_year"}
PREVALENT_KEYS = {
    "scenario",
    "description",
    "per_1000_members",
    "onset_per_1000_members",
    "mix_current",
    "mix_new",
    "policy",
}
PREVALENT_REQUIRED = PREVALENT_KEYS - {"description", "policy"}
UPTAKE_KEYS = {"start", "end", "shape"}


def find_budget_impact_problems(
    section: dict, *, where: str, strategies: list[str], categories: list[str], parameters=None
) -> list[Problem]:
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
    check_budget_impact(c, section, keypath=keypath, strategies=strategies, categories=categories, parameters=parameters)
    return c.problems


def check_budget_impact(
    c: Collector, section, *, strategies, categories, parameters=None, keypath: str = "budget_impact"
) -> None:
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
    years = _number(
        c, at("years"), section.get("years"), low=1, high=MAX_YEARS, integer=True, hint=" — ISPOR recommends 1 to 5 years"
    )
    _text(c, at("perspective"), section.get("perspective"), choices=PERSPECTIVES)
    _text(c, at("description"), section.get("description"))
    _number(c, at("members"), section.get("members"), low=0, high=MAX_MEMBERS, exclusive_low=True)
    _number(
        c,
        at("member_growth_per_year"),
        section.get("member_growth_per_year"),
        low=-1,
        high=1,
        exclusive_low=True,
        exclusive_high=True,
        hint=_percent_hint(section.get("member_growth_per_year"), "growth is a fraction"),
    )
    _number(
        c,
        at("discount_rate"),
        section.get("discount_rate"),
        low=0,
        high=1,
        exclusive_high=True,
        hint=_percent_hint(section.get("discount_rate"), "rates are fractions")
        + " (ISPOR BIA reports undiscounted budgets: discount_rate = 0)",
    )
    bands = _check_age_mix(c, at("age_mix"), section.get("age_mix"))
    _check_episode_rate(c, at("episodes_per_1000_members"), section.get("episodes_per_1000_members"), bands, parameters)
    if "categories" in section:
        _check_categories(c, at("categories"), section["categories"], categories)
    for key in ("mix_current", "mix_new"):
        if key in section:
            _resolve_mix(
                c, section[key], strategies=list(strategies), years=years or 1, keypath=at(key), shape_only=years is None
            )
    if "policy" in section:
        _check_policy(c, at("policy"), section["policy"], years)
    leave = section.get("leave_plan_per_year")
    if leave is not None:
        _check_rate_entry(c, at("leave_plan_per_year"), leave, parameters, unit="a fraction of members leaving the plan a year")
    elif "prevalent" in section:
        c.add(
            at("leave_plan_per_year"),
            "missing; with prevalent patients the plan needs its yearly disenrolment (a fraction, e.g. 0.215), "
            "which both removes patients and brings new members' prevalent patients in",
        )
    if "prevalent" in section:
        check_prevalent(c, section["prevalent"], keypath=at("prevalent"), years=years, parameters=parameters)


def check_prevalent(c: Collector, spec, *, keypath: str, years, parameters=None, strategies=None) -> None:
    """Add every problem of a ``[budget_impact.prevalent]`` table to ``c``; never raises.

    The table names the pathway model of the plan's existing (prevalent) patients and their counts:
    ``scenario``, ``per_1000_members`` (patients at the start), ``onset_per_1000_members`` (new
    patients a year among members), ``mix_current``, ``mix_new`` and an optional ``policy``. The mixes
    are checked against the prevalent model's strategies by :func:`costspine.scenario.bia_spec.read_bia_spec`
    (``strategies`` given) once that model is loaded.
    """
    if not isinstance(spec, dict):
        c.add(
            keypath, f'expected a table {{scenario = "chronic_pathway.toml", per_1000_members = ..., ...}}; got {_describe(spec)}'
        )
        return
    c.unknown_keys(keypath, spec, PREVALENT_KEYS, listing="expected one of")
    for key in sorted(PREVALENT_REQUIRED - set(spec)):
        c.add(f"{keypath}.{key}", "missing (see docs/budget-impact.md, *Prevalent patients*)")
    scenario = _text(c, f"{keypath}.scenario", spec.get("scenario"))
    if scenario is not None and not scenario.endswith(".toml"):
        c.add(f"{keypath}.scenario", f"expected the path of a scenario file ending in .toml; got {scenario!r}")
    _text(c, f"{keypath}.description", spec.get("description"))
    for key, unit in (
        ("per_1000_members", "prevalent patients per 1,000 members at the start"),
        ("onset_per_1000_members", "new patients per 1,000 members a year"),
    ):
        if key in spec:
            _check_rate_entry(c, f"{keypath}.{key}", spec[key], parameters, unit=unit)
    if strategies is not None:
        for key in ("mix_current", "mix_new"):
            if key in spec:
                check_mix(c, spec[key], strategies=strategies, years=years, keypath=f"{keypath}.{key}")
    if "policy" in spec:
        _check_policy(c, f"{keypath}.policy", spec["policy"], years)


def check_mix(c: Collector, spec, *, strategies, years, keypath: str) -> None:
    """Add the problems of a ``mix_current``/``mix_new`` table over ``strategies`` to ``c``; never raises.

    With ``years`` None (the horizon itself is invalid) only the shape of each entry is checked.
    """
    _resolve_mix(c, spec, strategies=list(strategies), years=years or 1, keypath=keypath, shape_only=years is None)


def _is_sourced_table(c: Collector, key, spec, not_a_table: str) -> bool:
    """Whether ``spec`` is a ``{value, source}`` table (else ``not_a_table`` is the problem); its
    unknown keys and a missing or empty source are reported either way."""
    if not isinstance(spec, dict):
        c.add(key, not_a_table)
        return False
    for k in spec:
        if k not in EPISODE_KEYS:
            c.add(f"{key}.{k}", "unknown key" + did_you_mean(k, EPISODE_KEYS, always=True))
    source = _text(c, f"{key}.source", spec.get("source"), required=True)
    if source is not None and not source.strip():
        c.add(f"{key}.source", 'is empty; cite the source or write "assumption: <reasoning>"')
    return True


def _check_rate_entry(c: Collector, key, spec, parameters, *, unit: str) -> None:
    """A ``{value, source}`` table whose value is a number >= 0 or an expression over parameters."""
    if not _is_sourced_table(c, key, spec, f'expected a table {{value = ..., source = "..."}} ({unit}), got {_describe(spec)}'):
        return
    if "value" not in spec:
        c.add(f"{key}.value", f"missing; expected {unit} (a number or an expression over [parameters])")
    else:
        _rate(c, f"{key}.value", spec["value"], parameters)


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
            c.add(path(name), f'expected a share, a list of shares by year, {{start, end, shape}} or "rest"; got {value!r}')
            ok = False
        else:
            number = _number(c, path(name), value, low=0, high=1)
            ok = ok and number is not None
            shares[:, j] = number or 0.0
    if len(rest) > 1:
        c.add(path(), f'at most one strategy may be "rest"; got {", ".join(rest)}')
        return None
    if not ok or shape_only:
        return None
    others = shares.sum(axis=1)
    if rest:
        remainder = 1.0 - others
        bad = np.flatnonzero(remainder < -SHARE_TOLERANCE)
        if bad.size:
            c.add(
                path(rest[0]),
                '"rest" would be negative: ' + "; ".join(f"year {t + 1}: the other shares sum to {others[t]:.6g}" for t in bad),
            )
            return None
        shares[:, strategies.index(rest[0])] = np.maximum(remainder, 0.0)
        return shares
    bad = np.flatnonzero(np.abs(others - 1.0) > SHARE_TOLERANCE)
    if bad.size:
        c.add(
            path(),
            "shares must sum to 1 in every year: "
            + "; ".join(f"year {t + 1} sums to {others[t]:.6g}" for t in bad)
            + ' — or let one strategy be "rest"',
        )
        return None
    return shares


def _uptake_into(c: Collector, key, spec, out, years, shape_only) -> bool:
    ok = True
    for k in spec:
        if k not in UPTAKE_KEYS:
            c.add(f"{key}.{k}", "unknown key" + did_you_mean(k, UPTAKE_KEYS, always=True))
            ok = False
    for k in sorted(UPTAKE_KEYS - set(spec)):
        c.add(f"{key}.{k}", 'missing; an uptake curve is {start = share, end = share, shape = "linear"}')
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
        c.add(key, f'expected a table {{band = share}} such as {{"18-44" = 0.5, "45-64" = 0.5}}; got {_describe(spec)}')
        return None
    values = [_number(c, f"{key}.{band}", v, low=0, high=1) for band, v in spec.items()]
    if None not in values and abs(sum(values) - 1.0) > SHARE_TOLERANCE:
        c.add(key, f"shares must sum to 1; got {sum(values):.6g}")
    return list(spec)


def _check_episode_rate(c: Collector, key, spec, bands, parameters):
    if spec is None:
        return
    not_a_table = (
        f'expected a table {{value = ..., source = "..."}}, got {_describe(spec)}'
        ' — the rate needs its source (write "assumption: ..." where there is none)'
    )
    if not _is_sourced_table(c, key, spec, not_a_table):
        return
    value = spec.get("value")
    if value is None:
        c.add(
            f"{key}.value",
            "missing; expected episodes per 1,000 members per year (a number, an expression "
            "or, with age_mix, a table by age band)",
        )
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
        c.add(key, f'expected "all" or a non-empty array of cost categories; got {_describe(value)}')
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
        c.add(key, f'expected a table {{scenario = "file.toml", start_year = 2}}; got {_describe(spec)}')
        return
    for k in spec:
        if k not in POLICY_KEYS:
            c.add(f"{key}.{k}", "unknown key" + did_you_mean(k, POLICY_KEYS, always=True))
    for k in sorted(POLICY_KEYS - set(spec)):
        c.add(f"{key}.{k}", 'missing; a policy is {scenario = "file.toml", start_year = 2}')
    scenario = _text(c, f"{key}.scenario", spec.get("scenario"))
    if scenario is not None and not scenario.endswith(".toml"):
        c.add(f"{key}.scenario", f"expected the path of a scenario file ending in .toml; got {scenario!r}")
    high = years if years is not None else MAX_YEARS
    _number(
        c,
        f"{key}.start_year",
        spec.get("start_year"),
        low=1,
        high=high,
        integer=True,
        hint=f" — the policy must start within the horizon (years = {high})",
    )


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
            raise UsageError(
                f"uptake_curve: with one year the curve has one point; start ({start}) and end "
                f"({end}) differ — give a single share instead"
            )
        return np.array([float(start)])
    x = np.arange(years, dtype=float) / (years - 1)
    f = x if shape == "linear" else x * x * (3.0 - 2.0 * x)
    return start + (end - start) * f
