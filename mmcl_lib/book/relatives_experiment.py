"""Driver of Chapter 7 (``ch-classical-relatives``): MMCL, PLS-SVD, CCA, ridge CCA, RANSAC CCA and CLIP.

:func:`compare` draws a latent-factor model (Chapter 3) and a paired sample, fits every method and
returns, per method, the sin-theta error of its encoder subspace and (for the CCA family) of its
loadings, and top-1 retrieval on fresh test pairs. :func:`clip_position` places trained CLIP encoders
between the closed forms; :func:`digits_compare` runs the comparison on the UCI multi-view digits.
:func:`sweep_values`, :func:`clip_values` and :func:`digits_values` collect the numbers the chapter's
prose quotes; :func:`plot_sweeps`, :func:`plot_clip`, :func:`plot_units` and :func:`demo_figure` draw
its figures, :func:`digits_table` its table.
The estimators themselves live in :mod:`mmcl_lib.classical` (which calls scikit-learn and cca-zoo),
:mod:`mmcl_lib.spectral` and :mod:`mmcl_lib.solvers`; this module only runs them and shows the results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from .. import classical, data, losses, metrics, real_data, solvers
from .. import _validation as check
from ..spectral import closed_form_mmcl
from . import display, style, sweep

# method key of this chapter -> (its look in the house style, the library that computed it)
STYLE = {
    "mmcl": ("mmcl", "mmcl_lib"),
    "mmcl_std": ("mmcl_standardised", "mmcl_lib"),
    "pls": ("pls_svd", "scikit-learn"),
    "cca": ("cca", "cca-zoo"),
    "ridge_cca": ("ridge_cca", "cca-zoo"),
    "ransac_cca": ("robust_cca", "cca-zoo"),
    "clip": ("clip_trained", "mmcl_lib"),
}
NAMES = {"mmcl": "MMCL = PLS-SVD", "ransac_cca": "RANSAC CCA"}
"""Legend names that differ from the house style's label (RANSAC CCA is the book's robust CCA)."""


def label(method: str) -> str:
    """Legend text of a method: its name and the library that computed it, e.g. ``CCA (cca-zoo)``."""
    key, library = STYLE[method]
    return f"{NAMES.get(method, style.METHODS[key].label)} ({library})"


def look(method: str, **overrides) -> dict:
    """``ax.plot`` keyword arguments of a method: the house look (:mod:`mmcl_lib.book.style`)
    with the chapter's legend text."""
    return style.look(STYLE[method][0], **{"label": label(method), **overrides})


def _band(ax, x, result, key, method, **overrides):
    """A sweep's mean and 10-90 % band in the method's house look."""
    kw = look(method, **overrides)
    return display.sweep_band(ax, x, result, key, label=kw.pop("label"), color=kw.pop("color"),
                              marker=kw.pop("marker"), ls=kw.pop("linestyle"), **kw)


def noise_std(d: int, level: float, ratio: float, loud: int = 0) -> np.ndarray:
    """Per-coordinate noise std: log-spaced variances (``data.heteroskedastic_std``) with mean ``level**2``.

    ``loud > 0`` instead gives ``loud`` coordinates a variance ``ratio`` times that of the others
    (strong noise on a few coordinates), again with mean variance ``level**2``.
    """
    d = check.integer(d, "d")
    loud = check.integer(loud, "loud", low=0, high=d)
    if loud == 0:
        return data.heteroskedastic_std(d, level, ratio)
    ratio = check.positive(ratio, "ratio")
    var = np.ones(d)
    var[:loud] = ratio
    return level * np.sqrt(var / var.mean())


def clip_encoders(X, Y, r: int, rng: np.random.Generator, *, tau: float = 1.0, rho: float = 0.3,
                  tol: float = 1e-5, max_iter: int = 300):
    """Linear encoders trained on the CLIP loss (inner-product similarity, regulariser ``rho``).

    Minimised from a small random start by the book's spectral solver (Chapter 2), which reaches
    the same stationary points as gradient descent (Chapter 1) in fewer iterations.
    """
    X, Y = check.paired(X, Y)
    r = check.rank(r, X.shape[1], Y.shape[1])
    G1 = 0.01 * rng.standard_normal((r, X.shape[1]))
    G2 = 0.01 * rng.standard_normal((r, Y.shape[1]))
    fit = solvers.spectral_solver(losses.clip(tau, rho=rho), G1, G2, X, Y, tol=tol, max_iter=max_iter)
    return fit.G1, fit.G2


