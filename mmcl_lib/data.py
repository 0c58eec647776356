"""Synthetic data: the latent-factor model of the paper's analysis (Chapters 1, 3-5).

``x_i = U1 z_i + xi_i`` and ``y_i = U2 z~_i + xi~_i`` with orthonormal loadings ``U1`` (d1 x r),
``U2`` (d2 x r), latent covariance ``Sigma_z`` and independent, possibly heteroskedastic, noises.
A fraction ``eta`` of the pairs is correctly matched (``z~_i = z_i``); in the others ``z~_i`` is an
independent draw. Then ``E[x y^T] = eta U1 Sigma_z U2^T``: noise and wrong pairs add no bias.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validation as check


def haar_orthonormal(d: int, r: int, rng: np.random.Generator) -> np.ndarray:
    """A d x r matrix with orthonormal columns, uniformly (Haar) distributed.

    QR of a Gaussian matrix with the signs of R's diagonal moved into Q, which makes Q Haar.
    """
    d = check.integer(d, "d")
    r = check.integer(r, "r", high=d)
    rng = check.generator(rng)
    Q, R = np.linalg.qr(rng.standard_normal((d, r)))
    return Q * np.sign(np.diag(R))


@dataclass(frozen=True)
class PairedSample:
    """n pairs: ``X`` (n x d1), ``Y`` (n x d2); ``matched[i]`` says whether pair i is correct; ``Z`` the latents of X."""

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
    """

    X: np.ndarray
    Y: np.ndarray
    hidden_partner: np.ndarray

    @property
    def n(self) -> int:
        return self.X.shape[0]


def _noise_std(value, d: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(d, float(arr))
    arr = check.as_vector(arr, name, length=d)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0")
    return arr


@dataclass(frozen=True)
class LatentFactorModel:
    """The data model of Chapter 3: loadings, latent covariance and per-coordinate noise levels.

    Build it with :meth:`random` (Haar loadings) or directly from arrays. ``noise_std1`` and
    ``noise_std2`` are per-coordinate standard deviations (diagonal, possibly heteroskedastic noise).
    """

    U1: np.ndarray
    U2: np.ndarray
    latent_cov: np.ndarray
    noise_std1: np.ndarray
    noise_std2: np.ndarray

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
        object.__setattr__(self, "noise_std1", _noise_std(self.noise_std1, U1.shape[0], "noise_std1"))
        object.__setattr__(self, "noise_std2", _noise_std(self.noise_std2, U2.shape[0], "noise_std2"))

    @classmethod
    def random(cls, d1: int, d2: int, r: int, rng: np.random.Generator, *, noise_std1=1.0,
               noise_std2=None, latent_cov=None) -> "LatentFactorModel":
        """Haar-random loadings; ``latent_cov`` defaults to I_r and ``noise_std2`` to ``noise_std1``."""
        r = check.rank(r, d1, d2)
        U1 = haar_orthonormal(d1, r, rng)
        U2 = haar_orthonormal(d2, r, rng)
        cov = np.eye(r) if latent_cov is None else latent_cov
        std2 = noise_std1 if noise_std2 is None else noise_std2
        return cls(U1, U2, cov, noise_std1, std2)

    @property
    def r(self) -> int:
        return self.U1.shape[1]

    @property
    def d1(self) -> int:
        return self.U1.shape[0]

    @property
    def d2(self) -> int:
        return self.U2.shape[0]

    def population_cross_covariance(self, eta: float = 1.0) -> np.ndarray:
        """``E[x y^T] = eta U1 Sigma_z U2^T`` (noise is independent across modalities)."""
        eta = check.fraction(eta, "eta")
        return eta * self.U1 @ self.latent_cov @ self.U2.T

    def _latents(self, n: int, rng) -> np.ndarray:
        L = np.linalg.cholesky(self.latent_cov)
        return rng.standard_normal((n, self.r)) @ L.T

    def _observe(self, Z1, Z2, rng):
        n = Z1.shape[0]
        X = Z1 @ self.U1.T + rng.standard_normal((n, self.d1)) * self.noise_std1
        Y = Z2 @ self.U2.T + rng.standard_normal((n, self.d2)) * self.noise_std2
        return X, Y

    def sample(self, n: int, rng: np.random.Generator, *, eta: float = 1.0) -> PairedSample:
        """Draw n pairs of which ``round(eta * n)`` (chosen at random) are correctly matched."""
        n = check.integer(n, "n", low=2)
        eta = check.fraction(eta, "eta")
        rng = check.generator(rng)
        Z = self._latents(n, rng)
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
