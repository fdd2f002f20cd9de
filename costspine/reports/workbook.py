"""A plain description of a report workbook: sheets, tables, charts and text, with no openpyxl.

Result types build a :class:`Workbook` from their arrays; :func:`costspine.reports.excel.write_workbook`
turns it into an ``.xlsx`` file and :func:`costspine.reports.figures.plot_table_png` can draw a
:class:`Table` as a picture. Everything here is a frozen dataclass that checks itself on
construction, so a report that Excel would have to "repair" (a sheet name with ``/``, two tables
called ``costs``, a table name that looks like a cell, a chart pointing at a missing column) fails
here, with a message that names the offending object, instead of in the reader's spreadsheet.

Layout of a written workbook: **Summary** (title, description, plain-language reading, headline
table), **Inputs** (parameters, when given), **Unit prices** (when given), one sheet per :class:`Sheet`, and
**About** (the ``about`` key/value pairs: version, command line, seed, input hashes).

Example
-------
>>> costs = Table(
...     "costs",
...     (Column("strategy", "text"), Column("drugs", "currency"), Column("visits", "currency")),
...     [("usual care", 1200.0, 300.0), ("physio", 900.0, 800.0)],
...     title="Mean cost per patient",
... )
>>> chart = Chart(
...     "stacked_bar",
...     "Cost by category",
...     "costs",
...     "strategy",
...     ("drugs", "visits"),
...     x_title="Strategy",
...     y_title="Cost per patient (USD)",
... )
>>> sheet = Sheet("Costs", (costs,), (chart,))
>>> book = Workbook(
...     "Base case",
...     "Two strategies.",
...     "USD",
...     ["Physio costs less."],
...     costs.renamed("headline"),
...     None,
...     None,
...     [sheet],
...     {"costspine version": "0.1.0"},
... )
>>> book.sheet_names
('Summary', 'Costs', 'About')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from numbers import Integral, Real

from costspine.errors import UsageError

COLUMN_KINDS = ("text", "int", "year", "number", "currency", "percent", "probability")
NUMERIC_KINDS = frozenset(COLUMN_KINDS) - {"text"}
CHART_KINDS = ("stacked_bar", "bar", "hbar", "line", "scatter", "tornado")

#: Default decimals per column kind (``Column.decimals`` overrides them).
DEFAULT_DECIMALS = {"int": 0, "year": 0, "number": 2, "currency": 0, "percent": 1, "probability": 3}

#: Currency symbols used in number formats; other ISO codes are written as a prefix ("CHF 1,200").
CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}

#: Sheets the writer adds itself; result sheets may not use these names (case-insensitive).
RESERVED_SHEETS = ("Summary", "Inputs", "Unit prices", "About", "History")
#: Tables the writer adds itself; result tables may not use these names (case-insensitive).
RESERVED_TABLES = ("about",)

MAX_SHEET_NAME = 31
MAX_TABLE_NAME = 255
MAX_CELL_TEXT = 32767
MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows less the header

_SHEET_FORBIDDEN = set("[]:*?/\\")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_A1_LIKE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$")
_R1C1_LIKE = re.compile(r"^[Rr][0-9]*[Cc]?[0-9]*$|^[Cc][0-9]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


def _fail(where: str, message: str) -> None:
    raise UsageError(f"{where}: {message}")


def check_text(text, *, where: str, allow_newlines: bool = True) -> None:
    """Raise :class:`UsageError` unless ``text`` is a string a worksheet cell can hold.

    Excel cells hold at most 32,767 characters and no control characters other than tab and
    newline; openpyxl would silently truncate the first and refuses the second.
    """
    if not isinstance(text, str):
        _fail(where, f"expected text, got {type(text).__name__} {text!r}")
    if len(text) > MAX_CELL_TEXT:
        _fail(where, f"text is {len(text):,} characters; an Excel cell holds at most {MAX_CELL_TEXT:,} — shorten it")
    bad = _CONTROL.search(text) or (None if allow_newlines else re.search(r"[\r\n\t]", text))
    if bad:
        _fail(
            where,
            f"text contains the control character {bad.group()!r} at position {bad.start()}, "
            "which a worksheet cannot hold — remove it",
        )


def check_sheet_name(name, *, where: str = "sheet") -> None:
    """Raise :class:`UsageError` unless ``name`` is a valid Excel sheet name."""
    if not isinstance(name, str) or not name.strip():
        _fail(where, f"a sheet name must be non-empty text; got {name!r}")
    if len(name) > MAX_SHEET_NAME:
        _fail(where, f"sheet name {name!r} has {len(name)} characters; Excel allows at most {MAX_SHEET_NAME} — shorten it")
    bad = sorted(set(name) & _SHEET_FORBIDDEN)
    if bad:
        _fail(where, f"sheet name {name!r} contains {' '.join(bad)}; Excel forbids any of [ ] : * ? / \\ in sheet names")
    if name.startswith("'") or name.endswith("'"):
        _fail(where, f"sheet name {name!r} starts or ends with an apostrophe, which Excel forbids")
    check_text(name, where=where, allow_newlines=False)


def check_table_name(name, *, where: str = "table") -> None:
    """Raise :class:`UsageError` unless ``name`` is a valid Excel table (display) name.

    Letters, digits and underscores, starting with a letter or underscore, at most 255
    characters, and not something Excel would read as a cell reference (``A1``, ``XFD100``,
    ``R1C1``, ``R``, ``C``).
    """
    if not isinstance(name, str) or not _TABLE_NAME.match(name):
        _fail(
            where,
            f"table name {name!r} must start with a letter or underscore and contain only letters, "
            "digits and underscores (e.g. 'costs_by_category')",
        )
    if len(name) > MAX_TABLE_NAME:
        _fail(where, f"table name has {len(name)} characters; Excel allows at most {MAX_TABLE_NAME}")
    if _A1_LIKE.match(name) or _R1C1_LIKE.match(name):
        _fail(where, f"table name {name!r} looks like a cell reference, which Excel forbids — add a word, e.g. '{name}_table'")


def _plain(value, *, where: str, kind: str):
    """A cell value as a plain Python scalar (numpy scalars unwrapped), checked against ``kind``."""
    if value is None or isinstance(value, str):
        if isinstance(value, str):
            check_text(value, where=where)
        return value
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):
        _fail(where, f"got the boolean {value!r} in a {kind} column; write it as text ('yes'/'no') or as 0/1")
    if kind == "text":
        _fail(
            where,
            f"expected text (or None) in a text column, got {type(value).__name__} {value!r} — "
            "give the column a numeric kind or pass str(value)",
        )
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    _fail(where, f"expected a number, text or None, got {type(value).__name__} {value!r}")


@dataclass(frozen=True)
class Column:
    """One column of a :class:`Table`.

    Parameters
    ----------
    name : str
        Header text shown in the workbook (unique within the table, ignoring case).
    kind : {"text", "int", "year", "number", "currency", "percent", "probability"}
        Decides the number format: ``int`` groups thousands (``12,345``), ``year`` does not
        (``2026``), ``currency`` uses the workbook's currency (``"$"#,##0``), ``percent``
        expects fractions (0.25 → 25.0%), ``probability`` shows 3 decimals.
    decimals : int, optional
        Decimals shown, overriding the kind's default (currency 0, number 2, percent 1,
        probability 3, int 0). ``Column("cost", "currency", decimals=2)`` gives ``"$"#,##0.00``.
    """

    name: str
    kind: str = "text"
    decimals: int | None = None

    def __post_init__(self):
        where = f"column {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip():
            _fail("column", f"a column name must be non-empty text; got {self.name!r}")
        check_text(self.name, where=where, allow_newlines=False)
        if len(self.name) > 255:
            _fail(where, "column names hold at most 255 characters")
        if self.kind not in COLUMN_KINDS:
            _fail(where, f"kind must be one of {', '.join(COLUMN_KINDS)}; got {self.kind!r}")
        if self.decimals is not None:
            if self.kind in ("text", "year"):
                _fail(where, f"decimals do not apply to {self.kind} columns")
            if isinstance(self.decimals, bool) or not isinstance(self.decimals, int) or not 0 <= self.decimals <= 10:
                _fail(where, f"decimals must be an integer in [0, 10]; got {self.decimals!r}")

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    def number_format(self, currency: str) -> str:
        """Excel number format code for this column (``"@"`` for text)."""
        if self.kind == "text":
            return "@"
        decimals = DEFAULT_DECIMALS[self.kind] if self.decimals is None else self.decimals
        digits = "." + "0" * decimals if decimals else ""
        if self.kind == "year":
            return "0"
        if self.kind == "probability":
            return "0" + digits
        if self.kind == "percent":
            return "0" + digits + "%"
        number = "#,##0" + digits
        if self.kind == "currency":
            symbol = CURRENCY_SYMBOLS.get(currency)
            return f'"{symbol}"{number}' if symbol else f'"{currency} "{number}'
        return number

    def format_value(self, value, currency: str) -> str:
        """The value as a reader sees it in the workbook (used for widths and table pictures)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, float) and math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if self.kind == "text":
            return str(value)
        decimals = DEFAULT_DECIMALS[self.kind] if self.decimals is None else self.decimals
        if self.kind == "year":
            return f"{value:.0f}"
        if self.kind == "probability":
            return f"{value:.{decimals}f}"
        if self.kind == "percent":
            return f"{value * 100:.{decimals}f}%"
        text = f"{abs(value):,.{decimals}f}"
        sign = "-" if value < 0 and float(text.replace(",", "")) != 0 else ""
        if self.kind == "currency":
            symbol = CURRENCY_SYMBOLS.get(currency)
            return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency} {text}"
        return sign + text


