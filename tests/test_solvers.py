"""The solvers (mmcl_lib.solvers): gradient descent reaches Lemma 2.1's minimum; the spectral solver reaches
gradient descent's stationary point; their stopping rules and checks."""

import numpy as np
import pytest

from mmcl_lib import losses, metrics, solvers, spectral


def grad_norm(loss, G1, G2, X, Y):
    g1, g2 = loss.grad(G1, G2, X, Y)
    return float(np.sqrt(np.sum(g1**2) + np.sum(g2**2)))


def basis(G):
    return metrics.orthonormal_basis(G.T)


@pytest.mark.parametrize("seed,tau,rho", [(0, 1.0, 1.0), (1, 0.5, 0.5), (2, 1.0, 0.2), (3, 0.3, 1.0)])
def test_spectral_solver_and_gradient_descent_reach_the_same_stationary_point(seed, tau, rho, problem):
    G1, G2, X, Y = problem(seed)
    loss = losses.clip(tau, rho=rho)
    tol = 1e-9
    sp = solvers.spectral_solver(loss, G1, G2, X, Y, tol=tol)
    gd = solvers.gradient_descent(loss, G1, G2, X, Y, tol=tol, max_iter=50000)
    assert sp.converged and gd.converged
    for fit in (sp, gd):                               # stationary: checked with the loss's own gradient
        assert grad_norm(loss, fit.G1, fit.G2, X, Y) <= tol * (1 + 1e-6)
    f_sp, f_gd = loss.value(sp.G1, sp.G2, X, Y), loss.value(gd.G1, gd.G2, X, Y)
    assert abs(f_sp - f_gd) <= 1e-8 * abs(f_gd)
    assert metrics.sin_theta(basis(sp.G1), basis(gd.G1)) < 1e-6
    assert metrics.sin_theta(basis(sp.G2), basis(gd.G2)) < 1e-6
    np.testing.assert_allclose(sp.G1.T @ sp.G2, gd.G1.T @ gd.G2, atol=1e-7)
    assert sp.n_iter < gd.n_iter


def test_the_solution_is_a_fixed_point_of_similarities_weights_svd(problem):
    G1, G2, X, Y = problem(4)
    rho = 0.7
    loss = losses.clip(1.0, rho=rho)
    fit = solvers.spectral_solver(loss, G1, G2, X, Y, tol=1e-10)
    s1, s2, sigma = spectral.svd_alignment(loss, fit.G1, fit.G2, X, Y)
    assert s1 < 1e-8 and s2 < 1e-8
    S = losses.contrastive_cross_covariance(X, Y, loss.weights(fit.G1, fit.G2, X, Y))
    H1, H2 = spectral.svd_minimizer(S, 2, rho)
    np.testing.assert_allclose(fit.G1.T @ fit.G2, H1.T @ H2, atol=1e-9)
    assert sigma[1] > sigma[2]                          # a genuine rank-2 fixed point


def test_linear_loss_is_solved_in_one_undamped_step(problem):
    # the linear loss has constant weights, so S does not move and the first SVD is Lemma 2.1's minimiser
    G1, G2, X, Y = problem(5)
    rho = 0.5
    loss = losses.linear(rho=rho)
    fit = solvers.spectral_solver(loss, G1, G2, X, Y, tol=1e-8)
    S = losses.contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))
    assert fit.converged and fit.n_iter == 1 and fit.history.step[1] == 1.0
    assert fit.history.loss[-1] == pytest.approx(spectral.linear_loss_minimum(S, 2, rho), rel=1e-12)


def test_stopping_rule(problem):
    G1, G2, X, Y = problem(6)
    loss = losses.clip(0.5, rho=0.3)
    tol = 1e-3
    fit = solvers.spectral_solver(loss, G1, G2, X, Y, tol=tol, record_every=1)
    g = np.array(fit.history.grad_norm)
    assert fit.converged and g[-1] <= tol and np.all(g[:-1] > tol)     # stops at the first hit
    assert len(g) == fit.n_iter + 1 == len(fit.history.iterates)
    assert g[-1] == pytest.approx(grad_norm(loss, fit.G1, fit.G2, X, Y), rel=1e-8)
    for t, A, B in fit.history.iterates:          # recorded norms are the true gradient norms
        assert g[t] == pytest.approx(grad_norm(loss, A, B, X, Y), rel=1e-8)
    capped = solvers.spectral_solver(loss, G1, G2, X, Y, tol=1e-14, max_iter=3)
    assert not capped.converged and capped.n_iter == 3 and len(capped.history.loss) == 4


