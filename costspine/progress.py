"""A tiny progress bar on stderr, shown only on a terminal (no dependency).

>>> with ProgressBar(10, label="PSA", enabled=False) as bar:  # enabled=False: prints nothing
...     bar.advance(10)
"""

from __future__ import annotations

import sys
import time


def is_terminal(stream=None) -> bool:
    """Whether ``stream`` (default stderr) is an interactive terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams (e.g. click's test runner)
        return False


class ProgressBar:
    """``label [#####.....] 500/1,000 draws  0.4 s`` redrawn in place with ``\\r``.

    Parameters
    ----------
    total : int
        Units of work (e.g. draws).
    label : str
    unit : str
        Shown after the counts.
    enabled : bool, optional
        Draw the bar; default: only when ``stream`` is a terminal.
    stream : file, optional
        Default ``sys.stderr``.
    """

    WIDTH = 30

    def __init__(self, total: int, *, label: str = "", unit: str = "", enabled: bool | None = None, stream=None):
        self.total = max(int(total), 0)
        self.label = label
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.enabled = is_terminal(self.stream) if enabled is None else bool(enabled)
        self.done = 0
        self._started = time.perf_counter()

    def __enter__(self):
        self._draw()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def advance(self, n: int = 1) -> None:
        self.done = min(self.done + int(n), self.total) if self.total else self.done + int(n)
        self._draw()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False

    def _draw(self) -> None:
        if not self.enabled:
            return
        share = self.done / self.total if self.total else 1.0
        filled = int(round(share * self.WIDTH))
        elapsed = time.perf_counter() - self._started
        unit = f" {self.unit}" if self.unit else ""
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done:,}/{self.total:,}{unit}  {elapsed:.1f} s"
        )
        self.stream.flush()
