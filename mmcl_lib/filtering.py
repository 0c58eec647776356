"""Teacher-based data filtering in the linear latent-factor model (Chapter 8).

Pareek, Oh and Du (2025) analyse CLIP-score curation in the model of Chapter 3: score every pair with
a teacher, keep the pairs that score high, train the student on them. Everything here works on
plain arrays ``X`` (n x d1), ``Y`` (n x d2); the truth (loadings, which pairs are clean) enters only
through the two reference filters and the error.

Corruption model (their Section 3.1, Assumptions 1-2)
    Each pair is clean independently with probability ``eta`` (a Bernoulli coin, so the number of
    clean pairs is Binomial(n, eta)); a corrupted pair's second latent is an independent standard
    Gaussian; the noises are isotropic, ``xi ~ N(0, s1^2 I)``, ``xi~ ~ N(0, s2^2 I)`` (the paper's
    ``gamma = 1/s1^2``, ``gamma~ = 1/s2^2``), and ``Sigma_z = I``. Draw it with
    ``LatentFactorModel.random(d1, d2, r, rng, noise_std1=s1, noise_std2=s2)`` and
    ``model.sample(n, rng, eta=eta, clean_count="binomial")``. The book's Chapter 4 model differs in
    two ways: exactly ``round(eta n)`` clean pairs (``clean_count="fixed"``, the default; a
    difference of O(1/sqrt(eta n)) in the signal) and possibly heteroskedastic noise, which the
    filtering theorem excludes (see :func:`filtered_population_cross_covariance`).
Scores (their Section 6.1)
    :func:`scores` (``x^T A y`` row by row), :func:`teacher_scores` (``A = G1^T G2``, the teacher's
    similarity) and :func:`true_loading_scores` (``A = U1 U2^T``).
Keep rules
    :func:`keep`: a threshold (keep scores above it) or a kept fraction (the top q, their Appendix H).
Filters (their Section 5, Algorithm 1, and Remark 6.1)
    :func:`train_filter_train`, :func:`filter_with_teacher`, :func:`true_loading_filter`,
    :func:`clean_only`, each returning a :class:`FilterResult`.
Error (their Definition 1, reconstructed form)
    :func:`max_modality_error`; the book's metric is :func:`mmcl_lib.metrics.subspace_error` on
    modality 1.
Population quantities
    :func:`score_moments` (their Section 6.1 and Appendix F), :func:`filtered_population_cross_covariance`
    (their Section 6.2 for isotropic noise; any diagonal noise here) and
    :func:`filtered_first_order_error` (derived here, not in the paper).

The paper's displayed formulas were not available to us: where a formula is the paper's, the form
used here is our reconstruction from its prose, and each docstring says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from . import _validation as check
from .data import LatentFactorModel
from .metrics import subspace_error
from .spectral import closed_form_mmcl

UNITS = ("oracle", "teacher")


# --------------------------------------------------------------------------- scores

def _row_products(X, Y, L, R) -> np.ndarray:
    """``x_i^T L R^T y_i`` for every row i, through the k-dimensional images (no n x n, no d1 x d2)."""
    return np.einsum("ij,ij->i", X @ L, Y @ R)


def scores(X, Y, A) -> np.ndarray:
    """The score ``x_i^T A y_i`` of every pair (length n), for a d1 x d2 matrix ``A``.

    Paper: Pareek, Oh and Du (2025), Section 6.1 and Appendix G (the scoring function
    ``S(x, x~; A) = x^T A x~``).
    Book: Chapter 8; the similarity scores of ``sec-unpaired-detection`` (Chapter 5).
    """
    X, Y = check.paired(X, Y, min_samples=1)
    A = check.as_matrix(A, "A", rows=X.shape[1], cols=Y.shape[1])
    return np.einsum("ij,ij->i", X @ A, Y)


def teacher_scores(X, Y, G1, G2) -> np.ndarray:
    """The teacher score ``<G1 x_i, G2 y_i>`` of every pair: :func:`scores` with ``A = G1^T G2``.

    For the closed-form teacher ``G1^T G2 = SVD_r(S_n) / rho`` (Lemma 2.1), which tends to
    ``(eta / rho) U1 U2^T``: the teacher score tends to ``eta / rho`` times the true-loading score,
    and a positive factor does not change which pairs rank highest.

    Paper: Pareek, Oh and Du (2025), Section 6.1 (the teacher's similarity).
    Book: Chapter 8; the similarity scores of ``sec-unpaired-detection`` (Chapter 5).
    """
    X, Y = check.paired(X, Y, min_samples=1)
    G1, G2 = check.encoders(G1, G2, X.shape[1], Y.shape[1])
    return _row_products(X, Y, G1.T, G2.T)


def true_loading_scores(X, Y, U1, U2) -> np.ndarray:
    """The true-loading (oracle) score ``<U1^T x_i, U2^T y_i>``: :func:`scores` with ``A = U1 U2^T``.

    In the corruption model its law is a mixture of a clean component (mean r) and a corrupted one
    (mean 0); see :func:`score_moments`.

    Paper: Pareek, Oh and Du (2025), Section 6.1 (the oracle score) and Remark 6.1.
    Book: Chapter 8; the similarity scores of ``sec-unpaired-detection`` (Chapter 5).
    """
    X, Y = check.paired(X, Y, min_samples=1)
    U1 = check.as_matrix(U1, "U1", rows=X.shape[1])
    U2 = check.as_matrix(U2, "U2", rows=Y.shape[1], cols=U1.shape[1])
    return _row_products(X, Y, U1, U2)


# --------------------------------------------------------------------------- keep rules

def _threshold(value, name: str = "threshold") -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number (or -inf for no filtering), got {value!r}") from None
    if math.isnan(t):
        raise ValueError(f"{name} must be a number (or -inf for no filtering), got nan")
    return t


def _one_rule(threshold, fraction) -> tuple[float | None, float | None]:
    if (threshold is None) == (fraction is None):
        raise ValueError("give exactly one of threshold= and fraction=")
    if threshold is not None:
        return _threshold(threshold), None
    return None, check.fraction(fraction, "fraction")


def kept_count(m: int, fraction: float) -> int:
    """How many of ``m`` pairs a kept fraction keeps: ``floor(fraction * m + 1/2)``, at least 1.

    Paper: Pareek, Oh and Du (2025), Appendix H (kept fraction).
    Book: Chapter 8; the top-score rule of ``sec-unpaired-detection`` (Chapter 5).
    """
    m = check.integer(m, "m")
    fraction = check.fraction(fraction, "fraction")
    return max(1, int(math.floor(fraction * m + 0.5)))


def keep(scores, *, threshold: float | None = None, fraction: float | None = None) -> np.ndarray:
    """Boolean mask of the kept pairs: scores above ``threshold``, or the top ``fraction`` of them.

    Give exactly one rule. ``threshold``: keep ``scores > threshold`` (Algorithm 1 keeps the pairs
    whose similarity exceeds it; ``-inf`` keeps everything). ``fraction`` in (0, 1]: keep exactly
    :func:`kept_count` pairs, the highest scores; ties at the boundary go to the earlier pair.

    Paper: Pareek, Oh and Du (2025), Section 5, Algorithm 1 (step 2) and Appendix H (kept fraction).
    Book: Chapter 8; the top-score rule of ``sec-unpaired-detection`` (Chapter 5).
    """
    s = check.as_vector(scores, "scores")
    if s.size < 1:
        raise ValueError("scores must hold at least one score")
    threshold, fraction = _one_rule(threshold, fraction)
    if threshold is not None:
        return s > threshold
    mask = np.zeros(s.size, dtype=bool)
    mask[np.argsort(-s, kind="stable")[:kept_count(s.size, fraction)]] = True
    return mask


# --------------------------------------------------------------------------- filters

@dataclass(frozen=True)
class FilterResult:
    """What a filter did: the student encoders and which pairs it kept.

    ``G1`` (r x d1), ``G2`` (r x d2): the student, Lemma 2.1's closed form on the kept pairs.
    ``kept``: boolean mask over all n input pairs. ``candidates``: the pairs the filter looked at
    (all of them, or the second half under Algorithm 1's split; the teacher half is never kept).
    ``threshold``: the score threshold applied, in the units of the filter's own score (for a
    kept fraction, the lowest kept score; ``None`` for :func:`clean_only`). ``teacher``: the
    teacher's ``(G1, G2)``, or ``None`` for the reference filters.

    Paper: Pareek, Oh and Du (2025), Section 5, Algorithm 1.
    Book: Chapter 8; ``lem-svd`` (Chapter 2) and the teacher of ``def-teacher`` (Chapter 6).
    """

    G1: np.ndarray
    G2: np.ndarray
    kept: np.ndarray
    candidates: np.ndarray
    threshold: float | None
    teacher: tuple[np.ndarray, np.ndarray] | None

    @property
    def n_kept(self) -> int:
        return int(self.kept.sum())

    @property
    def n_candidates(self) -> int:
        return int(self.candidates.sum())

    @property
    def kept_fraction(self) -> float:
        """Kept pairs over candidate pairs."""
        return self.n_kept / self.n_candidates


def _student(X, Y, r: int, kept: np.ndarray, rho: float, rule: str) -> tuple[np.ndarray, np.ndarray]:
    m = int(kept.sum())
    if m < r + 1:
        raise ValueError(f"the filter kept {m} pair(s); the student needs at least r + 1 = {r + 1} "
                         f"(lower the threshold or raise the fraction; rule: {rule})")
    return closed_form_mmcl(X[kept], Y[kept], r, rho=rho)


def _rule_text(threshold, fraction) -> str:
    return f"threshold={threshold!r}" if threshold is not None else f"fraction={fraction!r}"


def _filter(X, Y, r: int, s: np.ndarray, threshold, fraction, rho: float, teacher) -> FilterResult:
    """Keep by ``s`` with one rule, then fit the student on the kept pairs (all rows are candidates)."""
    mask = keep(s, threshold=threshold, fraction=fraction)
    G1, G2 = _student(X, Y, r, mask, rho, _rule_text(threshold, fraction))
    applied = threshold if threshold is not None else float(s[mask].min())
    return FilterResult(G1, G2, mask, np.ones(mask.size, dtype=bool), applied, teacher)


def mean_singular_value(G1, G2) -> float:
    """Mean of the r singular values of ``G1^T G2`` (the unit of a teacher's score), in O(r^2 d).

    For the closed-form teacher they are ``sigma_k(S_n) / rho``, close to ``eta / rho`` when the
    teacher is accurate; a threshold ``theta`` on the true-loading score corresponds to about
    ``theta * mean_singular_value`` on the teacher's score.

    Paper: Pareek, Oh and Du (2025), Section 6.2 (thresholds 0 and r eta / (2 rho) in teacher units).
    Book: Chapter 8; ``lem-svd`` (Chapter 2) and the teacher of ``def-teacher`` (Chapter 6).
    """
    G1 = check.as_matrix(G1, "G1")
    G2 = check.as_matrix(G2, "G2", rows=G1.shape[0])
    R1 = np.linalg.qr(G1.T, mode="r")
    R2 = np.linalg.qr(G2.T, mode="r")
    return float(np.linalg.svd(R1 @ R2.T, compute_uv=False).mean())


def filter_with_teacher(X, Y, r: int, teacher, *, threshold: float | None = None,
                        fraction: float | None = None, units: str = "oracle",
                        rho: float = 1.0) -> FilterResult:
    """Steps 2-3 of Algorithm 1 with a given teacher: score all pairs, keep, refit the student.

    ``teacher`` is a pair ``(G1, G2)`` (any encoders, e.g. from :func:`mmcl_lib.spectral.closed_form_mmcl`
    on other data). ``threshold`` is read in ``units``: ``"oracle"`` (default) for the scale of the
    true-loading score, converted to the teacher's scale as ``theta_T = theta *``
    :func:`mean_singular_value` of ``G1^T G2`` (``~ theta eta / rho`` for an accurate closed-form
    teacher; so the paper's thresholds 0 and r/2 become 0 and ``r eta / (2 rho)``), or
    ``"teacher"`` for the teacher's score as it is. A ``fraction`` needs no units.

    Paper: Pareek, Oh and Du (2025), Section 5, Algorithm 1 (steps 2-3) and Section 6.2.
    Book: Chapter 8; ``lem-svd`` (Chapter 2) and the teacher of ``def-teacher`` (Chapter 6).
    """
    X, Y = check.paired(X, Y)
    r = check.rank(r, X.shape[1], Y.shape[1])
    if not isinstance(teacher, (tuple, list)) or len(teacher) != 2:
        raise ValueError("teacher must be a pair (G1, G2) of encoders")
    G1_T, G2_T = check.encoders(*teacher, X.shape[1], Y.shape[1])
    threshold, fraction = _one_rule(threshold, fraction)
    check.one_of(units, UNITS, "units")
    rho = check.positive(rho, "rho")
    if threshold is not None and units == "oracle" and math.isfinite(threshold):
        threshold = threshold * mean_singular_value(G1_T, G2_T)
    s = teacher_scores(X, Y, G1_T, G2_T)
    return _filter(X, Y, r, s, threshold, fraction, rho, (G1_T, G2_T))


def train_filter_train(X, Y, r: int, *, threshold: float | None = None, fraction: float | None = None,
                       units: str = "oracle", split: bool = True, rho: float = 1.0) -> FilterResult:
    """Algorithm 1: train a teacher, filter the pairs with its score, train the student on the rest.

    1. Teacher: Lemma 2.1's closed form (``closed_form_mmcl``) on the first ``n // 2`` pairs
       (``split=True``, Algorithm 1 and Theorem 1) or on all n pairs (``split=False``; what the
       paper's experiments apparently do, Section 7 and Appendix H: the numbers of their Table 1 are
       matched only without the split).
    2. Filter the other ``n - n // 2`` pairs (or all n) by the teacher score, with a ``threshold``
       (in ``units``, see :func:`filter_with_teacher`; ``-inf``: no filtering) or a kept ``fraction``.
    3. Student: the closed form on the kept pairs.

    Returns a :class:`FilterResult` whose masks index all n input pairs. With ``threshold=-inf`` or
    ``fraction=1`` the student is the closed form on all candidates (on all pairs if ``split=False``).

    Paper: Pareek, Oh and Du (2025), Section 5, Algorithm 1; Appendix H (kept fraction).
    Book: Chapter 8; ``lem-svd`` (Chapter 2) and the teacher of ``def-teacher`` (Chapter 6).
    """
    X, Y = check.paired(X, Y)
    r = check.rank(r, X.shape[1], Y.shape[1])
    if not isinstance(split, (bool, np.bool_)):
        raise ValueError(f"split must be True or False, got {split!r}")
    n = X.shape[0]
    n_teacher = n // 2 if split else n
    first = n_teacher if split else 0
    if n_teacher < r + 1 or n - first < r + 1:
        raise ValueError(f"X and Y need at least {2 * (r + 1) if split else r + 1} pairs for r = {r} "
                         f"(split={split}), got {n}")
    teacher = closed_form_mmcl(X[:n_teacher], Y[:n_teacher], r, rho=check.positive(rho, "rho"))
    result = filter_with_teacher(X[first:], Y[first:], r, teacher, threshold=threshold,
                                 fraction=fraction, units=units, rho=rho)
    kept, candidates = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    kept[first:], candidates[first:] = result.kept, True
    return replace(result, kept=kept, candidates=candidates)


def true_loading_filter(X, Y, r: int, U1, U2, *, threshold: float | None = None,
                        fraction: float | None = None, rho: float = 1.0) -> FilterResult:
    """Reference filter that knows the loadings: keep by :func:`true_loading_scores`, refit the student.

    The threshold is on the true-loading score itself (the paper's thresholds 0 and r/2).

    Paper: Pareek, Oh and Du (2025), Section 6.1 and Remark 6.1 (the oracle that knows U, U~); Figure 1b.
    Book: Chapter 8; ``lem-svd`` (Chapter 2), ``sec-one-over-eta`` (Chapter 4).
    """
    X, Y = check.paired(X, Y)
    r = check.rank(r, X.shape[1], Y.shape[1])
    threshold, fraction = _one_rule(threshold, fraction)
    rho = check.positive(rho, "rho")
    s = true_loading_scores(X, Y, U1, U2)
    return _filter(X, Y, r, s, threshold, fraction, rho, None)


def clean_only(X, Y, r: int, matched, *, rho: float = 1.0) -> FilterResult:
    """Reference filter that knows the coins: the closed form on the clean pairs alone (error ~ 1/sqrt(eta n)).

    ``matched`` is the boolean mask of clean pairs (``PairedSample.matched``).

    Paper: Pareek, Oh and Du (2025), Remark 6.1 (the oracle that knows each coin).
    Book: Chapter 8; ``lem-svd`` (Chapter 2), ``sec-one-over-eta`` (Chapter 4).
    """
    X, Y = check.paired(X, Y)
    r = check.rank(r, X.shape[1], Y.shape[1])
    mask = np.asarray(matched)
    if mask.shape != (X.shape[0],) or not np.all(np.isin(mask, (0, 1))):
        raise ValueError(f"matched must be a boolean mask with one entry per pair ({X.shape[0]})")
    mask = mask.astype(bool)
    G1, G2 = _student(X, Y, r, mask, check.positive(rho, "rho"), "the clean pairs")
    return FilterResult(G1, G2, mask, np.ones(mask.size, dtype=bool), None, None)


# --------------------------------------------------------------------------- error

def max_modality_error(G1, G2, U1, U2) -> float:
    """``ERR = max(||sin Theta(G1, U1)||_F, ||sin Theta(G2, U2)||_F)``: the worse of the two modalities.

    Our reconstruction of the paper's Definition 1 (its display was not available; the maximum, not
    the sum, reproduces its Table 1). The book's metric elsewhere is modality 1 alone,
    :func:`mmcl_lib.metrics.subspace_error` ``(G1, U1)``; Chapter 8 reports both.

    Paper: Pareek, Oh and Du (2025), Section 3.2, Definition 1 (reconstructed form).
    Book: Chapter 8; ``def-sin-theta`` (Chapter 3).
    """
    return max(subspace_error(G1, U1), subspace_error(G2, U2))


# --------------------------------------------------------------------------- population quantities

@dataclass(frozen=True)
class ScoreMoments:
    """Means and variances of the true-loading score of a clean and of a corrupted pair (:func:`score_moments`).

    Paper: Pareek, Oh and Du (2025), Section 6.1 and Appendix F. Book: Chapter 8; the model of
    ``def-latent-factor-model`` (Chapter 3).
    """

    mean_clean: float
    var_clean: float
    mean_corrupted: float
    var_corrupted: float


def score_moments(r: int, noise_std1: float, noise_std2: float) -> ScoreMoments:
    """Moments of the true-loading score ``s = u^T v``, ``u = U1^T x``, ``v = U2^T y``, in the corruption model.

    With ``u = z + e``, ``v = z~ + f`` (``e ~ N(0, s1^2 I_r)``, ``f ~ N(0, s2^2 I_r)``), the r
    products ``u_k v_k`` are independent with ``Var(u_k v_k) = (1 + s1^2)(1 + s2^2) + Cov(u_k, v_k)^2``
    and ``Cov = 1`` (clean, ``z~ = z``) or 0 (corrupted). Hence clean: mean ``r``, variance
    ``r + r(1 + s1^2)(1 + s2^2)``; corrupted: mean 0, variance ``r(1 + s1^2)(1 + s2^2)``
    (``s^2 = 1/gamma``).

    Paper: Pareek, Oh and Du (2025), Section 6.1 and Appendix F (the laws D_1 and D_0; the variances
    in the form we reconstruct). Book: Chapter 8; the model of ``def-latent-factor-model`` (Chapter 3).
    """
    r = check.integer(r, "r")
    v1 = check.nonnegative(noise_std1, "noise_std1") ** 2
    v2 = check.nonnegative(noise_std2, "noise_std2") ** 2
    corrupted = r * (1 + v1) * (1 + v2)
    return ScoreMoments(mean_clean=float(r), var_clean=r + corrupted, mean_corrupted=0.0,
                        var_corrupted=corrupted)


def _model(model) -> LatentFactorModel:
    if not isinstance(model, LatentFactorModel):
        raise ValueError(f"model must be a LatentFactorModel, got {type(model).__name__}")
    if np.any(model.noise_corr != 0):
        raise ValueError("model must have independent noises (noise_corr = 0)")
    return model


def _root(C: np.ndarray) -> np.ndarray:
    """A square root ``L`` with ``L L^T = C`` for a symmetric positive semi-definite ``C``."""
    w, V = np.linalg.eigh(C)
    return V * np.sqrt(np.clip(w, 0.0, None))


@dataclass(frozen=True)
class _SignalDraws:
    """Monte Carlo draws of the signal coordinates of a pair: ``u = U1^T x = z + a``, ``v = U2^T y``.

    Clean and corrupted draws are stacked, with weights ``eta / draws`` and ``(1 - eta) / draws``, so
    weighted averages are expectations under the mixture. ``a = U1^T xi``, ``at = U2^T xi~``.
    """

    u: np.ndarray
    a: np.ndarray
    v: np.ndarray
    at: np.ndarray
    weight: np.ndarray

    @property
    def score(self) -> np.ndarray:
        return np.einsum("ij,ij->i", self.u, self.v)


def _signal_draws(model: LatentFactorModel, eta: float, draws: int, rng) -> _SignalDraws:
    r = model.r
    Lz = np.linalg.cholesky(model.latent_cov)
    L1 = _root((model.U1.T * model.noise_std1**2) @ model.U1)
    L2 = _root((model.U2.T * model.noise_std2**2) @ model.U2)
    z = rng.standard_normal((2 * draws, r)) @ Lz.T
    zt = np.vstack([z[:draws], rng.standard_normal((draws, r)) @ Lz.T])   # clean, then corrupted
    a = rng.standard_normal((2 * draws, r)) @ L1.T
    at = rng.standard_normal((2 * draws, r)) @ L2.T
    weight = np.r_[np.full(draws, eta / draws), np.full(draws, (1 - eta) / draws)]
    return _SignalDraws(z + a, a, zt + at, at, weight)


def _selection(s: np.ndarray, weight: np.ndarray, threshold, fraction) -> np.ndarray:
    """Selected draws: ``s > threshold``, or ``s > theta_q`` with ``P(s > theta_q) ~ fraction``."""
    if threshold is not None:
        return s > threshold
    order = np.argsort(-s, kind="stable")
    k = int(np.searchsorted(np.cumsum(weight[order]), fraction))   # order[:k + 1] reaches the fraction
    mask = np.zeros(s.size, dtype=bool)
    mask[order[:k + 1]] = True
    return mask


def _conditional_weights(model, eta, rng, threshold, fraction, draws):
    """Signal draws of ``model`` and the weights of the selected ones: ``(draws, w, P)``.

    ``w`` sums to 1 over the selected draws (weighted averages are conditional expectations given
    the selection) and ``P`` is the kept probability.
    """
    eta = check.fraction(eta, "eta")
    rng = check.generator(rng)
    threshold, fraction = _one_rule(threshold, fraction)
    draws = check.integer(draws, "draws", low=100)
    sample = _signal_draws(model, eta, draws, rng)
    w = np.where(_selection(sample.score, sample.weight, threshold, fraction), sample.weight, 0.0)
    kept_probability = float(w.sum())
    if kept_probability <= 0:
        raise ValueError("the threshold selects none of the Monte Carlo draws: lower it")
    return sample, w / kept_probability, kept_probability


def filtered_population_cross_covariance(model, eta: float, rng: np.random.Generator, *,
                                         threshold: float | None = None, fraction: float | None = None,
                                         draws: int = 10**6) -> np.ndarray:
    """``S(theta) = E[x y^T | s > theta]`` (d1 x d2): the target of the student of the true-loading filter.

    ``s`` is the true-loading score; the selection is by ``threshold`` or by a kept ``fraction``
    (then ``theta`` is the score's upper ``fraction``-quantile). The mean of x and y given the
    selection is 0 (the law is invariant under ``(x, y) -> (-x, -y)``), so this is also the centred
    cross-covariance of the kept pairs in the large-n limit.

    Computed exactly up to Monte Carlo error in 4r dimensions, for any diagonal noise: write
    ``xi = U1 a + (I - U1 U1^T) xi`` with ``a = U1^T xi``. The selection depends only on
    ``u = z + a`` and ``v``; the part of ``xi`` outside ``span(U1)`` has conditional mean ``W1 a``,
    ``W1 = (I - U1 U1^T) D1 U1 (U1^T D1 U1)^+`` (``D1 = diag(noise_std1^2)``), and is otherwise
    independent of everything. So ``S(theta) = [U1, W1] E[[u; a][v; a~]^T | sel] [U2, W2]^T``.
    With isotropic noise ``W1 = W2 = 0`` and ``S(theta) = U1 E[u v^T | sel] U2^T``, a multiple of
    ``U1 U2^T`` (the paper's Section 6.2: the filtered target is unbiased). With heteroskedastic
    noise ``W1 != 0``: the filter can bias the target (Chapter 8, "Where it breaks"; measured
    there, not a result of the paper). ``draws`` clean and ``draws`` corrupted pairs are drawn.

    Paper: Pareek, Oh and Du (2025), Section 6.2 and Appendix G (isotropic noise; the exact
    conditional form is derived here).
    Book: Chapter 8;
    ``lem-population-cross-covariance`` (Chapter 3), heteroskedastic noise in ``sec-baselines`` (Chapter 4).
    """
    model = _model(model)
    sample, w, _ = _conditional_weights(model, eta, rng, threshold, fraction, draws)
    left = np.hstack([sample.u, sample.a])                         # (2 draws) x 2r
    right = np.hstack([sample.v, sample.at])
    M = (left * w[:, None]).T @ right                              # E[[u; a][v; a~]^T | sel]
    W = []
    for U, std in ((model.U1, model.noise_std1), (model.U2, model.noise_std2)):
        DU = U * (std**2)[:, None]
        A = U.T @ DU
        W.append((DU - U @ A) @ np.linalg.pinv(A))
    return np.hstack([model.U1, W[0]]) @ M @ np.hstack([model.U2, W[1]]).T


def filtered_first_order_error(model, n: int, eta: float, rng: np.random.Generator, *,
                               threshold: float | None = None, fraction: float | None = None,
                               draws: int = 10**6) -> tuple[float, float]:
    """First-order RMS errors (modality 1, modality 2) of the student of the true-loading filter.

    Derived here (not in the paper). With isotropic noise and ``Sigma_z = I`` the kept pairs'
    cross-covariance targets ``c U1 U2^T``, ``c = E[s | sel] / r``, and to first order
    ``sin Theta_1 ~ (I - U1 U1^T) S_hat U2 / c``, an average of ``n P`` independent terms
    ``w_i v_i^T`` with ``w_i`` the noise of x outside ``span(U1)`` (independent of the selection).
    Hence

        ERR_1 ~ r sqrt(s1^2 (d1 - r) E[||v||^2 | sel] / (n P)) / E[s | sel],

    and ERR_2 with ``(s2, d2, u)``; ``P`` is the kept probability and the r-dimensional
    expectations are Monte Carlo averages over ``draws`` clean and ``draws`` corrupted pairs.
    ``threshold=-inf`` gives the unfiltered first-order error
    (:func:`mmcl_lib.baselines.mmcl_first_order_error`), ``sqrt(r (d1 - r) s1^2 (1 + s2^2) / n) / eta``.
    ``n`` is the number of pairs the filter sees (``n - n // 2`` under Algorithm 1's split). For a
    teacher filter this ignores the teacher's own error (accurate at high signal-to-noise only).

    Paper: not in the paper (derived here; the bound it refines is Pareek, Oh and Du (2025),
    Section 6.2). Book: Chapter 8; ``prop-first-order-error`` (Chapter 3).
    """
    model = _model(model)
    n = check.integer(n, "n", low=2)
    s1, s2 = model.noise_std1, model.noise_std2
    if np.ptp(s1) > 0 or np.ptp(s2) > 0 or not np.allclose(model.latent_cov, np.eye(model.r)):
        raise ValueError("the first-order error needs isotropic noise (constant noise_std1, noise_std2) "
                         "and latent_cov = I")
    sample, w, kept_probability = _conditional_weights(model, eta, rng, threshold, fraction, draws)
    r = model.r
    mean_score = float(w @ sample.score)
    if mean_score <= 0:
        raise ValueError("the selected pairs have mean score <= 0: the first-order error is undefined")
    spread = np.sqrt([s1[0] ** 2 * (model.d1 - r) * (w @ np.sum(sample.v**2, axis=1)),
                      s2[0] ** 2 * (model.d2 - r) * (w @ np.sum(sample.u**2, axis=1))])
    e1, e2 = r * spread / (np.sqrt(n * kept_probability) * mean_score)
    return float(e1), float(e2)
