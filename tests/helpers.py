"""Helpers shared by the test suite: bundled files, toy-scenario blocks, writing and editing files, the CLI.

Import them as ``from helpers import ...`` (tests/ is on ``sys.path`` because tests/conftest.py lives
there). Fixtures built on them (a CLI runner, the loaded Chancellor model, ...) are in tests/conftest.py.
"""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "scenarios" / "examples"
SPINE = ROOT / "scenarios" / "spine"
CHANCELLOR = EXAMPLES / "hiv_chancellor.toml"
"""The HIV model of Chancellor et al. (1997), the golden cohort model."""
SICK_SICKER = EXAMPLES / "sick_sicker.toml"
"""The Sick-Sicker microsimulation example."""
TOY_SCENARIOS = Path(__file__).resolve().parent / "scenarios"
RICH_MICROSIM = TOY_SCENARIOS / "microsim_rich.toml"
"""A microsimulation toy using every kernel feature at once (attributes, history, entry costs, ...)."""


def settings_toml(
    n_cycles=1,
    *,
    cycle_length=1,
    cycle_unit="year",
    discount_costs=0.0,
    discount_outcomes=0.0,
    cycle_correction="none",
    currency="USD",
    price_year=2025,
) -> str:
    """The ``[settings]`` block of a toy scenario; values are written as given (``str``)."""
    return f'''
[settings]
cycle_length = {cycle_length}
cycle_unit = "{cycle_unit}"
n_cycles = {n_cycles}
discount_costs = {discount_costs}
discount_outcomes = {discount_outcomes}
cycle_correction = "{cycle_correction}"
currency = "{currency}"
price_year = {price_year}
'''


def analysis_toml(*, effect="qalys", comparator="a", wtp=(1000,)) -> str:
    """The ``[analysis]`` block of a toy scenario."""
    return f'''
[analysis]
effect = "{effect}"
comparator = "{comparator}"
wtp = [{", ".join(str(w) for w in wtp)}]
'''


# The toy pathway model: annual cycles, end-of-cycle counting. An episode starts in `start`, spends
# cycle 1 in `y1` and cycle 2 in `y2`, then is `done`. Usual care costs c_y1 (100) in its first year
# after entry and 50 in its second; ICE costs 300 and then 0. Shared by the budget-impact
# tests (unit/test_bia_model.py, cli/test_bia_cli.py), each adding its own parameters and rewards.

PATHWAY = (
    """
[model]
name = "toy"
title = "Toy pathway"
"""
    + settings_toml(2, discount_costs=0.03, discount_outcomes=0.03)
    + analysis_toml(comparator="usual_care", wtp=[100000])
    + """
[states]
start = { initial = 1 }
y1 = { initial = 0 }
y2 = { initial = 0 }
done = { initial = 0 }

[strategies.usual_care]
[strategies.ice]

[parameters.c_y1]
value = 100
distribution = "gamma"
mean = 100
sd = @SD@
source = "assumption"
@PARAMETERS@
[transitions]
start = { y1 = 1 }
y1 = { y2 = 1 }
y2 = { done = 1 }
done = { done = 1 }

[costs.care]
category = "imaging"
values = { y1 = "c_y1", y2 = @C_Y2@ }

[strategies.ice.costs.care]
category = "imaging"
values = { y1 = 300 }
@REWARDS@
[outcomes.qalys]
values = { y1 = 0.7, y2 = 0.8, done = 0.9 }
"""
)


def pathway_toml(*, sd, c_y2="50", parameters="", rewards="") -> str:
    """The toy pathway model with the gamma sd of ``c_y1``, the second-year cost (a number or an
    expression), and extra TOML after the ``c_y1`` parameter and after the ICE cost override."""
    return (
        PATHWAY.replace("@SD@", str(sd)).replace("@C_Y2@", c_y2).replace("@PARAMETERS@", parameters).replace("@REWARDS@", rewards)
    )


def write(folder: Path, text: str, name: str = "scenario.toml") -> Path:
    """Write ``text`` (dedented) to ``folder/name``, creating folders; returns the path."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def edit(old: str, new: str, text: str) -> str:
    """``text`` with ``old`` replaced by ``new``; ``old`` must occur exactly once (a guard on the test itself)."""
    assert text.count(old) == 1, f"test setup: {old!r} must occur exactly once"
    return text.replace(old, new)


def invoke(*args):
    """Run ``costspine ARGS...`` in-process (click's CliRunner); a crash with a traceback fails the test."""
    from click.testing import CliRunner

    from costspine.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output, result.output
    return result


def read_csv(path) -> list[dict]:
    """Rows of a CSV file as dictionaries keyed by the header."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
