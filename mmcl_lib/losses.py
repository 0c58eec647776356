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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg.blas import get_blas_funcs

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

    def block_kernels(self, d, dtype):
        return [_GeneralBlocks(self, d)]


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
    _MAX_SPREAD_FLOAT32 = 60.0                 # float32 underflows below exp(-87)

    def block_kernels(self, d, dtype):
        """Kernels for the blocked path, in order of preference (see ``_BlockedPoint``)."""
        safe = _SafeLogExpBlocks(self.tau, self.eps, d)
        spread = self._MAX_SPREAD_FLOAT32 if dtype == np.float32 else self._MAX_SPREAD
        ell = d / self.tau
        if self.eps <= 0 or float(ell.max() - ell.min()) > spread:
            return [safe]                       # the diagonal alone already spreads too far
        return [_ClipBlocks(self.tau, self.eps, d, spread), safe]

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


# --------------------------------------------------------------------------- blocked evaluation
# Value and gradients never need the n x n weight matrix itself: only its products with the thin
# embedding matrices. The blocked path streams over blocks of rows of the logits s / scale = U V^T / scale
# in two passes: pass 1 accumulates each anchor's statistics (row sums complete within a block, column
# sums across blocks), pass 2 recomputes (or re-reads) the block, turns it into the off-diagonal weights
# in place and adds its products W_I V and W_I^T U_I to the gradients. The diagonal weights beta_ii enter
# at the end as an O(n r) correction. The two n x b arrays are allocated once and reused (a fresh large
# array per block costs page faults), and dV is updated in place by BLAS (no n x r temporary per
# block). Working memory: two blocks plus O(n r), or, if the memory budget holds a whole n x n matrix,
# that matrix (kept from pass 1 to pass 2: one product per entry fewer).

DEFAULT_MEMORY_BUDGET = 256 * 2**20
"""Default bytes for the n x n working arrays of :meth:`ContrastiveLoss.value_and_grad` (256 MiB)."""

_BLOCK_ARRAYS = 2          # n x b arrays alive at once while a block is processed
_BLOCK_ROWS = 256          # enough rows that the O(n r) update of dV per block is small against the
                           # block's O(b n r) products (measured best at n = 4096 ... 32768, r = 64)


def block_plan(n: int, itemsize: int, memory_budget: int) -> tuple[int, bool]:
    """Rows per block and whether pass 1's n x n matrix is kept for pass 2, within ``memory_budget`` bytes.

    Used by :meth:`ContrastiveLoss.value_and_grad`, :meth:`~ContrastiveLoss.value` and :meth:`~ContrastiveLoss.evaluate`.
    Blocks of ``_BLOCK_ROWS`` rows, or fewer if the budget does not hold ``_BLOCK_ARRAYS`` such block
    arrays; the whole matrix is kept when it fits besides them.

    Paper: not in the paper (how the book evaluates eq. 2.1 in bounded memory). Book: ``def-loss-family`` (Chapter 1).
    """
    n = check.integer(n, "n", low=1)
    budget = check.integer(memory_budget, "memory_budget", low=1)
    row = n * itemsize
    budget_rows = budget // (_BLOCK_ARRAYS * row)
    if budget_rows < 1:
        raise ValueError(f"memory_budget must hold at least {_BLOCK_ARRAYS} rows of the n x n matrix "
                         f"({_BLOCK_ARRAYS * row} bytes at n = {n}), got {memory_budget}")
    rows = int(min(n, budget_rows, _BLOCK_ROWS))
    keep = n * row + _BLOCK_ARRAYS * rows * row <= budget
    return rows, keep


def _diagonal(block: np.ndarray, i0: int) -> np.ndarray:
    """View of the entries (k, i0 + k) of a C-contiguous block of rows i0, i0+1, ... of an n x n matrix."""
    n = block.shape[1]
    return block.reshape(-1)[i0::n + 1][:block.shape[0]]


