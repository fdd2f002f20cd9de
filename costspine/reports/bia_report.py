"""Files of ``costspine bia``: ``summary.json``, the CSV tables, and the whole output folder.

Works on :class:`costspine.analysis.bia_run.BiaRun` objects (results already computed); no pandas.
The printed text and the summary record are :mod:`costspine.analysis.bia_summary`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine._files import distinct_folder_names, write_csv, write_json
from costspine.analysis.bia_summary import (  # noqa: F401
    MEASURES,
    _years,
    format_bia,
    format_bia_comparison,
    summarize_bia,
)
from costspine.reports.manifest import build_manifest

# --------------------------------------------------------------------------------------------
# Files


def _triples(run, measure, item, year) -> list:
    row = run.value(measure, item, year)
    return [row["mean"], "" if row["low"] is None else row["low"], "" if row["high"] is None else row["high"]]


def _triple_headers(names) -> list:
    return [h for n in names for h in (n, f"{n}_low", f"{n}_high")]


def write_bia_reports(run, out_dir: Path) -> list[Path]:
    """Write ``summary.json``, ``budget_by_year.csv``, ``budget_by_category.csv`` and ``services.csv``."""
    out_dir = Path(out_dir)
    years = _years(run)
    by_year = []
    for y in years:
        members = run.members_by_year.sum() if y == "total" else run.members_by_year[y - 1]
        row = [y, float(members)] + _triples(run, "episodes", "all", y)
        for prefix in ("budget", "pmpm"):
            for m in MEASURES:
                row += _triples(run, f"{prefix}_{m}", "all", y)
        by_year.append(row)
    year_headers = (
        ["year", "members"]
        + _triple_headers(["episodes"])
        + _triple_headers([f"{p}_{m}" for p in ("budget", "pmpm") for m in MEASURES])
    )
    by_category = [
        [c, y] + [v for m in MEASURES for v in _triples(run, f"budget_{m}", c, y)] for c in run.budget.categories for y in years
    ]
    services = [
        [s, y] + [v for m in MEASURES for v in _triples(run, f"services_{m}", s, y)] for s in run.budget.services for y in years
    ]
    return [
        write_json(out_dir / "summary.json", summarize_bia(run)),
        write_csv(out_dir / "budget_by_year.csv", year_headers, by_year),
        write_csv(out_dir / "budget_by_category.csv", ["category", "year"] + _triple_headers(MEASURES), by_category),
        write_csv(out_dir / "services.csv", ["service", "year"] + _triple_headers(MEASURES), services),
    ]


def write_bia_comparison(runs: list, path: Path) -> Path:
    """``comparison.csv``: budgets and PMPM (with intervals) of several scenarios, by year and in total."""
    names = [f"{p}_{m}" for p in ("budget", "pmpm") for m in MEASURES]
    rows = [[r.scenario.name, y] + [v for name in names for v in _triples(r, name, "all", y)] for r in runs for y in _years(r)]
    return write_csv(path, ["scenario", "year"] + _triple_headers(names), rows)


def write_bia_report(analysis, *, out_dir: Path, xlsx: Path, argv: list[str], started: datetime) -> list[Path]:
    """Write the output folder of ``costspine bia``; return the files written.

    One scenario writes into ``out_dir``; several write one subfolder per scenario plus
    ``comparison.csv`` and a ``summary.json`` listing them. ``manifest.json`` records the inputs
    of every scenario and policy file, the command line and the seed. The workbook (one, comparing
    the scenarios when several) goes to ``xlsx``.

    Parameters
    ----------
    analysis : BiaAnalysis
        From :func:`costspine.analysis.bia_run.analyze_bia`.
    out_dir : Path
    xlsx : Path
        From :func:`costspine.reports.build.workbook_path`.
    argv : list of str
    started : datetime
    """
    from costspine.reports.build import output_name, with_about
    from costspine.reports.build_bia import build_bia_workbook, plan_bia_figures
    from costspine.reports.excel import write_workbook

    out_dir = Path(out_dir)
    runs = list(analysis.runs)
    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    book = build_bia_workbook(runs, manifest={})
    figures = plan_bia_figures(runs, folder=out_dir)
    written = []
    if len(runs) == 1:
        written += write_bia_reports(runs[0], out_dir)
    else:
        for r, folder in zip(runs, distinct_folder_names([r.scenario.name for r in runs])):  # same names: name, name-2
            written += write_bia_reports(r, out_dir / folder)
        written.append(write_bia_comparison(runs, out_dir / "comparison.csv"))
        written.append(write_json(out_dir / "summary.json", {"scenarios": [summarize_bia(r) for r in runs]}))
    written += [plot() for plot in figures]
    manifest = build_manifest(
        command="bia",
        argv=list(argv),
        inputs=analysis.inputs,
        seed=analysis.seed,
        started=started,
        scenarios=[r.scenario for r in runs],
        outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir)],
    )
    manifest["draws"] = analysis.draws
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    return written
