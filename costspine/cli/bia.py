"""``costspine bia``: budget impact of one or more scenarios, printed and written to files.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine._files import write_json
from costspine.analysis.bia_run import compute_bia
from costspine.errors import ScenarioError, UsageError
from costspine.reports.bia_report import (
    format_bia,
    format_bia_comparison,
    summarize_bia,
    write_bia_comparison,
    write_bia_reports,
)
from costspine.reports.manifest import build_manifest
from costspine.scenario.budget_impact import read_bia_spec
from costspine.scenario.types import Scenario


def run_bia_command(scenarios: list[Scenario], *, members=None, years=None, draws: int = 0, seed=None,
                    out_dir: Path, argv: list[str], started: datetime, progress=None, xlsx_path=None) -> str:
    """Budget impact of each scenario: compute all, then write the reports; return the text to print.

    One scenario writes into ``out_dir``; several write one subfolder per scenario plus
    ``comparison.csv`` and a ``summary.json`` listing them. ``manifest.json`` records the inputs
    of every scenario and policy file, the command line and the seed. The workbook (one, comparing
    the scenarios when several) goes to ``xlsx_path`` if given, else ``bia.xlsx`` in ``out_dir``.

    Raises
    ------
    ScenarioError
        Every problem of every scenario's ``[budget_impact]`` section and policy, together.
    UsageError
        A bad option (see :func:`compute_bia`).
    """
    from costspine.reports.build import output_name, with_about, workbook_path

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="bia")
    specs, problems = [], []
    for scenario in scenarios:
        try:
            specs.append(read_bia_spec(scenario))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise UsageError("two scenarios have the same name (" + ", ".join(sorted({n for n in names if names.count(n) > 1}))
                         + "); their reports would share a folder — give each a distinct [model] name")
    runs = [compute_bia(s, spec, members=members, years=years, draws=draws, seed=seed, progress=progress)
            for s, spec in zip(scenarios, specs)]
    text = "\n\n".join(format_bia(r) for r in runs)
    if len(runs) > 1:
        text += "\n\n" + format_bia_comparison(runs)

    out_dir = Path(out_dir)
    from costspine.reports.build_bia import build_bia_workbook, plan_bia_figures
    from costspine.reports.excel import write_workbook

    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    book = build_bia_workbook(runs, manifest={})
    figures = plan_bia_figures(runs, folder=out_dir)
    written = []
    if len(runs) == 1:
        written += write_bia_reports(runs[0], out_dir)
    else:
        for r in runs:
            written += write_bia_reports(r, out_dir / r.scenario.name)
        written.append(write_bia_comparison(runs, out_dir / "comparison.csv"))
        written.append(write_json(out_dir / "summary.json", {"scenarios": [summarize_bia(r) for r in runs]}))
    written += [plot() for plot in figures]
    inputs = list(dict.fromkeys(f for s, spec in zip(scenarios, specs)
                                for f in s.files + (spec.policy.files if spec.policy is not None else ())))
    manifest = build_manifest(command="bia", argv=list(argv), inputs=inputs, seed=seed if draws else None,
                              started=started, outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir)])
    manifest["draws"] = int(draws)
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    return text
