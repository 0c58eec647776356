"""Figures of Part I of the book (Chapters 1-2): the setting, temperature, weights, log axes.

Presentation only: the losses, weights and similarities come from :mod:`mmcl_lib.losses`; this
module draws them (and computes the row softmax a figure shows). Book: Chapter 1
(``ch-clip-linear``: the picture of the setting, the temperature demo) and Chapter 2
(``ch-loss-to-svd``: the weight-versus-margin scatter and its log axis).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, Rectangle

from . import display
from .training_figures import heatmap

__all__ = ["row_softmax", "setting_figure", "temperature_frame",
           "weight_scatter_panels"]

_X_COLOUR, _Y_COLOUR = "#0072B2", "#D55E00"


def row_softmax(similarities, tau: float) -> np.ndarray:
    """Row-wise softmax of ``similarities / tau``: row ``i`` is the distribution
    ``P_ij = exp(s_ij / tau) / sum_k exp(s_ik / tau)`` that CLIP's anchor ``x_i`` puts over the
    captions ``y_j`` (Chapter 1, definition of CLIP; Chapter 2, ``prop-clip-weights``).

    Computed stably (the row maximum is subtracted first). Raises ``ValueError`` for a non-square
    or non-finite matrix or a non-positive ``tau``.
    """
    s = np.asarray(similarities, dtype=float)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or s.shape[0] < 1:
        raise ValueError(f"row_softmax: similarities must be a square n x n matrix, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("row_softmax: similarities must be finite")
    if not (isinstance(tau, (int, float, np.floating)) and math.isfinite(tau) and tau > 0):
        raise ValueError(f"row_softmax: tau must be a positive number, got {tau!r}")
    z = s / tau
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _box(ax, xy, w, h, text, colour, *, fontsize=12):
    ax.add_patch(Rectangle(xy, w, h, facecolor=colour, alpha=0.15, edgecolor=colour, lw=1.5))
    ax.text(xy[0] + w / 2, xy[1] + h / 2, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, colour):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, lw=1.5,
                                 color=colour))


def setting_figure(n: int = 5):
    """The picture of the setting (Chapter 1): two encoders map images and captions into one
    shared space, and the ``n x n`` similarity matrix holds the positives on its diagonal.

    Left panel: image ``x_i`` -> encoder ``G_1`` -> shared space, caption ``y_i`` -> ``G_2`` ->
    shared space. Right panel: an ``n x n`` grid with the diagonal cells (positives) filled and the
    others (negatives) light. Returns the figure (``display.FIG_WIDTH`` wide).
    """
    if not (isinstance(n, int) and 2 <= n <= 8):
        raise ValueError(f"setting_figure: n must be an integer from 2 to 8, got {n!r}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(display.FIG_WIDTH, 3.3), layout="constrained",
                                      gridspec_kw={"width_ratios": [1.45, 1]})
    left.set(xlim=(0, 10), ylim=(0, 10))
    left.axis("off")
    _box(left, (0.0, 6.4), 2.6, 2.2, "image\n$x_i$", _X_COLOUR)
    _box(left, (0.0, 1.4), 2.6, 2.2, "caption\n$y_i$", _Y_COLOUR)
    _arrow(left, (2.7, 7.5), (5.3, 6.3), _X_COLOUR)
    _arrow(left, (2.7, 2.5), (5.3, 3.7), _Y_COLOUR)
    left.text(3.7, 7.7, "$G_1$", fontsize=12, color=_X_COLOUR)
    left.text(3.7, 1.6, "$G_2$", fontsize=12, color=_Y_COLOUR)
    left.add_patch(plt.Circle((7.6, 5.0), 2.3, facecolor="0.93", edgecolor="0.5", lw=1.2))
    left.text(7.6, 7.8, r"shared space $\mathbb{R}^r$", ha="center", fontsize=11)
    rng = np.random.default_rng(3)
    pts = rng.uniform(-1.2, 1.2, size=(3, 2))
    for k, (a, b) in enumerate(pts):
        cx, cy = 7.6 + a, 5.0 + b
        left.plot(cx, cy, "o", color=_X_COLOUR, ms=7)
        left.plot(cx + 0.35, cy - 0.25, "s", color=_Y_COLOUR, ms=6)
    left.text(7.6, 2.0, "pairs land close", ha="center", fontsize=11)
    right.set_title(r"similarities $s_{ij}$", fontsize=12)
    for i in range(n):
        for j in range(n):
            diag = i == j
            right.add_patch(Rectangle((j, n - 1 - i), 1, 1, edgecolor="white", lw=1.5,
                                      facecolor="#0072B2" if diag else "0.85"))
    right.set(xlim=(0, n), ylim=(0, n), aspect="equal")
    right.set_xticks([0.5, n - 0.5], ["$y_1$", "$y_n$"])
    right.set_yticks([n - 0.5, 0.5], ["$x_1$", "$x_n$"])
    right.tick_params(length=0)
    right.grid(False)
    for side in right.spines.values():
        side.set_visible(False)
    right.set_xlabel("captions $j$ (positives on the\ndiagonal, negatives elsewhere)")
    return fig


def temperature_frame(sims, tau: float, *, title: str = ""):
    """Chapter 1's temperature demo frame: the row softmax ``P = softmax(s / tau)`` of a few
    training pairs (left, fixed colour scale 0-1, so temperatures compare) and the cosine
    similarities (right, fixed scale -1 to 1). ``sims`` is a pair ``(inner, cosine)`` of
    ``k x k`` similarity matrices. Returns the figure."""
    inner, cosine = (np.asarray(m, dtype=float) for m in sims)
    fig, axes = display.subplots(1, 2, height=3.6)
    heatmap(axes[0], row_softmax(inner, tau), cmap="magma", vmin=0, vmax=1,
            title=r"softmax weights $P_{ij}$")
    heatmap(axes[1], cosine, vmin=-1, vmax=1, title="cosine similarity")
    axes[1].set_ylabel("")
    if title:
        fig.suptitle(title)
    return fig


def weight_scatter_panels(axes, scatter: Mapping[float, tuple[Sequence[float], Sequence[float]]]):
    """One panel per temperature (Chapter 2, ``fig-ch2-weights``): the weight ``tau * beta_ij``
    of every negative against its margin ``s_ij - s_ii``, on shared log axes whose labels reach
    the smallest weight. ``scatter`` maps ``tau`` to ``(margins, weights)``."""
    if len(axes) != len(scatter):
        raise ValueError(f"weight_scatter_panels: {len(axes)} axes for {len(scatter)} temperatures")
    every = np.concatenate([np.asarray(w, dtype=float) for _, w in scatter.values()])
    for ax, (tau, (margin, weight)) in zip(axes, scatter.items()):
        ax.scatter(margin, weight, s=3, alpha=0.25, color="0.2", rasterized=True)
        ax.set(title=rf"$\tau$ = {tau:g}", xlabel=r"margin $s_{ij} - s_{ii}$")
        display.decade_ticks(ax, every, "y")
    axes[0].set_ylabel(r"weight $\tau\beta_{ij}$")
