"""The ``[population]`` and ``[microsimulation]`` sections: who the individuals are and what
history they carry. Validated here (called by :func:`costspine.scenario.load_scenario`); the
numbers are evaluated by :func:`build_groups` for each parameter draw.

Attributes are *discrete on a grid*: a categorical attribute has its levels, a binary one 0/1, a
continuous one (age, baseline ODI) is cut into bands and enters expressions as the mean of its
distribution within the individual's band. The groups are every combination of levels; each has a
population weight (the product of each attribute's level probability given the earlier
attributes). See ``docs/microsimulation.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from costspine.errors import AnalysisError, Problem, ScenarioError
from costspine.expressions import FUNCTIONS, TIME_NAMES

ATTRIBUTE_KINDS = {"levels": "categorical", "share": "binary", "distribution": "continuous", "value": "fixed"}
CONTINUOUS_DISTRIBUTIONS = {"normal": ("mean", "sd"), "uniform": ()}
HISTORY_KINDS = ("time_in_state", "transitions", "events")
MAX_GROUPS = 100_000
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

    ``kind``: ``time_in_state`` (completed cycles since entering the current state),
    ``transitions`` (moves from a state in ``from_states`` to one in ``to_states``) or ``events``
    (cycles in which an event of probability ``probability[state]`` happened). ``cap``: counts
    above it are recorded as ``cap``. ``cohort``: the value the cohort engine uses (it has no history).
    """

    name: str
    kind: str
    cap: int
    cohort: float
    from_states: tuple = ()
    to_states: tuple = ()
    probability: dict | None = None
    label: str = ""


@dataclass(frozen=True)
class Population:
    """The validated ``[population]`` and ``[microsimulation]`` sections of a scenario."""

    attributes: tuple
    history: tuple
    individuals: int | None = None
    description: str = ""

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


# --------------------------------------------------------------------------------------------
# Reading


def read_population(c, raw: dict, *, states: tuple, strategy_values: dict, param_names: set, table_names: set) -> Population:
    """Validate ``[population]`` and ``[microsimulation]``; problems go to the collector ``c``.

    ``c`` is the loader's collector (``add``, ``table``, ``number``, ``text``, ``expression``,
    ``unknown_keys``). Returns what could be read; the loader raises if any problem was collected.
    """
    from costspine.scenario import _check_names, _is_name

    pop = c.table("population", raw.get("population"), required=False)
    c.unknown_keys("population", pop, {"attributes", "description", "source"})
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
                c.add(key, f"gives expressions the name {exposed!r}, which is not an identifier or is reserved; rename it")
            elif exposed in taken | seen | local_values:
                c.add(key, f"gives expressions the name {exposed!r}, already a parameter, table, state, strategy value or "
                           "another attribute; rename one of them")
            seen.add(exposed)
        attributes.append(attribute)
    n_groups = math.prod(len(a.levels) for a in attributes)
    if n_groups > MAX_GROUPS:
        c.add("population.attributes", f"the attributes make {n_groups:,} groups (levels multiplied); the limit is "
                                       f"{MAX_GROUPS:,} — use fewer bands or levels")

    history = []
    for name, entry in c.table("microsimulation.history", micro.get("history"), required=False).items():
        key = f"microsimulation.history.{name}"
        entry = c.table(key, entry)
        if not _is_name(name):
            c.add(key, "history names must be identifiers (letters, digits, underscore) and not reserved")
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
    return Population(tuple(attributes), tuple(history), individuals, description)


def _read_attribute(c, key: str, name: str, entry: dict, *, known: set, tables: set) -> Attribute | None:
    from costspine.scenario import _check_names

    kinds = [k for k in ATTRIBUTE_KINDS if k in entry]
    if len(kinds) != 1:
        c.add(key, "give exactly one of levels = {name = share, ...} (categorical), share = p (binary 0/1), "
                   f"distribution = \"normal\"/\"uniform\" with bands (continuous) or value = x (one value); got {kinds or 'none'}")
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
            c.add(f"{key}.{part}", f"missing; a {distribution} attribute needs {', '.join(CONTINUOUS_DISTRIBUTIONS[distribution])}")
            return None
        args[part] = expr(part, entry[part])
    if None in args.values():
        return None
    labels = tuple(f"{a:g}-{b:g}" for a, b in zip(edges[:-1], edges[1:]))
    return Attribute(name, kind, labels, distribution=distribution, args=args, bands=tuple(edges), label=label, source=source or "")


