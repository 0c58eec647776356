"""Chapter 5's looks and figure helpers (mmcl_lib.book.unpaired_figures) and the figures using them."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from mmcl_lib.book import detection_experiment, display, style, unpaired_experiment, unpaired_figures
from mmcl_lib.book.unpaired_figures import bar_labels, method_look


def test_every_experiment_method_has_a_house_look():
    looks = {m: method_look(m) for m in unpaired_experiment.METHODS}
    assert looks["oracle"] == style.look("true_encoders")      # the experiment's oracle = true encoders
    for m in ("paired_only", "paired_unpaired", "closed_form", "paired_long", "matching",
              "unpaired_independent"):
        assert looks[m] == style.look(m)
    # one look per method: no two methods share colour, marker and line style
    triples = {(k["color"], k["marker"], k["linestyle"]) for k in looks.values()}
    assert len(triples) == len(looks)
    assert len({k["label"] for k in looks.values()}) == len(looks)


def test_a_reshuffled_variant_keeps_its_methods_colour_and_says_so():
    base, variant = method_look("paired_unpaired"), method_look("paired_unpaired_reshuffled")
    assert variant["color"] == base["color"]
    assert (variant["marker"], variant["linestyle"]) != (base["marker"], base["linestyle"])
    assert variant["label"].startswith(base["label"]) and "reshuffled" in variant["label"]
    assert method_look("paired_only", label="x")["label"] == "x"          # overrides win


def test_unknown_methods_are_refused():
    with pytest.raises(ValueError, match="method"):
        method_look("no_such_method")
    with pytest.raises(ValueError, match="method"):
        method_look(3)


def test_bar_labels_write_the_values_at_the_bar_ends():
    fig, ax = plt.subplots()
    ax.bar([0, 1], [0.25, 0.5])
    texts = bar_labels(ax, [0.25, 0.5])
    assert [t.get_text() for t in texts] == ["0.25", "0.50"]
    assert texts[1].get_position() == pytest.approx((1, 0.52))
    texts = bar_labels(ax, [0.123], horizontal=True, fmt=".3f")
    assert texts[0].get_text() == "0.123" and texts[0].get_position() == pytest.approx((0.143, 0))
    plt.close(fig)


def _summary():
    Ns = [500, 1000, 1500]
    methods = {m: {"mean": list(np.linspace(0.3, 0.6, 3) + 0.01 * k), "std": [0.01] * 3}
               for k, m in enumerate(unpaired_experiment.METHODS)}
    methods["oracle"] = {"mean": [0.62], "std": [0.0]}                  # N-free: one value
    return {"N": Ns, "methods": methods}


def test_the_summary_figure_draws_every_method_once_in_its_look_and_readable():
    display.use_house_style()
    summary = _summary()
    fig = unpaired_experiment.plot_unpaired_summary(summary)
    lines = [line for ax in fig.axes for line in ax.lines]
    drawn = {}
    for line in lines:
        drawn.setdefault((line.get_color(), line.get_marker(), line.get_linestyle()), []).append(line)
    for m in unpaired_experiment.METHODS:
        k = method_look(m)
        key = (k["color"], k["marker"], k["linestyle"])
        assert key in drawn, m
    # paired + unpaired is the one method drawn in both panels
    assert len(fig.axes) == 2 and len(lines) == len(unpaired_experiment.METHODS) + 1
    np.testing.assert_allclose(drawn[("#000000", "", ":")][0].get_ydata(), [0.62] * 3)
    assert style.smallest_text_px(fig) * 72 / fig.dpi >= style.MIN_FONT_PT
    plt.close(fig)


def test_chapter_5_figures_use_house_text_sizes():
    display.use_house_style()
    det = {"N": [100, 300], "x": np.array([[1.0, 2.0], [1.0, 2.0]]), "top": np.full((2, 2), 0.4),
           "top_cosine": np.full((2, 2), 0.8), "match": np.ones((2, 2))}
    figs = [detection_experiment.plot_detection(det),
            detection_experiment.plot_phase2_run([0.8, 0.9], {"a": 0.4, "b": 0.6, "c": 0.6, "d": 0.62}),
            detection_experiment.plot_oracle_pairing(300, [500, 1000], 0.3, np.array([0.2, 0.15])),
            detection_experiment.matching_demo_figure({"accuracies": [0.1, 0.2, 0.3],
                                               "evaluations": [(0.5, 0.4), (0.6, 0.5)],
                                               "n_test": 100})]
    for fig in figs:
        assert style.smallest_text_px(fig) * 72 / fig.dpi >= style.MIN_FONT_PT
        plt.close(fig)
    # the detection figure's legends: one for the detectors, one for the set sizes
    fig = detection_experiment.plot_detection(det)
    titles = [leg.get_title().get_text() for leg in fig.legends]
    assert titles == ["detector", "set size"]
    assert [t.get_text() for t in fig.legends[1].get_texts()] == ["N = 100", "N = 300"]
    plt.close(fig)
