"""Class-level pairing graphs of Chapter 6: corruption, co-clustering denoising, multi-positive InfoNCE."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from mmcl_lib import graph, losses, metrics, solvers

pytest.importorskip("sklearn")


def finite_difference(f, A):
    """Forward-difference gradient of the scalar function ``f`` at the matrix ``A`` (scipy)."""
    return approx_fprime(A.ravel(), lambda a: f(a.reshape(A.shape)), 1e-7).reshape(A.shape)


def problem(seed=0, n1=9, n2=7, d1=5, d2=4, r=3):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((n1, d1)), rng.standard_normal((n2, d2))
    G1, G2 = rng.standard_normal((r, d1)), rng.standard_normal((r, d2))
    T = rng.random((n1, n2)) < 0.3
    T[0, 0] = True
    return G1, G2, X, Y, T


def block_labels(n, k, rng):
    return rng.permutation(np.arange(n) % k)


# --------------------------------------------------------------------------- graphs

def test_class_graph_links_equal_labels():
    T = graph.class_graph(np.array([0, 1, 1]), np.array([1, 0]))
    np.testing.assert_array_equal(T, [[False, True], [True, False], [True, False]])


@pytest.mark.parametrize("p", [0.1, 0.3])
def test_corruption_flips_each_entry_with_probability_p(p):
    rng = np.random.default_rng(0)
    T = graph.class_graph(block_labels(300, 10, rng), block_labels(300, 10, rng))
    flipped = graph.corrupt_graph(T, p, rng) != T
    # binomial(90000, p): four standard deviations
    assert abs(flipped.mean() - p) < 4 * np.sqrt(p * (1 - p) / T.size)
    # edges and non-edges flip at the same rate
    assert abs(flipped[T].mean() - flipped[~T].mean()) < 0.02


def test_corruption_extremes():
    rng = np.random.default_rng(1)
    T = rng.random((20, 30)) < 0.5
    np.testing.assert_array_equal(graph.corrupt_graph(T, 0.0, rng), T)
    np.testing.assert_array_equal(graph.corrupt_graph(T, 1.0, rng), ~T)


def test_denoising_recovers_a_clean_block_graph_exactly():
    rng = np.random.default_rng(2)
    T = graph.class_graph(block_labels(60, 4, rng), block_labels(50, 4, rng))
    np.testing.assert_array_equal(graph.denoise_graph(T, 4, rng), T)


def test_denoising_repairs_a_noisy_block_graph():
    # 3 blocks of 50: block signal (1 - 2p) n/k = 30 against noise ~ 2 sqrt(n p (1-p)) ~ 10
    rng = np.random.default_rng(3)
    T = graph.class_graph(block_labels(150, 3, rng), block_labels(150, 3, rng))
    noisy = graph.corrupt_graph(T, 0.2, rng)
    denoised = graph.denoise_graph(noisy, 3, rng)
    assert np.mean(noisy == T) < 0.85
    np.testing.assert_array_equal(denoised, T)


def test_denoised_graph_is_a_union_of_bicliques():
    rng = np.random.default_rng(4)
    noisy = graph.corrupt_graph(graph.class_graph(block_labels(40, 3, rng), block_labels(30, 3, rng)), 0.3, rng)
    D = graph.denoise_graph(noisy, 5, rng)
    # rows in the same co-cluster have identical neighbourhoods, others disjoint ones
    rows = {tuple(row) for row in D.astype(int)}
    patterns = np.array(sorted(rows))
    overlaps = patterns @ patterns.T
    assert np.all(overlaps[~np.eye(len(patterns), dtype=bool)] == 0)
    assert len(rows) <= 5


def test_denoise_needs_an_edge_in_every_row_and_column():
    T = np.eye(4, dtype=bool)
    T[2, 2] = False
    with pytest.raises(ValueError, match="every row"):
        graph.denoise_graph(T, 2, np.random.default_rng(0))


@pytest.mark.parametrize("call, match", [
    (lambda rng: graph.corrupt_graph(np.eye(3), 1.5, rng), "p"),
    (lambda rng: graph.corrupt_graph(np.full((2, 2), 0.5), 0.1, rng), "0/1"),
    (lambda rng: graph.corrupt_graph(np.ones(3), 0.1, rng), "2-D"),
    (lambda rng: graph.corrupt_graph(np.eye(3), 0.1, 7), "rng"),
    (lambda rng: graph.denoise_graph(np.eye(3), 4, rng), "k"),
    (lambda rng: graph.denoise_graph(np.eye(3), 1, rng), "k"),
    (lambda rng: graph.class_graph(np.zeros((2, 2)), np.zeros(2)), "labels_x"),
])
def test_graph_helpers_reject_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call(np.random.default_rng(0))


# --------------------------------------------------------------------------- multi-positive InfoNCE

@pytest.mark.parametrize("similarity", ["inner", "cosine"])
@pytest.mark.parametrize("tau", [0.5, 1.0])
def test_gradient_matches_finite_differences(similarity, tau):
    G1, G2, X, Y, T = problem()
    T[:, 3] = False                           # a y without positive: its anchor term is skipped
    loss = graph.MultiPositiveInfoNCE(T, tau, similarity=similarity)
    _, dG1, dG2 = loss.value_and_grad(G1, G2, X, Y)
    np.testing.assert_allclose(dG1, finite_difference(lambda A: loss.value(A, G2, X, Y), G1), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(dG2, finite_difference(lambda B: loss.value(G1, B, X, Y), G2), rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("similarity", ["inner", "cosine"])
def test_identity_graph_gives_the_clip_loss_and_gradient(similarity):
    G1, G2, X, _, _ = problem(n1=8)
    Y = np.random.default_rng(5).standard_normal((8, 4))
    ours = graph.MultiPositiveInfoNCE(np.eye(8, dtype=bool), 0.7, similarity=similarity)
    clip = losses.clip(0.7, similarity=similarity)
    f, g1, g2 = ours.value_and_grad(G1, G2, X, Y)
    fc, c1, c2 = clip.value_and_grad(G1, G2, X, Y)
    assert f == pytest.approx(fc, rel=1e-12)
    np.testing.assert_allclose(g1, c1, atol=1e-12)
    np.testing.assert_allclose(g2, c2, atol=1e-12)


def test_complete_graph_is_minimised_by_equal_similarities():
    # every entry a positive: each row term is logsumexp_j l_ij - mean_j l_ij >= log n2 (Jensen),
    # with equality iff the row is constant; so the minimum (log n2 + log n1) / 2 is attained at
    # equal similarities, where the gradient vanishes
    G1, G2, X, Y, _ = problem()
    loss = graph.MultiPositiveInfoNCE(np.ones((9, 7), dtype=bool), 1.0, similarity="inner")
    floor = (np.log(7) + np.log(9)) / 2
    f, g1, g2 = loss.value_and_grad(np.zeros_like(G1), np.zeros_like(G2), X, Y)
    assert f == pytest.approx(floor, rel=1e-14)
    assert np.allclose(g1, 0) and np.allclose(g2, 0)
    assert loss.value(G1, G2, X, Y) > floor


def test_single_positive_per_row_at_zero_similarity_is_log_n():
    G1, G2, X, Y, _ = problem(n1=6, n2=6)
    T = np.eye(6, dtype=bool)[::-1]
    loss = graph.MultiPositiveInfoNCE(T, 1.0, similarity="inner")
    assert loss.value(np.zeros_like(G1), np.zeros_like(G2), X, Y) == pytest.approx(np.log(6))


def test_loss_is_invariant_to_a_common_shift_of_the_logits_per_scale():
    # cosine similarity: scaling an encoder leaves the loss unchanged
    G1, G2, X, Y, T = problem(1)
    loss = graph.MultiPositiveInfoNCE(T, 0.5)
    assert loss.value(3.0 * G1, G2, X, Y) == pytest.approx(loss.value(G1, G2, X, Y), rel=1e-12)


def test_gradient_descent_lowers_the_loss_and_separates_classes():
    rng = np.random.default_rng(6)
    k, n, d = 3, 60, 6
    lx, ly = block_labels(n, k, rng), block_labels(n, k, rng)
    means = 3 * rng.standard_normal((k, d))
    X = means[lx] + rng.standard_normal((n, d))
    Y = means[ly] @ rng.standard_normal((d, d)) + rng.standard_normal((n, d))
    loss = graph.MultiPositiveInfoNCE(graph.class_graph(lx, ly), 0.5)
    G1, G2 = 0.1 * rng.standard_normal((2, d)), 0.1 * rng.standard_normal((2, d))
    before = metrics.nearest_prototype_accuracy(G1, G2, X, Y, lx, ly)
    fit = solvers.gradient_descent(loss, G1, G2, X, Y, max_iter=200)
    assert fit.history.loss[-1] < fit.history.loss[0]
    assert metrics.nearest_prototype_accuracy(fit.G1, fit.G2, X, Y, lx, ly) > max(before, 0.95)


@pytest.mark.parametrize("make, match", [
    (lambda T: graph.MultiPositiveInfoNCE(np.zeros((3, 3), dtype=bool)), "no edge"),
    (lambda T: graph.MultiPositiveInfoNCE(T, 0.0), "tau"),
    (lambda T: graph.MultiPositiveInfoNCE(T, similarity="dot"), "similarity"),
])
def test_loss_rejects_bad_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make(np.eye(3, dtype=bool))


def test_loss_rejects_data_that_does_not_match_the_graph():
    G1, G2, X, Y, T = problem()
    loss = graph.MultiPositiveInfoNCE(T)
    with pytest.raises(ValueError, match="X"):
        loss.value(G1, G2, X[:-1], Y)
    with pytest.raises(ValueError, match="G2"):
        loss.value(G1, G2[:, :-1], X, Y)
    with pytest.raises(ValueError, match="zero embedding"):
        loss.value(np.zeros_like(G1), G2, X, Y)


# --------------------------------------------------------------------------- prototype accuracy

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
