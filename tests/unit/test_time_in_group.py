"""Time spent in a group of states (``kind = "time_in_state", states = [...]``) in the
microsimulation history: loader, both kernels, counted by hand.

Model A (deterministic): everyone starts in ``S0`` and moves ``S0 → S1 → S2`` (absorbing), one
step per cycle; 5 annual cycles, end-of-cycle counting, no discounting. A cost equal to a counter
in every state adds up the counter at points 1..5. By hand:

====== ===== ===== ===== ===== ===== ===== ===========
point    0     1     2     3     4     5    sum 1..5
====== ===== ===== ===== ===== ===== ===== ===========
state    S0    S1    S2    S2    S2    S2
group    0     0     1     2     3     4    10   (``states = ["S1", "S2"]``: S1 → S2 keeps counting)
capped   0     0     1     2     2     2     7   (the same with ``max = 2``)
plain    0     0     0     1     2     3     6   (today's counter: restarts on S1 → S2)
in S2    0     0     0     1     2     3     6   (``states = ["S2"]``: 0 outside S2)
====== ===== ===== ===== ===== ===== ===== ===========

Model B: the same path with death from ``sicker`` at 50% a cycle once the patient has been sick
for 2 completed cycles, ``t >= 2``. Strategy ``group`` reads ``t`` from the group counter, strategy
``per_state`` from today's counter. Life years (1 per cycle alive at points 1..6) by hand:
``group``: alive at points 1, 2, 3, then 1/2, 1/4, 1/8 → 3.875; ``per_state`` (death risk starts one
cycle later): 1, 1, 1, 1, 1/2, 1/4 → 4.75.
"""

from __future__ import annotations

import pytest

from costspine.errors import ScenarioError
from costspine.scenario.load import load_scenario
from costspine.simulate.microsim import run_microsim

from helpers import analysis_toml, settings_toml, write

COUNTERS = """
[microsimulation.history.group]
kind = "time_in_state"
states = ["S1", "S2"]
max = 10
cohort = 0

[microsimulation.history.capped]
kind = "time_in_state"
states = ["S1", "S2"]
max = 2
cohort = 0

[microsimulation.history.plain]
kind = "time_in_state"
max = 10
cohort = 0

[microsimulation.history.in_s2]
kind = "time_in_state"
states = ["S2"]
max = 10
cohort = 0
"""

MODEL_A = (
    settings_toml(5)
    + analysis_toml(effect="life_years", comparator="a")
    + COUNTERS
    + """
[model]
name = "group_counter"

[states]
S0 = { initial = 1 }
S1 = { initial = 0 }
S2 = { initial = 0 }

[strategies.a]

[transitions]
S0 = { S1 = 1 }
S1 = { S2 = 1 }
S2 = { S2 = 1 }
"""
    + "".join(
        f'''
[costs.{name}]
category = "{name}"
values = {{ S0 = "{name}", S1 = "{name}", S2 = "{name}" }}
'''
        for name in ("group", "capped", "plain", "in_s2")
    )
    + """
[costs.plain_in_s2]
category = "plain_in_s2"
values = { S2 = "plain" }

[outcomes.life_years]
values = { S0 = 1, S1 = 1, S2 = 1 }
"""
)

MODEL_B = (
    settings_toml(6)
    + analysis_toml(effect="life_years", comparator="per_state")
    + """
[model]
name = "risk_by_time_sick"

[microsimulation.history.time_sick]
kind = "time_in_state"
states = ["sick", "sicker"]
max = 3
cohort = 0

[microsimulation.history.time_here]
kind = "time_in_state"
max = 3
cohort = 0

[states]
well = { initial = 1 }
sick = { initial = 0 }
sicker = { initial = 0 }
dead = { initial = 0 }

[strategies.group]
values = { t = "time_sick" }

[strategies.per_state]
values = { t = "time_here" }

[transitions]
well = { sick = 1 }
sick = { sicker = 1 }
sicker = { dead = "where(t >= 2, 0.5, 0)", sicker = "rest" }
dead = { dead = 1 }

[costs.none]
category = "none"
values = { well = 0 }

[outcomes.life_years]
values = { well = 1, sick = 1, sicker = 1 }
"""
)