def compare(rng: np.random.Generator, *, n: int = 1000, d: int = 20, r: int = 4, eta: float = 1.0,
            level: float = 0.5, ratio: float = 1.0, loud: int = 0, n_test: int = 200,
            shrinkage: float = 0.1, methods=("mmcl", "pls", "cca", "ridge_cca"),
            clip_tau: float = 1.0, ransac_trials: int = 20, x_scale: float = 1.0) -> dict[str, float]:
    """Errors and retrieval of each method on one fresh model and sample (Chapter 7's experiments).

    Keys: ``<method>`` (sin-theta of the modality-1 encoder subspace to ``U1``), ``<method>_load``
    (of the loadings ``S_xx W1``; classical methods only) and ``<method>_ret`` (top-1 cosine
    retrieval among ``n_test`` fresh correctly matched pairs). ``methods`` are keys of :data:`STYLE`;
    ``"mmcl_std"`` is MMCL on coordinates standardised with the training means and standard deviations.
    The noise (``level``, ``ratio``, ``loud``, see :func:`noise_std`) is the same in both modalities.
    ``ransac_trials`` caps RANSAC CCA's random subsets (cca-zoo's ``max_trials``). ``x_scale`` multiplies the first coordinate of every
    x (a change of units; Chapter 7, "Where it breaks"); the subspace errors are then not comparable.
    """
    model = data.LatentFactorModel.random(d, d, r, rng, noise_std1=noise_std(d, level, ratio, loud))
    train, test = model.sample(n, rng, eta=eta), model.sample(n_test, rng)
    if x_scale != 1.0:
        units = np.ones(d)
        units[0] = check.positive(x_scale, "x_scale")
        train = data.PairedSample(train.X * units, train.Y, train.matched, train.Z)
        test = data.PairedSample(test.X * units, test.Y, test.matched, test.Z)
    out = {}
    for method in methods:
        if method == "mmcl_std":      # standardise each coordinate with training statistics first
            mx, sx, my, sy = train.X.mean(0), train.X.std(0), train.Y.mean(0), train.Y.std(0)
            G1, G2 = closed_form_mmcl((train.X - mx) / sx, (train.Y - my) / sy, r)
            out[method] = metrics.subspace_error(G1 / sx, model.U1)          # the encoder of raw x
            out[method + "_ret"] = metrics.retrieval_accuracy(G1, G2, (test.X - mx) / sx, (test.Y - my) / sy)
            continue
        if method in ("mmcl", "clip"):
            G1, G2 = (closed_form_mmcl(train.X, train.Y, r) if method == "mmcl"
                      else clip_encoders(train.X, train.Y, r, rng, tau=clip_tau))
        else:
            opts = {"shrinkage": shrinkage} if method in ("ridge_cca", "ransac_cca") else {}
            if method == "ransac_cca":
                opts["max_trials"] = ransac_trials
            fitted = classical.fit(method, train.X, train.Y, r, rng=rng, **opts)
            G1, G2 = fitted.encoders
            out[method + "_load"] = metrics.sin_theta(fitted.subspaces("loadings")[0], model.U1)
        out[method] = metrics.subspace_error(G1, model.U1)
        out[method + "_ret"] = metrics.retrieval_accuracy(G1, G2, test.X, test.Y)
    return out


def spurious_top_correlation(n: int, d1: int, d2: int, rng: np.random.Generator) -> float:
    """Top sample canonical correlation (cca-zoo's CCA) of ``n`` independent Gaussian x's and y's.

    The population canonical correlations are all 0; the sample's top one is exactly 1 once
    ``d1 + d2 >= n`` and near 1 somewhat before (Chapter 7, sweep (b)).
    """
    X, Y = rng.standard_normal((n, d1)), rng.standard_normal((n, d2))
    return float(classical.canonical_correlations(X, Y, classical.cca(X, Y, 1))[0])


