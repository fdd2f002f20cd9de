"""``costspine init NAME [DIR]`` and ``costspine scenarios``: a working copy of a bundled scenario."""

from __future__ import annotations

from helpers import SPINE, invoke


def test_init_copies_a_scenario_that_validates_and_runs_from_its_new_folder(tmp_path):
    folder = tmp_path / "work"
    result = invoke("init", "base_case_bayes", folder)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["base_case.toml", "base_case_bayes.toml"]
    assert 'file = "package:scenarios/evidence/spine_care_trial.toml"' in (folder / "base_case_bayes.toml").read_text()
    assert invoke("validate", folder / "base_case_bayes.toml").exit_code == 0
    run = invoke("run", folder / "base_case.toml", "--out", tmp_path / "out", "--quiet")
    assert run.exit_code == 0, run.output
    bundled = invoke("run", SPINE / "base_case.toml", "--out", tmp_path / "bundled", "--quiet")
    assert bundled.exit_code == 0
    assert (tmp_path / "out" / "results.csv").read_bytes() == (tmp_path / "bundled" / "results.csv").read_bytes()


def test_init_keeps_identical_files_and_refuses_to_overwrite_edits(tmp_path):
    assert invoke("init", "commercial", tmp_path).exit_code == 0
    again = invoke("init", "injection_cut_50", tmp_path)
    assert again.exit_code == 0, again.output
    assert f"Kept {tmp_path / 'base_case.toml'} (already the bundled text)" in again.stdout
    (tmp_path / "base_case.toml").write_text("# my edits\n", encoding="utf-8")
    refused = invoke("init", "commercial", tmp_path)
    assert refused.exit_code == 2
    assert "base_case.toml: already exists with other content; choose another folder or pass --force" in refused.stderr
    assert (tmp_path / "base_case.toml").read_text(encoding="utf-8") == "# my edits\n"
    assert invoke("init", "commercial", tmp_path, "--force").exit_code == 0
    assert (tmp_path / "base_case.toml").read_text(encoding="utf-8") == (SPINE / "base_case.toml").read_text(encoding="utf-8")


def test_init_of_an_unknown_name_lists_the_bundled_ones(tmp_path):
    result = invoke("init", "base_cse", tmp_path)
    assert result.exit_code == 2
    assert "Error: base_cse: not a bundled scenario; expected one of" in result.stderr
    assert list(tmp_path.iterdir()) == []
