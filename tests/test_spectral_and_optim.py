"""Lemma 2.1 (the SVD minimiser of the regularised linear loss) and gradient descent reaching it."""

import numpy as np
import pytest

from mmcl_lib import losses, solvers, spectral


def data(seed=0, n=40, d1=6, d2=5):
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


def test_gradient_descent_on_the_linear_loss_reaches_the_svd_minimum():
    X, Y = data()
    rho, r = 1.0, 2
    loss = losses.linear(rho=rho)
    rng = np.random.default_rng(4)
    G1, G2 = 0.1 * rng.standard_normal((r, 6)), 0.1 * rng.standard_normal((r, 5))
    S = losses.contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))   # constant for this loss
    fit = solvers.gradient_descent(loss, G1, G2, X, Y, tol=1e-9, max_iter=20000)
    assert fit.converged
    assert fit.history.loss[-1] == pytest.approx(spectral.linear_loss_minimum(S, r, rho), rel=1e-9)
    values = np.array(fit.history.loss)
    assert np.all(np.diff(values) <= 1e-12 * np.abs(values[1:]))    # never uphill beyond rounding
    U, s, Vt = np.linalg.svd(S)
    np.testing.assert_allclose(fit.G1.T @ fit.G2, (U[:, :r] * s[:r]) @ Vt[:r] / rho, atol=1e-7)


def test_gradient_descent_stops_at_max_iter_and_records_iterates():
    X, Y = data(seed=5)
    rng = np.random.default_rng(6)
    G1, G2 = rng.standard_normal((2, 6)), rng.standard_normal((2, 5))
    fit = solvers.gradient_descent(losses.clip(1.0, rho=0.5), G1, G2, X, Y, max_iter=7, tol=1e-14,
                                 record_every=3)
    assert not fit.converged and fit.n_iter == 7
    assert len(fit.history.loss) == 8
    assert [t for t, *_ in fit.history.iterates] == [0, 3, 6]


def test_closed_form_mmcl_recovers_planted_subspaces_without_noise():
    from mmcl_lib import data, metrics, spectral
    rng = np.random.default_rng(7)
    model = data.LatentFactorModel.random(9, 7, 3, rng, noise_std1=0.0)
    s = model.sample(50, rng)
    G1, G2 = spectral.closed_form_mmcl(s.X, s.Y, 3, rho=2.0)
    assert metrics.sin_theta(metrics.orthonormal_basis(G1.T), model.U1) < 1e-10
    assert metrics.sin_theta(metrics.orthonormal_basis(G2.T), model.U2) < 1e-10
    # it is Lemma 2.1's minimiser for the linear loss, whose S is (n-1) x centred cross-covariance
    S = spectral.centred_cross_covariance(s.X, s.Y)
    np.testing.assert_allclose(S * 50 / 49, np.cov(s.X.T, s.Y.T)[:9, 9:], atol=1e-12)
