"""What every command prints fits a 100-column terminal, and its tables read as a reader expects.

Each command runs on small scenarios (the HIV and Sick-Sicker examples, the toy two-group scenario,
the bundled spine base case and a spine budget-impact file) and its output is checked: no line
wider than 100 characters, numbers never split across lines, one number format per column, labels
rather than ids, ICERs in the scenario's currency per unit of effect and never negative.
"""

from __future__ import annotations

import csv
import json
import re

import pytest

from helpers import CHANCELLOR, SICK_SICKER, SPINE, TOY_SCENARIOS, invoke

WIDTH = 100
NUMBER = re.compile(r"^-?[\d,]*\d(\.\d+)?%?$")
WHOLE = re.compile(r"^-?\d{1,3}(,\d{3})*(\.\d+)?%?$")  # a split "12,471" leaves "12,4" or "12," behind


def tables_of(text: str) -> list[dict]:
    """Every plain-text table of ``text``: its column headers (wrapped lines joined) and cells, found
    from the rule line of dashes under the headers."""
    lines = text.splitlines()
    tables = []
    for k, line in enumerate(lines):
        if not line.startswith("---") or set(line) - {"-", " "}:
            continue
        spans, start = [], 0
        for dashes in line.split("  "):
            spans.append((start, start + len(dashes)))
            start += len(dashes) + 2
        top = k
        while top > 0 and lines[top - 1].strip() and not lines[top - 1].startswith(("Expected", "Incremental")):
            top -= 1
        body = []
        for row in lines[k + 1 :]:
            if not row.strip():
                break
            body.append(row)
        headers = [" ".join(" ".join(h[a:b] for h in lines[top:k]).split()) for a, b in spans]
        columns = [[row[a:b].strip() for row in body] for a, b in spans]
        tables.append({"headers": headers, "columns": columns, "rows": body})
    return tables


def check_output(text: str, *, formats: bool = True) -> None:
    """No line over 100 characters; every number cell whole and (``formats``) one format per column."""
    wide = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not wide, "\n".join(wide)
    assert not re.search(r"\[['\"(]", text), text  # a Python list or tuple is never printed as a cell
    tables = tables_of(text)
    assert tables, text
    for table in tables:
        for header, cells in zip(table["headers"], table["columns"]):
            numbers = [c for c in cells if NUMBER.match(c)]
            for cell in cells:  # a number is never split over lines: every piece of one is a well-formed number
                if cell and set(cell) <= set("-0123456789,.%"):
                    assert WHOLE.match(cell), (header, cell)
            if formats and numbers:
                decimals = {len(c.rstrip("%").split(".")[1]) if "." in c else 0 for c in numbers}
                assert len(decimals) == 1, (header, numbers)
            if "ICER" in header:
                assert not any(c.startswith("-") for c in cells), (header, cells)  # never a negative ICER
    assert "per unit of effect" not in text


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Each command's stdout (commands share a PSA folder for voi)."""
    out = tmp_path_factory.mktemp("terminal")
    runs = {
        "run hiv": ("run", CHANCELLOR, "--out", out / "r1"),
        "run spine": ("run", SPINE / "base_case.toml", "--out", out / "r2"),
        "run side by side": ("run", SPINE / "base_case.toml", SPINE / "injection_cut_50.toml", "--out", out / "r3"),
        "run microsim": ("run", SICK_SICKER, "--method", "microsim", "--individuals", "500", "--out", out / "r4"),
        "psa": ("psa", CHANCELLOR, "--draws", "60", "--population", "1000", "--horizon-years", "5", "--out", out / "p"),
        "dsa hiv": ("dsa", CHANCELLOR, "--out", out / "d1"),
        "dsa spine": ("dsa", SPINE / "base_case.toml", "--out", out / "d2"),
        "bia": ("bia", SPINE / "bia_commercial_plan.toml", "--out", out / "b"),
        "bia draws": ("bia", SPINE / "bia_commercial_plan.toml", "--draws", "8", "--out", out / "b2"),
        "individualised": ("individualised", TOY_SCENARIOS / "two_groups.toml", "--draws", "20", "--out", out / "i"),
        "scenarios": ("scenarios",),
    }
    texts = {}
    for name, args in runs.items():
        result = invoke(*args)
        assert result.exit_code == 0, (name, result.output)
        texts[name] = result.stdout
    result = invoke("voi", out / "p", "--evppi", "each", "--top", "3", "--out", out / "v")
    assert result.exit_code == 0, result.output
    texts["voi"] = result.stdout
    texts["folder"] = out
    return texts


@pytest.mark.parametrize(
    "command",
    ["run hiv", "run spine", "run side by side", "run microsim", "psa", "voi", "bia", "bia draws", "individualised", "scenarios"],
)
def test_every_table_fits_100_columns_with_one_format_per_column(outputs, command):
    check_output(outputs[command])


@pytest.mark.parametrize("command", ["dsa hiv", "dsa spine"])
def test_dsa_fits_100_columns(outputs, command):
    check_output(outputs[command], formats=False)  # parameter values: four significant digits each


