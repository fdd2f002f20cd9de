"""Cohort-engine benchmark: 10,000 draws × 3 strategies × 5 states × 60 cycles.

Run from the repository root::

    python benchmarks/bench_cohort.py                 # default workload, median of 5 repeats
    python benchmarks/bench_cohort.py --draws 2000 --repeats 3

Prints, as the median of ``--repeats`` runs (seconds):

- ``engine``: :func:`costspine.engines.markov.simulate_trace` alone, on prebuilt inputs with
  time-dependent transitions (one 5×5 matrix per draw, strategy and cycle);
- ``engine (time-homogeneous)``: the same with one matrix per draw and strategy;
- ``full path``: scenario → parameter draws → :func:`costspine.model.build_model_inputs`
  (every expression, vectorised) → engine → discounted, cycle-corrected rewards;
- ``PSA totals``: :func:`costspine.simulate.cohort.run_cohort_totals`, what a cohort PSA chunk
  runs: the same expressions and engine, rewards accumulated cell by cell into totals only;
- ``spine PSA``: ``run_psa`` of ``scenarios/spine/base_case.toml`` at ``--spine-draws`` draws
  (parameter draws, every expression, engine, totals; no summary, no files), wall and CPU
  seconds, against the target of issue 18.3 (≤ 3 s at 100,000 draws);
- ``numpy reference``: the same arithmetic written the plain numpy way in this process
  (``einsum`` per cycle on the natural ``(draw, strategy, time, from, to)`` layout; rewards by
  ``einsum`` too), and the ratio costspine / reference (< 1 means costspine is faster).

The reference results are checked against costspine's before any timing is printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from costspine.engines.markov import simulate_trace  # noqa: E402
from costspine.engines.outcomes import cycle_weights, discount_factors  # noqa: E402
from costspine.model.inputs import build_model_inputs  # noqa: E402
from costspine.params import draw_parameters  # noqa: E402
from costspine.scenario.load import load_scenario  # noqa: E402
from costspine.simulate.cohort import run_cohort, run_cohort_totals, simulate_inputs  # noqa: E402

SCENARIO = """
[model]
name = "bench_cohort"
title = "Benchmark: 5 states, 3 strategies, 60 monthly cycles, age-dependent mortality"

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
wtp = [50000, 100000]

[states]
mild = { initial = 0.6 }
moderate = { initial = 0.3 }
severe = { initial = 0.1 }
remission = { initial = 0 }
dead = { initial = 0 }

[strategies.soc]
values = { hr_now = "1", c_drug = "0" }
[strategies.new_a]
values = { hr_now = "where(time_years < 1, hr_a, 1)", c_drug = "where(time_years < 1, c_a, 0)" }
[strategies.new_b]
values = { hr_now = "hr_b", c_drug = "c_b" }

[parameters.row_mild]
distribution = "dirichlet"
alpha = { p_mm = 800, p_mo = 120, p_mr = 80 }
source = "bench"
[parameters.row_moderate]
distribution = "dirichlet"
alpha = { p_oo = 700, p_om = 150, p_os = 100, p_or = 50 }
source = "bench"
[parameters.p_sr]
value = 0.05
distribution = "beta"
mean = 0.05
sd = 0.01
source = "bench"
[parameters.hr_a]
value = 0.8
distribution = "lognormal"
mean = 0.8
sd = 0.08
source = "bench"
[parameters.hr_b]
value = 0.7
distribution = "lognormal"
mean = 0.7
sd = 0.1
source = "bench"
[parameters.mu_50]
value = 0.004
distribution = "gamma"
mean = 0.004
sd = 0.0008
source = "bench"
[parameters.c_a]
value = 300
distribution = "gamma"
mean = 300
sd = 30
source = "bench"
[parameters.c_b]
value = 150
source = "bench"
[parameters.c_severe]
value = 2500
distribution = "gamma"
mean = 2500
sd = 500
source = "bench"
[parameters.u_mild]
value = 0.8
distribution = "beta"
mean = 0.8
sd = 0.05
source = "bench"

[transitions]
mild = { mild = "rest", moderate = "p_mo * hr_now", remission = "p_mr", dead = "rate_to_prob(mu_50 * exp(0.08 * time_years), cycle_years)" }
moderate = { moderate = "rest", mild = "p_om", severe = "p_os * hr_now", remission = "p_or", dead = "rate_to_prob(mu_50 * exp(0.08 * time_years), cycle_years)" }
severe = { severe = "rest", moderate = "0.1", remission = "p_sr", dead = "rate_to_prob(2 * mu_50 * exp(0.08 * time_years), cycle_years)" }
remission = { remission = "rest", mild = "0.02", dead = "rate_to_prob(mu_50 * exp(0.08 * time_years), cycle_years)" }
dead = { dead = 1 }

[costs.care]
category = "care"
values = { mild = 50, moderate = 200, severe = "c_severe", remission = 10 }
[costs.drug]
category = "drugs"
values = { mild = "c_drug", moderate = "c_drug", severe = "c_drug" }
[costs.flare]
category = "events"
on_entry = { severe = 1200 }

