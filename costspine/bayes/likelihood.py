"""The calibration likelihood's covariance: how a trial's published summaries are correlated.

Plain numpy (no PyMC), so the fit, the recovery test and the docs use the same matrix.

Every likelihood target is an estimate built from arm-level estimates. Give each arm ``a``, measure
``m`` (an indicator such as ``odi``, or ``spending``) and visit ``t`` a standardised error
``e[a, m, t]``; errors of different arms or measures are independent, and one arm's errors of one
measure at two visits have the repeated-measures correlation ``rho``. A target's standardised
error is a weighted sum of them:

- a within-arm summary of arm ``a`` (``indicator_mean``, ``indicator_change``, ``cost_mean``):
  ``e[a, m, t]``;
- a contrast of ``a`` with ``c`` (``indicator_difference``, ``cost_ratio`` on the log scale):
  ``sqrt(w_a) e[a, m, t] - sqrt(w_c) e[c, m, t]``, where ``w_c = (1/n_c) / (1/n_a + 1/n_c)`` is the
  share of the contrast's variance that comes from arm ``c`` when patients vary alike in both arms.

So the correlation matrix is ``L R L'`` (``L`` the loadings, ``R`` the error correlations), positive
semi-definite by construction, and the covariance is ``diag(se) L R L' diag(se)`` with each
target's own standard error. Two contrasts with the same control arm correlate by
``sqrt(w_c w_c')`` (SPINE CARE: 0.49 for ICE-UC and IPT-UC); a contrast and its control arm's own
summary by ``-sqrt(w_c)``; the 3- and 12-month contrasts of one arm by ``rho``. docs/calibration.md
derives this and the numbers of the bundled evidence.
"""

from __future__ import annotations

import numpy as np

CONTRASTS = ("indicator_difference", "cost_ratio")


def target_measure(target) -> str:
    """The measure a target is about: its indicator, or ``spending`` for the cost targets."""
    return target.indicator if target.kind.startswith("indicator") else "spending"


def target_visit(target) -> float:
    """The visit (years) a target is measured at; cost targets are totals over the horizon (``inf``)."""
    return float(target.years) if target.kind.startswith("indicator") else float("inf")


def target_correlation(targets, likelihood) -> np.ndarray:
    """Correlation matrix of the targets' errors (see the module docstring).

    Parameters
    ----------
    targets : sequence of Target
        The likelihood targets, in order.
    likelihood : Likelihood or None
        Arm sizes and the repeated-measures correlation; None: independent targets (identity).

    Returns
    -------
    ndarray, shape (target, target)

    Raises
    ------
    KeyError
        A target's strategy or comparator has no arm size (checked with a message by
        :func:`costspine.bayes.fit.check_evidence_against_scenario`).

    Examples
    --------
    >>> from types import SimpleNamespace as T
    >>> arms = T(arms={"uc": 100, "a": 100, "b": 100}, repeated_measures_correlation=0.5)
    >>> d = [T(kind="indicator_difference", indicator="y", years=1, strategy=s, comparator="uc") for s in "ab"]
    >>> target_correlation(d, arms).round(3).tolist()
    [[1.0, 0.5], [0.5, 1.0]]
    """
    n = len(targets)
    if likelihood is None:
        return np.eye(n)
    arms, rho = likelihood.arms, likelihood.repeated_measures_correlation
    keys: list[tuple] = []  # (arm, measure, visit) of every error term
    loadings = []
    for t in targets:
        measure, visit = target_measure(t), target_visit(t)
        terms = {}
        if t.kind in CONTRASTS:
            inv_a, inv_c = 1.0 / arms[t.strategy], 1.0 / arms[t.comparator]
            terms[t.strategy, measure, visit] = np.sqrt(inv_a / (inv_a + inv_c))
            terms[t.comparator, measure, visit] = -np.sqrt(inv_c / (inv_a + inv_c))
        else:
            arms[t.strategy]  # noqa: B018  (an arm without a size is an error here too)
            terms[t.strategy, measure, visit] = 1.0
        for key in terms:
            if key not in keys:
                keys.append(key)
        loadings.append(terms)
    load = np.zeros((n, len(keys)))
    for i, terms in enumerate(loadings):
        for key, weight in terms.items():
            load[i, keys.index(key)] = weight
    errors = np.eye(len(keys))
    for p, (arm_p, measure_p, visit_p) in enumerate(keys):
        for q, (arm_q, measure_q, visit_q) in enumerate(keys):
            if p != q and arm_p == arm_q and measure_p == measure_q and visit_p != visit_q:
                errors[p, q] = rho
    corr = load @ errors @ load.T
    d = np.sqrt(np.diag(corr))
    return corr / np.outer(d, d)


def target_covariance(targets, likelihood) -> np.ndarray:
    """Covariance of the targets' errors on the likelihood's scale (log for ratios): ``diag(se) C diag(se)``."""
    se = np.array([t.se for t in targets], dtype=float)
    return target_correlation(targets, likelihood) * np.outer(se, se)


def likelihood_targets(evidence) -> list:
    """The targets that enter the likelihood (``likelihood = true``), in file order."""
    return [t for t in evidence.targets if t.likelihood]


def observed_vector(targets) -> np.ndarray:
    """The observed targets on the likelihood's scale (log for ratios)."""
    return np.array([np.log(t.mean) if t.kind == "cost_ratio" else t.mean for t in targets], dtype=float)
