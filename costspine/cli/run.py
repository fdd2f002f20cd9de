"""``costspine run``: base-case results of one or more scenarios, printed and written to files."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from costspine.cli.options import (
    ScenarioPath,
    default_out_dir,
    describe_edits,
    echo_warning,
    figures_option,
    friendly,
    inputs_option,
    load_all,
    method_options,
    microsim_progress,
    out_option,
    quiet_option,
    seed_option,
    writing_into,
)


def run_command(
    scenarios,
    *,
    out_dir: Path,
    xlsx_path: Path | None,
    argv: list[str],
    started: datetime,
    method: str = "cohort",
    individuals: int | None = None,
    seed: int | None = None,
    progress=None,
    figures: bool = False,
    warn=None,
    notice=None,
) -> str:
    """Run each scenario's base case, write the report files and return the text to print.

    ``method="microsim"`` simulates ``individuals`` per strategy with ``seed`` instead of the
    cohort model and adds Monte Carlo standard errors (``summary.json`` key ``microsimulation``,
    ``mcse.csv``). PNG figures are drawn only with ``figures=True`` (``--figures``). ``warn`` is called
    with each scenario's warnings (:func:`costspine.simulate.run.find_scenario_warnings`, reusing a
    cohort run's trace).
    """
    from costspine.reports.run_report import write_run_report
    from costspine.reports.text import format_run_text
    from costspine.simulate.run import find_scenario_warnings, run_scenario

    results = [
        run_scenario(s, method=method, individuals=individuals, seed=seed, progress=progress, notice=notice) for s in scenarios
    ]
    if warn is not None:
        for scenario, result in zip(scenarios, results):
            for problem in find_scenario_warnings(scenario, result):
                warn(problem)
    from costspine.analysis.subgroups import run_subgroups

    subgroups = [run_subgroups(s, r) for s, r in zip(scenarios, results)]
    write_run_report(
        results,
        subgroups=subgroups,
        out_dir=out_dir,
        xlsx_path=xlsx_path,
        argv=argv,
        started=started,
        seed=seed if method == "microsim" else None,
        figures=figures,
    )
    text = format_run_text(results)
    if len(results) == 1 and subgroups[0]:
        from costspine.reports.subgroup_report import format_subgroup_text

        wtp = scenarios[0].analysis.wtp
        text += "\n\n" + format_subgroup_text(subgroups[0], wtp=float(wtp[0]) if len(wtp) else None)
    return text


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=ScenarioPath())
@out_option
@click.option(
    "--xlsx",
    "xlsx_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the Excel workbook here instead of run.xlsx in the output folder (several scenarios: one comparison workbook).",
)
@inputs_option
@figures_option
@method_options
@seed_option
@quiet_option
@friendly
def run(scenarios, out_dir, xlsx_path, inputs_path, figures, method, individuals, seed, quiet):
    """Deterministic base case of one or more SCENARIOS (side by side when several)."""

    started = datetime.now(UTC)
    loaded = load_all(scenarios, inputs=inputs_path)
    if not quiet and inputs_path is not None:
        click.echo(describe_edits(loaded, inputs_path) + "\n")
    out_dir = out_dir or default_out_dir([s.name for s in loaded], "run")
    with writing_into(out_dir, xlsx_path) as (staging, xlsx):
        text = run_command(
            loaded,
            out_dir=staging,
            xlsx_path=xlsx,
            argv=sys.argv,
            started=started,
            method=method,
            individuals=individuals,
            seed=seed,
            progress=microsim_progress(method, quiet),
            figures=figures,
            warn=echo_warning,
            notice=None if quiet else lambda line: click.echo(line, err=True),
        )
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")
