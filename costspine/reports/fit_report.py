"""Output folder of ``costspine fit``: posterior draws (CSV and NetCDF), diagnostics, the posterior
predictive check and the manifest; and the posterior cache that PSA reads.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine._files import write_csv, write_json
from costspine._text import wrap_text
from costspine.reports.manifest import build_manifest


def write_fit_report(calibration, *, out_dir: Path, argv: list[str], started: datetime) -> Path | None:
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

    Returns
    -------
    Path or None
        The cache folder written, if any.
    """
    from costspine.bayes.calibration import PREDICTIVE_COLUMNS
    from costspine.bayes.fit import write_inference_data
    from costspine.bayes.posterior import save_to_cache, write_posterior_csv

    out_dir = Path(out_dir)
    fit, evidence, scenario = calibration.fit, calibration.evidence, calibration.scenario
    diagnostics = calibration.to_dict()
    written = [
        write_posterior_csv(out_dir / "posterior.csv", fit.draws),
        write_json(out_dir / "diagnostics.json", diagnostics),
        write_csv(out_dir / "posterior_predictive.csv", list(PREDICTIVE_COLUMNS), calibration.predictive),
    ]
    write_inference_data(fit, out_dir / "posterior.nc")
    written.append(out_dir / "posterior.nc")
    inputs = [(str(evidence.path), evidence.sha256), *scenario.files]
    write_json(
        out_dir / "manifest.json",
        build_manifest(
            command="fit",
            argv=list(argv),
            inputs=inputs,
            seed=calibration.seed,
            started=started,
            outputs=[p.name for p in written],
            scenarios=[scenario],
        ),
    )
    if calibration.converged and calibration.uses_file_settings:
        return save_to_cache(evidence, scenario, fit.draws, diagnostics)
    return None


def format_fit_text(calibration, *, cache_folder: Path | None) -> str:
    """What ``costspine fit`` prints: the calibration summary and where the posterior was cached."""
    text = calibration.summary()
    if cache_folder is not None:
        text += "\n\n" + wrap_text(f"Posterior cached in {cache_folder} (PSA of scenarios that use it will not refit).")
    return text
