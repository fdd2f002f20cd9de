"""``costspine run`` writes ``run.xlsx`` (or ``--xlsx PATH``) and PNG figures: the workbooks are
opened with openpyxl and checked against ``summary.json``; charts are counted; text from scenario
files that a spreadsheet would run as a formula is stored as text."""

from __future__ import annotations

import hashlib
import json
import shlex
import struct
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("matplotlib")

from costspine.cli import cli  # noqa: E402

from helpers import CHANCELLOR, ROOT, edit  # noqa: E402

BASE = CHANCELLOR.read_text(encoding="utf-8")
INJECTIONS = ('=HYPERLINK("http://example.com","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)")
EXCEL_DIGITS = 1e-15  # Excel keeps 15 significant digits; openpyxl may drop a 17th


def hostile_chancellor(tmp_path: Path) -> Path:
    """The HIV model with an indicator (so a trajectory is drawn) and formula-like text everywhere a
    scenario file puts text into the workbook: title, description, a strategy label, a cost label, a source."""
    text = BASE
    text = edit('title = "HIV: zidovudine', f'title = "{INJECTIONS[3]} HIV: zidovudine', text)
    text = edit('description = """Four-state', f'description = """{INJECTIONS[0]} Four-state', text)
    text = edit('label = "Zidovudine + lamivudine"', f'label = "{INJECTIONS[1]}"', text)
    text = edit(
        'source = "Chancellor 1997 cohort counts (Briggs et al. 2006 table 2.1 / ex. 4.7)"\n\n[parameters.row_B]',
        f'source = "{INJECTIONS[2]}"\n\n[parameters.row_B]',
        text,
    )
    text = edit("[costs.community_care]", '[costs.community_care]\nlabel = "=1+1"', text)
    text = edit("[analysis]", "[analysis]\nreport_at_years = [0, 10, 20]", text)
    text += '\n[indicators.aids]\nlabel = "Share with AIDS among the living"\nvalues = { A = "0", B = "0", C = "1" }\n'
    path = tmp_path / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(runner, *args):
    result = runner.invoke(cli, ["run", *map(str, args), "--quiet"])
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 0, result.output
    return result


def read_table(book, name) -> list[dict]:
    """Rows of the named Excel table as dicts keyed by header."""
    for ws in book:
        if name in ws.tables:
            cells = ws[ws.tables[name].ref]
            header = [c.value for c in cells[0]]
            return [dict(zip(header, (c.value for c in row))) for row in cells[1:]]
    raise AssertionError(f"no table {name!r}")


def charts(book) -> dict[str, list[tuple[str, int]]]:
    return {ws.title: [(type(c).__name__, len(c.series)) for c in ws._charts] for ws in book}


def close(a, b) -> bool:
    return a == pytest.approx(b, rel=EXCEL_DIGITS, abs=1e-12)


def is_png(path: Path) -> bool:
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24])[0] > 500


@pytest.fixture(scope="module")
def hiv_report(runner, tmp_path_factory):
    out = tmp_path_factory.mktemp("hiv") / "report"
    run(runner, CHANCELLOR, "--out", out, "--figures")
    return out


# ------------------------------------------------------------------------------------------------
# One scenario