def _read_history(c, key: str, name: str, entry: dict, *, states: tuple) -> HistoryCounter | None:
    kind = c.text(f"{key}.kind", entry.get("kind"), choices=list(HISTORY_KINDS))
    extra = {"time_in_state": set(), "transitions": {"from", "to"}, "events": {"probability"}}.get(kind, set())
    c.unknown_keys(key, entry, {"kind", "max", "cohort", "label"} | extra)
    cap = c.number(f"{key}.max", entry["max"], low=1, high=MAX_CAP, integer=True) if "max" in entry else None
    if "max" not in entry:
        c.add(f"{key}.max", "missing; counts above max are recorded as max (choose at least the largest value your "
                            "expressions distinguish)")
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
                c.add(f"{key}.{part}", f"expected a non-empty array of state names, e.g. {part} = [\"{states[0] if states else 'well'}\"]")
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
    return HistoryCounter(name, kind, cap, cohort, label=label)


# --------------------------------------------------------------------------------------------
# Groups


@dataclass(frozen=True)
class GroupGrid:
    """The population's groups for each parameter draw.

    Attributes
    ----------
    shape : tuple of int
        Levels per attribute (the grid's attribute axes, in declaration order).
    weights : ndarray, shape (draw, *shape)
        Population share of each group.
    values : dict of str to ndarray broadcastable to (draw, *shape)
        Each attribute name's value in each group (band mean for continuous attributes).
    level_labels : tuple of tuple of str
    attribute_names : tuple of str
    """

    shape: tuple
    weights: np.ndarray
    values: dict
    level_labels: tuple
    attribute_names: tuple

    @property
    def n_groups(self) -> int:
        return math.prod(self.shape)

    def flat_weights(self) -> np.ndarray:
        """Group weights, shape (draw, group) (groups in C order of the attribute axes)."""
        return self.weights.reshape(self.weights.shape[0], -1)

    def flat_values(self) -> dict:
        """Attribute values per group, each shape (draw, group)."""
        n_draws = self.weights.shape[0]
        return {k: np.broadcast_to(v, (n_draws, *self.shape)).reshape(n_draws, -1) for k, v in self.values.items()}

    def label(self, group: int) -> str:
        """``"risk=high, age=35-50"`` for a flat group index."""
        if not self.shape:
            return "everyone"
        coords = np.unravel_index(group, self.shape)
        return ", ".join(f"{n}={labels[i]}" for n, labels, i in zip(self.attribute_names, self.level_labels, coords))


