"""Experiment set-ups and figures of Chapters 4 (``ch-robustness``) and 5 (``ch-unpaired``).

The chapters call the functions here so that their code cells show the library call that matters
(``baselines.recovery_errors``, ``unpaired.detect_top``, ``unpaired.match_pairs``...) and one line
per figure. Nothing here computes a result of the paper that the core of ``mmcl_lib`` does not
already compute: these are the chapters' data set-ups, loops over seeds and plotting.

Chapter 4: :func:`heteroskedastic_model`, :func:`recovery_errors_at`, :func:`population_errors_at`
and the figures :func:`plot_one_over_eta`, :func:`plot_population_bias`, :func:`plot_crossover`,
:func:`plot_correlated_noise`, :func:`robustness_bars`.

Chapter 5: :func:`oracle_pairing_errors`, :func:`oracle_scores`, :func:`detection_precision`, the
figures :func:`plot_oracle_pairing`, :func:`plot_detection`, :func:`plot_phase2_run`,
:func:`plot_unpaired_summary`, :func:`matching_demo_run` with :func:`matching_demo_figure`, and
:func:`summary_table`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import _validation as check
from ..baselines import population_errors, recovery_errors
from ..data import LatentFactorModel, heteroskedastic_std
from ..losses import clip, linear
from ..metrics import random_subspace_level, retrieval_accuracy, subspace_error
from ..spectral import closed_form_mmcl
from ..unpaired import detect_top, match_pairs, matching_self_training, pair_scores, scoring_callback
from . import display, style
from .recovery_figures import look_band, neutral_looks, setting_looks
from .unpaired_experiment import LABELS, plot_unpaired_summary
from . import style
from .unpaired_figures import bar_labels, method_look

__all__ = ["heteroskedastic_model", "recovery_errors_at", "population_errors_at", "plot_one_over_eta",
           "plot_population_bias", "plot_crossover", "plot_correlated_noise", "robustness_bars",
           "oracle_pairing_errors", "oracle_scores", "detection_precision", "plot_oracle_pairing",
           "plot_detection", "plot_phase2_run", "plot_unpaired_summary", "matching_demo_run",
           "matching_demo_figure",
           "summary_table", "rounded_difference", "full_run_values"]

# ---------------------------------------------------------------- Chapter 4

CH4_METHODS = ("mmcl", "unimodal_cl", "pca")
"""The methods Chapter 4 compares; their looks come from :func:`mmcl_lib.book.style.look`."""

# (label, colour) per method, from the house looks; Chapter 4's figures use style.look directly.
# Kept for any other caller; new code should use style.look.
METHOD_STYLE = {key: (style.METHODS[key].label, style.METHODS[key].color) for key in CH4_METHODS}


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
        look = dict(look)
        ax.plot(n_grid, eta_star[i], ls=look.pop("linestyle"), **look)
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


# ---------------------------------------------------------------- Chapter 5

def oracle_pairing_errors(seeds: Sequence[int], N_values: Sequence[int], *, d1: int = 40, d2: int = 39,
                          r: int = 10, noise: float = 0.3, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Chapter 5, ``sec-unpaired-why``: feature error of the closed form from the ``n`` pairs and from
    the ``n + N`` pairs with the hidden pairing revealed.

    Returns ``(err_pairs, err_oracle)`` of shapes ``(len(seeds),)`` and ``(len(seeds), len(N_values))``:
    ``metrics.subspace_error`` of ``spectral.closed_form_mmcl``'s modality-1 encoder.
    """
    err_pairs, err_oracle = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        model = LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise)
        pairs = model.sample(n, rng)
        err_pairs.append(subspace_error(closed_form_mmcl(pairs.X, pairs.Y, r)[0], model.U1))
        row = []
        for N in N_values:
            unp = model.sample_unpaired(N, rng)
            X_all = np.vstack([pairs.X, unp.X])
            Y_all = np.vstack([pairs.Y, unp.Y[unp.hidden_partner]])   # the oracle pairing
            row.append(subspace_error(closed_form_mmcl(X_all, Y_all, r)[0], model.U1))
        err_oracle.append(row)
    return np.array(err_pairs), np.array(err_oracle)


