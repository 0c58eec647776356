"""Feature recovery by MMCL (Chapters 3-4): rates in n and eta, and the seeded sweep utility."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from mmcl_lib import baselines, data
from mmcl_lib.book import sweep


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Many tiny products: one BLAS thread is faster and avoids oversubscribing a shared machine."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _errors(rng, n, eta, d=20, r=3):
    model = data.LatentFactorModel.random(d, d, r, rng, noise_std1=data.heteroskedastic_std(d, 0.8, 10.0))
    return baselines.recovery_errors(model, model.sample(n, rng, eta=eta), rng)


def test_mmcl_error_decays_like_one_over_sqrt_n():
    res = sweep.sweep(_errors, {"n": [500, 2000, 8000], "eta": [1.0]}, 8, common_random_numbers=True)
    slope = sweep.loglog_slope(res.grid["n"], res.mean("mmcl")[:, 0])
    assert -0.65 < slope < -0.35
    # PCA does not converge to the features under heteroskedastic noise: its error stays put
    pca = res.mean("pca")[:, 0]
    assert pca[-1] > 0.5 * pca[0]


def test_error_shrinks_as_eta_grows_and_scales_like_one_over_eta():
    etas = [0.25, 0.5, 1.0]
    res = sweep.sweep(_errors, {"n": [20_000], "eta": etas}, 8, common_random_numbers=True)
    mean = res.mean("mmcl")[0]
    assert np.all(np.diff(mean) < 0)
    scaled = mean * np.array(etas)                 # about constant in the small-error regime
    assert scaled.max() / scaled.min() < 1.5


def test_sweep_is_reproducible_and_independent_of_grid_order_and_composition():
    def fn(rng, a, b):
        return {"x": rng.standard_normal() + a, "y": rng.random() * b}

    full = sweep.sweep(fn, {"a": [1, 2, 3], "b": [0.5, 2.0]}, [4, 7])
    again = sweep.sweep(fn, {"a": [1, 2, 3], "b": [0.5, 2.0]}, [4, 7])
    for key in ("x", "y"):
        np.testing.assert_array_equal(full[key], again[key])
    flipped = sweep.sweep(fn, {"b": [2.0, 0.5], "a": [3, 2, 1]}, [7, 4])
    np.testing.assert_array_equal(flipped["x"], full["x"].transpose(1, 0, 2)[::-1, ::-1, ::-1])
    sub = sweep.sweep(fn, {"a": [np.int64(2)], "b": [2.0]}, [7])
    assert sub["x"][0, 0, 0] == full["x"][1, 1, 1]
    # different cells and seeds get different streams
    assert len(np.unique(full["x"] - np.array([1, 2, 3])[:, None, None])) == full["x"].size


def test_common_random_numbers_share_the_stream_of_default_rng():
    res = sweep.sweep(lambda rng, k: rng.standard_normal(), {"k": [0, 1, 2]}, [5], common_random_numbers=True)
    np.testing.assert_array_equal(res["value"][:, 0], np.random.default_rng(5).standard_normal())
    assert sweep.cell_rng(5).standard_normal() == np.random.default_rng(5).standard_normal()


def test_table_mean_and_quantile_agree_with_the_arrays():
    res = sweep.sweep(lambda rng, a: a * rng.random(), {"a": [1.0, 10.0]}, 5)
    table = res.table()
    assert set(table) == {"a", "seed", "value"} and table["value"].size == 10
    np.testing.assert_array_equal(table["value"][table["a"] == 10.0], res["value"][1])
    np.testing.assert_array_equal(table["seed"][:5], np.arange(5))
    np.testing.assert_allclose(res.mean("value"), res["value"].mean(axis=1))
    assert np.all(res.quantile("value", 0.1) <= res.quantile("value", 0.9))


def test_loglog_slope_recovers_a_power_law():
    x = np.array([1.0, 10.0, 100.0])
    assert sweep.loglog_slope(x, 3 * x ** -0.5) == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="> 0"):
        sweep.loglog_slope([1.0, 2.0], [1.0, -1.0])


def test_sweep_rejects_bad_inputs():
    with pytest.raises(ValueError, match="fn"):
        sweep.sweep(None, {"a": [1]}, 2)
    with pytest.raises(ValueError, match="grid"):
        sweep.sweep(lambda rng, a: a, {}, 2)
    with pytest.raises(ValueError, match="grid"):
        sweep.sweep(lambda rng, a: a, {"a": []}, 2)
    with pytest.raises(ValueError, match="seeds"):
        sweep.sweep(lambda rng, a: a, {"a": [1]}, [1, 1])
    with pytest.raises(ValueError, match="seeds"):
        sweep.sweep(lambda rng, a: a, {"a": [1]}, 0)
    with pytest.raises(ValueError, match="keys"):
        sweep.sweep(lambda rng, a: {"k": 1.0} if a == 1 else {"j": 1.0}, {"a": [1, 2]}, 1)
    with pytest.raises(ValueError, match="unknown output"):
        sweep.sweep(lambda rng, a: a, {"a": [1]}, 1)["nope"]


def test_crossing_interpolates_in_log_x():
    x = np.array([1.0, 0.5, 0.25, 0.125])
    y = 0.2 / x                                  # reaches 0.6 at x = 1/3
    assert sweep.crossing(x, y, 0.6) == pytest.approx(np.exp(np.log(0.5) + 0.5 * np.log(0.5)))
    assert sweep.crossing(x, y, 0.4) == 0.5
    assert np.isnan(sweep.crossing(x, y, 5.0))
    with pytest.raises(ValueError, match="> 0"):
        sweep.crossing([0.0, 1.0], [1.0, 2.0], 1.5)