# A block kernel sees blocks L of the logits s / scale (rows i0, i0+1, ... of the n x n matrix, in a
# reusable buffer it may overwrite). ``first(L, i0)`` gathers the anchor statistics and leaves the block
# in its pass-1 form; ``again(L, i0)`` brings a recomputed block to the same form without gathering;
# ``finish()`` completes the statistics (False: this kernel cannot serve these logits, try the next);
# ``weights(P, i0, spare)`` turns a pass-1 block into the off-diagonal weights beta_ij (0 on the
# diagonal), in P or in the spare buffer, and returns them; ``diagonal()`` gives beta_ii.

class _ClipBlocks:
    """CLIP-type terms (phi = log, psi = exp(x/tau)) with eps > 0: one exp per entry and pass.

    Each block of logits L_I = s_I / tau is shifted by its own maximum m_I; the column sums are
    rescaled to the running maximum (as in streaming softmax), so in the end every sum is relative
    to the global maximum m. Safe when m - min_k l_k <= max_spread (see ``_LogExpTerms``); ``finish``
    returns False otherwise and the caller switches to :class:`_SafeLogExpBlocks`.
    """

    def __init__(self, tau, eps, d, max_spread):
        n = d.shape[0]
        self.scale = tau
        self.tau, self.eps, self.max_spread = tau, eps, max_spread
        self.ell = d.astype(float) / tau
        self.row_off = np.empty(n)              # sum_{j != i} exp(L_ij - m_I), own block shift
        self.row_shift = np.empty(n)
        self.col_off = np.zeros(n)              # sum_{i != j} exp(L_ij - m), running shift m
        self.col_block = np.empty(n)
        self.m = -np.inf
        self.shifts = {}

    def first(self, L, i0):
        m_I = float(L.max())
        self.shifts[i0] = m_I
        self.again(L, i0)
        i1 = i0 + L.shape[0]
        self.row_off[i0:i1] = L.sum(axis=1)
        self.row_shift[i0:i1] = m_I
        if m_I > self.m:
            self.col_off *= np.exp(self.m - m_I)
            self.m = m_I
        np.sum(L, axis=0, out=self.col_block, dtype=float)
        self.col_block *= np.exp(m_I - self.m)
        self.col_off += self.col_block

    def again(self, L, i0):
        L -= self.shifts[i0]
        np.exp(L, out=L)
        _diagonal(L, i0)[:] = 0.0

    def finish(self) -> bool:
        m, ell, eps = self.m, self.ell, self.eps
        if m - ell.min() > self.max_spread:
            return False
        row_eps = eps * np.exp(ell - self.row_shift)
        self.rows = np.log(self.row_off + row_eps) + self.row_shift - ell
        col_eps = eps * np.exp(ell - m)
        T_cols = self.col_off + col_eps
        self.cols = np.log(T_cols) + m - ell
        to_global = np.exp(self.row_shift - m)
        self.a = 1.0 / (2 * self.tau * (self.row_off + row_eps) * to_global)   # 1 / (2 tau T_i), shift m
        self.b = 1.0 / (2 * self.tau * T_cols)
        self.beta_diag = self.a * self.row_off * to_global + self.b * self.col_off
        return True

    def weights(self, E, i0, spare):
        c = np.exp(self.shifts[i0] - self.m)
        i1 = i0 + E.shape[0]
        factor = np.add((c * self.a[i0:i1])[:, None], (c * self.b)[None, :], out=spare, dtype=E.dtype)
        return np.multiply(E, factor, out=E)             # beta_ij off the diagonal, 0 on it

    def diagonal(self):
        return self.beta_diag


