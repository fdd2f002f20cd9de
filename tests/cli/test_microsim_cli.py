"""``costspine run``, ``validate`` and ``psa`` with the microsimulation: options, files written, exit codes.

The engine itself is tested in tests/unit/test_microsim.py.
"""

from __future__ import annotations

import json

from helpers import RICH_MICROSIM, SICK_SICKER, invoke, write

RICH = RICH_MICROSIM.read_text(encoding="utf-8")


def test_cli_run_microsim_writes_mcse(tmp_path):
    out = tmp_path / "out"
    result = invoke("run", str(SICK_SICKER), "--method", "microsim", "--individuals", "3000", "--seed", "11", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Monte Carlo standard errors (3,000 individuals per strategy" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["microsimulation"]["individuals"] == 3000 and summary["microsimulation"]["seed"] == 11
    assert summary["microsimulation"]["strategies"]["treatment"]["incremental_cost_se"] > 0
    assert (out / "mcse.csv").read_text().startswith("strategy,quantity,mean,mcse")
    assert json.loads((out / "manifest.json").read_text())["seed"] == 11
    again = tmp_path / "again"
    invoke("run", str(SICK_SICKER), "--method", "microsim", "--individuals", "3000", "--seed", "11", "--out", str(again))
    assert (again / "results.csv").read_text() == (out / "results.csv").read_text()


def test_cli_individuals_without_microsim_is_a_usage_error(tmp_path):
    result = invoke("run", str(SICK_SICKER), "--individuals", "100", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "--individuals applies to --method microsim only" in result.output


def test_cli_validate_accepts_a_population_scenario(tmp_path):
    path = write(tmp_path, RICH)
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.output
    bad = write(tmp_path, RICH.replace('worse = "0.05 + 0.03 * shots"', 'worse = "0.05 + 0.5 * shots * risk_high"'), "bad.toml")
    result = invoke("validate", str(bad))
    assert result.exit_code == 3 and "shots=2" in result.output


def test_cli_psa_microsim_simulates_individuals_per_draw(tmp_path):
    out = tmp_path / "psa"
    result = invoke(
        "psa",
        str(SICK_SICKER),
        "--draws",
        "4",
        "--method",
        "microsim",
        "--individuals",
        "2048",
        "--seed",
        "5",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "microsim" and summary["individuals"] == 2048
    # Sick-Sicker has no distributions: the draws differ only by Monte Carlo noise, each its own individuals
    costs = summary["strategies"]["no_treatment"]["cost_total"]
    assert 0 < costs["sd"] < 0.05 * costs["mean"]
