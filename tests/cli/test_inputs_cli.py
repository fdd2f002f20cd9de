"""``--inputs WORKBOOK.xlsx``: values edited on a workbook's Inputs sheet are read back by run, psa,
dsa and bia — the results equal those of a scenario file with the same edits, every change is
printed and kept in the manifest (with the workbook's SHA-256), and a bad cell is an error that
names sheet, cell, parameter, expected and found, with nothing written."""

from __future__ import annotations

import hashlib
import json
import textwrap

import numpy as np
import pytest

from helpers import analysis_toml, edit, invoke, read_csv, settings_toml

pytest.importorskip("openpyxl")

# A toy model with a parameter of every kind the Inputs sheet shows: fixed, beta, gamma (with an
# explicit value), lognormal, a Dirichlet row, a derived parameter and a catalogue unit price.
TOY = (
    """
[model]
name = "toy_inputs"
title = "Toy model for workbook inputs"
"""
    + settings_toml(5, discount_costs=0.03, discount_outcomes=0.03)
    + analysis_toml(effect="qalys", comparator="a", wtp=(20000, 50000))
    + """
[states]
well = { initial = 1 }
sick = { initial = 0 }
dead = { initial = 0 }

[strategies.a]
[strategies.b]

[parameters.u_sick]
value = 0.6
source = "assumption"

[parameters.p_die]
distribution = "beta"
mean = 0.05
sd = 0.01
source = "assumption"

[parameters.c_drug]
value = 120
distribution = "gamma"
mean = 120
sd = 30
source = "assumption"

[parameters.rr_b]
distribution = "lognormal"
meanlog = -0.3
sdlog = 0.1
source = "assumption"

[parameters.well_row]
distribution = "dirichlet"
alpha = { p_stay = 80, p_get_sick = 20 }
source = "assumption"

[parameters.c_sick]
value = "c_drug * 2 + price_mri_lumbar"
source = "derived"

[unit_costs]
payer = "medicare"
price_year = 2025
items = ["mri_lumbar"]

[transitions]
well = { well = "rest", sick = "p_get_sick", dead = "p_die" }
sick = { sick = "rest", dead = "p_die" }
dead = { dead = 1 }

[strategies.b.transitions]
well = { well = "rest", sick = "p_get_sick * rr_b", dead = "p_die" }

[costs.care]
category = "drugs"
values = { sick = "c_sick" }

[strategies.b.costs.care]
category = "drugs"
values = { well = 200, sick = "c_sick" }

[outcomes.qalys]
values = { well = 1, sick = "u_sick" }
"""
)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The toy scenario and the run.xlsx costspine wrote for it."""
    folder = tmp_path_factory.mktemp("inputs")
    scenario = folder / "toy.toml"
    scenario.write_text(TOY, encoding="utf-8")
    result = invoke("run", scenario, "--out", folder / "plain", "--quiet")
    assert result.exit_code == 0, result.stderr
    return scenario, folder / "plain" / "run.xlsx"


def edit_workbook(source, target, changes: dict[tuple[str, str], object]):
    """Copy ``source`` to ``target`` with cells changed: ``{(row label, column header): value}``.

    The row label is the Parameter of the Inputs sheet or the Item of the Unit prices sheet.
    Returns ``{(row label, column header): "Inputs!B7"}``, the cells changed.
    """
    from openpyxl import load_workbook

    book = load_workbook(source)
    refs = {}
    for (label, column), value in changes.items():
        sheet = book["Unit prices" if column == "Unit price" else "Inputs"]
        header = next(row for row in sheet.iter_rows() if any(c.value in ("Distribution", "Unit price") for c in row))
        columns = {c.value: c.column for c in reversed(header) if isinstance(c.value, str)}  # first of a repeated name
        key_col = columns["Item" if column == "Unit price" else "Parameter"]
        row = next(r for r in range(header[0].row + 1, sheet.max_row + 1) if sheet.cell(r, key_col).value == label)
        sheet.cell(row, columns[column]).value = value
        quoted = "'Unit prices'" if column == "Unit price" else "Inputs"
        refs[(label, column)] = f"{quoted}!{sheet.cell(row, columns[column]).coordinate}"
    book.save(target)
    return refs


def price_of(scenario_path) -> dict:
    from costspine.scenario.load import load_scenario

    return load_scenario(scenario_path).resolved["parameters"]["price_mri_lumbar"]


EDITS = {
    ("u_sick", "Value"): 0.5,
    ("p_die", "Distribution"): "uniform",
    ("p_die", "Arguments"): "min=0.02, max=0.08",
    ("c_drug", "Arguments"): "shape=4, scale=40",
    ("p_stay", "Arguments"): "group well_row, alpha=[60, 40]",
    ("c_sick", "Arguments"): "c_drug * 3 + price_mri_lumbar",
    ("mri_lumbar", "Unit price"): 250.0,
}


def same_edits_as_a_file(scenario_path, folder):
    """The toy scenario file with EDITS written into it, as an analyst would write them."""
    price = price_of(scenario_path)
    text = TOY
    text = edit("[parameters.u_sick]\nvalue = 0.6", "[parameters.u_sick]\nvalue = 0.5", text)
    text = edit('distribution = "beta"\nmean = 0.05\nsd = 0.01', 'distribution = "uniform"\nmin = 0.02\nmax = 0.08', text)
    text = edit("mean = 120\nsd = 30", "shape = 4\nscale = 40", text)
    text = edit("alpha = { p_stay = 80, p_get_sick = 20 }", "alpha = { p_stay = 60, p_get_sick = 40 }", text)
    text = edit('value = "c_drug * 2 + price_mri_lumbar"', 'value = "c_drug * 3 + price_mri_lumbar"', text)
    text += textwrap.dedent(f"""
        [parameters.price_mri_lumbar]
        value = 250.0
        distribution = "gamma"
        mean = {price["mean"]!r}
        sd = {price["sd"]!r}
        source = "edited"
        """)
    path = folder / "edited.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def edited(written, tmp_path_factory):
    scenario, book = written
    folder = tmp_path_factory.mktemp("edited")
    refs = edit_workbook(book, folder / "edited.xlsx", EDITS)
    return scenario, folder / "edited.xlsx", same_edits_as_a_file(scenario, folder), refs


def run_both(command, edited, tmp_path, *args):
    scenario, book, as_file, _ = edited
    from_book = invoke(command, scenario, "--inputs", book, "--out", tmp_path / "book", *args)
    from_file = invoke(command, as_file, "--out", tmp_path / "file", *args)
    assert from_book.exit_code == 0, from_book.stderr
    assert from_file.exit_code == 0, from_file.stderr
    return from_book, tmp_path / "book", tmp_path / "file"


def numbers(rows, skip=("scenario",)):
    return [{k: v for k, v in row.items() if k not in skip} for row in rows]


def test_run_with_edited_inputs_equals_a_scenario_file_with_the_same_edits(written, edited, tmp_path):
    result, book_dir, file_dir = run_both("run", edited, tmp_path)
    assert numbers(read_csv(book_dir / "results.csv")) == numbers(read_csv(file_dir / "results.csv"))
    assert read_csv(book_dir / "trace.csv") == read_csv(file_dir / "trace.csv")
    plain = read_csv(written[1].parent / "results.csv")
    assert numbers(plain) != numbers(read_csv(book_dir / "results.csv"))  # the edits did change the results


def test_every_change_is_printed_and_kept_in_the_manifest(edited, tmp_path):
    scenario, book, _, refs = edited
    result = invoke("run", scenario, "--inputs", book, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert f"Inputs from {book}" in text and f"{len(refs)} changes" in text  # one per edited cell
    for (label, column), ref in refs.items():
        assert ref in text, (label, column, text)
    assert max(len(line) for line in text.splitlines()[:12]) <= 100
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    sha = hashlib.sha256(book.read_bytes()).hexdigest()
    assert {"path": str(book), "sha256": sha} in manifest["inputs"]
    cells = {e["cell"] for e in manifest["input_edits"]}
    assert cells == set(refs.values())
    by_cell = {e["cell"]: e for e in manifest["input_edits"]}
    assert by_cell[refs[("u_sick", "Value")]] == {
        "scenario": "toy_inputs",
        "workbook": str(book),
        "cell": refs[("u_sick", "Value")],
        "parameter": "u_sick",
        "field": "value",
        "old": "0.6",
        "new": "0.5",
        "note": "",
    }
    assert by_cell[refs[("mri_lumbar", "Unit price")]]["parameter"] == "price_mri_lumbar"
    # the workbook written by this run shows the edited values (it can be edited again)
    from costspine.scenario.workbook_inputs import load_scenario_with_inputs

    again = load_scenario_with_inputs(edited[2], tmp_path / "out" / "run.xlsx")
    assert again.edits == ()


def test_psa_with_edited_inputs_equals_a_scenario_file_with_the_same_edits(edited, tmp_path):
    _, book_dir, file_dir = run_both("psa", edited, tmp_path, "--draws", "40", "--quiet")
    from costspine.analysis.psa_draws_file import load_psa_draws

    a, b = load_psa_draws(book_dir), load_psa_draws(file_dir)
    for key in ("parameters", "costs", "outcomes"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)


def test_dsa_with_edited_inputs_equals_a_scenario_file_with_the_same_edits(edited, tmp_path):
    _, book_dir, file_dir = run_both("dsa", edited, tmp_path, "--quiet")
    assert read_csv(book_dir / "tornado.csv") == read_csv(file_dir / "tornado.csv")


def test_an_unedited_workbook_changes_nothing_and_is_still_recorded(written, tmp_path):
    scenario, book = written
    result = invoke("run", scenario, "--inputs", book, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert "no value differs from the scenario's" in result.stdout
    assert numbers(read_csv(tmp_path / "out" / "results.csv")) == numbers(read_csv(book.parent / "results.csv"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert str(book) in [entry["path"] for entry in manifest["inputs"]]
    assert "input_edits" not in manifest


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({("u_sick", "Value"): "0,5"}, ["parameter u_sick, Value): expected a finite number; found the text '0,5'"]),
        ({("c_drug", "Distribution"): "gama"}, ["parameter c_drug, Distribution): expected one of fixed, normal"]),
        ({("c_drug", "Arguments"): "shape=4, scale=-1"}, ["parameter c_drug, Arguments): expected valid gamma arguments"]),
        ({("c_drug", "Arguments"): "shape=4; scale=1"}, ["parameter c_drug, Arguments): expected a number after shape="]),
        ({("rr_b", "Arguments"): "mean=1, sd=0.1, rate=3"}, ["parameter rr_b, Arguments): expected lognormal arguments among"]),
        ({("p_stay", "Value"): 0.7}, ["parameter p_stay, Value): expected the mean of its Dirichlet group, 0.8"]),
        ({("c_sick", "Value"): 10.0}, ["parameter c_sick, Value): expected", "the value of its expression"]),
        ({("mri_lumbar", "Unit price"): "free"}, ["Unit price): expected a finite number ≥ 0; found the text 'free'"]),
        (
            {("u_sick", "Value"): None, ("p_die", "Arguments"): "mean=2, sd=0.1"},
            ["cell B", "parameter u_sick, Value): expected a finite number; found an empty cell", "parameter p_die, Arguments)"],
        ),
    ],
)
def test_a_bad_cell_names_sheet_cell_parameter_expected_and_found(written, tmp_path, changes, fragments):
    scenario, book = written
    refs = edit_workbook(book, tmp_path / "bad.xlsx", changes)
    result = invoke("run", scenario, "--inputs", tmp_path / "bad.xlsx", "--out", tmp_path / "out")
    assert result.exit_code == 3
    err = result.stderr
    assert err.startswith("Error: "), err
    for ref in refs.values():
        sheet, cell = ref.replace("'", "").split("!")
        assert f"bad.xlsx: sheet {sheet} cell {cell} (parameter " in err, err
    for fragment in fragments:
        assert fragment in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_row_for_a_parameter_the_scenario_lacks_is_an_error(written, tmp_path):
    scenario, book = written
    edit_workbook(book, tmp_path / "bad.xlsx", {("u_sick", "Parameter"): "u_sik"})
    result = invoke("run", scenario, "--inputs", tmp_path / "bad.xlsx", "--out", tmp_path / "out")
    assert result.exit_code == 3
    assert "(parameter u_sik, Parameter): expected a parameter of scenario 'toy_inputs'; found 'u_sik'" in result.stderr
    assert "did you mean 'u_sick'?" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_workbook_without_an_inputs_sheet_or_not_a_workbook_is_an_error(written, tmp_path):
    from openpyxl import load_workbook

    scenario, book = written
    wb = load_workbook(book)
    del wb["Inputs"]
    wb.save(tmp_path / "no_inputs.xlsx")
    (tmp_path / "text.xlsx").write_text("not a workbook")
    for path, fragment in (
        (tmp_path / "no_inputs.xlsx", "expected a sheet called 'Inputs'"),
        (tmp_path / "text.xlsx", "expected an .xlsx workbook (a zip archive)"),
        (tmp_path / "missing.xlsx", "file not found"),
    ):
        result = invoke("run", scenario, "--inputs", path, "--out", tmp_path / "out")
        assert result.exit_code == 3, result.output
        assert f"{path}" in result.stderr and fragment in result.stderr, result.stderr
        assert not (tmp_path / "out").exists()


BIA_PLAN = """
extends = "toy.toml"

