"""Microsimulation: kernels, random numbers, chunking, schema, MCSEs and the command line.

The compiled kernel and the plain-numpy reference are checked against each other (bit for bit)
and against a slow, obvious per-individual loop written here from the documented semantics.
Statistical agreement with the cohort model is in tests/statistical/test_microsim_convergence.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from costspine.engines.microsim import BLOCK, TIME_IN_STATE, TRANSITIONS, build_cdf_rows, draw_uniforms, simulate_chunk
from costspine.errors import AnalysisError, ScenarioError, UsageError
from costspine.model.groups import build_groups
from costspine.model.inputs import build_model_inputs, evaluate_parameters
from costspine.model.microsim_tables import build_draw_tables
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort, run_cohort_by_group, simulate_inputs
from costspine.simulate.microsim import (
    MicrosimResult,
    build_kernel_inputs,
    choose_chunk_size,
    derive_seed_sequence,
    draw_keys,
    run_microsim,
)

from helpers import RICH_MICROSIM, write

RICH = RICH_MICROSIM.read_text(encoding="utf-8")  # tests/scenarios/microsim_rich.toml


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    return load_scenario(write(tmp_path_factory.mktemp("rich"), RICH))


@pytest.fixture(scope="module")
def rich_tables(rich):
    values = evaluate_parameters(rich)
    groups = build_groups(rich.population, values, tables=rich.tables, where="rich", base_case=True)
    return build_draw_tables(rich, rich.population, groups, values, draw=0, base_case=True)


@pytest.fixture(scope="module")
def rich_kernel(rich, rich_tables):
    return build_kernel_inputs(rich, rich_tables)


def slow_loop(k, keys, start, count):
    """The kernel's documented semantics, one individual at a time, in plain Python."""
    n_strategies, n_cycles = len(keys), k.n_cycles
    n_states = k.init_cdf.shape[1]
    n_events, n_hist = len(k.event_hist), len(k.hist_kind)
    per_individual = 2 + n_cycles * (1 + n_events)
    occupancy = np.zeros((n_strategies, n_cycles + 1, k.n_reward_cells), dtype=np.int64)
    entries = np.zeros_like(occupancy)
    totals = np.zeros((count, n_strategies, k.metric_state.shape[-1]))

    def first_above(cdf, u):
        j = 0
        while u >= cdf[j]:
            j += 1
        return j

    def row(offset, strides, hist, state):
        return (offset + sum(int(h) * int(st) for h, st in zip(hist, strides))) * n_states + state

    for i in range(count):
        for s in range(n_strategies):
            u = draw_uniforms(keys[s], (start + i) * per_individual + np.arange(per_individual, dtype=np.uint64))
            group = first_above(k.group_cum, u[0])
            state = first_above(k.init_cdf[k.init_map[group]], u[1])
            hist = [0] * n_hist
            cell = row(k.reward_map[group], k.reward_strides, hist, state)
            occupancy[s, 0, cell] += 1
            totals[i, s] += k.metric_state[s, 0, cell]
            for t in range(1, n_cycles + 1):
                j = 2 + (t - 1) * (1 + n_events)
                fired = [
                    u[j + 1 + e] < k.event_prob[e, s, k.event_time[t - 1], row(k.event_map[group], k.event_strides, hist, state)]
                    for e in range(n_events)
                ]
                trow = row(k.trans_map[group], k.trans_strides, hist, state)
                new = first_above(k.trans_cdf[s, k.trans_time[t - 1], trow], u[j])
                for h in range(n_hist):
                    if k.hist_kind[h] == TIME_IN_STATE:  # +1 while in the counter's state (or group), else 0
                        hist[h] = min(hist[h] + 1, k.hist_cap[h]) if k.hist_moves[h, state, new] else 0
                    elif k.hist_kind[h] == TRANSITIONS and k.hist_moves[h, state, new]:
                        hist[h] = min(hist[h] + 1, k.hist_cap[h])
                for e in range(n_events):
                    if fired[e]:
                        h = k.event_hist[e]
                        hist[h] = min(hist[h] + 1, k.hist_cap[h])
                moved, state = new != state, new
                cell = row(k.reward_map[group], k.reward_strides, hist, state)
                occupancy[s, t, cell] += 1
                totals[i, s] += k.metric_state[s, t, cell]
                if moved:
                    entries[s, t, cell] += 1
                    totals[i, s] += k.metric_entry[s, t, cell]
    return occupancy, entries, totals


