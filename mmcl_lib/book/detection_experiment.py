"""Experiment set-ups and figures of Chapter 5 (``ch-unpaired``): detecting hidden pairs.

The chapter calls these so that its code cells show the library call that matters
(``unpaired.detect_top``, ``unpaired.match_pairs``, ...) and one line per figure:
:func:`oracle_pairing_errors`, :func:`oracle_scores`, :func:`detection_precision`, the figures
:func:`plot_oracle_pairing`, :func:`plot_detection`, :func:`plot_phase2_run`,
:func:`plot_unpaired_summary` (from :mod:`mmcl_lib.book.unpaired_experiment`),
:func:`matching_demo_run` with :func:`matching_demo_figure`, :func:`summary_table`,
:func:`rounded_difference` and :func:`full_run_values`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.lines import Line2D

from .. import _validation as check
from ..data import LatentFactorModel
from ..losses import clip, linear
from ..metrics import retrieval_accuracy, subspace_error
from ..spectral import closed_form_mmcl
from ..unpaired import detect_top, match_pairs, matching_self_training, pair_scores, scoring_callback
from . import display, style
from .unpaired_experiment import LABELS, plot_unpaired_summary
from .unpaired_figures import bar_labels, method_look

__all__ = ["oracle_pairing_errors", "oracle_scores", "detection_precision", "plot_oracle_pairing",
           "plot_detection", "plot_phase2_run", "plot_unpaired_summary", "matching_demo_run",
           "matching_demo_figure", "summary_table", "rounded_difference", "full_run_values"]

def oracle_pairing_errors(seeds: Sequence[int], N_values: Sequence[int], *, d1: int = 40, d2: int = 39,
                          r: int = 10, noise: float = 0.3, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Chapter 5, ``sec-unpaired-why``: feature error of the closed form from the ``n`` pairs and from
    the ``n + N`` pairs with the hidden pairing revealed.

    Returns ``(err_pairs, err_oracle)`` of shapes ``(len(seeds),)`` and ``(len(seeds), len(N_values))``:
    ``metrics.subspace_error`` of ``spectral.closed_form_mmcl``'s modality-1 encoder.
    """
    err_pairs, err_oracle = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        model = LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise)
        pairs = model.sample(n, rng)
        err_pairs.append(subspace_error(closed_form_mmcl(pairs.X, pairs.Y, r)[0], model.U1))
        row = []
        for N in N_values:
            unp = model.sample_unpaired(N, rng)
            X_all = np.vstack([pairs.X, unp.X])
            Y_all = np.vstack([pairs.Y, unp.Y[unp.hidden_partner]])   # the oracle pairing
            row.append(subspace_error(closed_form_mmcl(X_all, Y_all, r)[0], model.U1))
        err_oracle.append(row)
    return np.array(err_pairs), np.array(err_oracle)


def oracle_scores(r: int, N: int, seed: int = 0, *, d: int = 100, noise: float = 0.3,
                  similarity: str = "inner"):
    """Similarities (N x N) of an unpaired set under the true encoders, and its pairing.

    Chapter 5, ``sec-unpaired-detection``: the scores a detector would see with perfect encoders,
    as inner products (``similarity="inner"``, the heuristic of ``rem-detection-condition``) or
    cosines (``"cosine"``, the similarity of the authors' algorithm) of the same embeddings.
    """
    rng = np.random.default_rng([r, N, seed])
    model = LatentFactorModel.random(d, d, r, rng, noise_std1=noise)
    unp = model.sample_unpaired(N, rng)
    loss = linear() if similarity == "inner" else clip(1.0, similarity=similarity)
    return loss.similarities(model.U1.T, model.U2.T, unp.X, unp.Y), unp.hidden_partner


def detection_precision(ratios: Sequence[float], Ns: Sequence[int], seeds: Sequence[int], *,
                        d: int = 100, noise: float = 0.3) -> dict:
    """Precision of the top-N rule and of one-to-one matching against ``r / log N`` (Chapter 5).

    For each ``N`` and each ratio ``k``, ``r = max(1, round(k log N))``; the detectors see
    :func:`oracle_scores`. Returns ``{"r": (len(Ns), len(ratios)) ints, "x": r / log N,
    "top": precision of ``unpaired.detect_top(S, N)`` on inner products, "top_cosine": the same on
    cosines, "match": of ``unpaired.match_pairs(S)`` on inner products}``, precisions averaged over
    ``seeds``.
    """
    Ns = [check.integer(N, "N", low=2) for N in Ns]
    rs = np.array([[max(1, int(round(k * np.log(N)))) for k in ratios] for N in Ns])
    top, top_cosine, match = np.zeros(rs.shape), np.zeros(rs.shape), np.zeros(rs.shape)
    for a, N in enumerate(Ns):
        for b, r in enumerate(rs[a]):
            for seed in seeds:
                S, partner = oracle_scores(int(r), N, seed, d=d, noise=noise)
                top[a, b] += pair_scores(*detect_top(S, N), partner)[0] / len(seeds)
                match[a, b] += pair_scores(*match_pairs(S), partner)[0] / len(seeds)
                S, partner = oracle_scores(int(r), N, seed, d=d, noise=noise, similarity="cosine")
                top_cosine[a, b] += pair_scores(*detect_top(S, N), partner)[0] / len(seeds)
    return {"N": Ns, "r": rs, "x": rs / np.log(Ns)[:, None], "top": top, "top_cosine": top_cosine,
            "match": match}


