"""Progress bars on stderr, shown only on a terminal, drawn by `rich <https://rich.readthedocs.io>`_.

A bar counts units of work (draws, individuals) and shows the share done, the counts, the elapsed
time and an estimate of the time left; rich redraws it several times a second, so the clock moves
even while one long step runs. Callers advance it as work finishes: per chunk, and within a chunk
per block (:meth:`ProgressBar.partial`), so it moves at least every second of work. Nothing is
imported or printed when the stream is not a terminal or the bar is disabled (``--quiet``): rich
is imported only when a bar is drawn (about 30 ms).

>>> with ProgressBar(10, label="PSA", enabled=False) as bar:  # enabled=False: prints nothing
...     bar.advance(10)
"""

from __future__ import annotations

import sys


def is_terminal(stream=None) -> bool:
    """Whether ``stream`` (default stderr) is an interactive terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams (e.g. click's test runner)
        return False


class ProgressBar:
    """``PSA ━━━━━━━━━━╺━━━━━━━━━  510/1,000 draws  0:00:04  ETA 0:00:04`` on a terminal.

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

    Attributes
    ----------
    done : int
        Units completed (:meth:`advance`).
    shown : float
        What the bar shows: ``done`` plus the running step's share (:meth:`partial`).
    """

    def __init__(self, total: int, *, label: str = "", unit: str = "", enabled: bool | None = None, stream=None):
        self.total = max(int(total), 0)
        self.label = label
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.enabled = is_terminal(self.stream) if enabled is None else bool(enabled)
        self.done = 0
        self._partial = 0.0
        self._progress = None
        self._task = None

    @property
    def shown(self) -> float:
        return min(self.done + self._partial, self.total) if self.total else self.done + self._partial

    def __enter__(self):
        self._start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def advance(self, n: int = 1) -> None:
        """``n`` more units are done (the running step's partial count is dropped)."""
        self.done = min(self.done + int(n), self.total) if self.total else self.done + int(n)
        self._partial = 0.0
        self._draw()

    def partial(self, units: float) -> None:
        """The running step has done ``units`` so far (not yet counted by :meth:`advance`)."""
        self._partial = max(float(units), 0.0)
        self._draw()

    def close(self) -> None:
        """Draw the last state and leave the bar on its own line."""
        if self._progress is not None:
            self._draw()
            self._progress.stop()
            self._progress = None
        self.enabled = False

    def _start(self) -> None:
        if not self.enabled or self._progress is not None:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        unit = f" {self.unit}" if self.unit else ""
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[count]}" + unit),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(file=self.stream, force_terminal=True, width=100),
            transient=False,
            refresh_per_second=4,
        )
        self._task = self._progress.add_task(self.label, total=self.total or None, count=self._count())
        self._progress.start()

    def _count(self) -> str:
        return f"{int(self.shown):,}/{self.total:,}"

    def _draw(self) -> None:
        if not self.enabled:
            return
        if self._progress is None:
            self._start()
        self._progress.update(self._task, completed=self.shown, count=self._count())
