"""PSA chunks on a Dask cluster: a local one (``--workers``) or an existing scheduler (``--scheduler``).

:func:`run_on_dask` submits the pending chunks of a run to the cluster and hands each result
back as it arrives; :func:`costspine.analysis.psa.run_psa` decides which chunks are pending and
what to do with each result. Results do not depend on where chunks ran.
"""

from __future__ import annotations

import contextlib

from costspine.errors import UsageError

SCHEDULER_TIMEOUT = "10s"  # how long to try reaching a --scheduler before giving up


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


def run_on_dask(
    scenario, *, compute, seed, layout, pending, posterior_pools, method, individuals, workers, scheduler, finish
) -> None:
    """Submit pending chunks to a Dask cluster; hand each result to ``finish`` as it arrives.

    ``compute`` is the chunk function (:func:`costspine.analysis.psa.compute_chunk`), called on the
    workers with the same arguments as in this process.
    """
    import logging

    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency
        raise UsageError(f"--workers/--scheduler need dask[distributed]: {exc}") from None

    cluster = None
    try:
        if scheduler is not None:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        else:
            # Everything on the loopback interface; no dashboard (its HTTP server on a free local port).
            with _children_ignore_interrupts():
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                    scheduler_kwargs={"dashboard": False},
                    silence_logs=logging.ERROR,
                )
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
        futures = []
        for c in pending:
            start, stop = layout[c]
            futures.append(
                client.submit(
                    compute,
                    scenario_f,
                    seed=seed,
                    chunk=c,
                    start=start,
                    stop=stop,
                    posterior_pools=pools_f,
                    method=method,
                    individuals=individuals,
                    pure=False,
                )
            )
        try:
            for future in as_completed(futures):
                finish(future.result())
        finally:
            for future in futures:
                future.cancel()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
