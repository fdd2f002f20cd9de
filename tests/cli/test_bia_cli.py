"""``costspine bia``: exit codes, printed tables, files written, errors without tracebacks."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from helpers import ROOT, invoke, pathway_toml, read_csv

BUNDLED = ["scenarios/spine/bia_commercial_plan.toml", "scenarios/spine/bia_medicare_injection_cut.toml"]

# The toy pathway model of tests/helpers.py (usual care costs 100 in the first year after entry and
# 50 in the second, ICE 300 then 0) with a random episode rate; the plans add one MRI in the first
# year of usual care. 100 000 members × 10 / 1000 = 1000 episodes a year.
MODEL = pathway_toml(
    sd=20,
    parameters="""
[parameters.rate]
value = 10
distribution = "uniform"
min = 5
max = 15
source = "assumption"
""",
)

BIA = """
extends = "model.toml"

[model]
name = "{name}"
title = "Toy plan"

[budget_impact]
perspective = "payer"
years = 2
members = 100_000
member_growth_per_year = 0.0
discount_rate = 0
categories = "all"
episodes_per_1000_members = {{ value = "rate", source = "assumption: test" }}
mix_current = {{ usual_care = 1.0 }}
mix_new = {{ ice = 1.0 }}

[services.mri]
values = {{ y1 = 1 }}

[strategies.ice.services.mri]
values = {{ y1 = 0 }}
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "model.toml").write_text(MODEL)
    (tmp_path / "plan.toml").write_text(BIA.format(name="plan"))
    (tmp_path / "plan_b.toml").write_text(BIA.format(name="plan_b").replace("ice = 1.0", 'ice = 0.5, usual_care = "rest"'))
    return tmp_path


def test_base_case_prints_the_tables_and_writes_every_file(files):
    out = files / "out"
    result = invoke("bia", files / "plan.toml", "--out", out)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    for title in (
        "Budget impact: Toy plan",
        "Budget by year (constant 2025 USD)",
        "Per member per month (USD)",
        "Difference by cost category, new − current (USD)",
        "Services used over 2 years (counts)",
        "Pathway mix of new episodes (current → new)",
        "Health of the patients in the pathways (undiscounted)",
        "Central figures: the deterministic base case",
    ):
        assert title in text
    headers = [line for line in text.splitlines() if line.startswith(("year ", "category ", "service "))]
    assert len(headers) == 6 and not any("95% interval" in line for line in headers)
    assert sorted(p.name for p in out.iterdir()) == [
        "bia.xlsx",
        "budget_by_category.csv",
        "budget_by_year.csv",
        "budget_by_year.png",
        "budget_difference_by_category.png",
        "manifest.json",
        "services.csv",
        "summary.json",
    ]
    by_year = read_csv(out / "budget_by_year.csv")
    assert [r["year"] for r in by_year] == ["1", "2", "total"]
    # current: 1000·100, then 1000·50 + 1000·100; new: 1000·300 each year
    assert [float(r["budget_current"]) for r in by_year] == [100_000.0, 150_000.0, 250_000.0]
    assert [float(r["budget_difference"]) for r in by_year] == [200_000.0, 150_000.0, 350_000.0]
    assert by_year[0]["budget_difference_low"] == ""
    services = read_csv(out / "services.csv")
    assert [(r["service"], r["year"], float(r["difference"])) for r in services] == [
        ("mri", "1", -1000.0),
        ("mri", "2", -1000.0),
        ("mri", "total", -2000.0),
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["budget_difference"]["total"]["mean"] == 350_000.0
    assert summary["perspective"] == "payer" and summary["discount_rate"] == 0 and summary["draws"] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "bia" and manifest["seed"] is None
    assert {Path(i["path"]).name for i in manifest["inputs"]} == {"plan.toml", "model.toml"}
    assert sorted(manifest["outputs"]) == [
        "bia.xlsx",
        "budget_by_category.csv",
        "budget_by_year.csv",
        "budget_by_year.png",
        "budget_difference_by_category.png",
        "services.csv",
        "summary.json",
    ]


def test_draws_give_intervals_and_record_the_seed(files):
    out = files / "out"
    result = invoke("bia", files / "plan.toml", "--draws", 100, "--seed", 42, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "95% interval" in result.stdout and "100 parameter draws (seed 42)" in result.stdout
    total = read_csv(out / "budget_by_year.csv")[-1]
    assert float(total["budget_difference_low"]) < float(total["budget_difference"]) < float(total["budget_difference_high"])
    assert json.loads((out / "manifest.json").read_text())["seed"] == 42
    again = files / "again"
    assert invoke("bia", files / "plan.toml", "--draws", 100, "--seed", 42, "--out", again).exit_code == 0
    assert (again / "budget_by_year.csv").read_text() == (out / "budget_by_year.csv").read_text()


def test_members_and_years_options(files):
    out = files / "out"
    result = invoke("bia", files / "plan.toml", "--members", 50_000, "--years", 1, "--out", out)
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["members_by_year"] == [50_000.0]
    assert summary["years"] == 1 and summary["years_in_file"] == 2
    assert summary["budget_current"]["total"]["mean"] == 500 * 100.0


def test_several_scenarios_side_by_side_with_one_folder_each(files):
    out = files / "out"
    result = invoke("bia", files / "plan.toml", files / "plan_b.toml", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "Budget impact side by side" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "bia.xlsx",
        "budget_difference.png",
        "comparison.csv",
        "manifest.json",
        "plan",
        "plan_b",
        "summary.json",
    ]
    assert (out / "plan_b" / "budget_by_category.csv").is_file()
    totals = {r["scenario"]: float(r["budget_difference"]) for r in read_csv(out / "comparison.csv") if r["year"] == "total"}
    assert totals == {"plan": 350_000.0, "plan_b": 175_000.0}
    assert [s["scenario"] for s in json.loads((out / "summary.json").read_text())["scenarios"]] == ["plan", "plan_b"]


def test_default_output_folder_is_reports_scenario_bia(files, monkeypatch):
    monkeypatch.chdir(files)
    assert invoke("bia", "plan.toml", "--quiet").exit_code == 0
    assert (files / "reports" / "plan" / "bia" / "summary.json").is_file()


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["--years", 3], 2, "--years 3: "),
        (["--draws", 1], 2, "--draws 1: use 0 for the base case or at least 2"),
        (["--members", 0], 2, "Invalid value for '--members'"),
        (["--draws", -5], 2, "Invalid value for '--draws'"),
    ],
)
def test_bad_options_are_usage_errors(files, args, code, fragment):
    result = invoke("bia", files / "plan.toml", *args, "--out", files / "out")
    assert result.exit_code == code
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (files / "out").exists()


