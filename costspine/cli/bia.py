"""``costspine bia``: budget impact of one or more scenarios, printed and written to files.

The analysis is :func:`costspine.analysis.bia_run.analyze_bia`; the folder is written by
:func:`costspine.reports.bia_report.write_bia_report`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine.scenario.types import Scenario


def run_bia_command(scenarios: list[Scenario], *, members=None, years=None, draws: int = 0, seed=None,
                    out_dir: Path, argv: list[str], started: datetime, progress=None, xlsx_path=None) -> str:
    """Budget impact of each scenario: compute all, then write the reports; return the text to print.

    One scenario writes into ``out_dir``; several write one subfolder per scenario plus
    ``comparison.csv`` and a ``summary.json`` listing them. The workbook goes to ``xlsx_path`` if
    given, else ``bia.xlsx`` in ``out_dir``.

    Raises
    ------
    ScenarioError
        Every problem of every scenario's ``[budget_impact]`` section and policy, together.
    UsageError
        A bad option (see :func:`costspine.analysis.bia_run.compute_bia`).
    """
    from costspine.analysis.bia_run import analyze_bia
    from costspine.reports.bia_report import write_bia_report
    from costspine.reports.build import workbook_path

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="bia")
    analysis = analyze_bia(scenarios, members=members, years=years, draws=draws, seed=seed, progress=progress)
    write_bia_report(analysis, out_dir=Path(out_dir), xlsx=xlsx, argv=argv, started=started)
    return analysis.summary()
