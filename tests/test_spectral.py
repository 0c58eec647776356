"""Lemma 2.1 and the closed-form estimator (mmcl_lib.spectral), and the SVD alignment of Chapter 2."""

import numpy as np
import pytest

from mmcl_lib import data, losses, metrics, spectral


def random_pairs(seed=0, n=40, d1=6, d2=5):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, 2))
    X = Z @ rng.standard_normal((2, d1)) + 0.5 * rng.standard_normal((n, d1))
    Y = Z @ rng.standard_normal((2, d2)) + 0.5 * rng.standard_normal((n, d2))
    return X, Y


@pytest.mark.parametrize("rho", [0.1, 2.0])
def test_svd_minimizer_attains_the_closed_form_value(rho):
    S = np.random.default_rng(1).standard_normal((6, 5))
    r = 2
    G1, G2 = spectral.svd_minimizer(S, r, rho)
    value = -np.trace(G1 @ S @ G2.T) + rho / 2 * np.linalg.norm(G1.T @ G2) ** 2
    sigma = np.linalg.svd(S, compute_uv=False)
    assert value == pytest.approx(-np.sum(sigma[:r] ** 2) / (2 * rho), rel=1e-12)
    assert spectral.linear_loss_minimum(S, r, rho) == pytest.approx(value, rel=1e-12)
    U, s, Vt = np.linalg.svd(S)
    np.testing.assert_allclose(G1.T @ G2, (U[:, :r] * s[:r]) @ Vt[:r] / rho, atol=1e-12)


def test_svd_minimizer_beats_random_points():
    S = np.random.default_rng(2).standard_normal((6, 5))
    rho, r = 0.5, 3
    best = spectral.linear_loss_minimum(S, r, rho)
    rng = np.random.default_rng(3)
    for _ in range(200):
        G1, G2 = rng.standard_normal((r, 6)), rng.standard_normal((r, 5))
        assert -np.trace(G1 @ S @ G2.T) + rho / 2 * np.linalg.norm(G1.T @ G2) ** 2 >= best


def test_closed_form_mmcl_recovers_planted_subspaces_without_noise():
    rng = np.random.default_rng(7)
    model = data.LatentFactorModel.random(9, 7, 3, rng, noise_std1=0.0)
    s = model.sample(50, rng)
    G1, G2 = spectral.closed_form_mmcl(s.X, s.Y, 3, rho=2.0)
    assert metrics.sin_theta(metrics.orthonormal_basis(G1.T), model.U1) < 1e-10
    assert metrics.sin_theta(metrics.orthonormal_basis(G2.T), model.U2) < 1e-10
    # it is Lemma 2.1's minimiser for the linear loss, whose S is (n-1) x centred cross-covariance
    S = spectral.centred_cross_covariance(s.X, s.Y)
    np.testing.assert_allclose(S * 50 / 49, np.cov(s.X.T, s.Y.T)[:9, 9:], atol=1e-12)


def problem(seed, n=40, d1=6, d2=5, r=2):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, r))
    X = Z @ rng.standard_normal((r, d1)) + 0.5 * rng.standard_normal((n, d1))
    Y = Z @ rng.standard_normal((r, d2)) + 0.5 * rng.standard_normal((n, d2))
    G1, G2 = 0.1 * rng.standard_normal((r, d1)), 0.1 * rng.standard_normal((r, d2))
    return G1, G2, X, Y


def test_svd_alignment_is_zero_for_lemma_2_1_minimiser():
    G1, G2, X, Y = problem(8)
    loss = losses.linear(rho=1.0)
    S = losses.contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))
    s1, s2, sigma = spectral.svd_alignment(loss, *spectral.svd_minimizer(S, 2, 1.0), X, Y)
    assert s1 < 1e-10 and s2 < 1e-10
    np.testing.assert_allclose(sigma, np.linalg.svd(S, compute_uv=False), rtol=1e-12)
