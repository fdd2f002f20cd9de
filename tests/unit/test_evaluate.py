"""Unit tests for costspine.model.evaluate and costspine.model.checks: the one evaluation path and
the one probability/finiteness checker shared by the cohort inputs and the microsimulation grid."""

from __future__ import annotations

import numpy as np
import pytest

from costspine.errors import AnalysisError, ScenarioError
from costspine.expressions import parse_expression
from costspine.model.checks import (
    MAX_LISTED_CELLS,
    find_nonfinite_problems,
    find_probability_problems,
)
from costspine.model.evaluate import (
    build_strategy_spaces,
    build_time_names,
    evaluate_expression,
    fill_rest,
    find_rest_cells,
)
from costspine.model.groups import build_groups
from costspine.model.inputs import build_model_inputs, evaluate_parameters
from costspine.model.microsim_tables import build_draw_tables
from costspine.scenario.load import load_scenario
from costspine.scenario.population import EMPTY_POPULATION
from costspine.simulate.microsim import run_microsim

# Time-dependent transitions, a strategy value, entry costs, an indicator and a service: every kind
# of cell the two paths evaluate.
TOY = """
[model]
name = "toy"

[settings]
cycle_length = 1
cycle_unit = "year"
n_cycles = 4
discount_costs = 0.03
discount_outcomes = 0.015
cycle_correction = "half-cycle"
currency = "EUR"
price_year = 2024

[analysis]
effect = "qalys"
comparator = "old"
wtp = [1000]

[states]
well = { initial = 0.7 }
sick = { initial = "1 - 0.7" }
dead = { initial = 0 }

[strategies.old]
values = { hr = "1" }

[strategies.new]
values = { hr = "0.5 + 0.1 * cycle" }

[parameters.p_sick]
value = 0.1
source = "test"

[parameters.c_sick]
value = 100
source = "test"

[transitions]
well = { well = "rest", sick = "p_sick * hr", dead = 0.01 }
sick = { well = 0.2, sick = "rest", dead = "0.02 * cycle" }
dead = { dead = 1 }

[costs.care]
category = "care"
values = { sick = "c_sick" }
on_entry = { sick = "2 * c_sick", dead = 50 }

[costs.drug]
category = "care"
values = { well = "10 * hr" }

[outcomes.qalys]
values = { well = "0.9 * cycle_years", sick = "0.6 * cycle_years" }
on_entry = { sick = "-0.01 * hr" }

[indicators.pain]
values = { well = 1, sick = "3 + time_years" }

[services.visits]
values = { sick = 2 }
on_entry = { sick = 1 }
"""


