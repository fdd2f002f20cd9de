"""costspine.scenario.workbook_inputs: reading the Inputs and Unit prices sheets of a written workbook
(single-scenario and comparison layouts), and refusing files that are not workbooks."""

from __future__ import annotations

import io
import zipfile

import pytest

pytest.importorskip("openpyxl")

from costspine.errors import ScenarioError  # noqa: E402
from costspine.scenario import workbook_inputs  # noqa: E402
from costspine.scenario.workbook_inputs import _parse_arguments, read_inputs_sheet  # noqa: E402
from costspine.scenario.workbook_models import models_of  # noqa: E402


def book_bytes(inputs_rows, price_rows=None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Inputs"
    for row in inputs_rows:
        book.active.append(row)
    if price_rows is not None:
        sheet = book.create_sheet("Unit prices")
        for row in price_rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_single_scenario_workbook_reads_every_parameter_and_price_with_its_cell():
    data = book_bytes(
        [
            ["Inputs"],
            [],
            ["Parameter", "Value", "Distribution", "Arguments", "Source"],
            ["p", 0.3, "beta", "alpha=3, beta=7", "x"],
        ],
        [["Item", "Parameter", "Code", "Unit price"], ["mri", "price_mri", "72148", 188.26]],
    )
    params, prices = read_inputs_sheet(data, where="book.xlsx")
    assert [(r.name, r.value.ref, r.value.value, r.distribution.value, r.arguments.ref) for r in params] == [
        ("p", "B4", 0.3, "beta", "D4")
    ]
    assert [(r.item, r.parameter, r.price.ref, r.price.value) for r in prices] == [("mri", "price_mri", "D2", 188.26)]


def test_a_comparison_workbook_reads_the_scenarios_own_value_column_and_prices():
    header = ["Parameter", "base", "cut", "Differs", "Distribution", "Arguments", "Source"]
    data = book_bytes(
        [header, ["fee", 100.0, 50.0, "yes", "fixed", None, "x"]],
        [
            ["Scenarios", "Item", "Parameter", "Unit price"],
            ["base", "mri", "price_mri", 188.0],
            ["cut", "mri", "price_mri", 94.0],
            ["all", "xray", "price_xray", 38.0],
        ],
    )
    params, prices = read_inputs_sheet(data, where="book.xlsx", value_column="cut")
    assert [(r.name, r.value.value) for r in params] == [("fee", 50.0)]
    assert [(r.parameter, r.price.value) for r in prices] == [("price_mri", 94.0), ("price_xray", 38.0)]
    with pytest.raises(ScenarioError, match="expected a value column headed 'Value' .*'other'.*found 'base', 'cut'"):
        read_inputs_sheet(data, where="book.xlsx", value_column="other")


def test_a_comparison_table_skips_parameters_the_scenario_lacks_and_distributions_of_another_scenario():
    header = ["Parameter", "base", "cut", "Differs", "Distribution", "Arguments", "Unit", "Source"]
    data = book_bytes(
        [
            header,
            ["only_base", 1.0, None, "yes", "gamma", "shape=2, scale=0.5", None, "x"],
            ["price", 100.0, 50.0, "yes", "derived", "price_base * 1.5", "USD", "x"],  # the distribution is base's
            ["only_cut", None, 3.0, "yes", "fixed", None, None, "x"],
        ]
    )
    base, _ = read_inputs_sheet(data, where="book.xlsx", value_column="base")
    cut, _ = read_inputs_sheet(data, where="book.xlsx", value_column="cut")
    assert [(r.name, r.value.value, r.describes) for r in base] == [("only_base", 1.0, True), ("price", 100.0, True)]
    assert [(r.name, r.value.value, r.describes) for r in cut] == [("price", 50.0, False), ("only_cut", 3.0, True)]


def test_a_bia_workbook_splits_its_inputs_into_one_table_per_model_by_title():
    header = ["Parameter", "Value", "Distribution", "Arguments", "Unit", "Source"]
    rows = [
        ["Inputs"],
        [],
        ["New episodes: plan — parameters"],
        header,
        ["fee", 100.0, "fixed", None, "USD", "x"],
        [],
        [],
        ["Prevalent patients: chronic, chronic_b — parameters"],
        header,
        ["fee", 80.0, "fixed", None, "USD", "y"],
        ["rate", 0.2, "fixed", None, None, "y"],
    ]
    data = book_bytes(rows)
    params, _ = read_inputs_sheet(data, where="book.xlsx")
    assert [(r.name, r.value.ref, r.value.value) for r in params] == [("fee", "B5", 100.0)]  # the first table only
    rows_, _ = workbook_inputs._read_sheets(data, where="book.xlsx")
    tables = workbook_inputs._split_tables(rows_)
    assert [title for title, _ in tables] == [
        "New episodes: plan — parameters",
        "Prevalent patients: chronic, chronic_b — parameters",
    ]
    assert [models_of(title) for title, _ in tables] == [[], ["chronic", "chronic_b"]]
    second = workbook_inputs._parse_parameters(tables[1][1], where="book.xlsx", value_column="chronic")
    assert [(r.name, r.value.ref, r.value.value) for r in second] == [("fee", "B10", 80.0), ("rate", "B11", 0.2)]


def test_files_that_are_not_costspine_workbooks_are_refused(monkeypatch):
    with pytest.raises(ScenarioError, match=r"book.xlsx: expected an .xlsx workbook \(a zip archive\)"):
        read_inputs_sheet(b"plain text", where="book.xlsx")
    with pytest.raises(ScenarioError, match="book.xlsx: sheet Inputs: expected a table headed Parameter, Value"):
        read_inputs_sheet(book_bytes([["nothing here"]]), where="book.xlsx")
    monkeypatch.setattr(workbook_inputs, "MAX_UNPACKED_BYTES", 10_000)  # a decompression bomb, scaled down
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.xml", b"0" * 10_001)
    with pytest.raises(ScenarioError, match="unpacks to 10,001 bytes; at most 10,000"):
        read_inputs_sheet(bomb.getvalue(), where="book.xlsx")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("shape=100, scale=0.8895", ({"shape": 100.0, "scale": 0.8895}, None)),
        (" mean = 0.3 ,sd=0.05 ", ({"mean": 0.3, "sd": 0.05}, None)),
        ("", ({}, None)),
        ("mean 0.3", ({}, "key=number pairs separated by commas (e.g. 'mean=0.3, sd=0.05'); 'mean 0.3' is not one")),
        ("mean=0,3", ({}, "key=number pairs separated by commas (e.g. 'mean=0.3, sd=0.05'); '3' is not one")),
        ("sd=inf", ({}, "a finite number after sd=")),
    ],
)
def test_arguments_are_key_number_pairs(text, expected):
    assert _parse_arguments(text) == expected


def test_an_older_workbook_with_prices_beside_the_parameters_is_refused_not_half_read():
    header = ["Parameter", "Value", "Distribution", "Arguments", "Source", None, "Item", "Parameter", "Unit price"]
    data = book_bytes([header, ["p", 0.3, "fixed", None, "x", None, "mri", "price_mri", 200.0]])
    with pytest.raises(ScenarioError, match="expected unit prices on a sheet of their own, 'Unit prices'; found them beside"):
        read_inputs_sheet(data, where="book.xlsx")