def test_loss_decreases_monotonically_with_the_line_search(problem):
    G1, G2, X, Y = problem(7)
    fit = solvers.spectral_solver(losses.clip(0.3, rho=0.1), G1, G2, X, Y, tol=1e-8)
    values = np.array(fit.history.loss)
    assert fit.converged
    assert np.all(np.diff(values) <= 1e-12 * np.abs(values[1:]))
    assert 0 < abs(fit.history.step[-1]) < 1          # this cold, weakly regularised case needs damping


def test_without_damping_the_plain_iteration_can_fail(problem):
    # small rho and tau: the fixed-point map is not a contraction, the undamped iteration oscillates
    G1, G2, X, Y = problem(7)
    loss = losses.clip(0.3, rho=0.1)
    plain = solvers.spectral_solver(loss, G1, G2, X, Y, tol=1e-8, line_search=False, max_iter=200)
    assert not plain.converged
    assert np.any(np.diff(plain.history.loss) > 0)


@pytest.mark.parametrize("kwargs,match", [
    ({"loss": losses.clip(1.0)}, "rho"),
    ({"loss": losses.clip(1.0, rho=1.0, similarity="cosine")}, "similarity"),
    ({"damping": 0.0}, "damping"),
    ({"damping": 1.5}, "damping"),
    ({"memory": -1}, "memory"),
    ({"tol": 0.0}, "tol"),
])
def test_bad_inputs(kwargs, match, problem):
    G1, G2, X, Y = problem(9)
    args = {"loss": losses.clip(1.0, rho=1.0), **kwargs}
    loss = args.pop("loss")
    with pytest.raises(ValueError, match=match):
        solvers.spectral_solver(loss, G1, G2, X, Y, **args)


# --------------------------------------------------------------------------- gradient descent

def test_gradient_descent_on_the_linear_loss_reaches_the_svd_minimum(problem):
    _, _, X, Y = problem(0)
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


def test_gradient_descent_stops_at_max_iter_and_records_iterates(problem):
    _, _, X, Y = problem(5)
    rng = np.random.default_rng(6)
    G1, G2 = rng.standard_normal((2, 6)), rng.standard_normal((2, 5))
    fit = solvers.gradient_descent(losses.clip(1.0, rho=0.5), G1, G2, X, Y, max_iter=7, tol=1e-14,
                                 record_every=3)
    assert not fit.converged and fit.n_iter == 7
    assert len(fit.history.loss) == 8
    assert [t for t, *_ in fit.history.iterates] == [0, 3, 6]


def test_gradient_descent_checks_its_settings(problem):
    with pytest.raises(ValueError, match="tol"):
        solvers.gradient_descent(losses.clip(1.0), *problem(0), tol=0)
    with pytest.raises(ValueError, match="max_iter"):
        solvers.gradient_descent(losses.clip(1.0), *problem(0), max_iter=-1)


def latent_pairs(n, noise, seed=0, d1=6, d2=5, r=2):
    from mmcl_lib import data
    rng = np.random.default_rng(seed)
    s = data.LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise).sample(n, rng)
    return 0.3 * rng.standard_normal((r, d1)), 0.3 * rng.standard_normal((r, d2)), s.X, s.Y


def norm_where_it_stops(fit, tol):
    k = int(np.flatnonzero(np.asarray(fit.history.grad_norm) <= tol)[0])
    _, A, B = fit.history.iterates[k]
    return float(np.linalg.norm(A.T @ B))


def separated(G1, G2, X, Y):
    """Every positive wins its row and its column of the inner-product similarity matrix."""
    return min(metrics.retrieval_accuracy(G1, G2, X, Y, similarity="inner"),
               metrics.retrieval_accuracy(G2, G1, Y, X, similarity="inner")) == 1.0


def test_unregularised_clip_has_no_minimiser_on_separable_pairs():
    # Chapter 1, "no regulariser, no minimiser", case (a): 8 pairs, rank 2, low noise
    G1, G2, X, Y = latent_pairs(8, 0.1)
    loss = losses.clip(1.0)
    fit = solvers.gradient_descent(loss, G1, G2, X, Y, tol=1e-8, max_iter=30000, record_every=1)
    assert separated(fit.G1, fit.G2, X, Y)
    assert fit.history.loss[-1] < 1e-7
    norms = [norm_where_it_stops(fit, tol) for tol in (1e-4, 1e-6, 1e-8)]
    assert norms[0] + 1000 < norms[1] and norms[1] + 1000 < norms[2]     # the stopping point runs away
    ray = [loss.value(c * fit.G1, fit.G2, X, Y) for c in (1.0, 1.1, 1.2)]
    assert ray[2] < ray[1] < ray[0]                                      # and scaling up still helps


