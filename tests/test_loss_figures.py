"""Tests of mmcl_lib.book.loss_figures (the figures of Chapters 1-2)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mmcl_lib import losses  # noqa: E402
from mmcl_lib.book import display, style  # noqa: E402
from mmcl_lib.book import loss_figures as lf  # noqa: E402


@pytest.fixture(autouse=True)
def _house_style():
    display.use_house_style()
    yield
    plt.close("all")


def test_row_softmax_rows_sum_to_one_and_match_clip_weights():
    s = np.random.default_rng(0).standard_normal((7, 7))
    tau = 0.4
    P = lf.row_softmax(s, tau)
    assert np.allclose(P.sum(axis=1), 1.0)
    # Chapter 2, prop-clip-weights: beta_ij = (P_ij + Q_ij) / (2 tau), Q the column softmax
    Q = lf.row_softmax(s.T, tau).T
    beta = losses.clip(tau).weights_at(s)
    off = ~np.eye(7, dtype=bool)
    assert np.allclose(beta[off], ((P + Q) / (2 * tau))[off])
    assert np.allclose(np.diag(beta), (2 - np.diag(P) - np.diag(Q)) / (2 * tau))


def test_row_softmax_is_stable_and_sharpens_with_small_tau():
    s = np.array([[1000.0, 0.0], [0.0, 1000.0]])
    assert np.allclose(lf.row_softmax(s, 1.0), np.eye(2))
    s = np.array([[1.0, 0.5], [0.5, 1.0]])
    assert lf.row_softmax(s, 0.1)[0, 0] > lf.row_softmax(s, 1.0)[0, 0]


@pytest.mark.parametrize("bad", [np.ones((2, 3)), np.array([[np.nan, 0], [0, 0]])])
def test_row_softmax_rejects_bad_matrices(bad):
    with pytest.raises(ValueError, match="similarities"):
        lf.row_softmax(bad, 1.0)


@pytest.mark.parametrize("tau", [0.0, -1.0, float("inf")])
def test_row_softmax_rejects_bad_temperature(tau):
    with pytest.raises(ValueError, match="tau"):
        lf.row_softmax(np.eye(3), tau)


def test_decade_ticks_label_the_smallest_value():
    fig, ax = plt.subplots()
    values = np.array([3e-15, 1e-6, 0.5])
    ax.plot(values)
    display.decade_ticks(ax, values, "y")
    ticks = ax.get_yticks()
    assert ticks.min() <= values.min() and ticks.max() >= values.max()
    assert len(ticks) <= 6
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert all(labels)                      # every tick carries a label
    assert ax.get_ylim()[0] == pytest.approx(ticks.min())


def test_decade_ticks_rejects_no_positive_values():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="positive"):
        display.decade_ticks(ax, [0.0, -1.0])


def test_setting_figure_is_phone_readable_and_two_panels():
    fig = lf.setting_figure()
    assert len(fig.axes) == 2
    assert fig.get_figwidth() <= display.FIG_WIDTH
    assert style.smallest_text_px(fig) >= style.MIN_FONT_PT * fig.dpi / 72 - 1e-9
    with pytest.raises(ValueError, match="n"):
        lf.setting_figure(n=1)


def test_temperature_frame_uses_fixed_colour_scales():
    s = np.random.default_rng(1).standard_normal((5, 5))
    cos = np.clip(s / 3, -1, 1)
    fig = lf.temperature_frame((s, cos), 0.1, title="t")
    left, right = (ax.images[0] for ax in fig.axes if ax.images)
    assert left.get_clim() == (0, 1) and right.get_clim() == (-1, 1)
    assert np.allclose(left.get_array().sum(axis=1), 1.0)   # the row softmax is shown


def test_weight_scatter_panels_share_labelled_log_axes():
    fig, axes = display.subplots(1, 2, sharex=True, sharey=True)
    data = {0.3: ([-5.0, -1.0], [1e-12, 1e-2]), 1.0: ([-5.0, -1.0], [1e-3, 1e-1])}
    lf.weight_scatter_panels(axes, data)
    assert axes[0].get_yscale() == "log"
    assert min(axes[0].get_yticks()) <= 1e-12
    with pytest.raises(ValueError, match="axes"):
        lf.weight_scatter_panels(axes[:1], data)
