"""The ``[settings]`` and ``[analysis]`` sections read: time, discounting, cycle counting
(corrections and custom weights), money, the effect, comparator and thresholds.
"""

from __future__ import annotations

import numpy as np

from costspine.errors import describe_value as _describe
from costspine.problems import Collector
from costspine.scenario.collector import (
    _unknown,
)
from costspine.scenario.types import (
    CYCLE_UNITS_IN_YEARS,
    NON_HEALTH_CARE_CATEGORIES,
    PERSPECTIVES,
    Analysis,
    Settings,
)

CORRECTIONS = ("none", "beginning", "half-cycle", "simpson", "custom")

DISCOUNT_TIMINGS = ("point", "start")

MAX_CYCLES = 100_000

SECTION_KEYS = {
    "model": {"name", "title", "description"},
    "settings": {
        "cycle_length",
        "cycle_unit",
        "n_cycles",
        "discount_costs",
        "discount_outcomes",
        "cycle_correction",
        "currency",
        "price_year",
        "discount_timing",
        "weights",
    },
    "analysis": {"effect", "comparator", "wtp", "report_at_years", "perspective"},
}

OPTIONAL_SETTINGS = {"discount_timing", "weights"}  # discount_timing defaults to "point"; weights go with "custom"

REQUIRED_SETTINGS = SECTION_KEYS["settings"] - OPTIONAL_SETTINGS


def _read_settings(c: Collector, raw: dict) -> Settings | None:
    s = c.table("settings", raw.get("settings"))
    c.unknown_keys("settings", s, SECTION_KEYS["settings"])
    for key in sorted(REQUIRED_SETTINGS - set(s)):
        c.add(f"settings.{key}", "missing (every setting that changes a result is written in the file)")
    rate_hint = " — rates are fractions, did you mean {:g}?"
    values = {
        "cycle_length": c.number("settings.cycle_length", s["cycle_length"], low=1e-9) if "cycle_length" in s else None,
        "cycle_unit": c.text("settings.cycle_unit", s.get("cycle_unit"), choices=list(CYCLE_UNITS_IN_YEARS))
        if "cycle_unit" in s
        else None,
        "n_cycles": c.number("settings.n_cycles", s["n_cycles"], low=1, high=MAX_CYCLES, integer=True)
        if "n_cycles" in s
        else None,
        "cycle_correction": c.text("settings.cycle_correction", s.get("cycle_correction"), choices=list(CORRECTIONS))
        if "cycle_correction" in s
        else None,
        "currency": c.text("settings.currency", s.get("currency")) if "currency" in s else None,
        "price_year": c.number("settings.price_year", s["price_year"], low=1900, high=2200, integer=True)
        if "price_year" in s
        else None,
    }
    for key in ("discount_costs", "discount_outcomes"):
        if key in s:
            v = s[key]
            hint = rate_hint.format(v / 100) if isinstance(v, (int, float)) and not isinstance(v, bool) and 1 <= v < 100 else ""
            values[key] = c.number(f"settings.{key}", v, low=0, high=0.999999, hint=hint)
    values["discount_timing"] = c.text(
        "settings.discount_timing", s.get("discount_timing", "point"), choices=list(DISCOUNT_TIMINGS)
    )
    weights_ok = True
    if values["cycle_correction"] == "custom":
        values["weights"] = _read_weights(c, s.get("weights"), values["n_cycles"], values["cycle_length"], values["cycle_unit"])
        weights_ok = values["weights"] is not None
    elif "weights" in s and values["cycle_correction"] is not None:
        c.add(
            "settings.weights",
            f'weights apply to cycle_correction = "custom" only; got cycle_correction = '
            f'{values["cycle_correction"]!r} — remove weights, or set cycle_correction = "custom"',
        )
    if any(values.get(k) is None for k in REQUIRED_SETTINGS | {"discount_timing"}) or not weights_ok:
        return None
    return Settings(**values)


