"""Discounting, cycle corrections and accumulation of rewards over a trace.

Conventions (see ``docs/scenario-format.md``, *Counting*): a trace has points ``t = 0..T``; a
state reward of cycle ``t`` is valued at point ``t`` (point 0 takes cycle 1's value), discounted
by ``(1 + r) ** -(t * cycle_years)`` and weighted by the cycle correction.
"""

from __future__ import annotations

import numpy as np


def cycle_weights(n_cycles: int, correction: str) -> np.ndarray:
    """Weights on trace points ``0..T`` for a cycle correction.

    Parameters
    ----------
    n_cycles : int
        ``T``.
    correction : {"none", "half-cycle", "simpson"}

    Returns
    -------
    ndarray, shape (T + 1,)

    Notes
    -----
    ``none``: ``[0, 1, ..., 1]`` (end-of-cycle counting). ``half-cycle``: trapezoid
    ``[1/2, 1, ..., 1, 1/2]``. ``simpson``: composite Simpson 1/3 ``[1, 4, 2, 4, ..., 4, 1] / 3``;
    with an odd ``T`` the last three intervals use Simpson 3/8 ``[3, 9, 9, 3] / 8`` (and ``T = 1``
    falls back to the trapezoid). All weights sum to ``T``.
    """
    weights = np.zeros(n_cycles + 1)
    if correction == "none":
        weights[1:] = 1.0
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


def discount_factors(n_cycles: int, *, cycle_years: float, annual_rate: float) -> np.ndarray:
    """Discount factor at each trace point: ``(1 + r) ** -(t * cycle_years)``, shape (T + 1,)."""
    return (1.0 + annual_rate) ** -(np.arange(n_cycles + 1) * cycle_years)


def point_index(n_cycles: int, n_time: int) -> np.ndarray:
    """Which time slice of a per-cycle value array each trace point uses (point 0 uses cycle 1)."""
    if n_time == 1:
        return np.zeros(n_cycles + 1, dtype=int)
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


def compute_state_rewards(trace: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Reward accrued at each trace point, before weighting and discounting.

    Parameters
    ----------
    trace : ndarray, shape (draw, strategy, cycle + 1, state)
    values : ndarray, shape (draw, strategy, time, state, reward)
        Per-cycle value of each reward in each state; ``time`` is 1 or ``T``.

    Returns
    -------
    ndarray, shape (draw, strategy, cycle + 1, reward)
    """
    n_points = trace.shape[2]
    idx = point_index(n_points - 1, values.shape[2])
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


def split_by_cycle(per_point: np.ndarray, correction: str) -> np.ndarray:
    """Undiscounted reward per cycle ``1..T`` (for budget impact and per-cycle tables).

    ``none``: cycle ``t`` takes point ``t``. ``half-cycle`` and ``simpson``: cycle ``t`` takes the
    trapezoid share ``(x_{t-1} + x_t) / 2`` (for Simpson this spreads the same total only
    approximately; the totals reported elsewhere use the exact Simpson weights).

    Returns shape (draw, strategy, cycle, reward).
    """
    if correction == "none":
        return per_point[:, :, 1:]
    return 0.5 * (per_point[:, :, :-1] + per_point[:, :, 1:])
