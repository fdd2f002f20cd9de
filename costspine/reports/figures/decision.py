"""Figures of decision analyses: cost-effectiveness plane, CEAC (with the CEAF), EVPI curve, tornado.

Each ``plot_*`` function takes plain arrays and labels, draws one figure and returns it; matplotlib
objects come only from :mod:`costspine.reports.figures.common` (see :mod:`costspine.reports.figures`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from costspine.errors import UsageError
from costspine.reports.figures.common import (
    COLOURS,
    MAX_CE_POINTS,
    SIZE,
    _axes,
    _labels,
    _matrix,
    _money,
    _money_formatter,
    _plain_text,
    _style,
    _vector,
)

if TYPE_CHECKING:  # annotations only
    from costspine.reports.figures.common import Figure


def plot_ce_plane(
    inc_cost,
    inc_effect,
    *,
    wtp: float | None,
    labels,
    currency: str,
    effect_name: str = "QALYs",
    ax=None,
    title: str = "Cost-effectiveness plane",
    max_points: int = MAX_CE_POINTS,
) -> Figure:
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
        ax.scatter(
            np.nanmean(effect[:, k]),
            np.nanmean(cost[:, k]),
            s=70,
            color=colour,
            edgecolor="black",
            linewidths=0.8,
            marker="D",
            zorder=3,
        )
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(0, color="black", linewidth=0.8)
    if wtp is not None:
        x_lo, x_hi = ax.get_xlim()
        xs = np.array([min(x_lo, 0.0), max(x_hi, 0.0)])
        ax.plot(
            xs,
            wtp * xs,
            color="#444444",
            linestyle="--",
            linewidth=1.0,
            label=f"threshold {_money(wtp, currency)} per {effect_name.rstrip('s')}",
        )
        ax.set_xlim(x_lo, x_hi)
    ax.scatter([], [], s=50, color="white", edgecolor="black", marker="D", label="mean")
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    _style(ax, title=title, xlabel=f"Incremental {effect_name}", ylabel=f"Incremental cost ({currency})")
    ax.legend(loc="best", fontsize=8, frameon=False, markerscale=1.5)
    return figure


def plot_ceac(
    wtp,
    prob,
    *,
    strategies,
    frontier=None,
    ax=None,
    currency: str | None = None,
    effect_name: str = "QALY",
    title: str | None = None,
) -> Figure:
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
            raise UsageError(
                f"plot_ceac frontier: expected strategy indices in [0, {len(names)}) or names from {names}; got {frontier[:5]}..."
            )
        ax.plot(
            wtp,
            prob[np.arange(len(wtp)), index],
            color="black",
            linestyle=(0, (4, 2)),
            linewidth=1.2,
            label="frontier (highest expected net benefit)",
        )
    ax.set_ylim(0, 1.02)
    if len(wtp) > 1:
        ax.set_xlim(wtp.min(), wtp.max())
    unit = f"{currency} per {effect_name}" if currency else f"per {effect_name}"
    if currency:
        ax.xaxis.set_major_formatter(_money_formatter(currency))
    _style(
        ax,
        title=title or ("Cost-effectiveness acceptability curves" + (" and frontier" if frontier is not None else "")),
        xlabel=f"Willingness to pay ({unit})",
        ylabel="Probability cost-effective",
    )
    ax.legend(loc="best", fontsize=8, frameon=False)
    return figure


def plot_evpi(
    wtp,
    evpi,
    *,
    currency: str,
    ax=None,
    effect_name: str = "QALY",
    per: str = "per person",
    title: str = "Expected value of perfect information",
) -> Figure:
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
        right_half = len(wtp) > 1 and wtp[k] > (np.nanmin(wtp) + np.nanmax(wtp)) / 2
        ax.annotate(  # written towards the middle of the plot, so it stays inside the figure
            f"max {_money(evpi[k], currency)} at {_money(wtp[k], currency)} per {effect_name}",
            (wtp[k], evpi[k]),
            textcoords="offset points",
            xytext=(-6, 6) if right_half else (6, 6),
            ha="right" if right_half else "left",
            fontsize=8,
        )
        ax.margins(y=0.12)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(_money_formatter(currency))
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    _style(ax, title=title, xlabel=f"Willingness to pay ({currency} per {effect_name})", ylabel=f"EVPI ({currency} {per})")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return figure


def plot_tornado(
    names,
    low,
    high,
    *,
    base: float,
    xlabel: str,
    ax=None,
    title: str = "One-way sensitivity analysis",
    low_label: str = "parameter at low value",
    high_label: str = "parameter at high value",
    currency: str | None = None,
) -> Figure:
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
    ax.set_yticks(y, [_plain_text(names[i]) for i in order])
    if currency:
        ax.xaxis.set_major_formatter(_money_formatter(currency))
    _style(ax, title=title, xlabel=xlabel, ylabel="")
    ax.grid(False, axis="y")
    base_text = _money(base, currency) if currency else f"{base:,.4g}"
    ax.legend(loc="lower right", fontsize=8, frameon=False, title=f"base case {base_text}", title_fontsize=8)
    return figure
