"""The scenarios and evidence bundled with costspine: listing them, and planning a copy to edit.

A bundled scenario refers to its parents (``extends``), policy scenarios, evidence files and data
tables by relative paths or ``package:`` paths. :func:`plan_scenario_copy` gives the text of the
files a working copy needs: the scenario and the ``extends`` parents in its own folder, each
other relative reference rewritten to the ``package:`` path of the bundled file, so the copy runs
from any folder.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from costspine._files import PACKAGE_DIR, PACKAGE_PREFIX, bundled_scenarios_dir, resolve_path
from costspine.errors import UsageError

# `key = "path"` lines whose value may be a file path: extends, [tables.X] / [parameters.X] file,
# [unit_costs] catalogue, [budget_impact.policy] / [evidence] scenario.
_PATH_LINE = re.compile(r'^(?P<head>\s*(?:extends|file|catalogue|scenario)\s*=\s*)"(?P<value>[^"\n]*)"(?P<tail>.*)$')


@dataclass(frozen=True)
class BundledScenario:
    """One bundled scenario file: its name (file stem), path and ``[model] title``."""

    name: str
    path: Path
    title: str

    @property
    def label(self) -> str:
        """The path as the listing shows it, e.g. ``scenarios/spine/base_case.toml``."""
        return self.path.relative_to(bundled_scenarios_dir().parent).as_posix()


def list_bundled_scenarios() -> list[BundledScenario]:
    """The bundled scenario and evidence files, sorted by path (empty when none are installed).

    Examples
    --------
    >>> "base_case" in [s.name for s in list_bundled_scenarios()]
    True
    """
    root = bundled_scenarios_dir()
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            title = raw.get("model", raw.get("evidence", {})).get("title", "")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError, AttributeError):
            title = "(unreadable)"
        found.append(BundledScenario(path.stem, path, title))
    return found


def find_bundled_scenario(name: str) -> BundledScenario:
    """The bundled scenario called ``name``: a file stem (``base_case``) or a path under
    ``scenarios/`` (``spine/base_case.toml``, ``scenarios/spine/base_case``).

    Raises
    ------
    UsageError
        No bundled scenario has that name, or several do.
    """
    wanted = name.removeprefix(PACKAGE_PREFIX).removeprefix("scenarios/").removesuffix(".toml")
    bundled = list_bundled_scenarios()
    root = bundled_scenarios_dir()
    matches = [s for s in bundled if wanted in (s.name, s.path.relative_to(root).with_suffix("").as_posix())]
    if len(matches) == 1:
        return matches[0]
    if not bundled:
        raise UsageError(f"{name}: no bundled scenarios are installed (looked in {root})")
    if matches:
        raise UsageError(
            f"{name}: several bundled scenarios have this name: "
            f"{', '.join(s.label for s in matches)}; give the path, e.g. {matches[0].label}"
        )
    raise UsageError(
        f"{name}: not a bundled scenario; expected one of {', '.join(s.name for s in bundled)} (costspine scenarios lists them)"
    )


def plan_scenario_copy(name: str) -> dict[str, str]:
    """The files a working copy of bundled scenario ``name`` needs: file name -> text.

    The scenario and the ``extends`` parents in its folder are copied (same file names, so their
    ``extends`` lines still hold); every other relative path they write (a parent elsewhere, a
    policy scenario, an evidence file, a data table) becomes the ``package:`` path of the bundled
    file. Comments and layout are kept as written.

    Examples
    --------
    >>> files = plan_scenario_copy("base_case_bayes")
    >>> sorted(files)
    ['base_case.toml', 'base_case_bayes.toml']
    >>> 'file = "package:scenarios/evidence/spine_care_trial.toml"' in files["base_case_bayes.toml"]
    True
    """
    scenario = find_bundled_scenario(name)
    root = bundled_scenarios_dir()
    folder = scenario.path.parent
    copied = [scenario.path]
    current = scenario.path
    while True:  # the extends chain, as far as it stays in the scenario's folder
        try:
            parent = tomllib.loads(current.read_text(encoding="utf-8")).get("extends")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            break
        if not isinstance(parent, str) or parent.startswith(PACKAGE_PREFIX):
            break
        target = (current.parent / parent).resolve()
        if target.parent != folder.resolve() or not target.is_file() or target in copied:
            break
        copied.append(target)
        current = target
    kept = {p.resolve() for p in copied}

    def rewrite(line: str, source: Path) -> str:
        match = _PATH_LINE.match(line.rstrip("\n"))
        if match is None or match["value"].startswith(PACKAGE_PREFIX) or Path(match["value"]).is_absolute():
            return line
        target = resolve_path(match["value"], base_dir=source.parent).resolve()
        if target in kept or not target.is_file():
            return line
        for base, prefix in ((root.resolve(), "scenarios/"), (PACKAGE_DIR, "")):
            if target.is_relative_to(base):
                return f'{match["head"]}"{PACKAGE_PREFIX}{prefix}{target.relative_to(base).as_posix()}"{match["tail"]}{line[len(line.rstrip(chr(10))) :]}'
        return line

    return {
        path.name: "".join(rewrite(line, path) for line in path.read_text(encoding="utf-8").splitlines(keepends=True))
        for path in copied
    }
