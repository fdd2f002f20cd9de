"""Health beside the budget: QALYs, mean ODI and people in each health state, by calendar year.

A budget-impact run counts health the way it counts services (:func:`costspine.analysis.bia.compute_budget`):
per-cycle amounts of each patient group's pathway model, delivered by time since entry, spread over
calendar years and never discounted. The amounts per patient per model cycle are

- ``qalys``: the ``qalys`` outcome of the model, if it has one;
- ``people:<state>``: person-years in each state other than ``dead`` (``cycle_years`` × occupancy);
  summed over a calendar year this is the average number of people in the state that year;
- ``odi_years`` and ``alive_years``: person-years weighted by the ``odi`` indicator, and the
  person-years of the states the indicator covers; their ratio is the mean ODI of the year.

Each is split by cycle with the model's own cycle correction, like costs. No files, no printing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine.analysis.bia import BudgetImpact, _add_rows
from costspine.engines.outcomes import compute_state_rewards
from costspine.model.inputs import base_case_parameters, build_model_inputs
from costspine.simulate.cohort import derive_reward_factors, run_cohort, simulate_inputs

QALYS = "qalys"
ODI = "odi"
DEAD = "dead"
PEOPLE = "people:"
HEALTH_MEASURES = ("health_current", "health_new", "health_difference")


@dataclass(frozen=True)
class Health:
    """Health amounts of one patient group: per model cycle (``values``) or by calendar year (``current``, ``new``).

    Attributes
    ----------
    names : tuple of str
        ``qalys``, ``people:<state>``, ``odi_years``, ``alive_years`` (those the model supports).
    values : ndarray, shape (draw, strategy, cycle, health), or None
        Per patient per model cycle.
    current, new : ndarray, shape (draw, year, health), or None
        Plan totals in each calendar year under each world.
    """

    names: tuple
    values: np.ndarray | None = None
    current: np.ndarray | None = None
    new: np.ndarray | None = None


def run_with_health(model, params):
    """Run ``model``'s cohort and return ``(CohortResult, Health)`` with per-cycle health amounts.

    A model with a ``[population]`` section runs by group (:func:`costspine.simulate.cohort.run_cohort`)
    and reports no health amounts.
    """
    if getattr(model, "population", None) is not None:
        result = run_cohort(model, params)
        return result, Health(names=(), values=np.zeros(result.cost_per_cycle.shape[:3] + (0,)))
    inputs = build_model_inputs(model, params)
    result = simulate_inputs(model, inputs, params if params is not None else base_case_parameters(model))
    h = model.settings.cycle_years
    states = list(model.states)
    columns, names = [], []
    outcome_names = [o.name for o in model.outcomes]
    if QALYS in outcome_names:
        columns.append(inputs.state_outcomes[..., outcome_names.index(QALYS)])
        names.append(QALYS)
    n_draws, n_strategies = inputs.state_outcomes.shape[:2]
    for j, state in enumerate(states):
        if state == DEAD:
            continue
        one_hot = np.zeros((1, 1, 1, len(states)))
        one_hot[..., j] = h
        columns.append(one_hot)
        names.append(PEOPLE + state)
    indicator_names = [i.name for i in model.indicators]
    if ODI in indicator_names:
        k = indicator_names.index(ODI)
        mask = inputs.indicator_mask[k].astype(float)
        columns.append(np.where(mask > 0, inputs.indicator_values[..., k], 0.0) * h)
        columns.append((mask * h)[None, None, None, :])
        names += ["odi_years", "alive_years"]
    n_time = max(c.shape[2] for c in columns) if columns else 1
    stacked = (
        np.stack([np.broadcast_to(c, (n_draws, n_strategies, n_time, len(states))) for c in columns], axis=-1)
        if columns
        else np.zeros((n_draws, n_strategies, 1, len(states), 0))
    )
    factors = derive_reward_factors(model.settings)
    points = compute_state_rewards(result.trace, stacked, correction=factors.cycle_correction)
    return result, Health(names=tuple(names), values=factors.split_by_cycle(points))


def split_health(budget: BudgetImpact, *, n_services: int, names) -> tuple[BudgetImpact, Health]:
    """Separate the health columns that rode along with the services in ``budget``."""
    import dataclasses

    health = Health(
        names=tuple(names),
        current=budget.services_current[..., n_services:],
        new=budget.services_new[..., n_services:],
    )
    keep = slice(0, n_services)
    cleaned = dataclasses.replace(
        budget,
        services_current=budget.services_current[..., keep] if n_services else None,
        services_new=budget.services_new[..., keep] if n_services else None,
        services_difference=budget.services_difference[..., keep] if n_services else None,
        services=budget.services[keep],
    )
    return cleaned, health


def combine_health(parts) -> Health:
    """The plan's health by year: the patient groups' amounts added up by name."""
    names = tuple(dict.fromkeys(n for p in parts for n in p.names))
    n_draws = max(p.current.shape[0] for p in parts)
    n_years = parts[0].current.shape[1]
    out = {}
    for world in ("current", "new"):
        total = np.zeros((n_draws, n_years, len(names)))
        for p in parts:
            if p.names:
                total[..., [names.index(n) for n in p.names]] += getattr(p, world)
        out[world] = total
    return Health(names=names, current=out["current"], new=out["new"])


def summarize_health(health: Health) -> list[dict]:
    """Long-table records of health by year and in total: measures ``health_current``, ``health_new``
    and ``health_difference``; items ``qalys``, ``mean_odi`` and ``people:<state>``.

    QALYs and people are summed over the years for the total (people: person-years); the mean ODI
    of a period is ``Σ odi_years / Σ alive_years`` (living patients in the pathways, every state
    the ``odi`` indicator covers).
    """
    rows: list[dict] = []
    if not health.names:
        return rows
    worlds = {"current": health.current, "new": health.new}
    values = {}
    for world, amounts in worlds.items():
        with_total = np.concatenate([amounts, amounts.sum(axis=1, keepdims=True)], axis=1)
        items = {}
        if QALYS in health.names:
            items[QALYS] = with_total[..., health.names.index(QALYS)]
        if "odi_years" in health.names:
            alive = with_total[..., health.names.index("alive_years")]
            odi = with_total[..., health.names.index("odi_years")]
            items["mean_odi"] = np.divide(odi, alive, out=np.full_like(odi, np.nan), where=alive > 0)
        for name in health.names:
            if name.startswith(PEOPLE):
                items[name] = with_total[..., health.names.index(name)]
        values[world] = items
    values["difference"] = {k: values["new"][k] - values["current"][k] for k in values["current"]}
    for world in ("current", "new", "difference"):
        for item, v in values[world].items():
            _add_rows(rows, f"health_{world}", item, v)
    return rows
