"""Workbook description (costspine.reports.workbook) and the .xlsx writer (costspine.reports.excel).

The written file is re-loaded with openpyxl and checked cell by cell; where LibreOffice is
installed, it is also converted to PDF headless, which fails on a file a spreadsheet cannot open.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

from costspine.errors import UsageError  # noqa: E402
from costspine.reports.excel import write_workbook  # noqa: E402
from costspine.reports.workbook import Chart, Column, Sheet, Table, Workbook  # noqa: E402

INJECTIONS = ("=1+1", "+cmd", "-2+3", "@SUM(A1)")
STRATEGIES = ("Usual care", "Physiotherapy", "Spinal fusion")
CATEGORIES = ("Drugs", "Visits", "Imaging")


def make_workbook(currency: str = "USD") -> Workbook:
    headline = Table(
        "headline",
        (
            Column("strategy"),
            Column("Cost", "currency"),
            Column("QALYs", "number", decimals=3),
            Column("ICER", "currency"),
            Column("P(cost-effective)", "probability"),
        ),
        [
            ("Usual care", 10234.5, 6.812, None, 0.21),
            ("Physiotherapy", 11020.1, 6.95, 5692.75, 0.55),
            ("Spinal fusion", 31500.0, 7.01, "dominated", 0.24),
        ],
        title="Base case per patient",
    )
    params = Table(
        "parameters",
        (Column("parameter"), Column("value", "number", decimals=4), Column("distribution"), Column("source")),
        [
            ("p_recover", 0.32, "beta(mean=0.32, sd=0.05)", INJECTIONS[0]),
            ("c_fusion", 18000.0, "gamma(mean=18000, sd=3000)", INJECTIONS[1]),
            ("u_chronic", 0.62, "beta", INJECTIONS[2]),
            ("hr_surgery", 0.8, "lognormal", INJECTIONS[3]),
        ],
    )
    prices = Table(
        "unit_prices",
        (
            Column("item"),
            Column("unit price", "currency", decimals=2),
            Column("price year", "year"),
            Column("payer multiplier", "number"),
        ),
        [("GP visit", 42.5, 2024, 1.0), ("MRI", 395.0, 2023, 1.12)],
    )
    costs = Table(
        "costs_by_category",
        (Column("strategy"), *(Column(c, "currency") for c in CATEGORIES)),
        [(s, 100.0 * (k + 1), 200.0, 50.0 * k) for k, s in enumerate(STRATEGIES)],
    )
    odi = Table(
        "odi",
        (Column("year", "number", decimals=1), *(Column(s, "number", decimals=1) for s in STRATEGIES)),
        [(t / 2, 45 - t, 45 - 1.5 * t, 45 - 2 * t) for t in range(11)],
    )
    draws = Table(
        "ce_draws",
        (
            Column("draw", "int"),
            Column("dQALY physio", "number"),
            Column("dCost physio", "currency"),
            Column("dQALY fusion", "number"),
            Column("dCost fusion", "currency"),
        ),
        [(i, 0.1 + 0.001 * i, 800.0 - i, 0.05 - 0.001 * i, 20000.0 + 10 * i) for i in range(50)],
    )
    ceac = Table(
        "ceac",
        (Column("WTP", "currency"), *(Column(s, "probability") for s in STRATEGIES)),
        [(w * 10000.0, 0.5 - 0.05 * w, 0.3 + 0.05 * w, 0.2) for w in range(6)],
    )
    tornado = Table(
        "tornado",
        (Column("parameter"), Column("low", "currency"), Column("high", "currency")),
        [("Fusion cost", 2000.0, 9000.0), ("Utility", 3000.0, 8000.0)],
    )
    budget = Table(
        "budget",
        (Column("year", "year"), Column("Current mix", "currency"), Column("New mix", "currency"), Column("Share", "percent")),
        [(2026 + k, 1e6 + k, 1.1e6 + k, 0.1 * k) for k in range(3)],
    )
    return Workbook(
        title="Spine base case",
        description="Three strategies. " + INJECTIONS[0],
        currency=currency,
        reading=["Physiotherapy is cost-effective.", INJECTIONS[1]],
        headline=headline,
        inputs=params,
        unit_prices=prices,
        sheets=[
            Sheet(
                "Costs",
                (costs,),
                (
                    Chart(
                        "stacked_bar", "Cost by category", "costs_by_category", "strategy", CATEGORIES, "Strategy", "Cost (USD)"
                    ),
                ),
                notes=["Discounted.", INJECTIONS[2]],
            ),
            Sheet("ODI", (odi,), (Chart("line", "ODI over time", "odi", "year", STRATEGIES, "Years", "ODI"),)),
            Sheet(
                "PSA",
                (draws, ceac),
                (
                    Chart(
                        "scatter",
                        "CE plane",
                        "ce_draws",
                        ("dQALY physio", "dQALY fusion"),
                        ("dCost physio", "dCost fusion"),
                        "Incremental QALYs",
                        "Incremental cost",
                        max_points=20,
                    ),
                    Chart("line", "CEAC", "ceac", "WTP", STRATEGIES, "WTP", "Probability"),
                ),
            ),
            Sheet(
                "Tornado",
                (tornado,),
                (Chart("tornado", "Tornado", "tornado", "parameter", ("low", "high"), "Parameter", "ICER", base=5000.0),),
            ),
            Sheet(
                "Budget",
                (budget,),
                (Chart("bar", "Budget by year", "budget", "year", ("Current mix", "New mix"), "Year", "Budget"),),
            ),
        ],
        about={
            "costspine version": "0.1.0",
            "command line": "costspine run x.toml",
            "seed": "20260101",
            "date": "2026-01-01",
            "injection": INJECTIONS[3],
        },
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    return write_workbook(make_workbook(), tmp_path_factory.mktemp("xlsx") / "run.xlsx")


@pytest.fixture(scope="module")
def loaded(written):
    return openpyxl.load_workbook(written)


def _table_ranges(ws) -> dict[str, str]:
    return {t.displayName: t.ref for t in ws.tables.values()}


def _find(ws, value):
    """Every cell holding exactly ``value``."""
    return [c for row in ws.iter_rows() for c in row if c.value == value]


# ------------------------------------------------------------------------------------ structure


def test_sheet_order_summary_first_about_last(loaded):
    assert loaded.sheetnames == ["Summary", "Inputs", "Unit prices", "Costs", "ODI", "PSA", "Tornado", "Budget", "About"]
    assert loaded.active.title == "Summary"
    assert make_workbook().sheet_names == tuple(loaded.sheetnames)


def test_inputs_sheet_is_left_out_when_there_are_no_inputs(tmp_path):
    book = make_workbook()
    bare = Workbook(
        book.title, book.description, book.currency, book.reading, book.headline, None, None, book.sheets[:1], book.about
    )
    wb = openpyxl.load_workbook(write_workbook(bare, tmp_path / "bare.xlsx"))
    assert wb.sheetnames == ["Summary", "Costs", "About"]


def test_headline_values_equal_what_was_passed(loaded):
    ws = loaded["Summary"]
    ref = _table_ranges(ws)["headline"]
    rows = [[c.value for c in row] for row in ws[ref]]
    book = make_workbook()
    assert rows[0] == list(book.headline.column_names)
    assert [tuple(r) for r in rows[1:]] == list(book.headline.rows)
    assert ws["A1"].value == "Spine base case"


def test_named_tables_exist_with_the_right_refs(loaded):
    assert _table_ranges(loaded["Summary"]) == {"headline": "A10:E13"}
    assert _table_ranges(loaded["Inputs"]) == {"parameters": "A6:D10"}  # unit prices on a sheet of their own (printable)
    assert _table_ranges(loaded["Unit prices"]) == {"unit_prices": "A5:D7"}
    assert _table_ranges(loaded["Costs"]) == {"costs_by_category": "A6:D9"}
    assert _table_ranges(loaded["ODI"]) == {"odi": "A4:D15"}
    assert _table_ranges(loaded["PSA"]) == {"ce_draws": "A4:E54", "ceac": "G4:J10"}
    assert _table_ranges(loaded["About"]) == {"about": "A5:B10"}


def test_every_table_is_styled_and_its_columns_match_the_header_cells(loaded):
    for ws in loaded:
        for table in ws.tables.values():
            assert table.tableStyleInfo is not None and table.tableStyleInfo.name.startswith("TableStyle")
            header = [c.value for c in ws[table.ref][0]]
            assert [col.name for col in table.tableColumns] == header
            assert table.autoFilter is not None and table.autoFilter.ref == table.ref


def test_header_rows_are_frozen(loaded):
    assert loaded["Summary"].freeze_panes is None
    assert loaded["Inputs"].freeze_panes == "A7"
    assert loaded["Unit prices"].freeze_panes == "A6"
    assert loaded["Costs"].freeze_panes == "A7"
    assert loaded["PSA"].freeze_panes == "A5"
    assert loaded["About"].freeze_panes == "A6"


def test_column_widths_are_set(loaded):
    ws = loaded["Inputs"]
    assert ws.column_dimensions["C"].width >= len("gamma(mean=18000, sd=3000)")
    assert all(ws.column_dimensions[letter].width <= 60 for letter in "ABCD")


# ------------------------------------------------------------------------------------ charts


def _charts(ws):
    return list(ws._charts)


def test_charts_sit_on_the_right_sheets_with_the_right_series(loaded):
    kinds = {ws.title: [(type(c).__name__, len(c.series)) for c in _charts(ws)] for ws in loaded}
    assert kinds == {
        "Summary": [],
        "Inputs": [],
        "Unit prices": [],
        "About": [],
        "Costs": [("BarChart", 3)],
        "ODI": [("LineChart", 3)],
        "PSA": [("ScatterChart", 2), ("LineChart", 3)],
        "Tornado": [("BarChart", 2)],
        "Budget": [("BarChart", 2)],
    }


def test_stacked_bar_is_stacked_with_full_overlap(loaded):
    chart = _charts(loaded["Costs"])[0]
    assert (chart.grouping, chart.overlap, chart.type) == ("stacked", 100, "col")
    first = chart.series[0]
    assert first.val.numRef.f == "'Costs'!$B$7:$B$9"
    assert (first.cat.numRef or first.cat.strRef).f == "'Costs'!$A$7:$A$9"
    assert first.tx.strRef.f.replace("$", "") == "'Costs'!B6"  # series name from the header cell


def test_tornado_is_horizontal_with_two_overlapping_series_from_the_base(loaded):
    chart = _charts(loaded["Tornado"])[0]
    assert (chart.type, chart.overlap, len(chart.series)) == ("bar", 100, 2)
    assert chart.x_axis.crossesAt == 5000.0
    assert chart.x_axis.scaling.orientation == "maxMin"


def test_scatter_is_markers_only_and_capped(loaded):
    chart = _charts(loaded["PSA"])[0]
    assert chart.scatterStyle == "marker"
    for series in chart.series:
        assert series.spPr.ln.noFill is True
        assert series.marker.symbol == "circle"
        assert series.yVal.numRef.f.endswith("$24")  # header row 4, 20 points
    assert chart.series[1].xVal.numRef.f == "'PSA'!$D$5:$D$24"


def test_chart_axes_are_visible_and_titled(loaded):
    for ws in loaded:
        for chart in _charts(ws):
            assert chart.x_axis.delete is False and chart.y_axis.delete is False
            assert chart.x_axis.title is not None and chart.y_axis.title is not None


def test_ceac_axis_runs_from_zero_to_one(loaded):
    chart = _charts(loaded["PSA"])[1]
    assert (chart.y_axis.scaling.min, chart.y_axis.scaling.max) == (0, 1)


# ------------------------------------------------------------------------------------ formats


def test_number_formats_follow_column_kinds(loaded):
    summary = loaded["Summary"]
    assert summary["B11"].number_format == '"$"#,##0'
    assert summary["C11"].number_format == "#,##0.000"
    assert summary["E11"].number_format == "0.000"
    inputs = loaded["Inputs"]
    assert inputs["B7"].number_format == "#,##0.0000"
    prices = loaded["Unit prices"]
    assert prices["B6"].number_format == '"$"#,##0.00'
    assert prices["C6"].number_format == "0" and prices["C6"].value == 2024
    assert prices["D6"].number_format == "#,##0.00"
    budget = loaded["Budget"]
    assert budget["D6"].number_format == "0.0%"
    assert loaded["PSA"]["A5"].number_format == "#,##0"


@pytest.mark.parametrize("currency, expected", [("GBP", '"£"#,##0'), ("EUR", '"€"#,##0'), ("CHF", '"CHF "#,##0')])
def test_currency_format_uses_the_report_currency(tmp_path, currency, expected):
    wb = openpyxl.load_workbook(write_workbook(make_workbook(currency), tmp_path / "c.xlsx"))
    assert wb["Summary"]["B11"].number_format == expected
    assert Column("x", "currency", decimals=2).number_format(currency) == expected.replace("#,##0", "#,##0.00")


def test_non_finite_values_do_not_reach_the_file(tmp_path):
    table = Table(
        "odd",
        (Column("label"), Column("value", "number")),
        [("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf), ("none", None)],
    )
    book = make_workbook()
    book = Workbook(book.title, "", "USD", [], table, sheets=[], about={})
    ws = openpyxl.load_workbook(write_workbook(book, tmp_path / "odd.xlsx"))["Summary"]
    values = [row[1].value for row in ws[_table_ranges(ws)["odd"]]][1:]
    assert values == [None, "∞", "-∞", None]


def test_an_empty_table_keeps_one_blank_data_row(tmp_path):
    # Excel repairs a table whose range is its header alone.
    empty = Table("empty", (Column("a"), Column("b", "number")), [])
    ws = openpyxl.load_workbook(write_workbook(Workbook("t", "", "USD", [], empty), tmp_path / "e.xlsx"))["Summary"]
    ref = _table_ranges(ws)["empty"]
    assert ref.endswith(str(int(ref.split(":")[0][1:]) + 1))
    assert [c.value for c in ws[ref][1]] == [None, None]


def test_styles_of_long_columns_are_shared_correctly(tmp_path):
    # Cells after the first copy its style: a quote prefix must follow each cell's own text.
    rows = [("=x" if i % 3 == 0 else f"row {i}", float(i)) for i in range(30)]
    table = Table("many", (Column("label"), Column("value", "currency", decimals=2)), rows)
    ws = openpyxl.load_workbook(write_workbook(Workbook("t", "", "GBP", [], table), tmp_path / "m.xlsx"))["Summary"]
    body = ws[_table_ranges(ws)["many"]][1:]
    assert [c.quotePrefix for c, _ in body] == [i % 3 == 0 for i in range(30)]
    assert {v.number_format for _, v in body} == {'"£"#,##0.00'}
    assert [v.value for _, v in body] == [float(i) for i in range(30)]


# ------------------------------------------------------------------------------------ injection


@pytest.mark.parametrize("text", INJECTIONS)
def test_formula_like_text_is_stored_as_text(loaded, text):
    cells = [c for ws in loaded for c in _find(ws, text)]
    assert cells, f"{text!r} not found in the workbook"
    for cell in cells:
        assert cell.data_type == "s"
        assert cell.value == text
        assert cell.quotePrefix is True


def test_prose_with_formula_like_text_stays_text(loaded):
    ws = loaded["Summary"]
    assert _find(ws, "Three strategies. =1+1")[0].data_type == "s"
    assert _find(ws, "•  +cmd")[0].data_type == "s"
    assert _find(loaded["Costs"], "-2+3")[0].data_type == "s"


def test_no_formula_anywhere_in_the_file(written):
    with zipfile.ZipFile(written) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            xml = archive.read(name).decode("utf-8")
            assert "<f>" not in xml and "<f " not in xml, name
            assert "NaN" not in xml and ">nan<" not in xml and ">inf<" not in xml


# ------------------------------------------------------------------------------------ writing


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "out" / "run.xlsx"
    write_workbook(make_workbook(), target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["run.xlsx"]
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "run.xlsx"
    write_workbook(make_workbook(), target)
    before = target.read_bytes()

    def refuse(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_workbook(make_workbook("GBP"), target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.xlsx"]


def test_path_must_end_in_xlsx(tmp_path):
    with pytest.raises(UsageError, match=r"\.xlsx"):
        write_workbook(make_workbook(), tmp_path / "run.xls")


def test_modules_do_not_import_openpyxl_on_import():
    code = (
        "import sys, costspine.reports.workbook, costspine.reports.excel; "
        "assert 'openpyxl' not in sys.modules, 'openpyxl imported at import time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------ validation

TWO_COLUMNS = (Column("a"), Column("b", "number"))


def _table(name="t", columns=TWO_COLUMNS, rows=(("x", 1.0),)):
    return Table(name, columns, rows)


@pytest.mark.parametrize(
    "name, message",
    [
        ("A" * 32, "at most 31"),
        ("Costs/QALYs", "forbids"),
        ("a[1]", "forbids"),
        ("what?", "forbids"),
        ("'quoted'", "apostrophe"),
        ("", "non-empty"),
    ],
)
def test_bad_sheet_names_are_refused(name, message):
    with pytest.raises(UsageError, match=message):
        Sheet(name, (_table(),))


@pytest.mark.parametrize("name", ["Summary", "about", "INPUTS"])
def test_reserved_sheet_names_are_refused(name):
    book = make_workbook()
    with pytest.raises(UsageError, match="reserved"):
        Workbook(book.title, "", "USD", [], book.headline, sheets=[Sheet(name, (_table(),))])


@pytest.mark.parametrize("name", ["A1", "xfd100", "R1C1", "R", "c", "1costs", "costs by category", "cost-table", ""])
def test_bad_table_names_are_refused(name):
    with pytest.raises(UsageError, match="table name"):
        _table(name)


def test_table_names_are_unique_in_the_workbook_ignoring_case():
    book = make_workbook()
    with pytest.raises(UsageError, match="already used"):
        Workbook(book.title, "", "USD", [], book.headline, sheets=[Sheet("X", (_table("Headline"),))])
    with pytest.raises(UsageError, match="already used"):
        Workbook(book.title, "", "USD", [], book.headline, sheets=[Sheet("X", (_table("About"),))])


def test_sheet_names_are_unique_ignoring_case():
    book = make_workbook()
    with pytest.raises(UsageError, match="two sheets"):
        Workbook(
            book.title, "", "USD", [], book.headline, sheets=[Sheet("Costs", (_table("a"),)), Sheet("COSTS", (_table("b"),))]
        )


def test_table_contents_are_checked_cell_by_cell():
    with pytest.raises(UsageError, match="same name"):
        _table(columns=(Column("Cost"), Column("cost")), rows=())
    with pytest.raises(UsageError, match=r"row 0: expected 2 values"):
        _table(rows=(("x",),))
    with pytest.raises(UsageError, match=r"row 1 column 'a'.*text column"):
        _table(rows=(("x", 1.0), (3, 2.0)))
    with pytest.raises(UsageError, match="control character"):
        _table(rows=(("bad\x07bell", 1.0),))
    with pytest.raises(UsageError, match="kind must be one of"):
        Column("x", "money")


def test_charts_are_checked_against_their_table():
    table = _table()
    with pytest.raises(UsageError, match="no column 'c'"):
        Sheet("S", (table,), (Chart("bar", "c", "t", "a", ("c",)),))
    with pytest.raises(UsageError, match="no table 'other'"):
        Sheet("S", (table,), (Chart("bar", "c", "other", "a", ("b",)),))
    with pytest.raises(UsageError, match="is text"):
        Sheet("S", (table,), (Chart("bar", "c", "t", "b", ("a",)),))
    with pytest.raises(UsageError, match="exactly two"):
        Chart("tornado", "c", "t", "a", ("b",))
    with pytest.raises(UsageError, match="tuple of column names"):
        Chart("bar", "c", "t", "a", "b")
    with pytest.raises(UsageError, match="no rows"):
        Sheet("S", (_table(rows=()),), (Chart("bar", "c", "t", "a", ("b",)),))


def test_numpy_scalars_become_plain_numbers():
    np = pytest.importorskip("numpy")
    table = _table(columns=(Column("a", "int"), Column("b", "number")), rows=[(np.int64(3), np.float32(0.5))])
    assert table.rows == ((3, 0.5),)
    assert type(table.rows[0][0]) is int and type(table.rows[0][1]) is float


def test_currency_must_be_an_iso_code():
    book = make_workbook()
    with pytest.raises(UsageError, match="ISO 4217"):
        Workbook(book.title, "", "$", [], book.headline)


# ------------------------------------------------------------------------------------ LibreOffice


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice (soffice) is not installed: apt-get install -y --no-install-recommends libreoffice-calc-nogui",
)
def test_libreoffice_converts_the_workbook_to_pdf(written, tmp_path):
    profile = (tmp_path / "lo-profile").as_uri()  # private profile: runs beside any other soffice
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(written),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    pdf = tmp_path / "run.pdf"
    assert result.returncode == 0, result.stderr
    assert pdf.exists(), f"no PDF written; stdout={result.stdout!r} stderr={result.stderr!r}"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 20_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "Spine base case" in text and "About this workbook" in text


# ------------------------------------------------------------------------------------ chart layout


def _one_chart_book(n_series: int, *, kind: str = "stacked_bar", rows: int = 3):
    from costspine.reports.excel import build_workbook

    names = [f"category number {k}" for k in range(n_series)]
    table = Table(
        "costs",
        (Column("Strategy"), *(Column(n, "currency") for n in names)),
        [(f"strategy {i} with a long label", *(float(10 * i + k) for k in range(n_series))) for i in range(rows)],
    )
    chart = Chart(kind, "Costs", "costs", "Strategy", tuple(names), x_title="Strategy", y_title="Cost (USD)")
    book = Workbook("t", "", "USD", (), table.renamed("headline"), None, None, (Sheet("Costs", (table,), (chart,)),), {})
    ws = build_workbook(book)["Costs"]
    return ws, ws._charts[0]


def test_a_chart_with_many_series_is_wider_and_taller_with_its_legend_at_the_right():
    _, few = _one_chart_book(2)
    _, many = _one_chart_book(8)
    assert few.legend.position == "b" and (few.width, few.height) == (17.0, 8.5)
    assert many.legend.position == "r" and many.width > few.width and many.height >= 2.5 + 0.75 * 8
    layout = many.plot_area.layout.manualLayout  # the plot keeps the chart's width but the legend's
    assert layout.w == pytest.approx(16.0 / many.width) and layout.h > 0.5


def test_a_one_series_chart_has_no_legend_and_horizontal_bars_grow_with_their_rows():
    _, single = _one_chart_book(1, kind="bar")
    assert single.legend is None
    _, short = _one_chart_book(2, kind="hbar", rows=3)
    _, tall = _one_chart_book(2, kind="hbar", rows=30)
    assert (short.type, tall.type) == ("bar", "bar")
    assert tall.height > short.height and tall.x_axis.scaling.orientation == "maxMin"


def test_charts_sit_under_short_tables_and_beside_long_ones():
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    def anchor(chart):  # the cell a chart was added at (before saving, its anchor is that cell's name)
        letter, row = coordinate_from_string(chart.anchor)
        return column_index_from_string(letter), row

    ws, chart = _one_chart_book(3, rows=3)
    header_row = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Strategy")
    assert anchor(chart) == (1, header_row + 3 + 3)  # under the table's last row, after two blank rows
    ws, chart = _one_chart_book(3, rows=60)
    assert anchor(chart) == (4 + 2, header_row + 1)  # beside it (one blank column), below the header row


def test_every_sheet_prints_landscape_fitted_to_the_width_with_its_header_repeated(loaded):
    for ws in loaded:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1, ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        if ws.title != "Summary":
            assert ws.print_title_rows, ws.title


def test_rows_with_wrapped_text_are_tall_enough_for_every_line(tmp_path):
    from costspine.reports.excel import build_workbook

    long = "word " * 60  # ~300 characters: wraps over several lines at the widest column (60)
    table = Table("notes", (Column("Parameter"), Column("Source")), [("a", long), ("b", "short")])
    book = Workbook("t", "", "USD", (), table.renamed("headline"), None, None, (Sheet("Notes", (table,)),), {})
    ws = build_workbook(book)["Notes"]
    header_row = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Parameter")
    assert ws.row_dimensions[header_row + 1].height >= 15 * 5
    assert ws.row_dimensions[header_row + 2].height is None  # one line: the default height
