"""Shared strategy values: the top-level ``[values]`` table (docs/scenario-format.md, *Shared values*).

A shared value is evaluated in each strategy's space (it may use the strategy's own values and
time), a strategy's own value of the same name replaces it, the order is computed per strategy over
the union, and misuse (an unknown name, a loop, a parameter's name) is a load error naming the file
and the key path. ``extends`` merges ``[values]`` value by value.
"""

from __future__ import annotations

import numpy as np
import pytest

from costspine.errors import ScenarioError
from costspine.model.evaluate import build_strategy_spaces, build_time_names, evaluate_expression
from costspine.model.groups import build_groups
from costspine.model.inputs import evaluate_parameters
from costspine.model.microsim_tables import build_draw_tables
from costspine.scenario.load import load_scenario
from costspine.scenario.population import EMPTY_POPULATION
from costspine.simulate.cohort import run_cohort

from helpers import analysis_toml, edit, settings_toml, write

# Annual cycles, 3 cycles, end-of-cycle counting, no discounting. Strategy a has hr_now = 1;
# strategy b halves the risk while time_years < 2 (cycles 1 and 2). The shared p_sick uses both the
# strategy's own hr_now and time (cycle): p_sick = 0.1 * hr_now * cycle.
TOY = (
    """
[model]
name = "shared"
"""
    + settings_toml(3)
    + analysis_toml(effect="life_years", comparator="a")
    + """
[states]
well = { initial = 1 }
sick = { initial = 0 }

[strategies.a]
values = { hr_now = "1" }

[strategies.b]
values = { hr_now = "where(time_years < 2, hr_b, 1)" }

[values]
p_sick = "0.1 * hr_now * cycle"
stay = "1 - p_sick"

[parameters.hr_b]
value = 0.5
source = "assumption"

[parameters.c_sick]
value = 100
source = "assumption"

[transitions]
well = { well = "stay", sick = "p_sick" }
sick = { sick = 1 }

[costs.care]
category = "care"
values = { sick = "c_sick" }

[outcomes.life_years]
values = { well = 1, sick = 1 }

[indicators.p_sick_now]
values = { well = "p_sick" }
"""
)


def load(tmp_path, text=TOY, name="shared.toml"):
    return load_scenario(write(tmp_path, text, name))


def problems_of(tmp_path, text) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, text)
    return [str(p) for p in info.value.problems]


def test_a_shared_value_uses_each_strategys_own_values_and_time(tmp_path):
    result = run_cohort(load(tmp_path))
    # a: p_sick = 0.1, 0.2, 0.3 -> well = 0.9, 0.72, 0.504; sick = 0.1, 0.28, 0.496 (sum 0.876).
    # b: hr_now = 0.5, 0.5, 1 -> p_sick = 0.05, 0.10, 0.30 -> well = 0.95, 0.855, 0.5985;
    #    sick = 0.05, 0.145, 0.4015 (sum 0.5965).
    np.testing.assert_allclose(result.trace[0, 0, :, 0], [1, 0.9, 0.72, 0.504], rtol=1e-12)
    np.testing.assert_allclose(result.trace[0, 1, :, 0], [1, 0.95, 0.855, 0.5985], rtol=1e-12)
    np.testing.assert_allclose(result.costs_undiscounted[0, :, 0], [87.6, 59.65], rtol=1e-12)


def test_the_microsimulation_grid_evaluates_shared_values_per_strategy(tmp_path):
    scenario = load(tmp_path)
    values = evaluate_parameters(scenario)
    groups = build_groups(EMPTY_POPULATION, values, tables=scenario.tables, where=str(scenario.path), base_case=True)
    tables = build_draw_tables(scenario, EMPTY_POPULATION, groups, values, draw=0, base_case=True)
    well, sick = 0, 1
    prob = tables.trans_prob[:, :, well, sick]  # (strategy, time): one group, so one row per origin state
    np.testing.assert_allclose(prob, [[0.1, 0.2, 0.3], [0.05, 0.10, 0.30]], rtol=1e-12)


def test_a_strategys_own_value_replaces_the_shared_one_everywhere_in_that_strategy(tmp_path):
    text = edit('values = { hr_now = "1" }', 'values = { hr_now = "1", p_sick = "0.5" }', TOY)
    scenario = load(tmp_path, text)
    assert scenario.strategy_values["a"]["p_sick"].text == "0.5"
    assert scenario.strategy_values["b"]["p_sick"].text == "0.1 * hr_now * cycle"
    # The shared `stay` uses a's own p_sick: the well row still sums to 1.
    result = run_cohort(scenario)
    np.testing.assert_allclose(result.trace[0, 0, :, 0], [1, 0.5, 0.25, 0.125], rtol=1e-12)
    np.testing.assert_allclose(result.trace[0, 1, :, 0], [1, 0.95, 0.855, 0.5985], rtol=1e-12)
    assert scenario.value_keypath("a", "p_sick") == "strategies.a.values.p_sick"
    assert scenario.value_keypath("b", "p_sick") == "values.p_sick (strategy b)"


