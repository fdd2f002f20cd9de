"""``costspine individualised``: value of individualised care by phenotype group, as files.

The analysis is :func:`costspine.analysis.individualised.analyze_individualised`;
:func:`costspine.reports.individualised_report.write_individualised_report` writes it.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from costspine._limits import MAX_DRAWS
from costspine.cli.options import (
    default_out_dir,
    friendly,
    load_all,
    method_options,
    out_option,
    quiet_option,
    seed_option,
    writing_into,
    xlsx_option,
)
from costspine.errors import UsageError


def run_individualised_command(
    scenario,
    *,
    draws: int,
    seed: int,
    wtp=None,
    treatments=None,
    plan_size=None,
    out_dir: Path,
    argv: list[str],
    started: datetime,
    xlsx_path=None,
    method: str = "cohort",
    individuals=None,
    draws_from=None,
    quiet: bool = True,
) -> str:
    """Value individualised care for ``scenario``, write its files and return the text to print."""
    from costspine.analysis.individualised import analyze_individualised
    from costspine.reports.build import workbook_path
    from costspine.reports.individualised_report import write_individualised_report

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="individualised")
    bar = None
    if method == "microsim" and not quiet and (draws or draws_from):
        from costspine.progress import ProgressBar

        bar = ProgressBar(draws or 1, label="microsimulation by group", unit="draws")
    try:
        result = analyze_individualised(
            scenario,
            draws=draws,
            seed=seed,
            wtp=wtp,
            treatments=treatments,
            plan_size=plan_size,
            method=method,
            individuals=individuals,
            draws_from=draws_from,
            on_draw=None if bar is None else (lambda: bar.advance(1)),
        )
    finally:
        if bar is not None:
            bar.close()
    write_individualised_report(result, scenario, out_dir=Path(out_dir), xlsx=xlsx, argv=argv, started=started)
    return result.summary()


@click.command()
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--draws",
    type=click.IntRange(min=0, max=MAX_DRAWS),
    default=1000,
    show_default=True,
    help="PSA draws for intervals and probabilities of being best (the same draws as psa --seed); 0 = base case only.",
)
@seed_option
@click.option(
    "--wtp",
    type=click.FloatRange(min=0),
    default=None,
    help="Willingness to pay per unit of effect (default: the middle of the scenario's [analysis] wtp).",
)
@click.option(
    "--treatments",
    default=None,
    metavar="S1,S2,...",
    help="Strategies that are single treatments (one size for all, and the oracle's choices); the "
    "other strategies are reported as allocation policies. Default: every strategy.",
)
@click.option(
    "--plan-size", type=click.FloatRange(min=0), default=None, help="Patients treated per year in a plan, for population totals."
)
@click.option(
    "--draws-from",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Reuse the parameter draws of a `costspine psa` of the same scenario (DIR/draws/, checked by "
    "scenario fingerprint) instead of drawing anew; --draws and --seed are then the saved PSA's.",
)
@method_options
@out_option
@xlsx_option("individualised")
@quiet_option
@friendly
def individualised(scenario, draws, seed, wtp, treatments, plan_size, draws_from, method, individuals, out_dir, xlsx_path, quiet):
    """Value of individualised care (EVIC) of SCENARIO's phenotype groups.

    Runs the cohort once per [population] group, then compares the best treatment for everyone,
    the best treatment per group (oracle) and every other strategy (e.g. a phenotype-guided rule):
    net benefit per patient and per plan, PSA intervals, break-even phenotyping cost and a
    decision table by phenotype. With --method microsim, individuals' phenotypes are sampled from
    their shares and each phenotype's results are kept apart. See docs/precision.md.
    """

    started = datetime.now(UTC)
    ctx = click.get_current_context()
    if draws_from is not None:
        given = [
            f"--{name}" for name in ("draws", "seed") if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        ]
        if given:
            raise UsageError(f"{' and '.join(given)}: not with --draws-from, which reuses the saved PSA's draws and seed")
    (loaded,) = load_all((scenario,))
    out_dir = out_dir or default_out_dir([loaded.name], "individualised")
    names = None if treatments is None else [t.strip() for t in treatments.split(",") if t.strip()]
    with writing_into(out_dir, xlsx_path) as (staging, xlsx):
        text = run_individualised_command(
            loaded,
            draws=draws,
            seed=seed,
            wtp=wtp,
            treatments=names,
            plan_size=plan_size,
            out_dir=staging,
            argv=sys.argv,
            started=started,
            xlsx_path=xlsx,
            method=method,
            individuals=individuals,
            draws_from=draws_from,
            quiet=quiet,
        )
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")
