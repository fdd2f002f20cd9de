"""Named values of a scenario: shared ``[values]``, each strategy's own ``[strategies.X.values]``,
and the dependency order in which they (and derived parameters) are evaluated.

Every strategy evaluates one set of values: the shared ``[values]`` table plus its own, its own
replacing a shared value of the same name. The order is computed over that union, strategy by
strategy, so a shared value may use a value that each strategy defines for itself (``lam =
"rate * hr_now"`` with ``hr_now`` per strategy) and a strategy's own value may use a shared one.
"""

from __future__ import annotations

from costspine.problems import Collector
from costspine.scenario.collector import _check_names, _is_name, _name_message

SHARED = "values"
"""The top-level table of values shared by every strategy."""


def read_values(c: Collector, keypath: str, table) -> dict:
    """Parse a table of named value expressions (``[values]`` or ``[strategies.X.values]``).

    Parameters
    ----------
    c : Collector
        Problems go here: a name that is not an identifier (or is reserved), an expression that
        does not parse.
    keypath : str
        Key path of the table, e.g. ``"values"`` or ``"strategies.ice.values"``.
    table : dict or None
        The table as read from TOML (absent: no values).

    Returns
    -------
    dict of str to Expression
        In file order; bad entries left out.

    Examples
    --------
    >>> c = Collector(default_file="toy.toml")
    >>> sorted(read_values(c, "values", {"p": "0.1 * cycle", "if": "1"}))
    ['p']
    >>> [str(p) for p in c.problems][0][:36]
    "toy.toml: values.if: 'if' is a Pytho"
    """
    values = {}
    for name, text in c.table(keypath, table, required=False).items():
        if not _is_name(name):
            c.add(f"{keypath}.{name}", _name_message(name, "value names must be identifiers and not reserved words"))
            continue
        expr = c.expression(f"{keypath}.{name}", text)
        if expr is not None:
            values[name] = expr
    return values


def value_keypath(strategy: str, name: str, own: dict) -> str:
    """Where a strategy's value is written: ``strategies.<strategy>.values.<name>`` if the strategy
    declares it (``own``), else the shared ``values.<name>``."""
    return f"strategies.{strategy}.values.{name}" if name in own else f"{SHARED}.{name}"


def order_definitions(
    c: Collector, keypath, exprs: dict, *, strategy: str | None = None, replaced: frozenset = frozenset()
) -> dict:
    """Topological order of named expressions that may refer to each other; reports loops.

    Parameters
    ----------
    c : Collector
    keypath : str or callable
        Key path prefix of every name (``"parameters"``: ``parameters.<name>``), or a function
        ``name -> key path`` (values of one strategy, some shared, some its own).
    exprs : dict of str to Expression
    strategy : str, optional
        The strategy whose values these are; a loop through one of its own values names it and
        the key path of every value in the loop.
    replaced : set of str
        Names of the strategy's own values that replace a shared value (a self-reference among
        them says that the shared value cannot be used).

    Returns
    -------
    dict of str to Expression
        Each name after the names it uses.

    Examples
    --------
    >>> from costspine.expressions import parse_expression
    >>> c = Collector(default_file="toy.toml")
    >>> list(order_definitions(c, "values", {"b": parse_expression("a + 1"), "a": parse_expression("2")}))
    ['a', 'b']
    >>> _ = order_definitions(c, "values", {"a": parse_expression("b"), "b": parse_expression("a")})
    >>> str(c.problems[0])
    'toy.toml: values.a: circular definition: a -> b -> a'
    """
    where = keypath if callable(keypath) else (lambda name: f"{keypath}.{name}")
    ordered, visiting = {}, set()

    def describe_loop(trail: list) -> str:
        paths = [where(n) for n in trail]
        if strategy is None or all(p.startswith(f"{SHARED}.") for p in paths):
            return "circular definition: " + " -> ".join(trail)
        return f"circular definition in strategy {strategy}: " + " -> ".join(paths)

    # A depth-first walk with an explicit stack (post-order), so a chain of any length (990
    # derived parameters each using the next) is ordered without Python's recursion limit.
    for root in exprs:
        if root in ordered:
            continue
        visiting.add(root)
        trail, stack = [root], [(root, iter(sorted(exprs[root].names)))]
        while stack:
            name, deps = stack[-1]
            for dep in deps:
                if dep == name:
                    c.add(
                        where(name),
                        "refers to itself"
                        + (
                            " (a strategy's own value replaces the shared value of the same name; it cannot use it)"
                            if name in replaced
                            else ""
                        ),
                    )
                elif dep in exprs and dep not in ordered:
                    if dep in visiting:
                        start = trail.index(dep)
                        c.add(where(trail[start]), describe_loop(trail[start:] + [dep]))
                        continue
                    visiting.add(dep)
                    trail.append(dep)
                    stack.append((dep, iter(sorted(exprs[dep].names))))
                    break
            else:
                stack.pop()
                trail.pop()
                visiting.discard(name)
                ordered[name] = exprs[name]
    return ordered


