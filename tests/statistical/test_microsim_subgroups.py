"""The microsimulation's subgroups converge to the cohort model's (issue 14 item 4, ``--method microsim``).

The spine base case's microsimulation variant has no history, so each ICE risk level's mean cost,
QALYs and increments over its simulated individuals estimate what the cohort model gives for that
level (one cohort per group, age bands mixed by their shares). Each difference is a z score in
units of the level's own Monte Carlo standard error (MCSE); the family of 2 levels x 3 strategies x
(cost, effect) + 2 levels x 2 increments x (cost, effect) = 20 z scores is held to a Bonferroni bound
with a family-wise false-failure rate of 0.27 % (that of one 3-MCSE test), about 3.9 MCSE. The
realised share of a level differs from the cohort's expected share by sampling only; the test
checks that too (binomial z score). A fixed seed makes it deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from costspine.analysis.subgroups import microsim_subgroups, scenario_subgroups
from costspine.scenario.load import load_scenario
from costspine.simulate.microsim import run_microsim

import helpers

pytestmark = pytest.mark.slow

N = 200_000
FAMILY_RATE = 0.0027


def test_spine_microsim_subgroups_agree_with_the_cohort_subgroups_within_their_mcse():
    scenario = load_scenario(helpers.SPINE / "base_case_microsim.toml")
    (cohort,) = scenario_subgroups(scenario)
    result = run_microsim(scenario, n_individuals=N, seed=20261204, by_level=True)
    (micro,) = microsim_subgroups(scenario, result.levels)
    assert micro.levels == cohort.levels
    c = micro.comparator
    others = [k for k in range(len(scenario.strategies)) if k != c]
    z = [
        (micro.cost - cohort.cost) / micro.cost_se,
        (micro.effect - cohort.effect) / micro.effect_se,
        (micro.incremental_cost - cohort.incremental_cost)[..., others] / micro.incremental_cost_se[..., others],
        (micro.incremental_effect - cohort.incremental_effect)[..., others] / micro.incremental_effect_se[..., others],
    ]
    z = np.concatenate([np.ravel(v) for v in z])
    assert z.size == 20 and np.all(np.isfinite(z))
    print(f"max |z| = {np.max(np.abs(z)):.2f}")
    limit = special.ndtri(1 - FAMILY_RATE / (2 * z.size))
    assert np.max(np.abs(z)) < limit, f"max |z| = {np.max(np.abs(z)):.2f} MCSE (limit {limit:.2f}); z = {np.round(z, 2)}"
    # the realised share is a binomial sample of the expected one
    p = cohort.share[0, 1]
    z_share = (micro.share[0, 1] - p) / np.sqrt(p * (1 - p) / N)
    assert abs(z_share) < special.ndtri(1 - FAMILY_RATE / 2)
    # and the increments differ between the levels by more than noise (the subgroups are not vacuous)
    ice = scenario.strategies.index("ice")
    gap = micro.incremental_effect[0, 1, ice] - micro.incremental_effect[0, 0, ice]
    assert abs(gap) > 10 * np.hypot(*micro.incremental_effect_se[0, :, ice])
