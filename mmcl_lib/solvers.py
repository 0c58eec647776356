"""Gradient descent on a loss of the family, with a step size that is stable by default (Chapters 1-2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validation as check


@dataclass
class History:
    """What a solver saw, one entry per iteration (entry 0 is the starting point).

    ``iterates`` holds ``(t, G1_t, G2_t)`` every ``record_every`` iterations (empty if 0).
    """

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    step: list[float] = field(default_factory=list)
    iterates: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)


@dataclass
class FitResult:
    """Encoders found by a solver, whether its stopping rule was met, and its history."""

    G1: np.ndarray
    G2: np.ndarray
    converged: bool
    n_iter: int
    history: History


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
