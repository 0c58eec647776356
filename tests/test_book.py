"""The book's machinery (mmcl_lib.book): interactive figures, seeded sweeps, the Section 5.1 driver,
and long runs (resumable units, safe writes, progress only when asked)."""

import io
import json
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from PIL import Image

from mmcl_lib.book import detection_experiment, display, explorer, files, progress, sweep, unpaired_experiment
from mmcl_lib.book.unpaired_experiment import (Interrupted, combine_units, markdown_table, report_files,
                                               reproduce, run_seed, run_unit, summarise)

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


def test_live_mode_shows_a_setting_seen_before_from_its_cached_png(monkeypatch):
    calls = []

    def recording_plot(a, b=1):
        calls.append((a, b))
        return plot(a, b)

    box = explorer.explore(recording_plot, PARAMS, mode="live")
    a_slider, b_slider = box.children[0].children
    a_slider.value = 3
    b_slider.value = 3
    a_slider.value = 1                           # (1, 3): new, computed
    b_slider.value = 1                           # (1, 1): shown at the start, not recomputed
    assert calls == [(1, 1), (3, 1), (3, 3), (1, 3)]


def test_frame_cache_recomputes_only_for_a_new_setting():
    calls = []

    def recording_plot(a, b=1):
        calls.append((a, b))
        return plot(a, b)

    cache = explorer.FrameCache(recording_plot, ["a", "b"])
    first = cache.frame({"a": 2, "b": 3})
    assert cache.frame({"b": 3, "a": 2}) is first             # same setting: the same PNG, no new call
    other = cache.frame({"a": 3, "b": 2})                      # a different setting is computed
    assert calls == [(2, 3), (3, 2)]
    assert other != first
    assert first == explorer.png_bytes(plot(2, 3))             # and is the figure of those values


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(int)


def _house_figure():
    with plt.rc_context(display.HOUSE_STYLE):
        fig, axes = display.subplots(1, 2, height=2.5)
        axes[0].plot([1, 2, 3], [3, 1, 2])
        axes[0].set_title("a line")
        fig.colorbar(axes[1].imshow(np.arange(12.0).reshape(3, 4)), ax=axes[1])
    return fig


def test_png_bytes_is_the_inline_display_drawn_once():
    fig = _house_figure()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")     # what the inline backend shows
    plt.close(fig)
    inline = _pixels(buffer.getvalue())
    fig = _house_figure()
    ours = _pixels(explorer.png_bytes(fig))
    plt.close(fig)
    assert ours.shape == inline.shape
    differs = lambda a, b: np.mean(np.abs(a - b).max(axis=-1) > 64)   # noqa: E731
    assert differs(ours, inline) < 0.01               # only anti-aliased edges differ (sub-pixel offset)
    assert differs(np.roll(ours, 2, axis=(0, 1)), inline) > 0.03     # the check sees a 2-pixel shift


def test_png_bytes_reuses_a_renderer_without_leaving_pixels_of_the_previous_figure():
    explorer._ReusedRendererCanvas._renderers.clear()
    fresh = explorer.png_bytes(plot(1, 1))                  # first figure of its size: a new renderer
    other = explorer.png_bytes(plot(3, 3))                  # same size, reuses that renderer
    assert len(explorer._ReusedRendererCanvas._renderers) == 1
    assert other != fresh
    assert explorer.png_bytes(plot(1, 1)) == fresh          # drawn on the reused renderer: identical
    fig = plot(2, 1)
    canvas = fig.canvas
    explorer.png_bytes(fig)
    assert fig.canvas is canvas                             # the figure gets its own canvas back
    plt.close("all")


def test_png_bytes_at_a_height_that_is_not_a_whole_number_of_pixels():
    with plt.rc_context(display.HOUSE_STYLE):
        fig, ax = display.subplots(height=4.6)              # 4.6 * 100 = 459.99999999999994 pixels
        ax.imshow(np.eye(30))
        ax.set(title="top", xlabel="bottom")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    ours, inline = _pixels(explorer.png_bytes(fig)), _pixels(buffer.getvalue())
    plt.close(fig)
    assert ours.shape == inline.shape
    assert np.mean(np.abs(ours - inline).max(axis=-1) > 64) < 0.02   # cell edges of the image may snap


def test_png_bytes_falls_back_to_savefig_for_an_artist_outside_the_figure():
    def make():
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [0, 1], label="a legend outside the axes and the figure")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
        return fig

    fig = make()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    plt.close(fig)
    fig = make()
    ours = _pixels(explorer.png_bytes(fig))
    plt.close(fig)
    assert ours.shape[1] > 3 * fig.dpi                 # wider than the figure: the legend is in the picture
    np.testing.assert_array_equal(ours, _pixels(buffer.getvalue()))


