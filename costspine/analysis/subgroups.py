"""Results by subgroup: a scenario's population groups gathered by the levels of one attribute.

A scenario whose ``[population]`` declares categorical or binary attributes (the spine model's ICE
risk screen ``risk``) is run one cohort per group (:func:`costspine.simulate.cohort.run_cohort_groups`);
this module sums those groups into one subgroup per level of each such attribute — the other
attributes (age bands) are averaged over within the level by their shares — and gives per
subgroup its share, each strategy's cost, outcomes and indicators, and the increments against the
comparator, for the base case or for every PSA draw.

By construction the share-weighted sum of the subgroups' costs and outcomes is the population
total of every draw (:func:`costspine.simulate.cohort.run_cohort` of the same scenario), and an
indicator's population mean is the subgroups' means weighted by share times occupancy.

The microsimulation (``--method microsim``) keeps its own subgroups while it runs
(:func:`costspine.simulate.microsim.run_microsim` with ``by_level=True``):
:func:`microsim_subgroups` turns them into the same :class:`SubgroupResults`, with realised shares
and the Monte Carlo standard errors of each subgroup's means and increments;
:func:`run_subgroups` picks the method's subgroups for a base-case run.

Example
-------
>>> from costspine import load_scenario
>>> from costspine.simulate.cohort import run_cohort_groups
>>> scenario = load_scenario("scenarios/spine/base_case_microsim.toml")
>>> (risk,) = compute_subgroups(run_cohort_groups(scenario))
>>> risk.levels
('low', 'high')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine.model.groups import SUBGROUP_KINDS, find_report_points, list_subgroup_attributes

subgroup_attributes = list_subgroup_attributes
"""The population attributes results are reported by (:func:`costspine.model.groups.list_subgroup_attributes`)."""


@dataclass(frozen=True)
class SubgroupResults:
    """Each level of one attribute as a subgroup: share, costs, outcomes, indicators per draw.

    Attributes
    ----------
    scenario : Scenario
    attribute, label : str
        The attribute's name and label.
    levels : tuple of str
    share : ndarray, shape (draw, level)
        Population share of each subgroup (sums to 1 over levels in every draw).
    cost : ndarray, shape (draw, level, strategy)
        Discounted total cost per patient of the subgroup.
    outcomes : ndarray, shape (draw, level, strategy, outcome)
        Discounted outcomes per patient.
    times : tuple of float
        Report times (years) of ``indicators``.
    indicators : dict of str to ndarray, shape (draw, level, strategy, time)
        Occupancy-weighted indicator means within the subgroup at each report time.
    method : {"cohort", "microsim"}
        How the subgroups were computed.
    individuals : ndarray of int, shape (draw, level), optional
        Microsimulation: individuals simulated in each subgroup (``share`` is ``individuals / n``,
        the realised share of the sample). None for the cohort model.
    cost_se, incremental_cost_se, incremental_effect_se : ndarray, shape (draw, level, strategy), optional
        Microsimulation: Monte Carlo standard errors of the subgroup's mean cost and of its
        increments against the comparator (common random numbers). None for the cohort model.
    outcomes_se : ndarray, shape (draw, level, strategy, outcome), optional
    """

    scenario: object
    attribute: str
    label: str
    levels: tuple
    share: np.ndarray
    cost: np.ndarray
    outcomes: np.ndarray
    times: tuple
    indicators: dict
    method: str = "cohort"
    individuals: np.ndarray | None = None
    cost_se: np.ndarray | None = None
    outcomes_se: np.ndarray | None = None
    incremental_cost_se: np.ndarray | None = None
    incremental_effect_se: np.ndarray | None = None

    @property
    def strategies(self) -> tuple:
        return self.scenario.strategies

    @property
    def comparator(self) -> int:
        return self.strategies.index(self.scenario.analysis.comparator)

    @property
    def effect(self) -> np.ndarray:
        """The scenario's effect outcome per subgroup, shape (draw, level, strategy)."""
        names = tuple(o.name for o in self.scenario.outcomes)
        return self.outcomes[..., names.index(self.scenario.analysis.effect)]

    @property
    def effect_se(self) -> np.ndarray | None:
        """Microsimulation: MCSE of the subgroup's mean effect, shape (draw, level, strategy); else None."""
        if self.outcomes_se is None:
            return None
        names = tuple(o.name for o in self.scenario.outcomes)
        return self.outcomes_se[..., names.index(self.scenario.analysis.effect)]

    @property
    def incremental_cost(self) -> np.ndarray:
        """Cost minus the comparator's within each subgroup, shape (draw, level, strategy)."""
        return self.cost - self.cost[..., self.comparator : self.comparator + 1]

    @property
    def incremental_effect(self) -> np.ndarray:
        """Effect minus the comparator's within each subgroup, shape (draw, level, strategy)."""
        return self.effect - self.effect[..., self.comparator : self.comparator + 1]


