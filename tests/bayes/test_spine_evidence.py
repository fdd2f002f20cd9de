"""The bundled SPINE CARE evidence and the posterior-driven spine scenario."""

import json
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from costspine.bayes.posterior import save_to_cache
from costspine.scenario.evidence import load_evidence
from costspine.scenario.load import load_scenario

from helpers import SPINE

BAYES = SPINE / "base_case_bayes.toml"


def test_bundled_evidence_matches_its_scenario():
    from costspine.bayes.fit import check_evidence_against_scenario

    evidence = load_evidence()
    scenario = load_scenario(evidence.scenario_path)
    check_evidence_against_scenario(evidence, scenario)  # raises on any mismatch
    by_name = {t.name: t for t in evidence.targets}
    # published numbers (SPINE CARE Table 2), not what the code printed
    assert by_name["odi_diff_3m_ice"].mean == -5.8 and (by_name["odi_diff_3m_ice"].low, by_name["odi_diff_3m_ice"].high) == (
        -7.7,
        -3.9,
    )
    assert by_name["spending_ratio_ipt"].mean == 1.40 and by_name["spending_ratio_ipt"].high == 1.45
    assert not by_name["spending_ipt"].likelihood
    # priors for calibration are wide, not the base case's trial-derived ones
    assert scenario.parameter("hr_improve_ice_treatment").args["sdlog"] == 1


def test_psa_joins_whole_posterior_rows_from_the_cache(tmp_path, monkeypatch):
    """A cached posterior is used without refitting; rows are kept together, also for calibrated
    parameters the scenario does not declare posterior; what the calibration held is held."""
    from costspine.cli import cli

    monkeypatch.setenv("COSTSPINE_CACHE_DIR", str(tmp_path / "cache"))
    evidence = load_evidence()
    scenario = load_scenario(evidence.scenario_path)
    n = evidence.sampler.draws * evidence.sampler.chains  # a cache holds every draw of the file's sampler
    rows = np.arange(n, dtype=float)
    base = {name: scenario.parameter(name).value for name in evidence.calibrate}
    fake = {name: base[name] * (1 + rows / (20 * n)) for name in evidence.calibrate}  # row r: base x (1 + r / 20n)
    save_to_cache(evidence, scenario, fake, {})
    out = tmp_path / "psa"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = CliRunner().invoke(cli, ["psa", str(BAYES), "--draws", "200", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    provenance = summary["posterior"][0]
    assert provenance["posterior_draws"] == n
    assert provenance["fitted_now"] is False
    assert set(provenance["parameters"]) == set(evidence.calibrate)
    from costspine.analysis.psa_draws_file import load_psa_draws

    draws = load_psa_draws(out)
    names = list(draws.parameter_names)
    values = draws.parameters
    first = values[:, names.index(evidence.calibrate[0])] / base[evidence.calibrate[0]]
    for name in evidence.calibrate[1:]:  # same row for every parameter, declared posterior or not
        np.testing.assert_allclose(values[:, names.index(name)] / base[name], first)
    assert len(np.unique(first)) > 10
    # held at the calibration's value: a price that changes the spending targets
    held = provenance["held_at_calibration_values"]
    assert "price_ipt_postural_therapy_session" in held
    assert np.all(
        values[:, names.index("price_ipt_postural_therapy_session")]
        == scenario.parameter("price_ipt_postural_therapy_session").value
    )
    # free: a utility-mapping parameter no target depends on is drawn from its own distribution
    assert "back_nrs_per_odi" not in held
    assert len(np.unique(values[:, names.index("back_nrs_per_odi")])) > 100
    # the calibration check: terminal, CSV, workbook sheet
    assert "Calibration check" in result.output
    check = (out / "calibration_check.csv").read_text()
    assert "odi_diff_3m_ice" in check and "spending_ratio_ipt" in check
    from openpyxl import load_workbook

    assert "Calibration check" in load_workbook(out / "psa.xlsx", read_only=True).sheetnames


@pytest.mark.slow
def test_spine_fit_converges_and_reproduces_targets(tmp_path, monkeypatch):
    from costspine.bayes.fit import fit_evidence
    from costspine.bayes.predictive import posterior_predictive_rows

    monkeypatch.setenv("COSTSPINE_CACHE_DIR", str(tmp_path / "cache"))
    evidence = load_evidence()
    scenario = load_scenario(evidence.scenario_path)
    s = evidence.sampler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_evidence(
            evidence, scenario, draws=s.draws, tune=s.tune, chains=s.chains, target_accept=s.target_accept, seed=s.seed
        )
    assert fit.converged, fit.failures
    for row in posterior_predictive_rows(scenario, evidence, fit.draws):
        if row[-1] == "yes":  # every likelihood target within its trial 95% CI
            assert row[-2] == "yes", row
