"""The calibration check of a PSA as files: ``calibration_check.csv`` and a workbook sheet.

The check itself is :func:`costspine.analysis.calibration_check.check_calibration`.
"""

from __future__ import annotations

from pathlib import Path

from costspine._files import write_csv

SHEET_NAME = "Calibration check"


def calibration_check_sheet(check):
    """A workbook :class:`~costspine.reports.workbook.Sheet` with one row per target."""
    from costspine.reports.workbook import Column, Sheet, Table

    columns = (
        Column("evidence"),
        Column("target"),
        Column("kind"),
        Column("in likelihood"),
        Column("trial", "number", decimals=3),
        Column("trial 2.5%", "number", decimals=3),
        Column("trial 97.5%", "number", decimals=3),
        Column("PSA median", "number", decimals=3),
        Column("PSA 2.5%", "number", decimals=3),
        Column("PSA 97.5%", "number", decimals=3),
        Column("overlap of trial CI", "percent"),
        Column("median in trial CI"),
        Column("P(below null)", "probability"),
    )
    table = Table("calibration_check", columns, check.rows, title="Each calibration target: PSA distribution vs the trial")
    return Sheet(
        SHEET_NAME,
        tables=(table,),
        notes=(
            f"Every target of the evidence file the scenario's posterior comes from, predicted on the first "
            f"{check.n_draws:,} PSA draws with the cohort model.",
            "Overlap: the share of the trial's 95% CI covered by the PSA's 95% interval. P(below null): the share "
            "of draws with a ratio below 1 or a difference below 0.",
            "Targets not in the likelihood are checks only (e.g. raw arm means the trial's adjusted ratios contradict).",
        ),
    )


def write_calibration_check_csv(check, out_dir: Path) -> Path:
    """``calibration_check.csv`` in ``out_dir`` (columns :data:`~costspine.analysis.calibration_check.CHECK_COLUMNS`)."""
    from costspine.analysis.calibration_check import CHECK_COLUMNS

    return write_csv(Path(out_dir) / "calibration_check.csv", list(CHECK_COLUMNS), [list(r) for r in check.rows])
