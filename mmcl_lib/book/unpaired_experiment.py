"""The synthetic experiment of the paper's section 5.1 (value of unpaired data), for Chapter 5.

One call of :func:`run_seed` draws a latent-factor model (Haar loadings, isotropic noise), n pairs,
a test set, and for each N an unpaired set, then scores every method by top-1 retrieval accuracy
on the test pairs (cosine similarity) and by the sin-theta error of its modality-1 encoder
(``metrics.subspace_error``, the feature error of Chapters 3-5):

- ``paired_only``: the paper's phase 1, CLIP + AdamW on the n pairs;
- ``paired_unpaired``: phase 2 on the unpaired set with batches of hidden pairs (the authors' setting);
- ``unpaired_independent``: the same phase 2 with x- and y-batches drawn independently;
- ``paired_long``: phase 1 continued on the pairs for as many AdamW steps as phase 2 takes (a
  control: is the gain from more data or from more optimisation?);
- ``closed_form``: the closed-form estimator from the n pairs alone (Lemma 2.1);
- ``matching``: global matching + closed-form refits (beyond the paper);
- ``oracle``: the true loadings as encoders (an accuracy ceiling);
- ``paired_only_reshuffled``, ``paired_unpaired_reshuffled``: a variant, the two phases with batches
  reshuffled every epoch instead of the authors' fixed blocks.

Batches: like the authors' notebook, both phases of the main methods cut the stored rows into the
same consecutive blocks of ``batch_size`` in every epoch (``batch_order="fixed"`` of
:mod:`mmcl_lib.training`); only the ``_reshuffled`` variant draws new batches every epoch.

:func:`summarise`, :func:`markdown_table` and :func:`plot_unpaired_summary` (every method in its
house look, :func:`mmcl_lib.book.unpaired_figures.method_look`) turn a list of runs into the
table and figure that ``experiments/reproduce_unpaired.py`` records and the chapter shows.

The full run is long, so :func:`reproduce` cuts it into independent units (:func:`run_unit`: per
seed a shared unit and one per N), runs them with ``joblib.Parallel`` and caches each with
``joblib.Memory`` (keyed by its arguments and the code), so a rerun after Ctrl-C computes only the
missing units and gives exactly the numbers of :func:`run_seed`; :func:`write_report` writes the
table, JSON and figure atomically.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import matplotlib.pyplot as plt

from .. import _validation as check
from ..data import LatentFactorModel
from ..spectral import closed_form_mmcl
from ..metrics import retrieval_accuracy, subspace_error
from ..training import AdamW, batch_slices, init_encoders, train_clip
from ..unpaired import matching_self_training, pair_scores, train_unpaired
from . import display
from . import progress as _progress
from .files import write_atomic
from .unpaired_figures import method_look

METHODS = ("paired_only", "paired_long", "paired_unpaired", "unpaired_independent", "closed_form",
           "matching", "oracle", "paired_only_reshuffled", "paired_unpaired_reshuffled")
LABELS = {
    "paired_only": "paired only (paper's recipe)",
    "paired_long": "paired only, as many steps as phase 2",
    "paired_unpaired": "paired + unpaired (paper, hidden-pair batches)",
    "unpaired_independent": "paired + unpaired, independent batches",
    "closed_form": "closed form, pairs only",
    "matching": "matching + closed-form refits",
    "oracle": "true encoders (oracle)",
    "paired_only_reshuffled": "variant: paired only, reshuffled batches",
    "paired_unpaired_reshuffled": "variant: paired + unpaired, reshuffled batches",
}
PAPER = dict(d1=40, d2=39, r=10, noise_std=0.3, n=300, n_test=10000, epochs=100, batch_size=50,
             lr=2e-3, tau=1.0)


N_FREE = ("paired_only", "paired_long", "closed_form", "oracle", "paired_only_reshuffled")
"""Methods computed once per seed (in the seed's shared unit); the others need an unpaired set per N."""
DETECTING = ("paired_unpaired", "unpaired_independent", "matching", "paired_unpaired_reshuffled")


@dataclass
class _Instance:
    """One seed's random instance: the model, the pairs, the test set and the phase-1 fits
    (``phase1``: the authors' fixed blocks; ``phase1_reshuffled``: the variant, or None)."""

    model: LatentFactorModel
    paired: object
    test: object
    phase1: object
    phase1_reshuffled: object

    def scores(self, G1, G2) -> tuple[float, float]:
        """Top-1 retrieval accuracy on the test pairs and sin-theta error of ``G1`` to ``U1``."""
        return retrieval_accuracy(G1, G2, self.test.X, self.test.Y), subspace_error(G1, self.model.U1)


def _check_methods(methods) -> tuple[str, ...]:
    methods = tuple(methods)
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"methods must be among {METHODS}, got {sorted(unknown)}")
    return methods


