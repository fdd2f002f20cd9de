"""Unit tests for costspine.scenario: reading, inheritance and every kind of problem with its key path.

Each bad file is a one-line edit of a small valid scenario; the test asserts the problem names the
file and the key path, and says what was expected or found.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from costspine.errors import ExitCode, ScenarioError
from costspine.scenario.load import load_scenario

import helpers
from helpers import CHANCELLOR, write

MINI = """
[model]
name = "mini"
title = "Three-state test model"

[settings]
cycle_length = 1
cycle_unit = "year"
n_cycles = 5
discount_costs = 0.035
discount_outcomes = 0.035
cycle_correction = "half-cycle"
currency = "GBP"
price_year = 2020

[analysis]
effect = "qalys"
comparator = "old"
wtp = [20000, 30000]

[states]
well = { initial = 1, label = "Well" }
sick = { initial = 0 }
dead = { initial = 0 }

[strategies.old]
label = "Old"

[strategies.new]
label = "New"
values = { hr = "hr_new" }

[parameters.p_ws]
value = 0.1
distribution = "beta"
alpha = 10
beta = 90
source = "assumption"

[parameters.p_wd]
value = 0.02
source = "life table"

[parameters.hr_new]
value = 0.5
source = "trial"

[parameters.c_sick]
value = 1000
distribution = "gamma"
mean = 1000
sd = 200
source = "tariff"

[parameters.u_well]
value = 0.9
source = "EQ-5D"

[transitions]
well = { well = "rest", sick = "p_ws", dead = "p_wd" }
sick = { sick = "rest", dead = 0.1 }
dead = { dead = 1 }

[strategies.new.transitions]
well = { well = "rest", sick = "p_ws * hr", dead = "p_wd" }

[costs.care]
category = "medical"
values = { sick = "c_sick" }

[outcomes.qalys]
values = { well = "u_well * cycle_years", sick = "0.6 * cycle_years" }
"""


def edit(old: str, new: str, text: str = MINI) -> str:
    return helpers.edit(old, new, text)


def problems(path: Path) -> list:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


# ------------------------------------------------------------------------------------------------
# Valid files


def test_mini_scenario_loads(tmp_path):
    s = load_scenario(write(tmp_path, MINI))
    assert s.name == "mini" and s.title == "Three-state test model"
    assert s.states == ("well", "sick", "dead")
    assert s.state_labels == {"well": "Well", "sick": "sick", "dead": "dead"}
    assert s.strategies == ("old", "new")
    assert s.settings.cycle_years == 1.0 and s.settings.n_cycles == 5
    assert s.analysis.wtp == (20000.0, 30000.0)
    assert s.categories == ("medical",)
    assert [o.name for o in s.outcomes] == ["qalys"]
    assert s.parameter("p_ws").family == "beta" and s.parameter("p_ws").args == {"alpha": 10.0, "beta": 90.0}
    # shared rows plus the strategy's own row
    assert s.transitions["new"]["well"]["sick"].text == "p_ws * hr"
    assert s.transitions["old"]["well"]["sick"].text == "p_ws"
    assert {k: v if isinstance(v, str) else v.text for k, v in s.transitions["new"]["sick"].items()} == {
        "sick": "rest",
        "dead": "0.1",
    }


def test_chancellor_loads_with_its_hash(tmp_path):
    s = load_scenario(CHANCELLOR)
    assert s.name == "hiv_chancellor"
    assert s.files == ((str(CHANCELLOR), hashlib.sha256(CHANCELLOR.read_bytes()).hexdigest()),)
    assert len([p for p in s.parameters if p.family == "dirichlet"]) == 3


def test_scenario_is_frozen(tmp_path):
    s = load_scenario(write(tmp_path, MINI))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.name = "other"  # type: ignore[misc]


def test_name_defaults_to_file_stem(tmp_path):
    s = load_scenario(write(tmp_path, edit('name = "mini"\n', ""), "my_model.toml"))
    assert s.name == "my_model"


@pytest.mark.parametrize("unit, years", [("year", 1.0), ("month", 1 / 12), ("week", 7 / 365.25), ("day", 1 / 365.25)])
def test_cycle_units(tmp_path, unit, years):
    s = load_scenario(
        write(tmp_path, edit('cycle_unit = "year"', f'cycle_unit = "{unit}"').replace("cycle_length = 1", "cycle_length = 2"))
    )
    assert s.settings.cycle_years == pytest.approx(2 * years, rel=1e-15)


def test_numeric_fields_accept_constant_expressions(tmp_path):
    s = load_scenario(write(tmp_path, edit("mean = 1000\nsd = 200", 'mean = "500 * 2"\nsd = "sqrt(40000)"')))
    assert s.parameter("c_sick").args == pytest.approx({"shape": 25.0, "scale": 40.0})


def test_derived_parameters_are_ordered_after_their_inputs(tmp_path):
    text = (
        MINI
        + """
