"""Figures and small set-ups of Chapter 3 (``ch-feature-recovery``) and looks of Chapter 4.

The chapters' code cells show the library calls that matter (``spectral.closed_form_mmcl``,
``metrics.subspace_error``, ``baselines.mmcl_first_order_error``); the drawing lives here.

- :func:`setting_looks`: several settings of ONE method (MMCL at three noise correlations, MMCL
  trained and in closed form) told apart by shade and line style of that method's house look,
  never by the colours of other methods; :func:`neutral_looks` for a quantity that is no
  method (black to grey); :func:`look_band` draws a sweep's mean and band with such a look.
- :func:`first_order_errors`: the first-order prediction of Chapter 3's Proposition
  (``prop-first-order-error``) on a grid of sample sizes.
- Chapter 3's figures: :func:`plot_error_vs_n`, :func:`plot_error_vs_d_noise`,
  :func:`spectrum_figure` (the interactive spectrum) and :func:`plot_weak_factor`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.colors import to_hex, to_rgb

from ..baselines import mmcl_first_order_error
from ..data import LatentFactorModel
from . import display, style

__all__ = ["shade", "setting_looks", "neutral_looks", "look_band", "first_order_errors",
           "plot_error_vs_n", "plot_error_vs_d_noise", "spectrum_figure", "plot_weak_factor"]

_LINESTYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D")


def shade(color: str, amount: float) -> str:
    """``color`` darkened (``amount < 0``, towards black) or lightened (``> 0``, towards white).

    ``amount`` is the fraction of the way to black or white, in ``[-1, 1]``.
    """
    if not -1.0 <= amount <= 1.0:
        raise ValueError(f"shade: amount must lie in [-1, 1], got {amount!r}")
    rgb = np.array(to_rgb(color))
    target = np.ones(3) if amount > 0 else np.zeros(3)
    return to_hex(rgb + abs(amount) * (target - rgb))


def setting_looks(method: str, labels: Sequence[str], *, spread: float = 0.45
                  ) -> list[dict[str, Any]]:
    """``ax.plot`` keyword arguments for several settings of one method.

    The first setting gets the method's own look (:func:`mmcl_lib.book.style.look`); the
    others keep its hue, each lighter than the one before, and change line style and
    marker, so they stay apart in greyscale and never borrow another method's colour.

    Parameters
    ----------
    method : a key of :data:`mmcl_lib.book.style.METHODS`.
    labels : one legend label per setting (at most four).
    spread : how far the last setting is lightened (fraction of the way to white).
    """
    labels = list(labels)
    if not 1 <= len(labels) <= len(_LINESTYLES):
        raise ValueError(f"setting_looks: between 1 and {len(_LINESTYLES)} labels, "
                         f"got {len(labels)}")
    if not 0.0 <= spread <= 0.8:
        raise ValueError(f"setting_looks: spread must lie in [0, 0.8], got {spread!r}")
    return _series(style.look(method), labels, spread)


def neutral_looks(labels: Sequence[str], *, spread: float = 0.55) -> list[dict[str, Any]]:
    """Looks for a quantity that is no method (a crossover level against n for several d, say):
    black to grey, with changing line style and marker, so no method's colour is borrowed."""
    labels = list(labels)
    if not 1 <= len(labels) <= len(_LINESTYLES):
        raise ValueError(f"neutral_looks: between 1 and {len(_LINESTYLES)} labels, "
                         f"got {len(labels)}")
    return _series({"label": "", "color": "#000000", "marker": "o", "linestyle": "-"},
                   labels, spread)


def _series(base: dict[str, Any], labels: list[str], spread: float) -> list[dict[str, Any]]:
    looks = []
    for k, label in enumerate(labels):
        if k == 0:
            looks.append({**base, "label": label})
            continue
        amount = spread * k / (len(labels) - 1)   # lighter with each setting
        looks.append({**base, "label": label, "color": shade(base["color"], amount),
                      "linestyle": _LINESTYLES[k], "marker": _MARKERS[k]})
    return looks


def look_band(ax, x, result, key: str, look: dict[str, Any], **kwargs):
    """:func:`mmcl_lib.book.display.sweep_band` drawn with a look (``style.look(...)`` or one
    of :func:`setting_looks`); ``kwargs`` (``index=``, ...) go to ``sweep_band``."""
    return display.sweep_band(ax, x, result, key, **look, **kwargs)


def first_order_errors(n_values, *, d: int, r: int, sigma: float = 1.0,
                       eta: float = 1.0) -> np.ndarray:
    """First-order root-mean-square MMCL error (``baselines.mmcl_first_order_error``).

    Chapter 3's models have isotropic noise and ``latent_cov = I``, where the prediction does
    not depend on the random loadings; one model with a fixed seed stands for all of them.
    """
    m = LatentFactorModel.random(d, d, r, np.random.default_rng(0), noise_std1=sigma)
    return np.array([mmcl_first_order_error(m, int(k), eta) for k in np.atleast_1d(n_values)])


