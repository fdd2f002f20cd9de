"""Issue 14 item 3: the deterministic base case of base_case_bayes.toml is the centre of its PSA.

Fits the bundled evidence into a fresh cache (as ``costspine psa`` would), takes each calibrated
parameter's posterior median and checks that ``run`` of the scenario uses it. Nothing is pinned:
the expectation comes from the posterior itself.
"""

import math
import warnings

import numpy as np
import pytest

from helpers import SPINE


@pytest.mark.slow
def test_run_of_base_case_bayes_uses_the_posterior_medians(tmp_path, monkeypatch):
    import costspine
    from costspine.bayes.posterior import load_posterior_pools

    monkeypatch.setenv("COSTSPINE_CACHE_DIR", str(tmp_path / "cache"))
    scenario = costspine.load_scenario(SPINE / "base_case_bayes.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pools, _ = load_posterior_pools(scenario)
    result = costspine.run(scenario)
    checked = []
    for pool in pools:
        for name, draws in pool["parameters"].items():
            if name in pool["held"]:
                continue
            used = float(np.asarray(result.parameters[name]).ravel()[0])
            median = float(np.median(draws))
            # the file holds 6 significant digits; a refit on another platform moves the median by
            # Monte Carlo error only (that of a median of n draws is about 1.25 sd / sqrt(n))
            tolerance = 1e-5 * abs(median) + 3 * 1.2533 * float(np.std(draws)) / math.sqrt(len(draws))
            assert abs(used - median) <= tolerance, (name, used, median)
            checked.append(name)
    assert len(checked) >= 9  # the arm effects, the usual-care hazards and the care-use ratios
