"""The provenance manifest written beside every command's outputs."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

DEPENDENCIES = ("numpy", "pandas", "scipy", "pymc", "arviz", "openpyxl", "click", "numba", "dask", "distributed")


def dependency_versions() -> dict[str, str]:
    """Installed versions of the packages that can change a result (read from metadata, no imports).

    Read from the names of the ``<name>-<version>.dist-info`` folders on ``sys.path`` (what pip
    installs), first match wins as for imports; a package not found that way is looked up with
    :mod:`importlib.metadata`, which costs ~15 ms to import, so every command's start-up avoids it.
    """
    found: dict[str, str] = {}
    for entry in sys.path:
        if not entry:  # the working folder: not where pip installs
            continue
        try:
            names = [p.name for p in Path(entry or ".").iterdir() if p.name.endswith(".dist-info")]
        except OSError:
            continue
        for folder in names:
            name, _, version = folder[: -len(".dist-info")].partition("-")
            found.setdefault(name.lower().replace("-", "_").replace(".", "_"), version)
    versions = {}
    for name in DEPENDENCIES:
        version = found.get(name.lower().replace("-", "_"))
        if version is None:
            from importlib import metadata

            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                version = "not installed"
        versions[name] = version
    return versions


def resolved_parameters_sha256(scenarios) -> str:
    """SHA-256 of the resolved parameter tables of ``scenarios`` (catalogue prices included).

    Two runs with the same hash drew from the same parameter values and distributions, whatever
    files they came from.
    """
    payload = [{"scenario": s.name, "parameters": s.resolved.get("parameters", {})} for s in scenarios]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode("utf-8")).hexdigest()


def build_manifest(
    *,
    command: str,
    argv: list[str],
    inputs: list[tuple[str, str]],
    seed=None,
    started: datetime,
    outputs: list[str],
    scenarios=(),
) -> dict:
    """Provenance of one command: versions, command line, seed, input hashes, times.

    ``inputs`` are ``(path, sha256)`` of every file that can change a result (a scenario's
    ``files``: its ``extends`` chain, tables, catalogues, evidence; the posterior cache; ...).
    With ``scenarios``, ``parameters_sha256`` records :func:`resolved_parameters_sha256`.
    """
    from costspine._version import __version__

    manifest = {
        "costspine_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": dependency_versions(),
        "command": command,
        "argv": argv,
        "seed": seed,
        "inputs": [{"path": p, "sha256": h} for p, h in dict.fromkeys((str(p), h) for p, h in inputs)],
        "outputs": outputs,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if scenarios:
        manifest["parameters_sha256"] = resolved_parameters_sha256(scenarios)
        texts = {s.name: s.analysis.perspective_text for s in scenarios}
        manifest["perspective"] = (
            next(iter(texts.values())) if len(set(texts.values())) == 1 else "; ".join(f"{n}: {t}" for n, t in texts.items())
        )
        edits = [{"scenario": s.name, **e.to_dict()} for s in scenarios for e in getattr(s, "edits", ())]
        if edits:  # values edited on a workbook's Inputs sheet (--inputs); the workbook's SHA-256 is in inputs
            manifest["input_edits"] = edits
    return manifest
