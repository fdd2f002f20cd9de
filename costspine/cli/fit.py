"""``costspine fit``: calibrate a scenario to trial evidence and report diagnostics.

The calibration (NUTS fit, diagnostics, posterior predictive check) is
:func:`costspine.bayes.calibration.calibrate`; the folder and the posterior cache are written by
:func:`costspine.reports.fit_report.write_fit_report`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine.errors import AnalysisError


def run_fit_command(evidence_path, *, draws, tune, chains, seed, out_dir: Path | None, allow_unconverged: bool,
                    argv, started: datetime, echo) -> tuple[str, bool]:
    """Fit, write the output folder and the cache; return (text, converged).

    Raises
    ------
    AnalysisError
        The diagnostics failed and ``allow_unconverged`` is false (the files are written first).
    """
    from costspine.bayes.calibration import calibrate
    from costspine.reports.fit_report import format_fit_text, write_fit_report

    calibration = calibrate(evidence_path, draws=draws, tune=tune, chains=chains, seed=seed, announce=echo)
    out_dir = Path(out_dir) if out_dir else Path("reports") / calibration.evidence.name / "fit"
    cache_folder = write_fit_report(calibration, out_dir=out_dir, argv=argv, started=started)
    text = format_fit_text(calibration, cache_folder=cache_folder)
    if not calibration.converged:
        if not allow_unconverged:
            raise AnalysisError(text + "\n\n" + calibration.failure_advice()
                                + f"\nResults were written to {out_dir} for inspection.")
        text += "\n\nWARNING: " + calibration.failure_advice()
    return text, calibration.converged
