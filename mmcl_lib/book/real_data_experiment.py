"""Chapter 6's experiments on the UCI Multiple Features digits: view sharing, Section 5.2, Section 5.3.

Book machinery only (drivers and figures); the mathematics lives in :mod:`mmcl_lib.real_data`,
:mod:`mmcl_lib.graph`, :mod:`mmcl_lib.unpaired`, :mod:`mmcl_lib.spectral` and :mod:`mmcl_lib.metrics`.

- :func:`view_sharing`: closed-form instance retrieval between every two views ("how much do two
  views share?").
- :func:`class_level_split`: the two modalities as two *different* sets of digits (x's from one
  half of each class, y's from the other), standardised with training statistics.
- :func:`denoiser_recovery` and :func:`graph_run`: the paper's Section 5.2 as the authors coded it
  (noisy class graph, co-clustering denoiser, edge-normalised multi-positive InfoNCE trained to a
  stopping rule, one-random-item prototypes).
- :func:`teacher_run`: the paper's Section 5.3 (class-level pairs, CLIP phase 1, gated teacher
  phase 2, oracle) with linear encoders.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .. import graph, metrics, real_data, solvers, spectral, training, unpaired
from . import display, style


def view_sharing(views: dict, r: int, n_train: int, rng: np.random.Generator) -> dict:
    """Closed-form (Lemma 2.1) instance retrieval on held-out digits for every pair of views.

    ``r`` is capped at the smaller view's dimension minus one. Views are standardised with the
    training digits' statistics. Returns ``{(a, b): accuracy}``.
    """
    n = next(iter(views.values())).shape[0]
    train, test = real_data.random_partition(n, [n_train, n - n_train], rng)
    out = {}
    for a, b in itertools.combinations(views, 2):
        Xa, Xt = real_data.standardise_views(views[a][train], views[a][test])
        Ya, Yt = real_data.standardise_views(views[b][train], views[b][test])
        rank = min(r, Xa.shape[1] - 1, Ya.shape[1] - 1)
        G1, G2 = spectral.closed_form_mmcl(Xa, Ya, rank)
        out[(a, b)] = metrics.retrieval_accuracy(G1, G2, Xt, Yt)
    return out


@dataclass(frozen=True)
class ClassLevelData:
    """Two modalities from disjoint digits: ``X`` (view a) and ``Y`` (view b), train and test."""

    X: np.ndarray
    Y: np.ndarray
    labels_x: np.ndarray
    labels_y: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    labels_x_test: np.ndarray
    labels_y_test: np.ndarray


def class_level_split(views: dict, labels: np.ndarray, x_view: str, y_view: str, n_train: int,
                      n_test: int, rng: np.random.Generator) -> ClassLevelData:
    """Per class, draw disjoint digits for the x's and the y's (``n_train + n_test`` each).

    No digit appears in both modalities, so x's and y's share only their classes, as an MNIST
    digit and a Fashion-MNIST item do in the paper. Rows are ordered class by class.
    """
    parts = {key: [] for key in ("xtr", "xte", "ytr", "yte")}
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        need = n_train + n_test
        if members.size < 2 * need:
            raise ValueError(f"n_train + n_test = {need} needs {2 * need} digits per class, class {c} has {members.size}")
        xs, ys = members[:need], members[need:2 * need]
        parts["xtr"].append(xs[:n_train]), parts["xte"].append(xs[n_train:])
        parts["ytr"].append(ys[:n_train]), parts["yte"].append(ys[n_train:])
    xtr, xte, ytr, yte = (np.concatenate(parts[k]) for k in ("xtr", "xte", "ytr", "yte"))
    X, X_test = real_data.standardise_views(views[x_view][xtr], views[x_view][xte])
    Y, Y_test = real_data.standardise_views(views[y_view][ytr], views[y_view][yte])
    return ClassLevelData(X, Y, labels[xtr], labels[ytr], X_test, Y_test, labels[xte], labels[yte])


# --------------------------------------------------------------------------- Section 5.2

def denoiser_recovery(labels_x, labels_y, ps, ks, methods, seeds: int) -> dict:
    """Fraction of entries of the denoised graph equal to the clean class graph.

    Returns ``{(method, k): array (len(ps), seeds)}`` plus ``("noisy", None)`` for the noisy graph.
    """
    T = graph.class_graph(labels_x, labels_y)
    out = {("noisy", None): np.zeros((len(ps), seeds))}
    for key in itertools.product(methods, ks):
        out[key] = np.zeros((len(ps), seeds))
    for i, p in enumerate(ps):
        for s in range(seeds):
            rng = np.random.default_rng([52, i, s])
            noisy = graph.corrupt_graph(T, p, rng)
            out[("noisy", None)][i, s] = np.mean(noisy == T)
            for method, k in itertools.product(methods, ks):
                out[(method, k)][i, s] = np.mean(graph.denoise_graph(noisy, k, rng, method=method) == T)
    return out


def random_block_agreement(k: int) -> float:
    """Fraction of entries on which a k-class graph and an independent random k-block graph agree.

    Both link a pair with probability ``1/k``, independently, so they agree with probability
    ``1/k^2 + (1 - 1/k)^2 = 1 - 2/k + 2/k^2`` (0.82 for k = 10): what a denoiser that has lost the
    classes returns, on average.
    """
    return 1.0 - 2.0 / k + 2.0 / k**2


def denoiser_breakdown(ns, k: int, ps, seeds: int) -> dict:
    """The measured breakdown of the authors' denoiser next to :func:`mmcl_lib.graph.denoising_threshold`.

    For each ``n`` (items per side, ``k`` equal classes) and flip probability in ``ps`` (increasing),
    the agreement of the denoised graph (``k`` clusters) with the clean one, averaged over
    ``seeds`` noise draws. The measured breakdown point is the ``p`` at which the agreement first
    falls halfway from 1 to :func:`random_block_agreement` (linear interpolation between grid
    points; NaN if it never does). Returns ``{"n", "ps", "agreement" (len(ns), len(ps)),
    "measured", "predicted"}``.
    """
    ps = [float(p) for p in ps]
    half = 0.5 * (1.0 + random_block_agreement(k))
    agreement = np.zeros((len(ns), len(ps)))
    for a, n in enumerate(ns):
        lab = np.repeat(np.arange(k), n // k)
        T = graph.class_graph(lab, lab)
        for b, p in enumerate(ps):
            for s in range(seeds):
                rng = np.random.default_rng([54, n, b, s])
                agreement[a, b] += np.mean(graph.denoise_graph(graph.corrupt_graph(T, p, rng), k, rng) == T) / seeds
    measured = []
    for row in agreement:
        below = np.flatnonzero(row < half)
        if below.size == 0 or below[0] == 0:
            measured.append(float("nan"))
            continue
        j = below[0]
        measured.append(float(np.interp(half, [row[j], row[j - 1]], [ps[j], ps[j - 1]])))
    predicted = [graph.denoising_threshold(n // k * k, n // k * k, k) for n in ns]
    return {"n": list(ns), "ps": ps, "agreement": agreement, "measured": np.array(measured),
            "predicted": np.array(predicted)}


def train_to_plateau(loss, G1, G2, X, Y, *, window: int = 20, rel_tol: float = 1e-3,
                     max_iter: int = 600) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Full-batch gradient descent with line search until the loss stops falling.

    Runs :func:`mmcl_lib.solvers.gradient_descent` ``window`` steps at a time and stops when a
    window lowered the loss by less than ``rel_tol`` relative to its value (a plateau, the
    book's stand-in for the authors' plateau-based schedule), when no step is accepted, or after
    ``max_iter`` steps. Returns ``(G1, G2, plateau_reached, steps)``. (The gradient norm is no
    usable criterion here: with cosine similarity it stays near 1e-2 on the plateau.)
    """
    steps = 0
    while steps < max_iter:
        fit = solvers.gradient_descent(loss, G1, G2, X, Y, max_iter=min(window, max_iter - steps), tol=1e-12)
        G1, G2, steps = fit.G1, fit.G2, steps + fit.n_iter
        first, last = fit.history.loss[0], fit.history.loss[-1]
        if fit.n_iter < min(window, max_iter - steps + fit.n_iter) or first - last <= rel_tol * abs(last):
            return G1, G2, True, steps
    return G1, G2, False, steps


