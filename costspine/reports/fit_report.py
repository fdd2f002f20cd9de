"""Output folder of ``costspine fit``: posterior draws (CSV and NetCDF), diagnostics, the posterior
predictive check, ``fit.xlsx``, the PNG figures (rank plots, predictive check) and the manifest;
and the posterior cache that PSA reads.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine._files import write_csv, write_json
from costspine._text import wrap_text
from costspine.reports.manifest import build_manifest


def write_fit_report(calibration, *, out_dir: Path, argv: list[str], started: datetime, figures: bool = True) -> Path | None:
    """Write a calibration's files into ``out_dir``; cache the posterior when it may be reused.

    The posterior is cached only when the diagnostics pass and the sampler settings are the
    evidence file's own (so PSA of scenarios that use it will not refit).

    Parameters
    ----------
    calibration : Calibration
        From :func:`costspine.bayes.calibration.calibrate`.
    out_dir : Path
    argv : list of str
    started : datetime
    figures : bool
        Also draw ``rank.png`` and ``predictive_check.png``.

    Returns
    -------
    Path or None
        The cache folder written, if any.
    """
    from costspine.bayes.calibration import PREDICTIVE_COLUMNS
    from costspine.bayes.fit import write_inference_data
    from costspine.bayes.posterior import save_to_cache, write_posterior_csv
    from costspine.reports.build import with_about
    from costspine.reports.excel import write_workbook

    out_dir = Path(out_dir)
    fit, evidence, scenario = calibration.fit, calibration.evidence, calibration.scenario
    diagnostics = calibration.to_dict()
    book = build_fit_workbook(calibration)  # built (and checked) before any file is written
    written = [
        write_posterior_csv(out_dir / "posterior.csv", fit.draws),
        write_json(out_dir / "diagnostics.json", diagnostics),
        write_csv(out_dir / "posterior_predictive.csv", list(PREDICTIVE_COLUMNS), calibration.predictive),
    ]
    write_inference_data(fit, out_dir / "posterior.nc")
    written.append(out_dir / "posterior.nc")
    if figures:
        written += write_fit_figures(calibration, out_dir)
    inputs = [(str(evidence.path), evidence.sha256), *scenario.files]
    manifest = build_manifest(
        command="fit",
        argv=list(argv),
        inputs=inputs,
        seed=calibration.seed,
        started=started,
        outputs=[p.name for p in written] + ["fit.xlsx"],
        scenarios=[scenario],
    )
    write_workbook(with_about(book, manifest), out_dir / "fit.xlsx")
    write_json(out_dir / "manifest.json", manifest)
    if calibration.converged and calibration.uses_file_settings:
        return save_to_cache(evidence, scenario, fit.draws, diagnostics)
    return None


def format_fit_text(calibration, *, cache_folder: Path | None) -> str:
    """What ``costspine fit`` prints: the calibration summary and where the posterior was cached."""
    text = calibration.summary()
    if cache_folder is not None:
        text += "\n\n" + wrap_text(f"Posterior cached in {cache_folder} (PSA of scenarios that use it will not refit).")
    return text


def write_fit_figures(calibration, out_dir: Path) -> list[Path]:
    """``rank.png`` (rank plot per calibrated parameter) and ``predictive_check.png``."""
    from costspine.reports.figures.common import save_figure
    from costspine.reports.figures.fit import plot_predictive_check, plot_rank

    out_dir = Path(out_dir)
    return [
        save_figure(plot_rank(calibration.fit.draws, n_chains=calibration.chains), out_dir / "rank.png"),
        save_figure(plot_predictive_check(calibration.predictive), out_dir / "predictive_check.png"),
    ]


def build_fit_workbook(calibration):
    """``fit.xlsx``: posterior summary, diagnostics and the predictive check (each target vs its CI)."""
    import numpy as np

    from costspine.bayes.fit import ESS_BULK_MIN, RHAT_MAX
    from costspine.reports.workbook import Column, Sheet, Table, Workbook

    fit = calibration.fit
    rows = []
    for name, check in zip(fit.parameters, (r[3] for r in calibration.diagnostic_rows())):
        values = np.asarray(fit.draws[name], dtype=float)
        low, median, high = np.quantile(values, [0.025, 0.5, 0.975])
        rows.append(
            (
                name,
                float(values.mean()),
                float(values.std(ddof=1)),
                float(low),
                float(median),
                float(high),
                fit.rhat[name],
                fit.ess_bulk[name],
                check,
            )
        )
    posterior = Table(
        "posterior_summary",
        (
            Column("parameter"),
            Column("mean", "number", decimals=4),
            Column("sd", "number", decimals=4),
            Column("2.5%", "number", decimals=4),
            Column("median", "number", decimals=4),
            Column("97.5%", "number", decimals=4),
            Column("R-hat", "number", decimals=3),
            Column("bulk ESS", "int"),
            Column("check"),
        ),
        rows,
        title="Posterior of the calibrated parameters (chains pooled)",
    )
    n_ok = sum(r[-1] == "ok" for r in rows)
    headline = Table(
        "fit_headline",
        (Column("item"), Column("value")),
        (
            ("evidence", calibration.evidence.title),
            ("scenario", calibration.scenario.name),
            ("calibrated parameters", str(len(rows))),
            ("converged", "yes" if calibration.converged else "NO: " + "; ".join(fit.failures)),
            ("parameters passing R-hat and ESS", f"{n_ok} of {len(rows)}"),
            ("divergent transitions", str(fit.divergences)),
            ("sampler", f"{fit.sampler}: {calibration.chains} chains x {calibration.draws} draws (+{calibration.tune} tuning)"),
        ),
        title="Calibration",
    )
    diagnostics = Table(
        "diagnostic_thresholds",
        (Column("check"), Column("threshold"), Column("result")),
        (
            ("R-hat (chains agree)", f"<= {RHAT_MAX}", f"max {max(fit.rhat.values()):.4f}"),
            ("bulk ESS (independent draws)", f">= {ESS_BULK_MIN}", f"min {min(fit.ess_bulk.values()):.0f}"),
            ("divergent transitions", "0", str(fit.divergences)),
            ("target acceptance", "", f"{calibration.target_accept}"),
            ("seed", "", str(calibration.seed)),
        ),
        title="Diagnostics",
    )
    predictive = Table(
        "predictive_check",
        (
            Column("target"),
            Column("kind"),
            Column("trial", "number", decimals=3),
            Column("trial 2.5%", "number", decimals=3),
            Column("trial 97.5%", "number", decimals=3),
            Column("model mean", "number", decimals=3),
            Column("model 2.5%", "number", decimals=3),
            Column("model 97.5%", "number", decimals=3),
            Column("mean in trial CI"),
            Column("likelihood"),
        ),
        [tuple(r) for r in calibration.predictive],
        title="Posterior predictive check (numpy engine on posterior draws)",
    )
    return Workbook(
        title=f"Calibration of {calibration.scenario.name} to {calibration.evidence.name}",
        description=calibration.evidence.source,
        currency=calibration.scenario.settings.currency,
        reading=(
            "Posterior: each calibrated parameter's mean and 95% interval, with R-hat and bulk ESS.",
            "Predictive check: each trial target against the model's prediction on posterior draws.",
            "Method and likelihood: docs/calibration.md.",
        ),
        headline=headline,
        sheets=(
            Sheet("Posterior", tables=(posterior,)),
            Sheet("Diagnostics", tables=(diagnostics,)),
            Sheet("Predictive check", tables=(predictive,)),
        ),
    )
