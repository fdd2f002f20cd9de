"""Text of PSA and VOI results: the EVPI/EVPPI tables and the Monte Carlo convergence lines.

Used by :class:`~costspine.analysis.psa_summary.PSASummary` and
:class:`~costspine.analysis.voi_summary.VOISummary` for their ``summary()`` text.
"""

from __future__ import annotations


def format_voi_text(wtp, evpi_per_person, *, currency: str, evpi_population=None, evppi_rows=()) -> str:
    """EVPI table (and population EVPI) and the EVPPI table of a PSA or VOI summary.

    Parameters
    ----------
    wtp : sequence of float, shape (wtp,)
    evpi_per_person : sequence of float, shape (wtp,)
    currency : str
    evpi_population : sequence of float, shape (wtp,), optional
    evppi_rows : list of dict
        :func:`~costspine.analysis.evppi_rows.compute_evppi_rows` records.
    """
    from costspine._text import format_table

    headers = ["wtp", f"EVPI per person ({currency})"]
    rows = [[float(w), float(v)] for w, v in zip(wtp, evpi_per_person)]
    if evpi_population is not None:
        headers.append(f"population EVPI ({currency})")
        rows = [row + [float(v)] for row, v in zip(rows, evpi_population)]
    parts = [format_table(headers, rows, title="Expected value of perfect information")]
    if evppi_rows:
        parts.append(
            format_table(
                ["parameters", "wtp", "EVPPI per person", "SE", "EVPI"],
                [[r["group"], r["wtp"], r["evppi_per_person"], r["se"], r["evpi_per_person"]] for r in evppi_rows],
                title=f"Expected value of partial perfect information ({evppi_rows[0]['method']})",
            )
        )
        above = [r for r in evppi_rows if r["evppi_per_person"] > r["evpi_per_person"]]
        if above:
            parts[-1] += (
                f"\nNote: {len(above)} EVPPI estimate(s) exceed the EVPI; regression estimates carry noise (see SE), "
                "and EVPPI cannot truly exceed EVPI — read them as ≈ EVPI."
            )
    return "\n\n".join(parts)


def format_convergence_text(psa) -> str:
    """Mean incremental NMB ± MCSE of each strategy and threshold, from a :class:`~costspine.analysis.psa_summary.PSASummary`."""
    inc = psa.incremental
    lines = ["Monte Carlo convergence of the mean incremental NMB (MCSE = sd/√draws):"]
    for k, s in enumerate(psa.strategies):
        if k == inc.comparator:
            continue
        for j, w in enumerate(psa.wtp):
            relative = inc.mcse_relative(k, j)
            rel = f" ({relative:.1%} of the mean)" if relative is not None else ""
            lines.append(
                f"  {s} vs {psa.draws.comparator} at {float(w):,.0f}: "
                f"{float(inc.mc_mean[k, j]):,.2f} ± {float(inc.mcse[k, j]):,.2f}{rel}"
            )
    return "\n".join(lines)
