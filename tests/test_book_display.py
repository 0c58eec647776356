"""The book's display helpers (mmcl_lib.book.display): figure style, ticks, bands, tables."""

from __future__ import annotations

import html
import subprocess
import sys
import textwrap
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from mmcl_lib.book import display, sweep


@pytest.fixture(autouse=True)
def _restore_rc():
    with matplotlib.rc_context():
        yield
    plt.close("all")


# --- house style and subplots ------------------------------------------------------------------------

def test_house_style_sets_readable_fonts_at_the_rendered_width():
    assert display.use_house_style() is None          # nothing shown at the end of a cell
    rc = matplotlib.rcParams
    for key, value in display.HOUSE_STYLE.items():
        assert rc[key] == (list(value) if isinstance(value, tuple) else value), key
    width_px = rc["figure.figsize"][0] * rc["figure.dpi"]
    assert 560 <= width_px <= 700          # shown at about 620 px: scaled by at least 0.88
    shrink = min(1.0, 620 / width_px)
    for key in ("font.size", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize"):
        px = float(rc[key]) / 72 * rc["figure.dpi"] * shrink
        assert px >= 11.5, f"{key}: {px:.1f} px on screen"


def test_subplots_allows_at_most_two_panels_side_by_side():
    display.use_house_style()
    fig, axes = display.subplots(2, 2)
    assert axes.shape == (2, 2)
    assert fig.get_size_inches()[0] == pytest.approx(display.FIG_WIDTH)
    with pytest.raises(ValueError, match="ncols"):
        display.subplots(1, 3)
    with pytest.raises(ValueError, match="figsize"):
        display.subplots(1, 2, figsize=(12, 3))
    with pytest.raises(ValueError, match="height"):
        display.subplots(1, 1, height=-1)
    with pytest.raises(ValueError, match="nrows"):
        display.subplots(0, 1)


def test_house_style_lifts_a_line_at_the_minimum_off_the_axis():
    display.use_house_style()
    _fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [0.0, 0.0, 1.0])
    low, high = ax.get_ylim()
    assert low < 0 and (0 - low) / (high - low) > 0.03


# --- ticks ----------------------------------------------------------------------------------------

def _labels(ax, axis="x"):
    fig = ax.figure
    fig.canvas.draw()
    a = ax.xaxis if axis == "x" else ax.yaxis
    low, high = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    return [(t.get_loc(), t.label1.get_text()) for t in a.get_major_ticks()
            if t.label1.get_visible() and t.label1.get_text() and low <= t.get_loc() <= high]


def test_integer_ticks_leave_no_fractional_tick():
    _fig, ax = plt.subplots()
    ax.imshow(np.zeros((18, 5)))
    display.integer_ticks(ax, "both")
    for axis in ("x", "y"):
        locs = [loc for loc, _ in _labels(ax, axis)]
        assert locs and all(float(loc).is_integer() for loc in locs), locs
    with pytest.raises(ValueError, match="axis"):
        display.integer_ticks(ax, "z")


def test_without_help_a_narrow_log_axis_has_at_most_one_label():
    """The problem log_ticks solves (Chapter 5's log axis with one tick label)."""
    _fig, ax = plt.subplots()
    ax.plot([0.03, 0.08], [1, 2])
    ax.set_xscale("log")
    assert len(_labels(ax)) <= 1


@pytest.mark.parametrize("lo, hi", [(0.03, 0.08), (200, 5000), (1e-4, 1e4), (0.41, 0.44), (1, 1e12)])
def test_log_ticks_label_several_values_in_any_range(lo, hi):
    _fig, ax = plt.subplots()
    ax.plot([lo, hi], [1, 2])
    display.log_ticks(ax, "x")
    ax.set_xlim(lo, hi)
    labels = _labels(ax)
    assert 2 <= len(labels) <= 9, labels
    for loc, text in labels:             # every label is the plain value at its tick
        assert float(text) == pytest.approx(loc, rel=1e-6)


def test_log_ticks_at_given_values():
    _fig, ax = plt.subplots()
    grid = [500, 1000, 2000, 5000]
    ax.plot(grid, [1, 2, 3, 4])
    display.log_ticks(ax, "x", values=grid)
    assert ax.get_xscale() == "log"
    assert [text for _, text in _labels(ax)] == ["500", "1000", "2000", "5000"]
    with pytest.raises(ValueError, match="values"):
        display.log_ticks(ax, "y", values=[0, 1])