def test_run_writes_the_workbook_and_figures_and_the_manifest_lists_them(hiv_report):
    out = hiv_report
    assert (out / "run.xlsx").is_file() and is_png(out / "cost_by_category.png")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"run.xlsx", "cost_by_category.png", "summary.json", "results.csv"} <= set(manifest["outputs"])
    assert manifest["finished"] >= manifest["started"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_workbook_sheets_and_charts(hiv_report):
    book = openpyxl.load_workbook(hiv_report / "run.xlsx")
    assert book.sheetnames == ["Summary", "Inputs", "Costs", "Incremental", "Net benefit", "Trace", "About"]
    assert charts(book) == {
        "Summary": [],
        "Inputs": [],
        "Costs": [("BarChart", 3)],  # one series per cost category
        "Incremental": [],
        "Net benefit": [("LineChart", 2)],  # one line per strategy
        "Trace": [("LineChart", 4), ("LineChart", 4)],
        "About": [],
    }  # per strategy, a line per state
    stacked = book["Costs"]._charts[0]
    assert stacked.grouping == "stacked"


def test_headline_numbers_equal_summary_json(hiv_report):
    summary = json.loads((hiv_report / "summary.json").read_text(encoding="utf-8"))
    rows = read_table(openpyxl.load_workbook(hiv_report / "run.xlsx"), "headline")
    assert [r["Strategy"] for r in rows] == [e["label"] for e in summary["strategies"].values()]
    for row, entry in zip(rows, summary["strategies"].values()):
        assert close(row["Total cost"], entry["cost_total"])
        assert close(row["Life-years"], entry["outcomes"]["life_years"])
        assert close(row["Incremental cost"], entry["incremental_cost"])
        assert close(row["Incremental life-years"], entry["incremental_effect"])
        assert row["Efficiency frontier"] == entry["frontier_status"]
    assert rows[0]["ICER (GBP per life-year)"] == "reference"  # null in summary.json
    assert close(rows[1]["ICER (GBP per life-year)"], summary["strategies"]["comb"]["icer"])
    costs = read_table(openpyxl.load_workbook(hiv_report / "run.xlsx"), "costs_by_category")
    for row, entry in zip(costs, summary["strategies"].values()):
        assert close(row["Drugs"], entry["cost_by_category"]["drugs"]) and close(row["Total"], entry["cost_total"])


def test_summary_sheet_reads_in_plain_language(hiv_report):
    ws = openpyxl.load_workbook(hiv_report / "run.xlsx")["Summary"]
    text = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert text[0].startswith("HIV: zidovudine monotherapy")
    assert any(
        "costs £5,938 more and yields 0.946 more life-years than zidovudine monotherapy per patient "
        "over 20 years: £6,276 per life-year gained" in t
        for t in text
    )


def test_inputs_and_about_let_a_reader_trace_every_number(hiv_report):
    book = openpyxl.load_workbook(hiv_report / "run.xlsx")
    params = {r["Parameter"]: r for r in read_table(book, "parameters")}
    assert close(params["p_AB"]["Value"], 350 / 1734)
    assert params["rr"]["Distribution"] == "lognormal" and "Chancellor" in params["rr"]["Source"]
    about = {r["item"]: r["value"] for r in read_table(book, "about")}
    sha = hashlib.sha256(CHANCELLOR.read_bytes()).hexdigest()
    assert about["Input 1"] == f"{CHANCELLOR}\nSHA-256 {sha}"
    assert about["Seed"] == "none (deterministic)" and about["Command"] == "run"
    manifest = json.loads((hiv_report / "manifest.json").read_text(encoding="utf-8"))
    assert about["Command line"] == shlex.join([Path(manifest["argv"][0]).name, *manifest["argv"][1:]])
    assert about["Started (UTC)"] == manifest["started"] and about["costspine version"] == manifest["costspine_version"]
    assert about["Outputs"] == ", ".join(manifest["outputs"])


def test_indicator_trajectory_sheet_chart_and_figure(runner, tmp_path):
    out = tmp_path / "report"
    run(runner, hostile_chancellor(tmp_path), "--out", out, "--figures")
    book = openpyxl.load_workbook(out / "run.xlsx")
    assert book.sheetnames == ["Summary", "Inputs", "Costs", "Incremental", "Net benefit", "Trace", "Trajectory", "About"]
    assert charts(book)["Trajectory"] == [("LineChart", 2)]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = read_table(book, "headline")
    name = "Share with AIDS among the living, 10 years"
    for row, entry in zip(rows, summary["strategies"].values()):
        assert close(row[name], entry["indicators"]["aids"]["10"])
    trajectory = read_table(book, "trajectory_1")
    assert [r["Cycle"] for r in trajectory] == list(range(21))
    assert is_png(out / "aids_trajectory.png")
    assert "aids_trajectory.png" in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]