[parameters.c_total]
value = "c_half * 2"
source = "derived"

[parameters.c_half]
value = "c_sick / 2"
source = "derived"
"""
    )
    s = load_scenario(write(tmp_path, text))
    names = [p.name for p in s.parameters]
    assert names.index("c_half") < names.index("c_total")
    assert s.parameter("c_total").family == "derived"


# ------------------------------------------------------------------------------------------------
# Inheritance


def test_extends_overlays_settings_key_by_key_and_replaces_a_parameter_whole(tmp_path):
    write(tmp_path, MINI, "base/base.toml")
    child = write(
        tmp_path,
        """extends = "../base/base.toml"

[model]
name = "child"

[settings]
n_cycles = 10

[parameters.c_sick]
value = 1500
source = "new tariff"

[strategies.newest]
label = "Newest"
""",
        "variants/child.toml",
    )
    s = load_scenario(child)
    assert s.name == "child"
    assert s.settings.n_cycles == 10  # replaced
    assert s.settings.discount_costs == 0.035  # kept from the parent
    spec = s.parameter("c_sick")
    assert (spec.family, spec.value, spec.source) == ("fixed", 1500.0, "new tariff")  # whole table replaced
    assert s.strategies == ("old", "new", "newest")  # tables merge: new strategy added
    assert s.transitions["newest"]["well"]["sick"].text == "p_ws"
    assert [Path(p).name for p, _ in s.files] == ["child.toml", "base.toml"]
    for file, sha in s.files:
        assert sha == hashlib.sha256(Path(file).read_bytes()).hexdigest()


def test_extends_replaces_arrays(tmp_path):
    write(tmp_path, MINI, "base.toml")
    s = load_scenario(write(tmp_path, 'extends = "base.toml"\n[analysis]\nwtp = [1000]\n', "child.toml"))
    assert s.analysis.wtp == (1000.0,)
    assert s.analysis.comparator == "old"


def test_extends_chain_of_three(tmp_path):
    write(tmp_path, MINI, "a.toml")
    write(tmp_path, 'extends = "a.toml"\n[settings]\nn_cycles = 7\n', "b.toml")
    s = load_scenario(write(tmp_path, 'extends = "b.toml"\n[settings]\ncurrency = "EUR"\n', "c.toml"))
    assert (s.settings.n_cycles, s.settings.currency) == (7, "EUR")
    assert [Path(p).name for p, _ in s.files] == ["c.toml", "b.toml", "a.toml"]


def test_problem_in_the_parent_names_the_parent_file(tmp_path):
    parent = write(tmp_path, edit("discount_costs = 0.035", "discount_costs = 3.5"), "parent.toml")
    child = write(tmp_path, 'extends = "parent.toml"\n[settings]\nn_cycles = 3\n', "child.toml")
    (problem,) = problems(child)
    assert problem.where == f"{parent}: settings.discount_costs"


def test_extends_loop(tmp_path):
    a = write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    (problem,) = problems(a)
    assert "extends forms a loop" in problem.message and "a.toml -> " in problem.message


def test_extends_itself(tmp_path):
    a = write(tmp_path, 'extends = "a.toml"\n' + MINI, "a.toml")
    (problem,) = problems(a)
    assert "loop" in problem.message


def test_extends_missing_file(tmp_path):
    child = write(tmp_path, 'extends = "nowhere.toml"\n', "child.toml")
    (problem,) = problems(child)
    assert problem.where == str(tmp_path / "nowhere.toml")
    assert "file not found" in problem.message


@pytest.mark.parametrize("value", ["3", '["a.toml"]', '""', '"a\\u0000b.toml"'])
def test_extends_must_be_a_path(tmp_path, value):
    child = write(tmp_path, f"extends = {value}\n" + MINI, "child.toml")
    (problem,) = problems(child)
    assert problem.where == f"{child}: extends"
    assert "expected a file path string" in problem.message


def test_extends_depth_is_limited(tmp_path):
    write(tmp_path, MINI, "f0.toml")
    for i in range(1, 25):
        write(tmp_path, f'extends = "f{i - 1}.toml"\n', f"f{i}.toml")
    assert "deeper than" in problems(tmp_path / "f24.toml")[0].message


# ------------------------------------------------------------------------------------------------
# Every kind of problem, with its key path

CASES = [
    # (id, old, new, key path, fragment of the message)
    ("unknown top-level key", "[model]", '[modle]\nname = "x"\n[model]', "modle", "did you mean 'model'"),
    ("unknown settings key", "n_cycles = 5", "n_cycles = 5\nn_cylces = 5", "settings.n_cylces", "did you mean 'n_cycles'"),
    ("missing setting", 'currency = "GBP"\n', "", "settings.currency", "missing"),
    ("discount as percent", "discount_costs = 0.035", "discount_costs = 3.5", "settings.discount_costs", "did you mean 0.035?"),
    ("negative discount", "discount_outcomes = 0.035", "discount_outcomes = -0.01", "settings.discount_outcomes", "got -0.01"),
    ("cycle unit", 'cycle_unit = "year"', 'cycle_unit = "years"', "settings.cycle_unit", "did you mean 'year'"),
    ("cycle length 0", "cycle_length = 1", "cycle_length = 0", "settings.cycle_length", "got 0"),
    ("fractional cycles", "n_cycles = 5", "n_cycles = 5.5", "settings.n_cycles", "whole number"),
    ("too many cycles", "n_cycles = 5", "n_cycles = 1000000", "settings.n_cycles", "got 1000000"),
    ("cycles as text", "n_cycles = 5", 'n_cycles = "five"', "settings.n_cycles", "expected a number"),
    ("cycles as boolean", "n_cycles = 5", "n_cycles = true", "settings.n_cycles", "the boolean true"),
    ("nan discount", "discount_costs = 0.035", "discount_costs = nan", "settings.discount_costs", "finite"),
    ("huge integer", "price_year = 2020", "price_year = " + "9" * 400, "settings.price_year", "finite"),
    (
        "correction",
        'cycle_correction = "half-cycle"',
        'cycle_correction = "half cycle"',
        "settings.cycle_correction",
        "did you mean 'half-cycle'",
    ),
    ("settings not a table", "[settings]", "settings = 3\n[settings_]", "settings", "expected a table"),
    ("model name not text", 'name = "mini"', "name = 5", "model.name", "expected text"),
    ("state name", "sick = { initial = 0 }", '"2sick" = { initial = 0 }', "states.2sick", "identifiers"),
    ("state key", "dead = { initial = 0 }", "dead = { initial = 0, inital = 0 }", "states.dead.inital", "did you mean 'initial'"),
    ("initial missing", "dead = { initial = 0 }", 'dead = { label = "Dead" }', "states.dead.initial", "missing"),
    ("initial garbage", "dead = { initial = 0 }", 'dead = { initial = "0 +" }', "states.dead.initial", "cannot parse"),
    (
        "initial uses time",
        "dead = { initial = 0 }",
        'dead = { initial = "cycle * 0" }',
        "states.dead.initial",
        "unknown name 'cycle'",
    ),
    ("strategy key", 'label = "Old"', 'label = "Old"\nlabl = "x"', "strategies.old.labl", "did you mean 'label'"),
    (
        "strategy value shadows",
        'values = { hr = "hr_new" }',
        'values = { hr = "hr_new", p_wd = "0.1" }',
        "strategies.new.values.p_wd",
        "shadows",
    ),
    (
        "strategy value name",
        'values = { hr = "hr_new" }',
        'values = { hr = "hr_new", cycle = "1" }',
        "strategies.new.values.cycle",
        "reserved",
    ),
    (
        "circular strategy values",
        'values = { hr = "hr_new" }',
        'values = { hr = "hr2", hr2 = "hr" }',
        "strategies.new.values",
        "circular",
    ),
    (
        "unknown from-state",
        "dead = { dead = 1 }",
        "dead = { dead = 1 }\ndaed = { dead = 1 }",
        "transitions.daed",
        "did you mean 'dead'",
    ),
    (
        "unknown to-state",
        'sick = { sick = "rest", dead = 0.1 }',
        'sick = { sick = "rest", ded = 0.1 }',
        "transitions.sick.ded",
        "unknown state 'ded'",
    ),
    (
        "rest twice",
        'sick = { sick = "rest", dead = 0.1 }',
        'sick = { sick = "rest", dead = "rest" }',
        "transitions.sick",
        "at most once",
    ),
    ("missing row", "dead = { dead = 1 }\n", "", "transitions.dead", "missing row for state 'dead'"),
    ("row not a table", "dead = { dead = 1 }", "dead = 1", "transitions.dead", "expected a table"),
    (
        "own row unknown state",
        'well = { well = "rest", sick = "p_ws * hr", dead = "p_wd" }',
        'well = { well = "rest", sik = "p_ws * hr", dead = "p_wd" }',
        "strategies.new.transitions.well.sik",
        "did you mean 'sick'",
    ),
    ("unknown name in expression", 'sick = "p_ws", dead', 'sick = "p_sw", dead', "transitions.well.sick", "unknown name 'p_sw'"),
    (
        "unknown function",
        'sick = "p_ws", dead',
        'sick = "logit(p_ws)", dead',
        "transitions.well.sick",
        "unknown function or table 'logit'",
    ),
    ("import", 'sick = "p_ws", dead', "sick = \"__import__('os').getcwd()\", dead", "transitions.well.sick", "__import__"),
    ("attribute", 'sick = "p_ws", dead', 'sick = "p_ws.real", dead', "transitions.well.sick", "Attribute is not allowed"),
    ("parameter name reserved", "[parameters.p_wd]", "[parameters.time_years]", "parameters.time_years", "reserved"),
    (
        "unknown distribution",
        'distribution = "beta"',
        'distribution = "betta"',
        "parameters.p_ws.distribution",
        "did you mean 'beta'",
    ),
    (
        "key of another family",
        "alpha = 10\nbeta = 90",
        "alpha = 10\nbeta = 90\nshape = 3",
        "parameters.p_ws.shape",
        "unknown key",
    ),
    ("missing source", 'source = "trial"\n', "", "parameters.hr_new.source", "missing"),
    ("empty source", 'source = "trial"', 'source = "  "', "parameters.hr_new.source", "missing"),
    ("fixed without value", 'value = 0.5\nsource = "trial"', 'source = "trial"', "parameters.hr_new.value", "needs a value"),
    ("boolean value", "value = 0.5", "value = true", "parameters.hr_new.value", "the boolean true"),
    ("bad gamma sd", "sd = 200", "sd = -200", "parameters.c_sick", "got mean=1000.0, sd=-200.0"),
    ("beta sd too large", "alpha = 10\nbeta = 90", "mean = 0.1\nsd = 0.5", "parameters.p_ws", "sd² < mean·(1 − mean)"),
    ("argument not a number", "alpha = 10", 'alpha = "ten"', "parameters.p_ws.alpha", "expected a number"),
    ("argument uses a parameter", "alpha = 10", 'alpha = "hr_new * 20"', "parameters.p_ws.alpha", "numbers only"),
    (
        "derived with distribution",
        'value = 1000\ndistribution = "gamma"',
        'value = "p_wd * 5e4"\ndistribution = "gamma"',
        "parameters.c_sick.value",
        "cannot also have a distribution",
    ),
    (
        "derived uses time",
        "value = 0.02\nsource",
        'value = "0.01 * cycle"\nsource',
        "parameters.p_wd.value",
        "cannot depend on time",
    ),
    (
        "self reference",
        'value = 0.5\nsource = "trial"',
        'value = "hr_new * 2"\nsource = "trial"',
        "parameters.hr_new",
        "refers to itself",
    ),
    (
        "empty parameter",
        '[parameters.u_well]\nvalue = 0.9\nsource = "EQ-5D"',
        "[parameters.u_well]",
        "parameters.u_well",
        "empty",
    ),
    (
        "low not a number",
        'source = "life table"',
        'source = "life table"\nlow = "low"',
        "parameters.p_wd.low",
        "expected a number",
    ),
    ("cost category missing", 'category = "medical"\n', "", "costs.care.category", "missing"),
    ("cost category not a name", 'category = "medical"', 'category = "medical care"', "costs.care.category", "identifiers"),
    (
        "cost unknown state",
        'values = { sick = "c_sick" }',
        'values = { sik = "c_sick" }',
        "costs.care.values.sik",
        "did you mean 'sick'",
    ),
    ("cost without values", 'values = { sick = "c_sick" }', 'label = "care"', "costs.care", "expected 'values'"),
    ("cost unknown key", 'category = "medical"', 'category = "medical"\nvalue = 1', "costs.care.value", "did you mean 'values'"),
    (
        "outcome on_entry unknown state",
        "[outcomes.qalys]\n",
        "[outcomes.qalys]\non_entry = { wel = -0.1 }\n",
        "outcomes.qalys.on_entry.wel",
        "did you mean 'well'",
    ),
    (
        "indicator on_entry",
        "[outcomes.qalys]\n",
        "[indicators.pain]\non_entry = { well = 1 }\n[outcomes.qalys]\n",
        "indicators.pain.on_entry",
        "occupancy-weighted mean",
    ),
    ("effect unknown", 'effect = "qalys"', 'effect = "qaly"', "analysis.effect", "did you mean 'qalys'"),
    ("comparator unknown", 'comparator = "old"', 'comparator = "usual"', "analysis.comparator", "unknown strategy 'usual'"),
    ("wtp missing", "wtp = [20000, 30000]\n", "", "analysis.wtp", "missing"),
    ("wtp not array", "wtp = [20000, 30000]", "wtp = 20000", "analysis.wtp", "expected a non-empty array"),
    ("wtp negative", "wtp = [20000, 30000]", "wtp = [20000, -1]", "analysis.wtp[1]", "got -1"),
    (
        "report times",
        "wtp = [20000, 30000]",
        "wtp = [20000]\nreport_at_years = 1",
        "analysis.report_at_years",
        "expected an array",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_problem_names_file_and_key_path(tmp_path, case):
    _, old, new, keypath, fragment = case
    path = write(tmp_path, edit(old, new))
    found = problems(path)
    matching = [p for p in found if p.where == f"{path}: {keypath}" or p.where.startswith(f"{path}: {keypath}.")]
    assert matching, f"no problem at {keypath}; got {[str(p) for p in found]}"
    assert any(fragment in p.message for p in matching), [str(p) for p in matching]


def test_circular_derived_parameters(tmp_path):
    text = edit('value = 0.5\nsource = "trial"', 'value = "u_well * 2"\nsource = "trial"')
    text = edit('value = 0.9\nsource = "EQ-5D"', 'value = "hr_new / 2"\nsource = "EQ-5D"', text)
    path = write(tmp_path, text)
    found = problems(path)
    assert any(
        p.where in (f"{path}: parameters.hr_new", f"{path}: parameters.u_well")
        and "circular definition" in p.message
        and "hr_new" in p.message
        and "u_well" in p.message
        for p in found
    ), [str(p) for p in found]


def test_only_one_state(tmp_path):
    text = MINI.split("[states]")[0] + "[states]\nonly = { initial = 1 }\n[strategies.old]\n[transitions]\nonly = { only = 1 }\n"
    found = problems(write(tmp_path, text + "[outcomes.qalys]\nvalues = { only = 1 }\n"))
    assert any(p.where.endswith(": states") and "at least two states" in p.message for p in found)


def test_dirichlet_problems(tmp_path):
    base = (
        MINI
        + """
