"""Compile the microsimulation kernel ahead of its first use: ``python -m costspine.engines.compile``.

numba compiles :func:`~costspine.engines._microsim_numba.simulate_chunk_compiled` the first time it is
called (about 20 s of CPU, most of it LLVM optimising the parallel loop) and caches the machine code
on disk: in ``costspine/engines/__pycache__`` when that folder is writable, else in numba's user-wide
cache folder (or ``NUMBA_CACHE_DIR``). The cache is keyed by this machine's CPU and the kernel's
source file, so it cannot be shipped in the wheel; installation runs this module once instead
(README's set-up, ``.ci/run``), and neither the first microsimulation nor the test suite waits for
the compiler. Running it again costs about a second (the cached code is loaded, nothing compiled).
Without it nothing breaks: the first microsimulation compiles the kernel itself, after printing
:data:`~costspine.engines.microsim.COMPILE_NOTICE`.

The kernel is compiled for one signature only (every argument's type, see
:func:`kernel_argument_types`); the tiny inputs built here have the same types as the tables of any
scenario, which ``tests/unit/test_microsim.py`` checks.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from costspine.engines.microsim import BLOCK, COMPILE_NOTICE, KernelInputs, kernel_is_ready, simulate_chunk


def build_tiny_inputs() -> KernelInputs:
    """Kernel inputs of the smallest model: one group, state, strategy, cycle and metric; no history or events.

    Returns
    -------
    KernelInputs
        Every array C-contiguous, writable and of the dtype :func:`~costspine.simulate.microsim.build_kernel_inputs`
        gives (float64, int64, bool), so the kernel compiled for them is the one every scenario uses.
    """

    def ints(*shape):
        return np.zeros(shape, dtype=np.int64)

    return KernelInputs(
        n_cycles=1,
        group_cum=np.ones(1),
        init_map=ints(1),
        init_cdf=np.ones((1, 1)),
        trans_map=ints(1),
        trans_strides=ints(0),
        trans_time=ints(1),
        trans_cdf=np.ones((1, 1, 1, 1)),
        event_hist=ints(0),
        event_map=ints(1),
        event_strides=ints(0),
        event_time=ints(1),
        event_prob=np.zeros((0, 1, 1, 1)),
        hist_kind=ints(0),
        hist_cap=ints(0),
        hist_moves=np.zeros((0, 1, 1), dtype=np.bool_),
        reward_map=ints(1),
        reward_strides=ints(0),
        n_reward_cells=1,
        metric_state=np.zeros((1, 2, 1, 1)),
        metric_entry=np.zeros((1, 2, 1, 1)),
        pairs=ints(1, 2),
        level_metrics=ints(1),
        level_pairs=ints(1, 2),
    )


def kernel_argument_types(inputs: KernelInputs, keys: np.ndarray, start: int, count: int) -> tuple:
    """numba's types of the arguments :func:`~costspine.engines.microsim.simulate_chunk` passes to the kernel.

    Parameters
    ----------
    inputs : KernelInputs
    keys : ndarray of uint64, shape (strategy,)
    start, count : int

    Returns
    -------
    tuple of numba types
        Equal for two calls exactly when the second reuses the code compiled for the first. Imports numba.
    """
    import numba

    from costspine.engines.microsim import count_parts

    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    return tuple(numba.typeof(a) for a in (*inputs, keys, int(start), int(count), count_parts(count), BLOCK))


def compile_kernel() -> bool:
    """Compile the numba kernel (or load it from the on-disk cache) by running it on :func:`build_tiny_inputs`.

    Returns
    -------
    bool
        ``True`` if it had to be compiled (about 20 s), ``False`` if it was already compiled or cached.
    """
    ready = kernel_is_ready()
    out = simulate_chunk(build_tiny_inputs(), keys=np.zeros(1, dtype=np.uint64), start=0, count=1, backend="numba")
    if out.occupancy.sum() != 2:  # one individual at trace points 0 and 1
        raise RuntimeError(
            f"the compiled kernel counted {out.occupancy.sum()} individual-points on the smallest model; expected 2"
        )
    return not ready


def main() -> int:
    """``python -m costspine.engines.compile``: compile the kernel, saying what it does and where the code is cached."""
    from costspine.engines._microsim_numba import simulate_chunk_compiled

    if kernel_is_ready():
        compile_kernel()
        print(f"microsimulation kernel already compiled (cache: {simulate_chunk_compiled.stats.cache_path})")
        return 0
    print(COMPILE_NOTICE, flush=True)
    begun = time.perf_counter()
    compile_kernel()
    seconds = time.perf_counter() - begun
    print(f"compiled in {seconds:.0f} s; cached in {simulate_chunk_compiled.stats.cache_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
