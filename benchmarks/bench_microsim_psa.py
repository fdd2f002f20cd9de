"""Microsimulation PSA speed against the kernel's own speed on the same scenario (issue 18.4).

Runs, alternately and in one process: the compiled kernel alone on the base case's look-up
tables (``simulate_chunk``, the same individuals per strategy, no table building and no summary),
and ``run_psa(..., method="microsim")`` on a number of draws (every draw builds its tables,
simulates its individuals and is summarised). Prints individual-cycles per second (individuals ×
strategies × cycles) in wall and CPU time, and the ratio PSA / kernel (the target is ≥ 0.5).

    python benchmarks/bench_microsim_psa.py [--draws 100] [--individuals 20000] [--rounds 3]
        [--scenario scenarios/spine/base_case_microsim.toml]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/spine/base_case_microsim.toml")
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--individuals", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from costspine.analysis.psa import run_psa
    from costspine.engines.microsim import simulate_chunk
    from costspine.model.groups import build_groups
    from costspine.model.inputs import evaluate_parameters
    from costspine.model.microsim_tables import build_draw_tables
    from costspine.scenario.load import load_scenario
    from costspine.simulate.microsim import build_kernel_inputs, choose_chunk_size

    s = load_scenario(args.scenario)
    values = evaluate_parameters(s)
    groups = build_groups(s.population, values, tables=s.tables, where=str(s.path), base_case=True)
    kernel = build_kernel_inputs(s, build_draw_tables(s, s.population, groups, values, draw=0, base_case=True))
    keys = np.full(len(s.strategies), 20260101, dtype=np.uint64)
    n = args.individuals
    size = choose_chunk_size(n, kernel, len(s.strategies), backend="numba")
    per_draw = n * len(s.strategies) * s.settings.n_cycles

    def kernel_run():
        for _ in range(args.draws):
            for start in range(0, n, size):
                simulate_chunk(kernel, keys=keys, start=start, count=min(size, n - start), backend="numba")

    def psa_run():
        run_psa(s, args.draws, seed=20260101, method="microsim", individuals=n)

    run_psa(s, 2, seed=1, method="microsim", individuals=2048)  # load (or compile) the kernel first
    simulate_chunk(kernel, keys=keys, start=0, count=1024, backend="numba")
    times = {"kernel": [], "psa": []}
    for _ in range(args.rounds):
        for name, fn in (("kernel", kernel_run), ("psa", psa_run)):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    work = per_draw * args.draws
    print(
        f"{args.scenario}: {args.draws} draws × {n:,} individuals × {len(s.strategies)} strategies × {s.settings.n_cycles} cycles"
    )
    rates = {}
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        rates[name] = (work / wall / 1e6, work / cpu / 1e6)
        print(
            f"  {name:6}  {wall:7.2f} s wall  {cpu:7.2f} s CPU  {rates[name][0]:6.1f} M ind-cycles/s wall  {rates[name][1]:6.1f} per CPU s"
        )
    print(
        f"  PSA / kernel: {rates['psa'][0] / rates['kernel'][0]:.2f} (wall), "
        f"{rates['psa'][1] / rates['kernel'][1]:.2f} (CPU)  [target >= 0.5]"
    )


if __name__ == "__main__":
    main()
