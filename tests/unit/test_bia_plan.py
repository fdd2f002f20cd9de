"""Budget impact of an open plan: prevalent patients, exits, steady state, arithmetic by hand, fee components."""

from __future__ import annotations

import dataclasses
import textwrap

import numpy as np
import pytest

from helpers import ROOT, invoke, read_csv

SPINE = ROOT / "scenarios" / "spine"

# A plan built by hand: one-year cycles, one cycle, no deaths, no exits, no onset, so year 1 is
#   members x prevalence x eligible x market share x annual cost per patient (+ acute episodes).
ACUTE = """
[model]
name = "hand_acute"
title = "Acute pathway by hand"

[settings]
cycle_length = 1
cycle_unit = "year"
n_cycles = 1
discount_costs = 0
discount_outcomes = 0
cycle_correction = "none"
currency = "USD"
price_year = 2025

[analysis]
effect = "qalys"
comparator = "usual"
wtp = [100000]

[states]
ill = { initial = 1 }
dead = { initial = 0 }

[strategies.usual]
[strategies.new]

[transitions]
ill = { ill = 1 }
dead = { dead = 1 }

[costs.care]
category = "care"
values = { ill = 300.25 }

[outcomes.qalys]
values = { ill = 0.7 }
"""

CHRONIC = ACUTE.replace('name = "hand_acute"', 'name = "hand_chronic"').replace("300.25", "1234.56") + textwrap.dedent(
    """
    [strategies.new.costs.care]
    category = "care"
    values = { ill = 2345.67 }
    """
)

PLAN = """
extends = "acute.toml"

[model]
name = "hand_plan"
title = "A plan by hand"

[budget_impact]
perspective = "payer"
years = 1
members = 250_000
member_growth_per_year = 0.0
discount_rate = 0
categories = "all"
leave_plan_per_year = { value = 0, source = "assumption: test" }
episodes_per_1000_members = { value = 20, source = "assumption: test" }
mix_current = { usual = 1.0 }
mix_new = { usual = 1.0 }

[budget_impact.prevalent]
scenario = "chronic.toml"
per_1000_members = { value = "1000 * prevalence * eligible", source = "assumption: test" }
onset_per_1000_members = { value = 0, source = "assumption: test" }
mix_current = { usual = 1.0 }
mix_new = { new = 0.3, usual = "rest" }

[parameters.prevalence]
value = 0.12
source = "assumption: test"

[parameters.eligible]
value = 0.4
source = "assumption: test"
"""


