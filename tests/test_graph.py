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
    # 3 blocks of 50: block signal (1 - 2p) n/k = 30, far above the threshold sqrt(n p (1 - p)) ~ 4.9
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





# --------------------------------------------------------------------------- the authors' denoiser

def noisy_ten_class_graph(seed, p=0.3, n=300):
    rng = np.random.default_rng(seed)
    T = graph.class_graph(block_labels(n, 10, rng), block_labels(n, 10, rng))
    return T, graph.corrupt_graph(T, p, rng), rng


def test_default_denoiser_recovers_a_noisy_ten_class_graph():
    # 300 x 300 items, 10 classes, every entry flipped with probability 0.3 (30 % of entries wrong)
    T, noisy, rng = noisy_ten_class_graph(0)
    assert np.mean(noisy == T) < 0.72
    assert np.mean(graph.denoise_graph(noisy, 10, rng) == T) >= 0.95


def test_k_minus_one_vectors_beat_log2_k_vectors_at_k_10():
    # the authors' variant keeps 9 singular vectors, scikit-learn's ceil(log2 10) = 4: four
    # directions cannot keep ten noisy blocks apart, so k-means merges or mixes some of them
    authors, sklearn_ = [], []
    for seed in range(2):
        T, noisy, rng = noisy_ten_class_graph(10 + seed)
        authors.append(np.mean(graph.denoise_graph(noisy, 10, rng, method="authors") == T))
        sklearn_.append(np.mean(graph.denoise_graph(noisy, 10, rng, method="sklearn") == T))
    assert min(authors) >= 0.95
    assert max(sklearn_) < 0.95
    assert np.mean(authors) - np.mean(sklearn_) > 0.03


def test_spectral_embedding_puts_each_class_on_one_point():
    # clean class graph with unequal class sizes: x's and y's of one class land on the same point,
    # different classes on different points
    rng = np.random.default_rng(12)
    lx = rng.permutation(np.r_[np.zeros(10), np.ones(20), np.full(15, 2), np.full(5, 3)]).astype(int)
    ly = rng.permutation(np.r_[np.zeros(7), np.ones(9), np.full(30, 2), np.full(4, 3)]).astype(int)
    Z = graph.spectral_embedding(graph.class_graph(lx, ly), 3)
    assert Z.shape == (100, 3)
    labels = np.r_[lx, ly]
    distances = np.linalg.norm(Z[:, None, :] - Z[None, :, :], axis=2)
    same = labels[:, None] == labels[None, :]
    assert distances[same].max() < 1e-10
    assert distances[~same].min() > 1e-3


def test_spectral_embedding_skips_the_trivial_singular_pair():
    # the first singular vectors are sqrt(degrees): after division by sqrt(degrees) they would be
    # constant; the kept ones are D-orthogonal to the constant vector instead
    T, noisy, _ = noisy_ten_class_graph(3, p=0.2, n=60)
    Z = graph.spectral_embedding(noisy, 4)
    d = np.r_[noisy.sum(axis=1), noisy.sum(axis=0)].astype(float)
    np.testing.assert_allclose(d @ Z, 0, atol=1e-8)
    with pytest.raises(ValueError, match="n_vectors"):
        graph.spectral_embedding(noisy, 60)


def test_denoise_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="method"):
        graph.denoise_graph(np.eye(3), 2, np.random.default_rng(0), method="dhillon")


# --------------------------------------------------------------------------- the authors' loss normalisation

def test_edge_normalised_loss_is_the_sum_over_edges_of_minus_log_softmax():
    G1, G2, X, Y, T = problem(8)
    loss = graph.MultiPositiveInfoNCE(T, 0.5, normalisation="edges", n_edges=40)
    F, H = X @ G1.T, Y @ G2.T
    F, H = F / np.linalg.norm(F, axis=1, keepdims=True), H / np.linalg.norm(H, axis=1, keepdims=True)
    logits = F @ H.T / 0.5
    rows, cols = np.nonzero(T)
    log_soft_rows = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    log_soft_cols = logits - np.log(np.exp(logits).sum(axis=0, keepdims=True))
    expected = -(log_soft_rows[rows, cols].sum() + log_soft_cols[rows, cols].sum()) / 2 / 40
    assert loss.value(G1, G2, X, Y) == pytest.approx(expected, rel=1e-12)
    # the divisor only scales the loss
    default = graph.MultiPositiveInfoNCE(T, 0.5, normalisation="edges")
    assert default.value(G1, G2, X, Y) == pytest.approx(expected * 40 / T.sum(), rel=1e-12)