def graph_run(data: ClassLevelData, p: float, denoiser, rng: np.random.Generator, *, r: int = 10,
              max_iter: int = 600, rel_tol: float = 1e-3, draws: int = 20) -> dict:
    """One Section 5.2 run: corrupt the class graph with ``p``, denoise, train, score.

    ``denoiser`` is ``None`` (train on the noisy graph) or ``(method, k)`` for
    :func:`mmcl_lib.graph.denoise_graph`. Training: :func:`train_to_plateau` on the
    edge-normalised multi-positive InfoNCE (divisor: the noisy graph's edge count), cosine
    similarity, tau = 1, from random encoders. Scores on the held-out digits: one-random-item
    prototypes (``draws`` draws, the authors' metric) and class-mean prototypes.
    """
    T = graph.class_graph(data.labels_x, data.labels_y)
    noisy = graph.corrupt_graph(T, p, rng)
    used = noisy if denoiser is None else graph.denoise_graph(noisy, denoiser[1], rng, method=denoiser[0])
    loss = graph.MultiPositiveInfoNCE(used, 1.0, normalisation="edges", n_edges=int(noisy.sum()))
    G1, G2 = training.init_encoders(data.X.shape[1], data.Y.shape[1], r, rng)
    G1, G2, plateau, steps = train_to_plateau(loss, G1, G2, data.X, data.Y, max_iter=max_iter, rel_tol=rel_tol)
    args = (G1, G2, data.X_test, data.Y_test, data.labels_x_test, data.labels_y_test)
    return {"sampled": graph.sampled_prototype_accuracy(*args, rng, draws=draws),
            "means": metrics.nearest_prototype_accuracy(*args),
            "agreement": float(np.mean(used == T)), "converged": float(plateau), "steps": float(steps)}


