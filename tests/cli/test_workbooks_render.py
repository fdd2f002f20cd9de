"""Every workbook costspine writes (run, run comparison, psa, voi, dsa, bia, individualised) opens in
LibreOffice Calc, converts to PDF and renders to PNG pages (pdftoppm) with its charts drawn; a
workbook edited and saved by LibreOffice reads back through ``--inputs`` with no spurious change.

Slow (LibreOffice starts and lays out ~90 pages); skipped when LibreOffice is not installed
(``apt-get install -y --no-install-recommends libreoffice-calc-nogui poppler-utils``).
``fit`` is left out: its workbook needs a PyMC calibration, minutes long.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from helpers import ROOT, invoke

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
        reason="LibreOffice (soffice) or pdftoppm is not installed: "
        "apt-get install -y --no-install-recommends libreoffice-calc-nogui poppler-utils",
    ),
]

SPINE = ROOT / "scenarios" / "spine"

# workbook -> chart titles its PDF must show (a chart LibreOffice could not draw has no text)
CHARTS = {
    "run": ["Cost per patient by category", "State occupancy"],
    "compare": ["Cost per patient"],
    "psa": ["Cost-effectiveness", "EVPI"],
    "voi": ["EVPPI per person by parameter group"],
    "dsa": [],
    "bia": ["Difference by category and year"],
    "individualised": [],
}


def soffice(*args, profile, timeout=600):
    """Run LibreOffice headless with a private profile (runs beside any other soffice)."""
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory):
    out = tmp_path_factory.mktemp("books")
    base = SPINE / "base_case.toml"
    commands = {
        "run": ("run", base),
        "compare": ("run", base, SPINE / "injection_cut_50.toml"),
        "psa": ("psa", base, "--draws", "60"),
        "voi": ("voi", out / "psa", "--evppi", "each"),
        "dsa": ("dsa", base),
        "bia": ("bia", SPINE / "bia_commercial_plan.toml"),
        "individualised": ("individualised", ROOT / "scenarios" / "precision" / "chronic_lbp_best.toml", "--draws", "20"),
    }
    books = {}
    for name, (command, *args) in commands.items():
        result = invoke(command, *args, "--out", out / name, "--quiet")
        assert result.exit_code == 0, (name, result.stderr)
        (book,) = (out / name).glob("*.xlsx")
        books[name] = book
    return books


def test_every_workbook_renders_to_pages_with_its_charts(workbooks, tmp_path):
    from openpyxl import load_workbook

    pdfs = tmp_path / "pdf"
    copies = []
    for name, book in workbooks.items():  # distinct names: LibreOffice writes <stem>.pdf
        copy = tmp_path / f"{name}.xlsx"
        shutil.copy(book, copy)
        copies.append(copy)
    soffice("--convert-to", "pdf", "--outdir", pdfs, *copies, profile=tmp_path / "profile")
    for name, book in workbooks.items():
        pdf = pdfs / f"{name}.pdf"
        assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-", name
        subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tmp_path / name)], check=True, timeout=300)
        pages = sorted(tmp_path.glob(f"{name}-*.png"))
        sheets = load_workbook(book, read_only=True).sheetnames
        assert len(pages) >= len(sheets), f"{name}: {len(pages)} pages for {len(sheets)} sheets"
        assert all(page.stat().st_size > 500 for page in pages), name  # drawn, not blank
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
            for title in CHARTS[name]:
                assert title in text, f"{name}: chart {title!r} not drawn"


def test_a_workbook_saved_by_libreoffice_reads_back_unchanged(workbooks, tmp_path):
    from costspine.scenario.workbook_inputs import load_scenario_with_inputs

    copy = tmp_path / "in" / "run.xlsx"
    copy.parent.mkdir()
    shutil.copy(workbooks["run"], copy)
    soffice("--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", tmp_path / "saved", copy, profile=tmp_path / "profile")
    scenario = load_scenario_with_inputs(SPINE / "base_case.toml", tmp_path / "saved" / "run.xlsx")
    assert scenario.edits == ()
