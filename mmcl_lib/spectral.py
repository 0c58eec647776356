"""Spectral side of the theory: the SVD minimiser of the linear loss (Lemma 2.1, Chapter 2)."""

from __future__ import annotations

import numpy as np

from . import _validation as check


def top_singular_subspaces(S, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``r`` singular triplets of ``S``: ``(U_r (d1 x r), sigma_r (r,), V_r (d2 x r))``."""
    S = check.as_matrix(S, "S")
    r = check.rank(r, *S.shape)
    U, sigma, Vt = np.linalg.svd(S, full_matrices=False)
    return U[:, :r], sigma[:r], Vt[:r].T


def svd_minimizer(S, r: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``-tr(G1 S G2^T) + rho/2 ||G1^T G2||_F^2`` over G1 (r x d1), G2 (r x d2).

    Lemma 2.1: the minimisers have ``G1^T G2 = SVD_r(S) / rho`` (the best rank-r approximation,
    Eckart-Young) and minimum value ``-sum_{k<=r} sigma_k^2 / (2 rho)``. We return the balanced
    factorisation ``G1 = (Sigma_r/rho)^{1/2} U_r^T``, ``G2 = (Sigma_r/rho)^{1/2} V_r^T``; any
    ``(A G1, A^{-T} G2)`` with invertible ``A`` is a minimiser too.
    """
    rho = check.positive(rho, "rho")
    U, sigma, V = top_singular_subspaces(S, r)
    scale = np.sqrt(sigma / rho)[:, None]
    return scale * U.T, scale * V.T


def linear_loss_minimum(S, r: int, rho: float) -> float:
    """The minimum value ``-sum_{k<=r} sigma_k(S)^2 / (2 rho)`` of the regularised linear loss."""
    rho = check.positive(rho, "rho")
    _, sigma, _ = top_singular_subspaces(S, r)
    return float(-np.sum(sigma**2) / (2 * rho))


def spectral_solver(loss, G1, G2, X, Y, *, max_iter: int = 1000, tol: float = 1e-6,
                    damping: float = 1.0, line_search: bool = True, record_every: int = 0):
    """Minimise a regularised loss of the family by iterating "similarities -> weights -> SVD" (Chapter 2).

    Not in the paper: a solver built on its gradient identity. With inner-product similarity the loss
    depends on the encoders only through ``M = G1^T G2`` and its gradient in ``M`` is
    ``rho M - S(beta(M))``. One iteration computes the weights ``beta`` at the current similarities,
    the contrastive cross-covariance ``S = S(beta)`` and the rank-r SVD of the blend
    ``B = (1 - gamma) rho M + gamma S``; the new encoders are Lemma 2.1's minimiser for ``B``
    (:func:`svd_minimizer`), so ``M_new = SVD_r(B) / rho``. With ``gamma = 1`` this is the pure
    fixed-point map ``M -> SVD_r(S(beta(M))) / rho``; a stationary point of the loss with rank-r
    encoders spanning the top singular subspaces is a fixed point of it. A general ``gamma`` is a
    projected gradient step on the rank-r matrices with step ``gamma / rho``.

    Parameters
    ----------
    loss : a :class:`~mmcl_lib.losses.ContrastiveLoss` with ``rho > 0`` and inner-product similarity.
    G1, G2 : starting encoders (r x d1, r x d2); only ``G1^T G2`` matters.
    max_iter : largest number of iterations.
    tol : stop when the gradient norm ``sqrt(||dL/dG1||^2 + ||dL/dG2||^2)`` at the (balanced)
        encoders is at most ``tol``.
    damping : the first ``gamma`` tried, in (0, 1].
    line_search : if True, each iteration tries ``min(1, 2 gamma_prev)`` and halves ``gamma`` until
        the loss decreases (or stays equal up to rounding with a smaller gradient, as in
        :func:`~mmcl_lib.optim.gradient_descent`); if False, every step uses ``gamma = damping``
        whatever happens to the loss.
    record_every : keep ``(t, G1_t, G2_t)`` every ``record_every`` iterations (0: never).

    Returns
    -------
    FitResult with balanced encoders ``G1 = (Sigma/rho)^{1/2} U^T``, ``G2 = (Sigma/rho)^{1/2} V^T``
    after the first step; ``history.step`` holds the accepted ``gamma`` of each iteration.
    ``converged`` is False if ``max_iter`` was reached or no ``gamma`` decreased the loss.
    """
    from .optim import FitResult, History

    rho = _check_solver_loss(loss)
    X, Y = check.paired(X, Y)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    r = check.rank(G1.shape[0], X.shape[1], Y.shape[1], name="the number of rows of G1")
    max_iter = check.integer(max_iter, "max_iter", low=0)
    tol = check.positive(tol, "tol")
    gamma = check.fraction(damping, "damping")
    record_every = check.integer(record_every, "record_every", low=0)

    hist = History()
    f = loss.value(G1, G2, X, Y)
    S, g1, g2, gn2 = _spectral_state(loss, G1, G2, X, Y, rho)
    hist.loss.append(f), hist.grad_norm.append(np.sqrt(gn2)), hist.step.append(0.0)
    if record_every:
        hist.iterates.append((0, G1.copy(), G2.copy()))
    it = 0
    while np.sqrt(gn2) > tol and it < max_iter:
        rhoM = rho * (G1.T @ G2)
        trial = min(1.0, 2.0 * gamma) if line_search else gamma
        while True:
            C1, C2 = svd_minimizer((1.0 - trial) * rhoM + trial * S, r, rho)
            fc = loss.value(C1, C2, X, Y)
            if not line_search or fc < f:
                break
            if fc <= f + 1e-12 * abs(f):           # equal up to rounding: accept if the gradient shrinks
                Sc, c1, c2, cn2 = _spectral_state(loss, C1, C2, X, Y, rho)
                if cn2 < gn2:
                    break
            trial *= 0.5
            if trial < 1e-12:
                break
        if line_search and trial < 1e-12:          # no damping lowers the loss: stalled
            break
        if line_search and fc <= f + 1e-12 * abs(f) and not fc < f:
            pass                                   # state already computed for the rounding test
        else:
            Sc, c1, c2, cn2 = _spectral_state(loss, C1, C2, X, Y, rho)
        gamma, G1, G2, f, S, gn2 = trial, C1, C2, fc, Sc, cn2
        it += 1
        hist.loss.append(f), hist.grad_norm.append(np.sqrt(gn2)), hist.step.append(gamma)
        if record_every and it % record_every == 0:
            hist.iterates.append((it, G1.copy(), G2.copy()))
    return FitResult(G1, G2, bool(np.sqrt(gn2) <= tol), it, hist)


def _check_solver_loss(loss) -> float:
    if getattr(loss, "rho", None) is None:
        raise ValueError("loss must have a regulariser rho > 0 (e.g. losses.clip(tau, rho=0.5)): "
                         "Lemma 2.1's SVD minimiser needs it")
    if loss.similarity != "inner":
        raise ValueError("loss must use similarity='inner': with cosine similarity the loss is not a "
                         "function of G1^T G2 alone")
    return loss.rho


def _spectral_state(loss, G1, G2, X, Y, rho):
    """``S(beta)`` at ``(G1, G2)`` and the gradient from the identity ``dL/dG2 = G1 (rho M - S)``."""
    from .losses import contrastive_cross_covariance

    S = contrastive_cross_covariance(X, Y, loss.weights(G1, G2, X, Y))
    R = rho * (G1.T @ G2) - S                     # gradient of the loss in M = G1^T G2
    g1, g2 = G2 @ R.T, G1 @ R
    return S, g1, g2, float(np.sum(g1 * g1) + np.sum(g2 * g2))
