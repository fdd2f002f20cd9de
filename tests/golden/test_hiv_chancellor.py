"""Golden test: the Chancellor et al. (1997) HIV model as in Briggs, Claxton & Sculpher (2006).

``scenarios/examples/hiv_chancellor.toml`` run through the public API must reproduce the published
deterministic results (see /work/shared/golden/hiv_chancellor.md) to the digits they are printed
with:

=========  =========================  ==============
strategy   discounted cost (GBP)      life-years
=========  =========================  ==============
mono       44,663.45                  7.991207
comb       50,601.65                  8.937389
=========  =========================  ==============

incremental cost 5,938.198, incremental life-years 0.9461822, ICER 6,275.956 GBP per life-year.

"To the printed digits" means ``|computed - published| <= half a unit of the last printed digit``
(e.g. 0.005 GBP for the costs). An exact implementation agrees to ~1e-7 relative; so does the
obvious loop written out below from the published inputs, which the package must match to 1e-9.

The PSA block (Briggs ex. 4.7: Dirichlet rows, lognormal RR, gamma costs with sd = mean) must
validate and draw sensibly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import costspine
from costspine.analysis.cea import compute_result_cea
from costspine.model.inputs import build_model_inputs
from costspine.params import draw_parameters
from costspine.simulate.cohort import run_cohort

from helpers import CHANCELLOR

SCENARIO = CHANCELLOR

# Published results (Briggs et al. 2006, ch. 2; /work/shared/golden/hiv_chancellor.md).
PUBLISHED_COST = {"mono": ("44663.45", 2), "comb": ("50601.65", 2)}
PUBLISHED_LIFE_YEARS = {"mono": ("7.991207", 6), "comb": ("8.937389", 6)}
PUBLISHED_INCREMENTAL_COST = ("5938.198", 3)
PUBLISHED_INCREMENTAL_LIFE_YEARS = ("0.9461822", 7)
PUBLISHED_ICER = ("6275.956", 3)
PUBLISHED_ICER_CI = (5337.0, 9075.0)  # Chancellor 1997 abstract, 95% interval

# Published inputs, typed from the paper (not read from the scenario file).
COUNTS = {"A": (1251, 350, 116, 17), "B": (0, 731, 512, 15), "C": (0, 0, 1312, 437)}
RR = 0.509
STATE_COST = (1701 + 1055, 1774 + 1278, 6948 + 2059, 0.0)  # direct medical + community, A B C D
ZIDOVUDINE, LAMIVUDINE = 2278.0, 2086.5
N_CYCLES, COMBINATION_CYCLES, DISCOUNT_COSTS = 20, 2, 0.06


def assert_printed_digits(computed: float, published: tuple[str, int]) -> None:
    text, digits = published
    tolerance = 0.5 * 10.0**-digits * (1 + 1e-9)  # half a unit in the last printed digit
    assert abs(computed - float(text)) <= tolerance, f"{computed!r} does not round to the published {text}"


@pytest.fixture(scope="module")
def scenario():
    return costspine.load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def result(scenario):
    return costspine.run_cohort(scenario)


def briggs_loop(strategy: str) -> tuple[float, float]:
    """The book's convention written out: advance the cohort, then count costs and life-years."""
    mono = np.zeros((4, 4))
    for i, state in enumerate("ABC"):
        mono[i] = np.array(COUNTS[state], dtype=float) / sum(COUNTS[state])
    mono[3, 3] = 1.0
    comb = mono.copy()
    for i in range(3):
        for j in range(4):
            if j != i:
                comb[i, j] = mono[i, j] * RR
        comb[i, i] = 1.0 - sum(comb[i, j] for j in range(4) if j != i)
    m = [1.0, 0.0, 0.0, 0.0]
    cost = life_years = 0.0
    for t in range(1, N_CYCLES + 1):
        on_combination = strategy == "comb" and t <= COMBINATION_CYCLES
        p = comb if on_combination else mono
        m = [sum(m[i] * p[i][j] for i in range(4)) for j in range(4)]
        drug = ZIDOVUDINE + (LAMIVUDINE if on_combination else 0.0)
        cycle_cost = sum(m[s] * (STATE_COST[s] + drug) for s in range(3))
        cost += cycle_cost / (1 + DISCOUNT_COSTS) ** t
        life_years += sum(m[s] for s in range(3))
    return cost, life_years


def test_strategies_and_settings_are_the_published_model(scenario):
    assert scenario.strategies == ("mono", "comb")
    assert scenario.states == ("A", "B", "C", "D")
    s = scenario.settings
    assert (s.n_cycles, s.cycle_years, s.discount_costs, s.discount_outcomes, s.cycle_correction) == (20, 1.0, 0.06, 0.0, "none")
    assert scenario.analysis.effect == "life_years" and scenario.analysis.comparator == "mono"