def clip_position(rng: np.random.Generator, *, tau: float, ratio: float, n: int = 600, d: int = 20,
                  r: int = 4, level: float = 0.5, loud: int = 3, n_test: int = 200) -> dict[str, float]:
    """Where trained CLIP encoders land between the closed forms (Chapter 7, "A nonlinear member").

    Keys: ``to_pls`` and ``to_cca`` (sin-theta of CLIP's modality-1 encoder subspace to PLS-SVD's =
    MMCL's and to CCA's weight subspace), ``clip``, ``mmcl``, ``cca`` (errors to ``U1``; CCA's of its
    loadings) and ``<method>_ret`` (test retrieval).
    """
    model = data.LatentFactorModel.random(d, d, r, rng, noise_std1=noise_std(d, level, ratio, loud))
    train, test = model.sample(n, rng), model.sample(n_test, rng)
    encoders = {"clip": clip_encoders(train.X, train.Y, r, rng, tau=tau),
                "mmcl": closed_form_mmcl(train.X, train.Y, r)}
    fitted = classical.cca(train.X, train.Y, r)
    encoders["cca"] = fitted.encoders
    B = metrics.orthonormal_basis(encoders["clip"][0].T)
    out = {"to_pls": metrics.sin_theta(B, metrics.orthonormal_basis(encoders["mmcl"][0].T)),
           "to_cca": metrics.sin_theta(B, fitted.subspaces()[0]),
           "clip": metrics.subspace_error(encoders["clip"][0], model.U1),
           "mmcl": metrics.subspace_error(encoders["mmcl"][0], model.U1),
           "cca": metrics.sin_theta(fitted.subspaces("loadings")[0], model.U1)}
    for key, (G1, G2) in encoders.items():
        out[key + "_ret"] = metrics.retrieval_accuracy(G1, G2, test.X, test.Y)
    return out


def digits_compare(rng: np.random.Generator, *, views=("pix", "fou"), n_train: int = 1000, n_test: int = 500,
                   r: int = 10, eta: float = 1.0, shrinkages=(0.1, 0.5),
                   methods=("mmcl", "cca", "ridge_cca")) -> dict[str, float]:
    """Cross-view retrieval and class accuracy on the UCI multi-view digits (Chapter 7, real data).

    A random split into ``n_train`` training and ``n_test`` test digits; views standardised with
    training statistics; a fraction ``1 - eta`` of the training pairs broken
    (``real_data.wrong_pairing``). Keys ``<method>_ret`` (top-1 instance retrieval among the test
    digits) and ``<method>_class`` (nearest-prototype accuracy), with ``ridge_cca_<c>`` per shrinkage.
    """
    data_views, labels = real_data.load_multiple_features(views, verify=False)
    A, B = (data_views[v] for v in views)
    tr, te = real_data.random_partition(labels.size, [n_train, n_test], rng)
    Xtr, Xte = real_data.standardise_views(A[tr], A[te])
    Ytr, Yte = real_data.standardise_views(B[tr], B[te])
    order, _ = real_data.wrong_pairing(n_train, eta, rng)
    Ytr = Ytr[order]
    fits = {}
    for method in methods:
        if method == "mmcl":
            fits["mmcl"] = closed_form_mmcl(Xtr, Ytr, r)
        elif method == "ridge_cca":
            for c in shrinkages:
                fits[f"ridge_cca_{c:g}"] = classical.ridge_cca(Xtr, Ytr, r, shrinkage=c).encoders
        else:
            fits[method] = classical.fit(method, Xtr, Ytr, r, rng=rng).encoders
    out = {}
    for key, (G1, G2) in fits.items():
        out[key + "_ret"] = metrics.retrieval_accuracy(G1, G2, Xte, Yte)
        out[key + "_class"] = metrics.nearest_prototype_accuracy(G1, G2, Xte, Yte, labels[te], labels[te])
    return out


