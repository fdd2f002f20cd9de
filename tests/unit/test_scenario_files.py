"""Scenario files and their ``extends`` chain: how each section merges (docs/scenario-format.md,
*Inheritance*), relative paths resolved against the file that declares them, and problems that
name the declaring file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from costspine.catalogue.tables import CATALOGUE_PATH
from costspine.errors import ScenarioError
from costspine.scenario.bia_spec import read_bia_spec
from costspine.scenario.files import merge_section
from costspine.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SPINE = ROOT / "scenarios" / "spine"

MODEL = """
[model]
name = "toy"
title = "Toy pathway"
description = "a toy"

[settings]
cycle_length = 1
cycle_unit = "year"
n_cycles = 2
discount_costs = 0.03
discount_outcomes = 0.03
cycle_correction = "none"
currency = "USD"
price_year = 2025

[analysis]
effect = "qalys"
comparator = "usual_care"
wtp = [100000]

[states]
well = { initial = 1 }
sick = { initial = 0 }

[strategies.usual_care]
[strategies.ice]
values = { k = 2 }

[strategies.ice.costs.care]
category = "imaging"
values = { well = 300 }

[parameters.p]
value = 0.1
distribution = "beta"
mean = 0.1
sd = 0.01
source = "assumption"

[parameters.c_sick]
value = 50
source = "assumption"

[transitions]
well = { sick = "p", well = "rest" }
sick = { sick = 1 }

[costs.care]
category = "imaging"
values = { well = 10, sick = "c_sick" }

[costs.visits]
category = "primary_care"
values = { well = "k_visits" }

[parameters.k_visits]
value = 1
source = "assumption"

[services.mri]
values = { sick = 1 }

[outcomes.qalys]
values = { well = 0.9, sick = 0.5 }
"""

BIA = """
[budget_impact]
perspective = "payer"
years = 2
members = 100_000
member_growth_per_year = 0
discount_rate = 0
categories = "all"
episodes_per_1000_members = { value = 10, source = "assumption: test" }
mix_current = { usual_care = 1.0 }
mix_new = { usual_care = 0.5, ice = 0.5 }
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def child_of(parent: Path, child: Path, text: str = "") -> Path:
    """``child`` extends ``parent`` through a relative path, wherever the two folders are."""
    relative = Path(
        *[".."] * len(child.parent.relative_to(_common(parent, child)).parts), parent.relative_to(_common(parent, child))
    )
    return write(child, f'extends = "{relative.as_posix()}"\n' + text)


def located(where: str) -> tuple[Path, str]:
    """(the file, resolved; the key path) of a problem's ``where``: ``variants/../models/x.toml`` is ``models/x.toml``."""
    file, _, keypath = where.partition(": ")
    return Path(file).resolve(), keypath


def _common(a: Path, b: Path) -> Path:
    common = a.parent
    while common not in b.parents:
        common = common.parent
    return common


# ------------------------------------------------------------------------------------------------
# The merge rule of each section


def test_settings_and_analysis_merge_key_by_key_and_arrays_are_replaced(tmp_path):
    parent = write(tmp_path / "parent.toml", MODEL)
    child = child_of(parent, tmp_path / "child.toml", "[settings]\nn_cycles = 5\n[analysis]\nwtp = [20000, 30000]\n")
    s = load_scenario(child)
    assert s.settings.n_cycles == 5 and s.settings.discount_costs == 0.03 and s.settings.currency == "USD"
    assert s.analysis.wtp == (20000, 30000) and s.analysis.effect == "qalys"


def test_model_is_replaced_whole(tmp_path):
    parent = write(tmp_path / "parent.toml", MODEL)
    s = load_scenario(child_of(parent, tmp_path / "child.toml", '[model]\nname = "other"\n'))
    assert (s.name, s.title, s.description) == ("other", "other", "")


def test_a_parameter_a_cost_and_a_transition_row_given_by_the_child_replace_the_parents_whole(tmp_path):
    parent = write(tmp_path / "parent.toml", MODEL)
    child = child_of(
        parent,
        tmp_path / "child.toml",
        '[parameters.p]\nvalue = 0.2\nsource = "assumption"\n'
        '[costs.care]\ncategory = "imaging"\nvalues = { well = 20 }\n'
        "[transitions]\nwell = { sick = 0.3, well = 0.7 }\n",
    )
    s = load_scenario(child)
    p = s.parameter("p")
    assert (p.family, p.value) == ("fixed", 0.2)  # the parent's beta distribution is gone
    care = {c.name: c for c in s.costs}["care"]
    assert set(care.state_values["usual_care"]) == {"well"}  # the parent's sick = "c_sick" is gone
    assert care.state_values["usual_care"]["well"].text == "20"
    assert {k: v.text for k, v in s.transitions["usual_care"]["well"].items()} == {"sick": "0.3", "well": "0.7"}
    assert s.parameter("c_sick").value == 50 and "visits" in {c.name for c in s.costs}  # other entries kept


