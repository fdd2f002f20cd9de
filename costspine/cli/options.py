"""Everything the commands share: the error funnel (:func:`friendly`), scenario arguments and
loading (:class:`ScenarioPath`, :func:`load_all`), the options several commands take (seed, output
folder, workbook path, method, WTP, EVPPI, population), default output folders and warnings on stderr.

Every command turns user mistakes (:class:`~costspine.errors.CostspineError`) into
``Error: ...`` on stderr and the exit code of the error's class (1 analysis, 2 options, 3 files);
Ctrl-C exits 130; a bug prints one line and the path of a file holding its traceback (the
traceback itself is not printed: it may quote data).
This module imports only click and costspine's leaves at import time, so ``costspine --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path

import click

from costspine._limits import MAX_INDIVIDUALS
from costspine._version import __version__
from costspine.errors import CostspineError, UsageError

INTERRUPTED = 130
BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of our output closed the pipe
"""Exit code after Ctrl-C (128 + SIGINT), as shells report it."""


def friendly(func):
    """Turn CostspineError into a clean message and exit code; Ctrl-C into exit 130; a bug into one line.

    A closed output pipe (``costspine run ... | head``) ends the command quietly with exit 141
    (128 + SIGPIPE, as shell tools do); files already written stay.

    An operating-system error on a named file (read-only folder, full disk) prints the file and
    the reason and exits 3. A bug (any other exception) prints ``Error: internal error
    (TypeError) ...`` and the path of a saved traceback file, and exits 1.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CostspineError as exc:
            echo_error(f"Error: {exc}")
            sys.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(INTERRUPTED)
        except BrokenPipeError:
            # the reader closed the pipe (``costspine run ... | head``): nothing left to say to it.
            # Point stdout at /dev/null so the interpreter's final flush does not fail again.
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(BROKEN_PIPE)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if isinstance(exc, OSError) and exc.filename is not None:  # read-only folder, full disk, permissions
                click.echo(f"Error: {exc.filename}: {exc.strerror or type(exc).__name__}", err=True)
                sys.exit(3)
            # a bug: one line here, the traceback in a file
            saved = save_traceback(exc)
            where = f"the traceback is saved in {saved}" if saved else "the traceback could not be saved"
            message = f"Error: internal error ({type(exc).__name__}) in costspine {__version__}; {where} — please report it with that file"
            echo_error(message)
            sys.exit(1)

    return wrapper


def stderr_is_terminal() -> bool:
    """Whether standard error is an interactive terminal (not a pipe, a file or a test runner)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def echo_error(message: str) -> None:
    """Print an error or warning on standard error, wrapped at 100 columns on a terminal.

    Piped or redirected, the message keeps one line per problem, so ``grep`` and logs see it whole.
    Wrapped lines keep their bullet's indentation plus two spaces; paths are never cut.
    """
    if stderr_is_terminal():
        from costspine._text import wrap_text  # numpy-free start-up: only on a terminal, only on error

        message = wrap_text(message, indent="  ")
    click.echo(message, err=True)


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


def seed_option(func):
    return click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=20260101,
        show_default=True,
        help="One seed per run; split into independent streams per component.",
    )(func)


def out_option(func):
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Output folder (default: reports/<scenario>/<command>/).",
    )(func)


def quiet_option(func):
    return click.option("--quiet", is_flag=True, help="Print nothing but errors.")(func)


def figures_option(func):
    return click.option(
        "--figures", is_flag=True, help="Also draw the PNG figures (the workbook has the same charts, drawn by Excel)."
    )(func)


def xlsx_option(command: str):
    return click.option(
        "--xlsx",
        "xlsx_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Write the Excel workbook here instead of {command}.xlsx in the output folder.",
    )


def method_options(func):
    func = click.option(
        "--individuals",
        type=click.IntRange(min=2, max=MAX_INDIVIDUALS),
        default=None,
        help="Microsimulation: individuals per strategy (default: the scenario's [microsimulation] individuals; "
        f"at most {MAX_INDIVIDUALS:,}).",
    )(func)
    return click.option(
        "--method",
        type=click.Choice(["cohort", "microsim"]),
        default="cohort",
        show_default=True,
        help="Cohort (Markov) model, or individual-level microsimulation with Monte Carlo "
        "standard errors (docs/microsimulation.md).",
    )(func)


def microsim_progress(method: str, quiet: bool):
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


def inputs_option(func):
    return click.option(
        "--inputs",
        "inputs_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        metavar="WORKBOOK.xlsx",
        help="Run with the values edited on the Inputs sheet of a workbook costspine wrote "
        "(Value, Distribution, Arguments, Unit price); every change is printed and kept in the manifest.",
    )(func)


@contextlib.contextmanager
def writing_into(out_dir: Path, xlsx_path: Path | None = None):
    """Yield ``(staging, xlsx)``: the folder to write into and where the workbook goes.

    All-or-nothing and locked (:func:`costspine._files.output_folder`): the results replace
    ``out_dir`` only when the command finishes; another run into ``out_dir`` meanwhile exits 3.
    A ``--xlsx`` path inside ``out_dir`` is moved into the staging folder with the rest.
    """
    from costspine._files import output_folder, staged_path

    with output_folder(out_dir) as staging:
        yield staging, None if xlsx_path is None else staged_path(xlsx_path, target=out_dir, staging=staging)


def load_all(paths: tuple[Path, ...], *, inputs: Path | None = None):
    """Load every scenario (with the edited Inputs sheet of ``inputs`` applied); report every file's problems together."""
    from costspine.errors import ScenarioError
    from costspine.scenario.load import load_scenario

    if inputs is not None:  # the workbook reader only when there is a workbook (it is slow to import)
        from costspine.scenario.workbook_inputs import load_scenario_with_inputs
    scenarios, problems = [], {}  # a dict keeps the order and finds a repeated problem at once
    for path in paths:
        try:
            scenarios.append(load_scenario(path) if inputs is None else load_scenario_with_inputs(path, inputs))
        except ScenarioError as exc:
            problems.update(dict.fromkeys(exc.problems))  # a shared parent: say it once
    if problems:
        raise ScenarioError(list(problems))
    return scenarios


