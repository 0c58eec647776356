"""Learning from unpaired data: detect the hidden pairs from the current similarities (Chapter 5).

Besides n pairs ``(X_paired, Y_paired)`` we hold ``X_unpaired`` (N x d1) and ``Y_unpaired``
(N x d2), samples of the two modalities that do come in pairs, but the pairing is unknown.
Everything here takes plain arrays, so it applies to synthetic and real data alike; the true
pairing, when it is known, enters only through evaluation callbacks (see :func:`pair_scores`).

Public API
----------
Detection
    ``detect_top(S, k)``: the k largest entries of a similarity matrix (the paper's top-b rule);
    ``match_pairs(S, threshold)``: a one-to-one assignment (Hungarian problem) keeping the matched
    pairs whose similarity is at least ``threshold``.
The paper's algorithm (Section 4 of the paper; as coded in the authors' Section 5.1 notebook)
    ``unpaired_loss(G1, G2, X, Y, tau=)``: the loss ``L_u`` of one batch with its gradient and the
    detected pairs; ``train_unpaired(X_unpaired, Y_unpaired, G1, G2, rng=, ...)``: phase 2,
    minibatch AdamW on ``L_u``; ``two_phase(X_paired, Y_paired, X_unpaired, Y_unpaired, r, rng=, ...)``:
    phase 1 (CLIP on the pairs, :func:`mmcl_lib.training.train_clip`) then phase 2, both with the
    authors' fixed consecutive batches by default (``batch_order="reshuffled"``: a new order every epoch).
Beyond the paper
    ``matching_self_training(X_paired, Y_paired, X_unpaired, Y_unpaired, r, ...)``: alternate a
    global matching of the unpaired set with refits on paired + confidently matched data
    (closed-form estimator of :mod:`mmcl_lib.spectral` or gradient descent).
Section 5.3 (Chapter 6)
    the gated teacher lives in :mod:`mmcl_lib.teacher`; its names (``teacher_pseudo_positives``,
    ``teacher_loss``, ``gate_accepts``, ``teacher_self_training``) are re-exported here.
Evaluation
    ``pair_scores(rows, cols, hidden_partner)``: precision and recall of detected pairs;
    ``scoring_callback(hidden_partner)``: a callback for the two learners that records them.

Callbacks of both learners are called as ``callback(round, G1, G2, rows, cols)`` after every
epoch (phase 2) or matching round, where ``(rows[k], cols[k])`` are the detected pairs as indices
into ``X_unpaired`` and ``Y_unpaired``; what they return is collected in ``.evaluations``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from dataclasses import dataclass, field

from scipy.optimize import linear_sum_assignment

from . import _validation as check
from . import similarity as sim
from .losses import clip, two_sided_softmax
from .solvers import FitResult, History, gradient_descent
from .spectral import closed_form_mmcl
from .teacher import gate_accepts, teacher_loss, teacher_pseudo_positives, teacher_self_training  # noqa: F401
from .training import AdamW, TrainingResult, init_encoders, minibatch_training, train_clip

BATCHING = ("hidden_pairs", "independent")
REFITS = ("closed_form", "gradient_descent")


@dataclass
class MatchingResult(FitResult):
    """What :func:`matching_self_training` returns: a :class:`~mmcl_lib.solvers.FitResult` with the
    callback's returns per round (``evaluations``) and the ``pairs`` ``(rows, cols)`` of the last round.

    Paper: not in the paper (matching with closed-form refits). Book: ``sec-unpaired-gain`` (Chapter 5).
    """

    evaluations: list = field(default_factory=list)
    pairs: tuple[np.ndarray, np.ndarray] | None = None


# --------------------------------------------------------------------------- detection

def detect_top(S, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the ``k`` largest entries of ``S``, largest first (top-b rule).

    The detected set need not be a matching: one row may receive several columns.

    Paper: Section 4 and the authors' Section 5.1 notebook (the b largest similarities). Book: ``def-unpaired-loss`` (Chapter 5).
    """
    S = check.as_matrix(S, "S")
    return _top(S, check.integer(k, "k", high=S.size))


