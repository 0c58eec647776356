"""How well an encoder did (mmcl_lib.metrics): sin-theta, subspace error, the random-subspace level,
retrieval and nearest-prototype accuracy."""

import numpy as np
import pytest

from mmcl_lib import data, metrics


def block_labels(n, k, rng):
    """n labels, k classes of (nearly) equal size, in random order."""
    return rng.permutation(np.arange(n) % k)


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


def test_metrics_reject_bad_bases():
    U = np.eye(5)[:, :2]
    with pytest.raises(ValueError, match="orthonormal columns"):
        metrics.sin_theta(2 * U, U)
    with pytest.raises(ValueError, match="U must have 5 rows"):
        metrics.sin_theta(U, np.eye(4)[:, :2])
    with pytest.raises(ValueError, match="rank below"):
        metrics.orthonormal_basis(np.ones((5, 2)))
    with pytest.raises(ValueError, match="similarity"):
        metrics.retrieval_accuracy(np.eye(2), np.eye(2), np.eye(2), np.eye(2), similarity="dot")


def test_prototype_accuracy_is_one_for_separated_classes_and_symmetric():
    rng = np.random.default_rng(7)
    lx, ly = block_labels(30, 3, rng), block_labels(24, 3, rng)
    centres = np.eye(3)
    X = centres[lx] + 0.05 * rng.standard_normal((30, 3))
    Y = centres[ly] + 0.05 * rng.standard_normal((24, 3))
    I = np.eye(3)
    assert metrics.nearest_prototype_accuracy(I, I, X, Y, lx, ly) == 1.0
    # a permutation of the classes in one modality's embedding makes every answer wrong
    P = I[[1, 2, 0]]
    assert metrics.nearest_prototype_accuracy(I, P, X, Y, lx, ly) == 0.0
    # swapping the modalities gives the same score
    perm = rng.permutation(3)
    G = I[perm]
    assert metrics.nearest_prototype_accuracy(I, G, X, Y, lx, ly) == \
        metrics.nearest_prototype_accuracy(G, I, Y, X, ly, lx)


def test_prototype_accuracy_rejects_mismatched_labels():
    X, Y = np.eye(3), np.eye(3)
    with pytest.raises(ValueError, match="same set of classes"):
        metrics.nearest_prototype_accuracy(np.eye(3), np.eye(3), X, Y, np.array([0, 1, 2]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="one label per row"):
        metrics.nearest_prototype_accuracy(np.eye(3), np.eye(3), X, Y, np.array([0, 1]), np.array([0, 1, 2]))
