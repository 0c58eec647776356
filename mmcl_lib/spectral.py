"""Spectral side of the theory: the SVD minimiser of the linear loss (Lemma 2.1, Chapter 2)."""

from __future__ import annotations

import numpy as np

from . import _validation as check


def top_singular_subspaces(S, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``r`` singular triplets of ``S``: ``(U_r (d1 x r), sigma_r (r,), V_r (d2 x r))``."""
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
    """
    rho = check.positive(rho, "rho")
    U, sigma, V = top_singular_subspaces(S, r)
    scale = np.sqrt(sigma / rho)[:, None]
    return scale * U.T, scale * V.T


def linear_loss_minimum(S, r: int, rho: float) -> float:
    """The minimum value ``-sum_{k<=r} sigma_k(S)^2 / (2 rho)`` of the regularised linear loss."""
    rho = check.positive(rho, "rho")
    _, sigma, _ = top_singular_subspaces(S, r)
    return float(-np.sum(sigma**2) / (2 * rho))
