"""How the chapters show things: the house figure style, bands and tables.

Every chapter of the book uses these helpers instead of its own copies, so a chapter stays a
few lines of library calls and runs in any kernel:

- :func:`use_house_style` applies :data:`HOUSE_STYLE`, matplotlib settings sized for the
  rendered book: the content column is about 620 px wide at a 1280 px window and a figure of
  :data:`FIG_WIDTH` inches at :data:`FIG_DPI` dots per inch is 640 px, so font sizes in points
  stay readable; :func:`subplots` makes figures of that width with at most two panels side by
  side.
- :func:`integer_ticks` and :func:`log_ticks` put readable labelled ticks on integer and log axes.
- :func:`band`, :func:`line_with_band` and :func:`sweep_band` draw a mean with a shaded band
  (the last one straight from a :class:`mmcl_lib.book.sweep.SweepResult`).
- :func:`html_table` renders a small table as HTML, one value per cell, that shows as a real
  table in a notebook and in the book (no pandas); :func:`pm` formats "mean ± sd" so that it
  never wraps.

Nothing here computes a result of the paper; the mathematics lives in the core of ``mmcl_lib``.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import (
    FuncFormatter,
    Locator,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    NullLocator,
)

from mmcl_lib.book import style

__all__ = [
    "FIG_DPI",
    "FIG_WIDTH",
    "HOUSE_STYLE",
    "NBSP",
    "HTMLTable",
    "band",
    "html_table",
    "decade_ticks",
    "integer_ticks",
    "line_with_band",
    "log_ticks",
    "pm",
    "subplots",
    "sweep_band",
    "use_house_style",
]

NBSP = "\u00a0"

# --- the house figure style ----------------------------------------------------------------------

FIG_WIDTH = 6.4
"""Width of a full-width figure in inches: 640 px at :data:`FIG_DPI`, shown at about 620 px."""

FIG_DPI = 100

HOUSE_STYLE: dict[str, Any] = {
    "figure.figsize": (FIG_WIDTH, 4.0),
    "figure.dpi": FIG_DPI,
    "savefig.dpi": FIG_DPI,
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,          # style.MIN_FONT_PT: 8.5 px high on a 390 px phone
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.framealpha": 0.85,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.xmargin": 0.03,
    "axes.ymargin": 0.06,    # a line at the lowest value stays above the axis, not on it
    "image.cmap": "viridis",
}
"""matplotlib settings of the house style (see :func:`use_house_style`)."""


def use_house_style() -> None:
    """Apply the book's figure style (:data:`HOUSE_STYLE`) to matplotlib's ``rcParams``.

    Fonts of 11-12 pt on a figure :data:`FIG_WIDTH` inches wide at :data:`FIG_DPI` dpi are
    about 15-17 px tall in the rendered book at 1280 px and at least 8.5 px on a 390 px phone,
    and a line at the lowest value of a plot stays clear of the axis. Call it once, in a
    chapter's first code cell. (Figures made with :func:`subplots` use constrained layout: do
    not call ``fig.tight_layout()`` on them. The style draws a light grid; on an ``imshow``
    heatmap call ``ax.grid(False)``.)

    Returns nothing, so that a call at the end of a cell shows nothing.
    """
    mpl.rcParams.update(HOUSE_STYLE)
    style.install_png_formatter()


def subplots(nrows: int = 1, ncols: int = 1, *, height: float | None = None,
             **kwargs: Any):
    """``plt.subplots`` at the book's width, with at most two panels side by side.

    Parameters
    ----------
    nrows, ncols : int
        Grid of panels; ``ncols`` must be 1 or 2 (three panels in a row shrink their text
        below readable size at the rendered width: stack them or split the figure).
    height : float, optional
        Figure height in inches; default 3.6 per row (4.0 for a single panel).
    **kwargs
        Passed to ``plt.subplots`` (e.g. ``sharey=True``); ``figsize`` is not accepted. The
        layout is ``"constrained"`` unless ``layout=`` says otherwise (so no
        ``fig.tight_layout()`` is needed, and calling it warns).

    Returns
    -------
    fig, axes
        As ``plt.subplots`` returns them.

    Raises
    ------
    ValueError
        If ``ncols`` is not 1 or 2, ``nrows`` is not a positive integer, ``height`` is not
        positive, or ``figsize`` is passed.
    """
    if not isinstance(ncols, numbers.Integral) or ncols not in (1, 2):
        raise ValueError(f"subplots: ncols must be 1 or 2 (at most two panels side by side), got {ncols!r}")
    if not isinstance(nrows, numbers.Integral) or nrows < 1:
        raise ValueError(f"subplots: nrows must be a positive integer, got {nrows!r}")
    if "figsize" in kwargs:
        raise ValueError("subplots: figsize is fixed by the house style; pass height= instead")
    if height is None:
        height = 4.0 if nrows == ncols == 1 else 3.6 * nrows
    if not (isinstance(height, numbers.Real) and math.isfinite(height) and height > 0):
        raise ValueError(f"subplots: height must be a positive number of inches, got {height!r}")
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(FIG_WIDTH, float(height)), **kwargs)


def _axes_of(ax, axis: str):
    if axis not in ("x", "y", "both"):
        raise ValueError(f"axis must be 'x', 'y' or 'both', got {axis!r}")
    return [a for name, a in (("x", ax.xaxis), ("y", ax.yaxis)) if axis in (name, "both")]


def integer_ticks(ax, axis: str = "x") -> None:
    """Ticks only at integers on ``axis`` (``"x"``, ``"y"`` or ``"both"``) of ``ax``.

    For integer quantities (matrix rows, numbers of samples, ranks): no ticks at 2.5.
    """
    for a in _axes_of(ax, axis):
        a.set_major_locator(MaxNLocator(integer=True))


def _tick_label(value: float, _pos=None) -> str:
    return f"{value:g}"


class _ReadableLogLocator(Locator):
    """Major ticks on a log axis with at least two (ideally 3-7) labelled values in view.

    Tries the mantissas 1; 1, 3; 1, 2, 5; 1, 2, 3, 5, 7; 1, ..., 9 per decade and thins decades
    when the range is wide; a range narrower than that gets evenly spaced ticks.
    """

    MANTISSAS = ((1,), (1, 3), (1, 2, 5), (1, 2, 3, 5, 7), tuple(range(1, 10)))

    def __call__(self):
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin, vmax):
        vmin, vmax = sorted((float(vmin), float(vmax)))
        if not (vmax > 0 and math.isfinite(vmin) and math.isfinite(vmax)):
            return np.array([])
        vmin = max(vmin, vmax * 1e-12)
        lo, hi = math.floor(math.log10(vmin)), math.ceil(math.log10(vmax))
        decades = hi - lo
        if decades > 7:   # many decades: every k-th power of ten
            step = math.ceil(decades / 6)
            ticks = [10.0 ** e for e in range(lo - lo % step, hi + 1, step)]
            return np.array([t for t in ticks if vmin <= t * (1 + 1e-9) and t <= vmax * (1 + 1e-9)])
        candidates = []
        for mantissas in self.MANTISSAS:
            ticks = [m * 10.0 ** e for e in range(lo, hi + 1) for m in mantissas]
            candidates.append([t for t in ticks if vmin * (1 - 1e-9) <= t <= vmax * (1 + 1e-9)])
        for minimum in (3, 2):   # the coarsest set with three ticks in view, else with two
            for ticks in candidates:
                if len(ticks) >= minimum:
                    return np.array(ticks)
        return MaxNLocator(nbins=4).tick_values(vmin, vmax)


class _InViewLocator(Locator):
    """The ticks of ``base`` that lie in the view interval (with a margin), for minor log ticks.

    ``LogLocator`` returns ticks for a decade or two beyond the view; matplotlib draws none of them
    but builds a tick object (lines and labels) for each, on every new figure. Dropping them gives
    the same picture with fewer objects to build and lay out (about a fifth of the minor ticks of a
    typical axis).
    """

    def __init__(self, base: Locator):
        self.base = base

    def set_axis(self, axis):
        super().set_axis(axis)
        self.base.set_axis(axis)

    def __call__(self):
        vmin, vmax = sorted(float(v) for v in self.axis.get_view_interval())
        locs = np.asarray(self.base())
        # matplotlib keeps a tick within 1e-10 of the interval width (log units) of the view; the
        # margin here is far wider, so every tick it would draw is kept
        return locs[(locs >= vmin * (1 - 1e-6)) & (locs <= vmax * (1 + 1e-6))]

    def tick_values(self, vmin, vmax):
        return self.base.tick_values(vmin, vmax)


def log_ticks(ax, axis: str = "x", values: Sequence[float] | None = None, *, minor: bool = True) -> None:
    """Labelled ticks on a log-scaled ``axis`` of ``ax``, wherever its range lies.

    matplotlib's default labels only powers of ten, so an axis spanning less than a decade
    shows one tick label or none. With ``values`` the ticks are exactly those values (e.g. the
    grid of a sweep); otherwise a locator chooses 1-2-5 style values that adapt to the final
    limits. Tick labels are plain numbers (``0.05``, ``2000``); minor ticks stay unlabelled, and
    ``minor=False`` leaves them out (an axis over many decades reads as well without them and an
    interactive figure redraws faster). Sets the axis to log scale if it is not already.

    Raises
    ------
    ValueError
        If ``axis`` is not ``"x"``, ``"y"`` or ``"both"``, or ``values`` holds a non-positive
        or non-finite number.
    """
    if values is not None:
        values = np.asarray(values, dtype=float).ravel()
        if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ValueError("log_ticks: values must be a non-empty sequence of positive finite numbers")
    for a in _axes_of(ax, axis):
        (ax.set_xscale if a is ax.xaxis else ax.set_yscale)("log")
        if values is not None:
            a.set_ticks(values, [_tick_label(v) for v in values])
        else:
            a.set_major_locator(_ReadableLogLocator())
            a.set_major_formatter(FuncFormatter(_tick_label))
        a.set_minor_locator(_InViewLocator(LogLocator(subs="auto")) if minor else NullLocator())
        a.set_minor_formatter(NullFormatter())
        # The minor labels are empty strings; hidden, the layout skips measuring them (same picture, and
        # an interactive figure with a log axis redraws about a tenth faster).
        sides = ("labelbottom", "labeltop") if a is ax.xaxis else ("labelleft", "labelright")
        ax.tick_params(axis="x" if a is ax.xaxis else "y", which="minor", **{side: False for side in sides})


# --- bands ---------------------------------------------------------------------------------------


def band(ax, x, lo, hi, *, color=None, alpha: float = 0.2, label: str | None = None, **kwargs):
    """Shade the region between ``lo`` and ``hi`` over ``x`` (a spread over seeds, say).

    Parameters
    ----------
    ax : matplotlib Axes
    x, lo, hi : array_like of the same length
    color : matplotlib colour, optional
    alpha : float
        Opacity of the band, in (0, 1].
    label : str, optional
        Legend entry of the band (usually the line carries the label instead).
    **kwargs
        Passed to ``ax.fill_between``.

    Returns
    -------
    The ``PolyCollection`` made by ``fill_between``.

    Raises
    ------
    ValueError
        If the lengths of ``x``, ``lo`` and ``hi`` differ, or ``alpha`` is outside (0, 1].
    """
    x, lo, hi = (np.asarray(v, dtype=float).ravel() for v in (x, lo, hi))
    if not (x.shape == lo.shape == hi.shape):
        raise ValueError(f"band: x, lo and hi must have the same length, got {x.size}, {lo.size}, {hi.size}")
    if not 0 < alpha <= 1:
        raise ValueError(f"band: alpha must be in (0, 1], got {alpha!r}")
    return ax.fill_between(x, lo, hi, color=color, alpha=alpha, lw=0, label=label, **kwargs)


def line_with_band(ax, x, mean, lo, hi, *, label: str | None = None, color=None,
                   marker: str | None = "o", ls: str = "-", alpha: float = 0.2, **kwargs):
    """A line through ``mean`` with a shaded band from ``lo`` to ``hi``, in one colour.

    ``**kwargs`` go to ``ax.plot`` (a ``linestyle`` among them, as in a
    :func:`mmcl_lib.book.style.look`, takes the place of ``ls``). Returns the ``Line2D`` of the mean.
    """
    ls = kwargs.pop("linestyle", ls)
    x, mean = np.asarray(x, dtype=float).ravel(), np.asarray(mean, dtype=float).ravel()
    if mean.shape != x.shape:
        raise ValueError(f"line_with_band: x and mean must have the same length, got {x.size}, {mean.size}")
    (line,) = ax.plot(x, mean, marker=marker, ls=ls, color=color, label=label, **kwargs)
    band(ax, x, lo, hi, color=line.get_color(), alpha=alpha)
    return line


def sweep_band(ax, x, result, key: str, *, label: str | None = None, color=None,
               marker: str | None = "o", ls: str = "-", index=(...,),
               quantiles: tuple[float, float] = (0.1, 0.9), **kwargs):
    """Mean over seeds of ``key`` in a sweep result, with a band between two quantiles.

    Parameters
    ----------
    ax : matplotlib Axes
    x : array_like
        Horizontal positions (usually a grid of the sweep).
    result : mmcl_lib.book.sweep.SweepResult
        Anything with ``mean(key)`` and ``quantile(key, q)``.
    key : str
        The measured quantity.
    index : index expression, optional
        Selects a slice of a multi-parameter grid (``np.s_[i, :]``); default: everything.
    quantiles : (float, float)
        Lower and upper quantile over seeds of the band; default the 10-90 % band.
    label, color, marker, ls, **kwargs
        As for :func:`line_with_band`.

    Returns
    -------
    The ``Line2D`` of the mean.
    """
    q_lo, q_hi = quantiles
    if not 0 <= q_lo < q_hi <= 1:
        raise ValueError(f"sweep_band: quantiles must satisfy 0 <= lo < hi <= 1, got {quantiles!r}")
    mean = np.asarray(result.mean(key))[index]
    lo = np.asarray(result.quantile(key, q_lo))[index]
    hi = np.asarray(result.quantile(key, q_hi))[index]
    return line_with_band(ax, x, mean, lo, hi, label=label, color=color, marker=marker, ls=ls, **kwargs)


# --- tables --------------------------------------------------------------------------------------


def pm(mean: float, sd: float, fmt: str = ".3f") -> str:
    """``"mean ± sd"`` with non-breaking spaces, so that the pair never wraps in a table cell."""
    return f"{format(float(mean), fmt)}{NBSP}±{NBSP}{format(float(sd), fmt)}"


class HTMLTable:
    """A rendered table: shows as HTML in Jupyter and in the book (``_repr_html_``).

    ``str(table)`` and ``table.html`` are the HTML; ``header`` and ``rows`` keep the cell
    texts (for tests and plain-text use).
    """

    def __init__(self, html_text: str, header: list[str], rows: list[list[str]]):
        self.html = html_text
        self.header = header
        self.rows = rows

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:
        lines = [" | ".join(self.header)] + [" | ".join(r) for r in self.rows]
        return "\n".join(line.replace(NBSP, " ") for line in lines)


_CELL = "padding:0.25em 0.7em;border-bottom:1px solid #ddd;"


def _cell_text(value: Any, float_format: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return format(float(value), float_format)
    return str(value)


def html_table(header: Sequence[Any], rows: Sequence[Sequence[Any]], *, caption: str | None = None,
               align: str | None = None, float_format: str = ".3f") -> HTMLTable:
    """A small HTML table, one value per cell, that displays in notebooks and in the book.

    Cells are escaped text. Strings are kept as they are except that the spaces around
    ``±`` become non-breaking (``"0.419 ± 0.036"`` never wraps); floats are formatted with
    ``float_format``, integers as integers. The table sits in a ``div`` that scrolls
    sideways on a narrow screen, carries the class ``mmcl-table`` (styled by the book's CSS)
    and inline styles, so it looks the same in Jupyter or Colab without the book's CSS.

    Parameters
    ----------
    header : sequence
        Column titles.
    rows : sequence of sequences
        Table rows, each as long as ``header``.
    caption : str, optional
        Shown above the table.
    align : str, optional
        One letter per column, ``l``, ``c`` or ``r``; default: first column left, others right.
    float_format : str
        Format specification for float cells, default ``".3f"``.

    Returns
    -------
    HTMLTable
        Displays as the table (``display(table)`` or as a cell's last expression).

    Raises
    ------
    ValueError
        If ``header`` is empty, a row has a different length, or ``align`` is malformed.
    """
    header = [_cell_text(h, float_format) for h in header]
    if not header:
        raise ValueError("html_table: header must name at least one column")
    cells = []
    for i, row in enumerate(rows):
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"html_table: row {i} has {len(row)} cells, expected {len(header)} (the header's length)")
        cells.append([_cell_text(v, float_format).replace(" ± ", f"{NBSP}±{NBSP}") for v in row])
    if align is None:
        align = "l" + "r" * (len(header) - 1)
    if len(align) != len(header) or set(align) - set("lcr"):
        raise ValueError(f"html_table: align must have one letter l, c or r per column "
                         f"({len(header)}), got {align!r}")
    sides = [{"l": "left", "c": "center", "r": "right"}[a] for a in align]

    def td(tag: str, text: str, side: str) -> str:
        nowrap = "white-space:nowrap;" if NBSP in text else ""   # headers may wrap
        return f'<{tag} style="{_CELL}text-align:{side};{nowrap}">{html.escape(text)}</{tag}>'

    head = "".join(td("th", h, s) for h, s in zip(header, sides))
    body = "".join("<tr>" + "".join(td("td", c, s) for c, s in zip(row, sides)) + "</tr>"
                   for row in cells)
    cap = (f'<caption style="caption-side:top;text-align:left;padding-bottom:0.3em">'
           f"{html.escape(caption)}</caption>") if caption else ""
    text = ('<div class="mmcl-table-wrap" style="overflow-x:auto;max-width:100%">'
            '<table class="mmcl-table" style="border-collapse:collapse;margin:0.5em 0">'
            f"{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
    return HTMLTable(text, header, cells)


def decade_ticks(ax, values, axis: str = "y", *, max_labels: int = 6) -> None:
    """Log scale on ``axis`` with a labelled power of ten at or below the smallest positive value
    and at or above the largest, and at most ``max_labels`` labels in between (every k-th decade).

    Unlike an automatic locator it always labels the bottom of the data, however many decades
    the data span (Chapter 2: weights and distances that reach 1e-15). Sets the limits to the
    outer labelled decades. Raises ``ValueError`` if ``values`` holds no positive finite number.
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        raise ValueError("decade_ticks: values must contain a positive finite number")
    if max_labels < 2:
        raise ValueError(f"decade_ticks: max_labels must be at least 2, got {max_labels!r}")
    lo, hi = math.floor(math.log10(v.min())), math.ceil(math.log10(v.max()))
    hi = max(hi, lo + 1)
    step = max(1, math.ceil((hi - lo) / (max_labels - 1)))
    lo = hi - step * math.ceil((hi - lo) / step)      # the bottom label is a multiple of step below hi
    ticks = [10.0 ** e for e in range(lo, hi + 1, step)]
    log_ticks(ax, axis, ticks, minor=False)
    (ax.set_ylim if axis == "y" else ax.set_xlim)(ticks[0], ticks[-1])
