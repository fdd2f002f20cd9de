"""One-off outcome rewards on entering a state (``on_entry`` of ``[outcomes.X]``): loader, cohort
model and microsimulation, against a value computed by hand.

The model: two states, ``well`` (everyone at the start) and ``sick``; per annual cycle 20% of the
well fall sick and half of the sick recover. Becoming sick costs a one-off 0.1 QALY. Three cycles,
end-of-cycle counting, outcomes discounted at 3.5% a year.

By hand: the trace is m0 = (1, 0), m1 = (0.8, 0.2), m2 = (0.74, 0.26); the flows into ``sick``
in cycles 1, 2, 3 are 0.2 · (1, 0.8, 0.74) = 0.2, 0.16, 0.148. The one-off loss is paid at
points 1, 2, 3 with weight 1 (no cycle correction), discounted like a cost ``on_entry``:

    −0.1 · (0.2 / 1.035 + 0.16 / 1.035² + 0.148 / 1.035³) = −0.047609
"""

from __future__ import annotations

import numpy as np
import pytest

from costspine.errors import ScenarioError
from costspine.model.inputs import build_model_inputs
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort
from costspine.simulate.microsim import run_microsim

from helpers import analysis_toml, settings_toml, write

LOSS_BY_HAND = -0.1 * (0.2 / 1.035 + 0.16 / 1.035**2 + 0.148 / 1.035**3)
LOSS_UNDISCOUNTED = -0.1 * (0.2 + 0.16 + 0.148)
# QALYs for time in states (well 1, sick 0.6 per cycle) at points 1..3, by hand from the trace.
M3 = (0.74 * 0.8 + 0.26 * 0.5, 0.74 * 0.2 + 0.26 * 0.5)  # m3 = (0.722, 0.278)
STATE_QALYS = sum((w + 0.6 * s) / 1.035**t for t, (w, s) in enumerate([(0.8, 0.2), (0.74, 0.26), M3], start=1))

TWO_STATE = (
    settings_toml(3, discount_costs=0.0, discount_outcomes=0.035)
    + analysis_toml(effect="qalys", comparator="a")
    + """
[model]
name = "one_off_loss"

[states]
well = { initial = 1 }
sick = { initial = 0 }

[strategies.a]

[transitions]
well = { well = "rest", sick = 0.2 }
sick = { well = 0.5, sick = "rest" }

[costs.care]
category = "care"
values = { sick = 100 }

[outcomes.qalys]
values = { well = 1, sick = 0.6 }

[outcomes.loss]
on_entry = { sick = "-loss" }

[parameters.loss]
value = 0.1
source = "assumption"
"""
)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return load_scenario(write(tmp_path_factory.mktemp("entry"), TWO_STATE))


def test_the_hand_computed_numbers_are_what_the_docstring_says():
    assert LOSS_BY_HAND == pytest.approx(-0.047609, abs=1e-6)
    assert M3 == pytest.approx((0.722, 0.278))


def test_cohort_pays_the_one_off_loss_discounted_at_the_entry_point(scenario):
    result = run_cohort(scenario)
    assert result.outcome("loss")[0, 0] == pytest.approx(LOSS_BY_HAND, rel=1e-12)
    assert result.outcome("loss", discounted=False)[0, 0] == pytest.approx(LOSS_UNDISCOUNTED, rel=1e-12)
    assert result.outcome("qalys")[0, 0] == pytest.approx(STATE_QALYS, rel=1e-12)  # values only: unchanged


def test_a_state_value_and_an_entry_value_add_up_in_one_outcome(tmp_path):
    text = TWO_STATE.replace('[outcomes.loss]\non_entry = { sick = "-loss" }\n', "").replace(
        "values = { well = 1, sick = 0.6 }", 'values = { well = 1, sick = 0.6 }\non_entry = { sick = "-loss" }'
    )
    result = run_cohort(load_scenario(write(tmp_path, text)))
    assert result.outcome("qalys")[0, 0] == pytest.approx(STATE_QALYS + LOSS_BY_HAND, rel=1e-12)


