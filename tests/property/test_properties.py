"""Property tests (hypothesis) over randomly generated cohort models, written as TOML scenario files.

Properties: transition rows sum to 1 (also in PSA draws), cohort mass is conserved, costs are
linear in unit costs, zero discount equals the plain sum, results do not depend on strategy order,
the same seed gives the same output, and nothing the model is given is mutated.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from costspine.analysis.cea import compute_cea, compute_result_cea
from costspine.engines.outcomes import cycle_weights
from costspine.model.inputs import build_model_inputs
from costspine.params import draw_parameters
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort, simulate_inputs

from helpers import write

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def models(draw, *, min_strategies=1):
    """A random valid model as plain data: states, strategies, rows, costs, settings."""
    n_states = draw(st.integers(2, 5))
    states = [f"s{i}" for i in range(n_states)]
    strategies = [f"arm_{c}" for c in "abcd"[: draw(st.integers(min_strategies, 4))]]
    weights = draw(st.lists(st.floats(0.01, 1.0), min_size=n_states, max_size=n_states))
    initial = [w / sum(weights) for w in weights]
    rows = {}
    for strategy in strategies:
        rows[strategy] = {}
        for i, origin in enumerate(states):
            others = [j for j in range(n_states) if j != i]
            raw = draw(st.lists(unit, min_size=len(others), max_size=len(others)))
            leave = draw(unit) * 0.999
            total = sum(raw) or 1.0
            cells = {states[j]: r / total * leave for j, r in zip(others, raw)}
            # one time-dependent cell: scaled down in the first cycles (stays a probability)
            factor, until = draw(unit), draw(st.integers(0, 5))
            rows[strategy][origin] = {"cells": cells, "factor": factor, "until": until}
    return {
        "states": states,
        "strategies": strategies,
        "initial": initial,
        "rows": rows,
        "state_cost": {s: draw(st.floats(0, 1e4)) for s in states},
        "entry_cost": {s: draw(st.floats(0, 1e3)) for s in states},
        "drug_cost": {st_: draw(st.floats(0, 1e3)) for st_ in strategies},
        "utility": {s: draw(st.floats(0, 1)) for s in states},
        "n_cycles": draw(st.integers(1, 25)),
        "correction": draw(st.sampled_from(["none", "half-cycle", "simpson"])),
        "discount_costs": draw(st.sampled_from([0.0, 0.015, 0.035, 0.06])),
        "discount_outcomes": draw(st.sampled_from([0.0, 0.015, 0.035])),
        "cycle": draw(st.sampled_from([(1, "year"), (6, "month"), (4, "week")])),
    }


def render(model: dict, *, order=None, cost_scale=1.0, cost_shift=None) -> str:
    """Write the model as a scenario file. ``cost_*`` rescale / replace the unit-cost parameters."""
    states, strategies = model["states"], order or model["strategies"]
    cost_shift = cost_shift or {}
    lines = [
        "[settings]",
        f"cycle_length = {model['cycle'][0]}",
        f'cycle_unit = "{model["cycle"][1]}"',
        f"n_cycles = {model['n_cycles']}",
        f"discount_costs = {model['discount_costs']!r}",
        f"discount_outcomes = {model['discount_outcomes']!r}",
        f'cycle_correction = "{model["correction"]}"',
        'currency = "EUR"',
        "price_year = 2024",
        "[analysis]",
        'effect = "qalys"',
        f'comparator = "{model["strategies"][0]}"',
        "wtp = [20000]",
        "[states]",
    ]
    lines += [f"{s} = {{ initial = {p!r} }}" for s, p in zip(states, model["initial"])]

    def cost(name, value):
        return cost_shift.get(name, value * cost_scale)

    for s in states:
        lines += [f"[parameters.c_{s}]", f"value = {cost(f'c_{s}', model['state_cost'][s])!r}", 'source = "test"']
        lines += [f"[parameters.e_{s}]", f"value = {cost(f'e_{s}', model['entry_cost'][s])!r}", 'source = "test"']
        lines += [f"[parameters.u_{s}]", f"value = {model['utility'][s]!r}", 'source = "test"']
    for strategy in strategies:
        lines += [
            f"[parameters.drug_{strategy}]",
            f"value = {cost(f'drug_{strategy}', model['drug_cost'][strategy])!r}",
            'source = "test"',
        ]
    for strategy in strategies:
        lines += [
            f"[strategies.{strategy}]",
            f'label = "Arm {strategy}"',
            f'values = {{ drug = "drug_{strategy}" }}',
            f"[strategies.{strategy}.transitions]",
        ]
        for origin in states:
            row = model["rows"][strategy][origin]
            cells = [f'{origin} = "rest"']
            for k, (dest, p) in enumerate(row["cells"].items()):
                text = f"{p!r} * where(cycle <= {row['until']}, {row['factor']!r}, 1)" if k == 0 else repr(p)
                cells.append(f'{dest} = "{text}"')
            lines.append(f"{origin} = {{ {', '.join(cells)} }}")
    lines += [
        "[costs.care]",
        'category = "care"',
        "values = { " + ", ".join(f's{i} = "c_s{i}"' for i in range(len(states))) + " }",
    ]
    lines += ["[costs.drugs]", 'category = "drugs"', "values = { " + ", ".join(f'{s} = "drug"' for s in states[:-1]) + " }"]
    lines += ["[costs.events]", 'category = "events"', "on_entry = { " + ", ".join(f'{s} = "e_{s}"' for s in states) + " }"]
    lines += ["[outcomes.qalys]", "values = { " + ", ".join(f'{s} = "u_{s} * cycle_years"' for s in states) + " }"]
    lines += ["[outcomes.life_years]", "values = { " + ", ".join(f'{s} = "cycle_years"' for s in states[:-1]) + " }"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("properties")


_counter = itertools.count()


def load(folder, text):
    return load_scenario(write(folder, text, f"model_{next(_counter)}.toml"))


# ------------------------------------------------------------------------------------------------


@SETTINGS
@given(model=models())
def test_rows_sum_to_one_and_mass_is_conserved(folder, model):
    s = load(folder, render(model))
    inputs = build_model_inputs(s)
    np.testing.assert_allclose(inputs.transition.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert np.all(inputs.transition >= -1e-15) and np.all(inputs.transition <= 1 + 1e-15)
    r = run_cohort(s)
    np.testing.assert_allclose(r.trace.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert np.all(r.trace >= -1e-15)


PSA_MODEL = """
[settings]
cycle_length = 1
cycle_unit = "year"
n_cycles = {n_cycles}
discount_costs = 0.035
discount_outcomes = 0.035
cycle_correction = "half-cycle"
currency = "EUR"
price_year = 2024
[analysis]
effect = "life_years"
comparator = "old"
wtp = [1000]
[states]
well = {{ initial = 1 }}
sick = {{ initial = 0 }}
dead = {{ initial = 0 }}
[strategies.old]
values = {{ hr_now = "1" }}
[strategies.new]
values = {{ hr_now = "where(cycle <= 3, hr, 1)" }}
[parameters.row_well]
distribution = "dirichlet"
alpha = {{ p_ww = {a_ww}, p_ws = {a_ws}, p_wd = {a_wd} }}
source = "counts"
[parameters.p_sd]
value = 0.2
distribution = "beta"
alpha = {beta_a}
beta = {beta_b}
source = "trial"
[parameters.hr]
value = 0.7
distribution = "uniform"
min = 0
max = 1
source = "assumption"
[transitions]
well = {{ well = "rest", sick = "p_ws * hr_now", dead = "p_wd" }}
sick = {{ sick = "rest", dead = "p_sd" }}
dead = {{ dead = 1 }}
[costs.care]
category = "care"
values = {{ sick = 1000 }}
[outcomes.life_years]
values = {{ well = 1, sick = 1 }}
"""


@SETTINGS
@given(
    n_cycles=st.integers(1, 30),
    counts=st.tuples(*[st.floats(0.5, 500) for _ in range(3)]),
    beta=st.tuples(st.floats(0.5, 50), st.floats(0.5, 50)),
    seed=st.integers(0, 2**32 - 1),
)
def test_psa_rows_sum_to_one_mass_is_conserved_and_seed_reproduces(folder, n_cycles, counts, beta, seed):
    text = PSA_MODEL.format(n_cycles=n_cycles, a_ww=counts[0], a_ws=counts[1], a_wd=counts[2], beta_a=beta[0], beta_b=beta[1])
    s = load(folder, text)
    draws = draw_parameters(s.parameters, 40, np.random.default_rng(seed))
    inputs = build_model_inputs(s, draws)
    np.testing.assert_allclose(inputs.transition.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    r = run_cohort(s, draws)
    np.testing.assert_allclose(r.trace.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    again = run_cohort(s, draw_parameters(s.parameters, 40, np.random.default_rng(seed)))
    np.testing.assert_array_equal(again.costs, r.costs)
    np.testing.assert_array_equal(again.outcomes, r.outcomes)
    np.testing.assert_array_equal(again.trace, r.trace)


@SETTINGS
@given(model=models(), a=st.floats(0, 10), b=st.floats(0, 10), seed=st.integers(0, 2**32 - 1))
def test_costs_are_linear_in_unit_costs(folder, model, a, b, seed):
    # Two sets of unit costs x and y: cost(a·x + b·y) = a·cost(x) + b·cost(y), by category.
    rng = np.random.default_rng(seed)
    names = [f"c_{s}" for s in model["states"]] + [f"e_{s}" for s in model["states"]] + [f"drug_{t}" for t in model["strategies"]]
    x = {n: float(v) for n, v in zip(names, rng.uniform(0, 1000, len(names)))}
    y = {n: float(v) for n, v in zip(names, rng.uniform(0, 1000, len(names)))}
    cost_x = run_cohort(load(folder, render(model, cost_shift=x))).costs
    cost_y = run_cohort(load(folder, render(model, cost_shift=y))).costs
    mixed = run_cohort(load(folder, render(model, cost_shift={n: a * x[n] + b * y[n] for n in names})))
    np.testing.assert_allclose(mixed.costs, a * cost_x + b * cost_y, rtol=1e-9, atol=1e-9)
    # zero unit costs give zero cost; outcomes do not move
    zero = run_cohort(load(folder, render(model, cost_scale=0.0)))
    np.testing.assert_array_equal(zero.costs, 0.0)
    np.testing.assert_allclose(zero.outcomes, mixed.outcomes, rtol=1e-13)


@SETTINGS
@given(model=models())
def test_zero_discount_equals_the_plain_sum(folder, model):
    model = {**model, "discount_costs": 0.0, "discount_outcomes": 0.0}
    s = load(folder, render(model))
    r = run_cohort(s)
    np.testing.assert_allclose(r.costs, r.costs_undiscounted, rtol=1e-14)
    np.testing.assert_allclose(r.outcomes, r.outcomes_undiscounted, rtol=1e-14)
    # and the plain sum itself, written out: sum_t w_t sum_s m_t[s] u[s] * cycle_years
    weights = cycle_weights(model["n_cycles"], model["correction"])
    cycle_years = s.settings.cycle_years
    u = np.array([model["utility"][st_] for st_ in model["states"]])
    for k in range(len(s.strategies)):
        plain = sum(weights[t] * float(r.trace[0, k, t] @ u) * cycle_years for t in range(model["n_cycles"] + 1))
        assert r.outcome("qalys")[0, k] == pytest.approx(plain, rel=1e-12, abs=1e-15)


@SETTINGS
@given(model=models(min_strategies=2), data=st.data())
def test_results_do_not_depend_on_strategy_order(folder, model, data):
    order = data.draw(st.permutations(model["strategies"]))
    first = run_cohort(load(folder, render(model)))
    second = run_cohort(load(folder, render(model, order=list(order))))
    assert second.strategies == tuple(order)
    for k, name in enumerate(first.strategies):
        j = second.strategies.index(name)
        np.testing.assert_array_equal(second.costs[:, j], first.costs[:, k])
        np.testing.assert_array_equal(second.outcomes[:, j], first.outcomes[:, k])
        np.testing.assert_array_equal(second.trace[:, j], first.trace[:, k])
    a = compute_result_cea(first)
    b = compute_result_cea(second)
    for k, name in enumerate(first.strategies):
        j = second.strategies.index(name)
        assert a.status[k] == b.status[j]
        np.testing.assert_equal(a.icer_vs_comparator[k], b.icer_vs_comparator[j])
        np.testing.assert_equal(a.frontier_icer[k], b.frontier_icer[j])


@SETTINGS
@given(model=models(), seed=st.integers(0, 2**32 - 1))
def test_inputs_are_not_mutated(folder, model, seed):
    s = load(folder, render(model))
    resolved = copy.deepcopy(s.resolved)
    transitions = {k: {o: dict(row) for o, row in v.items()} for k, v in s.transitions.items()}
    params = {
        name: np.random.default_rng(seed).uniform(0, 100, 5)
        for name in [p.name for p in s.parameters if p.name.startswith(("c_", "e_", "drug_"))]
    }
    params.update({p.name: np.full(5, p.value) for p in s.parameters if p.name.startswith("u_")})
    before = {k: v.copy() for k, v in params.items()}
    inputs = build_model_inputs(s, params)
    snapshot = {
        f.name: np.copy(getattr(inputs, f.name))
        for f in dataclasses.fields(inputs)
        if isinstance(getattr(inputs, f.name), np.ndarray)
    }
    result = simulate_inputs(s, inputs, params)
    for name, array in snapshot.items():
        np.testing.assert_array_equal(getattr(inputs, name), array)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    assert s.resolved == resolved
    assert {k: {o: dict(row) for o, row in v.items()} for k, v in s.transitions.items()} == transitions
    assert result.total_cost.shape == (5, len(s.strategies))


@SETTINGS
@given(cost=st.lists(st.floats(0, 1e6), min_size=2, max_size=5), data=st.data())
def test_cea_does_not_depend_on_strategy_order(cost, data):
    effect = data.draw(st.lists(st.floats(0, 30), min_size=len(cost), max_size=len(cost)))
    names = [f"s{i}" for i in range(len(cost))]
    order = data.draw(st.permutations(range(len(cost))))
    a = compute_cea(cost, effect, strategies=names, comparator="s0", wtp=(1e4,))
    b = compute_cea(
        [cost[i] for i in order], [effect[i] for i in order], strategies=[names[i] for i in order], comparator="s0", wtp=(1e4,)
    )
    for pos, i in enumerate(order):
        # identical strategies: "keep the first" depends on order by design, so compare only distinct ones
        if sum(1 for j in range(len(cost)) if (cost[j], effect[j]) == (cost[i], effect[i])) == 1:
            assert b.status[pos] == a.status[i]
        np.testing.assert_equal(b.nmb[pos], a.nmb[i])
        np.testing.assert_equal(b.incremental_cost[pos], a.incremental_cost[i])
