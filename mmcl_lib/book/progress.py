"""Progress bars for the long runs, silent unless asked for.

``tqdm.auto`` shows a widget in Jupyter and a text bar in a terminal. The book build, the test
suite and CI logs stay free of progress output: bars appear only when a caller asks for them
(``progress=True``, a ``--progress`` flag) or, for ``progress=None``, when ``MMCL_SCALE=paper``
(the slow paper-scale runs a reader starts on purpose). Used by ``sweep`` (Chapters 3-4),
``experiments/reproduce_unpaired.py`` (Chapter 5) and ``benchmarks/run_all.py``.
"""

from __future__ import annotations

from typing import Iterable

from tqdm.auto import tqdm

from . import scale


def wanted(progress: bool | None) -> bool:
    """Whether to show progress: ``progress`` itself, or for ``None`` whether ``MMCL_SCALE=paper``."""
    if progress is None:
        return scale.current() == "paper"
    if not isinstance(progress, bool):
        raise ValueError(f"progress must be True, False or None, got {progress!r}")
    return progress


def bar(iterable: Iterable | None = None, *, total: int | None = None, desc: str | None = None,
        progress: bool | None = None, **kwargs) -> tqdm:
    """A ``tqdm.auto`` bar that is disabled (prints nothing at all) unless :func:`wanted` says so.

    Extra keyword arguments go to ``tqdm`` (``initial=``, ``unit=``, ...).
    """
    return tqdm(iterable, total=total, desc=desc, disable=not wanted(progress), dynamic_ncols=True, **kwargs)