def test_the_order_is_computed_per_strategy_over_the_union(tmp_path):
    # stay is written before what it uses; in b, p_sick uses b's own k, which uses the shared base.
    text = edit(
        'values = { hr_now = "where(time_years < 2, hr_b, 1)" }',
        'values = { hr_now = "where(time_years < 2, hr_b, 1)", p_sick = "k * hr_now", k = "base * 2" }',
        TOY,
    )
    text = edit('p_sick = "0.1 * hr_now * cycle"\n', 'p_sick = "0.1 * hr_now * cycle"\nbase = "0.05"\n', text)
    scenario = load(tmp_path, text)
    order = list(scenario.strategy_values["b"])
    assert order.index("base") < order.index("k") < order.index("p_sick") < order.index("stay")
    np.testing.assert_allclose(run_cohort(scenario).trace[0, 1, 1:, 0], [0.95, 0.9025, 0.81225], rtol=1e-12)


def test_an_evaluation_error_in_a_shared_value_names_it_and_the_strategy(tmp_path):
    scenario = load(tmp_path)
    space = build_time_names(3, 1.0, shape=(1, -1))  # no parameters: hr_b is missing

    def evaluate(expr, local, where):
        return evaluate_expression(scenario, expr, local, where)

    with pytest.raises(ScenarioError) as info:
        build_strategy_spaces(scenario, space, evaluate)
    assert info.value.problems[0].where.endswith("shared.toml: strategies.b.values.hr_now")
    space["hr_b"] = np.array([[0.5]])
    space_without_cycle = {k: v for k, v in space.items() if k != "cycle"}
    with pytest.raises(ScenarioError) as info:
        build_strategy_spaces(scenario, {**space_without_cycle, "time_years": space["time_years"]}, evaluate)
    assert info.value.problems[0].where.endswith("shared.toml: values.p_sick (strategy a)")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a name no strategy defines: said once, with a did-you-mean hint
        (
            'p_sick = "0.1 * hr_now * cycle"',
            'p_sick = "0.1 * hr_nwo * cycle"',
            ["shared.toml: values.p_sick: unknown name 'hr_nwo' in '0.1 * hr_nwo * cycle' — did you mean 'hr_now'?"],
        ),
        # a name only some strategies define
        (
            'values = { hr_now = "1" }',
            'values = { hr_then = "1" }',
            [
                "shared.toml: values.p_sick: unknown name 'hr_now' in '0.1 * hr_now * cycle' for strategy a: only b defines a "
                "value 'hr_now' — define it in [strategies.a.values] or in [values]"
            ],
        ),
        # a loop among shared values: said once, without a strategy
        (
            'stay = "1 - p_sick"',
            'stay = "1 - p_sick"\nloop_a = "loop_b"\nloop_b = "loop_a"',
            ["shared.toml: values.loop_a: circular definition: loop_a -> loop_b -> loop_a"],
        ),
        # a loop through one strategy's own value: names the strategy and each key path
        (
            'values = { hr_now = "1" }',
            'values = { hr_now = "stay" }',
            [
                "shared.toml: values.p_sick: circular definition in strategy a: values.p_sick -> strategies.a.values.hr_now -> "
                "values.stay -> values.p_sick"
            ],
        ),
        # a strategy's own value cannot use the shared value it replaces
        (
            'values = { hr_now = "1" }',
            'values = { hr_now = "1", p_sick = "p_sick / 2" }',
            [
                "shared.toml: strategies.a.values.p_sick: refers to itself (a strategy's own value replaces the shared value "
                "of the same name; it cannot use it)"
            ],
        ),
        # a shared value named like a parameter, or a reserved word
        (
            'stay = "1 - p_sick"',
            'stay = "1 - p_sick"\nc_sick = "1"',
            ["shared.toml: values.c_sick: shadows a parameter of the same name; rename one of them"],
        ),
        (
            'stay = "1 - p_sick"',
            'stay = "1 - p_sick"\ncycle = "1"',
            ["shared.toml: values.cycle: value names must be identifiers and not reserved words"],
        ),
        ('stay = "1 - p_sick"', 'stay = "1 - p_sick"\nbad = "1 +"', ["shared.toml: values.bad: "]),
    ],
    ids=["unknown", "unknown-in-one-strategy", "shared-loop", "loop-through-own", "self", "shadows", "reserved", "syntax"],
)
def test_misuse_is_a_load_error_naming_the_file_and_key(tmp_path, old, new, expected):
    found = problems_of(tmp_path, edit(old, new, TOY))
    for message in expected:
        assert any(p.startswith(str(tmp_path / message.split(": ", 1)[0])) and message.split(": ", 1)[1] in p for p in found), (
            found
        )


def test_values_must_be_a_table(tmp_path):
    text = edit('[values]\np_sick = "0.1 * hr_now * cycle"\nstay = "1 - p_sick"\n', "", TOY)
    found = problems_of(tmp_path, "values = 3\n" + text)
    assert f"{tmp_path / 'shared.toml'}: values: expected a table, got int 3" in found, found


