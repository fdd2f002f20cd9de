"""Treatment switching for non-responders at a cycle, attribute-dependent response and a chosen
second treatment (tests/scenarios/switching.toml), derived by hand below and checked in both engines."""

from __future__ import annotations

import numpy as np
import pytest

from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort_by_group, run_cohort_groups
from costspine.simulate.microsim import run_microsim, run_microsim_groups

from helpers import TOY_SCENARIOS

SHARE = {"sensitive=0": 0.6, "sensitive=1": 0.4}
RESPONSE = {  # (A, B, C) by group
    "sensitive=0": (0.3, 0.5, 0.7),
    "sensitive=1": (0.8, 0.5, 0.2),
}
COST = {"A": 100.0, "B": 200.0, "C": 300.0}
FEE = 10.0


def expected(group: str, strategy: str) -> tuple[float, float]:
    """(cost, QALYs) of one group under one strategy, end-of-cycle counting at points 1..4.

    Point 1: everyone on A. Point 2: responders r1, on the second treatment 1 - r1 (who paid the
    fee on entry and pay its cost for one cycle). Points 3-4: responders R = r1 + (1 - r1) r2.
    QALYs: 0.5 + (r1 + 0.5 (1 - r1)) + 2 (R + 0.5 (1 - R)).
    """
    r_a, r_b, r_c = RESPONSE[group]
    second = "B" if strategy == "a_then_b" or r_b >= r_c else "C"
    r2 = r_b if second == "B" else r_c
    responders = r_a + (1 - r_a) * r2
    qalys = 0.5 + (r_a + 0.5 * (1 - r_a)) + 2 * (responders + 0.5 * (1 - responders))
    cost = COST["A"] + (1 - r_a) * (COST[second] + FEE)
    return cost, qalys


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(TOY_SCENARIOS / "switching.toml")


def test_hand_computed_values_of_the_example():
    # written out once, so the helper above cannot drift from the comment in the scenario file
    assert expected("sensitive=1", "a_then_b") == pytest.approx((142.0, 3.3))
    assert expected("sensitive=0", "a_then_b") == pytest.approx((247.0, 2.8))
    assert expected("sensitive=0", "a_then_best") == pytest.approx((317.0, 2.94))
    assert expected("sensitive=1", "a_then_best") == expected("sensitive=1", "a_then_b")  # B is their better one


def test_cohort_by_group_matches_the_hand_computation(scenario):
    grouped = run_cohort_groups(scenario)
    assert grouped.labels == ("sensitive=0", "sensitive=1")
    np.testing.assert_allclose(grouped.weights[0], [SHARE[g] for g in grouped.labels])
    for g, group in enumerate(grouped.labels):
        for k, strategy in enumerate(scenario.strategies):
            cost, qalys = expected(group, strategy)
            assert grouped.total_cost[0, g, k] == pytest.approx(cost, rel=1e-12), (group, strategy)
            assert grouped.effect[0, g, k] == pytest.approx(qalys, rel=1e-12), (group, strategy)
    mixed = run_cohort_by_group(scenario)
    for k, strategy in enumerate(scenario.strategies):
        cost = sum(SHARE[g] * expected(g, strategy)[0] for g in SHARE)
        qalys = sum(SHARE[g] * expected(g, strategy)[1] for g in SHARE)
        assert mixed.total_cost[0, k] == pytest.approx(cost, rel=1e-12)
        assert mixed.effect[0, k] == pytest.approx(qalys, rel=1e-12)


def test_trace_switches_at_the_declared_cycles(scenario):
    trace = run_cohort_by_group(scenario).trace[0, 0]  # a_then_b, population; states first, second, responder, nonresponder
    r_a = sum(SHARE[g] * RESPONSE[g][0] for g in SHARE)
    responders = sum(SHARE[g] * (RESPONSE[g][0] + (1 - RESPONSE[g][0]) * 0.5) for g in SHARE)
    np.testing.assert_allclose(trace[1], [1, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(trace[2], [0, 1 - r_a, r_a, 0], atol=1e-12)
    np.testing.assert_allclose(trace[3], [0, 0, responders, 1 - responders], atol=1e-12)
    np.testing.assert_allclose(trace[4], trace[3], atol=1e-12)


def test_microsimulation_agrees_within_monte_carlo_error(scenario):
    """Population means within 4 MCSE of the hand computation (20,000 individuals; fixed seed)."""
    result = run_microsim(scenario, seed=3)
    for k, strategy in enumerate(scenario.strategies):
        cost = sum(SHARE[g] * expected(g, strategy)[0] for g in SHARE)
        qalys = sum(SHARE[g] * expected(g, strategy)[1] for g in SHARE)
        assert abs(result.total_cost[0, k] - cost) < 4 * result.total_cost_se[0, k], strategy
        assert abs(result.effect[0, k] - qalys) < 4 * result.outcomes_se[0, k, 0], strategy
        assert result.total_cost_se[0, k] > 0


def test_microsimulation_by_group_agrees_within_monte_carlo_error(scenario):
    """Each group's means within 4 MCSE; its size a multinomial sample of the shares (within 4 binomial SEs)."""
    result = run_microsim_groups(scenario, seed=4)
    n = result.n_individuals
    assert result.individuals.sum() == n
    np.testing.assert_allclose(result.weights, result.individuals / n)
    for g, group in enumerate(result.labels):
        assert abs(result.weights[0, g] - SHARE[group]) < 4 * np.sqrt(SHARE[group] * (1 - SHARE[group]) / n)
        for k, strategy in enumerate(scenario.strategies):
            cost, qalys = expected(group, strategy)
            assert abs(result.total_cost[0, g, k] - cost) < 4 * result.total_cost_se[0, g, k], (group, strategy)
            assert abs(result.effect[0, g, k] - qalys) < 4 * result.outcomes_se[0, g, k, 0], (group, strategy)
    # the sensitive group's two strategies are the same treatments, with common random numbers: identical
    sensitive = result.labels.index("sensitive=1")
    assert result.total_cost[0, sensitive, 0] == result.total_cost[0, sensitive, 1]
