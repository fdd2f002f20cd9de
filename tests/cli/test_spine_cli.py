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
    comparison = text.split("Scenario comparison")[1]
    rows = [line.split() for line in comparison.splitlines()]
    assert ["spine_base_case", "Usual", "care"] == rows[5][:3]  # labels, not ids (usual_care)
    assert any(r[:2] == ["spine_injection_cut_50", "ICE"] for r in rows)
    for needle in ("QALYs", "Life-years", "baseline", "3 months", "1 year", "Total"):
        assert needle in comparison, needle
    for id_ in ("usual_care", "qalys", "odi 0 y"):
        assert id_ not in text, id_  # ids only in files
    assert (tmp_path / "run" / "summary.json").exists()


def test_run_of_the_base_case_shows_odi_at_3_and_12_months_and_incremental_results(tmp_path):
    out = invoke("run", str(BASE), "--out", str(tmp_path / "run"))
    assert out.exit_code == 0, out.output
    for needle in (
        "Incremental results vs Usual care",
        "Mean ODI (0-100) over time",
        "3 months",
        "1 year",
        "ICE / IPT programme delivery",
        "QALYs",
    ):
        assert needle in out.output, needle
    assert "qalys" not in out.output and "per unit of effect" not in out.output
    assert (tmp_path / "run" / "trajectory.csv").exists()
