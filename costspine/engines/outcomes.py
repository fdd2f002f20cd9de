"""Discounting, cycle corrections and accumulation of rewards over a trace.

Conventions (see ``docs/scenario-format.md``, *Counting*): a trace has points ``t = 0..T``; a
state reward of cycle ``t`` is valued at point ``t`` (point 0 takes cycle 1's value; with
``beginning`` counting point ``t`` takes cycle ``t + 1``'s value), weighted by the cycle
correction and discounted at the point, ``(1 + r) ** -(t * cycle_years)`` (``discount_timing =
"point"``), or at the start of the cycle it is counted in, ``(1 + r) ** -((c - 1) * cycle_years)``
(``"start"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CORRECTIONS = ("none", "beginning", "half-cycle", "simpson", "custom")
"""Cycle corrections: how the occupancy at the trace points ``0..T`` is counted."""

DISCOUNT_TIMINGS = ("point", "start")
"""When a cycle's reward is discounted: at its trace point, or at the start of its cycle."""


def cycle_weights(n_cycles: int, correction: str, *, custom=None) -> np.ndarray:
    """Weights on trace points ``0..T`` for a cycle correction.

    Parameters
    ----------
    n_cycles : int
        ``T``.
    correction : {"none", "beginning", "half-cycle", "simpson", "custom"}
    custom : sequence of float, length T + 1, optional
        The weights of ``custom`` (required for it, refused for the others).

    Returns
    -------
    ndarray, shape (T + 1,)

    Raises
    ------
    ValueError
        An unknown correction, or ``custom`` weights missing or of the wrong length.

    Notes
    -----
    ``none``: ``[0, 1, ..., 1]`` (end-of-cycle counting). ``beginning``: ``[1, ..., 1, 0]``
    (beginning-of-cycle counting, heemod's ``method = "beginning"``). ``half-cycle``: trapezoid
    ``[1/2, 1, ..., 1, 1/2]``. ``simpson``: composite Simpson 1/3 ``[1, 4, 2, 4, ..., 4, 1] / 3``;
    with an odd ``T`` the last three intervals use Simpson 3/8 ``[3, 9, 9, 3] / 8`` (and ``T = 1``
    falls back to the trapezoid). All these sum to ``T``; ``custom`` weights are taken as given.

    Examples
    --------
    >>> cycle_weights(3, "beginning").tolist()
    [1.0, 1.0, 1.0, 0.0]
    >>> cycle_weights(2, "custom", custom=[0.5, 1.0, 0.25]).tolist()
    [0.5, 1.0, 0.25]
    """
    if (correction == "custom") != (custom is not None):
        raise ValueError(
            "custom weights go with the 'custom' correction only"
            if custom is not None
            else "the 'custom' correction needs its weights (custom=[...])"
        )
    weights = np.zeros(n_cycles + 1)
    if correction == "none":
        weights[1:] = 1.0
    elif correction == "beginning":
        weights[:-1] = 1.0
    elif correction == "custom":
        given = np.asarray(custom, dtype=float)
        if given.shape != weights.shape:
            raise ValueError(f"custom weights: expected {n_cycles + 1} (one per trace point 0..{n_cycles}), got {given.size}")
        weights[:] = given
    elif correction == "half-cycle":
        weights[:] = 1.0
        weights[0] = weights[-1] = 0.5
    elif correction == "simpson":
        if n_cycles == 1:
            return cycle_weights(1, "half-cycle")
        even = n_cycles if n_cycles % 2 == 0 else n_cycles - 3
        if even > 0:
            weights[0 : even + 1 : 2] += 2.0 / 3.0
            weights[1:even:2] += 4.0 / 3.0
            weights[0] -= 1.0 / 3.0
            weights[even] -= 1.0 / 3.0
        if n_cycles % 2 == 1:
            weights[even : even + 4] += np.array([3.0, 9.0, 9.0, 3.0]) / 8.0
    else:
        raise ValueError(f"unknown cycle correction {correction!r}")
    return weights


