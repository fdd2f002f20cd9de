"""PSA / VOI benchmarks: prints seconds and the ratio to each target (best of several repeats).

Run from the repository root::

    python benchmarks/bench_psa.py            # everything (the 4-parameter EVPPI takes a while)
    python benchmarks/bench_psa.py --quick    # skip the 4-parameter EVPPI

Workloads (targets from the PSA issue):

- ``psa_process``: ``costspine psa scenarios/examples/hiv_chancellor.toml --draws 10000 --quiet``
  as a whole process (start-up included), target 1 s (stretch 0.5 s).
- ``engine``: cohort engine on prebuilt inputs, 10,000 draws × 3 strategies × 5 states × 60
  cycles (time-dependent transitions), in PSA chunks of 1,000, target 0.2 s.
- ``psa_in_process``: the same model through :func:`run_psa` (draws, expressions, engine).
- ``evppi_1``: single-parameter EVPPI (GAM) on 10,000 draws, target 0.5 s.
- ``evppi_4``: 4-parameter EVPPI on 10,000 draws (GAM and GP), target 30 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYNTHETIC = """
[model]
name = "bench_5state"
[settings]
cycle_length = 1
cycle_unit = "month"
n_cycles = 60
discount_costs = 0.03
discount_outcomes = 0.03
cycle_correction = "half-cycle"
currency = "USD"
price_year = 2025
[analysis]
effect = "qalys"
comparator = "soc"
wtp = [50000, 100000, 150000]
[states]
s1 = { initial = 1 }
s2 = { initial = 0 }
s3 = { initial = 0 }
s4 = { initial = 0 }
dead = { initial = 0 }
[strategies.soc]
values = { rr_now = "1", c_drug = "0" }
[strategies.new_a]
values = { rr_now = "rr_a", c_drug = "c_a" }
[strategies.new_b]
values = { rr_now = "rr_b", c_drug = "c_b" }
[parameters.row1]
distribution = "dirichlet"
alpha = { p11 = 800, p12 = 150, p13 = 40, p14 = 10 }
source = "bench"
[parameters.row2]
distribution = "dirichlet"
alpha = { p22 = 700, p23 = 250, p24 = 50 }
source = "bench"
[parameters.row3]
distribution = "dirichlet"
alpha = { p33 = 800, p34 = 200 }
source = "bench"
[parameters.rr_a]
distribution = "lognormal"
mean = 0.8
sd = 0.08
source = "bench"
[parameters.rr_b]
distribution = "lognormal"
mean = 0.7
sd = 0.1
source = "bench"
[parameters.c_a]
distribution = "gamma"
mean = 300
sd = 30
source = "bench"
[parameters.c_b]
distribution = "gamma"
mean = 600
sd = 60
source = "bench"
[parameters.c_state]
distribution = "gamma"
mean = 1000
sd = 200
source = "bench"
[parameters.u1]
distribution = "beta"
mean = 0.85
sd = 0.03
source = "bench"
[parameters.u2]
distribution = "beta"
mean = 0.7
sd = 0.04
source = "bench"
[parameters.u3]
distribution = "beta"
mean = 0.5
sd = 0.05
source = "bench"
[parameters.u4]
distribution = "beta"
mean = 0.3
sd = 0.05
source = "bench"
[transitions]
s1 = { s1 = "rest", s2 = "p12 * rr_now", s3 = "p13 * rr_now", s4 = "p14 * rr_now", dead = "0.001 + 0.00005 * cycle" }
s2 = { s2 = "rest", s3 = "p23 * rr_now", s4 = "p24 * rr_now", dead = "0.002 + 0.00005 * cycle" }
s3 = { s3 = "rest", s4 = "p34 * rr_now", dead = "0.004 + 0.00005 * cycle" }
s4 = { s4 = "rest", dead = "0.02 + 0.00005 * cycle" }
dead = { dead = 1 }
[costs.care]
category = "care"
values = { s1 = "c_state * 0.2", s2 = "c_state * 0.5", s3 = "c_state", s4 = "c_state * 2" }
[costs.drug]
category = "drug"
values = { s1 = "c_drug", s2 = "c_drug", s3 = "c_drug" }
[outcomes.qalys]
values = { s1 = "u1 * cycle_years", s2 = "u2 * cycle_years", s3 = "u3 * cycle_years", s4 = "u4 * cycle_years" }
[outcomes.life_years]
values = { s1 = "cycle_years", s2 = "cycle_years", s3 = "cycle_years", s4 = "cycle_years" }
"""


def best_of(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def report(name: str, seconds: float, target: float, note: str = "") -> None:
    print(f"{name:<16} {seconds:8.3f} s   target {target:6.2f} s   ratio {seconds / target:5.2f}  {note}")


def bench_process(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            sys.executable,
            "-m",
            "costspine.cli",
            "psa",
            str(ROOT / "scenarios/examples/hiv_chancellor.toml"),
            "--draws",
            "10000",
            "--quiet",
            "--out",
            out,
        ]
        subprocess.run(cmd, check=True, cwd=ROOT)  # warm the file cache
        seconds = best_of(lambda: subprocess.run(cmd, check=True, cwd=ROOT), repeats)
    report("psa_process", seconds, 1.0, "(stretch 0.5 s) costspine psa hiv_chancellor --draws 10000 --quiet")


def synthetic_scenario(folder: Path):
    from costspine.scenario.load import load_scenario

    path = folder / "bench_5state.toml"
    path.write_text(SYNTHETIC, encoding="utf-8")
    return load_scenario(path)


def bench_engine(repeats: int) -> None:
    from costspine.analysis.psa import CHUNK_SIZE, draw_chunk_parameters, plan_chunks, run_psa
    from costspine.model.inputs import build_model_inputs
    from costspine.simulate.cohort import simulate_inputs

    with tempfile.TemporaryDirectory() as folder:
        scenario = synthetic_scenario(Path(folder))
        chunks = []
        for c, (start, stop) in enumerate(plan_chunks(10_000, CHUNK_SIZE)):
            params = draw_chunk_parameters(scenario, seed=1, chunk=c, n_draws=stop - start)
            chunks.append((build_model_inputs(scenario, params), params))
        assert chunks[0][0].transition.shape[1:] == (3, 60, 5, 5)

        def engine():
            for inputs, params in chunks:
                simulate_inputs(scenario, inputs, params)

        report("engine", best_of(engine, repeats), 0.2, "10,000 draws x 3 strategies x 5 states x 60 cycles (prebuilt inputs)")
        report(
            "psa_in_process",
            best_of(lambda: run_psa(scenario, 10_000, seed=1), repeats),
            0.5,
            "same model through run_psa (draws + expressions + engine)",
        )


def evppi_inputs():
    from costspine.analysis.decision import compute_net_benefit
    from costspine.analysis.psa import run_psa
    from costspine.scenario.load import load_scenario

    result = run_psa(load_scenario(ROOT / "scenarios/examples/hiv_chancellor.toml"), 10_000, seed=1)
    nb = compute_net_benefit(result.total_cost, result.effect, 10_000.0)
    return result, nb


def bench_evppi(repeats: int, *, four: bool) -> None:
    from costspine.analysis.voi import compute_evppi

    result, nb = evppi_inputs()
    one = {"rr": result.parameter("rr")}
    report("evppi_1 gam", best_of(lambda: compute_evppi(nb, one, method="gam"), repeats), 0.5, "rr, 10,000 draws, no SE")
    rng = np.random.default_rng(1)
    report(
        "evppi_1 gam+se",
        best_of(lambda: compute_evppi(nb, one, method="gam", rng=rng), repeats),
        0.5,
        "rr, 10,000 draws, SE from 500 posterior samples",
    )
    if four:
        names = ("rr", "c_direct_A", "c_community_A", "c_direct_C")
        theta = {n: result.parameter(n) for n in names}
        for method in ("gam", "gp"):
            report(
                f"evppi_4 {method}",
                best_of(lambda method=method: compute_evppi(nb, theta, method=method, rng=rng), 1),
                30.0,
                ", ".join(names) + ", 10,000 draws, with SE",
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="skip the 4-parameter EVPPI")
    args = parser.parse_args()
    bench_process(args.repeats)
    bench_engine(args.repeats)
    bench_evppi(args.repeats, four=not args.quick)


if __name__ == "__main__":
    main()