# --------------------------------------------------------------------------------------------
# Kernels


def test_kernel_matches_a_slow_obvious_loop(rich_kernel):
    k = rich_kernel
    keys = np.full(3, np.uint64(987654321), dtype=np.uint64)
    occupancy, entries, totals = slow_loop(k, keys, 2 * BLOCK, 1500)
    for backend in ("numpy", "numba"):
        out = simulate_chunk(k, keys=keys, start=2 * BLOCK, count=1500, backend=backend)
        np.testing.assert_array_equal(out.occupancy, occupancy)
        np.testing.assert_array_equal(out.entries, entries)
        np.testing.assert_allclose(out.block_sum.sum(axis=0), totals.sum(axis=0), rtol=1e-12)
        q = [int(np.flatnonzero((k.pairs == [m, m]).all(axis=1))[0]) for m in range(totals.shape[-1])]
        squares = np.einsum("ism,ism->sm", totals, totals)
        np.testing.assert_allclose(out.block_cross.sum(axis=0)[q].diagonal(axis1=1, axis2=2).T, squares, rtol=1e-12)


def test_group_sums_match_a_slow_loop_and_both_backends_agree_bit_for_bit(rich, rich_tables):
    """``by_level`` kernels also sum the level metrics (and their cross-strategy products) per group:
    the slow loop's per-individual totals grouped by each individual's group (its first uniform)."""
    from costspine.simulate.microsim import list_level_metrics

    k = build_kernel_inputs(rich, rich_tables, by_level=True)
    metrics, pairs = list_level_metrics(rich)
    assert k.level_metrics.tolist() == list(metrics) and len(k.level_pairs) == len(pairs)
    keys = np.full(3, np.uint64(24680), dtype=np.uint64)
    start, count = BLOCK, 700
    _, _, totals = slow_loop(k, keys, start, count)
    counters = (start + np.arange(count, dtype=np.uint64)) * np.uint64(k.uniforms_per_individual)
    group = np.searchsorted(k.group_cum, draw_uniforms(keys[0], counters), side="right")
    assert len(np.unique(group)) > 2
    outs = [simulate_chunk(k, keys=keys, start=start, count=count, backend=b) for b in ("numpy", "numba")]
    for out in outs:
        for g in range(len(k.group_cum)):
            mine = totals[group == g]  # (individual, strategy, metric)
            np.testing.assert_allclose(
                out.group_sum.sum(axis=0)[g], mine[:, :, k.level_metrics].sum(axis=0), rtol=1e-12, atol=1e-9
            )
            for q, (m1, m2) in enumerate(k.level_pairs):
                cross = np.einsum("is,it->st", mine[:, :, m1], mine[:, :, m2])
                np.testing.assert_allclose(out.group_cross.sum(axis=0)[g, q], cross, rtol=1e-12, atol=1e-9)
    for x, y in zip(*outs):
        np.testing.assert_array_equal(x, y)
    # without common random numbers an individual's group differs between strategies: nothing is summed
    for backend in ("numpy", "numba"):
        apart = simulate_chunk(k, keys=np.array([1, 2, 3], dtype=np.uint64), start=0, count=BLOCK, backend=backend)
        assert not apart.group_sum.any() and not apart.group_cross.any()


def test_histories_actually_change_in_the_test_model(rich_kernel):
    # Guard against a vacuous kernel test: the reward grid must depend on history and attributes.
    k = rich_kernel
    assert np.count_nonzero(k.reward_strides) >= 2
    assert len(np.unique(k.reward_map)) > 1
    assert np.count_nonzero(k.trans_strides) == 3


