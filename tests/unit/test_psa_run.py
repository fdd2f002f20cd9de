"""PSA runs: chunk streams, reproducibility, resume, posterior hook, summaries and EVPI/EVPPI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from costspine.analysis.evppi_rows import compute_evppi_rows, parse_evppi_groups
from costspine.analysis.psa import (
    CHUNK_SIZE,
    ChunkStore,
    chunk_seed_sequence,
    compute_chunk,
    draw_chunk_parameters,
    plan_chunks,
    run_psa,
    sampled_parameter_names,
)
from costspine.analysis.psa_result import PSAResult
from costspine.analysis.psa_summary import summarize_psa
from costspine.cli.options import parse_wtp
from costspine.errors import AnalysisError, OutputFolderError, UsageError
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

from helpers import analysis_toml, settings_toml, write

# Linear in every random parameter (transitions fixed): E[cost(θ)] = cost(E[θ]).
# Strategy b costs c_b instead of c_a and adds `gain` to the utility; `noise` is ignored by the model.
TOY = (
    """
[model]
name = "toy"
title = "Toy linear model"
"""
    + settings_toml("{n_cycles}")
    + analysis_toml(wtp=[1000, 5000])
    + """
[states]
well = {{ initial = 1 }}
dead = {{ initial = 0 }}

[strategies.a]
values = {{ c_tx = "c_a", u_tx = "u" }}

[strategies.b]
values = {{ c_tx = "c_b", u_tx = "u + gain" }}

[parameters.c_a]
distribution = "gamma"
mean = 100
sd = 20
source = "test"

[parameters.c_b]
distribution = "gamma"
mean = 300
sd = 60
source = "test"
{extra_params}
[parameters.u]
distribution = "beta"
mean = 0.7
sd = 0.05
source = "test"

[parameters.gain]
distribution = "normal"
mean = 0.05
sd = 0.03
source = "test"

[parameters.noise]
distribution = "uniform"
min = 0
max = 1
source = "test: not used by the model"

[parameters.p_die]
value = {p_die}
source = "test"

[transitions]
well = {{ well = "rest", dead = "p_die" }}
dead = {{ dead = 1 }}

[costs.treatment]
category = "treatment"
values = {{ well = "c_tx" }}

