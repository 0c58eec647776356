"""Lemma 2.1 and what follows from it (Chapter 2): the SVD minimiser of the linear loss, the closed-form
MMCL estimator (the SVD of the centred cross-covariance), and how far encoders are from the SVD of
their own contrastive cross-covariance."""

from __future__ import annotations

import numpy as np

from . import _validation as check
from .losses import contrastive_cross_covariance
from .metrics import orthonormal_basis, sin_theta


def top_singular_subspaces(S, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``r`` singular triplets of ``S``: ``(U_r (d1 x r), sigma_r (r,), V_r (d2 x r))``.

    Paper: the singular value decomposition behind Lemma 2.1. Book: ``lem-svd`` (Chapter 2).
    """
    S = check.as_matrix(S, "S")
    r = check.rank(r, *S.shape)
    U, sigma, Vt = np.linalg.svd(S, full_matrices=False)
    return U[:, :r], sigma[:r], Vt[:r].T


def svd_minimizer(S, r: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``-tr(G1 S G2^T) + rho/2 ||G1^T G2||_F^2`` over G1 (r x d1), G2 (r x d2).

    Lemma 2.1: the minimisers have ``G1^T G2 = SVD_r(S) / rho`` (the best rank-r approximation,
    Eckart-Young) and minimum value ``-sum_{k<=r} sigma_k^2 / (2 rho)``. We return the balanced
    factorisation ``G1 = (Sigma_r/rho)^{1/2} U_r^T``, ``G2 = (Sigma_r/rho)^{1/2} V_r^T``; any
    ``(A G1, A^{-T} G2)`` with invertible ``A`` is a minimiser too.

    Paper: Lemma 2.1. Book: ``lem-svd`` (Chapter 2).
    """
    rho = check.positive(rho, "rho")
    U, sigma, V = top_singular_subspaces(S, r)
    scale = np.sqrt(sigma / rho)[:, None]
    return scale * U.T, scale * V.T


def linear_loss_minimum(S, r: int, rho: float) -> float:
    """The minimum value ``-sum_{k<=r} sigma_k(S)^2 / (2 rho)`` of the regularised linear loss.

    Paper: Lemma 2.1 (its minimum value). Book: ``lem-svd`` (Chapter 2).
    """
    rho = check.positive(rho, "rho")
    _, sigma, _ = top_singular_subspaces(S, r)
    return float(-np.sum(sigma**2) / (2 * rho))


def svd_alignment(loss, G1, G2, X, Y) -> tuple[float, float, np.ndarray]:
    """How far the encoders are from the SVD of their own contrastive cross-covariance (Chapter 2).

    Computes ``S = S(beta)`` with the weights at ``(G1, G2)`` and returns
    ``(sin_theta_1, sin_theta_2, sigma)``: the sin-theta distances between the row space of ``G1``
    (``G2``) and the top-r left (right) singular subspace of ``S``, and all singular values of ``S``.
    Both distances are 0 at a stationary point of a regularised loss (a fixed point of the spectral
    solver); along gradient descent they show how close each step is to "an SVD".

    Paper: Section 2, each gradient step as an SVD. Book: ``fig-ch2-svd`` (Chapter 2).
    """
    X, Y = check.paired(X, Y)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    S = contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))
    r = check.rank(G1.shape[0], *S.shape, name="the number of rows of G1")
    U, sigma, Vt = np.linalg.svd(S, full_matrices=False)          # one SVD: subspaces and spectrum
    return (sin_theta(orthonormal_basis(G1.T), U[:, :r]), sin_theta(orthonormal_basis(G2.T), Vt[:r].T),
            sigma)


def centred_cross_covariance(X, Y) -> np.ndarray:
    """``(1/n) sum_i (x_i - xbar)(y_i - ybar)^T`` (d1 x d2).

    Paper: Section 2, S(beta) at zero similarity. Book: ``ch-loss-to-svd`` (Chapter 2), ``lem-population-cross-covariance`` (Chapter 3).
    """
    X, Y = check.paired(X, Y)
    return (X - X.mean(axis=0)).T @ (Y - Y.mean(axis=0)) / X.shape[0]


def closed_form_mmcl(X, Y, r: int, *, rho: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Encoders ``(G1, G2)`` minimising the regularised linear loss built from the pairs ``(X, Y)``.

    ``svd_minimizer`` of the centred cross-covariance: the rows of ``G1`` (``G2``) span its top-r
    left (right) singular subspace, scaled by the square roots of the singular values over ``rho``.

    Paper: Lemma 2.1 applied to the cross-covariance, the estimator of Theorem 3.1. Book: ``lem-svd`` (Chapter 2), ``thm-feature-recovery`` (Chapter 3).
    """
    X, Y = check.paired(X, Y)
    r = check.rank(r, X.shape[1], Y.shape[1])
    return svd_minimizer(centred_cross_covariance(X, Y), r, rho)
