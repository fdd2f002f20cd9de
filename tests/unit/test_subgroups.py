"""Results by subgroup and population anchors (issue 14 item 4).

* Subgroups (levels of categorical/binary population attributes) sum, share-weighted, to the
  population totals of the run and of every PSA draw; on the hand-computed two-group toy they are
  the groups' own numbers.
* The spine microsimulation variant's groups differ only through declared parameters: with the
  ``[population] homogeneous`` values the subgroups coincide (ICE's delivery cost apart); the
  baseline mix is the calibrated distribution in every draw; the anchors make the heterogeneous
  population's mean ODI equal the homogeneous one's at the anchored visits in every draw.
* The anchor section is validated; ``run`` and ``psa`` write the subgroup table, sheet and JSON.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from openpyxl import load_workbook

from costspine import load_scenario, run_cohort
from costspine.analysis.psa import draw_run_parameters, run_psa
from costspine.analysis.subgroups import compute_subgroups, psa_subgroups, subgroup_attributes
from costspine.errors import ScenarioError
from costspine.model.inputs import base_case_parameters, evaluate_parameters
from costspine.simulate.cohort import run_cohort_groups

import helpers

TWO_GROUPS = helpers.TOY_SCENARIOS / "two_groups.toml"
SPINE_MICROSIM = helpers.SPINE / "base_case_microsim.toml"


def _totals_match(sub, cost, effect):
    w = sub.share[:, :, None]
    np.testing.assert_allclose(sub.share.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose((w * sub.cost).sum(axis=1), cost, rtol=1e-12)
    np.testing.assert_allclose((w * sub.effect).sum(axis=1), effect, rtol=1e-12, atol=1e-15)


def test_two_group_subgroups_are_the_hand_computed_groups_and_sum_to_the_total():
    scenario = load_scenario(TWO_GROUPS)
    (frail,) = compute_subgroups(run_cohort_groups(scenario))
    assert frail.attribute == "frail" and frail.levels == ("0", "1")
    np.testing.assert_allclose(frail.share[0], [0.75, 0.25])
    total = run_cohort(scenario)
    _totals_match(frail, total.total_cost, total.effect)
    # group-specific numbers straight from the scenario's header (b: 0.9 fit, 0.8 frail; a: 0.9, 0.5)
    a, b = scenario.strategies.index("a"), scenario.strategies.index("b")
    np.testing.assert_allclose(frail.effect[0, :, a], [0.9, 0.5])
    np.testing.assert_allclose(frail.effect[0, :, b], [0.9, 0.8])
    np.testing.assert_allclose(frail.incremental_effect[0, :, b], [0.0, 0.3])


def test_subgroups_of_psa_draws_sum_to_each_draws_totals():
    scenario = load_scenario(TWO_GROUPS)
    draws = run_psa(scenario, 64, seed=11)
    (frail,) = psa_subgroups(scenario, draws)
    assert frail.cost.shape == (64, 2, len(scenario.strategies))
    effect = draws.outcomes[:, :, draws.outcome_names.index(draws.effect_name)]
    _totals_match(frail, draws.costs.sum(axis=-1), effect)
    assert np.ptp(frail.share[:, 1]) > 0  # the share is drawn, and each draw's own share is used


def test_a_scenario_without_categorical_attributes_has_no_subgroups():
    assert subgroup_attributes(load_scenario(helpers.CHANCELLOR)) == ()


@pytest.fixture(scope="module")
def spine():
    return load_scenario(SPINE_MICROSIM)


def _homogeneous(scenario, params):
    out = dict(params)
    for name, value in scenario.population.homogeneous:
        out[name] = np.full(np.size(next(iter(params.values()))), value)
    return out


def test_spine_risk_groups_differ_only_through_declared_parameters(spine):
    params = base_case_parameters(spine)
    (risk,) = compute_subgroups(run_cohort_groups(spine, params))
    (alike,) = compute_subgroups(run_cohort_groups(spine, _homogeneous(spine, params)))
    low, high = risk.levels.index("low"), risk.levels.index("high")
    odi = risk.indicators["odi"][0]  # (level, strategy, time)
    values = evaluate_parameters(spine)
    # baseline: the higher-risk group starts odi_gap_higher_risk worse (the tilt is not capped at the base case)
    assert odi[high, 0, 0] - odi[low, 0, 0] == pytest.approx(float(values["odi_gap_higher_risk"][0]), rel=1e-9)
    assert risk.times[0] == 0.0
    # and recovers more slowly in every arm (lower hazard of improving): a larger ODI at 12 months
    assert np.all(odi[high, :, -1] > odi[low, :, -1])
    # made alike, the groups coincide in ODI and in QALYs; ICE's delivery (intensity) still differs
    np.testing.assert_allclose(alike.indicators["odi"][0, high], alike.indicators["odi"][0, low], rtol=1e-9)
    np.testing.assert_allclose(alike.effect[0, high], alike.effect[0, low], rtol=1e-9)
    ice = spine.strategies.index("ice")
    gap = alike.cost[0, high, ice] - alike.cost[0, low, ice]
    expected = float(values["cost_ice_higher_risk"][0] - values["cost_ice_low_risk"][0])
    assert gap == pytest.approx(expected, rel=2e-3)  # charged on the living at cycle 1's counting point


def test_spine_anchors_reproduce_the_homogeneous_trajectory_in_every_draw(spine):
    params = draw_run_parameters(spine, seed=7, start=0, stop=24)
    mixed = run_cohort(spine, params)
    reference = run_cohort(spine, _homogeneous(spine, params))  # anchors solve to 1 when the groups are alike
    odi = mixed.indicator_names.index("odi")
    for anchor in spine.population.anchors:
        k = spine.strategies.index(anchor.strategy)
        point = int(round(anchor.years / spine.settings.cycle_years))
        np.testing.assert_allclose(mixed.indicators[:, k, point, odi], reference.indicators[:, k, point, odi], atol=1e-6)
    # baseline mix = the calibrated starting distribution, draw by draw
    np.testing.assert_allclose(mixed.trace[:, :, 0, :], reference.trace[:, :, 0, :], atol=1e-12)
    # the multipliers really are solved per draw (they differ between draws)
    solved = mixed.parameters["k_improve_followup_heterogeneity"]
    assert solved.shape == (24,) and np.ptp(solved) > 1e-3


def test_spine_psa_subgroups_sum_to_the_psa_totals(spine):
    draws = run_psa(spine, 16, seed=3)
    (risk,) = psa_subgroups(spine, draws)
    effect = draws.outcomes[:, :, draws.outcome_names.index(draws.effect_name)]
    _totals_match(risk, draws.costs.sum(axis=-1), effect)


ANCHOR_TOML = """
[population.attributes.g]
share = "0.4"
source = "test"

