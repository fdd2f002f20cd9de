"""The one problem collector: every check of every section adds its problem here, with the file
the key came from, what was expected and what was found.
"""

from __future__ import annotations

import difflib
import keyword
import math

import numpy as np

from costspine.errors import Problem
from costspine.errors import describe_value as _describe
from costspine.expressions import (
    FUNCTIONS,
    RESERVED_NAMES,
    Expression,
    ExpressionError,
    parse_expression,
)


class _Collector:
    """Accumulates problems with the file each key came from."""

    def __init__(self, origin: dict, default_file: str):
        self.origin = origin
        self.default_file = default_file
        self.problems: list[Problem] = []

    def add(self, keypath: str, message: str) -> None:
        parts = keypath.split(".")
        file = self.origin.get(".".join(parts[:2])) or self.origin.get(parts[0]) or self.default_file
        problem = Problem(f"{file}: {keypath}", message)
        if problem not in self.problems:  # shared rows are checked once per strategy: say it once
            self.problems.append(problem)

    def unknown_keys(self, keypath: str, table: dict, allowed: set) -> None:
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                extra = f" — did you mean {hint[0]!r}?" if hint else f"; allowed keys: {', '.join(sorted(allowed))}"
                self.add(f"{keypath}.{key}" if keypath else str(key), f"unknown key{extra}")

    def table(self, keypath: str, value, *, required=True) -> dict:
        if value is None:
            if required:
                self.add(keypath, "missing; expected a table")
            return {}
        if not isinstance(value, dict):
            self.add(keypath, f"expected a table, got {_describe(value)}")
            return {}
        return value

    def number(self, keypath: str, value, *, low=None, high=None, integer=False, hint="") -> float | None:
        if isinstance(value, str):
            try:
                expr = parse_expression(value)
                if expr.names or expr.calls - set(FUNCTIONS):
                    self.add(keypath, f"expected a number (or an expression over numbers only); got {value!r}")
                    return None
                value = float(np.asarray(expr.evaluate({})))
            except ExpressionError as exc:
                self.add(keypath, str(exc))
                return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(keypath, f"expected a number, got {_describe(value)}")
            return None
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an integer too large for a float
            self.add(keypath, f"expected a finite number, got an integer of {len(str(abs(value)))} digits")
            return None
        if not finite:
            self.add(keypath, f"expected a finite number, got {value}")
            return None
        if integer and float(value) != int(value):
            self.add(keypath, f"expected a whole number, got {value}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
            self.add(keypath, f"must be in {bounds}; got {value}{hint}")
            return None
        return int(value) if integer else float(value)

    def text(self, keypath: str, value, *, required=True, choices=None) -> str | None:
        if value is None:
            if required:
                self.add(keypath, "missing; expected a text value")
            return None
        if not isinstance(value, str):
            self.add(keypath, f"expected text, got {_describe(value)}")
            return None
        if choices is not None and value not in choices:
            hint = difflib.get_close_matches(value, choices, n=1)
            extra = f" — did you mean {hint[0]!r}?" if hint else ""
            self.add(keypath, f"expected one of {', '.join(map(repr, choices))}; got {value!r}{extra}")
            return None
        return value

    def expression(self, keypath: str, value) -> Expression | None:
        try:
            return parse_expression(value)
        except ExpressionError as exc:
            found = repr(value if not isinstance(value, str) or len(value) <= 80 else value[:77] + "...")
            self.add(keypath, str(exc) if isinstance(value, str) and found in str(exc) else f"{exc}; got {found}")
            return None

def _is_name(text) -> bool:
    """Whether ``text`` can name a parameter, value, table, state, strategy or reward in expressions.

    An identifier that is not a Python keyword (``lambda``, ``if``, ``None``, ``True``: expressions
    naming it would not parse), not a time variable or ``rest``, and not a function name. Soft
    keywords (``match``, ``case``, ``_``) parse as names in expressions and are accepted.
    """
    return (isinstance(text, str) and text.isidentifier() and not keyword.iskeyword(text)
            and text not in RESERVED_NAMES and text not in FUNCTIONS)


def _name_message(text, rule: str) -> str:
    """Why ``text`` cannot be a name: ``rule``, or for a Python keyword, what goes wrong and a fix.

    >>> _name_message("lambda", "parameter names must be identifiers")
    "'lambda' is a Python keyword: every expression that used it would fail with 'invalid syntax' — rename it, e.g. 'lambda_'"
    """
    if isinstance(text, str) and keyword.iskeyword(text):
        return (f"{text!r} is a Python keyword: every expression that used it would fail with 'invalid syntax' — "
                f"rename it, e.g. {text + '_'!r}")
    return rule

def _unknown(c: _Collector, keypath: str, name, known, what: str) -> None:
    hint = difflib.get_close_matches(str(name), list(known), n=1)
    plural = what[:-1] + "ies" if what.endswith("y") else what + "s"
    extra = f" — did you mean {hint[0]!r}?" if hint else f"; known {plural}: {', '.join(known) or 'none'}"
    c.add(keypath, f"unknown {what} {name!r}{extra}")

def _check_names(c: _Collector, keypath: str, expr: Expression | str, names: set, tables: set) -> None:
    if not isinstance(expr, Expression):
        return
    for name in sorted(expr.names - names):
        hint = difflib.get_close_matches(name, sorted(names), n=1)
        extra = f" — did you mean {hint[0]!r}?" if hint else " (not a parameter, strategy value or time variable)"
        c.add(keypath, f"unknown name {name!r} in {expr.text!r}{extra}")
    for call in sorted(expr.calls - set(FUNCTIONS) - tables):
        c.add(keypath, f"unknown function or table {call!r} in {expr.text!r}; functions: {', '.join(sorted(FUNCTIONS))}")
