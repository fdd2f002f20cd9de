"""Files of ``costspine psa`` and ``costspine voi``: draws and summaries as CSV/Parquet and EVPPI rows.

The whole output folders are written by :mod:`costspine.reports.psa_report`.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from costspine._files import neutralize_csv_text, write_atomic, write_csv, write_json
from costspine.analysis.psa_draws_file import DRAWS_DIR, write_draws_dir
from costspine.analysis.psa_result import PSAResult


def write_matrix_csv(path, headers: list[str], keys: list[tuple], matrix: np.ndarray) -> Path:
    """Atomic CSV: key columns, then float columns written exactly (shortest round-trip ``repr``).

    The fast path for draw tables (one formatting operation per row); ``matrix`` may be a callable
    returning the matrix (computed only when the file is written). Keys are integers and
    scenario names, which are identifiers, so they never need quoting; headers are quoted by
    the csv module if needed, and text keys and headers are neutralised like every CSV cell
    (:func:`costspine._files.neutralize_csv_text`).
    """
    import csv

    if callable(matrix):
        matrix = matrix()
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow([neutralize_csv_text(h) for h in headers])
    keys = [tuple(neutralize_csv_text(k) for k in key) for key in keys]
    n_keys = len(keys[0]) if keys else 0
    line = ",".join(["%s"] * n_keys + ["%r"] * matrix.shape[1])
    body = "\n".join([line % (*key, *row) for key, row in zip(keys, matrix.tolist())])
    return write_atomic(path, head.getvalue() + body + ("\n" if body else ""))


def _draw_table(draws: PSAResult) -> tuple[list[str], list[tuple], np.ndarray]:
    """``results.csv``: draw, strategy, cost by category, total cost, outcomes; one row per draw and strategy."""
    d, s = draws.total_cost.shape
    headers = ["draw", "strategy", *[f"cost_{c}" for c in draws.categories], "cost_total", *draws.outcome_names]
    keys = [(i, strategy) for i in range(d) for strategy in draws.strategies]
    values = np.concatenate([draws.costs, draws.total_cost[:, :, None], draws.outcomes], axis=2).reshape(d * s, -1)
    return headers, keys, values


def _write_parquet(path: Path, columns: dict) -> Path | None:
    """Write a Parquet file with pyarrow if it is installed; None otherwise."""
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({k: pa.array(list(v) if isinstance(v, np.ndarray) and v.dtype == object else v) for k, v in columns.items()})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return write_atomic(path, sink.getvalue())


PER_DRAW_TABLES = ("results.csv", "parameters.csv", "ce_plane.csv")
"""Tables with a row per draw: written only on request (``--csv``); ``draws/`` holds the same numbers."""


def write_psa_files(
    draws: PSAResult, out_dir: Path, *, summary: dict, tables: dict, evppi_rows=None, csv: bool = False
) -> list[Path]:
    """Write the draws, curves and summary of a PSA; returns the files written.

    The ``draws/`` folder (:mod:`costspine.analysis.psa_draws_file`) is the one bulk copy of the
    draws: a run with ``draws_dir`` in ``out_dir`` wrote it already as it went, and it is listed
    as written; draws in memory are written now. With ``csv`` the per-draw tables
    (:data:`PER_DRAW_TABLES`, and Parquet copies when pyarrow is installed) are written too; a
    table of ``tables`` with a row per draw is skipped without it (``manifest.json`` lists what
    this run wrote).
    """
    out_dir = Path(out_dir)
    folder = out_dir / DRAWS_DIR
    if draws.store is not None and Path(draws.store).resolve() == folder.resolve():
        written = [folder / f"{key}.npy" for key in ("parameters", "costs", "outcomes")] + [folder / "meta.json"]
    else:
        written = write_draws_dir(draws, folder)
    if csv:
        written.append(write_matrix_csv(out_dir / "results.csv", *_draw_table(draws)))
        written.append(
            write_matrix_csv(
                out_dir / "parameters.csv",
                ["draw", *draws.parameter_names],
                [(i,) for i in range(draws.n_draws)],
                draws.parameters,
            )
        )
        from costspine.analysis.psa_result import result_columns

        parameter_columns = {
            "draw": np.arange(draws.n_draws),
            **{n: draws.parameters[:, j] for j, n in enumerate(draws.parameter_names)},
        }
        for name, columns in (("results.parquet", result_columns(draws)), ("parameters.parquet", parameter_columns)):
            path = _write_parquet(out_dir / name, columns)
            if path is not None:
                written.append(path)
    for name, table in tables.items():
        if name in PER_DRAW_TABLES and not csv:
            continue
        written.append(write_csv(out_dir / name, *table) if len(table) == 2 else write_matrix_csv(out_dir / name, *table))
    if evppi_rows:
        written.append(write_evppi_csv(out_dir / "evppi.csv", evppi_rows))
    written.append(write_json(out_dir / "summary.json", summary))
    return written


def write_evppi_csv(path: Path, rows: list[dict]) -> Path:
    headers = ["group", "parameters", "wtp", "evppi_per_person", "se", "evpi_per_person", "method", "draws"]
    return write_csv(
        path,
        headers,
        [
            [
                r["group"],
                "+".join(r["parameters"]),
                r["wtp"],
                r["evppi_per_person"],
                r["se"],
                r["evpi_per_person"],
                r["method"],
                r["draws"],
            ]
            for r in rows
        ],
    )
