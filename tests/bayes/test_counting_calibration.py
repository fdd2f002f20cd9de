"""The PyTensor calibration graph counts like the cohort model under beginning and custom counting."""

from __future__ import annotations

import pytest

from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

from helpers import analysis_toml, settings_toml, write

TOY = """
[states]
well = { initial = 1 }
dead = { initial = 0 }
[strategies.a]
[transitions]
well = { dead = 0.2, well = "rest" }
dead = { dead = 1 }
[costs.care]
category = "care"
values = { well = "100 * cycle" }
on_entry = { dead = 1000 }
[outcomes.qalys]
values = { well = 1 }
"""


@pytest.mark.parametrize(
    ("correction", "extra", "by_hand"),
    [
        ("beginning", "", 100 * (1 + 2 * 0.8 + 3 * 0.64) + 1000 * (0.2 + 0.16 + 0.128)),
        ("custom", "weights = [0.5, 1, 0.75, 0.25]\n", 100 * (0.5 + 0.8 + 2 * 0.75 * 0.64 + 3 * 0.25 * 0.512) + 1000 * 0.488),
    ],
)
def test_calibration_graph_counts_like_the_cohort(tmp_path, correction, extra, by_hand):
    from costspine.bayes.fit import _import, build_symbolic_model

    _, pt, _ = _import()
    text = '[model]\nname = "toy"\n' + settings_toml(3, cycle_correction=correction) + extra + analysis_toml(comparator="a") + TOY
    scenario = load_scenario(write(tmp_path, text))
    symbolic = build_symbolic_model(scenario, {}, pt)
    assert run_cohort(scenario).costs_undiscounted[0, 0].sum() == pytest.approx(by_hand, rel=1e-12)
    assert float(symbolic.cost_total["a"].eval()) == pytest.approx(by_hand, rel=1e-12)
