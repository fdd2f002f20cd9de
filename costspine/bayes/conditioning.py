"""What a calibration conditioned on: the parameters it held at their base values.

A posterior is the distribution of the calibrated parameters *given* every other parameter that
changes the model's predictions of the targets, at the value the calibration used. A PSA that
redraws such a parameter independently pairs posterior rows with values they were never fitted
with, and its draws stop reproducing the trial. So a PSA holds these parameters at the values the
calibration used (:func:`costspine.bayes.posterior.load_posterior_pools` adds them to the pool as
constant columns). Parameters that change no likelihood target are untouched by the posterior
(prior and posterior agree), so the PSA draws them from their own distributions, independently.

Which parameters change a target is found by running the numpy cohort engine once, vectorised
over nudged copies of the base case (one per parameter), at :data:`REFERENCE_POINTS` points where
the calibrated parameters take draws from their priors (at the base case alone, calibrated arm
effects of 1 would hide every parameter that acts through an arm difference). So it follows the
scenario file: a parameter added to the model (or to the calibration) is classified without code
changes.
"""

from __future__ import annotations

import numpy as np

NUDGE = 0.9
"""A parameter's nudged value is ``NUDGE * value`` (``1e-3`` for zero): same sign, inside (0, 1) when the value is."""
REFERENCE_POINTS = 3
"""Prior draws of the calibrated parameters around which every other parameter is nudged."""
TOLERANCE = 1e-9
"""A target changes when it moves by more than this, relative to its size (plus this, absolute)."""


def _nudged(value: float) -> float:
    """A value near ``value`` but different, inside (0, 1) when ``value`` is, positive when it is."""
    return value * NUDGE if value != 0.0 else 1e-3


def find_held_parameters(scenario, evidence) -> dict[str, float]:
    """Parameters that change a likelihood target but are not calibrated, with their calibration values.

    Parameters
    ----------
    scenario : Scenario
        The calibrated scenario (the one the evidence file names).
    evidence : Evidence

    Returns
    -------
    dict of str to float
        ``{name: base-case value}`` (Dirichlet components by component name, all components of a
        group together), in the scenario's parameter order.
    """
    from costspine._rng import stream
    from costspine.bayes.likelihood import likelihood_targets
    from costspine.bayes.predictive import predict_targets
    from costspine.model.inputs import base_case_parameters
    from costspine.params import draw_parameters
    from costspine.simulate.cohort import run_cohort

    base = {name: float(v[0]) for name, v in base_case_parameters(scenario).items()}
    calibrated = set(evidence.calibrate)
    groups = []  # each a list of component names nudged together
    random_specs = []
    for spec in scenario.parameters:
        if spec.family in ("derived", "posterior") or spec.name in calibrated:
            continue
        group = list(spec.components) if spec.components else [spec.name]
        if all(name in base for name in group):
            groups.append(group)
            if spec.family != "fixed":
                random_specs.append(spec)
    # a random parameter moves to draws from its own distribution (inside its support); a fixed one is nudged
    moves = draw_parameters(random_specs, REFERENCE_POINTS, stream(0, "calibration", "held parameters", "moves"))
    per_point = len(groups) + 1
    rows = REFERENCE_POINTS * per_point
    params = {name: np.full(rows, value) for name, value in base.items()}
    specs = [scenario.parameter(name) for name in evidence.calibrate]
    reference = draw_parameters(specs, REFERENCE_POINTS, stream(0, "calibration", "held parameters"))
    for p in range(REFERENCE_POINTS):
        block = slice(p * per_point, (p + 1) * per_point)
        for name, values in reference.items():
            params[name][block] = values[p]
        for r, group in enumerate(groups, start=p * per_point + 1):
            for name in group:
                params[name][r] = moves[name][p] if name in moves else _nudged(base[name])
    targets = likelihood_targets(evidence)
    predicted = predict_targets(run_cohort(scenario, params), targets)
    moved = np.zeros(len(groups), dtype=bool)
    for t in targets:
        values = np.asarray(predicted[t.name], dtype=float).reshape(REFERENCE_POINTS, per_point)
        change = np.abs(values[:, 1:] - values[:, :1]) > TOLERANCE * (np.abs(values[:, :1]) + 1.0)
        moved |= change.any(axis=0)
    held = {}
    for group, is_moved in zip(groups, moved):
        if is_moved:
            held.update({name: base[name] for name in group})
    return held