def resolve_strategy_values(
    c: Collector, shared: dict, own: dict, *, strategies: tuple, parameters: set, names: set, tables: set
) -> dict:
    """Each strategy's values: the shared ones and its own (its own win), checked and in dependency order.

    Parameters
    ----------
    c : Collector
    shared : dict of str to Expression
        The top-level ``[values]``.
    own : dict of str to dict of str to Expression
        Strategy -> its ``[strategies.X.values]``.
    strategies : tuple of str
    parameters : set of str
        Parameter names: a value may not shadow one.
    names : set of str
        Every other name an expression may use (parameters, time names, population attributes
        and history counters).
    tables : set of str
        Look-up table names (callable).

    Returns
    -------
    dict of str to dict of str to Expression
        Strategy -> every value it evaluates, each after the values it uses.

    Notes
    -----
    Problems: a value named like a parameter; a name unknown in every strategy (said once at
    ``values.<name>``) or only in some (naming them: define it there or in ``[values]``); a loop,
    at the key path of each value in it.
    """
    for name in sorted(set(shared) & parameters):
        c.add(f"{SHARED}.{name}", "shadows a parameter of the same name; rename one of them")
    resolved = {}
    for s in strategies:
        local = own.get(s, {})
        for name in sorted(set(local) & parameters):
            c.add(f"strategies.{s}.values.{name}", "shadows a parameter of the same name; rename one of them")
        values = {**shared, **local}
        allowed = names | set(values)
        for name, expr in local.items():
            _check_names(c, f"strategies.{s}.values.{name}", expr, allowed, tables)
        resolved[s] = order_definitions(
            c,
            lambda n, s=s, local=local: value_keypath(s, n, local),
            values,
            strategy=s,
            replaced=frozenset(local) & frozenset(shared),
        )
    _check_shared_names(c, shared, own, strategies=strategies, names=names, tables=tables)
    return resolved


def _check_shared_names(c: Collector, shared: dict, own: dict, *, strategies: tuple, names: set, tables: set) -> None:
    """Every name a shared value uses must exist in each strategy that evaluates it (those that do
    not replace it with their own): unknown everywhere is said once, unknown in some names them."""
    for name, expr in shared.items():
        users = [s for s in strategies if name not in own.get(s, {})]
        known = names | set(shared) | {v for s in (users or strategies) for v in own.get(s, {})}
        _check_names(c, f"{SHARED}.{name}", expr, known, tables)
        for dep in sorted(expr.names & known - names - set(shared)) if users else ():
            lacking = [s for s in users if dep not in own.get(s, {})]
            if lacking:
                having = [s for s in users if dep in own.get(s, {})]
                c.add(
                    f"{SHARED}.{name}",
                    f"unknown name {dep!r} in {expr.text!r} for strateg{'y' if len(lacking) == 1 else 'ies'} "
                    f"{', '.join(lacking)}: only {', '.join(having)} "
                    f"define{'s' if len(having) == 1 else ''} a value {dep!r} — define it in "
                    f"[strategies.{lacking[0]}.values] or in [values]",
                )
