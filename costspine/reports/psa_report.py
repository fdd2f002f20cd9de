"""Output folders of ``costspine psa`` and ``costspine voi``: files, workbook, figures and manifest.

Each writer takes what the analysis returned (:class:`~costspine.analysis.psa_summary.PSASummary`,
:class:`~costspine.analysis.voi_summary.VOISummary`), builds (and so checks) the workbook before
any file is written, writes the files and figures, then the workbook with its About sheet and
``manifest.json`` listing every file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine._files import write_csv, write_json
from costspine.reports.manifest import build_manifest
from costspine.reports.psa_files import write_evppi_csv, write_psa_files


def run_psa_into_folder(
    scenario,
    draws: int,
    *,
    out_dir: Path,
    xlsx: Path,
    store_dir: Path,
    argv: list[str],
    started: datetime,
    csv: bool = False,
    figures: bool = False,
    **options,
):
    """Run a PSA into ``out_dir``: the analysis, its companions, every file, then drop the saved chunks.

    The one sequence behind ``costspine psa`` and :func:`costspine.psa` with ``out_dir``: the draws
    go to ``out_dir/draws`` chunk by chunk while the PSA runs (chunks for ``--resume`` are saved in
    ``store_dir``); the calibration check and subgroups (:func:`~costspine.analysis.psa_summary.psa_companions`)
    are computed; :func:`write_psa_report` writes the files; the saved chunks, which would now hold
    the draws a second time, are deleted. ``options`` are those of
    :func:`~costspine.analysis.psa_summary.analyze_psa`.

    Returns
    -------
    analysis : PSASummary
    calibration_check : CalibrationCheck or None
    subgroups : tuple of SubgroupResults
    """
    from costspine.analysis.chunk_store import ChunkStore
    from costspine.analysis.psa_summary import analyze_psa, psa_companions

    out_dir = Path(out_dir)
    analysis = analyze_psa(scenario, draws, store_dir=store_dir, draws_dir=out_dir / "draws", **options)
    check, subgroups = psa_companions(scenario, analysis, method=options.get("method", "cohort"))
    write_psa_report(
        analysis,
        scenario,
        out_dir=out_dir,
        xlsx=xlsx,
        argv=argv,
        started=started,
        csv=csv,
        figures=figures,
        calibration_check=check,
        subgroups=subgroups,
    )
    ChunkStore(store_dir, {}).discard()
    return analysis, check, subgroups


def write_psa_report(
    analysis,
    scenario,
    *,
    out_dir: Path,
    xlsx: Path,
    argv: list[str],
    started: datetime,
    csv: bool = False,
    figures: bool = False,
    calibration_check=None,
    subgroups=(),
) -> list[Path]:
    """Write a PSA's files into ``out_dir`` and its workbook to ``xlsx``; return the files written.

    By default: ``draws/`` (every draw, once; written by the run as it went), the curve tables, ``summary.json``, the workbook
    and ``manifest.json`` (the caller deletes the saved chunks afterwards). ``csv`` adds the per-draw tables
    ``results.csv``, ``parameters.csv`` and ``ce_plane.csv`` (and Parquet copies when pyarrow is
    installed); ``figures`` adds the PNG figures.

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
    csv : bool
        Also write the per-draw CSV (and Parquet) tables.
    figures : bool
        Also draw the PNG figures.
    calibration_check : CalibrationCheck, optional
        From :func:`costspine.analysis.calibration_check.check_calibration`: written as
        ``calibration_check.csv`` and a "Calibration check" sheet.
    subgroups : tuple of SubgroupResults
        Results by subgroup per draw (:func:`costspine.analysis.subgroups.compute_subgroups`): adds
        ``summary.json``'s ``subgroups`` and the sheet "Subgroups".
    """
    from costspine.reports.build import output_name, with_about
    from costspine.reports.build_psa import build_psa_workbook, plan_psa_figures
    from costspine.reports.excel import write_workbook
    from costspine.reports.subgroup_report import build_subgroup_sheet, summarize_subgroups

    out_dir = Path(out_dir)
    draws = analysis.draws
    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    wtp = float(analysis.wtp[0]) if analysis.wtp else None
    sheet = build_subgroup_sheet(subgroups, wtp=wtp)
    book = build_psa_workbook(scenario, analysis, manifest={}, extra_sheets=() if sheet is None else (sheet,))
    if calibration_check is not None:
        import dataclasses

        from costspine.reports.calibration_check_report import calibration_check_sheet

        book = dataclasses.replace(book, sheets=(*book.sheets, calibration_check_sheet(calibration_check)))
    plots = plan_psa_figures(scenario, analysis, folder=out_dir) if figures else []
    summary = analysis.data
    if subgroups:
        summary = {**summary, "subgroups": summarize_subgroups(subgroups, wtp=wtp)}
    written = write_psa_files(draws, out_dir, summary=summary, tables=analysis.tables, evppi_rows=analysis.evppi, csv=csv)
    if calibration_check is not None:
        from costspine.reports.calibration_check_report import write_calibration_check_csv

        written.append(write_calibration_check_csv(calibration_check, out_dir))
    written += [plot() for plot in plots]
    manifest = build_manifest(
        command="psa",
        argv=list(argv),
        inputs=[*scenario.files, *draws.inputs],
        seed=draws.seed,
        started=started,
        scenarios=[scenario],
        outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir)],
    )
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    return written


def format_psa_text(analysis, *, chunks_dir: Path, top: int | None = 20) -> str:
    """What ``costspine psa`` prints: the analysis summary (the ``top`` EVPPI rows; None: all), and how
    many chunks were resumed."""
    text = analysis.summary(top=top)
    result = analysis.draws
    if result.resumed_chunks:
        text += f"\n\nResumed: {result.resumed_chunks} of {len(result.chunks)} chunks were read from {chunks_dir}."
    return text


def write_voi_report(voi, *, out_dir: Path, xlsx: Path, argv: list[str], started: datetime, figures: bool = False) -> list[Path]:
    """Write a VOI analysis's files into ``out_dir`` and its workbook to ``xlsx``; return the files written.

    Parameters
    ----------
    voi : VOISummary
        From :func:`costspine.analysis.voi_summary.analyze_voi`.
    out_dir, xlsx, argv, started, figures
        As for :func:`write_psa_report`.
    """
    from costspine.analysis.psa_draws_file import draws_sha256
    from costspine.reports.build import output_name, with_about
    from costspine.reports.build_psa import build_voi_workbook, plan_voi_figures
    from costspine.reports.excel import write_workbook

    out_dir = Path(out_dir)
    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    book = build_voi_workbook(voi, manifest={})
    plots = plan_voi_figures(voi, folder=out_dir) if figures else []
    written = [write_csv(out_dir / "evpi.csv", *voi.evpi_table())]
    if voi.evppi:
        written.append(write_evppi_csv(out_dir / "evppi.csv", voi.evppi))
    written.append(write_json(out_dir / "summary.json", voi.data))
    written += [plot() for plot in plots]
    draws_path = voi.draws_path  # None for CSV draws: their files are the draws' inputs
    inputs = [
        *([(str(draws_path), draws_sha256(draws_path))] if draws_path else []),
        *voi.draws.inputs,
    ]
    manifest = build_manifest(
        command="voi",
        argv=list(argv),
        inputs=inputs,
        seed=voi.draws.seed,
        started=started,
        outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir)],
    )
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    return written
