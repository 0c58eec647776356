"""MMCL's classical relatives: PLS-SVD, CCA, ridge CCA and a robust CCA (Chapter 7).

Thin wrappers around the reference implementations in scikit-learn
(:class:`sklearn.cross_decomposition.PLSSVD`, :class:`sklearn.cross_decomposition.CCA`) and cca-zoo
(``cca_zoo.linear.PLS``, ``CCA``, ``RidgeCCA``, ``RANSACCCA``). No estimator is re-implemented
here: each function validates its inputs, calls the library and returns a :class:`LinearFit`, which
holds the two weight matrices (the linear encoders ``G1 = W1^T``, ``G2 = W2^T``) in the form the
rest of :mod:`mmcl_lib` uses, and the loadings ``Sigma_xx W1``, ``Sigma_yy W2`` (the covariance of
each modality with its embedding).

All four maximise the same cross-covariance ``w1^T Sigma_xy w2``; they differ in the constraint, that
is, in how each modality is whitened first (Chapter 7, "Same objective, different whitening"):

- PLS-SVD (Tucker's inter-battery factor analysis): ``||w1|| = ||w2|| = 1``, no whitening. Its
  subspaces are the top-r singular subspaces of the centred cross-covariance, the closed-form MMCL
  minimiser of Lemma 2.1 (Chapter 2).
- CCA (Hotelling): ``w_k^T Sigma_kk w_k = 1``, full whitening.
- ridge CCA (Vinod's canonical ridge): ``w_k^T ((1 - c) Sigma_kk + c I) w_k = 1``, partial
  whitening with shrinkage ``c`` in [0, 1] (0 is CCA, 1 is PLS).
- RANSAC CCA (cca-zoo): ridge CCA refitted on the consensus set of random subsets, meant for pairs
  whose cross-modal relation is wrong.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from cca_zoo.linear import CCA as ZooCCA
from cca_zoo.linear import PLS as ZooPLS
from cca_zoo.linear import RANSACCCA, RidgeCCA
from sklearn.cross_decomposition import CCA as SklearnCCA
from sklearn.cross_decomposition import PLSSVD

from . import _validation as check
from .metrics import orthonormal_basis

LIBRARIES = ("scikit-learn", "cca-zoo")
METHODS = ("pls", "cca", "ridge_cca", "ransac_cca")


@dataclass(frozen=True)
class LinearFit:
    """Weights and loadings of a two-view linear method fitted by a library (Chapter 7).

    ``W1`` (d1 x r) and ``W2`` (d2 x r) are the weights: the embedding of ``x`` is ``W1^T x``, so the
    encoders in the book's convention are ``G1 = W1^T`` and ``G2 = W2^T``. ``L1 = S_xx W1`` and
    ``L2 = S_yy W2`` are the loadings, with ``S_xx``, ``S_yy`` the centred sample covariances of the
    training data. ``method`` and ``library`` say what computed them. ``inliers`` is the boolean
    mask of the training pairs the final fit used (RANSAC CCA's consensus set; None: all of them).

    Paper: not in the paper (the classical methods are the book's comparison).
    Book: ``def-classical-relatives`` (Chapter 7).
    """

    W1: np.ndarray
    W2: np.ndarray
    L1: np.ndarray
    L2: np.ndarray
    method: str
    library: str
    inliers: np.ndarray | None = None

    @property
    def encoders(self) -> tuple[np.ndarray, np.ndarray]:
        """``(G1, G2) = (W1^T, W2^T)``: the fit as encoders for :mod:`mmcl_lib.metrics`."""
        return self.W1.T, self.W2.T

    def subspaces(self, which: str = "weights") -> tuple[np.ndarray, np.ndarray]:
        """Orthonormal bases (d1 x r, d2 x r) of the weights' or the loadings' column spaces.

        The weights' column space is the row space of the encoder, the subspace the paper's
        sin-theta distance measures (Chapter 3); for CCA the loadings estimate the features instead
        (Chapter 7, "Which subspace does CCA estimate?").
        """
        if which == "weights":
            return orthonormal_basis(self.W1), orthonormal_basis(self.W2)
        if which == "loadings":
            return orthonormal_basis(self.L1), orthonormal_basis(self.L2)
        raise ValueError(f"which must be 'weights' or 'loadings', got {which!r}")


def _inputs(X, Y, r) -> tuple[np.ndarray, np.ndarray, int]:
    X, Y = check.paired(X, Y, min_samples=3)
    r = check.rank(r, X.shape[1], Y.shape[1], X.shape[0] - 1)
    return X, Y, r


def _library(library: str) -> str:
    return check.one_of(library, LIBRARIES, "library")


def _finish(X, Y, W1, W2, r: int, method: str, library: str, inliers=None) -> LinearFit:
    W1, W2 = np.asarray(W1, dtype=float), np.asarray(W2, dtype=float)
    if W1.shape[1] < r or W2.shape[1] < r:
        raise ValueError(f"{library} returned fewer than r={r} components for {method}: "
                         "the data have too few non-degenerate directions")
    W1, W2 = W1[:, :r], W2[:, :r]
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    n = X.shape[0]
    L1 = Xc.T @ (Xc @ W1) / n              # never forms the d1 x d1 covariance
    L2 = Yc.T @ (Yc @ W2) / n
    return LinearFit(W1, W2, L1, L2, method, library, inliers)


def pls_svd(X, Y, r: int, *, library: str = "scikit-learn") -> LinearFit:
    """PLS-SVD: the top-r singular subspaces of the centred cross-covariance (Chapter 7).

    The SVD of the cross-covariance is Tucker's inter-battery factor analysis (1958); "PLS-SVD" is
    its name in the partial-least-squares literature (Wold's PLS computes related components one
    at a time by NIPALS iterations).

    Calls scikit-learn's ``PLSSVD(scale=False)`` or cca-zoo's ``PLS``. Its subspaces are those of
    the closed-form MMCL minimiser of Lemma 2.1 (:func:`mmcl_lib.spectral.closed_form_mmcl`):
    linear MMCL *is* PLS-SVD, up to the scaling of the encoders.

    Paper: not in the paper (the paper's closed-form linear MMCL minimiser, Lemma 2.1, is this estimator; the paper does not name it PLS).
    Book: ``prop-mmcl-is-pls`` (Chapter 7).
    """
    X, Y, r = _inputs(X, Y, r)
    if _library(library) == "scikit-learn":
        model = PLSSVD(n_components=r, scale=False).fit(X, Y)
        return _finish(X, Y, model.x_weights_, model.y_weights_, r, "pls", library)
    model = ZooPLS(n_components=r).fit([X, Y])
    return _finish(X, Y, *model.weights_, r, "pls", library)


def cca(X, Y, r: int, *, library: str = "cca-zoo", max_iter: int = 5000) -> LinearFit:
    """Canonical correlation analysis (Hotelling 1936): whiten each modality, then PLS (Chapter 7).

    cca-zoo's ``CCA`` (default) solves it exactly by an SVD of the whitened cross-covariance;
    scikit-learn's ``CCA(scale=False)`` runs NIPALS with deflation (``max_iter`` per component).
    CCA breaks well before a covariance becomes singular: with centred data, as soon as
    ``d1 + d2 >= n`` the column spaces of the two centred data matrices meet inside the
    ``(n - 1)``-dimensional space of centred vectors and the top sample canonical correlation is
    exactly 1 whatever the data, and already for ``d1 + d2`` somewhat below ``n`` it is close to 1
    (spurious correlations; Chapter 7). Use :func:`ridge_cca` then.

    Paper: not in the paper (Hotelling's CCA, compared with MMCL in the book).
    Book: ``def-classical-relatives`` (Chapter 7).
    """
    X, Y, r = _inputs(X, Y, r)
    max_iter = check.integer(max_iter, "max_iter")
    if _library(library) == "scikit-learn":
        model = SklearnCCA(n_components=r, scale=False, max_iter=max_iter, tol=1e-10).fit(X, Y)
        return _finish(X, Y, model.x_rotations_, model.y_rotations_, r, "cca", library)
    model = ZooCCA(n_components=r).fit([X, Y])
    return _finish(X, Y, *model.weights_, r, "cca", library)


def ridge_cca(X, Y, r: int, *, shrinkage: float = 0.1) -> LinearFit:
    """Ridge CCA (Vinod's canonical ridge) by cca-zoo's ``RidgeCCA`` (Chapter 7).

    Each covariance is replaced by ``(1 - shrinkage) S_kk + shrinkage I`` before whitening:
    ``shrinkage = 0`` is CCA, ``shrinkage = 1`` is PLS-SVD (MMCL).

    Paper: not in the paper (Vinod's canonical ridge). Book: ``def-classical-relatives`` (Chapter 7).
    """
    X, Y, r = _inputs(X, Y, r)
    c = check.fraction(shrinkage, "shrinkage", low_open=False)
    model = RidgeCCA(n_components=r, shrinkage=c).fit([X, Y])
    return _finish(X, Y, *model.weights_, r, "ridge_cca", "cca-zoo")


def ransac_cca(X, Y, r: int, rng: np.random.Generator, *, shrinkage: float = 0.1,
               min_samples: float = 0.25, max_trials: int = 50) -> LinearFit:
    """Robust CCA by random sample consensus: cca-zoo's ``RANSACCCA`` (Chapter 7).

    Fits ridge CCA on random subsets (a fraction ``min_samples`` of the rows), keeps the subset
    whose fit makes the most pairs agree, and refits on the pairs that agree with it. cca-zoo
    designed it for pairs whose cross-modal relation is wrong, the wrong pairs of Chapter 4.
    The subsets are drawn from a seed taken from ``rng``; the fit's ``inliers`` is the consensus set.

    Paper: not in the paper (a robust CCA of cca-zoo, compared with MMCL under wrong pairs).
    Book: ``sec-where-each-wins`` (Chapter 7).
    """
    X, Y, r = _inputs(X, Y, r)
    rng = check.generator(rng)
    c = check.fraction(shrinkage, "shrinkage", low_open=False)
    min_samples = check.fraction(min_samples, "min_samples")
    max_trials = check.integer(max_trials, "max_trials")
    seed = int(rng.integers(2**31 - 1))
    model = RANSACCCA(n_components=r, shrinkage=c, min_samples=min_samples, max_trials=max_trials,
                      random_state=seed).fit([X, Y])
    return _finish(X, Y, *model.weights_, r, "ransac_cca", "cca-zoo", np.asarray(model.inlier_mask_, dtype=bool))


def fit(method: str, X, Y, r: int, *, rng: np.random.Generator | None = None, **options) -> LinearFit:
    """Fit one of :data:`METHODS` (``"pls"``, ``"cca"``, ``"ridge_cca"``, ``"ransac_cca"``) (Chapter 7).

    ``options`` go to the method's function; ``rng`` is required by ``"ransac_cca"`` only.

    Paper: not in the paper (dispatch to the classical methods). Book: ``sec-where-each-wins`` (Chapter 7).
    """
    if method == "pls":
        return pls_svd(X, Y, r, **options)
    if method == "cca":
        return cca(X, Y, r, **options)
    if method == "ridge_cca":
        return ridge_cca(X, Y, r, **options)
    if method == "ransac_cca":
        if rng is None:
            raise ValueError("rng must be a numpy.random.Generator for method 'ransac_cca'")
        return ransac_cca(X, Y, r, rng, **options)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def canonical_correlations(X, Y, fit_result: LinearFit) -> np.ndarray:
    """Correlations of the paired embeddings ``W1[:, k]^T x`` and ``W2[:, k]^T y``, k = 1..r (Chapter 7).

    For CCA these are the canonical correlations. For PLS-SVD, which maximises covariance, not
    correlation, the first is at most the top canonical correlation (the largest correlation of any
    two directions); later ones are not bounded by their canonical counterparts: a strongly
    correlated pair of coordinates with small variances can come second in PLS-SVD and first in CCA.

    Paper: not in the paper (canonical correlations of the classical methods).
    Book: ``prop-mmcl-is-pls`` (Chapter 7).
    """
    X, Y = check.paired(X, Y, min_samples=3)
    if not isinstance(fit_result, LinearFit):
        raise ValueError(f"fit_result must be a LinearFit, got {type(fit_result).__name__}")
    G1, G2 = check.encoders(*fit_result.encoders, X.shape[1], Y.shape[1])
    A, B = X @ G1.T, Y @ G2.T
    A, B = A - A.mean(axis=0), B - B.mean(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.sum(A * B, axis=0) / np.sqrt(np.sum(A * A, axis=0) * np.sum(B * B, axis=0))
