"""The spectral solver with thin products (svd="krylov", rng=np.random.default_rng(0)) reaches the fixed points of the exact one."""

import numpy as np
import pytest

from mmcl_lib import losses, metrics, solvers
from test_solvers import basis, grad_norm, problem


@pytest.mark.parametrize("seed,tau,rho", [(0, 1.0, 1.0), (1, 0.5, 0.5), (2, 1.0, 0.2), (3, 0.3, 1.0)])
def test_krylov_and_exact_spectral_solvers_reach_the_same_stationary_point(seed, tau, rho):
    G1, G2, X, Y = problem(seed, n=60, d1=9, d2=8, r=2)     # d > 3r: the Krylov space is a proper subspace
    loss = losses.clip(tau, rho=rho)
    tol = 1e-9
    exact = solvers.spectral_solver(loss, G1, G2, X, Y, tol=tol)
    thin = solvers.spectral_solver(loss, G1, G2, X, Y, tol=tol, svd="krylov", rng=np.random.default_rng(0))
    assert exact.converged and thin.converged
    assert grad_norm(loss, thin.G1, thin.G2, X, Y) <= tol * (1 + 1e-6)
    assert abs(thin.history.loss[-1] - exact.history.loss[-1]) <= 1e-10 * abs(exact.history.loss[-1])
    assert metrics.sin_theta(basis(thin.G1), basis(exact.G1)) < 1e-6
    np.testing.assert_allclose(thin.G1.T @ thin.G2, exact.G1.T @ exact.G2, atol=1e-7)
    values = np.array(thin.history.loss)
    assert np.all(np.diff(values) <= 1e-12 * np.abs(values[1:]))     # the line search still holds


def test_krylov_step_is_exact_when_the_krylov_space_is_everything():
    # d2 <= 3r: the basis [G2^T, S^T G1^T, r random directions] spans R^d2, the Ritz step is the exact SVD step, so
    # both solvers take the same steps.
    G1, G2, X, Y = problem(5, d1=6, d2=4, r=2)
    loss = losses.clip(0.7, rho=0.5)
    exact = solvers.spectral_solver(loss, G1, G2, X, Y, tol=1e-8, memory=0)
    thin = solvers.spectral_solver(loss, G1, G2, X, Y, tol=1e-8, memory=0, svd="krylov", rng=np.random.default_rng(0))
    assert thin.n_iter == exact.n_iter
    np.testing.assert_allclose(thin.history.loss, exact.history.loss, rtol=1e-10)


def test_bad_svd_option():
    with pytest.raises(ValueError, match="svd"):
        solvers.spectral_solver(losses.clip(1.0, rho=1.0), *problem(9), svd="lanczos", rng=np.random.default_rng(0))


def test_krylov_needs_an_explicit_generator():
    with pytest.raises(ValueError, match="rng"):
        solvers.spectral_solver(losses.clip(1.0, rho=1.0), *problem(9), svd="krylov")
