"""FormulaSheet cells: only formula/result cells hold formulas; inputs hold numbers; the writer keeps both as given."""

from __future__ import annotations

import pytest

from costspine.errors import UsageError
from costspine.reports.excel import write_workbook
from costspine.reports.workbook import Cell, Column, FormulaSheet, Table, Workbook, cell_reference


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (dict(value="=A1*2", role="input", kind="number"), "holds a finite number"),
        (dict(value="A1*2", role="formula", kind="number"), "starting with '='"),
        (dict(value=float("nan"), role="model", kind="currency"), "finite number"),
        (dict(value=1.0, role="shiny"), "role must be one of"),
    ],
)
def test_bad_cells_are_refused(cell, message):
    with pytest.raises(UsageError, match=message):
        Cell(1, 1, **cell)


def test_two_cells_at_one_place_are_refused():
    with pytest.raises(UsageError, match="two cells at B2"):
        FormulaSheet("Calc", (Cell(2, 2, 1.0, "input", "number"), Cell(2, 2, "x")))


def test_formulas_are_written_as_formulas_and_text_as_text(tmp_path):
    from openpyxl import load_workbook

    sheet = FormulaSheet(
        "Calc",
        (
            Cell(1, 1, "=not a formula"),  # text from a label stays text
            Cell(2, 1, 1000.0, "input", "int"),
            Cell(2, 2, f"={cell_reference(2, 1)}*12", "result", "currency"),
        ),
        {1: 30},
    )
    headline = Table("headline", (Column("a", "number"),), [(1.0,)])
    path = write_workbook(Workbook("t", "", "USD", [], headline, sheets=[sheet]), tmp_path / "book.xlsx")
    ws = load_workbook(path)["Calc"]
    assert ws["A1"].data_type == "s" and ws["A1"].value == "=not a formula"
    assert ws["A2"].value == 1000 and ws["A2"].fill.fgColor.rgb.endswith("FFF2CC")
    assert ws["B2"].value == "=A2*12"
