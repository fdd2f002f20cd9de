"""Whole ``costspine`` commands with their default outputs, as a ratio to a bare ``import numpy``.

Run from the repository root::

    python benchmarks/bench_commands.py              # 5 rounds
    python benchmarks/bench_commands.py --rounds 9

Each round runs, one after the other, the reference ``python -c "import numpy"`` and every
workload below, each a fresh process of the checkout's code (``python -m costspine.cli``, run
from the repository root so the checkout is imported), writing into a temporary folder. The
reference and the workloads alternate, so machine load hits them alike; the figure to read is
the ratio of medians (workload / reference), target ≤ 6.

- ``psa_hiv_10k``: ``costspine psa scenarios/examples/hiv_chancellor.toml --draws 10000``
- ``run_spine``: ``costspine run scenarios/spine/base_case.toml``
- ``psa_hiv_10k_full`` (``--full``): the same PSA with ``--figures --csv`` (everything it can write)
- ``run_spine_figures`` (``--full``): the same run with ``--figures``

It also prints the total CPU time (user + system) of each child, which drifts less with load
than the wall-clock time.

The children run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed, the cache in a
temporary ``PYTHONPYCACHEPREFIX``), as in an ordinary install: without it every costspine module
is compiled from source on every start (~0.35 s here).
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = [sys.executable, "-c", "import numpy"]
WORKLOADS = {
    "psa_hiv_10k": ["psa", "scenarios/examples/hiv_chancellor.toml", "--draws", "10000"],
    "run_spine": ["run", "scenarios/spine/base_case.toml"],
}
FULL = {
    "psa_hiv_10k_full": ["psa", "scenarios/examples/hiv_chancellor.toml", "--draws", "10000", "--figures", "--csv"],
    "run_spine_figures": ["run", "scenarios/spine/base_case.toml", "--figures"],
}


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="costspine-bench-pycache-")
atexit.register(shutil.rmtree, ENV["PYTHONPYCACHEPREFIX"], ignore_errors=True)


def measure(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one child process."""
    started = time.perf_counter()
    pid = os.posix_spawn(
        argv[0],
        argv,
        ENV,
        file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)],
    )
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed (exit {os.waitstatus_to_exitcode(status)}): {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also time the commands with every optional output")
    args = parser.parse_args()
    os.chdir(ROOT)
    workloads = {**WORKLOADS, **(FULL if args.full else {})}
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            name: [sys.executable, "-m", "costspine.cli", *argv, "--out", str(Path(tmp) / name)]
            for name, argv in workloads.items()
        }
        for argv in commands.values():  # warm the file cache and compile bytecode once
            measure(argv)
        times = {name: [] for name in ["reference", *commands]}
        for _ in range(args.rounds):
            for name, argv in [("reference", REFERENCE), *commands.items()]:
                times[name].append(measure(argv))
    print(f"{args.rounds} rounds, medians; reference = python -c 'import numpy'")
    print_ratios(times)


def print_ratios(times: dict, *, name_width: int = 20, seconds: int = 3, ratio_width: int = 7, ratio: int = 2) -> None:
    """One line per workload of ``times`` (name -> [(wall, cpu, peak MB) per round]): median wall and
    CPU seconds, each as a ratio to the median of ``times["reference"]``, and the largest peak RSS."""
    ref_wall = statistics.median(t[0] for t in times["reference"])
    ref_cpu = statistics.median(t[1] for t in times["reference"])
    print(
        f"{'workload':<{name_width}} {'wall s':>8} {'ratio':>{ratio_width}} {'cpu s':>8} {'ratio':>{ratio_width}} {'peak MB':>8}"
    )
    for name, runs in times.items():
        wall, cpu = statistics.median(t[0] for t in runs), statistics.median(t[1] for t in runs)
        rss = max(t[2] for t in runs)
        print(
            f"{name:<{name_width}} {wall:>8.{seconds}f} {wall / ref_wall:>{ratio_width}.{ratio}f} "
            f"{cpu:>8.{seconds}f} {cpu / ref_cpu:>{ratio_width}.{ratio}f} {rss:>8.0f}"
        )


if __name__ == "__main__":
    main()