class _SafeLogExpBlocks:
    """phi = log, psi = exp(x/tau), any eps >= 0 and any spread: per-anchor shifts (two exps per entry
    and pass); the column shifts are running maxima, updated block by block."""

    _FLOOR = -1e300                              # a column's shift before it has seen a finite entry

    def __init__(self, tau, eps, d):
        n = d.shape[0]
        self.scale = tau
        self.tau, self.eps = tau, eps
        self.ell = d.astype(float) / tau
        log_eps = np.log(eps) if eps > 0 else -np.inf
        self.row_m = np.empty(n)
        self.row_off = np.empty(n)
        self.col_m = self.ell + log_eps if eps > 0 else np.full(n, self._FLOOR)
        self.col_off = np.zeros(n)
        self.col_eps = np.ones(n) if eps > 0 else np.zeros(n)    # eps exp(l_j - m_j), rescaled alike

    def again(self, L, i0):
        _diagonal(L, i0)[:] = -np.inf

    def first(self, L, i0):
        self.again(L, i0)
        i1 = i0 + L.shape[0]
        ell = self.ell[i0:i1]
        m = L.max(axis=1).astype(float)
        if self.eps > 0:
            m = np.maximum(m, ell + np.log(self.eps))
        tmp = np.subtract(L, m[:, None].astype(L.dtype))
        self.row_off[i0:i1] = np.exp(tmp, out=tmp).sum(axis=1)
        self.row_m[i0:i1] = m
        new_m = np.maximum(self.col_m, L.max(axis=0))
        rescale = np.exp(self.col_m - new_m)
        np.subtract(L, new_m[None, :].astype(L.dtype), out=tmp)
        self.col_off = self.col_off * rescale + np.exp(tmp, out=tmp).sum(axis=0)
        self.col_eps *= rescale
        self.col_m = new_m

    def finish(self) -> bool:
        ell, eps = self.ell, self.eps
        T_rows = self.row_off + (eps * np.exp(ell - self.row_m) if eps > 0 else 0.0)
        T_cols = self.col_off + self.col_eps
        self.rows = self.row_m - ell + np.log(T_rows)
        self.cols = self.col_m - ell + np.log(T_cols)
        self.log_rows = self.row_m + np.log(T_rows)    # alpha_ij = exp(L_ij - log_rows_i) / tau
        self.log_cols = self.col_m + np.log(T_cols)
        self.beta_diag = 0.5 * (self.row_off / T_rows + self.col_off / T_cols) / self.tau
        if not (np.all(np.isfinite(self.rows)) and np.all(np.isfinite(self.cols))):
            raise ValueError("the loss is not finite at these similarities")
        return True

    def weights(self, L, i0, spare):
        i1 = i0 + L.shape[0]
        alpha = np.subtract(L, self.log_rows[i0:i1, None].astype(L.dtype), out=spare)
        np.exp(alpha, out=alpha)
        L -= self.log_cols[None, :].astype(L.dtype)
        alpha_bar = np.exp(L, out=L)
        alpha_bar += alpha
        alpha_bar *= 0.5 / self.tau
        return alpha_bar                                  # exp(-inf) = 0 on the diagonal

    def diagonal(self):
        return self.beta_diag


