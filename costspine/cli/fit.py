"""``costspine fit``: calibrate a scenario to trial evidence and report diagnostics.

The calibration (NUTS fit, diagnostics, posterior predictive check) is
:func:`costspine.bayes.calibration.calibrate`; the folder and the posterior cache are written by
:func:`costspine.reports.fit_report.write_fit_report`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from costspine.cli.options import friendly, out_option
from costspine.errors import AnalysisError


def run_fit_command(
    evidence_path, *, draws, tune, chains, seed, out_dir: Path | None, allow_unconverged: bool, argv, started: datetime, echo
) -> tuple[str, bool]:
    """Fit, write the output folder and the cache; return (text, converged).

    Raises
    ------
    AnalysisError
        The diagnostics failed and ``allow_unconverged`` is false (the files are written first).
    """
    from costspine._text import wrap_text
    from costspine.bayes.calibration import calibrate
    from costspine.reports.fit_report import format_fit_text, write_fit_report

    calibration = calibrate(evidence_path, draws=draws, tune=tune, chains=chains, seed=seed, announce=echo)
    out_dir = Path(out_dir) if out_dir else Path("reports") / calibration.evidence.name / "fit"
    from costspine._files import output_folder

    with output_folder(out_dir) as staging:  # all-or-nothing, locked
        cache_folder = write_fit_report(calibration, out_dir=staging, argv=argv, started=started)
    text = format_fit_text(calibration, cache_folder=cache_folder)
    if not calibration.converged:
        if not allow_unconverged:
            raise AnalysisError(
                text + "\n\n" + calibration.failure_advice() + f"\nResults were written to {out_dir} for inspection."
            )
        text += "\n\n" + wrap_text("WARNING: " + calibration.failure_advice())
    return text, calibration.converged


@click.command()
@click.argument("evidence", required=False, type=click.Path(path_type=Path))
@click.option(
    "--draws", type=click.IntRange(min=10), default=None, help="Posterior draws per chain (default: the evidence file's)."
)
@click.option("--tune", type=click.IntRange(min=0), default=None, help="Tuning steps per chain (default: the evidence file's).")
@click.option("--chains", type=click.IntRange(min=1), default=None, help="Chains (default: the evidence file's).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed (default: the evidence file's).")
@out_option
@click.option("--allow-unconverged", is_flag=True, help="Exit 0 even when R-hat, ESS or divergence checks fail.")
@friendly
def fit(evidence, draws, tune, chains, seed, out_dir, allow_unconverged):
    """Bayesian calibration of a scenario to trial EVIDENCE (default: the bundled SPINE CARE data).

    Writes posterior draws (CSV and ArviZ NetCDF), diagnostics and a posterior predictive check.
    """

    started = datetime.now(UTC)
    text, _ = run_fit_command(
        evidence,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        out_dir=out_dir,
        allow_unconverged=allow_unconverged,
        argv=sys.argv,
        started=started,
        echo=lambda line: click.echo(line, err=True),
    )
    click.echo(text)