def _top(S, k):
    """:func:`detect_top` on a validated matrix."""
    flat = S.ravel()
    top = np.argpartition(flat, flat.size - k)[flat.size - k:]
    top = top[np.argsort(flat[top])[::-1]]
    return np.unravel_index(top, S.shape)


def match_pairs(S, threshold: float = -np.inf) -> tuple[np.ndarray, np.ndarray]:
    """A one-to-one matching maximising the total similarity, keeping pairs with ``S >= threshold``.

    Solves the assignment problem (Kuhn's Hungarian problem; ``scipy.optimize.linear_sum_assignment``)
    on the whole N x N matrix, then drops the matched pairs whose similarity is below
    ``threshold`` (doubtful matches). With the default threshold every row is matched.

    Paper: not in the paper (detection as a one-to-one matching). Book: ``sec-unpaired-detection`` (Chapter 5).
    """
    S = check.as_matrix(S, "S")
    threshold = float(threshold)
    if np.isnan(threshold):
        raise ValueError("threshold must be a number, got NaN")
    rows, cols = linear_sum_assignment(S, maximize=True)
    keep = S[rows, cols] >= threshold
    return rows[keep], cols[keep]


def pair_scores(rows, cols, hidden_partner) -> tuple[float, float]:
    """Precision and recall of detected pairs ``(rows[k], cols[k])`` against the true pairing.

    ``hidden_partner[i]`` is the column of the true partner of row i (``UnpairedSample.hidden_partner``).
    Precision = fraction of detected pairs that are true (1 if none is detected);
    recall = fraction of the N true pairs that were detected (counted once each).

    Paper: not in the paper (precision and recall of detection). Book: ``sec-unpaired-detection`` (Chapter 5).
    """
    partner = np.asarray(hidden_partner)
    if partner.ndim != 1 or not np.array_equal(np.sort(partner), np.arange(partner.size)):
        raise ValueError("hidden_partner must be a permutation of 0..N-1")
    rows, cols = np.asarray(rows, dtype=int), np.asarray(cols, dtype=int)
    if rows.shape != cols.shape or rows.ndim != 1:
        raise ValueError("rows and cols must be 1-D index arrays of the same length")
    if rows.size and (rows.min() < 0 or rows.max() >= partner.size):
        raise ValueError(f"rows must index 0..{partner.size - 1}")
    hit = partner[rows] == cols
    precision = float(hit.mean()) if rows.size else 1.0
    recall = np.unique(rows[hit]).size / partner.size
    return precision, float(recall)


def scoring_callback(hidden_partner) -> Callable:
    """A learner callback returning ``(precision, recall)`` of each round's detected pairs.

    The true pairing lives only in this closure. The learners call it after each epoch or round and
    store what it returns in ``.evaluations``; they never read those values back.

    Paper: not in the paper (scores detection; the learners never read it). Book: ``sec-unpaired-algorithm`` (Chapter 5).
    """
    partner = np.asarray(hidden_partner).copy()

    def callback(round_, G1, G2, rows, cols):
        return pair_scores(rows, cols, partner)

    return callback


# --------------------------------------------------------------------------- the paper's loss

