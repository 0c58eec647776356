"""Teacher-based filtering (mmcl_lib.filtering, Chapter 8): closed forms, invariants, Monte Carlo checks."""

import math

import numpy as np
import pytest
from scipy.special import gammaln

from mmcl_lib import baselines, data, filtering, spectral
from mmcl_lib.metrics import subspace_error

pytestmark = pytest.mark.usefixtures("one_blas_thread")   # many small products


def paper_model(seed, d1=6, d2=5, r=3, s1=0.5, s2=None):
    """The corruption model's loadings and isotropic noise (Sigma_z = I)."""
    return data.LatentFactorModel.random(d1, d2, r, np.random.default_rng(seed), noise_std1=s1,
                                         noise_std2=s1 if s2 is None else s2)


def corrupted_sample(model, n, eta, seed):
    return model.sample(n, np.random.default_rng(seed), eta=eta, clean_count="binomial")


# --------------------------------------------------------------------------- Algorithm 1

@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("rule", [{"threshold": -np.inf}, {"fraction": 1.0}])
def test_no_filtering_is_lemma_2_1_on_the_candidates(split, rule):
    model = paper_model(0)
    s = corrupted_sample(model, 401, 0.5, 1)
    res = filtering.train_filter_train(s.X, s.Y, 3, split=split, **rule)
    first = 200 if split else 0
    G1, G2 = spectral.closed_form_mmcl(s.X[first:], s.Y[first:], 3)
    np.testing.assert_allclose(res.G1, G1, atol=1e-12)
    np.testing.assert_allclose(res.G2, G2, atol=1e-12)
    T1, T2 = spectral.closed_form_mmcl(s.X[:200] if split else s.X, s.Y[:200] if split else s.Y, 3)
    np.testing.assert_allclose(res.teacher[0], T1, atol=1e-12)
    np.testing.assert_allclose(res.teacher[1], T2, atol=1e-12)
    assert res.n_kept == res.n_candidates == 401 - first
    assert not res.kept[:first].any() and not res.candidates[:first].any()


def test_filtering_keeps_the_high_teacher_scores_and_refits_on_them():
    model = paper_model(1)
    s = corrupted_sample(model, 600, 0.4, 2)
    res = filtering.train_filter_train(s.X, s.Y, 3, threshold=0.0, units="teacher", split=True)
    scores = filtering.teacher_scores(s.X, s.Y, *res.teacher)
    np.testing.assert_array_equal(res.kept, res.candidates & (scores > 0))
    G1, _ = spectral.closed_form_mmcl(s.X[res.kept], s.Y[res.kept], 3)
    np.testing.assert_allclose(res.G1, G1, atol=1e-12)


def test_oracle_units_threshold_is_the_teacher_scale_times_theta():
    model = paper_model(2, d1=10, d2=8, r=4, s1=0.01)
    eta, theta = 0.3, 2.0                      # the paper's r/2
    s = corrupted_sample(model, 20_000, eta, 3)
    res = filtering.train_filter_train(s.X, s.Y, 4, threshold=theta, split=False, rho=2.0)
    unit = filtering.mean_singular_value(*res.teacher)
    assert res.threshold == pytest.approx(theta * unit, rel=1e-12)
    assert unit == pytest.approx(eta / 2.0, rel=0.05)             # teacher score ~ (eta / rho) x oracle score
    oracle = filtering.true_loading_filter(s.X, s.Y, 4, model.U1, model.U2, threshold=theta)
    assert np.mean(res.kept != oracle.kept) < 0.01                 # the same pairs, up to the teacher's error


def test_mean_singular_value_is_that_of_the_product():
    rng = np.random.default_rng(3)
    G1, G2 = rng.standard_normal((3, 7)), rng.standard_normal((3, 5))
    expected = np.linalg.svd(G1.T @ G2, compute_uv=False)[:3].mean()
    assert filtering.mean_singular_value(G1, G2) == pytest.approx(expected, rel=1e-12)


