"""EVPPI benchmarks: seconds for 1-parameter GAM and 4-parameter GP EVPPI, and a ratio.

Run from the repository root on an otherwise idle machine::

    python benchmarks/bench_voi.py             # GAM (1 parameter) and GP (4 parameters)
    python benchmarks/bench_voi.py --quick     # GAM only

Synthetic problem: 10,000 draws of four parameters (normal, beta, gamma, normal) and two
strategies whose incremental net benefit is a smooth nonlinear function of all four plus noise
(``θ1·θ2``-type interaction, a sine, a square). Timed:

- ``gam 1 param`` — ``compute_evppi(nb, θ1, method="gam")``; the first call of the process is
  reported separately (it includes importing numpy.linalg paths and nothing from scipy), then
  the best of ``--repeats``; also with the standard error (``rng``, 500 posterior samples).
- ``gp 4 params`` — ``compute_evppi(nb, θ, method="gp", rng=...)`` once (hyperparameters on
  1,000 draws, Nyström basis on 500, SE from 500 posterior samples).

Each figure is set against a plain-numpy reference run in the same process: one
``numpy.linalg.lstsq`` of the size of the final regression (10,000 × 20 for the GAM, 10,000 ×
505 for the GP). The ratio costspine / reference says how many least-squares solves of that
size the whole EVPPI costs. Targets (from the brief): GAM well under 0.5 s, GP under 30 s on
two cores. The 1-minute load average is printed because a shared machine slows BLAS a lot.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_problem(n_draws: int, seed: int):
    """Parameters (draw, 4), net benefit (draw, 2) and the noiseless incremental NB."""
    rng = np.random.default_rng(seed)
    theta = np.column_stack(
        [
            rng.normal(0.0, 1.0, n_draws),
            rng.beta(20.0, 80.0, n_draws),
            rng.gamma(4.0, 250.0, n_draws),
            rng.normal(0.7, 0.1, n_draws),
        ]
    )
    z = (theta - theta.mean(axis=0)) / theta.std(axis=0)
    g = 800.0 * z[:, 0] * z[:, 1] + 500.0 * np.sin(1.5 * z[:, 2]) + 300.0 * z[:, 3] ** 2 - 300.0 + 200.0 * z[:, 0]
    nb = np.column_stack([np.full(n_draws, 20_000.0), 20_000.0 + g + rng.normal(0.0, 600.0, n_draws)])
    return theta, nb, g


def best_of(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def time_lstsq(n_rows: int, n_cols: int, repeats: int, rng: np.random.Generator) -> float:
    X = rng.normal(size=(n_rows, n_cols))
    y = rng.normal(size=n_rows)
    return best_of(lambda: np.linalg.lstsq(X, y, rcond=None), repeats)


def report(name: str, seconds: float, reference: float, target: float | None, note: str) -> None:
    ratio = seconds / reference
    goal = f"target {target:g} s" if target else ""
    print(f"{name:<28} {seconds:>9.3f} s   ×{ratio:>8.1f} lstsq   {goal:<14} {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--quick", action="store_true", help="skip the 4-parameter GP")
    args = parser.parse_args()

    theta, nb, g = build_problem(args.draws, args.seed)
    # Import outside the timings of the library itself (numpy is already loaded).
    from costspine.analysis.decision import compute_evpi_from_net_benefit
    from costspine.analysis.voi import GAM_KNOTS, GP_INDUCING, compute_evppi

    rng = np.random.default_rng(args.seed + 1)
    print(f"draws {args.draws}, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs, numpy {np.__version__}")
    evpi = float(compute_evpi_from_net_benefit(nb))
    truth_all = float(compute_evpi_from_net_benefit(np.column_stack([np.zeros_like(g), g])))
    print(f"EVPI {evpi:,.2f}; EVPPI of all 4 parameters with the true regression {truth_all:,.2f}")

    start = time.perf_counter()
    first = compute_evppi(nb, theta[:, 0], method="gam")
    cold = time.perf_counter() - start
    ref_gam = time_lstsq(args.draws, GAM_KNOTS[1], args.repeats, rng)
    print(f"{'reference lstsq':<28} {ref_gam:>9.4f} s   ({args.draws} × {GAM_KNOTS[1]})")
    report("gam 1 param, first call", cold, ref_gam, 0.5, f"EVPPI {first.evppi:,.2f} (includes lazy imports)")
    warm = best_of(lambda: compute_evppi(nb, theta[:, 0], method="gam"), args.repeats)
    report("gam 1 param", warm, ref_gam, 0.5, f"best of {args.repeats}")
    with_se = compute_evppi(nb, theta[:, 0], method="gam", rng=np.random.default_rng(0))
    warm_se = best_of(lambda: compute_evppi(nb, theta[:, 0], method="gam", rng=np.random.default_rng(0)), args.repeats)
    report("gam 1 param + SE", warm_se, ref_gam, 0.5, f"SE {with_se.se:,.2f}, 500 posterior samples")

    if not args.quick:
        n_cols = 1 + theta.shape[1] + GP_INDUCING
        ref_gp = time_lstsq(args.draws, n_cols, 1, rng)
        print(f"{'reference lstsq':<28} {ref_gp:>9.4f} s   ({args.draws} × {n_cols})")
        start = time.perf_counter()
        gp = compute_evppi(nb, theta, method="gp", rng=np.random.default_rng(0))
        report(
            "gp 4 params + SE",
            time.perf_counter() - start,
            ref_gp,
            30.0,
            f"EVPPI {gp.evppi:,.2f} ± {gp.se:,.2f} (true regression {truth_all:,.2f})",
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