@pytest.mark.parametrize("similarity", ["inner", "cosine"])
def test_edge_normalised_gradient_matches_finite_differences(similarity):
    G1, G2, X, Y, T = problem(9)
    loss = graph.MultiPositiveInfoNCE(T, 0.7, similarity=similarity, normalisation="edges")
    _, dG1, dG2 = loss.value_and_grad(G1, G2, X, Y)
    np.testing.assert_allclose(dG1, finite_difference(lambda A: loss.value(A, G2, X, Y), G1), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(dG2, finite_difference(lambda B: loss.value(G1, B, X, Y), G2), rtol=1e-5, atol=2e-6)


def test_edge_and_anchor_normalisations_differ_when_degrees_differ():
    G1, G2, X, Y, T = problem(10)
    T[0] = True                                       # one anchor with many positives
    edges = graph.MultiPositiveInfoNCE(T, 1.0, normalisation="edges")
    anchors = graph.MultiPositiveInfoNCE(T, 1.0)
    assert abs(edges.value(G1, G2, X, Y) - anchors.value(G1, G2, X, Y)) > 1e-3
    with pytest.raises(ValueError, match="normalisation"):
        graph.MultiPositiveInfoNCE(T, normalisation="pairs")


# --------------------------------------------------------------------------- sampled prototypes

def test_sampled_prototypes_with_one_item_per_class_equal_class_means():
    from mmcl_lib import metrics
    rng = np.random.default_rng(13)
    X, Y = rng.standard_normal((30, 5)), rng.standard_normal((25, 4))
    lx, ly = block_labels(30, 3, rng), block_labels(25, 3, rng)
    G1, G2 = rng.standard_normal((3, 5)), rng.standard_normal((3, 4))
    # classes with a single item: every draw picks it, and it is its class mean
    keep_x = np.r_[[np.flatnonzero(lx == c)[0] for c in range(3)]]
    keep_y = np.r_[[np.flatnonzero(ly == c)[0] for c in range(3)]]
    X1, Y1 = X[keep_x], Y[keep_y]
    sampled = graph.sampled_prototype_accuracy(G1, G2, X1, Y1, lx[keep_x], ly[keep_y], rng, draws=3)
    assert sampled == metrics.nearest_prototype_accuracy(G1, G2, X1, Y1, lx[keep_x], ly[keep_y])


def test_sampled_prototypes_known_answer():
    # 1-D embeddings: every item of class 0 at +1 and of class 1 at -1, except one x of class 0 at -1.
    # x queries (y prototypes are fixed): 7 of 8 right. y queries: the class-0 x-prototype is at +1
    # with probability 3/4 (all y's right); otherwise both prototypes sit at -1, the tie goes to
    # the first class (argmax), so the class-0 y's are right and the class-1 y's wrong (1/2).
    X = np.array([[1.0], [1.0], [1.0], [-1.0], [-1.0], [-1.0], [-1.0], [-1.0]])
    lx = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    Y = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    ly = np.array([0, 0, 1, 1])
    G = np.eye(1)
    acc = graph.sampled_prototype_accuracy(G, G, X, Y, lx, ly, np.random.default_rng(0), draws=4000)
    expected = 0.5 * (7 / 8) + 0.5 * (0.75 * 1.0 + 0.25 * 0.5)
    assert acc == pytest.approx(expected, abs=0.01)


def test_sampled_prototypes_reject_bad_inputs():
    X = np.eye(3)
    with pytest.raises(ValueError, match="draws"):
        graph.sampled_prototype_accuracy(X, X, X, X, np.arange(3), np.arange(3), np.random.default_rng(0), draws=0)
    with pytest.raises(ValueError, match="same set of classes"):
        graph.sampled_prototype_accuracy(X, X, X, X, np.arange(3), np.array([0, 1, 1]), np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        graph.sampled_prototype_accuracy(X, X, X, X, np.arange(3), np.arange(3), 0)


def test_edge_normalised_identity_graph_is_the_clip_loss():
    # the chapter's definition: sum over edges of both -log softmax terms, divided by 2 |E_noisy|;
    # with T = I and |E_noisy| = n it is CLIP (a different divisor scales it)
    G1, G2, X, _, _ = problem(n1=8)
    Y = np.random.default_rng(6).standard_normal((8, 4))
    clip = losses.clip(1.0, similarity="cosine").value_and_grad(G1, G2, X, Y)
    ours = graph.MultiPositiveInfoNCE(np.eye(8, dtype=bool), 1.0, normalisation="edges", n_edges=8)
    f, g1, g2 = ours.value_and_grad(G1, G2, X, Y)
    assert f == pytest.approx(clip[0], rel=1e-12)
    np.testing.assert_allclose(g1, clip[1], atol=1e-12)
    doubled = graph.MultiPositiveInfoNCE(np.eye(8, dtype=bool), 1.0, normalisation="edges", n_edges=16)
    assert doubled.value(G1, G2, X, Y) == pytest.approx(clip[0] / 2, rel=1e-12)


# --------------------------------------------------------------------------- where denoising breaks

def test_denoising_threshold_solves_the_spike_condition():
    # p* is where the class signal (1 - 2p) sqrt(n1 n2) / k meets sqrt(p (1 - p)) (n1 n2)^(1/4)
    for n1, n2, k in ((300, 300, 10), (500, 200, 7), (100, 100, 3)):
        p = graph.denoising_threshold(n1, n2, k)
        signal, noise = (1 - 2 * p) * np.sqrt(n1 * n2) / k, np.sqrt(p * (1 - p)) * (n1 * n2) ** 0.25
        assert 0 < p < 0.5 and signal == pytest.approx(noise, rel=1e-12)
    assert graph.denoising_threshold(300, 300, 10) == pytest.approx(0.5 * (1 - 1 / np.sqrt(13)))
    with pytest.raises(ValueError, match="k"):
        graph.denoising_threshold(300, 300, 1)


def test_denoising_threshold_predicts_where_the_denoiser_breaks():
    # the measured breakdown (recovery halfway from 1 to a random block graph's agreement) lies
    # within 0.04 of p* for n = 100, 300 and 800 items per side, and recovery has collapsed to the
    # random level by p* + 0.04; the bulk-edge condition (1 - 2p) n/k > 2 sqrt(n p (1 - p)) would
    # predict 0.15, 0.25 and 0.33 instead
    from mmcl_lib.book import real_data_experiment as rdx
    ns = (100, 300, 800)
    for n in ns:
        p_star = graph.denoising_threshold(n, n, 10)
        ps = np.round(np.arange(p_star - 0.1, p_star + 0.05, 0.02), 3)
        res = rdx.denoiser_breakdown([n], 10, ps, seeds=2)
        assert abs(res["measured"][0] - p_star) < 0.04, (n, res["measured"][0], p_star)
        assert res["agreement"][0, -1] < rdx.random_block_agreement(10) + 0.03
        assert res["agreement"][0, 0] > 0.95


def test_clean_graph_embedding_skips_the_trivial_vector_although_the_singular_value_1_repeats():
    # a clean class graph has the singular value 1 once per class; the kept vectors must still be
    # D-orthogonal to the constant vector, i.e. the discarded one is D^(1/2) 1
    lab = np.repeat(np.arange(10), 30)
    T = graph.class_graph(lab, lab)
    Z = graph.spectral_embedding(T, 9)
    d = np.r_[T.sum(axis=1), T.sum(axis=0)].astype(float)
    np.testing.assert_allclose(d @ Z, 0, atol=1e-8)
    points = np.unique(np.round(Z, 8), axis=0)
    assert len(points) == 10                          # one point per class


def test_a_rotated_basis_of_the_repeated_singular_space_can_merge_two_classes():
    # the proposition needs the discarded vector to be D^(1/2) 1: for two classes of sizes 3 and 5,
    # the unit vectors u_c = D^(1/2) 1_c / ||D^(1/2) 1_c|| span the singular value 1; rotating them
    # so that the kept vector has equal coordinates on both classes after dividing by D^(1/2)
    # sends the two classes to one point, while discarding D^(1/2) 1 keeps them apart
    lab = np.r_[np.zeros(3), np.ones(5)].astype(int)
    T = graph.class_graph(lab, lab)
    d = T.sum(axis=1).astype(float)
    A = T / np.sqrt(np.outer(d, d))
    u = np.stack([np.sqrt(d) * (lab == c) for c in (0, 1)], axis=1)
    norms = np.linalg.norm(u, axis=0)
    u /= norms
    theta = np.arctan2(-norms[0], norms[1])                # tan(theta) = -N0 / N1
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    basis = u @ rotation
    np.testing.assert_allclose(A @ basis, basis, atol=1e-12)          # singular vectors of value 1
    kept = basis[:, 1] / np.sqrt(d)
    assert np.ptp(kept) < 1e-12                                       # both classes on one point
    trivial = np.sqrt(d) / np.linalg.norm(np.sqrt(d))
    other = u[:, 0] - (trivial @ u[:, 0]) * trivial                   # the rest of the space
    embedded = other / np.linalg.norm(other) / np.sqrt(d)
    assert abs(embedded[lab == 0][0] - embedded[lab == 1][0]) > 0.1
