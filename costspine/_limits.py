"""Resource limits: the documented size limits of a run and the memory budget it must fit in.

Sizes a scenario or command line may ask for are bounded (:data:`MAX_STATES`, :data:`MAX_DRAWS`,
:data:`MAX_INDIVIDUALS`; cycles: :data:`costspine.scenario.settings.MAX_CYCLES`), and before an
engine allocates its arrays it estimates their size and compares it with the memory budget
(:func:`check_memory`): ``--max-memory`` on the command line (:func:`memory_budget`), else
:data:`MEMORY_SHARE` of the memory available when the run starts. A run that would not fit is
refused at once with :class:`~costspine.errors.ResourceError`, naming the sizes, instead of
running until the operating system kills it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re

from costspine.errors import ResourceError

MAX_STATES = 2_000
"""Health states of a cohort model at most (a transition matrix per strategy and cycle is states²)."""

MAX_DRAWS = 10_000_000
"""PSA (and budget-impact) draws at most."""

MAX_INDIVIDUALS = 100_000_000
"""Microsimulation individuals per strategy at most."""

MEMORY_SHARE = 0.5
"""Share of the available memory a run may use when no ``--max-memory`` is given."""

_BUDGET: contextvars.ContextVar[int | None] = contextvars.ContextVar("costspine_memory_budget", default=None)

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3, "t": 1000**4}
_UNITS |= {"tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def parse_size(text: str) -> int:
    """Bytes from a size such as ``4GiB``, ``500MB``, ``2g`` or ``2000000`` (between 1 MiB and 1 PiB).

    Examples
    --------
    >>> parse_size("4GiB"), parse_size("500 MB"), parse_size("2e6")
    (4294967296, 500000000, 2000000)
    """
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?(?:e[0-9]+)?)\s*([a-z]*)\s*", str(text).lower())
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"expected a size such as 4GiB, 500MB or 2000000 (bytes); got {text!r}")
    value = float(match.group(1)) * _UNITS[match.group(2)]
    if not 1024**2 <= value <= 1024**5:
        raise ValueError(f"a memory budget must be between 1 MiB and 1 PiB; got {text!r}")
    return int(value)


def format_bytes(n_bytes: float) -> str:
    """``5.2 GiB``, ``812 MiB``, ``3 KiB``.

    >>> format_bytes(5.2 * 1024**3), format_bytes(1500)
    ('5.2 GiB', '1.5 KiB')
    """
    for unit, size in (("PiB", 1024**5), ("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{int(n_bytes)} bytes"


def read_available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` on Linux; 2 GiB if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2 * 1024**3


@contextlib.contextmanager
def memory_budget(n_bytes: int | None):
    """Within this block, runs must fit in ``n_bytes`` (None: :data:`MEMORY_SHARE` of the available memory)."""
    token = _BUDGET.set(None if n_bytes is None else int(n_bytes))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def given_memory_budget() -> int | None:
    """The budget of :func:`memory_budget` (``--max-memory``), or None when none was given."""
    return _BUDGET.get()


def current_memory_budget() -> tuple[int, str]:
    """``(bytes, where it comes from)``: the ``--max-memory`` budget, else a share of the available memory."""
    budget = _BUDGET.get()
    if budget is not None:
        return budget, "--max-memory"
    return int(read_available_memory() * MEMORY_SHARE), f"{MEMORY_SHARE:.0%} of the available memory"


def check_memory(n_bytes: float, *, what: str, sizes: str, fix: str) -> None:
    """Raise :class:`~costspine.errors.ResourceError` if ``n_bytes`` exceed the memory budget.

    Parameters
    ----------
    n_bytes : float
        The estimated size of the arrays about to be allocated.
    what : str
        What they are for (``"the cohort model's arrays"``).
    sizes : str
        The sizes the estimate comes from (``"1000 draws × 3 strategies × 100000 cycles × 5 states"``).
    fix : str
        What to change (``"use fewer draws per chunk or a shorter horizon"``).
    """
    budget, source = current_memory_budget()
    if n_bytes > budget:
        raise ResourceError(
            f"{what} would need about {format_bytes(n_bytes)} ({sizes}), more than the memory budget of "
            f"{format_bytes(budget)} ({source}); {fix}, or raise --max-memory if the machine has the memory"
        )
