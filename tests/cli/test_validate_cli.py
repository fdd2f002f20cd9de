"""``costspine validate`` checks every section it can read, [budget_impact] and policy files
included, and fails (exit 3) on every file problem ``costspine bia`` would reject.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from costspine.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SPINE = ROOT / "scenarios" / "spine"
BIA_FILE = SPINE / "bia_medicare_injection_cut.toml"


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, *args):
    result = runner.invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def bia_copy(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """The bundled Medicare BIA file, moved to ``tmp_path`` (extends and policy made absolute), edited."""
    text = BIA_FILE.read_text(encoding="utf-8")
    text = text.replace('extends = "base_case.toml"', f'extends = "{(SPINE / "base_case.toml").as_posix()}"')
    for name in ("injection_cut_50.toml", "chronic_pathway.toml", "chronic_injection_cut_50.toml"):
        text = text.replace(f'scenario = "{name}"', f'scenario = "{(SPINE / name).as_posix()}"')
    if old:
        assert text.count(old) == 1, f"test setup: {old!r} must occur exactly once"
        text = text.replace(old, new)
    path = tmp_path / "bia.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_bia_files_validate(runner):
    result = invoke(runner, "validate", BIA_FILE, SPINE / "bia_commercial_plan.toml")
    assert result.exit_code == 0, result.output
    assert f"ok  {BIA_FILE}" in result.stdout


def test_a_misspelt_budget_impact_key_fails_validate_with_a_hint(runner, tmp_path):
    path = bia_copy(tmp_path, "years = 5\n", "yeers = 5\n")
    result = invoke(runner, "validate", path)
    assert result.exit_code == 3, result.output
    assert f"{path}: budget_impact.yeers: unknown key — did you mean 'years'?" in result.stderr
    assert f"{path}: budget_impact.years: missing" in result.stderr


def test_a_bad_budget_impact_value_fails_validate_as_bia_would(runner, tmp_path):
    path = bia_copy(tmp_path, "discount_rate = 0.0 ", "discount_rate = 3.5 ")
    for command in (["validate", path], ["bia", path, "--out", tmp_path / "out"]):
        result = invoke(runner, *command)
        assert result.exit_code == 3, result.output
        assert f"{path}: budget_impact.discount_rate: must be in [0, 1); got 3.5" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_bad_policy_file_fails_validate_naming_the_policy_file(runner, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'extends = "{(SPINE / "injection_cut_50.toml").as_posix()}"\n[settings]\ncurency = "USD"\n', encoding="utf-8"
    )
    path = bia_copy(tmp_path, f'scenario = "{(SPINE / "injection_cut_50.toml").as_posix()}"', 'scenario = "policy.toml"')
    result = invoke(runner, "validate", path)
    assert result.exit_code == 3, result.output
    assert f"{policy}: settings.curency: unknown key — did you mean 'currency'?" in result.stderr


def test_a_policy_that_does_not_line_up_fails_validate(runner, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'extends = "{(SPINE / "injection_cut_50.toml").as_posix()}"\n[settings]\ncycle_correction = "half-cycle"\n',
        encoding="utf-8",
    )
    path = bia_copy(tmp_path, f'scenario = "{(SPINE / "injection_cut_50.toml").as_posix()}"', 'scenario = "policy.toml"')
    result = invoke(runner, "validate", path)
    assert result.exit_code == 3, result.output
    assert f"{policy}: settings.cycle_correction: must equal" in result.stderr


def test_a_missing_policy_file_fails_validate(runner, tmp_path):
    path = bia_copy(tmp_path, f'scenario = "{(SPINE / "injection_cut_50.toml").as_posix()}"', 'scenario = "nope.toml"')
    result = invoke(runner, "validate", path)
    assert result.exit_code == 3, result.output
    assert f"{path}: budget_impact.policy.scenario: file not found: {tmp_path / 'nope.toml'}" in result.stderr


def test_a_child_in_another_folder_validates(runner, tmp_path):
    child = tmp_path / "variant.toml"
    child.write_text(f'extends = "{(SPINE / "base_case.toml").as_posix()}"\n[settings]\nn_cycles = 26\n', encoding="utf-8")
    result = invoke(runner, "validate", child)
    assert result.exit_code == 0, result.output
