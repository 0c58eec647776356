"""Interactive figures that work in a live notebook and in the static, kernel-free book.

``explore(plot, {"tau": [0.1, 0.3, 1.0], "n": [50, 200]})`` calls ``plot(tau=..., n=...)``, a
function returning a matplotlib ``Figure``, and shows it with one slider per parameter.

Which version is shown is decided by the environment variable ``MMCL_EXPLORER``:

- ``live`` (the default, e.g. in Jupyter or Colab): ipywidgets sliders that recompute the figure.
  Without a frontend (nbmake) the figure is drawn once for the initial values and nothing waits.
  Each figure is rendered to PNG in one drawing pass (:func:`png_bytes`, the same picture as the
  inline backend's ``bbox_inches="tight"`` display, which draws twice), and the PNG of every slider
  setting already shown is kept, so going back to a setting shows it again without recomputing.
- ``static``: every combination of the slider values is drawn in advance and embedded as PNG
  frames, with plain HTML range inputs and a few lines of inline JavaScript that swap the frame.
  Works offline with no kernel; each slider position shows the figure for those values.

A slider move should only redraw: when the figure shows the result of a computation (a fit, a
sweep), compute it for every slider setting once, before the explorer, with :func:`precompute`, and
let ``plot`` look the result up; the static build computes the same results once as well.

The book build sets ``static`` by loading this module as a Sphinx extension (see ``_config.yml``):
:func:`setup` puts the variable into the environment that the executing kernels inherit.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import os
from typing import Callable, Mapping, Sequence

import ipywidgets as widgets
import matplotlib as mpl
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg

from .. import _validation as check
from . import style

MODE_VARIABLE = "MMCL_EXPLORER"
MODES = ("live", "static")
_ids = itertools.count()      # distinct element ids for repeated demos on one page


def current_mode() -> str:
    """``live`` or ``static``, from ``MMCL_EXPLORER`` (``live`` when unset)."""
    value = os.environ.get(MODE_VARIABLE, "live").strip().lower() or "live"
    if value not in MODES:
        raise ValueError(f"{MODE_VARIABLE} must be one of {MODES}, got {value!r}")
    return value


def _format(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _check_params(params: Mapping[str, Sequence], defaults: Mapping | None):
    grid = check.value_grid(params, "params")
    start = {name: values[0] for name, values in grid.items()}
    for name, value in (defaults or {}).items():
        if name not in grid:
            raise ValueError(f"defaults names {name!r}, which is not in params")
        if value not in grid[name]:
            raise ValueError(f"defaults[{name!r}] = {value!r} is not one of params[{name!r}]")
        start[name] = value
    return grid, start


def precompute(fn: Callable[..., "object"], params: Mapping[str, Sequence]) -> dict[tuple, "object"]:
    """``fn(**values)`` for every combination of the values in ``params``, computed once each.

    Returns a dict keyed by the tuple of values in the order of ``params`` (``{(0.3, 1): ...}`` for
    ``{"tau": [...], "n": [...]}``), so that the ``plot`` function of an interactive figure only
    looks its result up (``results[tau, n]``) and a slider move costs a redraw, not a computation.
    ``params`` may hold only the parameters the computation depends on (a subset of the sliders).
    Used by the interactive figures of Chapters 1, 2 and 5.
    """
    if not callable(fn):
        raise ValueError("fn must be a function of the parameters in params")
    grid = check.value_grid(params, "params")
    names = list(grid)
    return {combo: fn(**dict(zip(names, combo))) for combo in itertools.product(*grid.values())}


def explore(plot: Callable[..., "object"], params: Mapping[str, Sequence], *,
            defaults: Mapping | None = None, mode: str | None = None, max_frames: int = 80,
            dpi: int = 80, description: str = "", labels: Mapping[str, str] | None = None):
    """Show ``plot(**values)`` with a slider for each parameter, live or static (see module docs).

    Parameters
    ----------
    plot : function of keyword arguments returning a matplotlib Figure (the helper closes it).
    params : ``{name: [values, ...]}``; the sliders step through these values in order.
    defaults : initial value per parameter (must be one of its values); first value otherwise.
    mode : ``"live"`` or ``"static"``; ``None`` reads ``MMCL_EXPLORER``.
    max_frames : largest number of value combinations a static demo may precompute.
    dpi : resolution of the static frames.
    description : alt text of the figure (required in the book: a screen reader reads it).
    labels : words shown beside each control (``{"noise_std": "noise level"}``); the parameter's
        name otherwise. A parameter whose values are all strings is a choice among named options:
        buttons in a live notebook, a drop-down list in the static book.
    """
    if not callable(plot):
        raise ValueError("plot must be a function returning a matplotlib Figure")
    grid, start = _check_params(params, defaults)
    words = {name: name for name in grid}
    for name, text in (labels or {}).items():
        if name not in grid:
            raise ValueError(f"labels names {name!r}, which is not in params")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"labels[{name!r}] must be a non-empty string, got {text!r}")
        words[name] = text
    mode = current_mode() if mode is None else mode
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "live":
        return _live(plot, grid, start, words)
    n_frames = 1
    for values in grid.values():
        n_frames *= len(values)
    if n_frames > max_frames:
        raise ValueError(f"the static demo would need {n_frames} frames (more than max_frames="
                         f"{max_frames}); use fewer values per parameter")
    return _static(plot, grid, start, words, dpi=dpi, description=description)


def _draw(plot, values):
    fig = plot(**values)
    if not isinstance(fig, matplotlib.figure.Figure):
        raise ValueError(f"plot must return a matplotlib Figure, got {type(fig).__name__}")
    return fig


class _ReusedRendererCanvas(FigureCanvasAgg):
    """An Agg canvas whose renderer is kept between figures of the same size and dpi.

    matplotlib caches text measurements per renderer; a new figure normally gets a new renderer, so
    every frame of an interactive figure measures the same tick labels and titles again. The
    renderer is cleared before each drawing, so the pixels are those of a fresh one.
    """

    _renderers: dict[tuple, RendererAgg] = {}

    def get_renderer(self) -> RendererAgg:
        width, height = self.get_width_height(physical=True)    # as FigureCanvasAgg.get_renderer
        key = (width, height, self.figure.dpi)
        if key not in self._renderers:
            if len(self._renderers) >= 4:      # a few figure sizes per chapter; do not hoard buffers
                self._renderers.clear()
            self._renderers[key] = RendererAgg(width, height, self.figure.dpi)
        return self._renderers[key]


def png_bytes(fig: matplotlib.figure.Figure) -> bytes:
    """``fig`` as PNG at its own dpi, cropped like ``savefig(..., bbox_inches="tight")``, drawn once.

    The inline backend shows a figure with ``savefig(bbox_inches="tight")``, which draws a figure that
    has a layout engine twice (once to lay it out and measure it, once to paint it). Here the figure
    is painted once, on an Agg renderer kept from the previous frame of the same size (matplotlib's
    text measurements are cached per renderer), the tight bounding box of its artists plus
    ``savefig.pad_inches`` is cut out of the canvas, and a margin that reaches past the canvas is
    filled with the figure's face colour, as ``savefig`` does. The result has the inline display's
    size and content (``savefig`` places the crop at a fraction of a pixel, so anti-aliased edges may
    differ in shade). A figure with an artist outside the canvas (``savefig`` would enlarge the
    picture for it) goes through ``savefig`` instead. Used by the live explorer of every chapter.
    """
    original = fig.canvas
    canvas = _ReusedRendererCanvas(fig)      # becomes fig.canvas until the end
    try:
        canvas.draw()
        renderer = canvas.get_renderer()
        bbox = fig.get_tightbbox(renderer)
        pixels = np.asarray(renderer.buffer_rgba())
        height, width = pixels.shape[:2]     # the buffer's size (get_width_height may round differently)
        if (bbox is None or not np.all(np.isfinite(bbox.extents)) or bbox.x0 < 0 or bbox.y0 < 0
                or bbox.x1 * fig.dpi > width or bbox.y1 * fig.dpi > height):
            fig.set_canvas(original)
            return _savefig_png(fig)    # e.g. a legend outside the figure: savefig enlarges the canvas
        pixels = pixels.copy()
    finally:
        fig.set_canvas(original)
    pad = mpl.rcParams["savefig.pad_inches"]
    pad = pad if isinstance(pad, (int, float)) else 0.1
    padded = bbox.padded(pad)
    x0, y0 = int(np.floor(padded.x0 * fig.dpi)), int(np.floor(padded.y0 * fig.dpi))
    x1, y1 = x0 + int(padded.width * fig.dpi), y0 + int(padded.height * fig.dpi)   # savefig's size
    face = np.round(np.asarray(mpl.colors.to_rgba(fig.get_facecolor())) * 255).astype(np.uint8)
    out = np.empty((y1 - y0, x1 - x0, 4), dtype=np.uint8)
    out[...] = face
    cx0, cx1, cy0, cy1 = max(x0, 0), min(x1, width), max(y0, 0), min(y1, height)
    if cx1 > cx0 and cy1 > cy0:    # rows count from the top in the buffer, from the bottom in bbox
        out[y1 - cy1:y1 - cy0, cx0 - x0:cx1 - x0] = pixels[height - cy1:height - cy0, cx0:cx1]
    buffer = io.BytesIO()
    mpl.image.imsave(buffer, out, format="png", dpi=fig.dpi, metadata={"Software": None})
    return buffer.getvalue()


def _savefig_png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


class FrameCache:
    """PNG frames of one live explorer, by slider setting: each setting is computed and drawn once.

    ``frame(values)`` returns the PNG of ``plot(**values)``, calling ``plot`` only for a setting it
    has not seen (the explorer's contract is that ``plot`` depends on its arguments alone, which the
    static mode relies on as well). The key is the tuple of values in parameter order, so two
    different settings never share a frame.
    """

    def __init__(self, plot: Callable[..., "object"], names: Sequence[str]):
        self.plot = plot
        self.names = tuple(names)
        self.frames: dict[tuple, bytes] = {}

    def frame(self, values: Mapping) -> bytes:
        key = tuple(values[name] for name in self.names)
        if key not in self.frames:
            fig = _draw(self.plot, dict(zip(self.names, key)))
            try:
                self.frames[key] = png_bytes(fig)
            finally:
                plt.close(fig)
        return self.frames[key]


def _is_choice(values) -> bool:
    return all(isinstance(v, str) for v in values)


def _live(plot, grid, start, words):
    cache = FrameCache(plot, list(grid))
    controls = {}
    for name, values in grid.items():
        options = [(_format(v), v) for v in values]
        common = dict(options=options, value=start[name], description=words[name],
                      style={"description_width": "initial"})
        controls[name] = (widgets.ToggleButtons(**common) if _is_choice(values) else
                          widgets.SelectionSlider(**common, continuous_update=False,
                                                  layout=widgets.Layout(width="420px")))

    def show(**values):
        display(Image(data=cache.frame(values), format="png"))

    output = widgets.interactive_output(show, controls)
    return widgets.VBox([widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")),
                         output])


class StaticExplorer:
    """Precomputed frames plus HTML sliders; rich-displays as HTML in a notebook or the book."""

    def __init__(self, html_text: str, n_frames: int):
        self.html = html_text
        self.n_frames = n_frames

    def _repr_html_(self) -> str:
        return self.html


def _static(plot, grid, start, words, *, dpi, description):

    names = list(grid)
    frames, smallest = [], float("inf")
    for combo in itertools.product(*grid.values()):
        fig = _draw(plot, dict(zip(names, combo)))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
        smallest = min(smallest, style.smallest_text_px(fig, drawn=True) * dpi / fig.dpi)
        plt.close(fig)
        frames.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
    digest = hashlib.sha1("".join(frames).encode()).hexdigest()[:10]
    uid = f"mmcl-explorer-{next(_ids)}-{digest}"
    sizes = [len(v) for v in grid.values()]
    labels = [[_format(v) for v in values] for values in grid.values()]
    index = [grid[name].index(start[name]) for name in names]
    first = 0
    for k, i in enumerate(index):
        first = first * sizes[k] + i
    choice = [_is_choice(values) for values in grid.values()]

    def control(k, name):
        word = html.escape(words[name])
        if choice[k]:
            options = "".join(f'<option value="{i}"{" selected" if i == index[k] else ""}>'
                              f'{html.escape(v)}</option>' for i, v in enumerate(labels[k]))
            return f'<select aria-label="{word}">{options}</select>'
        return (f'<input type="range" min="0" max="{sizes[k] - 1}" step="1" value="{index[k]}" '
                f'aria-label="{word}"><output style="min-width:3em;font-family:monospace">'
                f'{html.escape(labels[k][index[k]])}</output>')

    rows = "".join(
        f'<label style="display:inline-flex;align-items:center;gap:.4em;margin-right:1.5em">'
        f'<span>{html.escape(words[name])}</span>{control(k, name)}</label>'
        for k, name in enumerate(names))
    alt = html.escape(description or "figure for the selected parameter values")
    text = f"""<div class="mmcl-explorer" id="{uid}" style="margin:1em 0">
