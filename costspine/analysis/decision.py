"""Decision statistics of PSA draws: net monetary benefit, CEAC, CEAF, EVPI, incremental
summaries and Monte Carlo convergence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine.errors import AnalysisError, UsageError

__all__ = [
    "CEAF",
    "DrawSummary",
    "IncrementalPSA",
    "MCConvergence",
    "compute_ceac",
    "compute_ceaf",
    "compute_evpi",
    "compute_evpi_from_net_benefit",
    "compute_mc_convergence",
    "compute_net_benefit",
    "population_evpi",
    "summarize_draws",
    "summarize_incremental",
]


NB_BLOCK_ELEMENTS = 1 << 22
"""Most net-benefit values held at once (32 MB) by the curves over many thresholds (CEAC, CEAF,
EVPI): they are computed a block of thresholds at a time, so memory grows with draws ×
strategies, never with draws × strategies × thresholds. Results do not depend on it."""


def _wtp_blocks(n_draws: int, n_strategies: int, n_wtp: int) -> list[slice]:
    """Consecutive slices of the thresholds, each with at most :data:`NB_BLOCK_ELEMENTS` net benefits."""
    step = max(1, NB_BLOCK_ELEMENTS // max(1, n_draws * n_strategies))
    return [slice(i, min(i + step, n_wtp)) for i in range(0, n_wtp, step)]


# ----------------------------------------------------------------------------------- checks
def _check_finite(values: np.ndarray, *, name: str, axes: tuple[str, ...]) -> None:
    """Raise AnalysisError naming the first non-finite cells of ``values``."""
    bad = ~np.isfinite(values)
    if bad.any():
        cells = np.argwhere(bad)[:5]
        where = "; ".join(" ".join(f"{a}={i}" for a, i in zip(axes, cell)) for cell in cells)
        more = f" (and {int(bad.sum()) - len(cells)} more)" if bad.sum() > len(cells) else ""
        raise AnalysisError(
            f"{name} must be finite in every cell; got nan/inf at {where}{more} — check the model "
            "output of those draws (a parameter draw outside its valid range is the usual cause)"
        )


def _as_draws(values, *, name: str) -> np.ndarray:
    """``values`` as a float array of shape (draw, strategy) with at least one draw."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise UsageError(
            f"{name} must have shape (draw, strategy) with at least one draw and one strategy; "
            f"got shape {arr.shape} — pass e.g. result.total_cost, not a mean over draws"
        )
    _check_finite(arr, name=name, axes=("draw", "strategy"))
    return arr


def _as_cost_effect(cost, effect) -> tuple[np.ndarray, np.ndarray]:
    cost = _as_draws(cost, name="cost")
    effect = _as_draws(effect, name="effect")
    if cost.shape != effect.shape:
        raise UsageError(f"cost and effect must have the same shape (draw, strategy); got {cost.shape} and {effect.shape}")
    return cost, effect


def _as_wtp(wtp) -> np.ndarray:
    lam = np.asarray(wtp, dtype=float)
    if lam.ndim > 1:
        raise UsageError(f"wtp must be a number or a 1-D sequence of thresholds; got shape {lam.shape}")
    if not np.all(np.isfinite(lam)):
        raise UsageError(f"wtp must be finite; got {lam.tolist()}")
    return lam


def _strategy_labels(strategies, n: int) -> tuple[str, ...]:
    if strategies is None:
        return tuple(str(s) for s in range(n))
    labels = tuple(str(s) for s in strategies)
    if len(labels) != n:
        raise UsageError(f"strategies must name each of the {n} strategies; got {len(labels)} labels {labels}")
    return labels


# ------------------------------------------------------------------------------ net benefit
def compute_net_benefit(cost, effect, wtp) -> np.ndarray:
    """Net monetary benefit of every draw and strategy at each threshold.

    Parameters
    ----------
    cost, effect : array-like, shape (draw, strategy)
        Discounted cost (currency) and effect (e.g. QALYs) per draw and strategy.
    wtp : float or array-like, shape (wtp,)
        Willingness-to-pay thresholds λ (currency per unit of effect).

    Returns
    -------
    ndarray, shape (draw, strategy) + shape(wtp)
        ``NMB[i, s, w] = effect[i, s] · λ_w − cost[i, s]``.

    Raises
    ------
    UsageError
        If the shapes do not match or ``wtp`` is not 0-D or 1-D.
    AnalysisError
        If a cost or effect is nan or infinite (the message names the draw and strategy).

    Examples
    --------
    >>> compute_net_benefit([[100.0, 300.0]], [[1.0, 2.0]], [0.0, 150.0]).tolist()
    [[[-100.0, 50.0], [-300.0, 0.0]]]
    """
    cost, effect = _as_cost_effect(cost, effect)
    lam = _as_wtp(wtp)
    return effect[..., None] * lam.reshape(1, 1, -1) - cost[..., None] if lam.ndim else effect * lam - cost


