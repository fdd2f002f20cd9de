"""Edited inputs of every model a ``bia`` run uses: the tables of a ``bia.xlsx`` Inputs sheet sent to their models.

A budget impact with prevalent patients runs two models: the BIA file's (new episodes) and the
prevalent patients' (``[budget_impact.prevalent] scenario``), each possibly with a policy. Its
workbook has one parameter table per model, titled ``New episodes: <plan>`` and
``Prevalent patients: <model>`` (:mod:`costspine.reports.build_bia_inputs`).
:func:`costspine.scenario.workbook_inputs.load_scenario_with_inputs` compares the second table
with the prevalent model (:func:`load_prevalent_model`), so that a name both models declare is
edited only in the table it was edited in, and :func:`carry_to_policy` lays each model's edits over
the policy that ``extends`` it where the policy does not set the parameter itself (as an edit of
the model's file would reach it). The edits are kept as ``Scenario.model_parameters``, which
:mod:`costspine.scenario.bia_spec` lays over those files when it loads them.
"""

from __future__ import annotations

from dataclasses import replace

from costspine.errors import ScenarioError

NEW_EPISODES_TITLE = "New episodes: "
"""Start of the title of a ``bia`` workbook's first parameter table when the plan also has prevalent patients."""
PREVALENT_TITLE = "Prevalent patients: "
"""Start of the title of the table of the prevalent patients' model(s):
``Prevalent patients: <model>[, <model> ...] — ...``; its edits go to those models, not to the BIA file."""
PREVALENT_KEY = "budget_impact.prevalent.scenario"
POLICY_KEY = "budget_impact.policy.scenario"
PREVALENT_POLICY_KEY = "budget_impact.prevalent.policy.scenario"


def carry_to_policy(model, overlay: dict, edits: list, keypath: str, *, declarer, into: dict, source: str) -> list:
    """Lay ``model``'s edited parameters over its ``[budget_impact]`` policy too, where the policy inherits them.

    A policy file describes what it changes in its model (``extends``); a parameter it does not set
    itself is the model's, so an edit of the model reaches it as an edit of the model's file would.
    The overlay goes into ``into[keypath]`` for :mod:`costspine.scenario.bia_spec`; each edit it
    reaches says so in its note. Returns the edits.
    """
    policy = policy_of(declarer, keypath)
    if policy is None or not overlay:
        return edits
    own, theirs = model.resolved.get("parameters", {}), policy.resolved.get("parameters", {})
    carried = {name: entry for name, entry in overlay.items() if name in theirs and theirs[name] == own.get(name)}
    if not carried:
        return edits
    into[keypath] = (carried, source)
    groups = {c: spec.name for spec in model.parameters for c in spec.components}
    out = []
    for e in edits:
        if groups.get(e.parameter, e.parameter) in carried:
            also = f"also in the policy {policy.name}, which inherits it"
            e = replace(e, note=f"{e.note}; {also}" if e.note else also)
        out.append(e)
    return out


def policy_of(scenario, keypath: str):
    """The policy scenario a BIA file names at ``keypath``, unedited, or None (problems are left to bia_spec)."""

    entry = scenario.sections.get("budget_impact")
    for key in keypath.split(".")[1:-1]:
        entry = entry.get(key) if isinstance(entry, dict) else None
    return _load_named(scenario, keypath, entry)


def _load_named(scenario, keypath: str, entry):
    """The scenario file ``entry["scenario"]`` names (relative to the file that declares ``keypath``),
    loaded; None if there is none or it is missing or invalid (bia_spec reports those)."""
    from costspine.scenario.load import load_scenario

    if not isinstance(entry, dict) or not isinstance(entry.get("scenario"), str):
        return None
    path = scenario.declared_path(keypath, entry["scenario"])
    if not path.is_file():
        return None
    try:
        return load_scenario(path)
    except ScenarioError:
        return None


def load_prevalent_model(scenario):
    """The prevalent patients' model a BIA file names (``[budget_impact.prevalent] scenario``), or None.

    Loaded as :func:`costspine.scenario.bia_spec.read_bia_spec` loads it; a missing or invalid file
    is left for that function to report with the rest of the section.
    """
    section = scenario.sections.get("budget_impact")
    spec = section.get("prevalent") if isinstance(section, dict) else None
    return _load_named(scenario, PREVALENT_KEY, spec)


def models_of(title: str) -> list[str]:
    """``"Prevalent patients: a, b — parameters"`` → ``["a", "b"]``; any other title → ``[]``."""
    if not title.startswith(PREVALENT_TITLE):
        return []
    names = title[len(PREVALENT_TITLE) :].split(" — ")[0]
    return [n.strip() for n in names.split(",") if n.strip()]
