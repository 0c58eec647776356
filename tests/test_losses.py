"""The loss family (eq. 2.1): gradients, gradient weights and the closed-form facts of Chapter 2."""

import numpy as np
import pytest

from mmcl_lib import losses, spectral

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


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
@pytest.mark.parametrize("rho", [None, 0.3])
def test_gradient_matches_finite_differences(preset, similarity, rho, finite_difference):
    loss = PRESETS[preset](rho=rho, similarity=similarity)
    G1, G2, X, Y = problem(seed=1, scale=0.5)
    dG1, dG2 = loss.grad(G1, G2, X, Y)
    fd1 = finite_difference(lambda A: loss.value(A, G2, X, Y), G1)
    fd2 = finite_difference(lambda B: loss.value(G1, B, X, Y), G2)
    np.testing.assert_allclose(dG1, fd1, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dG2, fd2, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
def test_check_gradient_accepts_the_library_and_catches_a_wrong_derivative(preset, similarity):
    G1, G2, X, Y = problem(seed=3, scale=0.5)
    loss = PRESETS[preset](rho=0.3, similarity=similarity)
    assert losses.check_gradient(loss, G1, G2, X, Y, np.random.default_rng(0)) < 1e-7
    wrong = losses.general(np.log1p, lambda x: np.logaddexp(0, x), dphi=lambda a: 1 / (1 + a),
                           dpsi=lambda x: 1 / (1 + np.exp(x)), eps=0.5, similarity=similarity)   # sign slip
    assert losses.check_gradient(wrong, G1, G2, X, Y, np.random.default_rng(0)) > 1e-2


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


@pytest.mark.parametrize("eps", [1.0, 0.0, 0.3])
def test_clip_terms_as_a_two_sided_softmax_match_the_general_terms(eps):
    # CLIP-type terms written as a two-sided softmax equal eq. (2.1) written out with phi = log and
    # psi = exp(x / tau) (the general terms), values and weights.
    tau = 0.3
    s = 2.0 * np.random.default_rng(14).standard_normal((9, 9))
    phi_x, phi_y, beta = losses._ClipTerms(tau, eps).values_and_beta(s.copy())   # it overwrites its input
    general = losses._GeneralTerms(np.log, lambda a: 1 / a, lambda x: np.exp(x / tau),
                                   lambda x: np.exp(x / tau) / tau, eps)
    ref_x, ref_y, ref_beta = general.values_and_beta(s)
    np.testing.assert_allclose(phi_x, ref_x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(phi_y, ref_y, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(beta, ref_beta, rtol=1e-12, atol=1e-15)


def test_two_sided_softmax_rows_and_columns_sum_to_one():
    logits = np.random.default_rng(3).standard_normal((5, 7))
    logits[1, 2] = -np.inf
    lse_rows, lse_cols, P_rows, P_cols = losses.two_sided_softmax(logits)
    np.testing.assert_allclose(P_rows.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(P_cols.sum(axis=0), 1.0, rtol=1e-14)
    assert P_rows[1, 2] == 0.0 and P_cols[1, 2] == 0.0
    np.testing.assert_allclose(lse_rows, np.log(np.exp(logits).sum(axis=1)), rtol=1e-14)


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


# --------------------------------------------------------------------------- what the weights mean (Chapter 2)

def random_similarities(seed, n=8):
    return np.random.default_rng(seed).standard_normal((n, n))


@pytest.mark.parametrize("tau", [0.2, 1.0, 5.0])
def test_a_harder_negative_gets_a_larger_weight(tau):
    s = random_similarities(0)
    loss = losses.clip(tau)
    base = loss.weights_at(s)
    harder = s.copy()
    harder[2, 5] += 0.5                               # y_5 now looks more like x_2
    changed = loss.weights_at(harder)
    assert changed[2, 5] > base[2, 5]
    # and the weights of the other negatives of anchor x_2 shrink (the softmax is shared)
    others = [j for j in range(8) if j not in (2, 5)]
    assert np.all(changed[2, others] < base[2, others])


@pytest.mark.parametrize("tau", [0.2, 1.0, 5.0])
def test_an_easier_positive_gets_a_smaller_weight(tau):
    s = random_similarities(1)
    loss = losses.clip(tau)
    base = loss.weights_at(s)
    easier = s.copy()
    easier[3, 3] += 1.0
    assert loss.weights_at(easier)[3, 3] < base[3, 3]


def test_clip_weights_lie_between_zero_and_one_over_tau():
    tau = 0.3
    beta = losses.clip(tau).weights_at(3 * random_similarities(2))
    assert np.all(beta > 0) and np.all(beta < 1 / tau)


def test_hot_clip_weights_become_uniform():
    # tau -> infinity: softmaxes are uniform, tau * beta_ij -> 1/n and tau * beta_ii -> (n-1)/n
    n, tau = 8, 1e6
    beta = tau * losses.clip(tau).weights_at(random_similarities(3, n))
    expected = np.full((n, n), 1 / n)
    np.fill_diagonal(expected, (n - 1) / n)
    np.testing.assert_allclose(beta, expected, atol=1e-5)


def test_cold_clip_weights_concentrate_on_the_hardest_negatives():
    # tau -> 0: each softmax puts all its mass on its largest logit. If every positive is beaten,
    # tau * beta_ij -> (1[j hardest for anchor x_i] + 1[i hardest for anchor y_j]) / 2 and
    # tau * beta_ii -> 1: all weight goes to hard negatives and to the beaten positives.
    n = 8
    s = random_similarities(4, n)
    np.fill_diagonal(s, -5.0)
    tau = 1e-3
    beta = tau * losses.clip(tau).weights_at(s)
    masked = np.where(np.eye(n, dtype=bool), -np.inf, s)
    expected = np.zeros((n, n))
    expected[np.arange(n), masked.argmax(axis=1)] += 0.5
    expected[masked.argmax(axis=0), np.arange(n)] += 0.5
    np.fill_diagonal(expected, 1.0)
    np.testing.assert_allclose(beta, expected, atol=1e-6)


def test_linear_loss_weights_ignore_the_similarities():
    n = 6
    for seed in range(3):
        beta = losses.linear().weights_at(random_similarities(seed, n))
        expected = np.ones((n, n))
        np.fill_diagonal(expected, n - 1)
        np.testing.assert_allclose(beta, expected, atol=1e-14)


@pytest.mark.parametrize("tau", [0.5, 2.0])
def test_weights_at_zero_similarity_are_uniform(tau):
    n = 7
    beta = losses.clip(tau).weights_at(np.zeros((n, n)))
    expected = np.full((n, n), 1 / (n * tau))
    np.fill_diagonal(expected, (n - 1) / (n * tau))
    np.testing.assert_allclose(beta, expected, rtol=1e-13)


def test_weights_do_not_change_when_all_similarities_shift():
    s = random_similarities(5)
    loss = losses.clip(0.7)
    np.testing.assert_allclose(loss.weights_at(s + 3.0), loss.weights_at(s), rtol=1e-12)


def test_decoupled_weights_are_the_clip_weights_without_the_positive():
    # eps = 0 removes the positive from the softmax: every anchor's weights sum to 1/tau.
    tau = 0.5
    beta = losses.decoupled_infonce(tau).weights_at(random_similarities(6))
    np.testing.assert_allclose(np.diag(beta), 1 / tau, rtol=1e-12)


# --------------------------------------------------------------------------- bad inputs

_rng = np.random.default_rng(0)
BAD_X, BAD_Y = _rng.standard_normal((6, 4)), _rng.standard_normal((6, 3))
BAD_G1, BAD_G2 = _rng.standard_normal((2, 4)), _rng.standard_normal((2, 3))


def with_nan(A):
    A = A.copy()
    A[0, 0] = np.nan
    return A


@pytest.mark.parametrize("args, match", [
    ((BAD_G1, BAD_G2, BAD_X, BAD_Y[:5]), "same number of samples"),
    ((BAD_G1, BAD_G2, BAD_X[:, :3], BAD_Y), "G1 must have 3 columns"),
    ((BAD_G1, BAD_G2[:1], BAD_X, BAD_Y), "same number of rows r"),
    ((BAD_G1, BAD_G2, BAD_X[0], BAD_Y[0]), "X must be a 2-D array"),
    ((BAD_G1, BAD_G2, with_nan(BAD_X), BAD_Y), "X contains NaN"),
    ((BAD_G1, BAD_G2, BAD_X, np.full_like(BAD_Y, np.inf)), "Y contains NaN or inf"),
    ((with_nan(BAD_G1), BAD_G2, BAD_X, BAD_Y), "G1 contains NaN"),
    ((BAD_G1, BAD_G2, BAD_X[:1], BAD_Y[:1]), "at least 2 samples"),
])
def test_loss_methods_reject_bad_arrays(args, match):
    for method in (losses.clip(1.0).value, losses.clip(1.0).grad, losses.clip(1.0).weights, losses.clip(1.0).similarities):
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
        losses.clip(1.0, similarity="cosine").value(np.zeros_like(BAD_G1), BAD_G2, BAD_X, BAD_Y)


def test_general_family_checks_its_ingredients():
    with pytest.raises(ValueError, match="phi"):
        losses.general(3.0, np.exp, dphi=np.exp, dpsi=np.exp)
    with pytest.raises(ValueError, match="eps"):
        losses.general(np.log, np.exp, dphi=lambda a: 1 / a, dpsi=np.exp, eps=-1)
    # phi = log with eps = 0 and psi that can vanish: the loss is -inf, reported instead of returned
    bad = losses.general(np.log, lambda x: np.zeros_like(x), dphi=lambda a: 1 / a,
                         dpsi=lambda x: np.zeros_like(x))
    with pytest.raises(ValueError, match="not finite"):
        bad.value(BAD_G1, BAD_G2, BAD_X, BAD_Y)


def test_beta_must_be_square_and_nonnegative():
    with pytest.raises(ValueError, match="beta must have 6 rows"):
        losses.contrastive_cross_covariance(BAD_X, BAD_Y, np.ones((5, 6)))
    with pytest.raises(ValueError, match="non-negative"):
        losses.contrastive_cross_covariance(BAD_X, BAD_Y, -np.ones((6, 6)))


def test_the_clip_formula_lives_in_losses_only():
    # The CLIP-type losses of Chapters 5-6 call losses.two_sided_softmax instead of writing their own
    # log-sum-exps (the blocked engine streams the same formula by design), and the Section 5.3 names
    # are the teacher module's, re-exported by unpaired.
    import pathlib
    from mmcl_lib import graph, teacher, unpaired
    for module in (graph, teacher, unpaired):
        source = pathlib.Path(module.__file__).read_text()
        code = "\n".join(line.split("#")[0] for line in source.splitlines())
        assert "import logsumexp" not in code and "np.exp(" not in code, module.__name__
        assert "two_sided_softmax(" in code, module.__name__
    for name in ("teacher_loss", "teacher_pseudo_positives", "gate_accepts", "teacher_self_training"):
        assert getattr(unpaired, name) is getattr(teacher, name)
