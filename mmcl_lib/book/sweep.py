"""Seeded parameter sweeps that return tidy arrays for plotting (Chapters 3-4).

``sweep(fn, {"n": [100, 1000], "eta": [0.5, 1.0]}, seeds=10)`` calls ``fn(rng, n=..., eta=...)``
once per grid cell and seed. ``fn`` returns a number or a dict of numbers. Every cell gets its own
generator, built from the seed and the cell's parameter values alone, so results depend neither on
the order in which cells run nor on which other values are in the grid: a sub-grid reproduces the
corresponding cells of a larger sweep exactly. A progress bar (``progress=``) appears only when asked
for or at ``MMCL_SCALE=paper``; the default and quick scales run silently.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from .. import _validation as check
from . import progress as _progress


@dataclass(frozen=True)
class SweepResult:
    """Outputs of :func:`sweep` on a grid.

    ``grid`` maps each parameter to its values (in the given order), ``seeds`` lists the seeds, and
    ``values[key]`` has shape ``(len(grid[p1]), ..., len(grid[pk]), len(seeds))``: one axis per
    parameter, the last axis over seeds.
    """

    grid: dict[str, np.ndarray]
    seeds: np.ndarray
    values: dict[str, np.ndarray]

    def mean(self, key: str) -> np.ndarray:
        """Average over seeds of ``values[key]`` (shape of the grid)."""
        return self[key].mean(axis=-1)

    def quantile(self, key: str, q: float) -> np.ndarray:
        """The ``q`` quantile over seeds of ``values[key]`` (shape of the grid), for uncertainty bands."""
        q = check.fraction(q, "q", low_open=False)
        return np.quantile(self[key], q, axis=-1)

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.values:
            raise ValueError(f"unknown output {key!r}; the sweep returned {sorted(self.values)}")
        return self.values[key]

    def table(self) -> dict[str, np.ndarray]:
        """Long ("tidy") format: one flat column per parameter, ``seed`` and each output."""
        shape = tuple(v.size for v in self.grid.values()) + (self.seeds.size,)
        axes = list(self.grid.values()) + [self.seeds]
        mesh = np.meshgrid(*axes, indexing="ij")
        columns = {name: m.ravel() for name, m in zip(list(self.grid) + ["seed"], mesh)}
        for key, arr in self.values.items():
            columns[key] = arr.reshape(shape).ravel()
        return columns


def cell_rng(seed: int, params: Mapping | None = None) -> np.random.Generator:
    """The generator of one sweep cell: ``default_rng(SeedSequence(seed, spawn_key=key(params)))``.

    The spawn key holds one 32-bit digest of ``name=repr(value)`` per parameter (NumPy scalars are
    converted to Python ones first), so the stream is a function of the seed and the parameter
    values. Without ``params`` this is
    ``np.random.default_rng(seed)`` itself.
    """
    seed = check.integer(seed, "seed", low=0)
    items = sorted((name, v.item() if isinstance(v, np.generic) else v) for name, v in (params or {}).items())
    key = tuple(int.from_bytes(hashlib.sha256(f"{name}={value!r}".encode()).digest()[:4], "little")
                for name, value in items)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def sweep(fn: Callable[..., float | Mapping[str, float]], grid: Mapping[str, Sequence],
          seeds: int | Sequence[int], *, common_random_numbers: bool = False,
          progress: bool | None = None) -> SweepResult:
    """Evaluate ``fn(rng, **params)`` on every grid cell for every seed.

    Parameters
    ----------
    fn : function of a ``numpy.random.Generator`` and keyword parameters, returning a float or a
        dict of floats (the same keys every time).
    grid : ``{name: [values, ...]}``; the sweep runs over the Cartesian product.
    seeds : number of seeds (then ``0, 1, ..., seeds - 1``) or an explicit list of distinct seeds.
    common_random_numbers : if False (default) each cell draws from its own stream
        ``cell_rng(seed, params)``; if True every cell of a seed uses ``cell_rng(seed)``, so the
        cells of one seed share their random draws (the same loadings across eta, say), which makes
        differences between cells less noisy.
    progress : show a ``tqdm.auto`` bar advancing once per cell and seed: True, False, or None
        (default) for "only at ``MMCL_SCALE=paper``", so the book build and the tests print nothing.
    """
    if not callable(fn):
        raise ValueError("fn must be a function fn(rng, **params)")
    axes = check.value_grid(grid, "grid")
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seed_list = list(range(check.integer(seeds, "seeds")))
    else:
        seed_list = [check.integer(s, "seeds", low=0) for s in seeds]
        if not seed_list or len(set(seed_list)) != len(seed_list):
            raise ValueError("seeds must be a positive count or a non-empty list of distinct seeds")
    shape = tuple(len(v) for v in axes.values()) + (len(seed_list),)
    names = list(axes)
    values: dict[str, np.ndarray] = {}
    with _progress.bar(total=int(np.prod(shape)), desc="sweep", unit="run", progress=progress) as shown:
        for index in itertools.product(*(range(len(v)) for v in axes.values())):
            params = {name: axes[name][i] for name, i in zip(names, index)}
            shown.set_postfix(params, refresh=False)
            for s, seed in enumerate(seed_list):
                rng = cell_rng(seed, None if common_random_numbers else params)
                out = fn(rng, **params)
                out = dict(out) if isinstance(out, Mapping) else {"value": out}
                if not values:
                    values = {key: np.full(shape, np.nan) for key in out}
                if set(out) != set(values):
                    raise ValueError(f"fn returned keys {sorted(out)} at {params}, expected {sorted(values)}")
                for key, v in out.items():
                    values[key][index + (s,)] = float(v)
                shown.update()
    return SweepResult({name: np.asarray(v) for name, v in axes.items()}, np.asarray(seed_list), values)


def loglog_slope(x, y) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (the exponent of a power law y ~ x^slope)."""
    x = check.as_vector(x, "x")
    y = check.as_vector(y, "y", length=x.size)
    if x.size < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y need at least two points, all > 0")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def crossing(x, y, level: float) -> float:
    """The first ``x`` at which the curve ``y(x)`` reaches ``level``, interpolated linearly in ``log x``.

    The points are taken in the given order of ``x``; returns ``nan`` if ``y - level`` never changes
    sign (e.g. Chapter 4's mismatch level ``eta*`` below which unimodal CL beats MMCL, when one
    method wins on the whole grid).
    """
    x = check.as_vector(x, "x")
    y = check.as_vector(y, "y", length=x.size)
    level = float(level)
    if x.size < 2 or np.any(x <= 0):
        raise ValueError("x needs at least two points, all > 0")
    diff = y - level
    for k in range(x.size - 1):
        if diff[k] == 0:
            return float(x[k])
        if diff[k] * diff[k + 1] < 0:
            t = diff[k] / (diff[k] - diff[k + 1])
            return float(np.exp(np.log(x[k]) + t * (np.log(x[k + 1]) - np.log(x[k]))))
    return float(x[-1]) if diff[-1] == 0 else float("nan")
