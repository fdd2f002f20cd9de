"""Figures of a calibration: rank plots of the chains and the posterior predictive check.

Plain arrays in, one figure out; matplotlib objects come only from
:mod:`costspine.reports.figures.common`.
"""

from __future__ import annotations

import numpy as np

from costspine.errors import UsageError
from costspine.reports.figures.common import COLOURS, _new_figure, _style, _wrap_label

RANK_BINS = 20


def plot_rank(draws: dict, *, n_chains: int, title: str = "Rank plots: each chain's share of the pooled ranks"):
    """Rank plot per parameter: histograms of each chain's draws' ranks among all chains' draws.

    Well-mixed chains give flat histograms (each bar near the dashed line); a chain stuck in one
    region shows as bars piled at one end (Vehtari et al. 2021, Bayesian Analysis 16(2):667-718).

    Parameters
    ----------
    draws : dict of str to ndarray, shape (chain * draw,)
        Chains stacked one after another (as :class:`~costspine.bayes.fit.FitResult` holds them).
    n_chains : int
    """
    names = list(draws)
    if not names:
        raise UsageError("plot_rank: no parameters")
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    figure = _new_figure((3.0 * cols, 1.9 * rows + 0.6))
    axes = figure.subplots(rows, cols, squeeze=False)
    for k, name in enumerate(names):
        ax = axes[k // cols][k % cols]
        values = np.asarray(draws[name], dtype=float)
        ranks = values.argsort(kind="stable").argsort(kind="stable")
        per_chain = ranks.reshape(n_chains, -1)
        edges = np.linspace(0, len(values), RANK_BINS + 1)
        width = (edges[1] - edges[0]) / (n_chains + 1)
        for c in range(n_chains):
            counts, _ = np.histogram(per_chain[c], bins=edges)
            ax.bar(edges[:-1] + c * width, counts, width=width, align="edge", color=COLOURS[c % len(COLOURS)])
        ax.axhline(per_chain.shape[1] / RANK_BINS, color="black", linestyle="--", linewidth=0.8)
        ax.set_title(_wrap_label(name, 28), fontsize=8)
        ax.set_xticks([])
        ax.tick_params(labelsize=7)
    for k in range(len(names), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    figure.suptitle(title, fontsize=11, fontweight="bold", x=0.01, ha="left")
    return figure


def plot_predictive_check(rows: list, *, title: str = "Posterior predictive check: model vs trial"):
    """Each target's trial estimate and 95% CI beside the model's posterior predictive mean and interval.

    Targets are standardised by the trial's CI (the trial CI runs from -1 to 1), so ODI points,
    ratios and dollars share one axis.

    Parameters
    ----------
    rows : list of list
        :attr:`costspine.bayes.calibration.Calibration.predictive` rows (target, kind, trial,
        trial low, trial high, model mean, model low, model high, ...).
    """
    if not rows:
        raise UsageError("plot_predictive_check: no targets")
    figure = _new_figure((7.0, 0.45 * len(rows) + 1.4))
    ax = figure.add_subplot()
    y = np.arange(len(rows))[::-1]
    for yi, row in zip(y, rows):
        _, _, trial, low, high, mean, m_low, m_high = row[:8]
        centre, half = (high + low) / 2, (high - low) / 2

        def z(v, centre=centre, half=half):
            return (v - centre) / half

        ax.plot([z(low), z(high)], [yi + 0.12] * 2, color="black", linewidth=2)
        ax.plot([z(trial)], [yi + 0.12], "o", color="black", markersize=4)
        ax.plot([z(m_low), z(m_high)], [yi - 0.12] * 2, color=COLOURS[0], linewidth=2)
        ax.plot([z(mean)], [yi - 0.12], "o", color=COLOURS[0], markersize=4)
    ax.set_yticks(y)
    ax.set_yticklabels([_wrap_label(r[0], 30) + ("" if r[-1] == "yes" else " (check)") for r in rows], fontsize=8)
    ax.axvline(-1, color="#999999", linestyle=":", linewidth=0.8)
    ax.axvline(1, color="#999999", linestyle=":", linewidth=0.8)
    ax.plot([], [], color="black", linewidth=2, label="trial 95% CI")
    ax.plot([], [], color=COLOURS[0], linewidth=2, label="model 95% interval")
    ax.legend(fontsize=8, loc="lower right")
    _style(ax, title=title, xlabel="position relative to the trial CI (-1 = lower limit, +1 = upper limit)", ylabel="")
    return figure
