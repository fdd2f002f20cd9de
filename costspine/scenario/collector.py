"""Scenario-specific checks on top of the one problem collector (:class:`costspine.problems.Collector`):
names that must be identifiers, unknown names with a did-you-mean hint, names in expressions.
"""

from __future__ import annotations

import difflib

from costspine.expressions import FUNCTIONS, RESERVED_NAMES, Expression
from costspine.problems import Collector

__all__ = ["Collector"]


def _is_name(text) -> bool:
    return isinstance(text, str) and text.isidentifier() and text not in RESERVED_NAMES and text not in FUNCTIONS

def _unknown(c: Collector, keypath: str, name, known, what: str) -> None:
    c.unknown_name(keypath, name, known, what)

def _check_names(c: Collector, keypath: str, expr: Expression | str, names: set, tables: set) -> None:
    if not isinstance(expr, Expression):
        return
    for name in sorted(expr.names - names):
        hint = difflib.get_close_matches(name, sorted(names), n=1)
        extra = f" — did you mean {hint[0]!r}?" if hint else " (not a parameter, strategy value or time variable)"
        c.add(keypath, f"unknown name {name!r} in {expr.text!r}{extra}")
    for call in sorted(expr.calls - set(FUNCTIONS) - tables):
        c.add(keypath, f"unknown function or table {call!r} in {expr.text!r}; functions: {', '.join(sorted(FUNCTIONS))}")
