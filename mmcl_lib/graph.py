"""Class-level pairs through a noisy pairing graph, as in the paper's Section 5.2 (Chapter 6).

Two modalities ``X`` (n1 x d1) and ``Y`` (n2 x d2) are paired through a graph ``T`` (n1 x n2,
boolean): ``T_ij`` says "x_i and y_j belong together". The clean class graph links items of the
same class; :func:`corrupt_graph` flips each entry with probability ``p``; :func:`denoise_graph`
rebuilds a block graph from the co-clusters of Dhillon's bipartite spectral co-clustering, and
:func:`denoising_threshold` says up to which ``p`` that can work; :class:`MultiPositiveInfoNCE` trains linear encoders with every edge of the graph as a positive;
:func:`mmcl_lib.metrics.nearest_prototype_accuracy` scores the learned embeddings across modalities.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.cluster import KMeans, SpectralCoclustering
from sklearn.exceptions import ConvergenceWarning

from . import _validation as check
from . import similarity as sim
from .losses import two_sided_softmax


def class_graph(labels_x, labels_y) -> np.ndarray:
    """The clean class-level pairing graph ``T_ij = [labels_x[i] == labels_y[j]]`` (n1 x n2, boolean).

    Paper: Section 5.2 (class-level pairing graph). Book: ``def-views-pairs`` (Chapter 6).
    """
    labels_x = check.labels(labels_x, "labels_x")
    labels_y = check.labels(labels_y, "labels_y")
    return labels_x[:, None] == labels_y[None, :]


def corrupt_graph(T, p: float, rng: np.random.Generator) -> np.ndarray:
    """Flip every entry of ``T`` independently with probability ``p`` (the paper's noisy graph).

    A missing edge becomes an edge and an edge disappears, each with probability ``p``; with
    ``p = 1/2`` the result is independent of ``T``.

    Paper: Section 5.2 (noisy graph, flip probability p). Book: ``def-noisy-graph`` (Chapter 6).
    """
    T = check.graph(T)
    p = check.fraction(p, "p", low_open=False)
    rng = check.generator(rng)
    return T ^ (rng.random(T.shape) < p)


def denoising_threshold(n1: int, n2: int, k: int) -> float:
    """The flip probability ``p*`` up to which a noisy k-class graph's singular vectors see the classes.

    The noisy graph is its mean plus independent flips, ``T~ = (1 - 2p) T + p 1 1^T + W`` with
    ``Var W_ij = p (1 - p)``. For ``k`` equal classes (``n1/k`` x ``n2/k`` blocks) the class part
    ``(1 - 2p) T`` has ``k`` singular values ``(1 - 2p) sqrt(n1 n2) / k``. The singular values of
    the noise fill a bulk up to ``sqrt(p (1 - p)) (sqrt(n1) + sqrt(n2))``, and a low-rank signal
    of singular value ``theta`` leaves the bulk, with singular vectors correlated with its own,
    only if ``theta > sqrt(p (1 - p)) (n1 n2)^(1/4)`` (the BBP phase transition of spiked random
    matrices, Baik, Ben Arous and Peche 2005; Benaych-Georges and Nadakuditi 2012 for rectangular
    ones): below it the top singular vectors of ``T~`` carry asymptotically no information about
    the classes. The condition ``(1 - 2p) sqrt(n1 n2) / k > sqrt(p (1 - p)) (n1 n2)^(1/4)`` holds
    exactly for ``p < p*`` with

        p* = (1 - 1 / sqrt(1 + 4 sqrt(n1 n2) / k^2)) / 2

    (for ``n1 = n2 = n``: ``(1 - 2p) n / k > sqrt(n p (1 - p))``). The threshold is asymptotic;
    at finite n the denoiser's recovery degrades a little before ``p*`` (Chapter 6 measures it).

    Paper: not in the paper (the book's threshold for the Section 5.2 denoiser). Book: ``sec-real-data-breaks`` (Chapter 6).
    """
    n1 = check.integer(n1, "n1")
    n2 = check.integer(n2, "n2")
    k = check.integer(k, "k", low=2)
    return 0.5 * (1.0 - 1.0 / np.sqrt(1.0 + 4.0 * np.sqrt(n1 * n2) / k**2))


#: The two co-clustering denoisers (see :func:`denoise_graph`).
DENOISERS = ("authors", "sklearn")


def spectral_embedding(T, n_vectors: int) -> np.ndarray:
    """Rows and columns of a bipartite graph embedded by its normalised singular vectors 2..n_vectors+1.

    With degrees ``D1 = diag(T 1)``, ``D2 = diag(T^T 1)`` and ``A = D1^{-1/2} T D2^{-1/2} = U S V^T``,
    returns the ``(n1 + n2) x n_vectors`` matrix ``[D1^{-1/2} U_(2..); D2^{-1/2} V_(2..)]``: the
    trivial singular pair ``(D1^{1/2} 1, D2^{1/2} 1) / sqrt(|E|)``, whose singular value 1 is the
    largest, carries no cluster information and is skipped (Dhillon 2001, Section 4). Rows of
    ``x``'s and ``y``'s of one block land close together.

    The trivial pair is removed explicitly (the SVD is that of ``A`` minus it), so vectors 2.. are
    the right ones even when the singular value 1 is repeated, as it is for a graph of K
    disconnected blocks (a clean class graph has it K times). The authors' code skips the first
    vector an SVD routine returns, which is the same whenever 1 is a simple singular value (a
    connected graph, e.g. every noisy graph with p > 0 in practice); with a repeated value that
    vector can be any unit vector of the K-dimensional space, and the rest can then send two
    classes to one point (Chapter 6, ``prop-class-embedding``).

    Paper: Section 5.2 (the authors' co-clustering embedding, vectors 2..k). Book: ``prop-class-embedding`` (Chapter 6).
    """
    T = check.graph(T)
    n_vectors = check.integer(n_vectors, "n_vectors", high=min(T.shape) - 1)
    d1, d2 = T.sum(axis=1).astype(float), T.sum(axis=0).astype(float)
    if not (np.all(d1 > 0) and np.all(d2 > 0)):
        raise ValueError("T must have at least one edge in every row and every column "
                         "(co-clustering normalises by the degrees)")
    A = T / np.sqrt(d1)[:, None] / np.sqrt(d2)[None, :]
    edges = d1.sum()
    A -= np.outer(np.sqrt(d1), np.sqrt(d2)) / edges      # the trivial pair: A sqrt(d2) = sqrt(d1), norms sqrt(|E|)
    U, _, Vt = np.linalg.svd(A, full_matrices=False)
    keep = slice(0, n_vectors)
    return np.vstack([U[:, keep] / np.sqrt(d1)[:, None], Vt[keep].T / np.sqrt(d2)[:, None]])


def denoise_graph(T, k: int, rng: np.random.Generator, *, method: str = "authors",
                  n_init: int = 10) -> np.ndarray:
    """Denoise a bipartite graph by spectral co-clustering into ``k`` co-clusters (Section 5.2).

    Every row (an x) and every column (a y) is assigned to one of ``k`` co-clusters by k-means
    (scikit-learn's ``KMeans``, ``n_init`` restarts, seeded from ``rng``) on a spectral embedding;
    the returned graph links x_i and y_j iff they fall in the same co-cluster.

    - ``method="authors"`` (default): the embedding :func:`spectral_embedding` with ``k - 1``
      singular vectors (vectors 2..k), as in the authors' Section 5.2 code (repository
      nswa17/MMCL). ``k`` blocks need ``k - 1`` directions to be told apart, so with ``k`` equal to
      the number of classes this recovers the class graph under moderate noise.
    - ``method="sklearn"``: ``sklearn.cluster.SpectralCoclustering``, which keeps
      ``ceil(log2 k)`` vectors (Dhillon's choice; 4 when ``k = 10``): fewer directions than blocks,
      so some classes share a direction and k-means confuses them under noise.

    If ``T`` shows fewer than ``k`` distinct row/column patterns, fewer co-clusters come out.

    Paper: Section 5.2 (spectral co-clustering denoiser). Book: ``def-noisy-graph`` (Chapter 6).
    """
    T = check.graph(T)
    k = check.integer(k, "k", low=2, high=min(T.shape))
    rng = check.generator(rng)
    method = check.one_of(method, DENOISERS, "method")
    n_init = check.integer(n_init, "n_init")
    if not (T.any(axis=1).all() and T.any(axis=0).all()):
        raise ValueError("T must have at least one edge in every row and every column "
                         "(co-clustering normalises by the degrees)")
    seed = int(rng.integers(2**31 - 1))
    with warnings.catch_warnings():   # "fewer distinct clusters than k": documented above
        warnings.simplefilter("ignore", ConvergenceWarning)
        if method == "sklearn":
            model = SpectralCoclustering(n_clusters=k, n_init=n_init, random_state=seed).fit(T.astype(float))
            rows, cols = model.row_labels_, model.column_labels_
        else:
            Z = spectral_embedding(T, k - 1)
            labels = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(Z)
            rows, cols = labels[:T.shape[0]], labels[T.shape[0]:]
    return rows[:, None] == cols[None, :]


def sampled_prototype_accuracy(G1, G2, X, Y, labels_x, labels_y, rng: np.random.Generator, *,
                               draws: int = 20) -> float:
    """Nearest-prototype accuracy with one random item per class as prototype, as the authors score (Section 5.2).

    For each of ``draws`` draws, every class gets as prototype in each modality the unit embedding
    of one of its items, drawn at random; every x is classified by the most cosine-similar
    y-prototype and every y by the nearest x-prototype. Returns the mean over both directions and
    all draws. :func:`mmcl_lib.metrics.nearest_prototype_accuracy` uses class means instead.

    Paper: Section 5.2 (prototype metric, as the authors coded it). Book: ``fig-graph-training`` (Chapter 6).
    """
    X = check.as_matrix(X, "X")
    Y = check.as_matrix(Y, "Y")
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    labels_x = check.labels(labels_x, "labels_x", length=X.shape[0])
    labels_y = check.labels(labels_y, "labels_y", length=Y.shape[0])
    rng = check.generator(rng)
    draws = check.integer(draws, "draws")
    classes = np.unique(labels_x)
    if not np.array_equal(classes, np.unique(labels_y)):
        raise ValueError("labels_x and labels_y must contain the same set of classes")
    Fu, Hu = sim.unit_rows(X @ G1.T), sim.unit_rows(Y @ G2.T)
    members_x = [np.flatnonzero(labels_x == c) for c in classes]
    members_y = [np.flatnonzero(labels_y == c) for c in classes]
    scores = []
    for _ in range(draws):
        px = np.array([rng.choice(m) for m in members_x])
        py = np.array([rng.choice(m) for m in members_y])
        scores.append(np.mean(classes[np.argmax(Fu @ Hu[py].T, axis=1)] == labels_x))
        scores.append(np.mean(classes[np.argmax(Hu @ Fu[px].T, axis=1)] == labels_y))
    return float(np.mean(scores))


class MultiPositiveInfoNCE:
    """Symmetric InfoNCE in which every edge of a pairing graph is a positive (Chapter 6).

    With logits ``l_ij = s_ij / tau`` (cosine or inner-product similarity of ``G1 x_i`` and
    ``G2 y_j``) and positives ``P_i = {j : T_ij}``, the x_i-anchored term is

        l_i = -(1/|P_i|) sum_{j in P_i} l_ij + log sum_j exp(l_ij),

    the y_j-anchored term is the same with the roles of rows and columns swapped, and the loss is
    the mean of the row terms plus the mean of the column terms, over anchors with at least one
    positive, divided by 2 (``normalisation="anchors"``, the default). With ``T`` the identity it
    is the CLIP loss ``losses.clip(tau)``.

    ``normalisation="edges"`` is the authors' Section 5.2 loss, halved: every edge (i, j) contributes
    ``-log softmax_j(l_i.)_j`` and ``-log softmax_i(l_.j)_i``, summed over all edges, divided by 2
    and by ``n_edges`` (the authors divide by the edge count of the *noisy* graph, computed before
    denoising; default: the edge count of ``T``). The authors' code does not divide by 2, so its
    loss is twice this one; the constant changes no minimiser. An anchor with many positives then
    weighs more; the divisor only scales the loss.
    It implements the :class:`mmcl_lib.losses.Loss` protocol (``evaluate``, ``value_and_grad``), so
    :func:`mmcl_lib.solvers.gradient_descent` can minimise it.

    Paper: Section 5.2 (multi-positive InfoNCE over the graph's edges). Book: ``def-multi-positive`` (Chapter 6).
    """

    def __init__(self, T, tau: float = 1.0, *, similarity: str = "cosine",
                 normalisation: str = "anchors", n_edges: int | None = None):
        sim.check_similarity(similarity)
        normalisation = check.one_of(normalisation, ("anchors", "edges"), "normalisation")
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
        self.normalisation = normalisation
        if normalisation == "anchors":
            self._row_weight = (degree_rows > 0) / np.count_nonzero(degree_rows)
            self._col_weight = (degree_cols > 0) / np.count_nonzero(degree_cols)
        else:
            n_edges = int(T.sum()) if n_edges is None else check.integer(n_edges, "n_edges")
            # sum over the edges of anchor i of (LSE_i - l_ij) = |P_i| * (its per-anchor term)
            self._row_weight = degree_rows / n_edges
            self._col_weight = degree_cols / n_edges

    def __repr__(self) -> str:
        n1, n2 = self.T.shape
        return (f"<MultiPositiveInfoNCE {n1}x{n2} graph, {int(self.T.sum())} edges, tau={self.tau:g}, "
                f"similarity={self.similarity!r}>")

    def value_and_grad(self, G1, G2, X, Y, *,
                       check_input: bool = True) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss value and its gradients ``(dL/dG1, dL/dG2)``; ``check_input=False`` trusts validated arrays."""
        if check_input:
            X = check.as_matrix(X, "X", rows=self.T.shape[0])
            Y = check.as_matrix(Y, "Y", rows=self.T.shape[1])
            G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
        emb = sim.embed(G1, G2, X, Y, self.similarity)
        logits = sim.matrix(emb) / self.tau
        lse_rows, lse_cols, P_rows, P_cols = two_sided_softmax(logits)
        row_terms = lse_rows - np.sum(self._row_targets * logits, axis=1)
        col_terms = lse_cols - np.sum(self._col_targets * logits, axis=0)
        value = 0.5 * (self._row_weight @ row_terms + self._col_weight @ col_terms)
        # dL/dlogits: softmax minus target, per anchor, weighted
        d_rows = (P_rows - self._row_targets) * self._row_weight[:, None]
        d_cols = (P_cols - self._col_targets) * self._col_weight[None, :]
        dG1, dG2 = sim.backward(0.5 * (d_rows + d_cols) / self.tau, emb, X, Y)   # dL/ds
        return float(value), dG1, dG2

    def evaluate(self, G1, G2, X, Y, *, check_input: bool = True) -> _GradientPoint:
        """The loss at ``(G1, G2)`` as a point with ``value`` and ``grad()`` (both computed at once)."""
        return _GradientPoint(*self.value_and_grad(G1, G2, X, Y, check_input=check_input))

    def value(self, G1, G2, X, Y) -> float:
        """The loss value."""
        return self.value_and_grad(G1, G2, X, Y)[0]

    def grad(self, G1, G2, X, Y) -> tuple[np.ndarray, np.ndarray]:
        """Gradients ``(dL/dG1, dL/dG2)``, shapes of ``G1`` and ``G2``."""
        _, dG1, dG2 = self.value_and_grad(G1, G2, X, Y)
        return dG1, dG2


class _GradientPoint:
    """A loss evaluated at one point: ``value`` and ``grad()``, as :meth:`mmcl_lib.losses.Loss.evaluate` gives."""

    def __init__(self, value: float, dG1: np.ndarray, dG2: np.ndarray):
        self.value, self._grads = value, (dG1, dG2)

    def grad(self) -> tuple[np.ndarray, np.ndarray]:
        return self._grads
