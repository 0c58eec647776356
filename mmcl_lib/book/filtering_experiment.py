"""Experiments and figures of Chapter 8 (``ch-filtering``): filtering noisy pairs with a teacher.

The filters, scores and population formulas live in :mod:`mmcl_lib.filtering`; this module draws the
chapter's data, loops over seeds and parameters, fits the rates and draws the figures. Sizes come from
:func:`sizes` (``MMCL_SCALE``: the default scale runs in a few seconds per experiment).

- Setting: :data:`SETTINGS` (the paper's Section 7: d1 = 10, d2 = 8, r = 4, noise std 0.01, i.e.
  gamma = 10^4), :func:`paper_model`, :func:`corrupted_pairs`.
- The three rates: :func:`rates_run` (one sample, every method), :func:`rates_sweep`,
  :func:`rate_fits` (log-log slopes and flat constants with their uncertainty over seeds),
  :func:`switch_point` (where the filtered curve leaves the 1/sqrt(eta) line), :func:`predicted_rates`
  (first-order predictions), and the figures :func:`plot_rates`, :func:`plot_scaled`.
- The paper's Table 1: :func:`table1_run`, :func:`table1`, :func:`table1_table`, :data:`PAPER_TABLE1`.
- Score laws: :func:`score_sample`, :func:`plot_score_histograms`.
- The teacher at low and high signal-to-noise: :func:`teacher_snr_run`, :func:`teacher_snr`.
- Where it breaks: :func:`heteroskedastic_bias`, :func:`heteroskedastic_run`, :func:`plot_heteroskedastic`,
  :func:`small_teacher_run`, :func:`plot_small_teacher`.
- The interactive figure: :func:`demo_run`, :func:`demo_figure`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import NullLocator

from .. import _validation as check
from .. import baselines, data, filtering, spectral
from ..metrics import sin_theta, subspace_error
from . import display, scale, style
from .sweep import SweepResult, loglog_slope, sweep

SETTINGS = {"d1": 10, "d2": 8, "r": 4, "noise": 0.01}
"""The paper's synthetic setting (Section 7 and Appendix H): gamma = gamma~ = 10^4."""

# method key -> (key of mmcl_lib.book.style.METHODS, legend label in this chapter): one colour per
# filter (the house look), and the threshold told apart by marker and line style
LOOKS = {
    "none": ("no_filter", "no filtering"),
    "teacher_0": ("teacher_filter", r"teacher, $\theta = 0$"),
    "teacher_half": ("teacher_filter_half", r"teacher, $\theta = r/2$"),
    "oracle_0": ("true_loading_filter", r"true loadings, $\theta = 0$"),
    "oracle_half": ("true_loading_filter_half", r"true loadings, $\theta = r/2$"),
    "clean": ("clean_only", "clean pairs only"),
}
STYLE = {key: (label, style.METHODS[name].color, style.METHODS[name].marker, style.METHODS[name].linestyle)
         for key, (name, label) in LOOKS.items()}
"""method key -> (legend label, colour, marker, line style), from the house looks."""
CLEAN_COLOUR, CORRUPTED_COLOUR = "#56B4E9", "#E69F00"     # the two kinds of pair (Okabe-Ito)
TEACHER_ALONE_COLOUR = "#CC79A7"                            # a teacher's own error (not a filter)
METHODS = tuple(STYLE)

PAPER_TABLE1 = {0.01: (28.76, 4.00), 0.1: (11.79, 1.20), 0.2: (9.85, 1.39), 0.3: (9.08, 1.15),
                0.4: (8.97, 1.09), 0.5: (8.71, 1.05), 1.0: (16.51, 2.03)}
"""The paper's Table 1 (Appendix H): kept fraction -> (mean, sd) of ERR in units of 10^-4
(n = 10^4, eta = 0.3, the setting of :data:`SETTINGS`)."""


def sizes() -> dict:
    """Experiment sizes at the current scale (``MMCL_SCALE``), read when called."""
    return {
        "rates_n": scale.pick(50_000, quick=5_000, paper=200_000),
        "rates_etas": scale.pick(list(np.geomspace(1, 1e-3, 10)), quick=[1.0, 0.3, 0.1, 0.01, 0.003],
                                 paper=list(np.geomspace(1, 1e-3, 13))),
        "rates_seeds": scale.pick(4, quick=2, paper=20),
        "table1_seeds": scale.pick(30, quick=3, paper=100),
        "snr_n": scale.pick([20_000, 50_000], quick=[5_000], paper=[20_000, 100_000, 500_000]),
        "snr_seeds": scale.pick(4, quick=2, paper=10),
        "hetero_ratios": scale.pick([1, 3, 10, 30, 100], quick=[1, 10], paper=[1, 2, 3, 5, 10, 30, 100]),
        "hetero_n": scale.pick([10_000, 100_000], quick=[5_000], paper=[10_000, 100_000, 1_000_000]),
        "hetero_seeds": scale.pick(3, quick=1, paper=10),
        "draws": scale.pick(50_000, quick=5_000, paper=1_000_000),
        "teacher_sizes": scale.pick([10, 30, 100, 300, 1000, 10_000], quick=[10, 1000],
                                    paper=[8, 10, 20, 30, 50, 100, 300, 1000, 3000, 10_000]),
        "teacher_n": scale.pick(50_000, quick=5_000, paper=200_000),
        "teacher_seeds": scale.pick(5, quick=2, paper=20),
        "demo": scale.pick({"eta": [0.3, 0.1, 0.03], "fraction": [0.05, 0.1, 0.3, 0.5, 1.0],
                            "noise": [0.01, 0.3, 1.0]},
                           quick={"eta": [0.1, 0.03], "fraction": [0.1, 1.0], "noise": [0.01, 1.0]}),
    }


