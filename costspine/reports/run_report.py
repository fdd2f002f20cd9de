"""Files ``costspine run`` writes: results, parameters, trace, trajectory and MCSE tables, summary.json,
the workbook, figures and the manifest.

Everything is planned (and the workbook built) before anything is written, and every file is
written atomically, so a failure never leaves a half-written report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from costspine._files import distinct_folder_names, write_csv, write_json
from costspine.reports.build import (
    build_run_workbook,
    output_name,
    plan_run_figures,
    workbook_path,
)
from costspine.reports.build_compare import (
    build_comparison_workbook,
    plan_comparison_figures,
)
from costspine.reports.manifest import build_manifest
from costspine.reports.run_summary import (
    TRACE_HEADERS,
    describe_mcse,
    mcse_rows,
    parameter_rows,
    summarize_result,
    trace_rows,
    trajectory_rows,
)


def write_run_report(
    results,
    *,
    out_dir: Path,
    xlsx_path: Path | None,
    argv: list[str],
    started: datetime,
    seed: int | None = None,
    figures: bool = False,
    subgroups=None,
) -> list[dict]:
    """Write every file of a ``run`` of one scenario (or several side by side) into ``out_dir``.

    PNG figures (matplotlib, slow to import and draw) only when ``figures`` is true; the workbook
    always has the same charts. ``subgroups``, one tuple of
    :class:`~costspine.analysis.subgroups.SubgroupResults` per result (empty when it has none), adds
    ``summary.json``'s ``subgroups`` and, for one scenario, the workbook sheet "Subgroups". Returns
    the ``summary.json`` payload of each result.
    """
    from costspine.reports.subgroup_report import build_subgroup_sheet, summarize_subgroups

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="run")
    microsim = any(r.method == "microsim" for r in results)
    summaries = [summarize_result(r) for r in results]
    subgroups = subgroups or [()] * len(results)
    for r, summary, subs in zip(results, summaries, subgroups):
        if subs:
            wtp = r.scenario.analysis.wtp
            summary["subgroups"] = summarize_subgroups(subs, wtp=float(wtp[0]) if len(wtp) else None)
    if microsim:
        for r, summary in zip(results, summaries):
            summary["microsimulation"] = describe_mcse(r)
    scenarios = [r.scenario for r in results]
    method = "microsim" if microsim else "cohort"
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
        files.append(partial(write_csv, out_dir / "trace.csv", TRACE_HEADERS, trace_rows(r)))
        if r.indicator_names:
            files.append(
                partial(
                    write_csv,
                    out_dir / "trajectory.csv",
                    ["indicator", "strategy", "cycle", "time_years", "mean"],
                    trajectory_rows(r),
                )
            )
        if method == "microsim":
            files.append(partial(write_csv, out_dir / "mcse.csv", ["strategy", "quantity", "mean", "mcse"], mcse_rows(r)))
        files.append(partial(write_json, out_dir / "summary.json", summaries[0]))
        plots = plan_run_figures(r, folder=out_dir) if figures else []
    else:
        folders = distinct_folder_names([r.scenario.name for r in results])  # same-named scenarios: name, name-2
        for r, summary, folder in zip(results, summaries, folders):
            sub = out_dir / folder
            files.append(partial(write_json, sub / "summary.json", summary))
            files.append(partial(write_csv, sub / "parameters.csv", param_headers, parameter_rows(r)))
            files.append(partial(write_csv, sub / "trace.csv", TRACE_HEADERS, trace_rows(r)))
        files.append(partial(write_json, out_dir / "summary.json", {"scenarios": summaries}))
        plots = plan_comparison_figures(results, folder=out_dir) if figures else []
    paths = [f.args[0] for f in files] + [f.keywords["path"] for f in plots] + [xlsx]
    inputs = list(dict.fromkeys(f for s in scenarios for f in s.files))
    manifest = build_manifest(
        command="run",
        argv=list(argv),
        inputs=inputs,
        seed=seed if method == "microsim" else None,
        started=started,
        scenarios=scenarios,
        outputs=[output_name(p, out_dir) for p in paths],
    )
    if len(results) == 1:
        wtp = results[0].scenario.analysis.wtp
        sheet = build_subgroup_sheet(subgroups[0], wtp=float(wtp[0]) if len(wtp) else None)
        book = build_run_workbook(results[0], manifest=manifest, extra_sheets=() if sheet is None else (sheet,))
    else:
        book = build_comparison_workbook(results, manifest=manifest)

    from costspine.reports.excel import write_workbook

    for write in files + plots:
        write()
    write_workbook(book, xlsx)
    manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_json(out_dir / "manifest.json", manifest)
    return summaries
