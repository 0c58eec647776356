"""One look per method across the book, and figure text a phone can read.

- :data:`METHODS` gives every method the book compares one colour (Okabe-Ito, safe for colour
  blindness), one marker and one line style, so MMCL is the same blue circle with a solid line in
  Chapter 3 and in Chapter 7; :func:`look` returns them as ``ax.plot`` keyword arguments.
- :data:`MIN_FONT_PT` is the smallest font size a full-width figure may use: a figure
  :data:`mmcl_lib.book.display.FIG_WIDTH` inches wide at 100 dpi is shown about 358 px wide on a
  390 px phone, where 11 pt text is 8.5 px high.
- :func:`install_png_formatter` makes the notebook's PNGs record the height of their smallest text
  (in the PNG's pixels, a ``tEXt`` chunk ``mmcl:smallest-text-px``), which the rendered-book test
  scales to the width the page shows the image at.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["METHODS", "MIN_FONT_PT", "Look", "look", "smallest_text_px", "png",
           "install_png_formatter"]

MIN_FONT_PT = 11.0
"""Smallest font size (points) of the house style's figure text."""


@dataclass(frozen=True)
class Look:
    """How one method is drawn: legend label, colour, marker and line style."""

    label: str
    color: str
    marker: str
    linestyle: str

    def kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``ax.plot``."""
        return {"label": self.label, "color": self.color, "marker": self.marker,
                "linestyle": self.linestyle}


METHODS: dict[str, Look] = {
    # the paper's method and its single-modality rivals (Chapters 1-4)
    "mmcl": Look("MMCL", "#0072B2", "o", "-"),
    "unimodal_cl": Look("unimodal CL", "#E69F00", "s", "--"),
    "pca": Look("PCA", "#009E73", "^", "-."),
    # Chapter 5: pairs, unpaired data, references
    "paired_only": Look("paired only", "#7F7F7F", "s", ":"),
    "paired_unpaired": Look("paired + detected pairs", "#0072B2", "o", "-"),
    "closed_form": Look("closed form (Lemma 2.1)", "#56B4E9", "D", "--"),
    "oracle": Look("oracle pairing", "#000000", "*", "--"),
    "true_encoders": Look("true encoders", "#000000", "", ":"),
    "paired_long": Look("paired only, as many steps", "#7F7F7F", "v", "-."),
    "unpaired_independent": Look("independent batches", "#AA4499", "x", "-"),
    "matching": Look("matching + closed-form refits", "#117733", "^", "-."),
    # Chapter 7: the classical relatives
    "pls_svd": Look("PLS-SVD", "#CC79A7", "D", ":"),
    "cca": Look("CCA", "#D55E00", "v", "--"),
    "ridge_cca": Look("ridge CCA", "#882255", "P", "-."),
    "robust_cca": Look("robust CCA", "#44AA99", "X", ":"),
    "mmcl_standardised": Look("MMCL, standardised", "#117733", "s", "--"),
    "clip_trained": Look("CLIP, trained", "#332288", "h", "-"),
    # Chapter 8: filtering with a teacher
    "no_filter": Look("no filtering", "#0072B2", "o", "-"),
    "teacher_filter": Look("teacher filtering", "#D55E00", "s", "-"),
    "true_loading_filter": Look("true-loading filtering", "#009E73", "^", "--"),
    "clean_only": Look("clean pairs only", "#7F7F7F", "D", ":"),
    "teacher_filter_half": Look(r"teacher filtering, $\theta = r/2$", "#D55E00", "P", "-."),
    "true_loading_filter_half": Look(r"true-loading filtering, $\theta = r/2$", "#009E73", "v", ":"),
}
"""The look of every method the book draws; keys are the library's method names."""


def look(method: str, **overrides: Any) -> dict[str, Any]:
    """``ax.plot`` keyword arguments for ``method`` (a key of :data:`METHODS`)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    return {**METHODS[method].kwargs(), **overrides}


def smallest_text_px(fig, *, drawn: bool = False) -> float:
    """Height in the PNG's pixels of the smallest visible text of ``fig`` (inf if none).

    Tick labels get their text when the figure is drawn, so a figure not yet drawn (``drawn``
    false) is laid out first; after a ``savefig`` pass ``drawn=True`` to skip that.
    """
    if not drawn:
        fig.draw_without_rendering()
    sizes = [t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, "get_fontsize")
                                                    and hasattr(a, "get_text"))
             if t.get_visible() and t.get_text().strip()]
    return min(sizes) * fig.dpi / 72.0 if sizes else float("inf")


def png(fig) -> bytes:
    """``fig`` as PNG bytes, cropped like the inline backend, with its smallest text recorded."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight",
                metadata={"mmcl:smallest-text-px": f"{smallest_text_px(fig):.2f}"})
    return buf.getvalue()


def install_png_formatter() -> None:
    """In an IPython kernel, show matplotlib figures through :func:`png` (elsewhere: nothing).

    The inline backend registers its own PNG formatter when it starts, which can happen after a
    cell that creates the first figure; so the formatter is installed now and again before every
    cell runs.
    """
    try:  # IPython is there in a notebook kernel, not necessarily elsewhere
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def install(*_):
        shell.display_formatter.formatters["image/png"].for_type(Figure, png)

    plt.close(plt.figure())     # starts the backend now, if it has not started yet
    install()
    callbacks = shell.events.callbacks["pre_run_cell"]
    if not any(getattr(cb, "__name__", "") == "_mmcl_png" for cb in callbacks):
        install.__name__ = "_mmcl_png"
        shell.events.register("pre_run_cell", install)
