"""One switch for experiment sizes, read in one place: the environment variable ``MMCL_SCALE``.

- ``default`` (unset): the sizes a reader runs and the rendered book shows;
- ``quick``: small sizes for the test suite (the repo's ``conftest.py`` sets it for nbmake);
- ``paper``: the larger, paper-scale sweeps (slow; documented in each chapter that has them).
"""

from __future__ import annotations

import os

SCALES = ("quick", "default", "paper")


def current() -> str:
    """The active scale, from ``MMCL_SCALE`` (``default`` when unset)."""
    value = os.environ.get("MMCL_SCALE", "default").strip().lower() or "default"
    if value not in SCALES:
        raise ValueError(f"MMCL_SCALE must be one of {SCALES}, got {value!r}")
    return value


def pick(default, *, quick=None, paper=None):
    """Choose a size by scale: ``pick(2000, quick=200, paper=20000)``; missing ones fall back to ``default``."""
    chosen = {"quick": quick, "paper": paper}.get(current())
    return default if chosen is None else chosen
