"""PSA summaries on tables small enough to check by hand (costspine.analysis.psa)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from costspine.analysis.decision import (
    compute_ceac,
    compute_ceaf,
    compute_evpi,
    compute_evpi_from_net_benefit,
    compute_net_benefit,
    population_evpi,
)
from costspine.analysis.draw_stats import compute_mc_convergence, summarize_draws, summarize_incremental
from costspine.errors import AnalysisError, UsageError

# Four draws, two strategies (A = 0, B = 1).
#
#   draw   cost A  effect A   cost B  effect B   Δcost  Δeffect
#     0     1000     1.0       1500     1.5       500     0.5
#     1     1200     1.1       1400     1.2       200     0.1
#     2      800     0.9       1600     1.0       800     0.1
#     3     1000     1.0       1500     1.6       500     0.6
#
# ΔNMB(λ) = Δeffect·λ − Δcost, per draw:
#   λ =    0:  −500  −200  −800  −500   → A always optimal               CEAC_B = 0
#   λ = 1000:     0  −100  −700   100   → draw 0 ties → A (first)         CEAC_B = 1/4
#   λ = 2000:   500     0  −600   700   → draw 1 ties → A                 CEAC_B = 2/4
#   λ = 5000:  2000   300  −300  2500   →                                 CEAC_B = 3/4
# E[ΔNMB] = 0.325·λ − 500 = −500, −175, 150, 1125  → optimal on expectation: A, A, B, B
# CEAF = P(optimal strategy is best) = 1, 3/4, 2/4, 3/4
# EVPI = E[max(0, ΔNMB)] − max(0, E[ΔNMB])  (NMB of A cancels):
#   λ =    0:  0                          − 0    = 0
#   λ = 1000:  (0 + 0 + 0 + 100)/4 = 25   − 0    = 25
#   λ = 2000:  (500 + 0 + 0 + 700)/4 = 300 − 150 = 150
#   λ = 5000:  (2000 + 300 + 0 + 2500)/4 = 1200 − 1125 = 75
COST = np.array([[1000.0, 1500.0], [1200.0, 1400.0], [800.0, 1600.0], [1000.0, 1500.0]])
EFFECT = np.array([[1.0, 1.5], [1.1, 1.2], [0.9, 1.0], [1.0, 1.6]])
WTP = np.array([0.0, 1000.0, 2000.0, 5000.0])


def test_net_benefit_by_hand():
    nmb = compute_net_benefit(COST, EFFECT, WTP)
    assert nmb.shape == (4, 2, 4)
    # λ = 1000: A = 1000·e − c = 0, −100, 100, 0;  B = 0, −200, −600, 100
    np.testing.assert_allclose(nmb[:, 0, 1], [0.0, -100.0, 100.0, 0.0])
    np.testing.assert_allclose(nmb[:, 1, 1], [0.0, -200.0, -600.0, 100.0])
    np.testing.assert_allclose(nmb[:, :, 0], -COST)


def test_net_benefit_scalar_wtp_drops_the_axis():
    assert compute_net_benefit(COST, EFFECT, 1000.0).shape == (4, 2)
    np.testing.assert_allclose(compute_net_benefit(COST, EFFECT, 1000.0), compute_net_benefit(COST, EFFECT, [1000.0])[..., 0])


def test_ceac_by_hand_with_ties_to_the_first_strategy():
    ceac = compute_ceac(COST, EFFECT, WTP)
    np.testing.assert_allclose(ceac, [[1.0, 0.75, 0.5, 0.25], [0.0, 0.25, 0.5, 0.75]])


def test_ceaf_by_hand():
    ceaf = compute_ceaf(COST, EFFECT, WTP, strategies=("A", "B"))
    assert ceaf.optimal.tolist() == [0, 0, 1, 1]
    assert ceaf.optimal_strategy == ("A", "A", "B", "B")
    np.testing.assert_allclose(ceaf.prob_cost_effective, [1.0, 0.75, 0.5, 0.75])
    np.testing.assert_allclose(ceaf.expected_nmb[1] - ceaf.expected_nmb[0], [-500.0, -175.0, 150.0, 1125.0])
    assert "B" in ceaf.summary()
    assert ceaf.to_columns()["optimal"].tolist() == ["A", "A", "B", "B"]


def test_evpi_by_hand():
    np.testing.assert_allclose(compute_evpi(COST, EFFECT, WTP), [0.0, 25.0, 150.0, 75.0], atol=1e-9)


def test_evpi_three_strategies_by_hand():
    # NB per draw (rows) and strategy (columns); max per draw = 3, 5, 5 → mean 13/3;
    # means per strategy = 6/3, 9/3, 7/3 → max 3; EVPI = 13/3 − 3 = 4/3.
    nb = np.array([[1.0, 3.0, 0.0], [2.0, 1.0, 5.0], [3.0, 5.0, 2.0]])
    assert compute_evpi_from_net_benefit(nb) == pytest.approx(4.0 / 3.0)


def test_population_evpi_by_hand():
    # 100 per person × 1000 a year × (1 + 1/1.035 + 1/1.035²) = 100 000 × 2.899694275...
    assert float(population_evpi(100.0, population_per_year=1000, years=3, discount_rate=0.035)) == pytest.approx(
        289969.4275, rel=1e-9
    )
    assert float(population_evpi(100.0, population_per_year=1000, years=3, discount_rate=0.0)) == pytest.approx(300000.0)
    by_year = population_evpi(np.array([10.0, 20.0]), population_per_year=[100, 200], years=2, discount_rate=0.0)
    np.testing.assert_allclose(by_year, [3000.0, 6000.0])


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"population_per_year": 1000, "years": 0, "discount_rate": 0.035}, "years"),
        ({"population_per_year": 1000, "years": 3, "discount_rate": 3.5}, "did you mean 0.035"),
        ({"population_per_year": [1, 2], "years": 3, "discount_rate": 0.0}, "one entry per year"),
        ({"population_per_year": -5, "years": 3, "discount_rate": 0.0}, "≥ 0"),
    ],
)
def test_population_evpi_rejects_bad_inputs(kwargs, text):
    with pytest.raises(UsageError, match=text):
        population_evpi(1.0, **kwargs)


def test_summarize_draws_by_hand():
    s = summarize_draws([1.0, 2.0, 3.0, 4.0, 5.0])
    # sd = sqrt(10/4); quantiles by linear interpolation at positions 0.1 and 3.9
    assert (float(s.mean), float(s.sd), float(s.lower), float(s.upper)) == pytest.approx((3.0, np.sqrt(2.5), 1.1, 4.9))
    assert s.n_draws == 5


def test_summarize_draws_along_another_axis():
    values = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 10.0, 10.0, 10.0, 10.0]])
    s = summarize_draws(values, axis=1)
    np.testing.assert_allclose(s.mean, [3.0, 10.0])
    np.testing.assert_allclose(s.sd, [np.sqrt(2.5), 0.0])


def test_summarize_incremental_by_hand():
    r = summarize_incremental(COST, EFFECT, comparator=0, strategies=("A", "B"))
    # Δcost = 500, 200, 800, 500 → mean 500; sorted 200, 500, 500, 800: 2.5% at position
    # 0.075 → 222.5, 97.5% at 2.925 → 777.5.  Δeffect = 0.5, 0.1, 0.1, 0.6 → mean 0.325.
    assert r.incremental_cost.mean[1] == pytest.approx(500.0)
    assert (r.incremental_cost.lower[1], r.incremental_cost.upper[1]) == pytest.approx((222.5, 777.5))
    assert r.incremental_effect.mean[1] == pytest.approx(0.325)
    assert r.prob_cost_saving.tolist() == [0.0, 0.0]
    assert r.prob_more_effect.tolist() == [0.0, 1.0]
    assert r.incremental_cost.mean[0] == 0.0
    # against B instead: A saves cost in every draw, and never gains effect
    r_b = summarize_incremental(COST, EFFECT, comparator=1)
    assert r_b.prob_cost_saving.tolist() == [1.0, 0.0]
    assert r_b.prob_more_effect.tolist() == [0.0, 0.0]
    assert "vs A" in r.summary()


def test_mc_convergence_by_hand():
    c = compute_mc_convergence([1.0, 2.0, 3.0, 6.0])
    np.testing.assert_allclose(c.running_mean, [1.0, 1.5, 2.0, 3.0])
    # sd of 1, 2, 3, 6 = sqrt(((−2)² + 1 + 0 + 3²)/3) = sqrt(14/3); MCSE = sd/2
    assert float(c.mcse) == pytest.approx(np.sqrt(14.0 / 3.0) / 2.0)
    assert c.checkpoints.tolist() == [4]


def test_mc_convergence_checkpoints_and_running_se():
    rng = np.random.default_rng(7)
    x = rng.normal(100.0, 50.0, size=(1200, 2))
    c = compute_mc_convergence(x)
    assert c.checkpoints.tolist() == [100, 200, 500, 1000, 1200]
    assert c.checkpoint_mean.shape == (5, 2)
    for row, n in enumerate(c.checkpoints):
        np.testing.assert_allclose(c.checkpoint_mean[row], x[:n].mean(axis=0))
        np.testing.assert_allclose(c.checkpoint_mcse[row], x[:n].std(axis=0, ddof=1) / np.sqrt(n))
    np.testing.assert_allclose(c.mcse, x.std(axis=0, ddof=1) / np.sqrt(1200))
    assert "1200" in c.summary()


def test_shape_mismatch_is_a_usage_error():
    with pytest.raises(UsageError, match=r"same shape .*\(4, 2\) and \(4, 1\)"):
        compute_ceac(COST, EFFECT[:, :1], WTP)
    with pytest.raises(UsageError, match="shape \\(draw, strategy\\)"):
        compute_evpi(COST.mean(axis=0), EFFECT.mean(axis=0), WTP)
    with pytest.raises(UsageError, match="wtp"):
        compute_ceac(COST, EFFECT, [[1.0, 2.0]])


def test_non_finite_draw_is_named():
    cost = COST.copy()
    cost[2, 1] = np.nan
    with pytest.raises(AnalysisError, match="draw=2 strategy=1"):
        compute_evpi(cost, EFFECT, WTP)


def test_inputs_are_not_mutated():
    cost, effect = COST.copy(), EFFECT.copy()
    compute_ceaf(cost, effect, WTP)
    summarize_incremental(cost, effect)
    np.testing.assert_array_equal(cost, COST)
    np.testing.assert_array_equal(effect, EFFECT)


# ------------------------------------------------------------------------------ properties
draws = st.integers(min_value=1, max_value=30)
strategies = st.integers(min_value=1, max_value=5)
finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)


@st.composite
def psa_tables(draw):
    n, s = draw(draws), draw(strategies)
    cost = draw(arrays(float, (n, s), elements=finite))
    effect = draw(arrays(float, (n, s), elements=st.floats(min_value=-10, max_value=10, allow_nan=False)))
    wtp = draw(arrays(float, (3,), elements=st.floats(min_value=0, max_value=1e5, allow_nan=False)))
    return cost, effect, wtp


@settings(max_examples=200, deadline=None)
@given(psa_tables())
def test_ceac_columns_sum_to_one_and_evpi_is_non_negative(table):
    cost, effect, wtp = table
    np.testing.assert_allclose(compute_ceac(cost, effect, wtp).sum(axis=0), 1.0)
    assert np.all(compute_evpi(cost, effect, wtp) >= 0.0)


@settings(max_examples=100, deadline=None)
@given(psa_tables(), st.randoms(use_true_random=False))
def test_results_follow_strategy_order(table, random):
    cost, effect, wtp = table
    order = list(range(cost.shape[1]))
    random.shuffle(order)
    # Ties are broken by position, so compare only where every draw has a unique best strategy.
    nb = compute_net_benefit(cost, effect, wtp)
    top2 = np.sort(nb, axis=1)[:, -2:] if nb.shape[1] > 1 else None
    if top2 is None or np.all(top2[:, 1] > top2[:, 0]):
        np.testing.assert_allclose(compute_ceac(cost[:, order], effect[:, order], wtp), compute_ceac(cost, effect, wtp)[order])
    np.testing.assert_allclose(compute_evpi(cost[:, order], effect[:, order], wtp), compute_evpi(cost, effect, wtp), atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(psa_tables(), arrays(float, (30,), elements=finite))
def test_evpi_ignores_a_shift_common_to_all_strategies_in_a_draw(table, shift):
    cost, effect, wtp = table
    shifted = cost + shift[: cost.shape[0], None]
    np.testing.assert_allclose(compute_evpi(shifted, effect, wtp), compute_evpi(cost, effect, wtp), atol=1e-6)


def test_curves_over_threshold_blocks_equal_one_block_bit_for_bit(monkeypatch):
    """CEAC, CEAF and EVPI hold a block of thresholds at a time; the block size changes no bit."""
    from costspine.analysis import decision

    rng = np.random.default_rng(11)
    cost, effect = rng.normal(1000, 300, (2000, 3)), rng.normal(1, 0.2, (2000, 3))
    lam = np.linspace(0, 5000, 37)

    def curves():
        ceaf = decision.compute_ceaf(cost, effect, lam)
        return [
            decision.compute_ceac(cost, effect, lam),
            ceaf.expected_nmb,
            ceaf.prob_cost_effective,
            ceaf.optimal,
            decision.compute_evpi(cost, effect, lam),
        ]

    monkeypatch.setattr(decision, "NB_BLOCK_ELEMENTS", 10**9)
    whole = curves()
    assert len(decision._wtp_blocks(2000, 3, lam.size)) == 1
    monkeypatch.setattr(decision, "NB_BLOCK_ELEMENTS", 2000 * 3 * 5)  # blocks of 5 thresholds, the last of 2
    assert len(decision._wtp_blocks(2000, 3, lam.size)) == 8
    for a, b in zip(whole, curves()):
        assert a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.parametrize("block", [1, 7, 1 << 16])
def test_convergence_in_blocks_is_bit_identical_to_one_cumulative_sum(block):
    x = np.random.default_rng(4).standard_normal((2345, 3)) * 1000.0 + 7.0
    whole = compute_mc_convergence(x, block=len(x))
    n = np.arange(1, len(x) + 1, dtype=float)[:, None]
    assert np.array_equal(whole.running_mean, x.mean(axis=0) + np.cumsum(x - x.mean(axis=0), axis=0) / n)
    for running in (True, False):
        part = compute_mc_convergence(x, running=running, block=block)
        assert np.array_equal(part.running_mean, whole.running_mean if running else whole.running_mean[-1:])
        assert np.array_equal(part.mcse, whole.mcse)
        assert np.array_equal(part.checkpoints, whole.checkpoints)
        assert np.array_equal(part.checkpoint_mean, whole.checkpoint_mean)
        assert np.array_equal(part.checkpoint_mcse, whole.checkpoint_mcse, equal_nan=True)
