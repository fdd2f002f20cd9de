"""Budget impact from scenario files: the [services] reward kind and costspine.cli.bia.

The arithmetic of compute_budget is tested in test_bia.py on arrays; here the same properties are
checked end to end, from TOML files through the cohort model to the budget.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC

import numpy as np
import pytest

from costspine.analysis.bia_run import compute_bia
from costspine.cli.bia import run_bia_command
from costspine.errors import AnalysisError, ScenarioError, UsageError
from costspine.model.inputs import evaluate_parameters
from costspine.scenario.bia_spec import read_bia_spec
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

from helpers import pathway_toml

# The toy pathway model of tests/helpers.py (per-episode costs known by hand: usual care 100 then
# 50, ICE 300 then 0), with c_y2 a parameter and one MRI per episode in its first year under usual
# care, none under ice.
MODEL = pathway_toml(
    sd="@SD@",
    c_y2='"c_y2"',
    parameters="""
[parameters.c_y2]
value = 50
source = "assumption"

[parameters.n_mri]
value = 1
source = "assumption"
""",
    rewards="""
[costs.visits]
category = "primary_care"
values = { y1 = 0 }

[services.mri]
label = "MRI scans"
values = { y1 = "n_mri" }

[strategies.ice.services.mri]
values = { y1 = 0 }
""",
)

SECTION = """
[budget_impact]
perspective = "payer"
years = {years}
members = 100_000
member_growth_per_year = {growth}
discount_rate = 0
categories = "all"
episodes_per_1000_members = {{ value = "{rate}", source = "assumption: test" }}
mix_current = {{ usual_care = 1.0 }}
mix_new = {mix_new}
"""


def write_bia(
    tmp_path,
    *,
    sd=10.0,
    years=2,
    growth=0.0,
    rate="10",
    mix_new="{ usual_care = 1.0 }",
    extra="",
    name="bia.toml",
    model_name="model.toml",
):
    """A model file and a BIA file extending it; returns the BIA file's path."""
    (tmp_path / model_name).write_text(MODEL.replace("@SD@", str(sd)))
    path = tmp_path / name
    path.write_text(
        f'extends = "{model_name}"\n[model]\nname = "{path.stem}"\n'
        + SECTION.format(years=years, growth=growth, rate=rate, mix_new=mix_new)
        + textwrap.dedent(extra)
    )
    return path


def bia(path, **kwargs):
    scenario = load_scenario(path)
    return compute_bia(scenario, read_bia_spec(scenario), **kwargs)


# --------------------------------------------------------------------------------------------
# The [services] reward kind


def test_services_are_parsed_like_costs_with_strategy_overrides(tmp_path):
    scenario = load_scenario(write_bia(tmp_path))
    (mri,) = scenario.services
    assert (mri.name, mri.kind, mri.label, mri.category) == ("mri", "service", "MRI scans", None)
    assert mri.state_values["usual_care"]["y1"].text == "n_mri"
    assert mri.state_values["ice"]["y1"].text == "0"
    assert scenario.categories == ("imaging", "primary_care")  # a service is not a cost category


def test_a_child_file_adding_a_strategy_service_keeps_the_parents_strategy(tmp_path):
    # BIA files add [strategies.X.services.Y] to a model they extend; ICE's own cost override
    # and strategy values in the parent must survive (sub-tables merge entry by entry).
    write_bia(tmp_path)
    model = tmp_path / "model.toml"
    text = model.read_text()
    services = text[text.index("[services.mri]") : text.index("[outcomes.qalys]")]
    model.write_text(
        text.replace(services, "").replace("[strategies.ice]\n", '[strategies.ice]\nlabel = "ICE"\nvalues = { k = 2 }\n')
    )
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "model.toml"\n'
        + services
        + '[strategies.ice.costs.visits]\ncategory = "primary_care"\nvalues = { y1 = "k" }\n'
    )
    scenario = load_scenario(child)
    care = {c.name: c for c in scenario.costs}
    assert care["care"].state_values["ice"]["y1"].text == "300"  # kept from the parent
    assert care["visits"].state_values["ice"]["y1"].text == "k"  # added by the child
    assert care["visits"].state_values["usual_care"]["y1"].text == "0"
    assert scenario.strategy_labels["ice"] == "ICE" and "k" in scenario.strategy_values["ice"]
    assert scenario.services[0].state_values["ice"]["y1"].text == "0"


