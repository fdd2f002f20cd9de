"""``costspine run``: base-case results of one or more scenarios, printed and written to files.

Everything is computed before anything is written, and every file is written atomically, so a
failure never leaves a half-written report.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from costspine.model import CohortResult, run_cohort
from costspine.reports.manifest import build_manifest, write_csv, write_json
from costspine.reports.text import format_table, report_times


def summarize_result(result: CohortResult) -> dict:
    """Machine-readable headline results of a (base-case) run."""
    scenario = result.scenario
    cea = result.cea()
    strategies = {}
    for k, strategy in enumerate(result.strategies):
        entry = {
            "label": scenario.strategy_labels[strategy],
            "cost_total": float(result.total_cost[:, k].mean()),
            "cost_by_category": {c: float(result.costs[:, k, i].mean()) for i, c in enumerate(result.categories)},
            "cost_total_undiscounted": float(result.costs_undiscounted[:, k].sum(axis=-1).mean()),
            "cost_by_category_undiscounted": {c: float(result.costs_undiscounted[:, k, i].mean()) for i, c in enumerate(result.categories)},
            "outcomes": {o: float(result.outcomes[:, k, i].mean()) for i, o in enumerate(result.outcome_names)},
            "outcomes_undiscounted": {o: float(result.outcomes_undiscounted[:, k, i].mean()) for i, o in enumerate(result.outcome_names)},
            "incremental_cost": float(cea.incremental_cost[k]),
            "incremental_effect": float(cea.incremental_effect[k]),
            "icer": float(cea.icer_vs_comparator[k]),
            "versus_comparator": cea.describe_vs_comparator(k),
            "frontier_status": cea.status[k],
            "frontier_icer": float(cea.frontier_icer[k]),
            "nmb": {str(w): float(cea.nmb[k, j]) for j, w in enumerate(cea.wtp)},
        }
        if result.indicator_names:
            entry["indicators"] = {
                name: {f"{t:g}": float(np.nanmean(result.indicator_at_years(name, t)[:, k])) for t in report_times(result)}
                for name in result.indicator_names
            }
        strategies[strategy] = entry
    settings = scenario.settings
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "description": scenario.description,
        "currency": settings.currency,
        "price_year": settings.price_year,
        "horizon_years": settings.n_cycles * settings.cycle_years,
        "effect": scenario.analysis.effect,
        "comparator": scenario.analysis.comparator,
        "wtp": list(scenario.analysis.wtp),
        "strategies": strategies,
    }


def parameter_rows(result: CohortResult) -> list[list]:
    """One row per parameter: name, base-case value, distribution, arguments, source."""
    rows = []
    for spec in result.scenario.parameters:
        if spec.family == "dirichlet":
            for name, value in spec.base_values().items():
                rows.append([name, value, "dirichlet", f"group {spec.name}, alpha={list(spec.args['alpha'])}", spec.source])
        elif spec.family == "derived":
            rows.append([spec.name, float(np.ravel(result.parameters.get(spec.name, [np.nan]))[0]) if spec.name in result.parameters else "", "derived", spec.expression.text, spec.source])
        else:
            args = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in spec.args.items())
            rows.append([spec.name, spec.value, spec.family, args, spec.source])
    return rows


def trajectory_rows(result: CohortResult) -> list[list]:
    """Indicator means (e.g. ODI) per strategy at every trace point."""
    cycle_years = result.scenario.settings.cycle_years
    rows = []
    for i, name in enumerate(result.indicator_names):
        for k, strategy in enumerate(result.strategies):
            for t in range(result.trace.shape[2]):
                rows.append([name, strategy, t, t * cycle_years, float(np.nanmean(result.indicators[:, k, t, i]))])
    return rows


def format_comparison(results: list[CohortResult]) -> str:
    """Side-by-side table of several scenarios: cost by category, outcomes and indicators."""
    categories = list(dict.fromkeys(c for r in results for c in r.categories))
    outcomes = list(dict.fromkeys(o for r in results for o in r.outcome_names))
    currency = results[0].scenario.settings.currency
    headers = ["scenario / strategy"] + [f"{c}" for c in categories] + [f"total ({currency})"] + outcomes
    rows = []
    for r in results:
        for k, strategy in enumerate(r.strategies):
            costs = {c: r.costs[:, k, i].mean() for i, c in enumerate(r.categories)}
            row = [f"{r.scenario.name} / {strategy}"] + [costs.get(c, 0.0) for c in categories] + [r.total_cost[:, k].mean()]
            row += [r.outcomes[:, k, r.outcome_names.index(o)].mean() if o in r.outcome_names else None for o in outcomes]
            rows.append(row)
    return format_table(headers, rows, title="Scenario comparison (discounted, per patient)")


def run_command(scenarios, *, out_dir: Path, xlsx_path: Path | None, argv: list[str], started: datetime) -> str:
    """Run each scenario's base case, write the report files and return the text to print."""
    results = [run_cohort(s) for s in scenarios]
    summaries = [summarize_result(r) for r in results]
    text = "\n\n".join(r.summary() for r in results)
    if len(results) > 1:
        text += "\n\n" + format_comparison(results)

    out_dir = Path(out_dir)
    written = []
    rows = []
    for r in results:
        for k, strategy in enumerate(r.strategies):
            rows.append([r.scenario.name, strategy, *r.costs[0, k], r.total_cost[0, k], *r.outcomes[0, k]])
    if len(results) == 1:
        r = results[0]
        headers = ["scenario", "strategy", *[f"cost_{c}" for c in r.categories], "cost_total", *r.outcome_names]
        written.append(write_csv(out_dir / "results.csv", headers, rows))
        written.append(write_csv(out_dir / "parameters.csv", ["parameter", "value", "distribution", "arguments", "source"], parameter_rows(r)))
        if r.indicator_names:
            written.append(write_csv(out_dir / "trajectory.csv", ["indicator", "strategy", "cycle", "time_years", "mean"], trajectory_rows(r)))
        written.append(write_json(out_dir / "summary.json", summaries[0]))
    else:
        for r, summary in zip(results, summaries):
            sub = out_dir / r.scenario.name
            written.append(write_json(sub / "summary.json", summary))
            written.append(write_csv(sub / "parameters.csv", ["parameter", "value", "distribution", "arguments", "source"], parameter_rows(r)))
        written.append(write_json(out_dir / "summary.json", {"scenarios": summaries}))
    inputs = list(dict.fromkeys(f for s in scenarios for f in s.files))
    manifest = build_manifest(command="run", argv=list(argv), inputs=inputs, seed=None, started=started,
                              outputs=[str(p.relative_to(out_dir)) for p in written])
    write_json(out_dir / "manifest.json", manifest)
    return text
