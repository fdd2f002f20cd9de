"""``costspine run``: base-case results of one or more scenarios, printed and written to files.

Everything is computed before anything is written, and every file is written atomically, so a
failure never leaves a half-written report.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import numpy as np

from costspine.errors import UsageError
from costspine.model import CohortResult, evaluate_parameters, run_cohort
from costspine.reports.build import build_run_workbook, output_name, plan_run_figures, workbook_path
from costspine.reports.build_compare import build_comparison_workbook, plan_comparison_figures
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
    """One row per parameter of the result's scenario: see :func:`scenario_parameter_rows`."""
    return scenario_parameter_rows(result.scenario)


def scenario_parameter_rows(scenario) -> list[list]:
    """One row per parameter: name, base-case value, distribution, arguments, source.

    Derived parameters show their base-case value (the expression evaluated on every other
    parameter's base case), so each number of the model can be traced.
    """
    rows = []
    derived = {}
    if any(spec.family == "derived" for spec in scenario.parameters):
        derived = evaluate_parameters(scenario)
    for spec in scenario.parameters:
        if spec.family == "dirichlet":
            for name, value in spec.base_values().items():
                rows.append([name, value, "dirichlet", f"group {spec.name}, alpha={list(spec.args['alpha'])}", spec.source])
        elif spec.family == "derived":
            rows.append([spec.name, float(derived[spec.name][0]), "derived", spec.expression.text, spec.source])
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
    indicators = list(dict.fromkeys(i for r in results for i in r.indicator_names))
    times = list(dict.fromkeys(t for r in results for t in report_times(r))) if indicators else []
    currency = results[0].scenario.settings.currency
    headers = ["scenario / strategy"] + [f"{c}" for c in categories] + [f"total ({currency})"] + outcomes
    headers += [f"{name} {t:g} y" for name in indicators for t in times]
    rows = []
    for r in results:
        for k, strategy in enumerate(r.strategies):
            costs = {c: r.costs[:, k, i].mean() for i, c in enumerate(r.categories)}
            row = [f"{r.scenario.name} / {strategy}"] + [costs.get(c, 0.0) for c in categories] + [r.total_cost[:, k].mean()]
            row += [r.outcomes[:, k, r.outcome_names.index(o)].mean() if o in r.outcome_names else None for o in outcomes]
            row += [float(np.nanmean(r.indicator_at_years(name, t)[:, k])) if name in r.indicator_names else None
                    for name in indicators for t in times]
            rows.append(row)
    return format_table(headers, rows, title="Scenario comparison (discounted, per patient)")


def run_command(scenarios, *, out_dir: Path, xlsx_path: Path | None, argv: list[str], started: datetime,
                method: str = "cohort", individuals: int | None = None, seed: int | None = None, progress=None) -> str:
    """Run each scenario's base case, write the report files and return the text to print.

    ``method="microsim"`` runs :func:`costspine.microsim.run_microsim` (``individuals`` per
    strategy, ``seed``) instead of the cohort model and adds Monte Carlo standard errors
    (``summary.json`` key ``microsimulation``, ``mcse.csv``).
    """
    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="run")
    if method == "microsim":
        from costspine.microsim import run_microsim

        results = [run_microsim(s, n_individuals=individuals, seed=seed, progress=progress) for s in scenarios]
    elif individuals is not None:
        raise UsageError("--individuals applies to --method microsim only")
    else:
        results = [run_cohort(s) for s in scenarios]
    summaries = [summarize_result(r) for r in results]
    if method == "microsim":
        from costspine.microsim import describe_mcse, mcse_rows

        for r, summary in zip(results, summaries):
            summary["microsimulation"] = describe_mcse(r)
    text = "\n\n".join(r.summary() for r in results)
    if len(results) > 1:
        text += "\n\n" + format_comparison(results)

    out_dir = Path(out_dir)
    files = []  # writers (functools.partial, path first): all planned, and the workbook built, before anything is written
    rows = []
    for r in results:
        for k, strategy in enumerate(r.strategies):
            rows.append([r.scenario.name, strategy, *r.costs[0, k], r.total_cost[0, k], *r.outcomes[0, k]])
    param_headers = ["parameter", "value", "distribution", "arguments", "source"]
    if len(results) == 1:
        r = results[0]
        headers = ["scenario", "strategy", *[f"cost_{c}" for c in r.categories], "cost_total", *r.outcome_names]
        files.append(partial(write_csv, out_dir / "results.csv", headers, rows))
        files.append(partial(write_csv, out_dir / "parameters.csv", param_headers, parameter_rows(r)))
        if r.indicator_names:
            files.append(partial(write_csv, out_dir / "trajectory.csv", ["indicator", "strategy", "cycle", "time_years", "mean"], trajectory_rows(r)))
        if method == "microsim":
            files.append(partial(write_csv, out_dir / "mcse.csv", ["strategy", "quantity", "mean", "mcse"], mcse_rows(r)))
        files.append(partial(write_json, out_dir / "summary.json", summaries[0]))
        figures = plan_run_figures(r, summaries[0], folder=out_dir)
    else:
        for r, summary in zip(results, summaries):
            sub = out_dir / r.scenario.name
            files.append(partial(write_json, sub / "summary.json", summary))
            files.append(partial(write_csv, sub / "parameters.csv", param_headers, parameter_rows(r)))
        files.append(partial(write_json, out_dir / "summary.json", {"scenarios": summaries}))
        figures = plan_comparison_figures(results, summaries, folder=out_dir)
    paths = [f.args[0] for f in files] + [f.keywords["path"] for f in figures] + [xlsx]
    inputs = list(dict.fromkeys(f for s in scenarios for f in s.files))
    manifest = build_manifest(command="run", argv=list(argv), inputs=inputs, seed=seed if method == "microsim" else None, started=started,
                              outputs=[output_name(p, out_dir) for p in paths])
    if len(results) == 1:
        book = build_run_workbook(results[0], summary=summaries[0], manifest=manifest)
    else:
        book = build_comparison_workbook(results, summaries, manifest=manifest)

    from costspine.reports.excel import write_workbook

    for write in files + figures:
        write()
    write_workbook(book, xlsx)
    manifest["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_json(out_dir / "manifest.json", manifest)
    return text
