"""Beginning-of-cycle and custom counting, start-of-cycle discounting, rewards that can never count.

The toy: 2 states (well, dead), 3 annual cycles, everyone starts well and dies with probability
0.2 each cycle, so the well share at points 0..3 is 1, 0.8, 0.64, 0.512. A cost of 100 per cycle
well (or 100 · cycle), 1000 on entering dead, costs discounted at 10% a year. Every expected
value below is summed by hand from those shares.
"""

from __future__ import annotations

import numpy as np
import pytest

from costspine.errors import ScenarioError
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

from helpers import analysis_toml, invoke, settings_toml, write

WELL = np.array([1.0, 0.8, 0.64, 0.512])
DIED = np.array([0.2, 0.16, 0.128])  # entries into dead in cycles 1..3


def toy(correction="none", *, extra="", cost="100", entry=None, strategies="[strategies.a]\n[strategies.b]\n") -> str:
    return (
        '[model]\nname = "toy"\n'
        + settings_toml(3, discount_costs=0.1, cycle_correction=correction)
        + extra
        + analysis_toml()
        + f'''
[states]
well = {{ initial = 1 }}
dead = {{ initial = 0 }}
{strategies}
[transitions]
well = {{ dead = 0.2, well = "rest" }}
dead = {{ dead = 1 }}
[costs.care]
category = "care"
values = {{ well = "{cost}" }}
'''
        + (f"on_entry = {{ dead = {entry} }}\n" if entry is not None else "")
        + """
[outcomes.qalys]
values = { well = 1 }
"""
    )


def cohort(tmp_path, text):
    return run_cohort(load_scenario(write(tmp_path, text)))


# ------------------------------------------------------------------------------------------------
# Counting and discounting, summed by hand


@pytest.mark.parametrize(
    ("correction", "extra", "expected"),
    [
        ("beginning", "", 100 * (1 + 0.8 / 1.1 + 0.64 / 1.21)),
        ("beginning", 'discount_timing = "start"\n', 100 * (1 + 0.8 / 1.1 + 0.64 / 1.21)),  # start of cycle = its point
        ("none", "", 100 * (0.8 / 1.1 + 0.64 / 1.21 + 0.512 / 1.331)),
        ("none", 'discount_timing = "point"\n', 100 * (0.8 / 1.1 + 0.64 / 1.21 + 0.512 / 1.331)),
        ("none", 'discount_timing = "start"\n', 100 * (0.8 + 0.64 / 1.1 + 0.512 / 1.21)),
        ("half-cycle", 'discount_timing = "start"\n', 100 * ((1 + 0.8) / 2 + (0.8 + 0.64) / 2 / 1.1 + (0.64 + 0.512) / 2 / 1.21)),
        ("custom", "weights = [0.5, 1, 0.75, 0.25]\n", 100 * (0.5 + 0.8 / 1.1 + 0.75 * 0.64 / 1.21 + 0.25 * 0.512 / 1.331)),
        (
            "custom",
            'weights = [0.5, 1, 0.75, 0.25]\ndiscount_timing = "start"\n',
            100 * (0.5 + 0.8 * (1 + 1 / 1.1) / 2 + 0.75 * 0.64 * (1 / 1.1 + 1 / 1.21) / 2 + 0.25 * 0.512 / 1.21),
        ),
        ("custom", 'weights = "where(cycle == 0, 0.5, 1)"\n', 100 * (0.5 + 0.8 / 1.1 + 0.64 / 1.21 + 0.512 / 1.331)),
    ],
)
def test_state_costs_by_hand(tmp_path, correction, extra, expected):
    result = cohort(tmp_path, toy(correction, extra=extra))
    assert result.costs[0, 0, 0] == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize(
    ("correction", "extra", "undiscounted", "per_cycle"),
    [
        ("beginning", "", 100 * (1 + 0.8 + 0.64), [100, 80, 64]),
        (
            "custom",
            "weights = [0.5, 1, 0.75, 0.25]\n",
            100 * (0.5 + 0.8 + 0.48 + 0.128),
            [100 * (0.5 + 0.4), 100 * (0.4 + 0.24), 100 * (0.24 + 0.128)],
        ),
    ],
)
def test_per_cycle_costs_add_up_to_the_total(tmp_path, correction, extra, undiscounted, per_cycle):
    result = cohort(tmp_path, toy(correction, extra=extra))
    assert result.costs_undiscounted[0, 0, 0] == pytest.approx(undiscounted, rel=1e-13)
    np.testing.assert_allclose(result.cost_per_cycle[0, 0, :, 0], per_cycle, rtol=1e-13)
    np.testing.assert_allclose(result.cost_per_cycle.sum(axis=2), result.costs_undiscounted, rtol=1e-13)


