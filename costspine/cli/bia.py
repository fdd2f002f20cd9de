"""``costspine bia``: budget impact of one or more scenarios, printed and written to files.

The analysis is :func:`costspine.analysis.bia_run.analyze_bia`; the folder is written by
:func:`costspine.reports.bia_report.write_bia_report`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from costspine._limits import MAX_DRAWS
from costspine.cli.options import (
    default_out_dir,
    describe_edits,
    friendly,
    inputs_option,
    load_all,
    out_option,
    quiet_option,
    seed_option,
    writing_into,
    xlsx_option,
)

if TYPE_CHECKING:
    from costspine.scenario.types import Scenario


def run_bia_command(
    scenarios: list[Scenario],
    *,
    members=None,
    years=None,
    draws: int = 0,
    seed=None,
    out_dir: Path,
    argv: list[str],
    started: datetime,
    progress=None,
    xlsx_path=None,
) -> str:
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


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--members",
    type=click.FloatRange(min=0, min_open=True, max=10_000_000_000),
    default=None,
    help="Average plan members in year 1 (replaces budget_impact.members; at most 10 billion).",
)
@click.option(
    "--years",
    type=click.IntRange(min=1),
    default=None,
    help="Budget horizon in years, at most the file's budget_impact.years (default: the file's).",
)
@click.option(
    "--draws",
    type=click.IntRange(min=0, max=MAX_DRAWS),
    default=0,
    show_default=True,
    help="Parameter draws for 95% intervals; 0 = deterministic base case.",
)
@seed_option
@inputs_option
@out_option
@xlsx_option("bia")
@quiet_option
@friendly
def bia(scenarios, members, years, draws, seed, inputs_path, out_dir, xlsx_path, quiet):
    """Budget impact for a plan population over years, from SCENARIOS with a [budget_impact]
    section (side by side when several). See docs/budget-impact.md."""

    started = datetime.now(UTC)
    loaded = load_all(scenarios, inputs=inputs_path)
    if not quiet and inputs_path is not None:
        click.echo(describe_edits(loaded, inputs_path) + "\n")
    out_dir = out_dir or default_out_dir([s.name for s in loaded], "bia")
    with writing_into(out_dir, xlsx_path) as (staging, xlsx):
        text = run_bia_command(
            loaded,
            members=members,
            years=years,
            draws=draws,
            seed=seed,
            out_dir=staging,
            argv=sys.argv,
            started=started,
            progress=None if quiet else lambda line: click.echo(line, err=True),
            xlsx_path=xlsx,
        )
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")