def cycle_shares(n_cycles: int, correction: str) -> np.ndarray:
    """Which cycle each trace point's weighted reward belongs to: shares, shape (cycle, point).

    Column ``t`` sums to 1. ``none``: point ``t`` belongs to cycle ``t`` (point 0, of weight 0,
    to cycle 1). ``beginning``: point ``t`` to cycle ``t + 1`` (point ``T``, of weight 0, to
    cycle ``T``). The others: point 0 to cycle 1, point ``T`` to cycle ``T``, and each interior
    point half to the cycle it ends and half to the cycle it starts (the trapezoid's split).

    Used to discount at the start of each cycle (:func:`build_reward_factors`) and to split
    rewards by cycle (:func:`split_by_cycle`).

    Examples
    --------
    >>> cycle_shares(2, "half-cycle").tolist()
    [[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]]
    """
    shares = np.zeros((n_cycles, n_cycles + 1))
    points = np.arange(n_cycles + 1)
    if correction == "none":
        shares[np.maximum(points - 1, 0), points] = 1.0
    elif correction == "beginning":
        shares[np.minimum(points, n_cycles - 1), points] = 1.0
    elif correction in ("half-cycle", "simpson", "custom"):
        shares[0, 0] = shares[-1, -1] = 1.0
        inner = points[1:-1]
        shares[inner - 1, inner] = 0.5
        shares[inner, inner] = 0.5
    else:
        raise ValueError(f"unknown cycle correction {correction!r}")
    return shares


def discount_factors(n_cycles: int, *, cycle_years: float, annual_rate: float) -> np.ndarray:
    """Discount factor at each trace point: ``(1 + r) ** -(t * cycle_years)``, shape (T + 1,)."""
    return (1.0 + annual_rate) ** -(np.arange(n_cycles + 1) * cycle_years)


def start_discount_factors(n_cycles: int, *, cycle_years: float, annual_rate: float) -> np.ndarray:
    """Discount factor at the start of each cycle ``c = 1..T``: ``(1 + r) ** -((c - 1) * cycle_years)``, shape (T,)."""
    return (1.0 + annual_rate) ** -(np.arange(n_cycles) * cycle_years)


def point_index(n_cycles: int, n_time: int, *, correction: str = "none") -> np.ndarray:
    """Which time slice of a per-cycle value array each trace point uses.

    Point ``t`` uses cycle ``t`` (point 0 uses cycle 1); with ``correction="beginning"`` (for
    state rewards) point ``t`` counts the cycle it starts, ``t + 1`` (point ``T`` uses cycle ``T``).

    Examples
    --------
    >>> point_index(3, 3).tolist(), point_index(3, 3, correction="beginning").tolist()
    ([0, 0, 1, 2], [0, 1, 2, 2])
    """
    if n_time == 1:
        return np.zeros(n_cycles + 1, dtype=int)
    if correction == "beginning":
        return np.minimum(np.arange(n_cycles + 1), n_cycles - 1)
    return np.maximum(np.arange(n_cycles + 1) - 1, 0)


def _sum_over_states(occupancy: np.ndarray, values: np.ndarray, time_index=None) -> np.ndarray:
    """``out[d, s, t, r] = Σ_n occupancy[d, s, t, n] · values[d, s, time_index[t] (or 0), n, r]``.

    Works in the engine's state-major memory order ``(t, n, d, s)`` (a free view of its trace)
    with one fused multiply-add per state and reward over contiguous ``(d, s)`` blocks: several
    times faster than ``einsum`` on the transposed view (the same terms, added state by state).
    """
    n_draws, n_strategies, n_points, n_states = occupancy.shape
    n_rewards = values.shape[-1]
    occ = np.moveaxis(occupancy, (0, 1), (2, 3))  # (t, n, d, s)
    val = np.moveaxis(np.broadcast_to(values, (n_draws, n_strategies) + values.shape[2:]), (0, 1), (3, 4))
    val = np.ascontiguousarray(val) if time_index is None else val[time_index]  # (t or 1, n, r, d, s), one copy
    out = np.zeros((n_points, n_rewards, n_draws, n_strategies))  # (t, r, d, s)
    for r in range(n_rewards):
        acc = out[:, r]
        for n in range(n_states):
            acc += occ[:, n] * val[:, n, r]
    return np.moveaxis(out, (2, 3), (0, 1))  # view: (d, s, t, r)


