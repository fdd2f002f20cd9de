"""Figures of model runs and budgets: budget by year, cost by category, trajectories, Markov trace, tables.

Each ``plot_*`` function takes plain arrays and labels, draws one figure and returns it; matplotlib
objects come only from :mod:`costspine.reports.figures.common` (see :mod:`costspine.reports.figures`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from costspine.errors import UsageError
from costspine.reports.figures.common import (
    COLOURS,
    SIZE,
    STATE_COLOURS,
    _axes,
    _money,
    _money_formatter,
    _new_figure,
    _plain_text,
    _save,
    _series,
    _style,
    _vector,
    _wrap_label,
)
from costspine.reports.workbook import Table

if TYPE_CHECKING:  # annotations only
    from costspine.reports.figures.common import Figure


def plot_budget(
    years,
    series: dict,
    *,
    currency: str,
    ax=None,
    stacked: bool = False,
    title: str = "Budget impact by year",
    ylabel: str | None = None,
) -> Figure:
    """Bars of budget by year, one bar (or stacked segment) per series.

    Parameters
    ----------
    years : array of int, shape (year,)
    series : dict of str to array, shape (year,)
        E.g. ``{"current mix": ..., "new mix": ...}`` or costs by category with ``stacked=True``.
    currency : str
    stacked : bool
        Stack the series (categories adding up to a total) instead of placing them side by side.
    """
    years = _vector(years, "plot_budget years")
    data = _series(series, "plot_budget series", length=len(years), index_name="years")
    figure, ax = _axes(ax)
    x = np.arange(len(years))
    width = 0.8 if stacked else 0.8 / len(data)
    bottom = np.zeros(len(years))
    for k, (label, values) in enumerate(data.items()):
        colour = COLOURS[k % len(COLOURS)]
        if stacked:
            ax.bar(x, values, width, bottom=bottom, color=colour, label=label)
            bottom = bottom + values
        else:
            ax.bar(x - 0.4 + width * (k + 0.5), values, width, color=colour, label=label)
    ax.set_xticks(x, [f"{y:.0f}" if float(y).is_integer() else f"{y:g}" for y in years])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    _style(ax, title=title, xlabel="Year", ylabel=ylabel or f"Budget ({currency})")
    ax.grid(False, axis="x")
    ax.legend(loc="best", fontsize=8, frameon=False, ncols=min(len(data), 3))
    return figure


def plot_cost_by_category(
    labels, series: dict, *, currency: str, ax=None, title: str = "Cost per patient by category", ylabel: str | None = None
) -> Figure:
    """Stacked bars of cost by category, one bar per strategy (or per scenario and strategy, or year).

    Negative amounts (savings) stack below zero; each bar's total is written at its end.

    Parameters
    ----------
    labels : sequence of str, shape (bar,)
        Bar labels, e.g. strategy names; long labels are wrapped (``"\\n"`` starts a new line) and
        the figure widens with the number of bars.
    series : dict of str to array, shape (bar,)
        Cost of each category (``currency``) per bar; segments stack in dict order and the bar's
        total is written above it.
    currency : str
    ylabel : str, optional
        Defaults to "Cost per patient (<currency>)".
    """
    labels = [labels] if isinstance(labels, str) else [str(label) for label in labels]
    if not labels:
        raise UsageError("plot_cost_by_category labels: expected at least one bar label")
    data = _series(series, "plot_cost_by_category series", length=len(labels), index_name="bars")
    longest = max(len(name) for name in data)
    columns = 1 if longest > 45 else 2 if longest > 24 else 3
    legend_rows = -(-len(data) // columns)
    # wider with more bars, taller with more legend rows (the legend sits under the bars)
    own_figure = ax is None
    figure, ax = _axes(ax, size=(max(SIZE[0], 2.5 + 0.95 * len(labels)), SIZE[1] + 0.2 * legend_rows))
    x = np.arange(len(labels))
    width = 0.65
    top, bottom = np.zeros(len(labels)), np.zeros(len(labels))  # negative costs (savings) stack downwards
    for k, (label, values) in enumerate(data.items()):
        base = np.where(values >= 0, top, bottom)
        ax.bar(x, values, width, bottom=base, color=COLOURS[k % len(COLOURS)], label=label)
        top = top + np.clip(values, 0, None)
        bottom = bottom + np.clip(values, None, 0)
    totals = sum(data.values())
    for xi, total, high, low in zip(x, totals, top, bottom):  # the total above a bar, or below one that is a saving
        ax.annotate(
            _money(total, currency),
            (xi, high if total >= 0 else low),
            textcoords="offset points",
            xytext=(0, 3 if total >= 0 else -3),
            ha="center",
            va="bottom" if total >= 0 else "top",
            fontsize=8,
        )
    wrap = 13 if len(labels) > 4 else 24
    ax.set_xticks(x, [_plain_text(_wrap_label(label, wrap)) for label in labels], fontsize=8)
    ax.axhline(0, color="black", linewidth=0.8)
    span = (max(top.max(), 0) - min(bottom.min(), 0)) or 1.0
    ax.set_ylim(  # room for the totals written, and a margin so no bar ends on the frame
        min(bottom.min(), 0) - (0.08 if (totals < 0).any() else 0.02) * span,
        max(top.max(), 0) + (0.08 if (totals >= 0).any() else 0.02) * span,
    )
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    _style(ax, title=title, xlabel="", ylabel=ylabel or f"Cost per patient ({currency})")
    ax.grid(False, axis="x")
    # under the plot on a figure of its own; inside the caller's Axes otherwise
    legend = figure.legend if own_figure else ax.legend
    legend(
        *ax.get_legend_handles_labels(),
        loc="outside lower center" if own_figure else "best",
        ncols=columns,
        fontsize=8,
        frameon=False,
    )
    return figure


def plot_trajectory(
    time,
    series: dict,
    *,
    ylabel: str,
    ax=None,
    xlabel: str = "Time (years)",
    title: str = "Outcome over time",
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """Lines of an outcome (e.g. mean ODI) over time, one per strategy.

    Parameters
    ----------
    time : array, shape (cycle,)
    series : dict of str to array, shape (cycle,)
    ylabel : str
        Outcome with units, e.g. "Mean ODI (0–100, lower is better)".
    ylim : (float, float), optional
        Fixed y range, e.g. ``(0, 100)`` for ODI.
    """
    time = _vector(time, "plot_trajectory time")
    data = _series(series, "plot_trajectory series", length=len(time), index_name="time points")
    figure, ax = _axes(ax)
    marker = "o" if len(time) <= 25 else None
    for k, (label, values) in enumerate(data.items()):
        ax.plot(time, values, color=COLOURS[k % len(COLOURS)], linewidth=1.8, marker=marker, markersize=3.5, label=label)
    if ylim is not None:
        ax.set_ylim(*ylim)
    _style(ax, title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return figure


def plot_trace(
    time,
    traces: dict,
    *,
    figure=None,
    title: str = "Markov trace",
    xlabel: str = "Time (years)",
    ylabel: str = "Share of the cohort (0–1)",
) -> Figure:
    """State occupancy over time: one panel per strategy, one line per state (same colour in every panel).

    Parameters
    ----------
    time : array, shape (cycle + 1,)
        Time of each trace point, in years.
    traces : dict of str to (dict of str to array, shape (cycle + 1,))
        Strategy label → state label → share of the cohort in that state at each point.
    """
    import math

    time = _vector(time, "plot_trace time")
    if not isinstance(traces, dict) or not traces:
        raise UsageError("plot_trace traces: expected a non-empty dict of strategy label -> {state label: array}")
    data = {
        str(strategy): _series(states, f"plot_trace traces[{strategy!r}]", length=len(time), index_name="time points")
        for strategy, states in traces.items()
    }
    state_names = list(dict.fromkeys(name for states in data.values() for name in states))
    columns = min(len(data), 3)
    rows = math.ceil(len(data) / columns)
    figure = _new_figure((SIZE[0] if columns < 3 else 9.0, 1.2 + 2.9 * rows)) if figure is None else figure
    axes = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
    marker = "o" if len(time) <= 25 else None
    for n, (strategy, states) in enumerate(data.items()):
        ax = axes[n // columns][n % columns]
        for name, values in states.items():
            k = state_names.index(name)
            ax.plot(
                time,
                values,
                color=STATE_COLOURS[k % len(STATE_COLOURS)],
                linewidth=1.6,
                marker=marker,
                markersize=2.5,
                linestyle=("-", "--", ":", "-.")[(k // len(STATE_COLOURS)) % 4],
                label=_plain_text(name),
            )
        ax.set_title(_plain_text(_wrap_label(strategy, 40 if columns < 3 else 28)), fontsize=9, loc="left")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(True, color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for n in range(len(data), rows * columns):
        axes[n // columns][n % columns].set_visible(False)
    figure.suptitle(_plain_text(title), fontsize=12, fontweight="bold", x=0.01, ha="left")
    for n in range(len(data)):
        if n + columns >= len(data):  # lowest panel of its column
            axes[n // columns][n % columns].set_xlabel(_plain_text(xlabel))
            axes[n // columns][n % columns].xaxis.set_tick_params(labelbottom=True)
    for row in axes:
        row[0].set_ylabel(_plain_text(ylabel))
    handles, labels = axes[0][0].get_legend_handles_labels()
    seen = set(labels)
    for row in axes:
        for ax in row:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                if label not in seen:
                    handles.append(handle)
                    labels.append(label)
                    seen.add(label)
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3), fontsize=8, frameon=False)
    return figure


def plot_table_png(table: Table, path, *, currency: str = "USD", title: str | None = None) -> Path:
    """:func:`plot_table` written as a PNG at ``path`` (cropped to the table); returns the Path."""
    return _save(plot_table(table, currency=currency, title=title), path, tight=True)


def plot_table(table: Table, *, ax=None, currency: str = "USD", title: str | None = None) -> Figure:
    """A small table (the headline results) drawn as a picture, formatted as in the workbook.

    Parameters
    ----------
    table : Table
        At most 30 rows and 10 columns: this is for a README or slide, not for data.
    ax : matplotlib.axes.Axes, optional
        Draw here (default: a new figure sized to the table).
    currency : str
        Currency of the table's money columns.
    title : str, optional
        Defaults to the table's title.
    """
    if not isinstance(table, Table):
        raise UsageError(f"plot_table expects a costspine.reports.workbook.Table; got {type(table).__name__}")
    if len(table.rows) > 30 or len(table.columns) > 10:
        raise UsageError(
            f"plot_table: table {table.name!r} has {len(table.rows)} rows and {len(table.columns)} "
            "columns; a picture holds at most 30 rows and 10 columns — pass the headline table"
        )
    cells = [[_plain_text(c.format_value(v, currency)) for c, v in zip(table.columns, row)] for row in table.rows]
    widths = [max([len(c.name) * 1.1] + [len(r[j]) for r in cells]) + 3 for j, c in enumerate(table.columns)]
    total = sum(widths)
    figure, ax = _axes(ax, size=(max(4.0, 0.085 * total + 0.6), 0.45 + 0.25 * (len(cells) + 1)))
    ax.axis("off")
    heading = title if title is not None else table.title
    if heading:
        ax.set_title(_plain_text(heading), fontsize=11, fontweight="bold", loc="left", color="#1F3864")
    drawn = ax.table(
        cellText=cells or [[""] * len(table.columns)],
        colLabels=[_plain_text(name) for name in table.column_names],
        colWidths=[w / total for w in widths],
        loc="upper center",
        cellLoc="right",
    )
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(9)
    drawn.scale(1.0, 1.35)
    for (row, col), cell in drawn.get_celld().items():
        is_text = not table.columns[col].is_numeric
        cell.get_text().set_horizontalalignment("left" if is_text else "right")
        cell.PAD = 0.04
        # banded rows as in the workbook; edges in the fill colour (open edges would drop the fill)
        colour = "#4472C4" if row == 0 else ("#DCE6F2" if row % 2 == 1 else "white")
        cell.set_facecolor(colour)
        cell.set_edgecolor(colour)
        if row == 0:
            cell.get_text().set_color("white")
            cell.get_text().set_fontweight("bold")
    return figure
