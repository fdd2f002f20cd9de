"""docs/cheers.md maps every CHEERS 2022 item (Husereau et al., Value Health 2022;25(1):3-9) once,
each with a verdict, and its stated counts match the table."""

from __future__ import annotations

import re

from helpers import ROOT

VERDICTS = ("Met", "Partly", "Not met")


def test_every_cheers_item_has_one_row_and_a_verdict():
    text = (ROOT / "docs" / "cheers.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| +\d+ \|", line)]
    numbers = [int(line.split("|")[1]) for line in rows]
    assert numbers == list(range(1, 29))
    verdicts = [line.rstrip().rstrip("|").rsplit("|", 1)[1].strip() for line in rows]
    assert set(verdicts) <= set(VERDICTS), set(verdicts) - set(VERDICTS)
    counts = {v: verdicts.count(v) for v in VERDICTS}
    stated = re.search(r"Counts: (\d+) met, (\d+) partly, (\d+) not\s+met", text)
    assert stated and tuple(map(int, stated.groups())) == (counts["Met"], counts["Partly"], counts["Not met"])
    for line in rows:  # every row says where, or that nothing reports it
        assert len(line.split("|")[3].strip()) > 10, line
