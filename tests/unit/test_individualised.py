"""Per-group cohort results and the value of individualised care, on a hand-computed example."""

from __future__ import annotations

import numpy as np
import pytest

from costspine.analysis.individualised import analyze_individualised, summarize_individualised
from costspine.analysis.parameter_draws import draw_run_parameters
from costspine.errors import UsageError
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort_by_group, run_cohort_groups

from helpers import SPINE, TOY_SCENARIOS

TWO_GROUPS = TOY_SCENARIOS / "two_groups.toml"
"""Two groups, two treatments, two policies; the hand computation is at the top of that file."""


@pytest.fixture
def toy():
    return load_scenario(TWO_GROUPS)


def test_groups_are_labelled_weighted_and_hand_computed(toy):
    grouped = run_cohort_groups(toy)
    assert grouped.labels == ("frail=0", "frail=1")
    np.testing.assert_allclose(grouped.weights, [[0.75, 0.25]])
    np.testing.assert_allclose(grouped.total_cost[0], [[100, 300, 100, 200], [100, 300, 300, 200]])
    np.testing.assert_allclose(grouped.effect[0], [[0.9, 0.9, 0.9, 0.9], [0.5, 0.8, 0.8, 0.65]])


@pytest.mark.parametrize("draws", [0, 40])
def test_groups_sum_to_the_population_result(toy, draws):
    params = draw_run_parameters(toy, seed=3, start=0, stop=draws) if draws else None
    grouped, mixed = run_cohort_groups(toy, params), run_cohort_by_group(toy, params)
    np.testing.assert_allclose(grouped.weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(grouped.mixed_total_cost(), mixed.total_cost, rtol=1e-12)
    np.testing.assert_allclose(grouped.mixed_outcome("qalys"), mixed.outcome("qalys"), rtol=1e-12)
    if draws:
        assert np.ptp(grouped.weights[:, 1]) > 0  # the shares vary by draw and still add up


def test_groups_sum_to_the_population_result_for_the_spine_microsim_scenario():
    scenario = load_scenario(SPINE / "base_case_microsim.toml")
    params = draw_run_parameters(scenario, seed=1, start=0, stop=5)
    grouped, mixed = run_cohort_groups(scenario, params, max_rows=40), run_cohort_by_group(scenario, params, max_rows=40)
    assert len(grouped.labels) == 10 and grouped.costs.shape[:3] == (5, 10, 3)
    np.testing.assert_allclose(np.einsum("dg,dgsc->dsc", grouped.weights, grouped.costs), mixed.costs, rtol=1e-10)
    np.testing.assert_allclose(np.einsum("dg,dgso->dso", grouped.weights, grouped.outcomes), mixed.outcomes, rtol=1e-10)


def test_value_of_individualised_care_matches_the_hand_computation(toy):
    result = analyze_individualised(toy, treatments=["a", "b"], plan_size=1000)
    assert result.best_overall == "a" and result.best_by_group == ("a", "b")
    np.testing.assert_allclose(result.nb_population[0], [700, 575, 725, 637.5])
    np.testing.assert_allclose(result.evic, [25.0])
    guided, random = result.policy_value("guided"), result.policy_value("random")
    np.testing.assert_allclose([guided["vs_one_size"][0], guided["gap_to_oracle"][0]], [25.0, 0.0])
    np.testing.assert_allclose([random["vs_one_size"][0], random["gap_to_oracle"][0]], [-62.5, 87.5])
    assert result.breakeven() == pytest.approx({"oracle": 25.0, "guided": 25.0, "random": 0.0})
    rows = result.decision_table()
    assert [r["best_treatment"] for r in rows] == ["a", "b"]
    assert [r["nb_lost_one_size"] for r in rows] == pytest.approx([0.0, 100.0])
    assert result.headline()[0]["plan_total"] == pytest.approx(25_000.0)
    assert "Decision table by phenotype" in result.summary()


def test_psa_draws_give_intervals_and_probabilities_of_being_best(toy):
    result = analyze_individualised(toy, draws=200, seed=5, treatments=["a", "b"])
    # b beats a in the frail group iff 1000 * q_b_frail - 300 > 400, i.e. q_b_frail > 0.7: 3/4 of Uniform(0.6, 1)
    frail = result.decision_table()[1]
    assert frail["best_treatment"] == "b" and 0.6 < frail["prob_best"] < 0.9
    first = result.headline()[0]
    assert first["low"] < first["per_patient"] < first["high"]
    # the EVIC given parameters re-decides in every draw, so it is never below the fixed-policy EVIC
    assert np.all(result.evic_given_parameters >= result.evic - 1e-9)
    assert np.all(result.evic_given_parameters >= -1e-9)


def test_unknown_or_single_treatments_are_usage_errors(toy):
    grouped = run_cohort_groups(toy)
    with pytest.raises(UsageError, match="unknown strategy 'c'"):
        summarize_individualised(grouped, wtp=1000, treatments=["a", "c"])
    with pytest.raises(UsageError, match="at least two different treatments"):
        summarize_individualised(grouped, wtp=1000, treatments=["a"])


def test_a_scenario_without_attributes_cannot_be_split(chancellor):
    with pytest.raises(UsageError, match="population.attributes"):
        run_cohort_groups(chancellor)


def test_grouped_result_tables(toy):
    grouped = run_cohort_groups(toy)
    frame = grouped.to_frame()
    assert list(frame.columns[:5]) == ["draw", "group", "strategy", "weight", "cost_total"]
    assert len(frame) == 2 * 4
    frail_b = frame[(frame.group == "frail=1") & (frame.strategy == "b")].iloc[0]
    assert (frail_b.weight, frail_b.cost_total, frail_b.qalys) == pytest.approx((0.25, 300.0, 0.8))
    assert grouped.to_dict()["groups"][1]["strategies"]["random"]["qalys"] == pytest.approx(0.65)
    assert "frail=1" in grouped.summary()