def describe_edits(scenarios, inputs: Path | None) -> str:
    """The changes an ``--inputs`` workbook made, one per line (wrapped at 100 columns); "" without one."""
    import textwrap

    if inputs is None:
        return ""
    lines = []
    for scenario in scenarios:
        sha = next((h for p, h in scenario.files if p == str(inputs)), "")
        head = f"Inputs from {inputs} (SHA-256 {sha[:12]}…)" + (f" for {scenario.name}" if len(scenarios) > 1 else "")
        if not scenario.edits:
            lines.append(f"{head}: no value differs from the scenario's.")
            continue
        count = len(scenario.edits)
        lines.append(f"{head}: {count} change{'s' if count != 1 else ''}")
        for edit in scenario.edits:
            lines.extend(textwrap.wrap(str(edit), 100, initial_indent="  - ", subsequent_indent="    ", break_long_words=False))
    return "\n".join(lines)


def echo_warning(problem) -> None:
    """Print a warning on stderr as ``warning: <file>: <key>: <message>`` (a warning is not an error)."""
    echo_error(f"warning: {problem}")


def wtp_option(func):
    return click.option(
        "--wtp", default=None, metavar="W1,W2,...", help="Willingness-to-pay thresholds (default: the scenario's [analysis] wtp)."
    )(func)


def population_options(func):
    func = click.option(
        "--discount",
        type=click.FloatRange(min=0, max=1, max_open=True),
        default=None,
        help="Annual discount rate for population EVPI (default: the scenario's discount_outcomes).",
    )(func)
    func = click.option(
        "--horizon-years", type=click.IntRange(min=1), default=None, help="Years the decision applies, for population EVPI."
    )(func)
    return click.option(
        "--population",
        type=click.FloatRange(min=0),
        default=None,
        help="People affected by the decision each year, for population EVPI.",
    )(func)


def evppi_option(func):
    return click.option(
        "--evppi",
        multiple=True,
        metavar="PARAM[,PARAM...]",
        help="EVPPI of these parameters jointly; repeat for several groups; 'each' = every sampled "
        "parameter alone; a Dirichlet row's name = all its components.",
    )(func)


def evppi_top_option(func):
    """``--top N``: how many EVPPI rows (parameter groups, largest EVPPI first) to print."""
    return click.option(
        "--top",
        type=click.IntRange(min=0),
        default=20,
        show_default=True,
        help="Print the N parameter groups with the largest EVPPI (0 = all); evppi.csv always has every row.",
    )(func)


def parse_wtp(text: str | None) -> tuple[float, ...] | None:
    """``"50000,100000"`` → ``(50000.0, 100000.0)``; None stays None."""
    import numpy as np

    if text is None:
        return None
    values = []
    for part in text.split(","):
        try:
            value = float(part.strip().replace("_", ""))
        except ValueError:
            raise UsageError(f"--wtp expects comma-separated numbers such as 50000,100000; got {part.strip()!r}") from None
        if not np.isfinite(value) or value < 0:
            raise UsageError(f"--wtp thresholds must be finite and >= 0; got {part.strip()!r}")
        values.append(value)
    return tuple(values)