@dataclass(frozen=True)
class Table:
    """A named rectangular table: becomes an Excel table (filterable, styled) in the workbook.

    Parameters
    ----------
    name : str
        Excel table name, unique in the workbook: letters, digits, underscores, not cell-like.
    columns : tuple of Column
    rows : sequence of tuples
        One tuple per row, one value per column: text columns hold ``str`` or ``None``; numeric
        columns hold numbers, ``None`` (empty cell) or a short text label such as "dominated".
        NaN is written as an empty cell and ±inf as the text "∞"/"-∞" (Excel has neither).
        Stored as a tuple of tuples; numpy scalars become Python numbers.
    title : str, optional
        Caption written above the table (plain language; the name is an identifier).
    """

    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...] = ()
    title: str = ""

    def __post_init__(self):
        check_table_name(self.name, where=f"table {self.name!r}")
        where = f"table {self.name!r}"
        columns = tuple(self.columns)
        if not columns:
            _fail(where, "a table needs at least one column")
        for column in columns:
            if not isinstance(column, Column):
                _fail(where, f"columns must be Column objects; got {type(column).__name__} {column!r}")
        seen = {}
        for column in columns:
            key = column.name.casefold()
            if key in seen:
                _fail(where, f"columns {seen[key]!r} and {column.name!r} have the same name (Excel ignores case); rename one")
            seen[key] = column.name
        check_text(self.title, where=f"{where} title")
        rows = tuple(self.rows)
        if len(rows) > MAX_ROWS:
            _fail(where, f"{len(rows):,} rows exceed Excel's limit of {MAX_ROWS:,}; summarise or cap the rows")
        clean = []
        for i, row in enumerate(rows):
            row = tuple(row)
            if len(row) != len(columns):
                _fail(
                    f"{where} row {i}", f"expected {len(columns)} values ({', '.join(c.name for c in columns)}); got {len(row)}"
                )
            clean.append(tuple(_plain(v, where=f"{where} row {i} column {c.name!r}", kind=c.kind) for v, c in zip(row, columns)))
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "rows", tuple(clean))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column_index(self, name: str) -> int:
        """Position of the column called ``name``; :class:`UsageError` naming the columns if absent."""
        for i, column in enumerate(self.columns):
            if column.name == name:
                return i
        raise UsageError(f"table {self.name!r}: no column {name!r}; columns are {', '.join(map(repr, self.column_names))}")

    def renamed(self, name: str, *, title: str | None = None) -> Table:
        """The same table under another name (a table can appear only once in a workbook)."""
        return replace(self, name=name, title=self.title if title is None else title)


