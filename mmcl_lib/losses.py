"""The multimodal contrastive loss family of eq. (2.1) and its link to the contrastive cross-covariance.

For pairs ``(x_i, y_i)`` stored as rows of ``X`` (n x d1) and ``Y`` (n x d2) and linear encoders
``G1`` (r x d1), ``G2`` (r x d2), the similarities are ``s_ij = <G1 x_i, G2 y_j>`` (or their cosine)
and the loss is

    L = 1/(2n) sum_i phi(A_i)  with  A_i = eps + sum_{j != i} psi(s_ij - s_ii)      (x_i as anchor)
      + 1/(2n) sum_j phi(A_j)  with  A_j = eps + sum_{i != j} psi(s_ij - s_jj)      (y_j as anchor)
      + rho/2 ||G1^T G2||_F^2                                                      (optional regulariser).

The file reads like the paper's Section 2: the anchor terms of eq. (2.1) for any phi and psi, CLIP as a
two-sided softmax, the weights alpha, alpha-bar and beta, the signed weights and the contrastive
cross-covariance ``S(beta)``, the loss object, the presets. Chapter 1 introduces the family; Chapter 2
derives the gradient identity ``grad_G1 L = -G2 S(beta)^T``, ``grad_G2 L = -G1 S(beta)`` (inner-product
similarity, no regulariser).

Everything here holds the n x n matrices. Above a memory budget (``DEFAULT_MEMORY_BUDGET``) and for
float32 data, :class:`ContrastiveLoss` hands the same call to :mod:`mmcl_lib._blocked` (not in the
paper: the same loss in bounded memory, streamed over blocks of rows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from . import _blocked
from . import _validation as check
from . import similarity as sim
from ._blocked import DEFAULT_MEMORY_BUDGET, block_plan  # noqa: F401  (the budget is part of the API)


# --------------------------------------------------------------------------- the anchor terms of eq. (2.1)
# Along an axis of s: axis = 1, the anchors are the x_i (rows), axis = 0 the y_j (columns).

def _along(v: np.ndarray, axis: int) -> np.ndarray:
    """A per-anchor vector shaped to broadcast against s along ``axis``."""
    return np.expand_dims(v, axis)


@dataclass(frozen=True)
class _GeneralTerms:
    """Eq. (2.1) for any phi, psi, eps: the anchor values phi(A) and the weights alpha, alpha-bar."""

    phi: Callable[[np.ndarray], np.ndarray]
    dphi: Callable[[np.ndarray], np.ndarray]
    psi: Callable[[np.ndarray], np.ndarray]
    dpsi: Callable[[np.ndarray], np.ndarray]
    eps: float

    def anchors(self, s: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """``phi(A_k)`` for each anchor and its weights, in the layout of s (0 on the diagonal).

        axis = 1: ``A_i = eps + sum_{j != i} psi(s_ij - s_ii)``, ``alpha_ij = phi'(A_i) psi'(s_ij - s_ii)``;
        axis = 0: ``A_j = eps + sum_{i != j} psi(s_ij - s_jj)``, ``alphabar_ij = phi'(A_j) psi'(s_ij - s_jj)``.
        """
        D = s - _along(np.diag(s), axis)                      # s_ij - s_kk, k the anchor
        off = ~np.eye(s.shape[0], dtype=bool)
        with np.errstate(all="ignore"):                     # non-finite results are reported below
            A = self.eps + np.sum(np.where(off, self.psi(D), 0.0), axis=axis)
            alpha = np.where(off, _along(self.dphi(A), axis) * self.dpsi(D), 0.0)
            phi_A = np.asarray(self.phi(A), dtype=float)
        check.finite_loss(phi_A, alpha)
        return phi_A, alpha

    def values_and_beta(self, s: np.ndarray):
        """``(phi(A_i))_i`` (x anchors), ``(phi(A_j))_j`` (y anchors) and the weights beta at s (kept)."""
        phi_x, alpha = self.anchors(s, axis=1)
        phi_y, alpha_bar = self.anchors(s, axis=0)
        return phi_x, phi_y, beta_from_alphas(alpha, alpha_bar)

    def block_kernels(self, d, dtype):
        """The engine's kernels for these terms (:mod:`mmcl_lib._blocked`)."""
        return _blocked.general_kernels(self, d)


