"""Bad input and faults through the CLI: one line per problem, the right exit code, never a traceback.

Exit codes: 2 options, 3 files, 1 analysis, 130 Ctrl-C. Special files (FIFOs, devices) are refused
before reading; messages never echo a data file's content; CSV outputs neutralise formula-like text.
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CHANCELLOR, ROOT, SPINE, analysis_toml, invoke, read_csv, settings_toml, write

SECRET = "TOKEN=s3cr3t-do-not-print"


def _child(folder, body: str, *, parent=CHANCELLOR, name="scenario.toml"):
    """A scenario extending ``parent`` with ``body`` appended."""
    return write(folder, f'extends = "{parent}"\n' + body, name)


def _fails(result, code: int, *fragments):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and SECRET not in result.output, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    return result


# ------------------------------------------------------------------------------ recursion


def test_toml_nested_a_thousand_deep_is_one_problem(tmp_path):
    path = write(tmp_path, "a = " + "[" * 1000 + "]" * 1000 + "\n")
    # tomllib either gives up (RecursionError, caught) or parses it and the nesting check refuses it
    result = _fails(invoke("validate", path), 3, f"{path}: ")
    assert "nested too deeply" in result.output or "nested 1001 levels deep; at most 32" in result.output
    shallow = write(tmp_path, "[model]\n" + ".".join(["x"] * 500) + " = 1\n", "dotted.toml")
    _fails(invoke("run", shallow), 3, "nested 501 levels deep; at most 32")


def _chain_scenario(folder, n: int) -> Path:
    """``n`` derived parameters, each using the next one declared after it (the worst order for a recursive sort)."""
    params = [f'[parameters.p{i}]\nvalue = "p{i - 1} * 1"\nsource = "test"\n' for i in range(n - 1, 0, -1)]
    params.append('[parameters.p0]\nvalue = 0.1\nsource = "test"\n')
    return write(
        folder,
        '[model]\nname = "chain"\n'
        + settings_toml(2)
        + analysis_toml()
        + f"""