def plot_oracle_pairing(n: int, N_values, err_pairs: float, err_oracle):
    """Chapter 5, ``fig-unpaired-oracle-pairing``: error against the number of correctly paired samples.

    The closed form from the ``n`` pairs alone (one point) and with the oracle pairing of ``N``
    more (a curve), in their house looks, with the ``1/sqrt(n + N)`` law through the first point.
    """
    totals = n + np.asarray(N_values)
    fig, ax = display.subplots(height=3.6)
    ax.plot([n], [err_pairs], **method_look("closed_form", label=f"closed form, {n} pairs only",
                                            linestyle="none", markersize=8))
    ax.plot(totals, err_oracle, **style.look("oracle", label="closed form, oracle pairing",
                                             markersize=9))
    ax.plot(np.r_[n, totals], err_pairs * np.sqrt(n / np.r_[n, totals]), color="0.45", lw=1,
            ls="-.", label=r"$\propto 1/\sqrt{n+N}$")
    display.log_ticks(ax, "x", np.r_[n, totals])
    display.log_ticks(ax, "y")
    ax.set(xlabel="number of correctly paired samples used, $n + N$",
           ylabel=r"sin-theta error of $\hat U_1$")
    ax.legend(loc="upper right")
    return fig


DETECTORS = (("top", "o", "-", "top-N rule, inner product"),
             ("top_cosine", "^", ":", "top-N rule, cosine"),
             ("match", "s", "--", "matching, inner product"))
"""The three detectors of :func:`plot_detection`: result key, marker, line style, label."""


def plot_detection(det: dict):
    """Chapter 5, ``fig-unpaired-detection``: precision against r / log N, top-N rule (inner product
    and cosine) and matching (inner product).

    One marker and line style per detector, one colour per N; two legends below the axes, one
    for the detectors (in black) and one for the set sizes, so no entry mixes the two.
    """

    fig, ax = display.subplots(height=5.0)
    for a, N in enumerate(det["N"]):
        for key, marker, ls, _ in DETECTORS:
            ax.plot(det["x"][a], det[key][a], marker=marker, ls=ls, color=f"C{a}")
    for k, text in ((2, "2 log N"), (4, "4 log N")):
        ax.axvline(k, color="gray", ls=":", lw=1)
        ax.text(k, 1.0, text, ha="center", va="bottom", color="0.3",
                transform=ax.get_xaxis_transform())
    ax.axhline(0.5, color="gray", lw=0.6)
    ax.set(xlabel=r"signal dimension relative to the set size, $r / \log N$",
           ylabel="detection precision", ylim=(0, 1.04))
    rules = [Line2D([], [], color="k", marker=m, ls=ls, label=label) for _, m, ls, label in DETECTORS]
    sizes = [Line2D([], [], color=f"C{a}", lw=4, label=f"N = {N}") for a, N in enumerate(det["N"])]
    fig.legend(handles=rules, loc="outside lower left", title="detector")
    fig.legend(handles=sizes, loc="outside lower right", title="set size")
    return fig


def plot_phase2_run(precision_per_epoch, accuracies: dict):
    """Chapter 5, ``fig-unpaired-phase2``: precision per epoch of phase 2 (left) and the accuracies
    compared (right).

    ``accuracies`` maps a label to an accuracy, in the order paired only (phase 1), after phase 2,
    closed form from the pairs, true encoders; the bars take those methods' house colours and
    short two-line names, each labelled with its value.
    """
    fig, (ax1, ax2) = display.subplots(1, 2, height=3.4)
    epochs = np.arange(1, len(precision_per_epoch) + 1)
    ax1.plot(epochs, precision_per_epoch, **method_look("paired_unpaired", marker="",
                                                        label=None))
    display.integer_ticks(ax1, "x")
    ax1.set(xlabel="epoch of phase 2", ylabel="precision of detected pairs", ylim=(0, 1.05))
    values = list(accuracies.values())
    names = ["paired\nonly", "after\nphase 2", "closed\nform", "true\nencoders"][:len(values)]
    colors = [method_look(m)["color"] for m in ("paired_only", "paired_unpaired", "closed_form",
                                                "oracle")]
    ax2.bar(names, values, color=colors[:len(values)])
    bar_labels(ax2, values, fmt=".3f")
    ax2.set(ylabel="top-1 retrieval accuracy", ylim=(0, 1.05))
    ax2.grid(False, axis="x")
    return fig


