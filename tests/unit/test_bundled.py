"""Bundled files: ``package:`` paths in scenarios, and planning a working copy of a bundled scenario
(``costspine init``)."""

from __future__ import annotations

import numpy as np
import pytest

import costspine._files as files
from costspine.errors import ScenarioError, UsageError
from costspine.scenario.bundled import find_bundled_scenario, list_bundled_scenarios, plan_scenario_copy
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

from helpers import SPINE, write


def _total_cost(scenario):
    result = run_cohort(scenario)
    return np.asarray(result.cost_per_cycle).sum()


def test_a_copied_base_case_runs_anywhere_through_its_package_paths(tmp_path):
    text = (SPINE / "base_case.toml").read_text(encoding="utf-8")
    assert 'file = "package:data/us_life_table_2023.csv"' in text
    copy = write(tmp_path / "deep" / "er", text, "copy.toml")
    assert _total_cost(load_scenario(copy)) == _total_cost(load_scenario(SPINE / "base_case.toml"))


def test_a_child_extends_a_bundled_scenario_by_its_package_path(tmp_path):
    child = write(tmp_path, 'extends = "package:scenarios/spine/base_case.toml"\n\n[settings]\nn_cycles = 26\n', "child.toml")
    scenario = load_scenario(child)
    assert scenario.settings.n_cycles == 26
    assert scenario.files[1][0] == str(files.bundled_path("scenarios/spine/base_case.toml"))


def test_a_missing_package_file_is_a_problem_of_the_file_that_names_it(tmp_path):
    child = write(
        tmp_path,
        'extends = "package:scenarios/spine/base_case.toml"\n\n[tables.qx]\n'
        'file = "package:data/no_such_table.csv"\nx = "age"\ny = "qx"\n',
        "child.toml",
    )
    with pytest.raises(ScenarioError, match=r"child.toml: tables.qx.file: cannot read .*no_such_table.csv: file not found"):
        load_scenario(child)


def test_resolve_path_keeps_relative_and_absolute_paths(tmp_path):
    assert files.resolve_path("a/b.csv", base_dir=tmp_path) == tmp_path / "a" / "b.csv"
    assert files.resolve_path(str(tmp_path / "x.csv"), base_dir="elsewhere") == tmp_path / "x.csv"
    assert files.resolve_path("package:data/unit_costs.csv", base_dir=tmp_path) == files.PACKAGE_DIR / "data" / "unit_costs.csv"


def test_an_installed_layout_finds_scenarios_inside_the_package(tmp_path, monkeypatch):
    (tmp_path / "scenarios" / "demo").mkdir(parents=True)
    (tmp_path / "scenarios" / "demo" / "toy.toml").write_text('[model]\nname = "toy"\ntitle = "A toy"\n', encoding="utf-8")
    monkeypatch.setattr(files, "PACKAGE_DIR", tmp_path)
    assert files.bundled_scenarios_dir() == tmp_path / "scenarios"
    [toy] = list_bundled_scenarios()
    assert (toy.name, toy.label, toy.title) == ("toy", "scenarios/demo/toy.toml", "A toy")


def test_a_copy_brings_the_parents_of_its_folder_and_names_the_rest_by_package_path():
    plan = plan_scenario_copy("bia_medicare_injection_cut")
    assert sorted(plan) == ["base_case.toml", "bia_medicare_injection_cut.toml"]
    bia = plan["bia_medicare_injection_cut.toml"]
    assert 'extends = "base_case.toml"' in bia
    assert 'scenario = "package:scenarios/spine/injection_cut_50.toml"' in bia
    assert 'scenario = "package:scenarios/spine/chronic_pathway.toml"' in bia
    assert plan["base_case.toml"] == (SPINE / "base_case.toml").read_text(encoding="utf-8")


def test_a_scenario_is_found_by_stem_or_path():
    assert find_bundled_scenario("spine/commercial").path == find_bundled_scenario("commercial").path
    assert find_bundled_scenario("scenarios/spine/commercial.toml").name == "commercial"
    with pytest.raises(UsageError, match=r"nope: not a bundled scenario; expected one of .*base_case"):
        find_bundled_scenario("nope")
