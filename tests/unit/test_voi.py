"""Regression-based EVPPI (costspine.analysis.voi) against closed forms and known limits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.special import ndtri

from costspine.analysis.decision import compute_evpi_from_net_benefit
from costspine.analysis.voi import EVPPIResult, compute_evpi, compute_evppi
from costspine.errors import AnalysisError, UsageError

N = 10_000


def normal_quantile_draws(n: int, *, mean: float, sd: float, rng: np.random.Generator) -> np.ndarray:
    """n draws of N(mean, sd²) at the normal quantiles (i + ½)/n, in random order.

    With no sampling error in θ itself, the distance to a closed form is the regression's alone.
    """
    return mean + sd * ndtri((rng.permutation(n) + 0.5) / n)


def evppi_linear_normal(a: float, b: float, mean: float, sd: float) -> float:
    """EVPPI of θ ~ N(mean, sd²) when NB_1 − NB_0 = a + bθ (+ noise independent of θ).

    With m = a + b·mean and s = |b|·sd: E[max(0, m + sZ)] = m Φ(m/s) + s φ(m/s), so
    EVPPI = m Φ(m/s) + s φ(m/s) − max(0, m).
    """
    m, s = a + b * mean, abs(b) * sd
    cdf = 0.5 * (1.0 + math.erf(m / s / math.sqrt(2.0)))
    pdf = math.exp(-0.5 * (m / s) ** 2) / math.sqrt(2.0 * math.pi)
    return m * cdf + s * pdf - max(0.0, m)


# a = −1, b = 0.8, θ ~ N(1, 2²): m = −0.2, s = 1.6 → EVPPI = 0.54329 (EVPI of the noisy NB ≈ 0.64)
A, B, MEAN, SD = -1.0, 0.8, 1.0, 2.0
EXACT = evppi_linear_normal(A, B, MEAN, SD)


@pytest.fixture(scope="module")
def linear_problem():
    rng = np.random.default_rng(20240611)
    theta = normal_quantile_draws(N, mean=MEAN, sd=SD, rng=rng)
    inc = A + B * theta + rng.normal(0.0, 0.5, size=N)
    nb = np.column_stack([np.full(N, 1000.0), 1000.0 + inc])  # a common offset must not matter
    return nb, theta


@pytest.fixture(scope="module")
def linear_results(linear_problem):
    nb, theta = linear_problem
    return {m: compute_evppi(nb, theta, method=m, rng=np.random.default_rng(1)) for m in ("gam", "gp")}


def test_closed_form_is_what_the_formula_says():
    # b = 0 would make θ irrelevant; at m = 0 the EVPPI is s/√(2π)
    assert evppi_linear_normal(0.0, 1.0, 0.0, 2.0) == pytest.approx(2.0 / math.sqrt(2.0 * math.pi))
    assert EXACT == pytest.approx(0.54329, abs=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gam", "gp"])
def test_linear_normal_matches_the_closed_form(linear_results, method):
    # Tolerance 3%: θ has no sampling error here, and the regression error with noise sd 0.5
    # and 10 000 draws has an sd of about 0.6% (40 replicate data sets, GAM).
    result = linear_results[method]
    assert result.evppi == pytest.approx(EXACT, rel=0.03)
    assert 0.0 < result.se < 0.03 * EXACT
    assert isinstance(result, EVPPIResult) and result.method == method and result.n_draws == N


@pytest.mark.slow
def test_gp_and_gam_agree_on_one_parameter(linear_results):
    assert linear_results["gp"].evppi == pytest.approx(linear_results["gam"].evppi, rel=0.02)


@pytest.mark.parametrize("method", ["gam", pytest.param("gp", marks=pytest.mark.slow)])
def test_ignored_parameter_has_evppi_near_zero(method):
    # NB depends on θ1 only and the decision is balanced (E[Δ] = 0), the hardest case: any
    # wiggle fitted to noise in θ2 crosses zero. Tolerance 5% of EVPI; over 40 seeds the GAM
    # gives 1.1% on average and 3.5% at most with 10 000 draws.
    rng = np.random.default_rng(7)
    theta1, theta2 = rng.normal(size=N), rng.normal(size=N)
    nb = np.column_stack([np.zeros(N), 2.0 * theta1 + rng.normal(size=N)])
    evpi = float(compute_evpi_from_net_benefit(nb))
    assert evpi > 0.5
    assert 0.0 <= compute_evppi(nb, theta2, method=method).evppi < 0.05 * evpi


def test_gcv_smoothing_keeps_noise_out_with_few_draws():
    # With 300 draws, an unpenalised 20-knot spline fits enough noise in an ignored parameter
    # to give ~20% of EVPI on average (30 seeds); GCV smoothing gives ~4.5%. Bound: 10%.
    ratios = []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        theta1, theta2 = rng.normal(size=300), rng.normal(size=300)
        nb = np.column_stack([np.zeros(300), 2.0 * theta1 + rng.normal(size=300)])
        ratios.append(compute_evppi(nb, theta2).evppi / float(compute_evpi_from_net_benefit(nb)))
    assert np.mean(ratios) < 0.10


def smooth_increment(theta: np.ndarray) -> np.ndarray:
    return theta[:, 0] * theta[:, 1] + np.sin(2.0 * theta[:, 2]) + 0.5 * theta[:, 3] ** 2 - 0.5


@pytest.mark.slow
def test_gp_evppi_of_all_parameters_equals_evpi_for_a_smooth_noiseless_nb():
    # NB is an exact smooth function of the four parameters, so EVPPI(all) = EVPI of the same
    # draws. Tolerance 2% (measured: 0.1%).
    rng = np.random.default_rng(11)
    theta = rng.normal(size=(N, 4))
    nb = np.column_stack([np.zeros(N), smooth_increment(theta)])
    evpi = float(compute_evpi_from_net_benefit(nb))
    assert compute_evppi(nb, theta, method="gp").evppi == pytest.approx(evpi, rel=0.02)


def test_gam_evppi_of_both_parameters_equals_evpi_for_a_smooth_noiseless_nb():
    # Two parameters with an interaction: the tensor-product spline must capture θ1·θ2.
    rng = np.random.default_rng(12)
    theta = rng.normal(size=(N, 2))
    inc = theta[:, 0] * theta[:, 1] + 0.5 * theta[:, 0] - 0.2
    nb = np.column_stack([np.zeros(N), inc])
    evpi = float(compute_evpi_from_net_benefit(nb))
    assert compute_evppi(nb, theta, method="gam").evppi == pytest.approx(evpi, rel=0.02)


@pytest.mark.parametrize("method", ["gam", "gp"])
def test_nb_linear_in_the_parameter_gives_evppi_equal_to_evpi(method):
    # Exactly linear: the fit is exact, so EVPPI is the EVPI of the draws to rounding.
    rng = np.random.default_rng(3)
    theta = rng.normal(5.0, 2.0, size=2000)
    nb = np.column_stack([np.zeros(2000), 3.0 * theta - 14.0, 100.0 - 20.0 * theta])
    evpi = float(compute_evpi_from_net_benefit(nb))
    assert compute_evppi(nb, theta, method=method).evppi == pytest.approx(evpi, rel=1e-6)


def test_three_strategies_match_the_evppi_of_the_true_regression():
    # Δ1 = θ − 1 and Δ2 = ½(θ − 1)² − 0.2 plus noise: EVPPI is that of the noiseless g(θ) on
    # the same θ draws. Tolerance 3%.
    rng = np.random.default_rng(5)
    theta = normal_quantile_draws(N, mean=1.0, sd=1.0, rng=rng)
    g = np.column_stack([np.zeros(N), theta - 1.0, 0.5 * (theta - 1.0) ** 2 - 0.2])
    nb = g + rng.normal(0.0, 0.5, size=(N, 3))
    truth = float(compute_evpi_from_net_benefit(g))
    assert compute_evppi(nb, theta, method="gam").evppi == pytest.approx(truth, rel=0.03)


def test_gp_marginal_likelihood_gradient_matches_finite_differences():
    from costspine.analysis.voi import _gp_neg_log_marginal

    rng = np.random.default_rng(4)
    z = rng.normal(size=(120, 3))
    r = np.sin(z[:, 0]) + 0.1 * rng.normal(size=120)
    r = r / r.std()
    sq_dist = (z.T[:, :, None] - z.T[:, None, :]) ** 2
    x = np.array([0.2, -0.3, 0.5, 0.1, np.log(0.05)])
    _, grad = _gp_neg_log_marginal(x, sq_dist, r)
    step = 1e-5
    numeric = [
        (_gp_neg_log_marginal(x + step * e, sq_dist, r)[0] - _gp_neg_log_marginal(x - step * e, sq_dist, r)[0]) / (2 * step)
        for e in np.eye(x.size)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_gp_lengthscales_tell_relevant_from_ignored_parameters():
    from costspine.analysis.voi import _fit_gp_lengthscales

    rng = np.random.default_rng(8)
    z = rng.normal(size=(400, 2))
    r = np.sin(2.0 * z[:, 0]) + 0.1 * rng.normal(size=400)
    sq_dist = (z.T[:, :, None] - z.T[:, None, :]) ** 2
    ell = np.exp(_fit_gp_lengthscales(sq_dist, (r - r.mean()) / r.std())[:2])
    assert ell[0] < 1.0 < 10.0 < ell[1]


def test_standard_error_matches_the_spread_over_replicate_data_sets():
    # Holding θ fixed and redrawing the noise, the sd of the estimates is the regression error
    # that the posterior-sampling SE describes; they agree within a factor of 1.6.
    theta = normal_quantile_draws(2000, mean=MEAN, sd=SD, rng=np.random.default_rng(0))
    estimates, ses = [], []
    for seed in range(30):
        rng = np.random.default_rng(1000 + seed)
        nb = np.column_stack([np.zeros(2000), A + B * theta + rng.normal(size=2000)])
        r = compute_evppi(nb, theta, rng=np.random.default_rng(seed), n_boot=300)
        estimates.append(r.evppi)
        ses.append(r.se)
    ratio = np.std(estimates, ddof=1) / np.mean(ses)
    assert 1 / 1.6 < ratio < 1.6


@st.composite
def random_problems(draw):
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    n = draw(st.integers(min_value=100, max_value=600))
    k = draw(st.integers(min_value=1, max_value=2))
    n_strategies = draw(st.integers(min_value=2, max_value=4))
    noise = draw(st.floats(min_value=0.0, max_value=5.0))
    curvature = draw(st.floats(min_value=0.0, max_value=2.0))
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(n, k)) * rng.uniform(0.1, 10.0, size=k) + rng.normal(size=k)
    z = (theta - theta.mean(axis=0)) / theta.std(axis=0)
    nb = (
        rng.normal(size=n_strategies)
        + z @ rng.normal(size=(k, n_strategies))
        + curvature * (z**2) @ rng.normal(size=(k, n_strategies))
        + noise * rng.normal(size=(n, n_strategies))
    )
    return nb, theta


@settings(max_examples=60, deadline=None)
@given(random_problems())
def test_evppi_lies_between_zero_and_evpi(problem):
    # 0 ≤ EVPPI holds by construction. EVPPI ≤ EVPI holds for the true values; the estimate may
    # exceed the EVPI of the same draws by its fitting error, either when the fit is nearly exact
    # (seen: 0.6% of EVPI in 400 random problems) or when the EVPI is tiny because one strategy
    # is almost always best (seen: 1e-3·sd(ΔNB)). Allowance: 2% of EVPI + 2e-3·sd(ΔNB).
    nb, theta = problem
    evpi = float(compute_evpi_from_net_benefit(nb))
    evppi = compute_evppi(nb, theta, method="gam").evppi
    spread = float((nb - nb[:, :1]).std())
    assert 0.0 <= evppi <= 1.02 * evpi + 2e-3 * spread


def test_mapping_of_named_parameters_gives_the_same_estimate(linear_problem):
    nb, theta = linear_problem
    result = compute_evppi(nb, {"p_response": theta})
    assert result.parameters == ("p_response",)
    # the GAM estimate of linear_results, without the slow GP one that fixture also computes
    assert result.evppi == pytest.approx(compute_evppi(nb, theta, method="gam", rng=np.random.default_rng(1)).evppi, rel=1e-12)
    assert "p_response" in result.summary()


def test_estimate_is_deterministic_and_se_needs_rng(linear_problem):
    nb, theta = linear_problem
    plain = compute_evppi(nb, theta)
    assert math.isnan(plain.se)
    again = [compute_evppi(nb, theta, rng=np.random.default_rng(9), n_boot=200) for _ in range(2)]
    assert again[0] == again[1]
    assert again[0].evppi == plain.evppi


def test_single_strategy_has_no_value_of_information():
    rng = np.random.default_rng(0)
    result = compute_evppi(rng.normal(size=(100, 1)), rng.normal(size=100))
    assert (result.evppi, result.se) == (0.0, 0.0)


def test_inputs_are_not_mutated(linear_problem):
    nb, theta = linear_problem
    nb_copy, theta_copy = nb.copy(), theta.copy()
    compute_evppi(nb, theta, rng=np.random.default_rng(0), n_boot=50)
    np.testing.assert_array_equal(nb, nb_copy)
    np.testing.assert_array_equal(theta, theta_copy)


def test_compute_evpi_is_re_exported_from_psa():
    from costspine.analysis import decision

    assert compute_evpi is decision.compute_evpi


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"params": np.ones((99, 1))}, UsageError, r"\(draw, k\) with the 100 draws"),
        ({"params": np.ones(100)}, UsageError, "one value .* in every draw"),
        ({"method": "loess"}, UsageError, "method must be one of"),
        ({"rng": 42}, UsageError, "numpy.random.Generator"),
        ({"n_boot": 100}, UsageError, "n_boot needs rng"),
        ({"params": np.random.default_rng(0).normal(size=(100, 5))}, UsageError, "method='gp'"),
        ({"nb": np.zeros((10, 2)), "params": np.arange(10.0)}, UsageError, "at least 30 draws"),
        ({"nb": np.zeros(100)}, UsageError, r"shape \(draw, strategy\)"),
        ({"nb": np.where(np.arange(200).reshape(100, 2) == 7, np.nan, 0.0)}, AnalysisError, "draw=3 strategy=1"),
        ({"params": {"p": np.arange(99.0)}}, UsageError, r"params\['p'\] must have shape"),
    ],
)
def test_bad_inputs_are_explained(kwargs, error, text):
    args = {"nb": np.zeros((100, 2)), "params": np.arange(100.0)} | kwargs
    nb, params = args.pop("nb"), args.pop("params")
    with pytest.raises(error, match=text):
        compute_evppi(nb, params, **args)
