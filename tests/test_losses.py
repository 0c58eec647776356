"""The loss family (eq. 2.1): gradients, gradient weights and the closed-form facts of Chapter 2."""

import numpy as np
import pytest

from mmcl_lib import losses

N, D1, D2, R = 7, 5, 4, 3


def problem(seed=0, n=N, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D1))
    Y = rng.standard_normal((n, D2))
    G1 = scale * rng.standard_normal((R, D1))
    G2 = scale * rng.standard_normal((R, D2))
    return G1, G2, X, Y


def softplus_family(**kw):
    # phi(x) = log(1 + x), psi(x) = softplus(x): a non-preset member with non-trivial curvature.
    return losses.general(np.log1p, lambda x: np.logaddexp(0, x),
                          dphi=lambda a: 1 / (1 + a), dpsi=lambda x: 1 / (1 + np.exp(-x)),
                          eps=0.5, name="softplus", **kw)


PRESETS = {
    "clip": lambda **kw: losses.clip(0.7, **kw),
    "clip_cold": lambda **kw: losses.clip(0.2, **kw),
    "linear": lambda **kw: losses.linear(**kw),
    "decoupled": lambda **kw: losses.decoupled_infonce(1.3, **kw),
    "softplus": softplus_family,
}


def finite_difference(f, A, h=1e-6):
    grad = np.zeros_like(A)
    for idx in np.ndindex(A.shape):
        E = np.zeros_like(A)
        E[idx] = h
        grad[idx] = (f(A + E) - f(A - E)) / (2 * h)
    return grad


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
@pytest.mark.parametrize("rho", [None, 0.3])
def test_gradient_matches_finite_differences(preset, similarity, rho):
    loss = PRESETS[preset](rho=rho, similarity=similarity)
    G1, G2, X, Y = problem(seed=1, scale=0.5)
    dG1, dG2 = loss.grad(G1, G2, X, Y)
    fd1 = finite_difference(lambda A: loss.value(A, G2, X, Y), G1)
    fd2 = finite_difference(lambda B: loss.value(G1, B, X, Y), G2)
    np.testing.assert_allclose(dG1, fd1, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dG2, fd2, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("preset", PRESETS)
def test_gradient_identity_with_contrastive_cross_covariance(preset):
    loss = PRESETS[preset]()
    G1, G2, X, Y = problem(seed=2)
    S = losses.contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))
    dG1, dG2 = loss.grad(G1, G2, X, Y)
    np.testing.assert_allclose(dG1, -G2 @ S.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dG2, -G1 @ S, rtol=1e-10, atol=1e-12)


def standard_clip(logits):
    """Reference CLIP loss written the textbook way: mean of row and column cross-entropies."""
    def ce_rows(L):
        m = L.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(L - m).sum(axis=1))
        return np.mean(lse - np.diag(L))
    return 0.5 * (ce_rows(logits) + ce_rows(logits.T))


@pytest.mark.parametrize("tau", [0.05, 0.5, 2.0])
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
def test_clip_value_is_the_standard_symmetric_cross_entropy(tau, similarity):
    loss = losses.clip(tau, similarity=similarity)
    G1, G2, X, Y = problem(seed=3)
    s = loss.similarities(G1, G2, X, Y)
    assert loss.value(G1, G2, X, Y) == pytest.approx(standard_clip(s / tau), rel=1e-12)


def test_clip_at_constant_similarity_equals_log_n():
    n = 9
    G1, G2, X, Y = problem(seed=4, n=n)
    assert losses.clip(0.3).value(np.zeros_like(G1), G2, X, Y) == pytest.approx(np.log(n), rel=1e-14)


@pytest.mark.parametrize("preset", ["clip", "decoupled", "softplus", "linear"])
def test_loss_is_invariant_to_adding_a_constant_to_all_similarities(preset):
    # Shift every similarity by c through an extra latent coordinate: x -> (x, 1), y -> (y, c).
    loss = PRESETS[preset]()
    G1, G2, X, Y = problem(seed=5)
    c = 2.7
    X1 = np.hstack([X, np.ones((N, 1))])
    Y1 = np.hstack([Y, np.ones((N, 1))])
    G1e = np.vstack([np.hstack([G1, np.zeros((R, 1))]), np.r_[np.zeros(D1), 1.0]])
    G2e = np.vstack([np.hstack([G2, np.zeros((R, 1))]), np.r_[np.zeros(D2), c]])
    s, s_shift = loss.similarities(G1, G2, X, Y), loss.similarities(G1e, G2e, X1, Y1)
    np.testing.assert_allclose(s_shift, s + c, atol=1e-12)
    assert loss.value(G1e, G2e, X1, Y1) == pytest.approx(loss.value(G1, G2, X, Y), rel=1e-12)


@pytest.mark.parametrize("preset", PRESETS)
def test_weights_are_nonnegative_and_balanced(preset):
    loss = PRESETS[preset]()
    beta = loss.weights(*problem(seed=6))
    assert np.all(beta >= 0)
    off = beta.sum() - np.trace(beta)
    assert np.trace(beta) == pytest.approx(off, rel=1e-12)


@pytest.mark.parametrize("preset", PRESETS)
def test_swapping_modalities_transposes_everything(preset):
    loss = PRESETS[preset]()
    G1, G2, X, Y = problem(seed=7)
    G1s, G2s, Xs, Ys = problem(seed=7)
    np.testing.assert_allclose(loss.similarities(G2, G1, Y, X), loss.similarities(G1, G2, X, Y).T)
    np.testing.assert_allclose(loss.weights(G2, G1, Y, X), loss.weights(G1, G2, X, Y).T, atol=1e-15)
    S = losses.contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))
    S_swap = losses.contrastive_cross_covariance(Y, X, loss.weights(G2, G1, Y, X))
    np.testing.assert_allclose(S_swap, S.T, atol=1e-13)
    assert loss.value(G2, G1, Y, X) == pytest.approx(loss.value(G1, G2, X, Y), rel=1e-13)