# --------------------------------------------------------------------------- CLIP: a two-sided softmax

def two_sided_softmax(logits) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Log-sum-exp and softmax of a logit matrix along its rows and along its columns.

    Returns ``(lse_rows, lse_cols, P_rows, P_cols)`` with ``lse_rows[i] = log sum_j exp(l_ij)``,
    ``P_rows[i, j] = exp(l_ij - lse_rows[i])`` (each row sums to 1) and the same over columns. CLIP's two
    directions (x_i anchors: rows; y_j anchors: columns) and every CLIP-type loss of the book
    (:func:`mmcl_lib.unpaired.unpaired_loss`, :func:`mmcl_lib.unpaired.teacher_loss`,
    :class:`mmcl_lib.graph.MultiPositiveInfoNCE`) are built on it. Entries of ``-inf`` get probability 0.

    Paper: Section 2, CLIP as a member of eq. (2.1). Book: ``prop-clip-weights`` (Chapter 2).
    """
    logits = np.asarray(logits, dtype=float)
    max_rows, max_cols = logits.max(axis=1), logits.max(axis=0)
    m = max_rows.max()
    if m - min(max_rows.min(), max_cols.min()) <= _ONE_SHIFT_SPREAD:
        # one shift m for all entries: every row and column keeps a term >= exp(-600), so a single
        # exp per entry serves both directions
        E = np.subtract(logits, m)
        np.exp(E, out=E)
        sum_rows, sum_cols = E.sum(axis=1), E.sum(axis=0)
        P_rows = E / sum_rows[:, None]
        P_cols = np.divide(E, sum_cols[None, :], out=E)
        return np.log(sum_rows) + m, np.log(sum_cols) + m, P_rows, P_cols
    out = []
    for axis, shift in ((1, max_rows), (0, max_cols)):       # otherwise each row, column its own shift
        P = np.subtract(logits, np.expand_dims(shift, axis))
        np.exp(P, out=P)
        total = P.sum(axis=axis)
        P /= np.expand_dims(total, axis)
        out.append((np.log(total) + shift, P))
    (lse_rows, P_rows), (lse_cols, P_cols) = out
    return lse_rows, lse_cols, P_rows, P_cols


_ONE_SHIFT_SPREAD = 600.0       # exp(-600) ~ 1e-261: far from float64 underflow (exp(-745))


@dataclass(frozen=True)
class _ClipTerms:
    """Eq. (2.1) with phi = log, psi(x) = exp(x / tau): CLIP (eps = 1) and decoupled InfoNCE (eps = 0).

    With logits ``l = s / tau``, ``A_i = eps + sum_{j != i} exp(l_ij - l_ii)``, so
    ``log A_i = logsumexp_j(l~_ij) - l_ii`` for the logits ``l~`` whose diagonal is ``l_ii + log eps``,
    and ``alpha_ij = exp(l_ij - l_ii) / (tau A_i)`` is the row softmax of ``l~`` over tau (columns alike).
    """

    tau: float
    eps: float

    def values_and_beta(self, s: np.ndarray):
        """``(phi(A_i))_i`` (x anchors), ``(phi(A_j))_j`` (y anchors) and the weights beta at s (overwritten)."""
        logits = np.multiply(s, 1.0 / self.tau, out=s)       # l = s / tau, in place
        positives = np.diag(logits).copy()                  # l_ii
        if self.eps != 1.0:                                  # log 1 = 0: CLIP's logits stay as they are
            np.fill_diagonal(logits, positives + (np.log(self.eps) if self.eps > 0 else -np.inf))
        lse_x, lse_y, P_x, P_y = two_sided_softmax(logits)
        np.fill_diagonal(P_x, 0.0)                            # alpha = P_x / tau off the diagonal
        np.fill_diagonal(P_y, 0.0)                            # alpha-bar = P_y / tau
        beta = beta_from_alphas(P_x, P_y)                     # beta is linear in (alpha, alpha-bar):
        beta /= self.tau                                      # divide once
        phi_x, phi_y = lse_x - positives, lse_y - positives     # finite for finite s: no check needed
        return phi_x, phi_y, beta

    def block_kernels(self, d, dtype):
        """The engine's kernels for these terms (:mod:`mmcl_lib._blocked`)."""
        return _blocked.clip_kernels(self.tau, self.eps, d, dtype)


