"""Unit tests for costspine.catalogue and its data files (unit costs, CPI, payer multipliers, life table).

Every expected number is typed from the evidence table (costspine/data/evidence.csv, docs/evidence.md, row
ids in the comments) or computed here by hand from those numbers — never copied from the output
of the code under test.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from costspine.catalogue import tables as costs
from costspine.catalogue.prices import (
    apply_price_cut,
    build_price_parameters,
    inflation_factor,
    resolve_unit_prices,
    volume_multiplier,
)
from costspine.catalogue.tables import CATEGORIES, load_catalogue, load_cpi, load_payer_multipliers
from costspine.errors import ScenarioError, UsageError
from costspine.scenario.evidence_register import load_evidence_register

DATA = Path(costs.__file__).parent.parent / "data"
WHERE = "scenarios/x.toml: unit_costs"

# CPI-U medical care annual averages, evidence T10.CPI2015 ... T10.CPI2025
CPI_EVIDENCE = {
    2015: 446.752,
    2016: 463.675,
    2017: 475.322,
    2018: 484.700,
    2019: 498.413,
    2020: 518.876,
    2021: 525.280,
    2022: 546.124,
    2023: 549.084,
    2024: 563.841,
    2025: 580.498,
}

CF_2025 = 32.3465  # PFS conversion factor 2025, T4.03

# 2025 relative value units (work, non-facility practice expense, malpractice): T4.61, T4.62, T4.64
RVU_97110 = (0.45, 0.43, 0.01)
RVU_97140 = (0.43, 0.40, 0.01)
RVU_99451 = (0.70, 0.28, 0.04)
MPPR_PE_SHARE = 0.5  # later therapy units on the same day keep 50% of their practice expense, T4.63
OPPS_CF_2025, ASC_CF_2025 = 89.169, 54.895  # T4.66
IPPS_STANDARDIZED_FY2026 = 6752.61 + 524.15  # operating + capital, T4.47
DRG_451_WEIGHT = 3.9  # T4.67, recalled-unverified


def pfs_amount(work, pe, mp, *, pe_share=1.0):
    """National (GPCI = 1) PFS payment from RVUs, with a share of the practice expense paid."""
    return (work + pe_share * pe + mp) * CF_2025


# facility fee of an ASC = the OPPS APC rate scaled by the ASC/OPPS conversion factors (T4.66; the
# ASC weight scalar is not applied, assumption)
def asc_fee(apc_rate):
    return apc_rate * ASC_CF_2025 / OPPS_CF_2025


# 2025 Medicare national amounts from the evidence (office = non-facility "a" rows; facility items =
# facility professional "b" row + OPPS APC payment)
MEDICARE_2025 = {
    "mri_lumbar": 188.26,  # T4.05a
    "mri_cervical": 187.61,  # T4.06a
    "xray_lumbar": 38.49,  # T4.07a
    "xray_lumbar_complete": 50.46,  # T4.08a
    "esi_interlaminar_cervical": 251.01,  # T4.09a
    "esi_interlaminar_lumbar": 246.80,  # T4.10a
    "esi_transforaminal_lumbar": 236.13,  # T4.11a
    "esi_transforaminal_lumbar_addl_level": 106.10,  # T4.11a text (64484)
    "facet_injection_cervical": 186.32,  # T4.12a
    "facet_injection_lumbar": 172.08,  # T4.13a
    "facet_rfa_lumbar": 420.50,  # T4.14a
    "facet_rfa_lumbar_addl_joint": 226.43,  # T4.14a text (64636)
    "office_visit_new_low": 109.01,  # T4.15a
    "office_visit_new_moderate": 163.35,  # T4.16a
    "office_visit_est_low": 88.95,  # T4.17a
    "office_visit_est_moderate": 125.18,  # T4.18a
    "specialist_consultation": 163.35,  # T4.16a (99204; consult codes status I, T4.19)
    "pt_evaluation": 98.01,  # T4.20a
    "pt_therapeutic_exercise_unit": 28.79,  # T4.21a
    "pt_manual_therapy_unit": 27.17,  # T4.22a
    "pt_therapeutic_exercise_unit_mppr": pfs_amount(*RVU_97110, pe_share=MPPR_PE_SHARE),  # T4.61, T4.63
    "pt_manual_therapy_unit_mppr": pfs_amount(*RVU_97140, pe_share=MPPR_PE_SHARE),  # T4.62, T4.63
    "coaching_call_5_10min": 12.94,  # T4.24a
    "coaching_call_11_20min": 23.94,  # T4.25a
    "coaching_call_21_30min": 32.99,  # T4.26a
    "virtual_checkin": 15.85,  # T4.28a
    "health_behavior_intervention_30min": 67.93,  # T4.31a
    "econsult_specialist": pfs_amount(*RVU_99451),  # CPT 99451, T4.64
    "mri_lumbar_hopd": 67.60 + 241.72,  # T4.05a PC-26 + T4.41 APC 5523
    "esi_interlaminar_cervical_hopd": 103.83 + 692.52,  # T4.09b + T4.38 APC 5442
    "esi_interlaminar_lumbar_hopd": 96.07 + 692.52,  # T4.10b + T4.38
    "esi_transforaminal_lumbar_hopd": 107.71 + 890.29,  # T4.11b + T4.39 APC 5443 (T4.71)
    "facet_injection_cervical_hopd": 102.21 + 890.29,  # T4.12b + T4.39
    "facet_injection_lumbar_hopd": 88.31 + 890.29,  # T4.13b + T4.39
    "facet_rfa_lumbar_hopd": 186.64 + 1952.77,  # T4.14b + T4.40 APC 5431
    "office_visit_est_low_hopd": 63.72 + 128.87,  # T4.17b + T4.43 APC 5012
    "lumbar_discectomy": 907.64 + 7143.73,  # T4.35b + T4.44 APC 5114
    "lumbar_fusion": 1553.60 + DRG_451_WEIGHT * IPPS_STANDARDIZED_FY2026,  # T4.32b + MS-DRG 451 weight x rate
    "esi_interlaminar_cervical_asc": 103.83 + asc_fee(692.52),  # T4.09b + APC 5442 (T4.38) in an ASC
    "esi_interlaminar_lumbar_asc": 96.07 + asc_fee(692.52),  # T4.10b
    "esi_transforaminal_lumbar_asc": 107.71 + asc_fee(890.29),  # T4.11b + APC 5443 (T4.39) in an ASC
    "facet_injection_cervical_asc": 102.21 + asc_fee(890.29),  # T4.12b
    "facet_injection_lumbar_asc": 88.31 + asc_fee(890.29),  # T4.13b
    "facet_rfa_lumbar_asc": 186.64 + asc_fee(1952.77),  # T4.14b + APC 5431 (T4.40)
}

REQUIRED_ITEMS = {
    "mri_lumbar",
    "mri_cervical",
    "xray_lumbar",
    "esi_interlaminar_lumbar",
    "esi_interlaminar_cervical",
    "esi_transforaminal_lumbar",
    "esi_interlaminar_lumbar_hopd",
    "esi_transforaminal_lumbar_hopd",
    "facet_injection_lumbar",
    "facet_injection_cervical",
    "facet_rfa_lumbar",
    "office_visit_new_low",
    "office_visit_new_moderate",
    "office_visit_est_low",
    "office_visit_est_moderate",
    "specialist_consultation",
    "pt_evaluation",
    "pt_therapeutic_exercise_unit",
    "coaching_call_5_10min",
    "coaching_call_11_20min",
    "coaching_call_21_30min",
    "coaching_call_0591t",
    "econsult_specialist",
    "ipt_postural_therapy_session",
    "opioid_prescription_7day",
    "otc_nsaid_tablet",
    "lumbar_fusion",
    "lumbar_discectomy",
}


@pytest.fixture(scope="module")
def cpi():
    return load_cpi()


@pytest.fixture(scope="module")
def catalogue(cpi):
    return load_catalogue(cpi=cpi)


@pytest.fixture(scope="module")
def multipliers():
    return load_payer_multipliers()


def write_csv(path: Path, header, rows) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


GOOD_ROW = [
    "mri_lumbar",
    "72148",
    "MRI lumbar",
    "imaging",
    "office",
    "188.26",
    "2025",
    "medicare",
    "0.10",
    "evidence T4.05a: CMS PFS 2025",
    "derived",
]


# ----------------------------------------------------------------------------------------------
# Catalogue
# ----------------------------------------------------------------------------------------------


def test_every_item_has_positive_price_year_source_and_status(catalogue, cpi):
    assert len(catalogue) >= len(REQUIRED_ITEMS)
    for row in catalogue.rows:
        assert row.price > 0, row.item
        assert row.price_year in cpi.years, row.item
        assert row.source.strip(), row.item
        assert row.status in costs.STATUSES, row.item
        assert row.description.strip(), row.item


def test_categories_settings_and_bases_are_from_the_vocabulary(catalogue):
    assert set(catalogue.category) <= set(CATEGORIES)
    assert set(catalogue.category) == set(CATEGORIES)  # every category has at least one item
    assert set(catalogue.setting) == {"office", "facility", "asc"}
    assert set(catalogue.payer_basis) <= {"medicare", "cash"}


def test_required_items_are_present(catalogue):
    assert REQUIRED_ITEMS <= set(catalogue.items), REQUIRED_ITEMS - set(catalogue.items)


@pytest.mark.parametrize("item, expected", sorted(MEDICARE_2025.items()))
def test_medicare_prices_match_the_evidence(catalogue, item, expected):
    row = catalogue.get(item)
    assert row.price_year == 2025
    assert row.payer_basis == "medicare"
    assert row.price == pytest.approx(expected, abs=0.0051)  # the catalogue rounds to cents


def test_facility_items_are_hospital_bundles_and_office_items_are_not(catalogue):
    assert catalogue.get("esi_transforaminal_lumbar_hopd").setting == "facility"
    assert catalogue.get("lumbar_fusion").setting == "facility"
    assert catalogue.get("esi_transforaminal_lumbar").setting == "office"
    assert catalogue.get("esi_transforaminal_lumbar").category == "injections"
    assert catalogue.get("lumbar_fusion").category == "surgery"


def test_cash_items_are_the_non_fee_schedule_prices(catalogue):
    cash = {row.item for row in catalogue.rows if row.payer_basis == "cash"}
    assert {
        "ipt_postural_therapy_session",
        "coaching_call_0591t",
        "opioid_prescription_7day",
        "otc_nsaid_tablet",
        "duloxetine_fill",
        "emergency_visit_all_payer",
    } == cash
    # an all-payer mean (MEPS, T4.69), not a fee-schedule amount, so no payer multiplier applies
    assert (
        catalogue.get("emergency_visit_all_payer").price == 1016.0
        and catalogue.get("emergency_visit_all_payer").price_year == 2017
    )
    assert catalogue.get("duloxetine_fill").price == 11.97 and catalogue.get("duloxetine_fill").price_year == 2023  # T4.56
    assert catalogue.get("ipt_postural_therapy_session").price == 150.0  # midpoint of T4.55's Uniform(100, 200)
    assert catalogue.get("coaching_call_0591t").price == 60.0  # midpoint of T4.29's $40-80
    assert catalogue.get("opioid_prescription_7day").price == 17.5  # midpoint of T4.58's $10-25


def test_unverified_items_say_so_and_have_wide_uncertainty(catalogue):
    unverified = [row for row in catalogue.rows if row.status in ("assumption", "recalled-unverified")]
    assert {"ipt_postural_therapy_session", "lumbar_fusion", "esi_transforaminal_lumbar_asc"} <= {r.item for r in unverified}
    for row in unverified:
        assert row.status in row.source, row.item
        assert row.sd_fraction >= 0.25, row.item


def test_fee_schedule_items_use_the_evidence_10_percent_sd(catalogue):
    for row in catalogue.rows:
        if row.status == "derived" and row.setting == "office":
            assert row.sd_fraction == 0.10, row.item


def test_a_pt_visit_pays_the_later_units_with_half_their_practice_expense(catalogue):
    # T4.63: the unit with the highest practice expense is paid in full; 97110 (PE 0.43) beats 97140 (PE 0.40)
    assert RVU_97110[1] > RVU_97140[1]
    full = catalogue.get("pt_therapeutic_exercise_unit").price
    later = catalogue.get("pt_therapeutic_exercise_unit_mppr").price + catalogue.get("pt_manual_therapy_unit_mppr").price
    reduction = (1 - MPPR_PE_SHARE) * (RVU_97110[1] + RVU_97140[1]) * CF_2025  # PE cut of the two later units
    unreduced = 2 * full + catalogue.get("pt_manual_therapy_unit").price  # 2 x 97110 + 97140 at full rates
    assert full + later == pytest.approx(unreduced - reduction, abs=0.011)
    for item in ("pt_therapeutic_exercise_unit_mppr", "pt_manual_therapy_unit_mppr"):
        row = catalogue.get(item)
        assert (row.setting, row.category, row.status) == ("office", "therapy_sessions", "derived")
        assert "T4.63" in row.source


def test_the_e_consult_is_priced_at_cpt_99451_about_half_the_old_proxy(catalogue):
    row = catalogue.get("econsult_specialist")
    assert row.code == "99451" and row.status == "derived" and "T4.64" in row.source
    assert row.price == pytest.approx(pfs_amount(*RVU_99451), abs=0.0051)
    assert row.price / 63.72 == pytest.approx(0.52, abs=0.01)  # the proxy was the 99213 facility rate, T4.17b


def test_fusion_is_a_current_drg_weight_times_the_standardized_amount(catalogue):
    row = catalogue.get("lumbar_fusion")
    assert "MS-DRG 451" in row.code and "T4.47" in row.source and "T4.67" in row.source
    assert "CPI" not in row.source and "T4.49" not in row.source  # no longer an old payment inflated by an index
    assert row.price - 1553.60 == pytest.approx(DRG_451_WEIGHT * IPPS_STANDARDIZED_FY2026, abs=0.0051)
    assert row.status == "assumption" and row.sd_fraction >= 0.4  # the weight is recalled-unverified


# facility-rate professional fees of the injection codes, 2025 (the "b" rows T4.09b-T4.14b)
PROFESSIONAL_FACILITY_FEE = {
    "esi_interlaminar_cervical": 103.83,
    "esi_interlaminar_lumbar": 96.07,
    "esi_transforaminal_lumbar": 107.71,
    "facet_injection_cervical": 102.21,
    "facet_injection_lumbar": 88.31,
    "facet_rfa_lumbar": 186.64,
}

# 2025 OPPS national rates (T4.38-T4.40) and one hospital's wage-adjusted Medicare APC prices for the
# same codes (T4.70): dividing one by the other gives the same wage factor only for the right level.
OPPS_2025 = {"5441": 295.19, "5442": 692.52, "5443": 890.29, "5431": 1952.77, "5523": 241.72}  # T4.37-T4.41
HOSPITAL_APC_PRICE = {
    "62321": 822.41,
    "62323": 822.41,
    "64483": 1057.27,
    "64490": 1057.27,
    "64493": 1057.27,
    "64635": 2319.03,
    "72148": 287.06,
}
APC_OF_CODE = {
    "62321": "5442",
    "62323": "5442",
    "64483": "5443",
    "64490": "5443",
    "64493": "5443",
    "64635": "5431",
    "72148": "5523",
}  # T4.71


def test_the_hospital_injection_apc_levels_give_one_wage_factor_at_the_evidence_hospital():
    register = load_evidence_register()

    def usd(evidence_id):
        return [float(part.split()[0]) for part in register[evidence_id].value.split(";")]

    imaging = [float(x) for x in register["T4.41"].value.split("USD")[0].split("/")]  # APCs 5521-5524
    national = {"5442": usd("T4.38")[0], "5443": usd("T4.39")[0], "5431": usd("T4.40")[0], "5523": imaging[2]}
    assert national == {apc: OPPS_2025[apc] for apc in national}
    interlaminar, transforaminal_and_facet, ablation, lumbar_mri = usd("T4.70")  # the hospital's Medicare APC prices
    assert (interlaminar, transforaminal_and_facet, ablation, lumbar_mri) == (
        HOSPITAL_APC_PRICE["62321"],
        HOSPITAL_APC_PRICE["64483"],
        HOSPITAL_APC_PRICE["64635"],
        HOSPITAL_APC_PRICE["72148"],
    )
    factors = {code: HOSPITAL_APC_PRICE[code] / OPPS_2025[apc] for code, apc in APC_OF_CODE.items()}
    assert max(factors.values()) / min(factors.values()) == pytest.approx(1, abs=1e-4)  # 1.1876 for every code
    # the level recalled before (T4.45: all injections in 5442) would need a second, 29% higher factor
    assert HOSPITAL_APC_PRICE["64483"] / OPPS_2025["5442"] / factors["62321"] == pytest.approx(1.2856, abs=1e-3)


def test_the_hospital_lumbar_mri_is_its_professional_component_plus_the_evidence_apc_rate(catalogue):
    row = catalogue.get("mri_lumbar_hopd")
    assert row.code == "72148-26; APC 5523" and row.status == "derived" and "T4.71" in row.source
    assert row.price == pytest.approx(67.60 + OPPS_2025[APC_OF_CODE["72148"]], abs=0.0051)  # T4.05a PC-26 + T4.41


@pytest.mark.parametrize("base", sorted(PROFESSIONAL_FACILITY_FEE))
def test_a_hospital_injection_bundle_is_its_professional_fee_plus_the_evidence_apc_rate(catalogue, base):
    row = catalogue.get(f"{base}_hopd")
    code = catalogue.get(base).code
    apc = APC_OF_CODE[code]
    assert row.code == f"{code}; APC {apc}"
    assert row.price == pytest.approx(PROFESSIONAL_FACILITY_FEE[base] + OPPS_2025[apc], abs=0.0051)
    assert row.status == "derived" and "T4.71" in row.source
    assert row.sd_fraction == 0.10  # a derived fee-schedule amount, as the office items


@pytest.mark.parametrize("base", sorted(PROFESSIONAL_FACILITY_FEE))
def test_an_asc_injection_takes_the_hospital_facility_fee_scaled_by_the_asc_conversion_factor(catalogue, base):
    asc, hopd = catalogue.get(f"{base}_asc"), catalogue.get(f"{base}_hopd")
    assert (asc.setting, asc.category, asc.status) == ("asc", "injections", "assumption")
    assert asc.sd_fraction >= 0.30 and "T4.66" in asc.source and "T4.46" in asc.source
    professional = PROFESSIONAL_FACILITY_FEE[base]
    ratio = (asc.price - professional) / (hopd.price - professional)
    assert ratio == pytest.approx(ASC_CF_2025 / OPPS_CF_2025, abs=2e-5)
    assert professional < asc.price < hopd.price


def test_the_asc_multiplier_is_priced_only_when_an_asc_item_is_requested(multipliers):
    asc = multipliers.get("commercial", "asc")
    assert (asc.multiplier, asc.distribution) == (1.71, "lognormal")  # RAND 5.1 ASC ratio, T4.51
    assert math.sqrt(asc.low * asc.high) == pytest.approx(1.71, abs=1e-4)
    without, _ = build_price_parameters({"payer": "commercial", "price_year": 2025, "items": ["mri_lumbar"]}, where=WHERE)
    assert "payer_multiplier_asc" not in without
    with_asc, problems = build_price_parameters(
        {"payer": "commercial", "price_year": 2025, "items": ["esi_transforaminal_lumbar_asc"]}, where=WHERE
    )
    assert problems == [] and with_asc["payer_multiplier_asc"]["value"] == 1.71
    assert with_asc["price_esi_transforaminal_lumbar_asc"]["value"] == (
        "price_base_esi_transforaminal_lumbar_asc * payer_multiplier_asc"
    )


def test_every_source_names_an_evidence_row(catalogue):
    import re

    for row in catalogue.rows:
        assert re.search(r"\bT\d+\.\d+[a-z]?\b", row.source), row.item


def test_column_views_and_get(catalogue):
    assert isinstance(catalogue.price, np.ndarray) and catalogue.price.shape == (len(catalogue),)
    assert catalogue.items[0] == catalogue.rows[0].item
    assert catalogue.price_year.dtype.kind == "i"
    with pytest.raises(UsageError, match="did you mean 'mri_lumbar'"):
        catalogue.get("mri_lumbr")


def test_invalid_catalogue_reports_every_bad_row_with_file_and_line(tmp_path, cpi):
    rows = [
        GOOD_ROW,
        ["neg_price", "", "x", "imaging", "office", "-5", "2025", "medicare", "0.1", "evidence T0", "derived"],
        ["bad_category", "", "x", "imagng", "office", "5", "2025", "medicare", "0.1", "evidence T0", "derived"],
        ["old_year", "", "x", "imaging", "office", "5", "2010", "medicare", "0.1", "evidence T0", "derived"],
        ["no_source", "", "x", "imaging", "office", "5", "2025", "medicare", "0.1", "", "derived"],
        ["bad_setting", "", "x", "imaging", "clinic", "5", "2025", "medicare", "0.1", "evidence T0", "derived"],
        ["narrow_guess", "", "x", "imaging", "office", "5", "2025", "cash", "0.1", "assumption: guess", "assumption"],
        ["silent_guess", "", "x", "imaging", "office", "5", "2025", "cash", "0.4", "a guess", "assumption"],
        ["mri_lumbar", "", "x", "imaging", "office", "5", "2025", "medicare", "0.1", "evidence T0", "derived"],
    ]
    path = write_csv(tmp_path / "cat.csv", costs.CATALOGUE_COLUMNS, rows)
    with pytest.raises(ScenarioError) as info:
        load_catalogue(path, cpi=cpi)
    by_line = {p.where: p.message for p in info.value.problems}
    assert set(by_line) == {f"{path}:{n}" for n in range(3, 11)}
    assert "price (USD) must be > 0; got -5" in by_line[f"{path}:3"]
    assert "did you mean 'imaging'" in by_line[f"{path}:4"]
    assert "2010" in by_line[f"{path}:5"] and "2015-2025" in by_line[f"{path}:5"]
    assert "source is empty" in by_line[f"{path}:6"]
    assert "setting must be one of office, facility, asc; got 'clinic'" in by_line[f"{path}:7"]
    assert "too narrow" in by_line[f"{path}:8"]
    assert "does not say so" in by_line[f"{path}:9"]
    assert "appears twice" in by_line[f"{path}:10"]


def test_catalogue_with_wrong_columns_or_missing_file(tmp_path, cpi):
    path = write_csv(tmp_path / "cat.csv", ["item", "price"], [["a", "1"]])
    with pytest.raises(ScenarioError, match="missing: code"):
        load_catalogue(path, cpi=cpi)
    with pytest.raises(UsageError, match="file not found"):
        load_catalogue(tmp_path / "nope.csv", cpi=cpi)


# ----------------------------------------------------------------------------------------------
# CPI and inflation
# ----------------------------------------------------------------------------------------------


def test_cpi_table_matches_the_evidence(cpi):
    assert cpi.years == tuple(range(2015, 2026))
    for row in cpi.rows:
        assert row.index == CPI_EVIDENCE[row.year]
        assert f"T10.CPI{row.year}" in row.source
    # T10.CPI2017, 2021, 2022 are from memory
    assert {r.year for r in cpi.rows if r.status == "recalled-unverified"} == {2017, 2021, 2022}


@pytest.mark.parametrize("year", range(2015, 2026))
def test_inflation_factor_for_the_same_year_is_one(cpi, year):
    assert inflation_factor(year, year, cpi=cpi) == 1.0


def test_inflation_factor_2023_to_2025_is_the_index_ratio(cpi):
    assert inflation_factor(2023, 2025, cpi=cpi) == pytest.approx(580.498 / 549.084, rel=1e-12)
    assert inflation_factor(2023, 2025, cpi=cpi) == pytest.approx(1.057212, abs=1e-6)
    assert inflation_factor(2025, 2023, cpi=cpi) * inflation_factor(2023, 2025, cpi=cpi) == pytest.approx(1.0)


def test_inflation_factor_names_the_available_years(cpi):
    with pytest.raises(UsageError, match=r"no CPI-U medical care index for 2011.*2015-2025"):
        inflation_factor(2011, 2025, cpi=cpi)


def test_invalid_cpi_file(tmp_path):
    path = write_csv(
        tmp_path / "cpi.csv",
        costs.CPI_COLUMNS,
        [
            ["2024", "563.841", "evidence T10.CPI2024", "verified-in-source (secondary report)"],
            ["2024", "563.841", "evidence T10.CPI2024", "verified-in-source (secondary report)"],
            ["2025", "0", "evidence T10.CPI2025", "verified-in-source (secondary report)"],
            ["twenty", "500", "evidence", "verified-in-source"],
        ],
    )
    with pytest.raises(ScenarioError) as info:
        load_cpi(path)
    assert [p.where for p in info.value.problems] == [f"{path}:3", f"{path}:4", f"{path}:5"]


# ----------------------------------------------------------------------------------------------
# Payer multipliers and resolved prices
# ----------------------------------------------------------------------------------------------


def test_payer_multipliers_file(multipliers):
    assert multipliers.payers == ("medicare", "commercial")
    for setting in ("office", "facility"):
        row = multipliers.get("medicare", setting)
        assert (row.multiplier, row.distribution) == (1.0, "fixed")
    office = multipliers.get("commercial", "office")  # T4.54, recalled-unverified
    assert (office.multiplier, office.distribution, office.status) == (1.43, "triangular", "recalled-unverified")
    assert "recalled-unverified" in office.source
    assert office.high == 1.79 and office.low <= 1.18
    facility = multipliers.get("commercial", "facility")  # T4.50, LogNormal(ln 2.54, 0.15)
    assert (facility.multiplier, facility.distribution) == (2.54, "lognormal")
    assert math.log(facility.high / facility.low) / (2 * 1.96) == pytest.approx(0.15, abs=1e-6)


def test_medicare_resolution_leaves_2025_prices_unchanged(catalogue, cpi, multipliers):
    prices = resolve_unit_prices(
        catalogue,
        ["mri_lumbar", "esi_transforaminal_lumbar_hopd"],
        price_year=2025,
        payer="medicare",
        multipliers=multipliers,
        cpi=cpi,
    )
    assert [p.price for p in prices] == pytest.approx([188.26, 107.71 + 890.29])
    assert all(p.payer_multiplier == 1 and p.inflation_factor == 1 and p.currency == "USD" for p in prices)


def test_commercial_uses_physician_ratio_for_office_and_hospital_ratio_for_facility(catalogue, cpi, multipliers):
    items = ["mri_lumbar", "esi_transforaminal_lumbar_hopd", "ipt_postural_therapy_session", "duloxetine_fill"]
    office, facility, ipt, duloxetine = resolve_unit_prices(
        catalogue, items, price_year=2025, payer="commercial", multipliers=multipliers, cpi=cpi
    )
    assert office.price == pytest.approx(188.26 * 1.43)  # 269.2118
    assert facility.price == pytest.approx((107.71 + 890.29) * 2.54)  # 2534.92
    assert ipt.price == 150.0 and ipt.payer_multiplier == 1.0  # cash: no multiplier
    assert duloxetine.price == pytest.approx(11.97 * 580.498 / 549.084)  # cash, inflated 2023 -> 2025
    assert "T4.05a" in office.source and "x1.43" in office.source


def test_deflating_to_an_earlier_year(catalogue, cpi, multipliers):
    [p] = resolve_unit_prices(catalogue, ["mri_lumbar"], price_year=2021, payer="medicare", multipliers=multipliers, cpi=cpi)
    assert p.price == pytest.approx(188.26 * 525.280 / 580.498)
    assert "CPI 2021 recalled-unverified" in p.source


def test_resolve_reports_every_problem(catalogue, cpi, multipliers):
    with pytest.raises(UsageError) as info:
        resolve_unit_prices(
            catalogue, ["mri_lumbr", "xray_lumbar"], price_year=2030, payer="medicaid", multipliers=multipliers, cpi=cpi
        )
    text = str(info.value)
    assert "'mri_lumbr'" in text and "did you mean 'mri_lumbar'" in text
    assert "2030" in text and "2015-2025" in text
    assert "'medicaid'" in text


def test_invalid_multiplier_file(tmp_path):
    header = costs.MULTIPLIER_COLUMNS
    path = write_csv(
        tmp_path / "m.csv",
        header,
        [
            ["medicare", "office", "1", "1", "1", "fixed", "identity", "derived"],
            ["medicare", "facility", "1", "0.9", "1", "fixed", "identity", "derived"],
            ["commercial", "office", "2.0", "1", "3", "lognormal", "evidence T4.50", "derived"],
            ["commercial", "clinic", "2.0", "1", "3", "uniform", "evidence T4.50", "derived"],
        ],
    )
    with pytest.raises(ScenarioError) as info:
        load_payer_multipliers(path)
    messages = {}
    for p in info.value.problems:
        messages[p.where] = messages.get(p.where, "") + p.message + "\n"
    assert set(messages) == {f"{path}:3", f"{path}:4", f"{path}:5"}
    assert "low = multiplier = high" in messages[f"{path}:3"]
    assert "geometric midpoint" in messages[f"{path}:4"]
    assert "setting must be one of office, facility, asc; got 'clinic'" in messages[f"{path}:5"]
    assert "distribution must be one of fixed, triangular, lognormal; got 'uniform'" in messages[f"{path}:5"]


def test_a_payer_without_both_settings_is_rejected(tmp_path):
    path = write_csv(
        tmp_path / "m.csv", costs.MULTIPLIER_COLUMNS, [["medicare", "office", "1", "1", "1", "fixed", "identity", "derived"]]
    )
    with pytest.raises(ScenarioError, match="has no 'facility' row"):
        load_payer_multipliers(path)


# ----------------------------------------------------------------------------------------------
# build_price_parameters
# ----------------------------------------------------------------------------------------------


def test_build_medicare_gives_gamma_prices_and_fixed_multipliers():
    params, problems = build_price_parameters(
        {"payer": "medicare", "price_year": 2025, "items": ["mri_lumbar", "pt_evaluation"]}, where=WHERE
    )
    assert problems == []
    assert list(params) == ["payer_multiplier_office", "payer_multiplier_facility", "price_mri_lumbar", "price_pt_evaluation"]
    mri = params["price_mri_lumbar"]
    assert set(mri) == {"value", "distribution", "mean", "sd", "source"}
    assert (mri["value"], mri["distribution"], mri["mean"]) == (188.26, "gamma", 188.26)
    assert mri["sd"] == pytest.approx(18.826)  # 10% of the T4.05a amount
    assert "T4.05a" in mri["source"]
    assert params["price_pt_evaluation"]["mean"] == pytest.approx(98.01)  # T4.20a
    for setting in ("office", "facility"):
        assert params[f"payer_multiplier_{setting}"]["value"] == 1.0
        assert params[f"payer_multiplier_{setting}"]["distribution"] == "fixed"


def test_build_commercial_derives_prices_from_base_price_and_multiplier():
    items = ["mri_lumbar", "esi_transforaminal_lumbar_hopd", "ipt_postural_therapy_session"]
    params, problems = build_price_parameters({"payer": "commercial", "price_year": 2025, "items": items}, where=WHERE)
    assert problems == []
    office, facility = params["payer_multiplier_office"], params["payer_multiplier_facility"]
    assert (office["distribution"], office["min"], office["mode"], office["max"]) == ("triangular", 1.0, 1.43, 1.79)
    assert office["value"] == 1.43 and "recalled-unverified" in office["source"]
    assert facility["distribution"] == "lognormal" and facility["value"] == 2.54
    assert facility["meanlog"] == pytest.approx(math.log(2.54)) and facility["sdlog"] == pytest.approx(0.15, abs=1e-6)

    base = params["price_base_mri_lumbar"]
    assert (base["distribution"], base["mean"]) == ("gamma", 188.26) and base["sd"] == pytest.approx(18.826)
    assert params["price_mri_lumbar"] == {
        "value": "price_base_mri_lumbar * payer_multiplier_office",
        "source": params["price_mri_lumbar"]["source"],
    }
    assert "recalled-unverified" in params["price_mri_lumbar"]["source"]
    assert params["price_esi_transforaminal_lumbar_hopd"]["value"] == (
        "price_base_esi_transforaminal_lumbar_hopd * payer_multiplier_facility"
    )
    assert params["price_base_esi_transforaminal_lumbar_hopd"]["sd"] == pytest.approx(998.00 * 0.10)

    cash = params["price_ipt_postural_therapy_session"]  # cash: no base, no multiplier
    assert "price_base_ipt_postural_therapy_session" not in params
    assert (cash["distribution"], cash["mean"]) == ("gamma", 150.0) and cash["sd"] == pytest.approx(49.5)
    assert "assumption" in cash["source"]


def test_derived_price_expression_evaluates_to_base_times_multiplier():
    from costspine.expressions import parse_expression

    params, _ = build_price_parameters({"payer": "commercial", "price_year": 2025, "items": ["mri_lumbar"]}, where=WHERE)
    expr = parse_expression(params["price_mri_lumbar"]["value"])
    assert expr.names == {"price_base_mri_lumbar", "payer_multiplier_office"}
    value = expr.evaluate({"price_base_mri_lumbar": np.array([188.26, 200.0]), "payer_multiplier_office": np.array([1.43, 1.0])})
    assert np.asarray(value) == pytest.approx([269.2118, 200.0])


def test_build_in_an_earlier_price_year():
    params, problems = build_price_parameters({"payer": "medicare", "price_year": 2023, "items": ["mri_lumbar"]}, where=WHERE)
    assert problems == []
    assert params["price_mri_lumbar"]["mean"] == pytest.approx(188.26 * 549.084 / 580.498)


def test_build_with_a_relative_alternative_catalogue_and_zero_sd(tmp_path):
    row = ["knee_mri", "73721", "MRI knee", "imaging", "office", "200", "2024", "medicare", "0", "evidence T0: test", "derived"]
    write_csv(tmp_path / "alt.csv", costs.CATALOGUE_COLUMNS, [row])
    params, problems = build_price_parameters(
        {"payer": "medicare", "price_year": 2025, "items": ["knee_mri"], "catalogue": "alt.csv"}, where=WHERE, base_dir=tmp_path
    )
    assert problems == []
    knee = params["price_knee_mri"]
    assert set(knee) == {"value", "distribution", "source"} and knee["distribution"] == "fixed"
    assert knee["value"] == pytest.approx(200 * 580.498 / 563.841)


@pytest.mark.parametrize(
    "section, where, fragment",
    [
        ({"payer": "medicare", "price_year": 2025, "items": ["mri_lumbr"]}, f"{WHERE}.items[0]", "did you mean 'mri_lumbar'"),
        (
            {"payer": "medicaid", "price_year": 2025, "items": ["mri_lumbar"]},
            f"{WHERE}.payer",
            "expected one of 'medicare', 'commercial'; got 'medicaid'",
        ),
        ({"payer": "medicare", "price_year": 2014, "items": ["mri_lumbar"]}, f"{WHERE}.price_year", "available years: 2015-2025"),
        ({"payer": "medicare", "price_year": "2025", "items": ["mri_lumbar"]}, f"{WHERE}.price_year", "expected a whole year"),
        (
            {"payer": "medicare", "price_year": 2025, "items": ["mri_lumbar"], "payor": "x"},
            f"{WHERE}.payor",
            "did you mean 'payer'",
        ),
        ({"price_year": 2025, "items": ["mri_lumbar"]}, f"{WHERE}.payer", "missing"),
        ({"payer": "medicare", "items": ["mri_lumbar"]}, f"{WHERE}.price_year", "missing"),
        ({"payer": "medicare", "price_year": 2025}, f"{WHERE}.items", "missing"),
        ({"payer": "medicare", "price_year": 2025, "items": "mri_lumbar"}, f"{WHERE}.items", "wrap it in a list"),
        ({"payer": "medicare", "price_year": 2025, "items": []}, f"{WHERE}.items", "empty list"),
        ({"payer": "medicare", "price_year": 2025, "items": ["mri_lumbar", "mri_lumbar"]}, f"{WHERE}.items[1]", "listed twice"),
        ({"payer": "medicare", "price_year": 2025, "items": [7]}, f"{WHERE}.items[0]", "got 7"),
        (
            {"payer": "medicare", "price_year": 2025, "items": ["mri_lumbar"], "catalogue": "missing.csv"},
            f"{WHERE}.catalogue",
            "file not found",
        ),
        ("medicare", WHERE, "expected a table"),
    ],
)
def test_build_reports_each_error_kind(section, where, fragment):
    params, problems = build_price_parameters(section, where=WHERE)
    matching = [p for p in problems if p.where == where]
    assert matching, problems
    assert fragment in matching[0].message


def test_build_reports_all_problems_at_once():
    params, problems = build_price_parameters(
        {"payer": "medicaid", "price_year": 2014, "items": ["mri_lumbr"], "payor": 1}, where=WHERE
    )
    assert params == {}
    assert {p.where for p in problems} == {f"{WHERE}.payer", f"{WHERE}.price_year", f"{WHERE}.items[0]", f"{WHERE}.payor"}


def test_build_keeps_the_valid_items_when_some_are_unknown():
    params, problems = build_price_parameters(
        {"payer": "medicare", "price_year": 2025, "items": ["mri_lumbar", "xray_lumbr"]}, where=WHERE
    )
    assert [p.where for p in problems] == [f"{WHERE}.items[1]"]
    assert "did you mean 'xray_lumbar'" in problems[0].message
    assert "price_mri_lumbar" in params and "price_xray_lumbr" not in params


def test_build_passes_on_an_invalid_catalogue_with_file_and_line(tmp_path):
    bad = GOOD_ROW[:5] + ["0"] + GOOD_ROW[6:]
    write_csv(tmp_path / "alt.csv", costs.CATALOGUE_COLUMNS, [bad])
    params, problems = build_price_parameters(
        {"payer": "medicare", "price_year": 2025, "items": ["mri_lumbar"], "catalogue": str(tmp_path / "alt.csv")}, where=WHERE
    )
    assert params == {}
    assert [p.where for p in problems] == [f"{tmp_path / 'alt.csv'}:2"]


# ----------------------------------------------------------------------------------------------
# Fee cuts and supply response
# ----------------------------------------------------------------------------------------------


def test_apply_price_cut():
    assert apply_price_cut(246.80, 0.25) == pytest.approx(185.10)  # T4.10a fee cut by a quarter
    assert apply_price_cut(246.80, 0.0) == 246.80
    assert apply_price_cut(246.80, 1.0) == 0.0
    out = apply_price_cut(np.array([100.0, 200.0, 300.0]), np.array([[0.1], [0.5]]))
    assert out.shape == (2, 3)
    assert out == pytest.approx(np.array([[90.0, 180.0, 270.0], [50.0, 100.0, 150.0]]))


@pytest.mark.parametrize(
    "cut, fragment", [(-0.1, "got -0.1"), (1.5, "got 1.5"), (float("nan"), "got nan"), (20, "did you mean 0.2")]
)
def test_cut_outside_unit_interval_is_an_error(cut, fragment):
    with pytest.raises(UsageError, match="must be in \\[0, 1\\]") as info:
        apply_price_cut(100.0, cut)
    assert fragment in str(info.value)
    with pytest.raises(UsageError):
        volume_multiplier(cut, 1.5)


def test_bad_cut_in_an_array_is_named_by_index():
    with pytest.raises(UsageError, match=r"at index \(2,\)"):
        apply_price_cut(100.0, np.array([0.1, 0.2, 1.2]))


def test_volume_multiplier_values():
    assert volume_multiplier(0.2, 1.5) == pytest.approx(0.8 * math.sqrt(0.8))  # 0.715542
    assert volume_multiplier(0.02, 1.5) == pytest.approx(0.98 * math.sqrt(0.98))  # ~3% less care (T8.01)
    assert volume_multiplier(0.2, -0.5) == pytest.approx(1 / math.sqrt(0.8))  # income effect: 1.118
    assert volume_multiplier(0.3, 0.0) == 1.0
    assert volume_multiplier(0.0, 2.5) == 1.0


def test_volume_multiplier_at_a_full_cut():
    assert volume_multiplier(1.0, 1.5) == 0.0
    assert volume_multiplier(1.0, 0.0) == 1.0
    with pytest.raises(UsageError, match="diverges"):
        volume_multiplier(1.0, -0.5)
    with pytest.raises(UsageError, match=r"diverges.*at index \(1,\)"):
        volume_multiplier(np.array([0.5, 1.0]), np.array([-0.5, -0.5]))
    with pytest.raises(UsageError, match="elasticity must be finite"):
        volume_multiplier(0.2, float("inf"))


def test_volume_multiplier_broadcasts_over_draws():
    elasticity = np.array([0.0, 1.0, 1.5, -1.0])  # e.g. one draw each
    out = volume_multiplier(0.2, elasticity)
    assert out == pytest.approx([1.0, 0.8, 0.8**1.5, 1.25])


@given(cut=st.floats(0, 0.99), elasticity=st.floats(-3, 3), price=st.floats(0, 1e5))
def test_spending_identity(cut, elasticity, price):
    spending = apply_price_cut(price, cut) * volume_multiplier(cut, elasticity)
    assert spending == pytest.approx(price * (1 - cut) ** (1 + elasticity), rel=1e-9, abs=1e-9)


def test_unit_elastic_income_effect_keeps_spending_constant():
    assert apply_price_cut(246.80, 0.3) * volume_multiplier(0.3, -1.0) == pytest.approx(246.80)


# ----------------------------------------------------------------------------------------------
# Life table (data file owned with the cost data)
# ----------------------------------------------------------------------------------------------

QX_EVIDENCE = {50: 0.004120, 55: 0.006022, 60: 0.009202, 65: 0.013054, 70: 0.018460, 75: 0.028219, 80: 0.046538}  # T10.05


@pytest.fixture(scope="module")
def life_table():
    with open(DATA / "us_life_table_2023.csv", newline="") as fh:
        return {int(r["age"]): r for r in csv.DictReader(fh)}


def test_life_table_covers_18_to_100_with_probabilities(life_table):
    assert sorted(life_table) == list(range(18, 101))
    qx = np.array([float(life_table[a]["qx"]) for a in range(18, 101)])
    assert np.all((qx > 0) & (qx <= 1))
    assert np.all(np.diff(qx) > 0)


def test_life_table_keeps_the_verified_ages(life_table):
    for age, q in QX_EVIDENCE.items():
        assert float(life_table[age]["qx"]) == q
        assert life_table[age]["status"] == "verified-in-source (secondary report)"
        assert "T10.05" in life_table[age]["source"]


def test_life_table_fills_other_ages_log_linearly(life_table):
    # inside 50-80: log-linear between the neighbouring verified ages
    expected_52 = math.exp(math.log(0.004120) + 2 / 5 * (math.log(0.006022) - math.log(0.004120)))
    assert float(life_table[52]["qx"]) == pytest.approx(expected_52, rel=1e-5)
    # outside: Gompertz slope fitted by least squares to the 7 verified points, anchored at 50 / 80
    ages = np.array(list(QX_EVIDENCE))
    slope = np.polyfit(ages, np.log(list(QX_EVIDENCE.values())), 1)[0]
    assert float(life_table[18]["qx"]) == pytest.approx(0.004120 * math.exp(slope * (18 - 50)), rel=1e-5)
    assert float(life_table[100]["qx"]) == pytest.approx(0.046538 * math.exp(slope * 20), rel=1e-5)
    for age in (18, 52, 100):
        assert life_table[age]["status"] == "derived"
        assert life_table[age]["source"].startswith("derived")
