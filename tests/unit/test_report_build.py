"""Report descriptions of results (costspine.reports.build): what each workbook shows, in which
words, from which numbers. Nothing here writes a file; tests/cli/test_run_reports.py opens the
written workbooks."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import numpy as np
import pytest

from costspine.model.inputs import evaluate_parameters
from costspine.reports import build, build_compare, inputs, wording
from costspine.reports.manifest import build_manifest
from costspine.reports.run_summary import parameter_rows, summarize_result
from costspine.scenario.load import load_scenario
from costspine.scenario.types import Settings
from costspine.simulate.cohort import run_cohort

from helpers import CHANCELLOR, ROOT

# Three strategies so that one dominates, one is dominated; a commercial payer so prices are
# derived parameters (catalogue price x payer multiplier); an ODI-like indicator; text that a
# spreadsheet would run as a formula.
MINI = textwrap.dedent("""
    [model]
    name = "mini_spine"
    title = "Mini spine model"
    description = "=HYPERLINK(\\"http://example.com\\") three strategies."

    [settings]
    cycle_length = 4
    cycle_unit = "week"
    n_cycles = 13
    discount_costs = 0.03
    discount_outcomes = 0.03
    cycle_correction = "none"
    currency = "USD"
    price_year = 2025

    [analysis]
    effect = "qalys"
    comparator = "usual_care"
    wtp = [50000, 100000]
    report_at_years = [0, 0.25, 1.0]

    [unit_costs]
    payer = "commercial"
    price_year = 2025
    items = ["mri_lumbar", "pt_evaluation"]

    [states]
    mild = { initial = 0.4, label = "Mild" }
    severe = { initial = 0.6, label = "Severe" }
    dead = { initial = 0, label = "Dead" }

    [strategies.usual_care]
    label = "Usual care"
    values = { p_better = "p_recover", mri_now = "mri_rate", pt_now = "0.2" }

    [strategies.ice]
    label = "ICE"
    values = { p_better = "p_recover * 1.3", mri_now = "mri_rate * 0.5", pt_now = "0.3" }

    [strategies.ipt]
    label = "IPT"
    values = { p_better = "p_recover * 0.9", mri_now = "mri_rate * 1.2", pt_now = "0.4" }

    [parameters.p_recover]
    value = 0.2
    distribution = "beta"
    mean = 0.2
    sd = 0.05
    source = "+cmd|' /C calc'!A0"

    [parameters.p_worsen]
    value = 0.05
    source = "@SUM(1+1)"

    [parameters.p_die]
    value = 0.001
    source = "assumption"

    [parameters.mri_rate]
    value = 0.1
    source = "assumption"

    [parameters.u_mild]
    value = 0.8
    source = "assumption"

    [parameters.u_severe]
    value = 0.5
    source = "assumption"

    [parameters.odi_severe]
    value = "15 + 25"
    source = "derived: -2+3 style text stays text"

    [transitions]
    mild = { mild = "rest", severe = "p_worsen", dead = "p_die" }
    severe = { mild = "p_better", severe = "rest", dead = "p_die" }
    dead = { dead = 1 }

    [costs.imaging]
    category = "imaging"
    label = "Imaging (MRI)"
    values = { mild = "price_mri_lumbar * mri_now * 0.2", severe = "price_mri_lumbar * mri_now" }

    [costs.therapy]
    category = "therapy"
    label = "Physical therapy"
    values = { severe = "price_pt_evaluation * pt_now" }

    [outcomes.qalys]
    label = "QALYs"
    values = { mild = "u_mild * cycle_years", severe = "u_severe * cycle_years" }

    [indicators.odi]
    label = "Mean ODI (0-100)"
    values = { mild = "15", severe = "odi_severe" }
""")

CUT = textwrap.dedent("""
    extends = "mini.toml"

    [model]
    name = "mini_cut"
    title = "Mini spine model, half the MRIs"

    [parameters.mri_rate]
    value = 0.05
    source = "policy: half the MRIs"