def _optimal_strategy(nb: np.ndarray) -> np.ndarray:
    """Index of the strategy with the highest net benefit along axis 1 (first on ties)."""
    return np.argmax(nb, axis=1)


def compute_ceac(cost, effect, wtp) -> np.ndarray:
    """Cost-effectiveness acceptability curve: probability each strategy is optimal.

    Parameters
    ----------
    cost, effect : array-like, shape (draw, strategy)
    wtp : float or array-like, shape (wtp,)

    Returns
    -------
    ndarray, shape (strategy,) + shape(wtp)
        Share of draws in which each strategy has the highest net monetary benefit. Every column
        sums to 1.

    Notes
    -----
    ``CEAC[s, λ] = (1/n) Σ_i 1[s = argmax_t NMB_it(λ)]``. A draw in which several strategies tie
    for the highest NMB counts for the **first** of them (lowest index), so the columns still
    sum to 1; ties matter in hand-made tables and at λ = 0 with equal costs, almost never with
    continuous draws.

    References
    ----------
    Fenwick E, Claxton K, Sculpher M. *Health Econ* 2001;10:779–787.

    Examples
    --------
    >>> compute_ceac([[0.0, 10.0], [0.0, 30.0]], [[0.0, 1.0], [0.0, 1.0]], [20.0]).tolist()
    [[0.5], [0.5]]
    """
    cost, effect = _as_cost_effect(cost, effect)
    lam = _as_wtp(wtp)
    if lam.ndim == 0 or lam.size == 0:
        return _ceac_of(compute_net_benefit(cost, effect, lam))
    return np.concatenate([_ceac_of(compute_net_benefit(cost, effect, lam[b]))
                           for b in _wtp_blocks(*cost.shape, lam.size)], axis=1)


def _ceac_of(nb: np.ndarray) -> np.ndarray:
    """CEAC from net benefits of shape (draw, strategy) + shape(wtp)."""
    n_draws, n_strategies = nb.shape[:2]
    best = _optimal_strategy(nb)  # (draw,) + wtp
    counts = np.stack([(best == s).sum(axis=0) for s in range(n_strategies)])
    return counts / n_draws


@dataclass(frozen=True)
class CEAF:
    """Cost-effectiveness acceptability frontier.

    Attributes
    ----------
    strategies : tuple of str
    wtp : ndarray, shape (wtp,)
    optimal : ndarray of int, shape (wtp,)
        Index of the strategy with the highest *expected* NMB at each threshold (first on ties).
    prob_cost_effective : ndarray, shape (wtp,)
        Probability that this strategy has the highest NMB (its CEAC value).
    expected_nmb : ndarray, shape (strategy, wtp)
        Mean NMB over draws.
    """

    strategies: tuple
    wtp: np.ndarray
    optimal: np.ndarray
    prob_cost_effective: np.ndarray
    expected_nmb: np.ndarray

    @property
    def optimal_strategy(self) -> tuple[str, ...]:
        """Label of the optimal strategy at each threshold."""
        return tuple(self.strategies[k] for k in self.optimal)

    def summary(self) -> str:
        """One line per threshold: λ, optimal strategy, probability it is cost-effective."""
        lines = [f"{'wtp':>12}  {'optimal':<20} {'P(cost-effective)':>17}"]
        for lam, name, p in zip(self.wtp, self.optimal_strategy, self.prob_cost_effective):
            lines.append(f"{lam:>12,.0f}  {name:<20} {p:>17.3f}")
        return "\n".join(lines)

    def to_columns(self) -> dict[str, np.ndarray]:
        """Long table keyed by ``wtp`` as a dict of 1-D columns (e.g. for ``pandas.DataFrame``)."""
        return {
            "wtp": self.wtp.copy(),
            "optimal": np.array(self.optimal_strategy, dtype=object),
            "prob_cost_effective": self.prob_cost_effective.copy(),
        }


