"""Output folder of ``costspine dsa``: tornado, ranges and threshold CSVs, summary, workbook, figures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine._files import write_csv, write_json
from costspine.reports.manifest import build_manifest

TORNADO_COLUMNS = [
    "strategy",
    "comparator",
    "wtp",
    "rank",
    "parameter",
    "group",
    "range_source",
    "base_value",
    "low_value",
    "high_value",
    "inc_cost_low",
    "inc_cost_high",
    "inc_effect_low",
    "inc_effect_high",
    "inc_nmb_base",
    "inc_nmb_low",
    "inc_nmb_high",
    "swing_nmb",
    "icer_base",
    "icer_low",
    "icer_high",
    "icer_status_base",
    "icer_status_low",
    "icer_status_high",
    "icer_signed_base",
    "icer_signed_low",
    "icer_signed_high",
    "swing_icer",
]


def write_dsa_report(result, *, by: str, out_dir: Path, xlsx: Path, argv: list[str], started: datetime) -> list[Path]:
    """Write a DSA's files into ``out_dir`` and its workbook to ``xlsx``; return the files written.

    Parameters
    ----------
    result : DSAResult
        From :func:`costspine.analysis.dsa.analyze_dsa`.
    by : {"nmb", "icer"}
        What the tornado is ranked by.
    out_dir : Path
    xlsx : Path
        From :func:`costspine.reports.build.workbook_path`.
    argv : list of str
    started : datetime
    """
    from costspine.analysis.dsa import summarize_dsa
    from costspine.reports.build import output_name, with_about
    from costspine.reports.build_dsa import build_dsa_workbook, plan_dsa_figures
    from costspine.reports.excel import write_workbook

    out_dir = Path(out_dir)
    summary = summarize_dsa(result, by=by)
    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    book = build_dsa_workbook(result, summary=summary, by=by, manifest={})
    figures = plan_dsa_figures(result, by=by, folder=out_dir)
    written = [
        write_csv(out_dir / "tornado.csv", TORNADO_COLUMNS, ([row[k] for k in TORNADO_COLUMNS] for row in result.tornado(by=by))),
        write_csv(
            out_dir / "ranges.csv",
            ["parameter", "group", "family", "base", "low", "high", "source"],
            [[r.name, r.group, r.family, r.base, r.low, r.high, r.source] for r in result.ranges],
        ),
        write_csv(
            out_dir / "thresholds.csv",
            ["wtp", "parameter", "threshold", "optimal_below", "optimal_above"],
            [[t.wtp, t.parameter, t.value, t.below, t.above] for t in result.thresholds],
        ),
        write_json(out_dir / "summary.json", summary),
    ]
    written += [plot() for plot in figures]
    manifest = build_manifest(
        command="dsa",
        argv=list(argv),
        inputs=list(result.scenario.files),
        seed=None,
        started=started,
        scenarios=[result.scenario],
        outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir)],
    )
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    return written
