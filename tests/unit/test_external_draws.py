"""PSA draws from CSV (costspine/scenario/draws.py, costspine/analysis/external_draws.py): known EVPI of a
hand-written wide file, the long layout of another tool, and one clear error per bad file."""

from __future__ import annotations

import numpy as np
import pytest

from costspine.analysis.external_draws import load_draws
from costspine.analysis.voi_summary import analyze_voi
from costspine.errors import DrawsError, UsageError
from costspine.scenario.draws import read_draw_tables

# Three strategies, four draws; one parameter. Costs and effects chosen so the best strategy
# changes between draws at both thresholds.
WIDE = """draw,cost_usual,effect_usual,cost_physio,effect_physio,cost_surgery,effect_surgery,p_success
1,1000,1.0,1500,1.10,5000,1.30,0.2
2,1200,0.9,1400,1.05,4000,1.00,0.5
3,800,1.1,2500,1.02,6000,1.40,0.9
4,1100,1.0,1600,1.20,4500,1.25,0.4
"""
COST = [[1000, 1500, 5000], [1200, 1400, 4000], [800, 2500, 6000], [1100, 1600, 4500]]
EFFECT = [[1.0, 1.10, 1.30], [0.9, 1.05, 1.00], [1.1, 1.02, 1.40], [1.0, 1.20, 1.25]]


def hand_evpi(cost, effect, wtp):
    """Mean over draws of the best net benefit minus the best mean net benefit (plain Python)."""
    nb = [[wtp * e - c for c, e in zip(cs, es)] for cs, es in zip(cost, effect)]
    n = len(nb)
    mean_of_max = sum(max(row) for row in nb) / n
    max_of_mean = max(sum(row[k] for row in nb) / n for k in range(len(nb[0])))
    return mean_of_max - max_of_mean


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_wide_csv_written_by_hand_gives_the_hand_computed_evpi(tmp_path):
    path = write(tmp_path, "draws.csv", WIDE)
    voi = analyze_voi(path, wtp=[5000, 20000])
    expected = [hand_evpi(COST, EFFECT, w) for w in (5000, 20000)]
    assert expected[0] > 0 and expected[1] > 0  # the decision is uncertain at both thresholds
    assert voi.evpi.tolist() == pytest.approx(expected, rel=1e-12)
    d = voi.draws
    assert d.strategies == ("usual", "physio", "surgery") and d.comparator == "usual"
    assert d.parameter_names == ("p_success",) and d.parameter("p_success").tolist() == [0.2, 0.5, 0.9, 0.4]
    assert d.currency == "XXX" and d.effect_name == "effect" and d.wtp == (5000.0, 20000.0)
    assert [i[0] for i in d.inputs] == [str(path)] and voi.draws_path is None


def test_wide_csv_without_a_draw_column_and_with_a_byte_order_mark(tmp_path):
    body = WIDE.split("\n", 1)[1]
    header = WIDE.split("\n", 1)[0].replace("draw,", "")
    text = header + "\n" + "\n".join(line.split(",", 1)[1] for line in body.splitlines()) + "\n"
    path = tmp_path / "nodraw.csv"
    path.write_bytes("\ufeff".encode() + text.encode())  # Excel's "CSV UTF-8"
    tables = read_draw_tables(path)
    assert tables.layout == "wide" and tables.draw_ids.tolist() == [0, 1, 2, 3]
    assert tables.costs[:, :, 0].tolist() == COST


def test_long_layout_of_another_tool_aligns_parameters_by_draw(tmp_path):
    """cost/effect columns, draws numbered from 1, parameters in another order: same EVPI as the wide file."""
    folder = tmp_path / "treeage"
    folder.mkdir()
    strategies = ("usual", "physio", "surgery")
    lines = ["strategy,draw,cost,effect"]
    for i in range(4):
        for k, s in enumerate(strategies):
            lines.append(f"{s},{i + 1},{COST[i][k]},{EFFECT[i][k]}")
    write(folder, "results.csv", "\n".join(lines) + "\n")
    write(folder, "parameters.csv", "p_success,draw\n0.4,4\n0.2,1\n0.9,3\n0.5,2\n")
    d = load_draws(folder, wtp=[20000], comparator="physio")
    wide = load_draws(write(tmp_path, "wide.csv", WIDE), wtp=[20000])
    assert d.strategies == strategies and d.comparator == "physio" and d.categories == ("total",)
    assert np.array_equal(d.total_cost, wide.total_cost) and np.array_equal(d.effect, wide.effect)
    assert d.parameter("p_success").tolist() == [0.2, 0.5, 0.9, 0.4]
    assert analyze_voi(d).evpi.tolist() == pytest.approx([hand_evpi(COST, EFFECT, 20000)], rel=1e-12)