def build_groups(population: Population, params: dict, *, tables: dict, where: str, base_case: bool) -> GroupGrid:
    """Evaluate the attribute distributions for every draw of ``params``.

    Parameters
    ----------
    population : Population
    params : dict of str to ndarray, shape (draw,)
        Every parameter's value (derived ones included), e.g. from
        :func:`costspine.model.evaluate_parameters`.
    tables : dict
        The scenario's look-up tables.
    where : str
        The scenario file, for messages.
    base_case : bool
        Whether a bad value is a scenario error (base case) or an analysis error (a PSA draw).

    Returns
    -------
    GroupGrid

    Raises
    ------
    ScenarioError, AnalysisError
        Shares outside [0, 1] or not summing to 1, a normal's sd <= 0, bands holding no
        probability — each naming the key.

    Notes
    -----
    Arrays live on the grid ``(draw, attribute_1, ..., attribute_A)``; an attribute's shares may
    depend on the draw and on earlier attributes, so they are evaluated with those axes and its
    levels are laid along its own axis. A normal attribute truncated to ``[e_0, e_K]`` puts
    ``(Φ(z_{j+1}) − Φ(z_j)) / (Φ(z_K) − Φ(z_0))`` in band ``j`` and takes the band's conditional
    mean ``μ + σ (φ(z_j) − φ(z_{j+1})) / (Φ(z_{j+1}) − Φ(z_j))`` as its value (``z = (e − μ)/σ``);
    a uniform one takes the band's share of the width and its midpoint.
    """
    attrs = population.attributes
    n_axes = len(attrs)
    n_draws = max((np.size(v) for v in params.values()), default=1)
    space = {k: np.asarray(v, dtype=float).reshape((-1,) + (1,) * n_axes) for k, v in params.items()}
    shape = tuple(len(a.levels) for a in attrs)
    weights = np.ones((n_draws,) + (1,) * n_axes)
    values = {}
    problems = []

    def evaluate(expr, keypath):
        from costspine.expressions import ExpressionError

        try:
            with np.errstate(all="ignore"):
                return np.asarray(expr.evaluate(space, tables=tables), dtype=float)
        except (ExpressionError, TypeError, ValueError) as exc:
            raise ScenarioError(Problem(f"{where}: {keypath}", f"cannot evaluate {expr.text!r}: {exc}")) from None

    def stack(levels, k):
        """Lay per-level arrays (each broadcastable to the grid, singleton on axis 1 + k) along axis 1 + k."""
        levels = [np.asarray(v, dtype=float) for v in levels]
        lead = np.broadcast_shapes((1,) * (1 + n_axes), *(v.shape for v in levels))
        return np.concatenate([np.broadcast_to(v, lead) for v in levels], axis=1 + k)

    def constant(numbers, k):
        out = [1] * (1 + n_axes)
        out[1 + k] = len(numbers)
        return np.asarray(numbers, dtype=float).reshape(out)

    for k, attr in enumerate(attrs):
        key = f"population.attributes.{attr.name}"
        if attr.kind in ("categorical", "binary"):
            if attr.kind == "categorical":
                parts = [evaluate(e, f"{key}.levels.{lvl}") for e, lvl in zip(attr.shares, attr.levels)]
            else:
                share = evaluate(attr.shares[0], f"{key}.share")
                parts = [1.0 - share, share]
            prob = stack(parts, k)
            if np.any(~((prob >= -SHARE_TOLERANCE) & (prob <= 1 + SHARE_TOLERANCE))):
                bad = prob[~((prob >= -SHARE_TOLERANCE) & (prob <= 1 + SHARE_TOLERANCE))]
                problems.append((key, f"shares must be in [0, 1]; got {float(bad.ravel()[0]):g}"))
            total = prob.sum(axis=1 + k)
            if np.any(~(np.abs(total - 1) <= 1e-6)):
                worst = np.ravel(total)[np.argmax(np.abs(np.ravel(total) - 1))]
                problems.append((key, f"level shares must sum to 1; they sum to {worst:.6g}"))
            if attr.kind == "categorical":
                for i, name in enumerate(attr.names):
                    values[name] = constant(np.eye(len(attr.levels))[i], k)
            else:
                values[attr.name] = constant([0.0, 1.0], k)
        elif attr.kind == "fixed":
            prob = constant([1.0], k)
            values[attr.name] = stack([evaluate(attr.args["value"], f"{key}.value")], k)
        elif attr.distribution == "uniform":
            edges = np.asarray(attr.bands, dtype=float)
            prob = constant(np.diff(edges) / (edges[-1] - edges[0]), k)
            values[attr.name] = constant((edges[:-1] + edges[1:]) / 2, k)
        else:
            from scipy import special

            edges = np.asarray(attr.bands, dtype=float)
            mean = evaluate(attr.args["mean"], f"{key}.mean")
            sd = evaluate(attr.args["sd"], f"{key}.sd")
            if np.any(~(sd > 0)):
                problems.append((f"{key}.sd", f"must be > 0; got {float(np.min(sd)):g}"))
                sd = np.where(sd > 0, sd, 1.0)
            z = [(e - mean) / sd for e in edges]
            cdf = [special.ndtr(v) for v in z]
            density = [np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi) for v in z]
            total = cdf[-1] - cdf[0]
            if np.any(~(total > 1e-12)):
                problems.append((key, "the normal distribution puts no probability inside the bands; check mean, sd and bands"))
                total = np.where(total > 1e-12, total, 1.0)
            masses, means = [], []
            for j in range(len(edges) - 1):
                mass = cdf[j + 1] - cdf[j]
                with np.errstate(all="ignore"):
                    conditional = mean + sd * (density[j] - density[j + 1]) / mass
                midpoint = (edges[j] + edges[j + 1]) / 2
                masses.append(mass / total)
                means.append(np.clip(np.where(mass > 1e-300, conditional, midpoint), edges[j], edges[j + 1]))
            prob = stack(masses, k)
            values[attr.name] = stack(means, k)
        weights = weights * prob
        space.update(values)
    if problems:
        if base_case:
            raise ScenarioError([Problem(f"{where}: {k}", m) for k, m in problems])
        raise AnalysisError("invalid population shares in PSA draws:\n" + "\n".join(f"  - {k}: {m}" for k, m in problems))
    weights = np.broadcast_to(weights, (n_draws,) + shape).copy()
    return GroupGrid(shape, weights, values, tuple(a.levels for a in attrs), tuple(a.name for a in attrs))
