"""Microsimulation engine: arrays in, arrays out; no pandas, paths or printing.

Individuals move through the states of a scenario one at a time; what they face each cycle comes
from look-up tables built by :mod:`costspine.simulate.microsim` over a *grid*: the strategy, the cycle, the
individual's group (a combination of discrete attribute levels) and a history bucket (capped
counters such as cycles in the current state, injections received, recurrences). The kernel only
looks up, draws and counts; it never evaluates an expression.

Two implementations share one signature, :func:`simulate_chunk`:

* ``backend="numba"``: a compiled loop over individuals, parallel over parts of the chunk
  (``costspine/engines/_microsim_numba.py``; numba is imported only when this backend is used);
* ``backend="numpy"``: the plain-numpy reference, vectorised over the individuals of the chunk and
  looping over strategies and cycles.

Both return bit-identical arrays (same draws, same order of every floating-point sum), so the
backend never changes a result; ``tests/unit/test_microsim.py`` also checks both against a slow,
obvious per-individual loop.

Random numbers
--------------
Each uniform is a pure function of ``(key, individual, use)``: the SplitMix64 output number
``counter + 1`` of a generator seeded with ``key`` (Steele, Lea & Flood 2014), where
``counter = individual * K + use`` and ``K = 2 + T (1 + E)`` uniforms belong to each individual:
use 0 draws the group, 1 the initial state, ``2 + (t − 1)(1 + E)`` the state after cycle ``t`` and
the next ``E`` decide the event counters in cycle ``t``. ``key`` comes from
:class:`numpy.random.SeedSequence` (one per draw; one per strategy too when common random numbers
are switched off). So an individual faces the same uniforms under every strategy (common random
numbers), and the numbers depend neither on how the population is cut into chunks nor on the
number of threads. With common random numbers the compiled kernel draws an individual's ``K``
uniforms once and reuses them for every strategy.

Sums
----
State occupancy and entries are counted per table cell as integers (exact, order-free); every
mean reward is computed afterwards from those counts. Per-individual totals, which only feed the
Monte Carlo standard errors, are summed in fixed blocks of :data:`BLOCK` consecutive individuals,
each block sequentially; the caller sums the blocks in order. Chunks always start on a block
boundary, so the sums are bit-identical whatever the chunk size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

BLOCK = 1024
"""Individuals per block of the Monte Carlo moment sums; chunk starts are multiples of it."""

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2 ** -53

TIME_IN_STATE, TRANSITIONS, EVENTS = 0, 1, 2
"""History counter kinds (``KernelInputs.hist_kind``)."""


class KernelInputs(NamedTuple):
    """Look-up tables of one parameter draw. ``G`` groups, ``H`` history counters, ``N`` states,
    ``S`` strategies, ``T`` cycles, ``E`` event counters, ``M`` per-individual metrics.

    ``*_map[g]`` is the offset of group ``g`` in a table's flattened (group, bucket) axis, already
    multiplied by the table's number of buckets; ``*_strides[h]`` is counter ``h``'s stride in that
    axis (0 when the table does not depend on it). A row index is
    ``(map[g] + sum_h count[h] * strides[h]) * N + state``.

    Attributes
    ----------
    n_cycles : int
    group_cum : ndarray, shape (G,)
        Cumulative group weights; the last is exactly 1.
    init_map : ndarray of int64, shape (G,)
    init_cdf : ndarray, shape (initial group, N)
        Cumulative initial distribution per initial group (last column 1).
    trans_map, trans_strides : ndarray of int64, shapes (G,), (H,)
    trans_time : ndarray of int64, shape (T,)
        Time slice of the transition table used in cycle ``t`` (index ``t - 1``).
    trans_cdf : ndarray, shape (S, time, row, N)
        Cumulative transition probabilities (each row ends in exactly 1).
    event_hist : ndarray of int64, shape (E,)
        The history counter each event counter increments.
    event_map, event_strides, event_time : like the transition ones
    event_prob : ndarray, shape (E, S, time, row)
        Probability of the event in a cycle, by the state at the start of the cycle.
    hist_kind, hist_cap : ndarray of int64, shape (H,)
        Counter kind (:data:`TIME_IN_STATE`, :data:`TRANSITIONS`, :data:`EVENTS`) and cap.
    hist_moves : ndarray of bool, shape (H, N, N)
        For :data:`TRANSITIONS` counters: which moves ``from -> to`` count (+1). For
        :data:`TIME_IN_STATE` counters: which moves keep counting (+1; any other move resets the
        counter to 0): the diagonal for time in the current state, every pair within the group for
        time in a group of states (``states = [...]``).
    reward_map, reward_strides : ndarray of int64, shapes (G,), (H,)
    n_reward_cells : int
        Cells of the reward grid (group × bucket × state) — the last axis of the counts.
    metric_state, metric_entry : ndarray, shape (S, T + 1, cell, M)
        What each per-individual metric adds at trace point ``t`` for being in a cell / for
        entering it: the reward already multiplied by the cycle-correction weight and discount.
    pairs : ndarray of int64, shape (Q, 2)
        Metric pairs whose cross-strategy second moments are accumulated.
    level_metrics : ndarray of int64, shape (M',)
        Metrics also summed per group (results by subgroup); empty for none.
    level_pairs : ndarray of int64, shape (Q', 2)
        Metric pairs whose cross-strategy second moments are also accumulated per group.
    """

    n_cycles: int
    group_cum: np.ndarray
    init_map: np.ndarray
    init_cdf: np.ndarray
    trans_map: np.ndarray
    trans_strides: np.ndarray
    trans_time: np.ndarray
    trans_cdf: np.ndarray
    event_hist: np.ndarray
    event_map: np.ndarray
    event_strides: np.ndarray
    event_time: np.ndarray
    event_prob: np.ndarray
    hist_kind: np.ndarray
    hist_cap: np.ndarray
    hist_moves: np.ndarray
    reward_map: np.ndarray
    reward_strides: np.ndarray
    n_reward_cells: int
    metric_state: np.ndarray
    metric_entry: np.ndarray
    pairs: np.ndarray
    level_metrics: np.ndarray = np.zeros(0, dtype=np.int64)
    level_pairs: np.ndarray = np.zeros((0, 2), dtype=np.int64)

    @property
    def uniforms_per_individual(self) -> int:
        """``K = 2 + T (1 + E)``."""
        return 2 + self.n_cycles * (1 + self.event_hist.shape[0])


class ChunkResult(NamedTuple):
    """What one chunk returns.

    Attributes
    ----------
    occupancy : ndarray of int64, shape (S, T + 1, cell)
        Individuals in each reward cell at each trace point.
    entries : ndarray of int64, shape (S, T + 1, cell)
        Individuals entering the cell's state from another state during cycle ``t`` (point 0: 0).
    block_sum : ndarray, shape (block, S, M)
        Per block, the sum of each individual's metric totals.
    block_cross : ndarray, shape (block, Q, S, S)
        Per block, ``sum_i x[i, s1, m1] * x[i, s2, m2]`` for each pair ``(m1, m2)``.
    group_sum : ndarray, shape (block, G, S, M')
        Per block and group, the sum of each individual's ``level_metrics`` totals (zero without
        common random numbers: an individual's group then differs between strategies).
    group_cross : ndarray, shape (block, G, Q', S, S)
        Per block and group, ``sum_i x[i, s1, m1] * x[i, s2, m2]`` for each of ``level_pairs``.
    """

    occupancy: np.ndarray
    entries: np.ndarray
    block_sum: np.ndarray
    block_cross: np.ndarray
    group_sum: np.ndarray
    group_cross: np.ndarray


def build_cdf_rows(prob: np.ndarray) -> np.ndarray:
    """Cumulative probabilities along the last axis, ending in exactly 1 from the last positive one.

    Rounding can leave a cumulative sum a hair below 1; drawing ``u`` in [that, 1) must not land in
    a state of probability 0, so every entry from the last positive probability on is set to 1.
    Negative probabilities within the validation tolerance count as 0, so every row is
    non-decreasing (both kernels' inverse-CDF searches rely on it).
    """
    prob = np.maximum(np.asarray(prob, dtype=float), 0.0)
    cdf = np.cumsum(prob, axis=-1)
    positive = prob > 0
    n = prob.shape[-1]
    last = n - 1 - np.argmax(positive[..., ::-1], axis=-1)
    last = np.where(positive.any(axis=-1), last, n - 1)
    cdf[np.arange(n) >= last[..., None]] = 1.0
    return cdf


def draw_uniforms(key, counters) -> np.ndarray:
    """Uniforms in [0, 1) for ``counters`` of the stream ``key`` (see *Random numbers* above).

    Parameters
    ----------
    key : numpy.uint64
    counters : array of uint64

    Returns
    -------
    ndarray of float64, multiples of 2**-53.
    """
    z = np.add(np.asarray(counters, dtype=np.uint64), np.uint64(1))  # a fresh array, updated in place
    with np.errstate(over="ignore"):
        z *= GAMMA
        z += np.uint64(key)
        z ^= z >> np.uint64(30)
        z *= _MIX1
        z ^= z >> np.uint64(27)
        z *= _MIX2
        z ^= z >> np.uint64(31)
        z >>= np.uint64(11)
        out = z.astype(np.float64)
        out *= _TO_UNIT
        return out


COMPILE_NOTICE = "compiling the microsimulation kernel (once per machine and costspine version, ~20 s)…"
"""What to tell a user before the first run that compiles the numba kernel (:func:`kernel_is_ready`)."""


def kernel_is_ready() -> bool | None:
    """Whether the compiled kernel loads without compiling: in memory or in numba's on-disk cache.

    ``True``: loaded in this process, or a cache entry for the current source is on disk (numba
    checks the source's time stamp and size, as here). ``False``: numba will compile it (about 20 s).
    ``None``: cannot tell (numba's cache internals changed). Imports numba (about a second).
    """
    from costspine.engines._microsim_numba import simulate_chunk_compiled

    if simulate_chunk_compiled.signatures:
        return True
    try:
        return bool(simulate_chunk_compiled._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 - private numba API: any failure means "cannot tell"
        return None


def count_parts(count: int) -> int:
    """Number of parts the numba kernel splits a chunk into (at most one per thread)."""
    import numba

    return int(max(1, min(numba.get_num_threads(), -(-count // BLOCK))))


def simulate_chunk(inputs: KernelInputs, *, keys: np.ndarray, start: int, count: int, backend: str = "numba") -> ChunkResult:
    """Simulate individuals ``start .. start + count - 1`` of one parameter draw under every strategy.

    Parameters
    ----------
    inputs : KernelInputs
        Look-up tables (never modified).
    keys : ndarray of uint64, shape (strategy,)
        Random stream key per strategy: all equal for common random numbers.
    start : int
        Index of the first individual; a multiple of :data:`BLOCK`.
    count : int
        Individuals in this chunk.
    backend : {"numba", "numpy"}
        Compiled kernel or plain-numpy reference; results are identical.

    Returns
    -------
    ChunkResult

    Notes
    -----
    Per individual and strategy: draw the group by inverse CDF of ``group_cum``, the initial state,
    then for ``t = 1..T``: events (``u < p``) and the next state (first ``j`` with ``u < cdf[j]``)
    from the history at the start of the cycle; then update the counters (time in state: +1 if the
    move ``from -> to`` keeps counting in ``hist_moves`` — the state is unchanged, or both are in the
    counter's group of states — else 0; transition counters: +1 on a counted move; event counters: +1 when
    the event happened; all capped) and count the individual in the reward cell of point ``t``.
    """
    if start % BLOCK:
        raise ValueError(f"chunks must start on a multiple of {BLOCK} individuals; got start={start}")
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    if backend == "numba":
        from costspine.engines._microsim_numba import simulate_chunk_compiled

        out = simulate_chunk_compiled(*inputs, keys, int(start), int(count), count_parts(count), BLOCK)
        return ChunkResult(*out)
    if backend == "numpy":
        return _simulate_chunk_numpy(inputs, keys, int(start), int(count))
    raise ValueError(f"unknown backend {backend!r}; expected 'numba' or 'numpy'")


def _simulate_chunk_numpy(inputs: KernelInputs, keys: np.ndarray, start: int, count: int) -> ChunkResult:
    """The plain-numpy reference: vectorised over the chunk's individuals, looping over cycles and strategies."""
    p = inputs
    n_strategies = keys.shape[0]
    n_cycles = p.n_cycles
    n_states = p.init_cdf.shape[1]
    n_hist = p.hist_kind.shape[0]
    n_events = p.event_hist.shape[0]
    cells = p.n_reward_cells
    shared = bool(np.all(keys == keys[0]))
    occupancy = np.zeros((n_strategies, n_cycles + 1, cells), dtype=np.int64)
    entries = np.zeros_like(occupancy)
    x = np.zeros((n_strategies, count, p.metric_state.shape[-1]))
    gathered = np.empty((count, p.metric_state.shape[-1]))  # reused buffer for table rows
    base = np.arange(start, start + count, dtype=np.uint64) * np.uint64(p.uniforms_per_individual)
    hist = np.zeros((n_strategies, n_hist, count), dtype=np.int64)
    trans_cdf = np.ascontiguousarray(np.moveaxis(p.trans_cdf, -1, 2))  # (S, time, N, row)
    init_cdf = np.ascontiguousarray(p.init_cdf.T)  # (N, row)
    # Entries add their metric values after the state's (the compiled kernel's order); an extra zero
    # row takes the individuals who did not move, and the whole step is skipped without entry rewards.
    has_entry = bool(np.any(p.metric_entry))
    metric_entry = np.concatenate([p.metric_entry, np.zeros(p.metric_entry.shape[:2] + (1,) + p.metric_entry.shape[3:])], axis=2)
    used = {
        name: [(h, int(stride)) for h, stride in enumerate(strides) if stride]
        for name, strides in (("trans", p.trans_strides), ("event", p.event_strides), ("reward", p.reward_strides))
    }

    def bucket(s, name):
        b = 0
        for h, stride in used[name]:
            b = b + hist[s, h] * stride
        return b

    cache = {}

    def draw(uses, s):
        """Uniform number ``uses`` of every individual; computed once for all strategies with common random numbers."""
        key = (uses, 0 if shared else s)
        if key not in cache:
            if len(cache) > 4 * n_strategies * (1 + n_events):
                cache.clear()
            cache[key] = draw_uniforms(keys[s], base + np.uint64(uses))
        return cache[key]

    state = np.empty((n_strategies, count), dtype=np.int64)
    offsets = {name: np.empty((n_strategies, count), dtype=np.int64) for name in ("trans", "event", "reward")}
    for s in range(n_strategies):
        group = np.searchsorted(p.group_cum, draw(0, s), side="right")
        if s == 0:
            first_group = group
        for name, table in (("trans", p.trans_map), ("event", p.event_map), ("reward", p.reward_map)):
            offsets[name][s] = table.take(group, mode="clip")
        state[s] = _first_above(init_cdf, p.init_map.take(group, mode="clip"), draw(1, s))
        cell = (offsets["reward"][s] + bucket(s, "reward")) * n_states + state[s]
        occupancy[s, 0] += np.bincount(cell, minlength=cells)
        x[s] += p.metric_state[s, 0].take(cell, axis=0, mode="clip", out=gathered)
    for t in range(1, n_cycles + 1):
        uses = 2 + (t - 1) * (1 + n_events)
        for s in range(n_strategies):
            now = state[s]
            fired = []
            for e in range(n_events):
                row = (offsets["event"][s] + bucket(s, "event")) * n_states + now
                prob = p.event_prob[e, s, p.event_time[t - 1]].take(row, mode="clip")
                fired.append(draw(uses + 1 + e, s) < prob)
            row = (offsets["trans"][s] + bucket(s, "trans")) * n_states + now
            new = _first_above(trans_cdf[s, p.trans_time[t - 1]], row, draw(uses, s))
            for h in range(n_hist):
                counted = p.hist_moves[h].ravel().take(now * n_states + new)
                if p.hist_kind[h] == TIME_IN_STATE:
                    hist[s, h] = np.where(counted, np.minimum(hist[s, h] + 1, p.hist_cap[h]), 0)
                elif p.hist_kind[h] == TRANSITIONS:
                    hist[s, h] = np.minimum(hist[s, h] + counted, p.hist_cap[h])
            for e in range(n_events):
                h = p.event_hist[e]
                hist[s, h] = np.minimum(hist[s, h] + fired[e], p.hist_cap[h])
            cell = (offsets["reward"][s] + bucket(s, "reward")) * n_states + new
            entered = np.where(new != now, cell, cells)  # ``cells`` = did not move
            state[s] = new
            occupancy[s, t] += np.bincount(cell, minlength=cells)
            entries[s, t] += np.bincount(entered, minlength=cells + 1)[:cells]
            xs = x[s]
            xs += p.metric_state[s, t].take(cell, axis=0, mode="clip", out=gathered)
            if has_entry:
                xs += metric_entry[s, t].take(entered, axis=0, mode="clip", out=gathered)

    xt = np.ascontiguousarray(x.transpose(0, 2, 1))  # (strategy, metric, individual)
    del x
    block_sum = np.moveaxis(_block_cumsum_last(xt), -1, 0)  # (block, strategy, metric)
    n_blocks = block_sum.shape[0]
    block_cross = np.empty((n_blocks, len(p.pairs), n_strategies, n_strategies))
    for q, (m1, m2) in enumerate(p.pairs):  # one pair at a time: small temporaries
        products = xt[:, m1][:, None, :] * xt[:, m2][None, :, :]  # (strategy, strategy, individual)
        block_cross[:, q] = np.moveaxis(_block_cumsum_last(products), -1, 0)
    n_groups = p.group_cum.shape[0]
    level_metrics, level_pairs = p.level_metrics, p.level_pairs
    group_sum = np.zeros((n_blocks, n_groups, n_strategies, level_metrics.shape[0]))
    group_cross = np.zeros((n_blocks, n_groups, level_pairs.shape[0], n_strategies, n_strategies))
    if shared and (level_metrics.shape[0] or level_pairs.shape[0]):
        # masked sums: adding the other groups' zeros keeps each group's sum in the compiled kernel's order
        for g in np.unique(first_group):
            member = first_group == g
            xg = np.where(member, xt[:, level_metrics], 0.0)  # (strategy, level metric, individual)
            group_sum[:, g] = np.moveaxis(_block_cumsum_last(xg), -1, 0)
            for q, (m1, m2) in enumerate(level_pairs):
                products = np.where(member, xt[:, m1][:, None, :] * xt[:, m2][None, :, :], 0.0)
                group_cross[:, g, q] = np.moveaxis(_block_cumsum_last(products), -1, 0)
    return ChunkResult(occupancy, entries, block_sum, block_cross, group_sum, group_cross)


def _first_above(cdf_t: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse CDF per individual: the first ``j`` with ``u < cdf[row, j]``, i.e. the number of
    ``j < N - 1`` with ``cdf[row, j] <= u`` (the last column is 1 > u). ``cdf_t`` is (N, row)."""
    out = np.zeros(rows.shape[0], dtype=np.int64)
    for j in range(cdf_t.shape[0] - 1):
        out += cdf_t[j].take(rows, mode="clip") <= u
    return out


def _block_cumsum_last(values: np.ndarray) -> np.ndarray:
    """Sums over consecutive blocks of :data:`BLOCK` individuals along the last axis, each block
    strictly left to right (a cumulative sum's last element; ``np.sum`` would sum pairwise)."""
    n = values.shape[-1]
    n_full = n // BLOCK
    out = np.empty(values.shape[:-1] + (-(-n // BLOCK),))
    if n_full:
        full = values[..., : n_full * BLOCK].reshape(values.shape[:-1] + (n_full, BLOCK))
        out[..., :n_full] = np.cumsum(full, axis=-1)[..., -1]
    if n % BLOCK:
        out[..., n_full] = np.cumsum(values[..., n_full * BLOCK :], axis=-1)[..., -1]
    return out