def test_long_layout_keeps_cost_categories_and_chooses_the_effect(tmp_path):
    text = (
        "draw,strategy,cost_drug,cost_visit,cost_total,qalys,life_years\n"
        "0,a,1,2,3,0.5,1\n0,b,2,2,4,0.7,1\n1,a,1,1,2,0.4,1\n1,b,3,2,5,0.8,1\n"
    )
    path = write(tmp_path, "results.csv", text)
    with pytest.raises(UsageError, match=r"several outcome columns \(qalys, life_years\).*--effect"):
        load_draws(path, wtp=[10])
    d = load_draws(path, wtp=[10], effect="qalys", currency="GBP")
    assert d.categories == ("drug", "visit") and d.outcome_names == ("qalys", "life_years")
    assert d.total_cost.tolist() == [[3, 4], [2, 5]] and d.effect.tolist() == [[0.5, 0.7], [0.4, 0.8]]
    assert d.parameter_names == () and d.currency == "GBP"
    with pytest.raises(UsageError, match="did you mean 'qalys'"):
        load_draws(path, wtp=[10], effect="qaly")


def test_csv_draws_need_thresholds_and_a_known_comparator(tmp_path):
    path = write(tmp_path, "draws.csv", WIDE)
    with pytest.raises(UsageError, match="--wtp"):
        load_draws(path)
    with pytest.raises(UsageError, match="did you mean 'physio'"):
        load_draws(path, wtp=[1], comparator="physyo")
    with pytest.raises(UsageError, match="no parameters"):
        analyze_voi(
            write(
                tmp_path,
                "results.csv",
                "draw,strategy,cost,effect\n" + "".join(f"{i},{s},{i},{i}\n" for i in range(40) for s in "ab"),
            ),
            wtp=[1],
            evppi=["x"],
        )
    with pytest.raises(UsageError, match="--discount"):
        analyze_voi(path, wtp=[1], population=100, horizon_years=2)


SECRET = "417.25SECRET"  # a cell's content must never appear in a message


@pytest.mark.parametrize(
    "name, text, where, expected",
    [
        ("missing strategy column", "cost_a,effect_a,cost_b,p\n1,1,2,0\n1,1,2,0\n", "row 1", "missing column 'effect_b'"),
        ("one strategy only", "cost_a,effect_a,p\n1,1,0\n1,1,0\n", "row 1", "at least two strategies"),
        (
            "non-numeric cell",
            f"cost_a,effect_a,cost_b,effect_b,p\n1,1,2,2,0\n1,1,{SECRET},2,0\n",
            "row 3, column cost_b",
            "expected a finite number; found text that is not a number",
        ),
        (
            "empty cell",
            "cost_a,effect_a,cost_b,effect_b,p\n1,1,2,2,0\n1,1,2,2,\n",
            "row 3, column p",
            "expected a finite number; found an empty cell",
        ),
        ("not finite", "cost_a,effect_a,cost_b,effect_b,p\n1,1,2,2,0\n1,nan,2,2,1\n", "row 3, column effect_a", "non-finite"),
        ("ragged row", "cost_a,effect_a,cost_b,effect_b\n1,1,2,2\n1,1,2\n", "row 3", "3 cells; expected 4"),
        (
            "duplicate draw",
            "draw,cost_a,effect_a,cost_b,effect_b\n7,1,1,2,2\n8,1,1,2,2\n7,1,1,3,2\n",
            "row 4, column draw",
            "repeats the draw of row 2",
        ),
        (
            "fractional draw",
            "draw,cost_a,effect_a,cost_b,effect_b\n0.5,1,1,2,2\n1,1,1,2,2\n",
            "row 2, column draw",
            "whole number",
        ),
        ("duplicate column", "cost_a,effect_a,cost_b,effect_b,cost_a\n1,1,2,2,1\n1,1,2,2,1\n", "row 1", "'cost_a' appears twice"),
        ("too few draws", "cost_a,effect_a,cost_b,effect_b\n1,1,2,2\n", "", "1 draw; expected at least 2"),
        ("empty file", "", "", "empty file"),
    ],
)
def test_each_bad_wide_file_is_named_by_row_and_column(tmp_path, name, text, where, expected):
    path = write(tmp_path, "draws.csv", text)
    with pytest.raises(DrawsError) as info:
        read_draw_tables(path)
    message = str(info.value)
    assert f"{path}: {where}" in message and expected in message, message
    assert SECRET not in message and "SECRET" not in message
    assert info.value.exit_code == 3


LONG_OK = "draw,strategy,cost_total,qalys\n0,a,1,1\n0,b,2,2\n1,a,1,1\n1,b,3,2\n"


