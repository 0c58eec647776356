"""Unimodal baselines (Chapter 4): PCA and random-masking contrastive learning, their population
targets, and the data-model options they are compared under (heteroskedastic and cross-correlated noise)."""

import itertools

import numpy as np
import pytest

from mmcl_lib import baselines, data, metrics
from mmcl_lib.book import sweep


pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _rank_one_model(angle, latent_var, noise_var):
    """d = 2, r = 1: loading (cos a, sin a), latent variance lambda, noise variances (v1, v2)."""
    u = np.array([[np.cos(angle)], [np.sin(angle)]])
    return data.LatentFactorModel(u, u, [[latent_var]], np.sqrt(noise_var), np.sqrt(noise_var))


@pytest.mark.parametrize("angle, latent_var, noise_var", [
    (0.3, 1.0, (0.5, 2.0)), (1.0, 2.0, (1.5, 0.1)), (np.pi / 4, 0.5, (1.0, 1.0))])
def test_pca_population_bias_equals_its_closed_form(angle, latent_var, noise_var):
    # The top eigenvector of lambda u u^T + diag(v1, v2) has angle theta with
    # tan(2 theta) = lambda sin(2a) / (lambda cos(2a) + v1 - v2), so PCA's sin-theta is |sin(theta - a)|.
    model = _rank_one_model(angle, latent_var, noise_var)
    theta = 0.5 * np.arctan2(latent_var * np.sin(2 * angle),
                             latent_var * np.cos(2 * angle) + noise_var[0] - noise_var[1])
    expected = abs(np.sin(theta - angle))
    errors = baselines.population_errors(model)
    assert errors["pca"] == pytest.approx(expected, abs=1e-12)
    if noise_var[0] == noise_var[1]:
        assert expected < 1e-12          # homoskedastic noise: PCA is unbiased
    else:
        assert expected > 0.01


def test_masking_expectation_is_the_diagonal_removed_covariance_exactly():
    # Linear in each sample's mask: averaging over all 2^d masks (the same for every row) is the
    # exact expectation, remove_diagonal(Xc^T Xc / n) / 4.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 4)) + 3.0
    masks = [np.broadcast_to(np.array(bits, dtype=bool), X.shape)
             for bits in itertools.product([False, True], repeat=4)]
    average = np.mean([baselines.masked_view_cross_covariance(X, m) for m in masks], axis=0)
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(average, baselines.remove_diagonal(Xc.T @ Xc / 7) / 4, atol=1e-12)
    one = baselines.masked_view_cross_covariance(X, baselines.random_masks(7, 4, rng))
    np.testing.assert_allclose(one, one.T)
    np.testing.assert_array_equal(np.diag(one), 0.0)


def test_unimodal_cl_population_target_ignores_diagonal_noise():
    rng = np.random.default_rng(1)
    d, r = 30, 3
    U = data.haar_orthonormal(d, r, rng)
    clean = data.LatentFactorModel(U, U, np.eye(r), 0.0, 0.0)
    noisy = data.LatentFactorModel(U, U, np.eye(r), data.heteroskedastic_std(d, 1.0, 20.0), 0.3)
    e_clean, e_noisy = baselines.population_errors(clean), baselines.population_errors(noisy)
    assert e_noisy["unimodal_cl"] == pytest.approx(e_clean["unimodal_cl"], abs=1e-12)
    assert e_clean["unimodal_cl"] > 1e-3          # the signal's diagonal is removed too: a bias
    assert e_clean["pca"] < 1e-12 < 0.1 < e_noisy["pca"]
    assert e_noisy["mmcl"] < 1e-12


def test_unimodal_cl_bias_shrinks_with_dimension():
    # The removed diagonal of U U^T has entries about r/d: the bias decays as d grows.
    means = []
    for d in (10, 40, 160):
        errs = [baselines.population_errors(data.LatentFactorModel.random(
            d, d, 3, np.random.default_rng(s), noise_std1=0.0))["unimodal_cl"] for s in range(8)]
        means.append(np.mean(errs))
    assert means[0] > 2 * means[1] > 4 * means[2] > 0