[parameters.row]
distribution = "dirichlet"
alpha = { a = 3, b = 0 }
source = "counts"
"""
    )
    (p,) = problems(write(tmp_path, base))
    assert p.where.endswith("parameters.row.alpha") and "every count must be > 0" in p.message
    one = base.replace("alpha = { a = 3, b = 0 }", "alpha = { a = 3 }")
    assert "at least two components" in problems(write(tmp_path, one))[0].message
    valued = base.replace("alpha = { a = 3, b = 0 }", "alpha = { a = 3, b = 1 }\nvalue = 0.5")
    assert problems(write(tmp_path, valued))[0].where.endswith("parameters.row.value")
    clash = base.replace("alpha = { a = 3, b = 0 }", "alpha = { p_wd = 3, b = 1 }")
    assert any(
        "declared more than once" in q.message and q.where.endswith("parameters.p_wd") for q in problems(write(tmp_path, clash))
    )


def test_correlation_problems(tmp_path):
    good = (
        MINI
        + """
[[correlations]]
parameters = ["p_ws", "c_sick"]
matrix = [[1, 0.3], [0.3, 1]]
source = "assumption"
"""
    )
    s = load_scenario(write(tmp_path, good))
    assert s.correlations[0].names == ("p_ws", "c_sick")
    for old, new, fragment in [
        ('["p_ws", "c_sick"]', '["p_ws", "p_wd"]', "univariate distribution"),
        ('["p_ws", "c_sick"]', '["p_ws"]', "at least two"),
        ("[[1, 0.3], [0.3, 1]]", "[[1, 0.3], [0.2, 1]]", "symmetric"),
        ("[[1, 0.3], [0.3, 1]]", "[[1, 0.3]]", "2×2"),
        ("[[1, 0.3], [0.3, 1]]", '[[1, "0.3"], ["0.3", 1]]', "2×2"),
        ("[[1, 0.3], [0.3, 1]]", "[[1, 1e400], [1e400, 1]]", "entries in [-1, 1]"),
        ("[[1, 0.3], [0.3, 1]]", "[[1, " + "9" * 400 + "], [0.3, 1]]", "2×2"),
        ('[0.3, 1]]\nsource = "assumption"\n', "[0.3, 1]]\n", "missing"),
    ]:
        found = problems(write(tmp_path, edit(old, new, good)))
        assert any(p.where.split(": ", 1)[1].startswith("correlations[0]") and fragment in p.message for p in found), (
            old,
            [str(p) for p in found],
        )


def test_correlation_matrix_must_be_positive_definite(tmp_path):
    text = (
        MINI
        + """
