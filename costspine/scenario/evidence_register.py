"""The project's evidence register: the numbers the bundled scenarios and catalogue cite as
"evidence T1.07", each with its value, uncertainty, source and how far it was checked.

The register is package data (``costspine/data/evidence.csv``); ``docs/evidence.md`` is generated
from it by ``tools/evidence_page.py``. Ids are ``T<section>.<number>`` with an optional letter for
variants of one item (``T4.09a`` office, ``T4.09b`` facility); a bare ``T4.09`` cites the family.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from costspine._files import bundled_path

EVIDENCE_REGISTER = bundled_path("data/evidence.csv")
EVIDENCE_ID = re.compile(r"\bT\d+\.\d+[a-z]?\b")
COLUMNS = ("id", "parameter", "value", "uncertainty", "source", "status")
STATUSES = (
    "verified-in-source",
    "verified-in-source (secondary report)",
    "derived (calculated from verified inputs)",
    "recalled-unverified",
    "not found in accessible sources",
)


@dataclass(frozen=True)
class EvidenceEntry:
    """One row of the register: ``id``, what was measured (``parameter``), ``value`` with its unit,
    ``uncertainty`` (interval, SD or range as published; may be empty), ``source`` (citation) and
    ``status`` (one of :data:`STATUSES`)."""

    id: str
    parameter: str
    value: str
    uncertainty: str
    source: str
    status: str


def load_evidence_register(path=None) -> dict[str, EvidenceEntry]:
    """The register as id -> entry, in file order (the bundled register when ``path`` is None).

    Raises
    ------
    ValueError
        The header is not :data:`COLUMNS`, an id is malformed or repeated, or a status is unknown;
        the message names the file and row.

    Examples
    --------
    >>> register = load_evidence_register()
    >>> register["T1.17"].value
    '-5.8 ODI points'
    """
    path = Path(path) if path is not None else EVIDENCE_REGISTER
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}: expected the columns {', '.join(COLUMNS)}; got {reader.fieldnames}")
        register = {}
        for row_number, row in enumerate(reader, start=2):
            entry = EvidenceEntry(**{k: (row[k] or "").strip() for k in COLUMNS})
            if EVIDENCE_ID.fullmatch(entry.id) is None:
                raise ValueError(f"{path}: row {row_number}: id must look like T1.07 or T4.05a; got {entry.id!r}")
            if entry.id in register:
                raise ValueError(f"{path}: row {row_number}: id {entry.id} is already on an earlier row")
            if entry.status not in STATUSES:
                raise ValueError(
                    f"{path}: row {row_number} ({entry.id}): status must be one of {', '.join(STATUSES)}; got {entry.status!r}"
                )
            register[entry.id] = entry
    return register


def find_evidence_ids(text: str) -> list[str]:
    """The evidence ids cited in ``text``, in order of first appearance.

    Examples
    --------
    >>> find_evidence_ids("CMS PFS 2025 (evidence T4.05a, T4.41; see T4.05a)")
    ['T4.05a', 'T4.41']
    """
    return list(dict.fromkeys(EVIDENCE_ID.findall(text)))


def is_registered(evidence_id: str, register: dict) -> bool:
    """True when ``evidence_id`` is in ``register``, or is a family (``T4.05``) whose variants are.

    Examples
    --------
    >>> register = load_evidence_register()
    >>> is_registered("T4.05a", register), is_registered("T4.05", register), is_registered("T99.01", register)
    (True, True, False)
    """
    if evidence_id in register:
        return True
    return evidence_id[-1].isdigit() and any(key[:-1] == evidence_id and key[-1].isalpha() for key in register)
