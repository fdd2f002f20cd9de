"""Figures of results: every ``plot_*`` function, re-exported from the modules that draw them.

Each ``plot_*`` function takes plain arrays and labels, draws one figure with a title, axis labels
with units and a legend, and returns the ``matplotlib.figure.Figure``. Pass ``ax=`` to draw into
an Axes of your own (a notebook's, a panel of a larger figure); otherwise the function makes a new
Figure with an Agg canvas attached directly: pyplot is never imported, no backend is selected and
no ``rcParams`` change, so plotting leaves matplotlib's global state as it found it (safe inside a
notebook, a server or a test run). Saving is the caller's choice: :func:`save_figure` writes a
150 dpi PNG atomically, and :func:`to_png` turns a ``plot_*`` function into one that draws and
writes (what the commands' reports use). matplotlib is imported inside the functions, so
``import costspine.reports.figures`` is cheap.

:mod:`~costspine.reports.figures.common` (figure creation, saving, axes styling, formatters) is
the ONLY importer of matplotlib; :mod:`~costspine.reports.figures.decision` (CE plane, CEAC, EVPI,
tornado) and :mod:`~costspine.reports.figures.run` (budget, costs, trajectory, trace, table) draw
through its helpers.

Example
-------
>>> figure = plot_ceac([0, 20000, 50000], [[0.6, 0.4], [0.4, 0.6], [0.2, 0.8]], strategies=["usual care", "physio"])
>>> type(figure).__name__
'Figure'
>>> save_figure(figure, tmp_path / "ceac.png").name  # tmp_path: any folder
'ceac.png'
"""

from costspine.reports.figures.common import save_figure, to_png
from costspine.reports.figures.decision import plot_ce_plane, plot_ceac, plot_evpi, plot_tornado
from costspine.reports.figures.run import (
    plot_budget,
    plot_cost_by_category,
    plot_table,
    plot_table_png,
    plot_trace,
    plot_trajectory,
)

__all__ = [
    "plot_ce_plane",
    "plot_ceac",
    "plot_evpi",
    "plot_tornado",
    "plot_budget",
    "plot_cost_by_category",
    "plot_trajectory",
    "plot_trace",
    "plot_table",
    "plot_table_png",
    "save_figure",
    "to_png",
]
