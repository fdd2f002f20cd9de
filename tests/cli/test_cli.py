"""Command-line tests with click's CliRunner: exit codes, messages on stderr, files written.

Exit codes (README): 0 ok, 1 analysis error, 2 usage error, 3 invalid scenario. A user mistake is
``Error: file: key.path: what was expected, what was found`` on stderr, never a traceback.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from costspine.cli import cli
from costspine.errors import AnalysisError

import helpers
from helpers import CHANCELLOR, ROOT, invoke

BASE = CHANCELLOR.read_text(encoding="utf-8")

# Published results (Briggs et al. 2006; /work/shared/golden/hiv_chancellor.md) and printed digits.
GOLDEN = {
    ("mono", "cost_total"): (44663.45, 2),
    ("comb", "cost_total"): (50601.65, 2),
    ("mono", "life_years"): (7.991207, 6),
    ("comb", "life_years"): (8.937389, 6),
    ("comb", "incremental_cost"): (5938.198, 3),
    ("comb", "incremental_effect"): (0.9461822, 7),
    ("comb", "icer"): (6275.956, 3),
}


def edit(old: str, new: str, text: str = BASE) -> str:
    return helpers.edit(old, new, text)


# ------------------------------------------------------------------------------------------------
# Happy paths


def test_run_writes_the_report_files_with_the_golden_numbers(tmp_path):
    out = tmp_path / "report"
    result = invoke("run", CHANCELLOR, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    for name in ("summary.json", "results.csv", "parameters.csv", "manifest.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "hiv_chancellor" and summary["currency"] == "GBP" and summary["comparator"] == "mono"
    for (strategy, key), (published, digits) in GOLDEN.items():
        entry = summary["strategies"][strategy]
        value = entry["outcomes"]["life_years"] if key == "life_years" else entry[key]
        assert abs(value - published) <= 0.5 * 10.0**-digits * (1 + 1e-9), (strategy, key, value)
    assert summary["strategies"]["mono"]["icer"] is None  # NaN for the comparator is written as null
    # the terminal shows the same numbers, rounded for reading
    assert "44,663" in result.stdout and "50,602" in result.stdout and "6,276" in result.stdout
    assert f"Wrote {out}/" in result.stdout


def test_run_csv_files(tmp_path):
    out = tmp_path / "report"
    assert invoke("run", CHANCELLOR, "--out", out).exit_code == 0
    with open(out / "results.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["strategy"] for r in rows] == ["mono", "comb"]
    assert abs(float(rows[0]["cost_total"]) - 44663.45) <= 0.005
    assert abs(float(rows[1]["life_years"]) - 8.937389) <= 5e-7
    with open(out / "parameters.csv", newline="", encoding="utf-8") as handle:
        params = {r["parameter"]: r for r in csv.DictReader(handle)}
    assert abs(float(params["p_AB"]["value"]) - 350 / 1734) < 1e-12
    assert params["rr"]["distribution"] == "lognormal" and "Chancellor" in params["rr"]["source"]
    assert params["c_direct_A"]["distribution"] == "gamma"


def test_run_manifest_records_inputs_and_outputs(tmp_path):
    out = tmp_path / "report"
    assert invoke("run", CHANCELLOR, "--out", out).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == "run"
    assert manifest["inputs"] == [{"path": str(CHANCELLOR), "sha256": hashlib.sha256(CHANCELLOR.read_bytes()).hexdigest()}]
    assert set(manifest["outputs"]) >= {"summary.json", "results.csv", "parameters.csv"}
    assert manifest["dependencies"]["numpy"] != "not installed"


def test_run_default_output_folder(runner, tmp_path):
    with runner.isolated_filesystem(temp_dir=tmp_path):
        result = invoke("run", CHANCELLOR, "--quiet")
        assert result.exit_code == 0, result.output
        assert result.output == ""
        assert Path("reports/hiv_chancellor/run/summary.json").is_file()


def test_validate_ok_changes_nothing(tmp_path):
    copy = tmp_path / "copy.toml"
    copy.write_text(BASE, encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = invoke("validate", copy, CHANCELLOR)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ok  {copy}\nok  {CHANCELLOR}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert copy.read_text(encoding="utf-8") == BASE


def test_scenarios_lists_the_bundled_file():
    result = invoke("scenarios")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    k = next(k for k, line in enumerate(lines) if "hiv_chancellor" in line)
    assert lines[k].startswith(os.path.join("scenarios", "examples", "hiv_chancellor.toml"))
    entry = [lines[k]]
    while k + len(entry) < len(lines) and lines[k + len(entry)].startswith(" "):  # the title wraps within its column
        entry.append(lines[k + len(entry)])
    title = " ".join(" ".join(entry).split()[1:])
    assert title == "HIV: zidovudine monotherapy vs combination with lamivudine (Chancellor 1997)"


def test_help_and_version():
    result = invoke("--help")
    assert result.exit_code == 0 and "run" in result.stdout and "validate" in result.stdout
    result = invoke("--version")
    assert result.exit_code == 0 and "costspine" in result.stdout


# ------------------------------------------------------------------------------------------------
# Bad scenario files: exit code 3, file + key path + expected/found, no traceback

N_CYCLES_LINE = BASE.splitlines().index("n_cycles = 20") + 1

BAD = {
    "unknown_key": (
        edit("discount_outcomes = 0.0", "discount_outcomes = 0.0\ndiscount_outcome = 0.0"),
        ["settings.discount_outcome", "unknown key", "did you mean 'discount_outcomes'?"],
    ),
    "discount_percent": (
        edit("discount_costs = 0.06", "discount_costs = 3.5"),
        ["settings.discount_costs", "must be in [0,", "got 3.5", "did you mean 0.035?"],
    ),
    "row_sum": (
        edit('C = { C = "rest", D = "p_CD * rr_now" }', 'C = { C = "0.5", D = "p_CD * rr_now" }'),
        ["transitions", "strategy=mono", "cycle=1", "from=C", "row sums to 0.749857", "expected 1"],
    ),
    "probability_above_one": (
        edit('D = "p_AD * rr_now" }', 'D = "p_AD * rr_now + 1.5" }'),
        ["transitions", "strategy=mono", "cycle=1", "from=A", "to=D", "probability 1.5098", "outside [0, 1]"],
    ),
    "unknown_state": (
        edit('B = { B = "rest", C = "p_BC * rr_now"', 'B = { B = "rest", X = "p_BC * rr_now"'),
        ["transitions.B.X", "unknown state 'X'", "known states: A, B, C, D"],
    ),
    "unknown_name": (
        edit('B = "p_AB * rr_now"', 'B = "p_AB * rr_nwo"'),
        ["transitions.A.B", "unknown name 'rr_nwo'", "did you mean 'rr_now'?"],
    ),
    "import": (
        edit('B = "p_AB * rr_now"', "B = \"__import__('os')\""),
        ["transitions.A.B", "only numbers are allowed", "'os'", "__import__"],
    ),
    "attribute": (edit('B = "p_AB * rr_now"', 'B = "p_AB.real"'), ["transitions.A.B", "Attribute is not allowed", "p_AB.real"]),
    "circular": (
        edit("value = 2086.5", 'value = "c_zidovudine - 1"', edit("value = 2278", 'value = "c_lamivudine + 1"')),
        ["parameters.c_", "circular definition", "c_zidovudine", "c_lamivudine"],
    ),
    "missing_source": (
        edit('source = "Zidovudine, annual cost; Chancellor 1997"\n', ""),
        ["parameters.c_zidovudine.source", "missing", "where the number comes from"],
    ),
    "bad_distribution": (
        edit("mean = 1701\nsd = 1701", "mean = 1701\nsd = -5"),
        ["parameters.c_direct_A", "gamma mean and sd must be > 0", "sd=-5"],
    ),
    "unknown_distribution": (
        edit('distribution = "lognormal"', 'distribution = "log-normal"'),
        ["parameters.rr.distribution", "expected one of", "'log-normal'", "did you mean 'lognormal'?"],
    ),
    "wrong_type": (edit("n_cycles = 20", 'n_cycles = "twenty"'), ["settings.n_cycles", "expected a number", "'twenty'"]),
    "invalid_toml": (edit("n_cycles = 20", "n_cycles = = 20"), ["not valid TOML", f"line {N_CYCLES_LINE}"]),
    "missing_setting": (edit('currency = "GBP"\n', ""), ["settings.currency", "missing"]),
    "unknown_comparator": (
        edit('comparator = "mono"', 'comparator = "monotherapy"'),
        ["analysis.comparator", "unknown strategy 'monotherapy'", "known strategies: mono, comb"],
    ),
    "nan_initial": (
        edit("A = { initial = 1, label", 'A = { initial = "log(-1)", label'),
        ["initial distribution must be >= 0 and sum to 1", "nan"],
    ),
    "dirichlet_zero": (
        edit("alpha = { p_CC = 1312, p_CD = 437 }", "alpha = { p_CC = 1312, p_CD = 0 }"),
        ["parameters.row_C.alpha", "every count must be > 0"],
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_scenario_exits_3_with_where_expected_and_found(tmp_path, name, command):
    text, fragments = BAD[name]
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    result = invoke(command, path, *(["--out", tmp_path / "out"] if command == "run" else []))
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert f"{path}: " in result.stderr  # the file name, then the key path
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert not (tmp_path / "out").exists()


def test_extends_loop_exits_3(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n', encoding="utf-8")
    result = invoke("validate", tmp_path / "a.toml")
    assert result.exit_code == 3
    assert (
        f"{tmp_path / 'a.toml'}: extends forms a loop: {tmp_path / 'a.toml'} -> {tmp_path / 'b.toml'} -> {tmp_path / 'a.toml'}"
        in result.stderr
    )


def test_missing_extends_target_exits_3(tmp_path):
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\n', encoding="utf-8")
    result = invoke("validate", child)
    assert result.exit_code == 3
    assert f"{tmp_path / 'parent.toml'}: file not found" in result.stderr


def test_validate_reports_every_file_at_once(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(BASE, encoding="utf-8")
    paths = [good]
    for name in ("discount_percent", "unknown_state"):
        paths.append(tmp_path / f"{name}.toml")
        paths[-1].write_text(BAD[name][0], encoding="utf-8")
    result = invoke("validate", *paths)
    assert result.exit_code == 3
    assert f"ok  {good}" in result.stdout
    assert "2 problems in scenario" in result.stderr
    assert f"{paths[1]}: settings.discount_costs" in result.stderr and f"{paths[2]}: transitions.B.X" in result.stderr


# ------------------------------------------------------------------------------------------------
# Usage errors: exit 2


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["validate", "no_such_file.toml"], "does not exist"),
        (["run", "no_such_file.toml"], "does not exist"),
        (["validate"], "Missing argument"),
        (["run"], "Missing argument"),
        (["run", str(CHANCELLOR), "--bogus"], "No such option"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_errors_exit_2(args, fragment):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr


def test_a_directory_is_a_usage_error(tmp_path):
    result = invoke("validate", tmp_path)
    assert result.exit_code == 2 and "is a directory" in result.stderr


# ------------------------------------------------------------------------------------------------
# Analysis errors (exit 1) and bugs (traceback kept)


def test_analysis_error_exits_1_without_traceback(tmp_path, monkeypatch):
    import costspine.cli.run

    def fail(*args, **kwargs):
        raise AnalysisError("invalid transition probabilities in PSA draws: draw=3 ...")

    monkeypatch.setattr(costspine.cli.run, "run_command", fail)
    result = invoke("run", CHANCELLOR, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr == "Error: invalid transition probabilities in PSA draws: draw=3 ...\n"


def test_a_bug_is_not_disguised_as_a_user_error(runner, tmp_path, monkeypatch):
    import costspine.cli.run

    def bug(*args, **kwargs):
        raise KeyError("internal")

    monkeypatch.setattr(costspine.cli.run, "run_command", bug)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    result = runner.invoke(cli, ["run", str(CHANCELLOR), "--out", str(tmp_path / "out")])
    # reported as a bug (exit 1, "internal error", its traceback saved), not as a user's mistake (exit 2/3)
    assert result.exit_code == 1 and result.output.startswith("Error: internal error (KeyError)")
    assert "problem" not in result.output and "Traceback" not in result.output
    (saved,) = tmp_path.glob("costspine-traceback-*.txt")
    assert str(saved) in result.output and "KeyError: 'internal'" in saved.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# A failing run never half-overwrites an existing report


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("bad", ["row_sum", "discount_percent"])  # fails while computing / while loading
def test_failed_run_leaves_an_existing_report_untouched(tmp_path, bad):
    out = tmp_path / "report"
    assert invoke("run", CHANCELLOR, "--out", out).exit_code == 0
    before = snapshot(out)
    path = tmp_path / "hiv_chancellor.toml"  # same scenario name, so the same default folder too
    path.write_text(BAD[bad][0], encoding="utf-8")
    result = invoke("run", path, "--out", out)
    assert result.exit_code == 3
    assert snapshot(out) == before  # same files, same bytes, not even rewritten


def test_failed_multi_scenario_run_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD["row_sum"][0], encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("run", CHANCELLOR, bad, "--out", out)
    assert result.exit_code == 3
    assert not out.exists()


# ------------------------------------------------------------------------------------------------
# Start-up stays light: heavy libraries only in the commands that need them

HEAVY = ("pymc", "arviz", "openpyxl", "pandas", "pytensor", "dask", "matplotlib", "numba")


def heavy_modules_after(code: str) -> list[str]:
    script = textwrap.dedent(code) + textwrap.dedent(f"""
        import sys
        heavy = {HEAVY!r}
        print("HEAVY:" + ",".join(sorted(m for m in heavy if m in sys.modules)))
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"}
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("HEAVY:"))
    return [m for m in line[len("HEAVY:") :].split(",") if m]


def test_importing_the_cli_imports_nothing_heavy():
    assert heavy_modules_after("import costspine.cli") == []


def test_help_imports_nothing_heavy():
    assert (
        heavy_modules_after("""
        from costspine.cli import cli
        try:
            cli.main(["--help"], standalone_mode=False)
        except SystemExit:
            pass
    """)
        == []
    )


def test_validate_imports_nothing_heavy():
    assert (
        heavy_modules_after(f"""
        from costspine.cli import cli
        cli.main(["validate", {str(CHANCELLOR)!r}], standalone_mode=False)
    """)
        == []
    )


def test_import_costspine_is_lazy():
    assert heavy_modules_after("import costspine; costspine.__version__") == []


def test_run_does_not_import_the_bayesian_stack(tmp_path):
    # A deterministic run needs no MCMC: pymc, arviz and pytensor stay out.
    loaded = heavy_modules_after(f"""
        from costspine.cli import cli
        cli.main(["run", {str(CHANCELLOR)!r}, "--out", {str(tmp_path / "out")!r}, "--quiet"], standalone_mode=False)
    """)
    assert not {"pymc", "arviz", "pytensor", "dask"} & set(loaded)
