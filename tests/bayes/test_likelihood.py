"""The calibration likelihood's covariance (costspine.bayes.likelihood) and the evidence file's [likelihood] table."""

from types import SimpleNamespace as T

import numpy as np
import pytest

from costspine.bayes.likelihood import target_correlation, target_covariance
from costspine.errors import ScenarioError
from costspine.scenario.evidence import load_evidence

ARMS = T(arms={"uc": 900.0, "a": 300.0, "b": 600.0}, repeated_measures_correlation=0.6)


def diff(strategy, years, comparator="uc", kind="indicator_difference", indicator="y"):
    return T(kind=kind, indicator=indicator, years=years, strategy=strategy, comparator=comparator)


def change(years):
    return T(kind="indicator_change", indicator="y", years=years, strategy="uc", comparator=None)


def test_contrasts_sharing_the_control_arm_correlate_through_its_variance_share():
    corr = target_correlation([diff("a", 1), diff("b", 1)], ARMS)
    w_a = (1 / 900) / (1 / 300 + 1 / 900)  # the control's share of the a-uc contrast's variance
    w_b = (1 / 900) / (1 / 600 + 1 / 900)
    assert corr[0, 1] == pytest.approx(np.sqrt(w_a * w_b))
    # equal arms: the textbook 1/2 (Var(uc) / (2 Var(uc)))
    equal = T(arms={"uc": 100.0, "a": 100.0, "b": 100.0}, repeated_measures_correlation=0.0)
    assert target_correlation([diff("a", 1), diff("b", 1)], equal)[0, 1] == pytest.approx(0.5)


def test_repeated_measures_and_own_arm_signs():
    targets = [change(0.25), change(1.0), diff("a", 0.25), diff("a", 1.0), diff("b", 1.0)]
    corr = target_correlation(targets, ARMS)
    w_a = (1 / 900) / (1 / 300 + 1 / 900)
    assert corr[0, 1] == pytest.approx(0.6)  # usual care at two visits
    assert corr[2, 3] == pytest.approx(0.6)  # one contrast at two visits
    assert corr[0, 2] == pytest.approx(-np.sqrt(w_a))  # usual care too good -> contrast too small
    assert corr[1, 2] == pytest.approx(-0.6 * np.sqrt(w_a))
    np.testing.assert_allclose(corr, corr.T)
    assert np.linalg.eigvalsh(corr).min() > -1e-12  # positive semi-definite by construction


def test_measures_do_not_correlate_and_no_table_means_independent():
    spending = diff("a", None, kind="cost_ratio", indicator=None)
    corr = target_correlation([diff("a", 1), spending], ARMS)
    assert corr[0, 1] == 0.0
    np.testing.assert_array_equal(target_correlation([diff("a", 1), diff("b", 1)], None), np.eye(2))


def test_covariance_scales_by_each_standard_error():
    a, b = diff("a", 1), diff("b", 1)
    a.se, b.se = 2.0, 0.5
    cov = target_covariance([a, b], ARMS)
    corr = target_correlation([a, b], ARMS)
    assert cov[0, 0] == pytest.approx(4.0) and cov[1, 1] == pytest.approx(0.25)
    assert cov[0, 1] == pytest.approx(corr[0, 1] * 1.0)


def test_bundled_spine_evidence_has_a_positive_definite_likelihood():
    from costspine.bayes.likelihood import likelihood_targets

    evidence = load_evidence()
    targets = likelihood_targets(evidence)
    cov = target_covariance(targets, evidence.likelihood)
    np.linalg.cholesky(cov)  # raises unless positive definite
    by_name = {t.name: t for t in targets}
    # the within-arm usual-care change is widened by the design effect: SD / sqrt(n) x sqrt(deff)
    t = by_name["odi_change_3m_usual_care"]
    assert t.clustered and t.se == pytest.approx(18.3 / np.sqrt(992) * np.sqrt(evidence.likelihood.design_effect))
    # the published contrasts are used as published
    d = by_name["odi_diff_3m_ice"]
    assert d.se == pytest.approx((-3.9 + 7.7) / (2 * 1.959964), rel=1e-6)


def write_evidence(tmp_path, likelihood: str) -> str:
    from helpers import CHANCELLOR

    path = tmp_path / "e.toml"
    path.write_text(f"""
[evidence]
name = "x"
source = "synthetic"
scenario = "{CHANCELLOR.as_posix()}"
calibrate = ["rr"]
[sampler]
draws = 10
tune = 10
chains = 1
target_accept = 0.9
seed = 1
{likelihood}
[[targets]]
name = "mean_cost"
kind = "cost_mean"
strategy = "mono"
mean = 100
sd = 50
n = 100
clustered = true
source = "synthetic"
""")
    return path


def test_likelihood_table_problems_are_all_reported(tmp_path):
    bad = "[likelihood]\narms = { mono = 0 }\nrepeated_measures_correlation = 2\ndesign_effect = 0.5\nextra = 1\n"
    with pytest.raises(ScenarioError) as err:
        load_evidence(write_evidence(tmp_path, bad))
    text = str(err.value)
    for key in (
        "likelihood.arms.mono",
        "likelihood.repeated_measures_correlation",
        "likelihood.design_effect",
        "likelihood.source",
        "likelihood.extra",
    ):
        assert key in text


def test_design_effect_widens_only_clustered_targets(tmp_path):
    table = '[likelihood]\narms = { mono = 100, comb = 100 }\ndesign_effect = 4\nsource = "assumption"\n'
    target = load_evidence(write_evidence(tmp_path, table)).targets[0]
    assert target.se == pytest.approx(50 / 10 * 2)
    assert (target.low, target.high) == pytest.approx((100 - 1.959964 * 10, 100 + 1.959964 * 10), rel=1e-6)
    plain = load_evidence(write_evidence(tmp_path, "")).targets[0]
    assert plain.se == pytest.approx(5.0)


def test_a_likelihood_target_needs_its_arm_sizes(tmp_path):
    from costspine.bayes.fit import check_evidence_against_scenario
    from costspine.scenario.load import load_scenario

    table = '[likelihood]\narms = { comb = 100 }\nsource = "assumption"\n'
    evidence = load_evidence(write_evidence(tmp_path, table))
    with pytest.raises(ScenarioError, match="no number of patients for 'mono'"):
        check_evidence_against_scenario(evidence, load_scenario(evidence.scenario_path))