def test_beginning_counts_each_cycle_at_its_own_value(tmp_path):
    # cycle t's occupancy at its start (point t - 1) times cycle t's value: 100·1·1 + 100·2·0.8 + 100·3·0.64
    result = cohort(tmp_path, toy("beginning", cost="100 * cycle"))
    assert result.costs_undiscounted[0, 0, 0] == pytest.approx(100 * (1 + 2 * 0.8 + 3 * 0.64), rel=1e-13)
    np.testing.assert_allclose(result.cost_per_cycle[0, 0, :, 0], [100, 160, 192], rtol=1e-13)


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        ("point", 1000 * (0.2 / 1.1 + 0.16 / 1.21 + 0.128 / 1.331)),
        ("start", 1000 * (0.2 + 0.16 / 1.1 + 0.128 / 1.21)),
    ],
)
def test_entry_costs_are_discounted_with_their_cycle(tmp_path, timing, expected):
    result = cohort(tmp_path, toy("none", cost="0", entry=1000, extra=f'discount_timing = "{timing}"\n'))
    assert result.costs[0, 0, 0] == pytest.approx(expected, rel=1e-13)
    assert result.costs_undiscounted[0, 0, 0] == pytest.approx(1000 * DIED.sum(), rel=1e-13)


def test_outcomes_follow_the_counting_and_their_own_rate(tmp_path):
    text = toy("beginning").replace("discount_outcomes = 0.0", "discount_outcomes = 0.05")
    result = cohort(tmp_path, text + "")
    assert result.outcomes[0, 0, 0] == pytest.approx(1 + 0.8 / 1.05 + 0.64 / 1.05**2, rel=1e-13)


def test_the_default_timing_is_today_s_point_discounting(tmp_path):
    plain = cohort(tmp_path, toy("half-cycle"))
    explicit = cohort(tmp_path / "b", toy("half-cycle", extra='discount_timing = "point"\n'))
    np.testing.assert_array_equal(plain.costs, explicit.costs)
    assert plain.costs[0, 0, 0] == pytest.approx(100 * (0.5 + 0.8 / 1.1 + 0.64 / 1.21 + 0.5 * 0.512 / 1.331), rel=1e-13)


# ------------------------------------------------------------------------------------------------
# The microsimulation follows (the same shared accumulation)


@pytest.mark.parametrize(
    "extra",
    [
        "",
        'discount_timing = "start"\n',
    ],
)
@pytest.mark.parametrize("correction", ["beginning", "custom"])
def test_microsimulation_converges_to_the_cohort(tmp_path, correction, extra):
    from costspine.simulate.microsim import run_microsim

    if correction == "custom":
        extra += "weights = [0.5, 1, 0.75, 0.25]\n"
    scenario = load_scenario(write(tmp_path, toy(correction, extra=extra, cost="100 * cycle", entry=1000)))
    expected = run_cohort(scenario)
    micro = run_microsim(scenario, n_individuals=40_000, seed=7)
    assert np.all(np.abs(micro.costs - expected.costs) < 5 * micro.costs_se)
    assert np.all(np.abs(micro.outcomes - expected.outcomes) < 5 * micro.outcomes_se)
    np.testing.assert_allclose(micro.cost_per_cycle.sum(axis=2), micro.costs_undiscounted, rtol=1e-12)


def test_microsimulation_beginning_counting_by_hand(tmp_path):
    # 4 096 individuals, one strategy: exact means from the simulated well shares at points 0..2
    from costspine.simulate.microsim import run_microsim

    scenario = load_scenario(write(tmp_path, toy("beginning", cost="100 * cycle", strategies="[strategies.a]\n")))
    micro = run_microsim(scenario, n_individuals=4096, seed=3)
    well = micro.trace[0, 0, :, 0]
    assert micro.costs_undiscounted[0, 0, 0] == pytest.approx(100 * (1 * well[0] + 2 * well[1] + 3 * well[2]), rel=1e-12)
    assert micro.costs[0, 0, 0] == pytest.approx(100 * (well[0] + 2 * well[1] / 1.1 + 3 * well[2] / 1.21), rel=1e-12)


# ------------------------------------------------------------------------------------------------
# The loader: clear errors