def compute_state_rewards(trace: np.ndarray, values: np.ndarray, *, correction: str = "none") -> np.ndarray:
    """Reward accrued at each trace point, before weighting and discounting.

    Parameters
    ----------
    trace : ndarray, shape (draw, strategy, cycle + 1, state)
    values : ndarray, shape (draw, strategy, time, state, reward)
        Per-cycle value of each reward in each state; ``time`` is 1 or ``T``.
    correction : str
        The cycle correction, for which cycle's value each point takes (:func:`point_index`).

    Returns
    -------
    ndarray, shape (draw, strategy, cycle + 1, reward)
    """
    n_points = trace.shape[2]
    idx = point_index(n_points - 1, values.shape[2], correction=correction)
    return _sum_over_states(trace, values, None if values.shape[2] == 1 else idx)


def compute_entry_rewards(entries: np.ndarray, values: np.ndarray) -> np.ndarray:
    """One-off rewards on entering states, per cycle.

    Parameters
    ----------
    entries : ndarray, shape (draw, strategy, cycle, state)
        From :func:`costspine.engines.markov.compute_entries`.
    values : ndarray, shape (draw, strategy, time, state, reward)

    Returns
    -------
    ndarray, shape (draw, strategy, cycle + 1, reward)
        Aligned with trace points (point 0 is zero), so it discounts like state rewards.
    """
    d, s, t, _ = entries.shape
    out = np.zeros((d, s, t + 1, values.shape[-1]))
    if not values.any():  # no on-entry rewards (the usual case): nothing to add up
        return out
    out[:, :, 1:] = _sum_over_states(entries, values)
    return out


def total_rewards(per_point: np.ndarray, *, weights: np.ndarray, discount: np.ndarray) -> np.ndarray:
    """Weighted, discounted sum over points: ``sum_t w_t d_t x_t``.

    ``per_point`` has shape (draw, strategy, cycle + 1, reward); returns (draw, strategy, reward).
    """
    return np.einsum("dstr,t->dsr", per_point, weights * discount)


def split_by_cycle(per_point: np.ndarray, correction: str, *, weights: np.ndarray | None = None) -> np.ndarray:
    """Undiscounted reward per cycle ``1..T`` (for budget impact and per-cycle tables).

    ``none``: cycle ``t`` takes point ``t``. ``beginning``: cycle ``t`` takes point ``t − 1``.
    ``half-cycle`` and ``simpson``: cycle ``t`` takes the trapezoid share ``(x_{t-1} + x_t) / 2``
    (for Simpson this spreads the same total only approximately; the totals reported elsewhere
    use the exact Simpson weights). ``custom``: each point's weighted reward split as in
    :func:`cycle_shares` (so the cycles add up to the total).

    Parameters
    ----------
    per_point : ndarray, shape (draw, strategy, cycle + 1, reward)
    correction : str
    weights : ndarray, shape (cycle + 1,), optional
        The custom weights (required for ``custom``).

    Returns
    -------
    ndarray, shape (draw, strategy, cycle, reward)
    """
    if correction == "none":
        return per_point[:, :, 1:]
    if correction == "beginning":
        return per_point[:, :, :-1]
    if correction == "custom":
        if weights is None:
            raise ValueError("split_by_cycle: the 'custom' correction needs its weights")
        # Σ_t share[c, t] w_t x_t without the dense (cycle, point) matrix of cycle_shares
        weighted = per_point * np.asarray(weights, dtype=float)[:, None]
        out = 0.5 * (weighted[:, :, :-1] + weighted[:, :, 1:])
        out[:, :, 0] += 0.5 * weighted[:, :, 0]
        out[:, :, -1] += 0.5 * weighted[:, :, -1]
        return out
    return 0.5 * (per_point[:, :, :-1] + per_point[:, :, 1:])


