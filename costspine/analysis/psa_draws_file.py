"""The bulk store of a PSA's draws: the ``draws/`` folder a PSA writes as it runs, read back by
:func:`load_psa_draws` (``voi``, ``individualised --draws-from``, external-draw analyses).

Layout (format 2, :data:`DRAWS_DIR`): one ``.npy`` file per array, stored *column-major* so that
one column (a parameter, or a strategy's cost category or outcome) is one contiguous run of
``n_draws`` float64 values and can be read without touching the rest:

========================  =======================================  ==============================
file                      shape (C order)                          PSAResult attribute (view)
========================  =======================================  ==============================
``parameters.npy``        (parameter, draw)                        ``parameters`` (draw, parameter)
``costs.npy``             (strategy, category, draw)               ``costs`` (draw, strategy, category)
``outcomes.npy``          (strategy, outcome, draw)                ``outcomes`` (draw, strategy, outcome)
``meta.json``             labels, seed, provenance, fingerprint    the other fields
========================  =======================================  ==============================

:class:`DrawsWriter` creates the files at the start of a run and writes each chunk's columns with
explicit positioned writes (``os.pwrite``: no page of the files is mapped into the process, so
the run's memory does not grow with the draws); ``meta.json`` is written last, so a folder without
it is incomplete and refused. :func:`load_psa_draws` returns a :class:`PSAResult` whose arrays are
read-only memory maps of the files (transposed views), and whose ``store`` names the folder, so
the summaries read columns by explicit reads in blocks (:class:`~costspine.analysis.psa_result.DrawColumns`).

``draws.npz`` (format 1, :data:`DRAWS_FILE`: the arrays row-major in one zip) is what costspine
wrote before; it is still read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from costspine.analysis.psa_result import PSAResult
from costspine.errors import UsageError

DRAWS_FILE = "draws.npz"
"""The draws of a PSA written by earlier costspine versions (format 1); read, no longer written."""

DRAWS_DIR = "draws"
"""The folder of a PSA's draws (format 2) inside its results folder."""

DRAWS_FORMAT = 1
DRAWS_DIR_FORMAT = 2

ARRAYS = ("parameters", "costs", "outcomes")
META_FILE = "meta.json"


def draws_location(results_dir) -> Path | None:
    """The draws of a ``costspine psa`` folder: its ``draws/`` folder (with ``meta.json``), else its
    older ``draws.npz``, else None."""
    folder = Path(results_dir)
    if (folder / DRAWS_DIR / META_FILE).is_file():
        return folder / DRAWS_DIR
    if (folder / DRAWS_FILE).is_file():
        return folder / DRAWS_FILE
    return None


def draws_sha256(path) -> str:
    """SHA-256 of a draws store (``draws.npz``, or the files of a ``draws/`` folder in a fixed order),
    read in blocks of 1 MB."""
    path = Path(path)
    files = [path] if path.is_file() else [path / META_FILE, *(path / f"{key}.npy" for key in ARRAYS)]
    h = hashlib.sha256()
    for file in files:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _describe(draws: PSAResult, *, format: int) -> dict:
    """Everything of ``draws`` but its arrays, as the JSON description both formats store."""
    return {
        "format": format,
        "scenario": draws.scenario,
        "title": draws.title,
        "currency": draws.currency,
        "effect": draws.effect_name,
        "strategies": list(draws.strategies),
        "strategy_labels": draws.strategy_labels,
        "comparator": draws.comparator,
        "wtp": list(draws.wtp),
        "categories": list(draws.categories),
        "outcomes": list(draws.outcome_names),
        "parameter_names": list(draws.parameter_names),
        "parameter_groups": draws.parameter_groups,
        "seed": draws.seed,
        "discount_outcomes": draws.discount_outcomes,
        "inputs": [list(i) for i in draws.inputs],
        "extra": draws.extra,
    }


def _encode_draws(draws: PSAResult) -> bytes:
    """The ``draws.npz`` file's bytes (see :func:`save_draws`)."""
    buffer = io.BytesIO()
    save_draws(draws, buffer)
    return buffer.getvalue()


def save_draws(draws: PSAResult, handle) -> None:
    """Write ``draws`` in the older ``draws.npz`` format (format 1: the arrays and a JSON description)
    into the binary file ``handle``. ``costspine psa`` writes a ``draws/`` folder instead
    (:class:`DrawsWriter`, :func:`write_draws_dir`); this stays for files made for older readers."""
    np.savez(
        handle,
        parameters=draws.parameters,
        costs=draws.costs,
        outcomes=draws.outcomes,
        meta=np.array(json.dumps(_describe(draws, format=DRAWS_FORMAT), default=float)),
    )


