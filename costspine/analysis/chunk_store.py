"""Saved chunks of a PSA run (resume): the chunk layout, the run fingerprint and :class:`ChunkStore`.

A PSA of ``n_draws`` draws is cut into chunks (:data:`CHUNK_SIZE` by default, see
:func:`plan_chunks`). Chunks can be saved as they finish (:class:`ChunkStore`:
``chunk-000003.npz`` files plus a ``run.json`` describing the run), so an interrupted run resumes
where it stopped (a finished run's chunks are discarded once ``draws/`` holds the draws, see
:meth:`ChunkStore.discard`); a store refuses to mix chunks of a different scenario (:func:`run_fingerprint`),
seed, number of draws, chunk size, method or costspine version (exit 3,
:class:`~costspine.errors.OutputFolderError`). :func:`costspine.analysis.psa.run_psa` drives it.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from costspine.errors import AnalysisError, OutputFolderError, UsageError

CHUNK_SIZE = 1000
"""Draws per chunk by default (the same whatever the number of workers; results never depend on it)."""

STORE_FORMAT = 1


def plan_chunks(n_draws: int, chunk_size: int = CHUNK_SIZE) -> tuple[tuple[int, int], ...]:
    """``(start, stop)`` of every chunk: ``[0, c), [c, 2c), ...``; the last one may be shorter.

    >>> plan_chunks(2500, 1000)
    ((0, 1000), (1000, 2000), (2000, 2500))
    """
    if n_draws < 1 or chunk_size < 1:
        raise UsageError(f"need at least one draw and a chunk size >= 1; got draws={n_draws}, chunk size={chunk_size}")
    return tuple((start, min(start + chunk_size, n_draws)) for start in range(0, n_draws, chunk_size))


def run_fingerprint(scenario, *, method: str, posterior_pools=()) -> str:
    """SHA-256 of everything that determines a chunk besides ``(seed, chunk)``.

    The resolved scenario (with inherited files and catalogue prices), its look-up tables, the
    posterior draws, the simulation method and the costspine version.
    """
    from costspine._version import __version__

    h = hashlib.sha256()
    h.update(json.dumps(scenario.resolved, sort_keys=True, default=str).encode())
    for name, table in sorted(scenario.tables.items()):
        h.update(f"table {name} {table.method}".encode())
        h.update(np.ascontiguousarray(table.x, dtype=float).tobytes())
        h.update(np.ascontiguousarray(table.y, dtype=float).tobytes())
    for pool in posterior_pools:
        h.update(f"posterior {pool['evidence']}".encode())
        for name, values in sorted(pool["parameters"].items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(values, dtype=float).tobytes())
    h.update(f"method {method} costspine {__version__}".encode())
    return h.hexdigest()


class ChunkStore:
    """Completed chunks of one PSA run, saved in ``folder`` as they finish.

    ``folder/run.json`` describes the run (format, scenario, fingerprint, seed, draws, chunk size,
    method, costspine version); ``folder/chunk-000003.npz`` holds chunk 3's arrays (see :func:`costspine.analysis.psa.compute_chunk`).
    Every file is written atomically.
    """

    META = "run.json"
    CHECKED = ("format", "fingerprint", "seed", "n_draws", "chunk_size", "method", "individuals", "costspine_version")

    def __init__(self, folder, meta: dict):
        from costspine._version import __version__

        self.folder = Path(folder)
        self.meta = {**meta, "costspine_version": __version__}

    @property
    def meta_path(self) -> Path:
        return self.folder / self.META

    def chunk_path(self, chunk: int) -> Path:
        return self.folder / f"chunk-{chunk:06d}.npz"

    def open(self, *, resume: bool) -> list[int]:
        """Prepare the folder; return the chunks already completed (only when resuming).

        Raises
        ------
        OutputFolderError
            Resuming over chunks of a different run (another seed, scenario, method, version...).
        """
        saved = self._read_meta()
        if resume and saved is not None:
            different = [k for k in self.CHECKED if saved.get(k) != self.meta.get(k)]
            if different:
                raise OutputFolderError(self._mismatch(saved, different))
        if not resume or saved is None:
            self.clear()
        from costspine._files import write_json

        write_json(self.meta_path, self.meta)
        layout = plan_chunks(self.meta["n_draws"], self.meta["chunk_size"])
        return [c for c in range(len(layout)) if self.chunk_path(c).exists()]

    def clear(self) -> None:
        """Remove saved chunks and the run description (nothing else in the folder)."""
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("chunk-*.npz"):
            path.unlink()
        if self.meta_path.exists():
            self.meta_path.unlink()

    def discard(self) -> None:
        """Delete this run's saved chunks and ``run.json`` once its results are written elsewhere
        (``draws/``), and the folder if that leaves it empty: a finished run keeps its draws once."""
        self.clear()
        try:
            self.folder.rmdir()
        except OSError:  # missing, or holds files that are not ours
            pass

    def save(self, arrays: dict) -> Path:
        from costspine._files import write_atomic

        buffer = io.BytesIO()
        np.savez(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
        return write_atomic(self.chunk_path(int(arrays["chunk"])), buffer.getvalue())

    def load(self, chunk: int, *, start: int, stop: int, shapes: dict) -> dict:
        import zipfile

        from costspine._files import read_input_file
        from costspine.errors import InputFileError

        path = self.chunk_path(chunk)
        retry = "; delete it and rerun with --resume (only that chunk is recomputed)"
        try:
            raw = read_input_file(path, confined=False)  # a regular file within the size limit, or InputFileError
            with np.load(io.BytesIO(raw), allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except InputFileError as exc:
            raise AnalysisError(f"{path}: {exc.reason}{retry}") from None
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise AnalysisError(
                f"{path}: cannot read this saved chunk (truncated or corrupt: {type(exc).__name__})" + retry
            ) from None
        n = stop - start
        expected = {"parameters": (n, shapes["parameters"]), "costs": (n, *shapes["costs"]), "outcomes": (n, *shapes["outcomes"])}
        ok = all(k in arrays for k in ("chunk", "start", "stop", *expected))
        ok = ok and (int(arrays["chunk"]), int(arrays["start"]), int(arrays["stop"])) == (chunk, start, stop)
        ok = ok and all(arrays[k].shape == shape for k, shape in expected.items())
        if not ok:
            raise AnalysisError(
                f"{path}: this saved chunk does not match the run described in {self.meta_path}; "
                "delete the chunks folder and rerun"
            )
        levels = {k: arrays[k] for k in arrays if k.startswith("level.") and arrays[k].shape[:1] == (n,)}  # microsim subgroups
        return {"chunk": chunk, "start": start, "stop": stop, **{k: arrays[k] for k in expected}, **levels}

    def _read_meta(self) -> dict | None:
        if not self.meta_path.exists():
            return None
        from costspine._files import read_input_file
        from costspine.errors import InputFileError

        try:
            saved = json.loads(read_input_file(self.meta_path, max_bytes=16 * 1024 * 1024, confined=False).decode("utf-8"))
        except InputFileError as exc:
            raise OutputFolderError(f"{self.meta_path}: {exc.reason}; rerun without --resume to start over") from None
        except ValueError as exc:
            raise OutputFolderError(
                f"{self.meta_path}: cannot read the saved run description ({type(exc).__name__}); "
                "rerun without --resume to start over"
            ) from None
        if not isinstance(saved, dict):
            raise OutputFolderError(f"{self.meta_path}: not a saved run description; rerun without --resume to start over")
        return saved

    def _mismatch(self, saved: dict, different: list[str]) -> str:
        parts = []
        for key in different:
            if key == "fingerprint":
                parts.append(
                    f"the scenario (or a file, table, posterior or costspine version it depends on) changed "
                    f"since the chunks were saved (saved for {saved.get('scenario')!r})"
                )
            else:
                parts.append(f"{key}: saved {saved.get(key)!r}, now {self.meta.get(key)!r}")
        return (
            f"{self.folder}: cannot resume: the saved chunks belong to a different run — "
            + "; ".join(parts)
            + ". Rerun with the same options, or without --resume to start over (or use another --out)."
        )
