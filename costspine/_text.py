"""Plain-text tables for the terminal. No pandas: the CLI's start-up stays fast."""

from __future__ import annotations

import math

import numpy as np


def format_table(headers: list[str], rows: list[list], *, title: str | None = None) -> str:
    """Right-aligned fixed-width table (first column left-aligned)."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths))))
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.2f}"
    return f"{value:.4f}"


def format_wrapped_table(
    headers: list[str],
    rows: list[list],
    *,
    wrap: tuple[int, ...] = (0,),
    width: int = 100,
    title: str | None = None,
    min_wrap: int = 12,
) -> str:
    """:func:`format_table` that fits ``width`` columns by wrapping the text of the ``wrap`` columns.

    Numbers and other columns keep their full width; the room left is shared among the ``wrap``
    columns (the widest shrinks first, down to its longest word, then if need be to ``min_wrap``
    characters; never wider than its longest cell), whose cells wrap at spaces onto continuation
    lines; only a word longer than its column is broken. The title wraps at ``width``. The table
    exceeds ``width`` only when the unwrapped columns alone do. Wrapped columns are
    left-aligned, the others right-aligned (first column left).
    """
    import textwrap

    cells = [[_fmt(v) for v in row] for row in rows]
    natural = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    fixed = sum(w for i, w in enumerate(natural) if i not in wrap) + 2 * (len(headers) - 1)
    room = max(width - fixed, min_wrap * len(wrap))
    widths = list(natural)
    wanted = {i: natural[i] for i in wrap}
    longest_word = {i: max((len(word) for r in [headers, *cells] for word in str(r[i]).split()), default=1) for i in wrap}
    for floor in (
        {i: min(natural[i], max(min_wrap, longest_word[i])) for i in wrap},
        {i: min(natural[i], min_wrap) for i in wrap},
    ):
        while sum(wanted.values()) > room:  # shrink the widest wrapped column first, words kept whole if possible
            widest = max((i for i in wanted if wanted[i] > floor[i]), key=wanted.get, default=None)
            if widest is None:
                break
            wanted[widest] -= 1
    for i, w in wanted.items():
        widths[i] = w
    left = set(wrap) | {0}

    def lines_of(row: list[str]) -> list[str]:
        parts = [textwrap.wrap(v, widths[i]) or [""] if i in wrap else [v] for i, v in enumerate(row)]
        height = max(len(p) for p in parts)
        out = []
        for n in range(height):
            texts = [p[n] if n < len(p) else "" for p in parts]
            out.append("  ".join(t.ljust(w) if i in left else t.rjust(w) for i, (t, w) in enumerate(zip(texts, widths))).rstrip())
        return out

    out = textwrap.wrap(title, width) if title else []
    out += lines_of(list(headers))
    out.append("  ".join("-" * w for w in widths))
    for row in cells:
        out += lines_of(row)
    return "\n".join(out)


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
