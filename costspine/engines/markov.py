"""Cohort state-transition (Markov) engine: arrays in, arrays out.

No pandas, no paths, no printing. Inputs are never mutated.

Shapes follow the package's axis order: ``(draw, strategy, cycle, state, state)``. The engine
loops only over cycles. Internally it works in *state-major* memory order
``(cycle, from, to, draw, strategy)``, so that each step is a handful of long contiguous vector
operations; :func:`costspine.model.inputs.allocate_transitions` hands builders an array already laid out that
way, which makes the engine's re-ordering a free view.
"""

from __future__ import annotations

import numpy as np


def simulate_trace(initial: np.ndarray, transition: np.ndarray, n_cycles: int) -> np.ndarray:
    """Propagate a cohort through ``n_cycles`` cycles.

    Parameters
    ----------
    initial : ndarray, shape (draw, strategy, state)
        Distribution of the cohort at time 0 (rows sum to 1).
    transition : ndarray, shape (draw, strategy, time, state, state)
        Per-cycle transition probabilities, ``[..., t, i, j] = P(state j at t+1 | state i at t)``.
        ``time`` is 1 (time-homogeneous) or ``n_cycles`` (cycle ``t+1`` uses index ``t``).
    n_cycles : int
        Number of cycles ``T``.

    Returns
    -------
    ndarray, shape (draw, strategy, cycle, state)
        The trace ``m_0 .. m_T`` (``T + 1`` points), ``m_t = m_{t-1} P_t``.

    Notes
    -----
    Each step computes ``m_t[j] = sum_i m_{t-1}[i] P_t[i, j]`` as ``n_states`` fused
    multiply-adds over contiguous ``(draw, strategy)`` vectors.
    """
    n_draws, n_strategies, n_time, n_states, _ = transition.shape
    if n_time not in (1, n_cycles):
        raise ValueError(f"transition has {n_time} time slices; expected 1 or n_cycles={n_cycles}")
    native = np.ascontiguousarray(np.moveaxis(transition, (0, 1), (3, 4)))  # (time, from, to, D, S)
    current = np.ascontiguousarray(np.moveaxis(np.broadcast_to(initial, (n_draws, n_strategies, n_states)), 2, 0))
    trace = np.empty((n_cycles + 1, n_states, n_draws, n_strategies))
    trace[0] = current
    for t in range(n_cycles):
        p_t = native[t if n_time > 1 else 0]
        step = trace[t + 1]
        np.multiply(current[0], p_t[0], out=step)
        for i in range(1, n_states):
            step += current[i] * p_t[i]
        current = step
    return np.moveaxis(trace, (2, 3), (0, 1))  # view: (draw, strategy, cycle, state)


def compute_entries(trace: np.ndarray, transition: np.ndarray) -> np.ndarray:
    """Share of the cohort entering each state from another state during each cycle.

    Parameters
    ----------
    trace : ndarray, shape (draw, strategy, cycle + 1, state)
    transition : ndarray, shape (draw, strategy, time, state, state)

    Returns
    -------
    ndarray, shape (draw, strategy, cycle, state)
        ``entries[..., t-1, j] = m_t[j] - m_{t-1}[j] P_t[j, j]`` for ``t = 1..T``.
    """
    stay = np.diagonal(transition, axis1=-2, axis2=-1)  # (D, S, time, state)
    return trace[:, :, 1:, :] - trace[:, :, :-1, :] * stay