@dataclass(frozen=True)
class Chart:
    """A native Excel chart drawn from one table on the same :class:`Sheet`.

    Parameters
    ----------
    kind : {"stacked_bar", "bar", "hbar", "line", "scatter", "tornado"}
        ``stacked_bar``/``bar``: columns per category of ``x_column``, one series per y column
        (stacked or side by side). ``hbar``: horizontal bars side by side, categories top to
        bottom in table order (long labels such as parameter names). ``line``: one line per y column over the categories of
        ``x_column``. ``scatter``: markers only, x from ``x_column`` (one shared x column, or a
        tuple with one x column per y column, e.g. incremental effect and cost per comparator).
        ``tornado``: horizontal bars, exactly two y columns (outcome at the parameter's low and
        high value), drawn from ``base`` outwards, rows top to bottom in table order.
    title : str
    table_name : str
        Name of a table on the same sheet.
    x_column : str or tuple of str
        Category (or x) column.
    y_columns : tuple of str
        Numeric columns, one series each; the header text becomes the series name.
    x_title, y_title : str
        Axis titles with units. ``x_title`` belongs to the axis showing ``x_column`` (for a
        tornado that is the vertical axis of parameter names), ``y_title`` to the value axis.
    max_points : int, optional
        Chart only the first ``max_points`` rows (a scatter of PSA draws stays light); the table
        itself keeps every row.
    base : float, optional
        Tornado only: the base-case value the bars start from (default 0, i.e. the y columns hold
        changes from the base case).
    """

    kind: str
    title: str
    table_name: str
    x_column: str | tuple[str, ...]
    y_columns: tuple[str, ...]
    x_title: str = ""
    y_title: str = ""
    max_points: int | None = None
    base: float | None = None

    def __post_init__(self):
        where = f"chart {self.title!r}"
        if self.kind not in CHART_KINDS:
            _fail(where, f"kind must be one of {', '.join(CHART_KINDS)}; got {self.kind!r}")
        for label, text in (("title", self.title), ("x_title", self.x_title), ("y_title", self.y_title)):
            check_text(text, where=f"{where} {label}", allow_newlines=False)
        if isinstance(self.y_columns, str):
            _fail(
                where,
                f"y_columns must be a tuple of column names; got the string {self.y_columns!r} — write ({self.y_columns!r},)",
            )
        y_columns = tuple(self.y_columns)
        if not y_columns:
            _fail(where, "y_columns must name at least one column")
        x_column = self.x_column if isinstance(self.x_column, str) else tuple(self.x_column)
        if not isinstance(x_column, str):
            if self.kind != "scatter":
                _fail(where, "only a scatter chart takes one x column per series; give one x_column")
            if len(x_column) != len(y_columns):
                _fail(where, f"{len(x_column)} x columns for {len(y_columns)} y columns; give one x column per series")
        if self.kind == "tornado" and len(y_columns) != 2:
            _fail(where, f"a tornado needs exactly two y columns (low, high); got {len(y_columns)}")
        if self.base is not None and self.kind != "tornado":
            _fail(where, "base applies to tornado charts only")
        if self.base is not None and not (isinstance(self.base, Real) and math.isfinite(self.base)):
            _fail(where, f"base must be a finite number; got {self.base!r}")
        if self.max_points is not None and (
            isinstance(self.max_points, bool) or not isinstance(self.max_points, int) or self.max_points < 1
        ):
            _fail(where, f"max_points must be a positive integer; got {self.max_points!r}")
        object.__setattr__(self, "x_column", x_column)
        object.__setattr__(self, "y_columns", y_columns)
        if self.base is not None:
            object.__setattr__(self, "base", float(self.base))

    @property
    def x_columns(self) -> tuple[str, ...]:
        """One x column per series."""
        if isinstance(self.x_column, str):
            return (self.x_column,) * len(self.y_columns)
        return self.x_column

    def check_against(self, table: Table) -> None:
        """Raise :class:`UsageError` unless the chart's columns exist in ``table`` with usable kinds."""
        where = f"chart {self.title!r} on table {table.name!r}"
        for name in set(self.x_columns) | set(self.y_columns):
            if name not in table.column_names:
                _fail(where, f"no column {name!r}; columns are {', '.join(map(repr, table.column_names))}")
        for name in self.y_columns:
            if not table.columns[table.column_index(name)].is_numeric:
                _fail(where, f"y column {name!r} is text; chart values must come from numeric columns")
        if self.kind == "scatter":
            for name in self.x_columns:
                if not table.columns[table.column_index(name)].is_numeric:
                    _fail(where, f"x column {name!r} is text; a scatter needs numeric x values")
        if not table.rows:
            _fail(where, "the table has no rows, so the chart would be empty")


