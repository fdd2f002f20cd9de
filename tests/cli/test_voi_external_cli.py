"""``costspine voi`` on CSV draws: the round trip psa → CSV → voi, a wide file, and bad files
(exit code 3, no traceback, nothing written)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from costspine.cli import cli

ROOT = Path(__file__).resolve().parents[2]
CHANCELLOR = str(ROOT / "scenarios" / "examples" / "hiv_chancellor.toml")


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def psa_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("psa")
    result = invoke("psa", CHANCELLOR, "--draws", 400, "--seed", 5, "--out", out, "--csv", "--quiet")
    assert result.exit_code == 0, result.output
    return out


def test_psa_csv_files_read_back_give_the_same_evpi_and_evppi_as_draws_npz(psa_out, tmp_path):
    from_npz = invoke(
        "voi", psa_out, "--evppi", "rr", "--evppi", "c_direct_A,c_community_A", "--wtp", "5000,10000", "--out", tmp_path / "npz"
    )
    assert from_npz.exit_code == 0, from_npz.output
    folder = tmp_path / "csv"
    folder.mkdir()
    for name in ("results.csv", "parameters.csv"):  # only the CSVs: as another tool would hand them over
        shutil.copy(psa_out / name, folder / name)
    from_csv = invoke(
        "voi",
        folder,
        "--evppi",
        "rr",
        "--evppi",
        "c_direct_A,c_community_A",
        "--wtp",
        "5000,10000",
        "--seed",
        5,
        "--comparator",
        "mono",
        "--currency",
        "GBP",
        "--out",
        tmp_path / "csv_out",
    )
    assert from_csv.exit_code == 0, from_csv.output
    assert read_csv(tmp_path / "csv_out" / "evpi.csv") == read_csv(tmp_path / "npz" / "evpi.csv")
    assert read_csv(tmp_path / "csv_out" / "evppi.csv") == read_csv(tmp_path / "npz" / "evppi.csv")
    evpi = json.loads((tmp_path / "csv_out" / "summary.json").read_text())["evpi_per_person"]
    psa_evpi = json.loads((psa_out / "summary.json").read_text())["evpi_per_person"]
    assert evpi == {w: psa_evpi[w] for w in ("5000", "10000")} and evpi["10000"] > 0
    manifest = json.loads((tmp_path / "csv_out" / "manifest.json").read_text())
    assert [Path(i["path"]).name for i in manifest["inputs"]] == ["results.csv", "parameters.csv"]
    # the results file named on its own, parameters beside it by option
    one_file = invoke(
        "voi",
        folder / "results.csv",
        "--parameters",
        folder / "parameters.csv",
        "--evppi",
        "rr",
        "--wtp",
        "5000,10000",
        "--seed",
        5,
        "--out",
        tmp_path / "file_out",
        "--quiet",
    )
    assert one_file.exit_code == 0 and one_file.output == ""
    assert read_csv(tmp_path / "file_out" / "evppi.csv") == read_csv(tmp_path / "npz" / "evppi.csv")[:2]


def test_csv_draws_of_a_costspine_folder_are_refused_options_that_only_csv_takes(psa_out):
    result = invoke("voi", psa_out, "--comparator", "mono")
    assert result.exit_code == 2 and "--comparator: applies to CSV draws" in result.output


def test_wide_csv_is_one_command(tmp_path):
    rr = [(7 * i % 40) / 40 for i in range(40)]  # comb gains 0.5·rr: worth its extra 400 at 2000 when rr > 0.4
    lines = ["draw,cost_mono,effect_mono,cost_comb,effect_comb,rr"]
    lines += [f"{i + 1},1000,1,1400,{1 + 0.5 * r!r},{r!r}" for i, r in enumerate(rr)]
    gain = [2000 * 0.5 * r - 400 for r in rr]  # NB(comb) - NB(mono) per draw
    expected_evpi = sum(max(g, 0) for g in gain) / 40 - max(sum(gain) / 40, 0)
    path = tmp_path / "from_r.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("voi", path, "--wtp", "2000", "--evppi", "rr", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "40 PSA draws from" in result.output and "Expected value of partial perfect information" in result.output
    (row,) = read_csv(tmp_path / "out" / "evppi.csv")
    assert row["group"] == "rr" and float(row["evpi_per_person"]) == pytest.approx(expected_evpi, rel=1e-12)
    assert expected_evpi > 0  # rr alone decides, so its EVPPI is the EVPI (up to the regression's error)
    assert float(row["evppi_per_person"]) == pytest.approx(expected_evpi, rel=0.01)
    assert {"evpi.csv", "evppi.csv", "summary.json", "manifest.json", "voi.xlsx"} <= {
        p.name for p in (tmp_path / "out").iterdir()
    }


@pytest.mark.parametrize(
    "text, where",
    [
        ("cost_a,effect_a,cost_b\n1,1,2\n1,1,2\n", "row 1"),  # missing strategy column
        ("cost_a,effect_a,cost_b,effect_b\n1,1,2,2\n1,1,CONFIDENTIAL,2\n", "row 3, column cost_b"),  # non-numeric
        ("cost_a,effect_a,cost_b,effect_b\n1,1,2,2\n1,1,2\n", "row 3"),  # ragged
        ("draw,cost_a,effect_a,cost_b,effect_b\n1,1,1,2,2\n1,1,1,2,2\n", "row 3, column draw"),  # duplicate draw
        ("cost_a,effect_a,cost_b,effect_b\n1,1,2,2\n", ""),  # too few draws
    ],
)
def test_bad_csv_draws_exit_3_without_traceback_and_write_nothing(tmp_path, text, where):
    path = tmp_path / "draws.csv"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("voi", path, "--wtp", "100", "--out", out)
    assert result.exit_code == 3, result.output
    assert result.output.startswith("Error: 1 problem in the PSA draws:") and f"{path}: {where}" in result.output
    assert "Traceback" not in result.output and "CONFIDENTIAL" not in result.output
    assert not out.exists()


def test_mismatched_results_and_parameters_exit_3(tmp_path):
    (tmp_path / "results.csv").write_text("draw,strategy,cost,effect\n0,a,1,1\n0,b,2,2\n1,a,1,1\n1,b,3,2\n")
    (tmp_path / "parameters.csv").write_text("draw,p\n0,1\n2,2\n")
    result = invoke("voi", tmp_path, "--wtp", "100", "--out", tmp_path / "out")
    assert result.exit_code == 3
    assert f"{tmp_path}/parameters.csv: row 3: its draw has no rows in results.csv" in result.output
    assert f"{tmp_path}/results.csv: row 4: its draw has no row in parameters.csv" in result.output
    assert not (tmp_path / "out").exists()


def test_csv_draws_without_thresholds_or_with_an_unknown_effect_are_usage_errors(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("draw,strategy,cost,qalys,lys\n0,a,1,1,1\n0,b,2,2,2\n1,a,1,1,1\n1,b,3,2,2\n")
    no_wtp = invoke("voi", path, "--effect", "qalys", "--out", tmp_path / "out")
    assert no_wtp.exit_code == 2 and "--wtp" in no_wtp.output
    ambiguous = invoke("voi", path, "--wtp", "10", "--out", tmp_path / "out")
    assert ambiguous.exit_code == 2 and "--effect" in ambiguous.output
    wide_with_parameters = tmp_path / "wide.csv"
    wide_with_parameters.write_text("cost_a,effect_a,cost_b,effect_b\n1,1,2,2\n1,1,3,2\n")
    refused = invoke("voi", wide_with_parameters, "--parameters", path, "--wtp", "10", "--out", tmp_path / "out")
    assert refused.exit_code == 2 and "wide file" in refused.output
    assert not (tmp_path / "out").exists()
