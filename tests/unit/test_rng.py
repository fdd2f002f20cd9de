"""The one seed layout (costspine._rng): streams keyed by path, shared by every command.

Same seed ⇒ same parameter draws in psa (cohort and microsimulation) and bia; the chunk size and
the number of workers change nothing; different paths give independent streams; draw_parameters
uses the generator or seed sequence it is given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from costspine._rng import DRAW_BLOCK, MICROSIMULATION, PARAMETERS, draw_blocks, path_key, seed_sequence, stream
from costspine.analysis.bia_run import compute_bia
from costspine.analysis.psa import CHUNK_STREAM_KEY, chunk_seed_sequence, run_psa, sampled_parameter_names
from costspine.params import Correlation, ParameterSpec, draw_parameter_range, draw_parameters
from costspine.scenario.bia_spec import read_bia_spec
from costspine.scenario.load import load_scenario
from costspine.simulate.microsim import derive_seed_sequence, draw_keys

ROOT = Path(__file__).resolve().parents[2]
CHANCELLOR = ROOT / "scenarios" / "examples" / "hiv_chancellor.toml"
SICK_SICKER = ROOT / "scenarios" / "examples" / "sick_sicker.toml"
BIA_PLAN = ROOT / "scenarios" / "spine" / "bia_commercial_plan.toml"

SPECS = (
    ParameterSpec("g", "gamma", "test", {"shape": 4.0, "scale": 25.0}, 100.0),
    ParameterSpec("b", "beta", "test", {"alpha": 3.0, "beta": 7.0}, 0.3),
    ParameterSpec("n", "normal", "test", {"mean": 1.0, "sd": 0.5}, 1.0),
    ParameterSpec("row", "dirichlet", "test", {"alpha": (5.0, 3.0, 2.0)}, components=("r1", "r2", "r3")),
)
CORRELATED = (Correlation(names=("g", "b"), matrix=((1.0, 0.6), (0.6, 1.0))),)


def assert_same_draws(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


# --------------------------------------------------------------------------------------------
# The layout itself


def test_a_path_is_a_spawn_key_of_hashed_names_and_plain_indices():
    assert seed_sequence(5, PARAMETERS, 2).spawn_key == (CHUNK_STREAM_KEY, 2)
    assert seed_sequence(5, MICROSIMULATION).spawn_key == derive_seed_sequence(5).spawn_key
    assert seed_sequence(5, "a", 3).entropy == 5
    # extending a seed sequence appends to its key: the same stream as the whole path
    assert seed_sequence(seed_sequence(5, "a"), 3).spawn_key == seed_sequence(5, "a", 3).spawn_key
    assert chunk_seed_sequence(5, 2).spawn_key == seed_sequence(5, PARAMETERS, 2).spawn_key


@pytest.mark.parametrize("part", [-1, 2**64, 1.5, None, True, b"bytes"])
def test_a_path_part_must_be_a_name_or_a_non_negative_64_bit_index(part):
    with pytest.raises(TypeError, match="path part"):
        path_key(part)


@pytest.mark.parametrize("seed", [-3, 1.0, "7", None])
def test_a_seed_must_be_a_non_negative_int_or_a_seed_sequence(seed):
    with pytest.raises(TypeError, match="seed must be"):
        seed_sequence(seed, "a")


def test_same_path_same_stream_and_different_paths_independent_streams():
    n = 20_000
    base = stream(9, "x", 1).random(n)
    np.testing.assert_array_equal(base, stream(9, "x", 1).random(n))
    others = [stream(9, "y", 1), stream(9, "x", 2), stream(9, 1, "x"), stream(10, "x", 1), stream(9, "x")]
    for other in others:
        values = other.random(n)
        assert not np.any(values == base)
        assert abs(np.corrcoef(base, values)[0, 1]) < 4 / np.sqrt(n)  # 4 standard errors of r under independence


def test_draw_blocks_cover_the_range_once_in_order():
    for start, stop in ((0, 0), (0, 1), (0, DRAW_BLOCK), (999, 1001), (1500, 4321), (3000, 3000)):
        spans = draw_blocks(start, stop)
        draws = [b * DRAW_BLOCK + i for b, first, end in spans for i in range(first, end)]
        assert draws == list(range(start, stop))
        assert all(0 <= first < end <= DRAW_BLOCK for _, first, end in spans)
    with pytest.raises(ValueError, match="start <= stop"):
        draw_blocks(5, 4)


# --------------------------------------------------------------------------------------------
# draw_parameters honours its rng


def test_draw_parameters_uses_the_generators_state_not_its_original_seed():
    rng = np.random.default_rng(3)
    first = draw_parameters(SPECS, 50, rng, correlations=CORRELATED)
    second = draw_parameters(SPECS, 50, rng, correlations=CORRELATED)  # the generator has moved on
    assert all(not np.any(first[k] == second[k]) for k in first)
    advanced = np.random.default_rng(3)
    advanced.random()
    assert not np.any(draw_parameters(SPECS, 50, advanced)["g"] == first["g"])
    # the same state gives the same draws, however the generator was made
    copy = np.random.Generator(np.random.PCG64())
    copy.bit_generator.state = np.random.default_rng(3).bit_generator.state
    assert_same_draws(draw_parameters(SPECS, 50, copy, correlations=CORRELATED), first)


def test_draw_parameters_from_a_seed_sequence_is_the_layouts_block():
    root = seed_sequence(21, PARAMETERS, 0)
    drawn = draw_parameters(SPECS, 300, root, correlations=CORRELATED)
    assert_same_draws(drawn, draw_parameter_range(SPECS, seed=21, start=0, stop=300, correlations=CORRELATED))
    assert_same_draws(drawn, draw_parameters(SPECS, 300, seed_sequence(21, PARAMETERS, 0), correlations=CORRELATED))
    other = draw_parameters(SPECS, 300, seed_sequence(21, PARAMETERS, 1), correlations=CORRELATED)
    assert not np.any(other["g"] == drawn["g"])
    with pytest.raises(TypeError, match="Generator or SeedSequence"):
        draw_parameters(SPECS, 3, 21)


def test_any_split_of_a_runs_draws_gives_the_same_values():
    whole = draw_parameter_range(SPECS, seed=4, start=0, stop=2500, correlations=CORRELATED)
    for start, stop in ((0, 1), (999, 1001), (1000, 2000), (1234, 2500)):
        part = draw_parameter_range(SPECS, seed=4, start=start, stop=stop, correlations=CORRELATED)
        assert_same_draws(part, {k: v[start:stop] for k, v in whole.items()})
    shorter = draw_parameter_range(SPECS, seed=4, start=0, stop=1700, correlations=CORRELATED)
    assert_same_draws(shorter, {k: v[:1700] for k, v in whole.items()})  # more draws never shift earlier ones


# --------------------------------------------------------------------------------------------
# Every command draws the same values for the same seed


@pytest.fixture(scope="module")
def chancellor():
    return load_scenario(CHANCELLOR)


def test_the_psa_chunk_size_changes_nothing(chancellor):
    reference = run_psa(chancellor, 2300, seed=8)
    # chunks of one draw, many uneven chunks across the reference's chunk boundary, one chunk, a tiny run
    for n_draws, chunk_size in ((40, 1), (2300, 999), (2300, 2300), (1500, 7), (7, 3)):
        other = run_psa(chancellor, n_draws, seed=8, chunk_size=chunk_size)
        np.testing.assert_array_equal(other.parameters, reference.parameters[:n_draws])
        np.testing.assert_array_equal(other.costs, reference.costs[:n_draws])
        np.testing.assert_array_equal(other.outcomes, reference.outcomes[:n_draws])


def test_local_workers_change_nothing(chancellor):
    pytest.importorskip("distributed")
    reference = run_psa(chancellor, 1300, seed=8)
    other = run_psa(chancellor, 1300, seed=8, chunk_size=400, workers=2)
    np.testing.assert_array_equal(other.parameters, reference.parameters)
    np.testing.assert_array_equal(other.costs, reference.costs)


def test_bia_draws_the_same_parameter_values_as_psa_for_the_same_seed():
    scenario = load_scenario(BIA_PLAN)
    run = compute_bia(scenario, read_bia_spec(scenario), draws=40, seed=7)
    psa = run_psa(scenario, 40, seed=7)
    # the BIA's episode rate is the parameter rate_new_spine_episodes, drawn per draw
    np.testing.assert_array_equal(run.rate_per_1000, psa.parameter("rate_new_spine_episodes"))
    other = compute_bia(scenario, read_bia_spec(scenario), draws=40, seed=8)
    assert not np.any(other.rate_per_1000 == run.rate_per_1000)


def test_microsimulation_psa_uses_the_cohort_psas_parameter_draws_whatever_its_chunks():
    s = load_scenario(SICK_SICKER)
    cohort = run_psa(s, 30, seed=2)
    micro = run_psa(s, 30, seed=2, chunk_size=30, method="microsim", individuals=64)
    assert sampled_parameter_names(s) and micro.parameters.shape == cohort.parameters.shape
    np.testing.assert_array_equal(micro.parameters, cohort.parameters)
    # each draw's individuals are keyed by the draw's index in the run, not by its chunk
    chunked = run_psa(s, 30, seed=2, chunk_size=7, method="microsim", individuals=64)
    np.testing.assert_array_equal(chunked.costs, micro.costs)
    np.testing.assert_array_equal(chunked.outcomes, micro.outcomes)


def test_microsimulation_draw_keys_follow_the_draw_index_in_the_run():
    seq = derive_seed_sequence(5)
    keys = [draw_keys(seq, d, ("a", "b"), common_random_numbers=True)[0] for d in range(4)]
    assert len(set(keys)) == 4
    expected = seed_sequence(5, MICROSIMULATION, 3).generate_state(1, dtype=np.uint64)[0]
    assert keys[3] == expected


def test_posterior_rows_are_drawn_per_draw_whatever_the_split(chancellor):
    from costspine.analysis.parameter_draws import draw_run_parameters

    pools = [
        {"evidence": "a.toml", "parameters": {"pa": np.arange(500.0), "pb": -np.arange(500.0)}},
        {"evidence": "b.toml", "parameters": {"pc": np.arange(300.0) / 300}},
    ]
    whole = draw_run_parameters(chancellor, seed=6, start=0, stop=2200, posterior_pools=pools)
    np.testing.assert_array_equal(whole["pb"], -whole["pa"])  # one row per draw, shared within a pool
    assert not np.array_equal(whole["pa"][:300], whole["pc"] * 300)  # pools choose rows independently
    for start, stop in ((0, 700), (950, 1050), (1999, 2200)):
        part = draw_run_parameters(chancellor, seed=6, start=start, stop=stop, posterior_pools=pools)
        assert_same_draws(part, {k: v[start:stop] for k, v in whole.items()})