[states.well]
initial = 1
[states.dead]
initial = 0
[strategies.a]
[strategies.b]
[transitions.well]
dead = "p{n - 1}"
well = "rest"
[transitions.dead]
dead = 1
[outcomes.qalys]
values = {{ well = 1 }}
[costs.c]
category = "x"
values = {{ well = 1 }}
"""
        + "".join(params),
    )


def test_990_chained_derived_parameters_run(tmp_path):
    path = _chain_scenario(tmp_path, 990)
    assert invoke("validate", path).exit_code == 0
    result = invoke("run", path, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 0, result.output
    assert float(read_csv(tmp_path / "out" / "results.csv")[0]["qalys"]) > 0


# ------------------------------------------------------------------------------ files


def test_a_symlink_loop_as_scenario_or_extends_is_a_file_problem(tmp_path):
    os.symlink(tmp_path / "b.toml", tmp_path / "a.toml")
    os.symlink(tmp_path / "a.toml", tmp_path / "b.toml")
    for command in ("validate", "run"):
        _fails(invoke(command, tmp_path / "a.toml"), 3, f"{tmp_path / 'a.toml'}: symlinks form a loop")
    child = write(tmp_path, 'extends = "a.toml"\n', "child.toml")
    _fails(invoke("run", child), 3, "symlinks form a loop")


def test_a_folder_where_a_file_is_expected(tmp_path):
    (tmp_path / "folder").mkdir()
    _fails(invoke("run", _child(tmp_path, "", parent=tmp_path / "folder")), 3, "folder: is a folder; expected a file")
    table = _child(tmp_path, '[tables.t]\nfile = "folder"\nx = "a"\ny = "b"\n', name="t.toml")
    _fails(invoke("validate", table), 3, "tables.t.file: cannot read", "is a folder")
    _fails(invoke("run", tmp_path / "folder"), 2, "is a directory")  # the command line itself: a usage error


def _table_child(folder, text: str, name="table.toml"):
    (folder / "t.csv").write_text(text, encoding="utf-8")
    return _child(folder, '[tables.t]\nfile = "t.csv"\nx = "age"\ny = "qx"\n', name=name)


def test_a_ragged_or_bad_csv_table_names_the_row_not_the_content(tmp_path):
    _fails(invoke("validate", _table_child(tmp_path, "age,qx\n1,0.1\n2\n")), 3, "row 3 has 1 fields; the header has 2")
    _fails(invoke("validate", _table_child(tmp_path, f"age,qx\n1,0.1\n2,{SECRET}\n")), 3, "row 3: 'age' and 'qx' must be numbers")
    _fails(
        invoke("validate", _table_child(tmp_path, f"{SECRET}:x:0:0\n1\n")),
        3,
        "no column 'age', 'qx' in the header row; found a first row of 1 field(s) that are not column names",
    )


def test_a_private_file_as_catalogue_or_table_is_never_echoed(tmp_path):
    private = tmp_path / "private"
    private.write_text(f"{SECRET}:x:0:0:root:/root:/bin/bash\nsecond,line\n", encoding="utf-8")
    catalogue = _child(tmp_path, f'[unit_costs]\ncatalogue = "{private}"\n', parent=SPINE / "base_case.toml", name="cat.toml")
    _fails(invoke("validate", catalogue), 3, f"{private}:1: expected the columns item,")
    table = _child(tmp_path, f'[tables.t]\nfile = "{private}"\nx = "age"\ny = "qx"\n', name="table.toml")
    _fails(invoke("validate", table), 3, "no column 'age', 'qx'")
    if Path("/etc/passwd").is_file():
        first_line = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()[0]
        passwd = _child(tmp_path, '[unit_costs]\ncatalogue = "/etc/passwd"\n', parent=SPINE / "base_case.toml", name="pw.toml")
        result = _fails(invoke("validate", passwd), 3, "/etc/passwd:1: expected the columns")
        assert first_line not in result.output


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "fifo"])
def test_special_files_are_refused_before_reading(tmp_path, special):
    """A device or FIFO as scenario, extends target, table or catalogue: refused at once (a read would hang or fill memory)."""
    if special == "fifo":
        special = tmp_path / "pipe"
        os.mkfifo(special)
    if not Path(special).exists():
        pytest.skip(f"{special} is not available here")
    scenario = _child(tmp_path, "", parent=special, name="extends.toml")
    table = _child(tmp_path, f'[tables.t]\nfile = "{special}"\nx = "a"\ny = "b"\n', name="table.toml")
    catalogue = _child(tmp_path, f'[unit_costs]\ncatalogue = "{special}"\n', parent=SPINE / "base_case.toml", name="cat.toml")
    paths = [special, scenario, table, catalogue]
    # in a subprocess (one for the four paths), so that a regression (a read that blocks) fails the
    # test instead of hanging the suite
    code = (
        "import json, sys\nfrom click.testing import CliRunner\nfrom costspine.cli import cli\n"
        "print(json.dumps([(p, (r := CliRunner().invoke(cli, ['validate', p])).exit_code, r.output) for p in sys.argv[1:]]))"
    )
    done = subprocess.run([sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done
    validated = json.loads(done.stdout)
    assert [path for path, _, _ in validated] == [str(p) for p in paths]
    for path, exit_code, output in validated:
        assert exit_code == 3 and "not a regular file" in output and "Traceback" not in output, (path, output)


def test_size_limits_are_checked_before_reading(tmp_path):
    from costspine._files import MAX_TOML_BYTES, read_input_file
    from costspine.errors import InputFileError

    big = tmp_path / "big.toml"
    with open(big, "wb") as handle:
        handle.truncate(MAX_TOML_BYTES + 1)  # sparse: nothing is written
    _fails(
        invoke("validate", big),
        3,
        f"is {MAX_TOML_BYTES + 1:,} bytes; the limit for this kind of file is {MAX_TOML_BYTES:,} bytes",
    )
    small = tmp_path / "small.csv"
    small.write_text("a,b\n1,2\n", encoding="utf-8")
    assert read_input_file(small, max_bytes=8) == b"a,b\n1,2\n"
    with pytest.raises(InputFileError, match="is 8 bytes; the limit for this kind of file is 7 bytes"):
        read_input_file(small, max_bytes=7)


def test_a_huge_integer_in_budget_impact_is_one_problem(tmp_path):
    parent = SPINE / "bia_commercial_plan.toml"
    big = "9" * 400
    for key, fragment in (
        ("members", "expected a finite number, got an integer of 400 digits"),
        ("years", "expected a finite number, got an integer of 400 digits"),
    ):
        path = _child(tmp_path, f"[budget_impact]\n{key} = {big}\n", parent=parent, name=f"{key}.toml")
        _fails(invoke("bia", path, "--out", tmp_path / "o"), 3, f"budget_impact.{key}: {fragment}")
    path = _child(tmp_path, "[budget_impact]\nmembers = 1e308\n", parent=parent, name="float.toml")
    _fails(invoke("bia", path, "--out", tmp_path / "o"), 3, "budget_impact.members: must be in (0, 1e+10]; got 1e+308")
    _fails(invoke("bia", parent, "--members", "1e308"), 2, "--members")


def test_a_truncated_chunk_in_resume_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    import costspine.analysis.psa as sampling

    out = tmp_path / "psa"
    real = sampling.compute_chunk

    def interrupted(*args, **kwargs):  # Ctrl-C as chunk 2 starts: chunks 0 and 1 are saved
        if kwargs["chunk"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(sampling, "compute_chunk", interrupted)
        assert invoke("psa", CHANCELLOR, "--draws", 2500, "--out", out, "--quiet").exit_code == 130
    chunk = out / "chunks" / "chunk-000001.npz"
    data = chunk.read_bytes()
    chunk.write_bytes(data[: len(data) // 2])
    _fails(
        invoke("psa", CHANCELLOR, "--draws", 2500, "--out", out, "--resume", "--quiet"),
        1,
        f"{chunk}: cannot read this saved chunk (truncated or corrupt",
        "delete it and rerun with --resume",
    )
    chunk.unlink()
    assert invoke("psa", CHANCELLOR, "--draws", 2500, "--out", out, "--resume", "--quiet").exit_code == 0


# ------------------------------------------------------------------------------ faults


def test_ctrl_c_exits_130(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("costspine.cli.run.run_command", interrupted)
    result = invoke("run", CHANCELLOR, "--out", tmp_path)
    assert result.exit_code == 130 and "Interrupted." in result.output


def test_an_internal_error_prints_one_line_and_saves_the_traceback(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise TypeError(f"unsupported operand ({SECRET})")

    monkeypatch.setattr("costspine.cli.run.run_command", broken)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    result = _fails(invoke("run", CHANCELLOR, "--out", tmp_path / "o"), 1, "Error: internal error (TypeError)")
    (line,) = result.output.strip().splitlines()
    (saved,) = tmp_path.glob("costspine-traceback-*.txt")
    assert str(saved) in line
    text = saved.read_text(encoding="utf-8")
    assert "Traceback" in text and "TypeError" in text and SECRET in text  # the file keeps the details


# ------------------------------------------------------------------------------ CSV injection

PAYLOADS = [
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd",
    "\t=1+1",
    "\r=1+1",
]


def test_write_csv_neutralises_formula_like_text_and_keeps_numbers(tmp_path):
    from costspine._files import write_csv

    path = write_csv(tmp_path / "x.csv", ["name", "value"], [[p, -1.5] for p in PAYLOADS] + [["-1.5", 2], ["ok", 3]])
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [r[0] for r in rows[: len(PAYLOADS)]] == ["'" + p for p in PAYLOADS]
    assert [r[1] for r in rows] == ["-1.5"] * len(PAYLOADS) + ["2", "3"]  # numbers stay numbers
    assert rows[-2][0] == "-1.5" and rows[-1][0] == "ok"  # a number written as text is not a formula


def test_run_parameters_csv_neutralises_a_formula_in_a_source(tmp_path):
    payload = PAYLOADS[0]
    text = (
        Path(CHANCELLOR)
        .read_text(encoding="utf-8")
        .replace(
            'source = "Relative risk of progression, combination vs monotherapy, 0.509 (95% CI 0.365-0.710); Chancellor 1997"',
            f"source = '{payload}'",
        )
    )
    assert payload in text
    path = tmp_path / "evil.toml"
    path.write_text(text, encoding="utf-8")
    result = invoke("run", path, "--out", tmp_path / "o", "--quiet")
    assert result.exit_code == 0, result.output
    cells = [cell for row in csv.reader(open(tmp_path / "o" / "parameters.csv", newline="", encoding="utf-8")) for cell in row]
    assert "'" + payload in cells and payload not in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_a_file_the_system_refuses_is_named_with_exit_3(tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "o" / "results.csv"))

    monkeypatch.setattr("costspine.cli.run.run_command", full_disk)
    result = _fails(invoke("run", CHANCELLOR, "--out", tmp_path / "o"), 3)
    assert result.output.strip() == f"Error: {tmp_path / 'o' / 'results.csv'}: No space left on device"


def test_a_closed_output_pipe_ends_quietly_with_141():
    """``costspine ... | head``: the reader closing the pipe is not an internal error."""
    import subprocess
    import sys

    code = (
        "from costspine.cli.options import friendly\n"
        "@friendly\n"
        "def command():\n"
        "    raise BrokenPipeError(32, 'Broken pipe')\n"
        "command()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 141
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