# ---------------------------------------------------------------- numbers quoted by the prose

SWEEP_KEYS = ("ratio", "d", "eta", "n")


def _at(result, key: str, grid: Sequence, value) -> float:
    return float(result.mean(key)[list(grid).index(value)])


def sweep_values(res: Mapping, grids: Mapping[str, Sequence], *, r: int = 4) -> dict[str, float]:
    """The numbers Chapter 7's "Where each wins" quotes from the four sweeps (means over seeds).

    ``res[k]`` is the :class:`~mmcl_lib.book.sweep.SweepResult` of sweep ``k`` in :data:`SWEEP_KEYS`
    over ``grids[k]``. Needs the values 100 in ``grids["ratio"]``, 75 in ``grids["d"]``, 0.5 in
    ``grids["eta"]`` and 30 in ``grids["n"]``; "near n" means the grid's values of d of at least 75.
    """
    a, b, c, e = (res[k] for k in SWEEP_KEYS)
    big_d = [i for i, d in enumerate(grids["d"]) if d >= 75]
    eta = list(grids["eta"])
    m = {k: c.mean(k) for k in ("mmcl", "cca_load", "ridge_cca_load", "ransac_cca_load",
                                 "mmcl_ret", "cca_ret", "ridge_cca_ret", "ransac_cca_ret")}
    i1, ih = eta.index(1.0), eta.index(0.5)
    values = {f"ch7_a_{name}": _at(a, key, grids["ratio"], 100.0) for name, key in (
        ("cca_ret", "cca_ret"), ("mmcl_ret", "mmcl_ret"), ("cca_w", "cca"), ("cca_load", "cca_load"), ("mmcl", "mmcl"))}
    values.update({f"ch7_a_iso_{name}": _at(a, name + "_ret", grids["ratio"], 1.0) for name in ("cca", "mmcl")})
    values.update({f"ch7_b_{name}": _at(b, key, grids["d"], 75) for name, key in (
        ("cca", "cca_load"), ("ridge", "ridge_cca_load"), ("mmcl", "mmcl"), ("cca_ret", "cca_ret"))})
    values.update(ch7_b_level=metrics.random_subspace_level(75, r),
                  ch7_b_mmcl_ret=float(b.mean("mmcl_ret")[big_d].mean()),
                  ch7_b_ridge_ret=float(b.mean("ridge_cca_ret")[big_d].mean()))
    values.update(ch7_c_mmcl_ratio=m["mmcl"][ih] / m["mmcl"][i1], ch7_c_cca_ratio=m["cca_load"][ih] / m["cca_load"][i1],
                  ch7_c_eta_min=min(eta), ch7_c_mmcl_last=m["mmcl"][-1], ch7_c_cca_last=m["cca_load"][-1],
                  ch7_c_cca_ret_1=m["cca_ret"][i1], ch7_c_mmcl_ret_1=m["mmcl_ret"][i1],
                  ch7_c_mmcl_ret_last=m["mmcl_ret"][-1], ch7_c_cca_ret_last=m["cca_ret"][-1],
                  ch7_c_ransac_ret_last=m["ransac_cca_ret"][-1], ch7_c_ridge_ret_last=m["ridge_cca_ret"][-1],
                  ch7_c_ransac_last=m["ransac_cca_load"][-1], ch7_c_ridge_last=m["ridge_cca_load"][-1])
    values.update({f"ch7_d_{name}_small": _at(e, key, grids["n"], 30) for name, key in (("mmcl", "mmcl"), ("cca", "cca_load"))})
    values.update({f"ch7_d_{name}_large": float(e.mean(key)[-1]) for name, key in (
        ("mmcl", "mmcl"), ("cca", "cca_load"), ("mmcl_ret", "mmcl_ret"), ("cca_ret", "cca_ret"), ("ridge_ret", "ridge_cca_ret"))})
    values["ch7_d_n_large"] = int(grids["n"][-1])
    return {k: (float(v) if not isinstance(v, int) else v) for k, v in values.items()}


