"""Chapter 3's figures and the looks of Chapter 4's settings (mmcl_lib.book.recovery_figures)."""

import colorsys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex, to_rgb

from mmcl_lib import baselines, data
from mmcl_lib.book import robustness_experiment, display, style, sweep
from mmcl_lib.book import recovery_figures as rf


@pytest.fixture(autouse=True)
def _house_style():
    with matplotlib.rc_context():
        display.use_house_style()
        yield
    plt.close("all")


def hue(color) -> float:
    return colorsys.rgb_to_hsv(*to_rgb(color))[0]


OTHER_METHOD_COLOURS = {to_hex(look.color) for key, look in style.METHODS.items()
                        if to_hex(look.color) != to_hex(style.METHODS["mmcl"].color)}


# --- shades and looks -----------------------------------------------------------------------

def test_shade_ends_and_identity():
    assert rf.shade("#0072B2", 0.0) == "#0072b2"
    assert rf.shade("#0072B2", 1.0) == "#ffffff"
    assert rf.shade("#0072B2", -1.0) == "#000000"
    lighter = np.array(to_rgb(rf.shade("#0072B2", 0.4)))
    assert np.all(lighter >= np.array(to_rgb("#0072B2")) - 1e-12)


@pytest.mark.parametrize("amount", [-1.5, 1.01, np.nan])
def test_shade_rejects_amounts_outside_the_unit_interval(amount):
    with pytest.raises(ValueError, match="amount"):
        rf.shade("k", amount)


def test_setting_looks_keep_the_method_look_and_hue():
    looks = rf.setting_looks("mmcl", ["a", "b", "c"])
    base = style.look("mmcl")
    assert looks[0] == {**base, "label": "a"}
    assert [look["label"] for look in looks] == ["a", "b", "c"]
    colours = [to_hex(look["color"]) for look in looks]
    assert len(set(colours)) == 3, "each setting needs its own shade"
    assert len({look["linestyle"] for look in looks}) == 3
    assert len({look["marker"] for look in looks}) == 3
    for c in colours:
        assert abs(hue(c) - hue(base["color"])) < 0.02, "a setting must keep MMCL's hue"
        assert c not in OTHER_METHOD_COLOURS, "a setting must not borrow another method's colour"
    # lighter and lighter: the sum of the channels grows
    brightness = [sum(to_rgb(c)) for c in colours]
    assert brightness == sorted(brightness)


def test_setting_looks_validates():
    with pytest.raises(ValueError, match="labels"):
        rf.setting_looks("mmcl", [])
    with pytest.raises(ValueError, match="labels"):
        rf.setting_looks("mmcl", list("abcde"))
    with pytest.raises(ValueError, match="spread"):
        rf.setting_looks("mmcl", ["a", "b"], spread=0.95)
    with pytest.raises(ValueError, match="method"):
        rf.setting_looks("no_such_method", ["a"])


def test_neutral_looks_are_grey():
    for look in rf.neutral_looks(["d = 10", "d = 20", "d = 40"]):
        r, g, b = to_rgb(look["color"])
        assert r == pytest.approx(g) == pytest.approx(b)


# --- the first-order prediction ------------------------------------------------------------

def test_first_order_errors_is_the_library_formula_and_scales():
    n = np.array([500, 2000])
    pred = rf.first_order_errors(n, d=30, r=3, sigma=1.0)
    m = data.LatentFactorModel.random(30, 30, 3, np.random.default_rng(0), noise_std1=1.0)
    assert pred == pytest.approx([baselines.mmcl_first_order_error(m, k) for k in n])
    assert pred[1] / pred[0] == pytest.approx(0.5)           # four times n: half the error
    half = rf.first_order_errors(500, d=30, r=3, eta=0.5)[0]
    assert half / pred[0] == pytest.approx(2.0)               # half the pairs right: twice
    # isotropic closed form r (d - r) s1^2 (1 + s2^2) / (eta^2 n), s2 = 1 by default
    assert pred[0] ** 2 == pytest.approx(3 * 27 * 1.0 * 2.0 / 500)


# --- the figures ---------------------------------------------------------------------------

def _sweep(fn, grid):
    return sweep.sweep(fn, grid, 2)


def _mmcl_error(rng, n, d=10, sigma=1.0, lam=1.0):
    """A stand-in error with the right shape (the figures only draw it)."""
    return sigma * np.sqrt(d / n) / lam * (1 + 0.1 * rng.standard_normal())


def _check_readable(fig):
    assert fig.get_figwidth() <= display.FIG_WIDTH + 1e-9
    assert style.smallest_text_px(fig) >= style.MIN_FONT_PT * fig.dpi / 72 - 1e-9


