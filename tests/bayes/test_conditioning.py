"""What a calibration conditions on (costspine.bayes.conditioning): held if it changes a target, free otherwise."""

from costspine.bayes.conditioning import find_held_parameters
from costspine.scenario.evidence import load_evidence
from costspine.scenario.load import load_scenario

from helpers import analysis_toml, settings_toml, write

TOY = (
    '[model]\nname = "toy_trial"\n'
    + settings_toml(2)
    + analysis_toml(comparator="uc")
    + """
[states]
sick = { initial = 1 }
well = { initial = 0 }
[strategies.uc.values]
hr_now = "1"
[strategies.a.values]
hr_now = "hr_a"
[transitions]
sick = { well = "1 - exp(-rate * hr_now)", sick = "rest" }
well = { well = 1 }
[costs.care]
category = "care"
values = { sick = "price_visit * visits", well = "0" }
[outcomes.qalys]
values = { sick = "u_sick", well = 0.9 }
[parameters.rate]
value = 0.5
distribution = "lognormal"
meanlog = "log(0.5)"
sdlog = 0.5
source = "assumption"
[parameters.hr_a]
value = 1.5
distribution = "lognormal"
meanlog = "log(1.5)"
sdlog = 0.5
source = "assumption"
[parameters.price_visit]
value = 100
distribution = "gamma"
mean = 100
sd = 20
source = "assumption: changes the cost target"
[parameters.visits]
value = 2
source = "fixed, changes the cost target"
[parameters.u_sick]
value = 0.6
distribution = "uniform"
min = 0.5
max = 0.7
source = "assumption: changes QALYs only"
"""
)


def toy_evidence(tmp_path, targets: str):
    """The toy scenario and an evidence file calibrating ``hr_a`` to ``targets`` (TOML ``[[targets]]`` tables)."""
    scenario_path = write(tmp_path, TOY, "toy.toml")
    evidence = tmp_path / "evidence.toml"
    evidence.write_text(
        f"""
[evidence]
name = "toy"
source = "synthetic"
scenario = "{scenario_path.as_posix()}"
calibrate = ["hr_a"]
[sampler]
draws = 10
tune = 10
chains = 1
target_accept = 0.9
seed = 1
"""
        + targets
    )
    return load_scenario(scenario_path), load_evidence(evidence)


def test_parameters_that_change_a_target_are_held_the_others_are_free(tmp_path):
    scenario, evidence = toy_evidence(
        tmp_path,
        """
[[targets]]
name = "spending_ratio"
kind = "cost_ratio"
strategy = "a"
comparator = "uc"
mean = 0.8
se = 0.05
source = "synthetic"
""",
    )
    held = find_held_parameters(scenario, evidence)
    # the usual-care hazard and the cost level change the ratio; the price alone cancels out of a
    # ratio of costs that are both proportional to it, and the utility changes no target
    assert set(held) == {"rate"}
    assert held["rate"] == 0.5


def test_a_level_target_holds_the_price_too(tmp_path):
    scenario, evidence = toy_evidence(
        tmp_path,
        """
[[targets]]
name = "cost_uc"
kind = "cost_mean"
strategy = "uc"
mean = 150
se = 10
source = "synthetic"
[[targets]]
name = "qalys_check"
kind = "cost_mean"
strategy = "a"
mean = 100
se = 10
likelihood = false
source = "synthetic: check only, never conditions the posterior"
""",
    )
    held = find_held_parameters(scenario, evidence)
    assert set(held) == {"rate", "price_visit", "visits"}
    assert "u_sick" not in held
