"""Unimodal baselines for feature recovery, and the comparison with MMCL (Chapter 4).

Each estimator sees one modality ``X`` (n x d) and returns an encoder ``G`` (r x d) with orthonormal
rows, whose row space is the estimated feature subspace (compare ``G.T`` with ``U`` via
:func:`mmcl_lib.metrics.sin_theta`).

- PCA: top-r eigenvectors of the centred sample covariance. Its population target
  ``U Sigma_z U^T + diag(s^2)`` is biased by heteroskedastic noise.
- Linear unimodal contrastive learning with random masking (Ji et al.): each sample gives two views
  that keep complementary random halves of the coordinates, ``m * x`` and ``(1 - m) * x``; the
  estimator is the top-r eigenspace of the symmetrised cross-covariance of the two views. Given
  the data, its expectation over the masks is one quarter of the sample covariance with its
  diagonal removed: the noise (diagonal) is gone, and so is the diagonal of the signal.
"""

from __future__ import annotations

import numpy as np

from . import _validation as check
from .data import LatentFactorModel, PairedSample
from .spectral import closed_form_mmcl
from .metrics import orthonormal_basis, sin_theta
from .spectral import top_singular_subspaces


def _top_eigenspace(M: np.ndarray, r: int) -> np.ndarray:
    """Encoder (r x d) whose rows are the eigenvectors of the symmetric ``M`` with the r largest eigenvalues."""
    _, vectors = np.linalg.eigh(M)          # ascending eigenvalues
    return vectors[:, ::-1][:, :r].T


def remove_diagonal(M) -> np.ndarray:
    """``M - diag(diag(M))``: the population target of random-masking contrastive learning.

    Paper: Section 3 comparison with unimodal contrastive learning (Ji et al.). Book: ``prop-population-targets`` (Chapter 4).
    """
    M = check.as_matrix(M, "M")
    return M - np.diag(np.diag(M))


def pca(X, r: int) -> np.ndarray:
    """PCA encoder (r x d): the top-r eigenvectors of the centred sample covariance of ``X``.

    Paper: Section 3 (the PCA baseline). Book: ``def-unimodal-baselines`` (Chapter 4).
    """
    X = check.as_matrix(X, "X", min_rows=2)
    r = check.rank(r, X.shape[1])
    Xc = X - X.mean(axis=0)
    return _top_eigenspace(Xc.T @ Xc / X.shape[0], r)


