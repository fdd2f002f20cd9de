"""Files of ``costspine psa`` and ``costspine voi``: draws and summaries as CSV/Parquet, EVPPI
rows, and the printed VOI text.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from costspine._files import write_atomic, write_csv, write_json
from costspine.analysis.psa_summary import DRAWS_FILE, PSADraws, _encode_draws, wtp_key


def write_matrix_csv(path, headers: list[str], keys: list[tuple], matrix: np.ndarray) -> Path:
    """Atomic CSV: key columns, then float columns written exactly (shortest round-trip ``repr``).

    The fast path for draw tables (one formatting operation per row). Keys are integers and
    scenario names, which are identifiers, so they never need quoting; headers are quoted by
    the csv module if needed.
    """
    import csv

    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow(headers)
    n_keys = len(keys[0]) if keys else 0
    line = ",".join(["%s"] * n_keys + ["%r"] * matrix.shape[1])
    body = "\n".join([line % (*key, *row) for key, row in zip(keys, matrix.tolist())])
    return write_atomic(path, head.getvalue() + body + ("\n" if body else ""))

def _draw_table(draws: PSADraws) -> tuple[list[str], list[tuple], np.ndarray]:
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

def write_psa_files(draws: PSADraws, out_dir: Path, *, summary: dict, tables: dict, evppi_rows=None) -> list[Path]:
    """Write the draws, parameters, curves and summary of a PSA; returns the files written."""
    out_dir = Path(out_dir)
    written = []
    written.append(write_matrix_csv(out_dir / "results.csv", *_draw_table(draws)))
    written.append(write_matrix_csv(out_dir / "parameters.csv", ["draw", *draws.parameter_names],
                                    [(i,) for i in range(draws.n_draws)], draws.parameters))
    written.append(write_atomic(out_dir / DRAWS_FILE, _encode_draws(draws)))
    from costspine.analysis.psa import result_columns

    parameter_columns = {"draw": np.arange(draws.n_draws),
                         **{n: draws.parameters[:, j] for j, n in enumerate(draws.parameter_names)}}
    for name, columns in (("results.parquet", result_columns(draws)), ("parameters.parquet", parameter_columns)):
        path = _write_parquet(out_dir / name, columns)
        if path is not None:
            written.append(path)
    for name, table in tables.items():
        written.append(write_csv(out_dir / name, *table) if len(table) == 2 else write_matrix_csv(out_dir / name, *table))
    if evppi_rows:
        written.append(write_evppi_csv(out_dir / "evppi.csv", evppi_rows))
    written.append(write_json(out_dir / "summary.json", summary))
    return written

def write_evppi_csv(path: Path, rows: list[dict]) -> Path:
    headers = ["group", "parameters", "wtp", "evppi_per_person", "se", "evpi_per_person", "method", "draws"]
    return write_csv(path, headers, [[r["group"], "+".join(r["parameters"]), r["wtp"], r["evppi_per_person"], r["se"],
                                      r["evpi_per_person"], r["method"], r["draws"]] for r in rows])

def format_voi_text(summary: dict, evppi_rows) -> str:
    from costspine._text import format_table

    currency = summary["currency"]
    headers = ["wtp", f"EVPI per person ({currency})"]
    rows = [[w, summary["evpi_per_person"][wtp_key(w)]] for w in summary["wtp"]]
    if "evpi_population" in summary:
        headers.append(f"population EVPI ({currency})")
        rows = [row + [summary["evpi_population"][wtp_key(row[0])]] for row in rows]
    parts = [format_table(headers, rows, title="Expected value of perfect information")]
    if evppi_rows:
        parts.append(format_table(["parameters", "wtp", "EVPPI per person", "SE", "EVPI"],
                                  [[r["group"], r["wtp"], r["evppi_per_person"], r["se"], r["evpi_per_person"]]
                                   for r in evppi_rows],
                                  title=f"Expected value of partial perfect information ({evppi_rows[0]['method']})"))
        above = [r for r in evppi_rows if r["evppi_per_person"] > r["evpi_per_person"]]
        if above:
            parts[-1] += (f"\nNote: {len(above)} EVPPI estimate(s) exceed the EVPI; regression estimates carry noise (see SE), "
                          "and EVPPI cannot truly exceed EVPI — read them as ≈ EVPI.")
    return "\n\n".join(parts)

def _convergence_text(summary: dict) -> str:
    lines = ["Monte Carlo convergence of the mean incremental NMB (MCSE = sd/√draws):"]
    for s, by_wtp in summary["convergence"].items():
        for w, c in by_wtp.items():
            rel = f" ({c['mcse_relative']:.1%} of the mean)" if c["mcse_relative"] is not None else ""
            lines.append(f"  {s} vs {summary['comparator']} at {float(w):,.0f}: "
                         f"{c['mean_incremental_nmb']:,.2f} ± {c['mcse']:,.2f}{rel}")
    return "\n".join(lines)