def test_entry_outcomes_are_evaluated_per_draw(scenario):
    inputs = build_model_inputs(scenario, {"loss": np.array([0.1, 0.3])})
    assert inputs.entry_outcomes.shape == (2, 1, 1, 2, 2)  # (draw, strategy, time, state, outcome)
    np.testing.assert_allclose(inputs.entry_outcomes[:, 0, 0, 1, 1], [-0.1, -0.3])
    result = run_cohort(scenario, {"loss": np.array([0.1, 0.3])})
    np.testing.assert_allclose(result.outcome("loss")[:, 0], [LOSS_BY_HAND, 3 * LOSS_BY_HAND], rtol=1e-12)


def test_microsimulation_pays_the_same_one_off_loss_within_its_mcse(scenario):
    result = run_microsim(scenario, n_individuals=200_000, seed=7, backend="numpy")
    k = result.outcome_names.index("loss")
    se = result.outcomes_se[0, 0, k]
    assert 0 < se < 0.01 * abs(LOSS_BY_HAND)  # the entry reward feeds the MCSE
    assert abs(result.outcomes[0, 0, k] - LOSS_BY_HAND) < 4 * se
    se_und = result.outcomes_undiscounted_se[0, 0, k]
    assert 0 < se_und and abs(result.outcomes_undiscounted[0, 0, k] - LOSS_UNDISCOUNTED) < 4 * se_und


def test_deterministic_moves_give_the_hand_value_exactly_in_both_engines(tmp_path):
    # Everyone alternates well -> sick -> well -> sick: entries into sick in cycles 1 and 3.
    text = TWO_STATE.replace('well = { well = "rest", sick = 0.2 }', "well = { sick = 1 }").replace(
        'sick = { well = 0.5, sick = "rest" }', "sick = { well = 1 }"
    )
    scenario = load_scenario(write(tmp_path, text))
    by_hand = -0.1 * (1 / 1.035 + 1 / 1.035**3)
    assert run_cohort(scenario).outcome("loss")[0, 0] == pytest.approx(by_hand, rel=1e-12)
    for backend in ("numpy", "numba"):
        result = run_microsim(scenario, n_individuals=3000, seed=5, backend=backend)
        assert result.outcome("loss")[0, 0] == pytest.approx(by_hand, rel=1e-12)
        assert result.outcome("loss", discounted=False)[0, 0] == pytest.approx(-0.2, rel=1e-12)
        assert result.outcomes_se[0, 0, result.outcome_names.index("loss")] < 1e-6 * abs(
            by_hand
        )  # no randomness left (rounding only)


def test_an_indicator_on_entry_is_refused_with_a_reason(tmp_path):
    text = TWO_STATE + "\n[indicators.pain]\nvalues = { sick = 3 }\non_entry = { sick = 1 }\n"
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    problems = [p for p in info.value.problems if p.where.endswith("indicators.pain.on_entry")]
    assert len(problems) == 1 and "occupancy-weighted mean" in problems[0].message, [str(p) for p in info.value.problems]


def test_an_outcome_on_entry_names_unknown_states_with_a_hint(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, TWO_STATE.replace('on_entry = { sick = "-loss" }', 'on_entry = { sik = "-loss" }')))
    assert any(
        p.where.endswith("outcomes.loss.on_entry.sik") and "did you mean 'sick'" in p.message for p in info.value.problems
    ), [str(p) for p in info.value.problems]


def test_an_outcome_with_neither_values_nor_on_entry_says_both_are_possible(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, TWO_STATE.replace('on_entry = { sick = "-loss" }', 'label = "loss"')))
    assert any(p.where.endswith("outcomes.loss") and "or 'on_entry'" in p.message for p in info.value.problems)