def random_masks(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """n independent masks (n x d booleans), each coordinate kept with probability 1/2.

    Paper: Section 3 (random-masking augmentation of Ji et al.). Book: ``def-unimodal-baselines`` (Chapter 4).
    """
    n = check.integer(n, "n")
    d = check.integer(d, "d")
    rng = check.generator(rng)
    return rng.random((n, d)) < 0.5


def masked_view_cross_covariance(X, masks) -> np.ndarray:
    """Symmetrised cross-covariance of the views ``m_i * x_i`` and ``(1 - m_i) * x_i`` (d x d).

    ``(A + A^T) / 2`` with ``A = (1/n) sum_i (m_i * x_i)((1 - m_i) * x_i)^T`` for centred ``x_i``.
    Entry (k, l) averages ``m_ik (1 - m_il) x_ik x_il``; the diagonal is identically zero and, for
    masks that keep each coordinate with probability 1/2 independently, the off-diagonal has mean
    ``x_ik x_il / 4``: the expectation over the masks is ``remove_diagonal(X^T X / n) / 4``.

    Paper: Section 3 (unimodal contrastive learning, Ji et al.). Book: ``def-unimodal-baselines`` (Chapter 4).
    """
    X = check.as_matrix(X, "X", min_rows=2)
    masks = np.asarray(masks)
    if masks.shape != X.shape or masks.dtype != bool:
        raise ValueError(f"masks must be a boolean array of shape {X.shape}, got {masks.dtype} {masks.shape}")
    Xc = X - X.mean(axis=0)
    A = (Xc * masks).T @ (Xc * ~masks) / X.shape[0]
    return (A + A.T) / 2


def unimodal_cl(X, r: int, rng: np.random.Generator) -> np.ndarray:
    """Linear unimodal contrastive learning with random masking (Ji et al.): encoder (r x d).

    Draws one mask per sample and returns the top-r eigenspace of
    :func:`masked_view_cross_covariance`, the minimiser of the linear contrastive loss on the two
    views (the SVD argument of Lemma 2.1 applied to a symmetric matrix).

    Paper: Section 3 (unimodal contrastive learning, Ji et al.). Book: ``def-unimodal-baselines`` (Chapter 4).
    """
    X = check.as_matrix(X, "X", min_rows=2)
    r = check.rank(r, X.shape[1])
    return _top_eigenspace(masked_view_cross_covariance(X, random_masks(*X.shape, rng)), r)


def population_errors(model: LatentFactorModel, eta: float = 1.0) -> dict[str, float]:
    """Sin-theta errors (modality 1) of the population targets: what each method converges to as n grows.

    ``mmcl``: top-r left singular subspace of ``E[x y^T]``; ``unimodal_cl``: top-r eigenspace of
    ``E[x x^T]`` with its diagonal removed; ``pca``: top-r eigenspace of ``E[x x^T]``.

    Paper: Section 3 (the comparison of MMCL with unimodal CL and PCA). Book: ``prop-population-targets`` (Chapter 4).
    """
    if not isinstance(model, LatentFactorModel):
        raise ValueError(f"model must be a LatentFactorModel, got {type(model).__name__}")
    cov = model.population_covariance(1)
    r = model.r
    mmcl_basis, _, _ = top_singular_subspaces(model.population_cross_covariance(eta), r)
    return {
        "mmcl": sin_theta(mmcl_basis, model.U1),
        "unimodal_cl": sin_theta(_top_eigenspace(remove_diagonal(cov), r).T, model.U1),
        "pca": sin_theta(_top_eigenspace(cov, r).T, model.U1),
    }


def mmcl_first_order_error(model: LatentFactorModel, n: int, eta: float = 1.0) -> float:
    """First-order root-mean-square sin-theta error of closed-form MMCL on modality 1 (Chapter 3).

    To first order in the perturbation ``E = S_hat - S``, ``sin Theta ~ (I - U1 U1^T) S_hat V Sigma^{-1}``;
    the n summands are independent with mean zero, which gives

        E ||sin Theta||_F^2 ~ tr((I - U1 U1^T) Sigma_xi) * tr(Sigma_z^{-2} (Sigma_z + U2^T Sigma_xi~ U2)) / (eta^2 n).

    For ``Sigma_z = I`` and isotropic noises: ``r (d1 - r) s1^2 (1 + s2^2) / (eta^2 n)``. Only the
    traces of the noise covariances enter (no bias from heteroskedastic noise). Valid when the error
    is small and the two noises are independent (``noise_corr = 0``).

    Paper: not in the paper (derived here, next to Theorem 3.1). Book: ``prop-first-order-error`` (Chapter 3).
    """
    if not isinstance(model, LatentFactorModel):
        raise ValueError(f"model must be a LatentFactorModel, got {type(model).__name__}")
    n = check.integer(n, "n", low=2)
    eta = check.fraction(eta, "eta")
    if np.any(model.noise_corr != 0):
        raise ValueError("the first-order error assumes independent noises (noise_corr = 0)")
    var1, var2 = model.noise_std1**2, model.noise_std2**2
    residual_noise = var1.sum() - np.einsum("kj,k,kj->", model.U1, var1, model.U1)
    inv = np.linalg.inv(model.latent_cov)
    partner = model.latent_cov + (model.U2.T * var2) @ model.U2
    return float(np.sqrt(residual_noise * np.trace(inv @ inv @ partner) / (eta**2 * n)))


def recovery_errors(model: LatentFactorModel, sample: PairedSample, rng: np.random.Generator
                    ) -> dict[str, float]:
    """Sin-theta errors (modality 1) of MMCL, unimodal CL and PCA fitted on one paired sample.

    MMCL is :func:`mmcl_lib.spectral.closed_form_mmcl` on the pairs; the unimodal methods use the
    x's only (their pairing is irrelevant to them); ``rng`` draws the masks of unimodal CL.

    Paper: Section 3 (MMCL vs unimodal CL vs PCA). Book: ``sec-crossover`` (Chapter 4).
    """
    if not isinstance(model, LatentFactorModel):
        raise ValueError(f"model must be a LatentFactorModel, got {type(model).__name__}")
    G1, _ = closed_form_mmcl(sample.X, sample.Y, model.r)
    return {
        "mmcl": sin_theta(orthonormal_basis(G1.T), model.U1),
        "unimodal_cl": sin_theta(unimodal_cl(sample.X, model.r, rng).T, model.U1),
        "pca": sin_theta(pca(sample.X, model.r).T, model.U1),
    }