def test_formula_like_text_from_a_scenario_is_stored_as_text(runner, tmp_path):
    out = tmp_path / "report"
    run(runner, hostile_chancellor(tmp_path), "--out", out)
    book = openpyxl.load_workbook(out / "run.xlsx")
    cells = [c for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    values = {c.value for c in cells}
    for text in (
        f"{INJECTIONS[3]} HIV: zidovudine monotherapy vs combination with lamivudine (Chancellor 1997)",
        INJECTIONS[1],
        INJECTIONS[2],
        "=1+1",
    ):
        assert text in values, text
    assert any(isinstance(v, str) and v.startswith(INJECTIONS[0]) for v in values)
    for c in cells:
        if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")):
            assert c.data_type == "s" and c.quotePrefix, c.coordinate  # stays text when edited too


def test_xlsx_option_writes_the_workbook_there(runner, tmp_path):
    out, target = tmp_path / "report", tmp_path / "elsewhere" / "hiv.xlsx"
    run(runner, CHANCELLOR, "--out", out, "--xlsx", target, "--figures")
    assert target.is_file() and not (out / "run.xlsx").exists()
    assert is_png(out / "cost_by_category.png")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert str(target) in manifest["outputs"]
    assert openpyxl.load_workbook(target).sheetnames[0] == "Summary"


def test_xlsx_must_end_in_xlsx_and_nothing_is_written(runner, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(cli, ["run", str(CHANCELLOR), "--out", str(out), "--xlsx", str(tmp_path / "run.csv")])
    assert result.exit_code == 2, result.output
    assert "must be written to a .xlsx file" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_a_failed_run_writes_no_workbook(runner, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(edit("discount_costs = 0.06", "discount_costs = 6", BASE), encoding="utf-8")
    out = tmp_path / "report"
    result = runner.invoke(cli, ["run", str(bad), "--out", str(out)])
    assert result.exit_code == 3
    assert not out.exists()


def test_microsimulation_workbook_shows_monte_carlo_errors(runner, tmp_path):
    out = tmp_path / "report"
    run(
        runner,
        ROOT / "scenarios" / "examples" / "sick_sicker.toml",
        "--method",
        "microsim",
        "--individuals",
        500,
        "--seed",
        5,
        "--out",
        out,
    )
    book = openpyxl.load_workbook(out / "run.xlsx")
    assert book.sheetnames == ["Summary", "Inputs", "Costs", "Incremental", "Net benefit", "Trace", "Monte Carlo error", "About"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = {(r["Strategy"], r["Quantity"]): r for r in read_table(book, "monte_carlo_error")}
    se = summary["microsimulation"]["strategies"]["treatment"]
    assert close(rows["Treatment", "Total cost"]["Monte Carlo SE"], se["cost_total_se"])
    assert close(rows["Treatment", "Incremental QALYs"]["Monte Carlo SE"], se["incremental_outcomes_se"]["qalys"])
    about = {r["item"]: r["value"] for r in read_table(book, "about")}
    assert about["Seed"] == "5"


# ------------------------------------------------------------------------------------------------
# Several scenarios: one comparison workbook


def test_comparison_workbook(runner, tmp_path):
    cut = tmp_path / "cheap_drugs.toml"
    cut.write_text(
        f'extends = "{CHANCELLOR}"\n\n[model]\nname = "cheap_drugs"\ntitle = "Drug prices halved"\n\n'
        '[parameters.c_zidovudine]\nvalue = 1150.5\nsource = "policy: half price"\n',
        encoding="utf-8",
    )
    out, target = tmp_path / "report", tmp_path / "compare.xlsx"
    run(runner, CHANCELLOR, cut, "--out", out, "--xlsx", target, "--figures")
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Summary", "Inputs", "Costs", "Cost-effectiveness", "About"]
    assert charts(book)["Costs"] == [("BarChart", 3), ("BarChart", 2)]  # categories stacked; strategies side by side
    summaries = json.loads((out / "summary.json").read_text(encoding="utf-8"))["scenarios"]
    rows = read_table(book, "headline")
    entries = [(s["scenario"], e) for s in summaries for e in s["strategies"].values()]
    assert [(r["Scenario"], r["Strategy"]) for r in rows] == [(name, e["label"]) for name, e in entries]
    for row, (_, e) in zip(rows, entries):
        assert close(row["Total cost"], e["cost_total"]) and close(row["Life-years"], e["outcomes"]["life_years"])
        assert close(row["Drugs"], e["cost_by_category"]["drugs"])
    assert close(rows[2]["Cost vs hiv_chancellor"], entries[2][1]["cost_total"] - entries[0][1]["cost_total"])
    assert rows[2]["Cost vs hiv_chancellor"] < 0
    params = {r["Parameter"]: r for r in read_table(book, "parameters")}
    assert (params["c_zidovudine"]["hiv_chancellor"], params["c_zidovudine"]["cheap_drugs"]) == (2278, 1150.5)
    assert params["c_zidovudine"]["Differs"] == "yes" and params["rr"]["Differs"] is None
    assert is_png(out / "cost_by_category.png")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert str(target) in manifest["outputs"] and len(manifest["inputs"]) == 2


# ------------------------------------------------------------------------------------------------
# The other commands write <command>.xlsx too


def invoke(runner, *args):
    result = runner.invoke(cli, [*map(str, args), "--quiet"])
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 0, result.output
    return json.loads((Path(args[args.index("--out") + 1]) / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def psa_report(runner, tmp_path_factory):
    out = tmp_path_factory.mktemp("psa") / "psa"
    summary = invoke(runner, "psa", CHANCELLOR, "--draws", 200, "--evppi", "rr", "--out", out, "--figures")
    return out, summary


def test_psa_workbook(psa_report):
    out, summary = psa_report
    book = openpyxl.load_workbook(out / "psa.xlsx")
    assert book.sheetnames == ["Summary", "Inputs", "PSA summary", "CE plane", "CEAC", "EVPI", "About"]
    found = charts(book)
    assert found["CE plane"] == [("ScatterChart", 1)]  # one comparator against the reference
    assert found["CEAC"] == [("LineChart", 3)]  # two strategies and the frontier
    assert found["EVPI"] == [("LineChart", 1)]
    rows = read_table(book, "headline")
    for row, (strategy, entry) in zip(rows, summary["strategies"].items()):
        assert close(row["Mean cost"], entry["cost_total"]["mean"]) and close(row["Cost 97.5%"], entry["cost_total"]["upper"])
        assert close(row["Mean life-years"], entry["outcomes"]["life_years"]["mean"])
        for w in ("5000", "30000"):
            assert close(row[f"P(cost-effective) at £{int(w):,}"], summary["prob_cost_effective"][w][strategy])
    assert close(rows[1]["ICER of means (GBP per life-year)"], summary["incremental"]["comb"]["icer_of_means"])
    evppi = read_table(book, "evppi")
    assert [r["Parameters"] for r in evppi] == ["rr"] * 4
    assert close(evppi[1]["EVPPI per person"], summary["evppi"][1]["evppi_per_person"])
    plane = read_table(book, "ce_plane")
    assert len(plane) == 200
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name in ("psa.xlsx", "ce_plane.png", "ceac.png", "evpi.png"):
        assert name in manifest["outputs"]
        assert name.endswith(".xlsx") or is_png(out / name)


def test_voi_workbook(runner, psa_report, tmp_path):
    out = tmp_path / "voi"
    summary = invoke(runner, "voi", psa_report[0], "--evppi", "rr", "--out", out, "--figures")
    book = openpyxl.load_workbook(out / "voi.xlsx")
    assert book.sheetnames == ["Summary", "EVPPI", "About"]
    rows = read_table(book, "headline")
    assert [close(r["EVPI per person"], summary["evpi_per_person"][str(int(r["WTP (GBP per life year)"]))]) for r in rows] == [
        True
    ] * 4
    assert is_png(out / "evpi.png")
    # the EVPPI bar chart: one horizontal bar per parameter group, one series per threshold
    assert [(type(c).__name__, c.type, len(c.series)) for c in book["EVPPI"]._charts] == [("BarChart", "bar", 4)]
    by_group = read_table(book, "evppi_by_group")
    assert [r["Parameter group"] for r in by_group] == ["rr"]
    assert close(by_group[0][f"at £{int(summary['evppi'][-1]['wtp']):,} per life year"], summary["evppi"][-1]["evppi_per_person"])


def test_dsa_workbook(runner, tmp_path):
    out = tmp_path / "dsa"
    summary = invoke(runner, "dsa", CHANCELLOR, "--out", out)
    book = openpyxl.load_workbook(out / "dsa.xlsx")
    assert book.sheetnames == ["Summary", "Inputs", "Tornado comb", "Ranges", "Thresholds", "About"]
    tornadoes = book["Tornado comb"]._charts
    assert [(type(c).__name__, c.type, len(c.series)) for c in tornadoes] == [("BarChart", "bar", 2)] * 4  # one per WTP
    first = summary["tornado"]["comb vs mono"]["5000"]
    rows = read_table(book, "headline")
    assert [r["Parameter"] for r in rows] == [p["parameter"] for p in first[:10]]
    for row, p in zip(rows, first):
        assert close(row["Incremental NMB, low"], p["inc_nmb_low"]) and close(row["NMB swing"], p["swing_nmb"])
    assert is_png(out / "tornado_comb.png")
    assert "dsa.xlsx" in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]


def test_bia_workbook(runner, tmp_path):
    out = tmp_path / "bia"
    summary = invoke(runner, "bia", ROOT / "scenarios" / "spine" / "bia_medicare_injection_cut.toml", "--out", out)
    book = openpyxl.load_workbook(out / "bia.xlsx")
    assert book.sheetnames == [
        "Summary",
        "Inputs",
        "Unit prices",
        "Plan",  # members, rates, mixes, policies and the prevalent patients' model, from [budget_impact]
        "Budget by year",
        "By category",
        "Services",
        "Health",
        "Pathway mix",
        "Calculator",  # the live budget calculator (tests/cli/test_bia_calculator.py)
        "About",
    ]
    found = charts(book)
    assert found["Budget by year"] == [("BarChart", 2)]  # current and new mix
    assert found["By category"] == [("BarChart", len(summary["categories"]))]
    rows = read_table(book, "headline")
    assert [r["Year"] for r in rows] == [*range(1, summary["years"] + 1), "total"]
    for row in rows:
        year = str(row["Year"])
        assert close(row["Difference"], summary["budget_difference"][year]["mean"])
        assert close(row["PMPM difference"], summary["pmpm_difference"][year]["mean"])
    params = {r["Parameter"]: r for r in read_table(book, "parameters")}
    assert params["cut_professional"]["Differs"] == "yes"  # the policy's value beside the base scenario's
    chronic = {r["Parameter"]: r for r in read_table(book, "parameters_prevalent")}  # the prevalent patients' model
    assert chronic["cut_professional"]["chronic_injection_cut_50"] == 0.5 and chronic["cut_professional"]["Differs"] == "yes"
    assert {r["Setting"] for r in read_table(book, "plan")} >= {"Members in year 1", "Prevalent patients: policy"}
    for name in ("budget_by_year.png", "budget_difference_by_category.png"):
        assert is_png(out / name)


def test_xlsx_option_of_the_other_commands(runner, tmp_path):
    out, target = tmp_path / "dsa", tmp_path / "elsewhere" / "tornado.xlsx"
    invoke(runner, "dsa", CHANCELLOR, "--out", out, "--xlsx", target)
    assert target.is_file() and not (out / "dsa.xlsx").exists()
    assert str(target) in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    for command in ("psa", "dsa"):
        bad = tmp_path / f"refused_{command}"
        result = runner.invoke(cli, [command, str(CHANCELLOR), "--out", str(bad), "--xlsx", str(tmp_path / "x.xls")])
        assert result.exit_code == 2 and "must be written to a .xlsx file" in result.output, result.output
        assert not bad.exists()  # refused before anything was computed or written


def test_run_draws_figures_only_with_the_figures_option(runner, tmp_path):
    out = tmp_path / "report"
    run(runner, CHANCELLOR, "--out", out)
    assert (out / "run.xlsx").is_file() and (out / "results.csv").is_file()
    assert not list(out.glob("*.png"))
    assert not [o for o in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"] if o.endswith(".png")]
