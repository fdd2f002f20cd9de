"""Every result type offers one protocol: ``summary()`` (text naming what was compared),
``to_frame()`` (a long pandas table keyed by id columns) and ``to_dict()`` (JSON-ready).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from costspine.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
CHANCELLOR = ROOT / "scenarios" / "examples" / "hiv_chancellor.toml"
BIA = ROOT / "scenarios" / "spine" / "bia_commercial_plan.toml"


def check_protocol(result, *, names, id_columns, summary_args=None):
    """The three methods: text naming each of ``names``, a frame with ``id_columns`` first, strict JSON."""
    text = result.summary(**(summary_args or {}))
    assert isinstance(text, str)
    missing = [n for n in names if n not in text]
    assert not missing, f"summary() does not name {missing}"
    frame = result.to_frame()
    assert list(frame.columns[: len(id_columns)]) == list(id_columns)
    assert len(frame) > 0
    payload = result.to_dict()
    assert isinstance(payload, dict)
    json.dumps(payload, allow_nan=False)  # strict JSON: no NaN, no numpy types
    return text, frame, payload


@pytest.fixture(scope="module")
def chancellor():
    return load_scenario(CHANCELLOR)


@pytest.fixture(scope="module")
def psa(chancellor):
    from costspine.analysis.psa_summary import analyze_psa

    return analyze_psa(chancellor, 300, seed=5, evppi=["rr"])


def test_psa_result_protocol(psa, chancellor):
    labels = [chancellor.strategy_labels.get(s, s) for s in chancellor.strategies]
    _, frame, payload = check_protocol(psa.draws, names=labels, id_columns=("draw", "strategy"))
    assert len(frame) == 300 * len(chancellor.strategies)
    assert payload["strategies"] == list(chancellor.strategies) and payload["draws"] == 300


def test_the_summary_holds_the_psa_result_and_it_survives_the_draws_file(psa, tmp_path):
    from costspine._files import write_atomic
    from costspine.analysis.psa_draws_file import DRAWS_FILE, _encode_draws, load_psa_draws
    from costspine.analysis.psa_result import PSAResult

    assert isinstance(psa.draws, PSAResult)
    write_atomic(tmp_path / DRAWS_FILE, _encode_draws(psa.draws))
    back = load_psa_draws(tmp_path)
    assert isinstance(back, PSAResult)
    assert np.array_equal(back.costs, psa.draws.costs) and back.chunks == psa.draws.chunks
    assert back.method == psa.draws.method and back.resumed_chunks == 0
    assert back.to_dict() == psa.draws.to_dict()


def test_psa_summary_protocol(psa, chancellor):
    _, frame, payload = check_protocol(psa, names=list(chancellor.strategies), id_columns=("strategy", "wtp"))
    assert len(frame) == len(chancellor.strategies) * len(chancellor.analysis.wtp)
    assert frame.groupby("wtp")["prob_cost_effective"].sum().round(12).eq(1.0).all()
    assert payload["evppi"][0]["group"] == "rr"
    assert set(payload["prob_cost_effective"]) == {str(int(w)) for w in chancellor.analysis.wtp}


def test_voi_summary_protocol(psa, tmp_path):
    from costspine._files import write_atomic
    from costspine.analysis.psa_draws_file import DRAWS_FILE, _encode_draws
    from costspine.analysis.voi_summary import analyze_voi

    write_atomic(tmp_path / DRAWS_FILE, _encode_draws(psa.draws))
    voi = analyze_voi(tmp_path, evppi=["rr"], population=1000, horizon_years=2)
    text, frame, payload = check_protocol(voi, names=["EVPI", "rr", psa.draws.title], id_columns=("wtp", "parameters"))
    assert sorted(set(frame["kind"])) == ["evpi", "evppi"]
    assert payload["evpi_population"] and payload["population"]["per_year"] == 1000.0
    headers, rows = voi.evpi_table()
    assert headers == ["wtp", "evpi_per_person", "evpi_population"] and len(rows) == len(voi.wtp)


def test_evppi_result_protocol():
    from costspine.analysis.voi import compute_evppi

    rng = np.random.default_rng(1)
    theta = rng.normal(size=400)
    nb = np.column_stack([np.zeros(400), theta + rng.normal(scale=0.5, size=400)])
    result = compute_evppi(nb, {"theta": theta}, rng=np.random.default_rng(2))
    _, frame, payload = check_protocol(result, names=["theta"], id_columns=("parameters",))
    assert payload["parameters"] == ["theta"] and payload["evppi"] > 0
    no_se = compute_evppi(nb, {"theta": theta})
    assert no_se.to_dict()["se"] is None  # not computed without rng: null in JSON, not NaN


def test_dsa_result_protocol(chancellor):
    from costspine.analysis.dsa import analyze_dsa, summarize_dsa

    result = analyze_dsa(chancellor)
    _, frame, payload = check_protocol(
        result, names=[chancellor.title, "mono"], id_columns=("strategy", "comparator", "wtp", "rank", "parameter")
    )
    assert set(frame["parameter"]) == {r.name for r in result.ranges}
    assert payload["ranked_by"] == "nmb" and payload["base_case"].keys() == set(chancellor.strategies)
    assert result.to_dict(by="icer")["ranked_by"] == "icer"
    raw = summarize_dsa(result)
    assert raw.keys() == payload.keys()


def test_cea_table_protocol():
    from costspine.analysis.cea import compute_cea

    table = compute_cea(
        [100.0, 300.0, 400.0], [1.0, 2.0, 1.5], strategies=("usual", "ice", "ipt"), comparator="usual", wtp=(150.0, 300.0)
    )
    _, frame, payload = check_protocol(table, names=["usual", "ice", "ipt"], id_columns=("strategy", "wtp"))
    assert len(frame) == 6
    assert payload["strategies"]["usual"]["icer"] is None  # the comparator has no ICER: null, not NaN
    assert payload["strategies"]["ice"]["icer"] == pytest.approx(200.0)
    assert payload["strategies"]["ipt"]["frontier_status"] == "dominated"
    assert payload["strategies"]["ice"]["nmb"] == pytest.approx([0.0, 300.0])


def test_bia_run_and_analysis_protocol():
    from costspine.analysis.bia_run import analyze_bia

    scenario = load_scenario(BIA)
    analysis = analyze_bia([scenario], years=2)
    (run,) = analysis.runs
    labels = [scenario.strategy_labels.get(s, s) for s in scenario.strategies]
    text, frame, payload = check_protocol(run, names=[scenario.title], id_columns=("measure", "item", "year"))
    assert all(label in text or s in text for s, label in zip(scenario.strategies, labels))
    assert payload["strategies"] == list(scenario.strategies) and payload["years"] == 2
    assert {"budget_difference", "pmpm_difference"} <= set(frame["measure"])
    _, frame_all, payload_all = check_protocol(analysis, names=[scenario.title], id_columns=("scenario", "measure"))
    assert set(frame_all["scenario"]) == {scenario.name}
    assert payload_all == {"scenarios": [payload]}
    assert analysis.draws == 0 and analysis.seed is None


def _fake_calibration(*, rhat=1.001, divergences=0):
    from costspine.bayes.calibration import Calibration
    from costspine.bayes.fit import FitResult

    draws = {"hr": np.linspace(0.5, 1.5, 40), "p": np.linspace(0.1, 0.2, 40)}
    failures = () if rhat <= 1.01 else (f"hr: R-hat {rhat:.3f} > 1.01",)
    fit = FitResult(
        parameters=("hr", "p"),
        draws=draws,
        predictions={},
        rhat={"hr": rhat, "p": 1.0},
        ess_bulk={"hr": 900.0, "p": float("nan")},
        divergences=divergences,
        failures=failures,
        summary_text="mean sd\nhr 1.0 0.3\np 0.15 0.03",
        idata=None,
    )
    evidence = SimpleNamespace(path=Path("e.toml"), sampler=SimpleNamespace(draws=20, tune=10, chains=2, seed=1))
    predictive = [["pain_12m", "indicator_mean", 0.4, 0.3, 0.5, 0.41, 0.35, 0.47, "yes", "yes"]]
    return Calibration(
        evidence=evidence,
        scenario=SimpleNamespace(path=Path("s.toml")),
        fit=fit,
        draws=20,
        tune=10,
        chains=2,
        seed=1,
        target_accept=0.9,
        predictive=predictive,
    )


def test_fit_result_and_calibration_protocol():
    calibration = _fake_calibration()
    _, frame, payload = check_protocol(calibration, names=["hr", "p", "pain_12m"], id_columns=("draw", "hr", "p"))
    assert len(frame) == 40
    assert payload["ess_bulk"]["p"] is None and payload["posterior_predictive"][0]["target"] == "pain_12m"
    assert payload["sampler"] == {"draws": 20, "tune": 10, "chains": 2, "seed": 1, "target_accept": 0.9}
    assert calibration.uses_file_settings and calibration.failure_advice() == ""
    check_protocol(calibration.fit, names=["hr", "diagnostics pass"], id_columns=("draw", "hr", "p"))


def test_unconverged_calibration_says_what_failed():
    calibration = _fake_calibration(rhat=1.2)
    assert not calibration.converged
    assert "hr: R-hat 1.200 > 1.01" in calibration.failure_advice()
    assert "FAIL" in calibration.summary() and "diagnostics failed" in calibration.fit.summary()
    assert calibration.to_dict()["converged"] is False and not math.isnan(calibration.to_dict()["rhat"]["hr"])