def summary_table(summary: dict, Ns: Sequence[int] | None = None, *, caption: str | None = None):
    """Chapter 5's accuracy table: one row per method, one column per N, cells "mean ± sd"."""
    cols = list(summary["N"]) if Ns is None else list(Ns)
    idx = [summary["N"].index(N) for N in cols]
    rows = []
    for method, s in summary["methods"].items():
        mean, std = np.atleast_1d(s["mean"]), np.atleast_1d(s["std"])
        rows.append([LABELS[method]] + [display.pm(mean[k if mean.size > 1 else 0], std[k if std.size > 1 else 0])
                                        for k in idx])
    return display.html_table(["method"] + [f"N = {N}" for N in cols], rows, caption=caption)


def rounded_difference(a: float, b: float, digits: int = 3) -> float:
    """``round(a, digits) - round(b, digits)``: the difference of two values as the prose shows them."""
    return round(round(float(a), digits) - round(float(b), digits), digits)


def matching_demo_run(n: int, N: int, noise_std: float, r: int, *, n_test: int = 2000,
                      d1: int = 40, d2: int = 39, seed: int = 7) -> dict:
    """One setting of Chapter 5's interactive figure, computed (no drawing).

    Draws a latent-factor model (seed ``seed``), ``n`` pairs, ``N`` unpaired samples and ``n_test``
    test pairs, runs two rounds of the matching variant (``unpaired.matching_self_training``,
    threshold 0.8; the book's matching variant of ``sec-unpaired-gain``, not in the paper) and returns ``{"accuracies": [pairs
    only, matching, true encoders], "evaluations": [(precision, recall) per round], "n_test": n_test}``:
    top-1 retrieval among the test pairs of the closed form from the pairs, of the matching variant
    and of the true encoders. The chapter computes it for every slider setting once
    (``explorer.precompute``) and :func:`matching_demo_figure` draws it.
    """
    rng = np.random.default_rng(seed)
    model = LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise_std)
    pairs, test = model.sample(n, rng), model.sample(n_test, rng)
    unp = model.sample_unpaired(N, rng)
    res = matching_self_training(pairs.X, pairs.Y, unp.X, unp.Y, r, rounds=2, threshold=0.8,
                                 callback=scoring_callback(unp.hidden_partner))
    accs = [retrieval_accuracy(*G, test.X, test.Y)
            for G in (closed_form_mmcl(pairs.X, pairs.Y, r), (res.G1, res.G2), (model.U1.T, model.U2.T))]
    return {"accuracies": accs, "evaluations": list(res.evaluations), "n_test": n_test}


def matching_demo_figure(run: dict):
    """Chapter 5's interactive figure for one result of :func:`matching_demo_run`: accuracy of the
    pairs-only closed form, matching and the true encoders (left) and the precision and recall of
    the matched pairs per round (right)."""
    accs, evaluations, n_test = run["accuracies"], run["evaluations"], run["n_test"]
    fig, (ax1, ax2) = display.subplots(1, 2, height=3.4)
    colors = [method_look(m)["color"] for m in ("closed_form", "matching", "oracle")]
    ax1.bar(["pairs\nonly", "after\nmatching", "true\nencoders"], accs, color=colors)
    bar_labels(ax1, accs)
    ax1.set(ylim=(0, 1.12), ylabel=f"accuracy, {n_test} test pairs")
    ax1.grid(False, axis="x")
    rounds = np.arange(1, len(evaluations) + 1)
    ax2.plot(rounds, [p for p, _ in evaluations], "o-", color="k", label="precision")
    ax2.plot(rounds, [q for _, q in evaluations], "s--", color="0.55", label="recall")
    display.integer_ticks(ax2, "x")
    ax2.set(ylim=(0, 1.05), xlabel="matching round", ylabel="matched pairs")
    ax2.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    return fig


def full_run_values(summary: dict, Ns: Sequence[int] = (500, 5000), digits: int = 3) -> dict[str, float]:
    """Glue names and values of a recorded Section 5.1 run, rounded to what the prose shows.

    ``ch5_full_<method>_<N>`` (mean accuracy) and ``..._sd`` (standard deviation) for every method
    and each N of ``Ns``; ``ch5_full_err_<method>_<N>`` with ``..._min`` and ``..._max``, the feature
    error (mean and range over seeds); and ``ch5_full_det_batch_<N>`` / ``ch5_full_det_match_<N>``,
    the last-epoch (last-round) detection precision of phase 2 and of the matching variant.
    Differences quoted in the prose are then computed from these rounded values, so they agree with
    the numbers shown.
    """
    def at(values, k):
        values = np.atleast_1d(values)
        return round(float(values[k if values.size > 1 else 0]), digits)

    out: dict[str, float] = {}
    for N in Ns:
        k = summary["N"].index(N)
        for method, s in summary["methods"].items():
            out[f"ch5_full_{method}_{N}"] = at(s["mean"], k)
            out[f"ch5_full_{method}_{N}_sd"] = at(s["std"], k)
        for method, s in summary["feature_error"].items():
            for stat, suffix in (("mean", ""), ("min", "_min"), ("max", "_max")):
                out[f"ch5_full_err_{method}_{N}{suffix}"] = at(s[stat], k)
        det = summary["detection_precision"]
        out[f"ch5_full_det_batch_{N}"] = round(float(det["paired_unpaired"][k]), 2)
        out[f"ch5_full_det_match_{N}"] = round(float(det["matching"][k]), 2)
    return out
