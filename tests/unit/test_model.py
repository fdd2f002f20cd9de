"""Unit tests for costspine.model: scenario → arrays → results.

Small scenarios are written as TOML here; expected numbers come from hand formulas or slow loops.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from costspine.errors import AnalysisError, ScenarioError
from costspine.model.inputs import base_case_parameters, build_model_inputs
from costspine.params import draw_parameters
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

from helpers import analysis_toml, settings_toml, write


def settings(n_cycles=3, correction="none", discount_costs=0.0, discount_outcomes=0.0, cycle_length=1, unit="year"):
    return settings_toml(
        n_cycles,
        cycle_length=cycle_length,
        cycle_unit=unit,
        discount_costs=discount_costs,
        discount_outcomes=discount_outcomes,
        cycle_correction=correction,
        currency="EUR",
        price_year=2024,
    )


ANALYSIS = analysis_toml(effect="life_years", comparator="old", wtp=[1000])

TWO_STATE = """
[states]
alive = { initial = 1 }
dead = { initial = 0 }

[strategies.old]
[strategies.new]
values = { p_die_now = "p_die * 0.5" }

[strategies.old.values]
p_die_now = "p_die"

[parameters.p_die]
value = 0.1
source = "test"

[parameters.c_alive]
value = 100
source = "test"

[transitions]
alive = { alive = "rest", dead = "p_die_now" }
dead = { dead = 1 }

[costs.care]
category = "care"
values = { alive = "c_alive" }

[outcomes.life_years]
values = { alive = "cycle_years" }
"""


def load(tmp_path, text, name="model.toml"):
    return load_scenario(write(tmp_path, text, name))


# ------------------------------------------------------------------------------------------------
# Counting, discounting and cycle corrections, by hand


@pytest.mark.parametrize("correction, weights", [("none", [0, 1, 1, 1]), ("half-cycle", [0.5, 1, 1, 0.5])])
def test_two_state_model_by_hand(tmp_path, correction, weights):
    s = load(tmp_path, settings(3, correction, 0.05, 0.03) + ANALYSIS + TWO_STATE)
    r = run_cohort(s)
    for k, p in enumerate([0.1, 0.05]):
        alive = [(1 - p) ** t for t in range(4)]
        cost = sum(w * 100 * a / 1.05**t for t, (w, a) in enumerate(zip(weights, alive)))
        life_years = sum(w * a / 1.03**t for t, (w, a) in enumerate(zip(weights, alive)))
        assert r.total_cost[0, k] == pytest.approx(cost, rel=1e-13)
        assert r.effect[0, k] == pytest.approx(life_years, rel=1e-13)
        assert r.costs_undiscounted[0, k, 0] == pytest.approx(sum(w * 100 * a for w, a in zip(weights, alive)), rel=1e-13)
        np.testing.assert_allclose(r.trace[0, k, :, 0], alive, rtol=1e-14)


def test_monthly_cycles_discount_by_time_in_years(tmp_path):
    s = load(tmp_path, settings(24, "none", 0.035, 0.0, 1, "month") + ANALYSIS + TWO_STATE)
    r = run_cohort(s)
    alive = 0.9 ** np.arange(25)
    expected = sum(100 * alive[t] * 1.035 ** -(t / 12) for t in range(1, 25))
    assert r.total_cost[0, 0] == pytest.approx(expected, rel=1e-13)
    assert r.effect[0, 0] == pytest.approx(alive[1:].sum() / 12, rel=1e-13)  # cycle_years = 1/12


def test_zero_discount_equals_undiscounted(tmp_path):
    r = run_cohort(load(tmp_path, settings(5, "simpson") + ANALYSIS + TWO_STATE))
    np.testing.assert_allclose(r.costs, r.costs_undiscounted, rtol=1e-15)
    np.testing.assert_allclose(r.outcomes, r.outcomes_undiscounted, rtol=1e-15)


def test_cost_per_cycle_adds_up(tmp_path):
    r = run_cohort(load(tmp_path, settings(4, "none") + ANALYSIS + TWO_STATE))
    assert r.cost_per_cycle.shape == (1, 2, 4, 1)
    np.testing.assert_allclose(r.cost_per_cycle[0, 0, :, 0], 100 * 0.9 ** np.arange(1, 5), rtol=1e-14)
    np.testing.assert_allclose(r.cost_per_cycle.sum(axis=2), r.costs_undiscounted, rtol=1e-14)


# ------------------------------------------------------------------------------------------------
# Tunnel states, transition rewards, indicators, strategy overrides

TUNNEL = (
    settings(8, "none", 0.04)
    + ANALYSIS
    + """
