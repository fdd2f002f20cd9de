"""Text of PSA and VOI results: the EVPI/EVPPI tables and the Monte Carlo convergence table.

Used by :class:`~costspine.analysis.psa_summary.PSASummary` and
:class:`~costspine.analysis.voi_summary.VOISummary` for their ``summary()`` text.
"""

from __future__ import annotations

EVPPI_TOP = 20  # EVPPI rows printed by default (parameter groups, largest first); every row is in evppi.csv


def format_voi_text(
    wtp, evpi_per_person, *, currency: str, evpi_population=None, evppi_rows=(), top: int | None = EVPPI_TOP
) -> str:
    """EVPI table (and population EVPI) and the EVPPI table of a PSA or VOI summary.

    Parameters
    ----------
    wtp : sequence of float, shape (wtp,)
    evpi_per_person : sequence of float, shape (wtp,)
    currency : str
    evpi_population : sequence of float, shape (wtp,), optional
    evppi_rows : list of dict
        :func:`~costspine.analysis.evppi_rows.compute_evppi_rows` records.
    top : int or None, default EVPPI_TOP
        Print the ``top`` parameter groups with the largest EVPPI (None: all) and say how many
        were left out.

    Notes
    -----
    The EVPPI table has one row per parameter group and an EVPPI and standard-error column per
    threshold, sorted by the group's largest EVPPI over the thresholds, largest first.
    """
    from costspine._text import format_table

    money = f" ({currency})" if currency else ""
    headers = ["willingness to pay", f"EVPI per person{money}"]
    rows = [[float(w), float(v)] for w, v in zip(wtp, evpi_per_person)]
    if evpi_population is not None:
        headers.append(f"population EVPI{money}")
        rows = [row + [float(v)] for row, v in zip(rows, evpi_population)]
    parts = [format_table(headers, rows, formats={0: ",.0f"}, title="Expected value of perfect information")]
    if evppi_rows:
        parts.append(format_evppi_table(evppi_rows, currency=currency, top=top))
    return "\n\n".join(parts)


def format_evppi_table(evppi_rows, *, currency: str, top: int | None = EVPPI_TOP) -> str:
    """EVPPI per person of each parameter group (rows, largest first) at each threshold (columns), with SEs."""
    from costspine._text import column_format, format_table

    thresholds = list(dict.fromkeys(r["wtp"] for r in evppi_rows))
    groups: dict[str, dict] = {}
    for r in evppi_rows:
        groups.setdefault(r["group"], {})[r["wtp"]] = r
    ordered = sorted(groups, key=lambda g: -max(groups[g][w]["evppi_per_person"] for w in groups[g]))
    shown = ordered if top is None else ordered[:top]
    evpi = {r["wtp"]: r["evpi_per_person"] for r in evppi_rows}
    headers = ["parameters"]
    for w in thresholds:
        headers += [f"EVPPI at {w:,.0f}", "SE"]
    rows = [["EVPI (all parameters)"] + [v for w in thresholds for v in (evpi[w], None)]]
    for g in shown:
        rows.append([g] + [v for w in thresholds for v in (groups[g][w]["evppi_per_person"], groups[g][w]["se"])])
    spec = column_format([v for row in rows for v in row[1:] if v is not None])
    money = f" ({currency})" if currency else ""
    method = evppi_rows[0]["method"]
    title = f"Expected value of partial perfect information per person{money} ({method}), largest first"
    text = format_table(headers, rows, formats=dict.fromkeys(range(1, len(headers)), spec), title=title)
    notes = []
    if len(shown) < len(ordered):
        notes.append(
            f"{len(shown)} of {len(ordered)} parameter groups shown; the other {len(ordered) - len(shown)} have smaller "
            "EVPPI (all are in evppi.csv; --top N shows more)."
        )
    above = [r for r in evppi_rows if r["evppi_per_person"] > r["evpi_per_person"]]
    if above:
        notes.append(
            f"Note: {len(above)} EVPPI estimate(s) exceed the EVPI; regression estimates carry noise (see SE), "
            "and EVPPI cannot truly exceed EVPI — read them as ≈ EVPI."
        )
    if notes:
        from costspine._text import wrap_text

        text += "\n\n" + "\n".join(wrap_text(n) for n in notes)
    return text


def format_convergence_text(psa) -> str:
    """Mean incremental NMB ± MCSE of each strategy and threshold, from a :class:`~costspine.analysis.psa_summary.PSASummary`."""
    from costspine._text import format_table

    inc = psa.incremental
    labels = psa.labels
    currency = psa.draws.currency
    money = f" ({currency})" if currency else ""
    rows = []
    for k, s in enumerate(psa.strategies):
        if k == inc.comparator:
            continue
        for j, w in enumerate(psa.wtp):
            relative = inc.mcse_relative(k, j)
            rows.append([labels[s], float(w), float(inc.mc_mean[k, j]), float(inc.mcse[k, j]), relative])
    return format_table(
        ["strategy", "willingness to pay", f"mean incremental NMB{money}", "MCSE", "MCSE / mean"],
        rows,
        formats={1: ",.0f", 4: ".1%"},
        title=f"Monte Carlo convergence vs {labels[psa.draws.comparator]} (MCSE = sd/√draws)",
    )
