"""Write a :class:`~costspine.reports.workbook.Workbook` as an ``.xlsx`` file (the ONLY importer of openpyxl).

openpyxl is imported inside the functions, so importing this module stays cheap; the CLI imports
it only when a workbook is written.

What a reader gets
------------------
* **Summary** first: title, description, the plain-language reading, the headline table.
* **Inputs** (when the workbook has parameters or unit prices), then one sheet per result
  :class:`~costspine.reports.workbook.Sheet`, then **About** (provenance key/value table).
* Every table is a named, styled Excel table (filter buttons work), with a frozen header row,
  fitted column widths and a number format per column kind (currency in the report currency).
* Charts are native Excel charts reading the cells (no pictures, no formulas), sized for their
  series and categories, legend at the right when there are many series; under the sheet's
  tables when those are short (side by side as far as the tables reach, so a printed page holds
  both), else to their right.
* Every sheet prints landscape, fitted to the page width, with its header row repeated.
* Every piece of text is stored as a string cell, never a formula: text from a scenario file that
  starts with ``=``, ``+``, ``-`` or ``@`` stays text (and carries Excel's quote prefix, so editing
  the cell does not turn it into a formula either). The one exception is a
  :class:`~costspine.reports.workbook.FormulaSheet` (the budget calculator of ``bia.xlsx``): its
  ``formula``/``result`` cells hold live formulas built by the report, never text from a file;
  its ``input`` cells (pale yellow) are meant to be changed, ``model`` cells (pale blue) come from
  the model run and may be changed, ``fixed`` cells (grey) come from the model run.
* The file is written to a temporary file in the same folder and renamed into place.
"""

from __future__ import annotations

import io
import math
from copy import copy
from dataclasses import dataclass
from pathlib import Path

from costspine._files import write_atomic
from costspine.errors import UsageError
from costspine.reports.workbook import (
    CURRENCY_SYMBOLS,
    Chart,
    Column,
    FormulaSheet,
    Sheet,
    Table,
    Workbook,
)

TABLE_STYLE = "TableStyleMedium2"
ABOUT_STYLE = "TableStyleMedium2"
FONT = "Calibri"
TITLE_COLOUR = "1F3864"
NOTE_COLOUR = "595959"
HEADER_FILL = "4472C4"  # the header colour of TableStyleMedium2, set explicitly for LibreOffice
RULE_COLOUR = "8EA9DB"
SERIES_COLOURS = ("4472C4", "ED7D31", "A5A5A5", "FFC000", "5B9BD5", "70AD47", "264478", "9E480E")
FORMULA_TRIGGERS = ("=", "+", "-", "@")

MIN_WIDTH, MAX_WIDTH = 8, 60
TEXT_SPAN_CHARS = 110  # width (in characters) over which Summary paragraphs wrap
CHART_WIDTH_CM, CHART_HEIGHT_CM = 17.0, 8.5
LEGEND_WIDTH_CM = 8.0  # added to a chart whose legend sits at its right
LEGEND_RIGHT_FROM = 4  # series: from this many on the legend sits at the right, one entry a line
MAX_CHART_HEIGHT_CM = 28.0
ROW_HEIGHT_CM = 0.53  # a default 15-point row
CHARTS_BELOW_MAX_ROWS = 40  # tables this short get their charts underneath, else at their right
WIDTH_SAMPLE_ROWS = 1000  # rows looked at when fitting column widths


