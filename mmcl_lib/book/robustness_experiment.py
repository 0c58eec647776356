"""Experiment set-ups and figures of Chapter 4 (``ch-robustness``): wrong pairs and the baselines.

The chapter calls these so that its code cells show the library call that matters
(``baselines.recovery_errors``, ``baselines.population_errors``) and one line per figure; here
are the data set-ups, the loops over seeds and the plotting: :func:`heteroskedastic_model`,
:func:`recovery_errors_at`, :func:`population_errors_at` and the figures
:func:`plot_one_over_eta`, :func:`plot_population_bias`, :func:`plot_crossover`,
:func:`plot_correlated_noise`, :func:`robustness_bars`.
"""

from __future__ import annotations

import numpy as np

from ..baselines import population_errors, recovery_errors
from ..data import LatentFactorModel, heteroskedastic_std
from ..metrics import random_subspace_level
from . import display, style
from .recovery_figures import look_band, neutral_looks, setting_looks

__all__ = ["heteroskedastic_model", "recovery_errors_at", "population_errors_at", "plot_one_over_eta",
           "plot_population_bias", "plot_crossover", "plot_correlated_noise", "robustness_bars"]

# ---------------------------------------------------------------- Chapter 4

CH4_METHODS = ("mmcl", "unimodal_cl", "pca")
"""The methods Chapter 4 compares; their looks come from :func:`mmcl_lib.book.style.look`."""


def heteroskedastic_model(rng: np.random.Generator, d: int, r: int, *, level: float = 1.0,
                          ratio: float = 10.0, corr: float = 0.0) -> LatentFactorModel:
    """Chapter 4's model: ``d1 = d2 = d``, Haar loadings, the same heteroskedastic noise in both
    modalities (variances log-spaced over ``ratio`` with mean ``level``), noise correlation ``corr``."""
    std = heteroskedastic_std(d, level, ratio)
    return LatentFactorModel.random(d, d, r, rng, noise_std1=std, noise_std2=std, noise_corr=corr)


def recovery_errors_at(rng: np.random.Generator, n: int, eta: float, *, d: int = 20, r: int = 4,
                       ratio: float = 10.0, corr: float = 0.0) -> dict[str, float]:
    """Errors of MMCL, unimodal CL and PCA on one fresh model and paired sample (Chapter 4 sweeps)."""
    model = heteroskedastic_model(rng, d, r, ratio=ratio, corr=corr)
    return recovery_errors(model, model.sample(n, rng, eta=eta), rng)


def population_errors_at(rng: np.random.Generator, d: int, *, r: int = 4, ratio: float = 10.0,
                         eta: float = 1.0, corr: float = 0.0, same_loadings: bool = False) -> dict[str, float]:
    """Population errors (``baselines.population_errors``) of one random Chapter 4 model.

    ``same_loadings=True`` sets ``U2 = U1`` (the one case in which a noise cross-covariance that is
    a multiple of the identity leaves MMCL's population target unbiased).
    """
    model = heteroskedastic_model(rng, d, r, ratio=ratio, corr=corr)
    if same_loadings:
        model = LatentFactorModel(model.U1, model.U1, model.latent_cov, model.noise_std1, model.noise_std2,
                                  model.noise_corr)
    return population_errors(model, eta)


def plot_one_over_eta(eta, by_eta, predicted, small, random_level: float, n: int):
    """Chapter 4, ``fig-one-over-eta``: error against eta (log-log) and eta x error.

    Right panel: MMCL's look throughout, filled markers in the small-error regime ``small``
    and open ones outside it.
    """
    eta = np.asarray(eta, dtype=float)
    small = np.asarray(small, dtype=bool)
    fig, (ax0, ax1) = display.subplots(1, 2)
    mmcl = style.look("mmcl")
    look_band(ax0, eta, by_eta, "mmcl", {**mmcl, "label": "MMCL (closed form)"})
    ax0.plot(eta, predicted, color="k", ls=(0, (4, 2)), lw=1.2,
             label=r"first order, $\propto 1/\eta$")
    ax0.axhline(random_level, color="0.4", ls=":", label="random subspace")
    display.log_ticks(ax0, "both")
    ax0.set(xlabel=r"fraction of correct pairs $\eta$", ylabel=r"$\|\sin\Theta\|_F$",
            title=f"error against $\\eta$ (n = {n})")
    product = eta * by_eta.mean("mmcl")
    ax1.plot(eta, product, color=mmcl["color"], ls=mmcl["linestyle"], marker=mmcl["marker"],
             markerfacecolor="white", label=r"$\eta\,\times$ mean error")
    ax1.plot(eta[small], product[small], ls="none", marker=mmcl["marker"], color=mmcl["color"],
             label="small-error regime")
    display.log_ticks(ax1, "x")
    ax1.set(xlabel=r"$\eta$", ylabel=r"$\eta\times\|\sin\Theta\|_F$", ylim=(0, None),
            title=r"the $1/\eta$ law")
    ax0.legend(loc="upper right")
    ax1.legend(loc="lower right")
    return fig


