"""``costspine dsa``: one-way sensitivity analysis, tornado data and threshold values, as files.

The analysis is :func:`costspine.analysis.dsa.analyze_dsa`; :func:`costspine.reports.dsa_report.write_dsa_report`
writes its results (atomically, after everything is computed).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def run_dsa_command(scenario, *, range_kind: str, by: str = "nmb", wtp=None, out_dir: Path, progress=None,
                    argv: list[str], started: datetime, xlsx_path=None) -> str:
    """Run the one-way DSA of ``scenario``, write its files (the workbook to ``xlsx_path`` if given,
    else ``dsa.xlsx`` in ``out_dir``) and return the text to print."""
    from costspine.analysis.dsa import analyze_dsa
    from costspine.reports.build import workbook_path
    from costspine.reports.dsa_report import write_dsa_report

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="dsa")
    result = analyze_dsa(scenario, range_kind=range_kind, wtp=wtp, progress=progress)
    write_dsa_report(result, by=by, out_dir=Path(out_dir), xlsx=xlsx, argv=argv, started=started)
    return result.summary(by=by)
