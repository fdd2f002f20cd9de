"""The ``costspine`` click group: options and the error funnel, one thin command per verb.

Every command turns user mistakes (:class:`~costspine.errors.CostspineError`) into
``Error: ...`` on stderr and the exit code of the error's class (1 analysis, 2 options, 3 files);
Ctrl-C exits 130; a bug prints one line and the path of a file holding its traceback (the
traceback itself is not printed: it may quote data).
Heavy libraries (pandas, pymc, arviz, openpyxl, dask) are imported only inside the commands that
need them, so ``costspine --help`` and ``costspine validate`` start fast.
"""

from __future__ import annotations

import functools
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from costspine._version import __version__
from costspine.errors import CostspineError

INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), as shells report it."""


def _friendly(func):
    """Turn CostspineError into a clean message and exit code; Ctrl-C into exit 130; a bug into one line.

    An operating-system error on a named file (read-only folder, full disk) prints the file and
    the reason and exits 3. A bug (any other exception) prints ``Error: internal error
    (TypeError) ...`` and the path of a saved traceback file, and exits 1.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CostspineError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(INTERRUPTED)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if isinstance(exc, OSError) and exc.filename is not None:  # read-only folder, full disk, permissions
                click.echo(f"Error: {exc.filename}: {exc.strerror or type(exc).__name__}", err=True)
                sys.exit(3)
            # a bug: one line here, the traceback in a file
            saved = save_traceback(exc)
            where = f"the traceback is saved in {saved}" if saved else "the traceback could not be saved"
            click.echo(f"Error: internal error ({type(exc).__name__}) in costspine {__version__}; {where} — "
                       "please report it with that file", err=True)
            sys.exit(1)

    return wrapper


def save_traceback(exc: BaseException) -> str | None:
    """Write ``exc``'s traceback to a new private file in the temporary folder; return its path (None if impossible)."""
    import os
    import tempfile
    import traceback

    try:
        fd, path = tempfile.mkstemp(prefix="costspine-traceback-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"costspine {__version__}\nargv: {sys.argv!r}\n\n")
            handle.write("".join(traceback.format_exception(exc)))
    except OSError:
        return None
    return path


class ScenarioPath(click.Path):
    """A scenario argument: an existing file, as ``click.Path`` checks it, except that a symlink
    that cannot be followed (a loop, a dangling link) goes on to the scenario reader, which names
    the problem and exits 3 as for any unreadable scenario file."""

    def __init__(self):
        super().__init__(exists=True, dir_okay=False, path_type=Path)

    def convert(self, value, param, ctx):
        import os

        if isinstance(value, (str, Path)) and os.path.islink(value) and not os.path.exists(value):
            return Path(value)
        return super().convert(value, param, ctx)


def _seed_option(func):
    return click.option("--seed", type=click.IntRange(min=0), default=20260101, show_default=True,
                        help="One seed per run; split into independent streams per component.")(func)


def _out_option(func):
    return click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Output folder (default: reports/<scenario>/<command>/).")(func)


def _quiet_option(func):
    return click.option("--quiet", is_flag=True, help="Print nothing but errors.")(func)


def _figures_option(func):
    return click.option("--figures", is_flag=True,
                        help="Also draw the PNG figures (the workbook has the same charts, drawn by Excel).")(func)


def _xlsx_option(command: str):
    return click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help=f"Write the Excel workbook here instead of {command}.xlsx in the output folder.")


def _method_options(func):
    func = click.option("--individuals", type=click.IntRange(min=2), default=None,
                        help="Microsimulation: individuals per strategy (default: the scenario's "
                             "[microsimulation] individuals).")(func)
    return click.option("--method", type=click.Choice(["cohort", "microsim"]), default="cohort", show_default=True,
                        help="Cohort (Markov) model, or individual-level microsimulation with Monte Carlo "
                             "standard errors (docs/microsimulation.md).")(func)


