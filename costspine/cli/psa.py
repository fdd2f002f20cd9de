"""``costspine psa`` and ``costspine voi``: one analysis call, one writer, the text to print.

The analyses are :func:`costspine.analysis.psa_summary.analyze_psa` and
:func:`costspine.analysis.voi_summary.analyze_voi`; the folders are written by
:mod:`costspine.reports.psa_report`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from costspine._limits import MAX_DRAWS
from costspine.cli.options import (
    INTERRUPTED,
    ScenarioPath,
    default_out_dir,
    describe_edits,
    evppi_option,
    evppi_top_option,
    figures_option,
    friendly,
    inputs_option,
    load_all,
    method_options,
    out_option,
    parse_wtp,
    population_options,
    quiet_option,
    seed_option,
    writing_into,
    wtp_option,
    xlsx_option,
)


def run_psa_command(
    scenario,
    *,
    draws: int,
    seed: int,
    wtp=None,
    out_dir: Path,
    method: str = "cohort",
    individuals: int | None = None,
    workers=None,
    scheduler=None,
    resume: bool = False,
    evppi=(),
    evppi_method: str = "gam",
    population=None,
    horizon_years=None,
    discount=None,
    on_chunk=None,
    on_partial=None,
    progress=None,
    argv: list[str],
    started: datetime,
    text: bool = True,
    xlsx_path=None,
    csv: bool = False,
    figures: bool = False,
    top: int | None = 20,
    store_dir=None,
) -> str:
    """Run a PSA, write its files into ``out_dir`` and return the text to print (empty if not ``text``).

    Chunks are saved in ``out_dir/chunks`` while the PSA runs (for ``--resume``) and deleted once
    ``draws/`` and the other files are written. The text lists the ``top`` EVPPI rows (largest
    first; None: all). The workbook goes to ``xlsx_path`` if given, else ``psa.xlsx`` in ``out_dir``. The per-draw
    CSV tables are written only with ``csv=True`` (``--csv``), the PNG figures only with
    ``figures=True`` (``--figures``). Chunks are saved in ``store_dir`` (default ``out_dir/chunks``).
    """
    from costspine.reports.build import workbook_path
    from costspine.reports.psa_report import format_psa_text, run_psa_into_folder

    out_dir = Path(out_dir)
    store_dir = Path(store_dir) if store_dir is not None else out_dir / "chunks"
    analysis, check, subgroups = run_psa_into_folder(
        scenario,
        draws,
        out_dir=out_dir,
        xlsx=workbook_path(xlsx_path, out_dir=out_dir, command="psa"),
        store_dir=store_dir,
        argv=argv,
        started=started,
        csv=csv,
        figures=figures,
        seed=seed,
        wtp=wtp,
        evppi=evppi,
        evppi_method=evppi_method,
        population=population,
        horizon_years=horizon_years,
        discount=discount,
        method=method,
        individuals=individuals,
        workers=workers,
        scheduler=scheduler,
        resume=resume,
        on_chunk=on_chunk,
        on_partial=on_partial,
        progress=progress,
    )
    if not text:
        return ""
    out = format_psa_text(analysis, chunks_dir=store_dir, top=top)
    if check is not None:
        out += "\n\n" + check.summary()
    if subgroups:
        from costspine.reports.subgroup_report import format_subgroup_text

        out += "\n\n" + format_subgroup_text(subgroups, wtp=float(analysis.wtp[0]) if analysis.wtp else None)
    return out


def run_voi_command(
    path,
    *,
    evppi=(),
    method: str = "gam",
    wtp=None,
    out_dir: Path,
    population=None,
    horizon_years=None,
    discount=None,
    parameters=None,
    comparator=None,
    effect=None,
    currency=None,
    seed=None,
    argv: list[str],
    started: datetime,
    xlsx_path=None,
    figures: bool = False,
    top: int | None = 20,
) -> str:
    """EVPI and EVPPI from the draws a PSA saved or CSV draws (``path``, see
    :func:`~costspine.analysis.voi_summary.analyze_voi`); writes files into ``out_dir`` (the
    workbook to ``xlsx_path`` if given, else ``voi.xlsx`` there; PNG figures only with
    ``figures=True``) once all is computed; returns text."""
    from costspine.analysis.voi_summary import analyze_voi
    from costspine.reports.build import workbook_path
    from costspine.reports.psa_report import write_voi_report

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="voi")
    voi = analyze_voi(
        path,
        evppi=evppi,
        method=method,
        wtp=wtp,
        population=population,
        horizon_years=horizon_years,
        discount=discount,
        parameters=parameters,
        comparator=comparator,
        effect=effect,
        currency=currency,
        seed=seed,
    )
    write_voi_report(voi, out_dir=Path(out_dir), xlsx=xlsx, argv=argv, started=started, figures=figures)
    return voi.summary(top=top)


@click.command()
@click.argument("scenario", type=ScenarioPath())
@click.option(
    "--draws",
    type=click.IntRange(min=2, max=MAX_DRAWS),
    default=1000,
    show_default=True,
    help=f"Number of PSA draws (at most {MAX_DRAWS:,}).",
)
@seed_option
@wtp_option
@evppi_option
@click.option(
    "--evppi-method",
    type=click.Choice(["gam", "gp"]),
    default="gam",
    show_default=True,
    help="Regression for EVPPI: gam (1-4 parameters) or gp (any number).",
)
@evppi_top_option
@population_options
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Run chunks on a local Dask cluster with N worker processes, when that saves more than starting it costs.",
)
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT", help="Run chunks on an existing Dask distributed cluster.")
@click.option("--resume", is_flag=True, help="Reuse the chunks an interrupted run saved in OUT/chunks/.")
@method_options
@inputs_option
@out_option
@xlsx_option("psa")
@click.option(
    "--csv",
    "csv_tables",
    is_flag=True,
    help="Also write the per-draw tables results.csv, parameters.csv and ce_plane.csv (and Parquet "
    "copies when pyarrow is installed); draws/ holds the same numbers.",
)
@figures_option
@quiet_option
@friendly
def psa(
    scenario,
    draws,
    seed,
    wtp,
    evppi,
    evppi_method,
    top,
    population,
    horizon_years,
    discount,
    workers,
    scheduler,
    resume,
    method,
    individuals,
    inputs_path,
    out_dir,
    xlsx_path,
    csv_tables,
    figures,
    quiet,
):
    """Probabilistic sensitivity analysis of SCENARIO: draws, CEAC/CEAF, EVPI (and EVPPI).

    Same seed, same results (bit for bit) whatever --workers, --scheduler or --resume.
    """
    from costspine.progress import ProgressBar

    started = datetime.now(UTC)
    (loaded,) = load_all((scenario,), inputs=inputs_path)
    if not quiet and inputs_path is not None:
        click.echo(describe_edits([loaded], inputs_path) + "\n")
    out_dir = out_dir or default_out_dir([loaded.name], "psa")
    try:
        with (
            writing_into(out_dir, xlsx_path) as (staging, xlsx),
            ProgressBar(draws, label="PSA", unit="draws", enabled=None if not quiet else False) as bar,
        ):
            text = run_psa_command(
                loaded,
                draws=draws,
                seed=seed,
                wtp=parse_wtp(wtp),
                out_dir=staging,
                store_dir=out_dir / "chunks",
                workers=workers,
                method=method,
                individuals=individuals,
                scheduler=scheduler,
                resume=resume,
                evppi=evppi,
                evppi_method=evppi_method,
                population=population,
                horizon_years=horizon_years,
                discount=discount,
                on_chunk=bar.advance,
                on_partial=bar.partial,
                progress=None if quiet else lambda line: click.echo(line, err=True),
                argv=sys.argv,
                started=started,
                text=not quiet,
                xlsx_path=xlsx,
                csv=csv_tables,
                figures=figures,
                top=top or None,
            )
    except KeyboardInterrupt:
        click.echo(
            f"Interrupted. Finished chunks are saved in {out_dir / 'chunks'}; rerun the same command with --resume to continue.",
            err=True,
        )
        sys.exit(INTERRUPTED)
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")


@click.command()
@click.argument("path", metavar="DRAWS", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--parameters",
    "parameters_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Parameters CSV (draw × parameter) of a long results file (default: parameters.csv beside results.csv).",
)
@evppi_option
@click.option(
    "--method",
    type=click.Choice(["gam", "gp"]),
    default="gam",
    show_default=True,
    help="Regression for EVPPI: gam (1-4 parameters) or gp (any number).",
)
@evppi_top_option
@click.option(
    "--wtp", default=None, metavar="W1,W2,...", help="Willingness-to-pay thresholds (default: the PSA's; required for CSV draws)."
)
@click.option("--comparator", default=None, help="CSV draws: the comparator strategy (default: the first in the file).")
@click.option(
    "--effect",
    default=None,
    help="CSV draws, long layout: the outcome column that is the effect (default: 'effect', else the only outcome column).",
)
@click.option(
    "--currency", default=None, help="CSV draws: ISO 4217 code of the costs' currency, e.g. GBP (default XXX: none named)."
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Seed of the EVPPI standard errors (default: the PSA's; 20260101 for CSV draws).",
)
@population_options
@out_option
@xlsx_option("voi")
@figures_option
@quiet_option
@friendly
def voi(
    path,
    parameters_path,
    evppi,
    method,
    top,
    wtp,
    comparator,
    effect,
    currency,
    seed,
    population,
    horizon_years,
    discount,
    out_dir,
    xlsx_path,
    figures,
    quiet,
):
    """EVPI and EVPPI (with standard errors) of PSA draws in DRAWS.

    \b
    DRAWS is one of:
      a folder written by `costspine psa` (its draws/ folder, or draws.npz);
      a folder with results.csv (+ parameters.csv) in costspine's long layout, from any tool;
      a long results CSV (columns draw, strategy, cost_total, outcomes; --parameters FILE);
      one wide CSV: draw (optional), cost_<strategy>, effect_<strategy>, parameter columns.
    CSV draws need --wtp. See docs/psa.md.
    """
    from costspine.analysis.external_draws import name_draws

    started = datetime.now(UTC)
    out_dir = out_dir or default_out_dir([name_draws(path)], "voi")
    with writing_into(out_dir, xlsx_path) as (staging, xlsx):
        text = run_voi_command(
            path,
            evppi=evppi,
            method=method,
            wtp=parse_wtp(wtp),
            out_dir=staging,
            population=population,
            horizon_years=horizon_years,
            discount=discount,
            parameters=parameters_path,
            comparator=comparator,
            effect=effect,
            currency=currency,
            seed=seed,
            argv=sys.argv,
            started=started,
            xlsx_path=xlsx,
            figures=figures,
            top=top or None,
        )
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")