""")


def manifest_for(scenarios, outputs=("summary.json", "run.xlsx")) -> dict:
    inputs = list(dict.fromkeys(f for s in scenarios for f in s.files))
    return build_manifest(
        command="run",
        argv=["/usr/bin/costspine", "run", *(str(s.path) for s in scenarios)],
        inputs=inputs,
        seed=None,
        started=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        outputs=list(outputs),
    )


@pytest.fixture(scope="module")
def hiv(chancellor):
    result = run_cohort(chancellor)
    return result, summarize_result(result)


@pytest.fixture(scope="module")
def mini_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mini")
    (folder / "mini.toml").write_text(MINI, encoding="utf-8")
    (folder / "mini_cut.toml").write_text(CUT, encoding="utf-8")
    return folder / "mini.toml", folder / "mini_cut.toml"


@pytest.fixture(scope="module")
def mini(mini_files):
    result = run_cohort(load_scenario(mini_files[0]))
    return result, summarize_result(result)


@pytest.fixture(scope="module")
def pair(mini_files):
    results = [run_cohort(load_scenario(path)) for path in mini_files]
    return results, [summarize_result(r) for r in results]


def column(table, name) -> list:
    j = table.column_index(name)
    return [row[j] for row in table.rows]


# ------------------------------------------------------------------------------------------------
# Run workbook: sheets, headline, inputs


def test_run_workbook_sheets_without_and_with_indicators(hiv, mini):
    result, summary = hiv
    book = build.build_run_workbook(result, manifest=manifest_for([result.scenario]))
    assert book.sheet_names == ("Summary", "Inputs", "Costs", "Incremental", "Net benefit", "Trace", "About")
    assert book.unit_prices is None  # no [unit_costs] section
    result, summary = mini
    book = build.build_run_workbook(result, manifest=manifest_for([result.scenario]))
    assert book.sheet_names == (
        "Summary",
        "Inputs",
        "Unit prices",
        "Costs",
        "Incremental",
        "Net benefit",
        "Trace",
        "Trajectory",
        "About",
    )
    assert book.title == "Mini spine model" and book.currency == "USD"
    assert book.description.startswith("=HYPERLINK")  # kept as written; the writer stores it as text


def test_headline_numbers_are_the_summary_numbers(mini):
    result, summary = mini
    table = build.build_headline_table(result)
    entries = list(summary["strategies"].values())
    assert column(table, "Strategy") == [e["label"] for e in entries]
    assert column(table, "Total cost") == [e["cost_total"] for e in entries]
    assert column(table, "QALYs") == [e["outcomes"]["qalys"] for e in entries]
    assert column(table, "Incremental cost") == [e["incremental_cost"] for e in entries]
    assert column(table, "Incremental QALYs") == [e["incremental_effect"] for e in entries]
    for t in ("0", "0.25", "1"):
        label = {"0": "baseline", "0.25": "3 months", "1": "1 year"}[t]
        assert column(table, f"Mean ODI (0-100), {label}") == [e["indicators"]["odi"][t] for e in entries]
    assert column(table, "ICER (USD per QALY)") == ["reference", "dominant", "dominated"]
    assert column(table, "Efficiency frontier") == [e["frontier_status"] for e in entries]


def test_headline_icer_is_a_number_where_it_is_a_cost_per_gain(hiv):
    result, summary = hiv
    table = build.build_headline_table(result)
    assert column(table, "ICER (GBP per life-year)") == ["reference", summary["strategies"]["comb"]["icer"]]
    assert math.isclose(table.rows[1][table.column_index("ICER (GBP per life-year)")], 6275.956, abs_tol=5e-4)


def test_costs_sheet_has_every_category_and_a_stacked_bar_chart(hiv):
    result, summary = hiv
    sheet = build.build_costs_sheet(result)
    table, undiscounted = sheet.tables  # HIV discounts costs at 6%: both shown
    assert table.column_names == ("Strategy", "Direct medical", "Community care", "Drugs", "Total")
    for row, entry in zip(table.rows, summary["strategies"].values()):
        assert list(row[1:4]) == list(entry["cost_by_category"].values()) and row[4] == entry["cost_total"]
    assert undiscounted.rows[0][4] == summary["strategies"]["mono"]["cost_total_undiscounted"]
    (chart,) = sheet.charts
    assert chart.kind == "stacked_bar" and chart.y_columns == ("Direct medical", "Community care", "Drugs")


def test_undiscounted_costs_are_not_repeated_when_there_is_no_discounting(tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text(
        CHANCELLOR.read_text(encoding="utf-8").replace("discount_costs = 0.06", "discount_costs = 0.0"), encoding="utf-8"
    )
    result = run_cohort(load_scenario(path))
    sheet = build.build_costs_sheet(result)
    assert [t.name for t in sheet.tables] == ["costs_by_category"]


def test_net_benefit_sheet_has_one_row_per_wtp_and_one_line_per_strategy(hiv):
    result, summary = hiv
    sheet = build.build_net_benefit_sheet(result)
    (table,), (chart,) = sheet.tables, sheet.charts
    assert column(table, "WTP (GBP per life-year)") == summary["wtp"]
    assert column(table, "Zidovudine + lamivudine") == list(summary["strategies"]["comb"]["nmb"].values())
    assert chart.kind == "line" and len(chart.y_columns) == 2


def test_trajectory_sheet_follows_the_indicator_at_every_cycle(mini):
    result, _ = mini
    sheet = build.build_trajectory_sheet(result)
    (table,), (chart,) = sheet.tables, sheet.charts
    assert len(table.rows) == result.scenario.settings.n_cycles + 1
    assert column(table, "Cycle") == list(range(14))
    np.testing.assert_allclose(column(table, "ICE"), result.indicators[0, 1, :, 0])
    assert column(table, "ICE")[0] == pytest.approx(0.4 * 15 + 0.6 * 40)
    assert chart.kind == "line" and chart.y_columns == ("Usual care", "ICE", "IPT")


def test_inputs_list_every_parameter_with_derived_values(mini):
    result, _ = mini
    table = inputs.build_parameter_table(result.scenario)
    names = column(table, "Parameter")
    assert names == [row[0] for row in parameter_rows(result)]
    values = dict(zip(names, column(table, "Value")))
    assert values["odi_severe"] == 40.0  # a derived parameter shows its value, not a blank
    base = evaluate_parameters(result.scenario)
    assert values["price_mri_lumbar"] == pytest.approx(base["price_mri_lumbar"][0])
    sources = dict(zip(names, column(table, "Source")))
    assert sources["p_recover"] == "+cmd|' /C calc'!A0" and sources["p_worsen"] == "@SUM(1+1)"


def test_unit_prices_show_year_and_payer_multiplier_and_equal_the_price_parameters(mini):
    result, _ = mini
    table = inputs.build_unit_price_table(result.scenario)
    assert column(table, "Item") == ["mri_lumbar", "pt_evaluation"]
    assert column(table, "Price year") == [2025, 2025]
    assert column(table, "Payer") == ["commercial", "commercial"]
    assert column(table, "Payer multiplier") == [1.43, 1.43]  # office items, commercial physician ratio
    base = evaluate_parameters(result.scenario)
    for item, price, catalogue, factor, mult in zip(
        column(table, "Item"),
        column(table, "Unit price"),
        column(table, "Catalogue price"),
        column(table, "CPI factor"),
        column(table, "Payer multiplier"),
    ):
        assert price == pytest.approx(catalogue * factor * mult)
        assert price == pytest.approx(base[f"price_{item}"][0])  # the number the model used


def test_about_sheet_is_the_manifest(hiv):
    result, summary = hiv
    manifest = manifest_for([result.scenario])
    about = inputs.build_about(manifest)
    assert about["costspine version"] == manifest["costspine_version"]
    assert about["Command line"] == f"costspine run {result.scenario.path}"
    assert about["Seed"] == "none (deterministic)"
    assert about["Started (UTC)"] == "2026-01-02T03:04:05+00:00"
    ((path, sha),) = result.scenario.files
    assert about["Input 1"] == f"{path}\nSHA-256 {sha}"
    assert about["Outputs"] == "summary.json, run.xlsx"
    assert about["Dependencies"].startswith("numpy ")
    assert inputs.build_about({**manifest, "seed": 7, "draws": 1000})["Seed"] == "7"
    assert inputs.build_about({**manifest, "draws": 1000})["draws"] == "1000"


# ------------------------------------------------------------------------------------------------
# Words


def entry(label, dc, de, icer=math.nan):
    return wording.Increment(label, dc, de, icer)


USUAL = entry("Usual care", 0.0, 0.0)


@pytest.mark.parametrize(
    "dc, de, icer, expected",
    [
        (
            -120.0,
            0.012,
            -1e4,
            "ICE costs $120 less and yields 0.012 more QALYs than usual care per patient over 1 year: it dominates usual care.",
        ),
        (
            150.0,
            -0.004,
            -37500.0,
            "ICE costs $150 more and yields 0.0040 fewer QALYs than usual care per patient over 1 year: "
            "it is dominated by usual care.",
        ),
        (
            5938.2,
            0.946,
            6277.1,
            "ICE costs $5,938 more and yields 0.946 more QALYs than usual care per patient over 1 year: $6,277 per QALY gained.",
        ),
        (
            -500.0,
            -0.01,
            50000.0,
            "ICE costs $500 less and yields 0.010 fewer QALYs than usual care per patient over 1 year: "
            "it saves $50,000 per QALY forgone.",
        ),
        (12.5, 0.0, math.nan, "ICE costs $12.50 more than usual care per patient over 1 year, with the same QALYs."),
        (
            0.0,
            0.00012,
            0.0,
            "ICE costs the same as usual care and yields 0.00012 more QALYs per patient over 1 year: it dominates usual care.",
        ),
    ],
)
def test_describe_comparison_covers_every_quadrant(dc, de, icer, expected):
    text = wording.describe_comparison(entry("ICE", dc, de, icer), USUAL, currency="USD", effect_label="QALYs", horizon="1 year")
    assert text == expected


def test_run_reading_names_the_icer_the_best_strategy_and_the_money_basis(hiv, mini):
    result, summary = hiv
    reading = build.describe_run(result)
    assert reading[0] == (
        "Zidovudine + lamivudine costs £5,938 more and yields 0.946 more life-years than zidovudine "
        "monotherapy per patient over 20 years: £6,276 per life-year gained."
    )
    assert (
        "Highest net monetary benefit: Zidovudine monotherapy at £5,000 per life-year; Zidovudine + lamivudine at "
        "£10,000, £20,000 and £30,000 per life-year." in reading
    )
    assert "Money in GBP at 1995 prices, per patient; costs discounted at 6.0% a year, life-years undiscounted." in reading
    result, summary = mini
    reading = build.describe_run(result)
    assert reading[0].endswith("it dominates usual care.") and reading[1].endswith("it is dominated by usual care.")
    assert any(s.startswith("Off the efficiency frontier: Usual care (dominated); IPT (dominated)") for s in reading)
    odi = summary["strategies"]["ice"]["indicators"]["odi"]["1"]
    assert "Mean ODI (0-100) at 1 year: usual care" in reading[-1] and f"ICE {odi:.1f}" in reading[-1]


@pytest.mark.parametrize(
    "n_cycles, length, unit, expected",
    [
        (13, 4, "week", "1 year"),
        (20, 1, "year", "20 years"),
        (6, 1, "month", "6 months"),
        (1, 1, "day", "1 day"),
        (65, 4, "week", "5 years"),
    ],
)
def test_describe_horizon(n_cycles, length, unit, expected):
    settings = Settings(length, unit, n_cycles, 0.0, 0.0, "none", "USD", 2025)
    assert wording.describe_horizon(settings) == expected


def test_money_is_written_with_the_currency_symbol_or_code():
    assert wording.format_money(-1234.4, "USD") == "$1,234"
    assert wording.format_money(12.345, "GBP") == "£12.35"
    assert wording.format_money(1500, "CHF") == "CHF 1,500"


# ------------------------------------------------------------------------------------------------
# Comparison workbook


def test_comparison_headline_is_scenario_by_strategy_with_differences_from_the_first(pair):
    results, summaries = pair
    book = build_compare.build_comparison_workbook(results, manifest=manifest_for([r.scenario for r in results]))
    assert book.sheet_names == ("Summary", "Inputs", "Unit prices", "Costs", "Cost-effectiveness", "Trajectory", "About")
    table = book.headline
    assert column(table, "Scenario") == ["mini_spine"] * 3 + ["mini_cut"] * 3
    entries = [e for s in summaries for e in s["strategies"].values()]
    assert column(table, "Total cost") == [e["cost_total"] for e in entries]
    assert column(table, "Imaging (MRI)") == [e["cost_by_category"]["imaging"] for e in entries]
    assert column(table, "Mean ODI (0-100), 3 months") == [e["indicators"]["odi"]["0.25"] for e in entries]
    delta = column(table, "Cost vs mini_spine")
    assert delta[:3] == [0.0, 0.0, 0.0]
    assert delta[3:] == [b["cost_total"] - a["cost_total"] for a, b in zip(entries[:3], entries[3:])]
    assert all(d < 0 for d in delta[3:])  # fewer MRIs cost less for every strategy


def test_comparison_inputs_show_each_scenarios_value_and_flag_differences(pair):
    results, summaries = pair
    book = build_compare.build_comparison_workbook(results, manifest=manifest_for([r.scenario for r in results]))
    table = book.inputs
    rows = {row[0]: row for row in table.rows}
    j_a, j_b, j_diff, j_source = (table.column_index(n) for n in ("mini_spine", "mini_cut", "Differs", "Source"))
    assert (rows["mri_rate"][j_a], rows["mri_rate"][j_b], rows["mri_rate"][j_diff]) == (0.1, 0.05, "yes")
    assert rows["mri_rate"][j_source] == "mini_spine: assumption\nmini_cut: policy: half the MRIs"
    assert rows["p_recover"][j_diff] == "" and rows["p_recover"][j_source] == "+cmd|' /C calc'!A0"
    assert set(column(book.unit_prices, "Scenarios")) == {"all"}  # one shared [unit_costs] section


def test_comparison_charts_and_reading(pair):
    results, summaries = pair
    book = build_compare.build_comparison_workbook(results, manifest=manifest_for([r.scenario for r in results]))
    costs = next(s for s in book.sheets if s.name == "Costs")
    stacked, totals = costs.charts
    assert stacked.kind == "stacked_bar" and stacked.y_columns == ("Imaging (MRI)", "Physical therapy")
    assert totals.kind == "bar" and totals.y_columns == ("Usual care", "ICE", "IPT")
    trajectory = next(s for s in book.sheets if s.name == "Trajectory")
    assert len(trajectory.charts[0].y_columns) == 6  # 2 scenarios x 3 strategies
    assert book.reading[1].startswith("mini_cut against mini_spine: usual care $")
    assert "In mini_cut: ICE dominates usual care; IPT is dominated by usual care." in book.reading


# ------------------------------------------------------------------------------------------------
# Figures are planned here, drawn by the command


def test_planned_figures_name_their_files(mini, pair, tmp_path):
    result, summary = mini
    plans = build.plan_run_figures(result, folder=tmp_path)
    assert [p.keywords["path"].name for p in plans] == ["cost_by_category.png", "trace.png", "odi_trajectory.png"]
    assert plans[0].args[0] == ["Usual care", "ICE", "IPT"]
    assert list(plans[0].args[1]) == ["Imaging (MRI)", "Physical therapy"]
    assert not list(tmp_path.iterdir())  # nothing drawn yet
    results, summaries = pair
    plans = build_compare.plan_comparison_figures(results, folder=tmp_path)
    assert len(plans[0].args[0]) == 6 and plans[0].args[0][3] == "mini_cut\nUsual care"


def test_building_a_workbook_imports_neither_openpyxl_nor_matplotlib():
    script = textwrap.dedent(f"""
        import sys
        from datetime import datetime, timezone
        from costspine.simulate.cohort import run_cohort
        from costspine.reports.build import build_run_workbook, plan_run_figures
        from costspine.reports.manifest import build_manifest
        from costspine.reports.run_summary import summarize_result
        from costspine.scenario.load import load_scenario
        result = run_cohort(load_scenario({str(CHANCELLOR)!r}))
        summary = summarize_result(result)
        manifest = build_manifest(command="run", argv=[], inputs=[], started=datetime.now(timezone.utc), outputs=[])
        build_run_workbook(result, manifest=manifest)
        plan_run_figures(result, folder="unused")
        print(sorted(m for m in ("openpyxl", "matplotlib") if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_money_basis_and_report_times_in_words(mini, hiv):
    assert (
        wording.describe_money(mini[0].scenario.settings, "QALYs")
        == "Money in USD at 2025 prices, per patient; costs and QALYs discounted at 3.0% a year."
    )
    assert (
        wording.describe_money(hiv[0].scenario.settings, "Life-years")
        == "Money in GBP at 1995 prices, per patient; costs discounted at 6.0% a year, life-years undiscounted."
    )
    assert [wording.describe_time(t) for t in (0, 0.25, 0.5, 1, 2.5)] == [
        "baseline",
        "3 months",
        "6 months",
        "1 year",
        "2.5 years",
    ]
    assert [wording.format_amount(x) for x in (0.946, -0.0040, 4.8e-5)] == ["0.946", "0.0040", "0.000048"]


# ------------------------------------------------------------------------------------------------
# PSA workbook: the CE plane is capped, the headline is the summary


def test_psa_workbook_caps_the_plane_and_reads_the_summary(chancellor):
    from costspine.analysis.psa import run_psa
    from costspine.analysis.psa_summary import summarize_psa
    from costspine.reports import build_psa

    scenario = chancellor
    draws = run_psa(scenario, 1500, seed=3)
    psa = summarize_psa(draws, wtp=scenario.analysis.wtp)
    summary = psa.data  # summary.json's record: the workbook must show the same numbers
    book = build_psa.build_psa_workbook(scenario, psa, manifest={})
    plane = next(s for s in book.sheets if s.name == "CE plane")
    assert len(plane.tables[0].rows) == build_psa.MAX_PLANE_ROWS < draws.n_draws
    assert plane.charts[0].max_points == build_psa.MAX_PLANE_ROWS
    assert column(book.headline, "Mean cost") == [e["cost_total"]["mean"] for e in summary["strategies"].values()]
    assert column(book.headline, "P(cost-effective) at £10,000") == list(summary["prob_cost_effective"]["10000"].values())
    assert book.reading[0].startswith("1,500 probabilistic draws")
    assert any(s.startswith("Expected value of perfect information per person: £") for s in book.reading)
    plans = build_psa.plan_psa_figures(scenario, psa, folder="out")
    assert [p.keywords["path"].name for p in plans] == ["ce_plane.png", "ceac.png", "evpi.png"]
    assert plans[0].args[0].shape == (1500, 1)  # the figure gets every draw and caps what it draws itself


def test_comparison_of_unlike_scenarios_warns_and_leaves_missing_differences_empty(hiv, mini):
    results = [hiv[0], mini[0]]
    book = build_compare.build_comparison_workbook(results, manifest={})
    assert any(s.startswith("Caution: the scenarios count money differently (GBP 1995, USD 2025)") for s in book.reading)
    delta = column(book.headline, "Cost vs hiv_chancellor")
    assert delta[:2] == [0.0, 0.0] and delta[2:] == [None, None, None]  # no such strategy in the first scenario
    assert column(book.headline, "Imaging (MRI)")[:2] == [None, None]  # a category the HIV model does not have


def test_the_manifests_dependency_versions_are_the_installed_ones():
    """The versions read from the dist-info folder names are what importlib.metadata reports."""
    from importlib import metadata

    from costspine.reports.manifest import DEPENDENCIES, dependency_versions

    def installed(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    assert dependency_versions() == {name: installed(name) for name in DEPENDENCIES}
