"""The training recipe of the paper's experiments, in NumPy (Chapter 5).

The authors train linear, bias-free encoders ``G1`` (r x d1) and ``G2`` (r x d2) with cosine
similarity, temperature ``tau = 1``, minibatches of 50 and AdamW with learning rate ``2e-3``
(the paper's Section 5.1 and the authors' notebooks). This module provides the three pieces:

- :func:`init_encoders`: the default initialisation of a bias-free ``torch.nn.Linear`` layer,
  ``U(-1/sqrt(d), 1/sqrt(d))`` entries (our reconstruction of "the authors' model");
- :class:`AdamW`: Adam with decoupled weight decay (Loshchilov and Hutter), PyTorch's defaults;
- :func:`minibatch_training`: epochs of minibatches, one optimiser step per batch, for any
  batch objective; :func:`train_clip` uses it with the CLIP loss of :mod:`mmcl_lib.losses`
  (cosine similarity) on paired data. Chapter 5's unpaired phase (:mod:`mmcl_lib.unpaired`)
  plugs its own batch objective into the same loop.

How the batches are cut is an option, ``batch_order`` (:func:`batch_slices`):

- ``"fixed"``: the same consecutive blocks of the stored rows in every epoch, an incomplete last
  block dropped; the authors' Section 5.1 notebook (``data[i*b:(i+1)*b]`` for
  ``i < int(n/b)``, in both phases);
- ``"reshuffled"``: a fresh seeded permutation every epoch, cut into consecutive batches, the last
  one possibly smaller; PyTorch's ``DataLoader(shuffle=True)``, the authors' Section 5.3 notebook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import _validation as check
from .losses import clip
from .solvers import FitResult, History

@dataclass
class TrainingResult(FitResult):
    """A :class:`~mmcl_lib.solvers.FitResult` of minibatch training, with the ``optimizer`` (and its
    state, so a second phase can continue it) and what the per-epoch callback returned (``evaluations``).

    Paper: not in the paper (what a training run returns). Book: ``sec-unpaired-algorithm`` (Chapter 5).
    """

    optimizer: AdamW | None = None
    evaluations: list = field(default_factory=list)


BatchObjective = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple]
"""``objective(batch, G1, G2) -> (value, dG1, dG2, info)``; ``batch`` is a (streams x b) index array."""

BATCH_ORDERS = ("fixed", "reshuffled")
"""How :func:`minibatch_training` cuts an epoch into batches (see :func:`batch_slices`)."""


def batch_slices(n_samples: int, batch_size: int, batch_order: str) -> list[slice]:
    """The batches of one epoch, as slices of that epoch's order of the ``n_samples`` rows.

    ``"fixed"``: ``n_samples // batch_size`` blocks of exactly ``batch_size`` rows (an incomplete
    last block is dropped, as in the authors' Section 5.1 loop ``for i in range(int(n/b))``).
    ``"reshuffled"``: consecutive pieces of ``batch_size`` rows covering all of them, the last one
    possibly smaller (PyTorch's ``DataLoader``), a piece of one row dropped (a contrastive batch
    needs a negative).

    Paper: Sections 5.1 and 5.3 as coded by the authors (their data loaders). Book: ``sec-unpaired-algorithm`` (Chapter 5).
    """
    n_samples = check.integer(n_samples, "n_samples", low=1)
    batch_size = check.integer(batch_size, "batch_size", low=2)
    check.one_of(batch_order, BATCH_ORDERS, "batch_order")
    if batch_order == "fixed":
        if batch_size > n_samples:
            raise ValueError(f"batch_size must be at most n_samples ({n_samples}) with batch_order='fixed' "
                             f"(it drops an incomplete block), got {batch_size}")
        return [slice(k * batch_size, (k + 1) * batch_size) for k in range(n_samples // batch_size)]
    return [slice(start, start + batch_size) for start in range(0, n_samples, batch_size)
            if min(batch_size, n_samples - start) >= 2]


def init_encoders(d1: int, d2: int, r: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random encoders as a bias-free ``torch.nn.Linear(d, r)`` draws them: entries ``U(-1/sqrt(d), 1/sqrt(d))``.

    Paper: Section 5.1 as coded by the authors (bias-free linear layers). Book: ``sec-unpaired-reproduction`` (Chapter 5).
    """
    d1 = check.integer(d1, "d1")
    d2 = check.integer(d2, "d2")
    r = check.rank(r, d1, d2)
    rng = check.generator(rng)
    G1 = rng.uniform(-1.0, 1.0, size=(r, d1)) / np.sqrt(d1)
    G2 = rng.uniform(-1.0, 1.0, size=(r, d2)) / np.sqrt(d2)
    return G1, G2


