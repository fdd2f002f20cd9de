"""``costspine psa`` and ``costspine voi``: one analysis call, one writer, the text to print.

The analyses are :func:`costspine.analysis.psa_summary.analyze_psa` and
:func:`costspine.analysis.voi_summary.analyze_voi`; the folders are written by
:mod:`costspine.reports.psa_report`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def run_psa_command(scenario, *, draws: int, seed: int, wtp=None, out_dir: Path, method: str = "cohort",
                    individuals: int | None = None, workers=None, scheduler=None,
                    resume: bool = False, evppi=(), evppi_method: str = "gam", population=None, horizon_years=None,
                    discount=None, on_chunk=None, progress=None, argv: list[str], started: datetime,
                    text: bool = True, xlsx_path=None, csv: bool = False, figures: bool = False) -> str:
    """Run a PSA, write its files into ``out_dir`` and return the text to print (empty if not ``text``).

    The workbook goes to ``xlsx_path`` if given, else ``psa.xlsx`` in ``out_dir``. The per-draw
    CSV tables are written only with ``csv=True`` (``--csv``), the PNG figures only with
    ``figures=True`` (``--figures``).
    """
    from costspine.analysis.psa_summary import analyze_psa
    from costspine.reports.build import workbook_path
    from costspine.reports.psa_report import format_psa_text, write_psa_report

    out_dir = Path(out_dir)
    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="psa")
    analysis = analyze_psa(scenario, draws, seed=seed, wtp=wtp, evppi=evppi, evppi_method=evppi_method,
                           population=population, horizon_years=horizon_years, discount=discount, method=method,
                           individuals=individuals, workers=workers, scheduler=scheduler, store_dir=out_dir / "chunks",
                           resume=resume, on_chunk=on_chunk, progress=progress)
    write_psa_report(analysis, scenario, out_dir=out_dir, xlsx=xlsx, argv=argv, started=started, csv=csv,
                     figures=figures)
    return format_psa_text(analysis, chunks_dir=out_dir / "chunks") if text else ""


def run_voi_command(path, *, evppi=(), method: str = "gam", wtp=None, out_dir: Path, population=None,
                    horizon_years=None, discount=None, parameters=None, comparator=None, effect=None, currency=None,
                    seed=None, argv: list[str], started: datetime, xlsx_path=None,
                    figures: bool = False) -> str:
    """EVPI and EVPPI from the draws a PSA saved or CSV draws (``path``, see
    :func:`~costspine.analysis.voi_summary.analyze_voi`); writes files into ``out_dir`` (the
    workbook to ``xlsx_path`` if given, else ``voi.xlsx`` there; PNG figures only with
    ``figures=True``) once all is computed; returns text."""
    from costspine.analysis.voi_summary import analyze_voi
    from costspine.reports.build import workbook_path
    from costspine.reports.psa_report import write_voi_report

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="voi")
    voi = analyze_voi(path, evppi=evppi, method=method, wtp=wtp, population=population,
                      horizon_years=horizon_years, discount=discount, parameters=parameters, comparator=comparator,
                      effect=effect, currency=currency, seed=seed)
    write_voi_report(voi, out_dir=Path(out_dir), xlsx=xlsx, argv=argv, started=started, figures=figures)
    return voi.summary()