[parameters.x]
distribution = "normal"
mean = 0
sd = 1
source = "x"

[[correlations]]
parameters = ["p_ws", "c_sick", "x"]
matrix = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]
source = "assumption"
"""
    )
    (p,) = problems(write(tmp_path, text))
    assert p.where.endswith("correlations[0].matrix") and "positive definite" in p.message


def test_table_problems(tmp_path):
    (tmp_path / "qx.csv").write_text("age,qx\n0,0.01\n50,0.02\n40,0.03\n", encoding="utf-8")
    text = (
        MINI
        + """
[tables.qx]
file = "qx.csv"
x = "age"
y = "qx"
"""
    )
    (p,) = problems(write(tmp_path, text))
    assert p.where.endswith("tables.qx.file") and "strictly increasing" in p.message
    (p,) = problems(write(tmp_path, text.replace("qx.csv", "none.csv")))
    assert p.where.endswith("tables.qx.file") and "cannot read" in p.message and "none.csv" in p.message
    (p,) = problems(write(tmp_path, text.replace('y = "qx"', 'y = "rate"')))
    assert p.where.endswith("tables.qx.file") and "'rate'" in p.message
    found = problems(write(tmp_path, text.replace('y = "qx"', 'y = "qx"\nmethod = "spline"')))
    assert any(
        q.where.endswith("tables.qx.method") and "expected one of 'step', 'linear'; got 'spline'" in q.message for q in found
    )


def test_tables_are_callable_in_expressions(tmp_path):
    (tmp_path / "qx.csv").write_text("age,qx\n0,0.01\n50,0.02\n100,0.5\n", encoding="utf-8")
    text = (
        edit('sick = { sick = "rest", dead = 0.1 }', 'sick = { sick = "rest", dead = "qx(50 + time_years)" }')
        + """
