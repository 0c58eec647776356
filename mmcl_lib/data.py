"""Synthetic data: the latent-factor model of the paper's analysis (Chapters 1, 3-5).

``x_i = U1 z_i + xi_i`` and ``y_i = U2 z~_i + xi~_i`` with orthonormal loadings ``U1`` (d1 x r),
``U2`` (d2 x r), latent covariance ``Sigma_z`` and independent, possibly heteroskedastic, noises.
A fraction ``eta`` of the pairs is correctly matched (``z~_i = z_i``; or, with
``clean_count="binomial"``, each pair with probability ``eta``, Chapter 8); in the others ``z~_i`` is an
independent draw. Then ``E[x y^T] = eta U1 Sigma_z U2^T``: noise and wrong pairs add no bias.

Chapter 4's counter-example breaks the independence of the two noises: with ``noise_corr`` the k-th
noise coordinates of x and y (k < min(d1, d2)) are correlated in every stored pair, and
``E[x y^T]`` gains the term ``C_kk = c_k s1_k s2_k`` that biases the cross-covariance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validation as check


def haar_orthonormal(d: int, r: int, rng: np.random.Generator) -> np.ndarray:
    """A d x r matrix with orthonormal columns, uniformly (Haar) distributed.

    QR of a Gaussian matrix with the signs of R's diagonal moved into Q, which makes Q Haar.

    Paper: Section 5.1 (loadings from Haar-random orthogonal matrices). Book: ``def-latent-factor-model`` (Chapter 3).
    """
    d = check.integer(d, "d")
    r = check.integer(r, "r", high=d)
    rng = check.generator(rng)
    Q, R = np.linalg.qr(rng.standard_normal((d, r)))
    return Q * np.sign(np.diag(R))


@dataclass(frozen=True)
class PairedSample:
    """n pairs: ``X`` (n x d1), ``Y`` (n x d2); ``matched[i]`` says whether pair i is correct; ``Z`` the latents of X.

    Paper: Section 3 (paired data with a fraction eta of correct pairs). Book: ``def-latent-factor-model`` (Chapter 3).
    """

    X: np.ndarray
    Y: np.ndarray
    matched: np.ndarray
    Z: np.ndarray

    @property
    def n(self) -> int:
        return self.X.shape[0]


@dataclass(frozen=True)
class UnpairedSample:
    """Two modalities whose pairing is hidden: ``X[i]`` belongs with ``Y[hidden_partner[i]]``.

    ``hidden_partner`` is for evaluation only; a learner must use ``X`` and ``Y`` alone.

    Paper: Section 4 (unpaired data whose true pairing is hidden). Book: ``def-unpaired-setting`` (Chapter 5).
    """

    X: np.ndarray
    Y: np.ndarray
    hidden_partner: np.ndarray

    @property
    def n(self) -> int:
        return self.X.shape[0]


def heteroskedastic_std(d: int, level: float, ratio: float = 1.0) -> np.ndarray:
    """Per-coordinate noise standard deviations with mean variance ``level**2`` (Chapter 4).

    The variances are log-spaced, so the largest is ``ratio`` times the smallest (``ratio = 1``:
    homoskedastic noise). Coordinate order does not matter for Haar-random loadings.

    Paper: Section 3 (heteroskedastic noise). Book: ``sec-baselines`` (Chapter 4).
    """
    d = check.integer(d, "d")
    level = check.nonnegative(level, "level")
    ratio = check.positive(ratio, "ratio")
    if ratio < 1:
        raise ValueError(f"ratio must be >= 1 (largest over smallest variance), got {ratio!r}")
    variances = np.geomspace(1.0, ratio, d)
    return level * np.sqrt(variances / variances.mean())


@dataclass(frozen=True)
class LatentFactorModel:
    """The data model of Chapter 3: loadings, latent covariance and per-coordinate noise levels.

    Build it with :meth:`random` (Haar loadings) or directly from arrays. ``noise_std1`` and
    ``noise_std2`` are per-coordinate standard deviations (diagonal, possibly heteroskedastic noise).
    ``noise_corr`` (scalar or length ``min(d1, d2)``, values in [-1, 1]; default 0) correlates the
    k-th noise coordinate of x with the k-th of y in every stored pair, matched or not: a nuisance
    written into both modalities by the data pipeline (Chapter 4, "Where it breaks").

    Paper: Section 3, the latent-factor model. Book: ``def-latent-factor-model`` (Chapter 3).
    """

    U1: np.ndarray
    U2: np.ndarray
    latent_cov: np.ndarray
    noise_std1: np.ndarray
    noise_std2: np.ndarray
    noise_corr: np.ndarray | float = 0.0

    def __post_init__(self):
        U1 = check.as_matrix(self.U1, "U1")
        r = U1.shape[1]
        U2 = check.as_matrix(self.U2, "U2", cols=r)
        for U, name in ((U1, "U1"), (U2, "U2")):
            if U.shape[0] < r or not np.allclose(U.T @ U, np.eye(r), atol=1e-8):
                raise ValueError(f"{name} must be d x r with orthonormal columns")
        cov = check.as_matrix(self.latent_cov, "latent_cov", rows=r, cols=r)
        if not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() <= 0:
            raise ValueError("latent_cov must be symmetric positive definite")
        object.__setattr__(self, "U1", U1)
        object.__setattr__(self, "U2", U2)
        object.__setattr__(self, "latent_cov", cov)
        object.__setattr__(self, "noise_std1", check.noise_std(self.noise_std1, U1.shape[0], "noise_std1"))
        object.__setattr__(self, "noise_std2", check.noise_std(self.noise_std2, U2.shape[0], "noise_std2"))
        m = min(U1.shape[0], U2.shape[0])
        corr = np.asarray(self.noise_corr, dtype=float)
        corr = check.as_vector(np.full(m, float(corr)) if corr.ndim == 0 else corr, "noise_corr", length=m)
        if np.any(np.abs(corr) > 1):
            raise ValueError("noise_corr must lie in [-1, 1]")
        object.__setattr__(self, "noise_corr", corr)

    @classmethod
    def random(cls, d1: int, d2: int, r: int, rng: np.random.Generator, *, noise_std1=1.0,
               noise_std2=None, latent_cov=None, noise_corr=0.0) -> "LatentFactorModel":
        """Haar-random loadings; ``latent_cov`` defaults to I_r and ``noise_std2`` to ``noise_std1``."""
        r = check.rank(r, d1, d2)
        U1 = haar_orthonormal(d1, r, rng)
        U2 = haar_orthonormal(d2, r, rng)
        cov = np.eye(r) if latent_cov is None else latent_cov
        std2 = noise_std1 if noise_std2 is None else noise_std2
        return cls(U1, U2, cov, noise_std1, std2, noise_corr)

    @property
    def r(self) -> int:
        return self.U1.shape[1]

    @property
    def d1(self) -> int:
        return self.U1.shape[0]

    @property
    def d2(self) -> int:
        return self.U2.shape[0]

    def noise_cross_covariance(self) -> np.ndarray:
        """``E[xi xi~^T]`` (d1 x d2): ``c_k s1_k s2_k`` at (k, k), zero elsewhere; zero by default."""
        m = self.noise_corr.size
        C = np.zeros((self.d1, self.d2))
        C[np.arange(m), np.arange(m)] = self.noise_corr * self.noise_std1[:m] * self.noise_std2[:m]
        return C

    def population_cross_covariance(self, eta: float = 1.0) -> np.ndarray:
        """``E[x y^T] = eta U1 Sigma_z U2^T + E[xi xi~^T]`` (Chapter 3, eq. of the population target).

        The second term is zero unless ``noise_corr`` is set (Chapter 4's counter-example).
        """
        eta = check.fraction(eta, "eta")
        return eta * self.U1 @ self.latent_cov @ self.U2.T + self.noise_cross_covariance()

    def population_covariance(self, modality: int = 1) -> np.ndarray:
        """``E[x x^T] = U1 Sigma_z U1^T + diag(s1^2)`` (modality 1) or the same for y (modality 2).

        The target of PCA on one modality (Chapter 4): heteroskedastic noise makes it biased.
        """
        if modality not in (1, 2):
            raise ValueError(f"modality must be 1 or 2, got {modality!r}")
        U, std = (self.U1, self.noise_std1) if modality == 1 else (self.U2, self.noise_std2)
        return U @ self.latent_cov @ U.T + np.diag(std**2)

    def _latents(self, n: int, rng) -> np.ndarray:
        L = np.linalg.cholesky(self.latent_cov)
        return rng.standard_normal((n, self.r)) @ L.T

    def _observe(self, Z1, Z2, rng):
        n = Z1.shape[0]
        E1 = rng.standard_normal((n, self.d1))
        E2 = rng.standard_normal((n, self.d2))
        c = self.noise_corr
        if np.any(c != 0):
            m = c.size
            E2[:, :m] = c * E1[:, :m] + np.sqrt(1 - c**2) * E2[:, :m]
        X = Z1 @ self.U1.T + E1 * self.noise_std1
        Y = Z2 @ self.U2.T + E2 * self.noise_std2
        return X, Y

    def sample(self, n: int, rng: np.random.Generator, *, eta: float = 1.0,
               clean_count: str = "fixed") -> PairedSample:
        """Draw n pairs, a fraction ``eta`` of them correctly matched.

        ``clean_count="fixed"`` (default; a fraction of the sample, as in the paper's Section 3
        and Chapters 3-4): exactly ``round(eta * n)`` pairs, chosen at random, are correct. ``clean_count="binomial"``: each
        pair is correct independently with probability ``eta`` (a Bernoulli coin), so the number
        of correct pairs is Binomial(n, eta) (Pareek, Oh and Du (2025), Section 3.1, Assumption 1;
        Chapter 8). The two differ by O(sqrt(n)) correct pairs, a relative change of
        O(1/sqrt(eta n)) in the signal. Either way a wrong pair's second latent is an independent
        draw of the latent law.
        """
        n = check.integer(n, "n", low=2)
        eta = check.fraction(eta, "eta")
        rng = check.generator(rng)
        check.one_of(clean_count, ("fixed", "binomial"), "clean_count")
        Z = self._latents(n, rng)
        if clean_count == "binomial":
            matched = rng.random(n) < eta
        else:
            matched = np.zeros(n, dtype=bool)
            matched[rng.choice(n, size=int(round(eta * n)), replace=False)] = True
        Z2 = np.where(matched[:, None], Z, self._latents(n, rng))
        X, Y = self._observe(Z, Z2, rng)
        return PairedSample(X, Y, matched, Z)

    def sample_unpaired(self, N: int, rng: np.random.Generator) -> UnpairedSample:
        """Draw N true pairs and hide their pairing by shuffling the rows of Y."""
        N = check.integer(N, "N", low=2)
        rng = check.generator(rng)
        Z = self._latents(N, rng)
        X, Y = self._observe(Z, Z, rng)
        order = rng.permutation(N)               # Y_shuffled[k] = Y[order[k]]
        partner = np.empty(N, dtype=int)
        partner[order] = np.arange(N)            # X[i] pairs with Y_shuffled[partner[i]]
        return UnpairedSample(X, Y[order], partner)