def clip_values(clip_res, grid: Mapping[str, Sequence]) -> dict[str, float]:
    """The numbers of Chapter 7's "A nonlinear member", at the loudest ratio of ``grid["ratio"]``:
    distances and retrieval at the coldest (``cold``) and warmest (``warm``) temperature."""
    j = int(np.argmax(grid["ratio"]))
    m = {k: clip_res.mean(k)[:, j] for k in ("to_pls", "to_cca", "clip_ret", "mmcl_ret", "cca_ret")}
    out = {f"ch7_clip_{end}_{k}": float(m["to_" + k][i]) for end, i in (("cold", 0), ("warm", -1)) for k in ("pls", "cca")}
    out.update(ch7_clip_cold_ret=float(m["clip_ret"][0]), ch7_clip_warm_ret=float(m["clip_ret"][-1]),
               ch7_clip_mmcl_ret=float(m["mmcl_ret"][0]), ch7_clip_cca_ret=float(m["cca_ret"][0]),
               ch7_clip_tau_cold=float(min(grid["tau"])), ch7_clip_tau_warm=float(max(grid["tau"])),
               ch7_clip_ratio=float(grid["ratio"][j]))
    return out


DIGITS_COLUMNS = (("mmcl", "MMCL = PLS-SVD"), ("cca", "CCA"), ("ridge_cca_0.1", "ridge CCA, c = 0.1"),
                  ("ridge_cca_0.5", "ridge CCA, c = 0.5"))


def digits_values(dig, grid: Mapping[str, Sequence]) -> dict[str, float]:
    """The numbers of Chapter 7's digits section: retrieval at the smallest ``n_train`` with correct
    pairs (``eta = 1``) and with half the pairs wrong (``_wrong``, ``eta = 0.5``), and at the largest
    ``n_train`` with correct pairs (``_big``)."""
    i1, ih = list(grid["eta"]).index(1.0), list(grid["eta"]).index(0.5)
    names = {"mmcl": "mmcl", "cca": "cca", "ridge": "ridge_cca_0.1", "ridge5": "ridge_cca_0.5"}
    out = {f"ch7_dig_{name}": float(dig.mean(key + "_ret")[0, i1]) for name, key in names.items()}
    out.update({f"ch7_dig_{name}_wrong": float(dig.mean(key + "_ret")[0, ih]) for name, key in names.items()})
    out.update({f"ch7_dig_{name}_big": float(dig.mean(key + "_ret")[-1, i1]) for name, key in names.items()})
    out.update(ch7_dig_n=int(grid["n_train"][0]), ch7_dig_n_big=int(grid["n_train"][-1]))
    return out


def digits_table(dig, grid: Mapping[str, Sequence], n_test: int):
    """Chapter 7's digits table: top-1 retrieval, mean ± sd over seeds, per ``n_train`` and ``eta``."""
    rows = [[f"{n}", f"{eta:g}"] + [display.pm(dig.mean(k + "_ret")[a, b], dig[k + "_ret"][a, b].std())
                                    for k, _ in DIGITS_COLUMNS]
            for a, n in enumerate(grid["n_train"]) for b, eta in enumerate(grid["eta"])]
    return display.html_table(["n", "η"] + [name for _, name in DIGITS_COLUMNS], rows,
                              caption=f"top-1 retrieval among {n_test} test digits, fac → kar "
                                      "(MMCL: mmcl_lib; CCA and ridge CCA: cca-zoo; mean ± sd over seeds)")


# ---------------------------------------------------------------- figures

SWEEP_TITLES = {"ratio": "(a) 3 loud coordinates", "d": "(b) dimension d, n = 100",
                "eta": r"(c) fraction $\eta$ of correct pairs", "n": "(d) number of pairs n"}
SWEEP_XLABELS = {"ratio": "noise variance ratio (loud / quiet)", "d": "d", "eta": r"$\eta$", "n": "n"}


def _x_axis(ax, key: str, grid: Sequence) -> None:
    if key == "d":                       # integers, evenly spread: a linear axis, about four ticks
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True, steps=[1, 2, 5, 10]))
    elif key == "n":                     # 15 ... 1000: every other grid value labelled
        display.log_ticks(ax, "x", values=list(grid)[::2] if len(grid) > 4 else grid)
    else:
        display.log_ticks(ax, "x", values=grid)


