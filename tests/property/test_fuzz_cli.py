"""Fuzz the command line with mutated bundled scenarios, special files, resource bombs and concurrency.

Seeded (the same cases every run) and bounded: at most ``CASES`` cases, and the loop stops early
after ``BUDGET_SECONDS`` (a bound on the suite's time, not an assertion); each command is stopped
after ``HANG_SECONDS`` (a hang is a finding). Each case runs ``costspine validate`` in-process on a
mutated file (or a special file as the scenario, or an option bomb); the properties: an exit code in
{0, 1, 2, 3, 130}, no traceback, no "internal error", no line of a private file echoed, no hang,
bounded memory, and **validate parity**: a file ``validate`` accepts, ``run`` accepts too (exit 0,
no input error), writing nothing outside its ``--out``. The default suite runs ``CASES`` cases
(``RUN_CASES`` of them through ``run``); ``test_fuzz_at_scale`` (marked slow) runs more.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import resource
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from costspine.cli import cli

from helpers import EXAMPLES, ROOT, SPINE

CASES = 150
RUN_CASES = 30
BUDGET_SECONDS = 60.0
HANG_SECONDS = 60
EXIT_CODES = (0, 1, 2, 3, 130)
MAX_MEMORY_GROWTH = 2 * 1024**3  # bytes of resident memory the whole fuzz run may add
RUN_MAX_CYCLES = 1000  # longer horizons are valid but their per-cycle reports take minutes (about 6 ms a cycle)
SEED = 20261204
SECRET = "TOKEN=fuzz-secret-value"


def _bundled() -> list[str]:
    """Bundled scenarios with their relative references made absolute (the mutants live in tmp_path)."""
    texts = []
    for path in [*sorted(SPINE.glob("*.toml")), *sorted(EXAMPLES.glob("*.toml"))]:
        text = path.read_text(encoding="utf-8")
        text = text.replace('"../../costspine/data/', f'"{ROOT / "costspine" / "data"}/')
        text = text.replace('extends = "', f'extends = "{path.parent}/')
        texts.append(text)
    return texts


def _specials(folder) -> list[str]:
    private = folder / "private.txt"
    private.write_text(f"{SECRET}:x:0:0\nmore,{SECRET}\n", encoding="utf-8")
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    (folder / "dir").mkdir()
    os.symlink(folder / "loop_b", folder / "loop_a")
    os.symlink(folder / "loop_a", folder / "loop_b")
    return [str(p) for p in (private, fifo, folder / "dir", folder / "loop_a", folder / "missing")] + [
        "/dev/zero",
        "/dev/urandom",
    ]


def _mutate(text: str, rng: random.Random, specials: list[str]) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        kind = rng.randrange(11)
        if kind == 0:
            del lines[i]
        elif kind == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif kind == 2:  # a value replaced by a bomb
            key = lines[i].split("=")[0].strip() or "x"
            bomb = rng.choice(
                [
                    "9" * 500,
                    "1e999",
                    "-1e308",
                    "nan",
                    "inf",
                    '"' + "(" * 300 + "1" + ")" * 300 + '"',
                    "[" * 600 + "]" * 600,
                    '"p_ＡＢ"',
                    '"ﬁx"',
                    "100000",
                    "-1",
                    "0",
                ]
            )
            lines[i] = f"{key} = {bomb}"
        elif kind == 3:  # a file reference pointed at a special file
            lines.insert(
                i,
                rng.choice(["extends", "[unit_costs]\ncatalogue", '[tables.t]\nx = "a"\ny = "b"\nfile'])
                + f' = "{rng.choice(specials)}"',
            )
        elif kind == 4:  # a character dropped or doubled
            line = lines[i]
            if line:
                j = rng.randrange(len(line))
                lines[i] = line[:j] + (line[j] * 2 if rng.random() < 0.5 else "") + line[j + 1 :]
        elif kind == 5:
            lines[i] = lines[i].replace("=", "= =", 1)
        elif kind == 6:
            lines.insert(i, "[" + ".".join(["x"] * rng.randint(1, 200)) + "]")
        elif kind == 7:
            lines[i] = lines[i].replace('"', "", 1)
        elif kind == 8:
            lines.insert(i, "\x00\x01\ufeff" * rng.randint(1, 3))
        elif kind == 9:  # resource bombs: very many states, the longest horizon, look-alike names
            lines.append(
                rng.choice(
                    [
                        "[states]\n" + "\n".join(f"s{k} = {{ initial = 0 }}" for k in range(rng.choice([50, 2500]))),
                        "[settings]\nn_cycles = 100000",
                        '[states]\n"ｗell" = { initial = 0 }',
                        '[parameters.ﬁx]\nvalue = 1\nsource = "assumption"',
                    ]
                )
            )
        else:  # a row nudged off 1 within (or beyond) the tolerance
            lines[i] = lines[i].replace("0.", rng.choice(["0.0000004+0.", "1e-3+0."]), 1)
    return "\n".join(lines) + "\n"


class Hang(BaseException):  # not an Exception: the error funnel must not catch it
    """A command ran longer than HANG_SECONDS."""


@contextlib.contextmanager
def _deadline(seconds: int):
    def alarm(signum, frame):
        raise Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _invoke(runner, args) -> tuple[int | str, str, BaseException | None]:
    """``(exit code or "hang", output, unexpected exception)`` of ``costspine ARGS``."""
    try:
        with _deadline(HANG_SECONDS):
            result = runner.invoke(cli, [str(a) for a in args])
    except Hang:
        return "hang", "", None
    unexpected = result.exception if result.exception is not None and not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.output, unexpected


def _is_bad(code, output, unexpected) -> bool:
    return (
        code not in EXIT_CODES
        or "Traceback" in output
        or "internal error" in output
        or SECRET in output
        or unexpected is not None
    )


def _listing(folder, *, skip) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if skip not in p.relative_to(folder).parts}


def _option_bombs(scenario: str, out, private: str) -> list[list[str]]:
    return [
        ["psa", scenario, "--draws", str(10**9), "--out", out],
        ["run", scenario, "--method", "microsim", "--individuals", str(10**12), "--out", out],
        ["bia", scenario, "--draws", str(10**12), "--out", out],
        ["--max-memory", "1MiB", "psa", scenario, "--draws", "100000", "--out", out],
        ["--max-memory", "1e99", "run", scenario, "--out", out],
        # a file outside the root (the bundled scenarios themselves are allowed, as package: files)
        ["--root", os.path.join(os.path.dirname(os.path.dirname(out)), "dir"), "validate", private],
    ]


def _parity_commands(text: str, ran: int) -> list[list[str]]:
    """The commands a file ``validate`` accepted must pass: ``run``; ``bia`` when it has a budget
    impact section; every fourth case a small ``psa`` (not with a posterior: that would fit one)."""
    commands = [["run"]]
    if re.search(r"^\[budget_impact", text, re.MULTILINE):
        commands.append(["bia"])
    if ran % 4 == 1 and 'distribution = "posterior"' not in text:
        commands.append(["psa", "--draws", "20"])
    return commands


def _n_cycles(path) -> int:
    from costspine.scenario.load import load_scenario

    return load_scenario(path).settings.n_cycles


def fuzz(tmp_path, *, cases: int, run_cases: int, budget_seconds: float, seed: int = SEED):
    """Run the seeded cases; return ``(cases done, cases also run, findings)``."""
    rng = random.Random(seed)
    specials = _specials(tmp_path)
    texts = _bundled()
    runner = CliRunner()
    outs = tmp_path / "outs"
    started, findings, done, ran = time.monotonic(), [], 0, 0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    bombs = _option_bombs(str(SPINE / "base_case.toml"), outs / "bomb", specials[0])
    for case in range(cases):
        if time.monotonic() - started > budget_seconds:
            break
        done += 1
        if case < len(bombs):  # option bombs: refused at once, nothing written
            code, output, unexpected = _invoke(runner, bombs[case])
            if _is_bad(code, output, unexpected) or code not in (2, 3) or (outs / "bomb").exists():
                findings.append((f"bomb {case}", code, repr(unexpected), output[-500:]))
            continue
        if case % 25 == 1:  # a special file as the scenario itself
            path = rng.choice(specials)
        else:
            path = tmp_path / f"case_{case:03d}.toml"
            path.write_text(_mutate(rng.choice(texts), rng, specials), encoding="utf-8", errors="surrogatepass")
        code, output, unexpected = _invoke(runner, ["--max-memory", "1GiB", "validate", path])
        if _is_bad(code, output, unexpected):
            findings.append((os.path.basename(path), code, repr(unexpected), output[-500:]))
            continue
        if code != 0 or ran >= run_cases or _n_cycles(path) > RUN_MAX_CYCLES:
            continue
        ran += 1  # validate parity: what validate accepts, run (bia, psa) accept, writing only under --out
        text = open(path, encoding="utf-8", errors="replace").read()
        for command in _parity_commands(text, ran):
            before = _listing(tmp_path, skip="outs")
            out = outs / f"case_{case:03d}_{command[0]}"
            code, output, unexpected = _invoke(runner, ["--max-memory", "1GiB", *command, path, "--out", out, "--quiet"])
            after = _listing(tmp_path, skip="outs")
            # a PSA may meet draws the base case does not (exit 1, "in PSA draws"); nothing else may fail
            accepted = code == 0 or (command[0] == "psa" and code == 1 and "in PSA draws" in output)
            if (
                _is_bad(code, output, unexpected)
                or not accepted
                or after != before
                or (code == 0) != (out / "manifest.json").is_file()
            ):
                findings.append(
                    (f"{command[0]} {os.path.basename(path)}", code, repr(unexpected), output[-500:], sorted(after ^ before))
                )
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    if growth > MAX_MEMORY_GROWTH:
        findings.append(("memory", f"resident memory grew by {growth / 1024**3:.1f} GiB"))
    return done, ran, findings


@pytest.mark.slow
def test_mutated_scenarios_and_special_files_never_give_a_traceback(tmp_path):
    done, ran, findings = fuzz(tmp_path, cases=CASES, run_cases=RUN_CASES, budget_seconds=BUDGET_SECONDS)
    assert done >= 10 and ran >= 1  # the budget allows far more; fewer means the cases themselves hang
    assert not findings, findings[:3]


@pytest.mark.slow
def test_fuzz_at_scale(tmp_path):
    done, ran, findings = fuzz(tmp_path, cases=1500, run_cases=300, budget_seconds=1200.0, seed=SEED + 1)
    assert done >= 100 and ran >= 10
    assert not findings, findings[:5]


def test_two_runs_into_one_folder_never_mix(tmp_path):
    """Two processes run into one ``--out`` at once: each finishes or is refused (exit 3, naming the
    other process); the folder ends complete — one run's files, its manifest listing exactly them."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "costspine.cli", "run", str(SPINE / "base_case.toml"), "--out", str(out), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stderr.close()
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 3]), results
    for code, err in results:
        assert "Traceback" not in err
        if code == 3:
            assert f"{out}: the output folder is in use by another costspine run (pid " in err
    import json

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    written = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert written == set(manifest["outputs"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder or lock left
