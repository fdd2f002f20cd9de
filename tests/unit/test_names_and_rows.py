"""Names are what they look like, and rows within tolerance sum to 1 exactly (issue 20).

Identifiers are ASCII only: Python folds non-ASCII identifiers with NFKC, so the ligature ``ﬁx``
would mean ``fix`` and the full-width ``p_ＡＢ`` would mean ``p_AB``. Transition rows summing to 1
within :data:`costspine.model.checks.ROW_SUM_TOLERANCE` are renormalised, so the cohort's mass
stays 1 over the longest horizon.
"""

from __future__ import annotations

import numpy as np
import pytest

from costspine.errors import ScenarioError
from costspine.expressions import ExpressionError, parse_expression
from costspine.model.checks import ROW_SUM_TOLERANCE, normalize_rows
from costspine.scenario.load import load_scenario
from costspine.scenario.settings import MAX_CYCLES
from costspine.simulate.cohort import run_cohort

from helpers import analysis_toml, invoke, settings_toml, write


def _two_state(*, n_cycles=1, well="{ well = 0.9, sick = 0.1 }", names="", expression="0.5") -> str:
    return (
        '[model]\nname = "two"\n'
        + settings_toml(n_cycles, cycle_unit="month")
        + analysis_toml()
        + f"""
[states]
well = {{ initial = 1 }}
sick = {{ initial = 0 }}
{names}
[strategies.a]

[parameters.fix]
value = 0.5
source = "assumption"

[transitions]
well = {well}
sick = {{ well = 0.2, sick = "rest" }}

[outcomes.qalys]
values = {{ well = 1, sick = {expression} }}
"""
    )


@pytest.mark.parametrize("text", ["ﬁx", "p_ＡＢ + 1", "fix * ½"])
def test_non_ascii_expressions_are_refused(text):
    with pytest.raises(ExpressionError, match="must be ASCII"):
        parse_expression(text)


def test_a_look_alike_name_in_an_expression_is_reported_not_folded(tmp_path):
    assert load_scenario(write(tmp_path, _two_state(expression='"fix"'), "plain.toml"))
    with pytest.raises(ScenarioError, match=r"non-ASCII character 'ﬁ' \(U\+FB01\)"):
        load_scenario(write(tmp_path, _two_state(expression='"ﬁx"'), "ligature.toml"))


def test_non_ascii_names_are_refused_with_their_folded_form(tmp_path):
    path = write(tmp_path, _two_state(names='"ｗell" = { initial = 0 }'))
    result = invoke("validate", path)
    assert result.exit_code == 3
    assert "'ｗell' is not ASCII" in result.output and "as 'well'" in result.output


def test_rows_within_tolerance_are_renormalised_and_the_mass_stays_one(tmp_path):
    # rows summing to 1 + 4e-7 and 1 + 3e-7 (inside the tolerance): unrenormalised, the cohort
    # would grow by ~(1 + 3.5e-7) ** 100000 ≈ 1.036 over the longest horizon
    assert 4e-7 < ROW_SUM_TOLERANCE
    text = _two_state(n_cycles=MAX_CYCLES, well="{ well = 0.9000004, sick = 0.1 }").replace(
        'sick = { well = 0.2, sick = "rest" }', "sick = { well = 0.2, sick = 0.8000003 }"
    )
    result = run_cohort(load_scenario(write(tmp_path, text)))
    mass = result.trace.sum(axis=-1)
    assert mass.shape[-1] == MAX_CYCLES + 1
    assert np.abs(mass - 1).max() <= 1e-12


def test_normalize_rows_clips_rounding_below_zero_and_keeps_exact_rows():
    rows = np.array([[0.25, 0.75], [-1e-12, 1.0], [0.3, 0.7000005]])
    normalize_rows(rows)
    assert rows.min() == 0.0 and np.abs(rows.sum(axis=1) - 1).max() <= 1e-15
    assert rows[0].tolist() == [0.25, 0.75]