# --------------------------------------------------------------------------------------------
# format 2: a folder of column-major .npy files


def _write_at(fd: int, data: bytes, position: int) -> int:
    """``os.pwrite`` where the platform has it (POSIX), else a seek and a write (this process
    alone writes the file)."""
    if hasattr(os, "pwrite"):
        return os.pwrite(fd, data, position)
    os.lseek(fd, position, os.SEEK_SET)
    return os.write(fd, data)


def _column_shapes(n_parameters: int, costs: tuple, outcomes: tuple) -> dict[str, tuple]:
    """Shape of each array without the draw axis: ``parameters`` (P,), ``costs`` (S, C), ``outcomes`` (S, O)."""
    return {
        "parameters": (int(n_parameters),),
        "costs": tuple(int(n) for n in costs),
        "outcomes": tuple(int(n) for n in outcomes),
    }


class DrawsWriter:
    """Writes a PSA's draws into a ``draws/`` folder chunk by chunk (see the module's layout).

    Each :meth:`write` puts draws ``start .. start + n − 1`` in place with one positioned write per
    column, so chunks can arrive in any order (Dask, ``--resume``) and memory holds one chunk at a
    time. :meth:`finish` writes ``meta.json`` and closes the files.

    Parameters
    ----------
    folder : path
        Created if missing; the three ``.npy`` files are created at their full size at once.
    n_draws : int
    shapes : dict
        Each array's shape without the draw axis, as
        ``{"parameters": (P,), "costs": (S, C), "outcomes": (S, O)}``.
    """

    def __init__(self, folder, *, n_draws: int, shapes: dict):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.n_draws = int(n_draws)
        self.shapes = {key: tuple(shapes[key]) for key in ARRAYS}
        self._fds: dict[str, tuple[int, int]] = {}
        for key in ARRAYS:
            shape = (*self.shapes[key], self.n_draws)
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
            path = self.folder / f"{key}.npy"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
            os.write(fd, header.getvalue())
            os.ftruncate(fd, len(header.getvalue()) + 8 * int(np.prod(shape)))
            self._fds[key] = (fd, len(header.getvalue()))

    @property
    def paths(self) -> list[Path]:
        """The files of the folder (``meta.json`` once finished)."""
        return [self.folder / f"{key}.npy" for key in ARRAYS] + [self.folder / META_FILE]

    def write(self, start: int, arrays: dict) -> None:
        """Write one chunk: ``arrays["parameters"]`` (n, P), ``["costs"]`` (n, S, C), ``["outcomes"]`` (n, S, O)."""
        start = int(start)
        for key in ARRAYS:
            values = np.asarray(arrays[key], dtype="<f8")
            n = values.shape[0]
            if values.shape[1:] != self.shapes[key] or start < 0 or start + n > self.n_draws:
                raise ValueError(f"{key}: chunk of shape {values.shape} at draw {start} does not fit {self.shapes[key]}")
            fd, offset = self._fds[key]
            columns = values.reshape(n, -1).T  # (column, n)
            for i, column in enumerate(columns):
                data = np.ascontiguousarray(column).tobytes()
                position = offset + 8 * (i * self.n_draws + start)
                while data:  # a write may take less than asked
                    written = _write_at(fd, data, position)
                    data, position = data[written:], position + written

    def finish(self, description: dict) -> None:
        """Close the array files and write ``meta.json`` (``description`` plus the format and draws)."""
        from costspine._files import write_json

        self.close()
        write_json(self.folder / META_FILE, {**description, "format": DRAWS_DIR_FORMAT, "n_draws": self.n_draws})

    def close(self) -> None:
        for fd, _ in self._fds.values():
            os.close(fd)
        self._fds = {}


