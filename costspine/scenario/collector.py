"""Scenario-specific checks on top of the one problem collector (:class:`costspine.problems.Collector`):
names that must be identifiers, unknown names with a did-you-mean hint, names in expressions.
"""

from __future__ import annotations

import difflib
import keyword
import unicodedata

from costspine.expressions import FUNCTIONS, RESERVED_NAMES, Expression
from costspine.problems import Collector

__all__ = ["Collector"]


def _is_name(text) -> bool:
    """Whether ``text`` can name a parameter, value, table, state, strategy or reward in expressions.

    An identifier that is not a Python keyword (``lambda``, ``if``, ``None``, ``True``: expressions
    naming it would not parse), not a time variable or ``rest``, and not a function name. Soft
    keywords (``match``, ``case``, ``_``) parse as names in expressions and are accepted.
    """
    return (
        isinstance(text, str)
        and text.isascii()  # Python folds non-ASCII names with NFKC ('ﬁx' is 'fix'): ASCII only
        and text.isidentifier()
        and not keyword.iskeyword(text)
        and text not in RESERVED_NAMES
        and text not in FUNCTIONS
    )


def _name_message(text, rule: str) -> str:
    """Why ``text`` cannot be a name: ``rule``, or for a Python keyword, what goes wrong and a fix.

    >>> _name_message("lambda", "parameter names must be identifiers")
    "'lambda' is a Python keyword: every expression that used it would fail with 'invalid syntax' — rename it, e.g. 'lambda_'"
    """
    if isinstance(text, str) and text.isidentifier() and not text.isascii():
        return (
            f"{text!r} is not ASCII: names must be ASCII letters, digits and underscores (Python would read "
            f"it as {unicodedata.normalize('NFKC', text)!r}, so look-alike names could collide) — retype it"
        )
    if isinstance(text, str) and keyword.iskeyword(text):
        return (
            f"{text!r} is a Python keyword: every expression that used it would fail with 'invalid syntax' — "
            f"rename it, e.g. {text + '_'!r}"
        )
    return rule


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
