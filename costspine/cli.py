"""The ``costspine`` command: thin click commands over the package's functions.

Every command funnels user mistakes (:class:`~costspine.errors.CostspineError`) into
``Error: ...`` on stderr and the exit code of the error's class; a bug keeps its traceback.
Heavy libraries (pandas, pymc, arviz, openpyxl, dask) are imported only inside the commands that
need them, so ``costspine --help`` and ``costspine validate`` start fast.
"""

from __future__ import annotations

import functools
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from costspine import __version__
from costspine.errors import CostspineError

BUNDLED_SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _friendly(func):
    """Turn CostspineError into a clean message and exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CostspineError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(int(exc.exit_code))

    return wrapper


def _seed_option(func):
    return click.option("--seed", type=click.IntRange(min=0), default=20260101, show_default=True,
                        help="One seed per run; split into independent streams per component.")(func)


def _out_option(func):
    return click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Output folder (default: reports/<scenario>/<command>/).")(func)


def _quiet_option(func):
    return click.option("--quiet", is_flag=True, help="Print nothing but errors.")(func)


def default_out_dir(names: list[str], command: str) -> Path:
    return Path("reports") / "+".join(names) / command


def _load_all(paths: tuple[Path, ...]):
    """Load every scenario; report every file's problems together."""
    from costspine.errors import ScenarioError
    from costspine.scenario import load_scenario

    scenarios, problems = [], []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return scenarios


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="costspine")
def cli():
    """Health-economic models of spine-pain care: cohort and microsimulation models, PSA, VOI,
    budget impact and Excel reports.

    \b
    Start with:
      costspine scenarios                          list the bundled scenarios
      costspine run scenarios/spine/base_case.toml base case with incremental results
    """


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@_out_option
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the Excel workbook here (default: run.xlsx in the output folder).")
@_quiet_option
@_friendly
def run(scenarios, out_dir, xlsx_path, quiet):
    """Deterministic base case of one or more SCENARIOS (side by side when several)."""
    from costspine.runner import run_command

    started = datetime.now(timezone.utc)
    loaded = _load_all(scenarios)
    out_dir = out_dir or default_out_dir([s.name for s in loaded], "run")
    text = run_command(loaded, out_dir=out_dir, xlsx_path=xlsx_path, argv=sys.argv, started=started)
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@_friendly
def validate(scenarios):
    """Check SCENARIOS: print every problem of every file, change nothing."""
    from costspine.errors import ScenarioError
    from costspine.model import build_model_inputs
    from costspine.scenario import load_scenario

    problems = []
    for path in scenarios:
        try:
            build_model_inputs(load_scenario(path))
            click.echo(f"ok  {path}")
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)


@cli.command()
@click.argument("evidence", required=False, type=click.Path(path_type=Path))
@click.option("--draws", type=click.IntRange(min=10), default=None, help="Posterior draws per chain (default: the evidence file's).")
@click.option("--tune", type=click.IntRange(min=0), default=None, help="Tuning steps per chain (default: the evidence file's).")
@click.option("--chains", type=click.IntRange(min=1), default=None, help="Chains (default: the evidence file's).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed (default: the evidence file's).")
@_out_option
@click.option("--allow-unconverged", is_flag=True, help="Exit 0 even when R-hat, ESS or divergence checks fail.")
@_friendly
def fit(evidence, draws, tune, chains, seed, out_dir, allow_unconverged):
    """Bayesian calibration of a scenario to trial EVIDENCE (default: the bundled SPINE CARE data).

    Writes posterior draws (CSV and ArviZ NetCDF), diagnostics and a posterior predictive check.
    """
    from costspine.calibration import run_fit_command

    started = datetime.now(timezone.utc)
    text, _ = run_fit_command(evidence, draws=draws, tune=tune, chains=chains, seed=seed, out_dir=out_dir,
                              allow_unconverged=allow_unconverged, argv=sys.argv, started=started,
                              echo=lambda line: click.echo(line, err=True))
    click.echo(text)


@cli.command(name="scenarios")
def list_scenarios():
    """List the bundled scenario files."""
    import tomllib

    if not BUNDLED_SCENARIOS.is_dir():
        click.echo("No bundled scenarios found (install costspine from a source checkout).")
        return
    for path in sorted(BUNDLED_SCENARIOS.rglob("*.toml")):
        try:
            title = tomllib.loads(path.read_text(encoding="utf-8")).get("model", {}).get("title", "")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            title = "(unreadable)"
        click.echo(f"{path.relative_to(BUNDLED_SCENARIOS.parent)}  {title}")


def main():
    """Console entry point. click exits 2 on usage errors, matching ``ExitCode.USAGE_ERROR``."""
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()

