"""``costspine dsa``: one-way sensitivity analysis, tornado data and threshold values, as files.

The analysis is :func:`costspine.analysis.dsa.analyze_dsa`; :func:`costspine.reports.dsa_report.write_dsa_report`
writes its results (atomically, after everything is computed).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from costspine.cli.options import (
    ScenarioPath,
    default_out_dir,
    describe_edits,
    friendly,
    inputs_option,
    load_all,
    out_option,
    parse_wtp,
    quiet_option,
    writing_into,
    wtp_option,
    xlsx_option,
)


def run_dsa_command(
    scenario,
    *,
    range_kind: str,
    by: str = "nmb",
    wtp=None,
    out_dir: Path,
    progress=None,
    argv: list[str],
    started: datetime,
    xlsx_path=None,
) -> str:
    """Run the one-way DSA of ``scenario``, write its files (the workbook to ``xlsx_path`` if given,
    else ``dsa.xlsx`` in ``out_dir``) and return the text to print."""
    from costspine.analysis.dsa import analyze_dsa
    from costspine.reports.build import workbook_path
    from costspine.reports.dsa_report import write_dsa_report

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="dsa")
    result = analyze_dsa(scenario, range_kind=range_kind, wtp=wtp, progress=progress)
    write_dsa_report(result, by=by, out_dir=Path(out_dir), xlsx=xlsx, argv=argv, started=started)
    return result.summary(by=by)


@click.command()
@click.argument("scenario", type=ScenarioPath())
@click.option(
    "--range",
    "range_kind",
    type=click.Choice(["minmax", "95ci"]),
    default="minmax",
    show_default=True,
    help="minmax: the low/high the scenario declares (else the 95% interval); 95ci: the distribution's 2.5% and 97.5% points.",
)
@click.option(
    "--by",
    type=click.Choice(["nmb", "icer"]),
    default="nmb",
    show_default=True,
    help="Rank the tornado by the swing in incremental NMB or in the ICER.",
)
@wtp_option
@inputs_option
@out_option
@xlsx_option("dsa")
@quiet_option
@friendly
def dsa(scenario, range_kind, by, wtp, inputs_path, out_dir, xlsx_path, quiet):
    """One-way sensitivity analysis of SCENARIO: tornado data and threshold values."""

    started = datetime.now(UTC)
    (loaded,) = load_all((scenario,), inputs=inputs_path)
    if not quiet and inputs_path is not None:
        click.echo(describe_edits([loaded], inputs_path) + "\n")
    out_dir = out_dir or default_out_dir([loaded.name], "dsa")
    with writing_into(out_dir, xlsx_path) as (staging, xlsx):
        text = run_dsa_command(
            loaded,
            range_kind=range_kind,
            by=by,
            wtp=parse_wtp(wtp),
            out_dir=staging,
            progress=None if quiet else lambda line: click.echo(line, err=True),
            argv=sys.argv,
            started=started,
            xlsx_path=xlsx,
        )
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")
