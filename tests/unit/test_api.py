"""The notebook API (costspine/__init__.py): light import, one thin verb per analysis with the
CLI's defaults, no file written unless asked, short reprs and HTML tables on every result."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import costspine

from helpers import CHANCELLOR, ROOT, SPINE

VERBS = ("load_scenario", "run", "psa", "dsa", "voi", "bia", "fit")


def test_import_is_light_and_dir_lists_the_verbs():
    code = (
        "import sys, costspine\n"
        "heavy = sorted(m for m in ('numpy', 'pandas', 'scipy', 'pymc', 'arviz', 'openpyxl', 'matplotlib', 'numba',"
        " 'dask') if m in sys.modules)\n"
        "print(heavy)\n"
        "print(' '.join(n for n in dir(costspine) if not n.startswith('_')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT).stdout
    heavy, names = out.splitlines()
    assert heavy == "[]"
    assert set(VERBS) <= set(names.split())
    assert set(VERBS) <= set(costspine.__all__)
    assert all(callable(getattr(costspine, name)) for name in costspine.__all__ if name != "__version__")


def test_verbs_take_their_options_by_keyword_with_the_clis_defaults():
    from costspine.cli.app import cli

    for verb in VERBS[1:]:
        params = list(inspect.signature(getattr(costspine, verb)).parameters.values())
        assert all(p.kind is p.KEYWORD_ONLY for p in params[1:]), verb
        options = {
            p.name: () if p.multiple and not isinstance(p.default, (list, tuple)) else p.default
            for p in cli.commands[verb].params
        }
        shared = {p.name for p in params[1:]} & set(options) - {"out_dir", "xlsx_path", "evidence", "draws_path"}
        for name in shared:
            default = getattr(costspine, verb).__kwdefaults__[name]
            cli_default = options[name]
            assert default == (tuple(cli_default) if isinstance(cli_default, (list, tuple)) else cli_default), (verb, name)
    assert costspine.psa.__kwdefaults__["draws"] == 1000 and costspine.psa.__kwdefaults__["seed"] == 20260101


@pytest.fixture(scope="module")
def analyses(tmp_path_factory):
    """Every verb once (fit aside: PyMC), run from an empty folder so any file written would show."""
    import os

    folder = tmp_path_factory.mktemp("api")
    before = os.getcwd()
    os.chdir(folder)
    try:
        scenario = costspine.load_scenario(SPINE / "base_case.toml")
        out = {
            "scenario": scenario,
            "run": costspine.run(scenario),
            "run_path": costspine.run(SPINE / "base_case.toml"),
            "psa": costspine.psa(CHANCELLOR, draws=40, seed=7),
            "dsa": costspine.dsa(CHANCELLOR),
            "bia": costspine.bia(SPINE / "bia_commercial_plan.toml", years=2),
        }
        out["voi"] = costspine.voi(out["psa"])
        out["microsim"] = costspine.run(CHANCELLOR, method="microsim", individuals=200, seed=3)
    finally:
        os.chdir(before)
    out["folder"] = folder
    return out


def test_verbs_write_no_files(analyses):
    assert list(analyses["folder"].iterdir()) == []


def test_verbs_return_what_the_library_calls_return(analyses):
    from costspine.analysis.psa_summary import analyze_psa
    from costspine.scenario.load import load_scenario
    from costspine.simulate.run import run_scenario

    direct = run_scenario(load_scenario(SPINE / "base_case.toml"))
    np.testing.assert_array_equal(analyses["run"].costs, direct.costs)
    np.testing.assert_array_equal(analyses["run_path"].outcomes, direct.outcomes)
    same = analyze_psa(load_scenario(CHANCELLOR), 40, seed=7)
    np.testing.assert_array_equal(analyses["psa"].draws.costs, same.draws.costs)
    assert analyses["psa"].to_dict() == same.to_dict()
    np.testing.assert_array_equal(analyses["voi"].evpi, costspine.voi(same.draws).evpi)


@pytest.mark.parametrize("key", ["scenario", "run", "microsim", "psa", "dsa", "bia", "voi"])
def test_reprs_are_one_short_line(analyses, key):
    text = repr(analyses[key])
    assert "\n" not in text and len(text) < 300, text
    assert text.startswith("<" + type(analyses[key]).__name__ + " ")
    assert "array(" not in text


def test_reprs_name_the_scenario_strategies_and_draws(analyses):
    assert repr(analyses["run"]) == (
        "<CohortResult scenario='spine_base_case' method='cohort' strategies=[usual_care, ice, ipt] draws=1 cycles=13>"
    )
    assert repr(analyses["psa"]).startswith("<PSASummary scenario='hiv_chancellor' strategies=[mono, comb] draws=40 ")
    assert "individuals=200 seed=3" in repr(analyses["microsim"])


@pytest.mark.parametrize("key", ["run", "microsim", "psa", "dsa", "bia", "voi"])
def test_html_tables_show_the_headline_numbers(analyses, key):
    html = analyses[key]._repr_html_()
    assert html.startswith("<table><caption>") and html.endswith("</table>")
    assert html.count("<tr>") >= 2  # a header and at least one row


def test_run_html_has_each_strategy_and_total_cost(analyses):
    html = analyses["run"]._repr_html_()
    for label in ("Usual care", "ICE (identify, coordinate, enhance)", "IPT (individualized postural therapy)"):
        assert f"<td>{label}</td>" in html
    assert f">{analyses['run'].total_cost[0, 0]:,.0f}<" in html


def test_to_frame_gives_pandas(analyses):
    import pandas as pd

    for key in ("run", "psa", "dsa", "bia", "voi"):
        assert isinstance(analyses[key].to_frame(), pd.DataFrame), key


def test_bia_accepts_one_scenario_or_several(analyses):
    assert [r.scenario.name for r in analyses["bia"].runs] == ["bia_commercial_plan"]
    assert analyses["bia"].runs[0].n_years == 2


def test_run_writes_the_clis_files_when_asked(tmp_path):
    costspine.run(CHANCELLOR, out_dir=tmp_path / "out")
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"results.csv", "summary.json", "manifest.json", "run.xlsx"} <= written
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["command"] == "run"
    assert not any(name.endswith(".png") for name in written)  # figures only when asked, as --figures
    costspine.run(CHANCELLOR, out_dir=tmp_path / "figs", figures=True)
    assert (tmp_path / "figs" / "cost_by_category.png").stat().st_size > 10_000


def test_calibration_repr_html_and_idata_without_sampling():
    from costspine.bayes.calibration import Calibration

    idata = object()
    fit = SimpleNamespace(
        parameters=("rate_improve",),
        rhat={"rate_improve": 1.001},
        ess_bulk={"rate_improve": 900.0},
        divergences=0,
        failures=(),
        idata=idata,
        converged=True,
    )
    calibration = Calibration(
        evidence=None,
        scenario=SimpleNamespace(name="spine"),
        fit=fit,
        draws=500,
        tune=500,
        chains=2,
        seed=1,
        target_accept=0.9,
        predictive=[],
    )
    assert calibration.idata is idata
    assert repr(calibration) == ("<Calibration scenario='spine' parameters=[rate_improve] chains=2 draws=500 converged=True>")
    html = calibration._repr_html_()
    assert "<td>rate_improve</td>" in html and ">ok<" in html


def test_api_psa_locks_its_output_folder_while_it_runs_and_keeps_draws_once(tmp_path, monkeypatch):
    """costspine.psa(out_dir=...) holds the folder's lock from the first draw (chunks are saved
    there while it runs), and a finished run keeps its draws once (draws/, no chunks/)."""
    from costspine._files import output_folder
    from costspine.analysis import psa_summary
    from costspine.errors import OutputFolderError

    out = tmp_path / "psa"
    real = psa_summary.analyze_psa
    seen = {}

    def analyze_while_checking_the_lock(*args, **kwargs):
        try:
            with output_folder(out):
                seen["second run"] = "allowed"
        except OutputFolderError as exc:
            seen["second run"] = str(exc)
        return real(*args, **kwargs)

    monkeypatch.setattr(psa_summary, "analyze_psa", analyze_while_checking_the_lock)
    costspine.psa(CHANCELLOR, draws=200, out_dir=out)
    assert seen["second run"] != "allowed"
    assert (out / "draws" / "meta.json").is_file() and not (out / "chunks").exists()