def compute_ceaf(cost, effect, wtp, *, strategies=None) -> CEAF:
    """Cost-effectiveness acceptability frontier (CEAF).

    Parameters
    ----------
    cost, effect : array-like, shape (draw, strategy)
    wtp : float or array-like, shape (wtp,)
    strategies : sequence of str, optional
        Labels; default ``"0", "1", ...``.

    Returns
    -------
    CEAF
        For each threshold, the strategy with the highest expected NMB and the probability that
        it is cost-effective.

    Notes
    -----
    ``s*(λ) = argmax_s (1/n) Σ_i NMB_is(λ)`` (first on ties) and
    ``CEAF(λ) = CEAC[s*(λ), λ]``. The optimal strategy on expected values need not be the one
    most likely to be cost-effective when the NMB distribution is skewed, which is why the CEAF
    is reported alongside the CEAC.

    References
    ----------
    Fenwick E, Claxton K, Sculpher M. *Health Econ* 2001;10:779–787.
    Barton GR, Briggs AH, Fenwick EAL. Optimal cost-effectiveness decisions: the role of the
    cost-effectiveness acceptability curve (CEAC), the cost-effectiveness acceptability frontier
    (CEAF), and the expected value of perfection information (EVPI). *Value Health*
    2008;11:886–897.

    Examples
    --------
    >>> f = compute_ceaf([[0.0, 10.0], [0.0, 30.0], [0.0, 5.0]], [[0.0, 1.0]] * 3, [20.0])
    >>> int(f.optimal[0]), float(f.prob_cost_effective[0])
    (1, 0.6666666666666666)
    """
    cost, effect = _as_cost_effect(cost, effect)
    lam = np.atleast_1d(_as_wtp(wtp))
    ceac, expected = [], []
    for block in _wtp_blocks(*cost.shape, lam.size) or [slice(0, 0)]:
        nb = compute_net_benefit(cost, effect, lam[block])  # (draw, strategy, wtp in the block)
        ceac.append(_ceac_of(nb))
        expected.append(nb.mean(axis=0))
    ceac, expected = np.concatenate(ceac, axis=1), np.concatenate(expected, axis=1)  # (strategy, wtp)
    optimal = np.argmax(expected, axis=0)
    prob = ceac[optimal, np.arange(lam.size)]
    return CEAF(_strategy_labels(strategies, cost.shape[1]), lam, optimal, prob, expected)


# ------------------------------------------------------------------------------------- EVPI
def compute_evpi_from_net_benefit(nb) -> np.ndarray:
    """Per-person EVPI from net benefit draws.

    The one implementation of the EVPI formula in costspine.

    Parameters
    ----------
    nb : array-like, shape (draw, strategy, ...)
        Net benefit (any unit; usually NMB in currency) of each draw and strategy.

    Returns
    -------
    ndarray, shape (...)
        ``E_θ[max_s NB_s(θ)] − max_s E_θ[NB_s(θ)]``, estimated by means over draws. Always ≥ 0
        (Jensen's inequality); 0 with a single strategy.

    References
    ----------
    Briggs, Claxton & Sculpher (2006), ch. 7, eq. 7.1.

    Examples
    --------
    >>> float(compute_evpi_from_net_benefit([[0.0, 10.0], [0.0, -30.0]]))
    5.0
    """
    nb = np.asarray(nb, dtype=float)
    if nb.ndim < 2 or nb.shape[0] < 1 or nb.shape[1] < 1:
        raise UsageError(f"nb must have shape (draw, strategy, ...); got shape {nb.shape}")
    _check_finite(nb, name="nb", axes=("draw", "strategy", "wtp")[: nb.ndim] + ("axis",) * max(0, nb.ndim - 3))
    # Subtract the first strategy: the same number in exact arithmetic, less cancellation when
    # net benefits are large and differences small.
    inc = nb - nb[:, :1]
    evpi = inc.max(axis=1).mean(axis=0) - inc.mean(axis=0).max(axis=0)
    return np.maximum(evpi, 0.0)  # rounding can leave -1e-13 where EVPI is exactly 0


def compute_evpi(cost, effect, wtp) -> np.ndarray:
    """Per-person expected value of perfect information at each threshold.

    Parameters
    ----------
    cost, effect : array-like, shape (draw, strategy)
    wtp : float or array-like, shape (wtp,)

    Returns
    -------
    ndarray, shape shape(wtp)
        EVPI in currency per person.

    Notes
    -----
    ``EVPI(λ) = (1/n) Σ_i max_s NMB_is(λ) − max_s (1/n) Σ_i NMB_is(λ)``: the expected gain from
    choosing the best strategy for each draw instead of the best strategy on average.
    See :func:`compute_evpi_from_net_benefit`.

    References
    ----------
    Briggs, Claxton & Sculpher (2006), ch. 7.

    Examples
    --------
    >>> compute_evpi([[0.0, 10.0], [0.0, 30.0]], [[0.0, 1.0], [0.0, 1.0]], [20.0]).tolist()
    [5.0]
    """
    cost, effect = _as_cost_effect(cost, effect)
    lam = _as_wtp(wtp)
    if lam.ndim == 0 or lam.size == 0:
        return compute_evpi_from_net_benefit(compute_net_benefit(cost, effect, lam))
    return np.concatenate([compute_evpi_from_net_benefit(compute_net_benefit(cost, effect, lam[b]))
                           for b in _wtp_blocks(*cost.shape, lam.size)])