@pytest.mark.parametrize("eta", [1.0, 0.3, 0.05])
def test_mmcl_population_error_is_zero_for_every_eta(eta):
    rng = np.random.default_rng(2)
    model = data.LatentFactorModel.random(25, 18, 4, rng, noise_std1=data.heteroskedastic_std(25, 2.0, 50.0),
                                          noise_std2=data.heteroskedastic_std(18, 0.5, 5.0),
                                          latent_cov=np.diag([3.0, 2.0, 1.0, 0.5]))
    assert baselines.population_errors(model, eta)["mmcl"] < 1e-10


def test_sample_estimators_approach_their_population_targets():
    # PCA converges to the (biased) top eigenspace of E[x x^T], masking CL to that of its
    # diagonal-removed version: the distance to each target falls as n grows 16-fold (rate n^{-1/2}).
    model = data.LatentFactorModel.random(12, 12, 2, np.random.default_rng(3),
                                          noise_std1=data.heteroskedastic_std(12, 0.8, 10.0))
    cov = model.population_covariance(1)
    targets = {"pca": np.linalg.eigh(cov)[1][:, -2:],
               "cl": np.linalg.eigh(baselines.remove_diagonal(cov))[1][:, -2:]}
    dist = {k: [] for k in targets}
    for n in (2_000, 32_000):
        for seed in range(5):
            rng = np.random.default_rng(seed)
            X = model.sample(n, rng).X
            dist["pca"].append(metrics.sin_theta(baselines.pca(X, 2).T, targets["pca"]))
            dist["cl"].append(metrics.sin_theta(baselines.unimodal_cl(X, 2, rng).T, targets["cl"]))
    for k, v in dist.items():
        small_n, large_n = np.mean(v[:5]), np.mean(v[5:])
        assert 2.5 < small_n / large_n < 6.5, k       # sqrt(16) = 4




def test_correlated_noise_biases_the_cross_covariance_by_simulation():
    rng = np.random.default_rng(4)
    std1, std2 = np.linspace(0.5, 1.5, 6), np.linspace(1.0, 0.2, 4)
    model = data.LatentFactorModel.random(6, 4, 2, rng, noise_std1=std1, noise_std2=std2,
                                          noise_corr=[0.9, -0.5, 0.0, 0.3])
    C = model.noise_cross_covariance()
    np.testing.assert_allclose(np.diag(C), [0.9 * 0.5 * 1.0, -0.5 * 0.7 * std2[1], 0.0, 0.3 * 1.1 * std2[3]])
    n = 200_000
    s = model.sample(n, rng, eta=0.5)
    tolerance = 5 * np.sqrt(3 * (1 + std1.max() ** 2) * (1 + std2.max() ** 2) / n)
    assert np.abs(s.X.T @ s.Y / n - model.population_cross_covariance(0.5)).max() < tolerance < np.abs(C).max()


def test_correlated_noise_biases_mmcl_population():
    rng = np.random.default_rng(5)
    std = data.heteroskedastic_std(20, 1.0, 30.0)[::-1]       # the largest noise on the first coordinates
    clean = data.LatentFactorModel.random(20, 20, 3, rng, noise_std1=std)
    biased = data.LatentFactorModel(clean.U1, clean.U2, clean.latent_cov, std, std, 0.8)
    assert baselines.population_errors(clean)["mmcl"] < 1e-10
    assert baselines.population_errors(biased)["mmcl"] > 0.3
    assert baselines.population_errors(biased, 0.3)["mmcl"] > baselines.population_errors(biased)["mmcl"]


def test_baselines_reject_bad_inputs():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((10, 5))
    with pytest.raises(ValueError, match="r"):
        baselines.pca(X, 6)
    with pytest.raises(ValueError, match="rng"):
        baselines.unimodal_cl(X, 2, 0)
    with pytest.raises(ValueError, match="masks"):
        baselines.masked_view_cross_covariance(X, np.ones((10, 4), dtype=bool))
    with pytest.raises(ValueError, match="masks"):
        baselines.masked_view_cross_covariance(X, np.ones((10, 5)))
    with pytest.raises(ValueError, match="model"):
        baselines.population_errors("model")
    with pytest.raises(ValueError, match="noise_corr"):
        data.LatentFactorModel.random(5, 4, 2, rng, noise_corr=1.5)
    with pytest.raises(ValueError, match="noise_corr"):
        data.LatentFactorModel.random(5, 4, 2, rng, noise_corr=[0.1, 0.2])
    with pytest.raises(ValueError, match="modality"):
        data.LatentFactorModel.random(5, 4, 2, rng).population_covariance(3)


