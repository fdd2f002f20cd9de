"""Bayesian layer: evidence validation, PyTensor graph == numpy engine, the whole fit path."""

import json
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from costspine.errors import ScenarioError
from costspine.model.inputs import base_case_parameters
from costspine.scenario.evidence import load_evidence
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

from helpers import CHANCELLOR

HIV = CHANCELLOR


def write_evidence(
    tmp_path, *, ratio_mean=1.12, extra="", sampler="draws = 150\ntune = 150\nchains = 1\ntarget_accept = 0.9\nseed = 3"
):
    path = tmp_path / "evidence.toml"
    path.write_text(f"""
[evidence]
name = "hiv_synthetic"
source = "synthetic targets simulated from the model"
scenario = "{HIV.as_posix()}"
calibrate = ["rr"]

[sampler]
{sampler}

[[targets]]
name = "cost_ratio"
kind = "cost_ratio"
strategy = "comb"
comparator = "mono"
mean = {ratio_mean}
se = 0.01
source = "synthetic"
{extra}
""")
    return path


def test_evidence_reports_every_problem(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("""
[evidence]
name = "x"
scenario = "s.toml"
calibrate = []
oops = 1

[[targets]]
name = "t"
kind = "cost_median"
strategy = "a"
mean = 1
source = "s"
""")
    with pytest.raises(ScenarioError) as err:
        load_evidence(path)
    text = str(err.value)
    for expected in ("evidence.source", "evidence.calibrate", "evidence.oops", "sampler", "targets[0].kind"):
        assert expected in text


def test_ratio_ci_is_converted_to_a_log_scale_standard_error(tmp_path):
    path = write_evidence(
        tmp_path,
        extra="""
[[targets]]
name = "ratio_ci"
kind = "cost_ratio"
strategy = "comb"
comparator = "mono"
mean = 0.93
ci = [0.87, 0.997]
source = "SPINE CARE Table 2"
""",
    )
    target = load_evidence(path).targets[1]
    assert target.se == pytest.approx((np.log(0.997) - np.log(0.87)) / (2 * 1.959964), rel=1e-6)
    assert (target.low, target.high) == (0.87, 0.997)


@pytest.mark.slow
def test_symbolic_model_equals_numpy_engine():
    from costspine.bayes.fit import _import, build_symbolic_model

    _, pt, _ = _import()
    scenario = load_scenario(HIV)
    result = run_cohort(scenario)
    values = {k: float(v[0]) for k, v in base_case_parameters(scenario).items()}
    values["rr"] = 0.6  # off the base case, so the strategy values are exercised
    params = {k: np.array([v]) for k, v in values.items()}
    result = run_cohort(scenario, params)
    symbolic = build_symbolic_model(scenario, values, pt)
    for k, strategy in enumerate(scenario.strategies):
        assert float(symbolic.cost_total[strategy].eval()) == pytest.approx(result.costs_undiscounted[0, k].sum(), rel=1e-10)
        trace = np.array([p.eval() for p in symbolic.trace[strategy]])
        np.testing.assert_allclose(trace, result.trace[0, k], rtol=1e-10, atol=1e-14)


def test_unknown_calibrated_parameter_is_a_scenario_error(tmp_path):
    from costspine.bayes.fit import check_evidence_against_scenario

    path = write_evidence(tmp_path).read_text().replace('calibrate = ["rr"]', 'calibrate = ["rr", "c_zidovudine", "nope"]')
    (tmp_path / "e2.toml").write_text(path)
    evidence = load_evidence(tmp_path / "e2.toml")
    with pytest.raises(ScenarioError) as err:
        check_evidence_against_scenario(evidence, load_scenario(HIV))
    assert "'nope' is not a parameter" in str(err.value)
    assert "'c_zidovudine' has no prior distribution" in str(err.value)


@pytest.mark.slow
def test_fit_command_whole_path(tmp_path, monkeypatch):
    """Small NUTS run through the CLI: files written, diagnostics reported, cache only when converged."""
    from costspine.cli import cli

    monkeypatch.setenv("COSTSPINE_CACHE_DIR", str(tmp_path / "cache"))
    evidence = write_evidence(tmp_path)
    out = tmp_path / "fit"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = CliRunner().invoke(cli, ["fit", str(evidence), "--out", str(out), "--allow-unconverged"])
    assert result.exit_code == 0, result.output
    for name in (
        "posterior.csv",
        "posterior.nc",
        "diagnostics.json",
        "posterior_predictive.csv",
        "manifest.json",
        "fit.xlsx",
        "rank.png",
        "predictive_check.png",
    ):
        assert (out / name).exists(), name
    import arviz as az
    from openpyxl import load_workbook

    groups = set(az.from_netcdf(out / "posterior.nc").groups())
    assert {"posterior", "prior", "posterior_predictive", "observed_data", "log_likelihood"} <= groups
    assert {"Posterior", "Diagnostics", "Predictive check"} <= set(load_workbook(out / "fit.xlsx", read_only=True).sheetnames)
    diagnostics = json.loads((out / "diagnostics.json").read_text())
    assert set(diagnostics["rhat"]) == {"rr"}
    assert diagnostics["sampler"]["draws"] == 150
    assert "R-hat" in result.output and "Posterior predictive check" in result.output
    posterior = np.loadtxt(out / "posterior.csv", delimiter=",", skiprows=1)
    assert posterior.shape == (150, 2)
    # the cost ratio target of 1.12 pulls rr up from its prior median 0.509
    assert 0.52 < posterior[:, 1].mean() < 0.7


@pytest.mark.slow
def test_fit_fails_loudly_when_diagnostics_fail(tmp_path, monkeypatch):
    from costspine.cli import cli

    monkeypatch.setenv("COSTSPINE_CACHE_DIR", str(tmp_path / "cache"))
    evidence = write_evidence(tmp_path, sampler="draws = 20\ntune = 20\nchains = 1\ntarget_accept = 0.9\nseed = 3")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = CliRunner().invoke(cli, ["fit", str(evidence), "--out", str(tmp_path / "fit")])
    assert result.exit_code == 1
    assert "bulk ESS" in result.output and "What to try" in result.output
    assert not (tmp_path / "cache").exists()
