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


# --------------------------------------------------------------------------------------------
# The microsimulation's subgroups (issue 14 item 4, ``--method microsim``)

RICH_LEVELS = ("risk", "widespread")  # tests/scenarios/microsim_rich.toml: categorical, binary (+ age, continuous)


@pytest.fixture(scope="module")
def rich():
    return load_scenario(helpers.RICH_MICROSIM)


def test_microsim_subgroups_of_the_two_group_toy_are_the_hand_computed_groups():
    from costspine.analysis.subgroups import microsim_subgroups
    from costspine.simulate.microsim import run_microsim

    scenario = load_scenario(TWO_GROUPS)
    result = run_microsim(scenario, n_individuals=4000, seed=5, by_level=True)
    (frail,) = microsim_subgroups(scenario, result.levels)
    assert frail.method == "microsim" and frail.levels == ("0", "1")
    assert frail.individuals.sum() == 4000 and 0 < frail.individuals[0, 1] < 4000
    np.testing.assert_array_equal(frail.share, frail.individuals / 4000)  # the realised shares of the sample
    a, b = scenario.strategies.index("a"), scenario.strategies.index("b")
    np.testing.assert_allclose(frail.effect[0, :, a], [0.9, 0.5])  # every fit/frail patient gets exactly these
    np.testing.assert_allclose(frail.effect[0, :, b], [0.9, 0.8])
    np.testing.assert_allclose(frail.incremental_effect[0, :, b], [0.0, 0.3])
    np.testing.assert_allclose(frail.cost_se, 0.0, atol=1e-9)  # no randomness within a group
    _totals_match(frail, result.total_cost, result.effect)


def test_microsim_subgroups_sum_to_the_population_of_the_same_run_whatever_the_chunks(rich):
    from costspine.analysis.subgroups import microsim_subgroups
    from costspine.simulate.microsim import run_microsim

    n = 5000
    result = run_microsim(rich, n_individuals=n, seed=9, by_level=True, chunk_size=2048)
    subs = microsim_subgroups(rich, result.levels)
    assert tuple(s.attribute for s in subs) == RICH_LEVELS
    for sub in subs:
        assert sub.individuals.sum() == n
        _totals_match(sub, result.total_cost, result.effect)
        w = sub.share[:, :, None, None]
        np.testing.assert_allclose((w * sub.outcomes).sum(axis=1), result.outcomes, rtol=1e-12)
        assert np.all(sub.cost_se > 0) and np.all(sub.incremental_cost_se[:, :, 1:] > 0)
    # the levels really differ (the test would pass vacuously on identical groups)
    risk = subs[0]
    assert abs(risk.cost[0, 0, 0] - risk.cost[0, 1, 0]) > 5 * risk.cost_se[0, :, 0].max()
    # chunk size and backend change nothing, bit for bit; the population does not move either
    other = run_microsim(rich, n_individuals=n, seed=9, by_level=True, chunk_size=4096, backend="numpy")
    for key, value in result.levels.items():
        np.testing.assert_array_equal(other.levels[key], value, err_msg=key)
    plain = run_microsim(rich, n_individuals=n, seed=9)
    assert plain.levels is None
    np.testing.assert_allclose(plain.total_cost, result.total_cost, rtol=1e-13)


def test_microsim_subgroup_mcses_decompose_the_populations_second_moments(rich):
    """Each level's MCSE gives back its sum of squares; over levels they add to the population's,
    whose MCSE is computed separately (all individuals' block sums): the two formulas agree."""
    from costspine.analysis.subgroups import microsim_subgroups
    from costspine.simulate.microsim import run_microsim

    n = 4096
    result = run_microsim(rich, n_individuals=n, seed=4, by_level=True)
    c = rich.strategies.index(rich.analysis.comparator)

    def second_moment(mean, se, count):  # Σx² from x̄ and se = sqrt(var / n), var = (Σx² − n x̄²) / (n − 1)
        return se**2 * count * (count - 1) + count * mean**2

    population = second_moment(result.total_cost[0], result.total_cost_se[0], n)
    inc_population = second_moment(result.total_cost[0] - result.total_cost[0, c], result.incremental_cost_se[0], n)
    for sub in microsim_subgroups(rich, result.levels):
        count = sub.individuals[0][:, None]
        levels = second_moment(sub.cost[0], sub.cost_se[0], count).sum(axis=0)
        np.testing.assert_allclose(levels, population, rtol=1e-9)
        inc = second_moment(sub.incremental_cost[0], sub.incremental_cost_se[0], count).sum(axis=0)
        np.testing.assert_allclose(inc, inc_population, rtol=1e-9, atol=1e-6)


