"""The blocked engine (mmcl_lib._blocked): the same loss as the dense path of mmcl_lib.losses, in bounded memory.

Blocked == dense (values and gradients), on both sides of the size threshold at which
:class:`~mmcl_lib.losses.ContrastiveLoss` hands its call to the engine; the memory plan; float32.
"""

import numpy as np
import pytest

from mmcl_lib import _blocked, losses
from test_losses import PRESETS, softplus_family, standard_clip

# --------------------------------------------------------------------------- blocked evaluation (bounded memory) and float32

N_LARGE, D1_LARGE, D2_LARGE, R_LARGE = 150, 6, 5, 4


def large_problem(seed=0, n=N_LARGE, scale=1.0, dtype=float):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D1_LARGE))
    Y = rng.standard_normal((n, D2_LARGE))
    G1 = scale * rng.standard_normal((R_LARGE, D1_LARGE))
    G2 = scale * rng.standard_normal((R_LARGE, D2_LARGE))
    return tuple(a.astype(dtype) for a in (G1, G2, X, Y))


def budget_for_rows(rows, n=N_LARGE, itemsize=8):
    """A memory budget that gives blocks of ``rows`` rows and does not keep the n x n matrix."""
    budget = _blocked._BLOCK_ARRAYS * rows * n * itemsize
    assert _blocked.block_plan(n, itemsize, budget) == (rows, False)
    return budget


def assert_same(blocked, dense, rtol):
    (v, g1, g2), (vd, gd1, gd2) = blocked, dense
    assert v == pytest.approx(vd, rel=rtol, abs=rtol)
    for g, gd in ((g1, gd1), (g2, gd2)):
        np.testing.assert_allclose(g, gd, rtol=rtol, atol=rtol * np.abs(gd).max())


def kept_budget(n=N_LARGE, itemsize=8):
    """A budget too small for the dense path (so the engine runs) that keeps the n x n matrix in one block."""
    budget = n * n * itemsize + _blocked._BLOCK_ARRAYS * n * n * itemsize
    assert budget < losses._DENSE_ARRAYS * n * n * 8
    assert _blocked.block_plan(n, itemsize, budget) == (n, True)
    return budget


# blocks of 7 rows: 150 = 21 * 7 + 3, so the last block is short; 150 rows: one block, matrix kept;
# the default budget: the dense path
BUDGETS = {"blocks of 7": budget_for_rows(7), "engine, kept": kept_budget(), "default (dense)": None}


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
@pytest.mark.parametrize("rho", [None, 0.3])
def test_dense_and_blocked_agree_on_both_sides_of_the_threshold(preset, similarity, rho):
    # The budget at which the dense path stops: n = 150 just below (dense) and n = 151 just above
    # (engine) give the dense reference's values and gradients to 1e-12.
    loss = PRESETS[preset](rho=rho, similarity=similarity)
    budget = losses._DENSE_ARRAYS * N_LARGE * N_LARGE * 8
    for n, engine in ((N_LARGE, False), (N_LARGE + 1, True)):
        assert losses._uses_engine(n, np.dtype(float), budget) is engine
        G1, G2, X, Y = large_problem(seed=11, n=n)
        used = loss.value_and_grad(G1, G2, X, Y, memory_budget=budget)
        assert isinstance(loss.evaluate(G1, G2, X, Y, memory_budget=budget)._point,
                          _blocked.BlockedPoint if engine else losses._DensePoint)
        assert_same(used, loss._dense_value_and_grad(G1, G2, X, Y), rtol=1e-12)
        forced = loss.value_and_grad(G1, G2, X, Y, memory_budget=budget_for_rows(7, n=n))
        assert_same(forced, loss._dense_value_and_grad(G1, G2, X, Y), rtol=1e-12)


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
@pytest.mark.parametrize("rho", [None, 0.3])
def test_blocked_equals_dense(budget, preset, similarity, rho):
    # values and gradients to 1e-12 (the engine against the dense reference)
    loss = PRESETS[preset](rho=rho, similarity=similarity)
    G1, G2, X, Y = large_problem(seed=1)
    blocked = loss.value_and_grad(G1, G2, X, Y, memory_budget=BUDGETS[budget])
    assert_same(blocked, loss._dense_value_and_grad(G1, G2, X, Y), rtol=1e-12)
    assert loss.value(G1, G2, X, Y, memory_budget=BUDGETS[budget]) == pytest.approx(blocked[0], rel=1e-14)


