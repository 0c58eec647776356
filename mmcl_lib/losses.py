"""The multimodal contrastive loss family of eq. (2.1) and its link to the contrastive cross-covariance.

For pairs ``(x_i, y_i)`` stored as rows of ``X`` (n x d1) and ``Y`` (n x d2) and linear encoders
``G1`` (r x d1), ``G2`` (r x d2), the similarities are ``s_ij = <G1 x_i, G2 y_j>`` (or their cosine)
and the loss is

    L = 1/(2n) sum_i phi(eps + sum_{j != i} psi(s_ij - s_ii))      (x_i as anchor)
      + 1/(2n) sum_j phi(eps + sum_{i != j} psi(s_ij - s_jj))      (y_j as anchor)
      + rho/2 ||G1^T G2||_F^2                                      (optional regulariser).

Chapter 1 introduces the family; Chapter 2 derives the gradient identity
``grad_G1 L = -G2 S(beta)^T``, ``grad_G2 L = -G1 S(beta)`` with ``S(beta)`` from
:func:`contrastive_cross_covariance` (inner-product similarity, no regulariser).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _validation as check
from . import similarity as sim



# --------------------------------------------------------------------------- anchor terms
# An "anchor term" maps the similarities s and an axis to the per-anchor values phi(A_k) and the
# weights alpha (n x n, in the layout of s, zero on the diagonal). With axis = 1 the anchors are the
# rows (x_i): A_i = eps + sum_{j != i} psi(s_ij - s_ii) and alpha_ij = phi'(A_i) psi'(s_ij - s_ii).
# With axis = 0 they are the columns (y_j): A_j = eps + sum_{i != j} psi(s_ij - s_jj) and
# alphabar_ij = phi'(A_j) psi'(s_ij - s_jj). Working along an axis of s avoids a transposed copy.

def _along(v: np.ndarray, axis: int) -> np.ndarray:
    """A per-anchor vector shaped to broadcast against s along ``axis``."""
    return np.expand_dims(v, axis)


@dataclass(frozen=True)
class _GeneralTerms:
    phi: Callable[[np.ndarray], np.ndarray]
    dphi: Callable[[np.ndarray], np.ndarray]
    psi: Callable[[np.ndarray], np.ndarray]
    dpsi: Callable[[np.ndarray], np.ndarray]
    eps: float

    def __call__(self, s: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
        D = s - _along(np.diag(s), axis)
        off = ~np.eye(s.shape[0], dtype=bool)
        with np.errstate(all="ignore"):                     # non-finite results are reported below
            A = self.eps + np.sum(np.where(off, self.psi(D), 0.0), axis=axis)
            alpha = np.where(off, _along(self.dphi(A), axis) * self.dpsi(D), 0.0)
            values = np.asarray(self.phi(A), dtype=float)
        if not (np.all(np.isfinite(values)) and np.all(np.isfinite(alpha))):
            raise ValueError("the loss is not finite at these similarities: check phi, psi and eps "
                             "(for example phi = log needs eps + sum psi > 0)")
        return values, alpha


@dataclass(frozen=True)
class _LogExpTerms:
    """phi = log, psi(x) = exp(x / tau): computed with a stable log-sum-exp.

    With L = s / tau, l_k = L_kk and the shift m_k = max(max_{j != k} L_kj, l_k + log eps), one exp
    per entry gives both outputs: log A_k = m_k - l_k + log(T_k) with
    T_k = eps exp(l_k - m_k) + sum_{j != k} exp(L_kj - m_k), and alpha_kj = exp(L_kj - m_k) / (tau T_k).
    """

    tau: float
    eps: float

    def __call__(self, s: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
        L = s * (1.0 / self.tau)
        ell = np.diag(L).copy()
        np.fill_diagonal(L, -np.inf)
        m = L.max(axis=axis)
        if self.eps > 0:
            m = np.maximum(m, ell + np.log(self.eps))
        L -= _along(m, axis)
        E = np.exp(L, out=L)                                          # 0 on the diagonal
        extra = self.eps * np.exp(ell - m) if self.eps > 0 else 0.0   # <= 1: no overflow
        T = E.sum(axis=axis) + extra
        alpha = np.multiply(E, _along(1.0 / (self.tau * T), axis), out=E)
        return m - ell + np.log(T), alpha

    # Largest spread (max_kj L_kj - min_k L_kk) for which one global shift m is safe: every anchor's
    # sum T_k then holds its own eps exp(l_k - m) >= eps exp(-300), far from underflow.
    _MAX_SPREAD = 300.0

    def values_and_beta(self, s: np.ndarray, scale: float):
        """Both anchor directions from ONE exp per entry, or None when that is not safe.

        With eps > 0 and a moderate spread of the logits, E = exp(L - max L) serves the rows and the
        columns alike: T_i = sum_{j != i} E_ij + eps E_ii (rows), likewise for columns, and
        ``beta_ij = E_ij (1/T_i + 1/T'_j) / (2 tau)``, its diagonal in closed form. About half the
        passes over the n x n matrices of the two-direction path. Overwrites ``s`` (callers pass a
        fresh similarity matrix) unless it returns None. Returns the row and column anchor values
        and ``scale * beta``.
        """
        if self.eps <= 0:
            return None
        m = s.max() / self.tau
        ell = np.diag(s) / self.tau
        if m - ell.min() > self._MAX_SPREAD:
            return None
        E = s if self.tau == 1.0 else np.multiply(s, 1.0 / self.tau, out=s)   # s is ours to overwrite
        E -= m
        np.exp(E, out=E)
        E_diag = np.exp(ell - m)
        np.fill_diagonal(E, 0.0)
        T_rows = E.sum(axis=1) + self.eps * E_diag
        T_cols = E.sum(axis=0) + self.eps * E_diag
        a = scale / (2 * self.tau * T_rows)
        b = scale / (2 * self.tau * T_cols)
        beta = np.multiply(E, np.add(a[:, None], b[None, :]), out=E)
        np.fill_diagonal(beta, a * (T_rows - self.eps * E_diag) + b * (T_cols - self.eps * E_diag))
        rows = np.log(T_rows) + m - ell
        cols = np.log(T_cols) + m - ell
        return rows, cols, beta


# --------------------------------------------------------------------------- the loss object

class ContrastiveLoss:
    """A member of the loss family (2.1): value, gradients and gradient weights ``beta``.

    Build one with :func:`clip`, :func:`linear`, :func:`decoupled_infonce` or :func:`general`.
    All methods take ``(G1, G2, X, Y)`` with ``G1`` r x d1, ``G2`` r x d2, ``X`` n x d1, ``Y`` n x d2.
    """

    def __init__(self, name: str, terms, *, rho: float | None = None, similarity: str = "inner"):
        self.name = name
        self._terms = terms
        self.rho = None if rho is None else check.positive(rho, "rho")
        self.similarity = sim.check_similarity(similarity)

    def __repr__(self) -> str:
        rho = "" if self.rho is None else f", rho={self.rho:g}"
        return f"<ContrastiveLoss {self.name}, similarity={self.similarity!r}{rho}>"

    # ---- forward pieces
    def _embed(self, G1, G2, X, Y):
        X, Y = check.paired(X, Y)
        G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
        return X, Y, G1, G2, sim.embed(G1, G2, X, Y, self.similarity)

    def _values_and_beta(self, s, scale: float = 1.0):
        """Row and column anchor values phi(A) and ``scale * beta`` at the similarities ``s``."""
        fast = getattr(self._terms, "values_and_beta", None)
        out = fast(s, scale) if fast is not None else None
        if out is not None:
            return out
        rows, alpha = self._terms(s, axis=1)           # x_i anchors: s_ij - s_ii
        cols, alpha_bar = self._terms(s, axis=0)       # y_j anchors: s_ij - s_jj
        beta = _beta(alpha, alpha_bar)
        if scale != 1.0:
            beta *= scale
        return rows, cols, beta

    def _regulariser(self, G1, G2):
        # ||G1^T G2||_F^2 = <G1 G1^T, G2 G2^T> (r x r products only)
        return 0.5 * self.rho * float(np.sum((G1 @ G1.T) * (G2 @ G2.T)))

    # ---- public API
    def similarities(self, G1, G2, X, Y) -> np.ndarray:
        """The n x n similarity matrix ``s_ij`` between ``x_i`` and ``y_j``."""
        return sim.matrix(self._embed(G1, G2, X, Y)[-1])

    def value(self, G1, G2, X, Y) -> float:
        """The loss (2.1), including the regulariser if ``rho`` was given."""
        return self.value_and_weights(G1, G2, X, Y)[0]

    def weights(self, G1, G2, X, Y) -> np.ndarray:
        """The gradient weights ``beta`` (n x n, all >= 0) at the current similarities (Chapter 2).

        ``beta_ij = (alpha_ij + alphabar_ij) / 2`` off the diagonal and
        ``beta_ii = (sum_j alpha_ij + sum_k alphabar_ki) / 2``.
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
        beta : array, n x n, all entries >= 0 (see :meth:`weights`).
        """
        s = check.as_matrix(similarities, "similarities", min_rows=2)
        if s.shape[0] != s.shape[1]:
            raise ValueError(f"similarities must be a square n x n matrix, got shape {s.shape}")
        return self._values_and_beta(s.copy())[2]

    def value_and_weights(self, G1, G2, X, Y) -> tuple[float, np.ndarray]:
        """The loss value and the weights ``beta`` from one pass (both come out of the same terms)."""
        X, _, G1, G2, emb = self._embed(G1, G2, X, Y)
        rows, cols, beta = self._values_and_beta(sim.matrix(emb))
        total = (rows.sum() + cols.sum()) / (2 * X.shape[0])
        if self.rho is not None:
            total += self._regulariser(G1, G2)
        return float(total), beta

    def value_and_grad(self, G1, G2, X, Y) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss value and its gradients ``(dL/dG1, dL/dG2)`` in one pass."""
        X, Y, G1, G2, emb = self._embed(G1, G2, X, Y)
        n = X.shape[0]
        rows, cols, M = self._values_and_beta(sim.matrix(emb), scale=1.0 / n)
        value = (rows.sum() + cols.sum()) / (2 * n)
        np.fill_diagonal(M, -np.diag(M))           # dL/ds = -W/n: beta_ij/n off the diagonal,
                                                   # -beta_ii/n on it (W from _signed_weights)
        dG1, dG2 = sim.backward(M, emb, X, Y)
        if self.rho is not None:
            value += self._regulariser(G1, G2)
            dG1 = dG1 + self.rho * (G2 @ G2.T) @ G1
            dG2 = dG2 + self.rho * (G1 @ G1.T) @ G2
        return float(value), dG1, dG2

    def grad(self, G1, G2, X, Y) -> tuple[np.ndarray, np.ndarray]:
        """Gradients ``(dL/dG1, dL/dG2)``, shapes of ``G1`` and ``G2``."""
        _, dG1, dG2 = self.value_and_grad(G1, G2, X, Y)
        return dG1, dG2


def _beta(alpha: np.ndarray, alpha_bar: np.ndarray) -> np.ndarray:
    """The weights beta from alpha and alphabar (see ``ContrastiveLoss.weights``); overwrites ``alpha``."""
    diagonal = 0.5 * (alpha.sum(axis=1) + alpha_bar.sum(axis=0))
    beta = np.add(alpha, alpha_bar, out=alpha)
    beta *= 0.5
    np.fill_diagonal(beta, diagonal)
    return beta


def _signed_weights(beta: np.ndarray) -> np.ndarray:
    """W with W_ii = beta_ii and W_ij = -beta_ij, so that S(beta) = X^T W Y / n."""
    W = -beta
    np.fill_diagonal(W, np.diag(beta))
    return W


def contrastive_cross_covariance(X, Y, beta) -> np.ndarray:
    """The contrastive cross-covariance S(beta) = (1/n)[sum_i beta_ii x_i y_i^T - sum_{i!=j} beta_ij x_i y_j^T].

    A d1 x d2 matrix (Chapter 2). For every loss without regulariser and inner-product similarity,
    ``loss.grad`` equals ``(-G2 @ S.T, -G1 @ S)`` with ``S`` built from ``loss.weights``.
    """
    X, Y = check.paired(X, Y)
    n = X.shape[0]
    beta = check.as_matrix(beta, "beta", rows=n, cols=n)
    if np.any(beta < 0):
        raise ValueError("beta must be non-negative (gradient weights of the loss family are >= 0)")
    return X.T @ (_signed_weights(beta) @ Y) / n


# --------------------------------------------------------------------------- presets

def clip(tau: float = 1.0, *, rho: float | None = None, similarity: str = "inner") -> ContrastiveLoss:
    """CLIP (symmetric InfoNCE) with temperature ``tau``: eps = 1, psi(x) = exp(x/tau), phi = log.

    Its value is the standard CLIP loss for logits ``s / tau``: the mean of the row-wise and
    column-wise cross-entropies against the diagonal. (The paper's phi = tau * log scales the loss
    and the weights by ``tau``.)
    """
    tau = check.positive(tau, "tau")
    return ContrastiveLoss(f"clip(tau={tau:g})", _LogExpTerms(tau, 1.0), rho=rho, similarity=similarity)


def decoupled_infonce(tau: float = 1.0, *, rho: float | None = None,
                      similarity: str = "inner") -> ContrastiveLoss:
    """Decoupled InfoNCE: CLIP with eps = 0, so the positive pair leaves the denominator."""
    tau = check.positive(tau, "tau")
    return ContrastiveLoss(f"decoupled_infonce(tau={tau:g})", _LogExpTerms(tau, 0.0), rho=rho,
                           similarity=similarity)


def _identity(x):
    return np.asarray(x, dtype=float)


def _one(x):
    return np.ones_like(np.asarray(x, dtype=float))


def linear(*, rho: float | None = None, similarity: str = "inner") -> ContrastiveLoss:
    """The linear loss: eps = 0, phi = psi = identity. Its S(beta) is (n-1) times the centred
    unbiased cross-covariance, and with ``rho`` it is minimised by an SVD (Lemma 2.1)."""
    return ContrastiveLoss("linear", _GeneralTerms(_identity, _one, _identity, _one, 0.0), rho=rho,
                           similarity=similarity)


def general(phi, psi, *, dphi, dpsi, eps: float = 0.0, rho: float | None = None,
            similarity: str = "inner", name: str = "general") -> ContrastiveLoss:
    """Any member of the family: vectorised ``phi``, ``psi`` and their derivatives ``dphi``, ``dpsi``.

    The theory asks for differentiable, non-decreasing ``phi`` and ``psi`` (so the weights are >= 0)
    and ``eps >= 0``.
    """
    for f, nm in ((phi, "phi"), (psi, "psi"), (dphi, "dphi"), (dpsi, "dpsi")):
        if not callable(f):
            raise ValueError(f"{nm} must be a callable acting elementwise on arrays, got {f!r}")
    eps = check.nonnegative(eps, "eps")
    return ContrastiveLoss(name, _GeneralTerms(phi, dphi, psi, dpsi, eps), rho=rho, similarity=similarity)
