"""Section 5.3 of the paper: self-training on unpaired data with a gated teacher (Chapter 6).

A frozen teacher's logits on each batch give pseudo-positives (:func:`teacher_pseudo_positives`);
the student minimises CLIP with them in place of the diagonal (:func:`teacher_loss`); after each loop
a validation gate decides whether the student becomes the teacher (:func:`gate_accepts`,
:func:`teacher_self_training`). :mod:`mmcl_lib.unpaired` re-exports these names.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import _validation as check
from . import similarity as sim
from .losses import two_sided_softmax
from .solvers import History
from .training import AdamW, TrainingResult, minibatch_training

__all__ = ["gate_accepts", "teacher_loss", "teacher_pseudo_positives", "teacher_self_training"]


def teacher_pseudo_positives(teacher_logits) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-positives from a teacher's m_x x m_y logits (the paper's Section 5.3).

    Returns ``(best_x, best_y)``: ``best_x[j] = argmax_i l0_ij``, the teacher's best x for y_j, and
    ``best_y[i] = argmax_j l0_ij``, its best y for x_i. (The authors' notebook reads the student's
    logits at the transposed positions, ``l[j, best_x[j]]`` and ``l[best_y[i], i]``; that coincides
    with the rule only when the batch is paired along its diagonal. Here the entries are
    ``l[best_x[j], j]`` and ``l[i, best_y[i]]``, right on truly unpaired data.)

    Paper: Section 5.3 (teacher pseudo-positives). Book: ``def-teacher`` (Chapter 6).
    """
    L0 = check.as_matrix(teacher_logits, "teacher_logits")
    return np.argmax(L0, axis=0), np.argmax(L0, axis=1)


def teacher_loss(G1, G2, X, Y, best_x, best_y, *, tau: float = 1.0) -> tuple[float, np.ndarray, np.ndarray]:
    """The student's loss of Section 5.3: CLIP with the teacher's pseudo-positives in place of the diagonal.

    With cosine logits ``l = s / tau`` of the m_x x's and m_y y's of a batch,

        L = 1/2 [ mean_j (logsumexp_i l_ij - l_{best_x[j], j}) + mean_i (logsumexp_j l_ij - l_{i, best_y[i]}) ].

    Returns the value and the gradients ``(dL/dG1, dL/dG2)``. With ``best_x = best_y = arange(m)``
    it is the CLIP loss :func:`mmcl_lib.losses.clip` (cosine similarity).

    Paper: Section 5.3 (the student's loss). Book: ``def-teacher`` (Chapter 6).
    """
    tau = check.positive(tau, "tau")
    X = check.as_matrix(X, "X", min_rows=2)
    Y = check.as_matrix(Y, "Y", min_rows=2)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    mx, my = X.shape[0], Y.shape[0]
    best_x, best_y = np.asarray(best_x), np.asarray(best_y)
    for idx, length, high, name in ((best_x, my, mx, "best_x"), (best_y, mx, my, "best_y")):
        if idx.shape != (length,) or not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= high:
            raise ValueError(f"{name} must hold {length} integer indices in 0..{high - 1}")
    emb = sim.embed(G1, G2, X, Y, "cosine")
    logits = sim.matrix(emb) / tau
    lse_rows, lse_cols, d_rows, d_cols = two_sided_softmax(logits)
    cols, rows = np.arange(my), np.arange(mx)
    value = 0.5 * (np.mean(lse_cols - logits[best_x, cols]) + np.mean(lse_rows - logits[rows, best_y]))
    d_cols[best_x, cols] -= 1.0
    d_rows[rows, best_y] -= 1.0
    dS = 0.5 * (d_cols / my + d_rows / mx) / tau
    dG1, dG2 = sim.backward(dS, emb, X, Y)
    return float(value), dG1, dG2


def gate_accepts(score: float, best: float, factor: float = 1.1) -> bool:
    """The validation gate of Section 5.3: the student replaces the teacher iff ``score > factor * best``.

    Paper: Section 5.3 (validation gate, factor 1.1). Book: ``def-teacher`` (Chapter 6).
    """
    return bool(float(score) > check.positive(factor, "factor") * float(best))