[outcomes.qalys]
values = {{ well = "u_tx * cycle_years" }}
"""
)


def write_toy(tmp_path: Path, *, n_cycles=5, p_die="0.1", extra_params="", name="toy.toml") -> Path:
    return write(tmp_path, TOY.format(n_cycles=n_cycles, p_die=p_die, extra_params=extra_params), name)


@pytest.fixture
def toy(tmp_path):
    return load_scenario(write_toy(tmp_path))


def same(a, b) -> bool:
    return a.parameter_names == b.parameter_names and all(
        np.array_equal(getattr(a, k), getattr(b, k)) for k in ("parameters", "costs", "outcomes")
    )


# --------------------------------------------------------------------------------------------
# Chunks and streams


def test_plan_chunks_fixed_size_last_shorter():
    assert plan_chunks(2500, 1000) == ((0, 1000), (1000, 2000), (2000, 2500))
    assert plan_chunks(1000, 1000) == ((0, 1000),)
    with pytest.raises(UsageError):
        plan_chunks(0)


def test_chunk_streams_depend_only_on_seed_and_chunk():
    a = chunk_seed_sequence(7, 3).generate_state(4)
    assert np.array_equal(a, chunk_seed_sequence(7, 3).generate_state(4))
    assert not np.array_equal(a, chunk_seed_sequence(7, 4).generate_state(4))
    assert not np.array_equal(a, chunk_seed_sequence(8, 3).generate_state(4))


def test_any_chunk_recomputed_alone_equals_its_slice_of_the_run(toy):
    full = run_psa(toy, 2500, seed=11, chunk_size=1000)
    alone = compute_chunk(toy, seed=11, chunk=2, start=2000, stop=2500)
    assert np.array_equal(alone["parameters"], full.parameters[2000:])
    assert np.array_equal(alone["costs"], full.costs[2000:])
    assert full.chunks == ((0, 1000), (1000, 2000), (2000, 2500))


def test_same_seed_bit_identical_other_seed_differs(toy):
    a, b = run_psa(toy, 1200, seed=5), run_psa(toy, 1200, seed=5)
    assert same(a, b)
    assert not np.array_equal(a.costs, run_psa(toy, 1200, seed=6).costs)


def test_all_strategies_share_the_draws_parameter_values(toy):
    r = run_psa(toy, 500, seed=1)
    occupancy = run_cohort(toy).costs[0, 0, 0] / 100.0  # fixed transitions: cost = c · Σ occupancy
    assert np.allclose(r.costs[:, 0, 0], r.parameter("c_a") * occupancy)
    assert np.allclose(r.costs[:, 1, 0], r.parameter("c_b") * occupancy)
    effect_gap = r.effect[:, 1] - r.effect[:, 0]
    assert np.allclose(effect_gap, r.parameter("gain") * occupancy)


def test_sampled_parameters_leave_out_fixed_and_include_derived(tmp_path):
    extra = '[parameters.c_sum]\nvalue = "c_a + c_b"\nsource = "derived"\n'
    s = load_scenario(write_toy(tmp_path, extra_params=extra))
    names = sampled_parameter_names(s)
    assert "p_die" not in names and "c_sum" in names
    r = run_psa(s, 300, seed=2)
    assert np.allclose(r.parameter("c_sum"), r.parameter("c_a") + r.parameter("c_b"))


def test_dirichlet_rows_sum_to_one_and_correlations_follow_the_copula(tmp_path, chancellor):
    scenario = chancellor
    r = run_psa(scenario, 3000, seed=3)
    row = sum(r.parameter(n) for n in ("p_AA", "p_AB", "p_AC", "p_AD"))
    assert np.allclose(row, 1.0)
    extra = '[[correlations]]\nparameters = ["c_a", "c_b"]\nmatrix = [[1, 0.8], [0.8, 1]]\nsource = "test"\n'
    text = TOY.format(n_cycles=2, p_die="0.1", extra_params="") + extra
    path = tmp_path / "corr.toml"
    path.write_text(text, encoding="utf-8")
    r = run_psa(load_scenario(path), 4000, seed=4)
    ranks = [np.argsort(np.argsort(r.parameter(n))) for n in ("c_a", "c_b")]
    spearman = np.corrcoef(*ranks)[0, 1]
    assert 0.74 < spearman < 0.84  # Gaussian copula ρ=0.8 gives Spearman (6/π)·asin(0.4) ≈ 0.786


def test_psa_mean_converges_to_the_deterministic_result_of_a_linear_model(toy):
    base = run_cohort(toy)
    r = run_psa(toy, 20000, seed=9)
    for values, det in ((r.total_cost, base.total_cost[0]), (r.effect, base.effect[0])):
        mcse = values.std(axis=0, ddof=1) / np.sqrt(len(values))
        assert np.all(np.abs(values.mean(axis=0) - det) < 4 * mcse)


def test_invalid_probability_names_the_draw_in_the_whole_run(tmp_path):
    extra = '[parameters.p_bad]\ndistribution = "normal"\nmean = 0.02\nsd = 0.006\nsource = "test"\n'
    path = write_toy(tmp_path, p_die='"p_bad"', extra_params=extra)
    s = load_scenario(path)

    def first_bad_draw(seed):
        for c, (start, stop) in enumerate(plan_chunks(5000, 1000)):
            bad = np.flatnonzero(draw_chunk_parameters(s, seed=seed, chunk=c, n_draws=stop - start)["p_bad"] < 0)
            if bad.size:
                return start + int(bad[0])
        return None

    # a seed whose first invalid draw is past the first chunk, so the offset is checked
    seed, first_bad = next((k, d) for k in range(1, 200) if (d := first_bad_draw(k)) is not None and d >= 1000)
    with pytest.raises(AnalysisError) as info:
        run_psa(s, 5000, seed=seed)
    assert f"draw={first_bad} " in str(info.value)
    assert "PSA chunk" in str(info.value)


# --------------------------------------------------------------------------------------------
# Saved chunks and resume


class Interrupt(Exception):
    pass


def interrupt_after(n_chunks):
    seen = []

    def on_chunk(n):
        seen.append(n)
        if len(seen) == n_chunks:
            raise Interrupt

    return on_chunk


def test_interrupted_run_resumes_to_the_same_result(toy, tmp_path):
    store = tmp_path / "chunks"
    with pytest.raises(Interrupt):
        run_psa(toy, 3500, seed=12, store_dir=store, on_chunk=interrupt_after(2))
    assert sorted(p.name for p in store.glob("chunk-*.npz")) == ["chunk-000000.npz", "chunk-000001.npz"]
    resumed = run_psa(toy, 3500, seed=12, store_dir=store, resume=True)
    assert resumed.resumed_chunks == 2
    assert same(resumed, run_psa(toy, 3500, seed=12))
    meta = json.loads((store / "run.json").read_text())
    assert meta["seed"] == 12 and meta["chunk_size"] == CHUNK_SIZE and meta["layout"][-1] == [3000, 3500]


def test_resume_refuses_chunks_of_another_run(toy, tmp_path):
    store = tmp_path / "chunks"
    run_psa(toy, 1500, seed=1, store_dir=store)
    with pytest.raises(OutputFolderError, match=r"seed: saved 1, now 2"):
        run_psa(toy, 1500, seed=2, store_dir=store, resume=True)
    with pytest.raises(OutputFolderError, match=r"n_draws"):
        run_psa(toy, 1600, seed=1, store_dir=store, resume=True)
    changed = load_scenario(write_toy(tmp_path, p_die="0.2", name="toy2.toml"))
    with pytest.raises(OutputFolderError, match=r"scenario .* changed"):
        run_psa(changed, 1500, seed=1, store_dir=store, resume=True)
    meta = json.loads((store / "run.json").read_text(encoding="utf-8"))
    assert meta["seed"] == 1 and meta["costspine_version"] and len(meta["fingerprint"]) == 64
    meta["costspine_version"] = "0.0.1"  # chunks saved by another version of costspine
    (store / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(OutputFolderError, match=r"costspine_version: saved '0.0.1'"):
        run_psa(toy, 1500, seed=1, store_dir=store, resume=True)
    assert OutputFolderError.exit_code == 3


def test_a_fresh_run_replaces_old_chunks(toy, tmp_path):
    store = tmp_path / "chunks"
    run_psa(toy, 3000, seed=1, store_dir=store)
    run_psa(toy, 1000, seed=2, store_dir=store)
    assert [p.name for p in store.glob("chunk-*.npz")] == ["chunk-000000.npz"]


def test_unreadable_chunk_is_an_error_not_a_silent_repair(toy, tmp_path):
    store = tmp_path / "chunks"
    run_psa(toy, 2000, seed=1, store_dir=store)
    (store / "chunk-000001.npz").write_bytes(b"not a zip file")
    with pytest.raises(AnalysisError, match="chunk-000001.npz"):
        run_psa(toy, 2000, seed=1, store_dir=store, resume=True)


def test_chunk_store_clear_touches_only_its_files(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    (tmp_path / "chunk-000000.npz").write_bytes(b"x")
    ChunkStore(tmp_path, {}).clear()
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_option_errors(chancellor):
    s = chancellor
    with pytest.raises(UsageError, match="not both"):
        run_psa(s, 10, seed=1, workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(UsageError, match="method"):
        run_psa(s, 10, seed=1, method="quantum")


# --------------------------------------------------------------------------------------------
# Posterior hook


def test_posterior_draws_join_as_whole_rows(tmp_path, monkeypatch):
    extra = (
        '[parameters.hr1]\ndistribution = "posterior"\nfile = "evidence.toml"\nvariable = "hr1"\nvalue = 1\nsource = "fit"\n'
        '[parameters.hr2]\ndistribution = "posterior"\nfile = "evidence.toml"\nvariable = "hr2"\nvalue = 1\nsource = "fit"\n'
    )
    s = load_scenario(write_toy(tmp_path, extra_params=extra))
    pool = {"hr1": np.arange(50.0), "hr2": 1000 + np.arange(50.0)}
    calls = []

    def fake(path, progress=None):
        calls.append(path)
        return pool, tmp_path, False

    monkeypatch.setattr("costspine.bayes.posterior.load_or_fit_posterior", fake)
    r = run_psa(s, 2500, seed=3)
    assert len(calls) == 1  # loaded once per run, not once per chunk
    hr1, hr2 = r.parameter("hr1"), r.parameter("hr2")
    assert np.array_equal(hr2 - hr1, np.full(2500, 1000.0))  # one row index per draw
    assert set(hr1) <= set(pool["hr1"]) and len(set(hr1)) > 40
    assert r.posterior[0]["parameters"] == ["hr1", "hr2"]
    assert same(r, run_psa(s, 2500, seed=3))


def test_chunk_without_posterior_pools_says_what_is_missing(tmp_path):
    extra = '[parameters.hr1]\ndistribution = "posterior"\nfile = "e.toml"\nvariable = "hr1"\nvalue = 1\nsource = "fit"\n'
    s = load_scenario(write_toy(tmp_path, extra_params=extra))
    with pytest.raises(AnalysisError, match="hr1"):
        draw_chunk_parameters(s, seed=1, chunk=0, n_draws=10)


# --------------------------------------------------------------------------------------------
# Summaries on a hand-computable table


def hand_draws(cost, effect, *, comparator="a", wtp=(10.0,), parameters=None, names=("x",)):
    cost = np.asarray(cost, dtype=float)
    effect = np.asarray(effect, dtype=float)
    strategies = tuple("abc"[: cost.shape[1]])
    params = np.zeros((cost.shape[0], len(names))) if parameters is None else np.asarray(parameters, dtype=float)
    return PSAResult(
        scenario="hand",
        title="hand",
        currency="USD",
        effect_name="qalys",
        strategies=strategies,
        strategy_labels={},
        comparator=comparator,
        wtp=tuple(wtp),
        categories=("all",),
        outcome_names=("qalys",),
        parameter_names=tuple(names),
        parameter_groups={},
        parameters=params,
        costs=cost[:, :, None],
        outcomes=effect[:, :, None],
        seed=1,
        discount_outcomes=0.0,
    )


def test_summary_on_a_hand_computable_table():
    # draws: strategy b costs 10 or 30 more and gains 1 → NMB_b − NMB_a at λ=20: +10, −10.
    draws = hand_draws([[0, 10], [0, 30]], [[0, 1], [0, 1]], wtp=(20.0,))
    psa = summarize_psa(draws, wtp=(20.0,))
    summary, tables = psa.data, psa.tables
    assert summary["prob_cost_effective"]["20"] == {"a": 0.5, "b": 0.5}
    assert summary["evpi_per_person"]["20"] == pytest.approx(5.0)  # E[max] − max E = 5 − 0
    assert summary["incremental"]["b"]["icer_of_means"] == pytest.approx(20.0)
    assert summary["incremental"]["b"]["cost"]["mean"] == pytest.approx(20.0)
    assert summary["ceaf"]["20"]["optimal"] == "a"  # expected NMB tie: first strategy
    evpi = dict((w, v) for w, v in tables["evpi.csv"][1])
    assert evpi[0.0] == pytest.approx(0.0) and evpi[20.0] == pytest.approx(5.0)


def test_dominance_of_means_and_frontier_flags():
    # c is dominated (costs more than b, less effect); b is on the frontier with ICER 10.
    draws = hand_draws([[0, 10, 20], [0, 10, 20]], [[0, 1, 0.5], [0, 1, 0.5]], wtp=(5.0, 15.0))
    psa = summarize_psa(draws, wtp=(5.0, 15.0))
    summary, tables = psa.data, psa.tables
    assert summary["strategies"]["c"]["frontier_status_of_means"] == "dominated"
    assert summary["strategies"]["b"]["frontier_icer_of_means"] == pytest.approx(10.0)
    assert summary["ceaf"]["5"]["optimal"] == "a" and summary["ceaf"]["15"]["optimal"] == "b"
    headers, rows = tables["ceac.csv"]
    on = {(r[0], r[1]): r[4] for r in rows}
    assert on[(15.0, "b")] == 1 and on[(15.0, "a")] == 0
    assert summary["evpi_per_person"]["5"] == 0.0


def test_population_evpi_in_summary():
    draws = hand_draws([[0, 10], [0, 30]], [[0, 1], [0, 1]], wtp=(20.0,))
    psa = summarize_psa(draws, wtp=(20.0,), population={"per_year": 100, "years": 2, "discount_rate": 0.0})
    summary, tables = psa.data, psa.tables
    assert summary["evpi_population"]["20"] == pytest.approx(5.0 * 200)
    assert tables["evpi.csv"][0] == ["wtp", "evpi_per_person", "evpi_population"]


def test_psa_summary_typed_fields_are_what_summary_json_holds():
    # b costs 10 or 30 more and gains 1: incremental NMB at λ=5 is −5, −25; at λ=20 it is +10, −10.
    draws = hand_draws([[0, 10], [0, 30]], [[0, 1], [0, 1]], wtp=(5.0, 20.0))
    psa = summarize_psa(draws, wtp=(5.0, 20.0), population={"per_year": 100, "years": 2, "discount_rate": 0.0})
    assert psa.prob_cost_effective.tolist() == [[1.0, 0.0], [0.5, 0.5]]  # (wtp, strategy)
    assert psa.ceaf_optimal == ("a", "a")
    assert psa.evpi_per_person.tolist() == pytest.approx([0.0, 5.0])
    assert psa.evpi_population.tolist() == pytest.approx([0.0, 1000.0])
    inc = psa.incremental
    assert inc.cost.mean.tolist() == pytest.approx([0.0, 20.0])
    assert inc.nmb.mean[1].tolist() == pytest.approx([-15.0, 0.0]) and np.isnan(inc.nmb.mean[0]).all()
    assert inc.mc_mean[1].tolist() == pytest.approx([-15.0, 0.0])
    assert inc.mcse_relative(1, 0) == pytest.approx(10 / 15)  # sd 10√2 over √2 draws and inc.mcse_relative(1, 1) is None
    data = psa.data
    assert data["convergence"]["b"]["20"]["mcse_relative"] is None
    assert data["incremental"]["b"]["nmb"]["5"]["mean"] == inc.nmb.mean[1, 0]
    assert data["strategies"]["b"]["nmb"]["20"]["mean"] == psa.nmb.mean[1, 1] == pytest.approx(0.0)
    assert data["ceaf"]["20"] == {"optimal": "a", "prob_cost_effective": 0.5}
    assert list(psa.curves.wtp) == [r[0] for r in psa.tables["evpi.csv"][1]]


def test_parse_wtp_and_evppi_groups():
    assert parse_wtp("50000, 100_000") == (50000.0, 100000.0)
    assert parse_wtp(None) is None
    with pytest.raises(UsageError, match="abc"):
        parse_wtp("1,abc")
    draws = hand_draws(
        [[0, 1]] * 3,
        [[0, 1]] * 3,
        names=("p_AA", "p_AB", "p_AC", "rr"),
        parameters=[[0.5, 0.3, 0.2, 1], [0.4, 0.4, 0.2, 2], [0.6, 0.2, 0.2, 1]],
    )
    draws = PSAResult(**{**draws.__dict__, "parameter_groups": {"row_A": ["p_AA", "p_AB", "p_AC"]}})
    assert parse_evppi_groups(["rr", "row_A", "rr, p_AA"], draws) == [
        ("rr", ("rr",)),
        ("row_A", ("p_AA", "p_AB")),
        ("rr+p_AA", ("rr", "p_AA")),
    ]
    each = parse_evppi_groups(["each"], draws)
    assert each == [("p_AA", ("p_AA",)), ("p_AB", ("p_AB",)), ("rr", ("rr",))]  # p_AC never varies
    with pytest.raises(UsageError, match="did you mean 'rr'"):
        parse_evppi_groups(["r"], draws)


# --------------------------------------------------------------------------------------------
# EVPI and EVPPI of a PSA


@pytest.fixture(scope="module")
def toy_psa(tmp_path_factory):
    s = load_scenario(write_toy(tmp_path_factory.mktemp("toy")))
    return run_psa(s, 4000, seed=21)


@pytest.mark.slow
def test_evpi_bounds_evppi_and_ignored_parameter_has_none(toy_psa):
    wtp = (2000.0,)
    groups = [("gain", ("gain",)), ("noise", ("noise",)), ("all", ("c_a", "c_b", "u", "gain"))]
    rows = compute_evppi_rows(toy_psa, groups, wtp=wtp)
    gain, noise, everything = rows
    evpi = gain["evpi_per_person"]
    assert evpi > 1.0  # the decision is uncertain at this threshold
    assert 0 <= noise["evppi_per_person"] < 0.02 * evpi
    assert 0 < gain["evppi_per_person"] <= evpi
    assert everything["evppi_per_person"] == pytest.approx(evpi, rel=0.05)
    assert everything["evppi_per_person"] <= evpi * 1.01
    assert all(np.isfinite(r["se"]) and r["se"] >= 0 for r in rows)


def test_evppi_all_parameters_with_gp_is_close_to_evpi(toy_psa):
    (row,) = compute_evppi_rows(toy_psa, [("all", ("c_a", "c_b", "u", "gain", "noise"))], wtp=(2000.0,), method="gp")
    assert row["evppi_per_person"] == pytest.approx(row["evpi_per_person"], rel=0.05)


def test_evppi_standard_errors_are_reproducible(toy_psa):
    a = compute_evppi_rows(toy_psa, [("gain", ("gain",))], wtp=(2000.0,))
    b = compute_evppi_rows(toy_psa, [("gain", ("gain",))], wtp=(2000.0,))
    assert a == b


def test_result_summary_and_frame(toy):
    r = run_psa(toy, 300, seed=1)
    text = r.summary()
    assert "PSA: 300 draws, seed 1" in text and "acceptability frontier" in text
    frame = r.to_frame()
    assert list(frame.columns) == ["draw", "strategy", "cost_treatment", "cost_total", "qalys"]
    assert len(frame) == 600
    assert re.search(r"\bb\b", text)


def test_microsimulation_psa_chunks_are_reproducible_alone(sick_sicker):
    s = sick_sicker
    r = run_psa(s, 50, seed=2, chunk_size=20, method="microsim", individuals=64)
    alone = compute_chunk(s, seed=2, chunk=2, start=40, stop=50, method="microsim", individuals=64)
    assert np.array_equal(alone["costs"], r.costs[40:]) and np.array_equal(alone["parameters"], r.parameters[40:])
    assert r.individuals == 64 and r.method == "microsim"
    with pytest.raises(UsageError, match="--individuals applies to --method microsim only"):
        run_psa(s, 10, seed=2, individuals=64)


def test_microsimulation_psa_progress_moves_within_a_chunk(sick_sicker):
    partial, chunks, notices = [], [], []
    run_psa(
        sick_sicker,
        5,
        seed=2,
        method="microsim",
        individuals=64,
        on_partial=partial.append,
        on_chunk=chunks.append,
        progress=notices.append,
    )
    assert chunks == [5]  # one chunk of 5 draws ...
    assert partial == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # ... reported draw by draw while it runs


def test_microsimulation_progress_per_block_of_individuals(sick_sicker):
    from costspine.simulate.microsim import run_microsim

    seen = []
    run_microsim(
        sick_sicker, n_individuals=3000, seed=1, chunk_size=1024, progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(0, 3000), (1024, 3000), (2048, 3000), (3000, 3000)]


def test_compile_notice_only_when_the_kernel_is_not_ready(sick_sicker, monkeypatch):
    import costspine.simulate.microsim as microsim

    said = []
    monkeypatch.setattr(microsim, "kernel_is_ready", lambda: False)
    microsim.run_microsim(sick_sicker, n_individuals=64, seed=1, backend="numba", notice=said.append)
    assert said == [microsim.COMPILE_NOTICE]
    monkeypatch.setattr(microsim, "kernel_is_ready", lambda: True)
    microsim.run_microsim(sick_sicker, n_individuals=64, seed=1, backend="numba", notice=said.append)
    microsim.run_microsim(sick_sicker, n_individuals=64, seed=1, backend="numpy", notice=said.append)
    assert len(said) == 1


def test_auto_backend_counts_the_work_of_every_draw(sick_sicker):
    from costspine.model.groups import build_groups
    from costspine.model.inputs import evaluate_parameters
    from costspine.model.microsim_tables import build_draw_tables
    from costspine.simulate.microsim import NUMPY_MAX_WORK, build_kernel_inputs, resolve_backend

    s = sick_sicker
    values = evaluate_parameters(s)
    population = s.population or microsim_population()
    groups = build_groups(population, values, tables=s.tables, where="x", base_case=True)
    kernel = build_kernel_inputs(s, build_draw_tables(s, population, groups, values, draw=0, base_case=True))
    per_individual = kernel.n_cycles * 2 * kernel.metric_state.shape[-1] + kernel.pairs.shape[0] * 4
    n = int(NUMPY_MAX_WORK / per_individual / 10)  # one draw: a tenth of the threshold
    assert resolve_backend("auto", n, kernel, 2) == "numpy"
    assert resolve_backend("auto", n, kernel, 2, n_draws=100) == "numba"


def microsim_population():
    from costspine.scenario.population import EMPTY_POPULATION

    return EMPTY_POPULATION


def test_dask_tasks_group_consecutive_chunks_and_pay_off_only_for_long_work():
    from costspine.analysis.psa_dask import DASK_START_SECONDS, dask_pays_off, group_chunks

    layout = plan_chunks(10_500, 1000)
    groups = group_chunks(list(range(1, len(layout))), layout, 4)
    assert len(groups) == 4
    assert [c for group in groups for c, _, _ in group] == list(range(1, len(layout)))  # each chunk once, in order
    assert all(layout[c] == (start, stop) for group in groups for c, start, stop in group)
    assert group_chunks([0, 1], layout, 8) == [[(0, 0, 1000)], [(1, 1000, 2000)]]
    assert not dask_pays_off(DASK_START_SECONDS, 2, cores=2)  # saves half of it: less than the start-up
    assert dask_pays_off(2.5 * DASK_START_SECONDS, 2, cores=2)
    assert not dask_pays_off(100 * DASK_START_SECONDS, 2, cores=1)  # one core: nothing runs at once


def test_microsimulation_psa_chunks_hold_a_few_seconds_of_work(sick_sicker, monkeypatch):
    import costspine.analysis.psa as sampling

    per_draw = 20_000 * len(sick_sicker.strategies) * sick_sicker.settings.n_cycles
    assert sampling.microsim_chunk_size(sick_sicker, 20_000) == sampling.MICROSIM_CHUNK_WORK // per_draw
    assert sampling.microsim_chunk_size(sick_sicker, 10**9) == 1
    assert sampling.microsim_chunk_size(sick_sicker, 2) == CHUNK_SIZE
    monkeypatch.setattr(sampling, "MICROSIM_CHUNK_WORK", 3 * 64 * len(sick_sicker.strategies) * sick_sicker.settings.n_cycles)
    r = run_psa(sick_sicker, 7, seed=2, method="microsim", individuals=64)
    assert r.chunks == ((0, 3), (3, 6), (6, 7))  # three draws' work per chunk
