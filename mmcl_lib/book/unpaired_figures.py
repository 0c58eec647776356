"""Looks and small figure helpers of Chapter 5 (``ch-unpaired``).

The Section 5.1 experiment (:mod:`mmcl_lib.book.unpaired_experiment`) names its methods
``paired_only``, ``paired_unpaired``, ``oracle`` (the true loadings as encoders), ...; the house
style (:data:`mmcl_lib.book.style.METHODS`) gives each method of the book one look.
:func:`method_look` maps the first onto the second, so that the chapter's figures and the
recorded figure of ``experiments/`` draw every method as the rest of the book does:

- ``oracle`` of the experiment is the true encoders (``style`` key ``true_encoders``; the
  ``style`` key ``oracle`` is the *oracle pairing* of ``fig-unpaired-oracle-pairing``);
- a ``<method>_reshuffled`` variant keeps the colour of ``<method>``, is dashed and marked
  with crosses, and says "reshuffled" in its label.

:func:`bar_labels`
writes each bar's value above (or beside) it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import style

__all__ = ["STYLE_KEY", "VARIANT_SUFFIX", "method_look", "bar_labels"]

STYLE_KEY = {"oracle": "true_encoders"}
"""Experiment method names whose house look has another key in :data:`style.METHODS`."""

VARIANT_SUFFIX = "_reshuffled"
"""Suffix of the experiment's reshuffled-batches variants."""


def method_look(method: str, **overrides: Any) -> dict[str, Any]:
    """``ax.plot`` keyword arguments (label, colour, marker, line style) of an experiment method.

    Parameters
    ----------
    method : str
        A method of :data:`mmcl_lib.book.unpaired_experiment.METHODS` or a key of
        :data:`mmcl_lib.book.style.METHODS`.
    **overrides
        Replace any of the returned keyword arguments.

    Raises
    ------
    ValueError
        If ``method`` has no look.
    """
    if not isinstance(method, str):
        raise ValueError(f"method must be a string, got {method!r}")
    variant = method.endswith(VARIANT_SUFFIX)
    base = method[: -len(VARIANT_SUFFIX)] if variant else method
    kw = style.look(STYLE_KEY.get(base, base))
    if variant:
        kw.update(label=f"{kw['label']}, reshuffled", marker="x", linestyle="--")
    kw.update(overrides)
    return kw


def bar_labels(ax, values: Sequence[float], *, horizontal: bool = False, fmt: str = ".2f",
               pad: float = 0.02) -> list:
    """Write each bar's value next to its end; returns the text objects.

    ``values`` in bar order; vertical bars get their label above, horizontal bars (``barh``)
    to the right. ``pad`` is in data units.
    """
    texts = []
    for k, v in enumerate(values):
        if horizontal:
            texts.append(ax.text(v + pad, k, format(v, fmt), va="center"))
        else:
            texts.append(ax.text(k, v + pad, format(v, fmt), ha="center", va="bottom"))
    return texts