def teacher_self_training(X_unpaired, Y_unpaired, G1, G2, validation: Callable, *, rng: np.random.Generator,
                          loops: int = 20, epochs_per_loop: int = 5, batch_size: int = 64, lr: float = 2e-5,
                          gate: float = 1.1, tau: float = 1.0, streams: int = 1,
                          callback: Callable | None = None) -> tuple[TrainingResult, tuple[np.ndarray, np.ndarray]]:
    """Phase 2 of the paper's Section 5.3: self-training on unpaired data with a gated teacher.

    Start with student = teacher = ``(G1, G2)`` (the phase-1 CLIP encoders) and ``best =
    validation(G1, G2)`` (an accuracy on a paired validation set). Each of ``loops`` loops runs
    ``epochs_per_loop`` epochs of minibatch AdamW (learning rate ``lr``; one optimiser for all
    loops) on :func:`teacher_loss`, with pseudo-positives from the frozen teacher's logits on each
    batch (:func:`teacher_pseudo_positives`); then, if ``validation(student) > gate * best``
    (:func:`gate_accepts`), the student becomes the teacher and ``best`` its score. The student is
    never reset: it keeps training from where it is, as in the authors' notebook.

    ``streams=1`` draws batches as rows of ``X_unpaired`` and ``Y_unpaired`` together (the
    authors' data loader, which keeps their class-aligned order); ``streams=2`` draws x's and y's
    independently (no pairing information at all). ``callback(epoch, G1, G2)`` is called after every
    epoch with the student.

    Returns
    -------
    teacher : :class:`~mmcl_lib.training.TrainingResult`
        The *teacher* (the last accepted model) as ``G1, G2``; ``evaluations`` lists, per loop,
        ``(student score, accepted)``; ``optimizer`` is the AdamW state; ``history.loss`` the mean
        batch loss per epoch.
    student : (ndarray, ndarray)
        The final student ``(G1, G2)`` (equal to the teacher iff the last loop passed the gate).

    Paper: Section 5.3 (phase 2, self-training with a gated teacher). Book: ``def-teacher`` (Chapter 6).
    """
    X, Y = check.paired(X_unpaired, Y_unpaired)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    rng = check.generator(rng)
    loops = check.integer(loops, "loops", low=0)
    epochs_per_loop = check.integer(epochs_per_loop, "epochs_per_loop")
    gate = check.positive(gate, "gate")
    streams = check.one_of(streams, (1, 2), "streams")
    if not callable(validation):
        raise ValueError("validation must be a callable validation(G1, G2) -> score")
    teacher = (G1.copy(), G2.copy())
    best = float(validation(G1, G2))
    optimizer = AdamW(lr=lr)
    student, losses_, records = (G1, G2), [], []

    def objective(batch, A1, A2):
        bx, by = batch[0], batch[-1]
        T1, T2 = teacher
        teacher_logits = sim.matrix(sim.embed(T1, T2, X[bx], Y[by], "cosine")) / tau
        best_x, best_y = teacher_pseudo_positives(teacher_logits)
        value, dG1, dG2 = teacher_loss(A1, A2, X[bx], Y[by], best_x, best_y, tau=tau)
        return value, dG1, dG2, None

    for loop in range(loops):
        wrapped = None
        if callback is not None:
            def wrapped(epoch, A1, A2, infos, _loop=loop):
                return callback(_loop * epochs_per_loop + epoch, A1, A2)
        fit = minibatch_training(objective, *student, X.shape[0], rng=rng, epochs=epochs_per_loop,
                                 batch_size=batch_size, optimizer=optimizer, callback=wrapped,
                                 streams=streams)
        student = (fit.G1, fit.G2)
        losses_.extend(fit.history.loss)
        score = float(validation(*student))
        accepted = gate_accepts(score, best, gate)
        if accepted:
            teacher, best = (student[0].copy(), student[1].copy()), score
        records.append((score, accepted))
    result = TrainingResult(teacher[0], teacher[1], False, loops * epochs_per_loop, History(loss=losses_),
                       optimizer, records)
    return result, student
