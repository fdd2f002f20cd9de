"""``costspine individualised``: files, exit codes and the bundled precision scenario."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from costspine.analysis.individualised import analyze_individualised
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort_groups

from helpers import ROOT, TOY_SCENARIOS, invoke, read_csv

PRECISION = ROOT / "scenarios" / "precision" / "chronic_lbp_best.toml"
FOUR = ["esc_all", "act_all", "ebem_all", "dlx_all"]


def test_command_writes_terminal_csv_json_and_workbook(tmp_path):
    scenario = TOY_SCENARIOS / "two_groups.toml"
    out = tmp_path / "out"
    result = invoke("individualised", scenario, "--draws", 0, "--treatments", "a,b", "--plan-size", 1000, "--out", out)
    assert result.exit_code == 0, result.output
    assert "EVIC: individualised (oracle) vs one size for all" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "decision_table.csv",
        "individualised.xlsx",
        "manifest.json",
        "summary.json",
        "value.csv",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_one_size"] == "a" and summary["breakeven_phenotyping_cost"]["oracle"] == pytest.approx(25.0)
    assert summary["value"][0]["plan_total"] == pytest.approx(25_000.0)
    rows = read_csv(out / "decision_table.csv")
    assert [r["best_treatment"] for r in rows] == ["a", "b"]
    from openpyxl import load_workbook

    book = load_workbook(out / "individualised.xlsx")
    assert {"Summary", "Value", "Decision table", "About"} <= set(book.sheetnames)


def test_unknown_treatment_is_a_clean_error(tmp_path):
    result = invoke(
        "individualised", TOY_SCENARIOS / "two_groups.toml", "--draws", 0, "--treatments", "a,zzz", "--out", tmp_path / "o"
    )
    assert result.exit_code != 0
    assert "unknown strategy 'zzz'" in result.output


def test_precision_scenario_groups_policies_and_base_case_value():
    scenario = load_scenario(PRECISION)
    result = analyze_individualised(scenario, treatments=FOUR)
    assert len(result.group_labels) == 16
    np.testing.assert_allclose(result.weights.sum(), 1.0)
    assert result.policies == ("random", "guided", "guided_smart")
    # random allocation is the mean of the four treatments in every group (the model is linear in the shares)
    nb = result.nb[0]
    np.testing.assert_allclose(nb[:, 4], nb[:, :4].mean(axis=1), rtol=1e-9)
    # the guided rule gives each group one treatment: its net benefit is that treatment's
    # (widespread -> duloxetine; else catastrophizing -> ACT; else EBEM)
    for g, label in enumerate(result.group_labels):
        attrs = dict(part.split("=") for part in label.split(", "))
        t = 3 if attrs["widespread"] == "1" else 1 if attrs["catastrophizing"] == "1" else 2
        assert nb[g, 5] == pytest.approx(nb[g, t], rel=1e-12), label
    # SMART stage 2 as a rule: the same first treatment as `guided`, and the remaining treatment with
    # the highest response instead of the mean of the three: never fewer QALYs in any group, more in some
    grouped = run_cohort_groups(scenario)
    qalys = grouped.effect[0]
    guided, smart = scenario.strategies.index("guided"), scenario.strategies.index("guided_smart")
    assert (qalys[:, smart] >= qalys[:, guided] - 1e-12).all()
    assert (qalys[:, smart] > qalys[:, guided] + 1e-6).any()
    assert result.evic[0] >= 0
    assert float(result.nb_oracle[0]) >= max(float(result.nb_population[0, k]) for k in range(4))


def _psa(tmp_path, scenario, draws=40, seed=9):
    out = tmp_path / "psa"
    result = invoke("psa", scenario, "--draws", draws, "--seed", seed, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    return out


def test_draws_from_a_saved_psa_equal_fresh_draws_with_its_seed(tmp_path):
    scenario = TOY_SCENARIOS / "two_groups.toml"
    psa = _psa(tmp_path, scenario)
    fresh = invoke("individualised", scenario, "--draws", 40, "--seed", 9, "--treatments", "a,b", "--out", tmp_path / "fresh")
    reused = invoke("individualised", scenario, "--draws-from", psa, "--treatments", "a,b", "--out", tmp_path / "reused")
    assert fresh.exit_code == 0 and reused.exit_code == 0, reused.output
    a = json.loads((tmp_path / "fresh" / "summary.json").read_text())
    b = json.loads((tmp_path / "reused" / "summary.json").read_text())
    assert b["draws_from"] == str(psa) and b["draws"] == 40 and b["seed"] == 9
    assert b["value"] == a["value"] and b["decision_table"] == a["decision_table"]
    # the draws really vary (q_b_frail is uniform 0.6-1.0), so equal intervals are not a coincidence
    assert a["value"][0]["low"] < a["value"][0]["high"]


def test_draws_from_refuses_another_or_an_edited_scenario_and_writes_nothing(tmp_path):
    toy = TOY_SCENARIOS / "two_groups.toml"
    psa = _psa(tmp_path, toy)
    other = invoke("individualised", TOY_SCENARIOS / "switching.toml", "--draws-from", psa, "--out", tmp_path / "o1")
    assert other.exit_code != 0 and "holds a PSA of scenario 'two_groups', not of 'switching'" in other.output
    edited = tmp_path / "two_groups.toml"
    edited.write_text(toy.read_text().replace("max = 1.0", "max = 0.95"))
    changed = invoke("individualised", edited, "--draws-from", psa, "--out", tmp_path / "o2")
    assert changed.exit_code != 0 and "before a change" in changed.output
    both = invoke("individualised", toy, "--draws-from", psa, "--draws", 10, "--out", tmp_path / "o3")
    assert both.exit_code != 0 and "--draws: not with --draws-from" in both.output
    assert not any((tmp_path / f"o{k}").exists() for k in (1, 2, 3))


def test_draws_from_refuses_a_file_without_a_fingerprint(tmp_path):
    import dataclasses

    from costspine.analysis.psa_draws_file import DRAWS_FILE, load_psa_draws, save_draws

    toy = TOY_SCENARIOS / "two_groups.toml"
    psa = _psa(tmp_path, toy)
    saved = load_psa_draws(psa)
    old = dataclasses.replace(saved, extra={k: v for k, v in saved.extra.items() if k != "fingerprint"}, store=None)
    old = dataclasses.replace(old, **{k: np.array(getattr(old, k)) for k in ("parameters", "costs", "outcomes")})
    shutil.rmtree(psa / "draws")  # the folder of an older costspine: draws.npz only
    with open(psa / DRAWS_FILE, "wb") as handle:
        save_draws(old, handle)
    result = invoke("individualised", toy, "--draws-from", psa, "--out", tmp_path / "o")
    assert result.exit_code != 0 and "has no scenario fingerprint" in result.output


def test_microsim_method_on_the_toy_scenario(tmp_path):
    out = tmp_path / "m"
    result = invoke(
        "individualised", TOY_SCENARIOS / "switching.toml", "--method", "microsim", "--draws", 0, "--seed", 2, "--out", out
    )
    assert result.exit_code == 0, result.output
    assert "microsimulation of 20,000 individuals" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "microsim" and summary["individuals"] == 20_000
    assert max(len(line) for line in result.output.splitlines()) <= 100