def test_precompute_evaluates_each_setting_once_keyed_in_parameter_order():
    calls = []

    def fn(tau, n):
        calls.append((tau, n))
        return {"value": tau * n}

    results = explorer.precompute(fn, {"tau": [0.5, 2.0], "n": [10, 30, 100]})
    assert sorted(calls) == sorted((t, n) for t in (0.5, 2.0) for n in (10, 30, 100)) and len(calls) == 6
    assert list(results) == [(t, n) for t in (0.5, 2.0) for n in (10, 30, 100)]
    assert results[2.0, 30] == {"value": 60.0} and results[0.5, 30] == {"value": 15.0}
    with pytest.raises(ValueError, match="fn"):
        explorer.precompute(None, {"tau": [1.0]})
    with pytest.raises(ValueError, match="params"):
        explorer.precompute(fn, {"tau": []})


def test_matching_demo_run_is_reproducible_and_its_figure_shows_its_numbers():
    kw = dict(n_test=100, d1=12, d2=11)
    run = detection_experiment.matching_demo_run(60, 80, 0.3, 3, **kw)
    assert run == detection_experiment.matching_demo_run(60, 80, 0.3, 3, **kw)
    assert run != detection_experiment.matching_demo_run(60, 80, 1.0, 3, **kw)
    assert len(run["accuracies"]) == 3 and len(run["evaluations"]) == 2 and run["n_test"] == 100
    fig = detection_experiment.matching_demo_figure(run)
    bars, rounds = fig.axes
    np.testing.assert_allclose([p.get_height() for p in bars.patches], run["accuracies"])
    np.testing.assert_allclose(rounds.lines[0].get_ydata(), [p for p, _ in run["evaluations"]])
    plt.close(fig)


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


def test_the_experiment_trains_with_the_authors_fixed_batches_and_the_variant_reshuffles():
    # the main methods are the authors' loop (the same consecutive blocks in both phases, so no
    # draw from the generator); the "_reshuffled" variant is phase 1 with new batches every epoch
    from mmcl_lib.data import LatentFactorModel
    from mmcl_lib.metrics import retrieval_accuracy, subspace_error
    from mmcl_lib.training import AdamW, init_encoders, train_clip
    settings = dict(d1=8, d2=7, r=3, n=60, n_test=200, epochs=4, batch_size=20)
    run = run_seed(0, [40], methods=("paired_only", "paired_only_reshuffled", "closed_form"), **settings)
    rng = np.random.default_rng([0])
    model = LatentFactorModel.random(8, 7, 3, rng, noise_std1=0.3)
    paired, test = model.sample(60, rng), model.sample(200, rng)
    G1, G2 = init_encoders(8, 7, 3, rng)
    for method, order, gen in (("paired_only", "fixed", np.random.default_rng(1)),
                               ("paired_only_reshuffled", "reshuffled", np.random.default_rng([0, 3]))):
        fit = train_clip(paired.X, paired.Y, G1, G2, rng=gen, epochs=4, batch_size=20, optimizer=AdamW(lr=2e-3),
                         batch_order=order)
        assert run["accuracy"][method] == retrieval_accuracy(fit.G1, fit.G2, test.X, test.Y)
        assert run["feature_error"][method] == subspace_error(fit.G1, model.U1)
    summary = summarise([run])
    assert summary["feature_error"]["closed_form"]["mean"] == [run["feature_error"]["closed_form"]]


# --- long runs: resumable Section 5.1 units, safe writes, silent progress ---------------------------

TINY = dict(d1=8, d2=7, r=3, n=80, n_test=200, epochs=10, batch_size=20, noise_std=0.2)


def test_units_combine_to_run_seed_exactly():
    Ns = [40, 80]
    units = [json.loads(json.dumps(run_unit(0, N, Ns, **TINY))) for N in (80, None, 40)]  # any order, via JSON
    assert json.dumps(combine_units(0, Ns, units)) == json.dumps(run_seed(0, Ns, **TINY))
    with pytest.raises(ValueError, match="missing"):
        combine_units(0, Ns, units[:2])


