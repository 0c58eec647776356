"""The paper's training recipe (Chapter 5): AdamW, the minibatch loop, CLIP phase 1."""

import numpy as np
import pytest

from mmcl_lib import losses, training
from mmcl_lib.data import LatentFactorModel
from mmcl_lib.metrics import orthonormal_basis, sin_theta
from mmcl_lib.training import AdamW, batch_slices, init_encoders, minibatch_training, train_clip


def test_adamw_two_steps_match_the_definition():
    lr, b1, b2, eps, wd = 0.1, 0.9, 0.99, 1e-8, 0.5
    opt = AdamW(lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    p = np.array([[1.0, -2.0]])
    g1, g2 = np.array([[0.5, 1.0]]), np.array([[-1.0, 2.0]])
    (p1,) = opt.step((p,), (g1,))
    # step 1: bias-corrected moments are g and g^2, so the Adam part is g / (|g| + eps)
    expected1 = p * (1 - lr * wd) - lr * g1 / (np.abs(g1) + eps)
    np.testing.assert_allclose(p1, expected1, rtol=1e-12)
    (p2,) = opt.step((p1,), (g2,))
    m = b1 * (1 - b1) * g1 + (1 - b1) * g2
    v = b2 * (1 - b2) * g1 ** 2 + (1 - b2) * g2 ** 2
    expected2 = p1 * (1 - lr * wd) - lr * (m / (1 - b1 ** 2)) / (np.sqrt(v / (1 - b2 ** 2)) + eps)
    np.testing.assert_allclose(p2, expected2, rtol=1e-12)
    assert opt.t == 2


def test_adamw_weight_decay_is_decoupled_from_the_gradient():
    # zero gradient: AdamW only shrinks the parameters by (1 - lr * wd) (L2-in-the-loss Adam would not)
    opt = AdamW(lr=0.01, weight_decay=0.1)
    p = np.ones((2, 3))
    (p1,) = opt.step((p,), (np.zeros_like(p),))
    np.testing.assert_allclose(p1, p * (1 - 0.001))


def test_init_encoders_follow_the_torch_linear_bounds_and_the_seed():
    G1, G2 = init_encoders(40, 39, 10, np.random.default_rng(0))
    assert G1.shape == (10, 40) and G2.shape == (10, 39)
    assert np.abs(G1).max() <= 1 / np.sqrt(40) and np.abs(G2).max() <= 1 / np.sqrt(39)
    assert np.abs(G1).max() > 0.9 / np.sqrt(40)           # uniform, fills the interval
    H1, _ = init_encoders(40, 39, 10, np.random.default_rng(0))
    np.testing.assert_array_equal(G1, H1)


def test_each_epoch_visits_every_sample_once_in_batches():
    seen = []

    def objective(batch, G1, G2):
        seen.append(batch.copy())
        return 0.0, np.zeros_like(G1), np.zeros_like(G2), None

    G1, G2 = np.ones((1, 2)), np.ones((1, 3))
    minibatch_training(objective, G1, G2, 23, rng=np.random.default_rng(1), epochs=2, batch_size=5)
    sizes = [b.shape[1] for b in seen]
    assert sizes == [5, 5, 5, 5, 3] * 2
    for epoch in (seen[:5], seen[5:]):
        np.testing.assert_array_equal(np.sort(np.concatenate([b[0] for b in epoch])), np.arange(23))
    assert not np.array_equal(seen[0], seen[5])            # reshuffled each epoch


def spy_batches(n, batch_size, epochs, **options):
    seen = []

    def objective(batch, G1, G2):
        seen.append(batch.copy())
        return 0.0, np.zeros_like(G1), np.zeros_like(G2), None

    minibatch_training(objective, np.ones((1, 2)), np.ones((1, 3)), n, epochs=epochs, batch_size=batch_size,
                       **options)
    return seen


def test_fixed_batches_are_the_same_consecutive_blocks_in_every_epoch():
    # the authors' Section 5.1 loop: rows i*b .. (i+1)*b - 1 for i < int(n / b), every epoch
    seen = spy_batches(23, 5, 3, rng=np.random.default_rng(1), batch_order="fixed")
    assert len(seen) == 4 * 3                                 # the incomplete last block is dropped
    for k, batch in enumerate(seen):
        np.testing.assert_array_equal(batch, [np.arange(5 * (k % 4), 5 * (k % 4) + 5)])
    # the stored order needs no randomness: another generator gives the same batches
    again = spy_batches(23, 5, 3, rng=np.random.default_rng(99), batch_order="fixed")
    assert all(np.array_equal(a, b) for a, b in zip(seen, again))


def test_a_second_fixed_stream_is_one_random_order_kept_for_every_epoch():
    seen = spy_batches(40, 8, 2, rng=np.random.default_rng(2), batch_order="fixed", streams=2)
    first, second = seen[:5], seen[5:]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)                   # the same batches in both epochs
    y_order = np.concatenate([b[1] for b in first])
    np.testing.assert_array_equal(np.sort(y_order), np.arange(40))
    assert not np.array_equal(y_order, np.arange(40))         # not the stored order of the x's
    shared = [np.intersect1d(b[0], b[1]).size for b in first]
    assert np.mean(shared) < 4                                # about b^2 / n = 1.6 rows per batch