def paper_model(rng: np.random.Generator, *, d1: int = 10, d2: int = 8, r: int = 4,
                noise: float = 0.01) -> data.LatentFactorModel:
    """Haar loadings, ``Sigma_z = I`` and isotropic noise of standard deviation ``noise`` in both modalities."""
    return data.LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise, noise_std2=noise)


def corrupted_pairs(model: data.LatentFactorModel, n: int, eta: float,
                    rng: np.random.Generator) -> data.PairedSample:
    """n pairs of the paper's corruption model: each clean with probability ``eta`` (Bernoulli coins)."""
    return model.sample(n, rng, eta=eta, clean_count="binomial")


def _errors(G1, G2, model) -> tuple[float, float]:
    """(the paper's ERR: worse modality, the book's metric: modality 1)."""
    return filtering.max_modality_error(G1, G2, model.U1, model.U2), subspace_error(G1, model.U1)


def _fit(method: str, sample, model, *, split: bool):
    """Student encoders of one method, or ``None`` if it kept too few pairs to fit."""
    r = model.r
    half = r / 2
    try:
        if method == "none":
            return spectral.closed_form_mmcl(sample.X, sample.Y, r)
        if method == "clean":
            res = filtering.clean_only(sample.X, sample.Y, r, sample.matched)
        elif method.startswith("teacher"):
            res = filtering.train_filter_train(sample.X, sample.Y, r, split=split,
                                               threshold=0.0 if method == "teacher_0" else half)
        else:
            res = filtering.true_loading_filter(sample.X, sample.Y, r, model.U1, model.U2,
                                                threshold=0.0 if method == "oracle_0" else half)
    except ValueError as err:                   # e.g. fewer than r + 1 clean pairs at tiny eta
        if "kept" in str(err):
            return None
        raise
    return res.G1, res.G2


def rates_run(rng: np.random.Generator, *, eta: float, n: int, d1: int = 10, d2: int = 8, r: int = 4,
              noise: float = 0.01, split: bool = False, methods: Sequence[str] = METHODS) -> dict[str, float]:
    """Errors of every method on one fresh model and corrupted sample (Chapter 8's rates).

    Keys ``<method>`` (the paper's ERR, the worse modality) and ``<method>_m1`` (modality 1, the
    book's metric) for each of :data:`METHODS`; NaN where a filter kept fewer than r + 1 pairs.
    Teachers are trained on all n pairs (``split=False``, as the paper's experiments apparently do)
    or on the first half (``split=True``, Algorithm 1).
    """
    model = paper_model(rng, d1=d1, d2=d2, r=r, noise=noise)
    sample = corrupted_pairs(model, n, eta, rng)
    out = {}
    for method in methods:
        check.one_of(method, METHODS, "method")
        G = _fit(method, sample, model, split=split)
        out[method], out[method + "_m1"] = (math.nan, math.nan) if G is None else _errors(*G, model)
    return out


def rates_sweep(*, n: int | None = None, etas: Sequence[float] | None = None, seeds: int | None = None,
                split: bool = False, **settings) -> SweepResult:
    """:func:`rates_run` over a grid of eta and seeds (sizes from :func:`sizes` unless given)."""
    size = sizes()
    n = size["rates_n"] if n is None else n
    etas = size["rates_etas"] if etas is None else etas
    seeds = size["rates_seeds"] if seeds is None else seeds
    opts = {**SETTINGS, **settings}
    return sweep(lambda rng, eta: rates_run(rng, eta=eta, n=n, split=split, **opts), {"eta": list(etas)}, seeds)


SCALINGS = {"eta_sqrt_n": "error x eta sqrt(n)", "sqrt_eta_n": "error x sqrt(eta n)", "sqrt_n": "error x sqrt(n)"}


def scaled(errors, etas, n: int, scaling: str) -> np.ndarray:
    """``errors`` (eta along the first axis) times the factor that makes a rate flat.

    ``eta_sqrt_n``: no filtering (1/(eta sqrt(n))); ``sqrt_eta_n``: clean pairs only and filtering at
    large eta (1/sqrt(eta n)); ``sqrt_n``: filtering at small eta (1/sqrt(n)).
    """
    check.one_of(scaling, SCALINGS, "scaling")
    eta = np.asarray(etas, dtype=float).reshape((-1,) + (1,) * (np.ndim(errors) - 1))
    factor = {"eta_sqrt_n": eta * math.sqrt(n), "sqrt_eta_n": np.sqrt(eta * n), "sqrt_n": math.sqrt(n)}
    return np.asarray(errors, dtype=float) * factor[scaling]


def seed_slopes(x, values) -> np.ndarray:
    """Log-log slope of ``values[:, s]`` against ``x`` for each seed s (columns with a NaN are skipped;
    empty with fewer than two points)."""
    values = np.asarray(values, dtype=float)
    if np.size(x) < 2:
        return np.array([])
    return np.array([loglog_slope(x, values[:, s]) for s in range(values.shape[1])
                     if np.all(np.isfinite(values[:, s]))])


