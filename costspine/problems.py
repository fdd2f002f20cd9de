"""The one problem collector: every reader of every file adds its problems here.

A :class:`Collector` knows which file each key came from (the ``origin`` map of an ``extends``
chain, or one file), so every problem names the file that declares the key, the key path, what
was expected and what was found, with a did-you-mean hint where one helps. Readers add problems
and carry on; the caller raises them all at once with :meth:`Collector.raise_if_any`.
"""

from __future__ import annotations

import difflib
import math
import re

import numpy as np

from costspine.errors import Problem, ScenarioError, describe_value as _describe
from costspine.expressions import (
    FUNCTIONS,
    Expression,
    ExpressionError,
    parse_expression,
)


def did_you_mean(name, known, *, always: bool = False) -> str:
    """The hint that follows an unknown name: `` — did you mean 'x'?``, else (with ``always``) the choices.

    Examples
    --------
    >>> did_you_mean("yeers", ["years", "members"])
    " — did you mean 'years'?"
    >>> did_you_mean("zzz", ["years", "members"], always=True)
    '; expected one of: members, years'
    """
    known = sorted(str(k) for k in known)
    match = difflib.get_close_matches(str(name), known, n=1)
    if match:
        return f" — did you mean {match[0]!r}?"
    return f"; expected one of: {', '.join(known)}" if always and known else ""


def declaring_file(origin: dict, keypath: str, *, default: str = "") -> str:
    """The file that declares ``keypath``: the longest of its first three parts found in ``origin``
    (``section.entry.key``, ``section.entry``, ``section``; indices such as ``[0]`` dropped), else ``default``.

    Examples
    --------
    >>> declaring_file({"costs": "child.toml", "costs.drug": "base.toml"}, "costs.drug.values.sick", default="x.toml")
    'base.toml'
    >>> declaring_file({}, "analysis.wtp[0]", default="x.toml")
    'x.toml'
    """
    parts = re.sub(r"\[\d+\]", "", keypath).split(".")
    for n in (3, 2, 1):
        if len(parts) >= n and ".".join(parts[:n]) in origin:
            return origin[".".join(parts[:n])]
    return default


def collector_at(where: str) -> tuple[Collector, str]:
    """A fresh collector and key path for problems under ``where`` (``"file: key.path"`` or a bare key path).

    Examples
    --------
    >>> c, keypath = collector_at("bia.toml: budget_impact")
    >>> c.add(keypath + ".years", "missing")
    >>> str(c.problems[0])
    'bia.toml: budget_impact.years: missing'
    """
    file, sep, keypath = where.partition(": ")
    return (Collector(default_file=file), keypath) if sep else (Collector(), where)