def test_run_prints_labels_and_the_icer_in_currency_per_effect(outputs):
    text = outputs["run spine"]
    summary = json.loads((outputs["folder"] / "r2" / "summary.json").read_text(encoding="utf-8"))
    for id_ in ("usual_care", "qalys", "life_years", "primary_care"):
        assert id_ not in text, id_
    assert "Incremental results vs Usual care" in text and "QALYs" in text
    incremental = next(t for t in tables_of(text) if t["headers"][0] == "strategy" and "efficiency frontier" in t["headers"])
    assert incremental["headers"][3] == "ICER (USD per QALY)"
    section = " ".join(" ".join(incremental["rows"]).split())
    for entry in summary["strategies"].values():
        assert " ".join(entry["label"].split()) in section
        if entry["icer_status"] == "cost per unit gained":
            quoted = f"{entry['icer']:,.0f}" in incremental["columns"][3]  # the number, whole, as summary.json has it
            assert quoted == (entry["frontier_status"] == "frontier")  # never for a strategy off the frontier
        elif entry["icer_status"] == "dominant":
            assert entry["icer"] is None and "dominant" in incremental["columns"][3]
    if any(
        e["frontier_status"] == "dominated" and e["icer_status"] == "cost per unit gained" for e in summary["strategies"].values()
    ):
        assert "dominated by" in section


def test_summary_json_has_no_negative_icer(outputs):
    summary = json.loads((outputs["folder"] / "r2" / "summary.json").read_text(encoding="utf-8"))
    statuses = {s: e["icer_status"] for s, e in summary["strategies"].items()}
    assert statuses[summary["comparator"]] == "reference"
    for entry in summary["strategies"].values():
        assert entry["icer"] is None or entry["icer"] > 0
        if entry["icer_status"] == "dominant":
            assert entry["incremental_cost"] <= 0 < entry["incremental_effect"] and entry["icer"] is None


def test_dsa_says_dominant_instead_of_a_negative_icer(outputs):
    text = outputs["dsa spine"]
    rows = json.loads((outputs["folder"] / "d2" / "summary.json").read_text(encoding="utf-8"))["tornado"]
    first = next(iter(next(iter(rows.values())).values()))
    for row in first:
        for side in ("low", "high"):
            status = row[f"icer_status_{side}"]
            assert row[f"icer_{side}"] is None or row[f"icer_{side}"] > 0
            assert status in ("dominant", "dominated", "equal effect") or row[f"icer_{side}"] is not None
    assert "dominant" in text and "USD per" in text


def test_voi_evppi_is_sorted_and_says_how_many_rows_were_left_out(outputs):
    text = outputs["voi"]
    table = next(t for t in tables_of(text) if t["headers"][0] == "parameters")
    assert table["columns"][0][0] == "EVPI (all parameters)"
    shown = table["columns"][0][1:]
    assert len(shown) == 3
    with open(outputs["folder"] / "v" / "evppi.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    best = {}
    for r in rows:
        best[r["group"]] = max(best.get(r["group"], 0.0), float(r["evppi_per_person"]))
    assert len(best) > 3
    ranked = sorted(best, key=lambda g: -best[g])
    assert [best[g] for g in shown] == sorted((best[g] for g in shown), reverse=True)  # largest first
    assert min(best[g] for g in shown) >= best[ranked[3]]  # the top three, whatever the ties
    assert f"3 of {len(best)} parameter groups shown; the other {len(best) - 3} have smaller" in " ".join(text.split())


def test_bia_says_constant_money_of_the_price_year(outputs):
    text = outputs["bia"]
    summary = json.loads((outputs["folder"] / "b" / "summary.json").read_text(encoding="utf-8"))
    constant = f"constant {summary['price_year']} {summary['currency']}"
    assert constant in text and "nominal" not in text
    assert summary["price_basis"] == constant and summary["nominal"] is False


def test_scenarios_list_wraps_titles_not_paths(outputs):
    lines = outputs["scenarios"].splitlines()
    assert lines[0].split() == ["scenario", "file", "title"]
    paths = [line.split()[0] for line in lines[2:] if not line.startswith(" ")]
    assert paths and all(p.endswith(".toml") for p in paths)


def test_errors_are_wrapped_on_a_terminal_and_whole_in_a_pipe(tmp_path, monkeypatch):
    """On a terminal an error with long problem lines wraps at 100 columns, keeping every word and
    never cutting a path; piped (as the test runner's stream is) each problem stays one line."""
    from costspine.cli import options

    (tmp_path / "bad.toml").write_text('[model]\nname = "x"\ncycle_length = "week"\n[states]\nfoo = 3\n', encoding="utf-8")
    piped = invoke("validate", tmp_path / "bad.toml")
    assert piped.exit_code == 3
    assert any(len(line) > WIDTH for line in piped.stderr.splitlines()), piped.stderr  # the test needs a long problem

    monkeypatch.setattr(options, "stderr_is_terminal", lambda: True)
    shown = invoke("validate", tmp_path / "bad.toml")
    assert shown.exit_code == 3
    assert not [line for line in shown.stderr.splitlines() if len(line) > WIDTH and " " in line.strip()], shown.stderr
    assert shown.stderr.split() == piped.stderr.split()  # same words, same order
    assert len(shown.stderr.splitlines()) > len(piped.stderr.splitlines())
    for line in shown.stderr.splitlines()[1:]:  # continuation lines sit under their bullet's text
        assert line.startswith(("  - ", "    ")), line
