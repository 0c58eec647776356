"""Bad input raises a ValueError that names the argument, never a NaN or a deep NumPy error."""

import numpy as np
import pytest

from mmcl_lib import losses, spectral

rng = np.random.default_rng(0)
X, Y = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
G1, G2 = rng.standard_normal((2, 4)), rng.standard_normal((2, 3))
LOSS = losses.clip(1.0)


def with_nan(A):
    A = A.copy()
    A[0, 0] = np.nan
    return A


@pytest.mark.parametrize("args, match", [
    ((G1, G2, X, Y[:5]), "same number of samples"),
    ((G1, G2, X[:, :3], Y), "G1 must have 3 columns"),
    ((G1, G2[:1], X, Y), "same number of rows r"),
    ((G1, G2, X[0], Y[0]), "X must be a 2-D array"),
    ((G1, G2, with_nan(X), Y), "X contains NaN"),
    ((G1, G2, X, np.full_like(Y, np.inf)), "Y contains NaN or inf"),
    ((with_nan(G1), G2, X, Y), "G1 contains NaN"),
    ((G1, G2, X[:1], Y[:1]), "at least 2 samples"),
])
def test_loss_methods_reject_bad_arrays(args, match):
    for method in (LOSS.value, LOSS.grad, LOSS.weights, LOSS.similarities):
        with pytest.raises(ValueError, match=match):
            method(*args)


@pytest.mark.parametrize("tau", [0, -1.0, np.nan, np.inf, "hot"])
def test_temperature_must_be_positive(tau):
    for factory in (losses.clip, losses.decoupled_infonce):
        with pytest.raises(ValueError, match="tau"):
            factory(tau)


@pytest.mark.parametrize("rho", [0, -0.5, np.nan])
def test_rho_must_be_positive(rho):
    with pytest.raises(ValueError, match="rho"):
        losses.clip(1.0, rho=rho)
    with pytest.raises(ValueError, match="rho"):
        spectral.svd_minimizer(np.eye(3), 1, rho)


def test_unknown_similarity_and_zero_embeddings():
    with pytest.raises(ValueError, match="similarity"):
        losses.linear(similarity="euclid")
    with pytest.raises(ValueError, match="zero embedding"):
        losses.clip(1.0, similarity="cosine").value(np.zeros_like(G1), G2, X, Y)


def test_general_family_checks_its_ingredients():
    with pytest.raises(ValueError, match="phi"):
        losses.general(3.0, np.exp, dphi=np.exp, dpsi=np.exp)
    with pytest.raises(ValueError, match="eps"):
        losses.general(np.log, np.exp, dphi=lambda a: 1 / a, dpsi=np.exp, eps=-1)
    # phi = log with eps = 0 and psi that can vanish: the loss is -inf, reported instead of returned
    bad = losses.general(np.log, lambda x: np.zeros_like(x), dphi=lambda a: 1 / a,
                         dpsi=lambda x: np.zeros_like(x))
    with pytest.raises(ValueError, match="not finite"):
        bad.value(G1, G2, X, Y)


def test_beta_must_be_square_and_nonnegative():
    with pytest.raises(ValueError, match="beta must have 6 rows"):
        losses.contrastive_cross_covariance(X, Y, np.ones((5, 6)))
    with pytest.raises(ValueError, match="non-negative"):
        losses.contrastive_cross_covariance(X, Y, -np.ones((6, 6)))