# --------------------------------------------------------------------------- the weights and S(beta)

def beta_from_alphas(alpha: np.ndarray, alpha_bar: np.ndarray) -> np.ndarray:
    """The gradient weights beta from alpha and alpha-bar (both 0 on the diagonal); overwrites ``alpha``.

    ``beta_ij = (alpha_ij + alphabar_ij) / 2`` off the diagonal and
    ``beta_ii = (sum_j alpha_ij + sum_k alphabar_ki) / 2``.

    Paper: Section 2, the weights beta. Book: ``def-weights`` (Chapter 2).
    """
    diagonal = 0.5 * (alpha.sum(axis=1) + alpha_bar.sum(axis=0))
    beta = np.add(alpha, alpha_bar, out=alpha)
    beta *= 0.5
    np.fill_diagonal(beta, diagonal)
    return beta


def signed_weights(beta: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """W with ``W_ii = beta_ii`` and ``W_ij = -beta_ij``, so that ``S(beta) = X^T W Y / n`` and ``dL/ds = -W / n``.

    Paper: Section 2, S(beta) as a matrix product. Book: ``def-weights`` (Chapter 2).
    """
    diagonal = np.diag(beta).copy()
    W = np.negative(beta, out=out)
    np.fill_diagonal(W, diagonal)
    return W


def contrastive_cross_covariance(X, Y, beta) -> np.ndarray:
    """The contrastive cross-covariance S(beta) = (1/n)[sum_i beta_ii x_i y_i^T - sum_{i!=j} beta_ij x_i y_j^T].

    A d1 x d2 matrix (Chapter 2). For every loss without regulariser and inner-product similarity,
    ``loss.grad`` equals ``(-G2 @ S.T, -G1 @ S)`` with ``S`` built from ``loss.weights``.

    Paper: Section 2, the contrastive cross-covariance S(beta). Book: ``thm-gradient-identity`` (Chapter 2).
    """
    X, Y = check.paired(X, Y)
    n = X.shape[0]
    beta = check.as_matrix(beta, "beta", rows=n, cols=n)
    if np.any(beta < 0):
        raise ValueError("beta must be non-negative (gradient weights of the loss family are >= 0)")
    return X.T @ (signed_weights(beta) @ Y) / n


# --------------------------------------------------------------------------- the loss object

_DENSE_ARRAYS = 8
"""n x n float64 arrays the dense path may hold at once (s, the logits, the two softmaxes and the
temporaries of the log-sum-exps: tracemalloc measures a peak of about 7)."""


def _uses_engine(n: int, dtype, memory_budget: int) -> bool:
    """Whether the blocked engine evaluates the loss: float32 data, or dense arrays beyond the budget."""
    return dtype == np.float32 or _DENSE_ARRAYS * n * n * 8 > memory_budget


class ContrastiveLoss:
    """A member of the loss family (2.1): value, gradients and gradient weights ``beta``.

    Build one with :func:`clip`, :func:`linear`, :func:`decoupled_infonce` or :func:`general`.
    All methods take ``(G1, G2, X, Y)`` with ``G1`` r x d1, ``G2`` r x d2, ``X`` n x d1, ``Y`` n x d2,
    and validate them; ``check_input=False`` (for solvers and training loops that validated once)
    skips that and trusts finite float arrays of matching shapes. The loss is computed densely while
    its n x n arrays fit in ``memory_budget`` bytes (default :data:`DEFAULT_MEMORY_BUDGET`) and by the
    blocked engine :mod:`mmcl_lib._blocked` above it or for float32 data (same values to rounding).

    Paper: eq. (2.1), the loss family. Book: ``def-loss-family`` (Chapter 1), ``def-weights`` (Chapter 2).
    """

    def __init__(self, name: str, terms, *, rho: float | None = None, similarity: str = "inner"):
        self.name = name
        self._terms = terms
        self.rho = None if rho is None else check.positive(rho, "rho")
        self.similarity = sim.check_similarity(similarity)

    def __repr__(self) -> str:
        rho = "" if self.rho is None else f", rho={self.rho:g}"
        return f"<ContrastiveLoss {self.name}, similarity={self.similarity!r}{rho}>"

    # ---- public API
    def value(self, G1, G2, X, Y, *, memory_budget: int | None = None) -> float:
        """The loss (2.1), including the regulariser if ``rho`` was given."""
        X, Y, G1, G2, emb = self._embed(G1, G2, X, Y)
        U, V = sim.units(emb)
        budget = _budget(memory_budget)
        if _uses_engine(X.shape[0], X.dtype, budget):
            point = _blocked.BlockedPoint(self._terms.block_kernels, U, V, budget, keep=False)
            return self._total(point.phi_x, point.phi_y, G1, G2)
        phi_x, phi_y, _ = self._terms.values_and_beta(U @ V.T)      # eq. (2.1), both anchor directions
        return self._total(phi_x, phi_y, G1, G2)

    def value_and_grad(self, G1, G2, X, Y, *, memory_budget: int | None = None,
                       check_input: bool = True) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss value and its gradients ``(dL/dG1, dL/dG2)`` in one call.

        Dense: ``dL/ds = -W / n`` with the signed weights W (:func:`signed_weights`), then the chain
        rule through the similarities (:func:`mmcl_lib.similarity.backward`). Float32 data (``X`` and
        ``Y``) give float32 gradients (blocked engine, statistics accumulated in float64).
        """
        point = self.evaluate(G1, G2, X, Y, memory_budget=memory_budget, check_input=check_input)
        return (point.value, *point.grad())

    def grad(self, G1, G2, X, Y) -> tuple[np.ndarray, np.ndarray]:
        """Gradients ``(dL/dG1, dL/dG2)``, shapes of ``G1`` and ``G2``."""
        _, dG1, dG2 = self.value_and_grad(G1, G2, X, Y)
        return dG1, dG2

    def evaluate(self, G1, G2, X, Y, *, memory_budget: int | None = None,
                 check_input: bool = True) -> LossPoint:
        """The loss at ``(G1, G2)`` together with its weights, as a :class:`LossPoint`.

        The point gives the value at once, and its gradient and products with the signed weights
        (:meth:`LossPoint.weighted`) on demand: a solver that evaluates a trial point and rejects it
        never pays for its gradient, and one that accepts it pays for the similarities once.
        """
        if check_input:
            X, Y, G1, G2, emb = self._embed(G1, G2, X, Y)
        else:
            emb = sim.embed(G1, G2, X, Y, self.similarity)
        U, V = sim.units(emb)
        budget = _budget(memory_budget)
        if _uses_engine(X.shape[0], X.dtype, budget):
            point = _blocked.BlockedPoint(self._terms.block_kernels, U, V, budget, keep=True)
        else:
            point = _DensePoint(self._terms, U, V)
        return LossPoint(self, (G1, G2, X, Y, emb), point)

    def similarities(self, G1, G2, X, Y) -> np.ndarray:
        """The n x n similarity matrix ``s_ij`` between ``x_i`` and ``y_j`` (float32 for float32 data)."""
        return sim.matrix(self._embed(G1, G2, X, Y)[-1])

    def weights(self, G1, G2, X, Y) -> np.ndarray:
        """The gradient weights ``beta`` (n x n, all >= 0) at the current similarities (Chapter 2).

        ``beta_ij = (alpha_ij + alphabar_ij) / 2`` off the diagonal and
        ``beta_ii = (sum_j alpha_ij + sum_k alphabar_ki) / 2`` (:func:`beta_from_alphas`).
        """
        return self.value_and_weights(G1, G2, X, Y)[1]

    def weights_at(self, similarities) -> np.ndarray:
        """The gradient weights ``beta`` (n x n) at a given n x n similarity matrix (Chapter 2).

        The weights depend on the encoders and data only through the similarities ``s_ij``; this
        evaluates them at any ``s`` directly (row i = anchor ``x_i``, column j = anchor ``y_j``,
        positives on the diagonal), e.g. to see how one harder negative changes them.
        ``loss.weights(G1, G2, X, Y)`` equals ``loss.weights_at(loss.similarities(G1, G2, X, Y))``.

        Parameters
        ----------
        similarities : array, n x n with n >= 2, finite.

        Returns
        -------
        beta : array, n x n, all entries >= 0 (see :meth:`weights`), float64.
        """
        s = check.as_matrix(similarities, "similarities", min_rows=2)
        if s.shape[0] != s.shape[1]:
            raise ValueError(f"similarities must be a square n x n matrix, got shape {s.shape}")
        return self._terms.values_and_beta(s.copy())[2]

    def value_and_weights(self, G1, G2, X, Y) -> tuple[float, np.ndarray]:
        """The loss value and the weights ``beta`` from one pass (both come out of the same terms).

        Holds n x n matrices (``beta`` is one); computed in float64, ``beta`` returned in the data's
        dtype (float32 for float32 ``X`` and ``Y``).
        """
        X, _, G1, G2, emb = self._embed(G1, G2, X, Y)
        phi_x, phi_y, beta = self._terms.values_and_beta(np.asarray(sim.matrix(emb), dtype=float))
        return self._total(phi_x, phi_y, G1, G2), beta.astype(X.dtype, copy=False)

    # ---- the pieces
    def _embed(self, G1, G2, X, Y):
        """Validated inputs and embeddings, in float32 when X and Y are float32 arrays, else float64."""
        dtype = _working_dtype(X, Y)
        X, Y = check.paired(X, Y)
        G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
        if dtype != np.float64:
            X, Y, G1, G2 = (a.astype(dtype) for a in (X, Y, G1, G2))
        return X, Y, G1, G2, sim.embed(G1, G2, X, Y, self.similarity)

    def _total(self, phi_x, phi_y, G1, G2) -> float:
        """``(sum_i phi(A_i) + sum_j phi(A_j)) / (2n)``, plus ``rho/2 ||G1^T G2||_F^2`` if ``rho`` is set."""
        total = (phi_x.sum() + phi_y.sum()) / (2 * phi_x.shape[0])
        if self.rho is not None:                  # ||G1^T G2||_F^2 = <G1 G1^T, G2 G2^T> (r x r products only)
            total += 0.5 * self.rho * float(np.sum((G1 @ G1.T) * (G2 @ G2.T)))
        return float(total)

    def _regulariser_grads(self, dG1, dG2, G1, G2):
        """Add the gradients of ``rho/2 ||G1^T G2||_F^2``, if the loss has a regulariser."""
        if self.rho is None:
            return dG1, dG2
        return dG1 + self.rho * (G2 @ G2.T) @ G1, dG2 + self.rho * (G1 @ G1.T) @ G2

    def _dense_value_and_grad(self, G1, G2, X, Y) -> tuple[float, np.ndarray, np.ndarray]:
        """The dense path at any size, in float64 (the reference the engine's tests compare with)."""
        X, Y, G1, G2, emb = self._embed(*(np.asarray(a, dtype=float) for a in (G1, G2, X, Y)))
        point = LossPoint(self, (G1, G2, X, Y, emb), _DensePoint(self._terms, *sim.units(emb)))
        return (point.value, *point.grad())


class _DensePoint:
    """Eq. (2.1) at ``s = U V^T`` with the whole n x n matrices: anchor values and signed weights W."""

    def __init__(self, terms, U, V):
        self.U, self.V = U, V
        self.phi_x, self.phi_y, beta = terms.values_and_beta(U @ V.T)
        self.W = signed_weights(beta, out=beta)

    def weighted(self, A=None, B=None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(W A, W^T B)`` (None for a product not asked for)."""
        return None if A is None else self.W @ A, None if B is None else self.W.T @ B


class LossPoint:
    """A loss of the family evaluated at one point ``(G1, G2)``: ``value``, gradients and products with its weights.

    Made by :meth:`ContrastiveLoss.evaluate`. :meth:`weighted` returns ``W A`` and ``W^T B`` for the
    signed weight matrix W (``W_ii = beta_ii``, ``W_ij = -beta_ij``) with which ``S(beta) = X^T W Y / n``,
    so ``S(beta) Q = X^T (W (Y Q)) / n`` costs thin products only. Below the memory budget W is held;
    above it (blocked engine) each product is one more sweep over the similarities.

    Paper: Section 2, the weights beta and S(beta). Book: ``def-weights`` (Chapter 2), ``alg-spectral`` (Chapter 2).
    """

    def __init__(self, loss: ContrastiveLoss, args: tuple, point):
        self._loss, self._args, self._point = loss, args, point
        G1, G2 = args[:2]
        self.value = loss._total(point.phi_x, point.phi_y, G1, G2)

    def grad(self) -> tuple[np.ndarray, np.ndarray]:
        """``(dL/dG1, dL/dG2)`` at this point (as :meth:`ContrastiveLoss.grad`, regulariser included)."""
        G1, G2, X, Y, emb = self._args
        n = X.shape[0]
        WV, WtU = self._point.weighted(self._point.V, self._point.U)   # dL/ds = -W / n
        WV *= -1.0 / n
        WtU *= -1.0 / n
        dG1, dG2 = sim.backward_from_units(WV, WtU, emb, X, Y)
        return self._loss._regulariser_grads(dG1, dG2, G1, G2)

    def weighted(self, A=None, B=None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(W A, W^T B)`` for n x k matrices ``A`` and ``B`` (either may be None and is then skipped)."""
        n, dtype = self._point.U.shape[0], self._point.U.dtype
        A, B = (None if M is None else check.as_matrix(M, name, rows=n).astype(dtype, copy=False)
                for M, name in ((A, "A"), (B, "B")))
        return self._point.weighted(A, B)


class Point(Protocol):
    """A loss evaluated at one point: its ``value`` and, on demand, its gradient (:class:`LossPoint` is one).

    Paper: Section 2 (gradient steps on a loss of the family). Book: ``fig-ch1-training`` (Chapter 1).
    """

    value: float

    def grad(self) -> tuple[np.ndarray, np.ndarray]:
        """``(dL/dG1, dL/dG2)`` at this point."""


class Loss(Protocol):
    """What the solvers of :mod:`mmcl_lib.solvers` need of a loss: a point with a value and a gradient.

    :class:`ContrastiveLoss` and :class:`mmcl_lib.graph.MultiPositiveInfoNCE` implement it.
    ``check_input=False`` promises finite float arrays of matching shapes, validated by the caller.

    Paper: Section 2 (gradient steps on a loss of the family). Book: ``fig-ch1-training`` (Chapter 1).
    """

    def evaluate(self, G1, G2, X, Y, *, check_input: bool = True) -> Point:
        """The loss at ``(G1, G2)``: value now, gradient on demand."""

    def value_and_grad(self, G1, G2, X, Y, *, check_input: bool = True) -> tuple[float, np.ndarray, np.ndarray]:
        """The value and both gradients."""


def check_gradient(loss, G1, G2, X, Y, rng: np.random.Generator, *, directions: int = 3,
                   h: float = 1e-5) -> float:
    """How far ``loss.grad`` is from central finite differences of ``loss.value``, along random directions.

    For each of ``directions`` random directions ``(D1, D2)`` (unit Frobenius norm, drawn from ``rng``)
    compares ``<dL/dG1, D1> + <dL/dG2, D2>`` with ``(L(G + h D) - L(G - h D)) / (2h)`` and returns the
    largest difference relative to ``max(1, |directional derivative|)``. About 1e-8 or less for a
    correct gradient (the finite-difference error), of order 1 for a wrong ``dphi`` or ``dpsi``.

    Paper: not in the paper (a check of the gradient of eq. 2.1). Book: ``thm-gradient-identity`` (Chapter 2).
    """
    rng = check.generator(rng)
    directions = check.integer(directions, "directions")
    h = check.positive(h, "h")
    X, Y = check.paired(X, Y)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    dG1, dG2 = loss.grad(G1, G2, X, Y)
    worst = 0.0
    for _ in range(directions):
        D1, D2 = rng.standard_normal(G1.shape), rng.standard_normal(G2.shape)
        norm = np.sqrt(np.sum(D1 * D1) + np.sum(D2 * D2))
        D1, D2 = D1 / norm, D2 / norm
        analytic = float(np.sum(dG1 * D1) + np.sum(dG2 * D2))
        numeric = (loss.value(G1 + h * D1, G2 + h * D2, X, Y) - loss.value(G1 - h * D1, G2 - h * D2, X, Y)) / (2 * h)
        worst = max(worst, abs(numeric - analytic) / max(1.0, abs(analytic)))
    return worst


def _budget(memory_budget) -> int:
    return DEFAULT_MEMORY_BUDGET if memory_budget is None else check.integer(memory_budget, "memory_budget", low=1)


def _working_dtype(X, Y):
    """float32 when both data matrices are float32 arrays (the caller's choice is kept), else float64."""
    f32 = np.dtype(np.float32)
    both = all(isinstance(A, np.ndarray) and A.dtype == f32 for A in (X, Y))
    return f32 if both else np.dtype(float)


# --------------------------------------------------------------------------- presets

def clip(tau: float = 1.0, *, rho: float | None = None, similarity: str = "inner") -> ContrastiveLoss:
    """CLIP (symmetric InfoNCE) with temperature ``tau``: eps = 1, psi(x) = exp(x/tau), phi = log.

    Its value is the standard CLIP loss for logits ``s / tau``: the mean of the row-wise and
    column-wise cross-entropies against the diagonal. (The paper's phi = tau * log scales the loss
    and the weights by ``tau``.)

    Paper: eq. (2.1) with CLIP ingredients. Book: ``prop-members`` (Chapter 1), ``prop-clip-weights`` (Chapter 2).
    """
    tau = check.positive(tau, "tau")
    return ContrastiveLoss(f"clip(tau={tau:g})", _ClipTerms(tau, 1.0), rho=rho, similarity=similarity)


def decoupled_infonce(tau: float = 1.0, *, rho: float | None = None,
                      similarity: str = "inner") -> ContrastiveLoss:
    """Decoupled InfoNCE: CLIP with eps = 0, so the positive pair leaves the denominator.

    Paper: eq. (2.1) with eps = 0 (a member the book adds). Book: ``prop-members`` (Chapter 1).
    """
    tau = check.positive(tau, "tau")
    return ContrastiveLoss(f"decoupled_infonce(tau={tau:g})", _ClipTerms(tau, 0.0), rho=rho,
                           similarity=similarity)


def _identity(x):
    return np.asarray(x, dtype=float)


def _one(x):
    return np.ones_like(np.asarray(x, dtype=float))


def linear(*, rho: float | None = None, similarity: str = "inner") -> ContrastiveLoss:
    """The linear loss: eps = 0, phi = psi = identity. Its S(beta) is (n-1) times the centred
    unbiased cross-covariance, and with ``rho`` it is minimised by an SVD (Lemma 2.1).

    Paper: eq. (2.1), the linear loss. Book: ``prop-members`` (Chapter 1), ``lem-svd`` (Chapter 2).
    """
    return ContrastiveLoss("linear", _GeneralTerms(_identity, _one, _identity, _one, 0.0), rho=rho,
                           similarity=similarity)


def general(phi, psi, *, dphi, dpsi, eps: float = 0.0, rho: float | None = None,
            similarity: str = "inner", name: str = "general") -> ContrastiveLoss:
    """Any member of the family: vectorised ``phi``, ``psi`` and their derivatives ``dphi``, ``dpsi``.

    The theory asks for differentiable, non-decreasing ``phi`` and ``psi`` (so the weights are >= 0)
    and ``eps >= 0``.

    Paper: eq. (2.1). Book: ``def-loss-family`` (Chapter 1).
    """
    for f, nm in ((phi, "phi"), (psi, "psi"), (dphi, "dphi"), (dpsi, "dpsi")):
        if not callable(f):
            raise ValueError(f"{nm} must be a callable acting elementwise on arrays, got {f!r}")
    eps = check.nonnegative(eps, "eps")
    return ContrastiveLoss(name, _GeneralTerms(phi, dphi, psi, dpsi, eps), rho=rho, similarity=similarity)
