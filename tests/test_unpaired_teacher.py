"""The Section 5.3 teacher procedure: pseudo-positive indexing, the student's loss, the validation gate."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from mmcl_lib import losses, unpaired


def problem(seed=0, m=7, d1=5, d2=4, r=3):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((r, d1)), rng.standard_normal((r, d2)),
            rng.standard_normal((m, d1)), rng.standard_normal((m, d2)), rng)


def test_pseudo_positives_on_a_known_matrix():
    L0 = np.array([[0.1, 0.9, 0.0],
                   [0.8, 0.2, 0.3],
                   [0.0, 0.1, 0.5],
                   [0.2, 0.7, 0.1]])           # 4 x's, 3 y's
    best_x, best_y = unpaired.teacher_pseudo_positives(L0)
    np.testing.assert_array_equal(best_x, [1, 0, 2])       # best x for each y (column argmax)
    np.testing.assert_array_equal(best_y, [1, 0, 2, 1])    # best y for each x (row argmax)


def test_identity_pseudo_positives_give_the_clip_loss():
    G1, G2, X, Y, _ = problem()
    idx = np.arange(7)
    value, dG1, dG2 = unpaired.teacher_loss(G1, G2, X, Y, idx, idx, tau=0.5)
    ref, r1, r2 = losses.clip(0.5, similarity="cosine").value_and_grad(G1, G2, X, Y)
    assert value == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(dG1, r1, atol=1e-12)
    np.testing.assert_allclose(dG2, r2, atol=1e-12)


def test_a_teacher_that_knows_the_hidden_pairing_gives_clip_on_the_realigned_data():
    # truly unpaired batch: y's in a shuffled order (x_i's partner is Y[position[i]]). A teacher
    # whose logits peak at the true pairs yields the CLIP loss of the realigned pairs. Reading the
    # student's logits at transposed positions (l[j, best_x[j]]) would not, for a non-symmetric
    # permutation such as this 3-cycle plus fixed points.
    G1, G2, X, Y_aligned, _ = problem(1)
    perm = np.array([1, 2, 0, 3, 4, 6, 5])                  # Y_shuffled[k] = Y_aligned[perm[k]]
    Y = Y_aligned[perm]
    position = np.argsort(perm)                             # x_i's partner sits at Y[position[i]]
    teacher = -np.ones((7, 7))
    teacher[np.arange(7), position] = 1.0
    best_x, best_y = unpaired.teacher_pseudo_positives(teacher)
    np.testing.assert_array_equal(best_y, position)
    np.testing.assert_array_equal(best_x, perm)
    value, _, _ = unpaired.teacher_loss(G1, G2, X, Y, best_x, best_y)
    assert value == pytest.approx(losses.clip(1.0, similarity="cosine").value(G1, G2, X, Y_aligned), rel=1e-12)
    # the transposed reading gives a different number here
    logits = losses.clip(1.0, similarity="cosine").similarities(G1, G2, X, Y)
    cols = np.arange(7)
    transposed = 0.5 * (np.mean(np.log(np.exp(logits).sum(axis=0)) - logits[cols, best_x])
                        + np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[best_y, cols]))
    assert abs(transposed - value) > 1e-3


def test_teacher_loss_gradient_matches_finite_differences():
    G1, G2, X, Y, rng = problem(2)
    X = X[:6]                                                # 6 x's, 7 y's: a rectangular batch
    best_x, best_y = rng.integers(0, 6, 7), rng.integers(0, 7, 6)

    def f1(a):
        return unpaired.teacher_loss(a.reshape(G1.shape), G2, X, Y, best_x, best_y, tau=0.7)[0]

    def f2(b):
        return unpaired.teacher_loss(G1, b.reshape(G2.shape), X, Y, best_x, best_y, tau=0.7)[0]

    _, dG1, dG2 = unpaired.teacher_loss(G1, G2, X, Y, best_x, best_y, tau=0.7)
    np.testing.assert_allclose(dG1, approx_fprime(G1.ravel(), f1, 1e-7).reshape(G1.shape), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(dG2, approx_fprime(G2.ravel(), f2, 1e-7).reshape(G2.shape), rtol=1e-5, atol=2e-6)


def test_teacher_loss_rejects_bad_indices():
    G1, G2, X, Y, _ = problem()
    idx = np.arange(7)
    with pytest.raises(ValueError, match="best_x"):
        unpaired.teacher_loss(G1, G2, X, Y, idx[:-1], idx)
    with pytest.raises(ValueError, match="best_y"):
        unpaired.teacher_loss(G1, G2, X, Y, idx, idx + 1)
    with pytest.raises(ValueError, match="best_x"):
        unpaired.teacher_loss(G1, G2, X, Y, idx.astype(float), idx)


@pytest.mark.parametrize("score, best, factor, expected", [
    (0.56, 0.5, 1.1, True), (0.55, 0.5, 1.1, False), (0.54, 0.5, 1.1, False), (0.51, 0.5, 1.0, True),
])
def test_gate_needs_a_relative_gain(score, best, factor, expected):
    assert unpaired.gate_accepts(score, best, factor) is expected


def test_self_training_follows_the_gate():
    # a scripted validation score: loops 1 and 3 pass the gate (> 1.1 x best), loop 2 does not
    G1, G2, X, Y, rng = problem(3, m=40)
    scripted = iter([0.30, 0.40, 0.43, 0.50])       # phase-1 model, then after loops 1, 2, 3
    seen = []

    def validation(A1, A2):
        seen.append((A1.copy(), A2.copy()))
        return next(scripted)

    fit = unpaired.teacher_self_training(X, Y, G1, G2, validation, rng=rng, loops=3, epochs_per_loop=1,
                                         batch_size=10, lr=1e-2)
    assert fit.evaluations == [(0.40, True), (0.43, False), (0.50, True)]
    # the returned teacher is the student validated after loop 3; the student was never reset
    np.testing.assert_array_equal(fit.G1, seen[3][0])
    np.testing.assert_array_equal(fit.student[0], seen[3][0])
    assert not np.allclose(seen[2][0], seen[1][0])   # training went on after the rejected loop


def test_self_training_keeps_the_phase_one_model_when_nothing_passes():
    G1, G2, X, Y, rng = problem(4, m=30)
    fit = unpaired.teacher_self_training(X, Y, G1, G2, lambda A1, A2: 0.5, rng=rng, loops=2,
                                         epochs_per_loop=1, batch_size=10, lr=1e-2)
    np.testing.assert_array_equal(fit.G1, G1)
    np.testing.assert_array_equal(fit.G2, G2)
    assert not np.allclose(fit.student[0], G1)
    assert [accepted for _, accepted in fit.evaluations] == [False, False]


def test_self_training_rejects_bad_arguments():
    G1, G2, X, Y, rng = problem(5, m=20)
    with pytest.raises(ValueError, match="validation"):
        unpaired.teacher_self_training(X, Y, G1, G2, 0.5, rng=rng)
    with pytest.raises(ValueError, match="gate"):
        unpaired.teacher_self_training(X, Y, G1, G2, lambda a, b: 0.0, rng=rng, gate=0)
    with pytest.raises(ValueError, match="streams"):
        unpaired.teacher_self_training(X, Y, G1, G2, lambda a, b: 0.0, rng=rng, streams=3)
