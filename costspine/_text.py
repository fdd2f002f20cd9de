"""Plain-text tables for the terminal. No pandas: the CLI's start-up stays fast."""

from __future__ import annotations

import math

import numpy as np

TERMINAL_WIDTH = 100
HEADER_FLOOR = 5  # headers wrap down to this width (or their column's widest cell or word)
WRAP_FLOOR = 12  # text columns wrap down to this width (or their longest word) before a table is split


def format_table(
    headers: list[str],
    rows: list[list],
    *,
    title: str | None = None,
    width: int = TERMINAL_WIDTH,
    formats: dict | None = None,
    keep: int = 1,
) -> str:
    """A plain-text table at most ``width`` characters wide, one number format per column.

    Parameters
    ----------
    headers : list of str
    rows : list of list
        Cells: numbers (formatted here), strings (kept), ``None`` or NaN (shown as ``—``).
    title : str, optional
        A line above the table (wrapped at ``width``).
    width : int, default 100
        The widest line allowed.
    formats : dict, optional
        Column index -> format spec (``",.0f"``, ``".1%"``) or callable (number -> str) for that
        column's numbers; other numeric columns get one format from their largest value
        (:func:`column_format`).
    keep : int, default 1
        Leading columns repeated in every part when the table has to be split.

    Returns
    -------
    str
        Lines joined by newlines, none wider than ``width`` unless one word or number alone is.

    Notes
    -----
    To fit, headers wrap at spaces first (down to their column's widest cell), then text cells
    wrap at spaces (down to their longest word); numbers never wrap. A table still too wide is
    split into parts of whole columns, each repeating the first ``keep`` columns. Numeric columns
    are right-aligned, text columns (and the first) left-aligned.

    Examples
    --------
    >>> print(format_table(["strategy", "cost"], [["a", 858.75], ["b", 3021.0]]))
    strategy   cost
    --------  -----
    a           859
    b         3,021
    """
    formats = formats or {}
    n = len(headers)
    numeric = [
        any(_is_number(r[i]) or (isinstance(r[i], str) and _looks_numeric(r[i])) for r in rows) or all(r[i] is None for r in rows)
        for i in range(n)
    ]
    columns = []
    for i in range(n):
        spec = formats.get(i) or column_format([r[i] for r in rows])
        columns.append([_format_cell(r[i], spec) for r in rows])
    cells = [[columns[i][j] for i in range(n)] for j in range(len(rows))]
    return "\n".join(_fit([str(h) for h in headers], cells, numeric, width=width, title=title, keep=keep))


def format_wrapped_table(
    headers: list[str], rows: list[list], *, width: int = TERMINAL_WIDTH, title: str | None = None, **_
) -> str:
    """:func:`format_table` (kept for callers that asked for wrapping by name; every table wraps now)."""
    return format_table(headers, rows, width=width, title=title)


def wrap_text(text: str, width: int = TERMINAL_WIDTH, *, indent: str = "") -> str:
    """Prose lines wrapped at spaces to ``width`` (continuation lines indented by ``indent``); blank lines kept.

    A word longer than the line (a file path, a URL) is never cut: it overflows, so it can still be
    copied whole.
    """
    import textwrap

    out = []
    for line in str(text).split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        out += textwrap.wrap(
            line, width, initial_indent="", subsequent_indent=lead + indent, break_on_hyphens=False, break_long_words=False
        ) or [""]
    return "\n".join(out)


def column_format(values) -> str:
    """One format spec for a column's numbers: integers with separators, else decimals by the largest value.

    ``≥ 1,000``: none (``3,021``); ``≥ 10``: two (``85.88``); below: four (``0.0640``), more for
    columns of tiny values (two significant digits of the largest, at most eight decimals).

    Examples
    --------
    >>> column_format([858.75, 3021.0]), column_format([0.5, 0.75]), column_format([1, 2])
    (',.0f', ',.4f', ',d')
    """
    numbers = [v for v in values if _is_number(v) and math.isfinite(float(v))]
    if not numbers:
        return ",.4f"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in numbers):
        return ",d"
    largest = max(abs(float(v)) for v in numbers)
    if largest >= 1000:
        return ",.0f"
    if largest >= 10:
        return ",.2f"
    if largest == 0 or largest >= 0.001:
        return ",.4f"
    return f",.{min(8, 1 - math.floor(math.log10(largest)))}f"