def _microsim_progress(method: str, quiet: bool):
    """A progress bar on stderr for long microsimulations (terminal only), else None."""
    if method != "microsim" or quiet:
        return None
    from costspine.progress import ProgressBar

    bars = {}

    def report(done: int, total: int) -> None:
        bar = bars.setdefault("bar", ProgressBar(total, label="microsimulation", unit="individuals"))
        bar.advance(done - bar.done)
        if done >= total:
            bar.close()

    return report


def default_out_dir(names: list[str], command: str) -> Path:
    return Path("reports") / "+".join(names) / command


def _load_all(paths: tuple[Path, ...]):
    """Load every scenario; report every file's problems together."""
    from costspine.errors import ScenarioError
    from costspine.scenario.load import load_scenario

    scenarios, problems = [], []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as exc:
            problems.extend(p for p in exc.problems if p not in problems)  # a shared parent: say it once
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
      costspine init base_case my_model            copy one into my_model/ to edit
      costspine run scenarios/spine/base_case.toml base case with incremental results
    """


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=ScenarioPath())
@_out_option
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the Excel workbook here instead of run.xlsx in the output folder "
                   "(several scenarios: one comparison workbook).")
@_figures_option
@_method_options
@_seed_option
@_quiet_option
@_friendly
def run(scenarios, out_dir, xlsx_path, figures, method, individuals, seed, quiet):
    """Deterministic base case of one or more SCENARIOS (side by side when several)."""
    from costspine.cli.run import run_command

    started = datetime.now(UTC)
    loaded = _load_all(scenarios)
    out_dir = out_dir or default_out_dir([s.name for s in loaded], "run")
    text = run_command(loaded, out_dir=out_dir, xlsx_path=xlsx_path, argv=sys.argv, started=started,
                       method=method, individuals=individuals, seed=seed, progress=_microsim_progress(method, quiet),
                       figures=figures, warn=_echo_warning)
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")


def _echo_warning(problem) -> None:
    """Print a warning on stderr as ``warning: <file>: <key>: <message>`` (a warning is not an error)."""
    click.echo(f"warning: {problem}", err=True)


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=ScenarioPath())
@_friendly
def validate(scenarios):
    """Check SCENARIOS: print every problem of every file (every section, [budget_impact] and its
    policy file included), change nothing."""
    from costspine.errors import ScenarioError
    from costspine.simulate.run import check_scenario

    problems = []
    for path in scenarios:
        try:
            warnings = []
            check_scenario(path, warnings=warnings)
            click.echo(f"ok  {path}")
            for problem in warnings:
                _echo_warning(problem)
        except ScenarioError as exc:
            problems.extend(p for p in exc.problems if p not in problems)  # a shared parent: say it once
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
    from costspine.cli.fit import run_fit_command

    started = datetime.now(UTC)
    text, _ = run_fit_command(evidence, draws=draws, tune=tune, chains=chains, seed=seed, out_dir=out_dir,
                              allow_unconverged=allow_unconverged, argv=sys.argv, started=started,
                              echo=lambda line: click.echo(line, err=True))
    click.echo(text)


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--members", type=click.FloatRange(min=0, min_open=True, max=10_000_000_000), default=None,
              help="Average plan members in year 1 (replaces budget_impact.members; at most 10 billion).")
@click.option("--years", type=click.IntRange(min=1), default=None,
              help="Budget horizon in years, at most the file's budget_impact.years (default: the file's).")
@click.option("--draws", type=click.IntRange(min=0), default=0, show_default=True,
              help="Parameter draws for 95% intervals; 0 = deterministic base case.")
@_seed_option
@_out_option
@_xlsx_option("bia")
@_quiet_option
@_friendly
def bia(scenarios, members, years, draws, seed, out_dir, xlsx_path, quiet):
    """Budget impact for a plan population over years, from SCENARIOS with a [budget_impact]
    section (side by side when several). See docs/budget-impact.md."""
    from costspine.cli.bia import run_bia_command

    started = datetime.now(UTC)
    loaded = _load_all(scenarios)
    out_dir = out_dir or default_out_dir([s.name for s in loaded], "bia")
    text = run_bia_command(loaded, members=members, years=years, draws=draws, seed=seed, out_dir=out_dir,
                           argv=sys.argv, started=started,
                           progress=None if quiet else lambda line: click.echo(line, err=True), xlsx_path=xlsx_path)
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")


def _wtp_option(func):
    return click.option("--wtp", default=None, metavar="W1,W2,...",
                        help="Willingness-to-pay thresholds (default: the scenario's [analysis] wtp).")(func)


def _population_options(func):
    func = click.option("--discount", type=click.FloatRange(min=0, max=1, max_open=True), default=None,
                        help="Annual discount rate for population EVPI (default: the scenario's discount_outcomes).")(func)
    func = click.option("--horizon-years", type=click.IntRange(min=1), default=None,
                        help="Years the decision applies, for population EVPI.")(func)
    return click.option("--population", type=click.FloatRange(min=0), default=None,
                        help="People affected by the decision each year, for population EVPI.")(func)


def _evppi_option(func):
    return click.option("--evppi", multiple=True, metavar="PARAM[,PARAM...]",
                        help="EVPPI of these parameters jointly; repeat for several groups; 'each' = every sampled "
                             "parameter alone; a Dirichlet row's name = all its components.")(func)


@cli.command()
@click.argument("scenario", type=ScenarioPath())
@click.option("--draws", type=click.IntRange(min=2), default=1000, show_default=True, help="Number of PSA draws.")
@_seed_option
@_wtp_option
@_evppi_option
@click.option("--evppi-method", type=click.Choice(["gam", "gp"]), default="gam", show_default=True,
              help="Regression for EVPPI: gam (1-4 parameters) or gp (any number).")
@_population_options
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Run chunks on a local Dask cluster with N worker processes.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run chunks on an existing Dask distributed cluster.")
@click.option("--resume", is_flag=True, help="Reuse the chunks an interrupted run saved in OUT/chunks/.")
@_method_options
@_out_option
@_xlsx_option("psa")
@click.option("--csv", "csv_tables", is_flag=True,
              help="Also write the per-draw tables results.csv, parameters.csv and ce_plane.csv (and Parquet "
                   "copies when pyarrow is installed); draws.npz holds the same numbers.")
@_figures_option
@_quiet_option
@_friendly
def psa(scenario, draws, seed, wtp, evppi, evppi_method, population, horizon_years, discount, workers, scheduler,
        resume, method, individuals, out_dir, xlsx_path, csv_tables, figures, quiet):
    """Probabilistic sensitivity analysis of SCENARIO: draws, CEAC/CEAF, EVPI (and EVPPI).

    Same seed, same results (bit for bit) whatever --workers, --scheduler or --resume.
    """
    from costspine.cli.options import parse_wtp
    from costspine.cli.psa import run_psa_command
    from costspine.progress import ProgressBar

    started = datetime.now(UTC)
    (loaded,) = _load_all((scenario,))
    out_dir = out_dir or default_out_dir([loaded.name], "psa")
    try:
        with ProgressBar(draws, label="PSA", unit="draws", enabled=None if not quiet else False) as bar:
            text = run_psa_command(loaded, draws=draws, seed=seed, wtp=parse_wtp(wtp), out_dir=out_dir, workers=workers,
                                   method=method, individuals=individuals,
                                   scheduler=scheduler, resume=resume, evppi=evppi, evppi_method=evppi_method,
                                   population=population, horizon_years=horizon_years, discount=discount,
                                   on_chunk=bar.advance, progress=None if quiet else lambda line: click.echo(line, err=True),
                                   argv=sys.argv, started=started, text=not quiet, xlsx_path=xlsx_path,
                                   csv=csv_tables, figures=figures)
    except KeyboardInterrupt:
        click.echo(f"Interrupted. Finished chunks are saved in {out_dir / 'chunks'}; rerun the same command with "
                   "--resume to continue.", err=True)
        sys.exit(INTERRUPTED)
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")


@cli.command()
@click.argument("scenario", type=ScenarioPath())
@click.option("--range", "range_kind", type=click.Choice(["minmax", "95ci"]), default="minmax", show_default=True,
              help="minmax: the low/high the scenario declares (else the 95% interval); 95ci: the distribution's "
                   "2.5% and 97.5% points.")
@click.option("--by", type=click.Choice(["nmb", "icer"]), default="nmb", show_default=True,
              help="Rank the tornado by the swing in incremental NMB or in the ICER.")
@_wtp_option
@_out_option
@_xlsx_option("dsa")
@_quiet_option
@_friendly
def dsa(scenario, range_kind, by, wtp, out_dir, xlsx_path, quiet):
    """One-way sensitivity analysis of SCENARIO: tornado data and threshold values."""
    from costspine.cli.dsa import run_dsa_command
    from costspine.cli.options import parse_wtp

    started = datetime.now(UTC)
    (loaded,) = _load_all((scenario,))
    out_dir = out_dir or default_out_dir([loaded.name], "dsa")
    text = run_dsa_command(loaded, range_kind=range_kind, by=by, wtp=parse_wtp(wtp), out_dir=out_dir,
                           progress=None if quiet else lambda line: click.echo(line, err=True), argv=sys.argv, started=started,
                           xlsx_path=xlsx_path)
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")


@cli.command()
@click.argument("path", metavar="DRAWS", type=click.Path(exists=True, path_type=Path))
@click.option("--parameters", "parameters_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Parameters CSV (draw × parameter) of a long results file "
                                 "(default: parameters.csv beside results.csv).")
@_evppi_option
@click.option("--method", type=click.Choice(["gam", "gp"]), default="gam", show_default=True,
              help="Regression for EVPPI: gam (1-4 parameters) or gp (any number).")
@click.option("--wtp", default=None, metavar="W1,W2,...",
              help="Willingness-to-pay thresholds (default: the PSA's; required for CSV draws).")
@click.option("--comparator", default=None, help="CSV draws: the comparator strategy (default: the first in the file).")
@click.option("--effect", default=None, help="CSV draws, long layout: the outcome column that is the effect "
                                             "(default: 'effect', else the only outcome column).")
@click.option("--currency", default=None, help="CSV draws: ISO 4217 code of the costs' currency, e.g. GBP (default XXX: none named).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the EVPPI standard errors (default: the PSA's; 20260101 for CSV draws).")
@_population_options
@_out_option
@_xlsx_option("voi")
@_figures_option
@_quiet_option
@_friendly
def voi(path, parameters_path, evppi, method, wtp, comparator, effect, currency, seed, population, horizon_years,
        discount, out_dir, xlsx_path, figures, quiet):
    """EVPI and EVPPI (with standard errors) of PSA draws in DRAWS.

    \b
    DRAWS is one of:
      a folder written by `costspine psa` (its draws.npz);
      a folder with results.csv (+ parameters.csv) in costspine's long layout, from any tool;
      a long results CSV (columns draw, strategy, cost_total, outcomes; --parameters FILE);
      one wide CSV: draw (optional), cost_<strategy>, effect_<strategy>, parameter columns.
    CSV draws need --wtp. See docs/psa.md.
    """
    from costspine.analysis.external_draws import name_draws
    from costspine.cli.options import parse_wtp
    from costspine.cli.psa import run_voi_command

    started = datetime.now(UTC)
    out_dir = out_dir or default_out_dir([name_draws(path)], "voi")
    text = run_voi_command(path, evppi=evppi, method=method, wtp=parse_wtp(wtp), out_dir=out_dir,
                           population=population, horizon_years=horizon_years, discount=discount,
                           parameters=parameters_path, comparator=comparator, effect=effect, currency=currency,
                           seed=seed, argv=sys.argv, started=started, xlsx_path=xlsx_path, figures=figures)
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")


@cli.command()
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--draws", type=click.IntRange(min=0), default=1000, show_default=True,
              help="PSA draws for intervals and probabilities of being best (the same draws as psa --seed); "
                   "0 = base case only.")
@_seed_option
@click.option("--wtp", type=click.FloatRange(min=0), default=None,
              help="Willingness to pay per unit of effect (default: the middle of the scenario's [analysis] wtp).")
@click.option("--treatments", default=None, metavar="S1,S2,...",
              help="Strategies that are single treatments (one size for all, and the oracle's choices); the "
                   "other strategies are reported as allocation policies. Default: every strategy.")
@click.option("--plan-size", type=click.FloatRange(min=0), default=None,
              help="Patients treated per year in a plan, for population totals.")
@_out_option
@_xlsx_option("individualised")
@_quiet_option
@_friendly
def individualised(scenario, draws, seed, wtp, treatments, plan_size, out_dir, xlsx_path, quiet):
    """Value of individualised care (EVIC) of SCENARIO's phenotype groups.

    Runs the cohort once per [population] group, then compares the best treatment for everyone,
    the best treatment per group (oracle) and every other strategy (e.g. a phenotype-guided rule):
    net benefit per patient and per plan, PSA intervals, break-even phenotyping cost and a
    decision table by phenotype. See docs/precision.md.
    """
    from costspine.cli.individualised import run_individualised_command

    started = datetime.now(UTC)
    (loaded,) = _load_all((scenario,))
    out_dir = out_dir or default_out_dir([loaded.name], "individualised")
    names = None if treatments is None else [t.strip() for t in treatments.split(",") if t.strip()]
    text = run_individualised_command(loaded, draws=draws, seed=seed, wtp=wtp, treatments=names, plan_size=plan_size,
                                      out_dir=out_dir, argv=sys.argv, started=started, xlsx_path=xlsx_path)
    if not quiet:
        click.echo(text)
        click.echo(f"\nWrote {out_dir}/")


@cli.command(name="scenarios")
def list_scenarios():
    """List the bundled scenario files (copy one to edit with ``costspine init NAME``)."""
    from costspine._files import bundled_scenarios_dir
    from costspine.scenario.bundled import list_bundled_scenarios

    bundled = list_bundled_scenarios()
    if not bundled:
        click.echo(f"No bundled scenarios found in {bundled_scenarios_dir()}.")
        return
    for scenario in bundled:
        click.echo(f"{scenario.label}  {scenario.title}")


@cli.command()
@click.argument("name")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace files of the same name in DIRECTORY.")
@_friendly
def init(name, directory, force):
    """Copy bundled scenario NAME (e.g. base_case; see ``costspine scenarios``) into DIRECTORY
    (default: the current folder) to edit and run.

    The scenario comes with the ``extends`` parents of its folder; every other file it refers to
    (evidence, policy scenarios, data tables) is named by its ``package:`` path, so the copy runs
    from any folder.
    """
    from costspine._files import write_atomic
    from costspine.errors import UsageError
    from costspine.scenario.bundled import plan_scenario_copy

    files = plan_scenario_copy(name)
    same = {f for f, text in files.items() if (directory / f).is_file() and (directory / f).read_text(encoding="utf-8") == text}
    clash = [str(directory / f) for f in files if f not in same and (directory / f).exists()]
    if clash and not force:
        raise UsageError(f"{', '.join(clash)}: already exists with other content; choose another folder or pass --force "
                         "to replace")
    for file_name, text in files.items():
        if file_name in same:
            click.echo(f"Kept {directory / file_name} (already the bundled text)")
        else:
            click.echo(f"Wrote {write_atomic(directory / file_name, text)}")


def main():
    """Console entry point. click exits 2 on usage errors, matching ``ExitCode.USAGE_ERROR``."""
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()