UNDER = {"linewidth": 3.4, "markersize": 8, "zorder": 1.5}
"""MMCL is drawn first, wide and with large markers, so that a method that coincides with it
(PLS-SVD always; ridge CCA often) is seen as a thinner dashed line on top of a visible blue one."""


def plot_sweeps(res: Mapping, grids: Mapping[str, Sequence], metric: str, *, d: int = 20, r: int = 4,
                n_test: int = 200, robust: str = "eta"):
    """The 2 x 2 figure of Chapter 7's four sweeps: feature recovery (``metric="err"``) or retrieval
    (``"ret"``); RANSAC CCA in sweep ``robust`` only. One legend for the figure, above the panels.
    MMCL is drawn under the others (:data:`UNDER`), so curves that coincide with it stay visible."""
    check.one_of(metric, ("err", "ret"), "metric")
    fig, axes = display.subplots(2, 2, height=7.4)
    for ax, k in zip(axes.ravel(), SWEEP_KEYS):
        for m in ("mmcl", "cca", "ridge_cca") + (("ransac_cca",) if k == robust else ()):
            key = m + ("_ret" if metric == "ret" else ("" if m == "mmcl" else "_load"))
            _band(ax, grids[k], res[k], key, m, **(UNDER if m == "mmcl" else {"zorder": 3}))
            if metric == "err" and k == "ratio" and m == "cca":
                _band(ax, grids[k], res[k], "cca", m, label="CCA weights (cca-zoo)", linestyle=":",
                      markerfacecolor="white", zorder=3)
        if metric == "err":
            ax.axhline(metrics.random_subspace_level(max(grids["d"]) if k == "d" else d, r),
                       color="gray", ls=(0, (1, 3)), lw=1.4, label="random subspace")
        _x_axis(ax, k, grids[k])
        ax.set(xlabel=SWEEP_XLABELS[k], title=SWEEP_TITLES[k], ylim=(0, None))
    axes[0, 0].set_ylabel(r"$\|\sin\Theta\|_F$ to $U_1$" if metric == "err"
                          else f"top-1 retrieval ({n_test} pairs)")
    axes[1, 0].set_ylabel(axes[0, 0].get_ylabel())
    handles = {}
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(handles.values(), handles.keys(), loc="outside upper center", ncols=2)
    return fig


def plot_clip(clip_res, grid: Mapping[str, Sequence]):
    """Chapter 7's CLIP figure: one column per noise ratio; top row the distances of CLIP's encoder
    subspace to PLS-SVD's (= MMCL's) and CCA's, bottom row the retrieval of CLIP, MMCL and CCA
    (MMCL and CCA do not depend on the temperature: flat lines without markers)."""
    fig, axes = display.subplots(2, 2, height=7.0, sharey="row", sharex=True)
    for j, ratio in enumerate(grid["ratio"]):
        for key, m, name in (("to_pls", "mmcl", "to PLS-SVD = MMCL"), ("to_cca", "cca", "to CCA")):
            _band(axes[0, j], grid["tau"], clip_res, key, m, index=np.s_[:, j], label=name)
        for m in ("clip", "mmcl", "cca"):
            flat = ({} if m == "clip" else {"marker": None, "linestyle": "--", "zorder": 3} if m == "cca"
                    else {"marker": None, "linestyle": "--", **UNDER})
            _band(axes[1, j], grid["tau"], clip_res, m + "_ret", m, index=np.s_[:, j], **flat)
        axes[0, j].set_title("isotropic noise" if ratio == 1 else f"3 loud coordinates,\nratio {ratio:g}")
        axes[1, j].set_xlabel(r"temperature $\tau$")
        display.log_ticks(axes[1, j], "x", values=grid["tau"])
    axes[0, 0].set(ylabel="sin-theta of CLIP's\nencoder subspace", ylim=(0, None))
    axes[1, 0].set(ylabel="top-1 retrieval", ylim=(0, None))
    handles = {}
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(handles.values(), handles.keys(), loc="outside upper center", ncols=2)
    return fig