def test_a_scenario_without_a_section_and_a_bad_section_report_every_problem(files):
    bad = files / "bad.toml"
    bad.write_text(
        BIA.format(name="bad")
        .replace("discount_rate = 0", "discount_rate = 3.5")
        .replace('perspective = "payer"', 'perspective = "society"')
        .replace("mix_new = { ice = 1.0 }", "mix_new = { ice = [0.5], icee = 0.5 }")
        + textwrap.dedent("""
                       [budget_impact.policy]
                       scenario = "missing.toml"
                       start_year = 2
                   """)
    )
    result = invoke("bia", bad, files / "model.toml", "--out", files / "out")
    assert result.exit_code == 3
    err = result.stderr
    assert err.startswith("Error: 6 problems in scenario:")
    for fragment in (
        "bad.toml: budget_impact.discount_rate: must be in [0, 1); got 3.5 — rates are fractions, did you mean 0.035?",
        "bad.toml: budget_impact.perspective: expected one of 'payer'; got 'society'",
        "bad.toml: budget_impact.mix_new.icee: unknown strategy — did you mean 'ice'?",
        "bad.toml: budget_impact.mix_new.ice: has 1 shares; expected one per year (2)",
        "bad.toml: budget_impact.policy.scenario: file not found",
        "model.toml: budget_impact: missing; `costspine bia` needs a [budget_impact] section",
    ):
        assert fragment in err
    assert "Traceback" not in err
    assert not (files / "out").exists()


def test_an_invalid_model_file_is_an_invalid_scenario(files):
    (files / "model.toml").write_text(MODEL.replace('values = { y1 = "c_y1", y2 = 50 }', 'values = { y1 = "c_y", y2 = 50 }'))
    result = invoke("bia", files / "plan.toml")
    assert result.exit_code == 3
    assert "costs.care.values.y1: unknown name 'c_y'" in result.stderr


@pytest.mark.parametrize("path", BUNDLED)
def test_bundled_bia_scenarios_run(tmp_path, path):
    result = invoke("bia", ROOT / path, "--out", tmp_path, "--draws", 20, "--seed", 1)
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["years"] == 5 and summary["perspective"] == "payer" and summary["discount_rate"] == 0
    assert {"mri", "injections", "specialist_visits", "pt_visits"} <= set(summary["services"])
    assert summary["budget_current"]["total"]["mean"] > 0


def test_terminal_json_and_workbook_use_the_scenarios_one_perspective_wording(files):
    from openpyxl import load_workbook

    from costspine.scenario.load import load_scenario

    wording = load_scenario(files / "plan.toml").analysis.perspective_text
    assert wording  # the [analysis] wording, with the payer's name, not the BIA file's bare "payer"
    out = files / "out"
    result = invoke("bia", files / "plan.toml", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert f"Perspective: {wording};" in " ".join(result.stdout.split())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["perspective"] == "payer" and summary["perspective_text"] == wording
    book = load_workbook(out / "bia.xlsx")
    cells = [str(c.value) for sheet in book.worksheets for r in sheet.iter_rows() for c in r if c.value is not None]
    assert any(f"perspective: {wording}." in " ".join(cell.split()) for cell in cells)


def test_a_bia_perspective_that_disagrees_with_the_scenarios_is_an_error(files):
    (files / "other.toml").write_text(BIA.format(name="other") + '\n[analysis]\nperspective = "health_care_sector"\n')
    result = invoke("bia", files / "other.toml", "--out", files / "out")
    assert result.exit_code == 3
    err = " ".join(result.stderr.split())
    assert (
        "other.toml: budget_impact.perspective: expected the scenario's [analysis] perspective 'health_care_sector' "
        "(health-care sector: medical costs of payers and patients; productivity not counted; set in "
    ) in err
    assert "other.toml), got 'payer'" in err
    assert "Traceback" not in err
    assert not (files / "out").exists()
    checked = invoke("validate", files / "other.toml")
    assert (
        checked.exit_code != 0
        and "budget_impact.perspective: expected the scenario's [analysis]" in checked.stderr + checked.stdout
    )
