"""The synthetic experiment of the paper's section 5.1 (value of unpaired data), for Chapter 5.

One call of :func:`run_seed` draws a latent-factor model (Haar loadings, isotropic noise), n pairs,
a test set, and for each N an unpaired set, then scores every method by top-1 retrieval accuracy
on the test pairs (cosine similarity):

- ``paired_only``: the paper's phase 1, CLIP + AdamW on the n pairs;
- ``paired_unpaired``: phase 2 on the unpaired set with batches of hidden pairs (the authors' setting
  as we reconstruct it);
- ``unpaired_independent``: the same phase 2 with x- and y-batches drawn independently;
- ``paired_long``: phase 1 continued on the pairs for as many AdamW steps as phase 2 takes (a
  control: is the gain from more data or from more optimisation?);
- ``closed_form``: the closed-form estimator from the n pairs alone (Lemma 2.1);
- ``matching``: global matching + closed-form refits (beyond the paper);
- ``oracle``: the true loadings as encoders (an accuracy ceiling).

:func:`summarise`, :func:`markdown_table` (or :func:`html_table`) and :func:`plot_summary` turn a list of runs into the
table and figure that ``experiments/reproduce_unpaired.py`` records and the chapter shows.
"""

from __future__ import annotations

import copy
import html

import numpy as np

from .. import _validation as check
from ..data import LatentFactorModel
from ..spectral import closed_form_mmcl
from ..metrics import retrieval_accuracy
from ..training import AdamW, init_encoders, train_clip
from ..unpaired import matching_self_training, pair_scores, train_unpaired

METHODS = ("paired_only", "paired_long", "paired_unpaired", "unpaired_independent", "closed_form",
           "matching", "oracle")
LABELS = {
    "paired_only": "paired only (paper's recipe)",
    "paired_long": "paired only, as many steps as phase 2",
    "paired_unpaired": "paired + unpaired (paper, hidden-pair batches)",
    "unpaired_independent": "paired + unpaired, independent batches",
    "closed_form": "closed form, pairs only",
    "matching": "matching + closed-form refits",
    "oracle": "true encoders (oracle)",
}
PAPER = dict(d1=40, d2=39, r=10, noise_std=0.3, n=300, n_test=10000, epochs=100, batch_size=50,
             lr=2e-3, tau=1.0)