@pytest.mark.parametrize(
    ("correction", "extra", "key", "words"),
    [
        (
            "custom",
            "weights = [0.5, 1, 1]\n",
            "settings.weights",
            "expected 4 weights (one per trace point 0..3, n_cycles = 3); got 3",
        ),
        ("custom", "weights = [0.5, 1, nan, 1]\n", "settings.weights[2]", "expected a finite number, got nan"),
        ("custom", 'weights = [0.5, 1, "x", 1]\n', "settings.weights[2]", "expected a number, got"),
        (
            "custom",
            'weights = "where(cycle == 0, 0.5, age)"\n',
            "settings.weights",
            "the weights may use cycle (the trace point, 0..3), time_years and cycle_years only; got 'age'",
        ),
        (
            "custom",
            'weights = "1 / (cycle - 1)"\n',
            "settings.weights",
            "every weight must be finite; '1 / (cycle - 1)' gives inf at cycle = 1",
        ),
        ("custom", 'weights = "cycle +"\n', "settings.weights", ""),
        ("custom", "", "settings.weights", 'missing; cycle_correction = "custom" needs one weight per trace point'),
        ("half-cycle", "weights = [0.5, 1, 1, 0.5]\n", "settings.weights", 'weights apply to cycle_correction = "custom" only'),
        (
            "none",
            'discount_timing = "stat"\n',
            "settings.discount_timing",
            "expected one of 'point', 'start'; got 'stat' — did you mean 'start'?",
        ),
        (
            "begining",
            "",
            "settings.cycle_correction",
            "expected one of 'none', 'beginning', 'half-cycle', 'simpson', 'custom'; got 'begining' — did you mean 'beginning'?",
        ),
    ],
)
def test_loader_errors(tmp_path, correction, extra, key, words):
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, toy(correction, extra=extra)))
    assert f"scenario.toml: {key}: {words}" in str(err.value)


# ------------------------------------------------------------------------------------------------
# Rewards that can never count

UPFRONT = (
    '[model]\nname = "upfront"\n'
    + settings_toml(3, cycle_correction="none")
    + analysis_toml()
    + """
[states]
pre = { initial = 1 }
well = { initial = 0 }
dead = { initial = 0 }
[strategies.a]
[strategies.b]
[strategies.b.costs.surgery]
category = "procedures"
values = { pre = 5000 }
[transitions]
pre = { well = 1 }
well = { dead = 0.2, well = "rest" }
dead = { dead = 1 }
[costs.surgery]
category = "procedures"
values = { pre = 1000, dead = 0 }
[costs.care]
category = "care"
values = { well = 100 }
[outcomes.qalys]
values = { well = 1 }
"""
)


def test_validate_warns_about_a_cost_that_never_counts_and_exits_0(tmp_path):
    path = write(tmp_path, UPFRONT)
    result = invoke("validate", path)
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert lines == [
        f"warning: {path}: costs.surgery.values.pre: the cost 'surgery' of state 'pre' never counts for strategy 'a': "
        "the cohort is in 'pre' only at trace point 0, of weight 0 under cycle_correction = 'none' — a one-off amount "
        'paid on arrival is an on_entry reward; or count the start of each cycle too (cycle_correction = "half-cycle" or "beginning")',
        f"warning: {path}: strategies.b.costs.surgery.values.pre: the cost 'surgery' of state 'pre' never counts for "
        "strategy 'b': the cohort is in 'pre' only at trace point 0, of weight 0 under cycle_correction = 'none' — a one-off "
        'amount paid on arrival is an on_entry reward; or count the start of each cycle too (cycle_correction = "half-cycle" or "beginning")',
    ]
    assert f"ok  {path}" in result.stdout


def test_run_prints_the_same_warnings(tmp_path):
    path = write(tmp_path, UPFRONT)
    result = invoke("run", path, "--out", tmp_path / "out")
    assert result.exit_code == 0
    assert result.stderr.count("warning: ") == 2
    assert "strategies.b.costs.surgery.values.pre: the cost 'surgery' of state 'pre' never counts" in result.stderr
    assert "warning" not in result.stdout


@pytest.mark.parametrize("correction", ["half-cycle", "beginning", "simpson"])
def test_no_warning_when_every_occupied_point_counts(tmp_path, correction):
    result = invoke(
        "validate", write(tmp_path, UPFRONT.replace('cycle_correction = "none"', f'cycle_correction = "{correction}"'))
    )
    assert result.exit_code == 0
    assert "warning" not in result.stderr