def write_draws_dir(draws: PSAResult, folder) -> list[Path]:
    """Write in-memory ``draws`` as a ``draws/`` folder (a block of draws at a time); returns its files."""
    n = draws.n_draws
    writer = DrawsWriter(
        folder,
        n_draws=n,
        shapes=_column_shapes(len(draws.parameter_names), draws.costs.shape[1:], draws.outcomes.shape[1:]),
    )
    try:
        step = max(1, (1 << 20) // max(1, draws.parameters.shape[1] + int(np.prod(draws.costs.shape[1:]))))
        for start in range(0, n, step):
            stop = min(n, start + step)
            writer.write(start, {key: getattr(draws, key)[start:stop] for key in ARRAYS})
    finally:
        writer.close()
    writer.finish(describe_draws(draws))
    return writer.paths


def describe_draws(draws: PSAResult) -> dict:
    """The ``meta.json`` description of ``draws`` (everything but the arrays)."""
    return _describe(draws, format=DRAWS_DIR_FORMAT)


def _result(meta: dict, arrays: dict, store: str | None) -> PSAResult:
    return PSAResult(
        scenario=meta["scenario"],
        title=meta["title"],
        currency=meta["currency"],
        effect_name=meta["effect"],
        strategies=tuple(meta["strategies"]),
        strategy_labels=meta["strategy_labels"],
        comparator=meta["comparator"],
        wtp=tuple(meta["wtp"]),
        categories=tuple(meta["categories"]),
        outcome_names=tuple(meta["outcomes"]),
        parameter_names=tuple(meta["parameter_names"]),
        parameter_groups=meta["parameter_groups"],
        parameters=arrays["parameters"],
        costs=arrays["costs"],
        outcomes=arrays["outcomes"],
        seed=int(meta["seed"]),
        discount_outcomes=float(meta["discount_outcomes"]),
        inputs=[tuple(i) for i in meta["inputs"]],
        extra=meta["extra"],
        store=store,
    )


def open_draws_dir(folder) -> PSAResult:
    """Read a ``draws/`` folder (format 2) as a :class:`PSAResult` backed by read-only memory maps.

    Raises
    ------
    UsageError
        No ``meta.json`` (an unfinished run), another format, or arrays that are missing, truncated
        or of the wrong shape.
    """
    from costspine._files import read_input_file
    from costspine.errors import InputFileError

    folder = Path(folder)
    meta_path = folder / META_FILE
    rerun = "rerun `costspine psa`"
    try:
        meta = json.loads(read_input_file(meta_path, max_bytes=64 * 1024 * 1024, confined=False).decode("utf-8"))
    except InputFileError as exc:
        raise UsageError(f"{meta_path}: {exc.reason}; {rerun}") from None
    except ValueError as exc:
        raise UsageError(f"{meta_path}: cannot read the PSA draws' description ({type(exc).__name__}); {rerun}") from None
    if not isinstance(meta, dict) or meta.get("format") != DRAWS_DIR_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise UsageError(
            f"{meta_path}: written by an incompatible costspine (format {found!r}, expected {DRAWS_DIR_FORMAT}); {rerun}"
        )
    try:
        n = int(meta["n_draws"])
        expected = _column_shapes(
            len(meta["parameter_names"]),
            (len(meta["strategies"]), len(meta["categories"])),
            (len(meta["strategies"]), len(meta["outcomes"])),
        )
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"{meta_path}: incomplete description of the PSA draws; {rerun}") from None
    arrays = {}
    for key in ARRAYS:
        path = folder / f"{key}.npy"
        shape = (*expected[key], n)
        try:
            stored = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise UsageError(
                f"{path}: cannot read the PSA draws ({type(exc).__name__}: missing, truncated or corrupt?); {rerun}"
            ) from None
        if stored.shape != shape or stored.dtype != np.dtype("<f8"):
            raise UsageError(
                f"{path}: expected float64 values of shape {shape} (column-major draws); found {stored.dtype} {stored.shape}; {rerun}"
            )
        arrays[key] = np.moveaxis(stored, -1, 0)  # (draw, ...) view, nothing read yet
    return _result(meta, arrays, str(folder))


def load_psa_draws(results_dir) -> PSAResult:
    """Read the draws that ``costspine psa`` wrote into ``results_dir``: its ``draws/`` folder
    (:func:`open_draws_dir`), or the ``draws.npz`` of an older costspine."""
    location = draws_location(results_dir)
    if location is None and (Path(results_dir) / DRAWS_DIR).is_dir():
        raise UsageError(
            f"{Path(results_dir) / DRAWS_DIR}: has no {META_FILE}, so its PSA did not finish (interrupted?); "
            "rerun `costspine psa` (with --resume to reuse its saved chunks)"
        )
    if location is None:
        raise UsageError(
            f"{Path(results_dir) / DRAWS_DIR}: not found; RESULTS_DIR must be a folder written by `costspine psa` "
            "(e.g. reports/<scenario>/psa)"
        )
    if location.name == DRAWS_DIR:
        return open_draws_dir(location)
    import zipfile

    path = location
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in ARRAYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise UsageError(
            f"{path}: cannot read the PSA draws ({type(exc).__name__}: truncated or corrupt?); rerun `costspine psa`"
        ) from None
    if meta.get("format") != DRAWS_FORMAT:
        raise UsageError(f"{path}: written by an incompatible costspine (format {meta.get('format')!r}); rerun `costspine psa`")
    return _result(meta, arrays, None)
