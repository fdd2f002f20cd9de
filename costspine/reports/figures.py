"""Figures of results (the ONLY importer of matplotlib).

Each ``plot_*`` function takes plain arrays and labels, draws one figure with a title, axis labels
with units and a legend, and returns the ``matplotlib.figure.Figure``. Pass ``ax=`` to draw into
an Axes of your own (a notebook's, a panel of a larger figure); otherwise the function makes a new
Figure with an Agg canvas attached directly: pyplot is never imported, no backend is selected and
no ``rcParams`` change, so plotting leaves matplotlib's global state as it found it (safe inside a
notebook, a server or a test run). Saving is the caller's choice: :func:`save_figure` writes a
150 dpi PNG atomically, and :func:`to_png` turns a ``plot_*`` function into one that draws and
writes (what the commands' reports use). matplotlib is imported inside the functions, so
``import costspine.reports.figures`` is cheap.

Example
-------
>>> figure = plot_ceac([0, 20000, 50000], [[0.6, 0.4], [0.4, 0.6], [0.2, 0.8]],
...                    strategies=["usual care", "physio"])
>>> type(figure).__name__
'Figure'
>>> save_figure(figure, tmp_path / "ceac.png").name  # tmp_path: any folder
'ceac.png'
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from costspine._files import write_atomic
from costspine.errors import UsageError
from costspine.reports.workbook import CURRENCY_SYMBOLS, Table

if TYPE_CHECKING:  # annotations only
    from matplotlib.figure import Figure

DPI = 150
SIZE = (7.0, 4.6)  # inches: 1050 x 690 pixels at 150 dpi
COLOURS = ("#4472C4", "#ED7D31", "#70AD47", "#FFC000", "#5B9BD5", "#A5A5A5", "#264478", "#9E480E")
STATE_COLOURS = ("#4472C4", "#ED7D31", "#70AD47", "#FFC000", "#7F7F7F", "#9E480E", "#264478", "#B07AA1")
MAX_CE_POINTS = 2000  # per comparator; more only hides the cloud's shape under ink


# ----------------------------------------------------------------------------------------- helpers

def _new_figure(size=SIZE):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _axes(ax, *, size=SIZE):
    """``(figure, ax)``: the caller's Axes and its figure, or a new figure of ``size`` with one Axes."""
    if ax is None:
        figure = _new_figure(size)
        return figure, figure.add_subplot()
    if not hasattr(ax, "get_figure"):
        raise UsageError(f"ax: expected a matplotlib Axes; got {type(ax).__name__}")
    return ax.get_figure(), ax


def save_figure(figure, path, *, tight: bool = False) -> Path:
    """Write ``figure`` as a 150 dpi PNG at ``path`` (atomically: no partial file on failure).

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        What a ``plot_*`` function returned.
    path : str or Path
        Ends in ``.png``.
    tight : bool
        Crop to the drawn content (used for tables).

    Returns
    -------
    Path

    Raises
    ------
    UsageError
        ``path`` does not end in ``.png``.
    """
    return _save(figure, path, tight=tight)


def to_png(plot):
    """``plot`` (a ``plot_*`` function) as a writer: same arguments plus ``path=``; returns the Path.

    The commands plan their figures as ``functools.partial(to_png(plot_ceac), ..., path=...)``
    and call them once everything is computed.
    """
    @functools.wraps(plot)
    def write(*args, path, **kwargs) -> Path:
        return _save(plot(*args, **kwargs), path)

    return write


def _save(figure, path, *, tight: bool = False) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UsageError(f"{path}: figures are written as PNG; got suffix {path.suffix!r} — use {path.with_suffix('.png').name}")
    buffer = io.BytesIO()
    extra = {"bbox_inches": "tight", "pad_inches": 0.12} if tight else {}
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white", **extra)
    return write_atomic(path, buffer.getvalue())