class Collector:
    """Accumulates the problems of one reading, each with the file its key came from.

    Parameters
    ----------
    origin : dict of str to str, optional
        Key path (``"section"`` or ``"section.key"``) -> the file that declares it, as built by
        the ``extends`` reader; keys not in it belong to ``default_file``.
    default_file : str
        The file of every other key ("" for key paths that need no file, e.g. a section checked
        on its own).

    Examples
    --------
    >>> c = Collector({"settings.n_cycles": "base.toml"}, "child.toml")
    >>> c.number("settings.n_cycles", 0, low=1)
    >>> c.unknown_keys("budget_impact", {"yeers": 5}, {"years", "members"})
    >>> [str(p) for p in c.problems]
    ['base.toml: settings.n_cycles: must be in [1, inf]; got 0', "child.toml: budget_impact.yeers: unknown key — did you mean 'years'?"]
    """

    def __init__(self, origin: dict | None = None, default_file: str = ""):
        self.origin = dict(origin or {})
        self.default_file = str(default_file)
        self.problems: list[Problem] = []
        self._seen: set[Problem] = set()  # the problems so far, to say each once without a quadratic search
        self.files: list[tuple[str, str]] = []  # (path, sha256) of every data file read (provenance)

    def record_file(self, path, sha256: str) -> None:
        """Note a data file this reading used (a table, a catalogue), for the provenance manifest."""
        entry = (str(path), sha256)
        if entry not in self.files:
            self.files.append(entry)

    def file_of(self, keypath: str) -> str:
        """The file that declares ``keypath`` (its ``section.key`` entry, else its section, else the default)."""
        return declaring_file(self.origin, keypath, default=self.default_file)

    def add(self, keypath: str, message: str) -> None:
        """Add a problem at ``keypath`` (named with its declaring file); the same problem is said once."""
        file = self.file_of(keypath)
        where = f"{file}: {keypath}" if file and keypath else (file or keypath)
        self.add_at(where, message)

    def add_at(self, where: str, message: str) -> None:
        """Add a problem at a place that is not a key path (``file:line`` of a CSV row, a file)."""
        problem = Problem(where, message)
        if len(self._seen) != len(self.problems):  # the list was changed from outside: index it again
            self._seen = set(self.problems)
        if problem not in self._seen:  # shared rows are checked once per strategy: say it once
            self.problems.append(problem)
            self._seen.add(problem)

    def extend(self, problems) -> None:
        """Add problems found by another reading (e.g. a policy file's own)."""
        for problem in problems:
            self.add_at(problem.where, problem.message)

    def raise_if_any(self) -> None:
        """Raise every problem so far as one :class:`~costspine.errors.ScenarioError`."""
        if self.problems:
            raise ScenarioError(self.problems)

    def unknown_keys(self, keypath: str, table: dict, allowed, *, listing: str = "allowed keys") -> None:
        """Add ``unknown key`` for each key of ``table`` not in ``allowed``: a did-you-mean hint, else
        ``; <listing>: <the allowed keys>``."""
        allowed = set(allowed)
        for key in table:
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                extra = hint or f"; {listing}: {', '.join(sorted(map(str, allowed)))}"
                self.add(f"{keypath}.{key}" if keypath else str(key), f"unknown key{extra}")

    def unknown_name(self, keypath: str, name, known, what: str) -> None:
        """Add ``unknown <what> 'name'`` with a did-you-mean hint or the known names."""
        hint = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
        plural = what[:-1] + "ies" if what.endswith("y") else what + "s"
        extra = f" — did you mean {hint[0]!r}?" if hint else f"; known {plural}: {', '.join(map(str, known)) or 'none'}"
        self.add(keypath, f"unknown {what} {name!r}{extra}")

    def table(self, keypath: str, value, *, required=True) -> dict:
        """``value`` if it is a table; else add a problem and return ``{}``."""
        if value is None:
            if required:
                self.add(keypath, "missing; expected a table")
            return {}
        if not isinstance(value, dict):
            self.add(keypath, f"expected a table, got {_describe(value)}")
            return {}
        return value

    def number(
        self,
        keypath: str,
        value,
        *,
        low=None,
        high=None,
        integer=False,
        hint="",
        exclusive_low=False,
        exclusive_high=False,
        expressions=True,
        compact=False,
    ) -> float | None:
        """``value`` as a finite number in range (an expression over numbers only is evaluated); else None.

        ``low``/``high`` bound the value (inclusive unless ``exclusive_low``/``exclusive_high``);
        ``hint`` follows the out-of-range message; ``compact`` writes bounds and value with ``:g``
        and the interval's brackets as open or closed.
        """
        if isinstance(value, str) and expressions:
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
        too_low = low is not None and (value <= low if exclusive_low else value < low)
        too_high = high is not None and (value >= high if exclusive_high else value > high)
        if too_low or too_high:
            if compact or exclusive_low or exclusive_high:
                left = "(" if (exclusive_low or low is None) else "["
                right = ")" if (exclusive_high or high is None) else "]"
                lo = "-inf" if low is None else f"{low:g}"
                hi = "inf" if high is None else f"{high:g}"
                self.add(keypath, f"must be in {left}{lo}, {hi}{right}; got {value:g}{hint}")
            else:
                bounds = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
                self.add(keypath, f"must be in {bounds}; got {value}{hint}")
            return None
        return int(value) if integer else float(value)

    def text(self, keypath: str, value, *, required=True, choices=None, missing="missing; expected a text value") -> str | None:
        """``value`` if it is text (one of ``choices`` when given, with a did-you-mean hint); else None."""
        if value is None:
            if required:
                self.add(keypath, missing)
            return None
        if not isinstance(value, str):
            self.add(keypath, f"expected text, got {_describe(value)}")
            return None
        if choices is not None and value not in choices:
            self.add(keypath, f"expected one of {', '.join(map(repr, choices))}; got {value!r}{did_you_mean(value, choices)}")
            return None
        return value

    def expression(self, keypath: str, value) -> Expression | None:
        """``value`` parsed as an expression; else add the parse error and return None."""
        try:
            return parse_expression(value)
        except ExpressionError as exc:
            found = repr(value if not isinstance(value, str) or len(value) <= 80 else value[:77] + "...")
            self.add(keypath, str(exc) if isinstance(value, str) and found in str(exc) else f"{exc}; got {found}")
            return None
