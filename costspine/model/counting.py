"""Rewards that can never count: a state reward whose state is occupied only at trace points of weight 0.

Under end-of-cycle counting (``cycle_correction = "none"``) point 0 has weight 0, so a cost paid
in a starting state that the whole cohort leaves during cycle 1 is never counted; under
beginning-of-cycle counting the last point has weight 0; custom weights may have zeros anywhere.
Such a reward vanishes without a word and can flip a decision, so ``costspine validate`` and
``costspine run`` warn about each one (a warning, not an error: the model may mean it).
"""

from __future__ import annotations

import numpy as np

from costspine.errors import Problem
from costspine.problems import Collector
from costspine.scenario.types import Scenario

SECTIONS = {"cost": "costs", "outcome": "outcomes", "service": "services"}
"""The state rewards that are summed over the trace (indicators are means, not sums)."""

CORRECTION_HINTS = {
    "none": "a one-off amount paid on arrival is an on_entry reward; or count the start of each cycle too "
    '(cycle_correction = "half-cycle" or "beginning")',
    "beginning": 'or count the end of each cycle too (cycle_correction = "half-cycle")',
    "custom": "give that point a weight, or move the reward to a state the cohort is in at weighted points",
}


def _is_zero_constant(expr) -> bool:
    """An expression that is the number 0 whatever the parameters (so it never counts anyway)."""
    if expr.names or expr.calls:
        return False
    try:
        return bool(np.all(np.asarray(expr.evaluate({}), dtype=float) == 0))
    except (ArithmeticError, ValueError, TypeError):
        return False


def _points_text(points: np.ndarray) -> str:
    shown = ", ".join(str(int(p)) for p in points[:5])
    return f"point{'s' if points.size > 1 else ''} {shown}{', ...' if points.size > 5 else ''}"


def find_uncounted_rewards(scenario: Scenario, occupancy: np.ndarray, weights: np.ndarray) -> list[Problem]:
    """Every state reward of every strategy whose state is occupied, but only at points of weight 0.

    Parameters
    ----------
    scenario : Scenario
    occupancy : ndarray, shape (strategy, cycle + 1, state)
        The base-case trace (shares of the cohort).
    weights : ndarray, shape (cycle + 1,)
        The cycle-correction weights (:func:`costspine.engines.outcomes.cycle_weights`).

    Returns
    -------
    list of Problem
        One per strategy, reward and state, at the reward's key path (``costs.NAME.values.STATE``,
        or the strategy's override), naming the state, the reward, the strategy and the points.

    Examples
    --------
    >>> import numpy as np
    >>> from costspine import load_scenario
    >>> s = load_scenario("scenarios/examples/hiv_chancellor.toml")
    >>> occupancy = np.zeros((2, 21, 4))
    >>> occupancy[:, 0, 0] = 1.0  # everyone in A at point 0 only
    >>> found = find_uncounted_rewards(s, occupancy, np.r_[0.0, np.ones(20)])
    >>> sorted({p.where.split(": ")[1] for p in found})[:2]
    ['costs.community_care.values.A', 'costs.direct_medical.values.A']
    """
    occupied = occupancy > 0  # (S, T+1, N)
    counted = np.einsum("stn,t->sn", occupied.astype(float), np.abs(np.asarray(weights, dtype=float))) > 0
    uncounted = occupied.any(axis=1) & ~counted  # (S, N)
    if not uncounted.any():
        return []
    c = Collector(scenario.origin, str(scenario.path))
    resolved = scenario.resolved.get("strategies", {})
    correction = scenario.settings.cycle_correction
    hint = CORRECTION_HINTS.get(correction, "")
    for reward in (*scenario.costs, *scenario.outcomes, *scenario.services):
        section = SECTIONS[reward.kind]
        for k, strategy in enumerate(scenario.strategies):
            for state, expr in reward.state_values.get(strategy, {}).items():
                n = scenario.states.index(state)
                if not uncounted[k, n] or _is_zero_constant(expr):
                    continue
                own = isinstance(resolved.get(strategy), dict) and reward.name in (resolved[strategy].get(section) or {})
                keypath = f"{'strategies.' + strategy + '.' if own else ''}{section}.{reward.name}.values.{state}"
                points = np.flatnonzero(occupied[k, :, n])
                c.add(
                    keypath,
                    f"the {reward.kind} {reward.name!r} of state {state!r} never counts for strategy "
                    f"{strategy!r}: the cohort is in {state!r} only at trace {_points_text(points)}, "
                    f"of weight 0 under cycle_correction = {correction!r}" + (f" — {hint}" if hint else ""),
                )
    return list(c.problems)
