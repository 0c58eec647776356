"""How well an encoder did: subspace distance to the true features, and cross-modal retrieval."""

from __future__ import annotations

import numpy as np

from . import _validation as check
from .similarity import check_similarity, unit_rows


def orthonormal_basis(A, r: int | None = None) -> np.ndarray:
    """An orthonormal basis (d x r) of the column space of ``A`` (d x k), via its top-r left singular vectors.

    For an encoder ``G`` (r x d) the learned feature subspace is ``orthonormal_basis(G.T)``.

    Paper: Section 3 (the learned subspace is the row space of an encoder). Book: ``def-sin-theta`` (Chapter 3).
    """
    A = check.as_matrix(A, "A")
    r = A.shape[1] if r is None else check.rank(r, *A.shape)
    U, sigma, _ = np.linalg.svd(A, full_matrices=False)
    if sigma[r - 1] <= 1e-12 * max(sigma[0], 1e-300):
        raise ValueError(f"A has rank below r={r}: its column space has no {r}-dimensional basis")
    return U[:, :r]


def sin_theta(U_hat, U) -> float:
    """The sin-theta distance ``||(I - U U^T) U_hat||_F = sqrt(r - ||U_hat^T U||_F^2)`` (Chapter 3).

    Both arguments are d x r matrices with orthonormal columns (see :func:`orthonormal_basis`).
    The distance lies in [0, sqrt(r)]: 0 for the same subspace, sqrt(r) for orthogonal ones.

    Paper: Section 3, the sin-theta distance of Theorem 3.1. Book: ``def-sin-theta`` (Chapter 3).
    """
    U_hat = check.as_matrix(U_hat, "U_hat")
    U = check.as_matrix(U, "U", rows=U_hat.shape[0], cols=U_hat.shape[1])
    r = U.shape[1]
    for M, name in ((U_hat, "U_hat"), (U, "U")):
        if M.shape[1] > M.shape[0]:
            raise ValueError(f"{name} must be d x r with r <= d, got shape {M.shape}")
        if not np.allclose(M.T @ M, np.eye(r), atol=1e-8):
            raise ValueError(f"{name} must have orthonormal columns; use orthonormal_basis() first")
    residual = U_hat - U @ (U.T @ U_hat)
    return float(np.linalg.norm(residual))


def subspace_error(G, U) -> float:
    """Sin-theta distance between the feature subspace an encoder learned and the true one (Chapter 3).

    ``G`` is an encoder (r x d; its row space is what it learned) and ``U`` the true loadings
    (d x r, orthonormal columns): ``sin_theta(orthonormal_basis(G.T), U)``.

    Paper: Theorem 3.1 (the error it bounds). Book: ``def-sin-theta`` (Chapter 3), ``ch-robustness`` (Chapter 4).
    """
    G = check.as_matrix(G, "G")
    U = check.as_matrix(U, "U", rows=G.shape[1])
    return sin_theta(orthonormal_basis(G.T, U.shape[1]), U)


def random_subspace_level(d: int, r: int) -> float:
    """``sqrt(r (1 - r/d))``: the typical sin-theta distance of a uniformly random r-subspace of R^d
    to a fixed one (the "no information" level drawn in Chapters 3-5).

    ``E ||U_hat^T U||_F^2 = r^2 / d`` for a Haar-random ``U_hat``, so the squared distance averages
    ``r - r^2/d``.

    Paper: not in the paper (derived here). Book: ``ex-random-subspace`` (Chapter 3).
    """
    d = check.integer(d, "d")
    r = check.rank(r, d)
    return float(np.sqrt(r * (1.0 - r / d)))


def retrieval_accuracy(G1, G2, X, Y, *, similarity: str = "cosine", chunk: int = 2048) -> float:
    """Top-1 cross-modal retrieval: the fraction of i for which x_i ranks y_i first among all y_j.

    Scores are cosine (default, as in the paper's experiments) or inner-product similarities of the
    embeddings ``G1 x_i`` and ``G2 y_j``. Rows are scored in chunks, so 10^4 test pairs need no
    10^4 x 10^4 matrix. Ties count as failures. Chance level is 1/n.

    Paper: Section 5.1 (the metric of its experiment). Book: ``def-retrieval`` (Chapter 1), ``ch-unpaired`` (Chapter 5).
    """
    check_similarity(similarity)
    X, Y = check.paired(X, Y)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    chunk = check.integer(chunk, "chunk")
    F, H = X @ G1.T, Y @ G2.T
    if similarity == "cosine":
        F, H = unit_rows(F), unit_rows(H)
    n = F.shape[0]
    hits = 0
    for start in range(0, n, chunk):
        block = F[start:start + chunk] @ H.T
        idx = np.arange(start, min(start + chunk, n))
        own = block[np.arange(idx.size), idx]
        block[np.arange(idx.size), idx] = -np.inf
        hits += int(np.sum(own > block.max(axis=1)))
    return hits / n


def nearest_prototype_accuracy(G1, G2, X, Y, labels_x, labels_y) -> float:
    """Cross-modal nearest-prototype classification accuracy (the paper's Section 5.2 metric).

    Embeddings ``G1 x_i`` and ``G2 y_j`` are scaled to unit length. Each class's prototype in a
    modality is the mean unit embedding of that modality's items of the class. Every x is assigned
    the class of the most cosine-similar prototype of the *other* modality (y), and every y the
    class of the nearest x-prototype; the result is the mean of the two accuracies. Chance is
    about 1 / (number of classes). Both label arrays must contain the same classes.

    Paper: Section 5.2 (its metric, with class-mean prototypes). Book: ``ch-real-data`` (Chapter 6).
    """
    X = check.as_matrix(X, "X")
    Y = check.as_matrix(Y, "Y")
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    labels_x = check.labels(labels_x, "labels_x")
    labels_y = check.labels(labels_y, "labels_y")
    if labels_x.shape[0] != X.shape[0] or labels_y.shape[0] != Y.shape[0]:
        raise ValueError("labels_x and labels_y must have one label per row of X and Y")
    classes = np.unique(labels_x)
    if not np.array_equal(classes, np.unique(labels_y)):
        raise ValueError("labels_x and labels_y must contain the same set of classes")
    Fu, Hu = unit_rows(X @ G1.T), unit_rows(Y @ G2.T)
    accuracies = []
    for E_query, lab_query, E_ref, lab_ref in ((Fu, labels_x, Hu, labels_y), (Hu, labels_y, Fu, labels_x)):
        members = lab_ref[None, :] == classes[:, None]              # classes x n_ref
        prototypes = (members @ E_ref) / members.sum(axis=1, keepdims=True)
        prototypes = unit_rows(prototypes)
        predicted = classes[np.argmax(E_query @ prototypes.T, axis=1)]
        accuracies.append(np.mean(predicted == lab_query))
    return float(np.mean(accuracies))
