"""The precision scenario's microsimulation path agrees with its cohort-by-group path within Monte Carlo error."""

from __future__ import annotations

import numpy as np
import pytest

from costspine.analysis.individualised import summarize_individualised
from costspine.scenario.load import load_scenario
from costspine.simulate.cohort import run_cohort_groups
from costspine.simulate.microsim import run_microsim_groups

from helpers import ROOT

PRECISION = ROOT / "scenarios" / "precision" / "chronic_lbp_best.toml"
FOUR = ("esc_all", "act_all", "ebem_all", "dlx_all")
Z = 4.5
"""Tolerance in MCSEs: 16 groups x 7 strategies x 2 measures = 224 comparisons at one fixed seed; a
correct engine exceeds 4.5 standard errors in any of them with probability about 0.2%."""


@pytest.fixture(scope="module")
def runs():
    scenario = load_scenario(PRECISION)
    return scenario, run_cohort_groups(scenario), run_microsim_groups(scenario, n_individuals=20_000, seed=11)


def test_each_phenotype_agrees_with_the_cohort(runs):
    scenario, cohort, micro = runs
    assert micro.labels == cohort.labels
    assert micro.individuals.sum() == 20_000
    # sampled group shares: each within Z binomial standard errors of the cohort's weight
    w = cohort.weights[0]
    assert (np.abs(micro.weights[0] - w) < Z * np.sqrt(w * (1 - w) / 20_000)).all()
    z_cost = (micro.total_cost - cohort.total_cost) / micro.total_cost_se
    z_qalys = (micro.effect - cohort.effect) / micro.outcomes_se[..., cohort.outcome_names.index("qalys")]
    assert np.abs(z_cost).max() < Z
    assert np.abs(z_qalys).max() < Z
    # and the z-scores look like standard normals, not like a constant offset hidden by wide errors
    assert abs(z_cost.mean()) < Z / np.sqrt(z_cost.size)
    assert abs(z_qalys.mean()) < Z / np.sqrt(z_qalys.size)


def test_value_of_individualised_care_agrees(runs):
    """Net benefit per group within Z bounds on its MCSE; EVIC within the error those bounds allow."""
    scenario, cohort, micro = runs
    wtp = 100_000
    by_cohort = summarize_individualised(cohort, wtp=wtp, treatments=FOUR)
    by_micro = summarize_individualised(micro, wtp=wtp, treatments=FOUR)
    assert by_micro.method == "microsim" and by_micro.individuals == 20_000
    q = cohort.outcome_names.index("qalys")
    se_nb = wtp * micro.outcomes_se[..., q] + micro.total_cost_se  # >= the MCSE of wtp * E - C
    assert (np.abs(by_micro.nb - by_cohort.nb) < Z * se_nb).all()
    # EVIC = sum_g w_g (NB[g, best_g] - NB[g, one size]): bounded by the per-group errors of both
    # terms plus the sampling of the weights (the cohort's decisions are used for both, so only
    # the estimates differ)
    g = np.arange(len(cohort.labels))
    best = [scenario.strategies.index(t) for t in by_cohort.best_by_group]
    one = scenario.strategies.index(by_cohort.best_overall)
    nb_m, nb_c = by_micro.nb[0], by_cohort.nb[0]
    evic_m = float((micro.weights[0] * (nb_m[g, best] - nb_m[:, one])).sum())
    evic_c = float(by_cohort.evic[0])
    gain = nb_c[g, best] - nb_c[:, one]
    w = cohort.weights[0]
    se = np.sqrt((w**2 * (se_nb[0, g, best] + se_nb[0, :, one]) ** 2).sum() + (w * (1 - w) / 20_000 * gain**2).sum())
    assert abs(evic_m - evic_c) < Z * se
    assert se < 0.5 * evic_c  # the test has power: the error allowed is well below the value itself