def test_services_per_cycle_are_undiscounted_counts_split_like_costs(tmp_path):
    path = tmp_path / "m.toml"
    # Two states, p = 0.4 of leaving `sick` each cycle; a visit per cycle in `sick` and one
    # injection on entering `sick` again from `well` (relapse 0.1). Half-cycle correction, 4-week cycles.
    path.write_text(
        textwrap.dedent("""
        [settings]
        cycle_length = 4
        cycle_unit = "week"
        n_cycles = 6
        discount_costs = 0.5
        discount_outcomes = 0.5
        cycle_correction = "half-cycle"
        currency = "USD"
        price_year = 2025
        [analysis]
        effect = "qalys"
        comparator = "a"
        wtp = [1]
        [states]
        sick = { initial = 1 }
        well = { initial = 0 }
        [strategies.a]
        [transitions]
        sick = { sick = "rest", well = 0.4 }
        well = { well = "rest", sick = 0.1 }
        [costs.visit]
        category = "visits"
        values = { sick = 1 }
        [costs.injection]
        category = "injections"
        on_entry = { sick = 1 }
        [services.visits]
        values = { sick = 1 }
        [services.injections]
        on_entry = { sick = 1 }
        [outcomes.qalys]
        values = { sick = 1, well = 1 }
    """)
    )
    result = run_cohort(load_scenario(path))
    assert result.service_names == ("visits", "injections")
    assert result.services_per_cycle.shape == (1, 1, 6, 2)
    # the same expressions as costs give the same undiscounted per-cycle numbers
    np.testing.assert_allclose(result.services_per_cycle, result.cost_per_cycle, rtol=0, atol=1e-15)
    # by hand: sick share at points 0..6, half-cycle split, and entries into sick = 0.1 · well_{t-1}
    sick = [1.0]
    for _ in range(6):
        sick.append(0.6 * sick[-1] + 0.1 * (1 - sick[-1]))
    visits = [(sick[t - 1] + sick[t]) / 2 for t in range(1, 7)]
    injections = [0.1 * (1 - sick[t - 1]) for t in range(1, 7)]
    np.testing.assert_allclose(result.services_per_cycle[0, 0, :, 0], visits, rtol=1e-12)
    np.testing.assert_allclose(result.services_per_cycle[0, 0, :, 1], injections, rtol=1e-12, atol=1e-15)


def test_a_scenario_without_services_has_an_empty_service_axis(tmp_path):
    path = write_bia(tmp_path)
    text = path.parent.joinpath("model.toml").read_text()
    cut = text.index("[services.mri]")
    path.parent.joinpath("model.toml").write_text(text[:cut] + text[text.index("[outcomes.qalys]") :])
    result = run_cohort(load_scenario(path))
    assert result.services_per_cycle.shape == (1, 2, 2, 0)
    assert bia(path).budget.services_current is None


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ('[services.ct]\ncategory = "imaging"\nvalues = { y1 = 1 }\n', "services.ct.category: unknown key"),
        ("[services.ct]\nvalues = { y9 = 1 }\n", "services.ct.values.y9: unknown state 'y9'"),
        ('[services.ct]\nlabel = "CT"\n', "services.ct: expected 'values' (per cycle in a state) or 'on_entry'"),
        ('[services.ct]\nvalues = { y1 = "n_ct" }\n', "services.ct.values.y1: unknown name 'n_ct'"),
        ('[strategies.ice.services.ct]\nvalues = { y1 = "1 +" }\n', "strategies.ice.services.ct.values.y1"),
    ],
)
def test_service_problems_name_the_key(tmp_path, extra, fragment):
    path = write_bia(tmp_path, extra=extra)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert fragment in str(err.value)


def test_evaluate_parameters_computes_derived_parameters_per_draw(tmp_path):
    path = write_bia(tmp_path, extra='[parameters.rate_total]\nvalue = "2 * c_y1 + c_y2"\nsource = "derived"\n')
    scenario = load_scenario(path)
    values = evaluate_parameters(scenario, {"c_y1": np.array([1.0, 2.0]), "c_y2": np.array([0.5]), "n_mri": np.array([1.0])})
    assert values["rate_total"].tolist() == [2.5, 4.5]
    assert values["c_y2"].tolist() == [0.5, 0.5]
    assert evaluate_parameters(scenario)["rate_total"].tolist() == [250.0]


