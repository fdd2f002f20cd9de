"""The ``[population]`` and ``[microsimulation]`` sections read: attributes (levels, shares,
distributions) and history counters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costspine.expressions import FUNCTIONS, TIME_NAMES

MAX_GROUPS = 100_000


ATTRIBUTE_KINDS = {"levels": "categorical", "share": "binary", "distribution": "continuous", "value": "fixed"}

CONTINUOUS_DISTRIBUTIONS = {"normal": ("mean", "sd"), "uniform": ()}

HISTORY_KINDS = ("time_in_state", "transitions", "events")

MAX_CAP = 10_000

SHARE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Attribute:
    """One individual attribute, discrete on the grid.

    Attributes
    ----------
    name : str
    kind : {"categorical", "binary", "continuous", "fixed"}
    levels : tuple of str
        Level labels: the categories, ``("0", "1")``, band labels ``"18-35"``, or ``("all",)``.
    shares : tuple of Expression
        Categorical: one share per level; binary: the share with value 1.
    distribution : str or None
        Continuous: ``"normal"`` (truncated to the outer band edges) or ``"uniform"``.
    args : dict of str to Expression
        Continuous normal: ``mean``, ``sd``; fixed: ``value``.
    bands : tuple of float
        Continuous: band edges, increasing.
    """

    name: str
    kind: str
    levels: tuple
    shares: tuple = ()
    distribution: str | None = None
    args: dict | None = None
    bands: tuple = ()
    label: str = ""
    source: str = ""

    @property
    def names(self) -> tuple:
        """Names this attribute gives expressions: ``risk_low``, ``risk_high`` for a categorical one."""
        if self.kind == "categorical":
            return tuple(f"{self.name}_{level}" for level in self.levels)
        return (self.name,)

    @property
    def expressions(self) -> tuple:
        return tuple(self.shares) + tuple((self.args or {}).values())


@dataclass(frozen=True)
class HistoryCounter:
    """A capped per-individual counter, usable by name in transitions, rewards and strategy values.

    ``kind``: ``time_in_state`` (completed cycles since entering the current state; with
    ``states``, completed cycles since entering the group of those states, moves within the group
    not restarting it, and 0 outside the group), ``transitions`` (moves from a state in
    ``from_states`` to one in ``to_states``) or ``events`` (cycles in which an event of probability
    ``probability[state]`` happened). ``cap``: counts above it are recorded as ``cap``. ``cohort``:
    the value the cohort engine uses (it has no history).
    """

    name: str
    kind: str
    cap: int
    cohort: float
    from_states: tuple = ()
    to_states: tuple = ()
    probability: dict | None = None
    label: str = ""
    states: tuple = ()


@dataclass(frozen=True)
class Anchor:
    """One ``[population.anchors.PARAMETER]`` entry: a multiplier solved in every draw so that the
    mixed population's indicator equals the homogeneous population's.

    Attributes
    ----------
    parameter : str
        The parameter solved (its declared value is only the starting point).
    indicator, strategy : str
        The indicator matched and the strategy it is read in.
    years : float
        The time (years after the start) at which it is matched.
    """

    parameter: str
    indicator: str
    strategy: str
    years: float


@dataclass(frozen=True)
class Population:
    """The validated ``[population]`` and ``[microsimulation]`` sections of a scenario.

    ``anchors`` and ``homogeneous`` come from ``[population.anchors]`` and ``[population] homogeneous``:
    the parameters solved per draw, and the parameter values that make the groups alike (the reference
    the anchors reproduce).
    """

    attributes: tuple
    history: tuple
    individuals: int | None = None
    description: str = ""
    anchors: tuple = ()
    homogeneous: tuple = ()

    @property
    def attribute_names(self) -> frozenset:
        return frozenset(n for a in self.attributes for n in a.names)

    @property
    def history_names(self) -> frozenset:
        return frozenset(h.name for h in self.history)

    @property
    def names(self) -> frozenset:
        return self.attribute_names | self.history_names

    @property
    def n_groups(self) -> int:
        return math.prod(len(a.levels) for a in self.attributes)


def read_population(c, raw: dict, *, states: tuple, strategy_values: dict, param_names: set, table_names: set) -> Population:
    """Validate ``[population]`` and ``[microsimulation]``; problems go to the collector ``c``.

    ``c`` is the loader's collector (``add``, ``table``, ``number``, ``text``, ``expression``,
    ``unknown_keys``). Returns what could be read; the loader raises if any problem was collected.
    """
    from costspine.scenario.collector import _check_names, _is_name, _name_message

    pop = c.table("population", raw.get("population"), required=False)
    c.unknown_keys("population", pop, {"attributes", "description", "source", "anchors", "homogeneous"})
    micro = c.table("microsimulation", raw.get("microsimulation"), required=False)
    c.unknown_keys("microsimulation", micro, {"individuals", "history", "description"})
    taken = set(param_names) | set(table_names) | set(TIME_NAMES) | set(FUNCTIONS) | set(states)
    local_values = {v for values in strategy_values.values() for v in values}

    attributes, seen = [], set()
    for name, entry in c.table("population.attributes", pop.get("attributes"), required=False).items():
        key = f"population.attributes.{name}"
        entry = c.table(key, entry)
        attribute = _read_attribute(c, key, name, entry, known=param_names | seen, tables=table_names)
        if attribute is None:
            continue
        for exposed in attribute.names:
            if not _is_name(exposed):
                c.add(
                    key,
                    _name_message(
                        exposed, f"gives expressions the name {exposed!r}, which is not an identifier or is reserved; rename it"
                    ),
                )
            elif exposed in taken | seen | local_values:
                c.add(
                    key,
                    f"gives expressions the name {exposed!r}, already a parameter, table, state, strategy value or "
                    "another attribute; rename one of them",
                )
            seen.add(exposed)
        attributes.append(attribute)
    n_groups = math.prod(len(a.levels) for a in attributes)
    if n_groups > MAX_GROUPS:
        c.add(
            "population.attributes",
            f"the attributes make {n_groups:,} groups (levels multiplied); the limit is "
            f"{MAX_GROUPS:,} — use fewer bands or levels",
        )

    history = []
    for name, entry in c.table("microsimulation.history", micro.get("history"), required=False).items():
        key = f"microsimulation.history.{name}"
        entry = c.table(key, entry)
        if not _is_name(name):
            c.add(key, _name_message(name, "history names must be identifiers (letters, digits, underscore) and not reserved"))
            continue
        if name in taken | seen | local_values:
            c.add(key, f"{name!r} is already a parameter, table, state, strategy value or attribute name; rename one")
        counter = _read_history(c, key, name, entry, states=states)
        if counter is not None:
            history.append(counter)
            seen.add(name)
    # Event probabilities are evaluated under every strategy: names must exist in all of them.
    common = set.intersection(*(set(v) for v in strategy_values.values())) if strategy_values else set()
    allowed = set(param_names) | seen | set(TIME_NAMES) | common
    for counter in history:
        for state, expr in (counter.probability or {}).items():
            _check_names(c, f"microsimulation.history.{counter.name}.probability.{state}", expr, allowed, set(table_names))
    individuals = None
    if "individuals" in micro:
        individuals = c.number("microsimulation.individuals", micro["individuals"], low=1, integer=True)
    description = pop.get("description", "")
    if not isinstance(description, str):
        c.add("population.description", "expected text")
        description = ""
    anchors, homogeneous = _read_anchors(c, pop, param_names=param_names, strategies=tuple(strategy_values))
    return Population(tuple(attributes), tuple(history), individuals, description, anchors, homogeneous)


def _read_anchors(c, pop: dict, *, param_names: set, strategies: tuple) -> tuple[tuple, tuple]:
    """``[population.anchors.PARAMETER]`` (indicator, strategy, years) and ``[population] homogeneous``
    (parameter = number): each name checked against the scenario's parameters and strategies."""
    anchors = []
    for name, entry in c.table("population.anchors", pop.get("anchors"), required=False).items():
        key = f"population.anchors.{name}"
        entry = c.table(key, entry)
        c.unknown_keys(key, entry, {"indicator", "strategy", "years", "source"})
        if name not in param_names:
            c.add(key, f"{name!r} is not a parameter of the scenario; an anchor solves a declared parameter")
        indicator = c.text(f"{key}.indicator", entry.get("indicator"))
        strategy = c.text(f"{key}.strategy", entry.get("strategy"), choices=strategies or None)
        years = c.number(f"{key}.years", entry.get("years"), low=0)
        if name in param_names and indicator and strategy and years is not None:
            anchors.append(Anchor(name, indicator, strategy, float(years)))
    homogeneous = []
    table = c.table("population.homogeneous", pop.get("homogeneous"), required=False)
    for name, value in table.items():
        if name not in param_names:
            c.add(f"population.homogeneous.{name}", f"{name!r} is not a parameter of the scenario")
            continue
        number = c.number(f"population.homogeneous.{name}", value)
        if number is not None:
            homogeneous.append((name, float(number)))
    if anchors and not homogeneous:
        c.add(
            "population.homogeneous",
            "anchors need the parameter values that make the groups alike (their reference); "
            "add e.g. homogeneous = { hr_improve_catastrophizing = 1 }",
        )
    return tuple(anchors), tuple(homogeneous)


