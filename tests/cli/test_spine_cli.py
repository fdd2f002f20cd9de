"""``costspine run`` on the bundled spine scenarios: the side-by-side comparison and the ODI trajectory.

The scenarios themselves are tested in tests/unit/test_spine_scenarios.py.
"""

from __future__ import annotations

from helpers import SPINE, invoke

BASE = SPINE / "base_case.toml"


def test_run_prints_the_side_by_side_comparison_with_odi(tmp_path):
    out = invoke("run", str(BASE), str(SPINE / "injection_cut_50.toml"), "--out", str(tmp_path / "run"))
    assert out.exit_code == 0, out.output
    text = out.output
    assert "Scenario comparison" in text
    for needle in (
        "spine_base_case / usual_care",
        "spine_injection_cut_50 / ice",
        "injections",
        "qalys",
        "odi 0 y",
        "odi 0.25 y",
        "odi 1 y",
    ):
        assert needle in text, needle
    assert (tmp_path / "run" / "summary.json").exists()


def test_run_of_the_base_case_shows_odi_at_3_and_12_months_and_incremental_results(tmp_path):
    out = invoke("run", str(BASE), "--out", str(tmp_path / "run"))
    assert out.exit_code == 0, out.output
    for needle in ("Incremental results vs Usual care", "Mean odi over time", "0.25 y", "1 y", "intervention (USD)", "qalys"):
        assert needle in out.output, needle
    assert (tmp_path / "run" / "trajectory.csv").exists()