def oracle_scores(r: int, N: int, seed: int = 0, *, d: int = 100, noise: float = 0.3,
                  similarity: str = "inner"):
    """Similarities (N x N) of an unpaired set under the true encoders, and its pairing.

    Chapter 5, ``sec-unpaired-detection``: the scores a detector would see with perfect encoders,
    as inner products (``similarity="inner"``, the heuristic of ``rem-detection-condition``) or
    cosines (``"cosine"``, the similarity of the authors' algorithm) of the same embeddings.
    """
    rng = np.random.default_rng([r, N, seed])
    model = LatentFactorModel.random(d, d, r, rng, noise_std1=noise)
    unp = model.sample_unpaired(N, rng)
    loss = linear() if similarity == "inner" else clip(1.0, similarity=similarity)
    return loss.similarities(model.U1.T, model.U2.T, unp.X, unp.Y), unp.hidden_partner


def detection_precision(ratios: Sequence[float], Ns: Sequence[int], seeds: Sequence[int], *,
                        d: int = 100, noise: float = 0.3) -> dict:
    """Precision of the top-N rule and of one-to-one matching against ``r / log N`` (Chapter 5).

    For each ``N`` and each ratio ``k``, ``r = max(1, round(k log N))``; the detectors see
    :func:`oracle_scores`. Returns ``{"r": (len(Ns), len(ratios)) ints, "x": r / log N,
    "top": precision of ``unpaired.detect_top(S, N)`` on inner products, "top_cosine": the same on
    cosines, "match": of ``unpaired.match_pairs(S)`` on inner products}``, precisions averaged over
    ``seeds``.
    """
    Ns = [check.integer(N, "N", low=2) for N in Ns]
    rs = np.array([[max(1, int(round(k * np.log(N)))) for k in ratios] for N in Ns])
    top, top_cosine, match = np.zeros(rs.shape), np.zeros(rs.shape), np.zeros(rs.shape)
    for a, N in enumerate(Ns):
        for b, r in enumerate(rs[a]):
            for seed in seeds:
                S, partner = oracle_scores(int(r), N, seed, d=d, noise=noise)
                top[a, b] += pair_scores(*detect_top(S, N), partner)[0] / len(seeds)
                match[a, b] += pair_scores(*match_pairs(S), partner)[0] / len(seeds)
                S, partner = oracle_scores(int(r), N, seed, d=d, noise=noise, similarity="cosine")
                top_cosine[a, b] += pair_scores(*detect_top(S, N), partner)[0] / len(seeds)
    return {"N": Ns, "r": rs, "x": rs / np.log(Ns)[:, None], "top": top, "top_cosine": top_cosine,
            "match": match}


def plot_oracle_pairing(n: int, N_values, err_pairs: float, err_oracle):
    """Chapter 5, ``fig-unpaired-oracle-pairing``: error against the number of correctly paired samples.

    The closed form from the ``n`` pairs alone (one point) and with the oracle pairing of ``N``
    more (a curve), in their house looks, with the ``1/sqrt(n + N)`` law through the first point.
    """
    totals = n + np.asarray(N_values)
    fig, ax = display.subplots(height=3.6)
    ax.plot([n], [err_pairs], **method_look("closed_form", label=f"closed form, {n} pairs only",
                                            linestyle="none", markersize=8))
    ax.plot(totals, err_oracle, **style.look("oracle", label="closed form, oracle pairing",
                                             markersize=9))
    ax.plot(np.r_[n, totals], err_pairs * np.sqrt(n / np.r_[n, totals]), color="0.45", lw=1,
            ls="-.", label=r"$\propto 1/\sqrt{n+N}$")
    display.log_ticks(ax, "x", np.r_[n, totals])
    display.log_ticks(ax, "y")
    ax.set(xlabel="number of correctly paired samples used, $n + N$",
           ylabel=r"sin-theta error of $\hat U_1$")
    ax.legend(loc="upper right")
    return fig


DETECTORS = (("top", "o", "-", "top-N rule, inner product"),
             ("top_cosine", "^", ":", "top-N rule, cosine"),
             ("match", "s", "--", "matching, inner product"))
"""The three detectors of :func:`plot_detection`: result key, marker, line style, label."""


