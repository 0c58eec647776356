"""Driver of Chapter 7: MMCL, PLS-SVD, CCA, ridge CCA, RANSAC CCA and CLIP on one sample.

:func:`compare` draws a latent-factor model (Chapter 3) and a paired sample, fits every method and
returns, per method, the sin-theta error of its encoder subspace and (for the CCA family) of its
loadings, and top-1 retrieval on fresh test pairs.
:func:`digits_compare` does the same on the UCI multi-view digits (real data).
The estimators themselves live in :mod:`mmcl_lib.classical`, :mod:`mmcl_lib.spectral` and
:mod:`mmcl_lib.solvers`; this module only runs them.
"""

from __future__ import annotations

import numpy as np

from .. import classical, data, losses, metrics, real_data, solvers
from .. import _validation as check
from ..spectral import closed_form_mmcl

# method key -> (label, colour, library that computed it)
STYLE = {
    "mmcl": ("MMCL (closed form)", "C0", "mmcl_lib"),
    "pls": ("PLS-SVD", "C9", "scikit-learn"),
    "cca": ("CCA", "C3", "cca-zoo"),
    "ridge_cca": ("ridge CCA", "C1", "cca-zoo"),
    "ransac_cca": ("RANSAC CCA", "C4", "cca-zoo"),
    "clip": ("CLIP (trained)", "C2", "mmcl_lib"),
}


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
    retrieval among ``n_test`` fresh correctly matched pairs). ``ransac_trials`` caps RANSAC CCA's
    random subsets (cca-zoo's ``max_trials``). ``x_scale`` multiplies the first coordinate of every
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
