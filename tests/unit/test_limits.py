"""Resources estimated before use (issue 20): sizes, the memory budget, documented limits, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from costspine._limits import (
    MAX_DRAWS,
    MAX_INDIVIDUALS,
    MAX_STATES,
    check_memory,
    current_memory_budget,
    format_bytes,
    memory_budget,
    parse_size,
)
from costspine.engines.outcomes import CORRECTIONS, build_reward_factors, cycle_shares, split_by_cycle, spread_to_points
from costspine.errors import ResourceError, ScenarioError
from costspine.model.inputs import base_case_parameters, build_model_inputs, estimate_cohort_bytes

from helpers import CHANCELLOR, SICK_SICKER, analysis_toml, invoke, settings_toml, write


def test_sizes_parse_in_decimal_and_binary_units():
    assert parse_size("4GiB") == 4 * 1024**3
    assert parse_size("500 MB") == 500 * 1000**2
    assert parse_size("2g") == 2 * 1000**3
    for bad in ("lots", "-1GB", "4XB", "10", "1e20"):
        with pytest.raises(ValueError):
            parse_size(bad)
    assert format_bytes(3 * 1024**3) == "3.0 GiB"


def test_the_budget_refuses_naming_the_sizes():
    with memory_budget(2 * 1024**2):
        assert current_memory_budget() == (2 * 1024**2, "--max-memory")
        check_memory(1024**2, what="x", sizes="s", fix="f")
        with pytest.raises(ResourceError, match=r"about 3.0 MiB \(10 draws\), more than the memory budget of 2.0 MiB"):
            check_memory(3 * 1024**2, what="the arrays", sizes="10 draws", fix="use fewer")
    budget, source = current_memory_budget()
    assert budget > 0 and "available memory" in source
    assert ResourceError.exit_code == 2


def test_the_cohort_estimate_grows_with_draws_and_time_dependence(chancellor):
    one, sizes = estimate_cohort_bytes(chancellor, 1)
    assert estimate_cohort_bytes(chancellor, 1000)[0] == 1000 * one
    n_cycles, n_states = chancellor.settings.n_cycles, len(chancellor.states)
    assert estimate_cohort_bytes(chancellor, 1, n_time=n_cycles)[0] - one == 8 * len(chancellor.strategies) * (
        n_cycles - 1
    ) * n_states * (
        n_states
        + 2 * len(chancellor.categories)
        + 2 * len(chancellor.outcomes)
        + 2 * len(chancellor.services)
        + len(chancellor.indicators)
    )
    assert sizes == f"1 draws × {len(chancellor.strategies)} strategies × {n_cycles} cycles × {n_states} states"
    # the estimate covers what is built
    base = base_case_parameters(chancellor)
    inputs = build_model_inputs(chancellor, {k: np.repeat(v, 50) for k, v in base.items()})
    built = inputs.transition.nbytes + inputs.state_costs.nbytes + inputs.state_outcomes.nbytes
    assert built <= estimate_cohort_bytes(chancellor, 50, n_time=inputs.transition.shape[2])[0]
    with memory_budget(1024**2), pytest.raises(ResourceError, match="cohort model's arrays"):
        build_model_inputs(chancellor, {k: np.repeat(v, 10_000) for k, v in base.items()})


def test_commands_refuse_sizes_beyond_the_limits_at_once(tmp_path):
    result = invoke("psa", CHANCELLOR, "--draws", 10**9, "--out", tmp_path / "p")
    assert result.exit_code == 2 and f"{MAX_DRAWS}" in result.output
    result = invoke("run", SICK_SICKER, "--method", "microsim", "--individuals", 10**12, "--out", tmp_path / "r")
    assert result.exit_code == 2 and f"{MAX_INDIVIDUALS}" in result.output
    result = invoke("bia", CHANCELLOR, "--draws", 10**9, "--out", tmp_path / "b")
    assert result.exit_code == 2 and "--draws" in result.output
    result = invoke("--max-memory", "2MiB", "psa", CHANCELLOR, "--draws", 200_000, "--out", tmp_path / "p")
    assert result.exit_code == 2
    assert "200,000 draws" in result.output and "memory budget of 2.0 MiB (--max-memory)" in result.output
    result = invoke("--max-memory", "lots", "psa", CHANCELLOR, "--out", tmp_path / "p")
    assert result.exit_code == 2 and "--max-memory" in result.output
    assert not any(tmp_path.iterdir())  # nothing written


def test_too_many_states_are_refused(tmp_path):
    states = "\n".join(f"s{i} = {{ initial = {1 if i == 0 else 0} }}" for i in range(MAX_STATES + 1))
    text = f'[model]\nname = "big"\n{settings_toml(1)}{analysis_toml()}\n[states]\n{states}\n[strategies.a]\n'
    text += "[transitions]\ns0 = { s0 = 1 }\n[outcomes.qalys]\nvalues = { s0 = 1 }\n"
    from costspine.scenario.load import load_scenario

    with pytest.raises(ScenarioError, match=f"{MAX_STATES + 1:,} states; the limit is {MAX_STATES:,}"):
        load_scenario(write(tmp_path, text))


@pytest.mark.parametrize("n_cycles", [1, 2, 3, 9])
def test_spreading_by_cycle_equals_the_dense_shares(n_cycles):
    rng = np.random.default_rng(n_cycles)
    by_cycle = rng.random(n_cycles)
    for correction in CORRECTIONS:
        np.testing.assert_allclose(spread_to_points(by_cycle, correction), by_cycle @ cycle_shares(n_cycles, correction))
    per_point, weights = rng.random((2, 3, n_cycles + 1, 2)), rng.random(n_cycles + 1)
    np.testing.assert_allclose(
        split_by_cycle(per_point, "custom", weights=weights),
        np.einsum("dstr,ct->dscr", per_point, cycle_shares(n_cycles, "custom") * weights),
    )


def test_start_of_cycle_discounting_over_the_longest_horizon_stays_linear_in_memory():
    with memory_budget(64 * 1024**2):  # the dense shares of 100,000 cycles would take 75 GiB
        factors = build_reward_factors(
            100_000,
            cycle_correction="half-cycle",
            cycle_years=1 / 12,
            discount_costs=0.03,
            discount_outcomes=0.0,
            discount_timing="start",
        )
    assert factors.discount_costs.shape == (100_001,) and factors.discount_outcomes.max() == 1.0
