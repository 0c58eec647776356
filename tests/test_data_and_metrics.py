"""The latent-factor model, the sin-theta distance and retrieval accuracy."""

import numpy as np
import pytest

from mmcl_lib import data, metrics


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


def test_sin_theta_identical_orthogonal_and_random():
    rng = np.random.default_rng(3)
    d, r = 400, 5
    Q = data.haar_orthonormal(d, 2 * r, rng)
    U, V = Q[:, :r], Q[:, r:]
    assert metrics.sin_theta(U, U) == pytest.approx(0.0, abs=1e-12)
    rotated = U @ data.haar_orthonormal(r, r, rng)           # same subspace, other basis
    assert metrics.sin_theta(rotated, U) == pytest.approx(0.0, abs=1e-7)
    assert metrics.sin_theta(V, U) == pytest.approx(np.sqrt(r), rel=1e-12)
    # random subspace: squared distance about r (1 - r/d); its spread is O(r/sqrt(d))
    squares = [metrics.sin_theta(data.haar_orthonormal(d, r, rng), U) ** 2 for _ in range(200)]
    assert np.mean(squares) == pytest.approx(r * (1 - r / d), abs=0.01)


def test_orthonormal_basis_of_an_encoder_row_space():
    rng = np.random.default_rng(4)
    U = data.haar_orthonormal(8, 3, rng)
    G = rng.standard_normal((3, 3)) @ U.T                     # rows span span(U)
    assert metrics.sin_theta(metrics.orthonormal_basis(G.T), U) == pytest.approx(0.0, abs=1e-10)


def test_retrieval_accuracy_perfect_chance_and_chunking():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((500, 4))
    I = np.eye(4)
    assert metrics.retrieval_accuracy(I, I, X, X) == 1.0
    Y = rng.standard_normal((500, 4))
    acc = metrics.retrieval_accuracy(I, I, X, Y)
    assert acc < 0.03                                         # chance is 1/500
    noisy = X + 0.3 * rng.standard_normal(X.shape)
    a = metrics.retrieval_accuracy(I, I, X, noisy, chunk=7)
    b = metrics.retrieval_accuracy(I, I, X, noisy, chunk=5000)
    assert a == b and 0.2 < a < 1.0