def test_numba_and_numpy_backends_are_bit_identical(rich_kernel):
    k = rich_kernel
    keys = np.array([11, 11, 11], dtype=np.uint64)
    a = simulate_chunk(k, keys=keys, start=0, count=5000, backend="numba")
    b = simulate_chunk(k, keys=keys, start=0, count=5000, backend="numpy")
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_kernels_do_not_mutate_their_inputs(rich_kernel):
    k = rich_kernel
    before = [np.array(v, copy=True) if isinstance(v, np.ndarray) else v for v in k]
    keys = np.array([3, 3, 3], dtype=np.uint64)
    for backend in ("numba", "numpy"):
        simulate_chunk(k, keys=keys, start=0, count=2000, backend=backend)
    for old, new in zip(before, k):
        np.testing.assert_array_equal(old, new)


def test_chunks_must_start_on_a_block():
    with pytest.raises(ValueError, match="multiple of 1024"):
        simulate_chunk(None, keys=np.zeros(1, np.uint64), start=5, count=10, backend="numpy")


def test_cdf_rows_never_lands_in_an_impossible_state():
    prob = np.array([[0.1, 0.2, 0.7 - 1e-17, 0.0, 0.0], [0, 0, 0, 0, 1.0], [0.3, 0, 0.7, 0, 0]])
    cdf = build_cdf_rows(prob)
    assert cdf[0, 2:].tolist() == [1.0, 1.0, 1.0]
    assert cdf[1].tolist() == [0, 0, 0, 0, 1.0]
    assert cdf[2].tolist() == [0.3, 0.3, 1.0, 1.0, 1.0]
    tiny_negative = build_cdf_rows(np.array([0.3, -1e-12, 0.7 + 1e-12]))  # within the validation tolerance
    assert np.all(np.diff(tiny_negative) >= 0) and tiny_negative[-1] == 1.0


def test_uniforms_are_uniform_and_keyed():
    u = draw_uniforms(np.uint64(42), np.arange(200_000, dtype=np.uint64))
    assert 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.003 and abs(u.var() - 1 / 12) < 0.001
    counts = np.bincount((u * 20).astype(int), minlength=20)
    chi2 = ((counts - 10_000) ** 2 / 10_000).sum()
    assert chi2 < 50  # 19 degrees of freedom: p < 0.0002 above 50
    assert not np.array_equal(u[:100], draw_uniforms(np.uint64(43), np.arange(100, dtype=np.uint64)))
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


# --------------------------------------------------------------------------------------------
# Seeds, chunks, common random numbers


def test_results_are_bit_identical_whatever_the_chunk_size_and_backend(rich):
    reference = run_microsim(rich, n_individuals=5000, seed=7, backend="numba", chunk_size=BLOCK)
    for backend, chunk in (("numba", None), ("numba", 3 * BLOCK), ("numpy", 2 * BLOCK), ("numpy", None)):
        other = run_microsim(rich, n_individuals=5000, seed=7, backend=backend, chunk_size=chunk)
        for field in (
            "trace",
            "costs",
            "costs_undiscounted",
            "outcomes",
            "cost_per_cycle",
            "indicators",
            "services_per_cycle",
            "costs_se",
            "total_cost_se",
            "outcomes_se",
            "incremental_cost_se",
            "incremental_outcomes_se",
            "incremental_nmb_se",
            "trace_se",
        ):
            np.testing.assert_array_equal(getattr(reference, field), getattr(other, field), err_msg=f"{backend} {chunk} {field}")


def test_same_seed_same_result_other_seed_other_result(rich):
    a = run_microsim(rich, n_individuals=3000, seed=1)
    b = run_microsim(rich, n_individuals=3000, seed=1)
    c = run_microsim(rich, n_individuals=3000, seed=2)
    np.testing.assert_array_equal(a.costs, b.costs)
    assert not np.array_equal(a.costs, c.costs)


