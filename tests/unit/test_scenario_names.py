"""Names that Python reads as keywords (``lambda``, ``if``, ``None``, ``True``) are refused at load.

Before this rule such a name loaded, and every expression that used it failed with "invalid
syntax". Each case renames one thing of a small valid scenario and asserts the problem names the
file, the key path, the name and why; soft keywords (``match``, ``case``) parse as names in
expressions and stay accepted.
"""

from __future__ import annotations

import keyword

import numpy as np
import pytest

from costspine.errors import ScenarioError
from costspine.scenario.collector import _is_name
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

SMALL = """
[model]
name = "names"

[settings]
cycle_length = 1
cycle_unit = "year"
n_cycles = 3
discount_costs = 0
discount_outcomes = 0
cycle_correction = "none"
currency = "GBP"
price_year = 2020

[analysis]
effect = "qalys"
comparator = "old"
wtp = [20000]

[states]
well = { initial = 1 }
dead = { initial = 0 }

[strategies.old]
label = "Old"

[strategies.new]
label = "New"
values = { hr = "0.5" }

[parameters.p_die]
value = 0.1
source = "assumption"

[transitions]
well = { well = "rest", dead = "p_die" }
dead = { dead = 1 }

[strategies.new.transitions]
well = { well = "rest", dead = "p_die * hr" }

[costs.care]
category = "medical"
values = { well = 100 }

[outcomes.qalys]
values = { well = 1 }
"""

QX = '[tables.qx]\nfile = "qx.csv"\nx = "age"\ny = "qx"\n'


def _load_problems(tmp_path, text: str) -> tuple:
    (tmp_path / "qx.csv").write_text("age,qx\n0,0.01\n100,0.5\n", encoding="utf-8")
    path = tmp_path / "names.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return path, info.value.problems


def _edit(old: str, new: str, text: str = SMALL) -> str:
    assert text.count(old) == 1, f"test setup: {old!r} must occur exactly once"
    return text.replace(old, new)


# (what is renamed, edit from, edit to, key path of the problem, the keyword)
CASES = [
    ("parameter", "[parameters.p_die]", "[parameters.lambda]", "parameters.lambda", "lambda"),
    ("strategy value", 'values = { hr = "0.5" }', 'values = { hr = "0.5", if = "1" }', "strategies.new.values.if", "if"),
    ("table", "", QX.replace("tables.qx", "tables.None"), "tables.None", "None"),
    ("state", "dead = { initial = 0 }", "dead = { initial = 0 }\nTrue = { initial = 0 }", "states.True", "True"),
    ("strategy", "[strategies.old]", "[strategies.old]\n[strategies.class]", "strategies.class", "class"),
    ("outcome", "[outcomes.qalys]", "[outcomes.for]\nvalues = { well = 1 }\n[outcomes.qalys]", "outcomes.for", "for"),
    ("cost category", 'category = "medical"', 'category = "pass"', "costs.care.category", "pass"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_keyword_name_is_refused_naming_file_key_path_name_and_why(tmp_path, case):
    _, old, new, keypath, name = case
    text = SMALL + new if old == "" else _edit(old, new)
    path, found = _load_problems(tmp_path, text)
    matching = [p for p in found if p.where == f"{path}: {keypath}"]
    assert matching, f"no problem at {keypath}; got {[str(p) for p in found]}"
    (problem,) = matching
    assert f"{name!r} is a Python keyword" in problem.message
    assert "invalid syntax" in problem.message and f"e.g. '{name}_'" in problem.message


def test_the_suggested_rename_loads_and_runs(tmp_path):
    text = SMALL.replace("p_die", "lambda_")
    path = tmp_path / "renamed.toml"
    path.write_text(text, encoding="utf-8")
    result = run_cohort(load_scenario(path))
    # old: alive 1, 0.9, 0.81, 0.729 at points 0..3 (uncorrected: points 1..3 count)
    np.testing.assert_allclose(result.outcomes[0, 0, 0], 0.9 + 0.81 + 0.729)


@pytest.mark.parametrize("name", ["match", "case", "_"])
def test_soft_keywords_are_names_in_expressions(tmp_path, name):
    assert keyword.issoftkeyword(name) and _is_name(name)
    text = SMALL.replace("p_die", name)
    path = tmp_path / "soft.toml"
    path.write_text(text, encoding="utf-8")
    result = run_cohort(load_scenario(path))
    np.testing.assert_allclose(result.outcomes[0, 0, 0], 0.9 + 0.81 + 0.729)


@pytest.mark.parametrize("name", sorted(keyword.kwlist))
def test_no_python_keyword_is_a_name(name):
    assert not _is_name(name)
