"""The blocked loss and gradient (bounded memory) equal the dense computation; float32 stays float32."""

import numpy as np
import pytest

from mmcl_lib import losses
from test_losses import PRESETS, softplus_family, standard_clip

N, D1, D2, R = 150, 6, 5, 4


def problem(seed=0, n=N, scale=1.0, dtype=float):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D1))
    Y = rng.standard_normal((n, D2))
    G1 = scale * rng.standard_normal((R, D1))
    G2 = scale * rng.standard_normal((R, D2))
    return tuple(a.astype(dtype) for a in (G1, G2, X, Y))


def budget_for_rows(rows, n=N, itemsize=8):
    """A memory budget that gives blocks of ``rows`` rows and does not keep the n x n matrix."""
    budget = losses._BLOCK_ARRAYS * rows * n * itemsize
    assert losses.block_plan(n, itemsize, budget) == (rows, False)
    return budget


def assert_same(blocked, dense, rtol):
    (v, g1, g2), (vd, gd1, gd2) = blocked, dense
    assert v == pytest.approx(vd, rel=rtol, abs=rtol)
    for g, gd in ((g1, gd1), (g2, gd2)):
        np.testing.assert_allclose(g, gd, rtol=rtol, atol=rtol * np.abs(gd).max())


# blocks of 7 rows: 150 = 21 * 7 + 3, so the last block is short; 150 rows: one block, matrix kept
BUDGETS = {"blocks of 7": budget_for_rows(7), "default (kept)": None}


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
@pytest.mark.parametrize("rho", [None, 0.3])
def test_blocked_equals_dense(budget, preset, similarity, rho):
    loss = PRESETS[preset](rho=rho, similarity=similarity)
    G1, G2, X, Y = problem(seed=1)
    blocked = loss.value_and_grad(G1, G2, X, Y, memory_budget=BUDGETS[budget])
    assert_same(blocked, loss._dense_value_and_grad(G1, G2, X, Y), rtol=1e-12)
    assert loss.value(G1, G2, X, Y, memory_budget=BUDGETS[budget]) == pytest.approx(blocked[0], rel=1e-14)


@pytest.mark.parametrize("factory", [losses.clip, losses.decoupled_infonce])
@pytest.mark.parametrize("similarity", ["inner", "cosine"])
@pytest.mark.parametrize("tau", [1e-3, 0.02])
def test_blocked_equals_dense_at_small_temperature(factory, similarity, tau):
    # inner: similarities of order 100, logits of order 1e5; cosine: logits up to 1 / tau
    loss = factory(tau, similarity=similarity)
    G1, G2, X, Y = problem(seed=2, scale=10.0)
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
    terms = loss._terms
    kernels = terms.block_kernels(np.diag(s).copy(), np.dtype(float))
    assert isinstance(kernels[0], losses._ClipBlocks)
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
    G1, G2, X, Y = problem(seed=4)
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
    G1, G2, X, Y = problem(seed=5)
    _, g1, g2 = loss.value_and_grad(G1.astype(np.float32), G2, X.astype(np.float32), Y)
    assert g1.dtype == np.float64 and g2.dtype == np.float64


def test_softplus_family_blocked_in_float32():
    loss = softplus_family()
    G1, G2, X, Y = problem(seed=6)
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
            if budget < losses._BLOCK_ARRAYS * n * itemsize:
                with pytest.raises(ValueError, match="memory_budget"):
                    losses.block_plan(n, itemsize, budget)
                continue
            rows, keep = losses.block_plan(n, itemsize, budget)
            assert 1 <= rows <= n
            used = losses._BLOCK_ARRAYS * rows * n * itemsize + (n * n * itemsize if keep else 0)
            assert used <= budget
    # CLIP's batch size with the default budget: blocks, no n x n matrix
    rows, keep = losses.block_plan(32768, 8, losses.DEFAULT_MEMORY_BUDGET)
    assert not keep and rows * 32768 * 8 * losses._BLOCK_ARRAYS <= losses.DEFAULT_MEMORY_BUDGET


def test_blocked_path_holds_no_n_by_n_matrix():
    # tracemalloc sees NumPy's buffers: with blocks of 16 rows the extra memory of one call must stay
    # far below one n x n float64 matrix (n = 2000: 32 MB).
    import tracemalloc
    n = 2000
    G1, G2, X, Y = problem(seed=7, n=n)
    loss = losses.clip(0.5)
    budget = budget_for_rows(16, n=n)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    loss.value_and_grad(G1, G2, X, Y, memory_budget=budget)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert peak < budget + 50 * n * 8 * max(D1, D2) < n * n * 8 / 4


@pytest.mark.parametrize("bad", [0, -5, 1.5, "big"])
def test_bad_memory_budget(bad):
    G1, G2, X, Y = problem(seed=8)
    with pytest.raises(ValueError, match="memory_budget"):
        losses.clip(0.5).value_and_grad(G1, G2, X, Y, memory_budget=bad)