@dataclass
class AdamW:
    """Adam with decoupled weight decay, with PyTorch's ``torch.optim.AdamW`` defaults.

    One :meth:`step` at count ``t`` (starting at 1), for each parameter ``p`` with gradient ``g``::

        p <- p - lr * weight_decay * p
        m <- b1 m + (1 - b1) g,        v <- b2 v + (1 - b2) g^2
        p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    The moments ``m``, ``v`` and the count ``t`` are the optimiser's state, kept between calls
    (so a second training phase can continue with the same optimiser).

    Paper: Section 5.1 as coded by the authors (AdamW, lr 2e-3). Book: ``sec-unpaired-reproduction`` (Chapter 5).
    """

    lr: float = 2e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 1e-2
    t: int = 0
    m: list[np.ndarray] = field(default_factory=list)
    v: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self):
        self.lr = check.positive(self.lr, "lr")
        b1, b2 = self.betas
        for b, name in ((b1, "betas[0]"), (b2, "betas[1]")):
            if not 0 <= float(b) < 1:
                raise ValueError(f"{name} must lie in [0, 1), got {b!r}")
        self.betas = (float(b1), float(b2))
        self.eps = check.positive(self.eps, "eps")
        self.weight_decay = check.nonnegative(self.weight_decay, "weight_decay")

    def step(self, params, grads) -> tuple[np.ndarray, ...]:
        """Return the updated parameters (new arrays) after one AdamW step."""
        if len(params) != len(grads):
            raise ValueError(f"params and grads must have the same length, got {len(params)} and {len(grads)}")
        if not self.m:
            self.m = [np.zeros_like(p, dtype=float) for p in params]
            self.v = [np.zeros_like(p, dtype=float) for p in params]
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t
        out = []
        for k, (p, g) in enumerate(zip(params, grads)):
            self.m[k] = b1 * self.m[k] + (1.0 - b1) * g
            self.v[k] = b2 * self.v[k] + (1.0 - b2) * g * g
            p = p * (1.0 - self.lr * self.weight_decay)
            out.append(p - self.lr * (self.m[k] / c1) / (np.sqrt(self.v[k] / c2) + self.eps))
        return tuple(out)


def minibatch_training(objective: BatchObjective, G1, G2, n_samples: int, *, rng: np.random.Generator,
                       epochs: int = 100, batch_size: int = 50, optimizer: AdamW | None = None,
                       callback: Callable | None = None, streams: int = 1,
                       batch_order: str = "reshuffled") -> TrainingResult:
    """Minimise ``objective`` by AdamW over minibatches of sample indices (the paper's loop).

    Each of the ``streams`` index streams (one for paired data; two for x's and y's batched
    independently) has an order of ``range(n_samples)``, cut into batches by :func:`batch_slices`;
    a batch is the ``streams x b`` array of the matching pieces. ``batch_order`` says where the
    orders come from:

    - ``"reshuffled"`` (default): every epoch draws ``streams`` independent permutations from
      ``rng``;
    - ``"fixed"``: the first stream is the stored order ``0..n_samples-1`` and every further stream
      one permutation drawn from ``rng`` once, before the first epoch; every epoch then visits the
      same batches in the same order (the authors' Section 5.1 loader: consecutive blocks of the
      stored rows).

    ``objective(batch, G1, G2)`` returns ``(value, dG1, dG2, info)``.
    After each epoch ``callback(epoch, G1, G2, infos)`` is called, if given, with the ``info`` of
    every batch of that epoch; its return values are collected in ``TrainingResult.evaluations``.

    Paper: Sections 5.1 and 5.3 as coded by the authors (fixed blocks in 5.1, reshuffled batches in 5.3). Book: ``sec-unpaired-algorithm`` (Chapter 5).
    """
    G1 = check.as_matrix(G1, "G1")
    G2 = check.as_matrix(G2, "G2", rows=G1.shape[0])
    rng = check.generator(rng)
    epochs = check.integer(epochs, "epochs", low=0)
    streams = check.integer(streams, "streams")
    pieces = batch_slices(n_samples, batch_size, batch_order)   # checks n_samples, batch_size
    optimizer = AdamW() if optimizer is None else optimizer
    fixed = (np.stack([np.arange(n_samples)] + [rng.permutation(n_samples) for _ in range(streams - 1)])
             if batch_order == "fixed" else None)
    losses, evaluations = [], []
    for epoch in range(epochs):
        orders = (fixed if fixed is not None
                  else np.stack([rng.permutation(n_samples) for _ in range(streams)]))
        values, infos = [], []
        for piece in pieces:
            batch = orders[:, piece]
            value, dG1, dG2, info = objective(batch, G1, G2)
            G1, G2 = optimizer.step((G1, G2), (dG1, dG2))
            values.append(value)
            infos.append(info)
        losses.append(float(np.mean(values)))
        if callback is not None:
            evaluations.append(callback(epoch, G1, G2, infos))
    return TrainingResult(G1, G2, False, epochs, History(loss=losses), optimizer, evaluations)


def train_clip(X, Y, G1, G2, *, rng: np.random.Generator, epochs: int = 100, batch_size: int = 50,
               tau: float = 1.0, optimizer: AdamW | None = None,
               callback: Callable | None = None, batch_order: str = "reshuffled") -> TrainingResult:
    """Phase 1 of the paper's recipe: minibatch CLIP (cosine similarity) on the pairs ``(X, Y)``.

    The batch gradients are those of ``mmcl_lib.losses.clip(tau, similarity="cosine")``.
    ``batch_order`` as in :func:`minibatch_training`: ``"fixed"`` is the authors' Section 5.1
    loop (consecutive blocks of the stored pairs), ``"reshuffled"`` their Section 5.3 loader.

    Paper: Section 5.1, phase 1 (CLIP on the pairs). Book: ``sec-unpaired-reproduction`` (Chapter 5).
    """
    X, Y = check.paired(X, Y)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    loss = clip(tau, similarity="cosine")

    def objective(batch, A1, A2):                  # arrays validated above: the loss trusts them
        value, dG1, dG2 = loss.value_and_grad(A1, A2, X[batch[0]], Y[batch[0]], check_input=False)
        return value, dG1, dG2, None

    return minibatch_training(objective, G1, G2, X.shape[0], rng=rng, epochs=epochs,
                              batch_size=batch_size, optimizer=optimizer, callback=callback,
                              batch_order=batch_order)
