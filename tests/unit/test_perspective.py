"""The analysis perspective (``[analysis] perspective``): validated against the cost categories,
worded in one place (``Analysis.perspective_text``) and stated in every summary, workbook and printout
of run, psa and dsa."""

from __future__ import annotations

import json

import pytest

from costspine.errors import ScenarioError
from costspine.scenario.load import load_scenario
from costspine.scenario.types import NON_HEALTH_CARE_CATEGORIES, PERSPECTIVES, Analysis

from helpers import SPINE, edit, invoke, pathway_toml, write

PRODUCTIVITY = """
[costs.work_loss]
category = "productivity"
values = { y1 = 40, y2 = 20 }
"""


def toy(tmp_path, *, perspective=None, rewards=""):
    text = pathway_toml(sd=10, rewards=rewards)
    if perspective is not None:
        text = edit("wtp = [100000]\n", f'wtp = [100000]\nperspective = "{perspective}"\n', text)
    return write(tmp_path, text)


def problems(path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value)


def test_the_default_is_the_payer_and_names_the_catalogue_payer():
    assert load_scenario(SPINE / "base_case.toml").analysis.perspective_record() == {
        "perspective": "payer",
        "payer": "medicare",
        "perspective_text": "payer (Medicare prices): health-care costs the payer pays; productivity not counted",
    }
    commercial = load_scenario(SPINE / "commercial.toml").analysis
    assert commercial.payer == "commercial" and commercial.perspective_text.startswith("payer (commercial prices):")


def test_a_scenario_without_a_catalogue_has_an_unnamed_payer(tmp_path):
    analysis = load_scenario(toy(tmp_path)).analysis
    assert (analysis.perspective, analysis.payer) == ("payer", None)
    assert analysis.perspective_text.startswith("payer: ")


@pytest.mark.parametrize("perspective", PERSPECTIVES[:2])
def test_a_health_care_perspective_is_accepted_without_costs_outside_health_care(tmp_path, perspective):
    assert load_scenario(toy(tmp_path, perspective=perspective)).analysis.perspective == perspective


def test_the_societal_perspective_lists_the_costs_outside_health_care(tmp_path):
    analysis = load_scenario(toy(tmp_path, perspective="societal", rewards=PRODUCTIVITY)).analysis
    assert analysis.societal_categories == ("productivity",)
    assert analysis.perspective_text == "societal: health-care costs plus costs outside health care (productivity)"


def test_an_unknown_perspective_is_named_with_the_choices(tmp_path):
    text = problems(toy(tmp_path, perspective="societall"))
    assert "analysis.perspective: expected one of 'payer', 'health_care_sector', 'societal'; got 'societall'" in text
    assert "did you mean 'societal'" in text


def test_societal_without_a_cost_outside_health_care_is_an_error(tmp_path):
    text = problems(toy(tmp_path, perspective="societal"))
    assert "analysis.perspective: the societal perspective counts costs outside health care" in text
    assert 'use perspective = "health_care_sector"' in text


@pytest.mark.parametrize("perspective", [None, "health_care_sector"])
def test_productivity_costs_need_the_societal_perspective(tmp_path, perspective):
    text = problems(toy(tmp_path, perspective=perspective, rewards=PRODUCTIVITY))
    shown = perspective or "payer"
    assert "costs.work_loss.category: 'productivity' is a cost outside health care" in text
    assert f"analysis.perspective is {shown!r}" in text


def test_every_category_outside_health_care_counts(tmp_path):
    for category in NON_HEALTH_CARE_CATEGORIES:
        rewards = PRODUCTIVITY.replace('"productivity"', f'"{category}"')
        analysis = load_scenario(
            write(
                tmp_path / category,
                pathway_toml(sd=10, rewards=rewards).replace("wtp = [100000]\n", 'wtp = [100000]\nperspective = "societal"\n'),
            )
        ).analysis
        assert analysis.societal_categories == (category,)


def test_the_wording_has_one_entry_per_perspective_and_fits_a_terminal_line():
    for perspective in PERSPECTIVES:
        for payer in (None, "medicare", "commercial"):
            text = Analysis("q", "a", (1.0,), perspective=perspective, payer=payer, societal_categories=("productivity",))
            assert len(f"Perspective: {text.perspective_text}") <= 100, (perspective, payer)


# ---------------------------------------------------------------------------------- outputs


def test_run_states_the_perspective_in_the_printout_summary_manifest_and_workbook(tmp_path):
    from openpyxl import load_workbook

    scenario = toy(tmp_path, perspective="societal", rewards=PRODUCTIVITY)
    result = invoke("run", scenario, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    expected = "societal: health-care costs plus costs outside health care (productivity)"
    assert f"Perspective: {expected}" in result.output.splitlines()[:4]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (summary["perspective"], summary["payer"], summary["perspective_text"]) == ("societal", None, expected)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["perspective"] == expected
    book = load_workbook(next((tmp_path / "out").glob("*.xlsx")), read_only=True)
    about = [row[:2] for row in book["About"].iter_rows(values_only=True) if row and row[0] == "Perspective"]
    assert about == [("Perspective", expected)]
    summary_text = " ".join(str(c) for row in book["Summary"].iter_rows(values_only=True) for c in row if c)
    assert f"Perspective: {expected}." in summary_text


def test_psa_and_dsa_state_the_perspective(tmp_path):
    scenario = toy(tmp_path, perspective="health_care_sector")
    expected = "health-care sector: medical costs of payers and patients; productivity not counted"
    psa = invoke("psa", scenario, "--draws", 20, "--seed", 1, "--out", tmp_path / "psa")
    assert psa.exit_code == 0, psa.output
    assert f"Perspective: {expected}" in psa.output
    psa_summary = json.loads((tmp_path / "psa" / "summary.json").read_text())
    assert (psa_summary["perspective"], psa_summary["perspective_text"]) == ("health_care_sector", expected)
    dsa = invoke("dsa", scenario, "--out", tmp_path / "dsa")
    assert dsa.exit_code == 0, dsa.output
    assert f"Perspective: {expected}" in dsa.output
    assert json.loads((tmp_path / "dsa" / "summary.json").read_text())["perspective_text"] == expected
    assert json.loads((tmp_path / "dsa" / "manifest.json").read_text())["perspective"] == expected