def test_unregularised_clip_converges_when_the_pairs_are_not_separable():
    # case (b): 200 pairs, rank 2, noise 1: gradient descent converges to a finite point
    G1, G2, X, Y = latent_pairs(200, 1.0)
    loss = losses.clip(1.0)
    fit = solvers.gradient_descent(loss, G1, G2, X, Y, tol=1e-8, max_iter=30000, record_every=1)
    assert fit.converged and not separated(fit.G1, fit.G2, X, Y)
    assert norm_where_it_stops(fit, 1e-5) == pytest.approx(norm_where_it_stops(fit, 1e-8), rel=1e-3)
    at = loss.value(fit.G1, fit.G2, X, Y)
    assert at < loss.value(0.9 * fit.G1, fit.G2, X, Y) and at < loss.value(1.1 * fit.G1, fit.G2, X, Y)


# --------------------------------------------------------------------------- the Krylov spectral step

@pytest.mark.parametrize("seed,tau,rho", [(0, 1.0, 1.0), (1, 0.5, 0.5), (2, 1.0, 0.2), (3, 0.3, 1.0)])
def test_krylov_and_exact_spectral_solvers_reach_the_same_stationary_point(seed, tau, rho, problem):
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


def test_krylov_step_is_exact_when_the_krylov_space_is_everything(problem):
    # d2 <= 3r: the basis [G2^T, S^T G1^T, r random directions] spans R^d2, the Ritz step is the exact SVD step, so
    # both solvers take the same steps.
    G1, G2, X, Y = problem(5, d1=6, d2=4, r=2)
    loss = losses.clip(0.7, rho=0.5)
    exact = solvers.spectral_solver(loss, G1, G2, X, Y, tol=1e-8, memory=0)
    thin = solvers.spectral_solver(loss, G1, G2, X, Y, tol=1e-8, memory=0, svd="krylov", rng=np.random.default_rng(0))
    assert thin.n_iter == exact.n_iter
    np.testing.assert_allclose(thin.history.loss, exact.history.loss, rtol=1e-10)


def test_bad_svd_option(problem):
    with pytest.raises(ValueError, match="svd"):
        solvers.spectral_solver(losses.clip(1.0, rho=1.0), *problem(9), svd="lanczos", rng=np.random.default_rng(0))


def test_krylov_needs_an_explicit_generator(problem):
    with pytest.raises(ValueError, match="rng"):
        solvers.spectral_solver(losses.clip(1.0, rho=1.0), *problem(9), svd="krylov")


def test_history_steps_are_never_negative_and_acceleration_is_a_flag(problem):
    G1, G2, X, Y = problem(1)
    fit = solvers.spectral_solver(losses.clip(0.5, rho=0.5), G1, G2, X, Y, memory=10, max_iter=200)
    hist = fit.history
    assert len(hist.step) == len(hist.accelerated) == len(hist.loss) == fit.n_iter + 1
    assert min(hist.step) >= 0 and any(hist.accelerated) and not hist.accelerated[0]
    plain = solvers.spectral_solver(losses.clip(0.5, rho=0.5), G1, G2, X, Y, memory=0, max_iter=50)
    assert not any(plain.history.accelerated)
    gd = solvers.gradient_descent(losses.clip(0.5, rho=0.5), G1, G2, X, Y, max_iter=20)
    assert min(gd.history.step) >= 0 and not any(gd.history.accelerated)


def test_the_solvers_rely_on_the_loss_protocol_only(problem):
    # gradient descent needs evaluate() and value_and_grad() (the Loss protocol), nothing probed;
    # the spectral solver needs a regularised ContrastiveLoss.
    G1, G2, X, Y = problem(2)
    inner = losses.clip(0.5, rho=0.5)

    class Wrapped:
        def evaluate(self, G1, G2, X, Y, *, check_input=True):
            return inner.evaluate(G1, G2, X, Y, check_input=check_input)

        def value_and_grad(self, G1, G2, X, Y, *, check_input=True):
            return inner.value_and_grad(G1, G2, X, Y, check_input=check_input)

    a = solvers.gradient_descent(Wrapped(), G1, G2, X, Y, max_iter=30)
    b = solvers.gradient_descent(inner, G1, G2, X, Y, max_iter=30)
    np.testing.assert_array_equal(a.G1, b.G1)
    with pytest.raises(ValueError, match="ContrastiveLoss"):
        solvers.spectral_solver(Wrapped(), G1, G2, X, Y)


def test_gradient_descent_validates_its_inputs_once(problem, monkeypatch):
    # the loss is asked to check its inputs at the start only; line-search trials trust them
    from mmcl_lib import _validation
    G1, G2, X, Y = problem(3)
    calls = []
    original = _validation.as_matrix
    monkeypatch.setattr(_validation, "as_matrix", lambda *a, **k: calls.append(a[1]) or original(*a, **k))
    fit = solvers.gradient_descent(losses.clip(0.5, rho=0.5), G1, G2, X, Y, max_iter=40)
    assert fit.n_iter > 10 and len(calls) == 8          # X, Y, G1, G2 by the solver, then by the loss
