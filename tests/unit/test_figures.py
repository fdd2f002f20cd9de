"""PNG figures (costspine.reports.figures): files are real PNGs, arguments are checked, and
plotting leaves matplotlib's global state alone."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from costspine.errors import UsageError  # noqa: E402
from costspine.reports import figures  # noqa: E402
from costspine.reports.workbook import Column, Table  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WTP = np.linspace(0, 100_000, 21)


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def check_png(path, *, min_bytes=10_000, size=(1050, 690)):
    assert path.exists()
    assert path.stat().st_size > min_bytes, f"{path.name} is only {path.stat().st_size} bytes"
    width, height = png_size(path)
    if size is not None:
        assert (width, height) == size  # 7 x 4.6 inches at 150 dpi
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []  # no temp files left


def headline() -> Table:
    return Table(
        "headline",
        (Column("strategy"), Column("Cost", "currency"), Column("QALYs", "number", decimals=3), Column("ICER", "currency")),
        [("Usual care", 10234.5, 6.812, None), ("Physio", 11020.1, 6.95, 5692.75), ("Fusion", 31500.0, 7.01, "dominated")],
        title="Base case",
    )


def draw_all(folder) -> dict[str, object]:
    rng = np.random.default_rng(1)
    prob = np.stack([np.exp(-WTP / 2e4), 1 - np.exp(-WTP / 2e4)], axis=1)
    return {
        "ce": figures.to_png(figures.plot_ce_plane)(
            rng.normal([800, 2e4], [500, 4e3], (500, 2)),
            rng.normal([0.14, 0.06], 0.1, (500, 2)),
            wtp=50_000,
            labels=["physio vs usual", "fusion vs usual"],
            currency="USD",
            effect_name="QALYs",
            path=folder / "ce.png",
        ),
        "ceac": figures.to_png(figures.plot_ceac)(
            WTP, prob, strategies=["usual", "physio"], frontier=prob.argmax(axis=1), currency="USD", path=folder / "ceac.png"
        ),
        "evpi": figures.to_png(figures.plot_evpi)(
            WTP, 3000 * np.exp(-(((WTP - 3e4) / 2e4) ** 2)), currency="GBP", path=folder / "evpi.png"
        ),
        "tornado": figures.to_png(figures.plot_tornado)(
            ["cost", "utility", "discount"],
            [2000, 3000, 4500],
            [9000, 8000, 6500],
            base=5700.0,
            xlabel="ICER (USD per QALY)",
            currency="USD",
            path=folder / "tornado.png",
        ),
        "budget": figures.to_png(figures.plot_budget)(
            [2026, 2027, 2028],
            {"current": [1e6, 1.1e6, 1.2e6], "new": [1.1e6, 1.15e6, 1.2e6]},
            currency="USD",
            path=folder / "budget.png",
        ),
        "trajectory": figures.to_png(figures.plot_trajectory)(
            np.arange(6.0),
            {"usual": 45 - np.arange(6.0), "physio": 45 - 2 * np.arange(6.0)},
            ylabel="Mean ODI (0-100)",
            path=folder / "odi.png",
        ),
    }


def test_every_plot_writes_a_readable_png(tmp_path):
    paths = draw_all(tmp_path)
    for name, path in paths.items():
        size = None if name == "tornado" else (1050, 690)  # a tornado's height follows its rows
        check_png(path, size=size)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())


def test_ceac_frontier_accepts_strategy_names(tmp_path):
    prob = np.array([[0.7, 0.3], [0.4, 0.6]])
    check_png(
        figures.to_png(figures.plot_ceac)([0, 50_000], prob, strategies=["a", "b"], frontier=["a", "b"], path=tmp_path / "c.png")
    )


def test_one_comparator_ce_plane_takes_1d_arrays(tmp_path):
    rng = np.random.default_rng(2)
    check_png(
        figures.to_png(figures.plot_ce_plane)(
            rng.normal(size=200), rng.normal(size=200), wtp=None, labels=["b vs a"], currency="EUR", path=tmp_path / "ce1.png"
        )
    )


def test_table_png(tmp_path):
    path = figures.plot_table_png(headline(), tmp_path / "headline.png", currency="USD")
    check_png(path, min_bytes=5_000, size=None)
    width, height = png_size(path)
    assert width > 2 * height  # a wide, short table picture


def test_rewriting_a_figure_replaces_it(tmp_path):
    path = tmp_path / "budget.png"
    figures.to_png(figures.plot_budget)([2026], {"a": [1.0]}, currency="USD", path=path)
    first = path.read_bytes()
    figures.to_png(figures.plot_budget)([2026, 2027], {"a": [1.0, 2.0], "b": [2.0, 1.0]}, currency="USD", path=path, stacked=True)
    assert path.read_bytes() != first
    assert [p.name for p in tmp_path.iterdir()] == ["budget.png"]


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda p: figures.to_png(figures.plot_ce_plane)(
                np.zeros((10, 2)), np.zeros((10, 3)), wtp=1.0, labels=["a", "b"], currency="USD", path=p
            ),
            "shape",
        ),
        (
            lambda p: figures.to_png(figures.plot_ce_plane)(
                np.zeros((10, 2)), np.zeros((10, 2)), wtp=1.0, labels=["a"], currency="USD", path=p
            ),
            "1 labels for 2 series",
        ),
        (lambda p: figures.to_png(figures.plot_ceac)(WTP, np.zeros((5, 2)), strategies=["a", "b"], path=p), "wtp=21"),
        (
            lambda p: figures.to_png(figures.plot_ceac)([0, 1], np.zeros((2, 2)), strategies=["a", "b"], frontier=[0, 7], path=p),
            "frontier",
        ),
        (lambda p: figures.to_png(figures.plot_evpi)([0, 1, 2], [1, 2], currency="USD", path=p), "2 EVPI values for 3"),
        (lambda p: figures.to_png(figures.plot_tornado)(["a", "b"], [1, 2], [3], base=0, xlabel="x", path=p), "high"),
        (
            lambda p: figures.to_png(figures.plot_budget)([2026, 2027], {"a": [1.0]}, currency="USD", path=p),
            "1 values for 2 years",
        ),
        (lambda p: figures.to_png(figures.plot_trajectory)([0, 1], {}, ylabel="y", path=p), "non-empty dict"),
    ],
)
def test_bad_arguments_raise_usage_errors(tmp_path, call, message):
    with pytest.raises(UsageError, match=message):
        call(tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_path_must_end_in_png(tmp_path):
    with pytest.raises(UsageError, match="PNG"):
        figures.to_png(figures.plot_budget)([2026], {"a": [1.0]}, currency="USD", path=tmp_path / "budget.pdf")


def test_table_png_refuses_large_tables(tmp_path):
    big = Table("big", (Column("n", "int"),), [(i,) for i in range(31)])
    with pytest.raises(UsageError, match="at most 30 rows"):
        figures.plot_table_png(big, tmp_path / "big.png")


def test_plotting_leaves_matplotlib_global_state_alone(tmp_path):
    # A fresh interpreter: importing the module imports no matplotlib; plotting imports no pyplot
    # and changes no rcParams (dict.items reads them without resolving the backend).
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        import costspine.reports.figures as figures
        assert "matplotlib" not in sys.modules, "matplotlib imported at import time"
        import matplotlib
        before = dict(dict.items(matplotlib.rcParams))
        sys.path.insert(0, {str(__file__.rsplit("/", 1)[0])!r})
        from test_figures import draw_all
        draw_all(Path({str(tmp_path)!r}))
        assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
        after = dict(dict.items(matplotlib.rcParams))
        changed = {{k for k in before if before[k] != after[k]}}
        assert not changed, changed
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plots_return_their_figure_and_write_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    figure = figures.plot_evpi(WTP, np.linspace(0, 1, len(WTP)), currency="USD")
    assert type(figure).__name__ == "Figure"
    assert [a.get_title(loc="left") for a in figure.axes] == ["Expected value of perfect information"]
    assert list(tmp_path.iterdir()) == []
    check_png(figures.save_figure(figure, tmp_path / "evpi.png"), min_bytes=5_000)


def test_plots_draw_into_the_callers_axes():
    from matplotlib.figure import Figure

    mine = Figure(figsize=(10, 4))
    left, right = mine.subplots(1, 2)
    assert figures.plot_ceac(WTP, np.full((len(WTP), 2), 0.5), strategies=["a", "b"], ax=left) is mine
    assert figures.plot_cost_by_category(["a", "b"], {"drugs": [1.0, 2.0]}, currency="USD", ax=right) is mine
    assert len(mine.axes) == 2  # no Axes added
    assert [line.get_label() for line in left.get_lines()] == ["a", "b"]
    assert len(right.patches) == 2 and not mine.legends  # the legend stays inside the caller's Axes


def test_ax_must_be_an_axes():
    with pytest.raises(UsageError, match="expected a matplotlib Axes; got str"):
        figures.plot_evpi([0, 1], [1, 2], currency="USD", ax="left")


def money_labelled_figures():
    """Every plot, with dollar signs in its labels, titles and values (as a USD report has)."""
    rng = np.random.default_rng(2)
    prob = np.stack([np.exp(-WTP / 2e4), 1 - np.exp(-WTP / 2e4)], axis=1)
    evpi = 134 * WTP / WTP.max()  # the maximum at the last (right-most) threshold
    return {
        "ce": figures.plot_ce_plane(
            rng.normal(800, 500, 300), rng.normal(0.1, 0.1, 300), wtp=50_000, labels=["$5 copay vs $0"], currency="USD"
        ),
        "ceac": figures.plot_ceac(WTP, prob, strategies=["$0 copay", "$5 copay"], currency="USD", title="CEAC at $0 and $5"),
        "evpi": figures.plot_evpi(WTP, evpi, currency="USD"),
        "tornado": figures.plot_tornado(
            ["fee $120 → $90", "copay $5 → $10"], [1, 2], [3, 5], base=2.5, xlabel="ICER ($ per QALY)", currency="USD"
        ),
        "budget": figures.plot_budget([2026, 2027], {"$5 copay": [1e6, 2e6], "$0 copay": [1e6, 1e6]}, currency="USD"),
        "costs": figures.plot_cost_by_category(
            ["$5 copay", "$0 copay"], {"visits at $120": [100.0, 200.0], "drugs at $3": [50.0, 20.0]}, currency="USD"
        ),
        "trajectory": figures.plot_trajectory(np.arange(3.0), {"$5 copay": [1, 2, 3], "$0 copay": [1, 1, 2]}, ylabel="Cost ($)"),
        "trace": figures.plot_trace(np.arange(3.0), {"$5 copay": {"well": [1, 0.5, 0.2], "sick ($)": [0, 0.5, 0.8]}}),
        "table": figures.plot_table(headline(), title="Costs in $ and $ per QALY"),
    }


def test_dollar_signs_are_never_read_as_math_text():
    from matplotlib.cbook import is_math_text
    from matplotlib.text import Text

    for name, figure in money_labelled_figures().items():
        figure.canvas.draw()  # tick labels exist only once drawn
        texts = [t.get_text() for t in figure.findobj(Text) if t.get_text()]
        assert any("$" in t for t in texts), name  # the money is there ...
        math = [t for t in texts if is_math_text(t)]
        assert math == [], f"{name}: {math}"  # ... and none of it is typeset as math


@pytest.mark.slow
def test_nothing_is_drawn_outside_the_figure():
    for name, figure in money_labelled_figures().items():
        if name == "table":
            continue  # written cropped to its content (save_figure(..., tight=True))
        figure.canvas.draw()
        drawn = figure.get_tightbbox(
            figure.canvas.get_renderer()
        )  # inches, every artist drawn (what bbox_inches="tight" crops to)
        page = figure.bbox_inches
        tolerance = 1 / 150  # one pixel
        assert drawn.x0 >= page.x0 - tolerance and drawn.y0 >= page.y0 - tolerance, f"{name}: {drawn.bounds} vs {page.bounds}"
        assert drawn.x1 <= page.x1 + tolerance and drawn.y1 <= page.y1 + tolerance, f"{name}: {drawn.bounds} vs {page.bounds}"


def test_figures_have_titles_and_axis_labels_with_units():
    for name, figure in money_labelled_figures().items():
        if name in ("table", "trace", "costs"):
            continue  # a table has no axes; the trace labels each panel row; costs label only the value axis
        ax = figure.axes[0]
        assert ax.get_title(loc="left"), name
        assert ax.get_xlabel() and (ax.get_ylabel() or name == "tornado"), name  # a tornado's rows are named
        labels = ax.get_xlabel() + " " + ax.get_ylabel()
        assert "(" in labels, f"{name}: no unit in {labels!r}"
