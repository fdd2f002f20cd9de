"""The one random-stream layout of costspine: every random number comes from ``stream(seed, *path)``.

A run has one seed (``--seed``). Each component draws from its own stream, a
:class:`numpy.random.SeedSequence` whose spawn key is derived from a *path* of names and
indices, so adding a component (a parameter, a strategy, a command) never shifts another  , and
the number of chunks or workers never changes a number:

=================================  =====================================================  =========================
component                          stream path                                            used by
=================================  =====================================================  =========================
parameter ``name``, draw ``d``     ``(PARAMETERS, d // DRAW_BLOCK, name)``, value         psa, bia, microsim PSA
                                   ``d % DRAW_BLOCK`` of that stream
correlated group ``a,b``           ``(PARAMETERS, d // DRAW_BLOCK, "correlation:a,b")``   psa, bia, microsim PSA
posterior rows (pool ``k``)        ``(PARAMETERS, d // DRAW_BLOCK, POSTERIOR_ROWS)``,     psa, bia, microsim PSA
                                   value ``k·DRAW_BLOCK + d % DRAW_BLOCK``
individuals of draw ``d``          ``(MICROSIMULATION, d)`` (+ strategy name without      run --method microsim
                                   common random numbers); the base case is draw 0        (draw 0), microsim PSA
EVPPI standard error               ``("evppi <names> at <wtp>",)``                        psa --evppi, voi
=================================  =====================================================  =========================

``dsa`` draws nothing (its variants are deterministic). A path part that is a string is turned
into a 64-bit integer by :func:`path_key` (the first 8 bytes of its SHA-256); an integer  is used
as it is. So ``stream(seed, "a", 3)`` is ``default_rng(SeedSequence(seed, spawn_key=(key  ("a"), 3)))``.

Parameters are drawn in fixed blocks of :data:`DRAW_BLOCK` draws: draw ``d`` of a parame  ter is
value ``d % DRAW_BLOCK`` of its block's stream. Every family numpy samples value by valu  e, so the
first ``k`` values of a block do not depend on how many are drawn; a run of ``N`` draws   therefore
has the same draw ``d`` whatever ``N``, the PSA chunk size or the number of workers, and  ``psa``
and ``bia`` with the same seed draw the same values for the same parameter.

The name of :data:`PARAMETERS` is historical (``"costspine psa chunk"``): it keeps the PSA's draws
for a given seed what they were when PSA chunks and parameter blocks were one thing.

This module is a leaf: it imports only numpy and hashlib.
"""

from __future__ import annotations

import hashlib

import numpy as np

PARAMETERS = "costspine psa chunk"
"""First path part of every parameter stream (psa, bia, microsimulation PSA)."""

POSTERIOR_ROWS = "posterior rows"
"""Last path part of the stream choosing posterior rows (not an identifier: no parameter can share it)."""

CORRELATION = "correlation:"
"""Prefix of a correlated group's stream name (``"correlation:a,b"``) within a parameter block."""

MICROSIMULATION = "microsimulation"
"""First path part of the microsimulation's individual streams."""

DRAW_BLOCK = 1000
"""Parameter draws per block of the layout. Fixed: changing it would change every PSA draw."""


def path_key(part) -> int:
    """The spawn-key element of one path part: a string's first 8 SHA-256 bytes, or the integer.

    >>> path_key(3)
    3
    >>> path_key("microsimulation") == int.from_bytes(hashlib.sha256(b"microsimulation").digest()[:8], "little")
    True
    """
    if isinstance(part, str):
        return int.from_bytes(hashlib.sha256(part.encode()).digest()[:8], "little")
    if isinstance(part, (int, np.integer)) and not isinstance(part, bool) and 0 <= int(part) < 2**64:
        return int(part)
    raise TypeError(f"a stream path part must be a string or an integer in [0, 2**64); got {part!r}")


def seed_sequence(seed, *path) -> np.random.SeedSequence:
    """The :class:`~numpy.random.SeedSequence` of the stream ``path`` of a run.

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
        The run's seed (an ``int >= 0``), or a seed sequence from this layout to extend.
    *path : str or int
        Names and indices, from the component down (see the module's table).

    Returns
    -------
    numpy.random.SeedSequence
        ``SeedSequence(seed, spawn_key=(path_key(p) for p in path))``; a given seed sequence's own
        spawn key comes first.

    Raises
    ------
    TypeError
        The seed is neither an int nor a SeedSequence, or a path part is neither a str nor an int.

    Examples
    --------
    >>> seed_sequence(7, "a", 3).spawn_key == (path_key("a"), 3)
    True
    >>> seed_sequence(seed_sequence(7, "a"), 3).spawn_key == seed_sequence(7, "a", 3).spawn_key
    True
    """
    keys = tuple(path_key(p) for p in path)
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + keys)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and int(seed) >= 0:
        return np.random.SeedSequence(int(seed), spawn_key=keys)
    raise TypeError(f"a seed must be an int >= 0 or a numpy.random.SeedSequence; got {seed!r}")


def stream(seed, *path) -> np.random.Generator:
    """The generator of the stream ``path`` of a run: ``default_rng(seed_sequence(seed, *path))``.

    >>> a, b = stream(1, "x").random(3), stream(1, "x").random(3)
    >>> bool((a == b).all()), bool((a == stream(1, "y").random(3)).any())
    (True, False)
    """
    return np.random.default_rng(seed_sequence(seed, *path))


def draw_blocks(start: int, stop: int) -> tuple[tuple[int, int, int], ...]:
    """The parameter blocks draws ``start..stop-1`` span: ``(block, first, stop)`` within each block.

    Draw ``d`` is value ``d % DRAW_BLOCK`` of block ``d // DRAW_BLOCK``; draw the first ``stop``
    values of the block's streams and keep ``[first:stop]``.

    >>> draw_blocks(900, 2100)
    ((0, 900, 1000), (1, 0, 1000), (2, 0, 100))
    """
    if not 0 <= start <= stop:
        raise ValueError(f"draws must satisfy 0 <= start <= stop; got start={start}, stop={stop}")
    out = []
    d = start
    while d < stop:
        block = d // DRAW_BLOCK
        end = min(stop, (block + 1) * DRAW_BLOCK)
        out.append((block, d - block * DRAW_BLOCK, end - block * DRAW_BLOCK))
        d = end
    return tuple(out)