# --------------------------------------------------------------------------------------------
# Cohort timing, from files, by hand


def test_two_year_example_from_files_follows_time_since_entry(tmp_path):
    # 100 000 members × 10 / 1000 = 1000 episodes a year. Current mix: all usual care (100, then 50);
    # new mix: all ICE (300, then 0).
    #   current: year 1 = 1000·100 = 100 000; year 2 = 1000·50 (year-1 cohort) + 1000·100 = 150 000
    #   new:     year 1 = 1000·300 = 300 000; year 2 = 1000·0 + 1000·300          = 300 000
    #   MRIs:    current 1000 and 1000 (one in each cohort's first year); new 0 and 0
    run = bia(write_bia(tmp_path, mix_new="{ ice = 1.0 }"))
    b = run.budget
    assert b.categories == ("imaging", "primary_care")
    assert b.current[0, :, 0].tolist() == [100_000.0, 150_000.0]
    assert b.new[0, :, 0].tolist() == [300_000.0, 300_000.0]
    assert b.difference[0, :, 0].tolist() == [200_000.0, 150_000.0]
    assert b.current[0, :, 1].tolist() == [0.0, 0.0]
    assert b.episodes[0].tolist() == [1000.0, 1000.0]
    assert b.services == ("mri",)
    assert b.services_current[0, :, 0].tolist() == [1000.0, 1000.0]
    assert b.services_new[0, :, 0].tolist() == [0.0, 0.0]
    assert run.value("budget_difference")["mean"] == 350_000.0
    assert run.value("pmpm_current", year=2)["mean"] == pytest.approx(150_000 / (100_000 * 12))
    assert run.value("budget_difference")["low"] is None


def test_policy_prices_care_delivered_from_its_start_year_whatever_the_entry_year(tmp_path):
    # The policy halves both usual-care costs from year 2 and counts two MRIs per episode.
    # new, year 2 = year-1 cohort's 2nd year (25) + year-2 cohort's 1st year (50), × 1000.
    write_bia(tmp_path, name="unused.toml")
    (tmp_path / "cut.toml").write_text(
        textwrap.dedent("""
        extends = "model.toml"
        [model]
        name = "cut"
        [parameters.c_y1]
        value = 50
        source = "assumption: half price"
        [parameters.c_y2]
        value = 25
        source = "assumption: half price"
        [parameters.n_mri]
        value = 2
        source = "assumption: volume doubles"
    """)
    )
    path = write_bia(tmp_path, extra='[budget_impact.policy]\nscenario = "cut.toml"\nstart_year = 2\n')
    run = bia(path)
    b = run.budget
    assert b.current[0, :, 0].tolist() == [100_000.0, 150_000.0]
    assert b.new[0, :, 0].tolist() == [100_000.0, 75_000.0]
    assert b.services_new[0, :, 0].tolist() == [1000.0, 2000.0]
    # Services declared only in the BIA file (as the bundled files do) are evaluated with the
    # policy's parameters and trace: the same counts.
    model = tmp_path / "model.toml"
    text = model.read_text()
    services = text[text.index("[services.mri]") : text.index("[outcomes.qalys]")]
    model.write_text(text.replace(services, ""))
    path.write_text(path.read_text() + services)
    assert load_scenario(tmp_path / "cut.toml").services == ()
    grafted = bia(path).budget
    assert grafted.services_new[0, :, 0].tolist() == [1000.0, 2000.0]
    assert grafted.services_current[0, :, 0].tolist() == [1000.0, 1000.0]
    assert run.policy_applied and run.spec.policy.name == "cut"
    # --years 1 ends before the policy starts: it is reported as not applied, and changes nothing
    short = bia(path, years=1)
    assert not short.policy_applied
    assert short.budget.difference[0, :, 0].tolist() == [0.0]


def test_the_policy_runs_over_the_bia_files_horizon(tmp_path):
    # A policy written for a 1-cycle horizon is followed over the BIA file's 2 cycles, so the
    # year-1 cohort's second-year care (25 under the policy) is counted in year 2.
    write_bia(tmp_path, name="unused.toml")
    (tmp_path / "short.toml").write_text(
        'extends = "model.toml"\n[model]\nname = "short"\n[settings]\nn_cycles = 1\n'
        '[parameters.c_y2]\nvalue = 25\nsource = "assumption"\n'
    )
    path = write_bia(tmp_path, extra='[budget_impact.policy]\nscenario = "short.toml"\nstart_year = 2\n')
    run = bia(path)
    assert run.spec.policy_own_cycles == 1 and run.spec.policy.settings.n_cycles == 2
    assert run.budget.new[0, :, 0].tolist() == [100_000.0, 125_000.0]


