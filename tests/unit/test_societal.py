"""The bundled societal variant (scenarios/spine/societal.toml): the base case plus productivity losses
by ODI band. Expected numbers are typed from the evidence register (ids in the comments) or derived
from the scenario's own band ODIs; no spine result is pinned."""

from __future__ import annotations

import numpy as np
import pytest

from costspine import load_scenario, run_cohort
from costspine.model.inputs import base_case_parameters
from costspine.scenario.evidence_register import find_evidence_ids, load_evidence_register

from helpers import SPINE

EMPLOYMENT_50_54 = 0.789  # T12.02
HOURS_PER_WEEK = 34.2  # T12.03
WEEKS_PER_YEAR = 365.25 / 7
COMPENSATION_PER_HOUR = 48.05  # T12.01
# assumption anchored on T12.04 (5.28 h of a 40-h week at ODI ~30) and T12.05 (13% report any loss)
LOSS_PER_ODI_POINT_LOW, LOSS_PER_ODI_POINT_HIGH = 0.13 * 5.28 / 40 / 30, 5.28 / 40 / 30


def value(params, name) -> float:
    """A base-case parameter value (arrays of one draw) as a float."""
    return float(np.ravel(params[name])[0])


@pytest.fixture(scope="module")
def runs():
    societal, base = load_scenario(SPINE / "societal.toml"), load_scenario(SPINE / "base_case.toml")
    return societal, run_cohort(societal), base, run_cohort(base)


def test_the_perspective_is_societal_and_counts_productivity(runs):
    societal, _, base, _ = runs
    assert societal.analysis.perspective == "societal" and base.analysis.perspective == "payer"
    assert societal.analysis.societal_categories == ("productivity",)
    assert societal.categories == base.categories + ("productivity",)


def test_every_living_state_has_a_productivity_cost_keyed_on_its_band_odi(runs):
    societal = runs[0]
    [productivity] = [c for c in societal.costs if c.category == "productivity"]
    for strategy in societal.strategies:
        values = productivity.state_values[strategy]
        living = [s for s in societal.states if s != "dead"]
        assert set(values) == set(living), "a state without a productivity cost (give it its band's odi_<band>)"
        for state, expression in values.items():
            assert expression.names == {"cost_productivity_per_odi_point_year", f"odi_{state}", "cycle_years"}


def test_health_care_costs_trace_and_qalys_are_the_base_case(runs):
    _, societal, _, base = runs
    np.testing.assert_array_equal(societal.trace, base.trace)
    np.testing.assert_array_equal(societal.outcomes, base.outcomes)
    np.testing.assert_array_equal(societal.costs[..., :-1], base.costs)


def test_productivity_cost_is_the_value_of_work_times_the_share_lost_at_the_band_odi(runs):
    scenario, result, _, _ = runs
    params = base_case_parameters(scenario)
    assert value(params, "employment_rate") == EMPLOYMENT_50_54
    assert value(params, "compensation_per_hour") == COMPENSATION_PER_HOUR
    loss = value(params, "work_loss_per_odi_point")
    assert loss == pytest.approx((LOSS_PER_ODI_POINT_LOW + LOSS_PER_ODI_POINT_HIGH) / 2, abs=1e-4)
    spec = scenario.parameter("work_loss_per_odi_point")
    assert spec.family == "uniform" and "assumption" in spec.source
    per_point_year = EMPLOYMENT_50_54 * HOURS_PER_WEEK * WEEKS_PER_YEAR * COMPENSATION_PER_HOUR * loss
    odi = np.array([value(params, f"odi_{s}") if s != "dead" else 0.0 for s in scenario.states])
    assert scenario.settings.cycle_correction == "none"  # end-of-cycle counting: trace points 1..T
    occupancy = result.trace[0, :, 1:, :] @ odi  # (strategy, cycle): ODI points of the cohort per cycle
    expected = per_point_year * scenario.settings.cycle_years * occupancy.sum(axis=1)
    np.testing.assert_allclose(result.costs[0, :, scenario.categories.index("productivity")], expected, rtol=1e-10)


def test_the_strategy_with_less_disability_loses_less_work(runs):
    scenario, result, _, _ = runs
    odi = result.trace[0, :, 1:, :-1].sum(axis=1)  # person-cycles by band
    productivity = result.costs[0, :, scenario.categories.index("productivity")]
    params = base_case_parameters(scenario)
    weighted = odi @ np.array([value(params, f"odi_{s}") for s in scenario.states[:-1]])
    assert np.argsort(productivity).tolist() == np.argsort(weighted).tolist()


def test_every_productivity_number_cites_a_registered_source(runs):
    scenario = runs[0]
    register = load_evidence_register()
    for name in ("employment_rate", "hours_per_week", "compensation_per_hour", "work_loss_per_odi_point"):
        ids = find_evidence_ids(scenario.parameter(name).source)
        assert ids and all(i in register for i in ids), name
        assert any(i.startswith("T12.") for i in ids), name