class _GeneralBlocks:
    """Any phi, psi: row and column anchor sums of psi(s_ij - s_ii), psi(s_ij - s_jj), block by block.

    Pass 1 also sums psi'(s_ij - s_ii) and psi'(s_ij - s_jj) per anchor, which gives the diagonal
    weights beta_ii without a further pass."""

    scale = 1.0

    def __init__(self, terms, d):
        n = d.shape[0]
        self.t, self.d = terms, d
        self.A_rows = np.empty(n)
        self.A_cols = np.full(n, float(terms.eps))
        self.dpsi_rows = np.empty(n)
        self.dpsi_cols = np.zeros(n)

    def _differences(self, s, i0):
        i1 = i0 + s.shape[0]
        return s - self.d[i0:i1, None], s - self.d[None, :]

    def again(self, s, i0):
        pass                                        # the pass-1 form is the similarities themselves

    def _off_diagonal(self, f, D, i0):
        out = np.ascontiguousarray(f(D))
        _diagonal(out, i0)[:] = 0.0
        return out

    def first(self, s, i0):
        Dr, Dc = self._differences(s, i0)
        i1 = i0 + s.shape[0]
        with np.errstate(all="ignore"):
            self.A_rows[i0:i1] = self.t.eps + self._off_diagonal(self.t.psi, Dr, i0).sum(axis=1)
            self.A_cols += self._off_diagonal(self.t.psi, Dc, i0).sum(axis=0)
            self.dpsi_rows[i0:i1] = self._off_diagonal(self.t.dpsi, Dr, i0).sum(axis=1)
            self.dpsi_cols += self._off_diagonal(self.t.dpsi, Dc, i0).sum(axis=0)

    def finish(self) -> bool:
        with np.errstate(all="ignore"):
            self.rows = np.asarray(self.t.phi(self.A_rows), dtype=float)
            self.cols = np.asarray(self.t.phi(self.A_cols), dtype=float)
            self.w_rows = np.asarray(self.t.dphi(self.A_rows), dtype=float)
            self.w_cols = np.asarray(self.t.dphi(self.A_cols), dtype=float)
            self.beta_diag = 0.5 * (self.w_rows * self.dpsi_rows + self.w_cols * self.dpsi_cols)
        if not all(np.all(np.isfinite(v)) for v in (self.rows, self.cols, self.beta_diag)):
            raise ValueError("the loss is not finite at these similarities: check phi, psi and eps "
                             "(for example phi = log needs eps + sum psi > 0)")
        return True

    def weights(self, s, i0, spare):
        Dr, Dc = self._differences(s, i0)
        i1 = i0 + s.shape[0]
        with np.errstate(all="ignore"):
            alpha = self.w_rows[i0:i1, None] * self._off_diagonal(self.t.dpsi, Dr, i0)
            alpha += self.w_cols[None, :] * self._off_diagonal(self.t.dpsi, Dc, i0)
        if not np.isfinite(alpha.sum()):
            raise ValueError("the loss is not finite at these similarities: check phi, psi and eps "
                             "(for example phi = log needs eps + sum psi > 0)")
        alpha *= 0.5
        return alpha.astype(s.dtype, copy=False)

    def diagonal(self):
        return self.beta_diag


class _BlockedPoint:
    """The blocked evaluation at s = U V^T (see the section comment above): pass 1 when made (anchor
    values ``rows``, ``cols`` and the kernel's statistics), pass 2 on demand (:meth:`signed_products`).

    With ``keep`` and a budget that holds it, pass 1's n x n matrix stays for pass 2; the first call of
    :meth:`signed_products` turns it into the weights in place, so later calls only multiply."""

    def __init__(self, terms, U, V, memory_budget: int, keep: bool):
        n = U.shape[0]
        rows, fits = block_plan(n, U.dtype.itemsize, memory_budget)
        self.U, self.V, self.keep = U, V, keep and fits
        self.blocks = [(i0, min(n, i0 + rows)) for i0 in range(0, n, rows)]
        self.stash = np.empty((n, n), dtype=U.dtype) if self.keep else None
        self.buffer = None if self.keep else np.empty((rows, n), dtype=U.dtype)
        self.spare = None
        self.weights_kept = False
        d = np.einsum("ij,ij->i", U, V)
        for kernel in terms.block_kernels(d, U.dtype):   # the first kernel that accepts these similarities
            self.scaled_V = V if kernel.scale == 1.0 else V * (1.0 / kernel.scale)
            for i0, i1 in self.blocks:
                kernel.first(self._logits(i0, i1), i0)
            if kernel.finish():
                break
        self.kernel = kernel
        self.rows, self.cols = kernel.rows, kernel.cols

    def _logits(self, i0, i1):
        """Rows i0:i1 of U V^T / scale, in the kept matrix or the reused block array."""
        out = self.stash[i0:i1] if self.keep else self.buffer[:i1 - i0]
        return np.matmul(self.U[i0:i1], self.scaled_V.T, out=out)

    def _weights(self, i0, i1, P):
        """Block P (rows i0:i1) in its pass-1 form turned into the off-diagonal weights beta_ij (0 on the
        diagonal); in P itself or in the spare array."""
        if self.spare is None:
            self.spare = np.empty((self.blocks[0][1], self.U.shape[0]), dtype=self.U.dtype)
        return self.kernel.weights(P, i0, self.spare[:i1 - i0])

    def signed_products(self, A=None, B=None):
        """``(W A, W^T B)`` for the signed weights W (``W_ii = beta_ii``, ``W_ij = -beta_ij``) and thin
        n x k matrices A, B in the dtype of U (None: that product is skipped).

        With the kept matrix: its blocks become the weights once, then two whole products (more
        efficient than many thin ones for small k). Without: each block is recomputed, weighted and
        multiplied, and ``W^T B`` is accumulated in place by BLAS.
        """
        if self.keep:
            if not self.weights_kept:
                for i0, i1 in self.blocks:
                    P = self.stash[i0:i1]
                    W = self._weights(i0, i1, P)
                    if not np.shares_memory(W, P):
                        P[...] = W
                self.weights_kept = True
            WA = None if A is None else self.stash @ A
            WtB = None if B is None else self.stash.T @ B
        else:
            WA = None if A is None else np.empty(A.shape, dtype=self.U.dtype)
            WtB_t = None if B is None else np.zeros(B.shape, dtype=self.U.dtype).T   # BLAS adds into it
            gemm = get_blas_funcs("gemm", (self.U,))
            for i0, i1 in self.blocks:
                P = self._logits(i0, i1)
                self.kernel.again(P, i0)
                W = self._weights(i0, i1, P)
                if A is not None:
                    np.matmul(W, A, out=WA[i0:i1])
                if B is not None:
                    WtB_t = gemm(1.0, B[i0:i1].T, W.T, beta=1.0, c=WtB_t, trans_b=1, overwrite_c=1)
            WtB = None if B is None else WtB_t.T
        diag = self.kernel.diagonal().astype(self.U.dtype)[:, None]
        for M, T in ((A, WA), (B, WtB)):
            if M is not None:
                np.negative(T, out=T)
                T += diag * M
        return WA, WtB


