"""Does a PSA reproduce the trial it was calibrated to? Each target's PSA distribution vs the trial's CI.

For a scenario that takes parameters from a calibration (``posterior`` parameters naming an
evidence file), every target of that evidence file is predicted on the PSA's own parameter draws
with the numpy cohort engine, and its median and 95% interval are set against the trial's
estimate and 95% CI. A coherent PSA (posterior rows, held parameters held) reproduces the
likelihood targets by construction; a PSA that draws parameters independently of the posterior
that conditioned on them does not. docs/calibration.md explains the columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHECK_COLUMNS = (
    "evidence",
    "target",
    "kind",
    "likelihood",
    "trial",
    "trial_low",
    "trial_high",
    "psa_median",
    "psa_low",
    "psa_high",
    "overlap",
    "median_in_trial_ci",
    "p_below_null",
)
"""``overlap``: share of the trial CI's width covered by the PSA's 95% interval; ``p_below_null``:
share of draws below 1 (ratios) or 0 (differences and changes), empty for means."""

MAX_CHECK_DRAWS = 4000
"""At most this many PSA draws (the first ones: draws are independent) are re-run for the check."""


@dataclass(frozen=True)
class CalibrationCheck:
    """Each calibration target's PSA distribution against the trial's CI.

    Attributes
    ----------
    rows : tuple of tuple
        One per target, columns :data:`CHECK_COLUMNS`.
    n_draws : int
        PSA draws the check used.
    """

    rows: tuple
    n_draws: int

    def to_dicts(self) -> list[dict]:
        """One JSON-ready dict per target."""
        return [dict(zip(CHECK_COLUMNS, row)) for row in self.rows]

    @property
    def passes(self) -> bool:
        """Every likelihood target: overlap >= 80% of the trial CI and the PSA median inside it."""
        return all(r[10] >= 0.8 and r[11] == "yes" for r in self.rows if r[3] == "yes")

    def summary(self) -> str:
        """The table ``costspine psa`` prints (at most 100 columns)."""
        from costspine._text import format_table

        def number(x):
            if x is None or not np.isfinite(x):
                return ""
            return f"{x:.4g}" if abs(x) < 1000 else f"{x:,.0f}"

        rows = [
            [
                r[1] + ("" if r[3] == "yes" else " *"),
                number(r[4]),
                f"{number(r[5])} to {number(r[6])}",
                number(r[7]),
                f"{number(r[8])} to {number(r[9])}",
                f"{r[10]:.0%}",
                r[11],
                "" if r[12] is None else f"{r[12]:.3f}",
            ]
            for r in self.rows
        ]
        table = format_table(
            ["target", "trial", "trial 95% CI", "PSA median", "PSA 95% interval", "overlap", "in CI", "P(<null)"],
            rows,
            title=f"Calibration check: PSA ({self.n_draws:,} draws) vs the trial it was calibrated to",
        )
        notes = [
            "overlap: share of the trial CI covered by the PSA interval; in CI: PSA median inside the trial CI;",
            "P(<null): share of draws with a ratio below 1 or a difference below 0.",
        ]
        if any(r[3] != "yes" for r in self.rows):
            notes.append("* check only: not in the likelihood (see the evidence file).")
        return table + "\n" + "\n".join(notes)


def find_evidence_files(scenario) -> list:
    """The evidence files a scenario's ``posterior`` parameters name (resolved, sorted, unique)."""
    paths = {
        scenario.declared_path(f"parameters.{spec.name}.file", spec.args["file"]).resolve()
        for spec in scenario.parameters
        if spec.family == "posterior"
    }
    return sorted(paths)


def check_calibration(scenario, result) -> CalibrationCheck | None:
    """The calibration check of a PSA, or None when the scenario uses no calibration.

    Parameters
    ----------
    scenario : Scenario
        The scenario the PSA ran (cohort model).
    result : PSAResult
        Its draws: ``parameters`` (draw, parameter) with ``parameter_names``.

    Returns
    -------
    CalibrationCheck or None
    """
    paths = find_evidence_files(scenario)
    if not paths:
        return None
    from costspine.bayes.predictive import predict_targets
    from costspine.model.inputs import base_case_parameters
    from costspine.scenario.evidence import load_evidence
    from costspine.simulate.cohort import run_cohort

    n = min(int(result.parameters.shape[0]), MAX_CHECK_DRAWS)
    params = {name: np.repeat(v, n) for name, v in base_case_parameters(scenario).items()}
    for j, name in enumerate(result.parameter_names):
        if name in params:
            params[name] = np.asarray(result.parameters[:n, j], dtype=float)
    cohort = run_cohort(scenario, params)
    rows = []
    for path in paths:
        evidence = load_evidence(path)
        predicted = predict_targets(cohort, evidence.targets)
        for t in evidence.targets:
            rows.append(_check_row(evidence.name, t, np.asarray(predicted[t.name], dtype=float)))
    return CalibrationCheck(tuple(rows), n)


def _check_row(evidence_name: str, target, values: np.ndarray) -> tuple:
    median = float(np.median(values))
    low, high = (float(q) for q in np.quantile(values, [0.025, 0.975]))
    width = target.high - target.low
    overlap = max(0.0, min(high, target.high) - max(low, target.low)) / width if width > 0 else 0.0
    if target.kind == "cost_ratio":
        below = float(np.mean(values < 1.0))
    elif target.kind in ("indicator_difference", "indicator_change"):
        below = float(np.mean(values < 0.0))
    else:
        below = None
    return (
        evidence_name,
        target.name,
        target.kind,
        "yes" if target.likelihood else "no",
        target.mean,
        target.low,
        target.high,
        median,
        low,
        high,
        overlap,
        "yes" if target.low <= median <= target.high else "NO",
        below,
    )
