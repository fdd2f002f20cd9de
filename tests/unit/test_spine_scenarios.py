"""The bundled spine scenarios (scenarios/spine/*.toml): structure, sources, payer and policy adjustments.

Expected numbers are typed from the evidence table (costspine/data/evidence.csv, docs/evidence.md, ids in
the comments) or follow from the formulas the issue states (injection spending x (1 - cut) **
(1 + elasticity)); they are never copied from the code's output. The calibration to SPINE CARE is
checked in tests/golden/test_spine_calibration.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from costspine import load_scenario, run_cohort
from costspine.model.inputs import base_case_parameters, build_model_inputs, evaluate_parameters
from costspine.params import draw_parameters

from helpers import SPINE

# The pathway-model files (other files in the folder, e.g. microsimulation and budget-impact
# variants, extend these and are tested with their own features).
OWN_FILES = (
    "base_case",
    "base_case_5y",
    "commercial",
    "injection_cut_25",
    "injection_cut_50",
    "injection_cut_100",
    "ice_plus_injection_cut_50",
)
ALL_FILES = [SPINE / f"{name}.toml" for name in OWN_FILES]
BASE = SPINE / "base_case.toml"
STRATEGIES = ("usual_care", "ice", "ipt")

# Arm effects the Bayesian layer calibrates (costspine fit): they must stay random parameters.
ARM_EFFECTS = (
    "hr_improve_ice_treatment",
    "hr_improve_ice_followup",
    "hr_improve_ipt_treatment",
    "hr_improve_ipt_followup",
    "hr_worsen_ice_treatment",
    "hr_worsen_ice_followup",
    "hr_worsen_ipt_treatment",
    "hr_worsen_ipt_followup",
    "rr_use_ice",
    "rr_use_ipt",
    "rate_improve_treatment",
    "rate_improve_followup",
)

COMMERCIAL_OFFICE = 1.43  # evidence T4.54 (physician services; recalled-unverified)
COMMERCIAL_FACILITY = 2.54  # evidence T4.50 (hospital facility + professional)
CLEMENS_GOTTLIEB = 1.5  # evidence T8.01
CHEN_LAKDAWALLA = (0.02, 0.18)  # evidence T8.04


@pytest.fixture(scope="module")
def scenarios():
    return {path.stem: load_scenario(path) for path in ALL_FILES}


def run(scenario, **overrides):
    params = base_case_parameters(scenario)
    for name, value in overrides.items():
        assert name in params, name
        params[name] = np.array([float(value)])
    return run_cohort(scenario, params)


def category(result, name):
    """Undiscounted cost of one category per strategy, shape (strategy,)."""
    return result.costs_undiscounted[0, :, result.categories.index(name)]


def service(result, name):
    """Total count of one service per strategy, shape (strategy,)."""
    return result.services_per_cycle[0, :, :, result.service_names.index(name)].sum(axis=1)


def odi(result, years):
    return result.indicator_at_years("odi", years)[0]


# --------------------------------------------------------------------------------------------
# Structure and sources


def test_the_bundle_has_every_scenario_of_the_issue():
    assert all(path.is_file() for path in ALL_FILES)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.stem)
def test_every_spine_scenario_validates_and_builds(path):
    scenario = load_scenario(path)
    build_model_inputs(scenario)
    assert scenario.states == ("minimal", "moderate", "severe", "crippled", "dead")
    assert scenario.strategies[:3] == STRATEGIES
    assert scenario.analysis.comparator == "usual_care"
    assert scenario.analysis.effect == "qalys"
    assert scenario.settings.cycle_length == 4 and scenario.settings.cycle_unit == "week"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.stem)
def test_every_number_has_a_source_and_assumptions_are_uncertain(path):
    scenario = load_scenario(path)
    for spec in scenario.parameters:
        assert spec.source.strip(), f"{spec.name} has no source"
        if spec.family != "derived" and "assumption" in spec.source.lower():
            assert spec.family != "fixed", f"{spec.name} is an assumption but has no distribution"
        if spec.source.lower().startswith("calibrated"):
            assert "tools/calibrate_spine.py" in spec.source, f"{spec.name}: say how it was calibrated"


def test_arm_effects_are_random_parameters_for_the_bayesian_layer(scenarios):
    scenario = scenarios["base_case"]
    for name in ARM_EFFECTS:
        spec = scenario.parameter(name)
        assert spec.family == "lognormal", name
        assert spec.value > 0
    # Both interventions speed recovery in both phases (they beat usual care at 3 and 12 months).
    for name in ARM_EFFECTS[:4]:
        assert scenario.parameter(name).value > 1


def test_every_catalogue_item_is_used_and_every_price_is_declared(scenarios):
    scenario = scenarios["base_case"]
    items = scenario.sections["unit_costs"]["items"]
    names = set()
    for spec in scenario.parameters:
        if spec.family == "derived":
            names |= spec.expression.names
    for strategy in scenario.strategies:
        for expr in scenario.strategy_values[strategy].values():
            names |= expr.names
        for row in scenario.transitions[strategy].values():
            names |= {n for e in row.values() if not isinstance(e, str) for n in e.names}
        for reward in (*scenario.costs, *scenario.outcomes, *scenario.services):
            for table in (reward.state_values, reward.entry_values):
                names |= {n for e in table.get(strategy, {}).values() for n in e.names}
    used = {n for n in names if n.startswith("price_") and "price_base_" not in n}
    declared = {f"price_{item}" for item in items}
    assert declared - used == set(), "catalogue items listed but never used"
    derived = {s.name for s in scenario.parameters if s.family == "derived"}
    assert used - declared - derived == set(), "prices used but not in [unit_costs]"


def test_utilities_fall_with_disability(scenarios):
    values = evaluate_parameters(scenarios["base_case"])
    u = [float(values[f"u_{band}"][0]) for band in ("minimal", "moderate", "severe", "crippled")]
    assert all(0 < x < 1 for x in u)
    assert u == sorted(u, reverse=True)
    odi_values = [float(values[f"odi_{band}"][0]) for band in ("minimal", "moderate", "severe", "crippled")]
    # each band's representative ODI lies inside the band
    for value, (low, high) in zip(odi_values, ((0, 20), (21, 40), (41, 60), (61, 100))):
        assert low <= value <= high


def test_intervention_delivery_follows_the_risk_split_and_adherence(scenarios):
    scenario = scenarios["base_case"]
    v = {k: float(x[0]) for k, x in evaluate_parameters(scenario).items()}
    s = v["share_ice_higher_risk"]
    first = v["price_pt_evaluation"]
    higher = first + 2 * v["price_pt_visit"] + 3 * v["price_coaching_call_0591t"] + v["price_econsult_specialist"]  # T1.39
    lower = first + v["price_coaching_call_0591t"] + v["otc_tablets_low_risk"] * v["price_otc_nsaid_tablet"]  # T1.38
    assert v["cost_delivery_ice"] == pytest.approx(s * higher + (1 - s) * lower)
    assert v["cost_delivery_ipt"] == pytest.approx(8 * v["ipt_adherence"] * v["price_ipt_postural_therapy_session"])  # T1.40
    result = run_cohort(scenario)
    delivery = category(result, "intervention")
    alive_after_cycle_1 = result.trace[0, :, 1, :4].sum(axis=-1)
    np.testing.assert_allclose(delivery, [0.0, v["cost_delivery_ice"], v["cost_delivery_ipt"]] * alive_after_cycle_1, rtol=1e-12)
    # once, in cycle 1 only
    per_cycle = result.cost_per_cycle[0, :, :, result.categories.index("intervention")]
    assert np.all(per_cycle[:, 1:] == 0)


@pytest.mark.parametrize("name", ["base_case", "injection_cut_50"])
def test_service_counts_times_prices_give_the_costs(scenarios, name):
    scenario = scenarios[name]
    result = run_cohort(scenario)
    v = {k: float(x[0]) for k, x in evaluate_parameters(scenario).items()}
    cut_p, cut_f = v["cut_professional"], v["cut_facility"]
    price_paid = (
        v["price_injection"]
        - cut_p * v["price_injection_professional"]
        - cut_f * (v["price_injection"] - v["price_injection_professional"])
    )

    def per_cycle_services(s):
        return result.services_per_cycle[0, :, :, result.service_names.index(s)]

    def per_cycle_cost(c):
        return result.cost_per_cycle[0, :, :, result.categories.index(c)]

    expected = {
        "primary_care": per_cycle_services("pc_visits") * v["price_office_visit_est_low"],
        "imaging": per_cycle_services("mri") * v["price_mri"] + per_cycle_services("xray") * v["price_xray_lumbar"],
        "specialist_visits": per_cycle_services("specialist_visits") * v["price_specialist_visit"],
        "therapy_sessions": per_cycle_services("pt_visits") * v["price_pt_visit"],
        "injections": per_cycle_services("injections") * price_paid,
        "medications": per_cycle_services("opioid_fills") * v["price_opioid_prescription_7day"],
        "surgery": per_cycle_services("surgeries") * v["price_surgery"],
    }
    for cat, want in expected.items():
        np.testing.assert_allclose(per_cycle_cost(cat), want, rtol=1e-10, atol=1e-12, err_msg=cat)


# --------------------------------------------------------------------------------------------
# Payer adjustment


def test_commercial_prices_scale_by_setting_and_leave_health_unchanged(scenarios):
    medicare = run_cohort(scenarios["base_case"])
    commercial = run_cohort(scenarios["commercial"])
    assert scenarios["commercial"].sections["unit_costs"]["payer"] == "commercial"
    ratio = {
        c: category(commercial, c) / np.where(category(medicare, c) > 0, category(medicare, c), np.nan)
        for c in medicare.categories
    }
    # office (physician fee schedule) services: the physician ratio
    for c in ("primary_care", "specialist_visits", "therapy_sessions"):
        np.testing.assert_allclose(ratio[c], COMMERCIAL_OFFICE, rtol=1e-9, err_msg=c)
    # hospital bundles: the hospital ratio; cash-priced opioid fills: unchanged
    np.testing.assert_allclose(ratio["surgery"], COMMERCIAL_FACILITY, rtol=1e-9)
    np.testing.assert_allclose(ratio["medications"], 1.0, rtol=1e-12)
    # office + hospital mixes lie between the two ratios
    for c in ("imaging", "injections"):
        assert np.all((ratio[c] > COMMERCIAL_OFFICE) & (ratio[c] < COMMERCIAL_FACILITY)), c
    # IPT sessions are a cash price; ICE mixes office-priced PT and e-consult with cash-priced calls and OTC
    k = {s: i for i, s in enumerate(STRATEGIES)}
    assert ratio["intervention"][k["ipt"]] == pytest.approx(1.0)
    assert 1.0 < ratio["intervention"][k["ice"]] < COMMERCIAL_OFFICE
    # health is unchanged: same transitions, QALYs, ODI
    np.testing.assert_array_equal(commercial.trace, medicare.trace)
    np.testing.assert_array_equal(commercial.outcomes, medicare.outcomes)
    assert np.all(commercial.total_cost > medicare.total_cost)


def test_commercial_multipliers_are_uncertain_in_psa(scenarios):
    scenario = scenarios["commercial"]
    assert scenario.parameter("payer_multiplier_office").family == "triangular"
    assert scenario.parameter("payer_multiplier_facility").family == "lognormal"
    assert scenario.parameter("price_mri_lumbar").family == "derived"


# --------------------------------------------------------------------------------------------
# Injection policy


def test_base_case_elasticity_is_inside_the_evidence_with_an_income_effect_range(scenarios):
    spec = scenarios["base_case"].parameter("supply_elasticity_physician")
    assert CHEN_LAKDAWALLA[0] <= spec.value <= CLEMENS_GOTTLIEB  # T8.04 to T8.01
    assert spec.family == "triangular"
    assert spec.args["min"] < 0  # income effect (T8.03)
    assert spec.args["max"] == CLEMENS_GOTTLIEB
    assert scenarios["base_case"].parameter("cut_professional").value == 0
    assert scenarios["base_case"].parameter("cut_facility").value == 0


# Switched off so that health and the other categories do not move: the sham effect and substitution.
NO_SIDE_EFFECTS = {"injection_vs_sham_pain_cm": 0, "substitution_share": 0}


@pytest.mark.parametrize("name, cut", [("injection_cut_25", 0.25), ("injection_cut_50", 0.5), ("injection_cut_100", 1.0)])
def test_injection_cut_scales_price_and_volume(scenarios, name, cut):
    # With the injections-vs-sham effect and substitution switched off, health does not change, so
    # with both fees cut by the same fraction injection spending is exactly base x (1 - cut) ** (1 + e)
    # and volume base x (1 - cut) ** e (the hospital's elasticity set to 0).
    policy_scenario = scenarios[name]
    assert policy_scenario.parameter("cut_professional").value == cut
    assert policy_scenario.parameter("cut_facility").value == cut
    e = policy_scenario.parameter("supply_elasticity_physician").value
    base = run(scenarios["base_case"], **NO_SIDE_EFFECTS, supply_elasticity_physician=e)
    policy = run(policy_scenario, **NO_SIDE_EFFECTS, supply_elasticity_facility=0)
    np.testing.assert_allclose(
        category(policy, "injections"), category(base, "injections") * (1 - cut) ** (1 + e), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        service(policy, "injections"), service(base, "injections") * (1 - cut) ** e, rtol=1e-12, atol=1e-12
    )
    np.testing.assert_array_equal(policy.trace, base.trace)
    for c in base.categories:
        if c != "injections":
            np.testing.assert_allclose(category(policy, c), category(base, c), rtol=1e-12, err_msg=c)
    np.testing.assert_array_equal(policy.outcomes, base.outcomes)


def test_a_professional_fee_cut_moves_the_physicians_volume_and_a_facility_fee_cut_does_not(scenarios, tmp_path):
    base_scenario = scenarios["base_case"]
    v = {k: float(x[0]) for k, x in evaluate_parameters(base_scenario).items()}
    e = v["supply_elasticity_physician"]
    assert 0.05 < v["price_injection_professional"] / v["price_injection"] < 0.5  # the physician's part of the bundle
    base = run(base_scenario, **NO_SIDE_EFFECTS)
    for cuts, volume in (({"cut_professional": 0.5}, 0.5**e), ({"cut_facility": 0.5}, 1.0)):
        policy = run(base_scenario, **NO_SIDE_EFFECTS, **cuts)
        np.testing.assert_allclose(service(policy, "injections"), service(base, "injections") * volume, rtol=1e-12)
        paid = v["price_injection"] - 0.5 * (
            v["price_injection_professional"]
            if "cut_professional" in cuts
            else v["price_injection"] - v["price_injection_professional"]
        )
        np.testing.assert_allclose(category(policy, "injections"), service(policy, "injections") * paid, rtol=1e-12, atol=1e-12)


def test_forgone_injections_are_replaced_by_substitute_care(scenarios):
    v = {k: float(x[0]) for k, x in evaluate_parameters(scenarios["base_case"]).items()}
    share = v["substitution_share"]
    base = run(scenarios["base_case"], injection_vs_sham_pain_cm=0)
    policy = run(scenarios["injection_cut_50"], injection_vs_sham_pain_cm=0)
    forgone = service(base, "injections") - service(policy, "injections")
    assert np.all(forgone > 0)
    for name, per_course in (("pt_visits", v["substitute_pt_visits"]), ("specialist_visits", v["substitute_specialist_visits"])):
        added = service(policy, name) - service(base, name)
        np.testing.assert_allclose(added, share * per_course * forgone, rtol=1e-9, atol=1e-12, err_msg=name)


def test_income_effect_raises_injection_volume_without_substitutes(scenarios):
    e = -0.5
    base = run(scenarios["base_case"], injection_vs_sham_pain_cm=0, supply_elasticity_physician=e)
    policy = run(scenarios["injection_cut_50"], injection_vs_sham_pain_cm=0, supply_elasticity_physician=e)
    np.testing.assert_allclose(service(policy, "injections"), service(base, "injections") * 0.5**e, rtol=1e-12)
    assert np.all(service(policy, "injections") > service(base, "injections"))
    np.testing.assert_allclose(category(policy, "injections"), category(base, "injections") * 0.5 ** (1 + e), rtol=1e-12)
    np.testing.assert_allclose(service(policy, "pt_visits"), service(base, "pt_visits"), rtol=1e-12)


def test_no_payment_means_no_injection_spending_and_a_non_negative_elasticity(scenarios):
    scenario = scenarios["injection_cut_100"]
    result = run_cohort(scenario)
    assert np.all(category(result, "injections") == 0)
    assert np.all(service(result, "injections") == 0)
    for name in ("supply_elasticity_physician", "supply_elasticity_facility"):
        spec = scenario.parameter(name)
        assert spec.args["min"] >= 0, name


def test_forgone_injections_change_outcomes_only_through_the_sham_comparison(scenarios):
    base_scenario, cut_scenario = scenarios["base_case"], scenarios["injection_cut_100"]
    # The BMJ 2025 point estimate (T2.05: +0.20 cm, slightly worse than sham): outcomes barely move,
    # and in the direction of the evidence (fewer injections -> slightly lower ODI).
    base, cut = run_cohort(base_scenario), run_cohort(cut_scenario)
    delta_odi = odi(cut, 1.0) - odi(base, 1.0)
    assert np.all(delta_odi < 0) and np.all(delta_odi > -0.5)
    assert np.all(np.abs(cut.outcomes - base.outcomes) < 1e-3)
    # No difference vs sham: no change at all.
    base0, cut0 = run(base_scenario, injection_vs_sham_pain_cm=0), run(cut_scenario, injection_vs_sham_pain_cm=0)
    np.testing.assert_array_equal(cut0.trace, base0.trace)
    # A hypothetical clearly beneficial injection (1.5 cm better than sham, the MID, T2.02): forgoing it raises ODI.
    base_b, cut_b = run(base_scenario, injection_vs_sham_pain_cm=-1.5), run(cut_scenario, injection_vs_sham_pain_cm=-1.5)
    assert np.all(odi(cut_b, 1.0) > odi(base_b, 1.0))


def test_ice_plus_cut_package_is_ice_with_cheaper_and_fewer_injections(scenarios):
    base = run(scenarios["base_case"], **NO_SIDE_EFFECTS)
    package = run(scenarios["ice_plus_injection_cut_50"], **NO_SIDE_EFFECTS)
    e = scenarios["base_case"].parameter("supply_elasticity_physician").value
    assert package.strategies == (*STRATEGIES, "ice_plus_cut_50")
    # the status-quo strategies are the base case's
    np.testing.assert_allclose(package.costs_undiscounted[:, :3], base.costs_undiscounted, rtol=1e-12)
    k_ice, k_pkg = package.strategies.index("ice"), package.strategies.index("ice_plus_cut_50")
    for c in package.categories:
        want = package.costs_undiscounted[0, k_ice, package.categories.index(c)]
        if c == "injections":
            want *= 0.5 ** (1 + e)
        assert package.costs_undiscounted[0, k_pkg, package.categories.index(c)] == pytest.approx(want, rel=1e-12), c
    np.testing.assert_array_equal(package.outcomes[0, k_pkg], package.outcomes[0, k_ice])


# --------------------------------------------------------------------------------------------
# Horizon variant


def test_five_year_variant_extends_the_base_case(scenarios):
    five, one = scenarios["base_case_5y"], scenarios["base_case"]
    assert five.settings.n_cycles == 65
    assert five.settings.discount_costs == five.settings.discount_outcomes == 0.03  # T10.01
    r5, r1 = run_cohort(five), run_cohort(one)
    # the first year is the base case's, cycle by cycle (undiscounted)
    np.testing.assert_allclose(r5.cost_per_cycle[:, :, :13], r1.cost_per_cycle, rtol=1e-12)
    np.testing.assert_allclose(r5.indicators[:, :, :14], r1.indicators, rtol=1e-12)
    # discounting lowers 5-year totals below the undiscounted sums
    assert np.all(r5.total_cost < r5.costs_undiscounted.sum(axis=-1))
    # after the 1-year effect duration every arm drifts back toward usual care
    gap_1y = odi(r5, 1.0)[1] - odi(r5, 1.0)[0]
    gap_5y = odi(r5, 5.0)[1] - odi(r5, 5.0)[0]
    assert abs(gap_5y) < abs(gap_1y)


# --------------------------------------------------------------------------------------------
# PSA robustness


@pytest.mark.parametrize(
    "name", ["base_case", "injection_cut_50", "injection_cut_100", "ice_plus_injection_cut_50", "commercial"]
)
def test_psa_draws_give_valid_probabilities_and_finite_results(scenarios, name):
    scenario = scenarios[name]
    draws = draw_parameters(scenario.parameters, 300, np.random.default_rng(20260101), correlations=scenario.correlations)
    result = run_cohort(scenario, draws)  # raises AnalysisError on any invalid probability
    assert np.all(np.isfinite(result.costs)) and np.all(result.costs >= 0)
    assert np.all(np.isfinite(result.outcomes))
    i = result.indicator_names.index("odi")
    assert np.all((result.indicators[..., i] >= 0) & (result.indicators[..., i] <= 100))
