"""Scenario files: the only module that reads them.

:func:`load_scenario` reads a TOML scenario (following its ``extends`` chain), checks every key
against the format in ``docs/scenario-format.md``, parses every expression, and returns a frozen
:class:`Scenario`. All problems of a file are collected and raised together as one
:class:`~costspine.errors.ScenarioError`, each naming the file, the key path, what was expected and
what was found. Numerical checks that need evaluation (probabilities in range, rows summing to 1)
belong to :mod:`costspine.model`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from costspine._files import MAX_TABLE_BYTES, describe_header, read_input_file
from costspine.errors import InputFileError, describe_value as _describe
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
    _check_names,
    _is_name,
    _name_message,
    _unknown,
)
from costspine.scenario.files import _read_chain, declared_path, file_sha256
from costspine.scenario.types import (
    CYCLE_UNITS_IN_YEARS,
    REST,
    Analysis,
    LookupTable,
    Reward,
    Scenario,
    Settings,
)
from costspine.scenario.values import SHARED, order_definitions, read_values, resolve_strategy_values

CORRECTIONS = ("none", "beginning", "half-cycle", "simpson", "custom")

DISCOUNT_TIMINGS = ("point", "start")

MAX_CYCLES = 100_000

TOP_LEVEL_KEYS = {
    "extends", "model", "settings", "analysis", "states", "strategies", "parameters", "tables",
    "transitions", "costs", "outcomes", "indicators", "services", "correlations", "values",
    # Sections owned by later stages of the pipeline, validated by their own modules:
    "unit_costs", "budget_impact", "population", "microsimulation",
}

SECTION_KEYS = {
    "model": {"name", "title", "description"},
    "settings": {"cycle_length", "cycle_unit", "n_cycles", "discount_costs", "discount_outcomes",
                 "cycle_correction", "currency", "price_year", "discount_timing", "weights"},
    "analysis": {"effect", "comparator", "wtp", "report_at_years"},
}

OPTIONAL_SETTINGS = {"discount_timing", "weights"}  # discount_timing defaults to "point"; weights go with "custom"

REQUIRED_SETTINGS = SECTION_KEYS["settings"] - OPTIONAL_SETTINGS

PARAMETER_KEYS = {"value", "distribution", "source", "low", "high", "label", "unit"}

REWARD_KEYS = {"cost": {"category", "values", "on_entry", "label"},
               "outcome": {"values", "on_entry", "label", "unit"},
               "indicator": {"values", "label", "unit"},
               "service": {"values", "on_entry", "label"}}

def _read_settings(c: Collector, raw: dict) -> Settings | None:
    s = c.table("settings", raw.get("settings"))
    c.unknown_keys("settings", s, SECTION_KEYS["settings"])
    for key in sorted(REQUIRED_SETTINGS - set(s)):
        c.add(f"settings.{key}", "missing (every setting that changes a result is written in the file)")
    rate_hint = " — rates are fractions, did you mean {:g}?"
    values = {
        "cycle_length": c.number("settings.cycle_length", s["cycle_length"], low=1e-9) if "cycle_length" in s else None,
        "cycle_unit": c.text("settings.cycle_unit", s.get("cycle_unit"), choices=list(CYCLE_UNITS_IN_YEARS)) if "cycle_unit" in s else None,
        "n_cycles": c.number("settings.n_cycles", s["n_cycles"], low=1, high=MAX_CYCLES, integer=True) if "n_cycles" in s else None,
        "cycle_correction": c.text("settings.cycle_correction", s.get("cycle_correction"), choices=list(CORRECTIONS)) if "cycle_correction" in s else None,
        "currency": c.text("settings.currency", s.get("currency")) if "currency" in s else None,
        "price_year": c.number("settings.price_year", s["price_year"], low=1900, high=2200, integer=True) if "price_year" in s else None,
    }
    for key in ("discount_costs", "discount_outcomes"):
        if key in s:
            v = s[key]
            hint = rate_hint.format(v / 100) if isinstance(v, (int, float)) and not isinstance(v, bool) and 1 <= v < 100 else ""
            values[key] = c.number(f"settings.{key}", v, low=0, high=0.999999, hint=hint)
    values["discount_timing"] = c.text("settings.discount_timing", s.get("discount_timing", "point"), choices=list(DISCOUNT_TIMINGS))
    weights_ok = True
    if values["cycle_correction"] == "custom":
        values["weights"] = _read_weights(c, s.get("weights"), values["n_cycles"], values["cycle_length"], values["cycle_unit"])
        weights_ok = values["weights"] is not None
    elif "weights" in s and values["cycle_correction"] is not None:
        c.add("settings.weights", f"weights apply to cycle_correction = \"custom\" only; got cycle_correction = "
                                  f"{values['cycle_correction']!r} — remove weights, or set cycle_correction = \"custom\"")
    if any(values.get(k) is None for k in REQUIRED_SETTINGS | {"discount_timing"}) or not weights_ok:
        return None
    return Settings(**values)

def _read_weights(c: Collector, raw, n_cycles, cycle_length, cycle_unit) -> tuple | None:
    """``settings.weights`` of the custom correction: an array with one number per trace point
    ``0..T``, or an expression over ``cycle`` (the point, 0..T) evaluated at every point."""
    key = "settings.weights"
    if raw is None:
        c.add(key, 'missing; cycle_correction = "custom" needs one weight per trace point 0..n_cycles, '
                   'e.g. weights = [0.5, 1, 1, 0.5], or an expression over cycle, e.g. weights = "where(cycle == 0, 0.5, 1)"')
        return None
    if n_cycles is None:            # already reported
        return None
    if isinstance(raw, list):
        numbers = [c.number(f"{key}[{i}]", w, expressions=False) for i, w in enumerate(raw)]
        if len(raw) != n_cycles + 1:
            c.add(key, f"expected {n_cycles + 1} weights (one per trace point 0..{n_cycles}, n_cycles = {n_cycles}); "
                       f"got {len(raw)}")
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
        c.add(key, f"the weights may use cycle (the trace point, 0..{n_cycles}), time_years and cycle_years only; "
                   f"got {', '.join(map(repr, unknown))}")
        return None
    points = np.arange(n_cycles + 1, dtype=float)
    cycle_years = (cycle_length or 1.0) * CYCLE_UNITS_IN_YEARS.get(cycle_unit, 1.0)
    try:
        value = np.asarray(expr.evaluate({"cycle": points, "time_years": points * cycle_years, "cycle_years": cycle_years}),
                           dtype=float)
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

def _read_states(c: Collector, raw: dict):
    states = c.table("states", raw.get("states"))
    names, labels, initial = [], {}, {}
    if not states:
        c.add("states", "expected at least two states, e.g. [states.well] initial = 1")
    for name, entry in states.items():
        key = f"states.{name}"
        if not _is_name(name):
            c.add(key, _name_message(name, "state names must be identifiers (letters, digits, underscore; not starting with a digit)"))
            continue
        entry = c.table(key, entry)
        c.unknown_keys(key, entry, {"initial", "label"})
        names.append(name)
        labels[name] = entry.get("label", name) if isinstance(entry.get("label", name), str) else name
        if "initial" not in entry:
            c.add(f"{key}.initial", "missing; give the share of the cohort starting here (0 if none)")
        else:
            expr = c.expression(f"{key}.initial", entry["initial"])
            if expr is not None:
                initial[name] = expr
    return tuple(names), labels, initial

def _read_strategies(c: Collector, raw: dict, states: tuple):
    strategies = c.table("strategies", raw.get("strategies"))
    names, labels, values, rows, overrides = [], {}, {}, {}, {}
    if not strategies:
        c.add("strategies", "expected at least one strategy, e.g. [strategies.usual_care]")
    for name, entry in strategies.items():
        key = f"strategies.{name}"
        if not _is_name(name):
            c.add(key, _name_message(name, "strategy names must be identifiers (letters, digits, underscore)"))
            continue
        entry = c.table(key, entry)
        c.unknown_keys(key, entry, {"label", "description", "values", "transitions", "costs", "outcomes", "indicators", "services"})
        names.append(name)
        labels[name] = entry.get("label", name) if isinstance(entry.get("label", name), str) else name
        values[name] = read_values(c, f"{key}.values", entry.get("values"))
        rows[name] = _read_matrix(c, f"{key}.transitions", c.table(f"{key}.transitions", entry.get("transitions"), required=False), states)
        overrides[name] = {kind: c.table(f"{key}.{kind}", entry.get(kind), required=False) for kind in ("costs", "outcomes", "indicators", "services")}
    return tuple(names), labels, values, rows, overrides

def _read_matrix(c: Collector, keypath: str, table: dict, states: tuple) -> dict:
    matrix = {}
    for origin_state, row in table.items():
        rkey = f"{keypath}.{origin_state}"
        if origin_state not in states:
            _unknown(c, rkey, origin_state, states, "state")
            continue
        row = c.table(rkey, row)
        cells, rests = {}, 0
        for dest, value in row.items():
            ckey = f"{rkey}.{dest}"
            if dest not in states:
                _unknown(c, ckey, dest, states, "state")
                continue
            if value == REST:
                rests += 1
                cells[dest] = REST
                continue
            expr = c.expression(ckey, value)
            if expr is not None:
                cells[dest] = expr
        if rests > 1:
            c.add(rkey, f"'rest' may appear at most once per row; found {rests}")
        matrix[origin_state] = cells
    return matrix

def _read_parameters(c: Collector, raw: dict) -> list[ParameterSpec]:
    params = c.table("parameters", raw.get("parameters"), required=False)
    specs = []
    for name, entry in params.items():
        key = f"parameters.{name}"
        if not _is_name(name):
            c.add(key, _name_message(name, "parameter names must be identifiers and not reserved words (rest, cycle, time_years, ...)"))
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
                    c.add(f"{key}.value", "a derived parameter (an expression over other parameters) cannot also have a distribution")
                    continue
                if expr.names & TIME_NAMES:
                    c.add(f"{key}.value", "parameters cannot depend on time; use a strategy value or the expression where it is needed")
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
            specs.append(ParameterSpec(name, family, source, args, mean if value is None and "value" not in entry else value, **bounds))
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

def _read_rewards(c: Collector, raw: dict, kind: str, section: str, states: tuple, strategies: tuple, overrides: dict) -> list[Reward]:
    table = c.table(section, raw.get(section), required=False)
    names = list(table)
    for strategy in strategies:
        for name in overrides[strategy][section]:
            if name not in names:
                names.append(name)
    rewards = []
    for name in names:
        if not _is_name(name):
            c.add(f"{section}.{name}", _name_message(name, "names must be identifiers"))
            continue
        per_strategy_state, per_strategy_entry, category, label = {}, {}, None, name
        for strategy in strategies:
            local = overrides[strategy][section].get(name)
            keypath = f"strategies.{strategy}.{section}.{name}" if local is not None else f"{section}.{name}"
            entry = local if local is not None else table.get(name)
            if entry is None:
                per_strategy_state[strategy], per_strategy_entry[strategy] = {}, {}
                continue
            entry = c.table(keypath, entry)
            if kind == "indicator" and "on_entry" in entry:
                c.add(f"{keypath}.on_entry", "an indicator is an occupancy-weighted mean of state values, so a one-off value "
                                             "on entering a state has no meaning; count entries with [services] or value them "
                                             "with on_entry in [costs] or [outcomes]")
            c.unknown_keys(keypath, entry, REWARD_KEYS[kind] | ({"on_entry"} if kind == "indicator" else set()))
            if kind == "cost":
                cat = c.text(f"{keypath}.category", entry.get("category"))
                if cat is not None and not _is_name(cat):
                    c.add(f"{keypath}.category", _name_message(cat, "categories must be identifiers, e.g. injections"))
                category = category or cat
            label = entry.get("label", label) if isinstance(entry.get("label", label), str) else label
            per_strategy_state[strategy] = _read_state_values(c, f"{keypath}.values", entry.get("values"), states)
            per_strategy_entry[strategy] = _read_state_values(c, f"{keypath}.on_entry", entry.get("on_entry"), states)
            if "values" not in entry and "on_entry" not in entry:
                c.add(keypath, "expected 'values' (per cycle in a state)" + (" or 'on_entry'" if kind != "indicator" else ""))
        rewards.append(Reward(name, kind, category, label, per_strategy_state, per_strategy_entry))
    return rewards

def _read_state_values(c: Collector, keypath: str, table, states: tuple) -> dict:
    out = {}
    for state, value in c.table(keypath, table, required=False).items():
        if state not in states:
            _unknown(c, f"{keypath}.{state}", state, states, "state")
            continue
        expr = c.expression(f"{keypath}.{state}", value)
        if expr is not None:
            out[state] = expr
    return out

def _read_tables(c: Collector, raw: dict) -> dict:
    """Read ``[tables]``; each ``file`` is relative to the folder of the scenario file that declares it."""
    tables = {}
    for name, entry in c.table("tables", raw.get("tables"), required=False).items():
        key = f"tables.{name}"
        entry = c.table(key, entry)
        c.unknown_keys(key, entry, {"file", "x", "y", "method", "source"})
        file = c.text(f"{key}.file", entry.get("file"))
        x_col = c.text(f"{key}.x", entry.get("x"))
        y_col = c.text(f"{key}.y", entry.get("y"))
        method = c.text(f"{key}.method", entry.get("method", "step"), choices=["step", "linear"])
        if not _is_name(name):
            c.add(key, _name_message(name, "table names must be identifiers"))
            continue
        if None in (file, x_col, y_col, method):
            continue
        path = declared_path(c.origin, f"{key}.file", file, default=c.default_file)
        try:
            x, y, sha = _read_columns(path, x_col, y_col)
        except InputFileError as exc:
            c.add(f"{key}.file", f"cannot read {exc.path}: {exc.reason}")
            continue
        except ValueError as exc:
            c.add(f"{key}.file", f"cannot read columns {x_col!r}, {y_col!r} from {path}: {exc}")
            continue
        c.record_file(path, sha)
        if len(x) == 0 or np.any(np.diff(x) <= 0):
            c.add(f"{key}.file", f"column {x_col!r} of {path} must be non-empty and strictly increasing")
            continue
        tables[name] = LookupTable(name, str(path), x, y, method)
    return tables

def _read_columns(path: Path, x_col: str, y_col: str):
    """Columns ``x_col`` and ``y_col`` of a CSV table as floats, and the file's SHA-256.

    Raises InputFileError (not a readable regular file within the size limit) or ValueError
    naming the header or the row number, never a cell's content (the file may not be a table at all).
    """
    import csv
    import hashlib
    import io

    raw = read_input_file(path, max_bytes=MAX_TABLE_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"expected UTF-8 text; byte {exc.start} is not valid UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header:
            raise ValueError("the file is empty; expected a header row")
        missing = [col for col in (x_col, y_col) if col not in header]
        if missing:
            raise ValueError(f"no column {', '.join(map(repr, missing))} in the header row; found {describe_header(header)}")
        ix, iy = header.index(x_col), header.index(y_col)
        x, y = [], []
        for row in reader:
            if not row:
                continue
            line = reader.line_num
            if len(row) != len(header):
                raise ValueError(f"row {line} has {len(row)} fields; the header has {len(header)}")
            try:
                x.append(float(row[ix]))
                y.append(float(row[iy]))
            except ValueError:
                raise ValueError(f"row {line}: {x_col!r} and {y_col!r} must be numbers") from None
            if not (np.isfinite(x[-1]) and np.isfinite(y[-1])):
                raise ValueError(f"row {line}: {x_col!r} and {y_col!r} must be finite numbers")
    except csv.Error as exc:
        raise ValueError(f"not a readable CSV table near row {reader.line_num} ({exc})") from None
    return np.array(x, dtype=float), np.array(y, dtype=float), hashlib.sha256(raw).hexdigest()

def _read_analysis(c: Collector, raw: dict, strategies: tuple, outcome_names: list) -> Analysis | None:
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
    if None in numbers or None in times or effect is None or comparator is None:
        return None
    return Analysis(effect, comparator, tuple(numbers), tuple(times))

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
            isinstance(row, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in row) for row in matrix)
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

def load_scenario(path) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        The scenario TOML file.

    Returns
    -------
    Scenario
        Frozen; every expression parsed and every name resolved.

    Raises
    ------
    ScenarioError
        With every problem found, each as ``file: key.path: message``.
    """
    path = Path(path)
    reading = Collector(default_file=str(path))
    raw, origin, files = _read_chain(path, reading)
    reading.raise_if_any()
    c = Collector(origin, str(path))
    c.unknown_keys("", raw, TOP_LEVEL_KEYS)
    model = c.table("model", raw.get("model"), required=False)
    c.unknown_keys("model", model, SECTION_KEYS["model"])
    for key in ("name", "title", "description"):
        if key in model:
            c.text(f"model.{key}", model[key])
    settings = _read_settings(c, raw)
    states, state_labels, initial = _read_states(c, raw)
    strategies, strategy_labels, own_values, own_rows, overrides = _read_strategies(c, raw, states)
    shared_values = read_values(c, SHARED, raw.get(SHARED))
    tables = _read_tables(c, raw)

    unit_cost_params = {}
    if "unit_costs" in raw:
        from costspine.catalogue.prices import build_price_parameters

        section = c.table("unit_costs", raw["unit_costs"])
        base_dir = declared_path(origin, "unit_costs.catalogue", ".", default=path)
        unit_cost_params, _ = build_price_parameters(section, base_dir=base_dir, collector=c)
        if settings is not None and section.get("price_year") not in (None, settings.price_year):
            c.add("unit_costs.price_year", f"must equal settings.price_year ({settings.price_year}) so every cost is in one "
                                           f"price year; got {section.get('price_year')!r}")
        if settings is not None and settings.currency != "USD":
            c.add("settings.currency", f"the unit-cost catalogue is in USD; got {settings.currency!r}")
    own = c.table("parameters", raw.get("parameters"), required=False)
    # A scenario may override a catalogue price by declaring a parameter of the same name.
    raw_params = {**unit_cost_params, **own}
    specs = _read_parameters(c, {"parameters": raw_params})
    correlations = _read_correlations(c, raw, specs)

    shared_rows = _read_matrix(c, "transitions", c.table("transitions", raw.get("transitions"), required=False), states)
    transitions = {s: {**shared_rows, **own_rows[s]} for s in strategies}
    for s in strategies:
        for state in states:
            if state not in transitions[s]:
                where = "transitions" if not own_rows[s] else f"strategies.{s}.transitions"
                c.add(f"{where}.{state}", f"missing row for state {state!r} (strategy {s}); give e.g. {state} = {{ {state} = 1 }}")

    costs = _read_rewards(c, raw, "cost", "costs", states, strategies, overrides)
    outcomes = _read_rewards(c, raw, "outcome", "outcomes", states, strategies, overrides)
    indicators = _read_rewards(c, raw, "indicator", "indicators", states, strategies, overrides)
    services = _read_rewards(c, raw, "service", "services", states, strategies, overrides)
    analysis = _read_analysis(c, raw, strategies, [o.name for o in outcomes])

    # Names: every expression must resolve.
    param_names = set()
    for spec in specs:
        param_names |= set(spec.components) if spec.family == "dirichlet" else {spec.name}
    duplicates = sorted(n for n in param_names if list(p for s in specs for p in (s.components or (s.name,))).count(n) > 1)
    for n in duplicates:
        c.add(f"parameters.{n}", "declared more than once (a Dirichlet component and a parameter share the name?)")
    # A parameter declared but invalid is already reported: do not also call its name unknown.
    invalid = {n for n, e in raw_params.items() if _is_name(n) and not any(n == sp.name for sp in specs)}
    invalid |= {k for n in invalid if isinstance(raw_params[n], dict) and isinstance(raw_params[n].get("alpha"), dict)
                for k in raw_params[n]["alpha"]}
    table_names = set(tables)
    for clash_name in sorted(param_names & table_names):
        c.add(f"tables.{clash_name}", "a table and a parameter share this name")
    # [population] attributes and [microsimulation] history: names usable in expressions (costspine.scenario.population).
    population, population_names, attribute_names = None, frozenset(), frozenset()
    if "population" in raw or "microsimulation" in raw:
        from costspine.scenario.population import read_population

        population = read_population(c, raw, states=states, strategy_values={s: {**shared_values, **own_values[s]} for s in strategies},
                                     param_names=param_names | invalid, table_names=table_names)
        population_names, attribute_names = population.names, population.attribute_names
    derived = {s.name: s.expression for s in specs if s.family == "derived"}
    order = order_definitions(c, "parameters", derived)
    for name, expr in derived.items():
        _check_names(c, f"parameters.{name}", expr, param_names | invalid, table_names)
    for state, expr in initial.items():
        _check_names(c, f"states.{state}.initial", expr, param_names | invalid | attribute_names, table_names)
    ordered_values = resolve_strategy_values(c, shared_values, own_values, strategies=strategies, parameters=param_names,
                                             names=param_names | invalid | TIME_NAMES | population_names, tables=table_names)
    for s in strategies:
        allowed = param_names | invalid | set(ordered_values[s]) | TIME_NAMES | population_names
        for origin_state, row in transitions[s].items():
            where = f"strategies.{s}.transitions" if origin_state in own_rows[s] else "transitions"
            for dest, expr in row.items():
                _check_names(c, f"{where}.{origin_state}.{dest}", expr, allowed, table_names)
        for reward in (*costs, *outcomes, *indicators, *services):
            section = {"cost": "costs", "outcome": "outcomes", "indicator": "indicators", "service": "services"}[reward.kind]
            for part, values in (("values", reward.state_values.get(s, {})), ("on_entry", reward.entry_values.get(s, {}))):
                for state, expr in values.items():
                    _check_names(c, f"{section}.{reward.name}.{part}.{state}", expr, allowed, table_names)
    if len(states) < 2 and states:
        c.add("states", "a state-transition model needs at least two states")

    c.raise_if_any()
    for spec in specs:  # provenance: the evidence file a posterior parameter is calibrated to
        if spec.family == "posterior" and isinstance(spec.args.get("file"), str):
            evidence_path = declared_path(origin, f"parameters.{spec.name}.file", spec.args["file"], default=path)
            try:
                c.record_file(evidence_path, file_sha256(evidence_path))
            except InputFileError:
                pass  # reported where the posterior is loaded (costspine.bayes.posterior); hashed only if readable
    spec_by_name = {s.name: s for s in specs}
    ordered_specs = [s for s in specs if s.family != "derived"] + [spec_by_name[n] for n in order]
    return Scenario(
        name=model.get("name") or path.stem,
        title=model.get("title") or model.get("name") or path.stem,
        description=model.get("description", ""),
        path=path,
        files=tuple(dict.fromkeys([*((str(p), sha) for p, sha in files), *c.files])),
        settings=settings,
        analysis=analysis,
        states=states,
        state_labels=state_labels,
        initial=initial,
        strategies=strategies,
        strategy_labels=strategy_labels,
        strategy_values=ordered_values,
        shared_values=shared_values,
        parameters=tuple(ordered_specs),
        correlations=correlations,
        tables=tables,
        transitions=transitions,
        costs=tuple(costs),
        outcomes=tuple(outcomes),
        indicators=tuple(indicators),
        services=tuple(services),
        sections={k: raw[k] for k in ("budget_impact", "population", "microsimulation", "unit_costs") if k in raw},
        origin=dict(origin),
        resolved={**raw, "parameters": raw_params},
        population=population,
    )
