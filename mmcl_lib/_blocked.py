"""Not in the paper: evaluates the same loss (eq. 2.1) in bounded memory.

:class:`mmcl_lib.losses.ContrastiveLoss` computes the loss densely, with the whole n x n similarity
matrix, as long as its working arrays fit in the memory budget (``DEFAULT_MEMORY_BUDGET``, 256 MiB:
up to n = 2048 in float64), and hands the same call to this engine above it, or for float32 data.
The engine gives the same values and gradients (to rounding; ``tests/test_blocked.py``) without
holding an n x n matrix: it streams over blocks of rows of the similarities.

Pieces: :func:`block_plan` (rows per block within the budget), the :class:`BlockKernel` protocol and
its kernels (CLIP-type terms with one global shift or with per-anchor shifts, and any phi, psi),
:class:`BlockedPoint`, the two-pass evaluation at one point, and :class:`ThinSpectralState`, the
spectral solver's step from thin products only (``svd="krylov"``, used by the benchmarks at large n, d). Float32 data stay float32 in the blocks;
the per-anchor statistics are accumulated in float64.

Book: ``def-loss-family`` (Chapter 1) states the loss; this module only evaluates it.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from scipy.linalg.blas import get_blas_funcs

from . import _validation as check

# --------------------------------------------------------------------------- the plan
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
"""Default bytes for the n x n working arrays of a loss evaluation (256 MiB): the dense path of
:mod:`mmcl_lib.losses` below it, this engine above it."""

_BLOCK_ARRAYS = 2          # n x b arrays alive at once while a block is processed
_BLOCK_ROWS = 256          # enough rows that the O(n r) update of dV per block is small against the
                           # block's O(b n r) products (measured best at n = 4096 ... 32768, r = 64)


def block_plan(n: int, itemsize: int, memory_budget: int) -> tuple[int, bool]:
    """Rows per block and whether pass 1's n x n matrix is kept for pass 2, within ``memory_budget`` bytes.

    Used by :class:`BlockedPoint` (the engine behind :class:`mmcl_lib.losses.ContrastiveLoss` above its memory budget).
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


# --------------------------------------------------------------------------- the kernels

class BlockKernel(Protocol):
    """What :class:`BlockedPoint` asks of the anchor terms of one loss, block by block.

    A kernel sees blocks L of the logits s / scale (rows i0, i0+1, ... of the n x n matrix, in a
    reusable buffer it may overwrite). After :meth:`finish` it holds ``phi_x`` and ``phi_y``, the
    per-anchor values phi(A_i) (anchor x_i) and phi(A_j) (anchor y_j) of eq. (2.1).
    """

    scale: float
    phi_x: np.ndarray
    phi_y: np.ndarray

    def first(self, L: np.ndarray, i0: int) -> None:
        """Pass 1: gather the anchor statistics of the block and leave it in its pass-1 form."""

    def again(self, L: np.ndarray, i0: int) -> None:
        """Bring a recomputed block to its pass-1 form without gathering."""

    def finish(self) -> bool:
        """Complete the statistics; False: this kernel cannot serve these logits (try the next one)."""

    def weights(self, P: np.ndarray, i0: int, spare: np.ndarray) -> np.ndarray:
        """The off-diagonal weights beta_ij of a pass-1 block (0 on the diagonal), in P or in spare."""

    def diagonal(self) -> np.ndarray:
        """The diagonal weights beta_ii."""


# Largest spread (max_kj L_kj - min_k L_kk) for which one global shift m is safe: every anchor's
# sum T_k then holds its own eps exp(l_k - m) >= eps exp(-300), far from underflow.
_MAX_SPREAD = 300.0
_MAX_SPREAD_FLOAT32 = 60.0                 # float32 underflows below exp(-87)


def clip_kernels(tau: float, eps: float, d: np.ndarray, dtype) -> list[BlockKernel]:
    """Kernels for phi = log, psi = exp(x / tau) at the diagonal similarities ``d``, in order of preference."""
    safe = _SafeLogExpBlocks(tau, eps, d)
    spread = _MAX_SPREAD_FLOAT32 if dtype == np.float32 else _MAX_SPREAD
    ell = d / tau
    if eps <= 0 or float(ell.max() - ell.min()) > spread:
        return [safe]                       # the diagonal alone already spreads too far
    return [_ClipBlocks(tau, eps, d, spread), safe]


def general_kernels(terms, d: np.ndarray) -> list[BlockKernel]:
    """The kernel for any phi, psi (``terms`` has ``phi``, ``dphi``, ``psi``, ``dpsi``, ``eps``)."""
    return [_GeneralBlocks(terms, d)]


