"""Figures of a training run, for Part I (Chapters 1 and 2).

Only presentation lives here (heat maps of similarity and weight matrices, the panels of the
chapters' figures) plus one piece of bookkeeping about solver histories (:func:`stop_index`).
The mathematics they show comes from the core of ``mmcl_lib``; the house style and the generic
helpers come from :mod:`mmcl_lib.book.display`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from . import display

__all__ = ["alignment_panels", "gradient_path_figure", "heatmap", "history_panels", "spectrum_bars", "stop_index"]


def heatmap(ax, values, *, title: str = "", xlabel: str = "caption j", ylabel: str = "image i",
            cmap: str = "RdBu_r", vmin: float | None = None, vmax: float | None = None,
            colorbar: bool = True):
    """Show a small n x n matrix (similarities ``s_ij``, weights ``beta_ij``) with integer ticks.

    With ``cmap="RdBu_r"`` and no limits the colour scale is symmetric about 0, so white means
    zero similarity. Rows and columns are numbered from 0 like the arrays. Book: the similarity
    heat maps of Chapter 1 (``fig-ch1-training`` and its demo) and the weight maps of Chapter 2.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"heatmap: values must be a 2-d matrix, got shape {values.shape}")
    if vmin is None and vmax is None and cmap == "RdBu_r":
        top = float(np.abs(values).max()) or 1.0
        vmin, vmax = -top, top
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(False)
    for axis in (ax.xaxis, ax.yaxis):           # a few integer ticks: 0, 5, 10, ...
        axis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    if colorbar:
        plt.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    return im


def stop_index(grad_norms: Sequence[float], tol: float) -> int | None:
    """The first iteration at which a gradient-norm stopping rule with tolerance ``tol`` stops.

    ``grad_norms`` is a solver's ``history.grad_norm`` (one entry per iteration, the start
    included). Returns ``None`` if the norm never falls to ``tol``. Lets a chapter read, from
    one long run, where runs with larger tolerances would have stopped (Chapter 1, "no
    regulariser, no minimiser").
    """
    if not tol > 0:
        raise ValueError(f"stop_index: tol must be positive, got {tol!r}")
    below = np.flatnonzero(np.asarray(grad_norms, dtype=float) <= tol)
    return int(below[0]) if below.size else None


def history_panels(axes, runs: dict, *, loss_label: str = "loss"):
    """Two panels along gradient-descent runs: ``||G1^T G2||_F`` (left) and the loss (right, log).

    ``runs`` maps a legend label to a :class:`mmcl_lib.solvers.FitResult` recorded with
    ``record_every=1``. Book: Chapter 1, ``fig-ch1-noreg``.
    """
    for (label, fit), style in zip(runs.items(), ("-", "--", ":")):
        t = [k for k, *_ in fit.history.iterates]
        norms = [np.linalg.norm(A.T @ B) for _, A, B in fit.history.iterates]
        axes[0].plot(t, norms, ls=style, label=label)
        axes[1].plot(np.arange(len(fit.history.loss)), fit.history.loss, ls=style, label=label)
    axes[0].set(xlabel="iteration", ylabel=r"$\|G_1^\top G_2\|_F$", title="size of the encoders")
    axes[1].set(xlabel="iteration", ylabel=loss_label, title="loss")

    display.decade_ticks(axes[1], np.concatenate([fit.history.loss for fit in runs.values()]), "y")
    axes[0].legend(loc="upper right")


def alignment_panels(axes, t, dist1, dist2, spectra, r: int):
    """Two panels along a run: sin-theta distance to SVD_r(S(beta_t)) (left, log) and the
    top ``r + 4`` singular values of ``S(beta_t)`` (right). Book: Chapter 2, ``fig-ch2-svd``.

    The two distances nearly coincide: the left subspace is a line, the right one open markers
    on it, so both stay visible. The log axis is labelled down to the smallest distance.
    """

    axes[0].plot(t, dist1, color="C0", label=r"$G_1$ vs left subspace")
    every = max(1, len(t) // 12)
    axes[0].plot(t[::every], dist2[::every], "o", mfc="none", color="C1", ms=6,
                 label=r"$G_2$ vs right subspace")
    display.decade_ticks(axes[0], np.r_[dist1, dist2], "y")
    axes[0].set(xlabel="iteration t", ylabel="sin-theta distance",
                title=r"distance to SVD$_r(S(\beta_t))$")
    axes[0].legend(loc="upper right")
    k = min(r + 4, spectra.shape[1])
    for j in range(k):
        axes[1].plot(t, spectra[:, j], color="C0" if j < r else "0.6", lw=1.4 if j < r else 1.0)
    axes[1].set(xlabel="iteration t", ylabel=r"$\sigma_k(S(\beta_t))$",
                title=f"top {r} (blue) and next {k - r} (grey)")


def spectrum_bars(ax, sigma, r: int, *, ylabel: str = r"$\sigma_k$", title: str = ""):
    """Bar chart of singular values, the first ``r`` in blue and the rest grey, integer x ticks."""
    sigma = np.asarray(sigma, dtype=float)
    ax.bar(np.arange(1, sigma.size + 1), sigma, color=["C0"] * r + ["0.6"] * (sigma.size - r))
    ax.set(xlabel="index k", ylabel=ylabel, title=title)
    display.integer_ticks(ax, "x")


def gradient_path_figure(weights, sigma, r: int, path, dist, *, t: int, n_iter: int):
    """Chapter 2's demo frame: the weights ``tau * beta_t`` of a few pairs (top left), the singular
    values of ``S(beta_t)`` (top right) and the distance to ``SVD_r(S(beta_t))`` up to iteration
    ``t`` (bottom, log scale). Returns the figure."""
    fig = plt.figure(figsize=(display.FIG_WIDTH, 6.2), layout="constrained")
    axes = fig.subplot_mosaic([["w", "s"], ["d", "d"]])
    heatmap(axes["w"], weights, cmap="magma", vmin=0, vmax=1, title=rf"$\tau\beta_t$, t = {t}")
    spectrum_bars(axes["s"], sigma, r, title=r"singular values of $S(\beta_t)$")
    axes["d"].plot(path, dist, "o-", ms=3)
    axes["d"].set(xlim=(0, n_iter), xlabel="iteration", ylabel="sin-theta",
                  title=f"distance to SVD (GD stops at {n_iter})")
    # fixed limits, so frames compare; every decade from 1e-8 to 10 labelled
    display.log_ticks(axes["d"], "y", [1e-8, 1e-6, 1e-4, 1e-2, 1], minor=False)
    axes["d"].set_ylim(1e-8, 10)
    return fig