def graph_name(denoiser) -> str:
    """``"noisy"`` for no denoiser, else ``"<method> k=<k>"``."""
    return "noisy" if denoiser is None else f"{denoiser[0]} k={denoiser[1]}"


def graph_sweep(views: dict, labels: np.ndarray, ps, denoisers, seeds: int, *, n_per_class: int,
                n_test: int = 50, x_view: str = "pix", y_view: str = "fou", max_iter: int = 600,
                rel_tol: float = 1e-3) -> dict:
    """Section 5.2 over flip probabilities, denoisers and seeds, plus the clean graph per seed.

    Seed ``s`` draws its own split of the digits (``[6, s]``); every (seed, p, denoiser) run gets
    its own generator ``[7, s, i, j]``. Returns ``{name: {metric: array (len(ps), seeds)}}`` for
    each denoiser (:func:`graph_name`) and ``"clean"`` with arrays of shape ``(1, seeds)``.
    """
    metrics_ = ("sampled", "means", "agreement", "converged", "steps")
    out = {name: {m: np.zeros((len(ps), seeds)) for m in metrics_} for name in map(graph_name, denoisers)}
    out["clean"] = {m: np.zeros((1, seeds)) for m in metrics_}
    for s in range(seeds):
        data = class_level_split(views, labels, x_view, y_view, n_per_class, n_test, np.random.default_rng([6, s]))
        for m, v in graph_run(data, 0.0, None, np.random.default_rng([7, s]), max_iter=max_iter, rel_tol=rel_tol).items():
            out["clean"][m][0, s] = v
        for (i, p), (j, den) in itertools.product(enumerate(ps), enumerate(denoisers)):
            run = graph_run(data, p, den, np.random.default_rng([7, s, i, j]), max_iter=max_iter,
                            rel_tol=rel_tol)
            for m, v in run.items():
                out[graph_name(den)][m][i, s] = v
    return out


# --------------------------------------------------------------------------- Section 5.3

