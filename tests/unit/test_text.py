"""costspine._text: the one table helper every command prints with."""

from __future__ import annotations

import math

import numpy as np
import pytest

from costspine._text import column_format, format_number, format_significant, format_table, wrap_text


def body(text: str) -> list[str]:
    """Lines under the first rule line."""
    lines = text.splitlines()
    rule = next(k for k, line in enumerate(lines) if line.startswith("-") and set(line) <= {"-", " "})
    return lines[rule + 1 :]


def test_one_number_format_per_column():
    text = format_table(["strategy", "cost"], [["a", 858.75], ["b", 3021.0], ["c", 0.0]])
    assert [line.split()[-1] for line in body(text)] == ["859", "3,021", "0"]  # not 858.75 above 3,021
    text = format_table(["x", "effect"], [["a", 0.75], ["b", 0.0], ["c", -0.00001]])
    assert [line.split()[-1] for line in body(text)] == ["0.7500", "0.0000", "0.0000"]  # no "-0.0000"
    assert column_format([1, 2]) == ",d" and column_format([12.5, 3.0]) == ",.2f" and column_format([0.0001]) == ",.5f"


def test_declared_formats_and_missing_values():
    text = format_table(["x", "share", "n"], [["a", 0.25, None], ["b", 0.5, float("nan")]], formats={1: ".0%"})
    assert body(text) == ["a    25%  —", "b    50%  —"]


def test_numbers_never_wrap_and_labels_do():
    label = "ICE (identify, coordinate, enhance) with a long label"
    rows = [[label, 1234567.891, 0.123456], ["Usual care", -98765.4, 0.5]]
    for width in (30, 40, 60):
        text = format_table(["strategy", "cost (USD)", "effect"], rows, width=width)
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= width
        assert "1,234,568" in text and "-98,765" in text and "0.1235" in text  # whole, on one line each
        assert " ".join(" ".join(line[:20].split()) for line in body(text)).startswith("ICE (identify,")
        assert label.split()[-1] in text  # the label is all there, wrapped at spaces


def test_headers_wrap_before_labels():
    headers = ["strategy", "Physical therapy (outside the programme) (USD)", "Spine injections (ESI, facet, RFA) (USD)"]
    text = format_table(headers, [["Usual care", 587.67, 90.01]], width=40)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 40
    assert body(text)[0].split() == ["Usual", "care", "587.67", "90.01"]  # the label keeps its line
    assert lines[0].split() == ["Physical"] and lines[4].split() == ["strategy", "(USD)", "RFA)", "(USD)"]  # headers wrap


def test_a_table_too_wide_is_split_repeating_the_first_column():
    headers = ["strategy"] + [f"column number {k}" for k in range(12)]
    rows = [["alpha", *range(1000, 1012)], ["beta", *range(2000, 2012)]]
    text = format_table(headers, rows, width=60, title="Wide")
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert lines[0] == "Wide" and "Wide (continued)" in lines
    assert sum(line.startswith("alpha") for line in lines) >= 2  # the first column in every part
    for value in [*range(1000, 1012), *range(2000, 2012)]:
        assert f"{value:,}" in text  # every cell shown once, whole
    parts = text.split("\n\n")
    assert abs(len(parts[0].splitlines()[-1]) - len(parts[-1].splitlines()[-1])) < 30  # parts of even width


def test_random_tables_fit_and_keep_every_number(seed=1):
    rng = np.random.default_rng(seed)
    words = ["usual", "care", "integrated", "physical", "therapy", "(USD)", "per", "QALY", "strategy", "x"]
    for _ in range(40):
        n_cols, n_rows = rng.integers(2, 14), rng.integers(1, 6)
        headers = [" ".join(rng.choice(words, rng.integers(1, 5))) for _ in range(n_cols)]
        rows = [
            [" ".join(rng.choice(words, rng.integers(1, 6)))]
            + [float(rng.normal() * 10.0 ** rng.integers(-3, 7)) for _ in range(n_cols - 1)]
            for _ in range(n_rows)
        ]
        text = format_table(headers, rows, width=100)
        assert max(len(line) for line in text.splitlines()) <= 100
        for k in range(1, n_cols):
            spec = column_format([r[k] for r in rows])
            for r in rows:
                cell = format(r[k], spec)
                cell = cell[1:] if cell.startswith("-") and not any(c in "123456789" for c in cell) else cell
                assert cell in text.split()  # whole, as its column formats it


def test_format_significant():
    assert [format_significant(v) for v in (0.05562, 175.91, 25630.2, -1.5)] == ["0.05562", "175.9", "25,630", "-1.500"]
    assert format_significant(math.inf) == "∞"


@pytest.mark.parametrize("spec", [",.0f", ".2f", ",.4f", ".1%", ",d"])
@pytest.mark.parametrize("value", [-0.0, -0.4, -0.004, -1e-9, np.float64(-0.0), np.float32(-1e-6)])
def test_no_formatter_prints_a_negative_zero(value, spec):
    value = int(value) if spec.endswith("d") else value
    shown = [format_number(value, spec), format_table(["x"], [[value]], formats={0: spec}), format_significant(value)]
    for token in " ".join(shown).split():
        if token.startswith("-") and any(c.isdigit() for c in token):
            assert any(c in "123456789" for c in token), shown  # a sign only before a non-zero number
    assert format_number(-0.6, ",.0f") == "-1" and format_number(-1234.4, ",.0f") == "-1,234"  # real negatives keep the sign


@pytest.mark.parametrize("width", [40, 100])
def test_wrap_text_keeps_short_lines_and_indents_continuations(width):
    long = "  rate source: " + "word " * 40
    text = wrap_text("short line\n" + long, width, indent="  ")
    lines = text.splitlines()
    assert lines[0] == "short line" and max(len(line) for line in lines) <= width
    assert all(line.startswith("    ") for line in lines[2:])
