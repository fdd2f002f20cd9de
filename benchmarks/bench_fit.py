"""``costspine fit`` on the bundled SPINE CARE evidence, as a ratio to a bare ``import numpy``.

Run from the repository root::

    python benchmarks/bench_fit.py              # 3 rounds
    python benchmarks/bench_fit.py --rounds 1

Each round runs the reference ``python -c "import numpy"``, then the whole command
``python -m costspine.cli fit --quiet --out <tmp>`` (a fresh process of the checkout's code, with
its default outputs: posterior, NetCDF, fit.xlsx, the PNG figures; the posterior cache in a
temporary folder), alternately. Printed: wall and CPU seconds (user + system, which drift less
with load), each as a ratio of medians to the reference, and the peak RSS. The target of issue 18
item 6 is a fit in ≤ 60 s here; with the reference at about 0.5 s that is a wall ratio of about 120.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_commands import ENV, REFERENCE, ROOT, measure, print_ratios  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        ENV["COSTSPINE_CACHE_DIR"] = str(Path(tmp) / "cache")
        fit = [sys.executable, "-m", "costspine.cli", "fit", "--quiet", "--out", str(Path(tmp) / "fit")]
        times = {"reference": [], "fit": []}
        for _ in range(args.rounds):
            times["reference"].append(measure(REFERENCE))
            times["fit"].append(measure(fit))
    print(f"{args.rounds} round(s), medians; reference = python -c 'import numpy'")
    print_ratios(times, name_width=12, seconds=2, ratio_width=8, ratio=1)


if __name__ == "__main__":
    main()