def class_retrieval(G1, G2, X, Y, labels_x, labels_y) -> float:
    """Cross-modal class retrieval: each x retrieves its most cosine-similar y; right if the classes match."""
    F = X @ G1.T
    H = Y @ G2.T
    F = F / np.linalg.norm(F, axis=1, keepdims=True)
    H = H / np.linalg.norm(H, axis=1, keepdims=True)
    return float(np.mean(labels_y[np.argmax(F @ H.T, axis=1)] == labels_x))


def teacher_run(views: dict, labels: np.ndarray, x_view: str, y_view: str, seed: int, *, n_paired: int,
                n_val: int, n_test: int, r: int = 16, epochs_paired: int = 100, loops: int = 20,
                epochs_per_loop: int = 5, lr_unpaired: float = 2e-5, batch_size: int = 64) -> dict:
    """One Section 5.3 run on two views: paired only, with unpaired data (teacher), oracle.

    Per class, x-digits and y-digits are disjoint; ``n_paired``, ``n_val`` and ``n_test`` per class
    are paired at the class level (k-th x of a class with the k-th y of the class), the rest of
    the digits form the unpaired set, stored in class-aligned order as the authors' data loader
    does. Phase 1: minibatch CLIP (AdamW, lr 2e-3, batch 64). Phase 2: :func:`mmcl_lib.unpaired.
    teacher_self_training` with the validation gate 1.1. Oracle: from the phase-1 model, CLIP on
    the unpaired set with its class-aligned pairing, same number of epochs and learning rate.
    Metric: :func:`class_retrieval` on the test pairs.
    """
    rng = np.random.default_rng([53, seed])
    per_class = int(np.min(np.bincount(labels))) // 2
    sizes = [n_paired, n_val, n_test]
    ix, iy = {}, {}
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        xs, ys = members[:per_class], members[per_class:2 * per_class]
        ends = np.cumsum(sizes + [per_class - sum(sizes)])
        for name, start, end in zip(("paired", "val", "test", "unpaired"), np.r_[0, ends[:-1]], ends):
            ix.setdefault(name, []).append(xs[start:end])
            iy.setdefault(name, []).append(ys[start:end])
    ix = {k: np.concatenate(v) for k, v in ix.items()}
    iy = {k: np.concatenate(v) for k, v in iy.items()}
    names = ("paired", "val", "test", "unpaired")
    Xs = real_data.standardise_views(views[x_view][ix["paired"]], *(views[x_view][ix[k]] for k in names[1:]))
    Ys = real_data.standardise_views(views[y_view][iy["paired"]], *(views[y_view][iy[k]] for k in names[1:]))
    X, Y = dict(zip(names, Xs)), dict(zip(names, Ys))
    lab = {k: labels[ix[k]] for k in names}

    def score(G1, G2, part="test"):
        return class_retrieval(G1, G2, X[part], Y[part], lab[part], lab[part])

    G1, G2 = training.init_encoders(X["paired"].shape[1], Y["paired"].shape[1], r, rng)
    first = training.train_clip(X["paired"], Y["paired"], G1, G2, rng=rng, epochs=epochs_paired,
                                batch_size=batch_size, optimizer=training.AdamW(lr=2e-3))
    student_curve = []
    teacher, student = unpaired.teacher_self_training(
        X["unpaired"], Y["unpaired"], first.G1, first.G2, lambda A1, A2: score(A1, A2, "val"), rng=rng,
        loops=loops, epochs_per_loop=epochs_per_loop, batch_size=batch_size, lr=lr_unpaired,
        callback=lambda epoch, A1, A2: student_curve.append(score(A1, A2)))
    oracle = training.train_clip(X["unpaired"], Y["unpaired"], first.G1, first.G2, rng=rng,
                                 epochs=loops * epochs_per_loop, batch_size=batch_size,
                                 optimizer=training.AdamW(lr=lr_unpaired))
    return {"paired": score(first.G1, first.G2), "teacher": score(teacher.G1, teacher.G2),
            "student": score(*student), "oracle": score(oracle.G1, oracle.G2),
            "accepted": int(sum(a for _, a in teacher.evaluations)), "student_curve": np.array(student_curve),
            "n_unpaired": int(ix["unpaired"].size)}