def test_a_strategy_merges_key_by_key_and_its_sub_tables_entry_by_entry(tmp_path):
    parent = write(tmp_path / "parent.toml", MODEL)
    child = child_of(
        parent, tmp_path / "child.toml", '[strategies.ice]\nlabel = "ICE"\n[strategies.ice.services.mri]\nvalues = { sick = 0 }\n'
    )
    s = load_scenario(child)
    assert s.strategy_labels["ice"] == "ICE" and set(s.strategy_values["ice"]) == {"k"}
    care = {c.name: c for c in s.costs}["care"]
    assert care.state_values["ice"]["well"].text == "300"  # the parent's ICE cost override is kept
    assert s.services[0].state_values["ice"]["sick"].text == "0"


def test_budget_impact_merges_key_by_key_and_its_tables_are_replaced_whole(tmp_path):
    parent = write(tmp_path / "parent.toml", MODEL + BIA)
    child = child_of(parent, tmp_path / "child.toml", "[budget_impact]\nyears = 3\n[budget_impact.mix_new]\nice = 1.0\n")
    section = load_scenario(child).sections["budget_impact"]
    assert section["years"] == 3 and section["members"] == 100_000
    assert section["mix_new"] == {"ice": 1.0}


def test_population_attributes_and_history_merge_entry_by_entry():
    parent = {"attributes": {"risk": {"levels": {"low": 0.5}}}, "description": "adults"}
    child = {"attributes": {"age": {"mean": 50}}}
    assert merge_section("population", parent, child) == {
        "attributes": {"risk": {"levels": {"low": 0.5}}, "age": {"mean": 50}},
        "description": "adults",
    }
    assert merge_section("microsimulation", {"individuals": 10, "history": {"a": {"x": 1}}}, {"history": {"b": {"y": 2}}}) == {
        "individuals": 10,
        "history": {"a": {"x": 1}, "b": {"y": 2}},
    }
    # anything else below a section is replaced whole
    assert merge_section(
        "budget_impact", {"policy": {"scenario": "a.toml", "start_year": 2}}, {"policy": {"scenario": "b.toml"}}
    ) == {"policy": {"scenario": "b.toml"}}


def test_a_child_adding_an_attribute_keeps_the_parents_attributes(tmp_path):
    child = child_of(
        SPINE / "base_case_microsim.toml",
        tmp_path / "x" / "child.toml",
        '[population.attributes.smoker]\nlevels = { yes = 0.2, no = 0.8 }\nsource = "assumption"\n',
    )
    s = load_scenario(child)
    assert [a.name for a in s.population.attributes] == ["risk", "age", "smoker"]


# ------------------------------------------------------------------------------------------------
# Relative paths: against the file that declares them


def test_a_child_in_another_folder_reads_the_parents_table(tmp_path):
    # base_case.toml declares [tables.qx] file = "../../costspine/data/...", relative to scenarios/spine/
    child = child_of(
        SPINE / "base_case.toml", tmp_path / "elsewhere" / "child.toml", '[model]\nname = "child"\n[settings]\nn_cycles = 2\n'
    )
    s = load_scenario(child)
    assert Path(s.tables["qx"].file).resolve() == (ROOT / "costspine" / "data" / "us_life_table_2023.csv").resolve()


def test_a_parent_declared_table_and_catalogue_resolve_against_the_parent(tmp_path):
    parent_dir, child_dir = tmp_path / "models", tmp_path / "variants" / "deep"
    write(parent_dir / "data" / "rate.csv", "age,rate\n0,0.1\n100,0.2\n")
    shutil.copy(CATALOGUE_PATH, parent_dir / "data" / "catalogue.csv")
    parent = write(
        parent_dir / "parent.toml",
        MODEL.replace("[parameters.k_visits]", "[parameters.k_visits_]")
        + """
[tables.rate]
file = "data/rate.csv"
x = "age"
y = "rate"
source = "test"

[unit_costs]
payer = "medicare"
price_year = 2025
items = ["mri_lumbar"]
catalogue = "data/catalogue.csv"

[parameters.k_visits]
value = "rate(50) * 10"
source = "assumption"
""",
    )
    child = child_of(parent, child_dir / "child.toml", "[settings]\nn_cycles = 3\n")
    s = load_scenario(child)
    assert Path(s.tables["rate"].file).resolve() == (parent_dir / "data" / "rate.csv").resolve()
    assert s.parameter("price_mri_lumbar").args  # the catalogue was read from the parent's folder
    assert (
        s.declared_path("unit_costs.catalogue", "data/catalogue.csv").resolve()
        == (parent_dir / "data" / "catalogue.csv").resolve()
    )
    assert s.declared_path("settings.n_cycles", "x.csv") == child_dir / "x.csv"