def test_an_individual_faces_the_same_draws_under_every_strategy(tmp_path):
    # Two identical strategies: with common random numbers every individual takes the same path.
    text = RICH.replace('values = { hr = "1.3 + 0.1 * shots" }', 'values = { hr = "1" }')
    scenario = load_scenario(write(tmp_path, text))
    r = run_microsim(scenario, n_individuals=4000, seed=3)
    np.testing.assert_array_equal(r.trace[0, 0], r.trace[0, 2])
    np.testing.assert_array_equal(r.costs[0, 0], r.costs[0, 2])
    assert r.incremental_cost_se[0, 2] == 0 and np.all(r.incremental_outcomes_se[0, 2] == 0)
    independent = run_microsim(scenario, n_individuals=4000, seed=3, common_random_numbers=False)
    assert not np.array_equal(independent.trace[0, 0], independent.trace[0, 2])
    assert independent.incremental_cost_se[0, 2] > 0


def test_keys_are_shared_with_crn_and_independent_of_strategy_order_without():
    seq = derive_seed_sequence(5)
    shared = draw_keys(seq, 0, ("a", "b"), common_random_numbers=True)
    assert shared[0] == shared[1]
    ab = draw_keys(seq, 0, ("a", "b"), common_random_numbers=False)
    ba = draw_keys(seq, 0, ("b", "a"), common_random_numbers=False)
    assert ab[0] != ab[1] and ab[0] == ba[1] and ab[1] == ba[0]
    assert draw_keys(seq, 1, ("a",), common_random_numbers=True)[0] != shared[0]


def test_results_do_not_depend_on_strategy_order(tmp_path, rich):
    block = """[strategies.a]
values = { hr = "1" }

[strategies.b]
values = { hr = "where(cycle <= 3, 1.5, 1.1)" }

[strategies.c]
values = { hr = "1.3 + 0.1 * shots" }
"""
    reversed_block = """[strategies.c]
values = { hr = "1.3 + 0.1 * shots" }

[strategies.b]
values = { hr = "where(cycle <= 3, 1.5, 1.1)" }

[strategies.a]
values = { hr = "1" }
"""
    assert block in RICH
    reordered = load_scenario(write(tmp_path, RICH.replace(block, reversed_block)))
    assert reordered.strategies == ("c", "b", "a")
    a = run_microsim(rich, n_individuals=3000, seed=9)
    b = run_microsim(reordered, n_individuals=3000, seed=9)
    np.testing.assert_array_equal(a.costs[0, ::-1], b.costs[0])
    np.testing.assert_array_equal(a.trace[0, ::-1], b.trace[0])
    np.testing.assert_array_equal(a.total_cost_se[0, ::-1], b.total_cost_se[0])


def test_chunk_size_follows_available_memory(rich_kernel):
    k = rich_kernel
    small = choose_chunk_size(10_000_000, k, 3, backend="numpy", memory=512 * 1024**2)
    large = choose_chunk_size(10_000_000, k, 3, backend="numpy", memory=16 * 1024**3)
    assert small % BLOCK == 0 and large % BLOCK == 0 and BLOCK <= small < large
    per_individual = 8 * 3 * (3 * k.metric_state.shape[-1] + k.pairs.shape[0] * 9 + 2 * 4 + 3 * 3 + 1 + 16)
    assert small * per_individual <= 0.25 * 512 * 1024**2
    assert choose_chunk_size(5000, k, 3, backend="numba") == 5 * BLOCK


# --------------------------------------------------------------------------------------------
# Results and MCSEs


def test_result_has_the_cohort_shapes_plus_standard_errors(rich):
    r = run_microsim(rich, n_individuals=2000, seed=4)
    c = run_cohort(rich)
    assert isinstance(r, MicrosimResult) and r.method == "microsim"
    for field in (
        "trace",
        "costs",
        "costs_undiscounted",
        "outcomes",
        "outcomes_undiscounted",
        "cost_per_cycle",
        "indicators",
        "services_per_cycle",
    ):
        assert getattr(r, field).shape == getattr(c, field).shape, field
    assert r.costs_se.shape == r.costs.shape and r.outcomes_se.shape == r.outcomes.shape
    assert r.incremental_nmb_se.shape == (1, 3, 2)
    assert r.incremental_cost_se[0, 0] == 0
    np.testing.assert_allclose(r.trace.sum(axis=-1), 1.0)
    np.testing.assert_allclose(r.cost_per_cycle.sum(axis=(2, 3)), r.costs_undiscounted.sum(axis=-1), rtol=1e-12)
    assert "Monte Carlo standard errors" in r.summary()
    assert {"cost_total_se", "incremental_cost_se"} <= set(r.to_frame().columns)