def test_clip_weights_from_softmaxes():
    tau = 0.4
    G1, G2, X, Y = problem(seed=8)
    loss = losses.clip(tau)
    L = loss.similarities(G1, G2, X, Y) / tau
    P = np.exp(L - L.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    Q = np.exp(L - L.max(axis=0, keepdims=True))
    Q /= Q.sum(axis=0, keepdims=True)
    expected = (P + Q) / (2 * tau)
    np.fill_diagonal(expected, (2 - np.diag(P) - np.diag(Q)) / (2 * tau))
    np.testing.assert_allclose(loss.weights(G1, G2, X, Y), expected, rtol=1e-12)


@pytest.mark.parametrize("tau", [1.0, 0.25])
def test_zero_similarity_clip_gives_centred_cross_covariance(tau):
    G1, G2, X, Y = problem(seed=9)
    beta = losses.clip(tau).weights(np.zeros_like(G1), G2, X, Y)
    S = losses.contrastive_cross_covariance(X, Y, beta)
    centred = X.T @ Y / N - np.outer(X.mean(0), Y.mean(0))
    np.testing.assert_allclose(S, centred / tau, atol=1e-13)


def test_linear_loss_cross_covariance_is_n_minus_one_times_unbiased():
    G1, G2, X, Y = problem(seed=10)
    S = losses.contrastive_cross_covariance(X, Y, losses.linear().weights(G1, G2, X, Y))
    unbiased = np.cov(X.T, Y.T)[:D1, D1:]
    np.testing.assert_allclose(S, (N - 1) * unbiased, atol=1e-12)


def test_linear_loss_value_is_minus_trace():
    rho = 0.8
    G1, G2, X, Y = problem(seed=11)
    loss = losses.linear(rho=rho)
    S = losses.contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))
    expected = -np.trace(G1 @ S @ G2.T) + rho / 2 * np.linalg.norm(G1.T @ G2) ** 2
    assert loss.value(G1, G2, X, Y) == pytest.approx(expected, rel=1e-12)


def test_invariance_under_invertible_reparametrisation():
    G1, G2, X, Y = problem(seed=12)
    A = np.random.default_rng(0).standard_normal((R, R)) + 3 * np.eye(R)
    loss = losses.clip(0.5, rho=0.2)
    assert loss.value(A @ G1, np.linalg.inv(A).T @ G2, X, Y) == pytest.approx(loss.value(G1, G2, X, Y),
                                                                              rel=1e-12)


@pytest.mark.parametrize("factory", [losses.clip, losses.decoupled_infonce])
def test_small_temperature_is_finite_and_correct(factory):
    tau = 1e-3
    G1, G2, X, Y = problem(seed=13, scale=10.0)        # similarities of order 100: s/tau ~ 1e5
    loss = factory(tau)
    value = loss.value(G1, G2, X, Y)
    dG1, dG2 = loss.grad(G1, G2, X, Y)
    assert np.isfinite(value) and np.all(np.isfinite(dG1)) and np.all(np.isfinite(dG2))
    if factory is losses.clip:
        assert value == pytest.approx(standard_clip(loss.similarities(G1, G2, X, Y) / tau), rel=1e-12)
    # the gradient identity still holds exactly
    S = losses.contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))
    np.testing.assert_allclose(dG1, -G2 @ S.T, rtol=1e-10, atol=1e-10 * np.abs(dG1).max())


def test_clip_one_exp_path_matches_the_two_direction_path():
    # CLIP's value and weights come from one exp per entry when the logits' spread is moderate;
    # they must equal the row-then-column computation, which is used otherwise.
    terms = losses._LogExpTerms(0.3, 1.0)
    s = 2.0 * np.random.default_rng(14).standard_normal((9, 9))
    rows, cols, beta = terms.values_and_beta(s.copy(), 0.5)        # it overwrites its input
    rows_ref, alpha = terms(s, axis=1)
    cols_ref, alpha_bar = terms(s, axis=0)
    # anchor values near 0 (well-separated positives) agree to rounding in absolute terms
    np.testing.assert_allclose(rows, rows_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cols, cols_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(beta, 0.5 * losses._beta(alpha, alpha_bar), rtol=1e-12)
    assert terms.values_and_beta(1000.0 * s, 1.0) is None        # spread too large: not used
    assert losses._LogExpTerms(0.3, 0.0).values_and_beta(s, 1.0) is None   # eps = 0: not used


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
def test_weights_at_the_similarities_equal_the_weights(preset, similarity):
    loss = PRESETS[preset](similarity=similarity)
    G1, G2, X, Y = problem(seed=15)
    s = loss.similarities(G1, G2, X, Y)
    s_before = s.copy()
    np.testing.assert_allclose(loss.weights_at(s), loss.weights(G1, G2, X, Y), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(s, s_before)                 # the caller's matrix is not modified


@pytest.mark.parametrize("bad, match", [
    (np.zeros((3, 4)), "square"),
    (np.zeros(5), "2-D"),
    (np.zeros((1, 1)), "at least 2 rows"),
    (np.array([[0.0, np.nan], [0.0, 0.0]]), "NaN"),
])
def test_weights_at_rejects_bad_similarities(bad, match):
    with pytest.raises(ValueError, match=match):
        losses.clip(0.5).weights_at(bad)