@dataclass(frozen=True)
class Sheet:
    """A result sheet: tables side by side under one frozen header row, charts to their right.

    Parameters
    ----------
    name : str
        Excel sheet name: at most 31 characters, none of ``[]:*?/\\``, not Summary/Inputs/About.
    tables : tuple of Table
    charts : tuple of Chart
        Each chart draws from a table of this sheet.
    notes : tuple of str
        Plain-language sentences shown above the tables (how to read them, units, caveats).
    """

    name: str
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        check_sheet_name(self.name, where=f"sheet {self.name!r}")
        where = f"sheet {self.name!r}"
        tables, charts = tuple(self.tables), tuple(self.charts)
        notes = (self.notes,) if isinstance(self.notes, str) else tuple(self.notes)
        if not tables:
            _fail(where, "a result sheet needs at least one table")
        for t in tables:
            if not isinstance(t, Table):
                _fail(where, f"tables must be Table objects; got {type(t).__name__}")
        by_name = {t.name: t for t in tables}
        for chart in charts:
            if not isinstance(chart, Chart):
                _fail(where, f"charts must be Chart objects; got {type(chart).__name__}")
            if chart.table_name not in by_name:
                _fail(
                    f"{where} chart {chart.title!r}",
                    f"no table {chart.table_name!r} on this sheet; tables are {', '.join(map(repr, by_name))}",
                )
            chart.check_against(by_name[chart.table_name])
        for i, note in enumerate(notes):
            check_text(note, where=f"{where} note {i}")
        object.__setattr__(self, "tables", tables)
        object.__setattr__(self, "charts", charts)
        object.__setattr__(self, "notes", notes)