def test_mcse_matches_the_sample_standard_deviation_of_individual_totals(rich_kernel):
    k = rich_kernel
    keys = np.full(3, np.uint64(5), dtype=np.uint64)
    _, _, totals = slow_loop(k, keys, 0, 1200)
    out = simulate_chunk(k, keys=keys, start=0, count=1200, backend="numpy")
    n = 1200
    mean = out.block_sum.sum(axis=0) / n
    second = out.block_cross.sum(axis=0) / n
    m = 2  # discounted total cost (after the two categories)
    var = (second[m].diagonal() - mean[:, m] ** 2) * n / (n - 1)
    np.testing.assert_allclose(np.sqrt(var / n), totals[:, :, m].std(axis=0, ddof=1) / np.sqrt(n), rtol=1e-9)
    diff = totals[:, 1, m] - totals[:, 0, m]
    inc = (second[m][1, 1] + second[m][0, 0] - 2 * second[m][1, 0] - (mean[1, m] - mean[0, m]) ** 2) * n / (n - 1)
    np.testing.assert_allclose(np.sqrt(inc / n), diff.std(ddof=1) / np.sqrt(n), rtol=1e-7)


def test_psa_draws_each_simulate_their_own_individuals(rich):
    params = {"p_shot": np.array([0.1, 0.3]), "p_rec": np.array([0.25, 0.25])}
    r = run_microsim(rich, params, n_individuals=2000, seed=1)
    assert r.costs.shape[0] == 2 and r.parameters["p_shot"].tolist() == [0.1, 0.3]
    assert r.costs[1, 0, 1] > r.costs[0, 0, 1]  # shots cost more when more likely


# --------------------------------------------------------------------------------------------
# The cohort engine on a population


def test_cohort_by_group_is_the_weighted_mix_of_group_cohorts(tmp_path):
    text = """
    [model]
    name = "groups"
    [settings]
    cycle_length = 1
    cycle_unit = "year"
    n_cycles = 5
    discount_costs = 0.03
    discount_outcomes = 0.03
    cycle_correction = "half-cycle"
    currency = "USD"
    price_year = 2025
    [analysis]
    effect = "qalys"
    comparator = "a"
    wtp = [1000]
    [population.attributes.risk]
    levels = { low = 0.7, high = 0.3 }
    source = "test"
    [states]
    well = { initial = "1 - 0.5 * risk_high" }
    sick = { initial = "0.5 * risk_high" }
    dead = { initial = 0 }
    [strategies.a]
    values = { hr = "1" }
    [strategies.b]
    values = { hr = "0.5" }
    [transitions]
    well = { well = "rest", sick = "0.1 * hr * (1 + risk_high)", dead = 0.01 }
    sick = { sick = "rest", dead = "0.1 * (1 + risk_high)" }
    dead = { dead = 1 }
    [costs.care]
    category = "care"
    values = { sick = "1000 * (1 + risk_high)" }
    [outcomes.qalys]
    values = { well = "cycle_years", sick = "0.6 * cycle_years" }
    [indicators.sick_share]
    values = { well = 0, sick = 1 }
    """
    scenario = load_scenario(write(tmp_path, text))
    mixed = run_cohort(scenario)
    assert mixed.method == "cohort (by group)"
    parts = []
    for risk in (0.0, 1.0):
        params = {**evaluate_parameters(scenario), "risk_low": np.array([1 - risk]), "risk_high": np.array([risk])}
        parts.append(simulate_inputs(scenario, build_model_inputs(scenario, params), params))
    np.testing.assert_allclose(mixed.costs, 0.7 * parts[0].costs + 0.3 * parts[1].costs, rtol=1e-12)
    np.testing.assert_allclose(mixed.trace, 0.7 * parts[0].trace + 0.3 * parts[1].trace, rtol=1e-12)
    alive = [p.trace[..., :2].sum(-1) for p in parts]
    expected = (0.7 * parts[0].trace[..., 1] + 0.3 * parts[1].trace[..., 1]) / (0.7 * alive[0] + 0.3 * alive[1])
    np.testing.assert_allclose(mixed.indicators[..., 0], expected, rtol=1e-12)
    # PSA draws go through the same path
    draws = run_cohort_by_group(scenario, {})
    np.testing.assert_allclose(draws.costs, mixed.costs)