def plot_detection(det: dict):
    """Chapter 5, ``fig-unpaired-detection``: precision against r / log N, top-N rule (inner product
    and cosine) and matching (inner product).

    One marker and line style per detector, one colour per N; two legends below the axes, one
    for the detectors (in black) and one for the set sizes, so no entry mixes the two.
    """
    from matplotlib.lines import Line2D

    fig, ax = display.subplots(height=5.0)
    for a, N in enumerate(det["N"]):
        for key, marker, ls, _ in DETECTORS:
            ax.plot(det["x"][a], det[key][a], marker=marker, ls=ls, color=f"C{a}")
    for k, text in ((2, "2 log N"), (4, "4 log N")):
        ax.axvline(k, color="gray", ls=":", lw=1)
        ax.text(k, 1.0, text, ha="center", va="bottom", color="0.3",
                transform=ax.get_xaxis_transform())
    ax.axhline(0.5, color="gray", lw=0.6)
    ax.set(xlabel=r"signal dimension relative to the set size, $r / \log N$",
           ylabel="detection precision", ylim=(0, 1.04))
    rules = [Line2D([], [], color="k", marker=m, ls=ls, label=label) for _, m, ls, label in DETECTORS]
    sizes = [Line2D([], [], color=f"C{a}", lw=4, label=f"N = {N}") for a, N in enumerate(det["N"])]
    fig.legend(handles=rules, loc="outside lower left", title="detector")
    fig.legend(handles=sizes, loc="outside lower right", title="set size")
    return fig


def plot_phase2_run(precision_per_epoch, accuracies: dict):
    """Chapter 5, ``fig-unpaired-phase2``: precision per epoch of phase 2 (left) and the accuracies
    compared (right).

    ``accuracies`` maps a label to an accuracy, in the order paired only (phase 1), after phase 2,
    closed form from the pairs, true encoders; the bars take those methods' house colours and
    short two-line names, each labelled with its value.
    """
    fig, (ax1, ax2) = display.subplots(1, 2, height=3.4)
    epochs = np.arange(1, len(precision_per_epoch) + 1)
    ax1.plot(epochs, precision_per_epoch, **method_look("paired_unpaired", marker="",
                                                        label=None))
    display.integer_ticks(ax1, "x")
    ax1.set(xlabel="epoch of phase 2", ylabel="precision of detected pairs", ylim=(0, 1.05))
    values = list(accuracies.values())
    names = ["paired\nonly", "after\nphase 2", "closed\nform", "true\nencoders"][:len(values)]
    colors = [method_look(m)["color"] for m in ("paired_only", "paired_unpaired", "closed_form",
                                                "oracle")]
    ax2.bar(names, values, color=colors[:len(values)])
    bar_labels(ax2, values, fmt=".3f")
    ax2.set(ylabel="top-1 retrieval accuracy", ylim=(0, 1.05))
    ax2.grid(False, axis="x")
    return fig


def summary_table(summary: dict, Ns: Sequence[int] | None = None, *, caption: str | None = None):
    """Chapter 5's accuracy table: one row per method, one column per N, cells "mean ± sd"."""
    cols = list(summary["N"]) if Ns is None else list(Ns)
    idx = [summary["N"].index(N) for N in cols]
    rows = []
    for method, s in summary["methods"].items():
        mean, std = np.atleast_1d(s["mean"]), np.atleast_1d(s["std"])
        rows.append([LABELS[method]] + [display.pm(mean[k if mean.size > 1 else 0], std[k if std.size > 1 else 0])
                                        for k in idx])
    return display.html_table(["method"] + [f"N = {N}" for N in cols], rows, caption=caption)


def rounded_difference(a: float, b: float, digits: int = 3) -> float:
    """``round(a, digits) - round(b, digits)``: the difference of two values as the prose shows them."""
    return round(round(float(a), digits) - round(float(b), digits), digits)