[population.anchors.{name}]
indicator = "{indicator}"
strategy = "usual_care"
years = 1
"""


def _pathway_with(tmp_path, extra: str):
    text = helpers.pathway_toml(sd="0.1", parameters='[parameters.k]\nvalue = 1\nsource = "test"\n') + extra
    return helpers.write(tmp_path, text)


@pytest.mark.parametrize(
    ("name", "indicator", "homogeneous", "expected"),
    [
        ("nope", "x", "homogeneous = { k = 1 }", "'nope' is not a parameter"),
        ("k", "x", "", "anchors need the parameter values that make the groups alike"),
    ],
)
def test_anchor_mistakes_are_named(tmp_path, name, indicator, homogeneous, expected):
    extra = ANCHOR_TOML.format(name=name, indicator=indicator).replace(
        "[population.attributes.g]", f"[population]\n{homogeneous}\n\n[population.attributes.g]"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(_pathway_with(tmp_path, extra))
    assert expected in str(info.value)
    assert "population." in str(info.value)


def test_run_and_psa_report_subgroups(tmp_path):
    out = tmp_path / "run"
    result = helpers.invoke("run", str(TWO_GROUPS), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Results by subgroup" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100
    summary = json.loads((out / "summary.json").read_text())
    groups = summary["subgroups"]["attributes"]["frail"]["groups"]
    assert [g["group"] for g in groups] == ["0", "1", "population"]
    assert sum(g["share"] * g["strategies"]["b"]["cost_total"] for g in groups[:2]) == pytest.approx(
        groups[2]["strategies"]["b"]["cost_total"]
    )
    assert "Subgroups" in load_workbook(out / "run.xlsx", read_only=True).sheetnames

    out = tmp_path / "psa"
    result = helpers.invoke("psa", str(TWO_GROUPS), "--draws", "50", "--seed", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Results by subgroup" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100
    summary = json.loads((out / "summary.json").read_text())
    assert summary["subgroups"]["draws"] == 50
    frail = summary["subgroups"]["attributes"]["frail"]["groups"][1]["strategies"]["b"]
    low, high = frail["incremental_effect_95"]
    assert low <= frail["incremental_effect"] <= high
    assert "Subgroups" in load_workbook(out / "psa.xlsx", read_only=True).sheetnames


def test_the_api_writes_the_subgroups_the_command_writes(tmp_path):
    """costspine.run / costspine.psa with out_dir write the CLI's folder, subgroups included."""
    import json

    from click.testing import CliRunner

    import costspine
    from costspine.cli.app import cli

    for command, api in (
        ("run", lambda out: costspine.run(TWO_GROUPS, out_dir=out)),
        ("psa", lambda out: costspine.psa(TWO_GROUPS, draws=50, out_dir=out)),
    ):
        args = [command, str(TWO_GROUPS), "--out", str(tmp_path / f"cli-{command}"), "--quiet"] + (
            ["--draws", "50"] if command == "psa" else []
        )
        done = CliRunner().invoke(cli, args)
        assert done.exit_code == 0, done.output
        api(tmp_path / f"api-{command}")
        found = [json.loads((tmp_path / f"{who}-{command}" / "summary.json").read_text()) for who in ("cli", "api")]
        assert found[0]["subgroups"] and found[1]["subgroups"] == found[0]["subgroups"]