[tables.qx]
file = "qx.csv"
x = "age"
y = "qx"
"""
    )
    s = load_scenario(write(tmp_path, text))
    assert list(s.tables["qx"]([0, 49.9, 50, 75, 200])) == [0.01, 0.01, 0.02, 0.02, 0.5]  # step


# ------------------------------------------------------------------------------------------------
# The error object


def test_every_problem_is_collected_at_once(tmp_path):
    text = edit("discount_costs = 0.035", "discount_costs = 3.5")
    text = edit('cycle_unit = "year"', 'cycle_unit = "yr"', text)
    text = edit('sick = "p_ws", dead', 'sick = "p_sw", dead', text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    where = [p.where.split(": ", 1)[1] for p in info.value.problems]
    assert {"settings.discount_costs", "settings.cycle_unit", "transitions.well.sick"} <= set(where)
    message = str(info.value)
    assert message.startswith(f"{len(info.value.problems)} problems in scenario:")
    assert info.value.exit_code == ExitCode.INVALID_SCENARIO
    assert isinstance(info.value, ValueError)


def test_a_shared_row_problem_is_reported_once(tmp_path):
    # transitions.sick is shared by both strategies; the typo must not be listed once per strategy
    found = problems(write(tmp_path, edit("dead = 0.1 }", 'dead = "p_xx" }')))
    assert len([p for p in found if "p_xx" in p.message]) == 1


def test_an_invalid_parameter_is_not_also_called_unknown(tmp_path):
    found = problems(write(tmp_path, edit("sd = 200", "sd = -200")))
    assert len(found) == 1 and "unknown name" not in found[0].message


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"[settings\n", "not valid TOML"),
        (b"a = 1\na = 2\n", "not valid TOML"),
        (b"\xff\xfe[model]\n", "UTF-8"),
    ],
)
def test_unreadable_files(tmp_path, content, fragment):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    (p,) = problems(path)
    assert p.where == str(path) and fragment in p.message


def test_missing_file(tmp_path):
    (p,) = problems(tmp_path / "absent.toml")
    assert p.where == str(tmp_path / "absent.toml") and "file not found" in p.message
