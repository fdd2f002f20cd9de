"""One-way DSA: ranges, tornado ranking, threshold values, errors — on hand-computable models."""

from __future__ import annotations

import numpy as np
import pytest

from costspine.analysis.dsa import build_ranges, run_dsa
from costspine.errors import AnalysisError, UsageError
from costspine.params import quantile
from costspine.scenario.load import load_scenario

from helpers import analysis_toml, settings_toml, write

# One cycle, nobody dies, no discounting: cost of a strategy = its c, effect = its u.
# ΔNMB(b vs a) = λ·gain − (c_b − c_a); (c strategy) ΔNMB(c vs a) = λ·2·gain − (c_c − c_a).
MODEL = (
    """
[model]
name = "hand"
"""
    + settings_toml(1)
    + analysis_toml()
    + """
[states]
well = { initial = 1 }
dead = { initial = 0 }

[strategies.a]
values = { c_tx = "c_a", u_tx = "0.5" }

[strategies.b]
values = { c_tx = "c_b", u_tx = "0.5 + gain" }
%s
[parameters.c_a]
value = 100
distribution = "gamma"
mean = 100
sd = 10
source = "test"

[parameters.c_b]
value = 150
distribution = "gamma"
mean = 150
sd = 30
low = 100
high = 300
source = "test"

[parameters.gain]
value = 0.1
distribution = "uniform"
min = 0.02
max = 0.2
source = "test"

[parameters.c_fixed_with_bounds]
value = 5
low = 1
high = 9
source = "test: fixed, but with DSA bounds"

[parameters.row]
distribution = "dirichlet"
alpha = { p_x = 60, p_y = 30, p_z = 10 }
source = "test: not used by the model"

[transitions]
well = { well = 1 }
dead = { dead = 1 }

[costs.treatment]
category = "treatment"
values = { well = "c_tx + 0 * c_fixed_with_bounds" }

[outcomes.qalys]
values = { well = "u_tx" }
"""
)

THIRD = """
[strategies.c]
values = { c_tx = "c_c", u_tx = "0.5 + 2 * gain" }

[parameters.c_c]
value = 400
source = "test"
"""


@pytest.fixture
def hand(tmp_path):
    return load_scenario(write(tmp_path, MODEL % "", "hand.toml"))


def by_name(result):
    return {r.name: r for r in result.ranges}


def test_ranges_minmax_uses_declared_bounds_else_the_95_interval(hand):
    ranges = {r.name: r for r in build_ranges(hand, range_kind="minmax")}
    assert (ranges["c_b"].low, ranges["c_b"].high, ranges["c_b"].source) == (100, 300, "declared")
    spec = hand.parameter("c_a")
    lo, hi = quantile(spec, np.array([0.025, 0.975]))
    assert ranges["c_a"].low == pytest.approx(lo) and ranges["c_a"].high == pytest.approx(hi)
    assert ranges["c_a"].source == "95% interval"
    assert (ranges["c_fixed_with_bounds"].low, ranges["c_fixed_with_bounds"].high) == (1, 9)
    assert ranges["gain"].low == pytest.approx(0.02 + 0.18 * 0.025)
    assert ranges["p_x"].base == pytest.approx(0.6) and ranges["p_x"].group == "row"


def test_ranges_95ci_ignores_declared_bounds(hand):
    ranges = {r.name: r for r in build_ranges(hand, range_kind="95ci")}
    lo, hi = quantile(hand.parameter("c_b"), np.array([0.025, 0.975]))
    assert ranges["c_b"].low == pytest.approx(lo) and ranges["c_b"].source == "95% interval"
    with pytest.raises(UsageError, match="--range"):
        build_ranges(hand, range_kind="wide")


def test_tornado_by_hand(hand):
    r = run_dsa(hand)
    rows = {row["parameter"]: row for row in r.tornado()}
    lam = 1000.0
    base = lam * 0.1 - (150 - 100)
    assert rows["c_b"]["inc_nmb_base"] == pytest.approx(base)
    assert rows["c_b"]["inc_nmb_low"] == pytest.approx(lam * 0.1 - (100 - 100))
    assert rows["c_b"]["inc_nmb_high"] == pytest.approx(lam * 0.1 - (300 - 100))
    assert rows["c_b"]["swing_nmb"] == pytest.approx(200)
    g = by_name(r)["gain"]
    assert rows["gain"]["swing_nmb"] == pytest.approx(lam * (g.high - g.low))
    assert rows["c_fixed_with_bounds"]["swing_nmb"] == pytest.approx(0, abs=1e-9)
    assert rows["p_x"]["swing_nmb"] == pytest.approx(0, abs=1e-9)
    swings = [row["swing_nmb"] for row in r.tornado()]
    assert swings == sorted(swings, reverse=True)
    assert [row["rank"] for row in r.tornado()] == list(range(1, len(swings) + 1))
    assert rows["c_b"]["icer_high"] == pytest.approx(200 / 0.1)


