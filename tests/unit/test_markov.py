"""Unit tests for costspine.engines.markov against a slow, obvious loop."""

from __future__ import annotations

import numpy as np
import pytest

from costspine.engines.markov import compute_entries, simulate_trace
from costspine.model.inputs import allocate_transitions


def slow_trace(initial, transition, n_cycles):
    """m_t[j] = sum_i m_{t-1}[i] P_t[i, j], one number at a time."""
    n_draws, n_strategies, n_time, n_states, _ = transition.shape
    trace = np.zeros((n_draws, n_strategies, n_cycles + 1, n_states))
    for d in range(n_draws):
        for s in range(n_strategies):
            for j in range(n_states):
                trace[d, s, 0, j] = initial[d, s, j]
            for t in range(1, n_cycles + 1):
                slice_ = t - 1 if n_time > 1 else 0
                for j in range(n_states):
                    total = 0.0
                    for i in range(n_states):
                        total += trace[d, s, t - 1, i] * transition[d, s, slice_, i, j]
                    trace[d, s, t, j] = total
    return trace


def slow_entries(trace, transition):
    """Flow into state j from any other state during cycle t: sum_{i != j} m_{t-1}[i] P_t[i, j]."""
    n_draws, n_strategies, n_points, n_states = trace.shape
    n_time = transition.shape[2]
    out = np.zeros((n_draws, n_strategies, n_points - 1, n_states))
    for d in range(n_draws):
        for s in range(n_strategies):
            for t in range(1, n_points):
                slice_ = t - 1 if n_time > 1 else 0
                for j in range(n_states):
                    out[d, s, t - 1, j] = sum(
                        trace[d, s, t - 1, i] * transition[d, s, slice_, i, j] for i in range(n_states) if i != j
                    )
    return out


def random_model(rng, n_draws=3, n_strategies=2, n_time=1, n_states=4, absorbing=True):
    transition = rng.dirichlet(np.ones(n_states), size=(n_draws, n_strategies, n_time, n_states))
    if absorbing:
        transition[..., -1, :] = 0.0
        transition[..., -1, -1] = 1.0
    initial = rng.dirichlet(np.ones(n_states), size=(n_draws, n_strategies))
    return initial, transition


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_time", [1, 7])
def test_trace_matches_slow_loop(seed, n_time):
    rng = np.random.default_rng(seed)
    initial, transition = random_model(rng, n_draws=3, n_strategies=2, n_time=n_time, n_states=4)
    trace = simulate_trace(initial, transition, 7)
    assert trace.shape == (3, 2, 8, 4)
    np.testing.assert_allclose(trace, slow_trace(initial, transition, 7), rtol=1e-13, atol=1e-15)


def test_time_dependent_transitions_use_the_slice_of_each_cycle():
    # 2 states; cycle 1 moves everyone, cycle 2 moves nobody, cycle 3 moves half
    move, stay, half = [[0, 1], [1, 0]], [[1, 0], [0, 1]], [[0.5, 0.5], [0.5, 0.5]]
    transition = np.array([move, stay, half], dtype=float)[None, None]
    trace = simulate_trace(np.array([[[1.0, 0.0]]]), transition, 3)
    np.testing.assert_array_equal(trace[0, 0], [[1, 0], [0, 1], [0, 1], [0.5, 0.5]])


def test_time_homogeneous_slice_is_reused():
    p = np.array([[0.9, 0.1], [0.0, 1.0]])
    trace = simulate_trace(np.array([[[1.0, 0.0]]]), p[None, None, None], 5)
    np.testing.assert_allclose(trace[0, 0, :, 0], 0.9 ** np.arange(6), rtol=1e-15)


def test_wrong_number_of_time_slices_is_refused():
    initial, transition = random_model(np.random.default_rng(0), n_time=3)
    with pytest.raises(ValueError, match="expected 1 or n_cycles=5"):
        simulate_trace(initial, transition, 5)


def test_inputs_are_not_mutated():
    rng = np.random.default_rng(1)
    initial, transition = random_model(rng, n_time=6)
    before_i, before_p = initial.copy(), transition.copy()
    trace = simulate_trace(initial, transition, 6)
    compute_entries(trace, transition)
    np.testing.assert_array_equal(initial, before_i)
    np.testing.assert_array_equal(transition, before_p)


def test_trace_does_not_alias_its_inputs():
    initial, transition = random_model(np.random.default_rng(2))
    trace = simulate_trace(initial, transition, 4)
    assert not np.shares_memory(trace, initial) and not np.shares_memory(trace, transition)


def test_initial_broadcasts_over_draws_and_strategies():
    _, transition = random_model(np.random.default_rng(3), n_draws=4, n_strategies=3)
    start = np.array([0.5, 0.5, 0.0, 0.0])
    trace = simulate_trace(start, transition, 3)
    np.testing.assert_allclose(trace, slow_trace(np.broadcast_to(start, (4, 3, 4)), transition, 3), rtol=1e-13)


def test_non_contiguous_inputs_give_the_same_answer():
    initial, transition = random_model(np.random.default_rng(4), n_draws=2, n_strategies=3, n_time=5)
    swapped = np.ascontiguousarray(np.swapaxes(transition, 0, 1)).swapaxes(0, 1)  # same values, other strides
    assert not swapped.flags.c_contiguous
    np.testing.assert_array_equal(simulate_trace(initial, swapped, 5), simulate_trace(initial, transition, 5))


def test_allocate_transitions_shape_and_zeroes():
    p = allocate_transitions(5, 2, 3, 4)
    assert p.shape == (5, 2, 3, 4, 4)
    assert not p.any()
    p[:, :, :, 0, 0] = 1.0  # it is writable and the engine accepts it
    trace = simulate_trace(np.zeros((5, 2, 4)) + [1, 0, 0, 0], p, 3)
    np.testing.assert_array_equal(trace[..., 0], 1.0)


@pytest.mark.parametrize("n_time", [1, 6])
def test_entries_match_slow_loop(n_time):
    initial, transition = random_model(np.random.default_rng(5), n_time=n_time)
    trace = simulate_trace(initial, transition, 6)
    np.testing.assert_allclose(compute_entries(trace, transition), slow_entries(trace, transition), rtol=1e-12, atol=1e-15)


def test_entries_exclude_staying():
    # everyone starts in state 0 and stays: no one enters anything
    transition = np.eye(3)[None, None, None]
    trace = simulate_trace(np.array([1.0, 0.0, 0.0]), transition, 4)
    np.testing.assert_array_equal(compute_entries(trace, transition), 0.0)


def test_tunnel_states_walk_through_in_order():
    # sick_1 -> sick_2 -> sick_3 -> well, one cycle each
    transition = np.zeros((1, 1, 1, 4, 4))
    transition[0, 0, 0, 0, 1] = transition[0, 0, 0, 1, 2] = transition[0, 0, 0, 2, 3] = transition[0, 0, 0, 3, 3] = 1.0
    trace = simulate_trace(np.array([1.0, 0, 0, 0]), transition, 4)
    np.testing.assert_array_equal(trace[0, 0], np.eye(4)[[0, 1, 2, 3, 3]])
