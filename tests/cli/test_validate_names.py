"""``costspine validate`` refuses a parameter named like a Python keyword, naming file, key path and why."""

from __future__ import annotations

from click.testing import CliRunner

from costspine.cli.app import cli
from costspine.errors import ExitCode

SCENARIO = """
[model]
name = "kw"
[settings]
cycle_length = 1
cycle_unit = "year"
n_cycles = 2
discount_costs = 0
discount_outcomes = 0
cycle_correction = "none"
currency = "GBP"
price_year = 2020
[analysis]
effect = "qalys"
comparator = "old"
wtp = [20000]
[states]
well = { initial = 1 }
dead = { initial = 0 }
[strategies.old]
[parameters.lambda]
value = 0.1
source = "assumption"
[transitions]
well = { well = "rest", dead = "lambda" }
dead = { dead = 1 }
[outcomes.qalys]
values = { well = 1 }
"""


def test_validate_reports_a_keyword_name(tmp_path):
    path = tmp_path / "kw.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    run = CliRunner().invoke(cli, ["validate", str(path)])
    assert run.exit_code == ExitCode.INVALID_SCENARIO, run.output
    assert f"{path}: parameters.lambda" in run.output
    assert "'lambda' is a Python keyword" in run.output