# --------------------------------------------------------------------------------------------
# Properties


@pytest.mark.parametrize("draws", [0, 30])
def test_budget_is_linear_in_members(tmp_path, draws):
    path = write_bia(
        tmp_path, growth=0.03, mix_new='{ ice = { start = 0.1, end = 0.4, shape = "s-curve" }, usual_care = "rest" }'
    )
    one = bia(path, members=20_000, draws=draws, seed=7)
    three = bia(path, members=60_000, draws=draws, seed=7)
    for field in ("current", "new", "difference", "episodes", "services_current", "services_new"):
        np.testing.assert_allclose(getattr(three.budget, field), 3 * getattr(one.budget, field), rtol=1e-12)
    # PMPM does not change with plan size
    assert three.value("pmpm_difference")["mean"] == pytest.approx(one.value("pmpm_difference")["mean"], rel=1e-12)


@pytest.mark.parametrize("draws", [0, 40])
def test_zero_uptake_and_no_policy_give_exactly_zero_difference(tmp_path, draws):
    mix = '{ usual_care = [0.7, 0.6, 0.5], ice = "rest" }'
    path = write_bia(
        tmp_path,
        years=3,
        growth=0.02,
        rate="rate",
        extra=f'mix_current = {mix}\n[parameters.rate]\ndistribution = "uniform"\nmin = 5\nmax = 15\nsource = "assumption"\n',
    )
    text = path.read_text().replace("mix_current = { usual_care = 1.0 }\n", "")
    path.write_text(text.replace("mix_new = { usual_care = 1.0 }", f"mix_new = {mix}"))
    run = bia(path, draws=draws, seed=3)
    assert np.all(run.budget.difference == 0.0)
    assert np.all(run.budget.services_difference == 0.0)
    assert np.any(run.budget.current > 0)


def test_a_policy_identical_to_the_base_gives_zero_difference_in_every_draw(tmp_path):
    # Common random numbers: the policy shares every parameter with the BIA file, so its draws
    # are identical; a parameter only the policy has is drawn from its own stream.
    write_bia(tmp_path, name="unused.toml")
    (tmp_path / "same.toml").write_text(
        'extends = "model.toml"\n[model]\nname = "same"\n'
        '[parameters.only_here]\ndistribution = "normal"\nmean = 0\nsd = 1\n'
        'source = "assumption"\n'
    )
    path = write_bia(tmp_path, extra='[budget_impact.policy]\nscenario = "same.toml"\nstart_year = 1\n')
    run = bia(path, draws=50, seed=11)
    assert np.ptp(run.budget.current.sum(axis=(1, 2))) > 0  # the draws do vary
    assert np.all(run.budget.difference == 0.0)


def test_intervals_widen_with_parameter_uncertainty(tmp_path):
    mix_new = '{ ice = 0.5, usual_care = "rest" }'
    (tmp_path / "narrow").mkdir()
    (tmp_path / "wide").mkdir()
    narrow = bia(write_bia(tmp_path / "narrow", sd=2.0, mix_new=mix_new), draws=300, seed=5)
    wide = bia(write_bia(tmp_path / "wide", sd=30.0, mix_new=mix_new), draws=300, seed=5)
    for measure in ("budget_difference", "pmpm_difference", "budget_current"):
        n, w = narrow.value(measure), wide.value(measure)
        assert n["low"] < n["mean"] < n["high"]
        assert w["high"] - w["low"] > 5 * (n["high"] - n["low"])
    assert bia(write_bia(tmp_path, mix_new=mix_new)).value("budget_difference")["low"] is None


def test_same_seed_gives_the_same_budget_and_another_seed_does_not(tmp_path):
    path = write_bia(tmp_path, mix_new='{ ice = 0.5, usual_care = "rest" }')
    a, b, c = bia(path, draws=20, seed=1), bia(path, draws=20, seed=1), bia(path, draws=20, seed=2)
    assert np.array_equal(a.budget.difference, b.budget.difference)
    assert not np.array_equal(a.budget.difference, c.budget.difference)


