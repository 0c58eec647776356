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


def graph_run(data: ClassLevelData, p: float, k, rng: np.random.Generator, *, r: int = 10,
              max_iter: int = 200, tol: float = 1e-3, draws: int = 20) -> dict:
    """One Section 5.2 run: corrupt the class graph with ``p``, denoise with ``k`` (None: not), train, score.

    Training: full-batch gradient descent with line search (:func:`mmcl_lib.solvers.gradient_descent`)
    on the edge-normalised multi-positive InfoNCE (divisor: the noisy graph's edge count), cosine
    similarity, tau = 1, from random encoders, until the gradient norm is below ``tol`` or
    ``max_iter`` steps. Scores on the held-out digits: one-random-item prototypes (``draws``
    draws, the authors' metric) and class-mean prototypes.
    """
    T = graph.class_graph(data.labels_x, data.labels_y)
    noisy = graph.corrupt_graph(T, p, rng)
    used = noisy if k is None else graph.denoise_graph(noisy, k, rng)
    loss = graph.MultiPositiveInfoNCE(used, 1.0, normalisation="edges", n_edges=int(noisy.sum()))
    G1, G2 = training.init_encoders(data.X.shape[1], data.Y.shape[1], r, rng)
    fit = solvers.gradient_descent(loss, G1, G2, data.X, data.Y, max_iter=max_iter, tol=tol)
    args = (fit.G1, fit.G2, data.X_test, data.Y_test, data.labels_x_test, data.labels_y_test)
    return {"sampled": graph.sampled_prototype_accuracy(*args, rng, draws=draws),
            "means": metrics.nearest_prototype_accuracy(*args),
            "agreement": float(np.mean(used == T)), "converged": float(fit.converged),
            "steps": float(fit.n_iter)}


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
    teacher = unpaired.teacher_self_training(
        X["unpaired"], Y["unpaired"], first.G1, first.G2, lambda A1, A2: score(A1, A2, "val"), rng=rng,
        loops=loops, epochs_per_loop=epochs_per_loop, batch_size=batch_size, lr=lr_unpaired,
        callback=lambda epoch, A1, A2: student_curve.append(score(A1, A2)))
    oracle = training.train_clip(X["unpaired"], Y["unpaired"], first.G1, first.G2, rng=rng,
                                 epochs=loops * epochs_per_loop, batch_size=batch_size,
                                 optimizer=training.AdamW(lr=lr_unpaired))
    return {"paired": score(first.G1, first.G2), "teacher": score(teacher.G1, teacher.G2),
            "student": score(*teacher.student), "oracle": score(oracle.G1, oracle.G2),
            "accepted": int(sum(a for _, a in teacher.evaluations)), "student_curve": np.array(student_curve),
            "n_unpaired": int(ix["unpaired"].size)}


# --------------------------------------------------------------------------- figures

def plot_recovery(ax, ps, recovery: dict) -> None:
    """Fraction of the clean graph recovered vs p, for the noisy graph and each denoiser."""
    styles = {("noisy", None): ("noisy graph", "k", "o")}
    for (method, k) in recovery:
        if method != "noisy":
            styles[(method, k)] = (f"{'k - 1' if method == 'authors' else 'log2 k'} vectors, k = {k}",
                                   "C1" if method == "authors" else "C0", "s" if method == "authors" else "v")
    for key, values in recovery.items():
        label, color, marker = styles[key]
        ax.plot(ps, values.mean(axis=1), marker=marker, color=color, label=label)
    ax.set(xlabel="flip probability p", ylabel="fraction of entries equal to clean T", ylim=(0.45, 1.02))
    ax.legend(fontsize=8)


def plot_graph(ax, T, labels_x, labels_y, title: str) -> None:
    """A pairing graph with rows and columns sorted by class."""
    rows, cols = np.argsort(labels_x, kind="stable"), np.argsort(labels_y, kind="stable")
    ax.imshow(T[np.ix_(rows, cols)], cmap="Greys", interpolation="nearest")
    ax.set(title=title, xlabel="y items (by digit)", ylabel="x items (by digit)", xticks=[], yticks=[])


def plot_graph_sweep(ax, ps, results: dict, key: str = "sampled") -> None:
    """Accuracy vs p for each denoising choice (mean over seeds, min-max band)."""
    for (k, color) in ((None, "k"), (10, "C1"), (5, "C0"), (7, "C2"), (13, "C3"), (15, "C4")):
        if k not in results:
            continue
        values = np.array([[run[key] for run in per_p] for per_p in results[k]])
        ax.fill_between(ps, values.min(axis=1), values.max(axis=1), color=color, alpha=0.15, lw=0)
        ax.plot(ps, values.mean(axis=1), "o-", color=color, label="no denoising" if k is None else f"denoised, k = {k}")
    ax.axhline(0.1, color="gray", ls=":", label="chance")
    ax.set(xlabel="flip probability p", ylabel="prototype accuracy (test)", ylim=(0, 1))
    ax.legend(fontsize=8)