# --------------------------------------------------------------------------------------------
# Schema


def test_groups_have_weights_summing_to_one_and_band_means_inside_bands(rich):
    values = evaluate_parameters(rich)
    groups = build_groups(rich.population, values, tables=rich.tables, where="rich", base_case=True)
    assert groups.shape == (2, 3, 2)
    np.testing.assert_allclose(groups.flat_weights().sum(), 1.0)
    w = groups.weights[0]
    np.testing.assert_allclose(w.sum(axis=(1, 2)), [0.6, 0.4])
    np.testing.assert_allclose(w[1].sum(axis=0)[1] / 0.4, 0.5)  # widespread share given high risk
    age = np.broadcast_to(groups.values["age"][0], groups.shape)
    assert np.all((age[:, 0] >= 18) & (age[:, 0] <= 50)) and np.all((age[:, 1] >= 50) & (age[:, 1] <= 70))
    from scipy import stats

    truncated = stats.truncnorm((18 - 45) / 12, (100 - 45) / 12, loc=45, scale=12)
    np.testing.assert_allclose(
        w[0].sum(axis=1) / 0.6, [truncated.cdf(50), truncated.cdf(70) - truncated.cdf(50), 1 - truncated.cdf(70)], rtol=1e-9
    )
    np.testing.assert_allclose(age[0, 0, 0], truncated.expect(lambda x: x, lb=18, ub=50, conditional=True), rtol=1e-7)
    assert groups.label(int(np.ravel_multi_index((1, 2, 0), groups.shape))) == "risk=high, age=70-100, widespread=0"


