"""Fuzz the command line with mutated bundled scenarios, special files and resource bombs.

Seeded (the same cases every run) and bounded: at most ``CASES`` cases, and the loop stops early
after ``BUDGET_SECONDS`` (a bound on the suite's time, not an assertion). Each case runs
``costspine validate`` in-process; the property: an exit code in {0, 1, 2, 3}, no traceback, no
"internal error", and no line of a private file echoed.
"""

from __future__ import annotations

import os
import random
import time

from click.testing import CliRunner

from costspine.cli import cli

from helpers import EXAMPLES, ROOT, SPINE

CASES = 150
BUDGET_SECONDS = 60.0
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
        kind = rng.randrange(9)
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
        else:
            lines.insert(i, "\x00\x01\ufeff" * rng.randint(1, 3))
    return "\n".join(lines) + "\n"


def test_mutated_scenarios_and_special_files_never_give_a_traceback(tmp_path):
    rng = random.Random(SEED)
    specials = _specials(tmp_path)
    texts = _bundled()
    runner = CliRunner()
    started, findings, done = time.monotonic(), [], 0
    for case in range(CASES):
        if time.monotonic() - started > BUDGET_SECONDS:
            break
        path = tmp_path / f"case_{case:03d}.toml"
        path.write_text(_mutate(rng.choice(texts), rng, specials), encoding="utf-8", errors="surrogatepass")
        result = runner.invoke(cli, ["validate", str(path)])
        done += 1
        output = result.output
        if (
            result.exit_code not in (0, 1, 2, 3)
            or "Traceback" in output
            or "internal error" in output
            or SECRET in output
            or (result.exception is not None and not isinstance(result.exception, SystemExit))
        ):
            findings.append((path.name, result.exit_code, repr(result.exception), output[-500:]))
    assert done >= 10  # the budget allows far more; fewer means the cases themselves hang
    assert not findings, findings[:3]
