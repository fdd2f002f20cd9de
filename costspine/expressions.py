"""Safe, vectorised evaluation of the expressions written in scenario files.

Scenario files are data, never code. An expression such as ``"p_AB * where(cycle <= 2, rr, 1)"``
is parsed with :mod:`ast` and only a whitelist of node types is accepted: numbers, names,
arithmetic, comparisons, ``and``/``or``/``not``, ``a if c else b`` and calls of whitelisted
functions. Nothing is ever passed to ``eval``.

Names evaluate to numpy arrays that broadcast: parameters are shaped ``(draw, 1)`` and the time
variables ``(1, cycle)``, so one evaluation covers every PSA draw and cycle at once.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

MAX_EXPRESSION_LENGTH = 2000
TIME_NAMES = frozenset({"cycle", "time_years", "cycle_years"})
RESERVED_NAMES = frozenset({"rest"}) | TIME_NAMES


class ExpressionError(ValueError):
    """An expression is malformed, uses something not allowed, or names something unknown.

    The scenario loader turns it into a :class:`~costspine.errors.Problem` with the key path.
    """


def rate_to_prob(rate, time):
    """Probability of at least one event in ``time`` at constant ``rate``: ``1 - exp(-rate·time)``."""
    return 1.0 - np.exp(-np.asarray(rate, dtype=float) * time)


def prob_to_rate(prob, time):
    """Constant rate giving probability ``prob`` over ``time``: ``-ln(1 - prob) / time``."""
    return -np.log1p(-np.asarray(prob, dtype=float)) / time


def prob_to_prob(prob, from_time, to_time):
    """Rescale a probability over ``from_time`` to one over ``to_time`` (constant hazard)."""
    return 1.0 - np.power(1.0 - np.asarray(prob, dtype=float), np.divide(to_time, from_time))


def _variadic(reduce: Callable) -> Callable:
    def apply(*args):
        if len(args) < 2:
            raise ExpressionError(f"{reduce.__name__}() needs at least two arguments")
        out = np.asarray(args[0], dtype=float)
        for arg in args[1:]:
            out = reduce(out, arg)
        return out

    return apply


FUNCTIONS: dict[str, tuple[Callable, int | None]] = {
    # name: (function, number of arguments or None for variadic)
    "exp": (np.exp, 1),
    "log": (np.log, 1),
    "sqrt": (np.sqrt, 1),
    "abs": (np.abs, 1),
    "floor": (np.floor, 1),
    "ceil": (np.ceil, 1),
    "min": (_variadic(np.minimum), None),
    "max": (_variadic(np.maximum), None),
    "clip": (np.clip, 3),
    "where": (lambda c, a, b: np.where(c, a, b), 3),
    "rate_to_prob": (rate_to_prob, 2),
    "prob_to_rate": (prob_to_rate, 2),
    "prob_to_prob": (prob_to_prob, 3),
}

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: np.power,
    ast.Mod: np.mod,
}
_COMPARE = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression.

    Attributes
    ----------
    text : str
        The expression as written.
    names : frozenset of str
        Every variable name it reads (parameters, strategy values, time variables).
    calls : frozenset of str
        Every function or table it calls.
    """

    text: str
    tree: ast.Expression
    names: frozenset
    calls: frozenset

    @property
    def is_time_dependent(self) -> bool:
        return bool(self.names & TIME_NAMES)

    def evaluate(
        self, namespace: Mapping[str, object], *, tables: Mapping[str, Callable] | None = None, backend: Backend | None = None
    ):
        """Evaluate over arrays; names missing from ``namespace`` raise ExpressionError.

        ``backend`` swaps the array library (numpy by default); the Bayesian layer passes a
        PyTensor backend so the same expressions build a differentiable graph.
        """
        with np.errstate(all="ignore"):
            return _Evaluator(namespace, tables or {}, backend or NUMPY).visit(self.tree.body)


def parse_expression(text: str | int | float) -> Expression:
    """Parse and check an expression; numbers are accepted as constant expressions.

    Raises
    ------
    ExpressionError
        On syntax errors, disallowed constructs, unknown functions or wrong argument counts.
    """
    if isinstance(text, bool):
        raise ExpressionError(f"expected a number or an expression string, got the boolean {text}")
    if isinstance(text, (int, float)):
        if not _is_finite(text):
            raise ExpressionError(f"expected a finite number, got {_short(text)}")
        text = repr(float(text)) if isinstance(text, float) else str(text)
    if not isinstance(text, str):
        raise ExpressionError(f"expected a number or an expression string, got {type(text).__name__}")
    return _parse_text(text)