@pytest.mark.parametrize("factory", [losses.clip, losses.decoupled_infonce])
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
@pytest.mark.parametrize("tau", [1e-3, 0.02])
def test_blocked_equals_dense_at_small_temperature(factory, similarity, tau):
    # inner: similarities of order 100, logits of order 1e5; cosine: logits up to 1 / tau
    loss = factory(tau, similarity=similarity)
    G1, G2, X, Y = large_problem(seed=2, scale=10.0)
    blocked = loss.value_and_grad(G1, G2, X, Y, memory_budget=budget_for_rows(7))
    assert np.isfinite(blocked[0]) and all(np.all(np.isfinite(g)) for g in blocked[1:])
    assert_same(blocked, loss._dense_value_and_grad(G1, G2, X, Y), rtol=1e-10)
    if factory is losses.clip:
        s = loss.similarities(G1, G2, X, Y)
        assert blocked[0] == pytest.approx(standard_clip(s / tau), rel=1e-12)


def test_one_shift_path_falls_back_when_one_negative_spreads_the_logits():
    # The diagonal alone passes the spread test, but one off-diagonal similarity far above the rest
    # makes a single shift unsafe: the blocked CLIP must notice after pass 1 and use per-anchor shifts.
    n, tau = 40, 0.01
    rng = np.random.default_rng(3)
    s = 0.1 * rng.standard_normal((n, n))
    s[5, 17] = 5.0                                    # logit 500 against diagonal logits of order 10
    eye = np.eye(n)
    loss = losses.clip(tau)
    kernels = loss._terms.block_kernels(np.diag(s).copy(), np.dtype(float))
    assert isinstance(kernels[0], _blocked._ClipBlocks)
    blocked = loss.value_and_grad(s.T, eye, eye, eye, memory_budget=budget_for_rows(3, n))
    assert np.isfinite(blocked[0])
    assert_same(blocked, loss._dense_value_and_grad(s.T, eye, eye, eye), rtol=1e-10)
    assert blocked[0] == pytest.approx(standard_clip(s / tau), rel=1e-12)


@pytest.mark.parametrize("preset", ["clip", "clip_cold", "decoupled", "linear"])
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
def test_float32_in_float32_out(preset, similarity):
    # Tolerance: float32 carries 7 digits; after sums over n = 150 and the products, 1e-4 relative to
    # the largest gradient entry (measured errors are about 1e-6), and 1e-5 relative on the value.
    loss = PRESETS[preset](similarity=similarity, rho=0.3)
    G1, G2, X, Y = large_problem(seed=4)
    v32, g1, g2 = loss.value_and_grad(*(a.astype(np.float32) for a in (G1, G2, X, Y)),
                                      memory_budget=budget_for_rows(9, itemsize=4))
    assert g1.dtype == np.float32 and g2.dtype == np.float32
    v64, h1, h2 = loss.value_and_grad(G1, G2, X, Y)
    assert v32 == pytest.approx(v64, rel=1e-5)
    np.testing.assert_allclose(g1, h1, rtol=0, atol=1e-4 * np.abs(h1).max())
    np.testing.assert_allclose(g2, h2, rtol=0, atol=1e-4 * np.abs(h2).max())
    s32 = loss.similarities(*(a.astype(np.float32) for a in (G1, G2, X, Y)))
    assert s32.dtype == np.float32


def test_float64_is_kept_when_the_data_are_not_both_float32():
    loss = losses.clip(0.5)
    G1, G2, X, Y = large_problem(seed=5)
    _, g1, g2 = loss.value_and_grad(G1.astype(np.float32), G2, X.astype(np.float32), Y)
    assert g1.dtype == np.float64 and g2.dtype == np.float64


def test_softplus_family_blocked_in_float32():
    loss = softplus_family()
    G1, G2, X, Y = large_problem(seed=6)
    v32, g1, _ = loss.value_and_grad(*(a.astype(np.float32) for a in (G1, G2, X, Y)),
                                     memory_budget=budget_for_rows(9, itemsize=4))
    v64, h1, _ = loss._dense_value_and_grad(G1, G2, X, Y)
    assert g1.dtype == np.float32
    assert v32 == pytest.approx(v64, rel=1e-5)
    np.testing.assert_allclose(g1, h1, rtol=0, atol=1e-4 * np.abs(h1).max())