def teacher_sweep(views: dict, labels: np.ndarray, seeds: int, **kwargs) -> dict:
    """:func:`teacher_run` for seeds ``0..seeds-1``; scalars stacked into arrays of shape ``(seeds,)``.

    ``"student_curve"`` becomes an array ``(seeds, epochs)``; ``kwargs`` go to :func:`teacher_run`.
    """
    runs = [teacher_run(views, labels, "pix", "fou", s, **kwargs) for s in range(seeds)]
    return {key: np.array([run[key] for run in runs]) for key in runs[0]}


# --------------------------------------------------------------------------- paper scale

def paper_scale(views: dict, labels: np.ndarray) -> dict:
    """The ``MMCL_SCALE=paper`` configuration of Chapter 6, as plain numbers (for a results file).

    Section 5.2: 50 items per class per modality, p in {0, 0.05, ..., 0.5}, no denoising,
    the authors' denoiser with k in {5, 7, 10, 13, 15} and scikit-learn's with k = 10, 3 seeds,
    the plateau rule with ``rel_tol = 1e-4`` and at most 1000 steps; the denoiser's measured
    breakdown against :func:`mmcl_lib.graph.denoising_threshold` (:func:`denoiser_breakdown`,
    n = 100 ... 800 items per side). Section 5.3: 10 seeds at the book's phase-2 learning rate
    2e-3 (``section_5_3``) and at the authors' 2e-5 (``section_5_3_authors_lr``).
    """
    settings = {**PAPER_SETTINGS}
    ps = settings["ps"]
    denoisers = [None] + [("authors", k) for k in settings["ks"]] + [("sklearn", 10)]
    sweep = graph_sweep(views, labels, ps, denoisers, settings["graph_seeds"], n_per_class=settings["n_per_class"],
                        max_iter=settings["max_iter"], rel_tol=settings["rel_tol"])
    breakdown = denoiser_breakdown(settings["breakdown_ns"], 10, settings["breakdown_ps"], settings["graph_seeds"])
    teach = {lr: teacher_sweep(views, labels, settings["teacher_seeds"], n_paired=10, n_val=10, n_test=30,
                               loops=20, lr_unpaired=lr) for lr in (2e-3, 2e-5)}
    return {"settings": settings,
            "section_5_2": {name: {m: v.tolist() for m, v in res.items()} for name, res in sweep.items()},
            "denoiser_breakdown": {k: np.asarray(v).tolist() for k, v in breakdown.items()},
            "section_5_3": {k: v.tolist() for k, v in teach[2e-3].items() if k != "student_curve"},
            "section_5_3_authors_lr": {k: v.tolist() for k, v in teach[2e-5].items() if k != "student_curve"}}


PAPER_SETTINGS = {"ps": [round(0.05 * i, 2) for i in range(11)], "ks": [5, 7, 10, 13, 15], "graph_seeds": 3,
                  "n_per_class": 50, "max_iter": 1000, "rel_tol": 1e-4, "teacher_seeds": 10,
                  "views": ["pix", "fou"], "breakdown_ns": [100, 200, 300, 500, 800],
                  "breakdown_ps": [round(0.14 + 0.02 * i, 2) for i in range(17)]}