[model]
name = "toy_plan"

[parameters.rate]
value = 10
source = "assumption"

[budget_impact]
perspective = "payer"
years = 2
members = 100_000
member_growth_per_year = 0.0
discount_rate = 0
categories = "all"
episodes_per_1000_members = { value = "rate", source = "assumption: test" }
mix_current = { a = 1.0 }
mix_new = { b = 1.0 }
"""


def test_bia_with_edited_inputs_equals_a_scenario_file_with_the_same_edits(written, tmp_path):
    scenario, _ = written
    plan = scenario.parent / "plan.toml"
    plan.write_text(BIA_PLAN, encoding="utf-8")
    first = invoke("bia", plan, "--out", tmp_path / "plain", "--quiet")
    assert first.exit_code == 0, first.stderr
    refs = edit_workbook(tmp_path / "plain" / "bia.xlsx", tmp_path / "edited.xlsx", {("rate", "Value"): 20.0})
    result = invoke("bia", plan, "--inputs", tmp_path / "edited.xlsx", "--out", tmp_path / "book")
    assert result.exit_code == 0, result.stderr
    assert f"rate: value 10 → 20 ({refs[('rate', 'Value')]})" in result.stdout
    plain = read_csv(tmp_path / "plain" / "budget_by_year.csv")
    doubled = read_csv(tmp_path / "book" / "budget_by_year.csv")
    assert plain != doubled  # twice the episodes: the edited rate was used
    as_file = scenario.parent / "plan_rate_20.toml"  # the same edit, written in the scenario file
    as_file.write_text(edit("[parameters.rate]\nvalue = 10", "[parameters.rate]\nvalue = 20", BIA_PLAN), encoding="utf-8")
    assert invoke("bia", as_file, "--out", tmp_path / "file", "--quiet").exit_code == 0
    assert doubled == read_csv(tmp_path / "file" / "budget_by_year.csv")
    manifest = json.loads((tmp_path / "book" / "manifest.json").read_text())
    assert [e["parameter"] for e in manifest["input_edits"]] == ["rate"]


# A plan whose prevalent patients run through a second model: the toy model again under another
# name, so that every parameter name exists in both models (an edit must stay in its own table).
CHRONIC_PLAN = (
    BIA_PLAN.replace('name = "toy_plan"', 'name = "toy_plan_chronic"')
    + """
