"""Unit tests for costspine.analysis.cea: ICERs, dominance, extended dominance, frontier, NMB.

The worked example is computed by hand in the comments; the property test compares the frontier
with its definition (the strategies that maximise net monetary benefit for some threshold).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from costspine.analysis.cea import DOMINATED, EXTENDED, FRONTIER, compute_cea, compute_frontier, compute_icer

# A textbook-style example (costs in currency, effects in QALYs), in no particular order.
#   A  10,000  5.00   cheapest: frontier start
#   G  11,000  5.05   vs A: 1,000 / 0.05 = 20,000; B vs G: 1,000 / 0.45 = 2,222  -> G extendedly dominated
#   B  12,000  5.50   vs A: 2,000 / 0.50 = 4,000
#   C  15,000  5.40   costs more than B, less effect                              -> C dominated
#   D  20,000  6.00   vs B: 8,000 / 0.50 = 16,000; E vs D: 10,000 / 0.8 = 12,500  -> D extendedly dominated
#   E  30,000  6.80   vs B: 18,000 / 1.30 = 13,846.15
NAMES = ("E", "C", "A", "D", "G", "B")
COST = {"A": 10_000.0, "G": 11_000.0, "B": 12_000.0, "C": 15_000.0, "D": 20_000.0, "E": 30_000.0}
EFFECT = {"A": 5.00, "G": 5.05, "B": 5.50, "C": 5.40, "D": 6.00, "E": 6.80}


def example():
    return [COST[n] for n in NAMES], [EFFECT[n] for n in NAMES]


def test_frontier_of_the_worked_example():
    status, icer = compute_frontier(*example())
    by_name = dict(zip(NAMES, status))
    assert by_name == {"A": FRONTIER, "B": FRONTIER, "E": FRONTIER, "C": DOMINATED, "D": EXTENDED, "G": EXTENDED}
    icers = dict(zip(NAMES, icer))
    assert math.isnan(icers["A"])  # first on the frontier
    assert icers["B"] == pytest.approx(4_000.0, rel=1e-12)
    assert icers["E"] == pytest.approx(18_000 / 1.3, rel=1e-12)
    for off in "CDG":
        assert math.isnan(icers[off])


def test_strong_dominance_includes_equal_cost_or_equal_effect():
    status, _ = compute_frontier([100.0, 100.0, 200.0], [1.0, 2.0, 2.0])
    # (100, 1) is beaten by (100, 2) at equal cost; (200, 2) by (100, 2) at equal effect
    assert status == [DOMINATED, FRONTIER, DOMINATED]


def test_identical_strategies_keep_the_first():
    status, icer = compute_frontier([100.0, 100.0, 300.0], [1.0, 1.0, 2.0])
    assert status == [FRONTIER, DOMINATED, FRONTIER]
    assert icer[2] == pytest.approx(200.0)


def test_single_and_two_strategies():
    status, icer = compute_frontier([5.0], [1.0])
    assert status == [FRONTIER] and math.isnan(icer[0])
    status, icer = compute_frontier([100.0, 300.0], [1.0, 2.0])
    assert status == [FRONTIER, FRONTIER] and icer[1] == pytest.approx(200.0)


def test_compute_icer():
    np.testing.assert_allclose(compute_icer([100.0, -50.0], [2.0, 0.5]), [50.0, -100.0])
    assert math.isnan(compute_icer([100.0], [0.0])[0])


def test_cea_versus_comparator_and_nmb():
    cost, effect = example()
    table = compute_cea(cost, effect, strategies=NAMES, comparator="A", wtp=(10_000.0, 20_000.0))
    a = NAMES.index("A")
    for k, name in enumerate(NAMES):
        assert table.incremental_cost[k] == pytest.approx(COST[name] - COST["A"])
        assert table.incremental_effect[k] == pytest.approx(EFFECT[name] - EFFECT["A"])
        if name != "A":
            assert table.icer_vs_comparator[k] == pytest.approx((COST[name] - 10_000) / (EFFECT[name] - 5.0))
        # NMB = effect * lambda - cost
        assert table.nmb[k, 0] == pytest.approx(EFFECT[name] * 10_000 - COST[name])
        assert table.nmb[k, 1] == pytest.approx(EFFECT[name] * 20_000 - COST[name])
    assert math.isnan(table.icer_vs_comparator[a])
    assert table.nmb.shape == (6, 2)
    # at 10,000 per QALY the best is B (4,000 <= 10,000 < 13,846); at 20,000 it is E
    assert NAMES[int(np.argmax(table.nmb[:, 0]))] == "B"
    assert NAMES[int(np.argmax(table.nmb[:, 1]))] == "E"
    assert table.status[NAMES.index("D")] == EXTENDED


def test_describe_versus_comparator():
    table = compute_cea(
        [100.0, 50.0, 200.0, 300.0, 100.0, 40.0],
        [1.0, 2.0, 0.5, 3.0, 1.0, 0.5],
        strategies=("ref", "better", "worse", "dearer", "same", "cheaper_worse"),
        comparator="ref",
        wtp=(100.0,),
    )
    assert table.describe_vs_comparator(0) == "comparator"
    assert table.describe_vs_comparator(1).startswith("dominant")
    assert table.describe_vs_comparator(2).startswith("dominated")
    assert table.describe_vs_comparator(3) == "100 per unit gained"
    assert table.describe_vs_comparator(4) == "equal effect"
    assert table.describe_vs_comparator(5) == "120 saved per unit forgone"
    labelled = compute_cea(
        [100.0, 50.0, 300.0, 40.0],
        [1.0, 2.0, 3.0, 0.5],
        strategies=("ref", "better", "dearer", "cheaper_worse"),
        comparator="ref",
        wtp=(100.0,),
        currency="USD",
        effect_label="QALYs",
    )
    assert labelled.describe_vs_comparator(2) == "100 USD per QALY"
    assert labelled.describe_vs_comparator(3) == "120 USD saved per QALY forgone"


def test_no_negative_icer_is_reported():
    table = compute_cea(
        [100.0, 50.0, 200.0, 300.0],
        [1.0, 2.0, 0.5, 3.0],
        strategies=("ref", "better", "worse", "dearer"),
        comparator="ref",
        wtp=(1.0,),
    )
    assert [table.icer_status(k) for k in range(4)] == ["reference", "dominant", "dominated", "cost per unit gained"]
    assert table.icer_vs_comparator[1] < 0  # the plain ratio stays for computation ...
    frame = table.to_frame()
    assert frame["icer"].isna().tolist() == [True, True, True, False]  # ... but is never reported
    assert frame["icer_signed"].iloc[1] == pytest.approx(-50.0)
    assert table.to_dict()["strategies"]["better"]["icer"] is None


def test_inputs_are_not_mutated():
    cost, effect = np.array(example()[0]), np.array(example()[1])
    before = cost.copy(), effect.copy()
    compute_cea(cost, effect, strategies=NAMES, comparator="A", wtp=(1.0,))
    np.testing.assert_array_equal(cost, before[0])
    np.testing.assert_array_equal(effect, before[1])


def test_result_does_not_depend_on_strategy_order():
    cost, effect = example()
    base = compute_cea(cost, effect, strategies=NAMES, comparator="A", wtp=(15_000.0,))
    order = [3, 0, 5, 1, 4, 2]
    shuffled = compute_cea(
        [cost[i] for i in order],
        [effect[i] for i in order],
        strategies=[NAMES[i] for i in order],
        comparator="A",
        wtp=(15_000.0,),
    )
    for pos, i in enumerate(order):
        assert shuffled.status[pos] == base.status[i]
        np.testing.assert_equal(shuffled.frontier_icer[pos], base.frontier_icer[i])
        assert shuffled.nmb[pos, 0] == base.nmb[i, 0]


# ------------------------------------------------------------------------------------------------
# The frontier against its definition

points = st.lists(
    st.tuples(st.floats(0, 1e5, allow_subnormal=False), st.floats(0, 20, allow_subnormal=False)), min_size=1, max_size=7
)


def brute_force_frontier(cost, effect):
    """Strategies that maximise NMB = effect·λ − cost for some λ >= 0, and where each takes over."""
    n = len(cost)
    breaks = sorted(
        {
            (cost[j] - cost[i]) / (effect[j] - effect[i])
            for i in range(n)
            for j in range(n)
            if effect[j] > effect[i] and cost[j] > cost[i]
        }
    )
    probes = [0.0] + [(a + b) / 2 for a, b in zip(breaks, breaks[1:])] + ([breaks[-1] * 2 + 1] if breaks else [])
    probes += [b / 2 for b in breaks[:1]]
    winners = set()
    for lam in probes:
        nmb = [effect[k] * lam - cost[k] for k in range(n)]
        best = max(nmb)
        tied = [k for k in range(n) if nmb[k] == best]
        winners.add(max(tied, key=lambda k: (effect[k], -cost[k])) if lam > 0 else min(tied, key=lambda k: (cost[k], -effect[k])))
    return winners


@given(points)
def test_frontier_is_the_set_of_nmb_maximisers(pairs):
    cost = [c for c, _ in pairs]
    effect = [e for _, e in pairs]
    # distinct costs and effects (ties are tested above), not so close that ICERs overflow
    for i in range(len(cost)):
        for j in range(i + 1, len(cost)):
            assume(abs(cost[i] - cost[j]) > 1e-6 and abs(effect[i] - effect[j]) > 1e-6)
    # no three points collinear in the cost-effect plane (an exact tie between ICERs)
    for i in range(len(cost)):
        for j in range(i + 1, len(cost)):
            for k in range(j + 1, len(cost)):
                area = (cost[j] - cost[i]) * (effect[k] - effect[i]) - (cost[k] - cost[i]) * (effect[j] - effect[i])
                assume(abs(area) > 1e-6 * (1 + abs(cost[k]) + abs(cost[j])))
    status, icer = compute_frontier(cost, effect)
    frontier = {k for k, s in enumerate(status) if s == FRONTIER}
    assert frontier == brute_force_frontier(cost, effect)
    ordered = sorted(frontier, key=lambda k: cost[k])
    icers = [icer[k] for k in ordered[1:]]
    assert all(a < b for a, b in zip(icers, icers[1:]))  # ICERs increase along the frontier
    for prev, nxt in zip(ordered, ordered[1:]):
        assert icer[nxt] == pytest.approx((cost[nxt] - cost[prev]) / (effect[nxt] - effect[prev]), rel=1e-12)


def test_identical_strategies_keep_the_same_one_on_the_frontier_whatever_their_order():
    forward, _ = compute_frontier([100.0, 100.0], [1.0, 1.0], names=["b", "a"])
    backward, _ = compute_frontier([100.0, 100.0], [1.0, 1.0], names=["a", "b"])
    assert forward == [DOMINATED, FRONTIER]
    assert backward == [FRONTIER, DOMINATED]