def _instance(seed: int, methods, d1, d2, r, noise_std, n, n_test, epochs, batch_size, lr, tau) -> _Instance:
    rng = np.random.default_rng([seed])
    model = LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise_std)
    paired, test = model.sample(n, rng), model.sample(n_test, rng)
    G1, G2 = init_encoders(d1, d2, r, rng)
    phase1 = train_clip(paired.X, paired.Y, G1, G2, rng=rng, epochs=epochs, batch_size=batch_size,
                        tau=tau, optimizer=AdamW(lr=lr), batch_order="fixed")
    variant = None
    if {"paired_only_reshuffled", "paired_unpaired_reshuffled"} & set(methods):
        variant = train_clip(paired.X, paired.Y, G1, G2, rng=np.random.default_rng([seed, 3]), epochs=epochs,
                             batch_size=batch_size, tau=tau, optimizer=AdamW(lr=lr), batch_order="reshuffled")
    return _Instance(model, paired, test, phase1, variant)


def _shared_part(inst: _Instance, seed: int, Ns, methods, *, r, n, epochs, batch_size, tau) -> tuple[dict, dict]:
    """Accuracy and feature error of the N-free methods; ``paired_long`` at phase 2's step count for each N."""
    acc, err = {}, {}
    fits = {"paired_only": lambda: (inst.phase1.G1, inst.phase1.G2),
            "paired_only_reshuffled": lambda: (inst.phase1_reshuffled.G1, inst.phase1_reshuffled.G2),
            "closed_form": lambda: closed_form_mmcl(inst.paired.X, inst.paired.Y, r),
            "oracle": lambda: (inst.model.U1.T, inst.model.U2.T)}
    for method, encoders in fits.items():
        if method in methods:
            acc[method], err[method] = inst.scores(*encoders())
    if "paired_long" in methods:
        def steps(rows):
            return len(batch_slices(rows, batch_size, "fixed"))

        extra = {epochs * steps(N) // steps(n): N for N in Ns}
        found = {}

        def checkpoint(epoch, A1, A2, infos):
            if epoch + 1 in extra:
                found[extra[epoch + 1]] = inst.scores(A1, A2)

        # one continued trajectory, evaluated at each N's step count (its first epochs do not
        # depend on how long it runs, so the value at N is the same for every grid containing N)
        train_clip(inst.paired.X, inst.paired.Y, inst.phase1.G1, inst.phase1.G2,
                   rng=np.random.default_rng([seed, 1]), epochs=max(extra), batch_size=batch_size, tau=tau,
                   optimizer=copy.deepcopy(inst.phase1.optimizer), callback=checkpoint, batch_order="fixed")
        acc["paired_long"] = [found[N][0] for N in Ns]
        err["paired_long"] = [found[N][1] for N in Ns]
    return acc, err


PHASE_TWO = {"paired_unpaired": ("hidden_pairs", "fixed"), "unpaired_independent": ("independent", "fixed"),
             "paired_unpaired_reshuffled": ("hidden_pairs", "reshuffled")}
"""The phase-2 methods: (``batching``, ``batch_order``) of :func:`mmcl_lib.unpaired.train_unpaired`."""


def _unpaired_part(inst: _Instance, seed: int, N: int, methods, *, r, epochs, batch_size, tau,
                   rounds, threshold) -> tuple[dict, dict, dict]:
    """Accuracy, feature error and detection (precision, recall) of the methods that use N unpaired samples."""
    acc, err, det = {}, {}, {}
    unp = inst.model.sample_unpaired(N, np.random.default_rng([seed, N]))
    # the arrays row-aligned by the hidden pairing, as the authors' generator stores them; with
    # hidden-pair batches the loss still never sees which y of a batch belongs to which x, and
    # independent batching draws the y's in an order of its own
    Y_aligned = unp.Y[unp.hidden_partner]
    for method, (batching, order) in PHASE_TWO.items():
        if method not in methods:
            continue
        start = inst.phase1_reshuffled if order == "reshuffled" else inst.phase1
        last = []
        fit = train_unpaired(unp.X, Y_aligned, start.G1, start.G2,
                             rng=np.random.default_rng([seed, N, 2 if order == "fixed" else 3]),
                             epochs=epochs, batch_size=batch_size, tau=tau, batching=batching, batch_order=order,
                             optimizer=copy.deepcopy(start.optimizer),
                             callback=lambda e, A1, A2, i, j: last.append((i, j)) if e == epochs - 1 else None)
        acc[method], err[method] = inst.scores(fit.G1, fit.G2)
        det[method] = list(pair_scores(*last[-1], np.arange(N)))
    if "matching" in methods:
        res = matching_self_training(inst.paired.X, inst.paired.Y, unp.X, unp.Y, r, rounds=rounds,
                                     threshold=threshold)
        acc["matching"], err["matching"] = inst.scores(res.G1, res.G2)
        det["matching"] = list(pair_scores(*res.pairs, unp.hidden_partner))
    return acc, err, det


def _settings(d1, d2, r, noise_std, n, n_test, epochs, batch_size, lr, tau, rounds, threshold) -> dict:
    return dict(d1=d1, d2=d2, r=r, noise_std=noise_std, n=n, n_test=n_test, epochs=epochs,
                batch_size=batch_size, lr=lr, tau=tau, rounds=rounds, threshold=threshold)


def _split(settings: dict) -> tuple[dict, dict, dict]:
    """The settings of the instance, of the shared part and of the unpaired part."""
    inst = {k: settings[k] for k in ("d1", "d2", "r", "noise_std", "n", "n_test", "epochs", "batch_size",
                                     "lr", "tau")}
    shared = {k: settings[k] for k in ("r", "n", "epochs", "batch_size", "tau")}
    unpaired = {k: settings[k] for k in ("r", "epochs", "batch_size", "tau", "rounds", "threshold")}
    return inst, shared, unpaired


def run_seed(seed: int, Ns, *, d1: int = 40, d2: int = 39, r: int = 10, noise_std: float = 0.3,
             n: int = 300, n_test: int = 10000, epochs: int = 100, batch_size: int = 50,
             lr: float = 2e-3, tau: float = 1.0, rounds: int = 3, threshold: float = 0.8,
             methods=METHODS) -> dict:
    """All methods on one random instance (one model, pairs and test set; one unpaired set per N).

    Defaults are the paper's settings (the paper's Section 5.1). Randomness: ``default_rng([seed])`` for
    the instance and phase 1, ``default_rng([seed, N])`` for the unpaired set and phase 2, so a
    run does not depend on the grid it belongs to. The same numbers come from the units of
    :func:`run_unit` put together with :func:`combine_units` (what the resumable
    :func:`reproduce` does).

    Returns ``{"seed", "N", "accuracy": {method: list over N (or a float for N-free methods)},
    "feature_error": {the same layout}, "detection": {method: list over N of (precision, recall) of
    the last epoch/round}}``.
    """
    Ns = [check.integer(N, "N", low=2) for N in Ns]
    methods = _check_methods(methods)
    settings = _settings(d1, d2, r, noise_std, n, n_test, epochs, batch_size, lr, tau, rounds, threshold)
    inst_s, shared_s, unpaired_s = _split(settings)
    inst = _instance(seed, methods, **inst_s)
    acc, err = _shared_part(inst, seed, Ns, methods, **shared_s)
    units = [{"seed": seed, "N": None, "accuracy": acc, "feature_error": err, "detection": {}}]
    for N in Ns:
        acc, err, det = _unpaired_part(inst, seed, N, methods, **unpaired_s)
        units.append({"seed": seed, "N": N, "accuracy": acc, "feature_error": err, "detection": det})
    return combine_units(seed, Ns, units, methods)


def run_unit(seed: int, N: int | None, Ns, *, methods=METHODS, **settings) -> dict:
    """One unit of work of the Section 5.1 experiment: a seed's shared part (``N=None``) or one N.

    The shared unit holds the N-free methods (``N_FREE``; ``paired_long`` evaluated at the step
    count of every N in ``Ns``); the unit of one N holds the methods that train on an unpaired set
    of N samples, with their detection precision and recall. Each unit recomputes the seed's
    instance and phase 1 (cheap next to phase 2), so units are independent and can run in any
    order, in any process. Settings as in :func:`run_seed`. Returns a JSON-ready dict
    ``{"seed", "N", "accuracy": {...}, "feature_error": {...}, "detection": {...}}``.
    """
    Ns = [check.integer(v, "Ns", low=2) for v in Ns]
    methods = _check_methods(methods)
    full = dict(PAPER, rounds=3, threshold=0.8)
    unknown = set(settings) - set(full)
    if unknown:
        raise ValueError(f"settings must be among {sorted(full)}, got {sorted(unknown)}")
    full.update(settings)
    inst_s, shared_s, unpaired_s = _split(full)
    inst = _instance(seed, methods, **inst_s)
    if N is None:
        acc, err = _shared_part(inst, seed, Ns, methods, **shared_s)
        return {"seed": seed, "N": None, "accuracy": acc, "feature_error": err, "detection": {}}
    N = check.integer(N, "N", low=2)
    acc, err, det = _unpaired_part(inst, seed, N, methods, **unpaired_s)
    return {"seed": seed, "N": N, "accuracy": acc, "feature_error": err, "detection": det}


def combine_units(seed: int, Ns, units, methods=METHODS) -> dict:
    """Put one seed's units (:func:`run_unit`, any order) together into the dict :func:`run_seed` returns."""
    Ns = list(Ns)
    by_N = {unit["N"]: unit for unit in units if unit["seed"] == seed}
    missing = [N for N in [None, *Ns] if N not in by_N]
    if missing:
        raise ValueError(f"units must hold the shared unit (N=None) and every N of Ns for seed {seed}; "
                         f"missing {missing}")
    out = {"seed": seed, "N": Ns}
    for quantity in ("accuracy", "feature_error"):
        out[quantity] = {m: by_N[None][quantity][m] if m in N_FREE else [by_N[N][quantity][m] for N in Ns]
                         for m in methods}
    out["detection"] = {m: [list(by_N[N]["detection"][m]) for N in Ns] for m in DETECTING if m in methods}
    return out


def summarise(runs: list[dict]) -> dict:
    """Per method and N: mean, standard deviation, min and max over seeds of the accuracy
    (``"methods"``) and of the feature error (``"feature_error"``), and the mean detection precision."""
    if not runs:
        raise ValueError("runs must hold at least one run of run_seed")
    Ns = runs[0]["N"]
    out = {"N": Ns, "seeds": [run["seed"] for run in runs]}
    for quantity, key in (("accuracy", "methods"), ("feature_error", "feature_error")):
        out[key] = {}
        for method in runs[0][quantity]:
            A = np.array([np.broadcast_to(run[quantity][method], (len(Ns),)) for run in runs])
            out[key][method] = {"mean": A.mean(0).tolist(), "std": A.std(0, ddof=1 if len(runs) > 1 else 0).tolist(),
                                "min": A.min(0).tolist(), "max": A.max(0).tolist()}
    out["detection_precision"] = {m: np.mean([[p for p, _ in run["detection"][m]] for run in runs], 0).tolist()
                                  for m in runs[0]["detection"]}
    return out


def _table_cells(summary: dict, Ns, key: str):
    cols = summary["N"] if Ns is None else list(Ns)
    idx = [summary["N"].index(N) for N in cols]
    header = ["method"] + [f"N = {N}" for N in cols]
    rows = [[LABELS[method]] + [f"{s['mean'][k]:.3f} ± {s['std'][k]:.3f}" for k in idx]
            for method, s in summary[key].items()]
    return header, rows


def markdown_table(summary: dict, Ns=None, *, key: str = "methods") -> str:
    """A Markdown table: one row per method, one column per N (all, or ``Ns``), cells ``mean ± sd``
    of the accuracy (``key="methods"``) or of the feature error (``key="feature_error"``)."""
    header, rows = _table_cells(summary, Ns, key)
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


PANELS = (("the paper's recipe and its controls",
           ("paired_only", "paired_long", "unpaired_independent", "paired_only_reshuffled",
            "paired_unpaired")),
          ("batch order and closed-form references",
           ("paired_unpaired", "paired_unpaired_reshuffled", "closed_form", "matching", "oracle")))
"""The two panels of :func:`plot_unpaired_summary`: title and methods of each (in drawing order)."""


def plot_unpaired_summary(summary: dict, *, title: str | None = None):
    """Chapter 5's accuracy against N per method (mean, band of one standard deviation).

    Two panels stacked, sharing both axes: (a) the paper's recipe (paired only, paired +
    unpaired) with its controls (as many steps on the pairs, independent batches, the
    reshuffled-batches variant of phase 1); (b) paired + unpaired with its reshuffled variant
    against the closed form, the matching variant and the true encoders. Every method in its
    house look (:func:`mmcl_lib.book.unpaired_figures.method_look`); methods missing from
    ``summary`` are skipped. Ticks at the values of N (every other one beyond six), the
    independent-batches line (near 0) labelled at its left end, one legend per panel in the
    free space below the curves.
    """
    Ns = np.asarray(summary["N"], dtype=float)
    fig, axes = display.subplots(2, 1, height=7.0, sharex=True, sharey=True)
    for ax, (panel_title, methods) in zip(axes, PANELS):
        for method in methods:
            if method not in summary["methods"]:
                continue
            s = summary["methods"][method]
            kw = method_look(method)
            mean, std = np.asarray(s["mean"], dtype=float), np.asarray(s["std"], dtype=float)
            if mean.size == 1:
                mean, std = np.full(Ns.size, mean[0]), np.full(Ns.size, std[0])
            if method == "unpaired_independent":
                kw["label"] = None
                ax.annotate("independent batches", (Ns[0], mean[0]), xytext=(0, 6),
                            textcoords="offset points", ha="left", color=kw["color"])
            ax.plot(Ns, mean, zorder=3, **kw)
            display.band(ax, Ns, mean - std, mean + std, color=kw["color"], alpha=0.15)
        ax.set(title=panel_title, ylabel="top-1 accuracy")
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.12))
    ticks = Ns if Ns.size <= 6 else Ns[1::2]              # evenly spaced N: every other tick
    axes[-1].set_xticks(ticks, [f"{int(N)}" for N in ticks])
    axes[-1].set(xlabel="number of unpaired samples N", ylim=(-0.04, 0.72))
    if title:
        fig.suptitle(title)
    return fig


