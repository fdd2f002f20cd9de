"""Summaries of PSA draws: mean, spread and intervals of any quantity, incremental results
against a comparator, and the Monte Carlo convergence of the incremental net benefit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine.analysis.decision import _as_cost_effect, _check_finite, _strategy_labels
from costspine.errors import UsageError

__all__ = ["DrawSummary", "IncrementalPSA", "MCConvergence", "compute_mc_convergence", "summarize_draws", "summarize_incremental"]


# -------------------------------------------------------------------------------- summaries
@dataclass(frozen=True)
class DrawSummary:
    """Mean, standard deviation and 95% percentile interval of draws.

    Attributes
    ----------
    mean, sd, lower, upper : ndarray
        Shape of the input without the summarised axis; ``lower``/``upper`` are the 2.5% and
        97.5% quantiles.
    n_draws : int
    """

    mean: np.ndarray
    sd: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_draws: int


def summarize_draws(values, *, axis: int = 0) -> DrawSummary:
    """Summarise draws by mean, sd and 2.5%/97.5% quantiles.

    Parameters
    ----------
    values : array-like
        Draws; the draw axis is ``axis``.
    axis : int, default 0

    Returns
    -------
    DrawSummary

    Notes
    -----
    ``sd`` uses ``n − 1`` (0 for a single draw). Quantiles are numpy's default (linear
    interpolation between order statistics, Hyndman & Fan type 7, as R's ``quantile``). The
    interval describes the spread of the draws (a 95% uncertainty interval), not the precision
    of the mean — see :func:`compute_mc_convergence` for that.

    Examples
    --------
    >>> s = summarize_draws([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> float(s.mean), float(s.lower), float(s.upper)
    (3.0, 1.1, 4.9)
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0 or not -arr.ndim <= axis < arr.ndim or arr.shape[axis] < 1:
        raise UsageError(f"values must have at least one draw along axis {axis}; got shape {arr.shape}")
    arr = np.moveaxis(arr, axis, 0)
    _check_finite(arr, name="values", axes=("draw",) + tuple(f"axis{k}" for k in range(1, arr.ndim)))
    n = arr.shape[0]
    sd = arr.std(axis=0, ddof=1) if n > 1 else np.zeros(arr.shape[1:])
    lower, upper = np.quantile(arr, [0.025, 0.975], axis=0)
    return DrawSummary(arr.mean(axis=0), np.asarray(sd), lower, upper, n)


@dataclass(frozen=True)
class IncrementalPSA:
    """Incremental cost and effect of each strategy versus a comparator, with uncertainty.

    Attributes
    ----------
    strategies : tuple of str
    comparator : int
        Index of the comparator (its row is all zeros).
    incremental_cost, incremental_effect : DrawSummary
        Of ``cost[:, s] − cost[:, comparator]`` (and effect); fields have shape (strategy,).
    prob_cost_saving : ndarray, shape (strategy,)
        ``P(Δcost < 0)``.
    prob_more_effect : ndarray, shape (strategy,)
        ``P(Δeffect > 0)``.
    """

    strategies: tuple
    comparator: int
    incremental_cost: DrawSummary
    incremental_effect: DrawSummary
    prob_cost_saving: np.ndarray
    prob_more_effect: np.ndarray

    def summary(self, *, currency: str = "", effect_label: str = "effect") -> str:
        """Plain-text table: mean increments with 95% intervals and the two probabilities.

        Parameters
        ----------
        currency, effect_label : str, optional
            For the headers ('Δ cost (USD)', 'Δ QALYs').
        """
        from costspine._text import column_format, format_table

        c, e = self.incremental_cost, self.incremental_effect
        money = f" ({currency})" if currency else ""
        rows = [
            [
                name,
                c.mean[s],
                c.lower[s],
                c.upper[s],
                e.mean[s],
                e.lower[s],
                e.upper[s],
                self.prob_cost_saving[s],
                self.prob_more_effect[s],
            ]
            for s, name in enumerate(self.strategies)
            if s != self.comparator
        ]
        headers = [
            "strategy",
            f"Δ cost{money}",
            "2.5%",
            "97.5%",
            f"Δ {effect_label}",
            "2.5%",
            "97.5%",
            "P(saves money)",
            f"P(more {effect_label})",
        ]
        probability = {7: ".3f", 8: ".3f"}
        money_columns = column_format([v for r in rows for v in r[1:4]])  # one format for a mean and its interval
        effect_columns = column_format([v for r in rows for v in r[4:7]])
        formats = {**dict.fromkeys((1, 2, 3), money_columns), **dict.fromkeys((4, 5, 6), effect_columns), **probability}
        return format_table(
            headers,
            rows,
            formats=formats,
            title=f"Incremental results vs {self.strategies[self.comparator]} (means and 95% intervals)",
        )


def summarize_incremental(cost, effect, *, comparator: int = 0, strategies=None) -> IncrementalPSA:
    """Incremental cost and effect versus a comparator, with 95% intervals and probabilities.

    Parameters
    ----------
    cost, effect : array-like, shape (draw, strategy)
    comparator : int, default 0
        Index of the reference strategy.
    strategies : sequence of str, optional
        Labels; default ``"0", "1", ...``.

    Returns
    -------
    IncrementalPSA

    Notes
    -----
    Per draw ``Δc_is = c_is − c_i,ref`` and ``Δe_is = e_is − e_i,ref`` (paired: the same draw of
    every strategy shares parameter values). Intervals are the 2.5% and 97.5% quantiles of the
    paired differences; ``P(cost-saving) = mean_i 1[Δc_is < 0]``,
    ``P(more effect) = mean_i 1[Δe_is > 0]`` (ties count as neither).

    Examples
    --------
    >>> r = summarize_incremental([[1.0, 3.0], [1.0, 0.0]], [[1.0, 2.0], [1.0, 2.0]])
    >>> float(r.prob_cost_saving[1]), float(r.prob_more_effect[1])
    (0.5, 1.0)
    """
    cost, effect = _as_cost_effect(cost, effect)
    n_strategies = cost.shape[1]
    if isinstance(comparator, bool) or not isinstance(comparator, (int, np.integer)) or not 0 <= comparator < n_strategies:
        raise UsageError(f"comparator must be a strategy index in 0..{n_strategies - 1}; got {comparator!r}")
    dc = cost - cost[:, [comparator]]
    de = effect - effect[:, [comparator]]
    return IncrementalPSA(
        strategies=_strategy_labels(strategies, n_strategies),
        comparator=int(comparator),
        incremental_cost=summarize_draws(dc),
        incremental_effect=summarize_draws(de),
        prob_cost_saving=(dc < 0).mean(axis=0),
        prob_more_effect=(de > 0).mean(axis=0),
    )


# ------------------------------------------------------------------------------ convergence
@dataclass(frozen=True)
class MCConvergence:
    """Running mean of a PSA output by number of draws, and its Monte Carlo standard error.

    Attributes
    ----------
    running_mean : ndarray, shape (draw, ...)
        Mean of the first ``n`` draws, for ``n = 1..N``.
    mcse : ndarray, shape (...)
        Monte Carlo standard error of the final mean, ``sd / √N``.
    checkpoints : ndarray of int, shape (checkpoint,)
        ``n`` = 100, 200, 500, 1000, 2000, 5000, ... up to ``N``, and ``N`` itself.
    checkpoint_mean, checkpoint_mcse : ndarray, shape (checkpoint, ...)
        Running mean and ``sd_n / √n`` at each checkpoint (``nan`` sd for ``n = 1``).
    """

    running_mean: np.ndarray
    mcse: np.ndarray
    checkpoints: np.ndarray
    checkpoint_mean: np.ndarray
    checkpoint_mcse: np.ndarray

    def summary(self) -> str:
        """Checkpoint table (first element of any trailing axes)."""
        mean = self.checkpoint_mean.reshape(len(self.checkpoints), -1)[:, 0]
        se = self.checkpoint_mcse.reshape(len(self.checkpoints), -1)[:, 0]
        lines = [f"{'draws':>8} {'mean':>14} {'MCSE':>12}"]
        lines += [f"{n:>8d} {m:>14,.2f} {s:>12,.2f}" for n, m, s in zip(self.checkpoints, mean, se)]
        return "\n".join(lines)


def _checkpoints(n_draws: int) -> np.ndarray:
    points, scale = [], 100
    while scale <= n_draws:
        points += [m * scale for m in (1, 2, 5) if m * scale <= n_draws]
        scale *= 10
    if not points or points[-1] != n_draws:
        points.append(n_draws)
    return np.array(points, dtype=int)


def compute_mc_convergence(inc_nmb, *, running: bool = True, block: int = 1 << 16) -> MCConvergence:
    """Running mean of incremental NMB and its Monte Carlo standard error.

    Parameters
    ----------
    inc_nmb : array-like, shape (draw,) or (draw, ...)
        Incremental net monetary benefit per draw (e.g. ``nmb[:, 1] - nmb[:, 0]``), in draw
        order; trailing axes (strategy, wtp) are summarised independently.
    running : bool
        Keep the running mean of every ``n`` (default). ``False`` keeps only the final mean
        (``running_mean`` of length 1): the checkpoints are the same, bit for bit, and memory stays
        within ``block`` draws whatever the number of draws (a 1,000,000-draw PSA).
    block : int
        Draws summed at a time; the cumulative sums run on, so results do not depend on it.

    Returns
    -------
    MCConvergence

    Notes
    -----
    ``m_n = (1/n) Σ_{i≤n} x_i`` and ``MCSE_n = s_n / √n`` with ``s_n`` the sample sd (``n − 1``)
    of the first ``n`` draws, computed from cumulative sums of ``x − x̄_N`` (shifted for
    numerical stability). Stable running means with an MCSE small against the decision margin
    (``|mean incremental NMB|``) indicate enough draws.

    References
    ----------
    Koehler E, Brown E, Haneuse SJ-PA. On the assessment of Monte Carlo error in
    simulation-based statistical analyses. *Am Stat* 2009;63:155–162.

    Examples
    --------
    >>> c = compute_mc_convergence([1.0, 2.0, 3.0, 6.0])
    >>> c.running_mean.tolist(), c.checkpoints.tolist()
    ([1.0, 1.5, 2.0, 3.0], [4])
    """
    x = np.asarray(inc_nmb, dtype=float)
    if x.ndim == 0 or x.shape[0] < 1:
        raise UsageError(f"inc_nmb must have shape (draw, ...) with at least one draw; got shape {x.shape}")
    _check_finite(x, name="inc_nmb", axes=("draw",) + tuple(f"axis{k}" for k in range(1, x.ndim)))
    n_draws = x.shape[0]
    shift = x.mean(axis=0)
    idx = _checkpoints(n_draws) - 1
    tail = (1,) * (x.ndim - 1)
    means = []
    cp_mean = np.empty((len(idx),) + x.shape[1:])
    cp_mcse = np.empty_like(cp_mean)
    carry1 = carry2 = None
    for first in range(0, n_draws, max(1, int(block))):
        last = min(n_draws, first + max(1, int(block)))
        y = x[first:last] - shift
        yy = y * y
        if carry1 is not None:  # continue the cumulative sums: the same additions as one cumsum
            y[0] += carry1
            yy[0] += carry2
        s1 = np.cumsum(y, axis=0)
        s2 = np.cumsum(yy, axis=0)
        carry1, carry2 = s1[-1].copy(), s2[-1].copy()
        n = np.arange(first + 1, last + 1, dtype=float).reshape((-1,) + tail)
        mean = shift + s1 / n
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.where(n > 1, np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1), np.nan)
        mcse = np.sqrt(var / n)
        inside = (idx >= first) & (idx < last)
        cp_mean[inside] = mean[idx[inside] - first]
        cp_mcse[inside] = mcse[idx[inside] - first]
        means.append(mean if running else mean[-1:].copy())  # a copy: not the whole block kept alive
        final_mcse = mcse[-1].copy()
    running_mean = np.concatenate(means) if running else means[-1]
    return MCConvergence(running_mean, final_mcse, idx + 1, cp_mean, cp_mcse)
