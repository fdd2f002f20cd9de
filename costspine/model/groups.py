"""Population groups: attribute levels and bands crossed into a grid of groups with weights per
parameter draw (cohort-by-group runs and the microsimulation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from costspine.errors import AnalysisError, Problem, ScenarioError
from costspine.model.evaluate import evaluate_in_file
from costspine.scenario.population import SHARE_TOLERANCE, Population


@dataclass(frozen=True)
class GroupGrid:
    """The population's groups for each parameter draw.

    Attributes
    ----------
    shape : tuple of int
        Levels per attribute (the grid's attribute axes, in declaration order).
    weights : ndarray, shape ``(draw, *shape)``
        Population share of each group.
    values : dict of str to ndarray broadcastable to ``(draw, *shape)``
        Each attribute name's value in each group (band mean for continuous attributes).
    level_labels : tuple of tuple of str
    attribute_names : tuple of str
    """

    shape: tuple
    weights: np.ndarray
    values: dict
    level_labels: tuple
    attribute_names: tuple

    @property
    def n_groups(self) -> int:
        return math.prod(self.shape)

    def flat_weights(self) -> np.ndarray:
        """Group weights, shape (draw, group) (groups in C order of the attribute axes)."""
        return self.weights.reshape(self.weights.shape[0], -1)

    def flat_values(self) -> dict:
        """Attribute values per group, each shape (draw, group)."""
        n_draws = self.weights.shape[0]
        return {k: np.broadcast_to(v, (n_draws, *self.shape)).reshape(n_draws, -1) for k, v in self.values.items()}

    def label(self, group: int) -> str:
        """``"risk=high, age=35-50"`` for a flat group index."""
        if not self.shape:
            return "everyone"
        coords = np.unravel_index(group, self.shape)
        return ", ".join(f"{n}={labels[i]}" for n, labels, i in zip(self.attribute_names, self.level_labels, coords))


def build_groups(population: Population, params: dict, *, tables: dict, where: str, base_case: bool) -> GroupGrid:
    """Evaluate the attribute distributions for every draw of ``params``.

    Parameters
    ----------
    population : Population
    params : dict of str to ndarray, shape (draw,)
        Every parameter's value (derived ones included), e.g. from
        :func:`costspine.model.evaluate_parameters`.
    tables : dict
        The scenario's look-up tables.
    where : str
        The scenario file, for messages.
    base_case : bool
        Whether a bad value is a scenario error (base case) or an analysis error (a PSA draw).

    Returns
    -------
    GroupGrid

    Raises
    ------
    ScenarioError, AnalysisError
        Shares outside [0, 1] or not summing to 1, a normal's sd <= 0, bands holding no
        probability — each naming the key.

    Notes
    -----
    Arrays live on the grid ``(draw, attribute_1, ..., attribute_A)``; an attribute's shares may
    depend on the draw and on earlier attributes, so they are evaluated with those axes and its
    levels are laid along its own axis. A normal attribute truncated to ``[e_0, e_K]`` puts
    ``(Φ(z_{j+1}) − Φ(z_j)) / (Φ(z_K) − Φ(z_0))`` in band ``j`` and takes the band's conditional
    mean ``μ + σ (φ(z_j) − φ(z_{j+1})) / (Φ(z_{j+1}) − Φ(z_j))`` as its value (``z = (e − μ)/σ``);
    a uniform one takes the band's share of the width and its midpoint.
    """
    attrs = population.attributes
    n_axes = len(attrs)
    n_draws = max((np.size(v) for v in params.values()), default=1)
    space = {k: np.asarray(v, dtype=float).reshape((-1,) + (1,) * n_axes) for k, v in params.items()}
    shape = tuple(len(a.levels) for a in attrs)
    weights = np.ones((n_draws,) + (1,) * n_axes)
    values = {}
    problems = []

    def evaluate(expr, keypath):
        return evaluate_in_file(expr, space, file=where, key=keypath, tables=tables)

    def stack(levels, k):
        """Lay per-level arrays (each broadcastable to the grid, singleton on axis 1 + k) along axis 1 + k."""
        levels = [np.asarray(v, dtype=float) for v in levels]
        lead = np.broadcast_shapes((1,) * (1 + n_axes), *(v.shape for v in levels))
        return np.concatenate([np.broadcast_to(v, lead) for v in levels], axis=1 + k)

    def constant(numbers, k):
        out = [1] * (1 + n_axes)
        out[1 + k] = len(numbers)
        return np.asarray(numbers, dtype=float).reshape(out)

    for k, attr in enumerate(attrs):
        key = f"population.attributes.{attr.name}"
        if attr.kind in ("categorical", "binary"):
            if attr.kind == "categorical":
                parts = [evaluate(e, f"{key}.levels.{lvl}") for e, lvl in zip(attr.shares, attr.levels)]
            else:
                share = evaluate(attr.shares[0], f"{key}.share")
                parts = [1.0 - share, share]
            prob = stack(parts, k)
            if np.any(~((prob >= -SHARE_TOLERANCE) & (prob <= 1 + SHARE_TOLERANCE))):
                bad = prob[~((prob >= -SHARE_TOLERANCE) & (prob <= 1 + SHARE_TOLERANCE))]
                problems.append((key, f"shares must be in [0, 1]; got {float(bad.ravel()[0]):g}"))
            total = prob.sum(axis=1 + k)
            if np.any(~(np.abs(total - 1) <= 1e-6)):
                worst = np.ravel(total)[np.argmax(np.abs(np.ravel(total) - 1))]
                problems.append((key, f"level shares must sum to 1; they sum to {worst:.6g}"))
            if attr.kind == "categorical":
                for i, name in enumerate(attr.names):
                    values[name] = constant(np.eye(len(attr.levels))[i], k)
            else:
                values[attr.name] = constant([0.0, 1.0], k)
        elif attr.kind == "fixed":
            prob = constant([1.0], k)
            values[attr.name] = stack([evaluate(attr.args["value"], f"{key}.value")], k)
        elif attr.distribution == "uniform":
            edges = np.asarray(attr.bands, dtype=float)
            prob = constant(np.diff(edges) / (edges[-1] - edges[0]), k)
            values[attr.name] = constant((edges[:-1] + edges[1:]) / 2, k)
        else:
            from scipy import special

            edges = np.asarray(attr.bands, dtype=float)
            mean = evaluate(attr.args["mean"], f"{key}.mean")
            sd = evaluate(attr.args["sd"], f"{key}.sd")
            if np.any(~(sd > 0)):
                problems.append((f"{key}.sd", f"must be > 0; got {float(np.min(sd)):g}"))
                sd = np.where(sd > 0, sd, 1.0)
            z = [(e - mean) / sd for e in edges]
            cdf = [special.ndtr(v) for v in z]
            density = [np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi) for v in z]
            total = cdf[-1] - cdf[0]
            if np.any(~(total > 1e-12)):
                problems.append((key, "the normal distribution puts no probability inside the bands; check mean, sd and bands"))
                total = np.where(total > 1e-12, total, 1.0)
            masses, means = [], []
            for j in range(len(edges) - 1):
                mass = cdf[j + 1] - cdf[j]
                with np.errstate(all="ignore"):
                    conditional = mean + sd * (density[j] - density[j + 1]) / mass
                midpoint = (edges[j] + edges[j + 1]) / 2
                masses.append(mass / total)
                means.append(np.clip(np.where(mass > 1e-300, conditional, midpoint), edges[j], edges[j + 1]))
            prob = stack(masses, k)
            values[attr.name] = stack(means, k)
        weights = weights * prob
        space.update(values)
    if problems:
        if base_case:
            raise ScenarioError([Problem(f"{where}: {k}", m) for k, m in problems])
        raise AnalysisError("invalid population shares in PSA draws:\n" + "\n".join(f"  - {k}: {m}" for k, m in problems))
    weights = np.broadcast_to(weights, (n_draws,) + shape).copy()
    return GroupGrid(shape, weights, values, tuple(a.levels for a in attrs), tuple(a.name for a in attrs))


SUBGROUP_KINDS = ("categorical", "binary")
"""Attribute kinds results are reported by (each level a subgroup)."""


def list_subgroup_attributes(scenario) -> tuple:
    """The population attributes results are reported by: the categorical and binary ones, in declaration order."""
    population = getattr(scenario, "population", None)
    if population is None:
        return ()
    return tuple(a for a in population.attributes if a.kind in SUBGROUP_KINDS)


def find_report_points(scenario, times=None) -> tuple[tuple, list]:
    """Report times (years) of results by subgroup and their trace points.

    ``times`` defaults to the scenario's ``report_at_years``, else the start and the end of the horizon;
    each time goes to the nearest trace point within the horizon.
    """
    settings = scenario.settings
    if times is None:
        times = list(scenario.analysis.report_at_years) or [0.0, settings.n_cycles * settings.cycle_years]
    last = settings.n_cycles
    points = [min(max(int(round(t / settings.cycle_years)), 0), last) for t in times]
    return tuple(float(t) for t in times), points