<div class="mmcl-explorer-controls" style="margin-bottom:.5em">{rows}</div>
<img class="mmcl-explorer-frame" data-frame="{first}" alt="{alt}" style="max-width:100%"
 data-smallest-text-px="{smallest:.2f}"
 src="data:image/png;base64,{frames[first]}">
<div style="font-size:85%;color:#666">Precomputed figures, one per slider setting
(run the notebook for live controls).</div>
</div>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var frames = {json.dumps(frames)};
  var labels = {json.dumps(labels)};
  var sizes = {json.dumps(sizes)};
  var inputs = root.querySelectorAll("input[type=range], select");
  var img = root.querySelector("img.mmcl-explorer-frame");
  function update() {{
    var idx = 0;
    for (var k = 0; k < inputs.length; k++) {{
      var i = parseInt(inputs[k].value, 10);
      idx = idx * sizes[k] + i;
      var shown = inputs[k].parentNode.querySelector("output");
      if (shown) shown.textContent = labels[k][i];
    }}
    img.src = "data:image/png;base64," + frames[idx];
    img.setAttribute("data-frame", idx);
  }}
  for (var k = 0; k < inputs.length; k++) {{
    inputs[k].addEventListener("input", update);
    inputs[k].addEventListener("change", update);
  }}
}})();
</script>"""
    return StaticExplorer(text, len(frames))


def setup(app):
    """Sphinx extension hook: kernels started by the book build render static explorers, and draw
    their figures with the inline backend (an ``MPLBACKEND=Agg`` inherited from a headless shell would
    make every ``plt.show()`` in a chapter show nothing)."""
    os.environ[MODE_VARIABLE] = "static"
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