def test_mmcl_first_order_error_matches_simulation():
    # Heteroskedastic noises and a non-identity latent covariance, in the small-error regime.
    rng = np.random.default_rng(7)
    model = data.LatentFactorModel.random(15, 12, 2, rng, noise_std1=data.heteroskedastic_std(15, 0.8, 10.0),
                                          noise_std2=0.6, latent_cov=[[2.0, 0.3], [0.3, 1.0]])
    n, eta = 20_000, 0.6
    sq = []
    for seed in range(30):
        s = model.sample(n, np.random.default_rng(seed), eta=eta)
        sq.append(baselines.recovery_errors(model, s, rng)["mmcl"] ** 2)
    predicted = baselines.mmcl_first_order_error(model, n, eta)
    assert 0.9 < np.sqrt(np.mean(sq)) / predicted < 1.1
    # isotropic special case r (d1 - r) s1^2 (1 + s2^2) / (eta^2 n)
    iso = data.LatentFactorModel.random(10, 8, 3, rng, noise_std1=0.5, noise_std2=2.0)
    assert baselines.mmcl_first_order_error(iso, 100, 0.5) == pytest.approx(
        np.sqrt(3 * 7 * 0.25 * 5.0 / (0.25 * 100)))
    with pytest.raises(ValueError, match="noise_corr"):
        baselines.mmcl_first_order_error(data.LatentFactorModel.random(5, 5, 1, rng, noise_corr=0.5), 10)


# --------------------------------------------------------------------------- recovery rates (Chapters 3-4)

def _errors(rng, n, eta, d=20, r=3):
    model = data.LatentFactorModel.random(d, d, r, rng, noise_std1=data.heteroskedastic_std(d, 0.8, 10.0))
    return baselines.recovery_errors(model, model.sample(n, rng, eta=eta), rng)


def test_mmcl_error_decays_like_one_over_sqrt_n():
    res = sweep.sweep(_errors, {"n": [500, 2000, 8000], "eta": [1.0]}, 8, common_random_numbers=True)
    slope = sweep.loglog_slope(res.grid["n"], res.mean("mmcl")[:, 0])
    assert -0.65 < slope < -0.35
    # PCA does not converge to the features under heteroskedastic noise: its error stays put
    pca = res.mean("pca")[:, 0]
    assert pca[-1] > 0.5 * pca[0]


def test_error_shrinks_as_eta_grows_and_scales_like_one_over_eta():
    etas = [0.25, 0.5, 1.0]
    res = sweep.sweep(_errors, {"n": [20_000], "eta": etas}, 8, common_random_numbers=True)
    mean = res.mean("mmcl")[0]
    assert np.all(np.diff(mean) < 0)
    scaled = mean * np.array(etas)                 # about constant in the small-error regime
    assert scaled.max() / scaled.min() < 1.5


def test_homoskedastic_correlated_noise_biases_mmcl_unless_the_loadings_agree():
    # C = c sigma^2 I is not harmless: eta U1 U2^T + c I has left singular vectors that mix in U2,
    # so MMCL's population target moves (about 0.35 at c = 0.1, eta = 0.5); with U2 = U1 it does not
    errs = []
    for seed in range(5):
        model = data.LatentFactorModel.random(20, 20, 4, np.random.default_rng(seed), noise_std1=1.0, noise_corr=0.1)
        errs.append(baselines.population_errors(model, 0.5)["mmcl"])
        same = data.LatentFactorModel(model.U1, model.U1, model.latent_cov, 1.0, 1.0, 0.1)
        assert baselines.population_errors(same, 0.5)["mmcl"] < 1e-10
    assert 0.25 < np.mean(errs) < 0.45
