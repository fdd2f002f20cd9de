"""PSA chunks on a Dask cluster: a local one (``--workers``) or an existing scheduler (``--scheduler``).

:func:`run_on_dask` submits the pending chunks of a run to the cluster and hands each result
back as it arrives; :func:`costspine.analysis.psa.run_psa` decides which chunks are pending and
what to do with each result. Results do not depend on where chunks ran.
"""

from __future__ import annotations

import contextlib

from costspine.errors import UsageError

SCHEDULER_TIMEOUT = "10s"  # how long to try reaching a --scheduler before giving up

DASK_START_SECONDS = 4.0
"""Seconds a local cluster costs before it helps: starting the scheduler and worker processes,
importing costspine in each, shipping the scenario, and closing it all (measured with
``benchmarks/bench_dask.py`` on 2 cores; more under load)."""

TASKS_PER_WORKER = 4
"""Chunks are grouped into about this many tasks per worker: big enough that a task's overhead
(scheduling, shipping its result) is small, small enough to balance the load and show progress."""


def dask_pays_off(seconds_in_process: float, workers: int, *, cores: int | None = None) -> bool:
    """Whether ``workers`` local worker processes finish work that takes ``seconds_in_process``
    here sooner than this process alone: the time they save, ``seconds · (1 − 1/n)`` with ``n``
    the workers that can run at once (at most the machine's cores), exceeds
    :data:`DASK_START_SECONDS`.

    >>> dask_pays_off(3.0, 2, cores=2), dask_pays_off(30.0, 2, cores=2), dask_pays_off(30.0, 4, cores=1)
    (False, True, False)
    """
    import os

    n = max(1, min(int(workers), cores if cores is not None else (os.cpu_count() or 1)))
    return seconds_in_process * (1.0 - 1.0 / n) > DASK_START_SECONDS


def group_chunks(pending, layout, n_tasks: int) -> list[list[tuple[int, int, int]]]:
    """Consecutive pending chunks in about ``n_tasks`` groups of similar numbers of draws.

    >>> group_chunks([0, 1, 2, 3, 4], [(0, 10), (10, 20), (20, 30), (30, 40), (40, 45)], 2)
    [[(0, 0, 10), (1, 10, 20), (2, 20, 30)], [(3, 30, 40), (4, 40, 45)]]
    """
    chunks = [(c, *layout[c]) for c in pending]
    total = sum(stop - start for _, start, stop in chunks)
    target = total / max(1, min(int(n_tasks), len(chunks)))
    groups, current, size = [], [], 0
    for chunk in chunks:
        current.append(chunk)
        size += chunk[2] - chunk[1]
        if size >= target * (len(groups) + 1) - 1e-9 and len(groups) < n_tasks - 1:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


@contextlib.contextmanager
def _children_ignore_interrupts():
    """Start worker processes with SIGINT ignored, so Ctrl-C reaches only this process.

    A terminal sends Ctrl-C to every process of the foreground group; workers that inherit an
    ignored SIGINT (kept across ``exec``, and Python leaves it ignored) do not die printing
    tracebacks: this process gets ``KeyboardInterrupt`` and closes the cluster, which stops them.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def local_cluster(workers: int):
    """A Dask ``LocalCluster`` of ``workers`` single-threaded processes, everything on the loopback
    interface and no dashboard (its HTTP server would take a free local port); quiet logs."""
    import logging

    from dask.distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
        silence_logs=logging.ERROR,
    )


def run_on_dask(
    scenario, *, compute, seed, layout, pending, posterior_pools, method, individuals, workers, scheduler, finish
) -> None:
    """Submit pending chunks to a Dask cluster; hand each chunk's result to ``finish`` as it arrives.

    ``compute`` is :func:`costspine.analysis.psa.compute_chunks`, called on the workers with groups
    of consecutive chunks (:func:`group_chunks`, about :data:`TASKS_PER_WORKER` tasks per worker);
    each chunk's arrays are the same as in this process. The scenario is sent to every worker once.
    """
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency
        raise UsageError(f"--workers/--scheduler need dask[distributed]: {exc}") from None

    cluster = None
    try:
        if scheduler is not None:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        else:
            # Everything on the loopback interface; no dashboard (its HTTP server on a free local port).
            with _children_ignore_interrupts():
                cluster = local_cluster(workers)
            client = Client(cluster)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise UsageError(f"cannot connect to {where}: {exc}") from None
    try:
        # scatter([x]) sends x whole (a bare list would be scattered element by element)
        scenario_f = client.scatter([scenario], broadcast=True, hash=False)[0]
        pools_f = client.scatter([list(posterior_pools)], broadcast=True, hash=False)[0] if posterior_pools else ()
        n_workers = max(1, sum(client.nthreads().values()))
        futures = [
            client.submit(
                compute,
                scenario_f,
                seed=seed,
                chunks=group,
                posterior_pools=pools_f,
                method=method,
                individuals=individuals,
                pure=False,
            )
            for group in group_chunks(pending, layout, TASKS_PER_WORKER * n_workers)
        ]
        try:
            for future in as_completed(futures):
                for arrays in future.result():
                    finish(arrays)
        finally:
            for future in futures:
                future.cancel()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