def compute_subgroups(grouped, times=None) -> tuple[SubgroupResults, ...]:
    """Gather a cohort-by-group result into subgroups, one :class:`SubgroupResults` per attribute.

    Parameters
    ----------
    grouped : GroupedCohortResult
        From :func:`costspine.simulate.cohort.run_cohort_groups` (base case or PSA draws), with indicators.
    times : sequence of float, optional
        Report times of the indicators (years); default the scenario's ``report_at_years``, else start and end.

    Returns
    -------
    tuple of SubgroupResults
        One per categorical or binary attribute (:func:`subgroup_attributes`); empty if none.

    Notes
    -----
    With ``w[d, g]`` the group weights and ``I_l`` the groups at level ``l``, a subgroup's share is
    ``s[d, l] = sum_{g in I_l} w[d, g]`` and its cost ``sum_{g in I_l} w[d, g] c[d, g] / s[d, l]``
    (outcomes alike), so ``sum_l s[d, l] x[d, l]`` is the population mean ``sum_g w[d, g] x[d, g]``.
    An indicator weights each group by ``w[d, g]`` times its occupancy of the indicator's states.
    """
    scenario = grouped.scenario
    attrs = scenario.population.attributes
    shape = tuple(len(a.levels) for a in attrs)
    times, points = find_report_points(scenario, times)
    coords = np.unravel_index(np.arange(int(np.prod(shape))), shape) if shape else ()
    w = grouped.weights  # (D, G)
    cost = grouped.total_cost  # (D, G, S)
    out = []
    for k, attr in enumerate(attrs):
        if attr.kind not in SUBGROUP_KINDS:
            continue
        member = np.stack([coords[k] == j for j in range(len(attr.levels))]).astype(float)  # (L, G)
        share = w @ member.T  # (D, L)
        with np.errstate(invalid="ignore", divide="ignore"):
            level_cost = np.einsum("dg,lg,dgs->dls", w, member, cost) / share[:, :, None]
            level_outcomes = np.einsum("dg,lg,dgso->dlso", w, member, grouped.outcomes) / share[:, :, None, None]
        indicators = {}
        if grouped.indicators is not None:
            for i, name in enumerate(grouped.indicator_names):
                occ = grouped.indicator_occupancy[:, :, :, points, i]  # (D, G, S, T)
                value = np.nan_to_num(grouped.indicators[:, :, :, points, i])
                with np.errstate(invalid="ignore", divide="ignore"):
                    num = np.einsum("dg,lg,dgst->dlst", w, member, occ * value)
                    den = np.einsum("dg,lg,dgst->dlst", w, member, occ)
                    indicators[name] = np.where(den > 0, num / den, np.nan)
        out.append(
            SubgroupResults(
                scenario=scenario,
                attribute=attr.name,
                label=str(getattr(attr, "label", "") or attr.name),
                levels=tuple(attr.levels),
                share=share,
                cost=level_cost,
                outcomes=level_outcomes,
                times=times,
                indicators=indicators,
            )
        )
    return tuple(out)


