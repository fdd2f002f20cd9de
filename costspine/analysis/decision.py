"""Decision statistics of PSA draws: net monetary benefit, CEAC, CEAF and EVPI (summaries of the
draws themselves: :mod:`costspine.analysis.draw_stats`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine.errors import AnalysisError, UsageError

__all__ = [
    "CEAF",
    "compute_ceac",
    "compute_ceaf",
    "compute_evpi",
    "compute_evpi_from_net_benefit",
    "compute_net_benefit",
    "population_evpi",
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
    return np.concatenate(
        [_ceac_of(compute_net_benefit(cost, effect, lam[b])) for b in _wtp_blocks(*cost.shape, lam.size)], axis=1
    )


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
        """One row per threshold: λ, optimal strategy, probability it is cost-effective."""
        from costspine._text import format_table

        rows = [[float(lam), name, float(p)] for lam, name, p in zip(self.wtp, self.optimal_strategy, self.prob_cost_effective)]
        return format_table(
            ["willingness to pay", "optimal strategy", "P(cost-effective)"],
            rows,
            formats={0: ",.0f", 2: ".3f"},
            title="Cost-effectiveness acceptability frontier",
        )

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
    return np.concatenate(
        [compute_evpi_from_net_benefit(compute_net_benefit(cost, effect, lam[b])) for b in _wtp_blocks(*cost.shape, lam.size)]
    )


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
        raise UsageError(
            f"discount_rate must be in [0, 1); got {discount_rate!r} — rates are fractions, did you mean {r / 100:g}?"
        )
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
