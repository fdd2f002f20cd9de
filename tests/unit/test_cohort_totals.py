"""The PSA's cohort totals (cell by cell on the trace) equal the full cohort run's, draw by draw."""

from __future__ import annotations

import numpy as np
import pytest

from costspine.analysis.parameter_draws import draw_run_parameters
from costspine.errors import AnalysisError
from costspine.model.inputs import base_case_parameters, evaluate_parameters
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort, run_cohort_totals

from helpers import analysis_toml, settings_toml, write


def toy(correction: str, extra: str, cost: str, entry: str) -> str:
    return (
        '[model]\nname = "toy"\n'
        + settings_toml(4, discount_costs=0.1, discount_outcomes=0.03, cycle_correction=correction)
        + extra
        + analysis_toml()
        + f'''
[parameters.p]
distribution = "beta"
mean = 0.2
sd = 0.05
source = "test"

[parameters.c]
distribution = "gamma"
mean = 100
sd = 20
source = "test"

[states]
well = {{ initial = 0.9 }}
sick = {{ initial = 0.1 }}
dead = {{ initial = 0 }}

[strategies.a]
[strategies.b]

[transitions]
well = {{ sick = "p", dead = "0.01 * cycle", well = "rest" }}
sick = {{ dead = "0.1", sick = "rest" }}
dead = {{ dead = 1 }}

[costs.care]
category = "care"
values = {{ well = "{cost}", sick = "2 * c" }}
on_entry = {{ dead = "{entry}" }}

[costs.drug]
category = "drug"
values = {{ sick = "where(cycle <= 2, c, 0)" }}

[outcomes.qalys]
values = {{ well = 1, sick = "0.5 + 0.01 * cycle" }}
on_entry = {{ sick = "-0.1" }}
'''
    )


CASES = [
    ("none", "", "c", "1000"),
    ("none", 'discount_timing = "start"\n', "c * cycle", "1000 * cycle"),
    ("beginning", "", "c * cycle", "10 * c"),
    ("half-cycle", 'discount_timing = "start"\n', "c", "1000 * cycle"),
    ("simpson", "", "c + cycle", "1000"),
    ("custom", "weights = [0.5, 1, 0.75, 0.25, 1]\n", "c * cycle", "1000"),
]


@pytest.mark.parametrize(("correction", "extra", "cost", "entry"), CASES)
def test_totals_equal_the_full_cohort_run_draw_by_draw(tmp_path, correction, extra, cost, entry):
    s = load_scenario(write(tmp_path, toy(correction, extra, cost, entry)))
    params = draw_run_parameters(s, seed=3, start=0, stop=257)
    full = run_cohort(s, params)
    costs, outcomes, values = run_cohort_totals(s, params)
    assert costs.shape == full.costs.shape and outcomes.shape == full.outcomes.shape
    assert np.allclose(costs, full.costs, rtol=1e-13, atol=0)
    assert np.allclose(outcomes, full.outcomes, rtol=1e-13, atol=0)
    assert np.ptp(costs[:, 0, 0]) > 0  # the draws differ, so the comparison is draw by draw
    expected = evaluate_parameters(s, params)
    assert values.keys() == expected.keys() and all(np.array_equal(values[k], expected[k]) for k in values)


def test_base_case_totals_equal_the_full_run(chancellor):
    costs, outcomes, _ = run_cohort_totals(chancellor, base_case_parameters(chancellor))
    full = run_cohort(chancellor)
    assert np.allclose(costs, full.costs, rtol=1e-13, atol=0) and np.allclose(outcomes, full.outcomes, rtol=1e-13, atol=0)


def test_a_draw_does_not_depend_on_the_draws_computed_with_it(chancellor):
    params = draw_run_parameters(chancellor, seed=5, start=0, stop=1000)
    whole = run_cohort_totals(chancellor, params)
    part = run_cohort_totals(chancellor, {k: v[1:2] for k, v in params.items()})
    assert np.array_equal(part[0], whole[0][1:2]) and np.array_equal(part[1], whole[1][1:2])


def test_a_non_finite_reward_names_its_draw(tmp_path):
    s = load_scenario(write(tmp_path, toy("none", "", "c / (c - c)", "1000")))  # 0/0 in every draw
    with pytest.raises(AnalysisError, match=r"non-finite rewards in PSA draws:\n  - costs: draw=0 strategy=a"):
        run_cohort_totals(s, draw_run_parameters(s, seed=1, start=0, stop=10))
