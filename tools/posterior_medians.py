"""Set the base case (deterministic values) of a calibrated scenario to its posterior medians.

Usage::

    python tools/posterior_medians.py scenarios/spine/base_case_bayes.toml           # compare
    python tools/posterior_medians.py scenarios/spine/base_case_bayes.toml --write   # ... and write

A scenario that takes parameters from a calibration (``distribution = "posterior"``) runs its
deterministic base case at each parameter's ``value``; its PSA draws whole posterior rows. So
that the base case is the centre of what the PSA samples, ``value`` must be the posterior median.
This tool reads the posterior the PSA uses (:func:`costspine.bayes.posterior.load_posterior_pools`:
the validated cache, or a fresh fit with the evidence file's sampler settings when there is no
valid cache, exactly as ``costspine psa`` does), takes the median of every calibrated parameter
and compares it with the scenario file's ``value`` (6 significant digits). With ``--write`` it
rewrites the ``value`` line of each ``[parameters.<name>]`` table of the file, and appends a
``distribution = "posterior"`` table for a calibrated parameter the file inherits from its parent
(the calibration samples it, so its base case is the posterior median too).

Without ``--write`` the script exits with status 1 when a value differs from the median (so it
doubles as a check that the file is up to date). Parameters held at the calibration's values are
not touched: their base case is already the value the calibration used.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np

DIGITS = 6
"""Significant digits written: the medians of 2,000 posterior draws are not known better than this."""


def format_value(value: float) -> str:
    return format(float(value), f".{DIGITS}g")


def posterior_medians(scenario, *, progress=None) -> dict[str, tuple[str, float]]:
    """``{parameter: (evidence file, posterior median)}`` for every calibrated parameter of ``scenario``."""
    from costspine.bayes.posterior import load_posterior_pools

    pools, _ = load_posterior_pools(scenario, progress=progress)
    out = {}
    for pool in pools:
        held = set(pool["held"])
        for name, values in pool["parameters"].items():
            if name not in held:
                out[name] = (pool["evidence"], float(np.median(values)))
    return out


TABLE = re.compile(r"^\s*\[parameters\.([A-Za-z_][A-Za-z0-9_]*)\]\s*(#.*)?$")
HEADER = re.compile(r"^\s*\[")
VALUE = re.compile(r"^(\s*value\s*=\s*)([^#\n]*?)(\s*(#.*)?)$")


def set_values(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """Rewrite the ``value = ...`` line of each ``[parameters.<name>]`` table named in ``values``.

    Returns the new text and the names that have no such table (or no ``value`` line) in ``text``.

    Examples
    --------
    >>> set_values('[parameters.a]\\nvalue = 1  # old\\nsource = "x"\\n', {"a": "2.5", "b": "3"})
    ('[parameters.a]\\nvalue = 2.5  # old\\nsource = "x"\\n', ['b'])
    """
    lines = text.splitlines(keepends=True)
    current, done = None, set()
    for i, line in enumerate(lines):
        table = TABLE.match(line)
        if table:
            current = table.group(1)
            continue
        if HEADER.match(line):
            current = None
            continue
        if current in values and current not in done:
            m = VALUE.match(line.rstrip("\n"))
            if m:
                lines[i] = m.group(1) + values[current] + m.group(3) + ("\n" if line.endswith("\n") else "")
                done.add(current)
    return "".join(lines), [name for name in values if name not in done]


def posterior_table(name: str, evidence_file: str, value: str) -> str:
    return (
        f"\n[parameters.{name}]\n"
        'distribution = "posterior"\n'
        f'file = "{evidence_file}"\n'
        f'variable = "{name}"\n'
        f"value = {value}\n"
        'source = "posterior of the SPINE CARE calibration (costspine fit), which samples it jointly with the arm effects; '
        'base case: the posterior median (tools/posterior_medians.py)"\n'
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--write", action="store_true", help="write the medians into the scenario file")
    args = parser.parse_args(argv)

    from costspine._files import write_atomic
    from costspine.errors import CostspineError
    from costspine.scenario.load import load_scenario

    try:
        scenario = load_scenario(args.scenario)
        medians = posterior_medians(scenario, progress=lambda line: print(line, file=sys.stderr))
    except CostspineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not medians:
        print(f"{args.scenario}: no posterior parameters; nothing to do")
        return 0
    specs = {spec.name: spec for spec in scenario.parameters}
    differ = []
    print(f"{'parameter':32} {'file value':>12} {'posterior median':>17}")
    for name, (_, median) in medians.items():
        spec = specs.get(name)
        current = spec.value if spec is not None and isinstance(spec.value, (int, float)) else None
        wanted = float(format_value(median))
        same = current is not None and float(format_value(current)) == wanted
        shown = "—" if current is None else format_value(current)
        print(f"{name:32} {shown:>12} {format_value(median):>17}{'' if same else '  differs'}")
        if not same:
            differ.append(name)
    if not args.write:
        return 1 if differ else 0
    text = args.scenario.read_text(encoding="utf-8")
    text, missing = set_values(text, {name: format_value(m) for name, (_, m) in medians.items()})
    folder = args.scenario.resolve().parent
    for name in missing:
        text = (
            text.rstrip("\n")
            + "\n"
            + posterior_table(name, _relative(Path(medians[name][0]), folder), format_value(medians[name][1]))
        )
    write_atomic(args.scenario, text)
    print(f"wrote {len(medians)} base-case values ({len(missing)} new posterior tables) into {args.scenario}")
    return 0


def _relative(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path, folder)).as_posix()


if __name__ == "__main__":
    sys.exit(main())