def test_tornado_by_icer(hand):
    rows = run_dsa(hand).tornado(by="icer")
    # ICER = (c_b − c_a)/gain: c_b swings it by (300 − 100)/0.1 = 2000, gain by 50/0.0245 − 50/0.1955 ≈ 1785
    assert [row["parameter"] for row in rows[:2]] == ["c_b", "gain"]
    assert rows[0]["swing_icer"] == pytest.approx(2000.0)
    assert rows[1]["swing_icer"] == pytest.approx(50 / 0.0245 - 50 / 0.1955)
    with pytest.raises(UsageError):
        run_dsa(hand).tornado(by="qaly")


def test_dirichlet_component_moves_its_row_together(hand):
    from costspine.analysis.dsa import _variant_parameters

    ranges = build_ranges(hand)
    i = [r.name for r in ranges].index("p_x")
    params = _variant_parameters(hand, ranges, [(i, 0.8)])
    assert params["p_x"][0] == 0.8
    assert params["p_y"][0] + params["p_z"][0] == pytest.approx(0.2)
    assert params["p_y"][0] / params["p_z"][0] == pytest.approx(3.0)


def test_threshold_value_by_hand(hand):
    r = run_dsa(hand)
    found = {(t.parameter, t.wtp): t for t in r.thresholds}
    # ΔNMB = 1000·gain − 50 = 0 at gain = 0.05; c_b: 100 − (c_b − 100) = 0 at c_b = 200
    assert found[("gain", 1000.0)].value == pytest.approx(0.05, abs=1e-9)
    assert (found[("gain", 1000.0)].below, found[("gain", 1000.0)].above) == ("a", "b")
    assert found[("c_b", 1000.0)].value == pytest.approx(200.0, abs=1e-6)
    assert (found[("c_b", 1000.0)].below, found[("c_b", 1000.0)].above) == ("b", "a")
    assert ("c_a", 1000.0) not in found  # c_a's 95% range (≈80–120) never flips the decision
    assert len(r.thresholds) == 2


def test_thresholds_with_three_strategies(tmp_path):
    path = tmp_path / "three.toml"
    path.write_text(MODEL % THIRD, encoding="utf-8")
    r = run_dsa(load_scenario(path), wtp=[2000.0])
    # NMB: a = 1000 − 100 = 900 … b = 2000(0.5+g) − 150, c = 2000(0.5+2g) − 400, as gain varies:
    # b beats a at g > 0.025, c beats b at g > 0.125
    found = sorted((t.value, t.below, t.above) for t in r.thresholds if t.parameter == "gain")
    assert [(round(v, 9), b, a) for v, b, a in found] == [(0.025, "a", "b"), (0.125, "b", "c")]


def test_invalid_bound_names_parameter_and_value(tmp_path):
    text = (MODEL % "").replace("well = { well = 1 }", 'well = { well = "rest", dead = "p_die" }')
    text += '\n[parameters.p_die]\nvalue = 0.1\ndistribution = "normal"\nmean = 0.1\nsd = 0.2\nsource = "test"\n'
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnalysisError) as info:
        run_dsa(load_scenario(path))
    message = str(info.value)
    assert "parameter=p_die at -0.29" in message and "sensitivity analysis" in message
    assert "--range 95ci" in message


def test_chancellor_dsa_runs_and_ranks_costs_first(chancellor):
    r = run_dsa(chancellor)
    first = r.tornado()[0]
    assert first["strategy"] == "comb" and first["wtp"] == 5000.0
    assert first["parameter"] == "c_direct_A"
    assert "One-way sensitivity" in r.summary()


def test_to_frame_has_one_row_per_parameter_strategy_and_threshold(hand):
    frame = run_dsa(hand).to_frame()
    assert len(frame) == len(build_ranges(hand)) and frame["rank"].tolist()[0] == 1
