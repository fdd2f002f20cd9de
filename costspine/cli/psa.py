"""``costspine psa`` and ``costspine voi``: run or load PSA draws, summarise, write files.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import numpy as np

from costspine._files import write_csv, write_json
from costspine.analysis.psa_summary import (
    DRAWS_FILE,
    compute_evppi_rows,
    draws_from_result,
    load_psa_draws,
    parse_evppi_groups,
    summarize_psa,
)
from costspine.errors import UsageError
from costspine.reports.manifest import build_manifest
from costspine.reports.psa_files import _convergence_text, format_voi_text, write_evppi_csv, write_psa_files, wtp_key


def _population(population, years, discount, default_discount) -> dict | None:
    if population is None and years is None:
        return None
    if population is None or years is None:
        raise UsageError("population EVPI needs both --population (people affected per year) and --horizon-years")
    rate = default_discount if discount is None else discount
    return {"per_year": float(population), "years": int(years), "discount_rate": float(rate),
            "discount_rate_source": "--discount" if discount is not None else "scenario settings.discount_outcomes"}

def run_psa_command(scenario, *, draws: int, seed: int, wtp=None, out_dir: Path, method: str = "cohort",
                    individuals: int | None = None, workers=None, scheduler=None,
                    resume: bool = False, evppi=(), evppi_method: str = "gam", population=None, horizon_years=None,
                    discount=None, on_chunk=None, progress=None, argv: list[str], started: datetime,
                    text: bool = True, xlsx_path=None) -> str:
    """Run a PSA, write its files into ``out_dir`` and return the text to print (empty if not ``text``).

    The workbook goes to ``xlsx_path`` if given, else ``psa.xlsx`` in ``out_dir``.
    """
    from costspine.analysis.psa import run_psa
    from costspine.reports.build import output_name, with_about, workbook_path

    wtp = tuple(scenario.analysis.wtp) if wtp is None else tuple(wtp)
    pop = _population(population, horizon_years, discount, scenario.settings.discount_outcomes)
    out_dir = Path(out_dir)
    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="psa")
    result = run_psa(scenario, draws, seed=seed, method=method, individuals=individuals, workers=workers,
                     scheduler=scheduler, store_dir=out_dir / "chunks", resume=resume, on_chunk=on_chunk, progress=progress)
    psa_draws = draws_from_result(result)
    groups = parse_evppi_groups(evppi, psa_draws)
    summary, tables = summarize_psa(psa_draws, wtp=wtp, population=pop)
    evppi_rows = compute_evppi_rows(psa_draws, groups, wtp=wtp, method=evppi_method) if groups else []
    if evppi_rows:
        summary["evppi"] = evppi_rows
    from costspine.reports.build_analyses import build_psa_workbook, plan_psa_figures
    from costspine.reports.excel import write_workbook

    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    book = build_psa_workbook(scenario, psa_draws, summary=summary, tables=tables, evppi_rows=evppi_rows, manifest={})
    figures = plan_psa_figures(scenario, psa_draws, summary=summary, tables=tables, folder=out_dir)
    written = write_psa_files(psa_draws, out_dir, summary=summary, tables=tables, evppi_rows=evppi_rows)
    written += [plot() for plot in figures]
    manifest = build_manifest(command="psa", argv=list(argv), inputs=list(scenario.files), seed=seed, started=started,
                              outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir), "chunks/"])
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    if not text:
        return ""
    parts = [result.summary(wtp), _convergence_text(summary), format_voi_text(summary, evppi_rows)]
    if result.resumed_chunks:
        parts.append(f"Resumed: {result.resumed_chunks} of {len(result.chunks)} chunks were read from {out_dir / 'chunks'}.")
    return "\n\n".join(parts)

def run_voi_command(results_dir, *, evppi=(), method: str = "gam", wtp=None, out_dir: Path, population=None,
                    horizon_years=None, discount=None, argv: list[str], started: datetime, xlsx_path=None) -> str:
    """EVPI and EVPPI from the draws a PSA saved; writes files into ``out_dir`` (the workbook to
    ``xlsx_path`` if given, else ``voi.xlsx`` there); returns text."""
    from costspine.analysis.decision import compute_evpi, population_evpi
    from costspine.reports.build import output_name, with_about, workbook_path

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="voi")
    draws = load_psa_draws(results_dir)
    wtp = draws.wtp if wtp is None else tuple(wtp)
    lam = np.asarray(wtp, dtype=float)
    pop = _population(population, horizon_years, discount, draws.discount_outcomes)
    groups = parse_evppi_groups(evppi, draws)
    evpi = compute_evpi(draws.total_cost, draws.effect, lam)
    rows = compute_evppi_rows(draws, groups, wtp=wtp, method=method) if groups else []
    summary = {"scenario": draws.scenario, "title": draws.title, "currency": draws.currency, "effect": draws.effect_name,
               "comparator": draws.comparator, "wtp": [float(w) for w in lam], "draws": draws.n_draws, "seed": draws.seed,
               "results_dir": str(results_dir), "evpi_per_person": {wtp_key(w): float(v) for w, v in zip(lam, evpi)},
               "evppi": rows}
    evpi_rows = [[float(w), float(v)] for w, v in zip(lam, evpi)]
    headers = ["wtp", "evpi_per_person"]
    if pop is not None:
        factor = float(population_evpi(1.0, population_per_year=pop["per_year"], years=pop["years"],
                                       discount_rate=pop["discount_rate"]))
        summary["population"] = {**pop, "discounted_persons": factor}
        summary["evpi_population"] = {wtp_key(w): float(v * factor) for w, v in zip(lam, evpi)}
        headers.append("evpi_population")
        evpi_rows = [r + [r[1] * factor] for r in evpi_rows]
    out_dir = Path(out_dir)
    from costspine.reports.build_analyses import build_voi_workbook, plan_voi_figures
    from costspine.reports.excel import write_workbook

    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    book = build_voi_workbook(summary, manifest={})
    figures = plan_voi_figures(summary, folder=out_dir)
    written = [write_csv(out_dir / "evpi.csv", headers, evpi_rows)]
    if rows:
        written.append(write_evppi_csv(out_dir / "evppi.csv", rows))
    written.append(write_json(out_dir / "summary.json", summary))
    written += [plot() for plot in figures]
    draws_path = Path(results_dir) / DRAWS_FILE
    inputs = [(str(draws_path), hashlib.sha256(draws_path.read_bytes()).hexdigest()), *draws.inputs]
    manifest = build_manifest(command="voi", argv=list(argv), inputs=inputs, seed=draws.seed, started=started,
                              outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir)])
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    text = format_voi_text(summary, rows)
    if not groups:
        text += "\n\n(no --evppi parameters given: EVPI only; e.g. --evppi rr or --evppi each)"
    return f"{draws.title}\n{draws.n_draws:,} PSA draws from {results_dir}\n\n{text}"
