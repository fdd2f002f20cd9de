"""PSA scaling: wall time and peak memory of ``costspine psa`` from 1,000 to 1,000,000 draws.

Run from the repository root::

    python benchmarks/bench_psa_scale.py                 # spine 1k/10k/100k, HIV 1k/10k/100k/1M
    python benchmarks/bench_psa_scale.py --max 100000    # skip the 1M run

Every workload is a fresh process (``python -m costspine.cli psa ... --quiet``, default outputs)
in a temporary folder; its peak resident memory comes from ``wait4``. Before each workload the
reference ``python -c "import numpy"`` runs, so each line shows time / reference (wall and CPU),
and the per-draw cost (CPU µs per draw) shows whether time grows linearly. The spine model
(``scenarios/spine/base_case.toml``) is the memory target (≤ 300 MB at 100k draws); the HIV model
(``scenarios/examples/hiv_chancellor.toml``) is the one run at 1M draws. The last lines print the
memory figures of issue 18.2: the HIV peak at 1M draws over its peak at 100k (bounded memory:
≤ ~1.3, the draws go to ``draws/`` on disk as the run goes and the summary streams over them), and
the spine peak at 100k against 300 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_commands import REFERENCE, ROOT, measure

SPINE = "scenarios/spine/base_case.toml"
HIV = "scenarios/examples/hiv_chancellor.toml"
PLAN = [(SPINE, 1_000), (SPINE, 10_000), (SPINE, 100_000), (HIV, 1_000), (HIV, 10_000), (HIV, 100_000), (HIV, 1_000_000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000, help="largest number of draws to run")
    args = parser.parse_args()
    os.chdir(ROOT)
    print(
        f"{'scenario':<40} {'draws':>9} {'wall s':>8} {'ratio':>6} {'CPU s':>7} {'ratio':>6} {'µs/draw':>8} "
        f"{'peak MB':>8} {'folder MB':>9}"
    )
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scenario, draws in PLAN:
            if draws > args.max:
                continue
            ref, ref_cpu, _ = measure(REFERENCE)
            out = Path(tmp) / f"{Path(scenario).stem}-{draws}"
            wall, cpu, rss = measure(
                [sys.executable, "-m", "costspine.cli", "psa", scenario, "--draws", str(draws), "--out", str(out), "--quiet"]
            )
            size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
            print(
                f"{scenario:<40} {draws:>9,} {wall:>8.2f} {wall / ref:>6.1f} {cpu:>7.2f} {cpu / ref_cpu:>6.1f} "
                f"{cpu / draws * 1e6:>8.1f} {rss:>8.0f} {size:>9.1f}",
                flush=True,
            )
            peaks[scenario, draws] = rss
            shutil.rmtree(out, ignore_errors=True)  # a 1M-draw folder is ~190 MB
    if (SPINE, 100_000) in peaks:
        print(f"spine peak RSS at 100,000 draws: {peaks[SPINE, 100_000]:.0f} MB (target <= 300 MB)")
    if (HIV, 1_000_000) in peaks and (HIV, 100_000) in peaks:
        ratio = peaks[HIV, 1_000_000] / peaks[HIV, 100_000]
        print(f"HIV peak RSS 1,000,000 / 100,000 draws: {ratio:.2f} (bounded memory: target <= ~1.3)")


if __name__ == "__main__":
    main()