def write_workbook(workbook: Workbook, path) -> Path:
    """Write ``workbook`` to ``path`` (``.xlsx``) atomically.

    Parameters
    ----------
    workbook : Workbook
        The report, already validated by its constructor.
    path : str or Path
        Destination; the folder is created if needed. An existing file is replaced only once
        the new one is complete.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    UsageError
        ``path`` does not end in ``.xlsx``, or ``workbook`` is not a Workbook.

    Examples
    --------
    >>> from costspine.reports.workbook import Column, Sheet, Table, Workbook
    >>> costs = Table(
    ...     "costs", (Column("strategy", "text"), Column("total", "currency")), [("usual care", 1500.0), ("physio", 1700.0)]
    ... )
    >>> book = Workbook(
    ...     "Base case",
    ...     "Two strategies.",
    ...     "USD",
    ...     ["Physio costs more."],
    ...     costs.renamed("headline"),
    ...     None,
    ...     None,
    ...     [Sheet("Costs", (costs,), ())],
    ...     {"costspine version": "0.1.0"},
    ... )
    >>> write_workbook(book, tmp_path / "run.xlsx").name  # tmp_path: any folder
    'run.xlsx'
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(
            f"{path}: a workbook must be written to a .xlsx file; got suffix {path.suffix!r} — "
            f"use {path.with_suffix('.xlsx').name}"
        )
    if not isinstance(workbook, Workbook):
        raise UsageError(f"write_workbook expects a costspine.reports.workbook.Workbook; got {type(workbook).__name__}")
    book = build_workbook(workbook)
    buffer = io.BytesIO()
    book.save(buffer)
    return write_atomic(path, buffer.getvalue())


def build_workbook(workbook: Workbook):
    """The openpyxl ``Workbook`` for ``workbook`` (not saved). Sheet order: Summary, Inputs, results, About."""
    from openpyxl import Workbook as XlWorkbook

    from costspine._version import __version__

    book = XlWorkbook()
    book.properties.title = workbook.title
    book.properties.creator = f"costspine {__version__}"
    book.properties.description = workbook.description[:1000] or None
    summary = book.active
    summary.title = "Summary"
    _write_summary(summary, workbook)
    if workbook.inputs is not None:
        _write_inputs(book.create_sheet("Inputs"), workbook)
    if workbook.unit_prices is not None:
        _write_unit_prices(book.create_sheet("Unit prices"), workbook)
    for sheet in workbook.sheets:
        if isinstance(sheet, FormulaSheet):
            _write_formula_sheet(book.create_sheet(sheet.name), sheet, workbook.currency)
        else:
            _write_result_sheet(book.create_sheet(sheet.name), sheet, workbook.currency)
    _write_about(book.create_sheet("About"), workbook)
    book.active = 0
    return book


# ----------------------------------------------------------------------------------------- cells


def write_text(cell, text: str) -> None:
    """Store ``text`` in ``cell`` as a string, never as a formula or an error code.

    openpyxl makes any string starting with ``=`` a formula and ``#N/A``-like strings error
    values; forcing the string type stores the characters as typed. Text starting with a
    character Excel treats as a formula on editing (``= + - @``) also gets the quote prefix.
    """
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True


def _write_value(cell, value) -> None:
    """A table value: text as text, NaN/None as an empty cell, ±inf as text (Excel has no infinity)."""
    if value is None:
        return
    if isinstance(value, str):
        write_text(cell, value)
    elif isinstance(value, float) and math.isnan(value):
        return
    elif isinstance(value, float) and math.isinf(value):
        write_text(cell, "∞" if value > 0 else "-∞")
    else:
        cell.value = value


def _font(**kw):
    from openpyxl.styles import Font

    return Font(name=FONT, **kw)


def _heading(ws, row: int, text: str, *, size: int = 16) -> None:
    cell = ws.cell(row=row, column=1)
    write_text(cell, text)
    cell.font = _font(bold=True, size=size, color=TITLE_COLOUR)
    ws.row_dimensions[row].height = size * 1.6


def _note(ws, row: int, text: str, *, column: int = 1) -> None:
    cell = ws.cell(row=row, column=column)
    write_text(cell, text)
    cell.font = _font(italic=True, color=NOTE_COLOUR)


def _paragraph(ws, row: int, text: str, *, span: int, chars: int, **font) -> None:
    """Wrapped text merged over ``span`` columns, with a row height that shows every line."""
    from openpyxl.styles import Alignment

    cell = ws.cell(row=row, column=1)
    write_text(cell, text)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if font:
        cell.font = _font(**font)
    if span > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=span)
    # A column width unit is one "0"; running text averages ~0.85 of that.
    lines = sum(max(1, math.ceil(len(part) * 0.85 / max(chars, 1))) for part in text.split("\n"))
    ws.row_dimensions[row].height = 15.0 * lines + 3


# ---------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class _Placed:
    """Where a table landed: header row and first column (1-based)."""

    table: Table
    header_row: int
    first_col: int

    @property
    def last_col(self) -> int:
        return self.first_col + len(self.table.columns) - 1

    @property
    def last_row(self) -> int:
        return self.header_row + max(len(self.table.rows), 1)  # an empty table keeps one blank row

    def col(self, name: str) -> int:
        return self.first_col + self.table.column_index(name)


HEADER_WRAP_WIDTH = 14  # a header longer than this wraps onto more lines rather than widen a column of short values


def _header_width(name: str) -> int:
    """Width a header needs: all of it on one line when short, else its longest word (it wraps)."""
    full = math.ceil(len(name) * 1.1) + 5  # bold header, indent, room for the filter button
    longest_word = max((len(word) for word in name.split()), default=0)
    return min(full, max(HEADER_WRAP_WIDTH, math.ceil(longest_word * 1.1) + 5))


def _column_width(column: Column, rows, index: int, currency: str) -> float:
    longest = _header_width(column.name)
    for row in rows[:WIDTH_SAMPLE_ROWS]:
        text = column.format_value(row[index], currency)
        longest = max(longest, max((len(part) for part in text.split("\n")), default=0) + 2)
    return float(min(max(longest, MIN_WIDTH), MAX_WIDTH))


def _write_table(ws, table: Table, *, header_row: int, first_col: int, currency: str, style: str = TABLE_STYLE) -> _Placed:
    """Caption, header, rows, number formats, widths and the named Excel table itself."""
    from openpyxl.styles import Alignment, Border, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table as XlTable, TableStyleInfo

    placed = _Placed(table, header_row, first_col)
    # Excel draws the table style; LibreOffice ignores table styles, so the header and a rule
    # under each row are also set on the cells (Excel shows the same colours either way).
    header_font = _font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    rule = Border(bottom=Side(style="thin", color=RULE_COLOUR))
    if table.title:
        caption = ws.cell(row=header_row - 1, column=first_col)
        write_text(caption, table.title)
        caption.font = _font(bold=True, size=12, color=TITLE_COLOUR)
    wrap = Alignment(wrap_text=True, vertical="top")
    lines_by_row: dict[int, int] = {}  # rows holding wrapped text: how many lines they need
    for j, column in enumerate(table.columns):
        col = first_col + j
        header = ws.cell(row=header_row, column=col)
        write_text(header, column.name)
        header.font, header.fill = header_font, header_fill
        header.alignment = (
            Alignment(horizontal="right", vertical="center", indent=1, wrap_text=True)
            if column.is_numeric
            else Alignment(horizontal="left", vertical="center", wrap_text=True)
        )
        fmt = column.number_format(currency)
        width = _column_width(column, table.rows, j, currency)
        # numbers keep one character clear of the next column (often text aligned left)
        # top-aligned, so a row made tall by wrapped text reads from its top line
        number = Alignment(horizontal="right", indent=1, vertical="top") if column.is_numeric else Alignment(vertical="top")
        plain = wrapped = None  # style templates: copying a cell's style array is ~10x faster than setting it
        for i, row in enumerate(table.rows):
            cell = ws.cell(row=header_row + 1 + i, column=col)
            _write_value(cell, row[j])
            long_text = isinstance(row[j], str) and (len(row[j]) > width or "\n" in row[j])
            template = wrapped if long_text else plain
            if template is not None:
                cell._style = copy(template._style)
                if cell.data_type == "s" and cell.value.startswith(FORMULA_TRIGGERS):
                    cell.quotePrefix = True
                elif cell.quotePrefix:
                    cell.quotePrefix = False
                continue
            cell.number_format = fmt
            cell.border = rule
            if long_text:
                cell.alignment = wrap
            elif number is not None:
                cell.alignment = number
            if long_text:
                wrapped = cell
            else:
                plain = cell
        if not column.is_numeric and any(isinstance(r[j], str) and len(r[j]) > width for r in table.rows):
            width = MAX_WIDTH
        for i, row in enumerate(table.rows):
            if isinstance(row[j], str) and (len(row[j]) > width or "\n" in row[j]):
                lines = sum(max(1, math.ceil(len(part) * 0.95 / (width - 1))) for part in row[j].split("\n"))
                lines_by_row[i] = max(lines_by_row.get(i, 1), lines)
        letter = get_column_letter(col)
        current = ws.column_dimensions[letter].width or 0
        ws.column_dimensions[letter].width = max(width, current)
        header_lines = math.ceil(len(column.name) * 1.1 / max(max(width, current) - 5, 1))
        if header_lines > 1:
            dimension = ws.row_dimensions[header_row]
            dimension.height = max(dimension.height or 0, 15.0 * header_lines + 2)
    # LibreOffice keeps the default height of a row with wrapped text (the lines would overlap): set it
    for i, lines in lines_by_row.items():
        dimension = ws.row_dimensions[header_row + 1 + i]
        dimension.height = max(dimension.height or 0, 15.0 * lines + 2)
    ref = f"{get_column_letter(first_col)}{header_row}:{get_column_letter(placed.last_col)}{placed.last_row}"
    xl_table = XlTable(displayName=table.name, ref=ref)
    xl_table.tableStyleInfo = TableStyleInfo(
        name=style, showFirstColumn=False, showLastColumn=False, showRowStripes=True, showColumnStripes=False
    )
    ws.add_table(xl_table)
    return placed


def _write_tables_side_by_side(ws, tables, *, header_row: int, currency: str) -> list[_Placed]:
    placed, col = [], 1
    for table in tables:
        placed.append(_write_table(ws, table, header_row=header_row, first_col=col, currency=currency))
        col = placed[-1].last_col + 2
    return placed


def _finish_sheet(ws, *, header_row: int | None, landscape: bool = True) -> None:
    """Frozen header, print titles and a page set-up that fits the width on one page."""
    if header_row is not None:
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1).coordinate
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


# ---------------------------------------------------------------------------------------- sheets


def _currency_label(currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{currency} ({symbol})" if symbol else currency


def _write_summary(ws, workbook: Workbook) -> None:
    from openpyxl.utils import get_column_letter

    headline = workbook.headline
    ws.sheet_view.showGridLines = False
    # Paragraphs wrap over as many columns as it takes to reach TEXT_SPAN_CHARS characters.
    widths = [_column_width(c, headline.rows, j, workbook.currency) for j, c in enumerate(headline.columns)]
    span, total = 0, 0.0
    while total < TEXT_SPAN_CHARS:
        total += widths[span] if span < len(widths) else 8.43
        span += 1
    row = 1
    _heading(ws, row, workbook.title, size=18)
    row += 1
    if workbook.description.strip():
        _paragraph(ws, row, workbook.description, span=span, chars=int(total), size=11)
        row += 1
    _note(
        ws,
        row,
        f"Money in {_currency_label(workbook.currency)}. Inputs, detailed results and provenance are on the following sheets.",
    )
    row += 2
    if workbook.reading:
        _heading(ws, row, "What the results say", size=13)
        row += 1
        for sentence in workbook.reading:
            _paragraph(ws, row, f"•  {sentence}", span=span, chars=int(total))
            row += 1
        row += 1
    header_row = row + 1
    if not headline.title:
        headline = headline.renamed(headline.name, title="Headline results")
    _write_table(ws, headline, header_row=header_row, first_col=1, currency=workbook.currency)
    for j in range(span):
        letter = get_column_letter(j + 1)
        if ws.column_dimensions[letter].width is None:
            ws.column_dimensions[letter].width = 8.43
    _finish_sheet(ws, header_row=None)


INPUTS_HOW_TO = (
    "To run with other values: edit a Value, Distribution or Arguments cell here (or a Unit price), save, and run "
    "costspine run|psa|dsa|bia SCENARIO --inputs THIS_WORKBOOK.xlsx; every change is printed and kept in the manifest."
)


def _write_inputs(ws, workbook: Workbook) -> None:
    _heading(ws, 1, "Inputs")
    _note(
        ws,
        2,
        (
            "Every parameter of every model, one titled table per model, with its base-case value, distribution and source"
            if workbook.more_inputs
            else "Every model parameter with its base-case value, distribution and source"
        )
        + ("; unit prices are on the next sheet." if workbook.unit_prices is not None else "."),
    )
    _note(ws, 3, INPUTS_HOW_TO)
    header_row = 6
    table = workbook.inputs if workbook.inputs.title else workbook.inputs.renamed(workbook.inputs.name, title="Parameters")
    placed = _write_table(ws, table, header_row=header_row, first_col=1, currency=workbook.currency)
    for more in workbook.more_inputs:  # stacked below, each under its own title and header
        placed = _write_table(ws, more, header_row=placed.last_row + 4, first_col=1, currency=workbook.currency)
    # one frozen, repeated header only when it is the sheet's only one
    _finish_sheet(ws, header_row=None if workbook.more_inputs else header_row)


def _write_unit_prices(ws, workbook: Workbook) -> None:
    _heading(ws, 1, "Unit prices")
    _note(
        ws,
        2,
        "Unit prices as resolved for this report (price year and payer multiplier applied), in "
        f"{_currency_label(workbook.currency)}. Only the Unit price column is read back by --inputs; "
        "the other columns show where it comes from.",
    )
    header_row = 5
    table = workbook.unit_prices
    table = table if table.title else table.renamed(table.name, title="Unit prices")
    _write_table(ws, table, header_row=header_row, first_col=1, currency=workbook.currency)
    _finish_sheet(ws, header_row=header_row)


def _write_result_sheet(ws, sheet: Sheet, currency: str) -> None:
    _heading(ws, 1, sheet.name)
    for i, note in enumerate(sheet.notes):
        _note(ws, 2 + i, note)
    header_row = 2 + len(sheet.notes) + 2
    placed = _write_tables_side_by_side(ws, sheet.tables, header_row=header_row, currency=currency)
    by_name = {p.table.name: p for p in placed}
    below = max(p.last_row for p in placed) - header_row <= CHARTS_BELOW_MAX_ROWS
    # Under short tables (one printed page holds both), else at their right, starting below the
    # header row so printed pages that repeat the header do not cut through a chart.
    row = max(p.last_row for p in placed) + 3 if below else header_row + 1
    first_col = 1 if below else placed[-1].last_col + 2
    # under the tables, charts sit side by side as far as the tables reach (then on a new line)
    span_cm = sum(_column_cm(ws, c) for c in range(1, placed[-1].last_col + 1)) if below else 0.0
    column, used_cm, line_rows = first_col, 0.0, 0
    for chart in sheet.charts:
        xl_chart = build_chart(ws, chart, by_name[chart.table_name], currency)
        if used_cm and used_cm + xl_chart.width > span_cm:  # next line
            row, column, used_cm, line_rows = row + line_rows, first_col, 0.0, 0
        ws.add_chart(xl_chart, ws.cell(row=row, column=column).coordinate)
        line_rows = max(line_rows, math.ceil(xl_chart.height / ROW_HEIGHT_CM) + 2)
        if below:
            covered = 0.0
            while covered < xl_chart.width + 0.5:
                covered += _column_cm(ws, column)
                column += 1
            used_cm += covered
        else:
            row, line_rows = row + line_rows, 0
    _finish_sheet(ws, header_row=header_row)


INPUT_FILL = "FFF2CC"  # inputs the reader changes (Excel's "Input" cell style colour)
MODEL_FILL = "DDEBF7"  # numbers from the model run the reader may change
FIXED_FILL = "EDEDED"  # numbers from the model run the formulas use as they are
FORMULA_FILL = "FFFFFF"


def _write_formula_sheet(ws, sheet: FormulaSheet, currency: str) -> None:
    """Free-standing cells; only ``formula``/``result`` cells hold formulas (everything else is a value)."""
    from openpyxl.styles import Alignment, Border, PatternFill, Side
    from openpyxl.utils import get_column_letter

    header_lines = {}
    thin = Side(style="thin", color="BFBFBF")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    fills = {"input": INPUT_FILL, "model": MODEL_FILL, "fixed": FIXED_FILL}
    ws.sheet_view.showGridLines = False
    for cell in sheet.cells:
        xl = ws.cell(row=cell.row, column=cell.column)
        if cell.is_formula:
            xl.value = cell.value  # a live formula
        else:
            _write_value(xl, cell.value)
        if cell.kind != "text":
            xl.number_format = Column("cell", cell.kind, cell.decimals).number_format(currency)
        if cell.role == "heading":
            xl.font = _font(bold=True, size=13, color=TITLE_COLOUR)
        elif cell.role == "note":
            xl.font = _font(italic=True, color=NOTE_COLOUR)
        elif cell.role == "header":
            xl.font = _font(bold=True, color="FFFFFF")
            xl.fill = PatternFill("solid", fgColor=HEADER_FILL)
            xl.alignment = Alignment(wrap_text=True, vertical="top")
            width = sheet.widths.get(cell.column, 8.43)
            lines = math.ceil(len(str(cell.value)) * 1.1 / max(width - 1, 1))
            header_lines[cell.row] = max(header_lines.get(cell.row, 1), lines)
        elif cell.role in fills:
            xl.fill = PatternFill("solid", fgColor=fills[cell.role])
            xl.border = box
        elif cell.is_formula:
            xl.border = box
            if cell.role == "result":
                xl.font = _font(bold=True)
    for column, width in sheet.widths.items():
        ws.column_dimensions[get_column_letter(column)].width = width
    for row, lines in header_lines.items():
        ws.row_dimensions[row].height = 15.0 * lines + 2
    if sheet.cells and sheet.cells[0].role == "heading":
        ws.row_dimensions[sheet.cells[0].row].height = 22
    _finish_sheet(ws, header_row=None)


def _column_cm(ws, column: int) -> float:
    """Width of a column in cm (a width unit is one '0' of 11-point Calibri, ~0.2 cm, plus padding)."""
    from openpyxl.utils import get_column_letter

    width = ws.column_dimensions[get_column_letter(column)].width
    return (width if width else 8.43) * 0.2 + 0.1


def _write_about(ws, workbook: Workbook) -> None:
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    _heading(ws, 1, "About this workbook")
    _note(
        ws, 2, "Provenance: running the command line below with the same inputs (same SHA-256) and seed reproduces these results."
    )
    rows = [(key, value) for key, value in workbook.about.items()]
    table = Table("about", (Column("item", "text"), Column("value", "text")), rows, title="Provenance")
    header_row = 5
    _write_table(ws, table, header_row=header_row, first_col=1, currency=workbook.currency, style=ABOUT_STYLE)
    ws.column_dimensions[get_column_letter(2)].width = 100
    for i in range(len(rows)):
        ws.cell(row=header_row + 1 + i, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=header_row + 1 + i, column=1).alignment = Alignment(vertical="top")
    _finish_sheet(ws, header_row=header_row)


# ---------------------------------------------------------------------------------------- charts


def build_chart(ws, chart: Chart, placed: _Placed, currency: str):
    """The openpyxl chart for ``chart``, reading the cells of the placed table."""
    from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series
    from openpyxl.chart.shapes import GraphicalProperties

    table = placed.table
    n_rows = len(table.rows) if chart.max_points is None else min(chart.max_points, len(table.rows))
    first, last = placed.header_row + 1, placed.header_row + n_rows

    def values(name):  # header included: it becomes the series name
        return Reference(ws, min_col=placed.col(name), min_row=placed.header_row, max_row=last)

    def data(name):
        return Reference(ws, min_col=placed.col(name), min_row=first, max_row=last)

    if chart.kind == "scatter":
        xl = ScatterChart(scatterStyle="marker")
        for k, (x_name, y_name) in enumerate(zip(chart.x_columns, chart.y_columns)):
            colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
            series = Series(values(y_name), data(x_name), title_from_data=True)
            series.marker.symbol = "circle"
            series.marker.size = 5
            series.marker.graphicalProperties = GraphicalProperties(solidFill=colour)
            series.marker.graphicalProperties.line.solidFill = colour
            series.graphicalProperties.line.noFill = True  # markers only: Excel draws lines otherwise
            xl.series.append(series)
        # Axes cross at zero (the four quadrants of a CE plane); their labels stay at the edges.
        xl.x_axis.tickLblPos = "low"
        xl.y_axis.tickLblPos = "low"
    else:
        xl = LineChart() if chart.kind == "line" else BarChart()
        for y_name in chart.y_columns:
            xl.add_data(values(y_name), titles_from_data=True)
        xl.set_categories(data(chart.x_column))
        if chart.kind == "line":
            for series in xl.series:
                series.smooth = False
                series.marker.symbol = "none"
        else:
            xl.type = "bar" if chart.kind in ("tornado", "hbar") else "col"
            xl.grouping = "stacked" if chart.kind == "stacked_bar" else "clustered"
            if chart.kind in ("stacked_bar", "tornado"):
                xl.overlap = 100
            xl.gapWidth = 50 if chart.kind in ("tornado", "hbar") else 80
            xl.x_axis.tickLblPos = "low"  # category labels at the edge, not on the zero line among negative bars

    xl.title = _chart_title(chart.title)
    xl.x_axis.title = chart.x_title or None
    xl.y_axis.title = chart.y_title or None
    xl.width, xl.height = chart_size(chart, n_rows)
    n_series = len(chart.y_columns)
    if n_series == 1 and chart.kind != "scatter":
        xl.legend = None  # one series: the title and the axis title say what it is
    else:
        xl.legend.position = "r" if n_series >= LEGEND_RIGHT_FROM else "b"
        xl.legend.overlay = False
    _lay_out(xl, chart, legend_right=xl.legend is not None and xl.legend.position == "r")
    # openpyxl >= 3.1 leaves <c:delete> out, which recent Excel reads as "axis hidden".
    xl.x_axis.delete = False
    xl.y_axis.delete = False

    y_kinds = [table.columns[table.column_index(n)] for n in chart.y_columns]
    xl.y_axis.number_format = _axis_format(y_kinds[0], currency)
    x_column = table.columns[table.column_index(chart.x_columns[0])]
    if x_column.is_numeric:
        xl.x_axis.number_format = _axis_format(x_column, currency)
    if all(c.kind in ("probability", "percent") for c in y_kinds) and chart.kind in ("line", "scatter"):
        xl.y_axis.scaling.min = 0
        xl.y_axis.scaling.max = 1
    if chart.kind in ("tornado", "hbar"):
        xl.x_axis.scaling.orientation = "maxMin"  # first row on top, like the table
        xl.x_axis.tickLblPos = "low"  # parameter names at the left edge, not at the base line
        xl.y_axis.crosses = "max"  # value axis at the bottom once categories run top-down
        if chart.base is not None:
            xl.x_axis.crosses = None
            xl.x_axis.crossesAt = chart.base  # bars grow from the base case
    return xl


def _lay_out(xl, chart: Chart, *, legend_right: bool) -> None:
    """Fixed places for the plot area and the legend, and horizontal category labels.

    Left to itself LibreOffice gives a long legend most of the chart and rotates long category
    labels, leaving a thin strip of plot; fractions of the chart's size keep the plot area large
    in LibreOffice and Excel alike.
    """
    from openpyxl.chart.layout import Layout, ManualLayout
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RichTextProperties

    plot_width = (CHART_WIDTH_CM - 1.0) / xl.width if legend_right else 0.82
    bottom = 0.22 if chart.kind in ("bar", "stacked_bar") else 0.16  # room for wrapped category labels
    top = 0.12 if chart.title else 0.05
    legend_bottom = xl.legend is not None and not legend_right
    height = 1 - top - bottom - (0.1 if legend_bottom else 0)
    xl.plot_area.layout = Layout(
        manualLayout=ManualLayout(layoutTarget="outer", xMode="edge", yMode="edge", x=0.02, y=top, w=plot_width, h=height)
    )
    if legend_right:
        xl.legend.layout = Layout(
            manualLayout=ManualLayout(
                xMode="edge", yMode="edge", x=plot_width + 0.04, y=top, w=0.94 - plot_width, h=1 - top - 0.05
            )
        )
    if chart.kind != "scatter":  # category labels read horizontally (they wrap instead of turning)
        size = CharacterProperties(sz=800)
        xl.x_axis.txPr = RichText(
            bodyPr=RichTextProperties(rot=0, vert="horz"), p=[Paragraph(pPr=ParagraphProperties(defRPr=size), endParaRPr=size)]
        )


CHART_TITLE_POINTS = 12  # LibreOffice's default title (13 pt+) wraps over the plot on a 17 cm chart


def _chart_title(text: str):
    """A bold 12-point chart title (one line on a chart of the default width)."""
    from openpyxl.chart.text import RichText, Text
    from openpyxl.chart.title import Title
    from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun

    font = CharacterProperties(sz=CHART_TITLE_POINTS * 100, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=font), r=[RegularTextRun(rPr=font, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def chart_size(chart: Chart, n_points: int) -> tuple[float, float]:
    """Width and height (cm) of ``chart`` drawing ``n_points`` rows: room for every legend entry
    (at the right from :data:`LEGEND_RIGHT_FROM` series on) and, for horizontal bars, every category.

    Examples
    --------
    >>> chart_size(Chart("line", "t", "x", "a", ("b",)), 10)
    (17.0, 8.5)
    >>> chart_size(Chart("stacked_bar", "t", "x", "a", tuple("bcdefghi")), 3)
    (25.0, 10.0)
    """
    n_series = len(chart.y_columns)
    width, height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    if n_series >= LEGEND_RIGHT_FROM:
        width += LEGEND_WIDTH_CM
        height = max(10.0, 2.5 + 0.75 * n_series)
    if chart.kind in ("tornado", "hbar"):  # one band per category, each holding its bars
        per_band = 0.45 * (1 if chart.kind == "tornado" else n_series) + 0.25
        height = max(height, 3.0 + per_band * n_points)
    return width, min(height, MAX_CHART_HEIGHT_CM)


def _axis_format(column: Column, currency: str) -> str:
    """Axis labels: the column's format with fewer decimals (money in whole units, probabilities to 0.1)."""
    decimals = {"currency": 0, "probability": 1, "percent": 0}.get(column.kind, column.decimals)
    return Column(column.name, column.kind, decimals).number_format(currency)
