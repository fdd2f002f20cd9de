"""Write docs/evidence.md from the evidence register (costspine/data/evidence.csv).

Usage::

    python tools/evidence_page.py           # exit 1 when docs/evidence.md is out of date
    python tools/evidence_page.py --write   # rewrite docs/evidence.md

tests/unit/test_evidence_register.py checks that the page matches the register.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from costspine.scenario.evidence_register import load_evidence_register

PAGE = ROOT / "docs" / "evidence.md"

INTRO = """\
# Evidence register

Every number the bundled scenarios, the unit-cost catalogue and these docs cite as "evidence T1.07"
is a row here. The register itself is `costspine/data/evidence.csv` (package data, so an installed
costspine carries it); this page is generated from it by `tools/evidence_page.py` and a test fails
when the two differ, or when a scenario, data file or docs page cites an id that is not here.

Ids are `T<group>.<item>`; a letter marks variants of one item (`T4.09a` the office rate, `T4.09b`
the facility rate), and a bare `T4.09` cites the family. The groups: T1 the SPINE CARE trial,
T2 spinal injections versus sham, T3 US spending and injection volumes, T4 unit costs and price
ratios, T5 the natural course of acute spine pain, T6 utility mapping, T7 the BEST trial, T8 how care responds to
fees, T9 utilisation, T10 economic-evaluation conventions, T11 work and productivity (the societal
perspective).

**Status** says how far a number was checked: *verified-in-source*, read in the primary source or
its official abstract or file; *verified-in-source (secondary report)*, read in a summary, mirror
or code quoting the primary source; *derived (calculated from verified inputs)*; *recalled-unverified*,
not confirmed in any source; *not found in accessible sources*, searched for and not located. A
scenario that uses a recalled or missing number says so in the parameter's `source` and treats it
as an assumption with a wide distribution.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_evidence_page(register: dict) -> str:
    """The Markdown page: the introduction, then one table per group of ids."""
    lines = [INTRO]
    group = None
    for entry in register.values():
        head = entry.id.split(".")[0]
        if head != group:
            group = head
            lines += [
                "",
                f"## {head}",
                "",
                "| id | parameter | value | uncertainty | source | status |",
                "|---|---|---|---|---|---|",
            ]
        lines.append(
            "| "
            + " | ".join(_cell(getattr(entry, k)) for k in ("id", "parameter", "value", "uncertainty", "source", "status"))
            + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render_evidence_page(load_evidence_register())
    if "--write" in argv:
        PAGE.write_text(text, encoding="utf-8")
        print(f"Wrote {PAGE}")
        return 0
    if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text:
        print(f"{PAGE} is out of date; run python tools/evidence_page.py --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