def spread_to_points(by_cycle: np.ndarray, correction: str) -> np.ndarray:
    """``by_cycle @ cycle_shares(T, correction)`` in O(T): each point's share-weighted mean of its cycles' values.

    ``none``: point ``t`` takes cycle ``max(t, 1)``; ``beginning``: cycle ``min(t + 1, T)``; the
    others: point 0 cycle 1, point ``T`` cycle ``T``, an interior point the mean of its two cycles.
    (The dense matrix of :func:`cycle_shares` would need ``8 T²`` bytes: 75 GiB for 100,000 cycles.)

    Parameters
    ----------
    by_cycle : ndarray, shape (cycle,)
    correction : str

    Returns
    -------
    ndarray, shape (cycle + 1,)

    Examples
    --------
    >>> spread_to_points(np.array([1.0, 0.5]), "half-cycle").tolist()
    [1.0, 0.75, 0.5]
    """
    by_cycle = np.asarray(by_cycle, dtype=float)
    n_cycles = by_cycle.shape[0]
    points = np.arange(n_cycles + 1)
    if correction == "none":
        return by_cycle[np.maximum(points - 1, 0)]
    if correction == "beginning":
        return by_cycle[np.minimum(points, n_cycles - 1)]
    out = np.empty(n_cycles + 1)
    out[0], out[-1] = by_cycle[0], by_cycle[-1]
    out[1:-1] = 0.5 * (by_cycle[:-1] + by_cycle[1:])
    return out


@dataclass(frozen=True)
class RewardFactors:
    """What multiplies a reward at each trace point ``0..T``: cycle-correction weights and discount factors.

    Attributes
    ----------
    weights : ndarray, shape (cycle + 1,)
        :func:`cycle_weights` of the correction.
    discount_costs, discount_outcomes : ndarray, shape (cycle + 1,)
        Discount factor of a state reward at each point, at the annual rates for costs and for
        outcomes: :func:`discount_factors` (``discount_timing="point"``), or the start-of-cycle
        factors of the cycles the point is counted in, averaged by :func:`cycle_shares` (``"start"``).
    cycle_correction : {"none", "beginning", "half-cycle", "simpson", "custom"}
    discount_timing : {"point", "start"}
    entry_discount_costs, entry_discount_outcomes : ndarray, shape (cycle + 1,), optional
        Discount factor of an entry reward (paid during cycle ``t``, at point ``t``); the state
        factors when omitted (``"point"``), ``(1 + r) ** -((t − 1) · cycle_years)`` for ``"start"``.
    """

    weights: np.ndarray
    discount_costs: np.ndarray
    discount_outcomes: np.ndarray
    cycle_correction: str
    discount_timing: str = "point"
    entry_discount_costs: np.ndarray | None = None
    entry_discount_outcomes: np.ndarray | None = None

    @property
    def ones(self) -> np.ndarray:
        """No weighting and no discounting, shape (cycle + 1,)."""
        return np.ones(self.weights.shape[0])

    def discount(self, kind: str, *, entry: bool = False) -> np.ndarray:
        """Discount factor at each point of a state reward (or an entry reward) of ``kind``
        (``"costs"`` or ``"outcomes"``), shape (cycle + 1,)."""
        state = self.discount_costs if kind == "costs" else self.discount_outcomes
        if not entry:
            return state
        own = self.entry_discount_costs if kind == "costs" else self.entry_discount_outcomes
        return state if own is None else own

    def per_point(self, kind: str, *, entry: bool = False, discounted: bool = True) -> np.ndarray:
        """What multiplies a reward at each trace point, shape (cycle + 1,).

        The cycle-correction weight for state rewards (an entry reward counts whole) times the
        discount factor of ``kind`` (``"costs"`` or ``"outcomes"``), or 1 when not ``discounted``:
        the factors :func:`accumulate_rewards` applies, for engines that accumulate per individual.
        """
        discount = self.discount(kind, entry=entry) if discounted else self.ones
        return (self.ones if entry else self.weights) * discount

    def split_by_cycle(self, per_point: np.ndarray) -> np.ndarray:
        """:func:`split_by_cycle` with this run's correction (and custom weights)."""
        return split_by_cycle(per_point, self.cycle_correction, weights=self.weights)


