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
from costspine._limits import MAX_STATES
from costspine.errors import InputFileError
from costspine.expressions import TIME_NAMES
from costspine.problems import Collector
from costspine.scenario.collector import (
    _check_names,
    _is_name,
    _name_message,
    _unknown,
)
from costspine.scenario.files import _read_chain, declared_path, file_sha256
from costspine.scenario.parameters import _read_correlations, _read_parameters
from costspine.scenario.settings import SECTION_KEYS, _read_analysis, _read_settings
from costspine.scenario.types import (
    REST,
    LookupTable,
    Reward,
    Scenario,
)
from costspine.scenario.values import SHARED, order_definitions, read_values, resolve_strategy_values

TOP_LEVEL_KEYS = {
    "extends",
    "model",
    "settings",
    "analysis",
    "states",
    "strategies",
    "parameters",
    "tables",
    "transitions",
    "costs",
    "outcomes",
    "indicators",
    "services",
    "correlations",
    "values",
    # Sections owned by later stages of the pipeline, validated by their own modules:
    "unit_costs",
    "budget_impact",
    "population",
    "microsimulation",
}

REWARD_KEYS = {
    "cost": {"category", "values", "on_entry", "label"},
    "outcome": {"values", "on_entry", "label", "unit"},
    "indicator": {"values", "label", "unit"},
    "service": {"values", "on_entry", "label"},
}


def _read_states(c: Collector, raw: dict):
    states = c.table("states", raw.get("states"))
    names, labels, initial = [], {}, {}
    if not states:
        c.add("states", "expected at least two states, e.g. [states.well] initial = 1")
    for name, entry in states.items():
        key = f"states.{name}"
        if not _is_name(name):
            c.add(
                key,
                _name_message(name, "state names must be identifiers (letters, digits, underscore; not starting with a digit)"),
            )
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
    if len(names) > MAX_STATES:  # stop here: every other section would report each state again
        c.add(
            "states", f"{len(names):,} states; the limit is {MAX_STATES:,} (a transition matrix holds states² cells per strategy)"
        )
        c.raise_if_any()
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
        c.unknown_keys(
            key, entry, {"label", "description", "values", "transitions", "costs", "outcomes", "indicators", "services"}
        )
        names.append(name)
        labels[name] = entry.get("label", name) if isinstance(entry.get("label", name), str) else name
        values[name] = read_values(c, f"{key}.values", entry.get("values"))
        rows[name] = _read_matrix(
            c, f"{key}.transitions", c.table(f"{key}.transitions", entry.get("transitions"), required=False), states
        )
        overrides[name] = {
            kind: c.table(f"{key}.{kind}", entry.get(kind), required=False)
            for kind in ("costs", "outcomes", "indicators", "services")
        }
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


def _read_rewards(
    c: Collector, raw: dict, kind: str, section: str, states: tuple, strategies: tuple, overrides: dict
) -> list[Reward]:
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
                c.add(
                    f"{keypath}.on_entry",
                    "an indicator is an occupancy-weighted mean of state values, so a one-off value "
                    "on entering a state has no meaning; count entries with [services] or value them "
                    "with on_entry in [costs] or [outcomes]",
                )
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


def load_scenario(path, *, parameters: dict | None = None, parameters_from: str = "") -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        The scenario TOML file.
    parameters : dict of str to dict, optional
        ``[parameters.NAME]`` tables laid over the file's, each replacing the entry of that name
        whole (also a catalogue price's), as a child file declaring them would: how edited
        workbook inputs are applied (:mod:`costspine.scenario.workbook_inputs`).
    parameters_from : str
        Where ``parameters`` come from, named in problems (e.g. ``"run.xlsx (sheet Inputs)"``).

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
    if parameters and isinstance(raw.get("parameters", {}), dict):
        raw["parameters"] = {**raw.get("parameters", {}), **parameters}
        for name, entry in parameters.items():
            origin[f"parameters.{name}"] = parameters_from or str(path)
            origin.update({f"parameters.{name}.{key}": parameters_from or str(path) for key in entry})
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
            c.add(
                "unit_costs.price_year",
                f"must equal settings.price_year ({settings.price_year}) so every cost is in one "
                f"price year; got {section.get('price_year')!r}",
            )
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
                c.add(
                    f"{where}.{state}", f"missing row for state {state!r} (strategy {s}); give e.g. {state} = {{ {state} = 1 }}"
                )

    costs = _read_rewards(c, raw, "cost", "costs", states, strategies, overrides)
    outcomes = _read_rewards(c, raw, "outcome", "outcomes", states, strategies, overrides)
    indicators = _read_rewards(c, raw, "indicator", "indicators", states, strategies, overrides)
    services = _read_rewards(c, raw, "service", "services", states, strategies, overrides)
    analysis = _read_analysis(c, raw, strategies, [o.name for o in outcomes], costs)

    # Names: every expression must resolve.
    param_names = set()
    for spec in specs:
        param_names |= set(spec.components) if spec.family == "dirichlet" else {spec.name}
    duplicates = sorted(n for n in param_names if list(p for s in specs for p in (s.components or (s.name,))).count(n) > 1)
    for n in duplicates:
        c.add(f"parameters.{n}", "declared more than once (a Dirichlet component and a parameter share the name?)")
    # A parameter declared but invalid is already reported: do not also call its name unknown.
    invalid = {n for n, e in raw_params.items() if _is_name(n) and not any(n == sp.name for sp in specs)}
    invalid |= {
        k
        for n in invalid
        if isinstance(raw_params[n], dict) and isinstance(raw_params[n].get("alpha"), dict)
        for k in raw_params[n]["alpha"]
    }
    table_names = set(tables)
    for clash_name in sorted(param_names & table_names):
        c.add(f"tables.{clash_name}", "a table and a parameter share this name")
    # [population] attributes and [microsimulation] history: names usable in expressions (costspine.scenario.population).
    population, population_names, attribute_names = None, frozenset(), frozenset()
    if "population" in raw or "microsimulation" in raw:
        from costspine.scenario.population import read_population

        population = read_population(
            c,
            raw,
            states=states,
            strategy_values={s: {**shared_values, **own_values[s]} for s in strategies},
            param_names=param_names | invalid,
            table_names=table_names,
        )
        population_names, attribute_names = population.names, population.attribute_names
    derived = {s.name: s.expression for s in specs if s.family == "derived"}
    order = order_definitions(c, "parameters", derived)
    for name, expr in derived.items():
        _check_names(c, f"parameters.{name}", expr, param_names | invalid, table_names)
    for state, expr in initial.items():
        _check_names(c, f"states.{state}.initial", expr, param_names | invalid | attribute_names, table_names)
    ordered_values = resolve_strategy_values(
        c,
        shared_values,
        own_values,
        strategies=strategies,
        parameters=param_names,
        names=param_names | invalid | TIME_NAMES | population_names,
        tables=table_names,
    )
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
