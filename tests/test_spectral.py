"""Lemma 2.1 and the closed-form estimator (mmcl_lib.spectral), and the SVD alignment of Chapter 2."""

import numpy as np
import pytest

from mmcl_lib import data, losses, metrics, solvers, spectral


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


def test_svd_alignment_is_zero_for_lemma_2_1_minimiser(problem):
    G1, G2, X, Y = problem(8)
    loss = losses.linear(rho=1.0)
    S = losses.contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))
    s1, s2, sigma = spectral.svd_alignment(loss, *spectral.svd_minimizer(S, 2, 1.0), X, Y)
    assert s1 < 1e-10 and s2 < 1e-10
    np.testing.assert_allclose(sigma, np.linalg.svd(S, compute_uv=False), rtol=1e-12)


def small_model_pairs(seed=3, n=60, d1=8, d2=7, r=3, noise=0.5):
    rng = np.random.default_rng(seed)
    model = data.LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise)
    s = model.sample(n, rng)
    return s.X, s.Y


def triples_used(loss, G1, G2, X, Y):
    """Indices k of the singular triples of S(beta) that make up rho G1^T G2, and the residual."""
    S = losses.contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))
    U, sigma, Vt = np.linalg.svd(S, full_matrices=False)
    M = loss.rho * G1.T @ G2
    weights = np.einsum("ik,ij,kj->k", U, M, Vt)           # u_k^T M v_k
    used = np.flatnonzero(weights > 1e-6 * sigma[0])
    rebuilt = (U[:, used] * sigma[used]) @ Vt[used]
    return used, float(np.abs(M - rebuilt).max() / sigma[0])


@pytest.mark.parametrize("loss", [losses.clip(1.0, rho=0.2), losses.clip(1.0, rho=0.5),
                                  losses.decoupled_infonce(1.0, rho=0.5)], ids=str)
def test_gradient_descent_from_a_random_start_ends_at_the_svd_of_its_own_S(loss):
    # Chapter 2, "Each gradient step is an SVD": far from aligned at a random start, aligned at the end
    X, Y = small_model_pairs()
    rng = np.random.default_rng(9)
    G1, G2 = rng.standard_normal((3, 8)), rng.standard_normal((3, 7))
    start = spectral.svd_alignment(loss, G1, G2, X, Y)
    assert min(start[:2]) > 0.5
    fit = solvers.gradient_descent(loss, G1, G2, X, Y, tol=1e-9, max_iter=20000)
    assert fit.converged
    s1, s2, sigma = spectral.svd_alignment(loss, fit.G1, fit.G2, X, Y)
    assert s1 < 1e-6 and s2 < 1e-6
    used, residual = triples_used(loss, fit.G1, fit.G2, X, Y)
    assert list(used) == [0, 1, 2] and residual < 1e-7        # rho G1^T G2 = SVD_3(S(beta))


def test_a_stationary_point_can_use_other_than_the_top_r_singular_triples():
    # The limit of the fixed-point picture (Chapter 2): at a stationary point rho G1^T G2 is always
    # made of r singular triples of its own S(beta), but for a nonlinear loss not necessarily the
    # top r. Here (CLIP, tau = 0.5) every start reaches a point that uses triples 1, 2 and 4.
    X, Y = small_model_pairs()
    loss = losses.clip(0.5, rho=0.5)
    values = []
    for seed in (9, 10):
        rng = np.random.default_rng(seed)
        fit = solvers.spectral_solver(loss, rng.standard_normal((3, 8)), rng.standard_normal((3, 7)), X, Y,
                                      tol=1e-10)
        assert fit.converged
        used, residual = triples_used(loss, fit.G1, fit.G2, X, Y)
        assert list(used) == [0, 1, 3] and residual < 1e-7
        assert spectral.svd_alignment(loss, fit.G1, fit.G2, X, Y)[0] > 0.9
        values.append(fit.history.loss[-1])
    assert values[0] == pytest.approx(values[1], rel=1e-9)