def test_beginning_warns_about_a_state_reached_only_at_the_last_point(tmp_path):
    from costspine.simulate.run import find_scenario_warnings

    text = (
        UPFRONT.replace('cycle_correction = "none"', 'cycle_correction = "beginning"')
        .replace("pre = { well = 1 }", "pre = { well = 1 }\nlate = { late = 1 }")
        .replace('well = { dead = 0.2, well = "rest" }', "well = { well = 1 }")
        .replace("n_cycles = 3", "n_cycles = 1")
        .replace("dead = { initial = 0 }", "dead = { initial = 0 }\nlate = { initial = 0 }")
    )
    text += '[costs.late_care]\ncategory = "care"\nvalues = { late = 7 }\n'
    found = find_scenario_warnings(load_scenario(write(tmp_path, text)))
    # well is entered in cycle 1 and counted only at point 1, the last one: weight 0 with beginning counting
    assert [p.where.split(": ", 1)[1] for p in found] == [
        "costs.care.values.well",
        "costs.care.values.well",
        "outcomes.qalys.values.well",
        "outcomes.qalys.values.well",
    ]
    assert "only at trace point 1, of weight 0 under cycle_correction = 'beginning'" in found[0].message


def test_custom_zero_weights_warn_and_an_unreached_state_does_not(tmp_path):
    from costspine.simulate.run import find_scenario_warnings

    text = UPFRONT.replace('cycle_correction = "none"', 'cycle_correction = "custom"\nweights = [1, 0, 1, 1]')
    found = find_scenario_warnings(load_scenario(write(tmp_path, text)))
    assert found == []  # pre counts at point 0; well at 2 and 3; dead is never reached at 1
    text = UPFRONT.replace('cycle_correction = "none"', 'cycle_correction = "custom"\nweights = "where(cycle == 0, 0, 1)"')
    assert len(find_scenario_warnings(load_scenario(write(tmp_path, text)))) == 2


# ------------------------------------------------------------------------------------------------
# The shared factors (engines/outcomes.py)


def test_cycle_shares_split_each_point_whole():
    from costspine.engines.outcomes import cycle_shares

    for correction in ("none", "beginning", "half-cycle", "simpson", "custom"):
        np.testing.assert_allclose(cycle_shares(5, correction).sum(axis=0), np.ones(6), rtol=1e-15)
    np.testing.assert_array_equal(cycle_shares(3, "beginning"), [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]])
    np.testing.assert_array_equal(cycle_shares(3, "none"), [[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])


@pytest.mark.parametrize("correction", ["beginning", "custom"])
def test_split_by_cycle_of_new_corrections_adds_up(correction):
    from costspine.engines.outcomes import build_reward_factors, total_rewards

    rng = np.random.default_rng(4)
    per_point = rng.random((2, 3, 9, 2))
    weights = rng.random(9) if correction == "custom" else None
    f = build_reward_factors(
        8, cycle_correction=correction, cycle_years=1.0, discount_costs=0.0, discount_outcomes=0.0, weights=weights
    )
    total = total_rewards(per_point, weights=f.weights, discount=np.ones(9))
    np.testing.assert_allclose(f.split_by_cycle(per_point).sum(axis=2), total, rtol=1e-12)


def test_start_timing_discounts_each_cycle_at_its_start():
    from costspine.engines.outcomes import build_reward_factors

    f = build_reward_factors(
        3, cycle_correction="half-cycle", cycle_years=0.5, discount_costs=0.21, discount_outcomes=0.0, discount_timing="start"
    )
    # cycles start at 0, 0.5 and 1 year: factors 1, 1/1.1, 1/1.21; interior points are shared by two cycles
    np.testing.assert_allclose(f.per_point("costs"), [0.5, (1 + 1 / 1.1) / 2, (1 / 1.1 + 1 / 1.21) / 2, 0.5 / 1.21], rtol=1e-14)
    np.testing.assert_allclose(f.per_point("costs", entry=True), [1, 1, 1 / 1.1, 1 / 1.21], rtol=1e-14)
    np.testing.assert_array_equal(f.per_point("outcomes"), f.weights)
    with pytest.raises(ValueError, match="unknown discount timing 'end'"):
        build_reward_factors(
            3, cycle_correction="none", cycle_years=1.0, discount_costs=0.0, discount_outcomes=0.0, discount_timing="end"
        )


def test_run_text_says_when_discounting_is_at_the_start_of_cycles(tmp_path):
    path = write(tmp_path, toy("none", extra='discount_timing = "start"\n'))
    result = invoke("run", path, "--out", tmp_path / "out")
    assert "correction: none; discounted at the start of each cycle" in result.stdout
    assert "180.50" in result.stdout  # 100 · (0.8 + 0.64/1.1 + 0.512/1.21), as in the docs