def plot_population_bias(ratio_grid, by_ratio, d_grid, by_dim, r: int, d: int, ratio: float):
    """Chapter 4, ``fig-population-bias``: population errors against heteroskedasticity and d."""
    fig, (ax0, ax1) = display.subplots(1, 2)
    for key in ("pca", "unimodal_cl", "mmcl"):
        look_band(ax0, ratio_grid, by_ratio, key, style.look(key))
        if key != "mmcl":                                  # zero: not drawable on a log axis
            look_band(ax1, d_grid, by_dim, key, style.look(key))
    ax1.plot(d_grid, r**1.5 / np.asarray(d_grid, dtype=float), color="k", ls=(0, (4, 2)),
             lw=1.2, label=r"$r^{3/2}/d$")
    display.log_ticks(ax0, "x", ratio_grid)
    display.log_ticks(ax1, "x", d_grid)
    display.log_ticks(ax1, "y")
    ax0.set(xlabel="largest / smallest noise variance", ylabel="population error",
            title=f"against heteroskedasticity (d = {d})")
    ax1.set(xlabel="dimension d", title=f"against d (variance ratio {ratio:g})")
    ax0.legend(loc="center right")
    ax1.legend(loc="lower left")
    return fig


def plot_crossover(cross_eta, cmp, n_grid, dim_grid, eta_star, i_d: int, random_level: float):
    """Chapter 4, ``fig-crossover``: errors against eta for each n at one d, and eta* against n.

    A 2 x 2 grid: one panel per n (at most three) with each method in its house look, and the
    last panel eta* against n for every d, black to grey (eta* is no method).
    """
    n_grid = list(n_grid)
    if len(n_grid) > 3:
        raise ValueError(f"plot_crossover: at most three values of n fit the grid, got {len(n_grid)}")
    fig, axes = display.subplots(2, 2, height=6.4)
    axes = axes.ravel()
    for j, n in enumerate(n_grid):
        ax = axes[j]
        for key in CH4_METHODS:
            look_band(ax, cross_eta, cmp, key, style.look(key), index=np.s_[i_d, j])
        if np.isfinite(eta_star[i_d, j]):
            ax.axvline(eta_star[i_d, j], color="k", lw=0.8, ls="--")
        display.log_ticks(ax, "x")
        ax.set(xlabel=r"$\eta$", ylabel=r"$\|\sin\Theta\|_F$", ylim=(0, random_level * 1.05),
               title=f"d = {dim_grid[i_d]}, n = {n}")
    axes[0].legend(loc="lower left")               # clear of PCA (top) and the crossing
    for ax in axes[len(n_grid):-1]:
        ax.axis("off")
    ax = axes[-1]
    for i, look in enumerate(neutral_looks([f"d = {d}" for d in dim_grid])):
        ax.plot(n_grid, eta_star[i], **look)
    display.log_ticks(ax, "x", n_grid)
    display.log_ticks(ax, "y")
    ax.set(xlabel="number of pairs n", ylabel=r"$\eta^*$", title=r"below $\eta^*$ unimodal CL wins")
    ax.legend(loc="best")
    return fig


def plot_correlated_noise(n_grid, corr_grid, broken, broken_pop, eta: float, d: int):
    """Chapter 4, ``fig-correlated-noise``: MMCL's error against n for several noise correlations.

    The MMCL settings are told apart by shade, line style and marker of MMCL's own look
    (:func:`mmcl_lib.book.recovery_figures.setting_looks`); unimodal CL has its house look.
    """
    fig, ax = display.subplots()
    looks = setting_looks("mmcl", [f"MMCL, c = {c:g}" for c in corr_grid])
    for i, (c, look) in enumerate(zip(corr_grid, looks)):
        look_band(ax, n_grid, broken, "mmcl", look, index=np.s_[i])
        if c > 0:                                          # c = 0: the population error is zero
            ax.axhline(broken_pop.mean("mmcl")[i], color=look["color"], ls=":", lw=1.2)
    look_band(ax, n_grid, broken, "unimodal_cl",
              style.look("unimodal_cl", label="unimodal CL (any c)"), index=np.s_[-1])
    display.log_ticks(ax, "x", n_grid)
    display.log_ticks(ax, "y")
    ax.set(xlabel="number of pairs n", ylabel=r"$\|\sin\Theta\|_F$",
           title=f"cross-modal noise correlation c ($\\eta$ = {eta:g}, d = {d})")
    ax.legend(loc="lower left")
    return fig


def robustness_bars(demo, demo_pop, grid: dict, eta, ratio, n, d, r: int = 4):
    """Chapter 4's interactive figure: mean errors (bars) and population errors (black ticks)."""
    idx = tuple(list(grid[k]).index(v) for k, v in (("eta", eta), ("ratio", ratio), ("n", n), ("d", d)))
    pop_idx = (idx[0], idx[1], idx[3])
    fig, ax = display.subplots(height=3.4)
    for k, key in enumerate(CH4_METHODS):
        ax.bar(k, demo.mean(key)[idx], yerr=demo[key][idx].std(), color=style.look(key)["color"],
               capsize=4)
        ax.plot([k - 0.35, k + 0.35], [demo_pop.mean(key)[pop_idx]] * 2, color="k", lw=2)
    ax.axhline(random_subspace_level(d, r), color="gray", ls=":", lw=1)
    ax.set(xticks=range(3), xticklabels=[style.METHODS[key].label for key in CH4_METHODS],
           ylim=(0, 2.0), ylabel=r"$\|\sin\Theta\|_F$",
           title=f"η = {eta:g}, variance ratio {ratio:g}, n = {n}, d = {d}")
    return fig