leave_plan_per_year = { value = 0.2, source = "assumption: test" }

[budget_impact.prevalent]
scenario = "toy_chronic.toml"
description = "chronic patients"
per_1000_members = { value = 5, source = "assumption: test" }
onset_per_1000_members = { value = 1, source = "assumption: test" }
mix_current = { a = 1.0 }
mix_new = { b = 1.0 }
"""
)


def chronic_model(text: str = TOY) -> str:
    return edit('name = "toy_inputs"', 'name = "toy_chronic"', text)


def edit_table(source, target, title: str, changes: dict[tuple[str, str], object]) -> dict:
    """Copy ``source`` to ``target`` with cells of the Inputs table whose title starts with ``title`` changed.

    Returns ``{(parameter, column header): "Inputs!B7"}``, the cells changed.
    """
    from openpyxl import load_workbook

    book = load_workbook(source)
    sheet = book["Inputs"]
    [top] = [r for r in range(1, sheet.max_row + 1) if str(sheet.cell(r, 1).value or "").startswith(title)]
    header = {sheet.cell(top + 1, c).value: c for c in range(1, sheet.max_column + 1)}
    refs = {}
    for (label, column), value in changes.items():
        row = next(r for r in range(top + 2, sheet.max_row + 1) if sheet.cell(r, 1).value == label)
        sheet.cell(row, header[column]).value = value
        refs[(label, column)] = f"Inputs!{sheet.cell(row, header[column]).coordinate}"
    book.save(target)
    return refs


@pytest.fixture(scope="module")
def chronic_plan(written, tmp_path_factory):
    """The plan with prevalent patients, its bia.xlsx and the folder for variants of its files."""
    scenario, _ = written
    folder = tmp_path_factory.mktemp("chronic_plan")
    (folder / "toy.toml").write_text(TOY, encoding="utf-8")
    (folder / "toy_chronic.toml").write_text(chronic_model(), encoding="utf-8")
    plan = folder / "plan.toml"
    plan.write_text(CHRONIC_PLAN, encoding="utf-8")
    result = invoke("bia", plan, "--out", folder / "plain", "--quiet")
    assert result.exit_code == 0, result.stderr
    return plan, folder / "plain" / "bia.xlsx"


def test_the_bia_workbook_lists_the_parameters_and_prices_of_the_prevalent_patients_model(chronic_plan):
    from openpyxl import load_workbook

    from costspine.scenario.load import load_scenario

    _, book = chronic_plan
    sheet = load_workbook(book)["Inputs"]
    titles = [str(sheet.cell(r, 1).value) for r in range(4, sheet.max_row + 1) if sheet.cell(r + 1, 1).value == "Parameter"]
    assert [t.split(" — ")[0] for t in titles] == ["New episodes: toy_plan_chronic", "Prevalent patients: toy_chronic"]
    top = next(r for r in range(1, sheet.max_row + 1) if str(sheet.cell(r, 1).value).startswith("Prevalent patients"))
    header = [c.value for c in sheet[top + 1]]
    assert header[:6] == ["Parameter", "Value", "Distribution", "Arguments", "Unit", "Source"]
    listed = [sheet.cell(r, 1).value for r in range(top + 2, sheet.max_row + 1) if sheet.cell(r, 1).value]
    model = load_scenario(book.parent.parent / "toy_chronic.toml")
    declared = [n for spec in model.parameters for n in (spec.components or (spec.name,))]
    assert sorted(listed) == sorted(declared)  # every parameter of the model, nothing else
    prices = load_workbook(book)["Unit prices"]
    scenarios = {prices.cell(r, 1).value for r in range(6, prices.max_row + 1)} - {None}
    assert scenarios == {"all"}  # both models price mri_lumbar from the same [unit_costs] section


def test_a_chronic_model_edit_in_the_bia_workbook_equals_the_same_edit_in_its_scenario_file(chronic_plan, tmp_path):
    plan, book = chronic_plan
    refs = edit_table(book, tmp_path / "edited.xlsx", "Prevalent patients:", {("c_drug", "Value"): 200.0})
    result = invoke("bia", plan, "--inputs", tmp_path / "edited.xlsx", "--out", tmp_path / "book")
    assert result.exit_code == 0, result.stderr
    cell = refs[("c_drug", "Value")]
    assert f"toy_chronic.c_drug: value 120 → 200 ({cell})" in result.stdout
    as_file = plan.parent / "edited_chronic"  # the same edit written into the chronic model's file
    as_file.mkdir(exist_ok=True)
    (as_file / "toy.toml").write_text(TOY, encoding="utf-8")
    edited_model = edit("[parameters.c_drug]\nvalue = 120", "[parameters.c_drug]\nvalue = 200", chronic_model())
    (as_file / "toy_chronic.toml").write_text(edited_model, encoding="utf-8")
    (as_file / "plan.toml").write_text(CHRONIC_PLAN, encoding="utf-8")
    assert invoke("bia", as_file / "plan.toml", "--out", tmp_path / "file", "--quiet").exit_code == 0
    from_book = read_csv(tmp_path / "book" / "budget_by_year.csv")
    assert from_book == read_csv(tmp_path / "file" / "budget_by_year.csv")
    assert from_book != read_csv(book.parent / "budget_by_year.csv")  # the edit changed the budget
    manifest = json.loads((tmp_path / "book" / "manifest.json").read_text())
    assert [(e["parameter"], e["cell"]) for e in manifest["input_edits"]] == [("toy_chronic.c_drug", cell)]
    sha = hashlib.sha256((tmp_path / "edited.xlsx").read_bytes()).hexdigest()
    assert [str(tmp_path / "edited.xlsx"), sha] in [[i["path"], i["sha256"]] for i in manifest["inputs"]]


def test_a_name_both_models_declare_is_edited_in_the_table_it_was_changed_in(chronic_plan, tmp_path):
    plan, book = chronic_plan
    edit_table(book, tmp_path / "acute.xlsx", "New episodes:", {("c_drug", "Value"): 200.0})
    edit_table(book, tmp_path / "chronic.xlsx", "Prevalent patients:", {("c_drug", "Value"): 200.0})
    budgets = {}
    for name in ("acute", "chronic"):
        result = invoke("bia", plan, "--inputs", tmp_path / f"{name}.xlsx", "--out", tmp_path / name, "--quiet")
        assert result.exit_code == 0, result.stderr
        budgets[name] = read_csv(tmp_path / name / "budget_by_year.csv")
        edits = json.loads((tmp_path / name / "manifest.json").read_text())["input_edits"]
        assert [e["parameter"] for e in edits] == ["c_drug" if name == "acute" else "toy_chronic.c_drug"]
    # the acute edit, written into the plan file (the new episodes' model) and not into the chronic model
    as_file = plan.parent / "plan_acute_c_drug.toml"
    as_file.write_text(
        CHRONIC_PLAN + '\n[parameters.c_drug]\nvalue = 200\ndistribution = "gamma"\nmean = 120\nsd = 30\nsource = "edited"\n'
    )
    assert invoke("bia", as_file, "--out", tmp_path / "file", "--quiet").exit_code == 0
    assert budgets["acute"] == read_csv(tmp_path / "file" / "budget_by_year.csv")
    assert budgets["acute"] != budgets["chronic"]


def test_a_bad_cell_of_the_chronic_model_table_is_an_error_naming_it_and_nothing_is_written(chronic_plan, tmp_path):
    plan, book = chronic_plan
    refs = edit_table(
        book, tmp_path / "bad.xlsx", "Prevalent patients:", {("c_drug", "Value"): "lots", ("p_die", "Distribution"): "betta"}
    )
    result = invoke("bia", plan, "--inputs", tmp_path / "bad.xlsx", "--out", tmp_path / "out")
    assert result.exit_code == 3, result.output
    for (name, column), ref in refs.items():
        assert f"bad.xlsx: sheet Inputs cell {ref.split('!')[1]} (parameter {name}, {column}): expected " in result.stderr
    assert "found the text 'lots'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_comparison_bia_workbook_reads_back_each_plans_models(chronic_plan, tmp_path):
    plan, _ = chronic_plan
    other = plan.parent / "plan_simple.toml"  # no prevalent patients, a parameter of its own
    other.write_text(
        BIA_PLAN.replace("[budget_impact]", '[parameters.extra]\nvalue = 2\nsource = "assumption"\n\n[budget_impact]')
    )
    first = invoke("bia", plan, other, "--out", tmp_path / "plain", "--quiet")
    assert first.exit_code == 0, first.stderr
    unedited = invoke("bia", plan, other, "--inputs", tmp_path / "plain" / "bia.xlsx", "--out", tmp_path / "same")
    assert unedited.exit_code == 0, unedited.stderr
    assert unedited.stdout.count("no value differs from the scenario's") == 2
    refs = edit_table(
        tmp_path / "plain" / "bia.xlsx", tmp_path / "edited.xlsx", "Prevalent patients:", {("c_drug", "Value"): 200.0}
    )
    result = invoke("bia", plan, other, "--inputs", tmp_path / "edited.xlsx", "--out", tmp_path / "book")
    assert result.exit_code == 0, result.stderr
    assert f"toy_chronic.c_drug: value 120 → 200 ({refs[('c_drug', 'Value')]})" in result.stdout
    single = invoke("bia", plan, "--inputs", tmp_path / "edited.xlsx", "--out", tmp_path / "single", "--quiet")
    assert single.exit_code == 0, single.stderr
    assert read_csv(tmp_path / "book" / "toy_plan_chronic" / "budget_by_year.csv") == read_csv(
        tmp_path / "single" / "budget_by_year.csv"
    )


CHRONIC_POLICY = """
extends = "toy_chronic.toml"

