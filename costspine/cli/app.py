"""The ``costspine`` click group and :func:`main`, the console entry point.

Each command lives in the module of its work (:mod:`costspine.cli.run`, :mod:`costspine.cli.psa`,
:mod:`costspine.cli.dsa`, :mod:`costspine.cli.bia`, :mod:`costspine.cli.fit`,
:mod:`costspine.cli.individualised`, :mod:`costspine.cli.files`); the options, the error funnel and
the scenario loader they share are in :mod:`costspine.cli.options`.
Heavy libraries (pandas, pymc, arviz, openpyxl, dask) are imported only inside the commands that
need them, so ``costspine --help`` and ``costspine validate`` start fast.
"""

from __future__ import annotations

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
def cli():
    """Health-economic models of spine-pain care: cohort and microsimulation models, PSA, VOI,
    budget impact and Excel reports.

    \b
    Start with:
      costspine scenarios                          list the bundled scenarios
      costspine init base_case my_model            copy one into my_model/ to edit
      costspine run scenarios/spine/base_case.toml base case with incremental results
    """


for _command in (run, validate, fit, bia, psa, dsa, voi, individualised, list_scenarios, init):
    cli.add_command(_command)


def main():
    """Console entry point. click exits 2 on usage errors, matching ``ExitCode.USAGE_ERROR``."""
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
