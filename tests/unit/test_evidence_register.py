"""The evidence register (costspine/data/evidence.csv): every cited id resolves, and docs/evidence.md
is the register's page."""

from __future__ import annotations

import importlib.util

import pytest

from costspine.scenario.evidence_register import (
    COLUMNS,
    find_evidence_ids,
    is_registered,
    load_evidence_register,
)

from helpers import ROOT

REGISTER = load_evidence_register()

# Every place the project cites evidence: scenarios, data tables, docs, the README, code and tests.
SOURCES = sorted(
    [
        p
        for folder in ("scenarios", "costspine/data", "docs")
        for p in (ROOT / folder).rglob("*")
        if p.suffix in (".toml", ".csv", ".md")
    ]
    + [ROOT / "README.md", ROOT / "CHANGELOG.md"]
    + [p for folder in ("costspine", "tests", "tools") for p in (ROOT / folder).rglob("*.py")]
)
# These name ids that must not resolve (T1.99) as examples of the rule; they cite nothing.
NOT_CITING = {"costspine/scenario/evidence_register.py", "tests/unit/test_evidence_register.py"}


def test_the_scan_reads_the_files_that_cite_evidence():
    names = {p.relative_to(ROOT).as_posix() for p in SOURCES}
    assert {"scenarios/spine/base_case.toml", "costspine/data/unit_costs.csv", "docs/spine-model.md", "docs/evidence.md"} <= names
    assert find_evidence_ids((ROOT / "scenarios/spine/base_case.toml").read_text(encoding="utf-8"))


def test_every_cited_evidence_id_is_in_the_register():
    missing = [
        f"{path.relative_to(ROOT).as_posix()}: {evidence_id}"
        for path in SOURCES
        if path.relative_to(ROOT).as_posix() not in NOT_CITING
        for evidence_id in find_evidence_ids(path.read_text(encoding="utf-8"))
        if not is_registered(evidence_id, REGISTER)
    ]
    assert missing == []


def test_an_unknown_id_does_not_resolve():
    assert not is_registered("T1.99", REGISTER)
    assert not is_registered("T4.05z", REGISTER)
    assert is_registered("T4.05", REGISTER)  # the family of T4.05a


def test_every_row_has_a_description_and_a_source_or_says_none_was_found():
    for entry in REGISTER.values():
        assert entry.parameter, entry.id
        assert (entry.source and (entry.value or entry.uncertainty)) or entry.status.startswith("not found"), entry.id


def test_the_register_rejects_a_repeated_id(tmp_path):
    path = tmp_path / "evidence.csv"
    row = "T1.01,a,1,,src,verified-in-source\n"
    path.write_text(",".join(COLUMNS) + "\n" + row + row, encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 3: id T1.01 is already on an earlier row"):
        load_evidence_register(path)


def test_the_register_rejects_an_unknown_status(tmp_path):
    path = tmp_path / "evidence.csv"
    path.write_text(",".join(COLUMNS) + "\nT1.01,a,1,,src,probably\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 2 \(T1.01\): status must be one of"):
        load_evidence_register(path)


def test_docs_evidence_page_is_generated_from_the_register():
    spec = importlib.util.spec_from_file_location("evidence_page", ROOT / "tools" / "evidence_page.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.render_evidence_page(REGISTER)
    assert (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8") == expected, (
        "docs/evidence.md is out of date: python tools/evidence_page.py --write"
    )
    assert all(f"| {evidence_id} |" in expected for evidence_id in REGISTER)