@pytest.mark.parametrize("strategy", ["mono", "comb"])
def test_discounted_cost_matches_published_digits(result, strategy):
    k = result.strategies.index(strategy)
    assert result.total_cost.shape == (1, 2)
    assert_printed_digits(float(result.total_cost[0, k]), PUBLISHED_COST[strategy])


@pytest.mark.parametrize("strategy", ["mono", "comb"])
def test_life_years_match_published_digits(result, strategy):
    k = result.strategies.index(strategy)
    assert_printed_digits(float(result.effect[0, k]), PUBLISHED_LIFE_YEARS[strategy])
    # life-years are not discounted (0%), so both views agree
    assert result.outcome("life_years", discounted=False)[0, k] == pytest.approx(result.effect[0, k], rel=1e-12)


def test_incremental_results_and_icer_match_published_digits(result):
    table = compute_result_cea(result)
    comb = table.strategies.index("comb")
    assert_printed_digits(float(table.incremental_cost[comb]), PUBLISHED_INCREMENTAL_COST)
    assert_printed_digits(float(table.incremental_effect[comb]), PUBLISHED_INCREMENTAL_LIFE_YEARS)
    assert_printed_digits(float(table.icer_vs_comparator[comb]), PUBLISHED_ICER)
    assert math.isnan(table.icer_vs_comparator[table.strategies.index("mono")])
    assert table.status == ("frontier", "frontier")


@pytest.mark.parametrize("strategy", ["mono", "comb"])
def test_agrees_with_an_obvious_loop_to_1e9(result, strategy):
    cost, life_years = briggs_loop(strategy)
    k = result.strategies.index(strategy)
    assert result.total_cost[0, k] == pytest.approx(cost, rel=1e-9)
    assert result.effect[0, k] == pytest.approx(life_years, rel=1e-9)


def test_the_obvious_loop_itself_reproduces_the_publication():
    # Guards the reference used above: typed inputs + the book's convention give the book's numbers.
    for strategy in ("mono", "comb"):
        cost, life_years = briggs_loop(strategy)
        assert_printed_digits(cost, PUBLISHED_COST[strategy])
        assert_printed_digits(life_years, PUBLISHED_LIFE_YEARS[strategy])


def test_combination_effect_applies_for_two_cycles_only(scenario):
    inputs = build_model_inputs(scenario)
    mono, comb = scenario.strategies.index("mono"), scenario.strategies.index("comb")
    p = inputs.transition[0]  # (strategy, time, from, to)
    assert p.shape == (2, 20, 4, 4)
    assert p[comb, 0, 0, 1] == pytest.approx(350 / 1734 * RR, rel=1e-12)
    assert p[comb, 1, 2, 3] == pytest.approx(437 / 1749 * RR, rel=1e-12)
    np.testing.assert_allclose(p[comb, 2:], p[mono, 2:], rtol=0, atol=0)
    assert not np.allclose(p[comb, :2], p[mono, :2])
    lamivudine = scenario.categories.index("drugs")
    costs = inputs.state_costs[0, comb, :, 0, lamivudine]  # drugs in state A, per cycle
    np.testing.assert_allclose(costs, [ZIDOVUDINE + LAMIVUDINE] * 2 + [ZIDOVUDINE] * 18)


# ------------------------------------------------------------------------------------------------
# PSA block (Briggs ex. 4.7)

N_DRAWS = 2000


@pytest.fixture(scope="module")
def draws(scenario):
    return draw_parameters(scenario.parameters, N_DRAWS, np.random.default_rng(19970101))


def test_psa_specs_are_the_published_distributions(scenario):
    row_a = scenario.parameter("p_AB")
    assert row_a.family == "dirichlet" and row_a.components == ("p_AA", "p_AB", "p_AC", "p_AD")
    assert row_a.args["alpha"] == (1251, 350, 116, 17)
    assert scenario.parameter("p_BC").args["alpha"] == (731, 512, 15)
    assert scenario.parameter("p_CD").args["alpha"] == (1312, 437)
    rr = scenario.parameter("rr")
    assert rr.family == "lognormal" and rr.value == RR
    assert rr.args["meanlog"] == pytest.approx(math.log(0.509), rel=1e-12)
    assert rr.args["sdlog"] == pytest.approx((math.log(0.710) - math.log(0.365)) / (2 * 1.96), rel=1e-12)
    for name, mean in [
        ("c_direct_A", 1701),
        ("c_direct_B", 1774),
        ("c_direct_C", 6948),
        ("c_community_A", 1055),
        ("c_community_B", 1278),
        ("c_community_C", 2059),
    ]:
        spec = scenario.parameter(name)
        # gamma with sd = mean is an exponential: shape 1, scale = mean
        assert spec.family == "gamma" and spec.value == mean
        assert spec.args["shape"] == pytest.approx(1.0, rel=1e-12)
        assert spec.args["scale"] == pytest.approx(mean, rel=1e-12)
    assert scenario.parameter("c_zidovudine").family == "fixed"
    assert scenario.parameter("c_lamivudine").family == "fixed"