def test_error_vs_n_draws_both_estimators_in_mmcl_shades():
    by_n = _sweep(lambda rng, n: _mmcl_error(rng, n), {"n": [100, 400]})
    by_clip = _sweep(lambda rng, n: {"clip": 2 / np.sqrt(n), "closed_form": 1 / np.sqrt(n)},
                     {"n": [100, 200]})
    fig = rf.plot_error_vs_n(by_n, by_clip, slope_n=-0.5, slope_clip=-0.5,
                             predicted=[0.1, 0.05], random_level=1.6, d=10, r=2, sigma=1.0)
    _check_readable(fig)
    lines = [l for l in fig.axes[0].get_lines() if l.get_label().startswith("MMCL")]
    assert len(lines) == 2
    for line in lines:
        assert to_hex(line.get_color()) not in OTHER_METHOD_COLOURS
        assert abs(hue(line.get_color()) - hue(style.METHODS["mmcl"].color)) < 0.02
    assert lines[0].get_linestyle() != lines[1].get_linestyle()


def test_d_noise_spectrum_and_weak_figures_are_readable():
    by_d = _sweep(lambda rng, d: _mmcl_error(rng, 200, d=d), {"d": [10, 20]})
    by_noise = _sweep(lambda rng, sigma: _mmcl_error(rng, 200, sigma=sigma),
                      {"sigma": [0.5, 1.0]})
    fig = rf.plot_error_vs_d_noise(by_d, [0.1, 0.14], 0.5, by_noise, [0.05, 0.1], n=200, d=10)
    assert len(fig.axes) == 2
    _check_readable(fig)
    fig = rf.spectrum_figure(np.linspace(1.2, 0.1, 10), 3, eta=1.0, error=0.2,
                             random_level=1.6)
    _check_readable(fig)
    bars = fig.axes[0].patches
    assert len(bars) == 10
    assert to_hex(bars[0].get_facecolor()) == to_hex(style.METHODS["mmcl"].color)
    assert to_hex(bars[5].get_facecolor()) != to_hex(style.METHODS["mmcl"].color)
    by_weak = _sweep(lambda rng, lam: _mmcl_error(rng, 200, lam=lam), {"lam": [1.0, 0.1]})
    fig = rf.plot_weak_factor(by_weak)
    _check_readable(fig)
    assert fig.axes[0].xaxis_inverted()


# --- Chapter 4's figures use the house looks --------------------------------------------------

def _chapter4_errors(rng, **_):
    return {"mmcl": rng.uniform(0.1, 0.2), "unimodal_cl": rng.uniform(0.2, 0.3),
            "pca": rng.uniform(1.0, 1.1)}


def test_correlated_noise_figure_tells_mmcl_settings_apart_by_mmcl_shades():
    broken = sweep.sweep(_chapter4_errors, {"corr": [0.0, 0.05, 0.1], "n": [1000, 4000]}, 2)
    pop = sweep.sweep(_chapter4_errors, {"corr": [0.0, 0.05, 0.1]}, 2)
    fig = robustness_experiment.plot_correlated_noise([1000, 4000], [0.0, 0.05, 0.1], broken, pop, 0.5, 20)
    _check_readable(fig)
    ax = fig.axes[0]
    mmcl = [l for l in ax.get_lines() if l.get_label().startswith("MMCL")]
    assert len(mmcl) == 3
    assert len({to_hex(l.get_color()) for l in mmcl}) == 3
    assert len({str(l.get_linestyle()) for l in mmcl}) == 3
    for line in mmcl:
        assert to_hex(line.get_color()) not in OTHER_METHOD_COLOURS
    (cl,) = [l for l in ax.get_lines() if l.get_label().startswith("unimodal CL")]
    assert to_hex(cl.get_color()) == to_hex(style.METHODS["unimodal_cl"].color)


def test_chapter4_method_curves_use_the_house_looks():
    grid = {"d": [20], "n": [1000, 4000], "eta": [1.0, 0.5, 0.25]}
    cmp = sweep.sweep(_chapter4_errors, grid, 2)
    eta_star = np.array([[0.6, 0.4]])
    fig = robustness_experiment.plot_crossover(grid["eta"], cmp, grid["n"], grid["d"], eta_star, 0, 1.6)
    _check_readable(fig)
    for ax in fig.axes[:2]:
        for key in robustness_experiment.CH4_METHODS:
            look = style.METHODS[key]
            (line,) = [l for l in ax.get_lines() if l.get_label() == look.label]
            assert to_hex(line.get_color()) == to_hex(look.color)
            assert line.get_marker() == look.marker
    method_colours = {to_hex(look.color) for look in style.METHODS.values()}
    for line in fig.axes[-1].get_lines():            # eta* against n: no method's colour
        assert to_hex(line.get_color()) not in method_colours or line.get_color() == "#000000"