def test_years_option_uses_the_first_years_of_the_files_uptake_curve(tmp_path):
    path = write_bia(tmp_path, years=5, mix_new='{ ice = { start = 0.1, end = 0.5, shape = "linear" }, usual_care = "rest" }')
    run = bia(path, years=2)
    np.testing.assert_allclose(run.budget.episodes_new[0, :, 1] / run.budget.episodes[0], [0.1, 0.2])
    with pytest.raises(UsageError, match="--years 6: .* budget_impact.years = 5"):
        bia(path, years=6)
    with pytest.raises(UsageError, match="--draws 1"):
        bia(path, draws=1, seed=1)


def test_episode_rate_by_age_band(tmp_path):
    path = write_bia(tmp_path)
    text = path.read_text().replace('episodes_per_1000_members = { value = "10", source = "assumption: test" }\n', "")
    path.write_text(
        text
        + textwrap.dedent("""
        age_mix = { young = 0.75, old = 0.25 }
        [budget_impact.episodes_per_1000_members]
        value = { young = 8, old = "2 * c_y2 / 5" }
        source = "assumption: test"
    """)
    )
    run = bia(path)
    assert run.budget.episodes[0].tolist() == [100_000 * (0.75 * 8 + 0.25 * 20) / 1000] * 2
    assert run.rate_per_1000.tolist() == [11.0]


def test_a_negative_rate_in_a_draw_is_an_analysis_error(tmp_path):
    path = write_bia(
        tmp_path, rate="rate", extra='[parameters.rate]\ndistribution = "normal"\nmean = 1\nsd = 5\nsource = "assumption"\n'
    )
    assert bia(path).rate_per_1000.tolist() == [1.0]
    with pytest.raises(AnalysisError, match=r"episodes_per_1000_members.value: 'rate' gives -[\d.]+ episodes .* in draw"):
        bia(path, draws=50, seed=1)


def test_section_and_policy_problems_are_reported_together(tmp_path):
    (tmp_path / "other.toml").write_text(
        'extends = "model.toml"\n[settings]\ncycle_correction = "half-cycle"\n[services.xray]\nvalues = { y1 = 1 }\n'
    )
    path = write_bia(tmp_path, extra='[budget_impact.policy]\nscenario = "other.toml"\nstart_year = 2\n')
    path.write_text(path.read_text().replace("discount_rate = 0", "discount_rate = 3"))
    with pytest.raises(ScenarioError) as err:
        read_bia_spec(load_scenario(path))
    text = str(err.value)
    assert "3 problems" in text
    assert "budget_impact.discount_rate: must be in [0, 1); got 3" in text
    assert "other.toml: settings.cycle_correction: must equal" in text
    assert "other.toml: services.xray: not declared in" in text


def test_a_policy_missing_a_name_a_service_uses_is_a_problem(tmp_path):
    write_bia(tmp_path, name="unused.toml")
    (tmp_path / "renamed.toml").write_text(
        MODEL.replace("@SD@", "10").replace("n_mri", "k_mri").replace('name = "toy"', 'name = "renamed"')
    )
    (tmp_path / "renamed.toml").write_text(
        (tmp_path / "renamed.toml").read_text().split("[services.mri]")[0] + "[outcomes.qalys]\nvalues = { y1 = 0.7 }\n"
    )
    path = write_bia(tmp_path, extra='[budget_impact.policy]\nscenario = "renamed.toml"\nstart_year = 2\n')
    with pytest.raises(ScenarioError, match=r"services.mri.values.y1: is also counted under the policy .* no names 'n_mri'"):
        read_bia_spec(load_scenario(path))


def test_run_command_writes_nothing_when_a_scenario_is_invalid(tmp_path):
    from datetime import datetime

    good = write_bia(tmp_path)
    (tmp_path / "plain.toml").write_text(MODEL.replace("@SD@", "10").replace('name = "toy"', 'name = "plain"'))
    out = tmp_path / "out"
    with pytest.raises(ScenarioError, match="plain.toml: budget_impact: missing"):
        run_bia_command(
            [load_scenario(good), load_scenario(tmp_path / "plain.toml")], out_dir=out, argv=[], started=datetime.now(UTC)
        )
    assert not out.exists()


def test_the_bia_path_does_not_import_pandas():
    code = "import sys, costspine.cli, costspine.cli.bia, costspine.analysis.bia; sys.exit(1 if 'pandas' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