def load(tmp_path, text=TOY, name="toy.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def grid_tables(scenario, params=None, *, draw=0, base_case=True):
    values = evaluate_parameters(scenario, params)
    groups = build_groups(EMPTY_POPULATION, values, tables=scenario.tables, where=str(scenario.path), base_case=base_case)
    return build_draw_tables(scenario, EMPTY_POPULATION, groups, values, draw=draw, base_case=base_case)


# ------------------------------------------------------------------------------------------------
# One evaluation path


def test_time_names_broadcast_along_the_given_axis():
    names = build_time_names(3, 0.25, shape=(-1, 1, 1))
    assert names["cycle"].shape == (3, 1, 1) and names["cycle"].ravel().tolist() == [1, 2, 3]
    assert names["time_years"].ravel().tolist() == [0.0, 0.25, 0.5]
    assert names["cycle_years"] == 0.25


def test_cohort_and_grid_evaluate_every_cell_to_the_same_values(tmp_path):
    scenario = load(tmp_path)
    inputs = build_model_inputs(scenario)
    tables = grid_tables(scenario)
    n_states, n_cycles = len(scenario.states), scenario.settings.n_cycles
    # no attributes or history: one grid row per state, one slice per cycle (transitions are time-dependent)
    assert tables.trans_prob.shape == (2, n_cycles, n_states, n_states)
    np.testing.assert_array_equal(tables.trans_prob, inputs.transition[0])
    np.testing.assert_array_equal(tables.init_prob[0], inputs.initial[0, 0])
    cols = tables.columns.slices()
    n_time = tables.state_values.shape[1]
    for grid_part, cohort_part in (
        (tables.state_values[..., cols["costs"]], inputs.state_costs),
        (tables.entry_values[..., cols["costs"]], inputs.entry_costs),
        (tables.state_values[..., cols["outcomes"]], inputs.state_outcomes),
        (tables.entry_values[..., cols["outcomes"]], inputs.entry_outcomes),
        (tables.state_values[..., cols["indicators"]], inputs.indicator_values),
        (tables.state_values[..., cols["services"]], inputs.state_services),
        (tables.entry_values[..., cols["services"]], inputs.entry_services),
    ):
        cohort = np.broadcast_to(cohort_part[0], (2, n_time) + cohort_part.shape[3:])
        np.testing.assert_array_equal(grid_part, cohort)
    assert inputs.state_costs[0, 1, 2, 0, 0] == pytest.approx(10 * (0.5 + 0.1 * 3))  # drug in well, new, cycle 3


def test_rest_takes_the_remainder_of_its_row_in_both_layouts(tmp_path):
    scenario = load(tmp_path)
    assert find_rest_cells(scenario) == [(0, 0, 0), (0, 1, 1), (1, 0, 0), (1, 1, 1)]
    rng = np.random.default_rng(1)
    cohort = rng.uniform(0, 0.3, size=(5, 2, 4, 3, 3))  # (draw, strategy, time, from, to)
    grid = np.moveaxis(cohort, 1, 0).copy()  # (strategy, draw, time, from, to)
    fill_rest(scenario, cohort, strategy_axis=1)
    fill_rest(scenario, grid, strategy_axis=0)
    np.testing.assert_array_equal(np.moveaxis(grid, 0, 1), cohort)
    np.testing.assert_allclose(cohort[..., :2, :].sum(axis=-1), 1.0, rtol=0, atol=1e-15)
    assert not np.allclose(cohort[..., 2, :].sum(axis=-1), 1.0)  # the dead row has no rest cell: left alone


def test_strategy_values_stay_in_their_strategy(tmp_path):
    scenario = load(tmp_path)
    space = build_time_names(4, 1.0, shape=(1, -1))
    before = dict(space)

    def evaluate(expr, local, where):
        return evaluate_expression(scenario, expr, local, where)

    old, new = build_strategy_spaces(scenario, space, evaluate)
    assert space.keys() == before.keys()
    assert float(old["hr"]) == 1.0
    np.testing.assert_allclose(new["hr"], [[0.6, 0.7, 0.8, 0.9]])


def test_evaluation_errors_name_the_file_and_the_key(tmp_path):
    scenario = load(tmp_path)
    with pytest.raises(ScenarioError) as info:
        evaluate_expression(scenario, parse_expression("nope + 1"), {}, "costs.care.values.sick (strategy old)")
    (problem,) = info.value.problems
    assert problem.where == f"{tmp_path / 'toy.toml'}: costs.care.values.sick (strategy old)"
    assert "nope" in problem.message
    with pytest.raises(ScenarioError, match=r"transitions.well.sick: 'x' has an unexpected shape \(2, 2\)"):
        evaluate_expression(scenario, parse_expression("x"), {"x": np.ones((2, 2))}, "transitions.well.sick", ndim=3)


# ------------------------------------------------------------------------------------------------
# One checker


def label(cell):
    return " ".join(f"axis{a}={i}" for a, i in enumerate(cell))


def test_valid_probabilities_have_no_problems():
    prob = np.full((3, 2, 4), 0.25)
    assert find_probability_problems(prob, label) == []


def test_each_bad_cell_and_row_is_named_by_the_caller():
    prob = np.full((2, 3, 2), 0.5)
    prob[1, 2] = [1.5, -0.5]  # both cells out of range, row still sums to 1
    prob[0, 1] = [0.5, 0.6]  # row sums to 1.1
    prob[1, 0, 0] = np.nan  # NaN fails both checks
    messages = [m for _, m in find_probability_problems(prob, label, hint="fix it")]
    assert messages == [
        "axis0=1 axis1=0 axis2=0: probability nan is outside [0, 1]",
        "axis0=1 axis1=2 axis2=0: probability 1.5 is outside [0, 1]",
        "axis0=1 axis1=2 axis2=1: probability -0.5 is outside [0, 1]",
        "axis0=0 axis1=1: row sums to 1.1, expected 1 (fix it)",
        "axis0=1 axis1=0: row sums to nan, expected 1 (fix it)",
    ]


def test_many_bad_cells_are_counted_not_listed():
    prob = np.full((40, 2), 0.7)  # 40 rows summing to 1.4
    problems = find_probability_problems(prob, label)
    assert len(problems) == MAX_LISTED_CELLS + 1
    assert problems[-1] == (None, f"... and {40 - MAX_LISTED_CELLS} more cells like these")
    assert len(find_probability_problems(np.full(40, 2.0), label, rows=False, more=False)) == MAX_LISTED_CELLS


def test_non_finite_cells_are_named():
    values = np.zeros((2, 3))
    values[1, 2] = np.inf
    values[0, 0] = np.nan
    assert find_nonfinite_problems(values, label) == [
        ((0, 0), "axis0=0 axis1=0: expected a finite value, got nan"),
        ((1, 2), "axis0=1 axis1=2: expected a finite value, got inf"),
    ]
    assert find_nonfinite_problems(np.ones(3), label) == []


def test_cohort_and_microsimulation_reject_a_non_finite_reward_with_the_same_words(tmp_path):
    # 1 / (cycle - 2) is inf in cycle 2: left alone it would make every mean NaN in both models
    scenario = load(tmp_path, TOY.replace('values = { sick = "c_sick" }', 'values = { sick = "c_sick / (cycle - 2)" }'))
    with pytest.raises(ScenarioError) as cohort:
        build_model_inputs(scenario)
    with pytest.raises(ScenarioError) as microsim:
        run_microsim(scenario, n_individuals=100, seed=1)
    expected = f"{tmp_path / 'toy.toml'}: costs: strategy=old cycle=2 state=sick category=care: expected a finite value, got inf"
    assert expected in {str(p) for p in cohort.value.problems}
    assert {str(p) for p in cohort.value.problems} == {str(p) for p in microsim.value.problems}


def test_a_non_finite_reward_in_a_psa_draw_names_the_draw_in_both_models(tmp_path):
    scenario = load(tmp_path, TOY.replace('values = { sick = "c_sick" }', 'values = { sick = "1 / (c_sick - 100)" }'))
    draws = {"p_sick": np.array([0.1, 0.1, 0.1]), "c_sick": np.array([90.0, 100.0, 110.0])}
    # the drug cost of "new" depends on time, so the cost array has one slice per cycle
    with pytest.raises(AnalysisError, match=r"draw=1 strategy=old cycle=1 state=sick category=care: expected a finite value"):
        build_model_inputs(scenario, draws)
    with pytest.raises(AnalysisError, match=r"non-finite rewards in PSA draw 1 \(microsimulation\)") as info:
        run_microsim(scenario, draws, n_individuals=100, seed=1)
    assert "costs: strategy=old cycle=1 state=sick category=care: expected a finite value, got inf" in str(info.value)


def test_invalid_probabilities_use_the_same_words_in_both_models(tmp_path):
    scenario = load(tmp_path, TOY.replace('dead = "0.02 * cycle"', 'dead = "0.3 * cycle"'))
    with pytest.raises(ScenarioError) as cohort:
        build_model_inputs(scenario)
    with pytest.raises(ScenarioError) as microsim:
        run_microsim(scenario, n_individuals=100, seed=1)
    cohort_messages = {p.message for p in cohort.value.problems}
    assert "strategy=old cycle=4 from=sick to=sick: probability -0.4 is outside [0, 1]" in cohort_messages
    assert cohort_messages == {p.message for p in microsim.value.problems}
