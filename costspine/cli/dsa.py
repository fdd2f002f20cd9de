"""``costspine dsa``: one-way sensitivity analysis, tornado data and threshold values, as files.

The analysis is :func:`costspine.analysis.dsa.run_dsa`; this module writes its results
(atomically, after everything is computed).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine._files import write_csv, write_json
from costspine.reports.manifest import build_manifest

TORNADO_COLUMNS = ["strategy", "comparator", "wtp", "rank", "parameter", "group", "range_source", "base_value", "low_value",
                   "high_value", "inc_cost_low", "inc_cost_high", "inc_effect_low", "inc_effect_high", "inc_nmb_base",
                   "inc_nmb_low", "inc_nmb_high", "swing_nmb", "icer_base", "icer_low", "icer_high", "swing_icer"]


def summarize_dsa(result, *, by: str) -> dict:
    """Machine-readable DSA results (``summary.json``)."""
    from costspine.reports.psa_files import wtp_key

    scenario = result.scenario
    tornado = result.tornado(by=by)
    ranked = {}
    for row in tornado:
        key = f"{row['strategy']} vs {row['comparator']}"
        ranked.setdefault(key, {}).setdefault(wtp_key(row["wtp"]), []).append(
            {k: row[k] for k in ("parameter", "low_value", "high_value", "inc_nmb_low", "inc_nmb_high", "swing_nmb",
                                 "icer_low", "icer_high", "swing_icer")})
    thresholds = {}
    for t in result.thresholds:
        thresholds.setdefault(wtp_key(t.wtp), []).append({"parameter": t.parameter, "value": t.value, "optimal_below": t.below,
                                                         "optimal_above": t.above})
    return {
        "scenario": scenario.name, "title": scenario.title, "currency": scenario.settings.currency,
        "effect": scenario.analysis.effect, "comparator": scenario.analysis.comparator,
        "wtp": [float(w) for w in result.wtp], "range": result.range_kind, "ranked_by": by,
        "base_case": {s: {"cost_total": float(result.base_cost[k]), "effect": float(result.base_effect[k])}
                      for k, s in enumerate(result.strategies)},
        "parameters": [{"parameter": r.name, "group": r.group, "family": r.family, "base": r.base, "low": r.low,
                        "high": r.high, "source": r.source} for r in result.ranges],
        "tornado": ranked,
        "thresholds": thresholds,
        "threshold_search": "within each parameter's [low, high] range",
    }


def run_dsa_command(scenario, *, range_kind: str, by: str = "nmb", wtp=None, out_dir: Path, progress=None,
                    argv: list[str], started: datetime, xlsx_path=None) -> str:
    """Run the one-way DSA of ``scenario``, write its files (the workbook to ``xlsx_path`` if given,
    else ``dsa.xlsx`` in ``out_dir``) and return the text to print."""
    from costspine.analysis.dsa import run_dsa
    from costspine.analysis.psa import prepare_posterior
    from costspine.reports.build import output_name, with_about, workbook_path

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="dsa")

    pools, _ = prepare_posterior(scenario, progress=progress)
    result = run_dsa(scenario, range_kind=range_kind, wtp=wtp, posterior_pools=pools)
    out_dir = Path(out_dir)
    from costspine.reports.build_analyses import build_dsa_workbook, plan_dsa_figures
    from costspine.reports.excel import write_workbook

    summary = summarize_dsa(result, by=by)
    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    book = build_dsa_workbook(result, summary=summary, by=by, manifest={})
    figures = plan_dsa_figures(result, by=by, folder=out_dir)
    written = [
        write_csv(out_dir / "tornado.csv", TORNADO_COLUMNS, ([row[k] for k in TORNADO_COLUMNS] for row in result.tornado(by=by))),
        write_csv(out_dir / "ranges.csv", ["parameter", "group", "family", "base", "low", "high", "source"],
                  [[r.name, r.group, r.family, r.base, r.low, r.high, r.source] for r in result.ranges]),
        write_csv(out_dir / "thresholds.csv", ["wtp", "parameter", "threshold", "optimal_below", "optimal_above"],
                  [[t.wtp, t.parameter, t.value, t.below, t.above] for t in result.thresholds]),
        write_json(out_dir / "summary.json", summary),
    ]
    written += [plot() for plot in figures]
    manifest = build_manifest(command="dsa", argv=list(argv), inputs=list(scenario.files), seed=None, started=started,
                              outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir)])
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    return result.summary(by=by)
