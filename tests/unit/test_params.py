"""Unit tests for costspine.params: parameterisations, base values, seeded draws, quantiles, copulas.

Reference moments come from closed forms and from scipy.stats (an independent implementation);
Monte Carlo tolerances are stated in standard errors of the estimate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import stats

from costspine.params import (
    Correlation,
    ParameterSpec,
    canonical_args,
    draw_parameters,
    quantile,
    rank_to_normal_correlation,
    sample_spec,
)

N = 200_000


def spec(name, family, **args):
    """A ParameterSpec built the way the loader builds it: through canonical_args."""
    canonical, mean, problem = canonical_args(family, args)
    assert problem is None, problem
    return ParameterSpec(name, family, "test", canonical, mean)


# scipy.stats equivalents of canonical arguments
def frozen(s: ParameterSpec):
    a = s.args
    if s.family == "normal":
        return stats.norm(a["mean"], a["sd"])
    if s.family == "lognormal":
        return stats.lognorm(s=a["sdlog"], scale=math.exp(a["meanlog"]))
    if s.family == "gamma":
        return stats.gamma(a["shape"], scale=a["scale"])
    if s.family == "beta":
        return stats.beta(a["alpha"], a["beta"])
    if s.family == "uniform":
        return stats.uniform(a["min"], a["max"] - a["min"])
    if s.family == "triangular":
        width = a["max"] - a["min"]
        return stats.triang((a["mode"] - a["min"]) / width, loc=a["min"], scale=width)
    raise ValueError(s.family)


UNIVARIATE = [
    spec("n", "normal", mean=10.0, sd=2.0),
    spec("ln", "lognormal", meanlog=0.1, sdlog=0.3),
    spec("ln_ms", "lognormal", mean=2.0, sd=0.5),
    spec("g", "gamma", shape=3.0, scale=2.0),
    spec("g_ms", "gamma", mean=1701.0, sd=1701.0),
    spec("b", "beta", alpha=2.0, beta=5.0),
    spec("b_ms", "beta", mean=0.3, sd=0.1),
    spec("u", "uniform", min=1.0, max=4.0),
    spec("t", "triangular", min=0.0, mode=1.0, max=3.0),
]


# ------------------------------------------------------------------------------------------------
# Parameterisations


def test_canonical_arguments_of_each_family():
    assert canonical_args("normal", {"mean": 1.0, "sd": 2.0})[:2] == ({"mean": 1.0, "sd": 2.0}, 1.0)
    assert canonical_args("gamma", {"shape": 3.0, "scale": 2.0})[:2] == ({"shape": 3.0, "scale": 2.0}, 6.0)
    assert canonical_args("gamma", {"mean": 6.0, "sd": 3.0})[:2] == ({"shape": 4.0, "scale": 1.5}, 6.0)
    assert canonical_args("beta", {"alpha": 2.0, "beta": 6.0})[:2] == ({"alpha": 2.0, "beta": 6.0}, 0.25)
    args, mean, _ = canonical_args("beta", {"mean": 0.25, "sd": 0.125})
    # mean (1-mean)/sd^2 - 1 = 0.1875/0.015625 - 1 = 11: alpha = 2.75, beta = 8.25
    assert args == pytest.approx({"alpha": 2.75, "beta": 8.25}, rel=1e-12) and mean == 0.25
    assert canonical_args("uniform", {"min": 1.0, "max": 4.0})[:2] == ({"min": 1.0, "max": 4.0}, 2.5)
    assert canonical_args("triangular", {"min": 0.0, "mode": 1.0, "max": 5.0})[1] == pytest.approx(2.0)
    args, mean, _ = canonical_args("lognormal", {"meanlog": 0.0, "sdlog": 1.0})
    assert args == {"meanlog": 0.0, "sdlog": 1.0} and mean == pytest.approx(math.exp(0.5), rel=1e-15)


@given(mean=st.floats(1e-3, 1e6), cv=st.floats(1e-3, 5.0))
def test_lognormal_and_gamma_by_mean_and_sd_have_that_mean_and_sd(mean, cv):
    sd = mean * cv
    for family in ("lognormal", "gamma"):
        args, base, problem = canonical_args(family, {"mean": mean, "sd": sd})
        assert problem is None
        dist = frozen(ParameterSpec("x", family, "", args, base))
        assert dist.mean() == pytest.approx(mean, rel=1e-9)
        assert dist.std() == pytest.approx(sd, rel=1e-9)
        assert base == pytest.approx(mean, rel=1e-12)


@given(mean=st.floats(0.01, 0.99), fraction=st.floats(0.01, 0.99))
def test_beta_by_mean_and_sd_has_that_mean_and_sd(mean, fraction):
    sd = fraction * math.sqrt(mean * (1 - mean))  # any sd with sd^2 < mean (1 - mean)
    args, base, problem = canonical_args("beta", {"mean": mean, "sd": sd})
    assert problem is None
    dist = frozen(ParameterSpec("x", "beta", "", args, base))
    assert dist.mean() == pytest.approx(mean, rel=1e-9)
    assert dist.std() == pytest.approx(sd, rel=1e-7)


@pytest.mark.parametrize(
    "family, given_args, fragment",
    [
        ("normal", {"mean": 1.0}, "missing sd"),
        ("normal", {"mean": 1.0, "sd": -1.0}, "sd must be >= 0"),
        ("lognormal", {"mean": 1.0}, "meanlog and sdlog, or mean and sd"),
        ("lognormal", {"mean": -1.0, "sd": 1.0}, "mean must be > 0"),
        ("lognormal", {"meanlog": 0.0, "sdlog": -1.0}, "sdlog must be >= 0"),
        ("gamma", {"mean": 1.0, "sd": 0.0}, "must be > 0"),
        ("gamma", {"shape": -1.0, "scale": 1.0}, "must be > 0"),
        ("gamma", {"shape": 1.0}, "mean and sd, or shape and scale"),
        ("beta", {"mean": 0.5, "sd": 0.5}, "sd² < mean·(1 − mean)"),
        ("beta", {"mean": 1.5, "sd": 0.1}, "0 < mean < 1"),
        ("beta", {"alpha": 0.0, "beta": 1.0}, "must be > 0"),
        ("uniform", {"min": 2.0, "max": 1.0}, "min < max"),
        ("uniform", {"min": 2.0}, "missing max"),
        ("triangular", {"min": 0.0, "mode": 5.0, "max": 3.0}, "min <= mode <= max"),
        ("weibull", {"shape": 1.0}, "unknown distribution"),
    ],
)
def test_invalid_arguments_are_reported_not_raised(family, given_args, fragment):
    args, mean, problem = canonical_args(family, given_args)
    assert args == {} and math.isnan(mean)
    assert fragment in problem
    assert "got" in problem or "missing" in problem or "needs" in problem or "unknown" in problem


@pytest.mark.parametrize(
    "family, given_args",
    [
        ("lognormal", {"meanlog": 1000.0, "sdlog": 1.0}),  # exp overflows
        ("lognormal", {"mean": 1e-200, "sd": 1e200}),  # sdlog = inf
        ("gamma", {"mean": 1.0, "sd": 1e-200}),  # (mean/sd)^2 overflows
        ("beta", {"mean": 0.5, "sd": 1e-200}),  # sd^2 underflows to 0
        ("uniform", {"min": 1e308, "max": 1.7e308}),  # midpoint overflows
    ],
)
def test_extreme_arguments_are_a_problem_not_a_crash(family, given_args):
    args, mean, problem = canonical_args(family, given_args)
    assert problem and "got" in problem
    assert args == {}


# ------------------------------------------------------------------------------------------------
# Draws


@pytest.mark.parametrize("s", UNIVARIATE, ids=lambda s: s.name)
def test_sample_mean_and_sd_match_the_distribution(s):
    draws = sample_spec(s, N, np.random.default_rng(7))[s.name]
    dist = frozen(s)
    mean, sd = dist.mean(), dist.std()
    kurtosis = float(dist.stats(moments="k"))
    assert draws.shape == (N,)
    assert abs(draws.mean() - mean) < 5 * sd / math.sqrt(N)  # 5 SE of the mean
    assert abs(draws.std() - sd) < 5 * sd * math.sqrt((kurtosis + 2) / (4 * N))  # 5 SE of the sd
    assert s.value == pytest.approx(mean, rel=1e-12)  # the base case is the distribution's mean


def test_dirichlet_components_sum_to_one_and_have_the_right_moments():
    alpha = np.array([2.0, 3.0, 5.0])
    s = ParameterSpec("row", "dirichlet", "test", {"alpha": tuple(alpha)}, components=("a", "b", "c"))
    draws = sample_spec(s, N, np.random.default_rng(3))
    assert set(draws) == {"a", "b", "c"}
    np.testing.assert_allclose(draws["a"] + draws["b"] + draws["c"], 1.0, atol=1e-12)
    a0 = alpha.sum()
    for name, a in zip("abc", alpha):
        mean, var = a / a0, a * (a0 - a) / (a0**2 * (a0 + 1))
        assert abs(draws[name].mean() - mean) < 5 * math.sqrt(var / N)
        assert draws[name].var() == pytest.approx(var, rel=0.03)
    assert s.base_values() == pytest.approx({"a": 0.2, "b": 0.3, "c": 0.5}, rel=1e-15)


def test_fixed_parameters_are_repeated_and_derived_or_posterior_skipped():
    fixed = ParameterSpec("f", "fixed", "test", {}, 2.5)
    derived = ParameterSpec("d", "derived", "test", expression=object())
    posterior = ParameterSpec("post", "posterior", "test", {"file": "x", "variable": "y"}, 1.0)
    draws = draw_parameters((fixed, derived, posterior), 5, np.random.default_rng(0))
    assert set(draws) == {"f"}
    np.testing.assert_array_equal(draws["f"], [2.5] * 5)


def test_same_seed_same_draws_and_different_seed_different_draws():
    first = draw_parameters(tuple(UNIVARIATE), 100, np.random.default_rng(42))
    again = draw_parameters(tuple(UNIVARIATE), 100, np.random.default_rng(42))
    other = draw_parameters(tuple(UNIVARIATE), 100, np.random.default_rng(43))
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
        assert not np.array_equal(first[name], other[name])


def test_adding_or_reordering_parameters_does_not_shift_other_draws():
    a, b = UNIVARIATE[0], UNIVARIATE[3]
    new = spec("new_one", "beta", alpha=1.0, beta=1.0)
    dirichlet = ParameterSpec("row", "dirichlet", "test", {"alpha": (1.0, 2.0)}, components=("x", "y"))
    base = draw_parameters((a, b), 50, np.random.default_rng(5))
    for specs in [(a, new, b), (new, b, a), (dirichlet, b, new, a)]:
        drawn = draw_parameters(specs, 50, np.random.default_rng(5))
        np.testing.assert_array_equal(drawn[a.name], base[a.name])
        np.testing.assert_array_equal(drawn[b.name], base[b.name])


def test_draws_leave_numpy_global_state_alone():
    state = np.random.get_state()
    draw_parameters(tuple(UNIVARIATE), 10, np.random.default_rng(1))
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_draws_come_from_the_generator_seed_not_from_global_state():
    np.random.seed(1)
    first = draw_parameters(tuple(UNIVARIATE), 10, np.random.default_rng(9))
    np.random.seed(2)
    second = draw_parameters(tuple(UNIVARIATE), 10, np.random.default_rng(9))
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


# ------------------------------------------------------------------------------------------------
# Quantiles


@pytest.mark.parametrize("s", UNIVARIATE, ids=lambda s: s.name)
def test_quantile_matches_scipy_ppf(s):
    q = np.array([1e-4, 0.025, 0.2, 0.5, 0.8, 0.975, 0.9999])
    np.testing.assert_allclose(quantile(s, q), frozen(s).ppf(q), rtol=1e-9, atol=1e-12)


def test_quantile_of_a_fixed_parameter_is_its_value():
    np.testing.assert_array_equal(quantile(ParameterSpec("f", "fixed", "", {}, 3.0), [0.1, 0.9]), [3.0, 3.0])


def test_quantile_of_a_dirichlet_is_refused():
    with pytest.raises(ValueError, match="no quantile"):
        quantile(ParameterSpec("row", "dirichlet", "", {"alpha": (1.0, 1.0)}, components=("a", "b")), [0.5])


# ------------------------------------------------------------------------------------------------
# Gaussian copula


@pytest.mark.parametrize("rho", [0.6, -0.4, 0.9])
def test_copula_gives_the_requested_rank_correlation_and_keeps_marginals(rho):
    g, b = UNIVARIATE[3], UNIVARIATE[5]
    group = Correlation((g.name, b.name), ((1.0, rho), (rho, 1.0)))
    draws = draw_parameters((g, b), N, np.random.default_rng(11), correlations=(group,))
    spearman = stats.spearmanr(draws[g.name], draws[b.name]).statistic
    # SE of Spearman's rho is about (1 - rho^2) / sqrt(n) (~0.002 here); 4 SE. Using rho as the
    # normals' Pearson correlation instead would miss by up to 0.018 (rho_s = 6/pi asin(r/2)).
    assert abs(spearman - rho) < 4 * (1 - rho**2) / math.sqrt(N) + 1e-3
    for s in (g, b):  # marginals unchanged by the copula
        dist = frozen(s)
        assert abs(draws[s.name].mean() - dist.mean()) < 5 * dist.std() / math.sqrt(N)
        assert draws[s.name].std() == pytest.approx(dist.std(), rel=0.02)


def test_copula_does_not_shift_uncorrelated_parameters():
    n_, g, b = UNIVARIATE[0], UNIVARIATE[3], UNIVARIATE[5]
    plain = draw_parameters((n_, g, b), 100, np.random.default_rng(2))
    group = Correlation((g.name, b.name), ((1.0, 0.5), (0.5, 1.0)))
    joint = draw_parameters((n_, g, b), 100, np.random.default_rng(2), correlations=(group,))
    np.testing.assert_array_equal(plain[n_.name], joint[n_.name])
    assert not np.array_equal(plain[g.name], joint[g.name])


def test_rank_to_normal_correlation():
    out = rank_to_normal_correlation([[1.0, 0.5], [0.5, 1.0]])
    assert out[0, 0] == out[1, 1] == 1.0
    r = out[0, 1]
    assert 6 / math.pi * math.asin(r / 2) == pytest.approx(0.5, rel=1e-12)
