"""A whole calibration, as ``costspine fit`` runs it: sampler settings, the NUTS fit, its
diagnostics and the posterior predictive check.

:func:`calibrate` is the library call; the posterior predictive check re-runs the posterior draws
through the numpy cohort engine — an independent check of the PyTensor graph — and compares every
target with its trial 95% interval (:mod:`costspine.bayes.predictive`). PyMC is used only through
:mod:`costspine.bayes.fit`. Nothing is written here (see :mod:`costspine.reports.fit_report`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PREDICTIVE_COLUMNS = (
    "target",
    "kind",
    "trial",
    "trial_low",
    "trial_high",
    "model_mean",
    "model_low",
    "model_high",
    "in_trial_ci",
    "likelihood",
)


@dataclass(frozen=True)
class Calibration:
    """A calibration of a scenario to trial evidence.

    Attributes
    ----------
    evidence : Evidence
    scenario : Scenario
    fit : FitResult
        Posterior draws, R-hat, bulk ESS, divergences and the InferenceData.
    draws, tune, chains, seed : int
        The sampler settings used (options, else the evidence file's ``[sampler]``).
    target_accept : float
    predictive : list of list
        Posterior predictive check, one row per target (columns :data:`PREDICTIVE_COLUMNS`).
    """

    evidence: object
    scenario: object
    fit: object
    draws: int
    tune: int
    chains: int
    seed: int
    target_accept: float
    predictive: list

    @property
    def converged(self) -> bool:
        return self.fit.converged

    @property
    def uses_file_settings(self) -> bool:
        """True when the sampler settings are the evidence file's own (only such fits are cached)."""
        s = self.evidence.sampler
        return (self.draws, self.tune, self.chains, self.seed) == (s.draws, s.tune, s.chains, s.seed)

    @property
    def idata(self):
        """ArviZ ``InferenceData``: posterior, sample stats, prior, posterior predictive, observed data, log likelihood."""
        return self.fit.idata

    def __repr__(self) -> str:
        from costspine._text import format_repr

        return format_repr(
            type(self).__name__,
            scenario=self.scenario.name,
            parameters=list(self.fit.parameters),
            chains=self.chains,
            draws=self.draws,
            converged=self.converged,
        )

    def _repr_html_(self) -> str:
        """R-hat, bulk ESS and the check per calibrated parameter, as an HTML table (for notebooks)."""
        from costspine._text import format_html_table

        return format_html_table(
            ["parameter", "R-hat", "bulk ESS", "check"],
            self.diagnostic_rows(),
            caption=f"Calibration of {self.scenario.name}: divergences {self.fit.divergences}",
        )

    def diagnostic_rows(self) -> list[list]:
        """Per parameter: name, R-hat, bulk ESS and ``ok``/``FAIL`` against the thresholds."""
        from costspine.bayes.fit import ESS_BULK_MIN, RHAT_MAX

        fit = self.fit
        return [
            [n, fit.rhat[n], fit.ess_bulk[n], "ok" if fit.rhat[n] <= RHAT_MAX and fit.ess_bulk[n] >= ESS_BULK_MIN else "FAIL"]
            for n in fit.parameters
        ]

    def summary(self) -> str:
        """ArviZ's posterior summary, the diagnostics table and the posterior predictive check."""
        from costspine._text import format_significant, format_table
        from costspine.bayes.fit import ESS_BULK_MIN, RHAT_MAX

        fit = self.fit
        return "\n\n".join(
            [
                "Posterior summary (ArviZ)\n" + fit.summary_text,
                format_table(
                    ["parameter", "R-hat", "bulk ESS", "check"],
                    self.diagnostic_rows(),
                    formats={1: ".4f", 2: ",.0f"},
                    title=f"Diagnostics: R-hat ≤ {RHAT_MAX}, bulk ESS ≥ {ESS_BULK_MIN}; divergences: {fit.divergences}",
                ),
                format_table(
                    [
                        "target",
                        "kind",
                        "trial",
                        "trial 2.5%",
                        "trial 97.5%",
                        "model mean",
                        "model 2.5%",
                        "model 97.5%",
                        "in trial CI",
                        "likelihood",
                    ],
                    self.predictive,
                    formats=dict.fromkeys(range(2, 8), format_significant),  # rows are different quantities
                    title="Posterior predictive check (numpy engine on posterior draws)",
                ),
            ]
        )

    def failure_advice(self) -> str:
        """Which diagnostics failed and what to try (empty when converged)."""
        if self.converged:
            return ""
        advice = (
            "\nWhat to try: more tuning (--tune), more draws (--draws), a higher target_accept in the evidence "
            "file's [sampler], or tighter priors in the scenario for the variables named above."
        )
        return "diagnostics failed: " + "; ".join(self.fit.failures) + advice

    def to_dict(self) -> dict:
        """What ``diagnostics.json`` holds, JSON-ready (NaN -> None)."""
        from costspine._files import _jsonable
        from costspine.bayes.fit import ESS_BULK_MIN, RHAT_MAX

        fit = self.fit
        return _jsonable(
            {
                "evidence": str(self.evidence.path),
                "scenario": str(self.scenario.path),
                "calibrated": list(fit.parameters),
                "rhat": fit.rhat,
                "ess_bulk": fit.ess_bulk,
                "divergences": fit.divergences,
                "thresholds": {"rhat_max": RHAT_MAX, "ess_bulk_min": ESS_BULK_MIN},
                "converged": fit.converged,
                "failures": list(fit.failures),
                "nuts": getattr(fit, "sampler", "pymc"),
                "sampler": {
                    "draws": self.draws,
                    "tune": self.tune,
                    "chains": self.chains,
                    "seed": self.seed,
                    "target_accept": self.target_accept,
                },
                "posterior_predictive": [dict(zip(PREDICTIVE_COLUMNS, row)) for row in self.predictive],
            }
        )

    def to_frame(self):
        """Posterior draws keyed by ``draw`` (chains stacked), one column per calibrated parameter."""
        import pandas as pd

        draws = self.fit.draws
        n = len(next(iter(draws.values()))) if draws else 0
        return pd.DataFrame({"draw": np.arange(n), **{name: np.asarray(v) for name, v in draws.items()}})


def calibrate(
    evidence_path,
    *,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    announce=None,
    progressbar: bool = False,
) -> Calibration:
    """Fit the scenario an evidence file names to its targets and check the fit: ``costspine fit``'s library call.

    Parameters
    ----------
    evidence_path : path or None
        An evidence file (None: the bundled SPINE CARE evidence, see
        :func:`costspine.scenario.evidence.load_evidence`).
    draws, tune, chains, seed : int, optional
        Sampler settings; each defaults to the evidence file's ``[sampler]``.
    announce : callable, optional
        Called with a line of text before sampling starts (what is calibrated, the sampler settings).
    progressbar : bool
        Show the sampler's own progress bar (``costspine fit`` on a terminal, unless ``--quiet``).

    Returns
    -------
    Calibration
        Whether or not the diagnostics pass (see :attr:`Calibration.converged`).
    """
    from costspine.bayes.fit import fit_evidence
    from costspine.bayes.predictive import posterior_predictive_rows
    from costspine.scenario.evidence import load_evidence
    from costspine.scenario.load import load_scenario

    evidence = load_evidence(evidence_path)
    scenario = load_scenario(evidence.scenario_path)
    s = evidence.sampler
    draws = draws or s.draws
    tune = s.tune if tune is None else tune
    chains = chains or s.chains
    seed = s.seed if seed is None else seed
    if announce is not None:
        announce(f"Calibrating {scenario.name} to {evidence.title}: {', '.join(evidence.calibrate)}")
        announce(
            f"NUTS: {chains} chains × {draws} draws (+{tune} tuning), seed {seed} — compiling the model takes a little while"
        )
    fit = fit_evidence(
        evidence,
        scenario,
        draws=draws,
        tune=tune,
        chains=chains,
        target_accept=s.target_accept,
        seed=seed,
        progressbar=progressbar,
    )
    return Calibration(
        evidence=evidence,
        scenario=scenario,
        fit=fit,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        target_accept=s.target_accept,
        predictive=posterior_predictive_rows(scenario, evidence, fit.draws),
    )
