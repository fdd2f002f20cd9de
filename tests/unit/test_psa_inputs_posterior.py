"""The PSA workbook's Inputs sheet says which parameters come from a posterior and which the calibration held."""

import numpy as np
from test_psa_run import write_toy

from costspine._text import format_significant as fs
from costspine.analysis.psa import run_psa
from costspine.analysis.psa_summary import summarize_psa
from costspine.reports import build_psa
from costspine.reports.inputs import HELD_TEXT
from costspine.scenario.load import load_scenario


def test_inputs_sheet_describes_posterior_rows_and_held_parameters(tmp_path, monkeypatch):
    extra = '[parameters.hr1]\ndistribution = "posterior"\nfile = "evidence.toml"\nvariable = "hr1"\nvalue = 1\nsource = "fit"\n'
    scenario = load_scenario(write_toy(tmp_path, extra_params=extra))
    posterior = {"hr1": np.linspace(0.5, 2.5, 201)}

    monkeypatch.setattr(
        "costspine.bayes.posterior.load_or_fit_posterior", lambda path, progress=None: (posterior, tmp_path, False)
    )
    # the calibration held c_b (drawn at random by the scenario) at 310
    monkeypatch.setattr("costspine.bayes.posterior.find_calibration_held", lambda path: {"c_b": 310.0})
    draws = run_psa(scenario, 200, seed=5)
    assert np.all(draws.parameter("c_b") == 310.0)  # what the sheet must say: held, not drawn
    book = build_psa.build_psa_workbook(scenario, summarize_psa(draws, wtp=scenario.analysis.wtp), manifest={})
    rows = {row[0]: row for row in book.inputs.rows}  # Parameter, Value, Distribution, Arguments, Source

    assert rows["hr1"][2] == "posterior (joint)"
    median, low, high = np.quantile(posterior["hr1"], [0.5, 0.025, 0.975])
    assert rows["hr1"][3].startswith(f"median {fs(median)}, 95% interval {fs(low)} to {fs(high)}; whole rows of 201 ")
    assert rows["c_b"][2] == HELD_TEXT and rows["c_b"][3].startswith("310 (calibration to evidence.toml")
    assert rows["c_a"][2] == "gamma"  # a parameter the calibration does not touch keeps its own distribution
