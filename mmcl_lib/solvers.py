"""Solvers for the loss family, with one result type (Chapters 1-2).

- :func:`gradient_descent`: full-batch gradient descent with a step size that is stable by default;
- :func:`spectral_solver`: iterates "similarities -> weights -> SVD" (the book's solver built on the
  gradient identity of Chapter 2; not in the paper).

:class:`FitResult` is also the base of what :mod:`mmcl_lib.training` (the paper's minibatch AdamW
recipe, :class:`~mmcl_lib.training.TrainingResult`) and :mod:`mmcl_lib.unpaired` return. A loss given
to :func:`gradient_descent` implements :class:`mmcl_lib.losses.Loss`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validation as check
from ._blocked import ThinSpectralState
from .losses import ContrastiveLoss, Loss
from .spectral import svd_minimizer, top_singular_subspaces


@dataclass
class History:
    """What a solver saw, one entry per iteration (entry 0 is the starting point).

    ``step`` is the step size (gradient descent) or the damping ``gamma`` (spectral solver), never
    negative; ``accelerated`` says for each entry whether the spectral solver took the Anderson-accelerated
    step (False elsewhere). ``iterates`` holds ``(t, G1_t, G2_t)`` every ``record_every`` iterations
    (empty if 0).

    Paper: not in the paper (what the book's solvers record). Book: ``fig-ch1-training`` (Chapter 1).
    """

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    step: list[float] = field(default_factory=list)
    accelerated: list[bool] = field(default_factory=list)
    iterates: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)


@dataclass
class FitResult:
    """Encoders found by a solver or a training run, and what it saw on the way.

    ``converged`` says whether a stopping rule was met (always False for fixed-length minibatch
    training); ``n_iter`` counts iterations, epochs or rounds; ``history.loss`` holds one value per
    iteration (solvers) or the mean batch loss per epoch (minibatch training). What only some
    callers need lives in subclasses: :class:`mmcl_lib.training.TrainingResult` (the optimizer and
    the callback's returns) and :class:`mmcl_lib.unpaired.MatchingResult` (the detected pairs).

    Paper: not in the paper (what every solver returns). Book: ``fig-ch1-training`` (Chapter 1).
    """

    G1: np.ndarray
    G2: np.ndarray
    converged: bool
    n_iter: int
    history: History


def gradient_descent(loss: Loss, G1, G2, X, Y, *, max_iter: int = 5000, tol: float = 1e-6,
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
    f, g1, g2 = loss.value_and_grad(G1, G2, X, Y)       # the loss checks its inputs once; trials trust them
    gn2 = float(np.sum(g1 * g1) + np.sum(g2 * g2))
    hist.loss.append(f), hist.grad_norm.append(np.sqrt(gn2)), hist.step.append(0.0)
    hist.accelerated.append(False)
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
        hist.accelerated.append(False)
        if record_every and it % record_every == 0:
            hist.iterates.append((it, G1.copy(), G2.copy()))
    return FitResult(G1, G2, bool(np.sqrt(gn2) <= tol), it, hist)


def _line_search(loss, G1, G2, X, Y, f, g1, g2, gn2, t):
    """Halve ``t`` until a step is accepted (see :func:`gradient_descent`).

    Returns ``(t, G1_new, G2_new, value, dG1, dG2)``, or ``None`` if no step is accepted.
    """
    while t > 1e-30:
        C1, C2 = G1 - t * g1, G2 - t * g2
        point = loss.evaluate(C1, C2, X, Y, check_input=False)   # the value; the gradient only if accepted
        fc = point.value
        decreased = fc <= f - 0.5 * t * gn2
        if decreased or fc <= f + 1e-12 * abs(f):
            c1, c2 = point.grad()
            if decreased or float(np.sum(c1 * c1) + np.sum(c2 * c2)) < gn2:
                return t, C1, C2, fc, c1, c2
        t *= 0.5
    return None


def spectral_solver(loss: ContrastiveLoss, G1, G2, X, Y, *, max_iter: int = 1000, tol: float = 1e-6,
                    damping: float = 1.0, line_search: bool = True, memory: int = 10,
                    record_every: int = 0, svd: str = "exact",
                    rng: np.random.Generator | None = None) -> FitResult:
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
    memory : with the line search, first try an Anderson-accelerated step that combines the last
        ``memory`` steps with the current one and is projected back to rank r; it is taken when it
        lowers the loss, and only otherwise is the plain step evaluated (with backtracking), so the
        loss still decreases monotonically and an accelerated iteration evaluates the loss once.
        0 switches it off.
    record_every : keep ``(t, G1_t, G2_t)`` every ``record_every`` iterations (0: never).
    svd : ``"exact"`` forms the d1 x d2 matrix ``S(beta)`` (O(n^2 d)) and takes a full SVD of the
        blend; ``"krylov"`` never forms it: the top-r subspace of the blend comes from a Rayleigh-Ritz
        step on the block Krylov space ``span[G2^T, S^T G1^T]`` (warm start: the current encoders),
        built from thin products ``S Q = X^T (W (Y Q)) / n``, O(n^2 r + n d r) per iteration and
        independent of ``gamma``, so the line search costs no further products. The space also holds
        r random directions drawn from ``rng`` at every iteration: without them a stationary point
        whose subspace is not the top one (a saddle) would be invariant and never left. The same
        fixed points as ``"exact"`` and the same stopping rule. Both variants take the products with
        the weights from the evaluation of the accepted trial point
        (:meth:`~mmcl_lib.losses.ContrastiveLoss.evaluate`), so the similarities are formed once per
        trial point, and the n x n weights are held only if the loss's memory budget allows.
    rng : a ``numpy.random.Generator``, required with ``svd="krylov"`` (the random directions).

    Returns
    -------
    FitResult (see :mod:`mmcl_lib.solvers`) with balanced encoders ``G1 = (Sigma/rho)^{1/2} U^T``,
    ``G2 = (Sigma/rho)^{1/2} V^T`` after the first step. ``history.step`` holds each iteration's
    ``gamma`` and ``history.accelerated`` whether the accelerated step was taken. ``converged`` is False if ``max_iter``
    was reached or no ``gamma`` above 1e-12 lowered the loss.

    Paper: not in the paper (a solver built on the gradient identity of Section 2 and Lemma 2.1). Book: ``alg-spectral`` (Chapter 2).
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
    svd = check.one_of(svd, ("exact", "krylov"), "svd")
    if svd == "krylov":
        rng = check.generator(rng)

    def state_at(G1, G2, point):
        if svd == "krylov":
            return ThinSpectralState(X, Y, G1, G2, point, rho, rng)
        return _ExactState(X, Y, G1, G2, point, rho)

    hist = History()
    point = loss.evaluate(G1, G2, X, Y)          # the loss checks its inputs once; trials trust them
    f, state = point.value, state_at(G1, G2, point)
    hist.loss.append(f), hist.grad_norm.append(np.sqrt(state.gn2)), hist.step.append(0.0)
    hist.accelerated.append(False)
    if record_every:
        hist.iterates.append((0, G1.copy(), G2.copy()))
    past: list[tuple[np.ndarray, ...]] = []        # (G1_k, G2_k, C1_k, C2_k): M_k and T(M_k), factored
    it = 0
    while np.sqrt(state.gn2) > tol and it < max_iter:
        C1, C2 = state.candidate(gamma, r)
        new, accelerated = None, False
        trial = (past + [(G1, G2, C1, C2)])[-memory - 1:] if line_search and memory and past else None
        A = _anderson_factored(trial, r) if trial else None
        point = loss.evaluate(*A, X, Y, check_input=False) if A is not None else None
        if point is not None and point.value < f:      # the accelerated step lowers the loss: take it
            (C1, C2), past, accelerated = A, trial, True
        else:
            while True:                                 # backtracking on gamma for the plain step
                point = loss.evaluate(C1, C2, X, Y, check_input=False)
                if not line_search or point.value < f:
                    break
                if point.value <= f + 1e-12 * abs(f):   # equal up to rounding: accept if the gradient shrinks
                    new = state_at(C1, C2, point)
                    if new.gn2 < state.gn2:
                        break
                    new = None
                if gamma < 1e-12:
                    break
                gamma *= 0.5
                past.clear()                            # Anderson needs one fixed map
                C1, C2 = state.candidate(gamma, r)
            if line_search and new is None and not point.value < f:
                break                                   # no damping lowers the loss: stalled
            if line_search and memory:
                past.append((G1, G2, C1, C2))
                del past[:-memory - 1]
        G1, G2, f = C1, C2, point.value
        state = new if new is not None else state_at(G1, G2, point)
        it += 1
        hist.loss.append(f), hist.grad_norm.append(np.sqrt(state.gn2)), hist.step.append(gamma)
        hist.accelerated.append(accelerated)
        if record_every and it % record_every == 0:
            hist.iterates.append((it, G1.copy(), G2.copy()))
    return FitResult(G1, G2, bool(np.sqrt(state.gn2) <= tol), it, hist)


def _anderson(past, r):
    """Anderson (type II) extrapolation of the fixed-point iterates ``(M_k, T(M_k) - M_k)``, projected
    to rank r: the top-r singular triples of the extrapolated matrix."""
    Ms = np.stack([m.ravel() for m, _ in past], axis=1)
    Fs = np.stack([f.ravel() for _, f in past], axis=1)
    dM, dF = np.diff(Ms, axis=1), np.diff(Fs, axis=1)
    theta, *_ = np.linalg.lstsq(dF, Fs[:, -1], rcond=None)
    x = Ms[:, -1] + Fs[:, -1] - (dM + dF) @ theta
    return top_singular_subspaces(x.reshape(past[0][0].shape), r)


def _check_solver_loss(loss) -> float:
    if not isinstance(loss, ContrastiveLoss):
        raise ValueError(f"loss must be a ContrastiveLoss of mmcl_lib.losses, got {type(loss).__name__}")
    if loss.rho is None:
        raise ValueError("loss must have a regulariser rho > 0 (e.g. losses.clip(tau, rho=0.5)): "
                         "Lemma 2.1's SVD minimiser needs it")
    if loss.similarity != "inner":
        raise ValueError("loss must use similarity='inner': with cosine similarity the loss is not a "
                         "function of G1^T G2 alone")
    return loss.rho


class _ExactState:
    """What the exact spectral step needs at one point: ``S(beta)`` (d1 x d2, from ``W Y``, O(n^2 d2)),
    ``M = G1^T G2`` and the squared gradient norm from the gradient identity
    ``dL/dG1 = G2 (rho M - S)^T``, ``dL/dG2 = G1 (rho M - S)``."""

    def __init__(self, X, Y, G1, G2, point, rho):
        self.rho, self.M = rho, G1.T @ G2
        self.S = X.T @ point.weighted(A=Y)[0] / X.shape[0]
        R = rho * self.M - self.S
        g1, g2 = G2 @ R.T, G1 @ R
        self.gn2 = float(np.sum(g1 * g1) + np.sum(g2 * g2))

    def candidate(self, gamma, r):
        """Lemma 2.1's balanced minimiser for the blend (1 - gamma) rho M + gamma S."""
        return svd_minimizer((1.0 - gamma) * self.rho * self.M + gamma * self.S, r, self.rho)


def _anderson_factored(past, r):
    """:func:`_anderson` on factored iterates: M_k = G1_k^T G2_k, T(M_k) = C1_k^T C2_k, never d1 x d2.

    All iterates lie in span(left factors) x span(right factors): with orthonormal bases Q1, Q2 of
    those spans (at most 2 (memory + 1) r columns each) the extrapolation is the dense one applied to
    the small matrices Q1^T M_k Q2 and Q1^T T(M_k) Q2, and the result's top-r SVD lifts back by Q1, Q2.
    The projected factors need no products: Q1^T G1_k^T is the block of R1 (from the QR of the stacked
    factors) that belongs to G1_k, and likewise for the others.
    """
    Q1, R1 = np.linalg.qr(np.vstack([a for p in past for a in (p[0], p[2])]).T)
    Q2, R2 = np.linalg.qr(np.vstack([b for p in past for b in (p[1], p[3])]).T)
    r_k = past[0][0].shape[0]
    blocks = [(R1[:, i:i + r_k], R2[:, i:i + r_k]) for i in range(0, R1.shape[1], r_k)]
    small = [(a1 @ b1.T, a2 @ b2.T) for (a1, b1), (a2, b2) in zip(blocks[::2], blocks[1::2])]
    U, sigma, V = _anderson([(m, tm - m) for m, tm in small], r)
    root = np.sqrt(sigma)[:, None]
    return root * (Q1 @ U).T, root * (Q2 @ V).T
