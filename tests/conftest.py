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