def _vector(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise UsageError(f"{name}: expected a 1-D array; got shape {array.shape}")
    return array


def _matrix(values, name: str, *, rows: int, rows_name: str) -> np.ndarray:
    """A 2-D array (rows, series); a 1-D array is one series."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] != rows:
        raise UsageError(f"{name}: expected shape ({rows_name}={rows}, series) or ({rows},); got {np.shape(values)}")
    return array


def _series(series: dict, name: str, *, length: int, index_name: str) -> dict[str, np.ndarray]:
    if not isinstance(series, dict) or not series:
        raise UsageError(f"{name}: expected a non-empty dict of label -> array")
    out = {}
    for label, values in series.items():
        array = _vector(values, f"{name}[{label!r}]")
        if len(array) != length:
            raise UsageError(f"{name}[{label!r}]: {len(array)} values for {length} {index_name}")
        out[str(label)] = array
    return out


def _labels(labels, count: int, name: str) -> list[str]:
    labels = [labels] if isinstance(labels, str) else list(labels)
    if len(labels) != count:
        raise UsageError(f"{name}: {len(labels)} labels for {count} series")
    return [str(label) for label in labels]


def _money_formatter(currency: str):
    from matplotlib.ticker import FuncFormatter

    symbol = CURRENCY_SYMBOLS.get(currency, "")

    def fmt(value, _pos=None):
        sign = "-" if value < 0 else ""
        value = abs(value)
        if value >= 1e6:
            text = f"{value / 1e6:,.1f}M"
        elif value >= 1e4:
            text = f"{value / 1e3:,.0f}k"
        else:
            text = f"{value:,.0f}"
        return f"{sign}{symbol}{text}" if symbol else f"{sign}{text}"

    return FuncFormatter(fmt)


def _money(value: float, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    text = f"{abs(value):,.0f}"
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def _wrap_label(text: str, width: int) -> str:
    """Wrap a tick label at spaces and after underscores (``spine_injection_cut_50``); keep ``\\n``."""
    import textwrap

    lines = []
    for part in text.split("\n"):
        wrapped = textwrap.wrap(part.replace("_", "_ "), width, break_long_words=False) or [""]
        lines += [line.replace("_ ", "_") for line in wrapped]
    return "\n".join(lines)


def _style(ax, *, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=12, fontweight="bold", loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


# ----------------------------------------------------------------------------------------- plots

def plot_ce_plane(inc_cost, inc_effect, *, wtp: float | None, labels, currency: str, effect_name: str = "QALYs",
                  ax=None, title: str = "Cost-effectiveness plane", max_points: int = MAX_CE_POINTS) -> Figure:
    """Scatter of incremental cost against incremental effect, one colour per comparator.

    Parameters
    ----------
    inc_cost, inc_effect : array, shape (draw, comparator) or (draw,)
        Incremental cost (``currency``) and effect (``effect_name``) of each comparator against
        the reference strategy, per PSA draw.
    wtp : float or None
        Willingness to pay per unit of effect; drawn as the threshold line ``cost = wtp * effect``.
    labels : sequence of str
        Comparator names, e.g. ``["physio vs usual care"]``.
    currency : str
        ISO code shown in the axis label.
    effect_name : str
        Unit of effect in the axis label (plural, e.g. "QALYs").
    max_points : int
        At most this many draws per comparator are drawn (the first ones); the means use all.

    Returns
    -------
    matplotlib.figure.Figure
    """
    cost = np.asarray(inc_cost, dtype=float)
    effect = np.asarray(inc_effect, dtype=float)
    if cost.shape != effect.shape:
        raise UsageError(f"plot_ce_plane: inc_cost has shape {cost.shape} but inc_effect has {effect.shape}")
    if cost.ndim not in (1, 2):
        raise UsageError(f"plot_ce_plane: expected arrays of shape (draw, comparator) or (draw,); got {cost.shape}")
    cost = _matrix(cost, "plot_ce_plane inc_cost", rows=cost.shape[0], rows_name="draw")
    effect = _matrix(effect, "plot_ce_plane inc_effect", rows=cost.shape[0], rows_name="draw")
    names = _labels(labels, cost.shape[1], "plot_ce_plane labels")
    figure, ax = _axes(ax)
    shown = slice(0, max(int(max_points), 1))
    for k, name in enumerate(names):
        colour = COLOURS[k % len(COLOURS)]
        ax.scatter(effect[shown, k], cost[shown, k], s=7, alpha=0.35, color=colour, linewidths=0, label=name)
        ax.scatter(np.nanmean(effect[:, k]), np.nanmean(cost[:, k]), s=70, color=colour, edgecolor="black",
                   linewidths=0.8, marker="D", zorder=3)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(0, color="black", linewidth=0.8)
    if wtp is not None:
        x_lo, x_hi = ax.get_xlim()
        xs = np.array([min(x_lo, 0.0), max(x_hi, 0.0)])
        ax.plot(xs, wtp * xs, color="#444444", linestyle="--", linewidth=1.0,
                label=f"threshold {_money(wtp, currency)} per {effect_name.rstrip('s')}")
        ax.set_xlim(x_lo, x_hi)
    ax.scatter([], [], s=50, color="white", edgecolor="black", marker="D", label="mean")
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    _style(ax, title=title, xlabel=f"Incremental {effect_name}", ylabel=f"Incremental cost ({currency})")
    ax.legend(loc="best", fontsize=8, frameon=False, markerscale=1.5)
    return figure


def plot_ceac(wtp, prob, *, strategies, frontier=None, ax=None, currency: str | None = None,
              effect_name: str = "QALY", title: str | None = None) -> Figure:
    """Cost-effectiveness acceptability curves, with the acceptability frontier when given.

    Parameters
    ----------
    wtp : array, shape (wtp,)
        Willingness-to-pay values (``currency`` per ``effect_name``).
    prob : array, shape (wtp, strategy)
        Probability that each strategy has the highest net benefit.
    strategies : sequence of str
    frontier : array of int or str, shape (wtp,), optional
        Strategy with the highest expected net benefit at each WTP (index or name): draws the
        cost-effectiveness acceptability frontier (CEAF) over the curves.
    currency, effect_name : str, optional
        Units for the x label ("Willingness to pay (USD per QALY)").
    """
    wtp = _vector(wtp, "plot_ceac wtp")
    prob = _matrix(prob, "plot_ceac prob", rows=len(wtp), rows_name="wtp")
    names = _labels(strategies, prob.shape[1], "plot_ceac strategies")
    figure, ax = _axes(ax)
    for k, name in enumerate(names):
        ax.plot(wtp, prob[:, k], color=COLOURS[k % len(COLOURS)], linewidth=1.8, label=name)
    if frontier is not None:
        frontier = list(frontier)
        if len(frontier) != len(wtp):
            raise UsageError(f"plot_ceac frontier: {len(frontier)} values for {len(wtp)} WTP values")
        index = [names.index(f) if isinstance(f, str) and f in names else f for f in frontier]
        if not all(isinstance(i, (int, np.integer)) and 0 <= i < len(names) for i in index):
            raise UsageError(f"plot_ceac frontier: expected strategy indices in [0, {len(names)}) or names "
                             f"from {names}; got {frontier[:5]}...")
        ax.plot(wtp, prob[np.arange(len(wtp)), index], color="black", linestyle=(0, (4, 2)), linewidth=1.2,
                label="frontier (highest expected net benefit)")
    ax.set_ylim(0, 1.02)
    if len(wtp) > 1:
        ax.set_xlim(wtp.min(), wtp.max())
    unit = f"{currency} per {effect_name}" if currency else f"per {effect_name}"
    if currency:
        ax.xaxis.set_major_formatter(_money_formatter(currency))
    _style(ax, title=title or ("Cost-effectiveness acceptability curves" + (" and frontier" if frontier is not None else "")),
           xlabel=f"Willingness to pay ({unit})", ylabel="Probability cost-effective")
    ax.legend(loc="best", fontsize=8, frameon=False)
    return figure


def plot_evpi(wtp, evpi, *, currency: str, ax=None, effect_name: str = "QALY", per: str = "per person",
              title: str = "Expected value of perfect information") -> Figure:
    """EVPI against willingness to pay.

    Parameters
    ----------
    wtp : array, shape (wtp,)
    evpi : array, shape (wtp,)
        Expected value of perfect information (``currency`` ``per`` person or population).
    per : str
        Shown in the y label, e.g. "per person" or "population, 10 years".
    """
    wtp = _vector(wtp, "plot_evpi wtp")
    evpi = _vector(evpi, "plot_evpi evpi")
    if len(evpi) != len(wtp):
        raise UsageError(f"plot_evpi: {len(evpi)} EVPI values for {len(wtp)} WTP values")
    figure, ax = _axes(ax)
    ax.plot(wtp, evpi, color=COLOURS[0], linewidth=2.0, label="EVPI")
    ax.fill_between(wtp, 0, evpi, color=COLOURS[0], alpha=0.12)
    if len(evpi) and np.isfinite(evpi).any():
        k = int(np.nanargmax(evpi))
        ax.annotate(f"max {_money(evpi[k], currency)} at {_money(wtp[k], currency)}", (wtp[k], evpi[k]),
                    textcoords="offset points", xytext=(6, 6), fontsize=8)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(_money_formatter(currency))
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    _style(ax, title=title, xlabel=f"Willingness to pay ({currency} per {effect_name})",
           ylabel=f"EVPI ({currency} {per})")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return figure


def plot_tornado(names, low, high, *, base: float, xlabel: str, ax=None, title: str = "One-way sensitivity analysis",
                 low_label: str = "parameter at low value", high_label: str = "parameter at high value",
                 currency: str | None = None) -> Figure:
    """Tornado diagram: the outcome with each parameter at its low and high value.

    Parameters
    ----------
    names : sequence of str, shape (parameter,)
    low, high : array, shape (parameter,)
        Outcome (absolute, in the units of ``xlabel``) with the parameter at its low / high value.
    base : float
        Base-case outcome; bars start from it.
    xlabel : str
        Outcome with units, e.g. "ICER (USD per QALY)" or "Net monetary benefit (GBP)".

    Notes
    -----
    Parameters are sorted by swing ``|high - low|``, widest on top.
    """
    low = _vector(low, "plot_tornado low")
    high = _vector(high, "plot_tornado high")
    names = _labels(names, len(low), "plot_tornado names")
    if len(high) != len(low):
        raise UsageError(f"plot_tornado: {len(low)} low values but {len(high)} high values")
    order = np.argsort(-np.abs(high - low), kind="stable")
    height = max(3.0, 1.2 + 0.38 * len(names))
    figure, ax = _axes(ax, size=(SIZE[0], min(height, 12.0)))
    y = np.arange(len(order))[::-1]
    ax.barh(y, low[order] - base, left=base, color=COLOURS[0], height=0.6, label=low_label)
    ax.barh(y, high[order] - base, left=base, color=COLOURS[1], height=0.6, label=high_label, alpha=0.9)
    ax.axvline(base, color="black", linewidth=1.0)
    ax.set_yticks(y, [names[i] for i in order])
    if currency:
        ax.xaxis.set_major_formatter(_money_formatter(currency))
    _style(ax, title=title, xlabel=xlabel, ylabel="")
    ax.grid(False, axis="y")
    base_text = _money(base, currency) if currency else f"{base:,.4g}"
    ax.legend(loc="lower right", fontsize=8, frameon=False, title=f"base case {base_text}", title_fontsize=8)
    return figure


def plot_budget(years, series: dict, *, currency: str, ax=None, stacked: bool = False,
                title: str = "Budget impact by year", ylabel: str | None = None) -> Figure:
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


def plot_cost_by_category(labels, series: dict, *, currency: str, ax=None, title: str = "Cost per patient by category",
                          ylabel: str | None = None) -> Figure:
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
        ax.annotate(_money(total, currency), (xi, high if total >= 0 else low), textcoords="offset points",
                    xytext=(0, 3 if total >= 0 else -3), ha="center", va="bottom" if total >= 0 else "top", fontsize=8)
    wrap = 13 if len(labels) > 4 else 24
    ax.set_xticks(x, [_wrap_label(label, wrap) for label in labels], fontsize=8)
    ax.axhline(0, color="black", linewidth=0.8)
    span = (max(top.max(), 0) - min(bottom.min(), 0)) or 1.0
    ax.set_ylim(min(bottom.min(), 0) - 0.08 * span * bool((totals < 0).any()),  # room for the totals written
                max(top.max(), 0) + 0.08 * span * bool((totals >= 0).any()))
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    _style(ax, title=title, xlabel="", ylabel=ylabel or f"Cost per patient ({currency})")
    ax.grid(False, axis="x")
    # under the plot on a figure of its own; inside the caller's Axes otherwise
    legend = figure.legend if own_figure else ax.legend
    legend(*ax.get_legend_handles_labels(), loc="outside lower center" if own_figure else "best", ncols=columns,
           fontsize=8, frameon=False)
    return figure


def plot_trajectory(time, series: dict, *, ylabel: str, ax=None, xlabel: str = "Time (years)",
                    title: str = "Outcome over time", ylim: tuple[float, float] | None = None) -> Figure:
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


def _plain_text(text) -> str:
    """``text`` for a matplotlib label: dollar signs escaped, so '$120 fee' is not read as mathtext."""
    return str(text).replace("$", r"\$")


def plot_trace(time, traces: dict, *, figure=None, title: str = "Markov trace", xlabel: str = "Time (years)",
               ylabel: str = "Share of the cohort (0–1)") -> Figure:
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
    data = {str(strategy): _series(states, f"plot_trace traces[{strategy!r}]", length=len(time), index_name="time points")
            for strategy, states in traces.items()}
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
            ax.plot(time, values, color=STATE_COLOURS[k % len(STATE_COLOURS)], linewidth=1.6, marker=marker,
                    markersize=2.5, linestyle=("-", "--", ":", "-.")[(k // len(STATE_COLOURS)) % 4], label=_plain_text(name))
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
        raise UsageError(f"plot_table: table {table.name!r} has {len(table.rows)} rows and {len(table.columns)} "
                         "columns; a picture holds at most 30 rows and 10 columns — pass the headline table")
    cells = [[c.format_value(v, currency) for c, v in zip(table.columns, row)] for row in table.rows]
    widths = [max([len(c.name) * 1.1] + [len(r[j]) for r in cells]) + 3 for j, c in enumerate(table.columns)]
    total = sum(widths)
    figure, ax = _axes(ax, size=(max(4.0, 0.085 * total + 0.6), 0.45 + 0.25 * (len(cells) + 1)))
    ax.axis("off")
    heading = title if title is not None else table.title
    if heading:
        ax.set_title(heading, fontsize=11, fontweight="bold", loc="left", color="#1F3864")
    drawn = ax.table(cellText=cells or [[""] * len(table.columns)], colLabels=list(table.column_names),
                     colWidths=[w / total for w in widths], loc="upper center", cellLoc="right")
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


__all__ = ["plot_ce_plane", "plot_ceac", "plot_evpi", "plot_tornado", "plot_budget", "plot_cost_by_category",
           "plot_trajectory", "plot_trace", "plot_table", "plot_table_png", "save_figure", "to_png"]
