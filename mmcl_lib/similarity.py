"""Similarities between the embeddings of two modalities, and the chain rule back to the encoders.

``s_ij = <G1 x_i, G2 y_j>`` (``"inner"``, the theory's choice) or the cosine of the two embeddings
(``"cosine"``, the choice of the paper's experiments). Every loss in the library computes its
gradient in ``s`` and calls :func:`backward` to turn it into gradients in ``G1`` and ``G2``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _validation as check

SIMILARITIES = ("inner", "cosine")


def check_similarity(similarity: str) -> str:
    """Return ``similarity`` if it is ``"inner"`` or ``"cosine"``, else raise ``ValueError``.

    Paper: Section 2 (inner product in the theory, cosine in the experiments). Book: ``def-linear-setting`` (Chapter 1).
    """
    return check.one_of(similarity, SIMILARITIES, "similarity")


class Embeddings(NamedTuple):
    """Embeddings ``F = X G1^T`` (n1 x r), ``H = Y G2^T`` (n2 x r); row norms for cosine, else None.

    Paper: Section 2 (the embeddings G1 x and G2 y). Book: ``def-linear-setting`` (Chapter 1).
    """

    F: np.ndarray
    H: np.ndarray
    norm_F: np.ndarray | None
    norm_H: np.ndarray | None


def embed(G1, G2, X, Y, similarity: str) -> Embeddings:
    """Embed validated data (rows are samples) with validated encoders; cosine needs non-zero embeddings.

    ``similarity`` is trusted (validated by the caller with :func:`check_similarity`).

    Paper: Section 2 (the embeddings G1 x and G2 y). Book: ``def-linear-setting`` (Chapter 1).
    """
    F, H = X @ G1.T, Y @ G2.T
    if similarity == "inner":
        return Embeddings(F, H, None, None)
    norm_F, norm_H = np.linalg.norm(F, axis=1), np.linalg.norm(H, axis=1)
    if np.any(norm_F == 0) or np.any(norm_H == 0):
        raise ValueError("cosine similarity is undefined: some sample has a zero embedding "
                         "(G1 x_i = 0 or G2 y_j = 0)")
    return Embeddings(F, H, norm_F, norm_H)


def units(e: Embeddings) -> tuple[np.ndarray, np.ndarray]:
    """The embeddings whose inner products are the similarities: ``(F, H)``, or their unit rows (cosine).

    Paper: Section 2 (the embeddings whose inner products are the similarities). Book: ``def-linear-setting`` (Chapter 1).
    """
    if e.norm_F is None:
        return e.F, e.H
    return e.F / e.norm_F[:, None], e.H / e.norm_H[:, None]



def matrix(e: Embeddings) -> np.ndarray:
    """The n1 x n2 similarity matrix ``s_ij``.

    Paper: Section 2, the similarities s_ij. Book: ``def-linear-setting`` (Chapter 1).
    """
    U, V = units(e)
    return U @ V.T


def backward(M: np.ndarray, e: Embeddings, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients in ``(G1, G2)`` of ``sum_ij M_ij s_ij`` (``M`` = dL/ds held fixed).

    Inner product: ``dF = M H``, ``dH = M^T F``. Cosine: the same with unit embeddings ``u``, then
    through the normalisation ``u = f / |f|``: ``df = (du - u <u, du>) / |f|``.

    Paper: not in the paper (the chain rule behind the gradient identity). Book: ``thm-gradient-identity`` (Chapter 2).
    """
    U, V = units(e)
    return backward_from_units(M @ V, M.T @ U, e, X, Y)


def backward_from_units(dU: np.ndarray, dV: np.ndarray, e: Embeddings, X: np.ndarray,
                        Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients in ``(G1, G2)`` from the gradients ``dU = M V``, ``dV = M^T U`` in the (unit) embeddings.

    The second half of :func:`backward`, for callers that accumulate ``M V`` and ``M^T U`` block by
    block without holding ``M`` (:class:`mmcl_lib.losses.LossPoint`, and the blocked engine :mod:`mmcl_lib._blocked`).

    Paper: not in the paper (the chain rule behind the gradient identity). Book: ``thm-gradient-identity`` (Chapter 2).
    """
    if e.norm_F is not None:
        U, V = units(e)
        dU = (dU - U * np.sum(U * dU, axis=1, keepdims=True)) / e.norm_F[:, None]
        dV = (dV - V * np.sum(V * dV, axis=1, keepdims=True)) / e.norm_H[:, None]
    return dU.T @ X, dV.T @ Y


def unit_rows(A: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero): cosine scores for retrieval and prototypes.

    Paper: Section 5.1 (cosine similarity in the experiments). Book: ``def-retrieval`` (Chapter 1).
    """
    return A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-300)