def test_a_missing_parent_table_is_blamed_on_the_parent(tmp_path):
    parent = write(
        tmp_path / "models" / "parent.toml",
        MODEL + '[tables.rate]\nfile = "no_such.csv"\nx = "age"\ny = "rate"\nsource = "test"\n',
    )
    child = child_of(parent, tmp_path / "variants" / "child.toml", "[settings]\nn_cycles = 3\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(child)
    (problem,) = err.value.problems
    assert located(problem.where) == (parent.resolve(), "tables.rate.file")
    assert "/models/no_such.csv" in problem.message


def test_a_child_overriding_a_table_entry_resolves_its_file_against_the_child(tmp_path):
    write(tmp_path / "models" / "data.csv", "age,rate\n0,0.1\n")
    write(tmp_path / "variants" / "data.csv", "age,rate\n0,0.3\n")
    parent = write(
        tmp_path / "models" / "parent.toml", MODEL + '[tables.rate]\nfile = "data.csv"\nx = "age"\ny = "rate"\nsource = "test"\n'
    )
    child = child_of(
        parent, tmp_path / "variants" / "child.toml", '[tables.rate]\nfile = "data.csv"\nx = "age"\ny = "rate"\nsource = "test"\n'
    )
    assert load_scenario(child).tables["rate"].y.tolist() == [0.3]
    assert load_scenario(parent).tables["rate"].y.tolist() == [0.1]


def test_a_policy_declared_in_a_parent_resolves_against_the_parent(tmp_path):
    model = write(tmp_path / "models" / "model.toml", MODEL)
    write(tmp_path / "models" / "policy.toml", 'extends = "model.toml"\n[parameters.c_sick]\nvalue = 25\nsource = "assumption"\n')
    bia = child_of(
        model, tmp_path / "models" / "bia.toml", BIA + '[budget_impact.policy]\nscenario = "policy.toml"\nstart_year = 2\n'
    )
    variant = child_of(bia, tmp_path / "variants" / "bia_3y.toml", "[budget_impact]\nyears = 3\n")
    spec = read_bia_spec(load_scenario(variant))
    assert spec.policy.path.resolve() == (tmp_path / "models" / "policy.toml").resolve() and spec.years == 3


def test_a_missing_policy_is_blamed_on_the_file_that_names_it(tmp_path):
    model = write(tmp_path / "models" / "model.toml", MODEL)
    bia = child_of(
        model, tmp_path / "models" / "bia.toml", BIA + '[budget_impact.policy]\nscenario = "nope.toml"\nstart_year = 2\n'
    )
    variant = child_of(bia, tmp_path / "variants" / "bia_3y.toml", "[budget_impact]\nyears = 3\n")
    with pytest.raises(ScenarioError) as err:
        read_bia_spec(load_scenario(variant))
    (problem,) = err.value.problems
    assert located(problem.where) == (bia.resolve(), "budget_impact.policy.scenario")
    assert "file not found: " in problem.message and "/models/nope.toml" in problem.message


def test_problems_name_the_file_that_declares_the_key(tmp_path):
    parent = write(
        tmp_path / "models" / "parent.toml",
        MODEL.replace("n_cycles = 2", "n_cycles = 0") + BIA.replace("members = 100_000", "members = -1"),
    )
    child = child_of(parent, tmp_path / "variants" / "child.toml", "[settings]\ndiscount_costs = 3.5\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(child)
    wheres = {located(p.where) for p in err.value.problems}
    assert wheres == {(parent.resolve(), "settings.n_cycles"), (child.resolve(), "settings.discount_costs")}
    fixed = child_of(parent, tmp_path / "variants" / "fixed.toml", "[settings]\nn_cycles = 2\n")
    with pytest.raises(ScenarioError) as err:
        read_bia_spec(load_scenario(fixed))
    assert [located(p.where) for p in err.value.problems] == [(parent.resolve(), "budget_impact.members")]
