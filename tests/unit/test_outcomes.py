"""Unit tests for costspine.engines.outcomes: cycle corrections, discounting and accumulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from costspine.engines.outcomes import (
    compute_entry_rewards,
    compute_state_rewards,
    cycle_weights,
    discount_factors,
    point_index,
    split_by_cycle,
    total_rewards,
)

CORRECTIONS = ["none", "half-cycle", "simpson"]


# ------------------------------------------------------------------------------------------------
# Cycle corrections


@given(n_cycles=st.integers(1, 300), correction=st.sampled_from(CORRECTIONS))
def test_weights_sum_to_the_number_of_cycles(n_cycles, correction):
    weights = cycle_weights(n_cycles, correction)
    assert weights.shape == (n_cycles + 1,)
    assert weights.sum() == pytest.approx(n_cycles, rel=1e-12)
    assert np.all(weights >= 0)


def test_none_and_half_cycle_weights():
    np.testing.assert_array_equal(cycle_weights(4, "none"), [0, 1, 1, 1, 1])
    np.testing.assert_array_equal(cycle_weights(4, "half-cycle"), [0.5, 1, 1, 1, 0.5])
    np.testing.assert_array_equal(cycle_weights(1, "half-cycle"), [0.5, 0.5])


def test_simpson_weights_even():
    np.testing.assert_allclose(cycle_weights(4, "simpson"), np.array([1, 4, 2, 4, 1]) / 3, rtol=1e-15)
    np.testing.assert_allclose(cycle_weights(2, "simpson"), np.array([1, 4, 1]) / 3, rtol=1e-15)


def test_simpson_weights_odd_use_three_eighths_on_the_last_three_intervals():
    np.testing.assert_allclose(cycle_weights(3, "simpson"), np.array([3, 9, 9, 3]) / 8, rtol=1e-15)
    expected = np.array([1 / 3, 4 / 3, 1 / 3 + 3 / 8, 9 / 8, 9 / 8, 3 / 8])
    np.testing.assert_allclose(cycle_weights(5, "simpson"), expected, rtol=1e-15)
    expected7 = np.array([1 / 3, 4 / 3, 2 / 3, 4 / 3, 1 / 3 + 3 / 8, 9 / 8, 9 / 8, 3 / 8])
    np.testing.assert_allclose(cycle_weights(7, "simpson"), expected7, rtol=1e-15)


def test_simpson_with_one_cycle_is_the_trapezoid():
    np.testing.assert_array_equal(cycle_weights(1, "simpson"), [0.5, 0.5])


def test_unknown_correction():
    with pytest.raises(ValueError, match="unknown cycle correction"):
        cycle_weights(3, "midpoint")


@given(n_cycles=st.integers(2, 60), coefficients=st.tuples(*[st.floats(-10, 10) for _ in range(4)]))
def test_simpson_is_exact_for_quadratic_and_cubic_occupancy_curves(n_cycles, coefficients):
    # Simpson 1/3 and 3/8 integrate polynomials up to degree 3 exactly.
    a, b, c, d = coefficients
    t = np.arange(n_cycles + 1, dtype=float)
    curve = a + b * t + c * t**2 + d * t**3
    T = float(n_cycles)
    integral = a * T + b * T**2 / 2 + c * T**3 / 3 + d * T**4 / 4
    scale = abs(a) * T + abs(b) * T**2 + abs(c) * T**3 + abs(d) * T**4 + 1
    assert cycle_weights(n_cycles, "simpson") @ curve == pytest.approx(integral, abs=1e-12 * scale)


@given(n_cycles=st.integers(1, 60), a=st.floats(-10, 10), b=st.floats(-10, 10))
def test_half_cycle_is_exact_for_linear_curves(n_cycles, a, b):
    t = np.arange(n_cycles + 1, dtype=float)
    integral = a * n_cycles + b * n_cycles**2 / 2
    assert cycle_weights(n_cycles, "half-cycle") @ (a + b * t) == pytest.approx(integral, abs=1e-9 * (1 + abs(integral)))


def test_quadratic_occupancy_curve_through_the_accumulator():
    # A decaying occupancy m(t) = 1 - t/10 + t^2/200 on 0..8 (a cohort that thins then levels off).
    n_cycles = 8
    t = np.arange(n_cycles + 1, dtype=float)
    occupancy = 1 - t / 10 + t**2 / 200
    trace = np.stack([occupancy, 1 - occupancy], axis=-1)[None, None]  # (1, 1, 9, 2)
    values = np.array([1.0, 0.0]).reshape(1, 1, 1, 2, 1)  # one life-year per cycle alive
    per_point = compute_state_rewards(trace, values)
    total = total_rewards(per_point, weights=cycle_weights(n_cycles, "simpson"), discount=np.ones(n_cycles + 1))
    exact = 8 - 64 / 20 + 512 / 600
    assert total[0, 0, 0] == pytest.approx(exact, rel=1e-13)


# ------------------------------------------------------------------------------------------------
# Discounting


def test_discount_factors_formula():
    np.testing.assert_allclose(discount_factors(3, cycle_years=1.0, annual_rate=0.06), 1.06 ** -np.arange(4), rtol=1e-15)
    monthly = discount_factors(24, cycle_years=1 / 12, annual_rate=0.035)
    assert monthly[12] == pytest.approx(1 / 1.035, rel=1e-14)
    assert monthly[24] == pytest.approx(1 / 1.035**2, rel=1e-14)
    assert monthly[0] == 1.0


def test_zero_discount_is_all_ones():
    np.testing.assert_array_equal(discount_factors(10, cycle_years=0.25, annual_rate=0.0), np.ones(11))


@given(seed=st.integers(0, 2**32 - 1), n_cycles=st.integers(1, 40), correction=st.sampled_from(CORRECTIONS))
def test_zero_discount_equals_the_plain_weighted_sum(seed, n_cycles, correction):
    rng = np.random.default_rng(seed)
    per_point = rng.gamma(2.0, 100.0, size=(3, 2, n_cycles + 1, 2))
    weights = cycle_weights(n_cycles, correction)
    total = total_rewards(per_point, weights=weights, discount=discount_factors(n_cycles, cycle_years=0.5, annual_rate=0.0))
    plain = np.zeros((3, 2, 2))
    for t in range(n_cycles + 1):
        plain += weights[t] * per_point[:, :, t, :]
    np.testing.assert_allclose(total, plain, rtol=1e-12)


def test_discounting_lowers_positive_totals():
    per_point = np.ones((1, 1, 11, 1))
    weights = cycle_weights(10, "none")
    plain = total_rewards(per_point, weights=weights, discount=np.ones(11))
    discounted = total_rewards(per_point, weights=weights, discount=discount_factors(10, cycle_years=1, annual_rate=0.05))
    assert discounted[0, 0, 0] == pytest.approx(sum(1.05**-t for t in range(1, 11)), rel=1e-14)
    assert discounted[0, 0, 0] < plain[0, 0, 0] == 10


# ------------------------------------------------------------------------------------------------
# Accumulation


def slow_state_rewards(trace, values):
    d_, s_, n_points, n_states = trace.shape
    n_time = values.shape[2]
    out = np.zeros((d_, s_, n_points, values.shape[-1]))
    for d in range(d_):
        for s in range(s_):
            for t in range(n_points):
                slice_ = 0 if n_time == 1 else max(t - 1, 0)  # point 0 takes cycle 1's value
                for r in range(values.shape[-1]):
                    out[d, s, t, r] = sum(trace[d, s, t, n] * values[d, s, slice_, n, r] for n in range(n_states))
    return out


@pytest.mark.parametrize("n_time", [1, 5])
def test_state_rewards_match_slow_loop(n_time):
    rng = np.random.default_rng(0)
    trace = rng.dirichlet(np.ones(3), size=(2, 2, 6))
    values = rng.normal(size=(2, 2, n_time, 3, 2))
    np.testing.assert_allclose(compute_state_rewards(trace, values), slow_state_rewards(trace, values), rtol=1e-12)


def test_point_index():
    np.testing.assert_array_equal(point_index(4, 1), [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(point_index(4, 4), [0, 0, 1, 2, 3])


def test_entry_rewards_are_aligned_with_points():
    entries = np.arange(1.0, 4.0).reshape(1, 1, 3, 1)  # 3 cycles, 1 state
    values = np.array([10.0, 20.0, 30.0]).reshape(1, 1, 3, 1, 1)
    out = compute_entry_rewards(entries, values)
    np.testing.assert_array_equal(out[0, 0, :, 0], [0, 10, 40, 90])
    flat = compute_entry_rewards(entries, np.full((1, 1, 1, 1, 1), 5.0))
    np.testing.assert_array_equal(flat[0, 0, :, 0], [0, 5, 10, 15])


@pytest.mark.parametrize("correction", ["none", "half-cycle"])
def test_split_by_cycle_adds_up_to_the_undiscounted_total(correction):
    rng = np.random.default_rng(1)
    per_point = rng.random((2, 3, 9, 2))
    per_cycle = split_by_cycle(per_point, correction)
    assert per_cycle.shape == (2, 3, 8, 2)
    total = total_rewards(per_point, weights=cycle_weights(8, correction), discount=np.ones(9))
    np.testing.assert_allclose(per_cycle.sum(axis=2), total, rtol=1e-12)


def test_rewards_do_not_mutate_inputs():
    rng = np.random.default_rng(2)
    trace, values = rng.random((1, 2, 5, 3)), rng.random((1, 2, 4, 3, 2))
    copies = trace.copy(), values.copy()
    per_point = compute_state_rewards(trace, values)
    snapshot = per_point.copy()
    total_rewards(per_point, weights=cycle_weights(4, "simpson"), discount=discount_factors(4, cycle_years=1, annual_rate=0.03))
    split_by_cycle(per_point, "half-cycle")
    np.testing.assert_array_equal(trace, copies[0])
    np.testing.assert_array_equal(values, copies[1])
    np.testing.assert_array_equal(per_point, snapshot)


# ------------------------------------------------------------------------------------------------
# One accumulation for the cohort model and the microsimulation


def test_accumulate_rewards_by_hand():
    from costspine.engines.outcomes import accumulate_rewards, build_reward_factors

    trace = np.array([[[[1.0, 0.0], [0.8, 0.2], [0.5, 0.5]]]])  # (1, 1, 3 points, 2 states)
    state_costs = np.array([[[[10.0], [8.0], [5.0]]]])  # (1, 1, 3, 1)
    entry_costs = np.array([[[[0.0], [4.0], [6.0]]]])  # point 0 is always 0
    outcomes = trace[..., :1].copy()  # life in state 0
    indicator = np.array([[[[2.0], [1.6], [0.0]]]])
    mask = np.array([[True, False]])
    factors = build_reward_factors(2, cycle_correction="half-cycle", cycle_years=1.0, discount_costs=0.1, discount_outcomes=0.0)
    out = accumulate_rewards(
        trace,
        factors=factors,
        state_costs=state_costs,
        entry_costs=entry_costs,
        state_outcomes=outcomes,
        indicator_points=indicator,
        indicator_mask=mask,
    )
    assert out["costs"][0, 0, 0] == pytest.approx(0.5 * 10 + 8 / 1.1 + 0.5 * 5 / 1.21 + 4 / 1.1 + 6 / 1.21, rel=1e-14)
    assert out["costs_undiscounted"][0, 0, 0] == pytest.approx(0.5 * 10 + 8 + 0.5 * 5 + 4 + 6, rel=1e-14)
    np.testing.assert_allclose(out["cost_per_cycle"][0, 0, :, 0], [(10 + 8) / 2 + 4, (8 + 5) / 2 + 6], rtol=1e-14)
    assert out["outcomes"][0, 0, 0] == out["outcomes_undiscounted"][0, 0, 0] == pytest.approx(0.5 + 0.8 + 0.25)
    np.testing.assert_allclose(out["indicators"][0, 0, :, 0], [2.0, 2.0, 0.0])
    assert out["services_per_cycle"].shape == (1, 1, 2, 0)
    no_one = accumulate_rewards(
        trace[..., ::-1],
        factors=factors,
        state_costs=state_costs,
        entry_costs=entry_costs,
        state_outcomes=outcomes,
        indicator_points=indicator,
        indicator_mask=mask,
    )
    assert np.isnan(no_one["indicators"][0, 0, 0, 0])  # nobody in the indicator's states at point 0


def test_cohort_and_microsimulation_accumulate_with_the_same_factors():
    # both runs take their weights and discount factors from one place
    from costspine.simulate import microsim
    from costspine.simulate.cohort import derive_reward_factors

    class Settings:
        n_cycles, cycle_correction, cycle_years, discount_costs, discount_outcomes = 6, "simpson", 0.5, 0.035, 0.015

    factors = derive_reward_factors(Settings)
    np.testing.assert_array_equal(factors.weights, cycle_weights(6, "simpson"))
    np.testing.assert_array_equal(factors.discount_costs, discount_factors(6, cycle_years=0.5, annual_rate=0.035))
    np.testing.assert_array_equal(factors.discount_outcomes, discount_factors(6, cycle_years=0.5, annual_rate=0.015))
    assert microsim.derive_reward_factors is derive_reward_factors
