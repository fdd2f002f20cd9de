"""Microsimulation benchmarks: prints a table of timings and ratios.

    python benchmarks/bench_microsim.py            # everything (about a minute on 2 cores)
    python benchmarks/bench_microsim.py --quick    # skips the 10^7-individual memory run

Workloads
---------
1. Kernel throughput: ``benchmarks/five_state_history.toml`` (5 states, 2 history counters, a
   risk attribute, 3 strategies, 13 cycles), 10^6 individuals; the compiled kernel on every thread
   against the plain-numpy reference (same signature, bit-identical results) in the same run.
   Individual-cycles count every strategy: 10^6 x 13 x 3 = 3.9 x 10^7.
2. End to end, 10^6 x 13 x 3, as a whole process (Python start-up, imports, numba's cached-kernel
   load, tables, simulation): ``benchmarks/microsim_only.py`` (computes and prints) and
   ``costspine run ... --method microsim`` (which also writes CSVs, JSON and a workbook; figures only with ``--figures``).
3. Sick-Sicker (Krijkamp et al. 2018), 10^5 individuals x 30 cycles x 2 strategies, whole process,
   the same two ways, against ``benchmarks/sick_sicker_plain_numpy.py`` (nothing but numpy,
   computes and prints).
4. Memory: 10^7 x 13 x 3 in a child process; peak resident memory and wall time.

Timings are the best of several runs (the machine may be shared); the load average is printed.
Performance is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "five_state_history.toml"
SICK_SICKER = ROOT / "scenarios" / "examples" / "sick_sicker.toml"
PLAIN = ROOT / "benchmarks" / "sick_sicker_plain_numpy.py"
ONLY = ROOT / "benchmarks" / "microsim_only.py"


def best_of(runs: int, func):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def whole_process(args: list[str], runs: int) -> float:
    def call():
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)

    return best_of(runs, call)


def kernel_inputs(path: Path):
    from costspine.model.groups import build_groups
    from costspine.model.inputs import evaluate_parameters
    from costspine.model.microsim_tables import build_draw_tables
    from costspine.scenario.load import load_scenario
    from costspine.simulate.microsim import build_kernel_inputs

    scenario = load_scenario(path)
    values = evaluate_parameters(scenario)
    groups = build_groups(scenario.population, values, tables=scenario.tables, where=str(path), base_case=True)
    return scenario, build_kernel_inputs(
        scenario, build_draw_tables(scenario, scenario.population, groups, values, draw=0, base_case=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 10^7-individual memory run")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()

    import numba

    from costspine.engines.microsim import simulate_chunk

    rows = []
    print(f"load average at start: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()}, numba threads: {numba.get_num_threads()})")

    # 1. kernel throughput
    scenario, kernel = kernel_inputs(BENCH)
    n_strategies, n_cycles = len(scenario.strategies), scenario.settings.n_cycles
    keys = np.full(n_strategies, np.uint64(20260101), dtype=np.uint64)
    simulate_chunk(kernel, keys=keys, start=0, count=4096, backend="numba")  # compile or load from cache
    n = 1_000_000
    t_numba = best_of(options.runs, lambda: simulate_chunk(kernel, keys=keys, start=0, count=n, backend="numba"))
    n_ref = 200_000
    t_numpy = best_of(max(1, options.runs - 1), lambda: simulate_chunk(kernel, keys=keys, start=0, count=n_ref, backend="numpy"))
    a = simulate_chunk(kernel, keys=keys, start=0, count=20_000, backend="numba")
    b = simulate_chunk(kernel, keys=keys, start=0, count=20_000, backend="numpy")
    identical = all(np.array_equal(x, y) for x, y in zip(a, b))
    rate_numba = n * n_cycles * n_strategies / t_numba
    rate_numpy = n_ref * n_cycles * n_strategies / t_numpy
    rows.append(
        (
            "kernel, 5 states + 2 history counters (numba, all threads)",
            f"{rate_numba / 1e6:,.1f} M individual-cycles/s",
            f"{t_numba:.3f} s for 10^6 x 13 x 3",
        )
    )
    rows.append(
        (
            "kernel, plain-numpy reference",
            f"{rate_numpy / 1e6:,.1f} M individual-cycles/s",
            f"{t_numpy:.3f} s for 2x10^5 x 13 x 3",
        )
    )
    rows.append(("ratio numba / numpy", f"{rate_numba / rate_numpy:.1f} x", f"bit-identical: {identical}"))

    # 2. end to end, whole process
    with tempfile.TemporaryDirectory() as tmp:
        cli = [sys.executable, "-m", "costspine.cli"]
        t_only = whole_process([sys.executable, str(ONLY), str(BENCH), "1000000", "1"], options.runs)
        rows.append(("10^6 x 13 x 3 end to end (whole process, compute and print)", f"{t_only:.2f} s", "target < 2 s"))
        t_e2e = whole_process(
            cli
            + [
                "run",
                str(BENCH),
                "--method",
                "microsim",
                "--individuals",
                "1000000",
                "--seed",
                "1",
                "--quiet",
                "--out",
                f"{tmp}/e2e",
            ],
            options.runs,
        )
        rows.append(("10^6 x 13 x 3 end to end (costspine run, whole process)", f"{t_e2e:.2f} s", "+ CSV, JSON, workbook"))
        from costspine.simulate.microsim import run_microsim

        t_api = best_of(options.runs, lambda: run_microsim(scenario, n_individuals=1_000_000, seed=1))
        rows.append(("10^6 x 13 x 3, run_microsim in process", f"{t_api:.2f} s", "tables + simulation + summaries"))

        # 3. Sick-Sicker 100k x 30, whole process
        t_ss_only = whole_process([sys.executable, str(ONLY), str(SICK_SICKER), "100000", "1"], options.runs)
        t_ss = whole_process(
            cli
            + [
                "run",
                str(SICK_SICKER),
                "--method",
                "microsim",
                "--individuals",
                "100000",
                "--seed",
                "1",
                "--quiet",
                "--out",
                f"{tmp}/ss",
            ],
            options.runs,
        )
        t_plain = whole_process([sys.executable, str(PLAIN)], options.runs)
        sick = __import__("costspine.scenario.load", fromlist=["load_scenario"]).load_scenario(SICK_SICKER)
        t_ss_api = best_of(options.runs, lambda: run_microsim(sick, n_individuals=100_000, seed=1))
        rows.append(("Sick-Sicker 10^5 x 30 x 2, plain numpy script (whole process)", f"{t_plain:.2f} s", "computes and prints"))
        rows.append(
            (
                "Sick-Sicker 10^5 x 30 x 2, costspine (whole process, compute and print)",
                f"{t_ss_only:.2f} s",
                f"ratio costspine / plain numpy = {t_ss_only / t_plain:.2f}",
            )
        )
        rows.append(("Sick-Sicker 10^5 x 30 x 2, costspine run (whole process)", f"{t_ss:.2f} s", "+ CSV, JSON, workbook"))
        rows.append(("Sick-Sicker 10^5 x 30 x 2, run_microsim in process", f"{t_ss_api:.3f} s", "auto backend"))

    # 4. memory at 10^7
    if not options.quick:
        code = (
            "import resource, time; from costspine.scenario.load import load_scenario; from costspine.simulate.microsim import run_microsim; "
            f"s = load_scenario({str(BENCH)!r}); t = time.perf_counter(); "
            "r = run_microsim(s, n_individuals=10_000_000, seed=1); "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        )
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()
        rows.append(
            ("10^7 x 13 x 3 (run_microsim, child process)", f"{float(out[0]):.2f} s", f"peak RSS {int(out[1]) / 1024:,.0f} MiB")
        )

    width = max(len(r[0]) for r in rows)
    print()
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>32}  {note}")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