def build_reward_factors(
    n_cycles: int,
    *,
    cycle_correction: str,
    cycle_years: float,
    discount_costs: float,
    discount_outcomes: float,
    discount_timing: str = "point",
    weights=None,
) -> RewardFactors:
    """Cycle-correction weights and discount factors of a run.

    Parameters
    ----------
    n_cycles : int
        ``T``.
    cycle_correction : {"none", "beginning", "half-cycle", "simpson", "custom"}
    cycle_years : float
        Cycle length in years.
    discount_costs, discount_outcomes : float
        Annual discount rates (fractions).
    discount_timing : {"point", "start"}
        Discount each reward at its trace point (``t`` cycles from the start), or at the start of
        the cycle it is counted in (``t − 1`` cycles for end-of-cycle counting; heemod's
        ``discount()``).
    weights : sequence of float, length T + 1, optional
        The weights of the ``custom`` correction.

    Returns
    -------
    RewardFactors

    Raises
    ------
    ValueError
        An unknown correction or discount timing.

    Notes
    -----
    With ``"start"`` a state reward at point ``t`` is discounted by
    ``Σ_c share[c, t] (1 + r) ** -((c − 1) · cycle_years)`` (:func:`cycle_shares`): ``none`` gives
    ``(1 + r) ** -((t − 1) · cycle_years)``, ``beginning`` the same factors as ``"point"``,
    the trapezoid and Simpson an interior point the mean of its two cycles' factors. An entry
    reward of cycle ``t`` is discounted by ``(1 + r) ** -((t − 1) · cycle_years)``.

    Examples
    --------
    >>> f = build_reward_factors(2, cycle_correction="half-cycle", cycle_years=1.0, discount_costs=0.0, discount_outcomes=0.0)
    >>> (f.weights * f.discount_costs).tolist()
    [0.5, 1.0, 0.5]
    >>> f = build_reward_factors(
    ...     2, cycle_correction="none", cycle_years=1.0, discount_costs=0.25, discount_outcomes=0.0, discount_timing="start"
    ... )
    >>> f.per_point("costs").tolist()  # cycle 1 undiscounted, cycle 2 at 1 / 1.25
    [0.0, 1.0, 0.8]
    """
    if discount_timing not in DISCOUNT_TIMINGS:
        raise ValueError(f"unknown discount timing {discount_timing!r}; expected one of {', '.join(DISCOUNT_TIMINGS)}")
    point_weights = cycle_weights(n_cycles, cycle_correction, custom=weights)
    if discount_timing == "point":
        return RewardFactors(
            weights=point_weights,
            discount_costs=discount_factors(n_cycles, cycle_years=cycle_years, annual_rate=discount_costs),
            discount_outcomes=discount_factors(n_cycles, cycle_years=cycle_years, annual_rate=discount_outcomes),
            cycle_correction=cycle_correction,
        )

    def at_start(rate):
        by_cycle = start_discount_factors(n_cycles, cycle_years=cycle_years, annual_rate=rate)
        entry = np.concatenate([[1.0], by_cycle])  # point 0 has no entries
        return spread_to_points(by_cycle, cycle_correction), entry

    (state_costs, entry_costs), (state_outcomes, entry_outcomes) = at_start(discount_costs), at_start(discount_outcomes)
    return RewardFactors(
        weights=point_weights,
        discount_costs=state_costs,
        discount_outcomes=state_outcomes,
        cycle_correction=cycle_correction,
        discount_timing="start",
        entry_discount_costs=entry_costs,
        entry_discount_outcomes=entry_outcomes,
    )