def test_interrupted_reproduction_resumes_only_missing_units_and_matches_a_clean_run(tmp_path, monkeypatch):
    # other edits of the library while the test runs must not change the key between the runs
    monkeypatch.setattr(unpaired_experiment, "code_digest", lambda: "this code")
    seeds, Ns = [0, 1], [40, 80]
    clean = reproduce(seeds, Ns, tmp_path / "clean", **TINY)
    assert (clean.computed, clean.reused) == (6, 0)
    calls, real = [], unpaired_experiment.run_unit

    def stop_after_four(seed, N, *args, **kwargs):
        if len(calls) == 4:
            raise KeyboardInterrupt
        calls.append((seed, N))
        return real(seed, N, *args, **kwargs)

    monkeypatch.setattr(unpaired_experiment, "run_unit", stop_after_four)
    with pytest.raises(Interrupted) as stop:
        reproduce(seeds, Ns, tmp_path / "resumed", **TINY)
    assert (stop.value.done, stop.value.total) == (4, 6)
    assert len(list(stop.value.folder.rglob("output.pkl"))) == 4      # the joblib cache holds 4 units
    calls.clear()
    monkeypatch.setattr(unpaired_experiment, "run_unit", lambda seed, N, *a, **k: calls.append((seed, N)) or real(seed, N, *a, **k))
    resumed = reproduce(seeds, Ns, tmp_path / "resumed", **TINY)
    assert (resumed.computed, resumed.reused) == (2, 4)
    assert calls == [(1, 40), (1, 80)]                      # only the units the interruption lost
    assert (resumed.timing["units_computed"], resumed.timing["units_reused"]) == (2, 4)
    a, b = report_files(clean, "cmd"), report_files(resumed, "cmd")
    assert a["unpaired_table.md"] == b["unpaired_table.md"]
    assert a["unpaired.png"] == b["unpaired.png"]
    ja, jb = json.loads(a["unpaired_runs.json"]), json.loads(b["unpaired_runs.json"])
    for j in (ja, jb):
        del j["wall_time_s"], j["cpu_time_s"], j["timing"]
    assert json.dumps(ja) == json.dumps(jb)
    assert ja["runs"] == json.loads(json.dumps([run_seed(s, Ns, **TINY) for s in seeds]))
    # a finished run is not recomputed; --fresh starts over; other settings get their own units
    calls.clear()
    assert reproduce(seeds, Ns, tmp_path / "resumed", **TINY).computed == 0 and calls == []
    fresh = reproduce([0], [40], tmp_path / "resumed", fresh=True, **TINY)
    assert fresh.computed == 2 and calls == [(0, None), (0, 40)]
    assert json.dumps(fresh.runs) == json.dumps(reproduce([0], [40], tmp_path / "clean", **TINY).runs)
    other = reproduce([0], [40], tmp_path / "resumed", **dict(TINY, epochs=14))
    assert (other.computed, other.reused) == (2, 0)
    monkeypatch.setattr(unpaired_experiment, "code_digest", lambda: "edited code")
    assert reproduce([0], [40], tmp_path / "resumed", **TINY).computed == 2   # new code: new units


def test_parallel_units_give_the_same_runs(tmp_path):
    serial = reproduce([0, 1], [40], tmp_path / "a", **TINY)
    parallel = reproduce([0, 1], [40], tmp_path / "b", jobs=2, **TINY)
    assert json.dumps(serial.runs) == json.dumps(parallel.runs)


def test_interrupted_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "table.md"
    files.write_atomic(path, "old table\n")

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with files.atomic_path(path) as tmp:
            tmp.write_text("half a new ta")
            raise Boom
    assert path.read_text() == "old table\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.md"]   # no temporary file left
    fig = matplotlib.figure.Figure()
    fig.subplots().plot([0, 1])
    with pytest.raises(Boom):
        with files.saving_figure(tmp_path / "fig.png") as tmp:
            fig.savefig(tmp)
            raise Boom
    assert not (tmp_path / "fig.png").exists()
    files.savefig_atomic(fig, tmp_path / "fig.png")
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"
    files.write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    with pytest.raises(ValueError, match="data"):
        files.write_atomic(path, 3)


def test_progress_is_silent_unless_asked(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MMCL_SCALE", "default")
    sweep.sweep(lambda rng, a: a, {"a": [1, 2]}, 2)
    reproduce([0], [40], tmp_path, **TINY)
    assert capsys.readouterr() == ("", "")
    sweep.sweep(lambda rng, a: a, {"a": [1, 2]}, 2, progress=True)
    assert "4/4" in capsys.readouterr().err
    monkeypatch.setenv("MMCL_SCALE", "paper")
    assert progress.wanted(None) and not progress.wanted(False)
    sweep.sweep(lambda rng, a: a, {"a": [1, 2]}, 2)
    assert "4/4" in capsys.readouterr().err
    with pytest.raises(ValueError, match="progress"):
        progress.wanted("yes")