@functools.lru_cache(maxsize=32768)
def _parse_text(text: str) -> Expression:
    """:func:`parse_expression` of a string, memoised: scenarios repeat the same expressions (every
    strategy, every file that ``extends`` another, every PSA chunk), and an :class:`Expression` is
    immutable, so one parse serves them all. Errors are raised again each time (not cached)."""
    if not text.strip():
        raise ExpressionError("expected an expression, got an empty string")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_LENGTH}")
    if not text.isascii():
        # Python folds identifiers with NFKC ('ﬁx' parses as 'fix', full-width 'ＡＢ' as 'AB'): a name
        # would silently mean another one, so expressions (and names) are ASCII only
        char = next(ch for ch in text if not ch.isascii())
        raise ExpressionError(
            f"non-ASCII character {char!r} (U+{ord(char):04X}) at position {text.index(char)} of {text!r}: "
            "expressions and names must be ASCII (letters a-z, A-Z, digits, underscore); retype it"
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {text!r}: {exc.msg}") from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise ExpressionError(f"cannot parse {text!r}: {exc}") from None
    names: set[str] = set()
    calls: set[str] = set()
    _check(tree.body, names, calls, depth=0)
    return Expression(text=text, tree=tree, names=frozenset(names), calls=frozenset(calls))


def _is_finite(number) -> bool:
    """Finite and representable as a float (a huge integer is not)."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _short(number) -> str:
    text = repr(number)
    return text if len(text) <= 40 else f"{text[:12]}... ({len(text)} digits)"


def _check(node: ast.AST, names: set, calls: set, *, depth: int) -> None:
    if depth > 60:
        raise ExpressionError("expression is nested too deeply")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"only numbers are allowed as constants, got {node.value!r}")
        if not _is_finite(node.value):
            raise ExpressionError(f"expected a finite number, got {_short(node.value)}")
        return
    if isinstance(node, ast.Name):
        if node.id == "rest":
            raise ExpressionError("'rest' means 'one minus the rest of the row' and must stand alone")
        names.add(node.id)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.left, names, calls, depth=depth + 1)
        _check(node.right, names, calls, depth=depth + 1)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.operand, names, calls, depth=depth + 1)
        return
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names, calls, depth=depth + 1)
        return
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise ExpressionError(f"comparison {type(op).__name__} is not allowed")
        _check(node.left, names, calls, depth=depth + 1)
        for comparator in node.comparators:
            _check(comparator, names, calls, depth=depth + 1)
        return
    if isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check(part, names, calls, depth=depth + 1)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only plain function names can be called, e.g. exp(x)")
        if node.keywords:
            raise ExpressionError(f"{node.func.id}() takes positional arguments only")
        name = node.func.id
        if name in FUNCTIONS:
            arity = FUNCTIONS[name][1]
            if arity is not None and len(node.args) != arity:
                raise ExpressionError(f"{name}() takes {arity} argument(s), got {len(node.args)}")
            if arity is None and len(node.args) < 2:
                raise ExpressionError(f"{name}() takes at least 2 arguments, got {len(node.args)}")
        elif len(node.args) != 1:
            raise ExpressionError(f"table {name}() takes 1 argument, got {len(node.args)}")
        calls.add(name)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise ExpressionError("starred arguments are not allowed")
            _check(arg, names, calls, depth=depth + 1)
        return
    raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")


@dataclass(frozen=True)
class Backend:
    """The array operations an expression may use: numpy by default, PyTensor for calibration."""

    functions: Mapping[str, Callable]
    compare: Mapping[type, Callable]
    logical_and: Callable
    logical_or: Callable
    logical_not: Callable
    where: Callable
    power: Callable
    mod: Callable


NUMPY = Backend(
    functions={name: fn for name, (fn, _) in FUNCTIONS.items()},
    compare=_COMPARE,
    logical_and=np.logical_and,
    logical_or=np.logical_or,
    logical_not=np.logical_not,
    where=np.where,
    power=np.power,
    mod=np.mod,
)


class _Evaluator:
    def __init__(self, namespace: Mapping[str, object], tables: Mapping[str, Callable], backend: Backend):
        self.namespace = namespace
        self.tables = tables
        self.backend = backend

    def visit(self, node):
        b = self.backend
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            try:
                return self.namespace[node.id]
            except KeyError:
                raise ExpressionError(f"unknown name {node.id!r}") from None
        if isinstance(node, ast.BinOp):
            left, right = self.visit(node.left), self.visit(node.right)
            if isinstance(left, float) and isinstance(right, float):
                left = np.float64(left)  # plain floats raise on 1/0; numpy gives inf like the arrays do
            if isinstance(node.op, ast.Pow):
                return b.power(left, right)
            if isinstance(node.op, ast.Mod):
                return b.mod(left, right)
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            value = self.visit(node.operand)
            if isinstance(node.op, ast.USub):
                return -value if not isinstance(value, (int, float)) else -float(value)
            if isinstance(node.op, ast.UAdd):
                return value
            return b.logical_not(value)
        if isinstance(node, ast.BoolOp):
            combine = b.logical_and if isinstance(node.op, ast.And) else b.logical_or
            out = self.visit(node.values[0])
            for value in node.values[1:]:
                out = combine(out, self.visit(value))
            return out
        if isinstance(node, ast.Compare):
            left = self.visit(node.left)
            out = None
            for op, comparator in zip(node.ops, node.comparators):
                right = self.visit(comparator)
                part = b.compare[type(op)](left, right)
                out = part if out is None else b.logical_and(out, part)
                left = right
            return out
        if isinstance(node, ast.IfExp):
            return b.where(self.visit(node.test), self.visit(node.body), self.visit(node.orelse))
        if isinstance(node, ast.Call):
            name = node.func.id
            args = [self.visit(arg) for arg in node.args]
            if name in b.functions:
                return b.functions[name](*args)
            if name in self.tables:
                return self.tables[name](*args)
            raise ExpressionError(f"unknown function or table {name!r}; functions are {', '.join(sorted(FUNCTIONS))}")
        raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")  # pragma: no cover
