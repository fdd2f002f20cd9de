"""The calibration recovers known parameters from targets simulated by the model itself."""

import warnings

import numpy as np
import pytest

from costspine.bayes.predictive import predict_targets
from costspine.model.inputs import base_case_parameters
from costspine.scenario.evidence import load_evidence
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

from helpers import CHANCELLOR, analysis_toml, settings_toml, write

HIV = CHANCELLOR


@pytest.mark.slow
@pytest.mark.parametrize("true_rr", [0.42, 0.65])
def test_recovers_relative_risk(tmp_path, true_rr):
    from costspine.bayes.fit import fit_evidence

    scenario = load_scenario(HIV)
    params = base_case_parameters(scenario)
    params["rr"] = np.array([true_rr])
    template = tmp_path / "template.toml"
    template.write_text(f"""
[evidence]
name = "recovery"
source = "simulated from the model at rr = {true_rr}"
scenario = "{HIV.as_posix()}"
calibrate = ["rr"]
[sampler]
draws = 1000
tune = 1000
chains = 2
target_accept = 0.9
seed = 11
[[targets]]
name = "ratio"
kind = "cost_ratio"
strategy = "comb"
comparator = "mono"
mean = 1.1
se = 0.004
source = "simulated"
""")
    evidence = load_evidence(template)
    truth = predict_targets(run_cohort(scenario, params), evidence.targets)["ratio"][0]
    template.write_text(template.read_text().replace("mean = 1.1", f"mean = {float(truth)!r}"))
    evidence = load_evidence(template)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_evidence(evidence, scenario, draws=1000, tune=1000, chains=2, target_accept=0.9, seed=11)
    assert fit.converged, fit.failures
    lo, hi = np.quantile(fit.draws["rr"], [0.025, 0.975])
    assert lo < true_rr < hi


# A three-arm trial in miniature: usual care (uc) and two arms (a, b) that speed recovery by a
# hazard ratio and change care use by a rate ratio. Targets as SPINE CARE reports them: usual care's
# change from baseline at two visits, each arm's difference vs usual care at two visits, and each
# arm's cost ratio vs usual care; errors correlated through the shared control arm and repeated measures.
TRIAL = (
    '[model]\nname = "three_arm_trial"\n'
    + settings_toml(3)
    + analysis_toml(comparator="uc")
    + """
[states]
sick = { initial = 1 }
well = { initial = 0 }
[strategies.uc.values]
hr_now = "1"
rr_now = "1"
[strategies.a.values]
hr_now = "hr_a"
rr_now = "rr_a"
[strategies.b.values]
hr_now = "hr_b"
rr_now = "rr_b"
[transitions]
sick = { well = "1 - exp(-rate_recover * hr_now)", sick = "rest" }
well = { well = 1 }
[costs.care]
category = "care"
values = { sick = "1000 * rr_now", well = "100 * rr_now" }
[outcomes.qalys]
values = { sick = 0.6, well = 0.9 }
[indicators.disability]
values = { sick = 60, well = 10 }
[parameters.rate_recover]
value = 0.5
distribution = "lognormal"
meanlog = "log(0.5)"
sdlog = 1
source = "assumption: wide prior"
"""
    + "".join(
        f'[parameters.{name}]\nvalue = 1\ndistribution = "lognormal"\nmeanlog = 0\nsdlog = 1\nsource = "assumption: wide prior"\n'
        for name in ("hr_a", "hr_b", "rr_a", "rr_b")
    )
)
TRUTH = {"rate_recover": 0.35, "hr_a": 1.8, "hr_b": 1.3, "rr_a": 0.85, "rr_b": 1.25}


def trial_evidence(scenario_path, means: dict) -> str:
    def target(name, kind, strategy, years=None, comparator=None, spread="se = 1.5"):
        lines = [
            f'name = "{name}"',
            f'kind = "{kind}"',
            f'strategy = "{strategy}"',
            f"mean = {means.get(name, 1.0 if kind == 'cost_ratio' else -1.0)!r}",
        ]
        if years is not None:
            lines += ['indicator = "disability"', f"years = {years}"]
        if comparator:
            lines.append(f'comparator = "{comparator}"')
        return "[[targets]]\n" + "\n".join([*lines, spread, 'source = "simulated"']) + "\n"

    return (
        f"""
[evidence]
name = "three_arm_recovery"
source = "simulated from the model at known parameters, with correlated errors"
scenario = "{scenario_path.as_posix()}"
calibrate = {list(TRUTH)!r}
[sampler]
draws = 1000
tune = 1000
chains = 2
target_accept = 0.9
seed = 5
[likelihood]
arms = {{ uc = 400, a = 300, b = 500 }}
repeated_measures_correlation = 0.6
design_effect = 1.5
source = "simulated design"
"""
        + target("uc_change_1", "indicator_change", "uc", 1, spread="sd = 20\nn = 400\nclustered = true")
        + target("uc_change_3", "indicator_change", "uc", 3, spread="sd = 20\nn = 400\nclustered = true")
        + "".join(target(f"{s}_diff_{y}", "indicator_difference", s, y, "uc") for s in "ab" for y in (1, 3))
        + "".join(target(f"{s}_ratio", "cost_ratio", s, comparator="uc", spread="se = 0.04") for s in "ab")
    )


@pytest.mark.slow
def test_joint_calibration_recovers_every_parameter_from_correlated_targets(tmp_path):
    """Simulate the targets at known values plus one draw of the likelihood's correlated error; fit;
    every calibrated parameter's 95% interval covers its true value."""
    from costspine._rng import stream
    from costspine.bayes.fit import fit_evidence
    from costspine.bayes.likelihood import likelihood_targets, target_covariance

    scenario_path = write(tmp_path, TRIAL, "trial.toml")
    scenario = load_scenario(scenario_path)
    evidence_path = tmp_path / "evidence.toml"
    evidence_path.write_text(trial_evidence(scenario_path, {}))
    evidence = load_evidence(evidence_path)
    targets = likelihood_targets(evidence)
    params = base_case_parameters(scenario)
    params.update({name: np.array([value]) for name, value in TRUTH.items()})
    predicted = predict_targets(run_cohort(scenario, params), targets)
    cov = target_covariance(targets, evidence.likelihood)
    error = stream(20260101, "recovery test").multivariate_normal(np.zeros(len(targets)), cov)
    means = {}
    for t, e in zip(targets, error):
        value = float(predicted[t.name][0])
        means[t.name] = value * float(np.exp(e)) if t.kind == "cost_ratio" else value + float(e)
    evidence_path.write_text(trial_evidence(scenario_path, means))
    evidence = load_evidence(evidence_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_evidence(evidence, scenario, draws=1000, tune=1000, chains=2, target_accept=0.9, seed=5)
    assert fit.converged, fit.failures
    for name, truth in TRUTH.items():
        lo, hi = np.quantile(fit.draws[name], [0.025, 0.975])
        assert lo < truth < hi, (name, lo, truth, hi)
    # the InferenceData has every group a calibration report needs
    for group in ("posterior", "prior", "posterior_predictive", "observed_data", "log_likelihood", "sample_stats"):
        assert group in fit.idata.groups(), group