def matching_demo_run(n: int, N: int, noise_std: float, r: int, *, n_test: int = 2000,
                      d1: int = 40, d2: int = 39, seed: int = 7) -> dict:
    """One setting of Chapter 5's interactive figure, computed (no drawing).

    Draws a latent-factor model (seed ``seed``), ``n`` pairs, ``N`` unpaired samples and ``n_test``
    test pairs, runs two rounds of the matching variant (``unpaired.matching_self_training``,
    threshold 0.8; the book's matching variant of ``sec-unpaired-gain``, not in the paper) and returns ``{"accuracies": [pairs
    only, matching, true encoders], "evaluations": [(precision, recall) per round], "n_test": n_test}``:
    top-1 retrieval among the test pairs of the closed form from the pairs, of the matching variant
    and of the true encoders. The chapter computes it for every slider setting once
    (``explorer.precompute``) and :func:`matching_demo_figure` draws it.
    """
    rng = np.random.default_rng(seed)
    model = LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise_std)
    pairs, test = model.sample(n, rng), model.sample(n_test, rng)
    unp = model.sample_unpaired(N, rng)
    res = matching_self_training(pairs.X, pairs.Y, unp.X, unp.Y, r, rounds=2, threshold=0.8,
                                 callback=scoring_callback(unp.hidden_partner))
    accs = [retrieval_accuracy(*G, test.X, test.Y)
            for G in (closed_form_mmcl(pairs.X, pairs.Y, r), (res.G1, res.G2), (model.U1.T, model.U2.T))]
    return {"accuracies": accs, "evaluations": list(res.evaluations), "n_test": n_test}


def matching_demo_figure(run: dict):
    """Chapter 5's interactive figure for one result of :func:`matching_demo_run`: accuracy of the
    pairs-only closed form, matching and the true encoders (left) and the precision and recall of
    the matched pairs per round (right)."""
    accs, evaluations, n_test = run["accuracies"], run["evaluations"], run["n_test"]
    fig, (ax1, ax2) = display.subplots(1, 2, height=3.4)
    colors = [method_look(m)["color"] for m in ("closed_form", "matching", "oracle")]
    ax1.bar(["pairs\nonly", "after\nmatching", "true\nencoders"], accs, color=colors)
    bar_labels(ax1, accs)
    ax1.set(ylim=(0, 1.12), ylabel=f"accuracy, {n_test} test pairs")
    ax1.grid(False, axis="x")
    rounds = np.arange(1, len(evaluations) + 1)
    ax2.plot(rounds, [p for p, _ in evaluations], "o-", color="k", label="precision")
    ax2.plot(rounds, [q for _, q in evaluations], "s--", color="0.55", label="recall")
    display.integer_ticks(ax2, "x")
    ax2.set(ylim=(0, 1.05), xlabel="matching round", ylabel="matched pairs")
    ax2.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    return fig


def full_run_values(summary: dict, Ns: Sequence[int] = (500, 5000), digits: int = 3) -> dict[str, float]:
    """Glue names and values of a recorded Section 5.1 run, rounded to what the prose shows.

    ``ch5_full_<method>_<N>`` (mean accuracy) and ``..._sd`` (standard deviation) for every method
    and each N of ``Ns``; ``ch5_full_err_<method>_<N>`` with ``..._min`` and ``..._max``, the feature
    error (mean and range over seeds); and ``ch5_full_det_batch_<N>`` / ``ch5_full_det_match_<N>``,
    the last-epoch (last-round) detection precision of phase 2 and of the matching variant.
    Differences quoted in the prose are then computed from these rounded values, so they agree with
    the numbers shown.
    """
    def at(values, k):
        values = np.atleast_1d(values)
        return round(float(values[k if values.size > 1 else 0]), digits)

    out: dict[str, float] = {}
    for N in Ns:
        k = summary["N"].index(N)
        for method, s in summary["methods"].items():
            out[f"ch5_full_{method}_{N}"] = at(s["mean"], k)
            out[f"ch5_full_{method}_{N}_sd"] = at(s["std"], k)
        for method, s in summary["feature_error"].items():
            for stat, suffix in (("mean", ""), ("min", "_min"), ("max", "_max")):
                out[f"ch5_full_err_{method}_{N}{suffix}"] = at(s[stat], k)
        det = summary["detection_precision"]
        out[f"ch5_full_det_batch_{N}"] = round(float(det["paired_unpaired"][k]), 2)
        out[f"ch5_full_det_match_{N}"] = round(float(det["matching"][k]), 2)
    return out