def test_psa_draws_have_the_right_shape_and_dirichlet_rows_sum_to_one(draws):
    for name in ("p_AA", "rr", "c_direct_A", "c_zidovudine"):
        assert draws[name].shape == (N_DRAWS,)
    for row in (("p_AA", "p_AB", "p_AC", "p_AD"), ("p_BB", "p_BC", "p_BD"), ("p_CC", "p_CD")):
        total = sum(draws[name] for name in row)
        np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-12)
        assert all(np.all(draws[name] > 0) for name in row)
    np.testing.assert_array_equal(draws["c_zidovudine"], ZIDOVUDINE)


def test_psa_draw_moments_are_close_to_the_distributions(draws):
    n = N_DRAWS
    sdlog = (math.log(0.710) - math.log(0.365)) / (2 * 1.96)
    log_rr = np.log(draws["rr"])
    # mean of log RR: SE = sdlog / sqrt(n); 5 SE
    assert abs(log_rr.mean() - math.log(0.509)) < 5 * sdlog / math.sqrt(n)
    assert log_rr.std() == pytest.approx(sdlog, rel=0.1)  # SE of an sd is ~ sd / sqrt(2n) = 1.6%
    # Exponential (gamma, sd = mean): SE of the sample mean is mean / sqrt(n) (2.2%); 5 SE
    for name, mean in [("c_direct_C", 6948), ("c_community_A", 1055)]:
        assert abs(draws[name].mean() - mean) < 5 * mean / math.sqrt(n)
    # Dirichlet component mean alpha_i / sum(alpha)
    assert draws["p_AB"].mean() == pytest.approx(350 / 1734, rel=0.01)


def test_psa_same_seed_same_draws(scenario, draws):
    again = draw_parameters(scenario.parameters, N_DRAWS, np.random.default_rng(19970101))
    assert set(again) == set(draws)
    for name in draws:
        np.testing.assert_array_equal(again[name], draws[name])


def test_psa_inputs_validate_every_draw(scenario, draws):
    inputs = build_model_inputs(scenario, draws)  # raises AnalysisError if any draw has a bad row
    assert inputs.transition.shape == (N_DRAWS, 2, 20, 4, 4)
    np.testing.assert_allclose(inputs.transition.sum(axis=-1), 1.0, atol=1e-12)
    assert np.all(inputs.transition >= 0)


def test_psa_means_are_near_the_deterministic_results(scenario, result, draws):
    """PSA means vs the deterministic base case, within a stated Monte Carlo tolerance.

    Tolerance = 4 Monte Carlo standard errors (sample sd / sqrt(n)) + 1% of the base case. The 1%
    allows for the genuine difference between E[f(θ)] and f(E[θ]): the model is non-linear in the
    Dirichlet probabilities (a second-order effect of relative size ~ 1/Σα ≈ 0.1% here) and the
    RR is lognormal with median 0.509, so its mean exp(μ + σ²/2) ≈ 0.516 is 1.5% higher, which moves
    the combination arm (only for two cycles) by much less than 1%.
    """
    psa = run_cohort(scenario, draws)
    assert psa.total_cost.shape == (N_DRAWS, 2)
    for quantity, base in ((psa.total_cost, result.total_cost[0]), (psa.effect, result.effect[0])):
        mean = quantity.mean(axis=0)
        standard_error = quantity.std(axis=0, ddof=1) / math.sqrt(N_DRAWS)
        tolerance = 4 * standard_error + 0.01 * np.abs(base)
        assert np.all(np.abs(mean - base) <= tolerance), (mean, base, tolerance)
    # gamma costs with sd = mean make the cost spread wide; life-years are much tighter
    assert psa.total_cost[:, 0].std() > 0.2 * result.total_cost[0, 0]
    icer_of_means = (psa.total_cost[:, 1] - psa.total_cost[:, 0]).mean() / (psa.effect[:, 1] - psa.effect[:, 0]).mean()
    assert PUBLISHED_ICER_CI[0] < icer_of_means < PUBLISHED_ICER_CI[1]