@pytest.mark.parametrize("lo, hi", [(1e-7, 3.0), (1e-3, 1.0), (0.05, 0.8), (1.0, 1e4)])
def test_log_ticks_build_fewer_minor_ticks_but_draw_the_same_picture(lo, hi):
    """Minor ticks only in view and their (empty) labels hidden: the picture of matplotlib's plain
    LogLocator(subs="auto") with labelled minor ticks, to the pixel."""
    import io

    from matplotlib.ticker import LogLocator

    def picture(plain: bool):
        with plt.rc_context(display.HOUSE_STYLE):
            fig, ax = display.subplots(height=3.0)
            ax.plot([lo, hi], [hi, lo])
            ax.set(xlim=(lo, hi), ylim=(lo, hi))
            display.log_ticks(ax, "both")
            if plain:
                for a in (ax.xaxis, ax.yaxis):
                    a.set_minor_locator(LogLocator(subs="auto"))
                ax.tick_params(which="minor", labelleft=True, labelbottom=True)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
            n_minor = len(ax.yaxis.get_minor_locator()())
            plt.close(fig)
        buffer.seek(0)
        return plt.imread(buffer), n_minor

    ours, n_ours = picture(False)
    plain, n_plain = picture(True)
    np.testing.assert_array_equal(ours, plain)
    assert n_ours < n_plain                        # the ticks outside the view are not built

    _fig, ax = plt.subplots()
    ax.plot([lo, hi], [lo, hi])
    display.log_ticks(ax, "both")
    _fig.canvas.draw()
    minor = ax.xaxis.get_minor_ticks() + ax.yaxis.get_minor_ticks()
    assert minor and not any(t.label1.get_visible() or t.label2.get_visible() for t in minor)
    assert all(t.label1.get_visible() for t in ax.yaxis.get_major_ticks())
    plt.close(_fig)


# --- bands ----------------------------------------------------------------------------------------

def _band_vertices(collection):
    return collection.get_paths()[0].vertices


def test_line_with_band_draws_the_mean_and_the_band_in_one_colour():
    _fig, ax = plt.subplots()
    x, mean = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 1.5])
    line = display.line_with_band(ax, x, mean, mean - 0.5, mean + 0.25, label="m", color="C3")
    np.testing.assert_allclose(line.get_ydata(), mean)
    (poly,) = ax.collections
    ys = _band_vertices(poly)[:, 1]
    assert ys.min() == pytest.approx(0.5) and ys.max() == pytest.approx(2.25)
    assert matplotlib.colors.same_color(poly.get_facecolor()[0][:3], line.get_color())
    with pytest.raises(ValueError, match="same length"):
        display.band(ax, x, mean[:2], mean)
    with pytest.raises(ValueError, match="alpha"):
        display.band(ax, x, mean, mean, alpha=0)


def test_sweep_band_uses_mean_and_quantiles_of_a_sweep():
    result = sweep.sweep(lambda rng, a, b: {"v": a * b + rng.normal()}, {"a": [1.0, 2.0], "b": [1.0, 3.0, 5.0]},
                         seeds=5)
    _fig, ax = plt.subplots()
    line = display.sweep_band(ax, [1, 3, 5], result, "v", index=np.s_[1], quantiles=(0.2, 0.8))
    np.testing.assert_allclose(line.get_ydata(), result.mean("v")[1])
    ys = _band_vertices(ax.collections[0])[:, 1]
    assert ys.min() == pytest.approx(result.quantile("v", 0.2)[1].min())
    assert ys.max() == pytest.approx(result.quantile("v", 0.8)[1].max())
    with pytest.raises(ValueError, match="quantiles"):
        display.sweep_band(ax, [1, 3, 5], result, "v", index=np.s_[1], quantiles=(0.9, 0.1))


# --- tables ---------------------------------------------------------------------------------------

class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self._cell)
            self._cell = None


def test_html_table_has_one_cell_per_value_and_never_wraps_plus_minus():
    table = display.html_table(["method", "N = 500", "N = 5000"],
                               [["paired only", display.pm(0.4061, 0.0401), "0.419 ± 0.036"],
                                ["a < b & c", 0.5, 7]])
    assert table._repr_html_() == str(table) == table.html
    parser = _Cells()
    parser.feed(table.html)
    nbsp = display.NBSP
    assert parser.rows == [["method", "N = 500", "N = 5000"],
                           ["paired only", f"0.406{nbsp}±{nbsp}0.040", f"0.419{nbsp}±{nbsp}0.036"],
                           ["a < b & c", "0.500", "7"]]
    assert html.escape("a < b & c") in table.html          # escaped
    assert table.html.count("white-space:nowrap") == 2      # the two ± cells, nothing else
    assert "overflow-x:auto" in table.html
    assert "0.419 ± 0.036" in repr(table)


def test_html_table_rejects_ragged_rows_and_bad_alignment():
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        display.html_table(["a", "b"], [[1, 2], [3]])
    with pytest.raises(ValueError, match="align"):
        display.html_table(["a", "b"], [[1, 2]], align="lx")
    with pytest.raises(ValueError, match="header"):
        display.html_table([], [])


def test_pm_formats():
    assert display.pm(0.5, 0.01234, ".2f") == f"0.50{display.NBSP}±{display.NBSP}0.01"


def test_log_ticks_without_minor_ticks_keep_the_labelled_major_ones():
    _fig, ax = plt.subplots()
    ax.plot([1e-7, 3.0], [1, 2])
    display.log_ticks(ax, "x", minor=False)
    ax.set_xlim(1e-7, 3.0)
    ax.figure.canvas.draw()
    assert ax.xaxis.get_minorticklocs().size == 0
    assert len(_labels(ax)) >= 2
