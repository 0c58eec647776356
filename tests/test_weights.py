"""What the gradient weights beta mean (Chapter 2): hard negatives weigh more, easy positives less."""

import numpy as np
import pytest

from mmcl_lib import losses


def weights_at(loss, s):
    """The weights of ``loss`` at a prescribed n x n similarity matrix ``s``.

    With X = Y = G2 = I_n and G1 = s^T the similarities are exactly ``s``.
    """
    n = s.shape[0]
    eye = np.eye(n)
    assert np.allclose(loss.similarities(s.T, eye, eye, eye), s)
    return loss.weights(s.T, eye, eye, eye)


def random_similarities(seed, n=8):
    return np.random.default_rng(seed).standard_normal((n, n))


@pytest.mark.parametrize("tau", [0.2, 1.0, 5.0])
def test_a_harder_negative_gets_a_larger_weight(tau):
    s = random_similarities(0)
    loss = losses.clip(tau)
    base = weights_at(loss, s)
    harder = s.copy()
    harder[2, 5] += 0.5                               # y_5 now looks more like x_2
    changed = weights_at(loss, harder)
    assert changed[2, 5] > base[2, 5]
    # and the weights of the other negatives of anchor x_2 shrink (the softmax is shared)
    others = [j for j in range(8) if j not in (2, 5)]
    assert np.all(changed[2, others] < base[2, others])


@pytest.mark.parametrize("tau", [0.2, 1.0, 5.0])
def test_an_easier_positive_gets_a_smaller_weight(tau):
    s = random_similarities(1)
    loss = losses.clip(tau)
    base = weights_at(loss, s)
    easier = s.copy()
    easier[3, 3] += 1.0
    assert weights_at(loss, easier)[3, 3] < base[3, 3]


def test_clip_weights_lie_between_zero_and_one_over_tau():
    tau = 0.3
    beta = weights_at(losses.clip(tau), 3 * random_similarities(2))
    assert np.all(beta > 0) and np.all(beta < 1 / tau)


def test_hot_clip_weights_become_uniform():
    # tau -> infinity: softmaxes are uniform, tau * beta_ij -> 1/n and tau * beta_ii -> (n-1)/n
    n, tau = 8, 1e6
    beta = tau * weights_at(losses.clip(tau), random_similarities(3, n))
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
    beta = tau * weights_at(losses.clip(tau), s)
    masked = np.where(np.eye(n, dtype=bool), -np.inf, s)
    expected = np.zeros((n, n))
    expected[np.arange(n), masked.argmax(axis=1)] += 0.5
    expected[masked.argmax(axis=0), np.arange(n)] += 0.5
    np.fill_diagonal(expected, 1.0)
    np.testing.assert_allclose(beta, expected, atol=1e-6)


def test_linear_loss_weights_ignore_the_similarities():
    n = 6
    for seed in range(3):
        beta = weights_at(losses.linear(), random_similarities(seed, n))
        expected = np.ones((n, n))
        np.fill_diagonal(expected, n - 1)
        np.testing.assert_allclose(beta, expected, atol=1e-14)


@pytest.mark.parametrize("tau", [0.5, 2.0])
def test_weights_at_zero_similarity_are_uniform(tau):
    n = 7
    beta = weights_at(losses.clip(tau), np.zeros((n, n)))
    expected = np.full((n, n), 1 / (n * tau))
    np.fill_diagonal(expected, (n - 1) / (n * tau))
    np.testing.assert_allclose(beta, expected, rtol=1e-13)


def test_weights_do_not_change_when_all_similarities_shift():
    s = random_similarities(5)
    loss = losses.clip(0.7)
    np.testing.assert_allclose(weights_at(loss, s + 3.0), weights_at(loss, s), rtol=1e-12)


def test_decoupled_weights_are_the_clip_weights_without_the_positive():
    # eps = 0 removes the positive from the softmax: every anchor's weights sum to 1/tau.
    tau = 0.5
    beta = weights_at(losses.decoupled_infonce(tau), random_similarities(6))
    np.testing.assert_allclose(np.diag(beta), 1 / tau, rtol=1e-12)