def paper_scale_markdown(results: dict) -> str:
    """A Markdown table of :func:`paper_scale`'s results: mean (min-max over seeds) per p and graph."""
    sec = results["section_5_2"]
    ps = results["settings"]["ps"]
    names = [n for n in sec if n != "clean"]
    lines = ["| p | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for i, p in enumerate(ps):
        cells = []
        for n in names:
            v = np.asarray(sec[n]["sampled"][i])
            cells.append(f"{v.mean():.3f} ({v.min():.3f}-{v.max():.3f})")
        lines.append(f"| {p:g} | " + " | ".join(cells) + " |")
    clean = np.asarray(sec["clean"]["sampled"][0])
    plateau = np.mean([np.mean(sec[n]["converged"]) for n in sec])
    t = {k: np.asarray(v) for k, v in results["section_5_3"].items()}
    a = {k: np.asarray(v) for k, v in results["section_5_3_authors_lr"].items()}
    bd = results["denoiser_breakdown"]
    bd_lines = ["| n per side | predicted p* | measured breakdown |", "|---|---|---|"]
    bd_lines += [f"| {n} | {p:.3f} | {m:.3f} |" for n, p, m in zip(bd["n"], bd["predicted"], bd["measured"])]
    return "\n".join([
        "# Chapter 6 at MMCL_SCALE=paper", "",
        "Section 5.2: one-random-item prototype accuracy on held-out digits (x = pix, y = fou), mean and",
        f"min-max over {results['settings']['graph_seeds']} seeds. Clean graph: {clean.mean():.3f} "
        f"({clean.min():.3f}-{clean.max():.3f}). Fraction of runs that reached the plateau rule: {plateau:.2f}.", "",
        *lines, "",
        f"Section 5.3 ({len(t['paired'])} seeds): paired only {t['paired'].mean():.3f}, with unpaired data "
        f"(teacher) {t['teacher'].mean():.3f}, final student {t['student'].mean():.3f}, oracle {t['oracle'].mean():.3f}; "
        f"teacher above paired only in {int(np.sum(t['teacher'] > t['paired']))} seeds.", "",
        f"Section 5.3 at the authors' phase-2 learning rate 2e-5 ({len(a['paired'])} seeds): paired only "
        f"{a['paired'].mean():.3f}, teacher {a['teacher'].mean():.3f}, final student {a['student'].mean():.3f}, "
        f"oracle {a['oracle'].mean():.3f}; loops accepted per seed {a['accepted'].tolist()}; final student above the "
        f"teacher in {int(np.sum(a['student'] > a['teacher']))} seeds.", "",
        "Denoiser breakdown (10 classes, authors' denoiser with k = 10): the flip probability at which the",
        "agreement with the clean graph falls halfway from 1 to a random block graph's, against p* of",
        f"graph.denoising_threshold ({results['settings']['graph_seeds']} noise draws per point):", "",
        *bd_lines, ""])


def paper_scale_values(results: dict) -> dict:
    """Glue names and values of the recorded paper-scale run for Chapter 6's prose.

    Section 5.2 (``ch6_ps_*``): the clean graph's mean and lowest seed; the noisy graph and the
    authors' denoiser (k = 10) at p = 0.05, 0.1, 0.3 and 0.35 (mean, and the range over seeds at
    0.35); in how many (seed, p) comparisons with p <= 0.15 the noisy graph beats the clean graph
    of the same seed, and the lowest agreement of the denoised graph with the clean one there. The denoiser's breakdown (``ch6_bd_*``): p* and the measured breakdown at
    500 items per side, and the largest distance between them over all n. Section 5.3 at the
    book's rate (``ch6_t_*``) and at the authors' 2e-5 (``ch6_ta_*``): means, seeds, wins, and the
    loops the gate accepted (mean per seed, seeds with none).
    """
    sec, ps = results["section_5_2"], results["settings"]["ps"]
    clean = np.asarray(sec["clean"]["sampled"][0])
    noisy, k10 = np.asarray(sec["noisy"]["sampled"]), np.asarray(sec["authors k=10"]["sampled"])
    at = {p: ps.index(p) for p in (0.05, 0.1, 0.15, 0.3, 0.35)}
    small = [at[0.05], at[0.1], at[0.15]]
    agreement = np.asarray(sec["authors k=10"]["agreement"])
    out = {"ch6_ps_clean": clean.mean(), "ch6_ps_clean_min": clean.min(),
           "ch6_ps_k10_agree_small": agreement[small].min(),
           "ch6_ps_noisy_wins": int(np.sum(noisy[small] > clean[None, :])), "ch6_ps_small_pairs": noisy[small].size,
           "ch6_ps_k10_035_min": k10[at[0.35]].min(), "ch6_ps_k10_035_max": k10[at[0.35]].max()}
    for p, name in ((0.05, "005"), (0.1, "01"), (0.3, "03"), (0.35, "035")):
        out[f"ch6_ps_noisy_{name}"], out[f"ch6_ps_k10_{name}"] = noisy[at[p]].mean(), k10[at[p]].mean()
    bd = results["denoiser_breakdown"]
    i500 = bd["n"].index(500)
    out.update(ch6_bd_pstar_500=bd["predicted"][i500], ch6_bd_measured_500=bd["measured"][i500],
               ch6_bd_largest_gap=float(np.max(np.abs(np.subtract(bd["predicted"], bd["measured"])))),
               ch6_bd_n_min=min(bd["n"]), ch6_bd_n_max=max(bd["n"]))
    for key, prefix in (("section_5_3", "ch6_t"), ("section_5_3_authors_lr", "ch6_ta")):
        t = {k: np.asarray(v) for k, v in results[key].items()}
        out.update({f"{prefix}_{k}": t[k].mean() for k in ("paired", "teacher", "student", "oracle")})
        out.update({f"{prefix}_seeds": len(t["paired"]), f"{prefix}_wins": int(np.sum(t["teacher"] > t["paired"])),
                    f"{prefix}_student_wins": int(np.sum(t["student"] > t["teacher"])),
                    f"{prefix}_accepted_mean": t["accepted"].mean(),
                    f"{prefix}_accepted_none": int(np.sum(t["accepted"] == 0))})
    return {k: float(v) if isinstance(v, np.floating) else v for k, v in out.items()}


def denoiser_breakdown_table(results: dict) -> display.HTMLTable:
    """The recorded denoiser breakdown: per n, the predicted threshold p* and the measured breakdown."""
    bd = results["denoiser_breakdown"]
    rows = [[int(n), p, m] for n, p, m in zip(bd["n"], bd["predicted"], bd["measured"])]
    return display.html_table(["items per side n", "predicted p*", "measured breakdown"], rows, float_format=".3f",
                              caption="authors' denoiser, 10 classes, k = 10; recorded run")


def paper_scale_table(results: dict) -> display.HTMLTable:
    """:func:`paper_scale`'s Section 5.2 results as a table: mean accuracy over seeds per p (rows) and
    training graph (columns); the caption adds the clean graph and Section 5.3. The ranges over seeds
    are in the recorded Markdown file."""
    sec, settings = results["section_5_2"], results["settings"]
    names = [n for n in sec if n != "clean"]
    rows = [[f"{p:g}"] + [float(np.mean(sec[n]["sampled"][i])) for n in names] for i, p in enumerate(settings["ps"])]
    clean = float(np.mean(sec["clean"]["sampled"][0]))
    t = {k: np.asarray(v) for k, v in results["section_5_3"].items()}
    caption = (f"MMCL_SCALE=paper, recorded: prototype accuracy, mean over {settings['graph_seeds']} seeds "
               f"(clean graph {clean:.3f}). Section 5.3 over {len(t['paired'])} seeds: paired only "
               f"{t['paired'].mean():.3f}, with unpaired data {t['teacher'].mean():.3f}, oracle {t['oracle'].mean():.3f}.")
    return display.html_table(["p"] + [n.replace("authors ", "k-1, ").replace("sklearn ", "log2 k, ") for n in names],
                              rows, caption=caption)


# --------------------------------------------------------------------------- figures

GRAPH_LOOKS = {"noisy": ("noisy graph", "#000000", "o", "-"),
               "authors": ("denoised, k - 1 vectors", "#D55E00", "s", "-"),
               "sklearn": ("denoised, log2 k vectors", "#56B4E9", "v", "--"),
               "clean": ("clean graph", "#009E73", "", "--")}
"""One look per training graph in Chapter 6 (label, colour, marker, line style)."""


def _graph_look(name: str, **extra) -> dict:
    label, color, marker, ls = GRAPH_LOOKS[name]
    return {"label": label, "color": color, "marker": marker or None, "ls": ls, **extra}


def _legend_below(fig, ax, ncols: int = 2) -> None:
    """The axes' legend under the figure, outside the data (constrained layout makes room)."""
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=ncols)