def mean_se(values) -> tuple[float, float]:
    """Mean and standard error (sd / sqrt(count), ddof = 1) of the finite values (NaN if there are none)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan


def rate_fits(result: SweepResult, n: int, regimes: Mapping[str, tuple], *, metric: str = "") -> dict:
    """Slopes in eta and flat constants of chosen methods over chosen eta ranges, with standard errors.

    ``regimes`` maps a name to ``(method, scaling, eta_low, eta_high)``: over the grid points with
    ``eta_low <= eta <= eta_high`` it fits one log-log slope of the error against eta per seed, and
    averages the scaled error (:func:`scaled`) per seed. Returns ``{name: {"slope": (mean, se),
    "constant": (mean, se), "rms": root mean square of the scaled errors (to compare with a first-order
    RMS prediction), "etas": [...], "seeds": k}}``; ``metric=""`` is the paper's ERR, ``"_m1"`` modality 1.
    """
    etas = np.asarray(result.grid["eta"], dtype=float)
    out = {}
    for name, (method, scaling, low, high) in regimes.items():
        pick = (etas >= low * (1 - 1e-9)) & (etas <= high * (1 + 1e-9))
        errs = result[method + metric][pick]
        slopes = seed_slopes(etas[pick], errs)
        values = scaled(errs, etas[pick], n, scaling)
        out[name] = {"method": method, "scaling": scaling, "etas": etas[pick].tolist(),
                     "slope": mean_se(slopes), "constant": mean_se(np.nanmean(values, axis=0)),
                     "rms": float(np.sqrt(np.nanmean(values**2))), "seeds": int(slopes.size)}
    return out


def switch_point(result: SweepResult, method: str, plateau: tuple[float, float], *, metric: str = "_m1",
                 boot: int = 2000, seed: int = 0) -> dict:
    """Where the filtered curve switches from the 1/sqrt(eta) line to the eta-free plateau.

    The large-eta asymptote is ``ERR(eta_max) sqrt(eta_max / eta)`` (``eta_max`` the largest eta of
    the grid, normally 1), the plateau the mean error over the grid points with
    ``plateau[0] <= eta <= plateau[1]`` (for a teacher: above the eta where it breaks); they cross at
    ``eta_x = eta_max (ERR(eta_max) / plateau)^2``. The standard error comes from resampling seeds
    (``boot`` bootstrap draws). Returns ``{"eta_x", "se", "plateau", "large"}``.
    """
    etas = np.asarray(result.grid["eta"], dtype=float)
    top = int(np.argmax(etas))
    errs = result[method + metric]
    low = (etas >= plateau[0] * (1 - 1e-9)) & (etas <= plateau[1] * (1 + 1e-9))

    def crossing(cols):
        large, flat = np.nanmean(errs[top, cols]), np.nanmean(errs[low][:, cols])
        return etas[top] * (large / flat) ** 2, large, flat

    eta_x, large, flat = crossing(np.arange(errs.shape[1]))
    rng = np.random.default_rng(seed)
    draws = [crossing(rng.integers(0, errs.shape[1], errs.shape[1]))[0] for _ in range(boot)]
    return {"eta_x": float(eta_x), "se": float(np.std(draws, ddof=1)), "plateau": float(flat),
            "large": float(large)}


def predicted_switch(r: int, noise: float = 0.01) -> dict:
    """The switch eta_x of the first-order error at theta = 0 (derived here), and the two simple guesses.

    ``first_order``: ``m_r^2 (1 + s^2)^2 / (pi r^2)`` with ``m_r = E chi_r``: the asymptote through the
    error at eta = 1 (unfiltered) meets the eta -> 0 plateau of :func:`mmcl_lib.filtering.filtered_first_order_error`.
    ``one_over_pi_r``: its large-r form 1/(pi r); ``one_over_r2``: the switch of the paper's bound
    (Theorem 1), 1/r^2.
    """
    r = check.integer(r, "r")
    m_r = math.sqrt(2) * math.exp(math.lgamma((r + 1) / 2) - math.lgamma(r / 2))
    return {"first_order": m_r**2 * (1 + noise**2) ** 2 / (math.pi * r**2),
            "one_over_pi_r": 1 / (math.pi * r), "one_over_r2": 1 / r**2}


def predicted_rates(etas: Sequence[float], n: int, *, d1: int = 10, d2: int = 8, r: int = 4,
                    noise: float = 0.01, draws: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """First-order RMS errors of modality 1 against eta (derived here), for the book's metric.

    ``none``: :func:`mmcl_lib.baselines.mmcl_first_order_error`; ``clean``: the same with the
    ``eta n`` clean pairs at eta = 1; ``oracle_0`` and ``oracle_half``:
    :func:`mmcl_lib.filtering.filtered_first_order_error` at thresholds 0 and r/2. (The errors only
    depend on the loadings through d1, d2 and r, so any Haar draw will do.)
    """
    draws = sizes()["draws"] if draws is None else draws
    rng = np.random.default_rng(seed)
    model = paper_model(rng, d1=d1, d2=d2, r=r, noise=noise)
    out = {key: [] for key in ("none", "clean", "oracle_0", "oracle_half")}
    for eta in etas:
        out["none"].append(baselines.mmcl_first_order_error(model, n, eta))
        out["clean"].append(baselines.mmcl_first_order_error(model, max(2, round(eta * n)), 1.0))
        for key, theta in (("oracle_0", 0.0), ("oracle_half", r / 2)):
            out[key].append(filtering.filtered_first_order_error(model, n, eta, rng, threshold=theta,
                                                                 draws=draws)[0])
    return {key: np.array(v) for key, v in out.items()}


def _look(method: str, **overrides) -> dict:
    """``ax.plot`` keyword arguments of a method of :data:`METHODS` (its house look, this chapter's label)."""
    label, color, marker, ls = STYLE[method]
    return {"label": label, "color": color, "marker": marker, "ls": ls, **overrides}


def _band(ax, x, vals, method: str, **overrides):
    """Mean over seeds (columns) with a 10-90 % band, only at the x where every seed is finite."""
    vals = np.asarray(vals, dtype=float)
    ok = np.all(np.isfinite(vals), axis=1)
    return display.line_with_band(ax, np.asarray(x)[ok], vals[ok].mean(axis=1), np.quantile(vals[ok], 0.1, axis=1),
                                  np.quantile(vals[ok], 0.9, axis=1), **_look(method, **overrides))


def plot_rates(result: SweepResult, n: int, *, metric: str = "_m1", predicted: Mapping | None = None,
               methods: Sequence[str] = METHODS):
    """Chapter 8, ``fig-filtering-rates``: error against eta (log-log) for every method.

    Lines: the mean over seeds with a 10-90 % band; dotted black: first-order predictions
    (:func:`predicted_rates`, modality 1) when given. The legend sits below the axes.
    """
    etas = np.asarray(result.grid["eta"], dtype=float)
    fig, ax = display.subplots(height=5.6)
    for method in methods:
        _band(ax, etas, result[method + metric], method)
    for key, values in (predicted or {}).items():
        ax.plot(etas, values, color="k", ls=":", lw=1.2, label="first order" if key == "none" else None)
    display.log_ticks(ax, "both")
    ax.invert_xaxis()
    name = "modality 1" if metric == "_m1" else "worse modality"
    ax.set(xlabel=r"fraction of clean pairs $\eta$", ylabel=rf"$\|\sin\Theta\|_F$ ({name})",
           title=f"n = {n:,} pairs".replace(",", "\u2009"))
    fig.legend(loc="outside lower center", ncol=2)
    return fig


def plot_scaled(result: SweepResult, n: int, *, metric: str = "_m1", predicted: Mapping | None = None,
                switch: float | None = None):
    """Chapter 8, ``fig-filtering-scaled``: each rate as a flat line.

    Top: error x eta sqrt(n) (flat for no filtering). Middle: error x sqrt(eta n) (flat for the clean
    pairs, and for the filters at large eta). Bottom: error x sqrt(n) (flat for the filters at small
    eta); ``switch``: a vertical line where the filtered curve changes regime.
    """
    etas = np.asarray(result.grid["eta"], dtype=float)
    panels = (("eta_sqrt_n", ("none",), r"error $\times\ \eta\sqrt{n}$"),
              ("sqrt_eta_n", ("clean", "teacher_half", "oracle_half"), r"error $\times \sqrt{\eta n}$"),
              ("sqrt_n", ("teacher_0", "oracle_0"), r"error $\times \sqrt{n}$"))
    fig, axes = display.subplots(3, 1, height=8.4, sharex=True)
    for ax, (scaling, methods, ylabel) in zip(axes, panels):
        for method in methods:
            _band(ax, etas, scaled(result[method + metric], etas, n, scaling), method)
            if predicted is not None and method in predicted:
                ax.plot(etas, scaled(predicted[method], etas, n, scaling), color=STYLE[method][1], ls=":", lw=1.2)
        display.log_ticks(ax, "both")
        ax.set(ylabel=ylabel)
    for ax, loc in zip(axes, ("upper left", "lower left", "upper left")):
        ax.legend(loc=loc)
    if switch is not None:
        axes[-1].axvline(switch, color="k", lw=1, ls="--")
        axes[-1].annotate("switch", (switch, 0.05), xycoords=("data", "axes fraction"), xytext=(4, 0),
                          textcoords="offset points")
    axes[0].invert_xaxis()
    axes[-1].set(xlabel=r"fraction of clean pairs $\eta$")
    return fig


# ---------------------------------------------------------------- Table 1

def table1_run(rng: np.random.Generator, *, n: int = 10_000, eta: float = 0.3,
               fractions: Sequence[float] = tuple(PAPER_TABLE1), split: bool = False,
               **settings) -> dict[str, float]:
    """The paper's Table 1 setting for one seed: the worse-modality error at each kept fraction.

    Keys ``q=<fraction>`` (the paper's ERR) and ``q=<fraction>_m1`` (modality 1); one model and one
    sample serve every fraction.
    """
    opts = {**SETTINGS, **settings}
    model = paper_model(rng, **opts)
    sample = corrupted_pairs(model, n, eta, rng)
    out = {}
    for q in fractions:
        res = filtering.train_filter_train(sample.X, sample.Y, model.r, fraction=q, split=split)
        out[f"q={q:g}"], out[f"q={q:g}_m1"] = _errors(res.G1, res.G2, model)
    return out


def table1(*, seeds: int | None = None, split: bool = False, **kwargs) -> dict:
    """:func:`table1_run` over seeds: ``{fraction: (mean, sd)}`` of the paper's ERR in units of 10^-4.

    Every seed ``s`` uses ``default_rng(s)``, with or without the split, so the two settings see
    the same models and samples.
    """
    seeds = sizes()["table1_seeds"] if seeds is None else seeds
    runs = [table1_run(np.random.default_rng(s), split=split, **kwargs) for s in range(seeds)]
    fractions = [float(k[2:]) for k in runs[0] if not k.endswith("_m1")]
    return {q: (1e4 * float(np.mean([run[f"q={q:g}"] for run in runs])),
                1e4 * float(np.std([run[f"q={q:g}"] for run in runs], ddof=1))) for q in fractions}


def table1_table(ours: Mapping, ours_split: Mapping | None = None, *, caption: str | None = None):
    """Chapter 8's Table 1: the paper's numbers, ours without the split, ours with Algorithm 1's split."""
    header = ["kept fraction", "paper (×10⁻⁴)", "ours, teacher on all pairs"]
    if ours_split is not None:
        header.append("ours, Algorithm 1's split")
    rows = []
    for q, (m, s) in PAPER_TABLE1.items():
        row = [f"{100 * q:g} %", display.pm(m, s, ".2f"), display.pm(*ours[q], ".2f")]
        if ours_split is not None:
            row.append(display.pm(*ours_split[q], ".2f"))
        rows.append(row)
    return display.html_table(header, rows, caption=caption)


# ---------------------------------------------------------------- score laws

def score_sample(rng: np.random.Generator, *, n: int = 50_000, r: int = 16, noise: float = 0.01,
                 eta: float = 0.3, extra_dims: int = 4) -> tuple[np.ndarray, np.ndarray, filtering.ScoreMoments]:
    """True-loading scores of n corrupted-model pairs (d1 = d2 = r + ``extra_dims``), their coins and
    the predicted moments (the paper's Figure 2b uses n = 50 000, r = 16, gamma = 10^4)."""
    model = paper_model(rng, d1=r + extra_dims, d2=r + extra_dims, r=r, noise=noise)
    sample = corrupted_pairs(model, n, eta, rng)
    s = filtering.true_loading_scores(sample.X, sample.Y, model.U1, model.U2)
    return s, sample.matched, filtering.score_moments(r, noise, noise)


def plot_score_histograms(scores, matched, moments: filtering.ScoreMoments, r: int):
    """Chapter 8, ``fig-score-laws``: histograms of clean and corrupted scores with their predicted
    Gaussian approximations (mean and variance of :func:`mmcl_lib.filtering.score_moments`), and the
    thresholds 0 and r/2. Each histogram is its share of the mixture density."""
    scores, matched = np.asarray(scores), np.asarray(matched, dtype=bool)
    fig, ax = display.subplots(height=5.0)
    bins = np.linspace(np.quantile(scores, 0.001), np.quantile(scores, 0.999), 80)
    grid = np.linspace(bins[0], bins[-1], 400)
    for mask, mean, var, label, color in ((~matched, moments.mean_corrupted, moments.var_corrupted,
                                           "corrupted", CORRUPTED_COLOUR),
                                          (matched, moments.mean_clean, moments.var_clean, "clean", CLEAN_COLOUR)):
        weight = mask.mean()
        ax.hist(scores[mask], bins=bins, weights=np.full(mask.sum(), 1 / (scores.size * (bins[1] - bins[0]))),
                color=color, alpha=0.5, label=f"{label} pairs ({100 * weight:.0f} %)")
        ax.plot(grid, weight * np.exp(-(grid - mean) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var),
                color=color, lw=2, ls="--" if label == "clean" else "-",
                label=f"predicted: mean {mean:g}, var. {var:.1f}")
    top = ax.get_ylim()[1]
    for theta, text in ((0.0, r"$\theta = 0$"), (r / 2, r"$\theta = r/2$")):
        ax.axvline(theta, color="k", lw=0.9, ls=":")
        ax.text(theta, top * 0.98, " " + text, va="top")
    ax.set(xlabel=r"true-loading score $\langle U_1^\top x, U_2^\top y\rangle$", ylabel="density")
    fig.legend(loc="outside lower center", ncol=2)
    return fig


# ---------------------------------------------------------------- the teacher and the signal-to-noise ratio

def teacher_snr_run(rng: np.random.Generator, *, noise: float, n: int, eta: float = 0.1, d: int = 20,
                    r: int = 4, split: bool = False) -> dict[str, float]:
    """Teacher (theta = 0) and true-loading (theta = 0) filtered errors and no filtering, one sample.

    Keys ``teacher``, ``oracle``, ``none`` (modality 1) and ``ratio`` = teacher / oracle.
    """
    model = paper_model(rng, d1=d, d2=d, r=r, noise=noise)
    sample = corrupted_pairs(model, n, eta, rng)
    out = {}
    for key, method in (("teacher", "teacher_0"), ("oracle", "oracle_0"), ("none", "none")):
        out[key] = _errors(*_fit(method, sample, model, split=split), model)[1]
    out["ratio"] = out["teacher"] / out["oracle"]
    return out


def teacher_snr(*, noises: Sequence[float] = (0.1, 1.0), ns: Sequence[int] | None = None,
                seeds: int | None = None, **kwargs) -> SweepResult:
    """:func:`teacher_snr_run` over noise levels, sample sizes and seeds."""
    size = sizes()
    ns = size["snr_n"] if ns is None else ns
    seeds = size["snr_seeds"] if seeds is None else seeds
    return sweep(lambda rng, noise, n: teacher_snr_run(rng, noise=noise, n=n, **kwargs),
                 {"noise": list(noises), "n": list(ns)}, seeds)


# ---------------------------------------------------------------- where it breaks

def heteroskedastic_bias(rng: np.random.Generator, *, ratio: float, level: float = 1.0, eta: float = 0.3,
                         d: int = 10, r: int = 4, draws: int | None = None) -> dict[str, float]:
    """Population errors (modality 1) of the filtered targets under heteroskedastic noise.

    The noise variances are log-spaced over ``ratio`` with mean ``level**2`` (Chapter 4's
    :func:`mmcl_lib.data.heteroskedastic_std`), the same in both modalities. For thresholds 0 and
    r/2 on the true-loading score: the sin-theta distance between ``U1`` and the top-r left
    singular subspace of ``S(theta)`` (:func:`mmcl_lib.filtering.filtered_population_cross_covariance`),
    and for comparison the same with no filtering (exactly 0, so its value is the Monte Carlo floor).
    """
    draws = sizes()["draws"] if draws is None else draws
    std = data.heteroskedastic_std(d, level, ratio)
    model = data.LatentFactorModel.random(d, d, r, rng, noise_std1=std, noise_std2=std)
    out = {}
    for key, theta in (("oracle_0", 0.0), ("oracle_half", r / 2), ("none", -np.inf)):
        S = filtering.filtered_population_cross_covariance(model, eta, rng, threshold=theta, draws=draws)
        out[key] = sin_theta(spectral.top_singular_subspaces(S, r)[0], model.U1)
    return out


def heteroskedastic_run(rng: np.random.Generator, *, n: int, ratio: float = 10.0, level: float = 1.0,
                        eta: float = 0.3, d: int = 10, r: int = 4) -> dict[str, float]:
    """Errors (modality 1) of no filtering, the teacher (theta = 0, no split) and the true-loading
    filter (theta = 0) on one heteroskedastic sample."""
    std = data.heteroskedastic_std(d, level, ratio)
    model = data.LatentFactorModel.random(d, d, r, rng, noise_std1=std, noise_std2=std)
    sample = corrupted_pairs(model, n, eta, rng)
    return {key: _errors(*_fit(key, sample, model, split=False), model)[1]
            for key in ("none", "teacher_0", "oracle_0")}


def plot_heteroskedastic(bias: SweepResult, errors: SweepResult, *, level: float = 1.0):
    """Chapter 8, ``fig-filtering-heteroskedastic``: the filtered population error against the
    variance ratio (top) and the sample errors against n at one ratio (bottom)."""
    fig, (ax0, ax1) = display.subplots(2, 1, height=7.6)
    ratios = np.asarray(bias.grid["ratio"], dtype=float)
    for key in ("oracle_0", "oracle_half"):
        _band(ax0, ratios, bias[key], key)
    ax0.plot(ratios, bias.mean("none"), **_look("none", label="no filtering (0; Monte Carlo error)"))
    display.log_ticks(ax0, "x", ratios)
    ax0.set(xlabel="largest / smallest noise variance", ylabel="population error",
            title=f"filtered targets, noise level {level:g}")
    ax0.legend(loc="upper left")
    ns = np.asarray(errors.grid["n"], dtype=float)
    for key in ("none", "teacher_0", "oracle_0"):
        _band(ax1, ns, errors[key], key)
    display.log_ticks(ax1, "x", ns)
    display.log_ticks(ax1, "y")
    ax1.set(xlabel="number of pairs n", ylabel=r"$\|\sin\Theta\|_F$", title="samples, variance ratio 10")
    ax1.legend(loc="lower left")
    return fig


def small_teacher_run(rng: np.random.Generator, *, n_teacher: int, n: int, eta: float = 0.1,
                      fraction: float = 0.15, noise: float = 0.3, **settings) -> dict[str, float]:
    """A teacher trained on ``n_teacher`` separate pairs filters n other pairs (kept ``fraction``).

    Keys (modality 1): ``teacher`` (its student), ``teacher_alone`` (the teacher's own error),
    ``oracle`` (the true-loading filter at the same fraction) and ``none``. Both sets come from one
    model (default: noise 0.3, eta = 0.1, keep 15 %, where a poor teacher does harm; at the paper's
    noise 0.01 a few dozen teacher pairs already suffice); ``n_teacher`` must exceed r.
    """
    opts = {**SETTINGS, **settings, "noise": noise}
    model = paper_model(rng, **opts)
    teacher_set = corrupted_pairs(model, n_teacher, eta, rng)
    sample = corrupted_pairs(model, n, eta, rng)
    teacher = spectral.closed_form_mmcl(teacher_set.X, teacher_set.Y, model.r)
    res = filtering.filter_with_teacher(sample.X, sample.Y, model.r, teacher, fraction=fraction)
    oracle = filtering.true_loading_filter(sample.X, sample.Y, model.r, model.U1, model.U2, fraction=fraction)
    return {"teacher": subspace_error(res.G1, model.U1), "teacher_alone": subspace_error(teacher[0], model.U1),
            "oracle": subspace_error(oracle.G1, model.U1),
            "none": subspace_error(spectral.closed_form_mmcl(sample.X, sample.Y, model.r)[0], model.U1)}


def plot_small_teacher(result: SweepResult, n: int):
    """Chapter 8, ``fig-filtering-small-teacher``: the student's error against the teacher's size."""
    sizes_ = np.asarray(result.grid["n_teacher"], dtype=float)
    fig, ax = display.subplots(height=5.0)
    _band(ax, sizes_, result["teacher"], "teacher_0", label="student of the teacher")
    _band(ax, sizes_, result["teacher_alone"], "teacher_half", label="the teacher itself",
          color=TEACHER_ALONE_COLOUR, marker="o")
    ax.axhline(result.mean("oracle").mean(), **_look("oracle_0", marker=None, label="true-loading filter"))
    ax.axhline(result.mean("none").mean(), **_look("none", marker=None))
    display.log_ticks(ax, "x", sizes_)
    display.log_ticks(ax, "y")
    ax.set(xlabel="pairs the teacher was trained on", ylabel=r"$\|\sin\Theta\|_F$",
           title=f"filtering n = {n:,} other pairs".replace(",", "\u2009"))
    fig.legend(loc="outside lower center", ncol=2)
    return fig


# ---------------------------------------------------------------- interactive figure

def demo_run(eta: float, fraction: float, noise: float, *, n: int = 20_000, seed: int = 0,
             **settings) -> dict:
    """One setting of Chapter 8's interactive figure, computed once (no drawing).

    One model and sample (seed ``seed``); the teacher is trained on all pairs and keeps the top
    ``fraction``. Returns the teacher scores with the coins and the kept mask, and the modality-1
    errors of no filtering, the teacher filter, the true-loading filter at the same fraction and
    the clean pairs only.
    """
    opts = {**SETTINGS, **settings, "noise": noise}
    rng = np.random.default_rng(seed)
    model = paper_model(rng, **opts)
    sample = corrupted_pairs(model, n, eta, rng)
    res = filtering.train_filter_train(sample.X, sample.Y, model.r, fraction=fraction, split=False)
    oracle = filtering.true_loading_filter(sample.X, sample.Y, model.r, model.U1, model.U2, fraction=fraction)
    errors = {"none": subspace_error(spectral.closed_form_mmcl(sample.X, sample.Y, model.r)[0], model.U1),
              "teacher": subspace_error(res.G1, model.U1), "oracle": subspace_error(oracle.G1, model.U1)}
    clean = _fit("clean", sample, model, split=False)
    errors["clean"] = math.nan if clean is None else subspace_error(clean[0], model.U1)
    unit = filtering.mean_singular_value(*res.teacher)
    return {"scores": filtering.teacher_scores(sample.X, sample.Y, *res.teacher) / unit,
            "matched": sample.matched, "kept": res.kept, "errors": errors, "eta": eta,
            "fraction": fraction, "noise": noise, "r": model.r}


def demo_figure(run: Mapping):
    """Chapter 8's interactive figure for one :func:`demo_run`: the teacher scores (in oracle units)
    of clean and corrupted pairs with the kept region (left) and the four errors (right)."""
    fig, (ax0, ax1) = display.subplots(1, 2, height=4.0, width_ratios=(1.1, 1))
    s, matched, kept = run["scores"], run["matched"], run["kept"]
    bins = np.linspace(np.quantile(s, 0.002), np.quantile(s, 0.998), 60)
    ax0.hist(s[~matched], bins=bins, color=CORRUPTED_COLOUR, alpha=0.6, label="corrupted", histtype="stepfilled")
    ax0.hist(s[matched], bins=bins, color=CLEAN_COLOUR, alpha=0.6, label="clean", histtype="stepfilled")
    if kept.sum() < kept.size:
        ax0.axvline(s[kept].min(), color="k", ls="--", lw=1.2, label="kept above")
    ax0.set(xlabel="teacher score", ylabel="pairs", yticks=[])
    ax0.legend(loc="upper right")
    names = {"none": "no filter", "teacher": "teacher", "oracle": "true\nloadings", "clean": "clean\nonly"}
    looks = {"none": "none", "teacher": "teacher_0", "oracle": "oracle_0", "clean": "clean"}
    vals = [run["errors"][k] for k in names]
    y = np.arange(4)[::-1]
    ax1.barh(y, np.nan_to_num(vals), color=[STYLE[looks[k]][1] for k in names])
    for yy, v in zip(y, vals):
        ax1.text(1.2e-4, yy, " n/a" if math.isnan(v) else f" {v:.2g}", va="center",
                 color="k" if math.isnan(v) or v < 2e-3 else "w")
    ax1.set(yticks=y, yticklabels=list(names.values()), xscale="log", xlim=(1e-4, 3),
            xlabel=r"$\|\sin\Theta\|_F$ (modality 1)")
    ax1.grid(False, axis="y")
    ax1.xaxis.set_minor_locator(NullLocator())          # (one static frame per setting: draw fast)
    fig.suptitle(f"η = {run['eta']:g}, keep {100 * run['fraction']:g} %, noise {run['noise']:g}")
    return fig




# ---------------------------------------------------------------- the chapter's fits and recorded results

CHAPTER_REGIMES = {
    "none": ("none", "eta_sqrt_n", 0.04, 1.0),
    "clean": ("clean", "sqrt_eta_n", 1e-3, 1.0),
    "oracle_0_large": ("oracle_0", "sqrt_eta_n", 0.2, 1.0),
    "oracle_0_small": ("oracle_0", "sqrt_n", 1e-3, 0.01),
    "oracle_half_small": ("oracle_half", "sqrt_n", 1e-3, 0.01),
    "teacher_0_large": ("teacher_0", "sqrt_eta_n", 0.2, 1.0),
    "teacher_half_large": ("teacher_half", "sqrt_eta_n", 0.2, 1.0),
}
"""Chapter 8's regimes at the default size (n = 50 000): name -> (method, scaling, eta range); the
unfiltered law is fitted where n eta^2 is well above d1, the eta-free plateau for eta <= 0.01."""


def chapter_fits(result: SweepResult, n: int, *, metric: str = "_m1") -> dict[str, float]:
    """Slopes and flat constants of :data:`CHAPTER_REGIMES` as flat names for the prose:
    ``<regime>_slope``, ``<regime>_slope_se``, ``<regime>_const``, ``<regime>_const_se``,
    plus the switch of the true-loading filter at theta = 0 (``switch``, ``switch_se``)."""
    out = {}
    for name, fit in rate_fits(result, n, CHAPTER_REGIMES, metric=metric).items():
        out[f"{name}_slope"], out[f"{name}_slope_se"] = fit["slope"]
        out[f"{name}_const"], out[f"{name}_const_se"] = fit["constant"]
    sw = switch_point(result, "oracle_0", (1e-3, 0.01), metric=metric)
    out["switch"], out["switch_se"] = sw["eta_x"], sw["se"]
    return out


RESULTS = Path(__file__).resolve().parents[2] / "experiments" / "results" / "filtering_rates.json"
"""Where ``experiments/filtering_rates.py`` records its measurements."""


def load_recorded(path=None) -> dict:
    """The measurements recorded by ``experiments/filtering_rates.py`` (a JSON file)."""
    return json.loads(Path(RESULTS if path is None else path).read_text())


def recorded_quotes(rec: Mapping) -> dict[str, float]:
    """The recorded numbers Chapter 8 quotes, as flat names ``rec_...`` (modality 1 unless named)."""
    rates = rec["rates"]
    fits, split = rates["fits"]["m1"], rates["fits_split"]["m1"]
    plateau = rates["teacher_plateau"]
    out = {"rec_n": rates["n"], "rec_seeds": rates["seeds"], "rec_plateau_n": plateau["n"],
           "rec_wall_min": rec["wall_time_s"] / 60}
    for name in ("none", "clean", "oracle_0_large", "oracle_0_small", "oracle_half_small", "teacher_0_large"):
        out[f"rec_{name}_slope"], out[f"rec_{name}_slope_se"] = fits[name]["slope"]
        out[f"rec_{name}_const"], out[f"rec_{name}_const_se"] = fits[name]["constant"]
    out["rec_split_const"] = split["teacher_0_large"]["constant"][0]
    out["rec_split_ratio"] = out["rec_split_const"] / out["rec_teacher_0_large_const"]
    for key in ("teacher_0", "oracle_0"):
        out[f"rec_{key}_plateau_const"] = plateau["fits"]["m1"][f"{key}_plateau"]["constant"][0]
    pred = rates["predicted_constants_m1"]
    out["pred_none"], out["pred_plateau"] = pred["none_eta_sqrt_n"], pred["oracle_0_plateau_sqrt_n"]
    by_r = rec["switch"]["by_r"]
    for r in (2, 4, 8, 16):
        row = by_r[f"r={r}"]
        out[f"rec_switch_r{r}"] = row["measured_m1"]["eta_x"]
        out[f"rec_switch_r{r}_se"] = row["measured_m1"]["se"]
        out[f"rec_switch_r{r}_over_bound"] = out[f"rec_switch_r{r}"] * r**2
    snr = rec["teacher_snr"]["no_split"]
    ns = rec["teacher_snr"]["n"]
    for i, noise in enumerate(snr["noises"]):
        out[f"rec_snr_ratio_{noise:g}".replace(".", "p")] = float(np.mean(snr["ratio"]["mean"][i]))
    low = rec["teacher_snr"]["low_snr_eta_sweep"]["sqrt_eta_n_times_error"]
    out["rec_low_teacher_first"], out["rec_low_teacher_last"] = low["teacher"][0], low["teacher"][-1]
    out["rec_low_oracle_last"], out["rec_low_none_last"] = low["oracle"][-1], low["none"][-1]
    out["rec_snr_n_count"] = len(ns)
    t1 = rec["table1"]
    out["rec_table1_split_ratio"] = t1["split_over_no_split"]["mean"]
    het = rec["heteroskedastic"]["sample_errors_m1"]
    out["rec_het_none_big"], out["rec_het_teacher_big"] = het["none"]["mean"][-1], het["teacher_0"]["mean"][-1]
    out["rec_het_n_big"] = het["n"][-1]
    return out


def switch_table(rec: Mapping):
    """Chapter 8's table of the regime switch of the true-loading filter (theta = 0) against r:
    measured (recorded), the first-order value, 1/(pi r) and the bound's 1/r^2."""
    rows = []
    for key, row in rec["switch"]["by_r"].items():
        m, p = row["measured_m1"], row["predicted"]
        rows.append([key[2:], display.pm(m["eta_x"], m["se"], ".3f"), f"{p['first_order']:.3f}",
                     f"{p['one_over_pi_r']:.3f}", f"{p['one_over_r2']:.4f}"])
    return display.html_table(["r", "measured", "first order", "1/(πr)", "1/r² (bound)"], rows)


def snr_table(rec: Mapping):
    """Chapter 8's table of the teacher / true-loading error ratio against the noise level (recorded,
    teacher on all pairs, eta = 0.1, d = 20, r = 4), one column per n."""
    snr, ns = rec["teacher_snr"]["no_split"], rec["teacher_snr"]["n"]
    rows = [[f"{noise:g}"] + [display.pm(snr["ratio"]["mean"][i][j], snr["ratio"]["se"][i][j], ".2f")
                              for j in range(len(ns))] for i, noise in enumerate(snr["noises"])]
    return display.html_table(["noise sd"] + [f"n\u00a0=\u00a0{n:,}".replace(",", "\u202f") for n in ns],
                              rows)
