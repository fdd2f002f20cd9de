"""Budget impact: cohort timing, linearity, policies, intervals and the [budget_impact] section."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from costspine.analysis.bia import build_population, compute_budget, episodes_from_rate, summarize_budget
from costspine.errors import ScenarioError, UsageError
from costspine.scenario.budget_impact import build_mix, find_budget_impact_problems, uptake_curve

STRATEGIES = ["usual_care", "ice", "ipt"]
CATEGORIES = ["imaging", "injections", "specialist_visits", "therapy_sessions", "primary_care"]


def per_cycle(*rows):
    """(draw=1, strategy, cycle, category=1) from one list of per-cycle costs per strategy."""
    return np.array(rows, dtype=float)[None, :, :, None]


def row(records, measure, year, item="all"):
    (match,) = [r for r in records if r["measure"] == measure and r["year"] == year and r["item"] == item]
    return match


# --------------------------------------------------------------------------------------------
# Cohort timing, worked by hand


def test_two_year_example_with_annual_cycles_follows_time_since_entry():
    # Two strategies, 1000 episodes a year. Strategy A costs 100 in the first year after entry and
    # 50 in the second; B costs 300 then 0. Current mix: all A. New mix: all B.
    #   year 1: only the year-1 cohort, in its first year:      A 100·1000           = 100 000
    #   year 2: year-1 cohort in its 2nd year + year-2 cohort:  A 50·1000 + 100·1000 = 150 000
    #           B: 0·1000 + 300·1000 = 300 000
    cost = per_cycle([100, 50], [300, 0])
    all_a, all_b = [[1, 0], [1, 0]], [[0, 1], [0, 1]]
    b = compute_budget(cost, cycle_years=1.0, episodes_per_year=[1000, 1000], mix_current=all_a, mix_new=all_b)
    assert b.current[0, :, 0].tolist() == [100_000.0, 150_000.0]
    assert b.new[0, :, 0].tolist() == [300_000.0, 300_000.0]
    assert b.difference[0, :, 0].tolist() == [200_000.0, 150_000.0]
    assert b.episodes[0].tolist() == [1000.0, 1000.0]
    assert b.episodes_new[0].tolist() == [[0.0, 1000.0], [0.0, 1000.0]]


def test_a_cohort_entering_in_year_two_starts_at_its_first_cycle():
    # The known bug: indexing costs by calendar year would charge the year-2 cohort 50 (cycle 2).
    cost = per_cycle([100, 50])
    b = compute_budget(cost, cycle_years=1.0, episodes_per_year=[0, 1000], mix_current=[[1], [1]], mix_new=[[1], [1]])
    assert b.current[0, :, 0].tolist() == [0.0, 100_000.0]


def test_two_cycles_per_year_worked_example():
    # h = 0.5 year; per-cycle costs 100 (first half-year after entry) and 50 (second half-year).
    # 1000 episodes a year arrive evenly: 500 in each half-year grid cycle, entering at its start.
    #   grid cycle 0 [0, .5):  500·100                   =  50 000
    #   grid cycle 1 [.5, 1):  500·100 + 500·50          =  75 000
    #   grid cycle 2 [1, 1.5): 500·100 + 500·50          =  75 000
    #   grid cycle 3 [1.5, 2): 500·100 + 500·50          =  75 000
    # year 1 = 50 000 + 75 000 = 125 000; year 2 = 75 000 + 75 000 = 150 000.
    b = compute_budget(
        per_cycle([100, 50]), cycle_years=0.5, episodes_per_year=[1000, 1000], mix_current=[[1], [1]], mix_new=[[1], [1]]
    )
    assert b.current[0, :, 0].tolist() == [125_000.0, 150_000.0]


def test_cycles_that_straddle_a_year_are_split_by_overlap():
    # h = 0.75 year (1⅓ cycles a year); costs 100 then 50 per cycle; 1000 episodes a year.
    # Arrivals per grid cycle = 1000 × years of the cycle inside each calendar year:
    #   cycle 0 [0, .75):    750
    #   cycle 1 [.75, 1.5):  250 (year 1) + 500 (year 2) = 750
    #   cycle 2 [1.5, 2.25): 500 (year 2; the part after the horizon has no arrivals)
    # Cost delivered per grid cycle: 75 000; 750·100 + 750·50 = 112 500; 500·100 + 750·50 = 87 500.
    # Shared by overlap / h: cycle 1 is ⅓ in year 1 and ⅔ in year 2; cycle 2 is ⅔ in year 2.
    #   year 1 = 75 000 + 112 500/3 = 112 500;  year 2 = 112 500·2/3 + 87 500·2/3 = 133 333.33...
    b = compute_budget(
        per_cycle([100, 50]), cycle_years=0.75, episodes_per_year=[1000, 1000], mix_current=[[1], [1]], mix_new=[[1], [1]]
    )
    np.testing.assert_allclose(b.current[0, :, 0], [112_500.0, 400_000.0 / 3.0], rtol=1e-13)


def test_costs_stop_after_the_model_horizon():
    # A one-cycle model (annual): each cohort costs 100 in its first year and nothing after.
    b = compute_budget(
        per_cycle([100]), cycle_years=1.0, episodes_per_year=[1000, 1000, 1000], mix_current=[[1]] * 3, mix_new=[[1]] * 3
    )
    assert b.current[0, :, 0].tolist() == [100_000.0] * 3
    assert b.model_horizon_years == 1.0


def test_four_week_cycles_count_each_patient_cycle_once_when_costs_last_beyond_the_horizon():
    # Cost 1 per 4-week cycle for 10 years: year t holds the patient-cycles delivered in it.
    # With entry at the start of each grid cycle, the arrivals of grid cycle m are in care from
    # m·h, so the total over the horizon is Σ_m arrivals_m · (Y − m·h)/h exactly.
    h, years = 28 / 365.25, 3
    b = compute_budget(
        np.ones((1, 1, 200, 1)),
        cycle_years=h,
        episodes_per_year=[1000.0] * years,
        mix_current=[[1]] * years,
        mix_new=[[1]] * years,
    )
    n_grid = int(np.ceil(years / h))
    starts = np.arange(n_grid) * h
    arrivals = 1000.0 * (np.minimum(starts + h, years) - starts)
    np.testing.assert_allclose(b.current.sum(), np.sum(arrivals * (years - starts) / h), rtol=1e-12)


def slow_budget(cost, policy, start, h, episodes, mix):
    """The timing scheme written as plain loops, one arrival slice at a time (the slow, obvious version)."""
    n_years, n_strategies = len(episodes), len(mix[0])
    n_cycles, n_grid = cost.shape[1], int(np.ceil(n_years / h - 1e-12))

    def overlap(m, y):
        return max(0.0, min((m + 1) * h, y + 1) - max(m * h, y))

    out = np.zeros((n_years, cost.shape[2]))
    for y_entry in range(n_years):
        for j in range(n_grid):
            for s in range(n_strategies):
                arrived = episodes[y_entry] * mix[y_entry][s] * overlap(j, y_entry)
                for k in range(n_cycles):
                    for y in range(n_years):
                        source = policy if (policy is not None and y + 1 >= start) else cost
                        out[y] += arrived * overlap(j + k, y) / h * source[s, k]
    return out


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_fast_kernel_matches_the_slow_loop(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    h = data.draw(st.sampled_from([1.0, 0.5, 0.75, 1 / 3, 0.3, 28 / 365.25 * 4, 1.6]))
    n_years = data.draw(st.integers(1, 4))
    n_strategies, n_cycles, n_cat = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 9)), 2
    cost = rng.gamma(2.0, 50.0, size=(n_strategies, n_cycles, n_cat))
    policy = rng.gamma(2.0, 50.0, size=cost.shape) if data.draw(st.booleans()) else None
    start = data.draw(st.integers(1, n_years)) if policy is not None else None
    episodes = rng.uniform(0, 2000, size=n_years)
    mix = rng.dirichlet(np.ones(n_strategies), size=n_years)
    b = compute_budget(
        cost[None],
        cycle_years=h,
        episodes_per_year=episodes,
        mix_current=mix,
        mix_new=mix,
        policy_cost_per_cycle=None if policy is None else policy[None],
        policy_start_year=start,
    )
    np.testing.assert_allclose(b.current[0], slow_budget(cost, None, None, h, episodes, mix), rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(b.new[0], slow_budget(cost, policy, start, h, episodes, mix), rtol=1e-10, atol=1e-8)


# --------------------------------------------------------------------------------------------
# Properties


def random_inputs(rng, *, draws=3, years=4, strategies=3, cycles=7, categories=2):
    cost = rng.gamma(2.0, 40.0, size=(draws, strategies, cycles, categories))
    mix_current = rng.dirichlet(np.ones(strategies), size=years)
    mix_new = rng.dirichlet(np.ones(strategies), size=years)
    return cost, mix_current, mix_new


@settings(max_examples=30, deadline=None)
@given(
    members=st.floats(1e3, 1e7),
    scale=st.floats(0.01, 100.0),
    growth=st.floats(-0.2, 0.2),
    seed=st.integers(0, 2**32 - 1),
    h=st.sampled_from([1.0, 0.5, 28 / 365.25]),
)
def test_budget_is_linear_in_members(members, scale, growth, seed, h):
    cost, mix_current, mix_new = random_inputs(np.random.default_rng(seed))

    def budget(m):
        population = build_population(m, growth_per_year=growth, years=4)
        episodes = episodes_from_rate(population, 40.0)
        return compute_budget(cost, cycle_years=h, episodes_per_year=episodes, mix_current=mix_current, mix_new=mix_new)

    base, scaled = budget(members), budget(members * scale)
    for name in ("current", "new", "difference"):
        np.testing.assert_allclose(
            getattr(scaled, name), scale * getattr(base, name), rtol=1e-10, atol=1e-9 * np.abs(getattr(base, name)).max() * scale
        )
    # PMPM does not depend on plan size
    np.testing.assert_allclose(
        scaled.pmpm(build_population(members * scale, growth_per_year=growth, years=4))["new"],
        base.pmpm(build_population(members, growth_per_year=growth, years=4))["new"],
        rtol=1e-10,
    )


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), h=st.sampled_from([1.0, 0.5, 0.75, 28 / 365.25]))
def test_zero_uptake_and_no_policy_give_exactly_zero_difference(seed, h):
    rng = np.random.default_rng(seed)
    cost, mix, _ = random_inputs(rng)
    services = rng.poisson(2.0, size=(3, 3, 7, 4)).astype(float)
    b = compute_budget(
        cost,
        cycle_years=h,
        episodes_per_year=rng.uniform(100, 5000, size=4),
        mix_current=mix,
        mix_new=mix.copy(),
        services_per_cycle=services,
    )
    assert np.all(b.difference == 0.0)
    assert np.all(b.services_difference == 0.0)
    assert np.any(b.current != 0.0)


def test_uptake_changes_the_budget():
    # the mirror of the zero-uptake test: it fails if mix_new were ignored
    cost = per_cycle([100, 50], [300, 0])
    b = compute_budget(
        cost, cycle_years=1.0, episodes_per_year=[1000, 1000], mix_current=[[1, 0], [1, 0]], mix_new=[[0.5, 0.5], [0.5, 0.5]]
    )
    assert b.difference[0, :, 0].tolist() == [100_000.0, 75_000.0]


def test_policy_applies_to_care_delivered_from_its_start_year_whatever_the_entry_year():
    # Base costs 100 then 50; under the injection cut 80 then 20; policy from year 2; no uptake.
    #   year 1: both worlds 100·1000 → difference 0
    #   year 2: the year-1 cohort's 2nd-year care is also under the policy: new = 20·1000 + 80·1000
    #           = 100 000 vs current 150 000 → difference −50 000
    #   year 3: new = 100 000 vs 150 000 again
    mix = [[1]] * 3
    b = compute_budget(
        per_cycle([100, 50]),
        cycle_years=1.0,
        episodes_per_year=[1000] * 3,
        mix_current=mix,
        mix_new=mix,
        policy_cost_per_cycle=per_cycle([80, 20]),
        policy_start_year=2,
    )
    assert b.difference[0, :, 0].tolist() == [0.0, -50_000.0, -50_000.0]
    assert b.current[0, :, 0].tolist() == [100_000.0, 150_000.0, 150_000.0]


@pytest.mark.parametrize("h", [1.0, 0.5, 0.75, 28 / 365.25])
@pytest.mark.parametrize("start", [1, 2, 3, 5])
def test_policy_start_year_only_affects_years_from_the_start(h, start):
    rng = np.random.default_rng(7)
    cost, mix, _ = random_inputs(rng, years=5)
    policy = cost * 0.6
    services = rng.poisson(3.0, size=(3, 3, 7, 2)).astype(float)
    b = compute_budget(
        cost,
        cycle_years=h,
        episodes_per_year=[1000.0] * 5,
        mix_current=mix,
        mix_new=mix,
        policy_cost_per_cycle=policy,
        policy_start_year=start,
        services_per_cycle=services,
        policy_services_per_cycle=services * 0.5,
    )
    assert np.all(b.difference[:, : start - 1] == 0.0)
    assert np.all(b.difference[:, start - 1 :] < 0.0)
    assert np.all(b.services_difference[:, : start - 1] == 0.0)
    assert np.all(b.services_difference[:, start - 1 :] < 0.0)


def test_discounting_is_at_the_start_of_each_year_and_zero_rate_is_the_plain_sum():
    args = dict(cycle_years=1.0, episodes_per_year=[1000] * 3, mix_current=[[1]] * 3, mix_new=[[1]] * 3)
    plain = compute_budget(per_cycle([100, 50]), **args)
    zero = compute_budget(per_cycle([100, 50]), discount_rate=0.0, **args)
    disc = compute_budget(per_cycle([100, 50]), discount_rate=0.03, **args)
    assert np.array_equal(plain.current, zero.current)
    np.testing.assert_allclose(disc.current[0, :, 0], [100_000.0, 150_000.0 / 1.03, 150_000.0 / 1.03**2], rtol=1e-14)


def test_results_do_not_depend_on_strategy_order_and_inputs_are_not_mutated():
    rng = np.random.default_rng(3)
    cost, mix_current, mix_new = random_inputs(rng)
    episodes = rng.uniform(100, 1000, size=(3, 4))
    saved = [a.copy() for a in (cost, mix_current, mix_new, episodes)]
    a = compute_budget(cost, cycle_years=0.75, episodes_per_year=episodes, mix_current=mix_current, mix_new=mix_new)
    order = [2, 0, 1]
    b = compute_budget(
        cost[:, order], cycle_years=0.75, episodes_per_year=episodes, mix_current=mix_current[:, order], mix_new=mix_new[:, order]
    )
    np.testing.assert_allclose(a.difference, b.difference, rtol=1e-12)
    np.testing.assert_allclose(a.episodes_new[:, :, order], b.episodes_new, rtol=1e-12)
    for before, after in zip(saved, (cost, mix_current, mix_new, episodes)):
        assert np.array_equal(before, after)


def test_draws_broadcast_between_costs_and_episodes():
    cost = per_cycle([100, 50])  # one draw
    episodes = np.array([[1000, 1000], [2000, 2000]])  # two draws of the episode rate
    b = compute_budget(cost, cycle_years=1.0, episodes_per_year=episodes, mix_current=[[1], [1]], mix_new=[[1], [1]])
    assert b.current.shape == (2, 2, 1)
    assert b.current[:, :, 0].tolist() == [[100_000.0, 150_000.0], [200_000.0, 300_000.0]]


# --------------------------------------------------------------------------------------------
# Summary, PMPM and intervals


def test_pmpm_is_budget_per_member_month_and_total_uses_all_member_months():
    b = compute_budget(
        per_cycle([100, 50], [300, 0]),
        cycle_years=1.0,
        episodes_per_year=[1000, 1000],
        mix_current=[[1, 0], [1, 0]],
        mix_new=[[0, 1], [0, 1]],
    )
    members = [100_000.0, 125_000.0]
    pmpm = b.pmpm(members)
    assert pmpm["current"][0].tolist() == [100_000 / 1_200_000, 150_000 / 1_500_000]
    records = summarize_budget(b, members_by_year=members)
    assert row(records, "pmpm_difference", "total")["mean"] == pytest.approx(350_000 / 2_700_000, rel=1e-14)
    assert row(records, "budget_current", "total")["mean"] == 250_000.0
    assert row(records, "episodes_new", 2, "strategy_2")["mean"] == 1000.0
    assert row(records, "budget_current", 1)["low"] is None  # one draw: no interval


def interval_width(sd):
    rng = np.random.default_rng(11)
    z = rng.standard_normal((400, 1, 2, 1))
    cost = np.concatenate([100 + 0 * z, 100 + sd * z], axis=1)  # strategy 2 is uncertain
    cost = np.concatenate([cost, cost * 0.5], axis=2)[:, :, :2]
    b = compute_budget(
        cost, cycle_years=1.0, episodes_per_year=[1000, 1000], mix_current=[[1, 0], [1, 0]], mix_new=[[0.5, 0.5], [0.5, 0.5]]
    )
    r = row(summarize_budget(b, members_by_year=[1e5, 1e5]), "budget_difference", "total")
    assert r["low"] <= r["mean"] <= r["high"]
    return r["high"] - r["low"]


def test_intervals_widen_with_parameter_uncertainty():
    narrow, wide = interval_width(5.0), interval_width(20.0)
    assert narrow > 0
    assert wide == pytest.approx(4 * narrow, rel=1e-9)  # the spread scales exactly


def test_interval_is_the_central_95_percent_of_draws():
    # 1001 draws of a per-episode cost 0, 1, ..., 1000 (one cycle, annual): the year-1 budget of
    # 1 episode is the draw value itself, so the 2.5 % and 97.5 % points are 25 and 975.
    cost = np.arange(1001.0).reshape(1001, 1, 1, 1)
    b = compute_budget(cost, cycle_years=1.0, episodes_per_year=[1.0], mix_current=[[1]], mix_new=[[1]])
    r = row(b.summary(members_by_year=[1.0]), "budget_current", 1)
    assert (r["low"], r["mean"], r["high"]) == (25.0, 500.0, 975.0)


def test_summary_has_categories_services_and_totals():
    rng = np.random.default_rng(5)
    cost, mix_current, mix_new = random_inputs(rng, draws=50, categories=2)
    services = rng.poisson(1.0, size=(50, 3, 7, 2)).astype(float)
    b = compute_budget(
        cost,
        cycle_years=0.5,
        episodes_per_year=[500.0] * 4,
        mix_current=mix_current,
        mix_new=mix_new,
        services_per_cycle=services,
        strategies=STRATEGIES,
        categories=["imaging", "injections"],
        services=["mri", "injection"],
    )
    records = b.summary(members_by_year=[1e5] * 4)
    total = row(records, "budget_new", "total")["mean"]
    by_cat = sum(row(records, "budget_new", "total", c)["mean"] for c in ("imaging", "injections"))
    assert total == pytest.approx(by_cat, rel=1e-12)
    assert total == pytest.approx(b.new.sum(axis=(1, 2)).mean(), rel=1e-12)
    assert row(records, "services_difference", 3, "mri")["mean"] == pytest.approx(b.services_difference[:, 2, 0].mean())
    assert row(records, "episodes_current", "total", "ice")["mean"] == pytest.approx(500.0 * mix_current[:, 1].sum())


# --------------------------------------------------------------------------------------------
# Population, episodes and uptake helpers


def test_population_episodes_and_uptake_helpers():
    np.testing.assert_allclose(build_population(1000, growth_per_year=0.1, years=3), [1000, 1100, 1210])
    assert episodes_from_rate([1000.0, 2000.0], 50.0).tolist() == [50.0, 100.0]
    assert episodes_from_rate([1000.0], [50.0, 100.0]).tolist() == [[50.0], [100.0]]
    assert episodes_from_rate([1000.0], [40.0, 80.0], age_shares=[0.75, 0.25]).tolist() == [50.0]
    np.testing.assert_allclose(uptake_curve(0.1, 0.5, 5), [0.1, 0.2, 0.3, 0.4, 0.5])
    np.testing.assert_allclose(uptake_curve(0.0, 1.0, 3, shape="s-curve"), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(uptake_curve(0.0, 1.0, 4, shape="s-curve"), [0.0, 7 / 27, 20 / 27, 1.0])
    assert uptake_curve(0.3, 0.3, 1).tolist() == [0.3]


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: uptake_curve(0.1, 0.5, 1), "one point"),
        (lambda: uptake_curve(0.1, 1.5, 3), "end must be a share"),
        (lambda: uptake_curve(0.1, 0.5, 3, shape="cubic"), "shape must be one of"),
        (lambda: build_population(1000, growth_per_year=2.0, years=3), "2 % is 0.02"),
        (lambda: build_population(-5, growth_per_year=0.0, years=3), "positive"),
        (lambda: episodes_from_rate([1000.0], -1.0), ">= 0"),
        (lambda: episodes_from_rate([1000.0], [1.0, 2.0], age_shares=[0.5, 0.6]), "sum to 1"),
    ],
)
def test_helper_errors(call, fragment):
    with pytest.raises(UsageError, match=fragment):
        call()


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(mix_new=[[0.5], [1.0]]), "mix_new shares must sum to 1 in every year; year=1 sums to 0.5"),
        (dict(mix_current=[[1.0]]), r"mix_current must have shape \(year, strategy\) = \(2, 1\)"),
        (dict(cycle_years=0.0), "cycle_years must be a positive"),
        (dict(discount_rate=3.5), "did you mean 0.035"),
        (dict(episodes_per_year=[1000, -1]), "finite and >= 0"),
        (dict(policy_start_year=2), "together"),
        (dict(policy_cost_per_cycle=per_cycle([1, 1]), policy_start_year=3), r"1\.\.2"),
        (dict(policy_cost_per_cycle=per_cycle([1, 1, 1]), policy_start_year=1), "must match the shape"),
        (dict(cost_per_cycle=per_cycle([1, np.nan])), "draw=0 strategy=0 cycle=1"),
        (
            dict(services_per_cycle=per_cycle([1, 1]), policy_cost_per_cycle=per_cycle([1, 1]), policy_start_year=1),
            "policy_services_per_cycle",
        ),
        (dict(cost_per_cycle=np.ones((3, 1, 2, 1)), episodes_per_year=np.ones((2, 2))), "draw axes differ"),
    ],
)
def test_compute_budget_errors_name_the_argument(kwargs, fragment):
    args = dict(
        cost_per_cycle=per_cycle([100, 50]),
        cycle_years=1.0,
        episodes_per_year=[1000, 1000],
        mix_current=[[1.0], [1.0]],
        mix_new=[[1.0], [1.0]],
    )
    args.update(kwargs)
    cost = args.pop("cost_per_cycle")
    with pytest.raises(UsageError, match=fragment):
        compute_budget(cost, **args)


# --------------------------------------------------------------------------------------------
# The [budget_impact] section

WHERE = "scenarios/bia.toml: budget_impact"
VALID = {
    "perspective": "payer",
    "years": 5,
    "members": 100_000,
    "member_growth_per_year": 0.01,
    "discount_rate": 0.0,
    "categories": "all",
    "episodes_per_1000_members": {"value": 30, "source": "assumption: half of Davis 2012 (T9.07)"},
    "mix_current": {"usual_care": 1.0},
    "mix_new": {"ice": {"start": 0.1, "end": 0.5, "shape": "linear"}, "ipt": [0, 0, 0.05, 0.1, 0.1], "usual_care": "rest"},
    "policy": {"scenario": "injection_cut_50.toml", "start_year": 2},
}


def check(section, parameters=None):
    return find_budget_impact_problems(section, where=WHERE, strategies=STRATEGIES, categories=CATEGORIES, parameters=parameters)


def test_a_valid_section_has_no_problems():
    assert check(VALID) == []
    with_ages = copy.deepcopy(VALID)
    with_ages["age_mix"] = {"18-44": 0.5, "45-64": 0.3, "65+": 0.2}
    with_ages["episodes_per_1000_members"] = {"value": {"18-44": 25, "45-64": "rate_45", "65+": 40}, "source": "assumption"}
    with_ages["categories"] = ["imaging", "injections"]
    assert check(with_ages, parameters=["rate_45"]) == []


def test_build_mix_resolves_rest_and_uptake_curves():
    mix = build_mix(VALID["mix_new"], strategies=STRATEGIES, years=5)
    np.testing.assert_allclose(mix[:, 1], [0.1, 0.2, 0.3, 0.4, 0.5])
    np.testing.assert_allclose(mix[:, 2], [0, 0, 0.05, 0.1, 0.1])
    np.testing.assert_allclose(mix.sum(axis=1), 1.0)
    with pytest.raises(ScenarioError) as info:
        build_mix({"ice": 0.5, "ipt": 0.2}, strategies=STRATEGIES, years=2, where="x.toml: budget_impact.mix_new")
    assert "x.toml: budget_impact.mix_new: shares must sum to 1 in every year: year 1 sums to 0.7" in str(info.value)


def mutate(path, value):
    section = copy.deepcopy(VALID)
    *parents, last = path
    table = section
    for p in parents:
        table = table[p]
    if value is DELETE:
        del table[last]
    else:
        table[last] = value
    return section


DELETE = object()

PROBLEM_CASES = [
    # (change, key path after the prefix, text in the message)
    (("yeers",), 5, "yeers", "did you mean 'years'"),
    (("discount_rate",), DELETE, "discount_rate", "missing"),
    (("years",), 11, "years", "must be in [1, 10]; got 11"),
    (("years",), 2.5, "years", "expected a whole number"),
    (("perspective",), "societal", "perspective", "expected one of 'payer'"),
    (("members",), 0, "members", "must be in (0, 1e+10]"),
    (("members",), "many", "members", "expected a number"),
    (("member_growth_per_year",), 2, "member_growth_per_year", "did you mean 0.02"),
    (("discount_rate",), 3.5, "discount_rate", "did you mean 0.035"),
    (("episodes_per_1000_members",), 30, "episodes_per_1000_members", "needs its source"),
    (("episodes_per_1000_members", "source"), DELETE, "episodes_per_1000_members.source", "missing"),
    (("episodes_per_1000_members", "source"), "  ", "episodes_per_1000_members.source", "assumption"),
    (("episodes_per_1000_members", "sd"), 3, "episodes_per_1000_members.sd", "unknown key"),
    (("episodes_per_1000_members", "value"), -4, "episodes_per_1000_members.value", "must be in [0, inf)"),
    (("episodes_per_1000_members", "value"), DELETE, "episodes_per_1000_members.value", "missing"),
    (("episodes_per_1000_members", "value"), "30 *", "episodes_per_1000_members.value", "cannot parse"),
    (
        ("episodes_per_1000_members", "value"),
        "rate_epsiodes",
        "episodes_per_1000_members.value",
        "'rate_epsiodes' is not a parameter — did you mean 'rate_episodes'",
    ),
    (("episodes_per_1000_members", "value"), {"18-44": 30}, "episodes_per_1000_members.value", "needs an age_mix"),
    (("age_mix",), {"18-44": 0.5, "45+": 0.6}, "age_mix", "shares must sum to 1; got 1.1"),
    (("age_mix",), [0.5, 0.5], "age_mix", "expected a table"),
    (("categories",), ["imaging", "injektions"], "categories[1]", "did you mean 'injections'"),
    (("categories",), ["imaging", "imaging"], "categories[1]", "listed twice"),
    (("categories",), "some", "categories", 'expected "all" or a non-empty array'),
    (("mix_current",), {"usual_kare": 1.0}, "mix_current.usual_kare", "unknown strategy — did you mean 'usual_care'"),
    (("mix_current",), {"usual_care": 1.2}, "mix_current.usual_care", "must be in [0, 1]; got 1.2"),
    (("mix_current",), {"usual_care": 0.8, "ice": 0.1}, "mix_current", "year 1 sums to 0.9"),
    (("mix_current",), {"usual_care": "rest", "ice": "rest"}, "mix_current", 'at most one strategy may be "rest"'),
    (
        ("mix_current",),
        {"usual_care": "rest", "ice": 0.7, "ipt": 0.5},
        "mix_current.usual_care",
        '"rest" would be negative: year 1: the other shares sum to 1.2',
    ),
    (("mix_current",), {"usual_care": "all"}, "mix_current.usual_care", "or \"rest\"; got 'all'"),
    (("mix_current",), {}, "mix_current", "expected a table"),
    (("mix_new", "ipt"), [0, 0.1], "mix_new.ipt", "has 2 shares; expected one per year (5)"),
    (("mix_new", "ipt"), [0, 0, 0, 0, -0.1], "mix_new.ipt[4]", "must be in [0, 1]"),
    (("mix_new", "ice"), {"start": 0.1, "end": 0.5, "shape": "cubic"}, "mix_new.ice.shape", "expected one of"),
    (("mix_new", "ice"), {"start": 0.1, "shape": "linear"}, "mix_new.ice.end", "missing"),
    (("mix_new", "ice"), {"start": 0.1, "end": 0.5, "shape": "linear", "speed": 2}, "mix_new.ice.speed", "unknown key"),
    (
        ("mix_new", "ice"),
        {"start": 0.1, "end": 0.95, "shape": "linear"},
        "mix_new.usual_care",
        "year 5: the other shares sum to 1.05",
    ),
    (("policy", "start"), 2, "policy.start", "did you mean 'start_year'"),
    (("policy", "start_year"), 6, "policy.start_year", "within the horizon (years = 5)"),
    (("policy", "start_year"), DELETE, "policy.start_year", "missing"),
    (("policy", "scenario"), "injection_cut", "policy.scenario", "ending in .toml"),
    (("policy",), "injection_cut_50.toml", "policy", "expected a table"),
]


@pytest.mark.parametrize("path, value, key, fragment", PROBLEM_CASES, ids=[f"{c[2]}:{c[3][:20]}" for c in PROBLEM_CASES])
def test_every_problem_kind_is_reported_where_it_is(path, value, key, fragment):
    problems = check(mutate(path, value), parameters=["rate_episodes"])
    assert any(p.where == f"{WHERE}.{key}" and fragment in p.message for p in problems), problems


def test_one_year_uptake_curve_needs_equal_ends():
    section = mutate(("years",), 1)
    section["mix_new"] = {"ice": {"start": 0.1, "end": 0.5, "shape": "linear"}, "usual_care": "rest"}
    section["policy"]["start_year"] = 1
    (problem,) = check(section)
    assert problem.where == f"{WHERE}.mix_new.ice" and "one year cannot go from 0.1 to 0.5" in problem.message


def test_every_problem_is_returned_not_only_the_first():
    section = mutate(("years",), 11)
    section["discount_rate"] = 3.5
    section["mix_current"] = {"usual_care": 0.5}
    section["colour"] = "blue"
    del section["perspective"]
    wheres = {p.where for p in check(section)}
    assert {f"{WHERE}.{k}" for k in ("years", "discount_rate", "colour", "perspective")} <= wheres
    assert check([1, 2]) and check([1, 2])[0].where == WHERE
