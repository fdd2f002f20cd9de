"""Acceptance of issue 14: a PSA of base_case_bayes.toml reproduces the SPINE CARE targets it was calibrated to.

Fits the bundled evidence (as ``costspine fit`` does), runs ``costspine psa`` of the
posterior-driven scenario and reads its calibration check. Nothing here is tuned to today's spine
numbers: a coherent PSA (whole posterior rows, held parameters held) reproduces every likelihood
target by construction (docs/calibration.md).
"""

import csv
import warnings

import pytest
from click.testing import CliRunner

from helpers import SPINE


@pytest.mark.slow
def test_psa_of_the_calibrated_scenario_reproduces_the_trial(tmp_path, monkeypatch):
    from costspine.cli import cli

    monkeypatch.setenv("COSTSPINE_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = runner.invoke(cli, ["fit", "--out", str(tmp_path / "fit"), "--quiet", "--no-figures"])
        assert fitted.exit_code == 0, fitted.output  # converged: R-hat, ESS, no divergences
        out = tmp_path / "psa"
        psa = runner.invoke(cli, ["psa", str(SPINE / "base_case_bayes.toml"), "--draws", "2000", "--out", str(out)])
    assert psa.exit_code == 0, psa.output
    with open(out / "calibration_check.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    fitted_targets = [r for r in rows if r["likelihood"] == "yes"]
    assert len(fitted_targets) >= 8
    for row in fitted_targets:
        assert float(row["overlap"]) >= 0.8, row  # PSA 95% interval covers >= 80% of the trial CI
        assert row["median_in_trial_ci"] == "yes", row
    ice = next(r for r in rows if r["target"] == "spending_ratio_ice")
    assert float(ice["p_below_null"]) >= 0.95  # the trial's ICE/UC CI lies below 1