def load(tmp_path, text):
    return load_scenario(write(tmp_path, text))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_the_group_counter_keeps_counting_across_its_states_as_counted_by_hand(tmp_path, backend):
    scenario = load(tmp_path, MODEL_A)
    result = run_microsim(scenario, n_individuals=2048, seed=1, backend=backend)
    totals = dict(zip(result.categories, result.costs[0, 0]))
    assert totals == {"group": 10.0, "capped": 7.0, "plain": 6.0, "in_s2": 6.0, "plain_in_s2": 6.0}


def test_a_one_state_group_is_todays_counter_in_that_state_point_by_point(tmp_path):
    # Indicators averaged over S2 only: states = ["S2"] and today's counter, at every point.
    extra = '\n[indicators.in_s2]\nvalues = { S2 = "in_s2" }\n\n[indicators.plain]\nvalues = { S2 = "plain" }\n'
    scenario = load(tmp_path, MODEL_A + extra)
    result = run_microsim(scenario, n_individuals=1024, seed=2, backend="numpy")
    in_s2, plain = (result.indicators[0, 0, 2:, result.indicator_names.index(n)].tolist() for n in ("in_s2", "plain"))
    assert in_s2 == plain == [0.0, 1.0, 2.0, 3.0]  # points 2..5 (nobody is in S2 before)


def test_risk_that_depends_on_time_since_first_sick_differs_from_per_state_counting(tmp_path):
    scenario = load(tmp_path, MODEL_B)
    result = run_microsim(scenario, n_individuals=100_000, seed=11, backend="numpy")
    ly = result.outcome("life_years")[0]
    se = result.outcomes_se[0, :, 0]
    group, per_state = scenario.strategies.index("group"), scenario.strategies.index("per_state")
    assert abs(ly[group] - 3.875) < 4 * se[group]
    assert abs(ly[per_state] - 4.75) < 4 * se[per_state]
    # Everyone is alive at point 3 under both; at point 4 half under the group counter only.
    assert result.trace[0, group, 3, 3] == result.trace[0, per_state, 3, 3] == 0.0
    assert result.trace[0, per_state, 4, 3] == 0.0
    assert abs(result.trace[0, group, 4, 3] - 0.5) < 4 * result.trace_se[0, group, 4, 3]
    incremental_se = result.incremental_outcomes_se[0, group, 0]
    assert abs((ly[group] - ly[per_state]) - (3.875 - 4.75)) < 4 * incremental_se


def test_the_states_are_kept_on_the_counter(tmp_path):
    scenario = load(tmp_path, MODEL_A)
    counters = {h.name: h for h in scenario.population.history}
    assert counters["group"].states == ("S1", "S2")
    assert counters["plain"].states == ()


@pytest.mark.parametrize(
    "old, new, keypath, fragment",
    [
        (
            'states = ["S1", "S2"]\nmax = 10',
            'states = ["S1", "S22"]\nmax = 10',
            "microsimulation.history.group.states",
            "unknown state 'S22' — did you mean 'S2'?",
        ),
        (
            'states = ["S1", "S2"]\nmax = 10',
            'states = "S1"\nmax = 10',
            "microsimulation.history.group.states",
            "expected a non-empty array of state names",
        ),
        (
            'states = ["S1", "S2"]\nmax = 10',
            "states = []\nmax = 10",
            "microsimulation.history.group.states",
            "expected a non-empty array of state names",
        ),
        (
            'states = ["S1", "S2"]\nmax = 10',
            'states = ["S1", "S1"]\nmax = 10',
            "microsimulation.history.group.states",
            "listed more than once",
        ),
        (
            'kind = "time_in_state"\nmax = 10',
            'kind = "events"\nprobability = { S1 = 0.1 }\nstates = ["S1"]\nmax = 10',
            "microsimulation.history.plain.states",
            "unknown key",
        ),
    ],
)
def test_mistakes_in_a_group_are_reported_with_their_key_path(tmp_path, old, new, keypath, fragment):
    assert MODEL_A.count(old) == 1, "test setup"
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, MODEL_A.replace(old, new))
    found = [p for p in info.value.problems if p.where.endswith(f": {keypath}")]
    assert any(fragment in p.message for p in found), [str(p) for p in info.value.problems]