def run_seed(seed: int, Ns, *, d1: int = 40, d2: int = 39, r: int = 10, noise_std: float = 0.3,
             n: int = 300, n_test: int = 10000, epochs: int = 100, batch_size: int = 50,
             lr: float = 2e-3, tau: float = 1.0, rounds: int = 3, threshold: float = 0.8,
             methods=METHODS) -> dict:
    """All methods on one random instance (one model, pairs and test set; one unpaired set per N).

    Defaults are the paper's settings (the paper's Section 5.1). Randomness: ``default_rng([seed])`` for
    the instance and phase 1, ``default_rng([seed, N])`` for the unpaired set and phase 2, so a
    run does not depend on the grid it belongs to.

    Returns ``{"seed", "N", "accuracy": {method: list over N (or a float for N-free methods)},
    "detection": {method: list over N of (precision, recall) of the last epoch/round}}``.
    """
    Ns = [check.integer(N, "N", low=2) for N in Ns]
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"methods must be among {METHODS}, got {sorted(unknown)}")
    rng = np.random.default_rng([seed])
    model = LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise_std)
    paired, test = model.sample(n, rng), model.sample(n_test, rng)

    def accuracy(G1, G2):
        return retrieval_accuracy(G1, G2, test.X, test.Y)

    G1, G2 = init_encoders(d1, d2, r, rng)
    phase1 = train_clip(paired.X, paired.Y, G1, G2, rng=rng, epochs=epochs, batch_size=batch_size,
                        tau=tau, optimizer=AdamW(lr=lr))
    acc = {m: [] for m in methods}
    det = {m: [] for m in ("paired_unpaired", "unpaired_independent", "matching") if m in methods}
    if "paired_only" in methods:
        acc["paired_only"] = accuracy(phase1.G1, phase1.G2)
    if "closed_form" in methods:
        acc["closed_form"] = accuracy(*closed_form_mmcl(paired.X, paired.Y, r))
    if "oracle" in methods:
        acc["oracle"] = accuracy(model.U1.T, model.U2.T)
    if "paired_long" in methods:
        steps_per_epoch = -(-n // batch_size)
        extra = {epochs * (-(-N // batch_size)) // steps_per_epoch: N for N in Ns}
        found = {}

        def checkpoint(epoch, A1, A2, infos):
            if epoch + 1 in extra:
                found[extra[epoch + 1]] = accuracy(A1, A2)

        train_clip(paired.X, paired.Y, phase1.G1, phase1.G2, rng=np.random.default_rng([seed, 1]),
                   epochs=max(extra), batch_size=batch_size, tau=tau,
                   optimizer=copy.deepcopy(phase1.optimizer), callback=checkpoint)
        acc["paired_long"] = [found[N] for N in Ns]

    for N in Ns:
        rng_N = np.random.default_rng([seed, N])
        unp = model.sample_unpaired(N, rng_N)
        for method, batching in (("paired_unpaired", "hidden_pairs"), ("unpaired_independent", "independent")):
            if method not in methods:
                continue
            # hidden-pair batches need the two arrays row-aligned by the hidden pairing; the loss
            # still never sees which y of the batch belongs to which x
            Y_u = unp.Y[unp.hidden_partner] if batching == "hidden_pairs" else unp.Y
            truth = np.arange(N) if batching == "hidden_pairs" else unp.hidden_partner
            last = []
            fit = train_unpaired(unp.X, Y_u, phase1.G1, phase1.G2, rng=np.random.default_rng([seed, N, 2]),
                                 epochs=epochs, batch_size=batch_size, tau=tau, batching=batching,
                                 optimizer=copy.deepcopy(phase1.optimizer),
                                 callback=lambda e, A1, A2, i, j: last.append((i, j)) if e == epochs - 1 else None)
            acc[method].append(accuracy(fit.G1, fit.G2))
            det[method].append(pair_scores(*last[-1], truth))
        if "matching" in methods:
            res = matching_self_training(paired.X, paired.Y, unp.X, unp.Y, r, rounds=rounds,
                                         threshold=threshold)
            acc["matching"].append(accuracy(res.G1, res.G2))
            det["matching"].append(pair_scores(*res.pairs, unp.hidden_partner))
    return {"seed": seed, "N": Ns, "accuracy": acc, "detection": det}


def summarise(runs: list[dict]) -> dict:
    """Per method and N: mean, standard deviation, min and max of the accuracy over seeds."""
    if not runs:
        raise ValueError("runs must hold at least one run of run_seed")
    Ns = runs[0]["N"]
    out = {"N": Ns, "seeds": [run["seed"] for run in runs], "methods": {}}
    for method in runs[0]["accuracy"]:
        A = np.array([np.broadcast_to(run["accuracy"][method], (len(Ns),)) for run in runs])
        out["methods"][method] = {"mean": A.mean(0).tolist(), "std": A.std(0, ddof=1 if len(runs) > 1 else 0).tolist(),
                                  "min": A.min(0).tolist(), "max": A.max(0).tolist()}
    out["detection_precision"] = {m: np.mean([[p for p, _ in run["detection"][m]] for run in runs], 0).tolist()
                                  for m in runs[0]["detection"]}
    return out


def _table_cells(summary: dict, Ns):
    cols = summary["N"] if Ns is None else list(Ns)
    idx = [summary["N"].index(N) for N in cols]
    header = ["method"] + [f"N = {N}" for N in cols]
    rows = [[LABELS[method]] + [f"{s['mean'][k]:.3f} ± {s['std'][k]:.3f}" for k in idx]
            for method, s in summary["methods"].items()]
    return header, rows


def markdown_table(summary: dict, Ns=None) -> str:
    """A Markdown table: one row per method, one column per N (all, or ``Ns``), cells ``mean ± sd``."""
    header, rows = _table_cells(summary, Ns)
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def html_table(summary: dict, Ns=None) -> str:
    """The table of :func:`markdown_table` as HTML (notebook outputs render Markdown tables as text)."""
    header, rows = _table_cells(summary, Ns)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def plot_summary(summary: dict, ax) -> None:
    """Accuracy vs N, mean with a band of +- one standard deviation over seeds, per method."""
    Ns = np.array(summary["N"])
    styles = {"oracle": ("k", "--"), "closed_form": ("tab:gray", ":"), "paired_only": ("tab:blue", "-"),
              "paired_long": ("tab:cyan", "-."), "paired_unpaired": ("tab:red", "-"),
              "unpaired_independent": ("tab:purple", "-"), "matching": ("tab:green", "-")}
    for method, s in summary["methods"].items():
        color, ls = styles[method]
        mean, std = np.array(s["mean"]), np.array(s["std"])
        ax.plot(Ns, mean, ls, color=color, marker="o", ms=3, label=LABELS[method])
        ax.fill_between(Ns, mean - std, mean + std, color=color, alpha=0.15)
    ax.set_xlabel("number of unpaired samples N")
    ax.set_ylabel("top-1 retrieval accuracy on test pairs")
    ax.set_ylim(bottom=0)
