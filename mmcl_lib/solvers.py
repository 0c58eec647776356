"""Solvers for the loss family, with one result type (Chapters 1-2).

- :func:`gradient_descent`: full-batch gradient descent with a step size that is stable by default;
- :func:`spectral_solver`: iterates "similarities -> weights -> SVD" (the book's solver built on the
  gradient identity of Chapter 2; not in the paper).

:class:`FitResult` is also what :mod:`mmcl_lib.training` (the paper's minibatch AdamW recipe) and
:mod:`mmcl_lib.unpaired` return.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validation as check
from .losses import contrastive_cross_covariance
from .spectral import svd_minimizer, top_singular_subspaces


@dataclass
class History:
    """What a solver saw, one entry per iteration (entry 0 is the starting point).

    ``iterates`` holds ``(t, G1_t, G2_t)`` every ``record_every`` iterations (empty if 0).

    Paper: not in the paper (what the book's solvers record). Book: ``fig-ch1-training`` (Chapter 1).
    """

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    step: list[float] = field(default_factory=list)
    iterates: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)


@dataclass
class FitResult:
    """Encoders found by a solver or a training run, and what it saw on the way.

    ``converged`` says whether a stopping rule was met (always False for fixed-length minibatch
    training); ``n_iter`` counts iterations, epochs or rounds; ``history.loss`` holds one value per
    iteration (solvers) or the mean batch loss per epoch (minibatch training). Minibatch training
    also returns its ``optimizer`` (with its state, so a second phase can continue it) and what its
    per-epoch callback returned (``evaluations``); matching self-training returns the detected
    ``pairs`` ``(rows, cols)`` of its last round.

    Paper: not in the paper (what every solver returns). Book: ``fig-ch1-training`` (Chapter 1).
    """

    G1: np.ndarray
    G2: np.ndarray
    converged: bool
    n_iter: int
    history: History
    optimizer: object | None = None
    evaluations: list = field(default_factory=list)
    pairs: tuple[np.ndarray, np.ndarray] | None = None


def gradient_descent(loss, G1, G2, X, Y, *, max_iter: int = 5000, tol: float = 1e-6,
                     step: float = 1.0, record_every: int = 0) -> FitResult:
    """Minimise ``loss`` from ``(G1, G2)`` by gradient descent with Armijo backtracking.

    Each iteration tries twice the previous step and halves it until the loss decreases by at least
    half the first-order prediction (Armijo with c = 1/2), so no step size needs tuning and the loss
    never increases beyond rounding. Near the optimum, where loss differences drown in rounding
    error, a step is also accepted if the loss stays equal up to rounding and the gradient shrinks
    (the "approximate" condition of Hager and Zhang). Stops when the gradient norm
    ``sqrt(||dG1||^2 + ||dG2||^2)`` is below ``tol``, or when no step is accepted (``converged``
    is then False).

    Paper: Section 2 (gradient steps on a loss of the family). Book: ``fig-ch1-training`` (Chapter 1), ``fig-ch2-svd`` (Chapter 2).
    """
    X, Y = check.paired(X, Y)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    max_iter = check.integer(max_iter, "max_iter", low=0)
    tol = check.positive(tol, "tol")
    t = check.positive(step, "step")
    record_every = check.integer(record_every, "record_every", low=0)

    hist = History()
    f, g1, g2 = loss.value_and_grad(G1, G2, X, Y)
    gn2 = float(np.sum(g1 * g1) + np.sum(g2 * g2))
    hist.loss.append(f), hist.grad_norm.append(np.sqrt(gn2)), hist.step.append(0.0)
    if record_every:
        hist.iterates.append((0, G1.copy(), G2.copy()))
    it = 0
    while np.sqrt(gn2) > tol and it < max_iter:
        accepted = _line_search(loss, G1, G2, X, Y, f, g1, g2, gn2, 2.0 * t)
        if accepted is None:               # no step lowers the loss or the gradient: stalled
            break
        t, G1, G2, f, g1, g2 = accepted
        gn2 = float(np.sum(g1 * g1) + np.sum(g2 * g2))
        it += 1
        hist.loss.append(f), hist.grad_norm.append(np.sqrt(gn2)), hist.step.append(t)
        if record_every and it % record_every == 0:
            hist.iterates.append((it, G1.copy(), G2.copy()))
    return FitResult(G1, G2, bool(np.sqrt(gn2) <= tol), it, hist)


def _line_search(loss, G1, G2, X, Y, f, g1, g2, gn2, t):
    """Halve ``t`` until a step is accepted (see :func:`gradient_descent`).

    Returns ``(t, G1_new, G2_new, value, dG1, dG2)``, or ``None`` if no step is accepted.
    """
    while t > 1e-30:
        C1, C2 = G1 - t * g1, G2 - t * g2
        fc, c1, c2 = loss.value_and_grad(C1, C2, X, Y)
        decreased = fc <= f - 0.5 * t * gn2
        flat = fc <= f + 1e-12 * abs(f) and float(np.sum(c1 * c1) + np.sum(c2 * c2)) < gn2
        if decreased or flat:
            return t, C1, C2, fc, c1, c2
        t *= 0.5
    return None


def spectral_solver(loss, G1, G2, X, Y, *, max_iter: int = 1000, tol: float = 1e-6,
                    damping: float = 1.0, line_search: bool = True, memory: int = 5,
                    record_every: int = 0):
    """Minimise a regularised loss of the family by iterating "similarities -> weights -> SVD" (Chapter 2).

    Not in the paper: a solver built on its gradient identity. With inner-product similarity the loss
    depends on the encoders only through ``M = G1^T G2``, and its gradient in ``M`` is
    ``rho M - S(beta(M))``. One step computes the weights ``beta`` at the current similarities, the
    contrastive cross-covariance ``S = S(beta)`` and Lemma 2.1's minimiser (:func:`svd_minimizer`)
    for the blend ``B = (1 - gamma) rho M + gamma S``, so that ``M_new = SVD_r(B) / rho``.
    With ``gamma = 1`` this is the pure fixed-point map ``M -> SVD_r(S(beta(M))) / rho``: a stationary
    point whose encoders span the top-r singular subspaces of its own ``S(beta)`` is a fixed point.
    A general ``gamma`` makes the step a projected gradient step on the rank-r matrices with step
    size ``gamma / rho`` (damping).

    Parameters
    ----------
    loss : a :class:`~mmcl_lib.losses.ContrastiveLoss` with ``rho > 0`` and inner-product similarity.
    G1, G2 : starting encoders (r x d1, r x d2); only ``G1^T G2`` matters.
    max_iter : largest number of iterations.
    tol : stop when the gradient norm ``sqrt(||dL/dG1||^2 + ||dL/dG2||^2)`` at the current
        (balanced) encoders is at most ``tol``: the same rule as
        :func:`~mmcl_lib.solvers.gradient_descent`.
    damping : the first ``gamma``, in (0, 1].
    line_search : if True, ``gamma`` is halved until the step lowers the loss (or keeps it equal up
        to rounding while the gradient shrinks), and kept for the next iterations; if False, every
        step uses ``gamma = damping`` whatever happens to the loss (this can oscillate).
    memory : with the line search, also try an Anderson-accelerated step that combines the last
        ``memory`` steps and is projected back to rank r; it is taken only when its loss is below
        the plain step's, so the loss still decreases monotonically. 0 switches it off.
    record_every : keep ``(t, G1_t, G2_t)`` every ``record_every`` iterations (0: never).

    Returns
    -------
    FitResult (see :mod:`mmcl_lib.solvers`) with balanced encoders ``G1 = (Sigma/rho)^{1/2} U^T``,
    ``G2 = (Sigma/rho)^{1/2} V^T`` after the first step. ``history.step`` holds each iteration's
    ``gamma``, negated when the accelerated step was taken. ``converged`` is False if ``max_iter``
    was reached or no ``gamma`` above 1e-12 lowered the loss.
    """
    rho = _check_solver_loss(loss)
    X, Y = check.paired(X, Y)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    r = check.rank(G1.shape[0], X.shape[1], Y.shape[1], name="the number of rows of G1")
    max_iter = check.integer(max_iter, "max_iter", low=0)
    tol = check.positive(tol, "tol")
    gamma = check.fraction(damping, "damping")
    memory = check.integer(memory, "memory", low=0)
    record_every = check.integer(record_every, "record_every", low=0)

    hist = History()
    f, beta = loss.value_and_weights(G1, G2, X, Y)
    S, gn2 = _spectral_state(X, Y, G1, G2, beta, rho)
    hist.loss.append(f), hist.grad_norm.append(np.sqrt(gn2)), hist.step.append(0.0)
    if record_every:
        hist.iterates.append((0, G1.copy(), G2.copy()))
    past: list[tuple[np.ndarray, np.ndarray]] = []          # (M_k, T(M_k) - M_k) for Anderson
    it = 0
    while np.sqrt(gn2) > tol and it < max_iter:
        M = G1.T @ G2
        while True:
            C1, C2 = svd_minimizer((1.0 - gamma) * rho * M + gamma * S, r, rho)
            fc, beta_c = loss.value_and_weights(C1, C2, X, Y)
            if not line_search or fc < f:
                state = None
                break
            if fc <= f + 1e-12 * abs(f):            # equal up to rounding: accept if the gradient shrinks
                state = _spectral_state(X, Y, C1, C2, beta_c, rho)
                if state[1] < gn2:
                    break
            if gamma < 1e-12:
                break
            gamma *= 0.5
            past.clear()                             # Anderson needs one fixed map
        if line_search and gamma < 1e-12 and not fc < f and state is not None and state[1] >= gn2:
            break                                    # no damping lowers the loss: stalled
        step = gamma
        if line_search and memory:
            past.append((M, C1.T @ C2 - M))
            del past[:-memory - 1]
            A = _anderson(past, r) if len(past) > 1 else None
            if A is not None:
                fa, beta_a = loss.value_and_weights(*A, X, Y)
                if fa < fc:
                    (C1, C2), fc, beta_c, state, step = A, fa, beta_a, None, -gamma
        G1, G2, f = C1, C2, fc
        S, gn2 = state if state is not None else _spectral_state(X, Y, G1, G2, beta_c, rho)
        it += 1
        hist.loss.append(f), hist.grad_norm.append(np.sqrt(gn2)), hist.step.append(step)
        if record_every and it % record_every == 0:
            hist.iterates.append((it, G1.copy(), G2.copy()))
    return FitResult(G1, G2, bool(np.sqrt(gn2) <= tol), it, hist)


def _anderson(past, r):
    """Anderson (type II) extrapolation of the fixed-point iterates, projected to rank r (balanced factors)."""
    Ms = np.stack([m.ravel() for m, _ in past], axis=1)
    Fs = np.stack([f.ravel() for _, f in past], axis=1)
    dM, dF = np.diff(Ms, axis=1), np.diff(Fs, axis=1)
    theta, *_ = np.linalg.lstsq(dF, Fs[:, -1], rcond=None)
    x = Ms[:, -1] + Fs[:, -1] - (dM + dF) @ theta
    U, sigma, V = top_singular_subspaces(x.reshape(past[0][0].shape), r)
    root = np.sqrt(sigma)[:, None]
    return root * U.T, root * V.T


def _check_solver_loss(loss) -> float:
    if getattr(loss, "rho", None) is None:
        raise ValueError("loss must have a regulariser rho > 0 (e.g. losses.clip(tau, rho=0.5)): "
                         "Lemma 2.1's SVD minimiser needs it")
    if loss.similarity != "inner":
        raise ValueError("loss must use similarity='inner': with cosine similarity the loss is not a "
                         "function of G1^T G2 alone")
    return loss.rho


def _spectral_state(X, Y, G1, G2, beta, rho):
    """``S(beta)`` from the weights at ``(G1, G2)`` and the squared gradient norm, from the gradient
    identity ``dL/dG1 = G2 (rho M - S)^T``, ``dL/dG2 = G1 (rho M - S)`` with ``M = G1^T G2``."""
    S = contrastive_cross_covariance(X, Y, beta)
    R = rho * (G1.T @ G2) - S
    g1, g2 = G2 @ R.T, G1 @ R
    return S, float(np.sum(g1 * g1) + np.sum(g2 * g2))
