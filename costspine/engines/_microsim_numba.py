"""The compiled microsimulation kernel (numba). Import only through
:func:`costspine.engines.microsim.simulate_chunk`, which documents the arguments and guarantees.

The loop mirrors the plain-numpy reference step by step — the same uniforms, the same look-ups and
the same order of every floating-point addition — so the two return identical arrays. Compiled
code is cached on disk (``cache=True``), so only the first run on a machine pays for compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# numba's on-disk cache is invalidated by changes to THIS file only: constants of other modules
# would be frozen into a stale cache. So the block size is an argument and the counter kinds are
# literals here; tests/unit/test_microsim.py checks them against costspine.engines.microsim.
_TIME_IN_STATE, _TRANSITIONS = 0, 1

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_TO_UNIT = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _uniform(key, counter):
    z = key + (counter + _ONE) * _GAMMA
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * _TO_UNIT


@njit(cache=True, inline="always")
def _bucket(hist, strides):
    b = 0
    for h in range(hist.shape[0]):
        b += hist[h] * strides[h]
    return b


@njit(cache=True, parallel=True)
def simulate_chunk_compiled(
    n_cycles,
    group_cum,
    init_map,
    init_cdf,
    trans_map,
    trans_strides,
    trans_time,
    trans_cdf,
    event_hist,
    event_map,
    event_strides,
    event_time,
    event_prob,
    hist_kind,
    hist_cap,
    hist_moves,
    reward_map,
    reward_strides,
    n_reward_cells,
    metric_state,
    metric_entry,
    pairs,
    level_metrics,
    level_pairs,
    keys,
    start,
    count,
    n_parts,
    block,
):
    n_strategies = keys.shape[0]
    n_states = init_cdf.shape[1]
    n_metrics = metric_state.shape[3]
    n_hist = hist_kind.shape[0]
    n_events = event_hist.shape[0]
    n_pairs = pairs.shape[0]
    n_points = n_cycles + 1
    per_cycle = 1 + n_events
    n_uniforms = 2 + n_cycles * per_cycle
    n_blocks = (count + block - 1) // block
    occ_parts = np.zeros((n_parts, n_strategies, n_points, n_reward_cells), dtype=np.int64)
    ent_parts = np.zeros((n_parts, n_strategies, n_points, n_reward_cells), dtype=np.int64)
    block_sum = np.zeros((n_blocks, n_strategies, n_metrics))
    block_cross = np.zeros((n_blocks, n_pairs, n_strategies, n_strategies))
    n_groups = group_cum.shape[0]
    n_level_metrics = level_metrics.shape[0]
    n_level_pairs = level_pairs.shape[0]
    group_sum = np.zeros((n_blocks, n_groups, n_strategies, n_level_metrics))
    group_cross = np.zeros((n_blocks, n_groups, n_level_pairs, n_strategies, n_strategies))
    shared = True  # common random numbers: one set of uniforms per individual for every strategy
    for s in range(1, n_strategies):
        if keys[s] != keys[0]:
            shared = False
    blocks_per_part = (n_blocks + n_parts - 1) // n_parts

    for part in prange(n_parts):
        occ = occ_parts[part]
        ent = ent_parts[part]
        x = np.zeros((n_strategies, n_metrics))
        hist = np.zeros(n_hist, dtype=np.int64)
        fired = np.zeros(n_events, dtype=np.bool_)
        u = np.empty(n_uniforms)
        b_first = part * blocks_per_part
        b_last = min(n_blocks, b_first + blocks_per_part)
        for b in range(b_first, b_last):
            i_first = b * block
            i_last = min(count, i_first + block)
            for i in range(i_first, i_last):
                base = np.uint64(start + i) * np.uint64(n_uniforms)
                group = 0
                for s in range(n_strategies):
                    if s == 0 or not shared:
                        key = keys[s]
                        for j in range(n_uniforms):
                            u[j] = _uniform(key, base + np.uint64(j))
                    group = np.searchsorted(group_cum, u[0], side="right")
                    irow = init_map[group]
                    state = 0
                    while u[1] >= init_cdf[irow, state]:
                        state += 1
                    for h in range(n_hist):
                        hist[h] = 0
                    g_trans = trans_map[group]
                    g_event = event_map[group]
                    g_reward = reward_map[group]
                    cell = (g_reward + _bucket(hist, reward_strides)) * n_states + state
                    occ[s, 0, cell] += 1
                    for m in range(n_metrics):
                        x[s, m] = 0.0
                        x[s, m] += metric_state[s, 0, cell, m]
                    for t in range(1, n_points):
                        j = 2 + (t - 1) * per_cycle
                        for e in range(n_events):
                            erow = (g_event + _bucket(hist, event_strides)) * n_states + state
                            fired[e] = u[j + 1 + e] < event_prob[e, s, event_time[t - 1], erow]
                        trow = (g_trans + _bucket(hist, trans_strides)) * n_states + state
                        tslice = trans_time[t - 1]
                        draw = u[j]
                        new = 0
                        while draw >= trans_cdf[s, tslice, trow, new]:
                            new += 1
                        for h in range(n_hist):
                            kind = hist_kind[h]
                            if kind == _TIME_IN_STATE:
                                if hist_moves[h, state, new]:
                                    hist[h] = min(hist[h] + 1, hist_cap[h])
                                else:
                                    hist[h] = 0
                            elif kind == _TRANSITIONS:
                                if hist_moves[h, state, new]:
                                    hist[h] = min(hist[h] + 1, hist_cap[h])
                        for e in range(n_events):
                            if fired[e]:
                                h = event_hist[e]
                                hist[h] = min(hist[h] + 1, hist_cap[h])
                        entered = new != state
                        state = new
                        cell = (g_reward + _bucket(hist, reward_strides)) * n_states + state
                        occ[s, t, cell] += 1
                        for m in range(n_metrics):
                            x[s, m] += metric_state[s, t, cell, m]
                        if entered:
                            ent[s, t, cell] += 1
                            for m in range(n_metrics):
                                x[s, m] += metric_entry[s, t, cell, m]
                for s in range(n_strategies):
                    for m in range(n_metrics):
                        block_sum[b, s, m] += x[s, m]
                for q in range(n_pairs):
                    m1 = pairs[q, 0]
                    m2 = pairs[q, 1]
                    for s1 in range(n_strategies):
                        for s2 in range(n_strategies):
                            block_cross[b, q, s1, s2] += x[s1, m1] * x[s2, m2]
                if shared:  # by group (common random numbers: one group per individual under every strategy)
                    for s in range(n_strategies):
                        for j in range(n_level_metrics):
                            group_sum[b, group, s, j] += x[s, level_metrics[j]]
                    for q in range(n_level_pairs):
                        m1 = level_pairs[q, 0]
                        m2 = level_pairs[q, 1]
                        for s1 in range(n_strategies):
                            for s2 in range(n_strategies):
                                group_cross[b, group, q, s1, s2] += x[s1, m1] * x[s2, m2]

    occupancy = occ_parts.sum(axis=0)
    entries = ent_parts.sum(axis=0)
    return occupancy, entries, block_sum, block_cross, group_sum, group_cross
