"""Unit tests for costspine.expressions: the safe, vectorised evaluator of scenario expressions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from costspine.expressions import (
    FUNCTIONS,
    MAX_EXPRESSION_LENGTH,
    NUMPY,
    Backend,
    ExpressionError,
    parse_expression,
    prob_to_prob,
    prob_to_rate,
    rate_to_prob,
)


def evaluate(text, **names):
    return parse_expression(text).evaluate(names)


# ------------------------------------------------------------------------------------------------
# Parsing: what is accepted and what it reads


def test_numbers_are_constant_expressions():
    assert parse_expression(3).evaluate({}) == 3.0
    assert parse_expression(0.25).evaluate({}) == 0.25
    assert parse_expression(-2).evaluate({}) == -2.0
    assert parse_expression("3").names == frozenset()


def test_names_and_calls_are_collected():
    expr = parse_expression("p_AB * where(cycle <= 2, rr, 1) + qx(age)")
    assert expr.names == {"p_AB", "cycle", "rr", "age"}
    assert expr.calls == {"where", "qx"}
    assert expr.is_time_dependent
    assert not parse_expression("p_AB * rr").is_time_dependent
    assert parse_expression("cycle_years").is_time_dependent
    assert parse_expression("time_years").is_time_dependent


def test_text_is_kept_as_written():
    assert parse_expression("a  +  b").text == "a  +  b"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("__import__('os').system('true')", "plain function names"),  # call of an attribute
        ("__import__('os')", "only numbers are allowed"),  # a string constant
        ("os.path", "Attribute is not allowed"),
        ("p.real", "Attribute is not allowed"),
        ("x[0]", "Subscript is not allowed"),
        ("[1, 2]", "List is not allowed"),
        ("{'a': 1}", "Dict is not allowed"),
        ("(1, 2)", "Tuple is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("[x for x in y]", "ListComp is not allowed"),
        ("f'{x}'", "is not allowed"),
        ("'text'", "only numbers are allowed"),
        ("True", "only numbers are allowed"),
        ("None", "only numbers are allowed"),
        ("a @ b", "MatMult is not allowed"),
        ("a // b", "FloorDiv is not allowed"),
        ("a << 1", "LShift is not allowed"),
        ("a & b", "BitAnd is not allowed"),
        ("~a", "Invert is not allowed"),
        ("a is b", "Is is not allowed"),
        ("a in b", "In is not allowed"),
        ("exp(x=1)", "positional arguments only"),
        ("exp(*x)", "starred arguments are not allowed"),
        ("exp(1, 2)", "takes 1 argument"),
        ("where(a, b)", "takes 3 argument"),
        ("min(1)", "at least 2 arguments"),
        ("max()", "at least 2 arguments"),
        ("qx(1, 2)", "table qx() takes 1 argument"),
        ("1e999", "finite number"),
        ("1" + "0" * 400, "finite number"),
        ("rest + 1", "'rest'"),
        ("a +", "cannot parse"),
        ("a := 1", "cannot parse"),
        ("1; 2", "cannot parse"),
        ("\x00", "cannot parse"),
        ("", "empty"),
        ("   ", "empty"),
        ("-(" * 70 + "1" + ")" * 70, "nested too deeply"),
        ("x" * (MAX_EXPRESSION_LENGTH + 1), "limit"),
    ],
)
def test_disallowed_text_raises_expression_error(text, fragment):
    with pytest.raises(ExpressionError, match=None) as info:
        parse_expression(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "value, fragment",
    [
        (True, "boolean"),
        (None, "NoneType"),
        ([1], "list"),
        ({"a": 1}, "dict"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (10**400, "finite"),
    ],
)
def test_non_text_non_number_values_raise_expression_error(value, fragment):
    with pytest.raises(ExpressionError) as info:
        parse_expression(value)
    assert fragment in str(info.value)


def test_expression_error_is_a_value_error():
    # The loader catches it and adds the key path; callers outside may rely on ValueError.
    assert issubclass(ExpressionError, ValueError)


def test_nothing_is_executed(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(ExpressionError):
        parse_expression(f"__import__('pathlib').Path({str(marker)!r}).touch()")
    assert not marker.exists()


# ------------------------------------------------------------------------------------------------
# Evaluation


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("2 ** 3 ** 2", 512.0),
        ("-2 ** 2", -4.0),
        ("7 % 3", 1.0),
        ("7 / 2", 3.5),
        ("+3", 3.0),
        ("1 if 0 else 2", 2.0),
        ("1 if 3 > 2 else 2", 1.0),
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ("2 == 2", True),
        ("2 != 2", False),
        ("1 >= 1", True),
        ("not 0", True),
        ("1 and 0", False),
        ("0 or 1", True),
        ("exp(0)", 1.0),
        ("log(exp(2))", 2.0),
        ("sqrt(16)", 4.0),
        ("abs(-3)", 3.0),
        ("floor(2.7)", 2.0),
        ("ceil(2.1)", 3.0),
        ("min(3, 1, 2)", 1.0),
        ("max(3, 1, 2)", 3.0),
        ("clip(5, 0, 1)", 1.0),
        ("clip(-5, 0, 1)", 0.0),
        ("where(1 > 0, 10, 20)", 10.0),
    ],
)
def test_scalar_arithmetic(text, expected):
    assert evaluate(text) == pytest.approx(expected, rel=1e-15)


def test_division_by_zero_is_infinite_not_an_exception():
    # Constants follow numpy semantics like arrays do: a Python ZeroDivisionError would escape the loader.
    assert evaluate("1 / 0") == math.inf
    assert math.isnan(evaluate("0 / 0"))
    np.testing.assert_array_equal(evaluate("1 / x", x=np.array([0.0, 2.0])), [np.inf, 0.5])


def test_names_broadcast_over_draws_and_cycles():
    draws = np.array([[1.0], [2.0], [3.0]])  # (draw, 1)
    cycle = np.arange(1.0, 5.0)[None, :]  # (1, cycle)
    out = evaluate("p * where(cycle <= 2, 0.5, 1)", p=draws, cycle=cycle)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, [[0.5, 0.5, 1, 1], [1, 1, 2, 2], [1.5, 1.5, 3, 3]])


def test_logic_is_elementwise_on_arrays():
    a = np.array([0.0, 1.0, 1.0, 0.0])
    b = np.array([0.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(evaluate("a and b", a=a, b=b), [False, False, True, False])
    np.testing.assert_array_equal(evaluate("a or b", a=a, b=b), [False, True, True, True])
    np.testing.assert_array_equal(evaluate("not a", a=a), [True, False, False, True])
    np.testing.assert_array_equal(evaluate("10 if a else 20", a=a), [20, 10, 10, 20])
    np.testing.assert_array_equal(evaluate("0 < a + b < 2", a=a, b=b), [False, True, False, True])


def test_unknown_name_or_function_at_evaluation():
    with pytest.raises(ExpressionError, match="unknown name 'y'"):
        evaluate("y + 1")
    with pytest.raises(ExpressionError, match="unknown function or table 'qx'"):
        evaluate("qx(1)")


def test_tables_are_called_like_functions():
    expr = parse_expression("qx(40 + t)")
    out = expr.evaluate({"t": np.array([0.0, 5.0])}, tables={"qx": lambda age: age / 100})
    np.testing.assert_allclose(out, [0.4, 0.45])


def test_evaluation_does_not_mutate_the_namespace():
    p = np.array([[0.1], [0.2]])
    space = {"p": p}
    before = p.copy()
    evaluate_out = parse_expression("-p").evaluate(space)
    evaluate_out *= 7  # even writing to the result must not reach the input
    np.testing.assert_array_equal(p, before)
    assert list(space) == ["p"]


def test_a_backend_swaps_the_array_library():
    calls = []

    def traced_exp(x):
        calls.append(x)
        return np.exp(x)

    backend = Backend(**{**NUMPY.__dict__, "functions": {**NUMPY.functions, "exp": traced_exp}})
    assert parse_expression("exp(1) + 1").evaluate({}, backend=backend) == pytest.approx(math.e + 1)
    assert calls == [1.0]


def test_every_documented_function_exists():
    documented = "exp log sqrt abs min max floor ceil clip where rate_to_prob prob_to_rate prob_to_prob".split()
    assert set(documented) == set(FUNCTIONS)


# ------------------------------------------------------------------------------------------------
# Rate and probability conversions (docs/scenario-format.md formulas)


def test_conversion_formulas():
    assert rate_to_prob(0.1, 2) == pytest.approx(1 - math.exp(-0.2), rel=1e-15)
    assert prob_to_rate(0.3, 2) == pytest.approx(-math.log(0.7) / 2, rel=1e-15)
    assert prob_to_prob(0.19, 1, 0.5) == pytest.approx(0.1, rel=1e-12)  # 1 - 0.81 ** 0.5
    assert evaluate("prob_to_prob(0.5, 1, 2)") == pytest.approx(0.75, rel=1e-15)


@given(p=st.floats(0.0, 0.999), t=st.floats(0.01, 50.0), s=st.floats(0.01, 50.0))
def test_conversions_are_consistent(p, t, s):
    # rate_to_prob inverts prob_to_rate, and rescaling goes through the constant rate.
    assert rate_to_prob(prob_to_rate(p, t), t) == pytest.approx(p, abs=1e-12)
    assert prob_to_prob(p, t, s) == pytest.approx(rate_to_prob(prob_to_rate(p, t), s), abs=1e-12)
    there = prob_to_prob(p, t, s)
    assume(there < 1 - 1e-6)  # beyond that the probability has rounded to 1 and the rate is lost
    assert prob_to_prob(there, s, t) == pytest.approx(p, abs=1e-6)


def test_conversions_are_vectorised():
    p = np.array([[0.1], [0.2]])
    out = evaluate("prob_to_prob(p, 1, cycle_years)", p=p, cycle_years=1 / 12)
    np.testing.assert_allclose(out, 1 - (1 - p) ** (1 / 12))