def scenario_subgroups(scenario, params=None) -> tuple:
    """Results by subgroup of a scenario whose population has categorical attributes (empty tuple otherwise):
    the cohort model once per group (:func:`costspine.simulate.cohort.run_cohort_groups`) gathered by level."""
    from costspine.simulate.cohort import run_cohort_groups

    if not subgroup_attributes(scenario):
        return ()
    return compute_subgroups(run_cohort_groups(scenario, params))


def psa_subgroups(scenario, draws) -> tuple:
    """Results by subgroup for every PSA draw (empty without categorical population attributes): the
    cohort model once per group on the draws' parameter values, so each draw's subgroups sum to its totals."""
    from costspine.model.inputs import base_case_parameters

    if not subgroup_attributes(scenario):
        return ()
    params = {k: np.full(draws.n_draws, float(np.ravel(v)[0])) for k, v in base_case_parameters(scenario).items()}
    params.update({name: draws.parameters[:, j] for j, name in enumerate(draws.parameter_names)})
    return scenario_subgroups(scenario, params)


def microsim_subgroups(scenario, levels: dict | None) -> tuple:
    """Results by subgroup of a microsimulation, from the levels it kept (empty tuple without).

    Parameters
    ----------
    scenario : Scenario
    levels : dict of str to ndarray
        ``levels`` of a :class:`~costspine.simulate.microsim.MicrosimResult` run with
        ``by_level=True`` (:func:`costspine.simulate.microsim.summarize_levels`, a draw axis first),
        or the same arrays of every draw of a PSA.

    Returns
    -------
    tuple of SubgroupResults
        One per categorical or binary attribute, with ``method="microsim"``: shares are the
        realised shares of the simulated individuals, and the MCSE fields are filled.

    Notes
    -----
    With ``n_l`` individuals in level ``l`` of ``n``, ``sum_l (n_l / n) x_l`` is the population mean
    ``x`` of the same run up to float rounding: both are sums of the same integer counts.
    """
    if not levels:
        return ()
    times, _ = find_report_points(scenario)
    names = [i.name for i in scenario.indicators]
    out = []
    for attr in subgroup_attributes(scenario):
        key = f"{attr.name}."
        if key + "individuals" not in levels:
            continue
        individuals = np.asarray(levels[key + "individuals"])
        indicators = np.asarray(levels[key + "indicators"])  # (draw, level, strategy, time, indicator)
        out.append(
            SubgroupResults(
                scenario=scenario,
                attribute=attr.name,
                label=str(getattr(attr, "label", "") or attr.name),
                levels=tuple(attr.levels),
                share=individuals / individuals.sum(axis=1, keepdims=True),
                cost=np.asarray(levels[key + "cost"]),
                outcomes=np.asarray(levels[key + "outcomes"]),
                times=times,
                indicators={name: indicators[..., i] for i, name in enumerate(names)},
                method="microsim",
                individuals=individuals,
                cost_se=np.asarray(levels[key + "cost_se"]),
                outcomes_se=np.asarray(levels[key + "outcomes_se"]),
                incremental_cost_se=np.asarray(levels[key + "incremental_cost_se"]),
                incremental_effect_se=np.asarray(levels[key + "incremental_effect_se"]),
            )
        )
    return tuple(out)


def run_subgroups(scenario, result) -> tuple:
    """Results by subgroup of a base-case run (``costspine run``), whichever its method.

    The cohort model: :func:`scenario_subgroups` (one cohort per group). The microsimulation: the
    levels the run kept (:func:`microsim_subgroups`; :func:`costspine.simulate.run.run_scenario`
    asks for them). Empty without categorical or binary population attributes.
    """
    if getattr(result, "method", "cohort") == "microsim":
        return microsim_subgroups(scenario, getattr(result, "levels", None))
    return scenario_subgroups(scenario)