def test_batch_slices_and_batch_order_are_validated():
    assert batch_slices(23, 5, "fixed") == [slice(0, 5), slice(5, 10), slice(10, 15), slice(15, 20)]
    assert batch_slices(23, 5, "reshuffled")[-1] == slice(20, 25)        # the last batch has 3 rows
    assert len(batch_slices(21, 5, "reshuffled")) == 4                   # a batch of one row is dropped
    with pytest.raises(ValueError, match="batch_order"):
        batch_slices(23, 5, "random")
    with pytest.raises(ValueError, match="batch_size"):
        batch_slices(3, 5, "fixed")
    X, Y = np.ones((6, 3)), np.ones((6, 2))
    with pytest.raises(ValueError, match="batch_order"):
        train_clip(X, Y, np.ones((1, 3)), np.ones((1, 2)), rng=np.random.default_rng(0), batch_order="shuffled")


def test_one_full_batch_epoch_is_one_adamw_step_on_the_clip_gradient():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((12, 5)), rng.standard_normal((12, 4))
    G1, G2 = init_encoders(5, 4, 2, rng)
    res = train_clip(X, Y, G1, G2, rng=np.random.default_rng(3), epochs=1, batch_size=12, tau=0.5)
    # the CLIP loss does not depend on the order of the pairs, so the shuffle does not matter
    _, dG1, dG2 = losses.clip(0.5, similarity="cosine").value_and_grad(G1, G2, X, Y)
    E1, E2 = AdamW().step((G1, G2), (dG1, dG2))
    np.testing.assert_allclose(res.G1, E1, rtol=1e-12)
    np.testing.assert_allclose(res.G2, E2, rtol=1e-12)


def test_train_clip_moves_towards_the_shared_features_and_is_seeded():
    rng = np.random.default_rng(4)
    model = LatentFactorModel.random(12, 10, 3, rng, noise_std1=0.3)
    pairs = model.sample(200, rng)
    G1, G2 = init_encoders(12, 10, 3, rng)
    res = train_clip(pairs.X, pairs.Y, G1, G2, rng=np.random.default_rng(5), epochs=40,
                     optimizer=AdamW(lr=0.02))
    assert res.history.loss[-1] < res.history.loss[0] - 0.1

    def distance(G):
        return sin_theta(orthonormal_basis(G.T), model.U1)

    # a random 3-subspace of R^12 is at distance about sqrt(3 (1 - 3/12)) = 1.5 from span(U1);
    # cosine CLIP at tau = 1 moves towards it (though less far than the closed form: Chapter 5)
    assert distance(G1) > 1.2 and distance(res.G1) < distance(G1) - 0.4
    again = train_clip(pairs.X, pairs.Y, G1, G2, rng=np.random.default_rng(5), epochs=40,
                       optimizer=AdamW(lr=0.02))
    np.testing.assert_array_equal(res.G1, again.G1)


@pytest.mark.parametrize("kwargs, word", [
    ({"lr": -1.0}, "lr"), ({"betas": (1.0, 0.9)}, "betas"), ({"eps": 0.0}, "eps"),
    ({"weight_decay": -0.1}, "weight_decay")])
def test_adamw_rejects_bad_hyperparameters(kwargs, word):
    with pytest.raises(ValueError, match=word):
        AdamW(**kwargs)


def test_training_rejects_bad_inputs():
    X, Y = np.ones((6, 3)), np.ones((6, 2))
    G1, G2 = np.ones((1, 3)), np.ones((1, 2))
    with pytest.raises(ValueError, match="rng"):
        train_clip(X, Y, G1, G2, rng=0)
    with pytest.raises(ValueError, match="batch_size"):
        train_clip(X, Y, G1, G2, rng=np.random.default_rng(0), batch_size=1)
    with pytest.raises(ValueError, match="G2"):
        train_clip(X, Y, G1, np.ones((1, 3)), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="params and grads"):
        AdamW().step((G1, G2), (G1,))


def test_train_clip_validates_once_however_many_batches(monkeypatch):
    from mmcl_lib import _validation
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((120, 6)), rng.standard_normal((120, 5))
    G1, G2 = training.init_encoders(6, 5, 2, np.random.default_rng(1))
    counts = []
    for epochs in (1, 6):
        calls = []
        original = _validation.as_matrix
        monkeypatch.setattr(_validation, "as_matrix", lambda *a, **k: calls.append(1) or original(*a, **k))
        fit = training.train_clip(X, Y, G1, G2, rng=np.random.default_rng(2), epochs=epochs, batch_size=20)
        monkeypatch.setattr(_validation, "as_matrix", original)
        counts.append(len(calls))
        assert isinstance(fit, training.TrainingResult) and isinstance(fit.optimizer, training.AdamW)
    assert counts[0] == counts[1] == 6                  # train_clip's X, Y, G1, G2; the loop's G1, G2
