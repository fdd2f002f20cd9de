"""Reading scenario files and their ``extends`` chain: TOML parsing, merging parent and child,
and where each key came from.
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from pathlib import Path

from costspine.errors import Problem

MAX_EXTENDS_DEPTH = 20

def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

def _read_chain(path: Path, problems: list, chain: tuple = ()) -> tuple[dict, dict, list]:
    """Read ``path`` and its ``extends`` ancestors. Returns (merged, origin, files)."""
    path = Path(path)
    where = str(path)
    if path.resolve() in chain:
        problems.append(Problem(where, "extends forms a loop: " + " -> ".join(str(p) for p in chain + (path,))))
        return {}, {}, []
    if len(chain) > MAX_EXTENDS_DEPTH:
        problems.append(Problem(where, f"extends chain is deeper than {MAX_EXTENDS_DEPTH} files"))
        return {}, {}, []
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(where, "file not found; check the path (relative paths in extends are "
                                       "relative to the file that names them)"))
        return {}, {}, []
    except OSError as exc:
        problems.append(Problem(where, f"cannot read the file: {exc.strerror or exc}"))
        return {}, {}, []
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problems.append(Problem(where, f"expected UTF-8 text; byte {exc.start} is not valid UTF-8"))
        return {}, {}, []
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(where, f"not valid TOML: {exc}"))
        return {}, {}, []
    files = [(path, hashlib.sha256(raw).hexdigest())]
    origin = {}
    parent, parent_origin = {}, {}
    extends = data.pop("extends", None)
    if extends is not None:
        if not isinstance(extends, str) or not extends.strip() or "\x00" in extends:
            problems.append(Problem(f"{where}: extends", f"expected a file path string; got {extends!r}"))
        else:
            parent, parent_origin, parent_files = _read_chain(path.parent / extends, problems, chain + (path.resolve(),))
            files += parent_files
            origin.update(parent_origin)
    merged = copy.deepcopy(parent)
    for section, value in data.items():
        if section == "strategies" and isinstance(value, dict) and isinstance(merged.get(section), dict):
            merged[section] = _merge_strategies(merged[section], value)
        elif isinstance(value, dict) and isinstance(merged.get(section), dict) and section not in ("model",):
            merged[section] = {**merged[section], **value}
        else:
            merged[section] = value
        origin[section] = where
        if isinstance(value, dict):
            for key in value:
                origin[f"{section}.{key}"] = where
    return merged, origin, files

def _merge_strategies(parent: dict, child: dict) -> dict:
    """Overlay a child's ``[strategies]`` on the parent's.

    A strategy the child names keeps what the parent gave it: keys merge one by one, and its
    sub-tables (``values``, ``transitions``, ``costs``, ``services``, ...) merge entry by entry, each
    entry (a value, a row, a cost) replaced whole — as ``[costs.X]`` is at the top level. So a
    child adding ``[strategies.ice.services.mri]`` does not drop ICE's own costs and values.
    """
    out = dict(parent)
    for name, entry in child.items():
        base = parent.get(name)
        if not (isinstance(entry, dict) and isinstance(base, dict)):
            out[name] = entry
            continue
        out[name] = {**base, **{key: {**base[key], **sub} if isinstance(sub, dict) and isinstance(base.get(key), dict) else sub
                                for key, sub in entry.items()}}
    return out