def test_microsim_psa_keeps_subgroups_per_draw_and_they_sum_to_each_draw(spine):
    from costspine.analysis.psa_summary import psa_companions, summarize_psa
    from costspine.analysis.subgroups import microsim_subgroups

    one = run_psa(spine, 4, seed=3, method="microsim", individuals=2048, chunk_size=1)
    whole = run_psa(spine, 4, seed=3, method="microsim", individuals=2048)
    for key, value in whole.levels.items():
        np.testing.assert_array_equal(one.levels[key], value, err_msg=key)  # chunking changes nothing
    (risk,) = microsim_subgroups(spine, whole.levels)
    assert risk.cost.shape == (4, 2, len(spine.strategies))
    _totals_match(risk, whole.total_cost, whole.effect)
    check, (again,) = psa_companions(spine, summarize_psa(whole, wtp=whole.wtp), method="microsim")
    assert check is None and again.method == "microsim"
    np.testing.assert_array_equal(again.cost, risk.cost)


def test_a_microsimulation_without_categorical_attributes_keeps_no_levels(tmp_path):
    from costspine.analysis.subgroups import run_subgroups
    from costspine.simulate.run import run_scenario

    scenario = load_scenario(helpers.SICK_SICKER)
    result = run_scenario(scenario, method="microsim", individuals=2048, seed=1)
    assert result.levels is None and run_subgroups(scenario, result) == ()
    out = tmp_path / "run"
    done = helpers.invoke(
        "run", str(helpers.SICK_SICKER), "--method", "microsim", "--individuals", "2048", "--seed", "1", "--out", str(out)
    )
    assert done.exit_code == 0, done.output
    assert "Results by subgroup" not in done.output
    assert "subgroups" not in json.loads((out / "summary.json").read_text())
    assert "Subgroups" not in load_workbook(out / "run.xlsx", read_only=True).sheetnames


def test_run_and_psa_with_the_microsimulation_report_subgroups(tmp_path):
    out = tmp_path / "run"
    args = ("--method", "microsim", "--individuals", "3000", "--seed", "4")
    result = helpers.invoke("run", str(TWO_GROUPS), *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Results by subgroup" in result.output and "realised shares" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100
    summary = json.loads((out / "summary.json").read_text())
    assert summary["subgroups"]["method"].startswith("microsimulation")
    groups = summary["subgroups"]["attributes"]["frail"]["groups"]
    assert [g["group"] for g in groups] == ["0", "1", "population"]
    assert groups[0]["individuals"] + groups[1]["individuals"] == 3000
    assert groups[1]["share"] == groups[1]["individuals"] / 3000
    assert groups[1]["strategies"]["b"]["cost_total_mcse"] == pytest.approx(0.0, abs=1e-9)
    assert "incremental_cost_mcse" in groups[1]["strategies"]["b"]
    sheet = load_workbook(out / "run.xlsx", read_only=True)["Subgroups"]
    headers = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "MCSE of cost (USD)" in headers and "MCSE of qalys" in headers  # the toy's effect has no label

    out = tmp_path / "psa"
    result = helpers.invoke("psa", str(TWO_GROUPS), *args, "--draws", "6", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Results by subgroup" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100
    summary = json.loads((out / "summary.json").read_text())
    assert summary["subgroups"]["draws"] == 6 and summary["subgroups"]["method"].startswith("microsimulation")
    frail = summary["subgroups"]["attributes"]["frail"]["groups"][1]
    assert 0 < frail["individuals"] < 3000
    low, high = frail["strategies"]["b"]["incremental_effect_95"]
    assert low <= frail["strategies"]["b"]["incremental_effect"] <= high
    assert "Subgroups" in load_workbook(out / "psa.xlsx", read_only=True).sheetnames


def test_a_level_nobody_was_sampled_into_is_empty_and_the_population_row_keeps_the_total():
    from costspine.analysis.subgroups import microsim_subgroups
    from costspine.reports.subgroup_report import format_subgroup_text, subgroup_records
    from costspine.simulate.microsim import run_microsim

    scenario = load_scenario(TWO_GROUPS)
    result = run_microsim(scenario, n_individuals=2, seed=3, by_level=True)
    (frail,) = microsim_subgroups(scenario, result.levels)
    assert frail.individuals[0].tolist() == [2, 0]  # this seed samples both into the first level
    assert np.isnan(frail.cost[0, 1]).all()
    *_, population = subgroup_records(frail)
    b = scenario.strategies.index("b")
    assert population["strategies"]["b"]["cost_total"] == pytest.approx(float(result.total_cost[0, b]))
    assert "nan" not in format_subgroup_text((frail,)).lower()


def test_microsim_psa_subgroups_survive_saved_chunks_and_resume(tmp_path):
    scenario = load_scenario(TWO_GROUPS)
    options = {"seed": 8, "method": "microsim", "individuals": 1024, "chunk_size": 2, "store_dir": tmp_path / "chunks"}
    first = run_psa(scenario, 4, **options)
    again = run_psa(scenario, 4, resume=True, **options)
    assert again.extra["resumed_chunks"] == 2  # every chunk read back from disk, none recomputed
    assert set(again.levels) == set(first.levels)
    for key, value in first.levels.items():
        np.testing.assert_array_equal(again.levels[key], value, err_msg=key)
