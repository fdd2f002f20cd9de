"""The sequential incremental table (costspine.analysis.cea.IncrementalTable).

A textbook example computed by hand, the HIV Chancellor model's published ICER, and the rules a
reader relies on: order by cost, no ICER for a dominated strategy, never a negative ICER, labels
not ids, and text that fits 100 columns.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from costspine.analysis.cea import compute_incremental_table, compute_result_incremental
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort

CHANCELLOR = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "hiv_chancellor.toml"

# Five strategies (cost, effect), given out of cost order on purpose.
#   A 1,000  1.0   cheapest: first on the frontier
#   B 3,000  1.5   vs A: (3000 − 1000) / (1.5 − 1.0) = 4,000
#   C 4,000  1.4   dominated by B (B costs less and yields more)
#   D 5,000  1.6   vs B: 2000 / 0.1 = 20,000 > E vs D: 2000 / 0.4 = 5,000 → extendedly dominated
#   E 7,000  2.0   vs B once D is out: (7000 − 3000) / (2.0 − 1.5) = 8,000
TEXTBOOK = {"E": (7000.0, 2.0), "C": (4000.0, 1.4), "A": (1000.0, 1.0), "D": (5000.0, 1.6), "B": (3000.0, 1.5)}


def textbook(**kwargs):
    ids = list(TEXTBOOK)
    cost = [TEXTBOOK[s][0] for s in ids]
    effect = [TEXTBOOK[s][1] for s in ids]
    return compute_incremental_table(cost, effect, strategies=ids, **kwargs)


def icers(table) -> list:
    return [None if math.isnan(v) else float(v) for v in table.icer]


def test_textbook_example_computed_by_hand():
    t = textbook()
    assert t.strategies == ("A", "B", "C", "D", "E")
    assert list(t.cost) == [1000, 3000, 4000, 5000, 7000]
    assert t.status == ("ND", "ND", "D", "ED", "ND")
    assert icers(t) == pytest.approx([None, 4000.0, None, None, 8000.0])
    assert [None if math.isnan(v) else float(v) for v in t.incremental_cost] == [None, 2000.0, None, None, 4000.0]
    assert [None if math.isnan(v) else round(float(v), 12) for v in t.incremental_effect] == [None, 0.5, None, None, 0.5]
    assert t.versus == (None, "A", "B", None, "B")
    assert t.between == (None, None, None, ("B", "E"), None)


def test_textbook_words_name_the_dominating_strategy_by_label():
    labels = {"A": "Watchful waiting", "B": "Physiotherapy", "C": "Injections", "D": "Imaging first", "E": "Surgery"}
    t = textbook(labels=[labels[s] for s in TEXTBOOK], currency="USD", effect_name="qalys")
    assert t.labels == ("Watchful waiting", "Physiotherapy", "Injections", "Imaging first", "Surgery")
    assert [t.describe(k) for k in range(5)] == [
        "first on the frontier",
        "versus Watchful waiting",
        "dominated by Physiotherapy",
        "extendedly dominated (by a mix of Physiotherapy and Surgery)",
        "versus Physiotherapy",
    ]
    text = " ".join(t.summary().split())  # the text wraps labels; compare words
    assert "dominated by Physiotherapy" in text and "extendedly dominated" in text
    assert "4,000" in text and "8,000" in text
    assert "20,000" not in text  # D's ICER against B: D falls off the frontier


def test_to_dict_and_to_frame_agree_and_are_json_ready():
    t = textbook(currency="USD", effect_name="qalys")
    d = t.to_dict()
    json.dumps(d, allow_nan=False)  # None, not NaN, where a value does not apply
    assert [r["strategy"] for r in d["rows"]] == list(t.strategies)
    assert [r["icer"] for r in d["rows"]] == pytest.approx([None, 4000.0, None, None, 8000.0])
    assert [r["status"] for r in d["rows"]] == ["ND", "ND", "D", "ED", "ND"]
    assert d["rows"][3]["between"] == ["B", "E"]
    frame = t.to_frame()
    assert list(frame["strategy"]) == list(t.strategies)
    np.testing.assert_array_equal(frame["icer"].to_numpy(), t.icer)
    assert list(frame["note"]) == [r["note"] for r in d["rows"]]


def test_the_table_does_not_depend_on_the_order_strategies_are_given():
    rng = np.random.default_rng(3)
    ids = list(TEXTBOOK)
    reference = textbook()
    for _ in range(10):
        order = list(rng.permutation(len(ids)))
        t = compute_incremental_table(
            [TEXTBOOK[ids[i]][0] for i in order], [TEXTBOOK[ids[i]][1] for i in order], strategies=[ids[i] for i in order]
        )
        assert t.strategies == reference.strategies and t.status == reference.status
        assert icers(t) == icers(reference)


@pytest.mark.parametrize("seed", range(20))
def test_no_negative_icer_and_none_for_a_dominated_strategy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 8))
    t = compute_incremental_table(rng.normal(10000, 3000, n), rng.normal(5, 1, n), strategies=[f"s{k}" for k in range(n)])
    assert list(t.cost) == sorted(t.cost)
    assert t.status[0] == "ND"  # the cheapest strategy is never dominated unless tied
    for k, status in enumerate(t.status):
        if status == "ND" and k > 0:
            assert t.icer[k] > 0
        else:
            assert math.isnan(t.icer[k])
    frontier = [v for v in t.icer if not math.isnan(v)]
    assert frontier == sorted(frontier)  # ICERs increase along the frontier


def test_identical_strategies_keep_the_first():
    t = compute_incremental_table([100.0, 100.0, 300.0], [1.0, 1.0, 2.0], strategies=["a", "b", "c"])
    assert t.status == ("ND", "D", "ND") and t.versus == (None, "a", "a")
    assert icers(t) == [None, None, 200.0]


def test_hiv_chancellor_published_icer():
    result = run_cohort(load_scenario(CHANCELLOR))
    t = compute_result_incremental(result)
    assert t.strategies == ("mono", "comb") and t.status == ("ND", "ND")
    assert t.labels == ("Zidovudine monotherapy", "Zidovudine + lamivudine")
    assert abs(t.icer[1] - 6275.956) <= 0.0005  # Briggs et al. 2006, printed to 3 decimals
    assert abs(t.incremental_cost[1] - 5938.198) <= 0.0005
    assert t.currency == "GBP" and t.effect_name == "life_years"


def test_text_fits_100_columns_and_wraps_labels_not_numbers():
    long = "Individualized postural therapy with a very long description of its components"
    t = compute_incremental_table(
        [1000.0, 1234567.0, 2000.0],
        [1.0, 3.0, 0.5],
        strategies=["a", "b", "c"],
        labels=["Usual care", long, "Another long label for a strategy"],
        currency="USD",
        effect_name="qalys",
    )
    text = t.summary(width=100)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100, text
    assert "1,234,567" in text and "1,233,567" in text  # cost and Δ cost, never cut
    rule = next(k for k, line in enumerate(lines) if line.startswith("---"))
    width = len(lines[rule].split()[0])
    first_column = " ".join(line[:width].strip() for line in lines[rule + 1 :])
    assert "Individualized postural therapy" in first_column and "components" in first_column  # wrapped, whole words
    assert "Another long label" in first_column
    assert not any(
        line[:1].isspace() and line.split()[0][0].isdigit() for line in lines[rule + 1 :]
    )  # no number on a continuation line