def _read_attribute(c, key: str, name: str, entry: dict, *, known: set, tables: set) -> Attribute | None:
    from costspine.scenario.collector import _check_names

    kinds = [k for k in ATTRIBUTE_KINDS if k in entry]
    if len(kinds) != 1:
        c.add(
            key,
            "give exactly one of levels = {name = share, ...} (categorical), share = p (binary 0/1), "
            f'distribution = "normal"/"uniform" with bands (continuous) or value = x (one value); got {kinds or "none"}',
        )
        return None
    kind = ATTRIBUTE_KINDS[kinds[0]]
    allowed = {"label", "source", "unit", kinds[0]}
    if kind == "continuous":
        distribution = c.text(f"{key}.distribution", entry.get("distribution"), choices=list(CONTINUOUS_DISTRIBUTIONS))
        allowed |= {"bands", *CONTINUOUS_DISTRIBUTIONS.get(distribution or "", ())}
    c.unknown_keys(key, entry, allowed)
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        c.add(f"{key}.source", "missing; say where the distribution comes from (or 'assumption')")
    label = entry.get("label", name) if isinstance(entry.get("label", name), str) else name

    def expr(part: str, value):
        parsed = c.expression(f"{key}.{part}", value)
        if parsed is not None:
            _check_names(c, f"{key}.{part}", parsed, set(known), set(tables))
        return parsed

    if kind == "categorical":
        levels = c.table(f"{key}.levels", entry["levels"])
        if len(levels) < 2:
            c.add(f"{key}.levels", "a categorical attribute needs at least two levels, e.g. { low = 0.6, high = 0.4 }")
            return None
        shares = tuple(expr(f"levels.{level}", value) for level, value in levels.items())
        if None in shares:
            return None
        return Attribute(name, kind, tuple(levels), shares=shares, label=label, source=source or "")
    if kind == "binary":
        share = expr("share", entry["share"])
        return None if share is None else Attribute(name, kind, ("0", "1"), shares=(share,), label=label, source=source or "")
    if kind == "fixed":
        value = expr("value", entry["value"])
        return None if value is None else Attribute(name, kind, ("all",), args={"value": value}, label=label, source=source or "")
    distribution = entry.get("distribution")
    if distribution not in CONTINUOUS_DISTRIBUTIONS:
        return None
    bands = entry.get("bands")
    if not isinstance(bands, list) or len(bands) < 2:
        c.add(f"{key}.bands", "expected an array of at least two increasing band edges, e.g. [18, 40, 65, 90]")
        return None
    edges = [c.number(f"{key}.bands[{i}]", b) for i, b in enumerate(bands)]
    if None in edges:
        return None
    if any(b >= a for a, b in zip(edges[1:], edges[:-1])):
        c.add(f"{key}.bands", f"band edges must increase strictly; got {edges}")
        return None
    args = {}
    for part in CONTINUOUS_DISTRIBUTIONS[distribution]:
        if part not in entry:
            c.add(
                f"{key}.{part}", f"missing; a {distribution} attribute needs {', '.join(CONTINUOUS_DISTRIBUTIONS[distribution])}"
            )
            return None
        args[part] = expr(part, entry[part])
    if None in args.values():
        return None
    labels = tuple(f"{a:g}-{b:g}" for a, b in zip(edges[:-1], edges[1:]))
    return Attribute(
        name, kind, labels, distribution=distribution, args=args, bands=tuple(edges), label=label, source=source or ""
    )