[model]
name = "toy_chronic_cut"

[parameters.c_sick]
value = "c_drug + price_mri_lumbar"
source = "assumption: test policy (c_drug is the model's, inherited)"
"""


def test_an_edit_of_a_model_reaches_the_policy_that_inherits_it_as_a_file_edit_would(chronic_plan, tmp_path):
    plan, _ = chronic_plan
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "toy.toml").write_text(TOY, encoding="utf-8")
    (folder / "toy_chronic.toml").write_text(chronic_model(), encoding="utf-8")
    (folder / "toy_chronic_cut.toml").write_text(CHRONIC_POLICY, encoding="utf-8")
    with_policy = CHRONIC_PLAN + '\n[budget_impact.prevalent.policy]\nscenario = "toy_chronic_cut.toml"\nstart_year = 2\n'
    (folder / "plan.toml").write_text(with_policy, encoding="utf-8")
    assert invoke("bia", folder / "plan.toml", "--out", tmp_path / "plain", "--quiet").exit_code == 0
    refs = edit_table(
        tmp_path / "plain" / "bia.xlsx", tmp_path / "edited.xlsx", "Prevalent patients:", {("c_drug", "toy_chronic"): 200.0}
    )
    result = invoke("bia", folder / "plan.toml", "--inputs", tmp_path / "edited.xlsx", "--out", tmp_path / "book")
    assert result.exit_code == 0, result.stderr
    assert "also in the policy toy_chronic_cut, which inherits it" in " ".join(result.stdout.split())
    assert refs[("c_drug", "toy_chronic")] in result.stdout
    edited_model = edit("[parameters.c_drug]\nvalue = 120", "[parameters.c_drug]\nvalue = 200", chronic_model())
    (folder / "toy_chronic.toml").write_text(edited_model, encoding="utf-8")  # the same edit in the model's file
    assert invoke("bia", folder / "plan.toml", "--out", tmp_path / "file", "--quiet").exit_code == 0
    from_book = read_csv(tmp_path / "book" / "budget_by_year.csv")
    assert from_book == read_csv(tmp_path / "file" / "budget_by_year.csv")
    assert from_book != read_csv(tmp_path / "plain" / "budget_by_year.csv")


def test_an_edit_in_a_policy_column_applies_to_the_policy_as_a_file_edit_would(chronic_plan, tmp_path):
    """The policy's column beside its model's is read back too: a user trying a smaller cut edits
    the policy's value there, and the budget is that of the policy file with the same value."""
    plan, _ = chronic_plan
    policy = CHRONIC_POLICY + '\n[parameters.c_drug]\nvalue = 150\nsource = "assumption: test policy"\n'
    with_policy = CHRONIC_PLAN + '\n[budget_impact.prevalent.policy]\nscenario = "toy_chronic_cut.toml"\nstart_year = 2\n'
    folders = {}
    for name, c_drug in (("book", "150"), ("file", "130")):
        folder = folders[name] = tmp_path / f"files_{name}"
        folder.mkdir()
        (folder / "toy.toml").write_text(TOY, encoding="utf-8")
        (folder / "toy_chronic.toml").write_text(chronic_model(), encoding="utf-8")
        (folder / "toy_chronic_cut.toml").write_text(policy.replace("value = 150", f"value = {c_drug}"), encoding="utf-8")
        (folder / "plan.toml").write_text(with_policy, encoding="utf-8")
    assert invoke("bia", folders["book"] / "plan.toml", "--out", tmp_path / "plain", "--quiet").exit_code == 0
    refs = edit_table(
        tmp_path / "plain" / "bia.xlsx", tmp_path / "edited.xlsx", "Prevalent patients:", {("c_drug", "toy_chronic_cut"): 130.0}
    )
    result = invoke("bia", folders["book"] / "plan.toml", "--inputs", tmp_path / "edited.xlsx", "--out", tmp_path / "book")
    assert result.exit_code == 0, result.stderr
    assert f"toy_chronic_cut.c_drug: value 150 → 130 ({refs[('c_drug', 'toy_chronic_cut')]})" in result.stdout
    assert invoke("bia", folders["file"] / "plan.toml", "--out", tmp_path / "file", "--quiet").exit_code == 0
    from_book = read_csv(tmp_path / "book" / "budget_by_year.csv")
    assert from_book == read_csv(tmp_path / "file" / "budget_by_year.csv")
    assert from_book != read_csv(tmp_path / "plain" / "budget_by_year.csv")  # the edit changed the budget
    edits = json.loads((tmp_path / "book" / "manifest.json").read_text())["input_edits"]
    assert [e["parameter"] for e in edits] == ["toy_chronic_cut.c_drug"]
