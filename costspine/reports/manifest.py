"""The provenance manifest written beside every command's outputs.
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from importlib import metadata

DEPENDENCIES = ("numpy", "pandas", "scipy", "pymc", "arviz", "openpyxl", "click", "numba", "dask", "distributed")

def dependency_versions() -> dict[str, str]:
    """Installed versions of the packages that can change a result (read from metadata, no imports)."""
    versions = {}
    for name in DEPENDENCIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions

def build_manifest(*, command: str, argv: list[str], inputs: list[tuple[str, str]], seed=None, started: datetime, outputs: list[str]) -> dict:
    """Provenance of one command: versions, command line, seed, input hashes, times."""
    from costspine._version import __version__

    return {
        "costspine_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": dependency_versions(),
        "command": command,
        "argv": argv,
        "seed": seed,
        "inputs": [{"path": p, "sha256": h} for p, h in inputs],
        "outputs": outputs,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
