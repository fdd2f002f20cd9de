"""--root DIR (and COSTSPINE_ROOT) confines every file a scenario names (issue 20)."""

from __future__ import annotations

import os

import pytest

from costspine._files import confined_to, read_input_file, resolve_path
from costspine.errors import InputFileError

from helpers import SPINE, invoke


@pytest.fixture
def tree(tmp_path):
    """``root/`` with a model whose table is ``TABLE`` (to be filled in), and a private file outside it."""
    root = tmp_path / "root"
    (root / "models").mkdir(parents=True)
    (root / "models" / "life.csv").write_text("age,qx\n0,0.01\n100,1\n", encoding="utf-8")
    (tmp_path / "private.csv").write_text("age,qx\n0,0.02\n100,1\n", encoding="utf-8")  # a valid table, outside
    text = (SPINE / "base_case.toml").read_text(encoding="utf-8")
    assert text.count('file = "package:data/us_life_table_2023.csv"') == 1
    model = root / "models" / "model.toml"

    def write(table: str):
        model.write_text(text.replace('"package:data/us_life_table_2023.csv"', f'"{table}"'), encoding="utf-8")
        return model

    return root, write


def test_package_files_and_files_inside_the_root_are_read(tree, tmp_path):
    root, write = tree
    assert invoke("--root", root, "validate", write("package:data/us_life_table_2023.csv")).exit_code == 0
    assert invoke("--root", root, "validate", write("life.csv")).exit_code == 0


@pytest.mark.parametrize(
    "table, message",
    [
        ("ABSOLUTE", "an absolute path is not allowed"),
        ("../../private.csv", "is outside the allowed folder"),
        ("link.csv", "is outside the allowed folder"),
    ],
)
def test_paths_leading_out_of_the_root_are_refused(tree, tmp_path, table, message):
    root, write = tree
    os.symlink(tmp_path / "private.csv", root / "models" / "link.csv")
    table = str(tmp_path / "private.csv") if table == "ABSOLUTE" else table
    path = write(table)
    assert invoke("validate", path).exit_code == 0  # unconfined, the file outside is read
    result = invoke("--root", root, "validate", path)
    assert result.exit_code == 3 and message in result.output
    result = invoke("--root", root, "run", path, "--out", tmp_path / "out")
    assert result.exit_code == 3 and message in result.output and not (tmp_path / "out").exists()


def test_the_environment_variable_confines_too(tree, tmp_path, monkeypatch):
    root, write = tree
    path = write("../../private.csv")
    from click.testing import CliRunner

    from costspine.cli import cli

    result = CliRunner().invoke(cli, ["validate", str(path)], env={"COSTSPINE_ROOT": str(root)})
    assert result.exit_code == 3 and "outside the allowed folder" in result.output
    outside = tmp_path / "outside.toml"
    outside.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(outside)], env={"COSTSPINE_ROOT": str(root)})
    assert result.exit_code == 3 and "outside the allowed folder" in result.output


def test_confinement_is_scoped_to_its_block(tmp_path):
    private = tmp_path / "private.csv"
    private.write_text("x\n", encoding="utf-8")
    (tmp_path / "root").mkdir()
    with confined_to(tmp_path / "root"):
        with pytest.raises(InputFileError, match="outside the allowed folder"):
            read_input_file(private)
        with pytest.raises(InputFileError, match="absolute path"):
            resolve_path(str(private), base_dir=tmp_path)
        assert read_input_file(private, confined=False) == b"x\n"  # costspine's own files (chunks, cache)
    assert read_input_file(private) == b"x\n"
