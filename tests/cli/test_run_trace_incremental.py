"""``costspine run`` writes the Markov trace (trace.csv, trace.png, a Trace sheet) and shows the
sequential incremental table in every CEA output: the terminal, summary.json and run.xlsx."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("matplotlib")

from costspine.cli import cli  # noqa: E402
from costspine.reports import figures  # noqa: E402
from costspine.scenario.load import load_scenario  # noqa: E402
from costspine.simulate.cohort import run_cohort  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHANCELLOR = ROOT / "scenarios" / "examples" / "hiv_chancellor.toml"
SPINE = ROOT / "scenarios" / "spine" / "base_case.toml"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


def run(*args) -> str:
    result = CliRunner().invoke(cli, ["run", *map(str, args)])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    return result.output


@pytest.fixture(scope="module")
def hiv(tmp_path_factory):
    out = tmp_path_factory.mktemp("hiv") / "report"
    return out, run(CHANCELLOR, "--out", out, "--figures")


@pytest.fixture(scope="module")
def spine(tmp_path_factory):
    out = tmp_path_factory.mktemp("spine") / "report"
    return out, run(SPINE, "--out", out)


def read_table(book, name) -> list[dict]:
    for ws in book:
        if name in ws.tables:
            cells = ws[ws.tables[name].ref]
            header = [c.value for c in cells[0]]
            return [dict(zip(header, (c.value for c in row))) for row in cells[1:]]
    raise AssertionError(f"no table {name!r}")


# ------------------------------------------------------------------------------------------ trace


def test_trace_csv_is_the_base_case_trace_in_long_form(hiv):
    out, _ = hiv
    with (out / "trace.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["strategy", "cycle", "state", "occupancy"]
    scenario = load_scenario(CHANCELLOR)
    trace = run_cohort(scenario).trace[0]  # (strategy, point, state)
    n_strategies, n_points, n_states = trace.shape
    assert n_points == scenario.settings.n_cycles + 1  # points 0..T
    assert len(rows) == n_strategies * n_points * n_states
    for row in rows:
        k, i = scenario.strategies.index(row["strategy"]), scenario.states.index(row["state"])
        assert float(row["occupancy"]) == pytest.approx(trace[k, int(row["cycle"]), i], rel=1e-12, abs=1e-15)
    first = [r for r in rows if r["strategy"] == "mono" and r["cycle"] == "0"]
    assert {r["state"]: float(r["occupancy"]) for r in first} == {"A": 1.0, "B": 0.0, "C": 0.0, "D": 0.0}
    by_point = {}
    for r in rows:
        by_point[(r["strategy"], r["cycle"])] = by_point.get((r["strategy"], r["cycle"]), 0.0) + float(r["occupancy"])
    assert all(abs(total - 1) < 1e-12 for total in by_point.values())  # the cohort is conserved


def test_trace_figure_and_manifest(hiv):
    out, _ = hiv
    width, height = png_size(out / "trace.png")
    assert width >= 1000 and height >= 500
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"trace.csv", "trace.png"} <= set(manifest["outputs"])


def test_trace_sheet_has_a_line_per_state_for_each_strategy(hiv):
    out, _ = hiv
    book = openpyxl.load_workbook(out / "run.xlsx")
    sheet = book["Trace"]
    assert [(type(c).__name__, len(c.series)) for c in sheet._charts] == [("LineChart", 4), ("LineChart", 4)]
    rows = read_table(book, "trace_2")  # Zidovudine + lamivudine
    labels = load_scenario(CHANCELLOR).state_labels  # columns are state labels: A is "CD4 200-500"
    assert len(rows) == 21 and rows[0]["Cycle"] == 0 and rows[0][labels["A"]] == 1.0
    with (out / "trace.csv").open(encoding="utf-8", newline="") as f:
        comb = {(int(r["cycle"]), r["state"]): float(r["occupancy"]) for r in csv.DictReader(f) if r["strategy"] == "comb"}
    for row in rows:
        for state in "ABCD":
            assert row[labels[state]] == pytest.approx(comb[(row["Cycle"], state)], rel=1e-15, abs=1e-15)


def test_trace_figure_escapes_dollar_signs_and_draws_many_strategies(tmp_path):
    time = np.arange(6) * 0.5
    well = np.linspace(1, 0.5, 6)
    traces = {f"$5 co-pay plan {k} with a long strategy label": {"Well ($0)": well, "Dead": 1 - well} for k in range(4)}
    path = figures.to_png(figures.plot_trace)(
        time, traces, path=tmp_path / "trace.png", title="Trace at $120 per visit and $5 co-pay"
    )
    width, height = png_size(path)
    assert width > 1000 and height > 800  # two rows of panels
    drawn = [figures.plot_trace(time, traces, title="Trace at $120 per visit and $5 co-pay")]  # the Figure itself
    texts = [t.get_text() for t in drawn[0].findobj(lambda a: hasattr(a, "get_text")) if "$" in str(t.get_text())]
    assert texts and all(t.count("$") == t.count(r"\$") for t in texts)  # every $ escaped: no mathtext
    assert "Trace at \\$120 per visit and \\$5 co-pay" in texts


# ------------------------------------------------------------------------------ incremental table


def columns_of(section: str) -> list[str]:
    """Each column's cells (wrapped lines joined, header left out) of a plain-text table, cut at the rule line."""
    lines = section.splitlines()
    rule = next(k for k, line in enumerate(lines) if line.startswith("---"))
    spans, start = [], 0
    for dashes in lines[rule].split("  "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 2
    return [" ".join(" ".join(line[a:b].split()) for line in lines[rule + 1 :] if line[a:b].strip()) for a, b in spans]


def test_terminal_shows_the_sequential_table_by_label_within_100_columns(spine):
    _, output = spine
    section = output.split("Sequential incremental analysis")[1].split("\n\n")[0]
    assert max(len(line) for line in section.splitlines()) <= 100
    columns = columns_of(section)
    assert columns[0] == "ICE (identify, coordinate, enhance) Usual care IPT (individualized postural therapy)"
    # by cost, labelled, labels wrapped within their column (costs from the model, not pinned)
    costs = run_cohort(load_scenario(SPINE)).total_cost[0]
    assert costs[1] < costs[0] < costs[2]  # ICE, usual care, IPT
    assert columns[1] == " ".join(f"{costs[k]:,.0f}" for k in (1, 0, 2))
    assert columns[5] == "— — —"  # no ICER for a dominated strategy
    assert columns[6].count("dominated by ICE (identify, coordinate, enhance)") == 2  # words, not ND/D codes
    assert " ND " not in section and " D " not in section
    assert "usual_care" not in section and "ice " not in section  # labels, never ids


def test_hiv_terminal_gives_the_frontier_icer(hiv):
    _, output = hiv
    section = output.split("Sequential incremental analysis")[1].split("\n\n")[0]
    columns = columns_of(section)
    assert columns[0] == "Zidovudine monotherapy Zidovudine + lamivudine"
    assert columns[5] == "— 6,276"
    assert columns[6] == "first on the frontier versus Zidovudine monotherapy"


def test_summary_json_and_workbook_hold_the_same_table(spine):
    out, _ = spine
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    table = summary["incremental_table"]
    assert [r["strategy"] for r in table["rows"]] == ["ice", "usual_care", "ipt"]  # by cost
    assert [r["status"] for r in table["rows"]] == ["ND", "D", "D"]
    assert [r["icer"] for r in table["rows"]] == [None, None, None]  # no ICER for a dominated strategy
    assert [r["versus"] for r in table["rows"]] == [None, "ice", "ice"]
    for r in table["rows"]:
        assert r["cost"] == pytest.approx(summary["strategies"][r["strategy"]]["cost_total"], rel=1e-12)
    rows = read_table(openpyxl.load_workbook(out / "run.xlsx"), "incremental")
    assert [r["Strategy"] for r in rows] == [r["label"] for r in table["rows"]]
    assert [r["Status"].split()[0] for r in rows] == ["ND", "D", "D"]
    assert rows[1]["Compared with"] == "dominated by ICE (identify, coordinate, enhance)"
    assert all(r["ICER (USD per QALY)"] is None for r in rows)


def test_hiv_workbook_icer_is_the_published_one(hiv):
    out, _ = hiv
    rows = read_table(openpyxl.load_workbook(out / "run.xlsx"), "incremental")
    assert [r["Status"].split()[0] for r in rows] == ["ND", "ND"]
    assert abs(rows[1]["ICER (GBP per life-year)"] - 6275.956) <= 0.0005
    assert rows[1]["Compared with"] == "versus Zidovudine monotherapy"


def test_comparison_run_writes_a_trace_per_scenario(tmp_path):
    out = tmp_path / "both"
    output = run(SPINE, ROOT / "scenarios" / "spine" / "injection_cut_50.toml", "--out", out, "--quiet")
    assert (out / "spine_base_case" / "trace.csv").is_file() and (out / "spine_injection_cut_50" / "trace.csv").is_file()
    assert output.count("Sequential incremental analysis") in (0, 2)  # --quiet may print nothing
    rows = read_table(openpyxl.load_workbook(out / "run.xlsx"), "incremental_by_scenario")
    assert len(rows) == 6 and {r["Status"] for r in rows} <= {"ND", "D", "ED"}
    for name in ("spine_base_case", "spine_injection_cut_50"):
        summary = json.loads((out / name / "summary.json").read_text(encoding="utf-8"))
        mine = [r for r in rows if r["Scenario"] == name]
        assert [r["Status"] for r in mine] == [r["status"] for r in summary["incremental_table"]["rows"]]
