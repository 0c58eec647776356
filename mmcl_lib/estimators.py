"""Closed-form MMCL encoders: the SVD of the centred sample cross-covariance (Chapters 2-5).

At zero similarity the CLIP weights turn S(beta) into the centred cross-covariance (divided by tau),
and for the linear loss S(beta) is (n-1) times it; by Lemma 2.1 the regularised linear loss is
minimised by its rank-r SVD. This is the estimator the feature-recovery theory analyses.
"""

from __future__ import annotations

import numpy as np

from . import _validation as check
from .spectral import svd_minimizer


def centred_cross_covariance(X, Y) -> np.ndarray:
    """``(1/n) sum_i (x_i - xbar)(y_i - ybar)^T`` (d1 x d2)."""
    X, Y = check.paired(X, Y)
    return (X - X.mean(axis=0)).T @ (Y - Y.mean(axis=0)) / X.shape[0]


def closed_form_mmcl(X, Y, r: int, *, rho: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Encoders ``(G1, G2)`` minimising the regularised linear loss built from the pairs ``(X, Y)``.

    ``svd_minimizer`` of the centred cross-covariance: the rows of ``G1`` (``G2``) span its top-r
    left (right) singular subspace, scaled by the square roots of the singular values over ``rho``.
    """
    X, Y = check.paired(X, Y)
    r = check.rank(r, X.shape[1], Y.shape[1])
    return svd_minimizer(centred_cross_covariance(X, Y), r, rho)
