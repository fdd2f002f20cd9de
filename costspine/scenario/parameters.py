"""The ``[parameters]`` and ``[correlations]`` sections read: distributions with their arguments
and sources, Dirichlet rows, derived parameters, and rank correlations.
"""

from __future__ import annotations

import numpy as np

from costspine.errors import describe_value as _describe
from costspine.expressions import FUNCTIONS, TIME_NAMES
from costspine.params import (
    ARGUMENT_KEYS,
    FAMILIES,
    Correlation,
    ParameterSpec,
    canonical_args,
    rank_to_normal_correlation,
)
from costspine.problems import Collector
from costspine.scenario.collector import (
    _is_name,
    _name_message,
)

PARAMETER_KEYS = {"value", "distribution", "source", "low", "high", "label", "unit"}


def _read_parameters(c: Collector, raw: dict) -> list[ParameterSpec]:
    params = c.table("parameters", raw.get("parameters"), required=False)
    specs = []
    for name, entry in params.items():
        key = f"parameters.{name}"
        if not _is_name(name):
            c.add(
                key,
                _name_message(name, "parameter names must be identifiers and not reserved words (rest, cycle, time_years, ...)"),
            )
            continue
        entry = c.table(key, entry)
        if not entry:
            if isinstance(params[name], dict):
                c.add(key, "empty; expected a value or a distribution, and a source")
            continue
        family = entry.get("distribution", "fixed")
        family = c.text(f"{key}.distribution", family, choices=list(FAMILIES))
        if family is None:
            continue
        c.unknown_keys(key, entry, PARAMETER_KEYS | ARGUMENT_KEYS[family])
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            c.add(f"{key}.source", "missing; say where the number comes from (or 'assumption')")
            source = ""
        bounds = {b: c.number(f"{key}.{b}", entry[b]) for b in ("low", "high") if b in entry}
        if family == "dirichlet":
            specs.extend(_read_dirichlet(c, key, name, entry, source))
            continue
        if family == "posterior":
            value = c.number(f"{key}.value", entry.get("value")) if "value" in entry else None
            if value is None:
                c.add(f"{key}.value", "a posterior parameter needs a base-case value")
            for k in ("file", "variable"):
                c.text(f"{key}.{k}", entry.get(k))
            specs.append(ParameterSpec(name, "posterior", source, {k: entry.get(k) for k in ("file", "variable")}, value))
            continue
        value = None
        if "value" in entry:
            raw_value = entry["value"]
            expr = c.expression(f"{key}.value", raw_value) if not isinstance(raw_value, bool) else None
            if isinstance(raw_value, bool):
                c.add(f"{key}.value", f"expected a number or an expression, got {_describe(raw_value)}")
            elif expr is not None and (expr.names or expr.calls - set(FUNCTIONS)):
                if family != "fixed":
                    c.add(
                        f"{key}.value",
                        "a derived parameter (an expression over other parameters) cannot also have a distribution",
                    )
                    continue
                if expr.names & TIME_NAMES:
                    c.add(
                        f"{key}.value",
                        "parameters cannot depend on time; use a strategy value or the expression where it is needed",
                    )
                    continue
                specs.append(ParameterSpec(name, "derived", source, expression=expr))
                continue
            elif expr is not None:
                value = c.number(f"{key}.value", raw_value)
        given = {}
        for arg in ARGUMENT_KEYS[family]:
            if arg in entry:
                number = c.number(f"{key}.{arg}", entry[arg])
                if number is None:
                    break
                given[arg] = number
        else:
            if family == "fixed":
                if "value" not in entry:
                    c.add(f"{key}.value", "missing; a fixed parameter needs a value")
                elif value is not None:
                    specs.append(ParameterSpec(name, "fixed", source, {}, value, **bounds))
                continue
            args, mean, problem = canonical_args(family, given)
            if problem:
                c.add(key, problem)
                continue
            specs.append(
                ParameterSpec(name, family, source, args, mean if value is None and "value" not in entry else value, **bounds)
            )
    return specs


def _read_dirichlet(c: Collector, key: str, name: str, entry: dict, source: str) -> list[ParameterSpec]:
    alpha = c.table(f"{key}.alpha", entry.get("alpha"))
    if "value" in entry:
        c.add(f"{key}.value", "a Dirichlet's base case is the mean of each component; remove value")
    components, counts = [], []
    for comp, count in alpha.items():
        if not _is_name(comp):
            c.add(f"{key}.alpha.{comp}", _name_message(comp, "component names must be identifiers"))
            continue
        number = c.number(f"{key}.alpha.{comp}", count, low=0)
        if number is not None:
            components.append(comp)
            counts.append(number)
    if alpha and len(components) == len(alpha):
        if len(components) < 2:
            c.add(f"{key}.alpha", "a Dirichlet needs at least two components")
            return []
        if sum(counts) <= 0:
            c.add(f"{key}.alpha", "the counts must not all be zero")
            return []
        if any(x == 0 for x in counts):
            c.add(f"{key}.alpha", "every count must be > 0 (drop a component that never happens, or use a small prior count)")
            return []
        return [ParameterSpec(name, "dirichlet", source, {"alpha": tuple(counts)}, components=tuple(components))]
    return []


def _read_correlations(c: Collector, raw: dict, specs: list[ParameterSpec]) -> tuple:
    entries = raw.get("correlations", [])
    if not isinstance(entries, list):
        c.add("correlations", "expected an array of tables: [[correlations]] parameters = [...], matrix = [[...]]")
        return ()
    by_name = {s.name: s for s in specs}
    groups, seen = [], set()
    for i, entry in enumerate(entries):
        key = f"correlations[{i}]"
        entry = c.table(key, entry)
        c.unknown_keys(key, entry, {"parameters", "matrix", "source"})
        names = entry.get("parameters")
        matrix = entry.get("matrix")
        if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) for n in names):
            c.add(f"{key}.parameters", "expected an array of at least two parameter names")
            continue
        bad = False
        for n in names:
            spec = by_name.get(n)
            if spec is None or spec.family in ("fixed", "derived", "dirichlet", "posterior"):
                c.add(f"{key}.parameters", f"{n!r} must be a parameter with a univariate distribution")
                bad = True
            elif n in seen:
                c.add(f"{key}.parameters", f"{n!r} is already in another correlation group")
                bad = True
            seen.add(n)
        numbers = isinstance(matrix, list) and all(
            isinstance(row, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in row) for row in matrix
        )
        try:
            m = np.array(matrix, dtype=float) if numbers else None
        except (ValueError, OverflowError):  # ragged rows; an integer too large for a float
            m = None
        if m is None or m.shape != (len(names), len(names)):
            c.add(f"{key}.matrix", f"expected a {len(names)}×{len(names)} array of numbers")
            continue
        if not np.allclose(m, m.T) or not np.allclose(np.diag(m), 1) or np.any(np.abs(m) > 1):
            c.add(f"{key}.matrix", "must be symmetric with ones on the diagonal and entries in [-1, 1]")
            continue
        if min(np.linalg.eigvalsh(m).min(), np.linalg.eigvalsh(rank_to_normal_correlation(m)).min()) <= 0:
            c.add(f"{key}.matrix", "must be positive definite (check the correlations are mutually consistent)")
            continue
        if "source" not in entry:
            c.add(f"{key}.source", "missing; say where the correlation comes from (or 'assumption')")
        if not bad:
            groups.append(Correlation(tuple(names), tuple(map(tuple, m.tolist()))))
    return tuple(groups)