def plot_error_vs_n(by_n, by_n_clip, *, slope_n: float, slope_clip: float, predicted,
                    random_level: float, d: int, r: int, sigma: float):
    """Chapter 3, ``fig-error-vs-n``: closed-form and CLIP-trained MMCL against n (log-log)."""
    fig, ax = display.subplots()
    n_values = np.asarray(by_n.grid["n"])
    closed, trained = setting_looks("mmcl", [f"MMCL, closed form (slope {slope_n:.2f})",
                                             f"MMCL, CLIP-trained (slope {slope_clip:.2f})"])
    look_band(ax, n_values, by_n, "value", closed)
    look_band(ax, by_n_clip.grid["n"], by_n_clip, "clip", trained)
    ax.plot(n_values, predicted, color="k", ls=(0, (4, 2)), lw=1.2,
            label="first-order prediction")
    ax.axhline(random_level, color="0.4", ls=":", label="random subspace")
    ax.set(xlabel="number of pairs $n$", ylabel=r"$\|\sin\Theta(\hat U_1, U_1)\|_F$",
           title=f"error against n (d = {d}, r = {r}, σ = {sigma:g})")
    display.log_ticks(ax, "x", values=sorted(set(n_values) | set(by_n_clip.grid["n"])))
    display.log_ticks(ax, "y")
    ax.legend(loc="lower left")
    return fig


def plot_error_vs_d_noise(by_d, pred_d, slope_d: float, by_noise, pred_noise, *, n: int,
                          d: int):
    """Chapter 3, ``fig-error-vs-d-noise``: error against d (log-log) and against sigma."""
    fig, (ax0, ax1) = display.subplots(1, 2, height=3.6)
    mmcl = style.look("mmcl")
    first = {"color": "k", "ls": (0, (4, 2)), "lw": 1.2, "label": "first order"}
    look_band(ax0, by_d.grid["d"], by_d, "value", {**mmcl, "label": f"MMCL (slope {slope_d:.2f})"})
    ax0.plot(by_d.grid["d"], pred_d, **first)
    ax0.set(xlabel="dimension $d_1 = d_2$", ylabel=r"$\|\sin\Theta\|_F$",
            title=f"against d (n = {n})")
    display.log_ticks(ax0, "x", values=by_d.grid["d"])
    display.log_ticks(ax0, "y")
    look_band(ax1, by_noise.grid["sigma"], by_noise, "value", mmcl)
    ax1.plot(by_noise.grid["sigma"], pred_noise, **first)
    ax1.set(xlabel=r"noise std $\sigma$", title=f"against the noise (d = {d})")
    ax0.legend(loc="lower right")
    ax1.legend(loc="upper left")
    return fig


def spectrum_figure(singular, r: int, *, eta: float, error: float, random_level: float,
                    ymax: float = 1.6):
    """Chapter 3's interactive figure: the top singular values of the sample cross-covariance.

    The first ``r`` bars (the signal) are drawn in MMCL's colour, the rest (the bulk made by
    the fluctuation) in grey; a dashed line marks the population signal level ``eta``.
    """
    singular = np.asarray(singular, dtype=float)
    fig, ax = display.subplots(height=3.6)
    colour = style.look("mmcl")["color"]
    k = np.arange(1, singular.size + 1)
    ax.bar(k[:r], singular[:r], color=colour, label=f"top {r} (signal)")
    ax.bar(k[r:], singular[r:], color="0.65", label="the rest (bulk)")
    ax.axhline(eta, color="k", ls="--", lw=1.2, label=r"population level $\eta$")
    ax.set(xlabel="index k", ylabel=r"$\sigma_k(\hat S)$", ylim=(0, ymax),
           title=f"sin-theta error {error:.2f} (random: {random_level:.2f})")
    display.integer_ticks(ax, "x")
    ax.legend(loc="upper right")
    return fig


def plot_weak_factor(by_weak):
    """Chapter 3, ``fig-weak-feature``: error against the weakest latent variance."""
    fig, ax = display.subplots(height=3.6)
    look_band(ax, by_weak.grid["lam"], by_weak, "value", style.look("mmcl"))
    ax.axhline(1.0, color="0.4", ls=":", label="one direction lost (error 1)")
    ax.set(xlabel=r"variance $\lambda$ of the weakest latent factor",
           ylabel=r"$\|\sin\Theta\|_F$", title="a weak factor is recovered last")
    display.log_ticks(ax, "x", values=by_weak.grid["lam"])
    ax.invert_xaxis()
    ax.legend(loc="lower right")
    return fig
