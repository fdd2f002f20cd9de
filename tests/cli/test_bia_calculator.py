"""The Calculator sheet of ``bia.xlsx`` recalculates in LibreOffice to what ``costspine bia`` computes.

The workbook of a bundled BIA scenario is edited with openpyxl (members, growth, episode rate,
prevalence, discount rate, uptake of the acute and the chronic pathways), recalculated by
LibreOffice headless (``--convert-to xlsx`` computes every formula on load: openpyxl stores none of
their values) and read back; its budget by year, difference and PMPM must equal, within 0.01 %,
``costspine bia`` run on a copy of the scenario file with the same edits. No figure is pinned:
both sides come from the same files. Also checked without LibreOffice: the sheet's formulas
reference the input cells, and no result cell holds a number.

Slow (two ``bia`` runs and a LibreOffice start per scenario); skipped when LibreOffice is absent
(``apt-get install -y --no-install-recommends libreoffice-calc-nogui``).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from helpers import ROOT, invoke, read_csv

SPINE = ROOT / "scenarios" / "spine"
TOLERANCE = 1e-4  # 0.01 %
RESULTS = {
    "Current budget": "budget_current",
    "New budget": "budget_new",
    "Difference": "budget_difference",
    "PMPM current": "pmpm_current",
    "PMPM new": "pmpm_new",
    "PMPM difference": "pmpm_difference",
}
ICE_UPTAKE = [0.20, 0.30, 0.40, 0.50, 0.60]  # share of new episodes in ICE, years 1-5 (new world)
GUIDELINE_UPTAKE = 0.30  # share of chronic patients in guideline care (new world)


def _sub(pattern: str, new: str, text: str) -> str:
    out, n = re.subn(pattern, new, text, count=1, flags=re.MULTILINE | re.DOTALL)
    assert n == 1, f"test setup: {pattern!r} not found in the scenario file"
    return out


def _parameter(text: str, name: str) -> float:
    match = re.search(rf"^\[parameters\.{name}\]\nvalue = ([0-9.]+)", text, flags=re.MULTILINE)
    assert match, f"test setup: parameter {name} has no value line in the scenario file"
    return float(match.group(1))


def _edit_scenario(text: str) -> str:
    """The scenario file with the edits the test makes in the sheet."""
    text = _sub(r"^members = .*?$", "members = 750_000", text)
    text = _sub(r"^member_growth_per_year = .*?$", "member_growth_per_year = 0.03", text)
    text = _sub(r"^discount_rate = .*?$", "discount_rate = 0.03", text)
    rate = re.search(r'\[budget_impact\.episodes_per_1000_members\]\nvalue = "(\w+)"', text).group(1)
    text = _sub(rf"^(\[parameters\.{rate}\]\nvalue = )[0-9.]+", rf"\g<1>{_parameter(text, rate) * 0.8!r}", text)
    share = _parameter(text, "share_chronic_in_care")
    text = _sub(r"^(\[parameters\.share_chronic_in_care\]\nvalue = )[0-9.]+", rf"\g<1>{share * 1.2!r}", text)
    text = _sub(
        r"^\[budget_impact\.mix_new\]\n.*?\n\n", f'[budget_impact.mix_new]\nice = {ICE_UPTAKE}\nusual_care = "rest"\n\n', text
    )
    return _sub(r"^mix_new = \{.*?\}$", f'mix_new = {{ guideline_care = {GUIDELINE_UPTAKE}, usual_care = "rest" }}', text)


def _find(ws, text: str, *, start: bool = False):
    """Row of the first cell in column A equal to (or starting with) ``text``."""
    for row in range(1, ws.max_row + 1):
        value = ws.cell(row, 1).value
        if isinstance(value, str) and (value.startswith(text) if start else value == text):
            return row
    raise AssertionError(f"no {text!r} in column A of the Calculator sheet")


def _edit_sheet(ws) -> None:
    def scale(label, factor, *, start=False):
        cell = ws.cell(_find(ws, label, start=start), 2)
        cell.value = cell.value * factor

    ws.cell(_find(ws, "Members in year 1"), 2).value = 750_000
    ws.cell(_find(ws, "Member growth a year"), 2).value = 0.03
    ws.cell(_find(ws, "Discount rate a year", start=True), 2).value = 0.03
    scale("New spine-pain episodes per 1,000 members a year", 0.8)
    scale("Prevalent patients per 1,000 members", 1.2, start=True)  # share_chronic_in_care x 1.2
    # the chronic group (less the overlap with the episode rate) and its onset (steady state) are formulas: not edited
    for heading, shares in (
        ("Uptake: share of new acute", {"ICE": ICE_UPTAKE, "Usual care": [1 - s for s in ICE_UPTAKE]}),
        ("Uptake: share of chronic", {"Guideline": [GUIDELINE_UPTAKE] * 5, "Usual": [1 - GUIDELINE_UPTAKE] * 5}),
    ):
        header = _find(ws, heading, start=True) + 1
        columns = {ws.cell(header, c).value: c for c in range(2, ws.max_column + 1) if ws.cell(header, c).value}
        for name, column in columns.items():
            if name.endswith(", new") and not name.startswith("Sum"):
                values = next((v for prefix, v in shares.items() if name.startswith(prefix)), [0.0] * 5)
                for y, value in enumerate(values):
                    assert ws.cell(header + 1 + y, 1).value == y + 1
                    ws.cell(header + 1 + y, column).value = value


def _results(ws) -> dict:
    """``{(year or "total", column header): value}`` of the Budget by year block."""
    header = _find(ws, "Year")
    columns = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    out = {}
    for row in range(header + 1, header + 7):
        year = ws.cell(row, 1).value
        year = "total" if year == "Total" else int(year)
        for name in RESULTS:
            out[year, name] = ws.cell(row, columns[name]).value
    return out


def _run_bia(scenario, out):
    result = invoke("bia", scenario, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    return out / "bia.xlsx"


@pytest.fixture(scope="module", params=["bia_commercial_plan.toml", "bia_medicare_injection_cut.toml"])
def edited(request, tmp_path_factory):
    """(edited workbook, folder of ``costspine bia`` on the edited scenario file)."""
    from openpyxl import load_workbook

    folder = tmp_path_factory.mktemp("calc")
    spine = folder / "spine"
    shutil.copytree(SPINE, spine, ignore=shutil.ignore_patterns("base_case_bayes.toml"))
    book = _run_bia(spine / request.param, folder / "original")
    edited_file = spine / f"edited_{request.param}"
    edited_file.write_text(_edit_scenario((spine / request.param).read_text(encoding="utf-8")), encoding="utf-8")
    _run_bia(edited_file, folder / "edited")
    wb = load_workbook(book)
    _edit_sheet(wb["Calculator"])
    wb.save(folder / "sheet_edited.xlsx")
    return folder / "sheet_edited.xlsx", folder / "edited"


def test_every_result_cell_is_a_formula_over_the_inputs(edited):
    from openpyxl import load_workbook

    ws = load_workbook(edited[0])["Calculator"]
    header = _find(ws, "Year")
    for row in range(header + 1, header + 7):
        for column in range(2, ws.max_column + 1):
            value = ws.cell(row, column).value
            if value is not None:
                assert isinstance(value, str) and value.startswith("="), (row, column, value)
    budget = ws.cell(header + 1, [ws.cell(header, c).value for c in range(1, 20)].index("Current budget") + 1).value
    uptake = _find(ws, "Uptake: share of new acute", start=True) + 2
    assert f"$B${uptake}" in budget  # year 1's usual-care share of new episodes


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_recalculated_sheet_equals_costspine_bia_with_the_same_edits(edited, tmp_path):
    from openpyxl import load_workbook

    book, cli_out = edited
    profile = tmp_path / "profile"
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path / "recalculated"),
            str(book),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    sheet = _results(load_workbook(tmp_path / "recalculated" / book.name, data_only=True)["Calculator"])
    expected = {
        (int(row["year"]) if row["year"] != "total" else "total", name): float(row[key])
        for row in read_csv(cli_out / "budget_by_year.csv")
        for name, key in RESULTS.items()
    }
    assert set(sheet) == set(expected)
    original = read_csv(cli_out.parent / "original" / "budget_by_year.csv")[-1]
    assert abs(expected["total", "New budget"] / float(original["budget_new"]) - 1) > 0.05  # the edits changed the budget
    scale = {name: max(abs(v) for (_, n), v in expected.items() if n == name) for name in RESULTS}
    for key, value in expected.items():
        assert isinstance(sheet[key], (int, float)), (key, sheet[key])
        # relative to the value, or (a difference near 0) to the largest value of that column
        assert abs(sheet[key] - value) <= TOLERANCE * max(abs(value), 1e-3 * scale[key[1]]), (key, sheet[key], value)
