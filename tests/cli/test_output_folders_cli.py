"""Output folders are all-or-nothing and owned (issue 20): staged and moved into place, locked while
in use, stale locks taken over, same-named scenarios side by side in distinct folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from costspine._files import acquire_output_lock, distinct_folder_names, output_folder, output_lock_path
from costspine.errors import OutputFolderError

from helpers import CHANCELLOR, edit, invoke


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _dead_pid() -> int:
    """The id of a process that has finished (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_an_interrupted_rerun_leaves_the_previous_results_untouched(tmp_path, monkeypatch):
    scenario = tmp_path / "model.toml"
    scenario.write_text(CHANCELLOR.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    assert invoke("run", scenario, "--out", out, "--quiet").exit_code == 0
    before = _files(out)
    assert "manifest.json" in before and "results.csv" in before
    scenario.write_text(edit("discount_costs = 0.06", "discount_costs = 0.03", scenario.read_text(encoding="utf-8")))

    import costspine.reports.excel

    def killed(*args, **kwargs):  # the data files are written by now; the workbook and manifest are not
        raise KeyboardInterrupt

    monkeypatch.setattr(costspine.reports.excel, "write_workbook", killed)
    result = invoke("run", scenario, "--out", out, "--quiet")
    assert result.exit_code == 130
    assert _files(out) == before  # no new data beside the old manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.toml", "out"]  # no staging folder, no lock left


def test_a_finished_rerun_replaces_the_previous_outputs_and_nothing_else(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"outputs": ["stale.csv", "../notes.txt"]}\n', encoding="utf-8")
    (out / "stale.csv").write_text("old\n", encoding="utf-8")  # an output of the previous run
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")  # the user's own file
    (tmp_path / "notes.txt").write_text("outside\n", encoding="utf-8")
    assert invoke("run", CHANCELLOR, "--out", out, "--quiet", "--xlsx", out / "book.xlsx").exit_code == 0
    names = set(_files(out))
    assert "stale.csv" not in names and {"manifest.json", "results.csv", "book.xlsx", "notes.txt"} <= names
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "book.xlsx" in manifest["outputs"] and set(manifest["outputs"]) == names - {"manifest.json", "notes.txt"}
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "outside\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "out"]


def test_a_folder_in_use_is_refused_with_the_other_pid(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        output_lock_path(out).write_text(f"{holder.pid}\n", encoding="ascii")
        result = invoke("run", CHANCELLOR, "--out", out, "--quiet")
        assert result.exit_code == 3
        assert str(out) in result.output and f"pid {holder.pid}" in result.output and "in use" in result.output
        assert not out.exists()  # nothing written
        assert output_lock_path(out).read_text(encoding="ascii").strip() == str(holder.pid)  # the lock is not ours to remove
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "out"
    output_lock_path(out).write_text(f"{_dead_pid()}\n", encoding="ascii")
    (tmp_path / f".out.partial-{_dead_pid()}").mkdir()  # a killed run's staging folder
    assert invoke("run", CHANCELLOR, "--out", out, "--quiet").exit_code == 0
    assert (out / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_lock_is_held_during_the_block_and_released_after(tmp_path):
    out = tmp_path / "out"
    with output_folder(out) as staging:
        (staging / "a.txt").write_text("x", encoding="utf-8")
        (staging / "manifest.json").write_text("{}", encoding="utf-8")
        assert output_lock_path(out).read_text(encoding="ascii").strip() == str(os.getpid())
        with pytest.raises(OutputFolderError, match="in use by another costspine run"):
            # a second holder in another process is refused; here the same process stands in for it
            with output_folder(out):
                pass
        assert not out.exists()
    assert (out / "a.txt").read_text(encoding="utf-8") == "x" and not output_lock_path(out).exists()
    with pytest.raises(RuntimeError), output_folder(out) as staging:
        (staging / "b.txt").write_text("y", encoding="utf-8")
        raise RuntimeError("failed half-way")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "manifest.json"]
    assert acquire_output_lock(out) == output_lock_path(out)  # released, so it can be taken again


def test_same_named_scenarios_side_by_side_get_distinct_folders(tmp_path):
    text = CHANCELLOR.read_text(encoding="utf-8")
    paths = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        paths.append(tmp_path / folder / "x.toml")
        paths[-1].write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert invoke("run", *paths, "--out", out, "--quiet").exit_code == 0
    subfolders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(subfolders) == 2 and subfolders[1] == subfolders[0] + "-2"
    assert distinct_folder_names(["x", "x", "x-2"]) == ["x", "x-3", "x-2"]


def test_writing_into_the_current_folder_keeps_the_user_files(tmp_path, monkeypatch):
    (tmp_path / "model.toml").write_text(CHANCELLOR.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert invoke("run", "model.toml", "--out", ".", "--quiet").exit_code == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"model.toml", "manifest.json", "results.csv"} <= names and not any(n.startswith(".") for n in names)