[states]
well = { initial = 1 }
sick_1 = { initial = 0 }
sick_2 = { initial = 0 }
sick_3 = { initial = 0 }
dead = { initial = 0 }

[strategies.old]
[strategies.new]

[parameters.p_sick]
value = 0.2
source = "test"

[parameters.c_event]
value = 1000
source = "test"

[transitions]
well = { well = "rest", sick_1 = "p_sick", dead = 0.01 }
sick_1 = { sick_2 = 1 }
sick_2 = { sick_3 = 1 }
sick_3 = { well = 0.5, dead = 0.5 }
dead = { dead = 1 }

[strategies.new.transitions]
well = { well = "rest", sick_1 = "p_sick / 2", dead = 0.01 }

[costs.episode]
category = "events"
on_entry = { sick_1 = "c_event" }

[costs.care]
category = "care"
values = { sick_1 = 300, sick_2 = 200, sick_3 = 100 }

[strategies.new.costs.care]
category = "care"
values = { sick_1 = 150, sick_2 = 100, sick_3 = 50 }

[outcomes.life_years]
values = { well = 1, sick_1 = 1, sick_2 = 1, sick_3 = 1 }

[indicators.pain]
values = { well = 10, sick_1 = 60, sick_2 = 40 }
"""
)


def tunnel_matrix(p_sick):
    P = np.zeros((5, 5))
    P[0] = [1 - p_sick - 0.01, p_sick, 0, 0, 0.01]
    P[1, 2] = P[2, 3] = 1.0
    P[3, 0] = P[3, 4] = 0.5
    P[4, 4] = 1.0
    return P


def test_tunnel_states_and_entry_costs_by_slow_loop(tmp_path):
    r = run_cohort(load(tmp_path, TUNNEL))
    categories = r.categories
    assert categories == ("events", "care")
    for k, (p_sick, care) in enumerate([(0.2, [0, 300, 200, 100, 0]), (0.1, [0, 150, 100, 50, 0])]):
        P = tunnel_matrix(p_sick)
        m = np.array([1.0, 0, 0, 0, 0])
        events = care_cost = 0.0
        for t in range(1, 9):
            entering_sick_1 = sum(m[i] * P[i, 1] for i in range(5) if i != 1)
            m = m @ P
            np.testing.assert_allclose(r.trace[0, k, t], m, rtol=1e-13, atol=1e-16)
            events += 1000 * entering_sick_1 / 1.04**t
            care_cost += float(np.dot(m, care)) / 1.04**t
        assert r.costs[0, k, categories.index("events")] == pytest.approx(events, rel=1e-13)
        assert r.costs[0, k, categories.index("care")] == pytest.approx(care_cost, rel=1e-13)


def test_tunnel_occupancy_moves_one_step_per_cycle(tmp_path):
    r = run_cohort(load(tmp_path, TUNNEL))
    trace = r.trace[0, 0]
    # whoever is in sick_1 at t is in sick_2 at t+1 and in sick_3 at t+2
    np.testing.assert_allclose(trace[1:-1, 1], trace[2:, 2], rtol=1e-14)
    np.testing.assert_allclose(trace[1:-1, 2], trace[2:, 3], rtol=1e-14)
    np.testing.assert_allclose(trace.sum(axis=1), 1.0, rtol=1e-14)


def test_indicator_is_the_occupancy_weighted_mean_over_its_states(tmp_path):
    r = run_cohort(load(tmp_path, TUNNEL))
    assert r.indicator_names == ("pain",)
    trace = r.trace[0, 0]
    listed = trace[:, 0] + trace[:, 1] + trace[:, 2]
    expected = (10 * trace[:, 0] + 60 * trace[:, 1] + 40 * trace[:, 2]) / listed
    np.testing.assert_allclose(r.indicators[0, 0, :, 0], expected, rtol=1e-13)
    assert r.indicators[0, 0, 0, 0] == 10.0


def test_time_dependent_values_and_transitions(tmp_path):
    text = settings(4) + ANALYSIS + TWO_STATE.replace('p_die_now = "p_die"', 'p_die_now = "where(cycle <= 2, 0, p_die)"')
    s = load(tmp_path, text)
    inputs = build_model_inputs(s)
    assert inputs.transition.shape == (1, 2, 4, 2, 2)
    np.testing.assert_allclose(inputs.transition[0, 0, :, 0, 1], [0, 0, 0.1, 0.1])
    np.testing.assert_allclose(inputs.transition[0, 1, :, 0, 1], [0.05] * 4)
    np.testing.assert_allclose(inputs.transition.sum(axis=-1), 1.0)
    r = run_cohort(s)
    np.testing.assert_allclose(r.trace[0, 0, :, 0], [1, 1, 1, 0.9, 0.81], rtol=1e-14)


def test_time_homogeneous_model_keeps_one_slice(tmp_path):
    inputs = build_model_inputs(load(tmp_path, settings(50) + ANALYSIS + TWO_STATE))
    assert inputs.transition.shape == (1, 2, 1, 2, 2)
    assert inputs.state_costs.shape == (1, 2, 1, 2, 1)


def test_time_dependent_cost_uses_the_cycle_value_and_point_zero_takes_cycle_one(tmp_path):
    text = (
        settings(3, "half-cycle")
        + ANALYSIS
        + TWO_STATE.replace('values = { alive = "c_alive" }', 'values = { alive = "10 * cycle" }')
    )
    r = run_cohort(load(tmp_path, text))
    alive = 0.9 ** np.arange(4)
    expected = 0.5 * 10 * alive[0] + 10 * alive[1] + 20 * alive[2] + 0.5 * 30 * alive[3]
    assert r.total_cost[0, 0] == pytest.approx(expected, rel=1e-14)


# ------------------------------------------------------------------------------------------------
# PSA draws through the model


def test_derived_parameters_are_recomputed_per_draw(tmp_path):
    text = (
        settings(2)
        + ANALYSIS
        + TWO_STATE.replace(
            '''[parameters.c_alive]
value = 100
source = "test"''',
            '''[parameters.c_base]
value = 60
distribution = "gamma"
mean = 60
sd = 20
source = "test"

[parameters.c_alive]
value = "c_base + 40"
source = "derived"''',
        )
    )
    s = load(tmp_path, text)
    draws = draw_parameters(s.parameters, 50, np.random.default_rng(0))
    assert "c_alive" not in draws
    inputs = build_model_inputs(s, draws)
    np.testing.assert_allclose(inputs.state_costs[:, 0, 0, 0, 0], draws["c_base"] + 40, rtol=1e-15)
    assert build_model_inputs(s).state_costs[0, 0, 0, 0, 0] == 100.0


def test_psa_run_does_not_mutate_the_draws(tmp_path):
    s = load(
        tmp_path,
        settings(3)
        + ANALYSIS
        + TWO_STATE.replace("value = 0.1\nsource", 'value = 0.1\ndistribution = "beta"\nalpha = 10\nbeta = 90\nsource'),
    )
    draws = draw_parameters(s.parameters, 20, np.random.default_rng(1))
    before = {k: v.copy() for k, v in draws.items()}
    r = run_cohort(s, draws)
    assert r.total_cost.shape == (20, 2)
    assert set(draws) == set(before)
    for k in draws:
        np.testing.assert_array_equal(draws[k], before[k])
    # each draw equals a base-case run at that draw's values
    d = 7
    single = run_cohort(s, {k: v[d : d + 1] for k, v in draws.items()})
    np.testing.assert_allclose(single.total_cost[0], r.total_cost[d], rtol=1e-13)


def test_base_case_parameters(chancellor):
    s = chancellor
    base = base_case_parameters(s)
    assert base["p_AB"] == pytest.approx([350 / 1734])
    assert base["rr"] == pytest.approx([0.509])
    assert base["c_direct_A"] == pytest.approx([1701.0])


def test_wrong_number_of_draws_is_an_analysis_error(tmp_path):
    s = load(tmp_path, settings(2) + ANALYSIS + TWO_STATE)
    with pytest.raises(AnalysisError, match="p_die"):
        build_model_inputs(s, {"p_die": np.full(3, 0.1), "c_alive": np.full(4, 100.0)})


# ------------------------------------------------------------------------------------------------
# Probability errors name strategy, cycle, state (and the draw)


def test_row_not_summing_to_one_names_strategy_cycle_and_state(tmp_path):
    text = (
        settings(2)
        + ANALYSIS
        + TWO_STATE.replace('alive = { alive = "rest", dead = "p_die_now" }', 'alive = { alive = 0.8, dead = "p_die_now" }')
    )
    s = load(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        build_model_inputs(s)
    messages = [str(p) for p in info.value.problems]
    assert any("strategy=old cycle=all from=alive: row sums to 0.9" in m for m in messages), messages
    assert any("strategy=new cycle=all from=alive: row sums to 0.85" in m for m in messages), messages
    assert all(str(tmp_path / "model.toml") in m for m in messages)


def test_probability_out_of_range_names_the_cycle(tmp_path):
    text = settings(4) + ANALYSIS + TWO_STATE.replace('p_die_now = "p_die"', 'p_die_now = "where(cycle == 3, 1.5, p_die)"')
    with pytest.raises(ScenarioError) as info:
        build_model_inputs(load(tmp_path, text))
    messages = [p.message for p in info.value.problems]
    assert "strategy=old cycle=3 from=alive to=dead: probability 1.5 is outside [0, 1]" in messages
    assert "strategy=old cycle=3 from=alive to=alive: probability -0.5 is outside [0, 1]" in messages
    assert not any("cycle=2" in m or "strategy=new" in m for m in messages)


def test_psa_probability_errors_name_the_draw(tmp_path):
    text = (
        settings(2)
        + ANALYSIS
        + TWO_STATE.replace("value = 0.1\nsource", 'value = 0.1\ndistribution = "normal"\nmean = 0.1\nsd = 0.2\nsource')
    )
    s = load(tmp_path, text)
    build_model_inputs(s)  # the base case is valid
    draws = draw_parameters(s.parameters, 200, np.random.default_rng(3))
    bad = np.flatnonzero((draws["p_die"] < 0) | (draws["p_die"] > 1))
    assert bad.size  # a normal with sd 0.2 around 0.1 goes below 0
    with pytest.raises(AnalysisError) as info:
        build_model_inputs(s, draws)
    message = str(info.value)
    named = {int(d) for d in re.findall(r"draw=(\d+)", message)}
    assert named and named <= set(bad.tolist())
    assert "strategy=old cycle=all from=alive" in message
    assert "distributions" in message  # says what to fix


def test_initial_distribution_must_sum_to_one(tmp_path):
    for initial in ("0.5", '"log(-1)"', "-1"):
        text = settings(2) + ANALYSIS + TWO_STATE.replace("alive = { initial = 1 }", f"alive = {{ initial = {initial} }}")
        with pytest.raises(ScenarioError) as info:
            build_model_inputs(load(tmp_path, text))
        assert any("initial distribution must be >= 0 and sum to 1" in p.message for p in info.value.problems), initial


def test_non_finite_reward_names_strategy_cycle_state_and_category(tmp_path):
    # 1/0 is inf; left alone it would make every total NaN (inf * 0 occupancy) without a word.
    text = (
        settings(3)
        + ANALYSIS
        + TWO_STATE.replace('values = { alive = "c_alive" }', 'values = { alive = "c_alive / (cycle - 2)" }')
    )
    with pytest.raises(ScenarioError) as info:
        build_model_inputs(load(tmp_path, text))
    (problem,) = {str(p) for p in info.value.problems if "strategy=old" in str(p)}
    assert (
        problem
        == f"{tmp_path / 'model.toml'}: costs: strategy=old cycle=2 state=alive category=care: expected a finite value, got inf"
    )


def test_non_finite_reward_in_a_psa_draw_names_the_draw(tmp_path):
    text = (
        settings(2) + ANALYSIS + TWO_STATE.replace('values = { alive = "c_alive" }', 'values = { alive = "1 / (c_alive - 100)" }')
    )
    text = text.replace(
        '[parameters.c_alive]\nvalue = 100\nsource = "test"',
        '[parameters.c_alive]\nvalue = 90\ndistribution = "uniform"\nmin = 80\nmax = 120\nsource = "test"',
    )
    s = load(tmp_path, text)
    draws = draw_parameters(s.parameters, 4, np.random.default_rng(0))
    draws["c_alive"][2] = 100.0  # a draw that hits the pole
    with pytest.raises(AnalysisError, match=r"draw=2 strategy=old cycle=all state=alive category=care: expected a finite value"):
        build_model_inputs(s, draws)


def test_inputs_are_not_shared_between_strategies(tmp_path):
    inputs = build_model_inputs(load(tmp_path, TUNNEL))
    assert inputs.state_costs[0, 0, 0, 1, 1] == 300 and inputs.state_costs[0, 1, 0, 1, 1] == 150
    assert inputs.entry_costs[0, 0, 0, 1, 0] == 1000 and inputs.entry_costs[0, 1, 0, 1, 0] == 1000