def test_validate_reports_shared_value_errors(tmp_path, runner):
    from costspine.cli import cli

    path = write(tmp_path, edit('p_sick = "0.1 * hr_now * cycle"', 'p_sick = "0.1 * hr_nwo * cycle"', TOY), "bad.toml")
    result = runner.invoke(cli, ["validate", str(path)])
    assert result.exit_code != 0
    assert f"{path}: values.p_sick: unknown name 'hr_nwo'" in result.stderr


def test_extends_merges_values_value_by_value(tmp_path):
    write(tmp_path, TOY, "parent.toml")
    child = write(
        tmp_path,
        """
extends = "parent.toml"

[values]
p_sick = "0.2 * hr_now"
""",
        "child.toml",
    )
    scenario = load_scenario(child)
    assert scenario.shared_values["p_sick"].text == "0.2 * hr_now"
    assert scenario.shared_values["stay"].text == "1 - p_sick"  # kept from the parent
    # a: p_sick = 0.2 in every cycle -> well = 0.8, 0.64, 0.512.
    np.testing.assert_allclose(run_cohort(scenario).trace[0, 0, 1:, 0], [0.8, 0.64, 0.512], rtol=1e-12)
    # A problem in an inherited value names the parent; one in the child's names the child.
    write(
        tmp_path,
        """
extends = "parent.toml"

[values]
p_sick = "0.2 * hr_nwo"
""",
        "bad_child.toml",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "bad_child.toml")
    assert [p.where for p in info.value.problems] == [f"{tmp_path / 'bad_child.toml'}: values.p_sick"]
    write(tmp_path, edit('stay = "1 - p_sick"', 'stay = "1 - p_sck"', TOY), "bad_parent.toml")
    write(tmp_path, 'extends = "bad_parent.toml"\n[values]\np_sick = "0.2"\n', "child2.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "child2.toml")
    assert [p.where for p in info.value.problems] == [f"{tmp_path / 'bad_parent.toml'}: values.stay"]


def test_a_child_strategy_value_replaces_an_inherited_shared_value_in_that_strategy_only(tmp_path):
    write(tmp_path, TOY, "parent.toml")
    child = write(tmp_path, 'extends = "parent.toml"\n[strategies.b.values]\np_sick = "0"\n', "child.toml")
    scenario = load_scenario(child)
    assert scenario.strategy_values["b"]["hr_now"].text == "where(time_years < 2, hr_b, 1)"  # b keeps its own
    result = run_cohort(scenario)
    np.testing.assert_allclose(result.trace[0, 1, 1:, 0], [1, 1, 1])
    np.testing.assert_allclose(result.trace[0, 0, 1:, 0], [0.9, 0.72, 0.504], rtol=1e-12)


def test_the_calibration_graph_evaluates_shared_values_per_strategy(tmp_path):
    pytest.importorskip("pytensor")
    from costspine.bayes.fit import _import, build_symbolic_model
    from costspine.model.inputs import base_case_parameters

    _, pt, _ = _import()
    scenario = load(tmp_path)
    values = {k: float(v[0]) for k, v in base_case_parameters(scenario).items()}
    symbolic = build_symbolic_model(scenario, values, pt)
    assert float(symbolic.cost_total["a"].eval()) == pytest.approx(87.6, rel=1e-10)
    assert float(symbolic.cost_total["b"].eval()) == pytest.approx(59.65, rel=1e-10)


def test_the_worked_example_of_the_docs(tmp_path):
    # docs/scenario-format.md, *Shared values*: p_sick = 1 - exp(-0.2) = 0.1813 for usual care;
    # 1 - exp(-0.1) = 0.0952 in cycles 1-2, then 0.1813, for the new drug.
    text = (
        '[model]\nname = "docs"\n'
        + settings_toml(3)
        + analysis_toml(effect="life_years", comparator="usual_care")
        + """
[states]
well = { initial = 1 }
sick = { initial = 0 }

[strategies.usual_care]
values = { hr_now = "1" }

[strategies.new_drug]
values = { hr_now = "where(time_years < 2, hr_drug, 1)" }

[values]
p_sick = "rate_to_prob(rate_sick * hr_now, cycle_years)"

[parameters.rate_sick]
value = 0.2
source = "assumption"

[parameters.hr_drug]
value = 0.5
source = "assumption"

[transitions]
well = { well = "rest", sick = "p_sick" }
sick = { sick = 1 }

[outcomes.life_years]
values = { well = 1, sick = 1 }
"""
    )
    scenario = load(tmp_path, text)
    values = evaluate_parameters(scenario)
    groups = build_groups(EMPTY_POPULATION, values, tables=scenario.tables, where=str(scenario.path), base_case=True)
    prob = build_draw_tables(scenario, EMPTY_POPULATION, groups, values, draw=0, base_case=True).trans_prob[:, :, 0, 1]
    np.testing.assert_allclose(prob, [[0.1813] * 3, [0.0952, 0.0952, 0.1813]], atol=5e-5)