# --- the resumable full run (experiments/reproduce_unpaired.py), on joblib ------------------------

class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM in the script) during :func:`reproduce`; the finished units are stored.

    ``done`` and ``total`` count the units, ``folder`` is the joblib cache that holds them.
    """

    def __init__(self, done: int, total: int, folder: Path):
        super().__init__(f"interrupted with {done} of {total} units stored in {folder}")
        self.done, self.total, self.folder = done, total, folder


@dataclass
class Reproduction:
    """What :func:`reproduce` returns: the runs (as :func:`run_seed` would give them) and how they were made.

    ``computed`` and ``reused`` count the units this call ran and the ones it found in the cache;
    ``timing`` holds this call's wall time and the wall and CPU time of every unit (stored with it).
    """

    runs: list[dict]
    seeds: list[int]
    Ns: list[int]
    settings: dict
    methods: tuple[str, ...]
    folder: Path
    computed: int
    reused: int
    timing: dict


def code_digest() -> str:
    """SHA-256 of the core library's source, this module and NumPy's version.

    Passed to every cached unit as an argument, so a stored unit never outlives the code or the
    NumPy that made it (joblib itself only watches the cached function's own source).
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(np.__version__.encode() + b"\0")
    for path in sorted(root.glob("*.py")) + [Path(__file__).resolve()]:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _unit(seed: int, N: int | None, Ns: list, methods: tuple, settings: dict, code: str) -> dict:
    """One unit (:func:`run_unit`) with its wall and CPU seconds; ``code`` is only part of the cache key."""
    wall, cpu = time.perf_counter(), time.process_time()
    unit = run_unit(seed, N, Ns, methods=methods, **settings)
    unit["seconds"] = time.perf_counter() - wall
    unit["cpu_seconds"] = time.process_time() - cpu
    return unit


def _recompute(cached, *args) -> dict:
    return cached.call(*args)[0]     # run and overwrite the stored result (--fresh)


def reproduce(seeds, Ns, cache, *, jobs: int = 1, fresh: bool = False, progress: bool | None = None,
              methods=METHODS, **settings) -> Reproduction:
    """Run the Section 5.1 experiment unit by unit with joblib, caching each unit, reusing cached ones.

    Parameters
    ----------
    seeds, Ns : the seeds and the grid of N (as for :func:`run_seed`).
    cache : folder of a ``joblib.Memory``; each unit (the seed's shared unit and one per N, see
        :func:`run_unit`) is stored there as soon as it finishes, keyed by its arguments (seed, N,
        the grid, the methods, every setting) and the code (:func:`code_digest`). joblib writes
        each result to a temporary file and renames it. A second call runs only the missing units;
        other settings or edited code get other keys, so results never mix.
    jobs : parallel workers, ``joblib.Parallel(n_jobs=jobs)``; 1 runs in this process. The backend
        is joblib's default (loky processes) unless the caller sets one with
        ``joblib.parallel_config(backend=...)`` (for example ``"dask"`` or ``"ray"`` on a cluster).
    fresh : recompute every unit of these settings (overwriting the stored ones).
    progress : a ``tqdm.auto`` bar over the units (True / False; None: only at ``MMCL_SCALE=paper``).
    methods, settings : as for :func:`run_seed`.

    On Ctrl-C the workers are ended, the finished units stay cached, and :class:`Interrupted`
    (a ``KeyboardInterrupt``) is raised. The runs are the same numbers :func:`run_seed` gives,
    whatever the interruptions, the number of jobs and the order in which units finish.
    """
    seeds = [check.integer(s, "seeds", low=0) for s in seeds]
    Ns = [check.integer(N, "Ns", low=2) for N in Ns]
    if not seeds or len(set(seeds)) != len(seeds) or not Ns or len(set(Ns)) != len(Ns):
        raise ValueError("seeds and Ns must be non-empty lists of distinct values")
    jobs = check.integer(jobs, "jobs")
    methods = _check_methods(methods)
    full = dict(PAPER, rounds=3, threshold=0.8)
    unknown = set(settings) - set(full)
    if unknown:
        raise ValueError(f"settings must be among {sorted(full)}, got {sorted(unknown)}")
    full.update(settings)
    folder = Path(cache)
    cached = joblib.Memory(folder, verbose=0).cache(_unit)
    code = code_digest()
    args = {(seed, N): (seed, N, Ns, methods, full, code) for seed in seeds for N in [None, *Ns]}
    found = {} if fresh else {u: cached(*a) for u, a in args.items() if cached.check_call_in_cache(*a)}
    reused = len(found)
    todo = [u for u in args if u not in found]
    tasks = (joblib.delayed(_recompute)(cached, *args[u]) if fresh else joblib.delayed(cached)(*args[u])
             for u in todo)
    start = time.perf_counter()
    with _progress.bar(total=len(args), initial=reused, desc="Section 5.1 units", unit="unit",
                       progress=progress) as shown:
        try:
            if todo:
                for unit in joblib.Parallel(n_jobs=min(jobs, len(todo)), return_as="generator_unordered")(tasks):
                    found[unit["seed"], unit["N"]] = unit
                    shown.set_postfix(seed=unit["seed"], N="shared" if unit["N"] is None else unit["N"],
                                      refresh=False)
                    shown.update()
        except KeyboardInterrupt:
            done = sum(cached.check_call_in_cache(*a) for a in args.values())
            raise Interrupted(done, len(args), folder) from None
    runs = [combine_units(seed, Ns, [found[seed, N] for N in [None, *Ns]], methods) for seed in seeds]
    units = [found[u] for u in args]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    timing = {"wall_time_s": time.perf_counter() - start,
              "cpu_time_s": sum(u.get("cpu_seconds", 0.0) for u in units),
              "unit_wall_time_s": sum(u.get("seconds", 0.0) for u in units),
              "units_computed": len(todo), "units_reused": reused, "jobs": jobs, "cores": os.cpu_count(),
              "load_average_end": load, "python": platform.python_version(), "joblib": joblib.__version__}
    return Reproduction(runs, seeds, Ns, full, methods, folder, len(todo), reused, timing)


def report_files(rep: Reproduction, command: str) -> dict[str, str | bytes]:
    """The recorded results of a :class:`Reproduction`: ``unpaired_table.md``, ``unpaired_runs.json``
    and ``unpaired.png``, as ``{file name: content}``.

    The table and the figure depend only on the settings and the runs (byte-identical whether the
    run was interrupted and resumed or not); the JSON adds the timing of the run
    (``wall_time_s``, ``cpu_time_s`` and ``timing``), which is the only part that varies.
    """
    summary = summarise(rep.runs)
    Ns = rep.Ns
    s = rep.settings
    header = (f"# Value of unpaired data: reproduction of section 5.1\n\n"
              f"Command: `{command}`  \n"
              f"Settings: {', '.join(f'{k} = {s[k]}' for k in PAPER)}; seeds "
              f"{', '.join(map(str, rep.seeds))}; matching: {s['rounds']} rounds, cosine threshold "
              f"{s['threshold']}.  \n"
              f"Batches: the authors' fixed consecutive blocks in both phases; the rows marked \"variant\" "
              f"reshuffle the batches every epoch.  \n"
              f"Cells: top-1 retrieval accuracy, mean ± standard deviation over {len(rep.seeds)} seeds. "
              f"Wall and CPU time, and the machine load: `unpaired_runs.json` (`timing`).\n\n")
    det = "\n".join(f"| {m} | " + " | ".join(f"{p:.3f}" for p in v) + " |"
                    for m, v in summary["detection_precision"].items())
    det_table = ("\n\nDetection precision of the last epoch / round (mean over seeds):\n\n"
                 "| method | " + " | ".join(f"N = {N}" for N in Ns) + " |\n|---|" + "---|" * len(Ns) + "\n" + det)
    err_table = ("\n\nFeature error (sin-theta distance of the modality-1 encoder to U1), mean ± standard "
                 "deviation over seeds:\n\n" + markdown_table(summary, key="feature_error"))
    table = header + markdown_table(summary) + det_table + err_table + "\n"
    record = {"command": command, "wall_time_s": rep.timing["wall_time_s"], "cpu_time_s": rep.timing["cpu_time_s"],
              "timing": rep.timing, "settings": rep.settings, "methods": list(rep.methods), "runs": rep.runs,
              "summary": summary}
    png = io.BytesIO()
    with plt.rc_context(display.HOUSE_STYLE):
        fig = plot_unpaired_summary(summary, title=f"Section 5.1 reproduction ({len(rep.seeds)} seeds, band = ± 1 sd)")
        fig.savefig(png, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return {"unpaired_table.md": table, "unpaired_runs.json": json.dumps(record, indent=1) + "\n",
            "unpaired.png": png.getvalue()}


def write_report(rep: Reproduction, command: str, out) -> list[Path]:
    """Write :func:`report_files` into the folder ``out``, each file atomically (``files.write_atomic``)."""
    return [write_atomic(Path(out) / name, content) for name, content in report_files(rep, command).items()]