def test_a_plan_built_by_hand_matches_the_cli_to_the_cent(tmp_path):
    (tmp_path / "acute.toml").write_text(ACUTE)
    (tmp_path / "chronic.toml").write_text(CHRONIC)
    (tmp_path / "plan.toml").write_text(PLAN)
    result = invoke("bia", tmp_path / "plan.toml", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    members, prevalence, eligible, share_new = 250_000, 0.12, 0.4, 0.3
    patients = members * prevalence * eligible  # 12,000 prevalent patients in care
    acute = members * 20 / 1000 * 300.25  # new episodes x annual cost, the same in both worlds
    current = acute + patients * 1234.56
    new = acute + patients * ((1 - share_new) * 1234.56 + share_new * 2345.67)
    [year1, total] = read_csv(tmp_path / "out" / "budget_by_year.csv")
    assert abs(float(year1["budget_current"]) - current) < 0.005
    assert abs(float(year1["budget_new"]) - new) < 0.005
    assert abs(float(year1["budget_difference"]) - (new - current)) < 0.005
    assert abs(float(year1["pmpm_current"]) - current / (members * 12)) < 0.005
    assert float(total["budget_current"]) == float(year1["budget_current"])
    # the printed budget rounds to whole dollars (docs/budget-impact.md, *Rounding*)
    assert f"{round(current):,}" in result.stdout


def _plan(tmp_path, **changes):
    """The bundled commercial plan with ``[budget_impact]`` keys replaced."""
    from costspine import load_scenario
    from costspine.scenario.bia_spec import read_bia_spec

    scenario = load_scenario(SPINE / "bia_commercial_plan.toml")
    spec = read_bia_spec(scenario)
    return scenario, dataclasses.replace(spec, **changes)


def test_with_constant_members_and_rates_the_current_budget_levels_off_within_ten_years(tmp_path):
    from costspine.analysis.bia_run import compute_bia
    from costspine.analysis.bia_summary import describe_central  # noqa: F401  (the run reports its centre)

    scenario, spec = _plan(tmp_path, years=10)
    run = compute_bia(scenario, spec)
    current = np.array([run.value("budget_current", year=y)["mean"] for y in range(1, 11)])
    change = np.abs(np.diff(current) / current[:-1])
    assert change.max() < 0.02, change
    assert run.central == "base case"


def test_without_prevalent_patients_the_old_closed_cohort_keeps_climbing(tmp_path):
    """The contrast that makes the steady-state test meaningful: only new episodes, followed 5 years."""
    from costspine import load_scenario
    from costspine.analysis.bia_run import compute_bia
    from costspine.scenario.bia_spec import read_bia_spec

    path = tmp_path / "closed.toml"
    path.write_text(
        f'extends = "{(SPINE / "base_case_5y.toml").as_posix()}"\n'
        + textwrap.dedent(
            """
            [budget_impact]
            perspective = "payer"
            years = 5
            members = 1_000_000
            member_growth_per_year = 0.0
            discount_rate = 0
            categories = "all"
            episodes_per_1000_members = { value = 30, source = "assumption: test" }
            mix_current = { usual_care = 1.0 }
            mix_new = { usual_care = 1.0 }
            """
        )
    )
    scenario = load_scenario(path)
    run = compute_bia(scenario, read_bia_spec(scenario))
    current = [run.value("budget_current", year=y)["mean"] for y in range(1, 6)]
    assert current[-1] / current[-2] - 1 > 0.02


def test_the_plan_reports_health_beside_the_budget_and_says_what_the_centre_is(tmp_path):
    from costspine.analysis.bia_run import compute_bia

    scenario, spec = _plan(tmp_path)
    run = compute_bia(scenario, spec, years=2, draws=3, seed=1)
    summary = run.to_dict()
    assert summary["central"] == "mean of draws"
    assert "mean of 3 parameter draws" in run.summary()
    assert {"qalys", "mean_odi", "people:moderate", "people:recovered"} <= set(summary["health"]["health_current"])
    assert summary["prevalent"]["at_start"] > 0


def _injections(path):
    """Injections and injection spending per cycle of a usual-care patient in the moderate band."""
    from costspine import load_scenario
    from costspine.model.inputs import build_model_inputs

    scenario = load_scenario(path)
    inputs = build_model_inputs(scenario, None)
    state = list(scenario.states).index("moderate")
    k = [s.name for s in scenario.services].index("injections")
    c = [x.name for x in scenario.costs].index("injections")
    return scenario, inputs.state_services[0, 0, 0, state, k], inputs.state_costs[0, 0, 0, state, c]


def test_an_injection_policy_names_the_fee_it_cuts(tmp_path):
    base, volume, spend = _injections(SPINE / "chronic_pathway.toml")
    from costspine.model.inputs import base_case_parameters

    elasticity = float(base_case_parameters(base)["supply_elasticity_physician"][0])
    _, volume_prof, _ = _injections(SPINE / "chronic_injection_professional_cut_50.toml")
    assert volume_prof / volume == pytest.approx(0.5**elasticity)
    facility_only = tmp_path / "facility.toml"
    facility_only.write_text(
        f'extends = "{(SPINE / "chronic_pathway.toml").as_posix()}"\n[model]\nname = "fac"\n\n'
        '[parameters.cut_facility]\nvalue = 0.5\nsource = "policy: facility fee only"\n'
    )
    _, volume_fac, spend_fac = _injections(facility_only)
    assert volume_fac == pytest.approx(
        volume
    )  # the physician's fee did not change; the hospital's response is 0 in the base case
    assert 0.5 * spend < spend_fac < spend  # only the facility part of hospital injections is cut


def test_every_problem_of_the_prevalent_table_is_reported_at_once(tmp_path):
    (tmp_path / "acute.toml").write_text(ACUTE)
    (tmp_path / "chronic.toml").write_text(
        CHRONIC.replace('category = "care"\nvalues = { ill = 1234.56 }', 'category = "other"\nvalues = { ill = 1234.56 }')
    )
    plan = (
        PLAN.replace('leave_plan_per_year = { value = 0, source = "assumption: test" }\n', "")
        .replace('mix_new = { new = 0.3, usual = "rest" }', 'mix_new = { newer = 0.3, usual = "rest" }')
        .replace('onset_per_1000_members = { value = 0, source = "assumption: test" }\n', "")
    )
    (tmp_path / "plan.toml").write_text(plan)
    result = invoke("validate", tmp_path / "plan.toml")
    assert result.exit_code == 3
    for fragment in (
        "plan.toml: budget_impact.leave_plan_per_year: missing",
        "plan.toml: budget_impact.prevalent.onset_per_1000_members: missing",
        "plan.toml: budget_impact.prevalent.mix_new.newer: unknown strategy",
        "chronic.toml: costs: the prevalent patients' model must use the same cost categories",
    ):
        assert fragment in result.stderr, result.stderr


def test_members_who_join_replace_those_who_leave_so_a_closed_stock_stays_level(tmp_path):
    """No onset, no recovery, no death: the patients new members bring balance those leaving."""
    from costspine import load_scenario
    from costspine.analysis.bia_run import compute_bia
    from costspine.scenario.bia_spec import read_bia_spec

    four_weeks = 'cycle_length = 4\ncycle_unit = "week"\nn_cycles = 130'
    (tmp_path / "acute.toml").write_text(ACUTE.replace('cycle_length = 1\ncycle_unit = "year"\nn_cycles = 1', four_weeks))
    (tmp_path / "chronic.toml").write_text(CHRONIC.replace('cycle_length = 1\ncycle_unit = "year"\nn_cycles = 1', four_weeks))
    plan = PLAN.replace("years = 1", "years = 8").replace(
        'leave_plan_per_year = { value = 0, source = "assumption: test" }',
        'leave_plan_per_year = { value = 0.3, source = "assumption: test" }',
    )
    (tmp_path / "plan.toml").write_text(plan)
    scenario = load_scenario(tmp_path / "plan.toml")
    run = compute_bia(scenario, read_bia_spec(scenario))
    in_care = np.array([run.value("in_care_current", item="prevalent", year=y)["mean"] for y in range(1, 9)])
    # within the timing scheme's half cycle (joiners enter at the start of their grid cycle, about 1 %);
    # with joiners = leave x members (0.3, not the hazard -ln 0.7 = 0.357) the stock would fall to 84 %
    assert in_care == pytest.approx(250_000 * 0.12 * 0.4, rel=0.015)
    assert np.abs(np.diff(in_care) / in_care[:-1]).max() < 0.005


def test_the_mean_of_draws_levels_off_too(tmp_path):
    """Stock, onset and exits of the chronic group agree in every draw, so the mean of draws is steady."""
    from costspine.analysis.bia_run import compute_bia

    scenario, spec = _plan(tmp_path, years=10)
    run = compute_bia(scenario, spec, draws=40, seed=20260101)
    assert run.central == "mean of draws"
    current = np.array([run.value("budget_current", year=y)["mean"] for y in range(1, 11)])
    assert np.abs(np.diff(current) / current[:-1]).max() < 0.02
    prevalent = np.array([run.value("in_care_current", item="prevalent", year=y)["mean"] for y in range(1, 11)])
    assert np.abs(np.diff(prevalent) / prevalent[:-1]).max() < 0.01


@pytest.mark.parametrize("name", ["bia_commercial_plan.toml", "bia_medicare_injection_cut.toml"])
def test_the_plan_draws_the_chronic_models_recovery(name):
    """The steady-state onset uses rate_recover; the plan file repeats the chronic model's parameter, so
    both get the same draws only if the two definitions agree."""
    from costspine import load_scenario
    from costspine.scenario.bia_spec import read_bia_spec

    plan = load_scenario(SPINE / name)
    chronic = read_bia_spec(plan).prevalent.scenario
    ours, theirs = plan.parameter("rate_recover"), chronic.parameter("rate_recover")
    assert (ours.family, ours.args, ours.value) == (theirs.family, theirs.args, theirs.value)


def test_chronic_patients_keep_their_disability_mix_in_care():
    """Worsening by detailed balance: the in-care band mix of the chronic model stays its initial mix."""
    from costspine import load_scenario
    from costspine.model.inputs import base_case_parameters
    from costspine.simulate.cohort import run_cohort

    scenario = load_scenario(SPINE / "chronic_pathway.toml")
    result = run_cohort(scenario)
    bands = ["minimal", "moderate", "severe", "crippled"]
    index = [list(scenario.states).index(b) for b in bands]
    trace = np.asarray(result.trace)[0, list(scenario.strategies).index("usual_care")][:, index]
    shares = trace / trace.sum(axis=-1, keepdims=True)
    base = base_case_parameters(scenario)
    initial = np.array([base[f"init_{b}"][0] for b in bands])
    assert shares[0] == pytest.approx(initial / initial.sum(), abs=1e-9)
    assert shares[-1] == pytest.approx(initial / initial.sum(), abs=0.01)