#: Roles of a :class:`Cell`: how the writer styles it and whether it holds a formula.
CELL_ROLES = ("heading", "note", "label", "header", "input", "model", "fixed", "formula", "result")
#: Roles whose value is an Excel formula (text starting with ``=``); no other role may hold one.
FORMULA_ROLES = ("formula", "result")


@dataclass(frozen=True)
class Cell:
    """One cell of a :class:`FormulaSheet`.

    Parameters
    ----------
    row, column : int
        1-based position.
    value : str, int, float or None
        Text, a number, or (roles ``formula`` and ``result`` only) an Excel formula such as ``"=B3*12"``.
    role : {"heading", "note", "label", "header", "input", "model", "fixed", "formula", "result"}
        ``input``: a value the reader is meant to change (input colour); ``model``: a number from
        the model run the reader may change; ``fixed``: a number from the model run the formulas
        use as it is (these three hold a number, or text in a ``text`` cell such as a legend);
        ``formula``/``result``: a live formula (``result`` in bold).
    kind : str
        Number format, as for :class:`Column` (``"currency"``, ``"percent"``, ...).
    decimals : int, optional
    """

    row: int
    column: int
    value: object = None
    role: str = "label"
    kind: str = "text"
    decimals: int | None = None

    def __post_init__(self):
        where = f"cell row {self.row} column {self.column}"
        for name in ("row", "column"):
            number = getattr(self, name)
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                _fail(where, f"{name} must be a whole number >= 1; got {number!r}")
        if self.role not in CELL_ROLES:
            _fail(where, f"role must be one of {', '.join(CELL_ROLES)}; got {self.role!r}")
        Column("cell", self.kind, self.decimals)  # checks kind and decimals
        if self.role in FORMULA_ROLES:
            if not (isinstance(self.value, str) and self.value.startswith("=") and len(self.value) > 1):
                _fail(where, f"a {self.role} cell holds an Excel formula starting with '='; got {self.value!r}")
            check_text(self.value, where=where, allow_newlines=False)
            if len(self.value) > 8192:
                _fail(where, f"the formula has {len(self.value):,} characters; Excel allows at most 8,192")
        elif self.role in ("input", "model", "fixed") and not (self.kind == "text" and isinstance(self.value, str)):
            value = _plain(self.value, where=where, kind=self.kind)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                _fail(where, f"an {self.role} cell holds a finite number; got {self.value!r}")
            object.__setattr__(self, "value", value)
        else:
            object.__setattr__(self, "value", _plain(self.value, where=where, kind="text" if self.kind == "text" else "number"))

    @property
    def is_formula(self) -> bool:
        return self.role in FORMULA_ROLES

    @property
    def reference(self) -> str:
        """Absolute A1 reference of the cell (``$B$3``)."""
        return cell_reference(self.row, self.column, absolute=True)


