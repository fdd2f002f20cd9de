"""Files: the one safe reader of input files, atomic writes, summary/CSV writers.

Every file costspine reads (scenario and evidence TOML, ``[tables]`` CSVs, the unit-cost, CPI
and payer tables, PSA draws, the posterior cache) goes through :func:`read_input_file`: only
regular files are read, and their size is checked against a documented limit before reading.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import errno
import hashlib
import io
import json
import os
import re
import stat
import tempfile
from pathlib import Path

import numpy as np

from costspine.errors import InputFileError, OutputFolderError

PACKAGE_PREFIX = "package:"
PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_path(relative: str) -> Path:
    """A file shipped with costspine, named relative to the package folder (``data/unit_costs.csv``).

    The bundled scenarios and evidence (``scenarios/...``) are package data of the wheel
    (``costspine/scenarios/``); in a source checkout they are the repository's ``scenarios/`` folder
    beside the package, which the wheel is built from (setup.py).

    Examples
    --------
    >>> bundled_path("data/unit_costs.csv").is_file()
    True
    >>> bundled_path("scenarios/spine/base_case.toml").is_file()
    True
    """
    path = PACKAGE_DIR / relative
    if not path.exists() and Path(relative).parts[:1] == ("scenarios",):
        checkout = PACKAGE_DIR.parent / relative
        if checkout.exists():
            return checkout
    return path


def bundled_scenarios_dir() -> Path:
    """The folder of the bundled scenarios: ``costspine/scenarios`` of a wheel, or the checkout's ``scenarios/``."""
    return bundled_path("scenarios")


def resolve_path(value: str, *, base_dir) -> Path:
    """A path written in a scenario or evidence file: ``package:...`` names a bundled file, anything
    else is relative to ``base_dir`` (the folder of the file that writes it), an absolute path is kept
    (refused when reading is confined, see :func:`confined_to`).

    Examples
    --------
    >>> resolve_path("life.csv", base_dir="models").as_posix()
    'models/life.csv'
    >>> resolve_path("package:data/us_life_table_2023.csv", base_dir="models").name
    'us_life_table_2023.csv'
    """
    if isinstance(value, str) and value.startswith(PACKAGE_PREFIX):
        return bundled_path(value[len(PACKAGE_PREFIX) :])
    root = _ROOT.get()
    if root is not None and Path(value).is_absolute():
        raise InputFileError(
            value,
            f"an absolute path is not allowed when reading is confined to {root} (--root); "
            "write it relative to the file that names it, or use a package: path",
        )
    return Path(base_dir) / value


MiB = 1024 * 1024
# Size limits of input files, checked (with stat) before a byte is read.
MAX_TOML_BYTES = 16 * MiB
"""Scenario, ``extends`` and evidence TOML files."""
MAX_TABLE_BYTES = 256 * MiB
"""CSV tables: ``[tables]`` files, the unit-cost catalogue, CPI and payer tables, PSA draws, the posterior cache."""