def test_population_mistakes_are_all_reported_with_key_paths(tmp_path):
    text = (
        RICH.replace('levels = { low = 0.6, high = 0.4 }\nsource = "test"', "levels = { low = 0.6, high = 0.4 }\ncolour = 1")
        .replace('kind = "time_in_state"\nmax = 3\ncohort = 0', 'kind = "time_in_state"\nmax = 0')
        .replace('to = ["sick", "worse"]', 'to = ["sik"]')
        .replace('probability = { sick = "p_shot"', 'probability = { sick = "p_shoot"')
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    message = str(info.value)
    for expected in (
        "population.attributes.risk.colour: unknown key",
        "population.attributes.risk.source: missing",
        "microsimulation.history.tis.max: must be in [1",
        "microsimulation.history.tis.cohort: missing",
        "microsimulation.history.relapses.to: unknown state(s) 'sik'",
        "microsimulation.history.shots.probability.sick: unknown name 'p_shoot'",
    ):
        assert expected in message, expected


def test_attribute_names_must_not_clash_and_must_be_declared(tmp_path):
    clash = RICH.replace("[population.attributes.widespread]", "[population.attributes.p_shot]")
    with pytest.raises(ScenarioError, match="already a parameter"):
        load_scenario(write(tmp_path, clash))
    undeclared = RICH.replace('"0.01 * (1 + widespread)"', '"0.01 * (1 + smoker)"')
    with pytest.raises(ScenarioError, match="unknown name 'smoker'"):
        load_scenario(write(tmp_path, undeclared))
    later = RICH.replace('mean = "where(risk_high, 60, 45)"', 'mean = "where(widespread, 60, 45)"')
    with pytest.raises(ScenarioError, match="unknown name 'widespread'"):
        load_scenario(write(tmp_path, later))


def test_shares_that_do_not_sum_to_one_are_a_scenario_error(tmp_path):
    scenario = load_scenario(
        write(tmp_path, RICH.replace("levels = { low = 0.6, high = 0.4 }", "levels = { low = 0.6, high = 0.5 }"))
    )
    with pytest.raises(ScenarioError, match="population.attributes.risk: level shares must sum to 1; they sum to 1.1"):
        run_microsim(scenario, n_individuals=100, seed=1)


def test_bad_probabilities_name_strategy_cycle_group_and_history(tmp_path):
    text = RICH.replace('worse = "0.05 + 0.03 * shots"', 'worse = "0.05 + 0.5 * shots * risk_high"')
    scenario = load_scenario(write(tmp_path, text))
    with pytest.raises(ScenarioError) as info:
        run_microsim(scenario, n_individuals=100, seed=1)
    message = str(info.value)
    assert "risk=high" in message and "shots=2" in message and "from=sick" in message and "outside [0, 1]" in message
    with pytest.raises(AnalysisError, match="PSA draw 1"):
        run_microsim(
            load_scenario(write(tmp_path, RICH)),
            {"p_shot": np.array([0.2, 0.2]), "p_rec": np.array([0.25, 5.0])},
            n_individuals=100,
            seed=1,
        )


def test_the_number_of_individuals_and_the_seed_are_required(tmp_path, sick_sicker):
    assert RICH.count("[microsimulation]\nindividuals = 3000\n") == 1
    scenario = load_scenario(write(tmp_path, RICH.replace("[microsimulation]\nindividuals = 3000\n", "")))
    with pytest.raises(UsageError, match="--individuals"):
        run_microsim(scenario, seed=1)
    with pytest.raises(UsageError, match="seed"):
        run_microsim(scenario, n_individuals=100)
    assert run_microsim(sick_sicker, seed=1, backend="numba").n_individuals == 100_000  # the file's


def test_the_compiled_kernel_uses_the_engines_history_codes():
    # numba caches the kernel by its own file only, so the codes are literals there.
    from costspine.engines import _microsim_numba, microsim

    assert (_microsim_numba._TIME_IN_STATE, _microsim_numba._TRANSITIONS) == (microsim.TIME_IN_STATE, microsim.TRANSITIONS)


def test_compiling_ahead_covers_the_kernel_scenarios_run(rich_kernel, sick_sicker):
    # `python -m costspine.engines.compile` (run at installation) compiles the kernel for its tiny
    # inputs; numba reuses that code only for arguments of the same types, so a scenario's tables
    # (with history counters and events or without, with sums by subgroup or without) must have
    # exactly those types.
    from costspine.engines.compile import build_tiny_inputs, kernel_argument_types

    ahead = kernel_argument_types(build_tiny_inputs(), np.zeros(1, dtype=np.uint64), 0, 1)
    values = evaluate_parameters(sick_sicker)
    groups = build_groups(sick_sicker.population, values, tables=sick_sicker.tables, where="sick-sicker", base_case=True)
    tables = build_draw_tables(sick_sicker, sick_sicker.population, groups, values, draw=0, base_case=True)
    plain = build_kernel_inputs(sick_sicker, tables)
    by_level = build_kernel_inputs(sick_sicker, tables, by_level=True)  # sums by subgroup too
    assert by_level.level_metrics.size and not plain.level_metrics.size
    for k, n_strategies in ((rich_kernel, 3), (plain, 2), (by_level, 2)):
        assert kernel_argument_types(k, np.arange(n_strategies, dtype=np.uint64), 4 * BLOCK, 3 * BLOCK + 5) == ahead


def test_the_compile_entry_point_says_where_the_kernel_is_cached(capsys):
    from costspine.engines import compile as ahead
    from costspine.engines._microsim_numba import simulate_chunk_compiled

    assert ahead.main() == 0
    said = capsys.readouterr().out
    assert "compiled" in said and str(simulate_chunk_compiled.stats.cache_path) in said
    assert ahead.compile_kernel() is False  # now in memory: nothing left to compile
