"""Output folders of ``costspine psa`` and ``costspine voi``: files, workbook, figures and manifest.

Each writer takes what the analysis returned (:class:`~costspine.analysis.psa_summary.PSASummary`,
:class:`~costspine.analysis.voi_summary.VOISummary`), builds (and so checks) the workbook before
any file is written, writes the files and figures, then the workbook with its About sheet and
``manifest.json`` listing every file.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from costspine._files import write_csv, write_json
from costspine.reports.manifest import build_manifest
from costspine.reports.psa_files import write_evppi_csv, write_psa_files


def write_psa_report(analysis, scenario, *, out_dir: Path, xlsx: Path, argv: list[str], started: datetime) -> list[Path]:
    """Write a PSA's files into ``out_dir`` and its workbook to ``xlsx``; return the files written.

    Parameters
    ----------
    analysis : PSASummary
        From :func:`costspine.analysis.psa_summary.analyze_psa`.
    scenario : Scenario
        The scenario analysed (labels, parameter and price tables, input files).
    out_dir : Path
    xlsx : Path
        From :func:`costspine.reports.build.workbook_path`.
    argv : list of str
        The command line, for the manifest.
    started : datetime
    """
    from costspine.reports.build import output_name, with_about
    from costspine.reports.build_analyses import build_psa_workbook, plan_psa_figures
    from costspine.reports.excel import write_workbook

    out_dir = Path(out_dir)
    draws, summary, tables, evppi_rows = analysis.draws, analysis.data, analysis.tables, analysis.evppi
    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    book = build_psa_workbook(scenario, draws, summary=summary, tables=tables, evppi_rows=evppi_rows, manifest={})
    figures = plan_psa_figures(scenario, draws, summary=summary, tables=tables, folder=out_dir)
    written = write_psa_files(draws, out_dir, summary=summary, tables=tables, evppi_rows=evppi_rows)
    written += [plot() for plot in figures]
    manifest = build_manifest(command="psa", argv=list(argv), inputs=[*scenario.files, *draws.inputs], seed=draws.seed,
                              started=started, scenarios=[scenario],
                              outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir), "chunks/"])
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    return written


def format_psa_text(analysis, *, chunks_dir: Path) -> str:
    """What ``costspine psa`` prints: the analysis summary, and how many chunks were resumed."""
    text = analysis.summary()
    result = analysis.draws
    if result.resumed_chunks:
        text += f"\n\nResumed: {result.resumed_chunks} of {len(result.chunks)} chunks were read from {chunks_dir}."
    return text


def write_voi_report(voi, *, out_dir: Path, xlsx: Path, argv: list[str], started: datetime) -> list[Path]:
    """Write a VOI analysis's files into ``out_dir`` and its workbook to ``xlsx``; return the files written.

    Parameters
    ----------
    voi : VOISummary
        From :func:`costspine.analysis.voi_summary.analyze_voi`.
    out_dir, xlsx, argv, started
        As for :func:`write_psa_report`.
    """
    from costspine.reports.build import output_name, with_about
    from costspine.reports.build_analyses import build_voi_workbook, plan_voi_figures
    from costspine.reports.excel import write_workbook

    out_dir = Path(out_dir)
    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    book = build_voi_workbook(voi, manifest={})
    figures = plan_voi_figures(voi, folder=out_dir)
    written = [write_csv(out_dir / "evpi.csv", *voi.evpi_table())]
    if voi.evppi:
        written.append(write_evppi_csv(out_dir / "evppi.csv", voi.evppi))
    written.append(write_json(out_dir / "summary.json", voi.data))
    written += [plot() for plot in figures]
    draws_path = voi.draws_path  # None for CSV draws: their files are the draws' inputs
    inputs = [*([(str(draws_path), hashlib.sha256(draws_path.read_bytes()).hexdigest())] if draws_path else []),
              *voi.draws.inputs]
    manifest = build_manifest(command="voi", argv=list(argv), inputs=inputs, seed=voi.draws.seed, started=started,
                              outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir)])
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    return written
