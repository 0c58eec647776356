"""Fixtures shared by the unit tests (the repository's top-level conftest.py sets the sizes)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture
def one_blas_thread():
    """Many tiny products: one BLAS thread is faster and avoids oversubscribing a shared machine."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def central_differences(f, A, h=1e-6):
    """Numerical gradient of the scalar function ``f`` at the array ``A`` by central differences."""
    A = np.array(A, dtype=float)
    grad = np.zeros_like(A)
    for idx in np.ndindex(A.shape):
        step = np.zeros_like(A)
        step[idx] = h
        grad[idx] = (f(A + step) - f(A - step)) / (2 * h)
    return grad


@pytest.fixture
def finite_difference():
    """The central-difference gradient, for the gradient checks of every loss."""
    return central_differences


def planted(seed, n=40, d1=6, d2=5, r=2):
    """A small problem with an r-dimensional shared signal: ``(G1, G2, X, Y)``, small random encoders."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, r))
    X = Z @ rng.standard_normal((r, d1)) + 0.5 * rng.standard_normal((n, d1))
    Y = Z @ rng.standard_normal((r, d2)) + 0.5 * rng.standard_normal((n, d2))
    G1, G2 = 0.1 * rng.standard_normal((r, d1)), 0.1 * rng.standard_normal((r, d2))
    return G1, G2, X, Y


@pytest.fixture
def problem():
    """The planted problem of the solver and spectral tests (see :func:`planted`)."""
    return planted
