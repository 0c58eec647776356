"""Real data, offline: two "modalities" cut from scikit-learn's handwritten digits (Chapter 6).

The digits data set (1797 greyscale 8x8 images of the digits 0-9, the UCI "optdigits" test set)
ships inside scikit-learn, so nothing is downloaded. Each image is split into two disjoint sets of
pixels, for example its top and bottom halves, and the two halves of the same image form an
instance-level pair ``(x_i, y_i)``. Both modalities are standardised column by column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validation as check

#: The ways to cut an 8x8 image into two modalities of 32 pixels each.
SPLITS = ("top-bottom", "left-right", "checkerboard")


@dataclass(frozen=True)
class DigitPairs:
    """Instance pairs from the digits: ``X`` (n x d1) and ``Y`` (n x d2) come from the same images.

    ``labels[i]`` is the digit (0-9) shown in image i; ``split`` names how the images were cut.
    """

    X: np.ndarray
    Y: np.ndarray
    labels: np.ndarray
    split: str

    @property
    def n(self) -> int:
        return self.X.shape[0]

    def subset(self, index) -> "DigitPairs":
        """The pairs selected by ``index`` (an integer array or a boolean mask), in that order."""
        index = np.asarray(index)
        if index.dtype != bool and not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"index must be an integer array or a boolean mask, got dtype {index.dtype}")
        if index.dtype == bool and index.shape != (self.n,):
            raise ValueError(f"a boolean index must have shape ({self.n},), got {index.shape}")
        return DigitPairs(self.X[index], self.Y[index], self.labels[index], self.split)


def _split_masks(split: str) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.indices((8, 8))
    first = {"top-bottom": rows < 4, "left-right": cols < 4,
             "checkerboard": (rows + cols) % 2 == 0}[split]
    return first.ravel(), ~first.ravel()


def _standardise(A: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per column; constant columns (pixels that are always blank) stay 0."""
    std = A.std(axis=0)
    return (A - A.mean(axis=0)) / np.where(std > 0, std, 1.0)


def load_digit_pairs(split: str = "top-bottom", *, standardise: bool = True) -> DigitPairs:
    """Load the 1797 digits and cut each image into two modalities of 32 pixels (Chapter 6).

    Parameters
    ----------
    split : ``"top-bottom"`` (x = rows 0-3, y = rows 4-7), ``"left-right"`` (columns 0-3 / 4-7)
        or ``"checkerboard"`` (pixels with even / odd row + column).
    standardise : if True, every pixel column of each modality is centred and scaled to unit
        variance over the whole data set (a label-free preprocessing step).

    Raises
    ------
    ImportError
        if scikit-learn, which ships the data, is not installed.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError("load_digit_pairs needs scikit-learn, which ships the digits data set "
                          "(no download): pip install scikit-learn") from error
    digits = load_digits()
    pixels = digits.images.reshape(-1, 64).astype(float)
    first, second = _split_masks(split)
    X, Y = pixels[:, first], pixels[:, second]
    if standardise:
        X, Y = _standardise(X), _standardise(Y)
    return DigitPairs(X, Y, digits.target.astype(int), split)


def random_partition(n: int, sizes, rng: np.random.Generator) -> list[np.ndarray]:
    """Disjoint random index sets of the given ``sizes`` drawn from ``range(n)`` (train/test splits).

    ``random_partition(1797, [500, 800], rng)`` returns two index arrays with no index in common.
    """
    n = check.integer(n, "n")
    sizes = [check.integer(s, "sizes", low=1) for s in np.atleast_1d(sizes).tolist()]
    if sum(sizes) > n:
        raise ValueError(f"sizes must add up to at most n={n}, got {sum(sizes)}")
    order = check.generator(rng).permutation(n)
    ends = np.cumsum(sizes)
    return [order[end - size:end] for size, end in zip(sizes, ends)]


def wrong_pairing(n: int, eta: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A reordering of the y's that keeps a fraction ``eta`` of n pairs and breaks the others (Chapter 6).

    Returns ``(order, matched)``: ``(X, Y[order])`` has ``round(eta * n)`` correct pairs, chosen at
    random and flagged in ``matched``; the other y's are cycled among the wrong pairs, so none of
    them keeps its own partner. This is the real-data version of the mismatch model of Chapter 4.
    """
    n = check.integer(n, "n", low=2)
    eta = check.fraction(eta, "eta")
    rng = check.generator(rng)
    n_wrong = n - int(round(eta * n))
    if n_wrong == 1:
        raise ValueError(f"eta={eta:g} leaves exactly one wrong pair out of n={n}, which cannot be "
                         "re-paired with another wrong pair; change eta or n")
    wrong = rng.choice(n, size=n_wrong, replace=False)
    order = np.arange(n)
    order[wrong] = np.roll(wrong, 1)
    matched = np.ones(n, dtype=bool)
    matched[wrong] = False
    return order, matched