def format_number(value, spec: str = ",.0f") -> str:
    """``format(value, spec)`` that never prints a negative zero: a value that rounds to zero has no sign.

    Examples
    --------
    >>> [format_number(v) for v in (-0.4, -0.0, 1234.5, -1234.5)]
    ['0', '0', '1,234', '-1,234']
    >>> format_number(-0.004, ".2f"), format_number(-0.004, ".1%")
    ('0.00', '-0.4%')
    """
    return _unsigned_zero(format(value, spec))


def _unsigned_zero(text: str) -> str:
    """``text`` without its minus sign when it shows no non-zero digit ('-0', '-0.00', '-0.0%')."""
    if text.startswith("-") and not any(c in "123456789∞" for c in text) and "nan" not in text.lower():
        return text[1:]
    return text


def format_significant(value, digits: int = 4) -> str:
    """A number to ``digits`` significant digits with thousands separators: the one format of a
    column holding values of different parameters ('0.3650', '43.07', '6,275').

    Examples
    --------
    >>> [format_significant(v) for v in (0.365, 43.07, 6275.4, 0.0)]
    ['0.3650', '43.07', '6,275', '0']
    """
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else ("∞" if value > 0 else "-∞")
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return _unsigned_zero(f"{value:,.{decimals}f}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _format_cell(value, spec) -> str:
    if isinstance(value, str):
        return value
    if value is None or (_is_number(value) and math.isnan(float(value))):
        return "—"
    if not _is_number(value):
        return str(value)
    if callable(spec):
        return spec(value)
    if math.isinf(float(value)):
        return "∞" if value > 0 else "-∞"
    return _unsigned_zero(format(int(value) if spec.endswith("d") else float(value), spec))


def _looks_numeric(text: str) -> bool:
    """A formatted number ('-1,234.5', '12.5%', '∞'): kept whole when a column wraps."""
    return bool(text) and not any(c.isspace() for c in text.strip()) and any(c.isdigit() or c == "∞" for c in text)


def _fmt(value) -> str:
    """One cell alone (HTML tables): the format its own column would have if it were alone."""
    return _format_cell(value, column_format([value]))


def _fit(headers, cells, numeric, *, width, title, keep) -> list[str]:
    """Lines of the table (see :func:`format_table`): widths shrunk to fit, else split into parts.

    Shrinking goes in steps, each taking the widest column that may still shrink: headers to
    ``HEADER_FLOOR + 4`` characters (never below their column's widest cell or longest word); text
    columns after the first ``keep`` to ``WRAP_FLOOR + 8``, then the kept ones; headers to
    ``HEADER_FLOOR``; text to ``WRAP_FLOOR``. A table still too wide is split into parts; only a
    part that cannot be split further wraps text down to its longest words.
    """
    n = len(headers)
    data = [max((len(r[i]) for r in cells), default=0) for i in range(n)]
    # numbers never wrap; text wraps at spaces, so its longest word is the least its column needs
    unbreakable = [
        max((len(r[i]) if _looks_numeric(r[i]) else max((len(w) for w in r[i].split()), default=0) for r in cells), default=0)
        for i in range(n)
    ]
    header_words = [max((len(w) for w in headers[i].split()), default=0) for i in range(n)]
    natural = [max(len(headers[i]), data[i]) for i in range(n)]
    floor = [max(unbreakable[i], header_words[i]) for i in range(n)]

    def headers_down_to(least):
        return [max(data[i], header_words[i], min(len(headers[i]), least)) for i in range(n)]

    def text_down_to(least, columns):
        return [max(floor[i], min(natural[i], least)) if i in columns else natural[i] for i in range(n)]

    text = {i for i in range(n) if not numeric[i] or unbreakable[i] < data[i]}  # columns with cells that can wrap
    steps = [  # each step may only narrow what the ones before it allowed
        headers_down_to(HEADER_FLOOR + 4),
        text_down_to(WRAP_FLOOR + 8, text - set(range(keep))),
        text_down_to(WRAP_FLOOR + 8, text),
        headers_down_to(HEADER_FLOOR),
        text_down_to(WRAP_FLOOR, text),
    ]
    widths = list(natural)

    def shrink(floors):
        while sum(widths) + 2 * (n - 1) > width:
            shrinkable = [i for i in range(n) if widths[i] > floors[i]]
            if not shrinkable:
                return
            widths[max(shrinkable, key=lambda i: widths[i])] -= 1

    allowed = list(natural)
    for step in steps:
        allowed = [min(a, b) for a, b in zip(allowed, step)]
        shrink(allowed)
    if sum(widths) + 2 * (n - 1) > width and n > keep + 1:
        # parts are packed with headers wrapped a little and text wrapped to WRAP_FLOOR + 8; each part then fits itself
        sizes = [min(steps[0][i], steps[2][i]) for i in range(n)]
        return _split(headers, cells, numeric, sizes, width, title, keep)
    shrink(floor)
    return _render(headers, cells, numeric, widths, width=width, title=title)


def _split(headers, cells, numeric, sizes, width, title, keep) -> list[str]:
    """Parts of whole columns that fit ``width`` at ``sizes``, each repeating the first ``keep`` columns."""
    base = sum(sizes[:keep]) + 2 * keep

    def pack(limit):
        parts, current, used = [], [], base
        for i in range(keep, len(headers)):
            if current and used + sizes[i] > limit:
                parts.append(current)
                current, used = [], base
            current.append(i)
            used += sizes[i] + 2
        return parts + [current]

    parts = pack(width)
    low, high = base, width  # the narrowest limit giving as few parts: parts of even width
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if len(pack(middle)) <= len(parts) else (middle + 1, high)
    parts = pack(high)
    lines = []
    for p, part in enumerate(parts):
        index = list(range(keep)) + part
        if p:
            lines.append("")
        lines += _fit(
            [headers[i] for i in index],
            [[r[i] for i in index] for r in cells],
            [numeric[i] for i in index],
            width=width,
            title=title if p == 0 else (f"{title} (continued)" if title else None),
            keep=len(index),  # a part is not split again
        )
    return lines


def _render(headers, cells, numeric, widths, *, width, title) -> list[str]:
    import textwrap

    left = [i == 0 or not numeric[i] for i in range(len(headers))]

    def block(row, bottom=False):
        parts = [[v] if len(v) <= widths[i] else textwrap.wrap(v, widths[i], break_on_hyphens=False) for i, v in enumerate(row)]
        height = max(len(p) for p in parts)
        if bottom:
            parts = [[""] * (height - len(p)) + p for p in parts]
        out = []
        for k in range(height):
            texts = [p[k] if k < len(p) else "" for p in parts]
            out.append("  ".join(t.ljust(w) if left[i] else t.rjust(w) for i, (t, w) in enumerate(zip(texts, widths))).rstrip())
        return out

    lines = textwrap.wrap(title, width, break_on_hyphens=False) if title else []
    lines += block(headers, bottom=True)
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines += block(row)
    return lines


# ------------------------------------------------------------------------------------------------
# Notebook display: short reprs and small HTML tables of headline numbers


def format_repr(kind: str, **facts) -> str:
    """One line naming a result: its type and a few facts, never its arrays.

    Parameters
    ----------
    kind : str
        The type's name.
    **facts
        Name -> value; sequences of strings are shown as a comma-separated list (the first five,
        then how many more), None values are left out.

    Examples
    --------
    >>> format_repr("CohortResult", scenario="base_case", strategies=("a", "b"), draws=1)
    "<CohortResult scenario='base_case' strategies=[a, b] draws=1>"
    """
    parts = [kind]
    for name, value in facts.items():
        if value is None:
            continue
        if isinstance(value, (tuple, list)):
            shown = [str(v) for v in value[:5]]
            more = f", … {len(value) - 5} more" if len(value) > 5 else ""
            value = "[" + ", ".join(shown) + more + "]"
        elif isinstance(value, str):
            value = repr(value)
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = f"{int(value)}"
        parts.append(f"{name}={value}")
    return "<" + " ".join(parts) + ">"


def format_html_table(headers: list[str], rows: list[list], *, caption: str | None = None) -> str:
    """A small HTML table (numbers formatted as :func:`format_table` does) for ``_repr_html_``.

    Examples
    --------
    >>> format_html_table(["strategy", "cost"], [["a", 1234.5]], caption="Base case")
    '<table><caption>Base case</caption><thead><tr><th>strategy</th><th>cost</th></tr></thead><tbody><tr><td>a</td><td style="text-align:right">1,234</td></tr></tbody></table>'
    """
    import html

    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = []
    for row in rows:
        cells = [
            f"<td>{html.escape(_fmt(v))}</td>"
            if i == 0 or isinstance(v, str)
            else f'<td style="text-align:right">{html.escape(_fmt(v))}</td>'
            for i, v in enumerate(row)
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