def test_block_plan_keeps_memory_within_the_budget():
    itemsize = 8
    for n in (100, 4096, 32768):
        for budget in (2**20, 2**24, 2**28, 2**30):
            if budget < _blocked._BLOCK_ARRAYS * n * itemsize:
                with pytest.raises(ValueError, match="memory_budget"):
                    _blocked.block_plan(n, itemsize, budget)
                continue
            rows, keep = _blocked.block_plan(n, itemsize, budget)
            assert 1 <= rows <= n
            used = _blocked._BLOCK_ARRAYS * rows * n * itemsize + (n * n * itemsize if keep else 0)
            assert used <= budget
    # CLIP's batch size with the default budget: blocks, no n x n matrix
    rows, keep = _blocked.block_plan(32768, 8, _blocked.DEFAULT_MEMORY_BUDGET)
    assert not keep and rows * 32768 * 8 * _blocked._BLOCK_ARRAYS <= _blocked.DEFAULT_MEMORY_BUDGET


def test_blocked_path_holds_no_n_by_n_matrix():
    # tracemalloc sees NumPy's buffers: with blocks of 16 rows the extra memory of one call must stay
    # far below one n x n float64 matrix (n = 2000: 32 MB).
    import tracemalloc
    n = 2000
    G1, G2, X, Y = large_problem(seed=7, n=n)
    loss = losses.clip(0.5)
    budget = budget_for_rows(16, n=n)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    loss.value_and_grad(G1, G2, X, Y, memory_budget=budget)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert peak < budget + 50 * n * 8 * max(D1_LARGE, D2_LARGE) < n * n * 8 / 4


@pytest.mark.parametrize("bad", [0, -5, 1.5, "big"])
def test_bad_memory_budget(bad):
    G1, G2, X, Y = large_problem(seed=8)
    with pytest.raises(ValueError, match="memory_budget"):
        losses.clip(0.5).value_and_grad(G1, G2, X, Y, memory_budget=bad)


# --------------------------------------------------------------------------- LossPoint: the loss and its weights at one point

@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
def test_loss_point_products_equal_the_dense_weights(budget, preset, similarity):
    # W A and W^T B from the blocked sweep equal the products with the dense signed weights, with
    # S(beta) = X^T W Y / n, and asking twice gives the same (the kept matrix holds weights after the
    # first sweep; without it every sweep recomputes).
    loss = PRESETS[preset](rho=0.3, similarity=similarity)
    G1, G2, X, Y = large_problem(seed=8)
    point = loss.evaluate(G1, G2, X, Y, memory_budget=BUDGETS[budget])
    assert point.value == pytest.approx(loss.value(G1, G2, X, Y), rel=1e-13)
    beta = loss.weights(G1, G2, X, Y)
    W = -beta
    np.fill_diagonal(W, np.diag(beta))
    A = np.random.default_rng(0).standard_normal((N_LARGE, 3))
    for _ in range(2):
        WA, WtB = point.weighted(A=A, B=X)
        np.testing.assert_allclose(WA, W @ A, rtol=1e-11, atol=1e-12 * np.abs(W @ A).max())
        np.testing.assert_allclose(WtB, W.T @ X, rtol=1e-11, atol=1e-12 * np.abs(W.T @ X).max())
    S = X.T @ point.weighted(A=Y)[0] / N_LARGE
    np.testing.assert_allclose(S, losses.contrastive_cross_covariance(X, Y, beta), rtol=1e-10, atol=1e-12)
    assert point.weighted(B=A)[0] is None


def test_loss_point_rejects_matrices_of_the_wrong_height():
    G1, G2, X, Y = large_problem(seed=9)
    point = losses.clip(0.5).evaluate(G1, G2, X, Y)
    with pytest.raises(ValueError, match="A must have 150 rows"):
        point.weighted(A=np.ones((149, 2)))
    with pytest.raises(ValueError, match="B must be a 2-D array"):
        point.weighted(B=np.ones(150))