def plot_recovery(ax, ps, recovery: dict) -> None:
    """Fraction of the clean graph recovered vs p, for the noisy graph and each denoiser."""
    for (method, k), values in recovery.items():
        look = _graph_look(method)
        if method != "noisy":
            look["label"] += f", k = {k}"
        ax.plot(ps, values.mean(axis=1), **look)
    ax.set(xlabel="flip probability p", ylabel="fraction of entries\nequal to clean T",
           ylim=(0.45, 1.02))
    _legend_below(ax.figure, ax)


def plot_graph(ax, T, labels_x, labels_y, title: str) -> None:
    """A pairing graph with rows and columns sorted by class."""
    rows, cols = np.argsort(labels_x, kind="stable"), np.argsort(labels_y, kind="stable")
    ax.imshow(T[np.ix_(rows, cols)], cmap="Greys", interpolation="nearest")
    ax.set(title=title, xlabel="y items (by digit)", ylabel="x items (by digit)", xticks=[], yticks=[])


GRAPH_STYLES = {"noisy": "noisy", "authors k=10": "authors", "sklearn k=10": "sklearn"}


def plot_graph_sweep(ax, ps, sweep: dict, key: str = "sampled") -> None:
    """Accuracy vs p for each training graph (mean over seeds, min-max band); the clean graph as a band."""
    for name, res in sweep.items():
        if name == "clean":
            continue
        look = (_graph_look(GRAPH_STYLES[name]) if name in GRAPH_STYLES
                else {"label": name, "marker": "o"})
        v = res[key]
        display.line_with_band(ax, ps, v.mean(axis=1), v.min(axis=1), v.max(axis=1), **look)
    clean = sweep["clean"][key][0]
    look = _graph_look("clean")
    ax.axhline(clean.mean(), color=look["color"], ls=look["ls"], label=look["label"])
    ax.axhspan(clean.min(), clean.max(), color=look["color"], alpha=0.15, lw=0)
    ax.axhline(0.1, color="gray", ls=":", label="chance")
    ax.set(xlabel="flip probability p", ylabel="prototype accuracy (test)", ylim=(0, 0.8),
           xticks=list(ps))
    _legend_below(ax.figure, ax)


