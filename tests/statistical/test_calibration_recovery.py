"""The calibration recovers known parameters from targets simulated by the model itself."""

import warnings

import numpy as np
import pytest

from costspine.bayes.predictive import predict_targets
from costspine.model.inputs import base_case_parameters
from costspine.scenario.evidence import load_evidence
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

from helpers import CHANCELLOR

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