def test_reference_filters_are_lemma_2_1_on_their_kept_pairs():
    model = paper_model(4)
    s = corrupted_sample(model, 500, 0.3, 5)
    clean = filtering.clean_only(s.X, s.Y, 3, s.matched)
    np.testing.assert_allclose(clean.G1, spectral.closed_form_mmcl(s.X[s.matched], s.Y[s.matched], 3)[0])
    assert clean.n_kept == s.matched.sum() and clean.teacher is None
    oracle = filtering.true_loading_filter(s.X, s.Y, 3, model.U1, model.U2, threshold=1.5)
    keep = np.einsum("ij,ij->i", s.X @ model.U1, s.Y @ model.U2) > 1.5
    np.testing.assert_array_equal(oracle.kept, keep)
    np.testing.assert_allclose(oracle.G2, spectral.closed_form_mmcl(s.X[keep], s.Y[keep], 3)[1])


# --------------------------------------------------------------------------- scores and keep rules

def test_scores_are_the_rowwise_bilinear_form():
    rng = np.random.default_rng(6)
    X, Y, A = rng.standard_normal((9, 4)), rng.standard_normal((9, 3)), rng.standard_normal((4, 3))
    np.testing.assert_allclose(filtering.scores(X, Y, A), np.diag(X @ A @ Y.T), atol=1e-12)
    G1, G2 = rng.standard_normal((2, 4)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(filtering.teacher_scores(X, Y, G1, G2), filtering.scores(X, Y, G1.T @ G2))


def test_teacher_ordering_equals_true_loading_ordering_for_a_perfect_teacher():
    model = paper_model(7, d1=8, d2=6, r=3, s1=0.3)
    s = corrupted_sample(model, 3000, 0.3, 8)
    oracle = filtering.true_loading_scores(s.X, s.Y, model.U1, model.U2)
    # a perfect teacher: the true loadings up to an invertible change of basis A and a scale eta / rho
    A = np.random.default_rng(9).standard_normal((3, 3)) + 3 * np.eye(3)
    G1, G2 = 0.3 * A @ model.U1.T, np.linalg.inv(A).T @ model.U2.T
    perfect = filtering.teacher_scores(s.X, s.Y, G1, G2)
    np.testing.assert_allclose(perfect, 0.3 * oracle, atol=1e-10)
    np.testing.assert_array_equal(np.argsort(perfect, kind="stable"), np.argsort(oracle, kind="stable"))
    # a trained teacher approaches it: its kept set converges to the true-loading one as it sees more pairs
    disagreement = []
    for n_teacher in (300, 30_000):
        t = corrupted_sample(model, n_teacher, 0.3, n_teacher)
        teacher = spectral.closed_form_mmcl(t.X, t.Y, 3)
        by_teacher = filtering.keep(filtering.teacher_scores(s.X, s.Y, *teacher), fraction=0.3)
        disagreement.append(np.mean(by_teacher != filtering.keep(oracle, fraction=0.3)))
    assert disagreement[1] < disagreement[0] / 3 and disagreement[1] < 0.01


@pytest.mark.parametrize("m", [1, 7, 1000, 1001])
@pytest.mark.parametrize("q", [0.01, 0.1, 0.5, 0.999, 1.0])
def test_kept_fraction_keeps_exactly_the_stated_count(m, q):
    scores = np.round(np.random.default_rng(m).standard_normal(m), 1)      # many ties
    mask = filtering.keep(scores, fraction=q)
    k = max(1, math.floor(q * m + 0.5))
    assert mask.sum() == k == filtering.kept_count(m, q)
    if 0 < k < m:
        assert scores[mask].min() >= scores[~mask].max()


def test_kept_fraction_in_algorithm_1_counts_the_candidates():
    model = paper_model(10)
    s = corrupted_sample(model, 1001, 0.3, 11)
    for split, m in ((True, 501), (False, 1001)):
        res = filtering.train_filter_train(s.X, s.Y, 3, fraction=0.1, split=split)
        assert res.n_kept == filtering.kept_count(m, 0.1) == round(0.1 * m)
        assert res.n_candidates == m


def test_threshold_rule_is_strict_and_minus_infinity_keeps_all():
    scores = np.array([-1.0, 0.0, 0.0, 2.0])
    np.testing.assert_array_equal(filtering.keep(scores, threshold=0.0), [False, False, False, True])
    assert filtering.keep(scores, threshold=-np.inf).all()


# --------------------------------------------------------------------------- score laws and filtered targets

def test_score_moments_of_clean_and_corrupted_pairs_match_simulation():
    r, s1, s2 = 3, 0.5, 0.8
    model = paper_model(12, d1=6, d2=5, r=r, s1=s1, s2=s2)
    s = corrupted_sample(model, 200_000, 0.4, 13)
    score = filtering.true_loading_scores(s.X, s.Y, model.U1, model.U2)
    moments = filtering.score_moments(r, s1, s2)
    for group, mean, var in ((s.matched, moments.mean_clean, moments.var_clean),
                             (~s.matched, moments.mean_corrupted, moments.var_corrupted)):
        x = score[group]
        centred = x - x.mean()
        se_mean = math.sqrt(var / x.size)
        se_var = math.sqrt((np.mean(centred**4) - np.mean(centred**2) ** 2) / x.size)
        assert abs(x.mean() - mean) < 4 * se_mean            # tolerance: 4 standard errors
        assert abs(x.var() - var) < 4 * se_var
        assert 4 * se_var < r / 4                             # sharp enough to see the clean pairs' extra r
    assert moments.var_corrupted <= moments.var_clean <= 2 * moments.var_corrupted


def _prop_residual(S, U1, U2):
    c = np.trace(U1.T @ S @ U2) / U1.shape[1]
    return c, np.linalg.norm(S - c * U1 @ U2.T)


@pytest.mark.parametrize("rule", [{"threshold": 1.5}, {"fraction": 0.3}])
def test_filtered_population_cross_covariance_is_proportional_to_U1U2T_with_isotropic_noise(rule):
    model = paper_model(14, s1=0.7, s2=0.4)
    S_a = filtering.filtered_population_cross_covariance(model, 0.3, np.random.default_rng(0), draws=100_000, **rule)
    S_b = filtering.filtered_population_cross_covariance(model, 0.3, np.random.default_rng(1), draws=100_000, **rule)
    c, residual = _prop_residual(S_a, model.U1, model.U2)
    mc_noise = np.linalg.norm(S_a - S_b) / math.sqrt(2)      # size of one estimate's Monte Carlo error
    assert residual < 3 * mc_noise and residual < 0.02 * c
    assert c > 0.3                                            # the gap grew beyond eta = 0.3 (unfiltered)
    # the same target from data: the kept pairs' cross-covariance, within 5 standard errors per entry
    s = corrupted_sample(model, 100_000, 0.3, 15)
    kept = filtering.true_loading_filter(s.X, s.Y, 3, model.U1, model.U2, **rule).kept
    products = s.X[kept][:, :, None] * s.Y[kept][:, None, :]
    se = products.std(axis=0) / math.sqrt(kept.sum())
    empirical = spectral.centred_cross_covariance(s.X[kept], s.Y[kept])
    assert np.max(np.abs(empirical - S_a) / np.sqrt(se**2 + mc_noise**2 / S_a.size)) < 5


def test_unfiltered_population_cross_covariance_is_eta_U1U2T():
    model = paper_model(16)
    S = filtering.filtered_population_cross_covariance(model, 0.25, np.random.default_rng(2),
                                                       threshold=-np.inf, draws=200_000)
    np.testing.assert_allclose(S, 0.25 * model.U1 @ model.U2.T, atol=0.01)


def test_filtered_population_cross_covariance_with_heteroskedastic_noise_matches_simulation():
    rng = np.random.default_rng(17)
    std = data.heteroskedastic_std(6, 1.0, 10.0)
    model = data.LatentFactorModel.random(6, 6, 2, rng, noise_std1=std, noise_std2=std[::-1])
    S_pop = filtering.filtered_population_cross_covariance(model, 0.3, np.random.default_rng(3),
                                                           threshold=0.0, draws=200_000)
    s = corrupted_sample(model, 100_000, 0.3, 18)
    kept = filtering.true_loading_filter(s.X, s.Y, 2, model.U1, model.U2, threshold=0.0).kept
    products = s.X[kept][:, :, None] * s.Y[kept][:, None, :]
    se = products.std(axis=0) / math.sqrt(kept.sum())
    empirical = spectral.centred_cross_covariance(s.X[kept], s.Y[kept])
    assert np.max(np.abs(empirical - S_pop) / se) < 5
    # outside the theorem: the filtered target is no longer a multiple of U1 U2^T
    c, residual = _prop_residual(S_pop, model.U1, model.U2)
    assert residual > 0.1 * c
    assert np.linalg.norm(empirical - c * model.U1 @ model.U2.T) > 10 * np.linalg.norm(se)


# --------------------------------------------------------------------------- first-order error (derived here)

def test_first_order_error_without_filtering_is_the_chapter_3_formula():
    model = paper_model(19, d1=10, d2=8, r=4, s1=0.3, s2=0.2)
    e1, e2 = filtering.filtered_first_order_error(model, 5000, 0.2, np.random.default_rng(4),
                                                  threshold=-np.inf, draws=200_000)
    assert e1 == pytest.approx(baselines.mmcl_first_order_error(model, 5000, 0.2), rel=0.01)
    assert e2 == pytest.approx(math.sqrt(4 * 4 * 0.2**2 * (1 + 0.3**2) / 5000) / 0.2, rel=0.01)


def test_first_order_error_at_theta_zero_and_small_eta_is_eta_free_in_closed_form():
    r, d1, s1 = 4, 10, 0.3
    model = paper_model(20, d1=d1, d2=8, r=r, s1=s1, s2=0.2)
    e1, _ = filtering.filtered_first_order_error(model, 10_000, 1e-6, np.random.default_rng(5),
                                                 threshold=0.0, draws=400_000)
    chi_mean = math.sqrt(2) * math.exp(gammaln((r + 1) / 2) - gammaln(r / 2))
    plateau = r * math.sqrt(math.pi * r * s1**2 * (d1 - r) / ((1 + s1**2) * 10_000)) / chi_mean
    assert e1 == pytest.approx(plateau, rel=0.01)


def test_first_order_error_predicts_the_true_loading_filter():
    model = paper_model(21, d1=10, d2=8, r=4, s1=0.1)
    n, eta = 10_000, 0.1
    errors = []
    for seed in range(20):
        s = corrupted_sample(model, n, eta, 100 + seed)
        res = filtering.true_loading_filter(s.X, s.Y, 4, model.U1, model.U2, threshold=0.0)
        errors.append(subspace_error(res.G1, model.U1))
    predicted, _ = filtering.filtered_first_order_error(model, n, eta, np.random.default_rng(6),
                                                        threshold=0.0, draws=200_000)
    rms = math.sqrt(np.mean(np.square(errors)))
    assert rms == pytest.approx(predicted, rel=0.12)
    unfiltered = baselines.mmcl_first_order_error(model, n, eta)
    assert predicted < unfiltered / 2                         # so the check tells filtering from none


def test_max_modality_error_is_the_worse_modality():
    model = paper_model(22)
    s = corrupted_sample(model, 300, 0.5, 23)
    G1, G2 = spectral.closed_form_mmcl(s.X, s.Y, 3)
    e1, e2 = subspace_error(G1, model.U1), subspace_error(G2, model.U2)
    assert filtering.max_modality_error(G1, G2, model.U1, model.U2) == max(e1, e2)
    assert e1 != e2


# --------------------------------------------------------------------------- bad input

def test_bad_inputs_raise_clear_errors():
    model = paper_model(24)
    s = corrupted_sample(model, 100, 0.5, 25)
    X, Y, rng = s.X, s.Y, np.random.default_rng(0)
    for eta in (0.0, 1.5, np.nan, -0.2):
        with pytest.raises(ValueError, match="eta"):
            model.sample(10, rng, eta=eta, clean_count="binomial")
        with pytest.raises(ValueError, match="eta"):
            filtering.filtered_first_order_error(model, 100, eta, rng, threshold=0.0)
        with pytest.raises(ValueError, match="eta"):
            filtering.filtered_population_cross_covariance(model, eta, rng, threshold=0.0)
    for q in (0.0, 1.01, -0.5, np.nan):
        with pytest.raises(ValueError, match="fraction"):
            filtering.train_filter_train(X, Y, 3, fraction=q)
        with pytest.raises(ValueError, match="fraction"):
            filtering.keep(np.ones(5), fraction=q)
    with pytest.raises(ValueError, match="exactly one"):
        filtering.train_filter_train(X, Y, 3)
    with pytest.raises(ValueError, match="exactly one"):
        filtering.keep(np.ones(5), threshold=0.0, fraction=0.5)
    with pytest.raises(ValueError, match="threshold"):
        filtering.train_filter_train(X, Y, 3, threshold=np.nan)
    with pytest.raises(ValueError, match="same number of samples"):
        filtering.train_filter_train(X, Y[:-1], 3, threshold=0.0)
    with pytest.raises(ValueError, match="A must have 5 columns"):
        filtering.scores(X, Y, np.ones((6, 4)))
    with pytest.raises(ValueError, match="U2 must have 3 columns"):
        filtering.true_loading_scores(X, Y, model.U1, model.U2[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        filtering.train_filter_train(np.where(np.eye(100, 6, dtype=bool), np.nan, X), Y, 3, threshold=0.0)
    with pytest.raises(ValueError, match="scores contains NaN"):
        filtering.keep(np.array([1.0, np.nan]), threshold=0.0)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        filtering.filtered_population_cross_covariance(model, 0.5, 0, threshold=0.0)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        filtering.filtered_first_order_error(model, 100, 0.5, np.random.RandomState(0), threshold=0.0)
    with pytest.raises(ValueError, match="units"):
        filtering.train_filter_train(X, Y, 3, threshold=0.0, units="cm")
    with pytest.raises(ValueError, match="split"):
        filtering.train_filter_train(X, Y, 3, threshold=0.0, split="yes")
    with pytest.raises(ValueError, match="kept 0 pair"):
        filtering.train_filter_train(X, Y, 3, threshold=np.inf)
    with pytest.raises(ValueError, match="at least 8 pairs"):
        filtering.train_filter_train(X[:7], Y[:7], 3, threshold=0.0)
    with pytest.raises(ValueError, match="matched must be a boolean mask"):
        filtering.clean_only(X, Y, 3, s.matched[:-1])
    with pytest.raises(ValueError, match="teacher must be a pair"):
        filtering.filter_with_teacher(X, Y, 3, model.U1.T, threshold=0.0)
    with pytest.raises(ValueError, match="isotropic noise"):
        hetero = data.LatentFactorModel.random(6, 5, 3, rng, noise_std1=np.linspace(0.1, 1, 6), noise_std2=0.5)
        filtering.filtered_first_order_error(hetero, 100, 0.5, rng, threshold=0.0)
    with pytest.raises(ValueError, match="model must be a LatentFactorModel"):
        filtering.filtered_population_cross_covariance("model", 0.5, rng, threshold=0.0)
    with pytest.raises(ValueError, match="noise_std1"):
        filtering.score_moments(3, -1.0, 0.5)


def test_true_loading_filter_is_eta_free_at_small_eta_and_beats_the_clean_pairs():
    model = paper_model(25, d1=10, d2=8, r=4, s1=0.01)
    n, errors = 20_000, {}
    for eta in (0.01, 0.002):
        rows = []
        for seed in range(6):
            s = corrupted_sample(model, n, eta, 200 + seed)
            filtered = filtering.true_loading_filter(s.X, s.Y, 4, model.U1, model.U2, threshold=0.0)
            clean = filtering.clean_only(s.X, s.Y, 4, s.matched)
            G = spectral.closed_form_mmcl(s.X, s.Y, 4)
            rows.append([subspace_error(M, model.U1) for M in (filtered.G1, clean.G1, G[0])])
        errors[eta] = np.sqrt(np.mean(np.square(rows), axis=0))          # RMS over seeds
    filtered_ratio = errors[0.002][0] / errors[0.01][0]
    assert abs(filtered_ratio - 1) < 0.15                    # eta five times smaller, error unchanged
    assert errors[0.002][1] / errors[0.01][1] > 1.8          # clean pairs only: ~ sqrt(5) = 2.24
    assert errors[0.002][0] < errors[0.002][1] / 3           # the filter beats the clean-only oracle
    assert errors[0.01][2] > 10 * errors[0.01][0]            # and no filtering by far
