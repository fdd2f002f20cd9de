"""How the budget calculator takes a plan file's prevalence and onset apart (fast; no LibreOffice).

``prevalence_structure`` must find ``P = G − k · rate`` and ``onset = x · P`` in the bundled plan's
expressions (``k`` and ``x`` derived here from the file's own parameters, nothing pinned), and fall
back to fixed numbers when the file's expressions are not of that form.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from helpers import ROOT

SPINE = ROOT / "scenarios" / "spine"


@pytest.fixture(scope="module")
def plan():
    from costspine import load_scenario
    from costspine.model.inputs import evaluate_parameters
    from costspine.scenario.bia_spec import read_bia_spec

    scenario = load_scenario(SPINE / "bia_commercial_plan.toml")
    spec = read_bia_spec(scenario)
    values = {k: float(v[0]) for k, v in evaluate_parameters(scenario).items()}
    return scenario, spec, values


def _structure(scenario, spec, values, *, per_1000=None, onset=None):
    from costspine.analysis.bia_calculator import prevalence_structure
    from costspine.expressions import parse_expression

    prevalent = spec.prevalent
    if per_1000 is not None or onset is not None:
        prevalent = dataclasses.replace(
            prevalent,
            per_1000=parse_expression(per_1000) if per_1000 is not None else prevalent.per_1000,
            onset=parse_expression(onset) if onset is not None else prevalent.onset,
        )
        spec = dataclasses.replace(spec, prevalent=prevalent)

    def value(expr):
        return float(np.asarray(expr.evaluate({k: [v] for k, v in values.items()}, tables=scenario.tables)).reshape(-1)[0])

    rate = value(spec.rate)
    return prevalence_structure(scenario, spec, rate, value(prevalent.per_1000), value(prevalent.onset)), rate


def test_the_bundled_plan_is_taken_apart_into_overlap_and_exit_hazard(plan):
    scenario, spec, values = plan
    structure, rate = _structure(scenario, spec, values)
    assert structure.follows_file
    assert structure.overlap_per_episode == pytest.approx(values["share_becoming_chronic"] * values["chronic_overlap_years"])
    assert structure.exit_hazard == pytest.approx(values["rate_recover"] + values["rate_death_chronic"])
    assert structure.other_onset == 0.0
    assert structure.per_1000(rate) == pytest.approx(values["chronic_in_care_per_1000"])
    assert structure.onset(rate * 0.8) == pytest.approx(structure.per_1000(rate * 0.8) * structure.exit_hazard)


def test_a_fixed_onset_stays_an_input(plan):
    scenario, spec, values = plan
    structure, _ = _structure(scenario, spec, values, onset="8.5")
    assert structure.follows_file and structure.exit_hazard == 0.0 and structure.other_onset == pytest.approx(8.5)


def test_a_prevalence_not_of_the_sheet_form_is_kept_as_fixed_numbers(plan):
    scenario, spec, values = plan
    rate_name = next(iter(spec.rate.names))
    structure, rate = _structure(scenario, spec, values, per_1000=f"max(chronic_in_care_per_1000, {rate_name})")
    assert not structure.follows_file
    assert structure.overlap_per_episode == 0.0 and structure.exit_hazard == 0.0
    assert structure.per_1000(rate * 2) == structure.per_1000(rate)
