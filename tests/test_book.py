"""The book's machinery (mmcl_lib.book): interactive figures, seeded sweeps, the Section 5.1 driver."""

import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from mmcl_lib.book import explorer, sweep
from mmcl_lib.book.unpaired_experiment import markdown_table, run_seed, summarise

matplotlib.use("Agg")


def plot(a, b=1):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, a * b])
    ax.set_title(f"a={a}, b={b}")
    return fig


PARAMS = {"a": [1, 2, 3], "b": [1, 3]}


def test_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(explorer.MODE_VARIABLE, raising=False)
    assert explorer.current_mode() == "live"
    monkeypatch.setenv(explorer.MODE_VARIABLE, "static")
    assert explorer.current_mode() == "static"
    monkeypatch.setenv(explorer.MODE_VARIABLE, "bogus")
    with pytest.raises(ValueError, match="MMCL_EXPLORER"):
        explorer.current_mode()


def test_sphinx_hook_switches_to_static(monkeypatch):
    monkeypatch.delenv(explorer.MODE_VARIABLE, raising=False)
    explorer.setup(app=None)
    assert explorer.current_mode() == "static"


def test_static_mode_embeds_one_distinct_frame_per_combination():
    demo = explorer.explore(plot, PARAMS, defaults={"a": 2}, mode="static")
    assert demo.n_frames == 6
    page = demo._repr_html_()
    frames = re.search(r"var frames = (\[.*?\]);", page).group(1)
    assert len(set(re.findall(r'"([A-Za-z0-9+/=]+)"', frames))) == 6     # every frame differs
    assert page.count('type="range"') == 2
    assert 'value="1"' in page                   # slider for a starts at the default 2 (index 1)
    assert "http" not in page                    # nothing loads from the web


def test_live_mode_builds_sliders_that_recompute(monkeypatch):
    calls = []

    def recording_plot(a, b=1):
        calls.append((a, b))
        return plot(a, b)

    box = explorer.explore(recording_plot, PARAMS, mode="live")
    sliders = box.children[0].children
    assert [s.description for s in sliders] == ["a", "b"]
    assert calls == [(1, 1)]                     # drawn once at start, no frontend needed
    sliders[0].value = 3
    assert calls[-1] == (3, 1)                   # moving a slider redraws with the new value


def test_bad_arguments():
    with pytest.raises(ValueError, match="params"):
        explorer.explore(plot, {})
    with pytest.raises(ValueError, match="not one of"):
        explorer.explore(plot, PARAMS, defaults={"a": 7})
    with pytest.raises(ValueError, match="max_frames"):
        explorer.explore(plot, {"a": list(range(10)), "b": list(range(10))}, mode="static")
    with pytest.raises(ValueError, match="matplotlib Figure"):
        explorer.explore(lambda a: None, {"a": [1]}, mode="static")


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


def test_experiment_summary_agrees_with_the_runs():
    settings = dict(d1=8, d2=7, r=3, n=60, n_test=200, epochs=2, batch_size=20)
    runs = [run_seed(seed, [40, 80], **settings) for seed in (0, 1)]
    summary = summarise(runs)
    pu = np.array([run["accuracy"]["paired_unpaired"] for run in runs])
    np.testing.assert_allclose(summary["methods"]["paired_unpaired"]["mean"], pu.mean(0))
    np.testing.assert_allclose(summary["methods"]["paired_unpaired"]["std"], pu.std(0, ddof=1))
    oracle = [run["accuracy"]["oracle"] for run in runs]        # does not depend on N
    assert summary["methods"]["oracle"]["mean"] == [pytest.approx(np.mean(oracle))] * 2
    assert markdown_table(summary).count("\n") == 1 + len(summary["methods"])
    with pytest.raises(ValueError, match="methods"):
        run_seed(0, [40], methods=("paired_only", "magic"), **settings)