# --------------------------------------------------------------------------- the loss object

class ContrastiveLoss:
    """A member of the loss family (2.1): value, gradients and gradient weights ``beta``.

    Build one with :func:`clip`, :func:`linear`, :func:`decoupled_infonce` or :func:`general`.
    All methods take ``(G1, G2, X, Y)`` with ``G1`` r x d1, ``G2`` r x d2, ``X`` n x d1, ``Y`` n x d2.

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

    # ---- forward pieces
    def _embed(self, G1, G2, X, Y):
        """Validated inputs and embeddings, in float32 when X and Y are float32 arrays, else float64."""
        dtype = _working_dtype(X, Y)
        X, Y = check.paired(X, Y)
        G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
        if dtype != np.float64:
            X, Y, G1, G2 = (a.astype(dtype) for a in (X, Y, G1, G2))
        return X, Y, G1, G2, sim.embed(G1, G2, X, Y, self.similarity)

    def _values_and_beta(self, s, scale: float = 1.0):
        """Row and column anchor values phi(A) and ``scale * beta`` at the similarities ``s`` (dense, float64)."""
        s = np.asarray(s, dtype=float)
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

    def _regulariser_grads(self, dG1, dG2, G1, G2):
        """Add the gradients of ``rho/2 ||G1^T G2||_F^2``, if the loss has a regulariser."""
        if self.rho is None:
            return dG1, dG2
        return dG1 + self.rho * (G2 @ G2.T) @ G1, dG2 + self.rho * (G1 @ G1.T) @ G2

    def _regulariser(self, G1, G2):
        # ||G1^T G2||_F^2 = <G1 G1^T, G2 G2^T> (r x r products only)
        return 0.5 * self.rho * float(np.sum((G1 @ G1.T) * (G2 @ G2.T)))

    # ---- public API
    def similarities(self, G1, G2, X, Y) -> np.ndarray:
        """The n x n similarity matrix ``s_ij`` between ``x_i`` and ``y_j`` (float32 for float32 data)."""
        return sim.matrix(self._embed(G1, G2, X, Y)[-1])

    def value(self, G1, G2, X, Y, *, memory_budget: int | None = None) -> float:
        """The loss (2.1), including the regulariser if ``rho`` was given.

        Computed block by block like :meth:`value_and_grad` (one pass, no n x n matrix).
        """
        X, Y, G1, G2, emb = self._embed(G1, G2, X, Y)
        U, V = sim.units(emb)
        budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
        point = _BlockedPoint(self._terms, U, V, budget, keep=False)
        return self._total(point, G1, G2)

    def _total(self, point, G1, G2) -> float:
        total = (point.rows.sum() + point.cols.sum()) / (2 * point.U.shape[0])
        if self.rho is not None:
            total += self._regulariser(G1, G2)
        return float(total)

    def evaluate(self, G1, G2, X, Y, *, memory_budget: int | None = None) -> LossPoint:
        """The loss at ``(G1, G2)`` together with its weights, as a :class:`LossPoint`.

        One pass gives the value (as :meth:`value`); the point then multiplies the signed weight
        matrix with thin matrices on demand (:meth:`LossPoint.weighted`), keeping the n x n matrix
        between the two only if it fits in ``memory_budget`` bytes. A solver that evaluates the loss
        at a trial point and then needs ``S(beta)`` applied to a few directions there pays for the
        similarities once.
        """
        X, Y, G1, G2, emb = self._embed(G1, G2, X, Y)
        U, V = sim.units(emb)
        budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
        point = _BlockedPoint(self._terms, U, V, budget, keep=True)
        return LossPoint(self, (G1, G2, X, Y, emb), point)

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
        beta : array, n x n, all entries >= 0 (see :meth:`weights`), float64.
        """
        s = check.as_matrix(similarities, "similarities", min_rows=2)
        if s.shape[0] != s.shape[1]:
            raise ValueError(f"similarities must be a square n x n matrix, got shape {s.shape}")
        return self._values_and_beta(s.copy())[2]

    def value_and_weights(self, G1, G2, X, Y) -> tuple[float, np.ndarray]:
        """The loss value and the weights ``beta`` from one pass (both come out of the same terms).

        Holds n x n matrices (``beta`` is one); computed in float64, ``beta`` returned in the data's
        dtype (float32 for float32 ``X`` and ``Y``).
        """
        X, _, G1, G2, emb = self._embed(G1, G2, X, Y)
        rows, cols, beta = self._values_and_beta(sim.matrix(emb))
        total = (rows.sum() + cols.sum()) / (2 * X.shape[0])
        if self.rho is not None:
            total += self._regulariser(G1, G2)
        return float(total), beta.astype(X.dtype, copy=False)

    def value_and_grad(self, G1, G2, X, Y, *,
                       memory_budget: int | None = None) -> tuple[float, np.ndarray, np.ndarray]:
        """Loss value and its gradients ``(dL/dG1, dL/dG2)`` in one call, in bounded memory.

        Streams over blocks of rows of the similarity matrix (two passes: anchor statistics, then
        gradients), so no n x n matrix is held unless it fits in ``memory_budget`` bytes (default
        :data:`DEFAULT_MEMORY_BUDGET`); see :func:`block_plan`. Extra memory is O(n b + n r) for
        blocks of b rows. Float32 data (``X`` and ``Y``) give float32 gradients; the per-anchor
        statistics and the value are accumulated in float64.
        """
        point = self.evaluate(G1, G2, X, Y, memory_budget=memory_budget)
        return (point.value, *point.grad())

    def _dense_value_and_grad(self, G1, G2, X, Y) -> tuple[float, np.ndarray, np.ndarray]:
        """The unblocked reference: value and gradients through the whole n x n weight matrix (float64)."""
        X, Y, G1, G2, emb = self._embed(*(np.asarray(a, dtype=float) for a in (G1, G2, X, Y)))
        n = X.shape[0]
        rows, cols, M = self._values_and_beta(sim.matrix(emb), scale=1.0 / n)
        value = (rows.sum() + cols.sum()) / (2 * n)
        np.fill_diagonal(M, -np.diag(M))           # dL/ds = -W/n: beta_ij/n off the diagonal,
                                                   # -beta_ii/n on it (W from _signed_weights)
        dG1, dG2 = sim.backward(M, emb, X, Y)
        if self.rho is not None:
            value += self._regulariser(G1, G2)
        return (float(value), *self._regulariser_grads(dG1, dG2, G1, G2))

    def grad(self, G1, G2, X, Y) -> tuple[np.ndarray, np.ndarray]:
        """Gradients ``(dL/dG1, dL/dG2)``, shapes of ``G1`` and ``G2``."""
        _, dG1, dG2 = self.value_and_grad(G1, G2, X, Y)
        return dG1, dG2


