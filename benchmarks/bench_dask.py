"""Dask: does ``--workers N`` pay off? In-process PSA against a local cluster of N worker processes.

For each workload, alternately in this process: ``run_psa`` in-process, ``run_psa(workers=N)``
with the cluster forced (the decision rule patched to "always"), and ``run_psa(workers=N)`` as
shipped, which times the first chunk and starts a cluster only when
:func:`costspine.analysis.psa_dask.dask_pays_off` says splitting saves more than
``DASK_START_SECONDS``. Prints the median wall seconds of ``--rounds`` rounds and the ratio to
in-process (< 1: faster), plus the bare cost of starting and closing a local cluster (what
``DASK_START_SECONDS`` stands for).

    python benchmarks/bench_dask.py [--workers 2] [--rounds 3] [--quick]

Workloads: the spine cohort PSA at 100,000 draws (``--quick``: 20,000) and the spine
microsimulation PSA, 20,000 individuals × 200 draws (``--quick``: 10 draws).
"""

from __future__ import annotations

import argparse
import statistics
import time
from unittest import mock


def cluster_start_seconds(workers: int) -> float:
    from dask.distributed import Client

    from costspine.analysis.psa import compute_chunk
    from costspine.analysis.psa_dask import local_cluster
    from costspine.scenario.load import load_scenario

    scenario = load_scenario("scenarios/examples/hiv_chancellor.toml")
    started = time.perf_counter()
    cluster = local_cluster(workers)
    client = Client(cluster)
    shipped = client.scatter([scenario], broadcast=True, hash=False)[0]
    futures = [client.submit(compute_chunk, shipped, seed=1, chunk=c, start=c, stop=c + 1, pure=False) for c in range(workers)]
    client.gather(futures)
    client.close()
    cluster.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    from costspine.analysis.psa import run_psa
    from costspine.scenario.load import load_scenario

    cohort = load_scenario("scenarios/spine/base_case.toml")
    micro = load_scenario("scenarios/spine/base_case_microsim.toml")
    workloads = {
        f"spine cohort, {20_000 if args.quick else 100_000:,} draws": lambda **kw: run_psa(
            cohort, 20_000 if args.quick else 100_000, seed=1, **kw
        ),
        f"spine microsim, 20,000 individuals x {10 if args.quick else 200} draws": lambda **kw: run_psa(
            micro, 10 if args.quick else 200, seed=1, method="microsim", individuals=20_000, **kw
        ),
    }
    run_psa(micro, 2, seed=1, method="microsim", individuals=20_000)  # load the compiled kernel first
    starts = []
    results = {name: {"in-process": [], "cluster": [], "as shipped": []} for name in workloads}
    for _ in range(args.rounds):
        starts.append(cluster_start_seconds(args.workers))
        for name, run in workloads.items():
            for how in ("in-process", "cluster", "as shipped"):
                said = []
                started = time.perf_counter()
                if how == "in-process":
                    run()
                elif how == "cluster":
                    with mock.patch("costspine.analysis.psa.dask_pays_off", lambda *a, **k: True):
                        run(workers=args.workers)
                else:
                    run(workers=args.workers, progress=said.append)
                results[name][how].append(time.perf_counter() - started)
                if how == "as shipped":
                    results[name]["decision"] = "in-process (stepped aside)" if said else "cluster"
    print(f"local cluster of {args.workers} workers: start + one task each + close, median {statistics.median(starts):.2f} s")
    for name, runs in results.items():
        base = statistics.median(runs["in-process"])
        print(f"{name}:")
        for how in ("in-process", "cluster", "as shipped"):
            wall = statistics.median(runs[how])
            note = f"  [{runs['decision']}]" if how == "as shipped" else ""
            print(f"  {how:<11} {wall:7.2f} s  ratio {wall / base:5.2f}{note}")


if __name__ == "__main__":
    main()
