"""The interactive-figure helper in both modes: live ipywidgets and static precomputed frames."""

import re

import matplotlib
import matplotlib.pyplot as plt
import pytest

from mmcl_lib.book import explorer

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