class LossPoint:
    """A loss of the family evaluated at one point ``(G1, G2)``: ``value``, gradients and products with its weights.

    Made by :meth:`ContrastiveLoss.evaluate` after one pass over the similarities. :meth:`grad` and
    :meth:`weighted` then cost one more sweep each (none if the n x n weights are kept):
    :meth:`weighted` returns ``W A`` and ``W^T B`` for the signed weight matrix W (``W_ii = beta_ii``,
    ``W_ij = -beta_ij``) with which ``S(beta) = X^T W Y / n``, so ``S(beta) Q = X^T (W (Y Q)) / n``
    costs thin products only. A line search that rejects a trial point never pays for its gradient.

    Paper: Section 2, the weights beta and S(beta). Book: ``def-weights`` (Chapter 2), ``alg-spectral`` (Chapter 2).
    """

    def __init__(self, loss: ContrastiveLoss, args: tuple, point: _BlockedPoint):
        self._loss, self._args, self._point = loss, args, point
        G1, G2 = args[:2]
        self.value = loss._total(point, G1, G2)

    def grad(self) -> tuple[np.ndarray, np.ndarray]:
        """``(dL/dG1, dL/dG2)`` at this point (as :meth:`ContrastiveLoss.grad`, regulariser included)."""
        G1, G2, X, Y, emb = self._args
        n = X.shape[0]
        WV, WtU = self._point.signed_products(self._point.V, self._point.U)   # dL/ds = -W / n
        WV *= -1.0 / n
        WtU *= -1.0 / n
        dG1, dG2 = sim.backward_from_units(WV, WtU, emb, X, Y)
        return self._loss._regulariser_grads(dG1, dG2, G1, G2)

    def weighted(self, A=None, B=None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(W A, W^T B)`` for n x k matrices ``A`` and ``B`` (either may be None and is then skipped)."""
        n, dtype = self._point.U.shape[0], self._point.U.dtype
        A, B = (None if M is None else check.as_matrix(M, name, rows=n).astype(dtype, copy=False)
                for M, name in ((A, "A"), (B, "B")))
        return self._point.signed_products(A, B)


def _working_dtype(X, Y):
    """float32 when both data matrices are float32 arrays (the caller's choice is kept), else float64."""
    f32 = np.dtype(np.float32)
    return f32 if getattr(X, "dtype", None) == f32 and getattr(Y, "dtype", None) == f32 else np.dtype(float)


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

    Paper: Section 2, the contrastive cross-covariance S(beta). Book: ``thm-gradient-identity`` (Chapter 2).
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

    Paper: eq. (2.1) with CLIP ingredients. Book: ``prop-members`` (Chapter 1), ``prop-clip-weights`` (Chapter 2).
    """
    tau = check.positive(tau, "tau")
    return ContrastiveLoss(f"clip(tau={tau:g})", _LogExpTerms(tau, 1.0), rho=rho, similarity=similarity)


def decoupled_infonce(tau: float = 1.0, *, rho: float | None = None,
                      similarity: str = "inner") -> ContrastiveLoss:
    """Decoupled InfoNCE: CLIP with eps = 0, so the positive pair leaves the denominator.

    Paper: eq. (2.1) with eps = 0 (a member the book adds). Book: ``prop-members`` (Chapter 1).
    """
    tau = check.positive(tau, "tau")
    return ContrastiveLoss(f"decoupled_infonce(tau={tau:g})", _LogExpTerms(tau, 0.0), rho=rho,
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
