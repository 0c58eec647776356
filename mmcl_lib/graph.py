"""Class-level pairs through a noisy pairing graph, as in the paper's Section 5.2 (Chapter 6).

Two modalities ``X`` (n1 x d1) and ``Y`` (n2 x d2) are paired through a graph ``T`` (n1 x n2,
boolean): ``T_ij`` says "x_i and y_j belong together". The clean class graph links items of the
same class; :func:`corrupt_graph` flips each entry with probability ``p``; :func:`denoise_graph`
rebuilds a block graph from the co-clusters of Dhillon's bipartite spectral co-clustering;
:class:`MultiPositiveInfoNCE` trains linear encoders with every edge of the graph as a positive;
:func:`mmcl_lib.metrics.nearest_prototype_accuracy` scores the learned embeddings across modalities.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import logsumexp

from . import _validation as check
from . import similarity as sim


def class_graph(labels_x, labels_y) -> np.ndarray:
    """The clean class-level pairing graph ``T_ij = [labels_x[i] == labels_y[j]]`` (n1 x n2, boolean)."""
    labels_x = check.labels(labels_x, "labels_x")
    labels_y = check.labels(labels_y, "labels_y")
    return labels_x[:, None] == labels_y[None, :]


def corrupt_graph(T, p: float, rng: np.random.Generator) -> np.ndarray:
    """Flip every entry of ``T`` independently with probability ``p`` (the paper's noisy graph).

    A missing edge becomes an edge and an edge disappears, each with probability ``p``; with
    ``p = 1/2`` the result is independent of ``T``.
    """
    T = check.graph(T)
    p = check.fraction(p, "p", low_open=False)
    rng = check.generator(rng)
    return T ^ (rng.random(T.shape) < p)


def denoise_graph(T, k: int, rng: np.random.Generator) -> np.ndarray:
    """Denoise a bipartite graph with spectral co-clustering into ``k`` co-clusters (Dhillon, 2001).

    ``sklearn.cluster.SpectralCoclustering`` assigns every row (an x) and every column (a y) to one
    of ``k`` co-clusters, from the singular vectors of the degree-normalised graph ``D1^{-1/2} T
    D2^{-1/2}``; the returned graph links x_i and y_j iff they fall in the same co-cluster. With
    ``k`` equal to the number of classes and moderate noise, this recovers the block structure of
    the class graph. ``rng`` seeds the k-means step. If the rows and columns of ``T`` show fewer
    than ``k`` distinct patterns (a clean graph with fewer classes), fewer co-clusters come out.
    """
    T = check.graph(T)
    k = check.integer(k, "k", low=2, high=min(T.shape))
    rng = check.generator(rng)
    if not (T.any(axis=1).all() and T.any(axis=0).all()):
        raise ValueError("T must have at least one edge in every row and every column "
                         "(co-clustering normalises by the degrees)")
    try:
        from sklearn.cluster import SpectralCoclustering
    except ImportError as error:
        raise ImportError("denoise_graph needs scikit-learn: pip install scikit-learn") from error
    from sklearn.exceptions import ConvergenceWarning
    model = SpectralCoclustering(n_clusters=k, random_state=int(rng.integers(2**31 - 1)))
    with warnings.catch_warnings():   # "fewer distinct clusters than k": documented above
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(T.astype(float))
    return model.row_labels_[:, None] == model.column_labels_[None, :]


class MultiPositiveInfoNCE:
    """Symmetric InfoNCE in which every edge of a pairing graph is a positive (Chapter 6).

    With logits ``l_ij = s_ij / tau`` (cosine or inner-product similarity of ``G1 x_i`` and
    ``G2 y_j``) and positives ``P_i = {j : T_ij}``, the x_i-anchored term is

        l_i = -(1/|P_i|) sum_{j in P_i} l_ij + log sum_j exp(l_ij),

    the y_j-anchored term is the same with the roles of rows and columns swapped, and the loss is
    the mean of the row terms plus the mean of the column terms, over anchors with at least one
    positive, divided by 2. With ``T`` the identity it is the CLIP loss ``losses.clip(tau)``.
    Same interface as :class:`mmcl_lib.losses.ContrastiveLoss`, so
    :func:`mmcl_lib.solvers.gradient_descent` can minimise it.
    """

    def __init__(self, T, tau: float = 1.0, *, similarity: str = "cosine"):
        sim.check_similarity(similarity)
        T = check.graph(T)
        if not T.any():
            raise ValueError("T has no edge: the loss needs at least one positive pair")
        self.T = T
        self.tau = check.positive(tau, "tau")
        self.similarity = similarity
        degree_rows, degree_cols = T.sum(axis=1), T.sum(axis=0)
        # target distributions T_ij / |P_i| (rows) and T_ij / |P_j| (columns); anchors without a
        # positive get an all-zero row of targets and weight 0
        self._row_targets = T / np.maximum(degree_rows, 1)[:, None]
        self._col_targets = T / np.maximum(degree_cols, 1)[None, :]
        self._row_weight = (degree_rows > 0) / np.count_nonzero(degree_rows)
        self._col_weight = (degree_cols > 0) / np.count_nonzero(degree_cols)

    def __repr__(self) -> str:
        n1, n2 = self.T.shape
        return (f"<MultiPositiveInfoNCE {n1}x{n2} graph, {int(self.T.sum())} edges, tau={self.tau:g}, "
                f"similarity={self.similarity!r}>")

    def _embed(self, G1, G2, X, Y):
        X = check.as_matrix(X, "X", rows=self.T.shape[0])
        Y = check.as_matrix(Y, "Y", rows=self.T.shape[1])
        G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
        return X, Y, sim.embed(G1, G2, X, Y, self.similarity)

    def value_and_grad(self, G1, G2, X, Y) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss value and its gradients ``(dL/dG1, dL/dG2)``."""
        X, Y, emb = self._embed(G1, G2, X, Y)
        logits = sim.matrix(emb) / self.tau
        lse_rows = logsumexp(logits, axis=1)
        lse_cols = logsumexp(logits, axis=0)
        row_terms = lse_rows - np.sum(self._row_targets * logits, axis=1)
        col_terms = lse_cols - np.sum(self._col_targets * logits, axis=0)
        value = 0.5 * (self._row_weight @ row_terms + self._col_weight @ col_terms)
        # dL/dlogits: softmax minus target, per anchor, weighted
        d_rows = (np.exp(logits - lse_rows[:, None]) - self._row_targets) * self._row_weight[:, None]
        d_cols = (np.exp(logits - lse_cols[None, :]) - self._col_targets) * self._col_weight[None, :]
        dG1, dG2 = sim.backward(0.5 * (d_rows + d_cols) / self.tau, emb, X, Y)   # dL/ds
        return float(value), dG1, dG2

    def value(self, G1, G2, X, Y) -> float:
        """The loss value."""
        return self.value_and_grad(G1, G2, X, Y)[0]

    def grad(self, G1, G2, X, Y) -> tuple[np.ndarray, np.ndarray]:
        """Gradients ``(dL/dG1, dL/dG2)``, shapes of ``G1`` and ``G2``."""
        _, dG1, dG2 = self.value_and_grad(G1, G2, X, Y)
        return dG1, dG2