[outcomes.qalys]
values = { mild = "u_mild * cycle_years", moderate = "0.65 * cycle_years", severe = "0.4 * cycle_years", remission = "0.9 * cycle_years" }
"""


def median_seconds(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reference_trace(initial: np.ndarray, transition: np.ndarray, n_cycles: int) -> np.ndarray:
    """Plain numpy: m_t = m_{t-1} P_t by einsum, natural (draw, strategy, time, from, to) layout."""
    n_time = transition.shape[2]
    trace = np.empty(initial.shape[:2] + (n_cycles + 1, initial.shape[-1]))
    trace[:, :, 0] = initial
    for t in range(n_cycles):
        trace[:, :, t + 1] = np.einsum("dsi,dsij->dsj", trace[:, :, t], transition[:, :, t if n_time > 1 else 0])
    return trace


def reference_rewards(trace, values, weights, discount):
    """Plain numpy state rewards: sum_t w_t d_t sum_n m_t[n] v_t[n] (point 0 takes cycle 1's value)."""
    n_points = trace.shape[2]
    idx = np.maximum(np.arange(n_points) - 1, 0) if values.shape[2] > 1 else np.zeros(n_points, dtype=int)
    return np.einsum("dstn,dstnr,t->dsr", trace, values[:, :, idx], weights * discount)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--spine-draws", type=int, default=100_000, help="draws of the spine PSA line (0: skip it)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_cohort.toml"
        path.write_text(SCENARIO, encoding="utf-8")
        scenario = load_scenario(path)
    n_cycles = scenario.settings.n_cycles
    draws = draw_parameters(scenario.parameters, args.draws, np.random.default_rng(args.seed))
    inputs = build_model_inputs(scenario, draws)
    shape = inputs.transition.shape
    assert shape == (args.draws, 3, n_cycles, 5, 5), shape

    # Same arithmetic, plain numpy: check it agrees before timing anything.
    natural = np.ascontiguousarray(inputs.transition)
    homogeneous = np.ascontiguousarray(natural[:, :, :1])
    trace = simulate_trace(inputs.initial, inputs.transition, n_cycles)
    np.testing.assert_allclose(reference_trace(inputs.initial, natural, n_cycles), trace, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        reference_trace(inputs.initial, homogeneous, n_cycles),
        simulate_trace(inputs.initial, homogeneous, n_cycles),
        rtol=1e-12,
        atol=1e-15,
    )
    weights = cycle_weights(n_cycles, scenario.settings.cycle_correction)
    d_out = discount_factors(n_cycles, cycle_years=scenario.settings.cycle_years, annual_rate=scenario.settings.discount_outcomes)
    result = simulate_inputs(scenario, inputs, draws)
    np.testing.assert_allclose(reference_rewards(trace, inputs.state_outcomes, weights, d_out), result.outcomes, rtol=1e-11)

    repeats = args.repeats
    engine = median_seconds(lambda: simulate_trace(inputs.initial, inputs.transition, n_cycles), repeats)
    engine_ref = median_seconds(lambda: reference_trace(inputs.initial, natural, n_cycles), repeats)
    homog = median_seconds(lambda: simulate_trace(inputs.initial, homogeneous, n_cycles), repeats)
    homog_ref = median_seconds(lambda: reference_trace(inputs.initial, homogeneous, n_cycles), repeats)
    d_cost = discount_factors(n_cycles, cycle_years=scenario.settings.cycle_years, annual_rate=scenario.settings.discount_costs)

    def reference_path():
        m = reference_trace(inputs.initial, natural, n_cycles)
        reference_rewards(m, inputs.state_costs, weights, d_cost)
        reference_rewards(m, inputs.state_outcomes, weights, d_out)

    draw_time = median_seconds(
        lambda: draw_parameters(scenario.parameters, args.draws, np.random.default_rng(args.seed)), repeats
    )
    full = median_seconds(lambda: run_cohort(scenario, draws), repeats)
    np.testing.assert_allclose(run_cohort_totals(scenario, draws)[1], result.outcomes, rtol=1e-12)
    totals = median_seconds(lambda: run_cohort_totals(scenario, draws), repeats)
    sim_only = median_seconds(lambda: simulate_inputs(scenario, inputs, draws), repeats)
    ref_path = median_seconds(reference_path, repeats)

    print(
        f"cohort benchmark: {args.draws:,} draws x 3 strategies x 5 states x {n_cycles} cycles "
        f"(transitions {natural.nbytes / 1e6:,.0f} MB), median of {repeats}"
    )
    rows = [
        ("engine (time-dependent)", engine, engine_ref),
        ("engine (time-homogeneous)", homog, homog_ref),
        ("engine + rewards, prebuilt inputs", sim_only, ref_path),
        ("full path: inputs + engine + rewards", full, ref_path),
        ("PSA totals: inputs + engine + totals", totals, ref_path),
        ("parameter draws", draw_time, None),
    ]
    print(f"{'workload':<40}{'costspine s':>12}{'numpy ref s':>13}{'ratio':>8}")
    for name, ours, ref in rows:
        ratio = f"{ours / ref:8.2f}" if ref else f"{'':>8}"
        ref_text = f"{ref:13.4f}" if ref else f"{'':>13}"
        print(f"{name:<40}{ours:12.4f}{ref_text}{ratio}")
    print(
        "ratio = costspine / plain-numpy reference of the same arithmetic (< 1: costspine faster); "
        "the full path's reference excludes expression evaluation, which it does not do."
    )
    if args.spine_draws:
        from costspine.analysis.psa import run_psa

        spine = load_scenario(Path(__file__).resolve().parents[1] / "scenarios/spine/base_case.toml")
        run_psa(spine, 1000, seed=args.seed)  # warm up
        wall, cpu = time.perf_counter(), time.process_time()
        run_psa(spine, args.spine_draws, seed=args.seed)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"spine PSA compute (run_psa, {args.spine_draws:,} draws): {wall:.2f} s wall, {cpu:.2f} s CPU "
            f"({cpu / args.spine_draws * 1e6:.1f} µs per draw; target at 100,000 draws: <= 3 s)"
        )


if __name__ == "__main__":
    main()