def read_input_file(path, *, max_bytes: int = MAX_TABLE_BYTES, confined: bool = True) -> bytes:
    """The bytes of an input file, read only if it is a regular file no larger than ``max_bytes``.

    The checks come before reading: a folder, a FIFO, a device (``/dev/zero``, ``/dev/urandom``),
    a socket or a symlink loop is refused at once; the file's size is taken from ``stat`` and
    compared with the limit. The file is then opened without blocking (a FIFO swapped in after
    the check cannot hang the reader) and checked again through its open handle.

    Parameters
    ----------
    path : str or Path
    max_bytes : int
        Size limit; see :data:`MAX_TOML_BYTES` and :data:`MAX_TABLE_BYTES`.
    confined : bool
        Refuse a file outside the folder of :func:`confined_to` (``--root``). False only for
        costspine's own files (saved PSA chunks, the posterior cache), never for a file a user names.

    Returns
    -------
    bytes

    Raises
    ------
    InputFileError
        The file is missing, not a regular file, too large or unreadable; the message names the
        file and the problem and never quotes its content.

    Examples
    --------
    >>> read_input_file("/dev/zero")
    Traceback (most recent call last):
    ...
    costspine.errors.InputFileError: /dev/zero: not a regular file (a device); costspine reads only regular files
    """
    path = Path(path)
    if confined:
        check_confined(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputFileError(
            path, "file not found; check the path (a relative path is resolved against the folder of the file that names it)"
        ) from None
    except (OSError, ValueError) as exc:
        raise InputFileError(path, _os_problem(exc)) from None
    _check_regular(path, info, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except (OSError, ValueError) as exc:
        raise InputFileError(path, _os_problem(exc)) from None
    try:
        _check_regular(path, os.fstat(fd), max_bytes)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputFileError(path, _os_problem(exc)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputFileError(path, f"grew beyond the limit of {max_bytes:,} bytes while being read")
    return data


def input_file_sha256(path, *, max_bytes: int = MAX_TABLE_BYTES) -> str:
    """SHA-256 (hex) of an input file read with :func:`read_input_file`."""
    return hashlib.sha256(read_input_file(path, max_bytes=max_bytes)).hexdigest()


def describe_header(header) -> str:
    """A CSV header row as an error message may show it: column names only if they look like names.

    A file that is not the expected table (``/etc/passwd`` given as a catalogue) must not have its
    first line echoed, so a header with any name that is not identifier-like text is only counted.

    Examples
    --------
    >>> describe_header(["year", "index"])
    "'year', 'index'"
    >>> describe_header(["root:x:0:0:root:/root:/bin/bash"])
    'a first row of 1 field(s) that are not column names'
    """
    header = list(header or [])
    if not header:
        return "an empty file"
    if all(_COLUMN_NAME.fullmatch(h.strip()) for h in header) and len(header) <= 50:
        return ", ".join(repr(h.strip()) for h in header)
    return f"a first row of {len(header)} field(s) that are not column names"


_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ .%()-]{0,62}")


def _check_regular(path: Path, info: os.stat_result, max_bytes: int) -> None:
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise InputFileError(path, "is a folder; expected a file")
    if not stat.S_ISREG(mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a special file"
        )
        raise InputFileError(path, f"not a regular file ({kind}); costspine reads only regular files")
    if info.st_size > max_bytes:
        raise InputFileError(path, f"is {info.st_size:,} bytes; the limit for this kind of file is {max_bytes:,} bytes")


def _os_problem(exc: BaseException) -> str:
    if isinstance(exc, ValueError):
        return "not a usable path (it contains a NUL character?)"
    if exc.errno == errno.ELOOP:
        return "symlinks form a loop (or a chain too long to follow); point at the real file"
    if exc.errno == errno.EISDIR:
        return "is a folder; expected a file"
    if exc.errno == errno.EACCES:
        return "permission denied; make the file readable"
    return f"cannot read the file: {exc.strerror or type(exc).__name__}"


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
    """Atomic CSV from rows of plain values.

    Floats are written exactly (shortest round-trip ``repr``); text cells that a spreadsheet
    would read as a formula are neutralised (:func:`neutralize_csv_text`); numbers stay numbers.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # the csv module quotes only the line terminator's characters: a row with a carriage return in
    # a cell is written fully quoted, or a reader would split the row there
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in ([neutralize_csv_text(h) for h in headers], *([_csv_value(v) for v in row] for row in rows)):
        (quoted if any(isinstance(v, str) and "\r" in v for v in row) else writer).writerow(row)
    return write_atomic(path, buffer.getvalue())


# A text cell starting with one of these is run as a formula by spreadsheets (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize_csv_text(value):
    """A text cell made safe to open in a spreadsheet: formula-like text gets a leading apostrophe.

    OWASP's advice for CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return is prefixed with ``'`` so Excel, LibreOffice and Google Sheets show it as text
    instead of evaluating it. Anything that is not a ``str`` (numbers, None), and text that is
    a plain number such as ``"-1.5"``, is returned unchanged.

    Examples
    --------
    >>> neutralize_csv_text("=SUM(A1:A9)"), neutralize_csv_text("@cmd")
    ("'=SUM(A1:A9)", "'@cmd")
    >>> neutralize_csv_text("-1.5"), neutralize_csv_text(-2.0), neutralize_csv_text("ice")
    ('-1.5', -2.0, 'ice')
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def _csv_value(value):
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return neutralize_csv_text(value)


# --------------------------------------------------------------------------------------------
# Confinement: --root DIR (or COSTSPINE_ROOT) keeps every file a scenario names inside DIR

ROOT_ENVIRONMENT_VARIABLE = "COSTSPINE_ROOT"
"""The environment variable the command line reads as ``--root`` (for services)."""

_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar("costspine_input_root", default=None)


@contextlib.contextmanager
def confined_to(root):
    """Within this block, input files are read only from inside ``root`` (or the package's own data).

    A path written in a scenario or evidence file may not be absolute (:func:`resolve_path`
    refuses it), and :func:`read_input_file` refuses any file whose real location (``..`` and
    symlinks followed) is outside ``root`` and outside the installed package (``package:`` files).
    ``root=None`` leaves reading unconfined. The command line enters this block for ``--root DIR``
    or the :data:`ROOT_ENVIRONMENT_VARIABLE` environment variable.

    Examples
    --------
    >>> with confined_to("/srv/models"):
    ...     try:
    ...         read_input_file("/etc/passwd")
    ...     except InputFileError as exc:
    ...         print(exc.reason.split(";")[0])
    is outside the allowed folder /srv/models (--root)
    """
    token = _ROOT.set(None if root is None else Path(os.path.realpath(root)))
    try:
        yield
    finally:
        _ROOT.reset(token)


def input_root() -> Path | None:
    """The folder input files are confined to (:func:`confined_to`), or None."""
    return _ROOT.get()


def check_confined(path) -> None:
    """Raise :class:`InputFileError` if ``path``'s real location is outside the confining root.

    Files of the installed package (``package:`` paths) are always allowed.
    """
    root = _ROOT.get()
    if root is None:
        return
    try:
        real = Path(os.path.realpath(path))
    except (OSError, ValueError) as exc:
        raise InputFileError(path, _os_problem(exc)) from None
    for allowed in (root, PACKAGE_DIR, bundled_scenarios_dir().resolve()):
        if real == allowed or allowed in real.parents:
            return
    raise InputFileError(
        path,
        f"is outside the allowed folder {root} (--root); its real location (after '..' and symlinks) "
        "must be inside that folder — copy the file there or use a package: path",
    )


# --------------------------------------------------------------------------------------------
# Output folders: all-or-nothing, locked while in use

LOCK_SUFFIX = ".lock"


@contextlib.contextmanager
def output_folder(target):
    """Write a command's outputs all-or-nothing into ``target``, holding its lock meanwhile.

    Yields a new, empty staging folder beside ``target`` (``.<name>.partial-<pid>``). When the
    block raises (an error, Ctrl-C, a full disk), the staging folder is deleted and ``target`` is
    left as it was. When it ends normally, the results are moved in (:func:`commit_outputs`):
    the previous ``manifest.json`` is removed first, then the files the previous manifest listed,
    then the new files arrive by rename, and the new manifest last. A reader thus sees the old
    complete set of results, or the new one; a folder without ``manifest.json`` is incomplete.
    Other files in ``target`` (a PSA's ``chunks/``, anything of the user's) are left alone.

    While the block runs, ``target`` is locked by ``.<name>.lock`` beside it, holding the process
    id: a second run into the same folder stops with :class:`~costspine.errors.OutputFolderError`
    naming the folder and the other process; a lock left by a process that no longer exists
    (killed) is taken over, and its staging folder deleted.

    Parameters
    ----------
    target : path
        The output folder the user asked for.

    Raises
    ------
    OutputFolderError
        ``target`` is in use by another live process, or exists and is not a folder.
    """
    shown, target = Path(target), Path(os.path.abspath(target))
    if target.exists() and not target.is_dir():
        raise OutputFolderError(f"{shown}: the output folder exists and is not a folder; choose another --out")
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = acquire_output_lock(target)
    staging = target.parent / f".{target.name}.partial-{os.getpid()}"
    try:
        _remove_stale_siblings(target)
        if staging.exists():
            _remove_tree(staging)
        staging.mkdir()
        yield staging
        commit_outputs(staging, target)
    finally:
        if staging.exists():
            _remove_tree(staging)
        release_output_lock(lock)


MANIFEST = "manifest.json"


def commit_outputs(staging: Path, target: Path) -> None:
    """Move a finished run's files from ``staging`` into ``target``, the manifest last.

    The previous run's ``manifest.json`` goes first (from then on the folder reads as incomplete),
    then the outputs it listed (relative paths inside ``target`` only), then every new file by
    ``os.replace``, and the new manifest last.
    """
    target.mkdir(parents=True, exist_ok=True)
    old_manifest = target / MANIFEST
    previous = _listed_outputs(old_manifest)
    with contextlib.suppress(FileNotFoundError):
        old_manifest.unlink()
    for relative in previous:
        old = target / relative
        if old.is_file() or old.is_symlink():
            old.unlink()
    new_files = sorted((p for p in staging.rglob("*") if p.is_file()), key=lambda p: p.name == MANIFEST and p.parent == staging)
    for path in new_files:
        dest = target / path.relative_to(staging)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_dir() and not dest.is_symlink():
            _remove_tree(dest)
        os.replace(path, dest)


def _listed_outputs(manifest: Path) -> list[str]:
    """The ``outputs`` of a previous manifest that are plain relative paths inside the folder."""
    try:
        outputs = json.loads(manifest.read_text(encoding="utf-8")).get("outputs", [])
    except (OSError, ValueError, AttributeError):
        return []
    safe = []
    for item in outputs if isinstance(outputs, list) else []:
        if isinstance(item, str) and item and not Path(item).is_absolute() and ".." not in Path(item).parts:
            safe.append(item)
    return safe


def output_lock_path(target) -> Path:
    """The lock file of an output folder: ``.<name>.lock`` beside it."""
    target = Path(target)
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


def acquire_output_lock(target) -> Path:
    """Create ``target``'s lock file holding this process's id; return its path.

    The lock file is created complete (written under a temporary name, then hard-linked to its
    name, which fails if it exists). A lock whose process no longer runs is stale and taken over.

    Raises
    ------
    OutputFolderError
        Another live process holds the lock.
    """
    lock = output_lock_path(target)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{lock.name}.", suffix=".tmp", dir=lock.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(f"{os.getpid()}\n")
        for _ in range(3):
            try:
                os.link(tmp, lock)
                return lock
            except FileExistsError:
                holder = _lock_holder(lock)
                if holder is not None and _process_alive(holder):
                    raise OutputFolderError(
                        f"{Path(target)}: the output folder is in use by another costspine run (pid {holder}; "
                        f"lock file {lock}); wait for it to finish or choose another --out"
                    ) from None
                with contextlib.suppress(FileNotFoundError):  # stale: its process is gone
                    if _lock_holder(lock) == holder:
                        lock.unlink()
        raise OutputFolderError(f"{Path(target)}: could not take the lock {lock}; other runs keep taking it — try again")
    except OSError as exc:
        raise OutputFolderError(
            f"{lock}: cannot create the output folder's lock ({exc.strerror or type(exc).__name__})"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def release_output_lock(lock: Path) -> None:
    """Remove a lock file this process holds (nothing if another process took it over)."""
    with contextlib.suppress(OSError):
        if _lock_holder(lock) == os.getpid():
            lock.unlink()


def _lock_holder(lock: Path) -> int | None:
    try:
        text = lock.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _remove_stale_siblings(target: Path) -> None:
    """Delete staging and set-aside folders of ``target`` left by killed runs."""
    for sibling in target.parent.glob(f".{glob_escape(target.name)}.*-*"):
        kind, _, pid = sibling.name.rpartition("-")
        if sibling.is_dir() and kind.endswith((".partial", ".old")) and pid.isdigit() and not _process_alive(int(pid)):
            _remove_tree(sibling)


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def staged_path(path, *, target, staging) -> Path:
    """``path`` moved from inside ``target`` to the same place inside ``staging`` (else unchanged).

    A workbook asked for with ``--xlsx OUT/book.xlsx`` is written into the staging folder, so it
    arrives with the other results.
    """
    path, target = Path(path), Path(target)
    try:
        return Path(staging) / Path(os.path.abspath(path)).relative_to(os.path.abspath(target))
    except ValueError:
        return path


def distinct_folder_names(names) -> list[str]:
    """Folder names for scenarios side by side: equal names get ``-2``, ``-3``... (first one unchanged).

    Examples
    --------
    >>> distinct_folder_names(["spine", "spine", "hiv"])
    ['spine', 'spine-2', 'hiv']
    """
    seen: dict[str, int] = {}
    out = []
    taken = set(names)
    for name in names:
        count = seen.get(name, 0) + 1
        seen[name] = count
        candidate = name if count == 1 else f"{name}-{count}"
        while count > 1 and candidate in taken:
            count += 1
            candidate = f"{name}-{count}"
        seen[name] = count
        taken.add(candidate)
        out.append(candidate)
    return out
