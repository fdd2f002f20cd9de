"""``costspine psa``, ``dsa`` and ``voi``: exit codes, files written, errors without tracebacks."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from costspine.analysis.psa_draws_file import load_psa_draws
from costspine.cli import cli

import helpers
from helpers import invoke, read_csv

CHANCELLOR = str(helpers.CHANCELLOR)

PSA_FILES = {
    "results.csv",
    "parameters.csv",
    "draws/parameters.npy",
    "draws/costs.npy",
    "draws/outcomes.npy",
    "draws/meta.json",
    "summary.json",
    "ceac.csv",
    "ceaf.csv",
    "evpi.csv",
    "ce_plane.csv",
    "convergence.csv",
    "manifest.json",
}


@pytest.fixture(scope="module")
def psa_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("psa")
    result = invoke(
        "psa",
        CHANCELLOR,
        "--draws",
        2500,
        "--seed",
        3,
        "--out",
        out,
        "--evppi",
        "rr",
        "--population",
        1000,
        "--horizon-years",
        5,
        "--csv",
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_psa_writes_every_file(psa_dir):
    out, output = psa_dir
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert PSA_FILES | {"evppi.csv"} <= names
    assert "PSA: 2,500 draws, seed 3" in output and f"Wrote {out}/" in output
    rows = read_csv(out / "results.csv")
    assert len(rows) == 2500 * 2
    assert list(rows[0]) == [
        "draw",
        "strategy",
        "cost_direct_medical",
        "cost_community_care",
        "cost_drugs",
        "cost_total",
        "life_years",
    ]
    params = read_csv(out / "parameters.csv")
    assert len(params) == 2500 and "rr" in params[0] and "c_zidovudine" not in params[0]
    plane = read_csv(out / "ce_plane.csv")
    assert {r["strategy"] for r in plane} == {"comb"} and len(plane) == 2500


def test_psa_csv_matches_the_saved_draws_exactly(psa_dir):
    out, _ = psa_dir
    rows = read_csv(out / "results.csv")
    costs = load_psa_draws(out).costs
    csv_total = np.array([float(r["cost_total"]) for r in rows]).reshape(2500, 2)
    assert np.array_equal(csv_total, costs.sum(axis=-1))


def test_psa_summary_and_manifest(psa_dir):
    out, _ = psa_dir
    summary = json.loads((out / "summary.json").read_text())
    assert summary["draws"] == 2500 and summary["seed"] == 3 and summary["chunk_size"] == 1000
    assert summary["chunks"] == [[0, 1000], [1000, 2000], [2000, 2500]]
    assert set(summary["prob_cost_effective"]) == {"5000", "10000", "20000", "30000"}
    p = summary["prob_cost_effective"]["20000"]
    assert p["mono"] + p["comb"] == pytest.approx(1.0)
    assert summary["evpi_population"]["5000"] == pytest.approx(summary["evpi_per_person"]["5000"] * 5000)
    assert 0 <= summary["evppi"][0]["evppi_per_person"] <= summary["evppi"][0]["evpi_per_person"] * 1.01
    assert summary["strategies"]["comb"]["cost_total"]["lower"] < summary["strategies"]["comb"]["cost_total"]["mean"]
    conv = summary["convergence"]["comb"]["20000"]
    assert conv["mcse"] > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["command"] == "psa"
    assert "results.csv" in manifest["outputs"]
    ceac = read_csv(out / "ceac.csv")
    assert {r["strategy"] for r in ceac} == {"mono", "comb"}
    assert float(ceac[0]["wtp"]) == 0.0


def interrupt_psa_at_chunk(monkeypatch, chunk: int, *args):
    """Run ``psa *args`` until chunk ``chunk`` starts, as if Ctrl-C were pressed then."""
    import costspine.analysis.psa as sampling

    real = sampling.compute_chunk

    def interrupted(*a, **kwargs):
        if kwargs["chunk"] == chunk:
            raise KeyboardInterrupt
        return real(*a, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(sampling, "compute_chunk", interrupted)
        assert invoke("psa", *args).exit_code == 130


def test_psa_resume_gives_identical_files(psa_dir, tmp_path, monkeypatch):
    out, _ = psa_dir
    again = tmp_path / "again"
    interrupt_psa_at_chunk(monkeypatch, 2, CHANCELLOR, "--draws", 2500, "--seed", 3, "--out", again, "--quiet", "--csv")
    (again / "chunks" / "chunk-000001.npz").unlink()  # as if interrupted before chunk 1 was saved
    resumed = invoke("psa", CHANCELLOR, "--draws", 2500, "--seed", 3, "--out", again, "--resume", "--csv")
    assert resumed.exit_code == 0 and "Resumed: 1 of 3 chunks" in resumed.output
    for name in ("results.csv", "parameters.csv", "ceac.csv", "ce_plane.csv", "convergence.csv"):
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_psa_resume_with_another_seed_is_refused(tmp_path, monkeypatch):
    out = tmp_path / "stopped"
    interrupt_psa_at_chunk(monkeypatch, 2, CHANCELLOR, "--draws", 2500, "--seed", 3, "--out", out, "--quiet")
    result = invoke("psa", CHANCELLOR, "--draws", 2500, "--seed", 4, "--out", out, "--resume")
    assert result.exit_code == 3  # the folder holds another run (issue 20: exit 3, files)
    assert "cannot resume" in result.output and "seed: saved 3, now 4" in result.output
    assert "Traceback" not in result.output


def test_psa_usage_errors(tmp_path):
    bad_wtp = invoke("psa", CHANCELLOR, "--draws", 10, "--wtp", "1,x", "--out", tmp_path)
    assert bad_wtp.exit_code == 2 and "--wtp" in bad_wtp.output
    unknown = invoke("psa", CHANCELLOR, "--draws", 50, "--evppi", "rrr", "--out", tmp_path)
    assert unknown.exit_code == 2 and "did you mean 'rr'" in unknown.output
    both = invoke("psa", CHANCELLOR, "--draws", 10, "--workers", 2, "--scheduler", "tcp://127.0.0.1:1", "--out", tmp_path)
    assert both.exit_code == 2 and "not both" in both.output
    half = invoke("psa", CHANCELLOR, "--draws", 10, "--population", 100, "--out", tmp_path)
    assert half.exit_code == 2 and "--horizon-years" in half.output
    missing = invoke("psa", tmp_path / "nope.toml")
    assert missing.exit_code == 2


def test_psa_invalid_draws_exit_1_naming_the_draw(tmp_path):
    text = Path(CHANCELLOR).read_text(encoding="utf-8").replace('sdlog = "(log(0.710) - log(0.365)) / (2 * 1.96)"', "sdlog = 1.5")
    path = tmp_path / "wide.toml"
    path.write_text(text, encoding="utf-8")
    result = invoke("psa", path, "--draws", 500, "--out", tmp_path / "o")
    assert result.exit_code == 1
    assert result.output.startswith("Error: invalid transition probabilities") and "draw=" in result.output


def test_no_progress_bar_when_not_a_terminal(tmp_path):
    result = CliRunner().invoke(cli, ["psa", CHANCELLOR, "--draws", "1000", "--out", str(tmp_path)])
    assert result.exit_code == 0 and "/1,000 draws" not in result.output and "ETA" not in result.output


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_terminal():
    from costspine.progress import ProgressBar

    stream = Tty()
    with ProgressBar(2000, label="PSA", unit="draws", stream=stream) as bar:
        bar.advance(1000)
        bar.partial(500.5)  # within the running chunk
        assert bar.shown == 1500.5
        bar.advance(1000)
    text = stream.getvalue()
    assert "PSA" in text and "2,000/2,000 draws" in text and "ETA" in text
    assert text.removesuffix("\x1b[?25h").endswith("\n")  # the bar is left on its own line (cursor shown again)
    quiet = Tty()
    with ProgressBar(10, stream=quiet, enabled=False) as bar:
        bar.advance(10)
    assert quiet.getvalue() == ""
    not_a_terminal = io.StringIO()
    with ProgressBar(10, stream=not_a_terminal) as bar:
        bar.advance(10)
    assert not_a_terminal.getvalue() == ""


def test_voi_reads_the_psa_results(psa_dir, tmp_path):
    out, _ = psa_dir
    result = invoke("voi", out, "--evppi", "rr", "--evppi", "c_direct_A,c_community_A", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "evppi.csv")
    assert [r["group"] for r in rows[::4]] == ["rr", "c_direct_A+c_community_A"]
    assert rows[4]["parameters"] == "c_direct_A+c_community_A"
    assert all(float(r["se"]) >= 0 and 0 <= float(r["evppi_per_person"]) for r in rows)
    psa_rows = read_csv(out / "evppi.csv")
    assert rows[:4] == psa_rows  # same draws, same seed: same EVPPI and SE as `psa --evppi rr`
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["evpi_per_person"] == json.loads((out / "summary.json").read_text())["evpi_per_person"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["inputs"][0]["path"].endswith("draws")


@pytest.mark.slow
def test_voi_population_and_gp(psa_dir, tmp_path):
    out, _ = psa_dir
    result = invoke(
        "voi",
        out,
        "--evppi",
        "rr",
        "--method",
        "gp",
        "--wtp",
        "10000",
        "--population",
        200,
        "--horizon-years",
        3,
        "--discount",
        0.0,
        "--out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["evpi_population"]["10000"] == pytest.approx(600 * summary["evpi_per_person"]["10000"])
    assert summary["evppi"][0]["method"] == "gp"


def test_voi_errors(psa_dir, tmp_path):
    out, _ = psa_dir
    not_psa = invoke("voi", tmp_path)
    assert not_psa.exit_code == 2 and "draws/" in not_psa.output
    unknown = invoke("voi", out, "--evppi", "c_direct", "--out", tmp_path / "v")
    assert unknown.exit_code == 2 and "did you mean" in unknown.output


def test_dsa_writes_tornado_and_thresholds(tmp_path):
    result = invoke("dsa", CHANCELLOR, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert {"tornado.csv", "ranges.csv", "thresholds.csv", "summary.json", "manifest.json"} <= {
        p.name for p in tmp_path.iterdir()
    }
    tornado = read_csv(tmp_path / "tornado.csv")
    first = tornado[0]
    assert (first["strategy"], first["rank"], first["parameter"]) == ("comb", "1", "c_direct_A")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["range"] == "minmax" and summary["ranked_by"] == "nmb"
    assert summary["thresholds"]["5000"][0]["parameter"] in {"c_direct_A", "c_direct_C"}
    assert "One-way sensitivity" in result.output


def test_dsa_options(tmp_path):
    result = invoke("dsa", CHANCELLOR, "--range", "95ci", "--by", "icer", "--wtp", "20000", "--out", tmp_path, "--quiet")
    assert result.exit_code == 0 and result.output == ""
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["wtp"] == [20000.0] and summary["ranked_by"] == "icer"
    bad = invoke("dsa", CHANCELLOR, "--range", "wide")
    assert bad.exit_code == 2


def test_interrupted_psa_says_how_to_resume_and_resume_finishes_it(psa_dir, tmp_path, monkeypatch):
    import costspine.analysis.psa as sampling

    out, _ = psa_dir
    real = sampling.compute_chunk

    def interrupt_at_chunk_2(*args, **kwargs):
        if kwargs["chunk"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sampling, "compute_chunk", interrupt_at_chunk_2)
    stopped = invoke("psa", CHANCELLOR, "--draws", 2500, "--seed", 3, "--out", tmp_path, "--csv")
    assert stopped.exit_code == 130 and "rerun the same command with --resume" in stopped.output  # 128 + SIGINT
    assert sorted(p.name for p in (tmp_path / "chunks").glob("chunk-*")) == ["chunk-000000.npz", "chunk-000001.npz"]
    assert not (tmp_path / "results.csv").exists()
    monkeypatch.setattr(sampling, "compute_chunk", real)
    resumed = invoke("psa", CHANCELLOR, "--draws", 2500, "--seed", 3, "--out", tmp_path, "--resume", "--quiet", "--csv")
    assert resumed.exit_code == 0
    assert (tmp_path / "results.csv").read_bytes() == (out / "results.csv").read_bytes()


def test_parquet_copies_when_pyarrow_is_installed(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    result = invoke("psa", CHANCELLOR, "--draws", 1200, "--quiet", "--out", tmp_path, "--csv")
    assert result.exit_code == 0
    table = pq.read_table(tmp_path / "results.parquet")
    costs = load_psa_draws(tmp_path).costs
    assert np.array_equal(np.asarray(table.column("cost_total")), np.ascontiguousarray(costs).sum(axis=-1).ravel())
    assert pq.read_table(tmp_path / "parameters.parquet").num_rows == 1200


def test_voi_dirichlet_row_by_its_name(psa_dir, tmp_path):
    out, _ = psa_dir
    result = invoke("voi", out, "--evppi", "row_A", "--wtp", "10000", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    (row,) = read_csv(tmp_path / "evppi.csv")
    assert row["group"] == "row_A" and row["parameters"] == "p_AA+p_AB+p_AC"  # p_AD = 1 − the others
    assert "row_A" in result.output


def test_psa_writes_no_figures_and_no_per_draw_csv_by_default(psa_dir, tmp_path):
    out, _ = psa_dir
    result = invoke("psa", CHANCELLOR, "--draws", 2500, "--seed", 3, "--out", tmp_path, "--quiet")
    assert result.exit_code == 0 and result.output == ""
    names = {p.name for p in tmp_path.iterdir()}
    assert {"draws", "summary.json", "ceac.csv", "psa.xlsx", "manifest.json"} <= names
    assert "chunks" not in names  # a finished run keeps its draws once, in draws/
    assert not names & {"results.csv", "parameters.csv", "ce_plane.csv", "ce_plane.png", "ceac.png", "evpi.png"}
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert not [o for o in manifest["outputs"] if o.endswith(".png") or o in ("results.csv", "parameters.csv")]
    # the numbers are the --csv run's: the draws file and the curve tables are identical
    quick, full = load_psa_draws(tmp_path), load_psa_draws(out)
    assert np.array_equal(quick.costs, full.costs) and np.array_equal(quick.parameters, full.parameters)
    assert (tmp_path / "ceac.csv").read_bytes() == (out / "ceac.csv").read_bytes()
