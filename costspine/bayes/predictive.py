"""Posterior predictive check: posterior draws run through the numpy engine, each calibration
target compared with the trial's interval.
"""

from __future__ import annotations

import numpy as np

from costspine.model.inputs import base_case_parameters
from costspine.simulate.cohort import run_cohort


def predict_targets(result, targets) -> dict[str, np.ndarray]:
    """Each target's model prediction per draw, from a cohort result (numpy engine)."""
    strategies = result.strategies
    cost = result.costs_undiscounted.sum(axis=-1)  # (draw, strategy)
    out = {}
    for t in targets:
        k = strategies.index(t.strategy)
        if t.kind == "indicator_mean":
            out[t.name] = result.indicator_at_years(t.indicator, t.years)[:, k]
        elif t.kind == "indicator_change":
            out[t.name] = (
                result.indicator_at_years(t.indicator, t.years)[:, k] - result.indicator_at_years(t.indicator, 0.0)[:, k]
            )
        elif t.kind == "indicator_difference":
            ind = result.indicator_at_years(t.indicator, t.years)
            out[t.name] = ind[:, k] - ind[:, strategies.index(t.comparator)]
        elif t.kind == "cost_mean":
            out[t.name] = cost[:, k]
        else:
            out[t.name] = cost[:, k] / cost[:, strategies.index(t.comparator)]
    return out


def posterior_predictive_rows(scenario, evidence, draws: dict[str, np.ndarray]) -> list[list]:
    """Target vs posterior predictive mean and 95% interval, and whether it sits in the trial CI."""
    params = dict(base_case_parameters(scenario))
    params.update(draws)
    predicted = predict_targets(run_cohort(scenario, params), evidence.targets)
    rows = []
    for t in evidence.targets:
        values = predicted[t.name]
        mean = float(values.mean())
        lo, hi = np.quantile(values, [0.025, 0.975])
        rows.append(
            [
                t.name,
                t.kind,
                t.mean,
                t.low,
                t.high,
                mean,
                float(lo),
                float(hi),
                "yes" if t.low <= mean <= t.high else "NO",
                "yes" if t.likelihood else "check only",
            ]
        )
    return rows
