"""The house looks (mmcl_lib.book.style): one distinct look per method, text a phone can read,
and PNGs that record their smallest text for the rendered-book test."""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from mmcl_lib.book import display, style  # noqa: E402


def test_every_method_has_its_own_look_within_a_chapter():
    looks = {(m.color, m.marker, m.linestyle) for m in style.METHODS.values()}
    # the same look may only be shared by the same method in two roles (MMCL on pairs and on
    # pairs + detected pairs; MMCL unfiltered in Chapter 8)
    shared = {"mmcl", "paired_unpaired", "no_filter"}
    others = [k for k in style.METHODS if k not in shared]
    assert len({style.METHODS[k] for k in others}) == len(others)
    assert len({(style.METHODS[k].color, style.METHODS[k].marker, style.METHODS[k].linestyle)
                for k in others}) == len(others)
    assert looks
    assert len({style.METHODS[k].label for k in style.METHODS}) == len(style.METHODS)


def test_look_gives_plot_arguments_and_rejects_unknown_methods():
    kw = style.look("pca", lw=3)
    assert kw["label"] == "PCA" and kw["lw"] == 3 and kw["color"] == style.METHODS["pca"].color
    with pytest.raises(ValueError, match="method must be one of"):
        style.look("nope")


def test_house_fonts_read_on_a_phone():
    display.use_house_style()
    sizes = [matplotlib.rcParams[k] for k in ("font.size", "axes.titlesize", "axes.labelsize",
                                              "xtick.labelsize", "ytick.labelsize",
                                              "legend.fontsize")]
    assert min(float(s) for s in sizes) >= style.MIN_FONT_PT
    # a FIG_WIDTH figure at FIG_DPI shown 358 px wide (a 390 px phone's column)
    px = style.MIN_FONT_PT * display.FIG_DPI / 72 * 358 / (display.FIG_WIDTH * display.FIG_DPI)
    assert px >= 8


def test_png_records_the_smallest_text():
    display.use_house_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], **style.look("mmcl"))
    ax.text(0.5, 0.5, "tiny", fontsize=6)
    data = style.png(fig)
    plt.close(fig)
    recorded = re.search(rb"mmcl:smallest-text-px\x00([0-9.]+)", data)
    assert recorded and float(recorded.group(1)) == pytest.approx(6 * 100 / 72, abs=0.01)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_empty_figure_has_no_smallest_text():
    fig = plt.figure()
    assert style.smallest_text_px(fig) == float("inf")
    plt.close(fig)


def test_tick_labels_count_before_the_figure_is_drawn():
    """Tick labels get their text only when a figure is drawn; the record must include them."""
    display.use_house_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    assert style.smallest_text_px(fig) == pytest.approx(11 * 100 / 72, abs=0.01)
    plt.close(fig)
