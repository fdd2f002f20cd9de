"""Output files: atomic writes, summary/CSV writers and the provenance manifest."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def write_atomic(path, data: bytes | str) -> Path:
    """Write a file via a temporary file in the same folder and ``os.replace``.

    A reader never sees a half-written file, and an existing file is replaced only once the new
    one is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path

def write_atomic_with(path, write) -> Path:
    """Like :func:`write_atomic`, but ``write(handle)`` streams the content into the binary file
    (no copy of a large payload in memory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path

def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Path):
        return str(value)
    return value

def write_json(path, payload: dict) -> Path:
    """Atomic JSON (NaN and infinities become null)."""
    return write_atomic(path, json.dumps(_jsonable(payload), indent=2, ensure_ascii=False) + "\n")

def write_csv(path, headers: list[str], rows) -> Path:
    """Atomic CSV from rows of plain values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return write_atomic(path, buffer.getvalue())

def _csv_value(value):
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return value