def _read_weights(c: Collector, raw, n_cycles, cycle_length, cycle_unit) -> tuple | None:
    """``settings.weights`` of the custom correction: an array with one number per trace point
    ``0..T``, or an expression over ``cycle`` (the point, 0..T) evaluated at every point."""
    key = "settings.weights"
    if raw is None:
        c.add(
            key,
            'missing; cycle_correction = "custom" needs one weight per trace point 0..n_cycles, '
            'e.g. weights = [0.5, 1, 1, 0.5], or an expression over cycle, e.g. weights = "where(cycle == 0, 0.5, 1)"',
        )
        return None
    if n_cycles is None:  # already reported
        return None
    if isinstance(raw, list):
        numbers = [c.number(f"{key}[{i}]", w, expressions=False) for i, w in enumerate(raw)]
        if len(raw) != n_cycles + 1:
            c.add(
                key, f"expected {n_cycles + 1} weights (one per trace point 0..{n_cycles}, n_cycles = {n_cycles}); got {len(raw)}"
            )
            return None
        return None if None in numbers else tuple(numbers)
    if not isinstance(raw, str):
        c.add(key, f"expected an array of numbers or an expression over cycle, got {_describe(raw)}")
        return None
    expr = c.expression(key, raw)
    if expr is None:
        return None
    allowed = {"cycle", "time_years", "cycle_years"}
    unknown = sorted(expr.names - allowed)
    if unknown:
        c.add(
            key,
            f"the weights may use cycle (the trace point, 0..{n_cycles}), time_years and cycle_years only; "
            f"got {', '.join(map(repr, unknown))}",
        )
        return None
    points = np.arange(n_cycles + 1, dtype=float)
    cycle_years = (cycle_length or 1.0) * CYCLE_UNITS_IN_YEARS.get(cycle_unit, 1.0)
    try:
        value = np.asarray(
            expr.evaluate({"cycle": points, "time_years": points * cycle_years, "cycle_years": cycle_years}), dtype=float
        )
    except (ArithmeticError, ValueError, TypeError) as exc:
        c.add(key, f"cannot evaluate {raw!r} at cycle = 0..{n_cycles}: {exc}")
        return None
    value = np.broadcast_to(value, points.shape) if value.ndim == 0 else value
    if value.shape != points.shape:
        c.add(key, f"expected one weight per trace point 0..{n_cycles}; {raw!r} gives shape {value.shape}")
        return None
    bad = np.flatnonzero(~np.isfinite(value))
    if bad.size:
        c.add(key, f"every weight must be finite; {raw!r} gives {value[bad[0]]} at cycle = {bad[0]}")
        return None
    return tuple(float(v) for v in value)


def _read_analysis(c: Collector, raw: dict, strategies: tuple, outcome_names: list, costs=()) -> Analysis | None:
    """``[analysis]``; ``costs`` are the scenario's cost rewards, checked against the perspective."""
    a = c.table("analysis", raw.get("analysis"))
    c.unknown_keys("analysis", a, SECTION_KEYS["analysis"])
    effect = c.text("analysis.effect", a.get("effect")) if a else None
    if effect is not None and effect not in outcome_names:
        _unknown(c, "analysis.effect", effect, outcome_names, "outcome")
        effect = None
    comparator = c.text("analysis.comparator", a.get("comparator")) if a else None
    if comparator is not None and comparator not in strategies:
        _unknown(c, "analysis.comparator", comparator, strategies, "strategy")
        comparator = None
    wtp = a.get("wtp") if a else None
    if wtp is None:
        if a:
            c.add("analysis.wtp", "missing; give willingness-to-pay thresholds, e.g. wtp = [50000, 100000]")
        return None
    if not isinstance(wtp, list) or not wtp:
        c.add("analysis.wtp", f"expected a non-empty array of numbers, got {_describe(wtp)}")
        return None
    numbers = [c.number(f"analysis.wtp[{i}]", w, low=0) for i, w in enumerate(wtp)]
    times = a.get("report_at_years", [])
    if not isinstance(times, list):
        c.add("analysis.report_at_years", f"expected an array of times in years, got {_describe(times)}")
        times = []
    times = [c.number(f"analysis.report_at_years[{i}]", t, low=0) for i, t in enumerate(times)]
    perspective = _read_perspective(c, a.get("perspective", "payer"), costs)
    unit_costs = raw.get("unit_costs")
    payer = unit_costs.get("payer") if isinstance(unit_costs, dict) and isinstance(unit_costs.get("payer"), str) else None
    if None in numbers or None in times or effect is None or comparator is None or perspective is None:
        return None
    societal = tuple(dict.fromkeys(r.category for r in costs if r.category in NON_HEALTH_CARE_CATEGORIES))
    return Analysis(effect, comparator, tuple(numbers), tuple(times), perspective, payer, societal)


def _read_perspective(c: Collector, value, costs) -> str | None:
    """``analysis.perspective``, checked against the cost categories: costs outside health care
    (:data:`NON_HEALTH_CARE_CATEGORIES`) are counted from the societal perspective only, and a
    societal perspective counts at least one of them."""
    perspective = c.text("analysis.perspective", value, choices=list(PERSPECTIVES))
    if perspective is None:
        return None
    outside = [r for r in costs if r.category in NON_HEALTH_CARE_CATEGORIES]
    if perspective == "societal" and not outside:
        c.add(
            "analysis.perspective",
            "the societal perspective counts costs outside health care, but no cost has a category among "
            f"{', '.join(NON_HEALTH_CARE_CATEGORIES)} — add one (e.g. a [costs.productivity] table with "
            'category = "productivity") or use perspective = "health_care_sector"',
        )
        return None
    if perspective != "societal" and outside:
        for r in outside:
            c.add(
                f"costs.{r.name}.category",
                f"{r.category!r} is a cost outside health care, counted from the societal perspective only; "
                f'analysis.perspective is {perspective!r} — set perspective = "societal" or remove this cost',
            )
        return None
    return perspective