def compute_indicator_occupancy(trace: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Share of the cohort in the states each indicator averages over.

    ``trace`` has shape (draw, strategy, cycle + 1, state) and ``mask`` (indicator, state) of bool;
    returns (draw, strategy, cycle + 1, indicator).
    """
    return np.einsum("dstn,in->dsti", trace, mask.astype(float))


def divide_by_occupancy(weighted: np.ndarray, occupancy: np.ndarray) -> np.ndarray:
    """Occupancy-weighted mean of an indicator, ``weighted / occupancy``; NaN where nobody is in its states."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(occupancy > 0, weighted / occupancy, np.nan)


def accumulate_rewards(
    trace: np.ndarray,
    *,
    factors: RewardFactors,
    state_costs: np.ndarray,
    entry_costs: np.ndarray,
    state_outcomes: np.ndarray,
    indicator_points: np.ndarray | None,
    indicator_mask: np.ndarray,
    state_services: np.ndarray | None = None,
    entry_services: np.ndarray | None = None,
    entry_outcomes: np.ndarray | None = None,
) -> dict:
    """Totals, per-cycle splits and indicator means of a run from its rewards at each trace point.

    The one accumulation of the cohort model and the microsimulation: both first compute what
    each reward accrues at each trace point (expected over the cohort, or counted over
    individuals), then call this.

    Parameters
    ----------
    trace : ndarray, shape (draw, strategy, cycle + 1, state)
    factors : RewardFactors
    state_costs, entry_costs : ndarray, shape (draw, strategy, cycle + 1, category)
        Cost accrued at each point for being in states (:func:`compute_state_rewards`) and for
        entering them (:func:`compute_entry_rewards`; point 0 is zero).
    state_outcomes : ndarray, shape (draw, strategy, cycle + 1, outcome)
    entry_outcomes : ndarray, shape (draw, strategy, cycle + 1, outcome), optional
        Outcome accrued at each point for entering states (one-off, e.g. a QALY loss on becoming
        sick; point 0 is zero), counted and discounted like ``entry_costs``. None: no entry outcomes.
    indicator_points : ndarray, shape (draw, strategy, cycle + 1, indicator), or None
        Occupancy-weighted sum of each indicator at each point (None when there are no indicators).
    indicator_mask : ndarray of bool, shape (indicator, state)
    state_services, entry_services : ndarray, shape (draw, strategy, cycle + 1, service), optional

    Returns
    -------
    dict of str to ndarray
        ``costs``, ``costs_undiscounted`` (draw, strategy, category); ``cost_per_cycle``
        (draw, strategy, cycle, category); ``outcomes``, ``outcomes_undiscounted``
        (draw, strategy, outcome); ``services_per_cycle`` (draw, strategy, cycle, service);
        ``indicators`` (draw, strategy, cycle + 1, indicator).

    Notes
    -----
    State rewards are weighted and discounted, ``sum_t w_t d_t x_t``; entry rewards are
    discounted only, ``sum_t d'_t e_t`` (:meth:`RewardFactors.discount`). Undiscounted totals use ``d_t = 1``. Per-cycle values are
    undiscounted (:func:`split_by_cycle` of state rewards plus the entries of the cycle).
    """
    ones = factors.ones
    out = {
        "costs": total_rewards(state_costs, weights=factors.weights, discount=factors.discount("costs"))
        + total_rewards(entry_costs, weights=ones, discount=factors.discount("costs", entry=True)),
        "costs_undiscounted": total_rewards(state_costs, weights=factors.weights, discount=ones) + entry_costs.sum(axis=2),
        "cost_per_cycle": factors.split_by_cycle(state_costs) + entry_costs[:, :, 1:],
        "outcomes": total_rewards(state_outcomes, weights=factors.weights, discount=factors.discount("outcomes")),
        "outcomes_undiscounted": total_rewards(state_outcomes, weights=factors.weights, discount=ones),
    }
    if entry_outcomes is not None:
        out["outcomes"] = out["outcomes"] + total_rewards(
            entry_outcomes, weights=ones, discount=factors.discount("outcomes", entry=True)
        )
        out["outcomes_undiscounted"] = out["outcomes_undiscounted"] + entry_outcomes.sum(axis=2)
    if state_services is not None and state_services.shape[-1]:
        out["services_per_cycle"] = factors.split_by_cycle(state_services) + entry_services[:, :, 1:]
    else:
        out["services_per_cycle"] = np.zeros(out["cost_per_cycle"].shape[:3] + (0,))
    if indicator_mask.size:
        out["indicators"] = divide_by_occupancy(indicator_points, compute_indicator_occupancy(trace, indicator_mask))
    else:
        out["indicators"] = np.zeros(trace.shape[:3] + (0,))
    return out


def _weighted_over_points(occupancy: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``Σ_t factor[t] · occupancy[t]`` point by point (the same order whatever the other axes' sizes)."""
    total = np.zeros(occupancy.shape[1:])
    for t in np.flatnonzero(factor):
        total += factor[t] * occupancy[t]
    return total


def total_cell_rewards(occupancy: np.ndarray, cells, n_columns: int, *, factor: np.ndarray, time_index: np.ndarray) -> np.ndarray:
    """Weighted, discounted totals of rewards given cell by cell, without a per-cycle reward array.

    ``out[d, s, c] = Σ_cells Σ_t factor[t] · occupancy[t, i, s, d] · value[d, time_index[t]]`` over the
    cells ``(s, i, c, value)`` of column ``c``: what :func:`compute_state_rewards` (or
    :func:`compute_entry_rewards`) followed by :func:`total_rewards` gives, for the totals only. A
    value constant over time multiplies the occupancy summed once over points; only values that
    change with time are summed point by point. Every draw is computed alone (elementwise over
    draws), so a draw's totals do not depend on how many draws are computed together.

    Parameters
    ----------
    occupancy : ndarray, shape (point, state, strategy, draw)
        Cohort occupancy (or entries) at each point, draws last and contiguous.
    cells : iterable of (int, int, int, array_like)
        Strategy, state, column and value: a scalar or an array of shape (draw or 1, 1 or time).
    n_columns : int
    factor : ndarray, shape (point,)
        Weight times discount factor at each point (:meth:`RewardFactors.per_point`).
    time_index : ndarray of int, shape (point,)
        Which time slice of a time-varying value each point takes (:func:`point_index`).

    Returns
    -------
    ndarray, shape (draw, strategy, column)
    """
    n_points, _, n_strategies, n_draws = occupancy.shape
    out = np.zeros((n_columns, n_strategies, n_draws))
    summed = None  # occupancy weighted and summed over points, (state, strategy, draw)
    weighted = None  # occupancy weighted at each point, (point, state, strategy, draw)
    by_point = {}  # (column, strategy) -> terms of time-varying values at each point, (point, draw)
    for k, i, c, value in cells:
        value = np.asarray(value, dtype=float)
        value = value.reshape(-1, 1) if value.ndim < 2 else value  # (draw or 1, time or 1)
        if value.shape[1] == 1:
            if summed is None:
                summed = _weighted_over_points(occupancy, factor)
            out[c, k] += summed[i, k] * value[:, 0]
            continue
        if weighted is None:
            weighted = occupancy * factor[:, None, None, None]
        terms = weighted[:, i, k] * value[:, time_index].T
        if (c, k) in by_point:
            by_point[c, k] += terms
        else:
            by_point[c, k] = np.broadcast_to(terms, (n_points, n_draws)).copy()
    for (c, k), terms in by_point.items():
        for t in range(n_points):  # point by point: the same sums whatever the number of draws
            out[c, k] += terms[t]
    return np.ascontiguousarray(out.transpose(2, 1, 0))
