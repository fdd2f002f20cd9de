"""Figure creation, saving, axes styling, input checks and money formatters (the ONLY importer of matplotlib).

The plot families (:mod:`costspine.reports.figures.decision`, :mod:`costspine.reports.figures.run`)
get every matplotlib object through these helpers: :func:`_new_figure` makes a Figure with an Agg
canvas attached directly (pyplot is never imported, no backend is selected, no ``rcParams``
change), :func:`_axes` takes the caller's Axes or makes one, :func:`_style` and
:func:`_money_formatter` dress the axes, and :func:`save_figure` / :func:`to_png` write 150 dpi PNGs
atomically. matplotlib is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from costspine._files import write_atomic
from costspine.errors import UsageError
from costspine.reports.workbook import CURRENCY_SYMBOLS

if TYPE_CHECKING:  # annotations only
    from matplotlib.figure import Figure  # noqa: F401  (for the plot modules' annotations)

DPI = 150
SIZE = (7.0, 4.6)  # inches: 1050 x 690 pixels at 150 dpi
COLOURS = ("#4472C4", "#ED7D31", "#70AD47", "#FFC000", "#5B9BD5", "#A5A5A5", "#264478", "#9E480E")
STATE_COLOURS = ("#4472C4", "#ED7D31", "#70AD47", "#FFC000", "#7F7F7F", "#9E480E", "#264478", "#B07AA1")
MAX_CE_POINTS = 2000  # per comparator; more only hides the cloud's shape under ink


# ----------------------------------------------------------------------------------------- helpers


def _new_figure(size=SIZE):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # noqa: F401  (for the plot modules' annotations)

    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _axes(ax, *, size=SIZE):
    """``(figure, ax)``: the caller's Axes and its figure, or a new figure of ``size`` with one Axes."""
    if ax is None:
        figure = _new_figure(size)
        return figure, figure.add_subplot()
    if not hasattr(ax, "get_figure"):
        raise UsageError(f"ax: expected a matplotlib Axes; got {type(ax).__name__}")
    return ax.get_figure(), ax


def save_figure(figure, path, *, tight: bool = False) -> Path:
    """Write ``figure`` as a 150 dpi PNG at ``path`` (atomically: no partial file on failure).

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        What a ``plot_*`` function returned.
    path : str or Path
        Ends in ``.png``.
    tight : bool
        Crop to the drawn content (used for tables).

    Returns
    -------
    Path

    Raises
    ------
    UsageError
        ``path`` does not end in ``.png``.
    """
    return _save(figure, path, tight=tight)


def to_png(plot):
    """``plot`` (a ``plot_*`` function) as a writer: same arguments plus ``path=``; returns the Path.

    The commands plan their figures as ``functools.partial(to_png(plot_ceac), ..., path=...)``
    and call them once everything is computed.
    """

    @functools.wraps(plot)
    def write(*args, path, **kwargs) -> Path:
        return _save(plot(*args, **kwargs), path)

    return write


def _save(figure, path, *, tight: bool = False) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UsageError(f"{path}: figures are written as PNG; got suffix {path.suffix!r} — use {path.with_suffix('.png').name}")
    buffer = io.BytesIO()
    # Figures keep their size: the constrained layout makes room for titles, labels and legends
    # (tests/unit/test_figures.py checks every text lies inside the figure); tables are cropped.
    extra = {"bbox_inches": "tight", "pad_inches": 0.12} if tight else {}
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white", **extra)
    return write_atomic(path, buffer.getvalue())


def _vector(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise UsageError(f"{name}: expected a 1-D array; got shape {array.shape}")
    return array


def _matrix(values, name: str, *, rows: int, rows_name: str) -> np.ndarray:
    """A 2-D array (rows, series); a 1-D array is one series."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] != rows:
        raise UsageError(f"{name}: expected shape ({rows_name}={rows}, series) or ({rows},); got {np.shape(values)}")
    return array


def _series(series: dict, name: str, *, length: int, index_name: str) -> dict[str, np.ndarray]:
    if not isinstance(series, dict) or not series:
        raise UsageError(f"{name}: expected a non-empty dict of label -> array")
    out = {}
    for label, values in series.items():
        array = _vector(values, f"{name}[{label!r}]")
        if len(array) != length:
            raise UsageError(f"{name}[{label!r}]: {len(array)} values for {length} {index_name}")
        out[_plain_text(label)] = array
    return out


def _labels(labels, count: int, name: str) -> list[str]:
    labels = [labels] if isinstance(labels, str) else list(labels)
    if len(labels) != count:
        raise UsageError(f"{name}: {len(labels)} labels for {count} series")
    return [_plain_text(label) for label in labels]


_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


def _plain_text(text) -> str:
    """``text`` for a matplotlib label: dollar signs escaped, so '$120 fee' is not read as mathtext.

    matplotlib reads any text with two unescaped ``$`` as math ("max $134 at $150,000" comes out as
    "max 134*at*150,000" in italics). Escaping is idempotent: ``\\$`` stays as it is.

    Examples
    --------
    >>> _plain_text("max $134 at $150,000")
    'max \\\\$134 at \\\\$150,000'
    >>> _plain_text(_plain_text("$5")) == _plain_text("$5")
    True
    """
    return _UNESCAPED_DOLLAR.sub(r"\\$", str(text))


def _money_formatter(currency: str):
    from matplotlib.ticker import FuncFormatter

    symbol = CURRENCY_SYMBOLS.get(currency, "")

    def fmt(value, _pos=None):
        sign = "-" if value < 0 else ""
        value = abs(value)
        if value >= 1e6:
            text = f"{value / 1e6:,.1f}M"
        elif value >= 1e4:
            text = f"{value / 1e3:,.0f}k"
        else:
            text = f"{value:,.0f}"
        return _plain_text(f"{sign}{symbol}{text}" if symbol else f"{sign}{text}")

    return FuncFormatter(fmt)


def _money(value: float, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    text = f"{abs(value):,.0f}"
    sign = "-" if value < 0 else ""
    return _plain_text(f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}")


def _wrap_label(text: str, width: int) -> str:
    """Wrap a tick label at spaces and after underscores (``spine_injection_cut_50``); keep ``\\n``."""
    import textwrap

    lines = []
    for part in text.split("\n"):
        wrapped = textwrap.wrap(part.replace("_", "_ "), width, break_long_words=False) or [""]
        lines += [line.replace("_ ", "_") for line in wrapped]
    return "\n".join(lines)


def _style(ax, *, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(_plain_text(title), fontsize=12, fontweight="bold", loc="left")
    ax.set_xlabel(_plain_text(xlabel))
    ax.set_ylabel(_plain_text(ylabel))
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