def plot_units(units, scales: Sequence[float], methods: Sequence[str]):
    """Chapter 7's "Where it breaks" figure: retrieval against the scale of the first coordinate of x."""
    fig, ax = display.subplots(1, 1, height=4.4)
    for m in methods:
        _band(ax, scales, units, m + "_ret", m, **(UNDER if m == "mmcl" else {"zorder": 3}))
    display.log_ticks(ax, "x", values=scales)
    ax.set(xlabel="scale s of the first coordinate of x", ylabel="top-1 retrieval", ylim=(0, None))
    fig.legend(loc="outside lower center", ncols=2)
    return fig


def demo_figure(demo, grid: Mapping[str, Sequence], eta_grid: Sequence[float], methods: Sequence[str],
                ratio: float, d: int, n: int):
    """One frame of Chapter 7's interactive figure: retrieval against eta, one curve per method.
    MMCL is drawn wide underneath: PLS-SVD (scikit-learn) coincides with it, a dotted line on top."""
    idx = tuple(list(grid[k]).index(v) for k, v in (("ratio", ratio), ("d", d), ("n", n)))
    fig, ax = display.subplots(1, 1, height=4.6)
    for m in methods:
        ax.plot(eta_grid, demo.mean(m + "_ret")[idx], **look(m, **(UNDER if m == "mmcl" else {"zorder": 3})))
    display.log_ticks(ax, "x", values=eta_grid)
    ax.set(xlabel=r"fraction of correct pairs $\eta$", ylabel="top-1 retrieval (200 pairs)",
           ylim=(0, 1), title=f"loud/quiet ratio {ratio:g}, d = {d}, n = {n}")
    fig.legend(loc="outside lower center", ncols=2)
    return fig


# ---------------------------------------------------------------- the chapter's experiments in one call


def four_sweeps(grids: Mapping[str, Sequence], seeds: int, *, shrinkage: float = 0.1,
                ransac_trials: int = 20):
    """Chapter 7's four sweeps from the base setting (d = 20, n = 1000, eta = 1, noise ratio 10):
    ``"ratio"`` (3 loud coordinates), ``"d"`` (at n = 100), ``"eta"`` (with RANSAC CCA) and ``"n"``.

    Returns ``{key: SweepResult}`` over ``grids[key]`` with ``seeds`` seeds (common random numbers),
    for MMCL, CCA and ridge CCA with ``shrinkage``.
    """
    three = ("mmcl", "cca", "ridge_cca")
    runs = {"ratio": lambda rng, ratio: compare(rng, ratio=ratio, loud=3, methods=three,
                                                shrinkage=shrinkage),
            "d": lambda rng, d: compare(rng, n=100, d=d, ratio=10.0, methods=three,
                                        shrinkage=shrinkage),
            "eta": lambda rng, eta: compare(rng, eta=eta, ratio=10.0,
                                            methods=three + ("ransac_cca",), shrinkage=shrinkage,
                                            ransac_trials=ransac_trials),
            "n": lambda rng, n: compare(rng, n=n, ratio=10.0, methods=three, shrinkage=shrinkage)}
    return {k: sweep.sweep(runs[k], {k: grids[k]}, seeds, common_random_numbers=True) for k in runs}


def exact_covariance_sample(C, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows whose centred sample covariance (divided by ``n``) is exactly ``C``.

    A small worked example (Chapter 7) can then be checked against the libraries with no sampling
    error: the directions the methods find on these rows are the population ones.
    """
    C = np.asarray(C, dtype=float)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or not np.allclose(C, C.T):
        raise ValueError(f"C must be a symmetric square matrix, got shape {C.shape}")
    n = check.integer(n, "n", low=C.shape[0] + 1)
    Z = rng.standard_normal((n, C.shape[0]))
    Z -= Z.mean(axis=0)
    Z = Z @ np.linalg.inv(np.linalg.cholesky(Z.T @ Z / n)).T       # sample covariance I exactly
    return Z @ np.linalg.cholesky(C).T