def plot_teacher(axes, teach: dict) -> None:
    """Left: per-seed class retrieval of the three models (one line per seed). Right: the student's
    test accuracy over phase 2 (mean, min-max band), with the paired-only and oracle means, in the
    house looks of ``paired_only``, ``paired_unpaired`` and ``oracle``."""
    ax = axes[0]
    keys = [("paired", "paired\nonly"), ("teacher", "with\nunpaired"), ("oracle", "oracle")]
    values = np.array([teach[k] for k, _ in keys])
    ax.plot(range(3), values, color="gray", alpha=0.5, marker="o", ms=4)
    ax.plot(range(3), values.mean(axis=1), "k_", ms=30, mew=2)
    ax.set(xticks=range(3), ylabel="class retrieval (test)", ylim=(0, 1), xlim=(-0.4, 2.4))
    ax.set_xticklabels([label for _, label in keys])
    ax = axes[1]
    curve = teach["student_curve"]
    epochs = np.arange(1, curve.shape[1] + 1)
    student = style.look("paired_unpaired", label="student", marker=None)
    display.line_with_band(ax, epochs, curve.mean(axis=0), curve.min(axis=0), curve.max(axis=0),
                           label=student["label"], color=student["color"], marker=None,
                           ls=student["linestyle"])
    for key, method in (("paired", "paired_only"), ("oracle", "oracle")):
        look = style.look(method)
        ax.axhline(teach[key].mean(), color=look["color"], ls=look["linestyle"],
                   label=look["label"])
    ax.set(xlabel="epoch of phase 2", ylim=(0, 1))
    _legend_below(ax.figure, ax, ncols=3)