def cell_reference(row: int, column: int, *, absolute: bool = False) -> str:
    """A1 reference of a 1-based position: ``cell_reference(3, 28)`` is ``"AB3"``.

    Examples
    --------
    >>> cell_reference(3, 28), cell_reference(1, 2, absolute=True)
    ('AB3', '$B$1')
    """
    letters, n = "", column
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return f"${letters}${row}" if absolute else f"{letters}{row}"


@dataclass(frozen=True)
class FormulaSheet:
    """A sheet of free-standing cells, some holding live Excel formulas (a calculator).

    Parameters
    ----------
    name : str
        Excel sheet name (as for :class:`Sheet`).
    cells : tuple of Cell
        At most one per position.
    widths : dict of int to float
        Column widths (characters) by 1-based column.
    """

    name: str
    cells: tuple[Cell, ...] = ()
    widths: dict = field(default_factory=dict)

    def __post_init__(self):
        check_sheet_name(self.name, where=f"sheet {self.name!r}")
        cells = tuple(self.cells)
        seen = set()
        for cell in cells:
            if not isinstance(cell, Cell):
                _fail(f"sheet {self.name!r}", f"cells must be Cell objects; got {type(cell).__name__}")
            if (cell.row, cell.column) in seen:
                _fail(f"sheet {self.name!r}", f"two cells at {cell_reference(cell.row, cell.column)}")
            seen.add((cell.row, cell.column))
        object.__setattr__(self, "cells", cells)
        object.__setattr__(self, "widths", dict(self.widths))

    @property
    def tables(self) -> tuple:
        return ()


