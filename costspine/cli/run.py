"""``costspine run``: base-case results of one or more scenarios, printed and written to files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def run_command(scenarios, *, out_dir: Path, xlsx_path: Path | None, argv: list[str], started: datetime,
                method: str = "cohort", individuals: int | None = None, seed: int | None = None, progress=None,
                figures: bool = False, warn=None) -> str:
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

    results = [run_scenario(s, method=method, individuals=individuals, seed=seed, progress=progress) for s in scenarios]
    if warn is not None:
        for scenario, result in zip(scenarios, results):
            for problem in find_scenario_warnings(scenario, result):
                warn(problem)
    write_run_report(results, out_dir=out_dir, xlsx_path=xlsx_path, argv=argv, started=started,
                     seed=seed if method == "microsim" else None, figures=figures)
    return format_run_text(results)
