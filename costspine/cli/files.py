"""``costspine validate``, ``costspine scenarios`` and ``costspine init``: check scenario files,
list the bundled scenarios and copy one to edit. Nothing is computed and no report is written.
"""

from __future__ import annotations

from pathlib import Path

import click

from costspine.cli.options import ScenarioPath, echo_warning, friendly


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=ScenarioPath())
@friendly
def validate(scenarios):
    """Check SCENARIOS: print every problem of every file (every section, [budget_impact] and its
    policy file included), change nothing."""
    from costspine.errors import ScenarioError
    from costspine.simulate.run import check_scenario

    problems = {}  # a dict keeps the order and finds a repeated problem at once
    for path in scenarios:
        try:
            warnings = []
            check_scenario(path, warnings=warnings)
            click.echo(f"ok  {path}")
            for problem in warnings:
                echo_warning(problem)
        except ScenarioError as exc:
            problems.update(dict.fromkeys(exc.problems))  # a shared parent: say it once
    if problems:
        raise ScenarioError(list(problems))


@click.command(name="scenarios")
def list_scenarios():
    """List the bundled scenario files (copy one to edit with ``costspine init NAME``)."""
    from costspine._files import bundled_scenarios_dir
    from costspine.scenario.bundled import list_bundled_scenarios

    bundled = list_bundled_scenarios()
    if not bundled:
        click.echo(f"No bundled scenarios found in {bundled_scenarios_dir()}.")
        return
    from costspine._text import format_table

    click.echo(format_table(["scenario file", "title"], [[s.label, s.title] for s in bundled]))


@click.command()
@click.argument("name")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace files of the same name in DIRECTORY.")
@friendly
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
        raise UsageError(
            f"{', '.join(clash)}: already exists with other content; choose another folder or pass --force to replace"
        )
    for file_name, text in files.items():
        if file_name in same:
            click.echo(f"Kept {directory / file_name} (already the bundled text)")
        else:
            click.echo(f"Wrote {write_atomic(directory / file_name, text)}")
