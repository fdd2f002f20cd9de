"""The ``costspine`` click group and :func:`main`, the console entry point.

Each command lives in the module of its work (:mod:`costspine.cli.run`, :mod:`costspine.cli.psa`,
:mod:`costspine.cli.dsa`, :mod:`costspine.cli.bia`, :mod:`costspine.cli.fit`,
:mod:`costspine.cli.individualised`, :mod:`costspine.cli.files`); the options, the error funnel and
the scenario loader they share are in :mod:`costspine.cli.options`.
Heavy libraries (pandas, pymc, arviz, openpyxl, dask) are imported only inside the commands that
need them, so ``costspine --help`` and ``costspine validate`` start fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from costspine._version import __version__
from costspine.cli.bia import bia
from costspine.cli.dsa import dsa
from costspine.cli.files import init, list_scenarios, validate
from costspine.cli.fit import fit
from costspine.cli.individualised import individualised
from costspine.cli.psa import psa, voi
from costspine.cli.run import run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="costspine")
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="COSTSPINE_ROOT",
    default=None,
    help="Read input files only from inside this folder (or package: files): absolute paths, '..' "
    "and symlinks leading out are refused. Also COSTSPINE_ROOT.",
)
@click.option(
    "--max-memory",
    metavar="SIZE",
    envvar="COSTSPINE_MAX_MEMORY",
    default=None,
    help="Memory budget of a run, e.g. 4GiB or 500MB (default: half the available memory). "
    "A run that would need more is refused, naming the sizes. Also COSTSPINE_MAX_MEMORY.",
)
@click.pass_context
def cli(ctx, root, max_memory):
    """Health-economic models of spine-pain care: cohort and microsimulation models, PSA, VOI,
    budget impact and Excel reports.

    \b
    Start with:
      costspine scenarios                          list the bundled scenarios
      costspine init base_case my_model            copy one into my_model/ to edit
      costspine run scenarios/spine/base_case.toml base case with incremental results
    """
    from costspine._files import confined_to
    from costspine._limits import memory_budget, parse_size

    budget = None
    if max_memory is not None:
        try:
            budget = parse_size(max_memory)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--max-memory") from None
    ctx.with_resource(confined_to(root))
    ctx.with_resource(memory_budget(budget))


for _command in (run, validate, fit, bia, psa, dsa, voi, individualised, list_scenarios, init):
    cli.add_command(_command)


def main():
    """Console entry point. click exits 2 on usage errors, matching ``ExitCode.USAGE_ERROR``."""
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