class _ClipBlocks:
    """CLIP-type terms (phi = log, psi = exp(x/tau)) with eps > 0: one exp per entry and pass.

    Each block of logits L_I = s_I / tau is shifted by its own maximum m_I; the column sums are
    rescaled to the running maximum (as in streaming softmax), so in the end every sum is relative
    to the global maximum m. Safe when m - min_k l_k <= max_spread (see :func:`clip_kernels`); ``finish``
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
        self.phi_x = np.log(self.row_off + row_eps) + self.row_shift - ell
        col_eps = eps * np.exp(ell - m)
        T_cols = self.col_off + col_eps
        self.phi_y = np.log(T_cols) + m - ell
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
        self.phi_x = self.row_m - ell + np.log(T_rows)
        self.phi_y = self.col_m - ell + np.log(T_cols)
        self.log_rows = self.row_m + np.log(T_rows)    # alpha_ij = exp(L_ij - log_rows_i) / tau
        self.log_cols = self.col_m + np.log(T_cols)
        self.beta_diag = 0.5 * (self.row_off / T_rows + self.col_off / T_cols) / self.tau
        check.finite_loss(self.phi_x, self.phi_y)
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
            self.phi_x = np.asarray(self.t.phi(self.A_rows), dtype=float)
            self.phi_y = np.asarray(self.t.phi(self.A_cols), dtype=float)
            self.w_rows = np.asarray(self.t.dphi(self.A_rows), dtype=float)
            self.w_cols = np.asarray(self.t.dphi(self.A_cols), dtype=float)
            self.beta_diag = 0.5 * (self.w_rows * self.dpsi_rows + self.w_cols * self.dpsi_cols)
        check.finite_loss(self.phi_x, self.phi_y, self.beta_diag)
        return True

    def weights(self, s, i0, spare):
        Dr, Dc = self._differences(s, i0)
        i1 = i0 + s.shape[0]
        with np.errstate(all="ignore"):
            alpha = self.w_rows[i0:i1, None] * self._off_diagonal(self.t.dpsi, Dr, i0)
            alpha += self.w_cols[None, :] * self._off_diagonal(self.t.dpsi, Dc, i0)
        check.finite_loss(alpha.sum())
        alpha *= 0.5
        return alpha.astype(s.dtype, copy=False)

    def diagonal(self):
        return self.beta_diag


# --------------------------------------------------------------------------- the two-pass evaluation

class BlockedPoint:
    """The blocked evaluation at s = U V^T (see the section comment above): pass 1 when made (anchor
    values ``phi_x``, ``phi_y`` and the kernel's statistics), pass 2 on demand (:meth:`weighted`).

    ``kernels`` are the anchor terms' :class:`BlockKernel` objects for the diagonal similarities
    ``d = diag(U V^T)``, in order of preference: ``kernels(d, dtype)``.

    With ``keep`` and a budget that holds it, pass 1's n x n matrix stays for pass 2; the first call of
    :meth:`weighted` turns it into the weights in place, so later calls only multiply."""

    def __init__(self, kernels, U, V, memory_budget: int, keep: bool):
        n = U.shape[0]
        rows, fits = block_plan(n, U.dtype.itemsize, memory_budget)
        self.U, self.V, self.keep = U, V, keep and fits
        self.blocks = [(i0, min(n, i0 + rows)) for i0 in range(0, n, rows)]
        self.stash = np.empty((n, n), dtype=U.dtype) if self.keep else None
        self.buffer = None if self.keep else np.empty((rows, n), dtype=U.dtype)
        self.spare = None
        self.weights_kept = False
        d = np.einsum("ij,ij->i", U, V)
        for kernel in kernels(d, U.dtype):               # the first kernel that accepts these similarities
            self.scaled_V = V if kernel.scale == 1.0 else V * (1.0 / kernel.scale)
            for i0, i1 in self.blocks:
                kernel.first(self._logits(i0, i1), i0)
            if kernel.finish():
                break
        self.kernel = kernel
        self.phi_x, self.phi_y = kernel.phi_x, kernel.phi_y

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

    def weighted(self, A=None, B=None) -> tuple[np.ndarray | None, np.ndarray | None]:
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


# --------------------------------------------------------------------------- the spectral step from thin products

class ThinSpectralState:
    """For ``spectral_solver(..., svd="krylov")`` at large n and d (benchmarks): what the Krylov spectral step needs at one point, from two sweeps over the weights of the
    evaluated point (never ``S`` itself): the Krylov basis ``Q = orth[G2^T, S^T G1^T, random]``, the
    gamma-independent products ``M Q`` and ``S Q``, and the squared gradient norm.

    Sweep 1 gives ``S^T G1^T = Y^T W^T (X G1^T) / n``; sweep 2 applies W to ``Y [G2^T, Q_new]`` at once
    (the weights are read once per sweep, which is what these products cost). The first r columns of Q
    span G2^T, so ``S Q[:, :r]`` follows from ``W H`` (H = Y G2^T) and the QR's R.
    """

    def __init__(self, X, Y, G1, G2, point, rho, rng):
        n, r = X.shape[0], G2.shape[0]
        self.rho = rho
        StG1 = Y.T @ point.weighted(B=X @ G1.T)[1] / n                     # S^T G1^T (d2 x r)
        probe = rng.standard_normal((G2.shape[1], r))
        Q, R = np.linalg.qr(np.hstack([G2.T, StG1, probe]))
        WH, WYQ2 = np.hsplit(point.weighted(A=Y @ np.hstack([G2.T, Q[:, r:]]))[0], [r])
        SG2 = X.T @ WH / n                                                  # S G2^T   (d1 x r)
        WYQ1 = np.linalg.solve(R[:r, :r].T, WH.T).T                         # Q[:, :r] = G2^T R11^{-1}
        self.basis = Q, G1.T @ (G2 @ Q), X.T @ np.hstack([WYQ1, WYQ2]) / n  # Q, M Q, S Q
        g1 = rho * (G2 @ G2.T) @ G1 - SG2.T                                 # G2 (rho M - S)^T
        g2 = rho * (G1 @ G1.T) @ G2 - StG1.T                                # G1 (rho M - S)
        self.gn2 = float(np.sum(g1 * g1) + np.sum(g2 * g2))

    def candidate(self, gamma: float, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Lemma 2.1's balanced minimiser for the top-r Ritz approximation of (1 - gamma) rho M + gamma S."""
        Q, MQ, SQ = self.basis
        P = (1.0 - gamma) * self.rho * MQ + gamma * SQ
        U, sigma, Wt = np.linalg.svd(P, full_matrices=False)
        scale = np.sqrt(sigma[:r] / self.rho)[:, None]
        return scale * U[:, :r].T, scale * (Q @ Wt[:r].T).T