@dataclass(frozen=True)
class Workbook:
    """Everything a report workbook shows, ready for :func:`costspine.reports.excel.write_workbook`.

    Parameters
    ----------
    title : str
        Scenario (or report) name, the Summary sheet's heading.
    description : str
        The scenario's description, shown under the title.
    currency : str
        ISO 4217 code of every money column (``USD``, ``GBP``, ``EUR`` ...).
    reading : sequence of str
        Plain-language sentences that say what the headline table means.
    headline : Table
        The headline table on the Summary sheet.
    inputs : Table or None
        Every parameter: name, value, distribution, source (Inputs sheet).
    unit_prices : Table or None
        Resolved unit prices by item, with price year and payer multiplier (Unit prices sheet).
    more_inputs : sequence of Table
        Further parameter tables on the Inputs sheet, below ``inputs``, each titled (a budget
        impact's second model: "Prevalent patients: <model>"); needs ``inputs``.
    sheets : sequence of Sheet or FormulaSheet
        Result sheets, in order, between Inputs and About.
    about : dict of str to str
        Provenance (package version, command line, seed, date, input file hashes), in order.
    """

    title: str
    description: str
    currency: str
    reading: tuple[str, ...]
    headline: Table
    inputs: Table | None = None
    unit_prices: Table | None = None
    sheets: tuple[Sheet | FormulaSheet, ...] = ()
    about: dict[str, str] = field(default_factory=dict)
    more_inputs: tuple[Table, ...] = ()

    def __post_init__(self):
        check_text(self.title, where="workbook title", allow_newlines=False)
        if not self.title.strip():
            _fail("workbook title", "must not be empty")
        check_text(self.description, where="workbook description")
        if not isinstance(self.currency, str) or not _CURRENCY_CODE.match(self.currency):
            _fail("workbook currency", f"expected a three-letter ISO 4217 code such as 'USD' or 'GBP'; got {self.currency!r}")
        reading = (self.reading,) if isinstance(self.reading, str) else tuple(self.reading)
        for i, sentence in enumerate(reading):
            check_text(sentence, where=f"workbook reading sentence {i}")
        for label, table in (("headline", self.headline), ("inputs", self.inputs), ("unit_prices", self.unit_prices)):
            if table is None and label == "headline" or table is not None and not isinstance(table, Table):
                _fail(f"workbook {label}", f"expected a Table; got {type(table).__name__}")
        more_inputs = tuple(self.more_inputs)
        for i, table in enumerate(more_inputs):
            if not isinstance(table, Table) or not table.title:
                _fail(f"workbook more_inputs[{i}]", f"expected a Table with a title; got {type(table).__name__}")
        if more_inputs and self.inputs is None:
            _fail("workbook more_inputs", "further parameter tables need the first one (inputs)")
        object.__setattr__(self, "more_inputs", more_inputs)
        sheets = tuple(self.sheets)
        names = {}
        for sheet in sheets:
            if not isinstance(sheet, (Sheet, FormulaSheet)):
                _fail("workbook sheets", f"expected Sheet or FormulaSheet objects; got {type(sheet).__name__}")
            key = sheet.name.casefold()
            if key in {r.casefold() for r in RESERVED_SHEETS}:
                _fail(f"sheet {sheet.name!r}", f"the name is reserved ({', '.join(RESERVED_SHEETS)}); choose another")
            if key in names:
                _fail(
                    f"sheet {sheet.name!r}",
                    f"two sheets are called {names[key]!r} and {sheet.name!r} (Excel ignores case); rename one",
                )
            names[key] = sheet.name
        tables = {r: "the About sheet" for r in RESERVED_TABLES}
        for where, table in self._all_tables(sheets):
            key = table.name.casefold()
            if key in tables:
                _fail(
                    f"table {table.name!r} ({where})",
                    f"the name is already used by {tables[key]} "
                    "(table names are unique in a workbook, ignoring case); rename one",
                )
            tables[key] = f"a table on {where}"
        if not isinstance(self.about, dict):
            _fail("workbook about", f"expected a dict of text to text; got {type(self.about).__name__}")
        for key, value in self.about.items():
            check_text(key, where="workbook about key", allow_newlines=False)
            check_text(value, where=f"workbook about[{key!r}]")
        object.__setattr__(self, "reading", reading)
        object.__setattr__(self, "sheets", sheets)
        object.__setattr__(self, "about", dict(self.about))

    def _all_tables(self, sheets):
        yield "the Summary sheet", self.headline
        for where, table in (("the Inputs sheet", self.inputs), ("the Unit prices sheet", self.unit_prices)):
            if table is not None:
                yield where, table
        for table in self.more_inputs:
            yield "the Inputs sheet", table
        for sheet in sheets:
            for table in sheet.tables:
                yield f"sheet {sheet.name!r}", table

    @property
    def has_inputs(self) -> bool:
        return self.inputs is not None or self.unit_prices is not None

    @property
    def sheet_names(self) -> tuple[str, ...]:
        """Sheet names in workbook order."""
        middle = ("Inputs",) * (self.inputs is not None) + ("Unit prices",) * (self.unit_prices is not None)
        return ("Summary", *middle, *(s.name for s in self.sheets), "About")
