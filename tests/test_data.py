"""The latent-factor model of Chapters 3-4 (mmcl_lib.data): its draws, its population moments, its checks."""

import numpy as np
import pytest

from mmcl_lib import data, spectral


def test_haar_orthonormal_has_orthonormal_columns_and_is_seeded():
    Q = data.haar_orthonormal(30, 4, np.random.default_rng(0))
    np.testing.assert_allclose(Q.T @ Q, np.eye(4), atol=1e-12)
    np.testing.assert_array_equal(Q, data.haar_orthonormal(30, 4, np.random.default_rng(0)))


@pytest.mark.parametrize("eta", [1.0, 0.4])
def test_population_cross_covariance_by_simulation(eta):
    rng = np.random.default_rng(1)
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    model = data.LatentFactorModel.random(5, 4, 2, rng, noise_std1=np.linspace(0.2, 1.0, 5),
                                          noise_std2=0.5, latent_cov=cov)
    n = 200_000
    sample = model.sample(n, rng, eta=eta)
    assert sample.matched.sum() == round(eta * n)
    empirical = sample.X.T @ sample.Y / n
    # Each entry averages n products x_a y_b with E[x_a^2 y_b^2] <= 3 Var(x_a) Var(y_b) (Gaussian),
    # so its standard error is below sqrt(3 * max Var x * max Var y / n); allow 5 standard errors.
    var_x = np.diag(model.U1 @ cov @ model.U1.T) + model.noise_std1 ** 2
    var_y = np.diag(model.U2 @ cov @ model.U2.T) + model.noise_std2 ** 2
    tolerance = 5 * np.sqrt(3 * var_x.max() * var_y.max() / n)
    error = np.abs(empirical - model.population_cross_covariance(eta)).max()
    assert error < tolerance
    assert tolerance < 0.05 * np.abs(model.population_cross_covariance(eta)).max() * 2 / eta


def test_unpaired_sample_hides_a_true_pairing():
    rng = np.random.default_rng(2)
    model = data.LatentFactorModel.random(6, 5, 2, rng, noise_std1=0.0)
    u = model.sample_unpaired(50, rng)
    assert sorted(u.hidden_partner) == list(range(50))
    # noiseless: x_i = U1 z and y_partner = U2 z, so U1^T x_i equals U2^T y_partner exactly
    np.testing.assert_allclose(u.X @ model.U1, u.Y[u.hidden_partner] @ model.U2, atol=1e-12)
    assert not np.allclose(u.X @ model.U1, u.Y @ model.U2)


@pytest.mark.parametrize("r", [0, 4, 2.5, True])
def test_rank_must_fit_the_dimensions(r):
    with pytest.raises(ValueError, match="r must be an integer"):
        spectral.svd_minimizer(np.ones((4, 3)), r, 1.0)
    with pytest.raises(ValueError, match="r must be an integer"):
        data.LatentFactorModel.random(4, 3, r, np.random.default_rng(0))


@pytest.mark.parametrize("eta", [0, -0.1, 1.5, np.nan])
def test_eta_must_be_a_fraction(eta):
    model = data.LatentFactorModel.random(4, 3, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="eta"):
        model.sample(10, np.random.default_rng(1), eta=eta)


def test_data_model_needs_a_generator_and_valid_parts():
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        data.haar_orthonormal(4, 2, 0)
    with pytest.raises(ValueError, match="orthonormal"):
        data.LatentFactorModel(np.ones((4, 2)), np.eye(3)[:, :2], np.eye(2), 1.0, 1.0)
    with pytest.raises(ValueError, match="positive definite"):
        data.LatentFactorModel.random(4, 3, 2, np.random.default_rng(0), latent_cov=-np.eye(2))
    with pytest.raises(ValueError, match="noise_std1 must have length 4"):
        data.LatentFactorModel.random(4, 3, 2, np.random.default_rng(0), noise_std1=[1.0, 2.0])
    with pytest.raises(ValueError, match="n must be an integer"):
        data.LatentFactorModel.random(4, 3, 2, np.random.default_rng(0)).sample(1, np.random.default_rng(0))


def test_heteroskedastic_std_profile():
    std = data.heteroskedastic_std(10, 0.7, 9.0)
    assert np.mean(std**2) == pytest.approx(0.49)
    assert std.max() ** 2 / std.min() ** 2 == pytest.approx(9.0)
    np.testing.assert_allclose(data.heteroskedastic_std(5, 2.0), 2.0)
    with pytest.raises(ValueError, match="ratio"):
        data.heteroskedastic_std(5, 1.0, 0.5)


def test_binomial_clean_count_draws_independent_coins():
    """clean_count="binomial" (Chapter 8's corruption model): each pair is clean with probability eta."""
    model = data.LatentFactorModel.random(4, 3, 2, np.random.default_rng(3), noise_std1=0.0)
    n, eta, draws = 200, 0.3, 400
    rng = np.random.default_rng(4)
    counts = np.array([model.sample(n, rng, eta=eta, clean_count="binomial").matched.sum()
                       for _ in range(draws)])
    mean, var = n * eta, n * eta * (1 - eta)                     # Binomial(n, eta)
    assert abs(counts.mean() - mean) < 4 * np.sqrt(var / draws)  # 4 standard errors
    assert abs(counts.var() / var - 1) < 4 * np.sqrt(2 / draws)  # chi-square: relative sd sqrt(2/draws)
    # noiseless, so U2^T y is the second latent: equal to z on clean pairs, independent of it otherwise
    s = model.sample(20_000, rng, eta=eta, clean_count="binomial")
    latent2 = s.Y @ model.U2
    np.testing.assert_allclose(latent2[s.matched], s.Z[s.matched], atol=1e-12)
    corrupted = ~s.matched
    corr = np.corrcoef(latent2[corrupted, 0], s.Z[corrupted, 0])[0, 1]
    assert abs(corr) < 4 / np.sqrt(corrupted.sum())
    assert model.sample(n, rng, eta=eta).matched.sum() == round(eta * n)     # the default is unchanged


def test_clean_count_must_be_named():
    model = data.LatentFactorModel.random(4, 3, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="clean_count must be one of"):
        model.sample(10, np.random.default_rng(1), clean_count="poisson")