@pytest.mark.parametrize(
    "name, results, parameters, where, expected",
    [
        ("no draw column", "strategy,cost,qalys\na,1,1\nb,2,2\n", None, "results.csv: row 1", "missing column 'draw'"),
        ("no cost column", "draw,strategy,qalys\n0,a,1\n0,b,2\n", None, "results.csv: row 1", "missing cost column"),
        ("no outcome", "draw,strategy,cost\n0,a,1\n0,b,2\n", None, "results.csv: row 1", "no outcome column"),
        (
            "duplicate draw and strategy",
            LONG_OK + "1,a,5,1\n",
            None,
            "results.csv: row 6",
            "repeats the draw and strategy of row 4",
        ),
        (
            "missing strategy row",
            "draw,strategy,cost_total,qalys\n0,a,1,1\n0,b,2,2\n1,a,1,1\n",
            None,
            "results.csv: row 4",
            "no row for strategy 'b'",
        ),
        (
            "non-numeric",
            f"draw,strategy,cost_total,qalys\n0,a,1,1\n0,b,{SECRET},2\n1,a,1,1\n1,b,3,2\n",
            None,
            "results.csv: row 3, column cost_total",
            "expected a finite number",
        ),
        (
            "empty strategy",
            "draw,strategy,cost_total,qalys\n0,a,1,1\n0,,2,2\n",
            None,
            "results.csv: row 3, column strategy",
            "found an empty cell",
        ),
        (
            "total is not the sum",
            ("draw,strategy,cost_x,cost_y,cost_total,qalys\n0,a,1,1,2,1\n0,b,1,1,3,1\n1,a,1,1,2,1\n1,b,1,1,2,1\n"),
            None,
            "results.csv: row 3",
            "cost_total is not the sum",
        ),
        (
            "parameter draw not in results",
            LONG_OK,
            "draw,p\n0,1\n1,2\n2,3\n",
            "parameters.csv: row 4",
            "its draw has no rows in results.csv",
        ),
        (
            "results draw not in parameters",
            LONG_OK,
            "draw,p\n0,1\n",
            "results.csv: row 4",
            "its draw has no row in parameters.csv",
        ),
        (
            "duplicate parameter draw",
            LONG_OK,
            "draw,p\n0,1\n1,2\n0,3\n",
            "parameters.csv: row 4, column draw",
            "repeats the draw of row 2",
        ),
        (
            "non-numeric parameter",
            LONG_OK,
            f"draw,p\n0,1\n1,{SECRET}\n",
            "parameters.csv: row 3, column p",
            "found text that is not a number",
        ),
        ("ragged parameter row", LONG_OK, "draw,p\n0,1\n1\n", "parameters.csv: row 3", "1 cells; expected 2"),
    ],
)
def test_each_bad_long_file_is_named_by_file_row_and_column(tmp_path, name, results, parameters, where, expected):
    write(tmp_path, "results.csv", results)
    if parameters is not None:
        write(tmp_path, "parameters.csv", parameters)
    with pytest.raises(DrawsError) as info:
        read_draw_tables(tmp_path)
    message = str(info.value)
    assert f"{tmp_path}/{where}" in message and expected in message, message
    assert "SECRET" not in message


def test_every_problem_is_said_at_once_and_long_lists_are_counted(tmp_path):
    rows = "".join(f"{i},x{i},2,2\n" for i in range(10)) + "1,1,2,2\n"
    path = write(tmp_path, "draws.csv", "cost_a,effect_a,cost_b,effect_b\n" + rows)
    with pytest.raises(DrawsError) as info:
        read_draw_tables(path)
    message = str(info.value)
    assert message.startswith("4 problems in the PSA draws:")
    assert "row 2, column effect_a" in message and "row 4, column effect_a" in message
    assert "row 5, column effect_a" not in message and "7 more rows without a finite number" in message


def test_evppi_asks_for_more_draws(tmp_path):
    path = write(tmp_path, "draws.csv", WIDE)
    with pytest.raises(DrawsError, match="4 draws; expected at least 30 \\(regression EVPPI"):
        analyze_voi(path, wtp=[1000], evppi=["p_success"])


def test_a_column_of_text_is_one_problem(tmp_path):
    rows = "".join(f"{i},1,2,2,note{i}\n" for i in range(6))
    path = write(tmp_path, "draws.csv", "cost_a,effect_a,cost_b,effect_b,comment\n" + rows)
    with pytest.raises(DrawsError) as info:
        read_draw_tables(path)
    assert str(info.value) == (
        f"1 problem in the PSA draws:\n  - {path}: column comment: expected finite numbers; "
        "found none in its 6 rows (a text column? remove it)"
    )
