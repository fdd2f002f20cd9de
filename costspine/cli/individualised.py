"""``costspine individualised``: value of individualised care by phenotype group, as files.

The analysis is :func:`costspine.analysis.individualised.analyze_individualised`;
:func:`costspine.reports.individualised_report.write_individualised_report` writes it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def run_individualised_command(scenario, *, draws: int, seed: int, wtp=None, treatments=None, plan_size=None,
                               out_dir: Path, argv: list[str], started: datetime, xlsx_path=None) -> str:
    """Value individualised care for ``scenario``, write its files and return the text to print."""
    from costspine.analysis.individualised import analyze_individualised
    from costspine.reports.build import workbook_path
    from costspine.reports.individualised_report import write_individualised_report

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="individualised")
    result = analyze_individualised(scenario, draws=draws, seed=seed, wtp=wtp, treatments=treatments, plan_size=plan_size)
    write_individualised_report(result, scenario, out_dir=Path(out_dir), xlsx=xlsx, argv=argv, started=started)
    return result.summary()