def _read_history(c, key: str, name: str, entry: dict, *, states: tuple) -> HistoryCounter | None:
    kind = c.text(f"{key}.kind", entry.get("kind"), choices=list(HISTORY_KINDS))
    extra = {"time_in_state": {"states"}, "transitions": {"from", "to"}, "events": {"probability"}}.get(kind, set())
    c.unknown_keys(key, entry, {"kind", "max", "cohort", "label"} | extra)
    cap = c.number(f"{key}.max", entry["max"], low=1, high=MAX_CAP, integer=True) if "max" in entry else None
    if "max" not in entry:
        c.add(
            f"{key}.max",
            "missing; counts above max are recorded as max (choose at least the largest value your expressions distinguish)",
        )
    cohort = c.number(f"{key}.cohort", entry["cohort"]) if "cohort" in entry else None
    if "cohort" not in entry:
        c.add(f"{key}.cohort", "missing; the cohort engine cannot track history: give the value it should use (e.g. 0)")
    label = entry.get("label", name) if isinstance(entry.get("label", name), str) else name
    if kind is None or cap is None or cohort is None:
        return None
    if kind == "transitions":
        groups = []
        for part in ("from", "to"):
            value = entry.get(part)
            if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
                c.add(
                    f"{key}.{part}",
                    f'expected a non-empty array of state names, e.g. {part} = ["{states[0] if states else "well"}"]',
                )
                return None
            unknown = [s for s in value if s not in states]
            if unknown:
                c.add(f"{key}.{part}", f"unknown state(s) {', '.join(map(repr, unknown))}; states are {', '.join(states)}")
                return None
            groups.append(tuple(value))
        return HistoryCounter(name, kind, cap, cohort, from_states=groups[0], to_states=groups[1], label=label)
    if kind == "events":
        table = c.table(f"{key}.probability", entry.get("probability"))
        probability = {}
        for state, value in table.items():
            if state not in states:
                c.add(f"{key}.probability.{state}", f"unknown state {state!r}; states are {', '.join(states)}")
                continue
            parsed = c.expression(f"{key}.probability.{state}", value)
            if parsed is not None:
                probability[state] = parsed
        if not table:
            c.add(f"{key}.probability", "expected { state = probability per cycle, ... } for at least one state")
            return None
        return HistoryCounter(name, kind, cap, cohort, probability=probability, label=label)
    if "states" in entry:
        # An invalid group is reported; the counter is kept (without it) so expressions naming it are not also reported.
        group = _read_state_group(c, f"{key}.states", entry["states"], states=states)
        return HistoryCounter(name, kind, cap, cohort, label=label, states=group or ())
    return HistoryCounter(name, kind, cap, cohort, label=label)


def _read_state_group(c, key: str, value, *, states: tuple) -> tuple | None:
    """The ``states`` of a ``time_in_state`` counter: a non-empty array of distinct state names."""
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        example = ", ".join(f'"{s}"' for s in (states[1:3] if len(states) > 2 else states[:1]))
        c.add(key, f"expected a non-empty array of state names, e.g. states = [{example}]; got {value!r}")
        return None
    unknown = [s for s in value if s not in states]
    for name in unknown:
        c.unknown_name(key, name, states, "state")
    repeated = sorted({s for s in value if value.count(s) > 1})
    if repeated:
        c.add(key, f"state(s) {', '.join(map(repr, repeated))} listed more than once; list each state once")
    return None if unknown or repeated else tuple(value)


EMPTY_POPULATION = Population((), ())
