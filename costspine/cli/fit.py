"""``costspine fit``: calibrate a scenario to trial evidence and report diagnostics.

PyMC is used only through :mod:`costspine.bayes`. The posterior predictive check re-runs the
posterior draws through the numpy cohort engine — an independent check of the PyTensor graph —
and compares every target with its trial 95% interval.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine._files import write_csv, write_json
from costspine._text import format_table
from costspine.bayes.predictive import posterior_predictive_rows
from costspine.errors import AnalysisError
from costspine.reports.manifest import build_manifest


def run_fit_command(evidence_path, *, draws, tune, chains, seed, out_dir: Path | None, allow_unconverged: bool,
                    argv, started: datetime, echo) -> tuple[str, bool]:
    """Fit, write the output folder and the cache; return (text, converged)."""
    from costspine.bayes.fit import fit_evidence, write_inference_data
    from costspine.bayes.posterior import save_to_cache, write_posterior_csv
    from costspine.scenario.evidence import load_evidence
    from costspine.scenario.load import load_scenario

    evidence = load_evidence(evidence_path)
    scenario = load_scenario(evidence.scenario_path)
    s = evidence.sampler
    draws = draws or s.draws
    tune = s.tune if tune is None else tune
    chains = chains or s.chains
    seed = s.seed if seed is None else seed
    out_dir = Path(out_dir) if out_dir else Path("reports") / evidence.name / "fit"
    echo(f"Calibrating {scenario.name} to {evidence.title}: {', '.join(evidence.calibrate)}")
    echo(f"NUTS: {chains} chains × {draws} draws (+{tune} tuning), seed {seed} — compiling the model takes a little while")
    fit = fit_evidence(evidence, scenario, draws=draws, tune=tune, chains=chains, target_accept=s.target_accept, seed=seed)

    ppc = posterior_predictive_rows(scenario, evidence, fit.draws)
    diag_rows = [[n, fit.rhat[n], fit.ess_bulk[n], "ok" if fit.rhat[n] <= 1.01 and fit.ess_bulk[n] >= 400 else "FAIL"] for n in fit.parameters]
    text = "\n\n".join([
        "Posterior summary (ArviZ)\n" + fit.summary_text,
        format_table(["parameter", "R-hat", "bulk ESS", "check"], diag_rows,
                     title=f"Diagnostics: R-hat ≤ 1.01, bulk ESS ≥ 400; divergences: {fit.divergences}"),
        format_table(["target", "kind", "trial", "trial 2.5%", "trial 97.5%", "model mean", "model 2.5%", "model 97.5%",
                      "in trial CI", "likelihood"], ppc, title="Posterior predictive check (numpy engine on posterior draws)"),
    ])
    diagnostics = {
        "evidence": str(evidence.path), "scenario": str(scenario.path), "calibrated": list(fit.parameters),
        "rhat": fit.rhat, "ess_bulk": fit.ess_bulk, "divergences": fit.divergences,
        "thresholds": {"rhat_max": 1.01, "ess_bulk_min": 400}, "converged": fit.converged, "failures": list(fit.failures),
        "sampler": {"draws": draws, "tune": tune, "chains": chains, "seed": seed, "target_accept": s.target_accept},
        "posterior_predictive": [dict(zip(["target", "kind", "trial", "trial_low", "trial_high", "model_mean", "model_low",
                                           "model_high", "in_trial_ci", "likelihood"], row)) for row in ppc],
    }
    written = [
        write_posterior_csv(out_dir / "posterior.csv", fit.draws),
        write_json(out_dir / "diagnostics.json", diagnostics),
        write_csv(out_dir / "posterior_predictive.csv", ["target", "kind", "trial", "trial_low", "trial_high", "model_mean",
                                                          "model_low", "model_high", "in_trial_ci", "likelihood"], ppc),
    ]
    write_inference_data(fit, out_dir / "posterior.nc")
    written.append(out_dir / "posterior.nc")
    inputs = [(str(evidence.path), evidence.sha256), *scenario.files]
    write_json(out_dir / "manifest.json", build_manifest(command="fit", argv=list(argv), inputs=inputs, seed=seed,
                                                         started=started, outputs=[p.name for p in written]))
    if fit.converged and (draws, tune, chains, seed) == (s.draws, s.tune, s.chains, s.seed):
        folder = save_to_cache(evidence, scenario, fit.draws, diagnostics)
        text += f"\n\nPosterior cached in {folder} (PSA of scenarios that use it will not refit)."
    if not fit.converged:
        advice = ("\nWhat to try: more tuning (--tune), more draws (--draws), a higher target_accept in the evidence "
                  "file's [sampler], or tighter priors in the scenario for the variables named above.")
        message = "diagnostics failed: " + "; ".join(fit.failures) + advice
        if not allow_unconverged:
            raise AnalysisError(text + "\n\n" + message + f"\nResults were written to {out_dir} for inspection.")
        text += "\n\nWARNING: " + message
    return text, fit.converged