def population_evpi(evpi_per_person, *, population_per_year, years: int, discount_rate: float) -> np.ndarray:
    """Population EVPI: per-person EVPI times the discounted number of people affected.

    Parameters
    ----------
    evpi_per_person : float or array-like
        Per-person EVPI (any shape, e.g. ``(wtp,)``), currency per person.
    population_per_year : float or array-like, shape (years,)
        People affected by the decision each year (incidence); a number means the same each year.
    years : int
        Time horizon of the decision, ≥ 1.
    discount_rate : float
        Annual discount rate as a fraction in [0, 1), e.g. 0.035.

    Returns
    -------
    ndarray, shape of ``evpi_per_person``

    Notes
    -----
    ``EVPI_pop = EVPI · Σ_{t=0}^{T−1} I_t / (1 + r)^t``: people in the first year are not
    discounted, as trace point 0 in :mod:`costspine.engines.outcomes`. Briggs, Claxton & Sculpher (2006,
    eq. 7.2) index years from ``t = 1``, which discounts the first year too; their figure is this
    one divided by ``(1 + r)``.

    Examples
    --------
    >>> float(population_evpi(100.0, population_per_year=1000, years=2, discount_rate=0.0))
    200000.0
    """
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise UsageError(f"years must be a whole number of years ≥ 1; got {years!r}")
    r = float(discount_rate)
    if not 0.0 <= r < 1.0:
        raise UsageError(f"discount_rate must be in [0, 1); got {discount_rate!r} — rates are fractions, did you mean {r / 100:g}?")
    pop = np.asarray(population_per_year, dtype=float)
    if pop.ndim == 0:
        pop = np.full(years, float(pop))
    if pop.shape != (years,):
        raise UsageError(f"population_per_year must be a number or have one entry per year ({years}); got shape {pop.shape}")
    if not np.all(np.isfinite(pop)) or np.any(pop < 0):
        raise UsageError(f"population_per_year must be finite and ≥ 0; got {pop.tolist()}")
    evpi = np.asarray(evpi_per_person, dtype=float)
    factor = float(np.sum(pop * (1.0 + r) ** -np.arange(years)))
    return evpi * factor


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

    def summary(self) -> str:
        """Plain-text table: mean increments with 95% intervals and the two probabilities."""
        c, e = self.incremental_cost, self.incremental_effect
        head = f"vs {self.strategies[self.comparator]}"
        lines = [f"{head:<20} {'Δcost (95% UI)':>34} {'Δeffect (95% UI)':>32} {'P(saves)':>9} {'P(more)':>8}"]
        for s, name in enumerate(self.strategies):
            if s == self.comparator:
                continue
            lines.append(
                f"{name:<20} {c.mean[s]:>12,.2f} ({c.lower[s]:>9,.2f}, {c.upper[s]:>9,.2f})"
                f" {e.mean[s]:>10,.4f} ({e.lower[s]:>8,.4f}, {e.upper[s]:>8,.4f})"
                f" {self.prob_cost_saving[s]:>9.3f} {self.prob_more_effect[s]:>8.3f}"
            )
        return "\n".join(lines)


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


def compute_mc_convergence(inc_nmb) -> MCConvergence:
    """Running mean of incremental NMB and its Monte Carlo standard error.

    Parameters
    ----------
    inc_nmb : array-like, shape (draw,) or (draw, ...)
        Incremental net monetary benefit per draw (e.g. ``nmb[:, 1] - nmb[:, 0]``), in draw
        order; trailing axes (strategy, wtp) are summarised independently.

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
    n = np.arange(1, n_draws + 1, dtype=float).reshape((-1,) + (1,) * (x.ndim - 1))
    shift = x.mean(axis=0)
    y = x - shift
    s1 = np.cumsum(y, axis=0)
    s2 = np.cumsum(y * y, axis=0)
    running_mean = shift + s1 / n
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(n > 1, np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1), np.nan)
    running_mcse = np.sqrt(var / n)
    idx = _checkpoints(n_draws) - 1
    return MCConvergence(running_mean, running_mcse[-1], idx + 1, running_mean[idx], running_mcse[idx])
