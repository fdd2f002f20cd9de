"""Reading scenario files and their ``extends`` chain: TOML parsing, merging parent and child,
and where each key came from.
"""

from __future__ import annotations

import copy
import hashlib
import os
import tomllib
from pathlib import Path

from costspine._files import MAX_TOML_BYTES, input_file_sha256, read_input_file, resolve_path
from costspine.errors import InputFileError
from costspine.problems import Collector, declaring_file

MAX_EXTENDS_DEPTH = 20


def file_sha256(path: Path) -> str:
    """SHA-256 of an input file, read through the one safe reader (regular files within the size limit)."""
    return input_file_sha256(path)


MAX_TOML_DEPTH = 32
"""Deepest nesting of tables and arrays accepted in a TOML input file."""


def nesting_depth(value) -> int:
    """How deeply tables and arrays nest in ``value`` (a scalar: 0), found without recursion.

    Examples
    --------
    >>> nesting_depth({"a": {"b": [1, [2]]}, "c": 3})
    4
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def read_toml_file(path: Path, c: Collector) -> tuple[dict | None, bytes]:
    """Parse one TOML input file (scenario, ``extends`` parent, evidence), adding its problems to ``c``.

    Returns ``(data, raw bytes)``; ``data`` is None when the file cannot be used. The file is read
    with :func:`costspine._files.read_input_file` (regular files up to
    :data:`~costspine._files.MAX_TOML_BYTES`).
    """
    where = str(path)
    try:
        raw = read_input_file(path, max_bytes=MAX_TOML_BYTES)
    except InputFileError as exc:
        c.add_at(exc.path, exc.reason)
        return None, b""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        depth = nesting_depth(data)
        if depth > MAX_TOML_DEPTH:
            c.add_at(
                where,
                f"tables and arrays are nested {depth} levels deep; at most {MAX_TOML_DEPTH} are allowed "
                "(no scenario section needs more than a few)",
            )
            return None, raw
        return data, raw
    except UnicodeDecodeError as exc:
        c.add_at(where, f"expected UTF-8 text; byte {exc.start} is not valid UTF-8")
    except tomllib.TOMLDecodeError as exc:
        c.add_at(where, f"not valid TOML: {exc}")
    except RecursionError:
        c.add_at(where, "not usable TOML: arrays or tables are nested too deeply; flatten the file")
    return None, raw


def declared_path(origin: dict, keypath: str, value: str, *, default) -> Path:
    """The path ``value`` written at ``keypath``, resolved against the folder of the file that declares it
    (``package:data/...`` names a file bundled with costspine, wherever the scenario is).

    Parameters
    ----------
    origin : dict of str to str
        Key path -> declaring file, as returned by the ``extends`` reader (``section.key`` entries,
        else the section).
    keypath : str
        Where the path is written, e.g. ``"tables.life.file"`` or ``"budget_impact.policy.scenario"``.
    value : str
        The path as written; an absolute path is returned as it is.
    default : str or Path
        The file of keys not in ``origin`` (the scenario file itself).

    Examples
    --------
    >>> str(declared_path({"tables.life": "base/model.toml"}, "tables.life.file", "life.csv", default="child.toml"))
    'base/life.csv'
    """
    return resolve_path(value, base_dir=Path(declaring_file(origin, keypath, default=str(default))).parent)


def _read_chain(path: Path, c: Collector, chain: tuple = ()) -> tuple[dict, dict, list]:
    """Read ``path`` and its ``extends`` ancestors, adding file problems to ``c``. Returns (merged, origin, files)."""
    path = Path(path)
    where = str(path)
    real = Path(os.path.realpath(path))  # never raises, even on a symlink loop (read_toml_file reports that)
    if real in chain:
        c.add_at(where, "extends forms a loop: " + " -> ".join(str(p) for p in chain + (path,)))
        return {}, {}, []
    if len(chain) > MAX_EXTENDS_DEPTH:
        c.add_at(where, f"extends chain is deeper than {MAX_EXTENDS_DEPTH} files")
        return {}, {}, []
    data, raw = read_toml_file(path, c)
    if data is None:
        return {}, {}, []
    files = [(path, hashlib.sha256(raw).hexdigest())]
    origin = {}
    parent, parent_origin = {}, {}
    extends = data.pop("extends", None)
    if extends is not None:
        if not isinstance(extends, str) or not extends.strip() or "\x00" in extends:
            c.add_at(f"{where}: extends", f"expected a file path string; got {extends!r}")
        else:
            parent, parent_origin, parent_files = _read_chain(resolve_path(extends, base_dir=path.parent), c, chain + (real,))
            files += parent_files
            origin.update(parent_origin)
    merged = copy.deepcopy(parent)
    for section, value in data.items():
        merged[section] = merge_section(section, merged.get(section), value)
        origin[section] = where
        if isinstance(value, dict):
            deep = section == "strategies"
            for key, entry in value.items():
                if not deep and key not in ENTRY_TABLES.get(section, ()):  # replaced whole: forget the parent's parts
                    for stale in [k for k in origin if k.startswith(f"{section}.{key}.")]:
                        del origin[stale]
                origin[f"{section}.{key}"] = where
                if isinstance(entry, dict):
                    for sub in entry:
                        origin[f"{section}.{key}.{sub}"] = where
    return merged, origin, files


# Sections whose value is replaced whole by a child's; every other table merges key by key.
REPLACED_SECTIONS = ("model",)
# Tables of named entries inside a section, merged entry by entry like the top-level sections.
ENTRY_TABLES = {"population": ("attributes",), "microsimulation": ("history",)}


def merge_section(section: str, parent, child):
    """A child's ``[section]`` overlaid on its parent's (the ``extends`` rule of docs/scenario-format.md).

    - ``[model]``, values that are not tables (numbers, text, arrays such as ``[[correlations]]``)
      and a section the parent lacks: the child's, whole.
    - ``[strategies]``: see :func:`_merge_strategies`.
    - Every other table merges key by key, each key's value (a setting, a parameter table, a
      cost, a transition row, a look-up table, a shared ``[values]`` expression,
      ``[budget_impact.mix_new]``, ...) replaced whole;
      except the tables of named entries ``[population.attributes]`` and
      ``[microsimulation.history]``, which merge entry by entry, each entry replaced whole.

    Examples
    --------
    >>> merge_section("costs", {"drug": {"category": "drugs", "values": {"a": 1}}}, {"drug": {"category": "drugs"}})
    {'drug': {'category': 'drugs'}}
    >>> merge_section("settings", {"n_cycles": 10, "currency": "USD"}, {"n_cycles": 20})
    {'n_cycles': 20, 'currency': 'USD'}
    >>> merge_section("values", {"p_die": "0.01", "lam": "r * hr_now"}, {"p_die": "qx(age)"})
    {'p_die': 'qx(age)', 'lam': 'r * hr_now'}
    """
    if not (isinstance(child, dict) and isinstance(parent, dict)) or section in REPLACED_SECTIONS:
        return child
    if section == "strategies":
        return _merge_strategies(parent, child)
    merged = {**parent, **child}
    for key in ENTRY_TABLES.get(section, ()):
        if isinstance(parent.get(key), dict) and isinstance(child.get(key), dict):
            merged[key] = {**parent[key], **child[key]}
    return merged


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
        out[name] = {
            **base,
            **{
                key: {**base[key], **sub} if isinstance(sub, dict) and isinstance(base.get(key), dict) else sub
                for key, sub in entry.items()
            },
        }
    return out