def unpaired_loss(G1, G2, X, Y, *, tau: float = 1.0) -> tuple[float, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The unpaired loss ``L_u`` of one batch, its gradient, and the pairs it detected.

    With cosine similarities ``s`` of the b x's and b y's and logits ``l = s / tau``, the detected
    set ``E`` holds the b largest entries of ``s`` and (the loss of the authors' Section 5.1 notebook)

        L_u = 1/(2b) [ sum_i logsumexp_j l_ij + sum_j logsumexp_i l_ij - 2 sum_{(i,j) in E} l_ij ].

    ``E`` is piecewise constant in the encoders, so the gradient treats it as fixed:
    ``dL_u/dl = (softmax_rows(l) + softmax_cols(l) - 2 [E]) / (2b)``. The batch is validated and
    embedded once.

    Returns
    -------
    value, dG1, dG2, (rows, cols) -- the detected pairs as indices into the batch.

    Paper: Section 4, the unpaired loss as in the authors' Section 5.1 notebook. Book: ``def-unpaired-loss`` (Chapter 5).
    """
    tau = check.positive(tau, "tau")
    X, Y = check.paired(X, Y)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    return _unpaired_loss(G1, G2, X, Y, tau)


def _unpaired_loss(G1, G2, X, Y, tau: float) -> tuple[float, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """:func:`unpaired_loss` on validated arrays (phase 2 validates once, then trusts every batch)."""
    b = X.shape[0]
    emb = sim.embed(G1, G2, X, Y, "cosine")
    s = sim.matrix(emb)
    rows, cols = _top(s, b)
    logits = s / tau
    lse_rows, lse_cols, P_rows, P_cols = two_sided_softmax(logits)
    value = (lse_rows.sum() + lse_cols.sum() - 2.0 * logits[rows, cols].sum()) / (2 * b)
    dL = np.add(P_rows, P_cols, out=P_rows)
    dL[rows, cols] -= 2.0                       # the b detected pairs are distinct entries
    dG1, dG2 = sim.backward(dL / (2 * b * tau), emb, X, Y)
    return float(value), dG1, dG2, (rows, cols)


def train_unpaired(X_unpaired, Y_unpaired, G1, G2, *, rng: np.random.Generator, epochs: int = 100,
                   batch_size: int = 50, tau: float = 1.0, batching: str = "hidden_pairs",
                   batch_order: str = "fixed", optimizer: AdamW | None = None,
                   callback: Callable | None = None) -> TrainingResult:
    """Phase 2 of the paper's algorithm: minibatch AdamW on :func:`unpaired_loss`.

    ``batching`` says which y's are batched with which x's:

    - ``"hidden_pairs"``: the same rows of ``X_unpaired`` and ``Y_unpaired``. If the caller stores
      the two arrays row-aligned by the hidden pairing (as the authors' notebook does: both come
      from one call of its data generator), every batch holds b complete pairs whose pairing
      inside the batch is unknown. This tells the learner which b y's contain the partners of
      which b x's: pairing information, without which the method fails (Chapter 5).
    - ``"independent"``: the y's in an order drawn from ``rng`` independently of the x's, whatever
      order the caller stores them in; a batch then contains about b^2 / N true pairs.

    ``batch_order`` says how the rows are cut into batches (:func:`mmcl_lib.training.
    minibatch_training`): ``"fixed"`` (default), the authors' Section 5.1 loop, the same
    consecutive blocks of rows in every epoch (with ``"independent"``, y's in one random order
    drawn once); ``"reshuffled"``, fresh permutations every epoch.

    ``callback(epoch, G1, G2, rows, cols)`` receives every pair detected during the epoch (indices
    into the unpaired arrays).

    Paper: Section 5.1, phase 2. Book: ``sec-unpaired-algorithm`` (Chapter 5).
    """
    X, Y = check.paired(X_unpaired, Y_unpaired)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    check.one_of(batching, BATCHING, "batching")
    tau = check.positive(tau, "tau")

    def objective(batch, A1, A2):                  # arrays validated above: trusted per batch
        bx, by = batch[0], batch[-1]
        value, dG1, dG2, (i, j) = _unpaired_loss(A1, A2, X[bx], Y[by], tau)
        return value, dG1, dG2, (bx[i], by[j])

    wrapped = None
    if callback is not None:
        def wrapped(epoch, A1, A2, infos):
            return callback(epoch, A1, A2, np.concatenate([i for i, _ in infos]),
                            np.concatenate([j for _, j in infos]))

    return minibatch_training(objective, G1, G2, X.shape[0], rng=rng, epochs=epochs,
                              batch_size=batch_size, optimizer=optimizer, callback=wrapped,
                              streams=1 if batching == "hidden_pairs" else 2, batch_order=batch_order)


def two_phase(X_paired, Y_paired, X_unpaired, Y_unpaired, r: int, *, rng: np.random.Generator,
              epochs_paired: int = 100, epochs_unpaired: int = 100, batch_size: int = 50,
              tau: float = 1.0, lr: float = 2e-3, batching: str = "hidden_pairs",
              batch_order: str = "fixed", callback: Callable | None = None) -> tuple[TrainingResult, TrainingResult]:
    """The paper's recipe: random init, CLIP on the pairs, then :func:`train_unpaired`.

    One AdamW optimiser (learning rate ``lr``) is carried through both phases, and both phases
    cut their batches by ``batch_order`` (default ``"fixed"``: consecutive blocks of the stored
    rows in every epoch, as the authors' Section 5.1 notebook does in both phases;
    ``"reshuffled"``: fresh permutations every epoch). Returns the two
    :class:`~mmcl_lib.solvers.FitResult` objects: the first holds the "paired only" encoders,
    the second the "paired + unpaired" ones.

    Paper: Section 5.1, both phases. Book: ``sec-unpaired-reproduction`` (Chapter 5).
    """
    Xp, Yp = check.paired(X_paired, Y_paired)
    rng = check.generator(rng)
    G1, G2 = init_encoders(Xp.shape[1], Yp.shape[1], r, rng)
    optimizer = AdamW(lr=lr)
    first = train_clip(Xp, Yp, G1, G2, rng=rng, epochs=epochs_paired, batch_size=batch_size, tau=tau,
                       optimizer=optimizer, batch_order=batch_order)
    second = train_unpaired(X_unpaired, Y_unpaired, first.G1, first.G2, rng=rng, epochs=epochs_unpaired,
                            batch_size=batch_size, tau=tau, batching=batching, batch_order=batch_order,
                            optimizer=optimizer, callback=callback)
    return first, second


# --------------------------------------------------------------------------- beyond the paper

def matching_self_training(X_paired, Y_paired, X_unpaired, Y_unpaired, r: int, *, rounds: int = 3,
                           threshold: float = 0.8, refit: str = "closed_form", G1=None, G2=None,
                           tau: float = 1.0, max_iter: int = 200,
                           callback: Callable | None = None) -> MatchingResult:
    """Alternate global matching of the unpaired set and refits on paired + matched data.

    Start from ``(G1, G2)`` (default: :func:`mmcl_lib.spectral.closed_form_mmcl` on the pairs).
    Each round computes the N x N cosine similarities of the unpaired set, keeps the pairs of the
    optimal one-to-one matching whose cosine is at least ``threshold`` (:func:`match_pairs`), and
    refits on the n pairs plus the matched ones, with

    - ``refit="closed_form"``: the SVD of the centred cross-covariance (Lemma 2.1), or
    - ``refit="gradient_descent"``: full-batch CLIP (cosine, ``tau``) by
      :func:`mmcl_lib.solvers.gradient_descent` from the current encoders, ``max_iter`` steps.

    ``callback(round, G1, G2, rows, cols)`` is called after each refit with the pairs it used.

    Paper: not in the paper (matching with closed-form refits). Book: ``sec-unpaired-gain`` (Chapter 5).
    """
    Xp, Yp = check.paired(X_paired, Y_paired)
    Xu, Yu = check.paired(X_unpaired, Y_unpaired)
    for A, B, name in ((Xu, Xp, "X_unpaired"), (Yu, Yp, "Y_unpaired")):
        if A.shape[1] != B.shape[1]:
            raise ValueError(f"{name} must have {B.shape[1]} columns like the paired data, got {A.shape[1]}")
    r = check.rank(r, Xp.shape[1], Yp.shape[1])
    rounds = check.integer(rounds, "rounds", low=1)
    check.one_of(refit, REFITS, "refit")
    if G1 is None or G2 is None:
        G1, G2 = closed_form_mmcl(Xp, Yp, r)
    G1, G2 = check.encoders(G1, G2, Xp.shape[1], Yp.shape[1])
    loss = clip(tau, similarity="cosine")
    evaluations = []
    for k in range(rounds):
        rows, cols = match_pairs(loss.similarities(G1, G2, Xu, Yu), threshold)
        X_all, Y_all = np.vstack([Xp, Xu[rows]]), np.vstack([Yp, Yu[cols]])
        if refit == "closed_form":
            G1, G2 = closed_form_mmcl(X_all, Y_all, r)
        else:
            fit = gradient_descent(loss, G1, G2, X_all, Y_all, max_iter=max_iter)
            G1, G2 = fit.G1, fit.G2
        if callback is not None:
            evaluations.append(callback(k, G1, G2, rows, cols))
    return MatchingResult(G1, G2, False, rounds, History(), evaluations=evaluations, pairs=(rows, cols))
