"""Input checks shared by the public functions: clear ``ValueError`` messages at the boundary."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def as_matrix(value, name: str, *, rows: int | None = None, cols: int | None = None,
              min_rows: int = 1) -> np.ndarray:
    """Return ``value`` as a finite 2-D float array, or raise ``ValueError`` naming ``name``."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got an array with {arr.ndim} dimension(s)")
    if rows is not None and arr.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows, got shape {arr.shape}")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns, got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} rows, got shape {arr.shape}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one column, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


LOSS_NOT_FINITE = ("the loss is not finite at these similarities: check phi, psi and eps "
                   "(for example phi = log needs eps + sum psi > 0)")
"""The one message for a loss of the family that is not finite (dense path and blocked engine alike)."""


def finite_loss(*arrays) -> None:
    """Raise ``ValueError(LOSS_NOT_FINITE)`` unless every entry of every array is finite."""
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise ValueError(LOSS_NOT_FINITE)


def as_vector(value, name: str, *, length: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite 1-D float array, or raise ``ValueError`` naming ``name``."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got {arr.ndim} dimension(s)")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def positive(value, name: str) -> float:
    """Return ``value`` as a float if it is finite and > 0."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return x


def nonnegative(value, name: str) -> float:
    """Return ``value`` as a float if it is finite and >= 0."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}") from None
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


def fraction(value, name: str, *, low_open: bool = True) -> float:
    """Return ``value`` if it lies in (0, 1] (or [0, 1] when ``low_open`` is False)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1], got {value!r}") from None
    ok = (0 < x <= 1) if low_open else (0 <= x <= 1)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return x


def integer(value, name: str, *, low: int = 1, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high], or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if v < low or (high is not None and v > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be an integer in {bound}, got {v}")
    return v


def rank(r, *dims: int, name: str = "r") -> int:
    """Check 1 <= r <= min(dims)."""
    return integer(r, name, low=1, high=min(dims))


def generator(rng, name: str = "rng") -> np.random.Generator:
    """Require an explicit ``numpy.random.Generator`` so every draw is seeded by the caller."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)), "
                         f"got {type(rng).__name__}")
    return rng


def paired(X, Y, *, min_samples: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Check two data matrices with rows as samples and the same number of samples."""
    X = as_matrix(X, "X")
    Y = as_matrix(Y, "Y")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must have the same number of samples (rows), "
                         f"got {X.shape[0]} and {Y.shape[0]}")
    if X.shape[0] < min_samples:
        raise ValueError(f"X and Y need at least {min_samples} samples, got {X.shape[0]}")
    return X, Y


def encoders(G1, G2, d1: int, d2: int) -> tuple[np.ndarray, np.ndarray]:
    """Check encoder matrices G1 (r x d1) and G2 (r x d2) with the same r."""
    G1 = as_matrix(G1, "G1", cols=d1)
    G2 = as_matrix(G2, "G2", cols=d2)
    if G1.shape[0] != G2.shape[0]:
        raise ValueError(f"G1 and G2 must have the same number of rows r, "
                         f"got {G1.shape[0]} and {G2.shape[0]}")
    return G1, G2


def one_of(value, options, name: str):
    """Return ``value`` if it is one of ``options``, or raise ``ValueError`` listing them."""
    if value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def graph(T, name: str = "T") -> np.ndarray:
    """Return a non-empty 2-D 0/1 (or boolean) array as a boolean pairing graph."""
    arr = np.asarray(T)
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {arr.shape}")
    if arr.dtype != bool:
        if not np.all(np.isin(arr, (0, 1))):
            raise ValueError(f"{name} must contain only 0/1 (or booleans)")
        arr = arr.astype(bool)
    return arr


def labels(value, name: str, *, length: int | None = None) -> np.ndarray:
    """Return a non-empty 1-D array of class labels (of ``length`` entries if given)."""
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"{name} must be a non-empty 1-D array of class labels, got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have one label per sample ({length}), got {arr.shape[0]}")
    return arr


def noise_std(value, d: int, name: str) -> np.ndarray:
    """Per-coordinate noise standard deviations: a scalar (broadcast to ``d``) or a length-d vector, >= 0."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(d, float(arr))
    arr = as_vector(arr, name, length=d)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0")
    return arr


def value_grid(params, name: str) -> dict[str, list]:
    """A non-empty mapping from parameter names to non-empty lists of values (sweeps, interactive figures)."""
    if not isinstance(params, Mapping) or not params:
        raise ValueError(f"{name} must be a non-empty dict mapping parameter names to lists of values")
    grid = {}
    for key, values in params.items():
        grid[key] = list(values)
        if not grid[key]:
            raise ValueError(f"{name}[{key!r}] must list at least one value")
    return grid
