"""Interactive figures that work in a live notebook and in the static, kernel-free book.

``explore(plot, {"tau": [0.1, 0.3, 1.0], "n": [50, 200]})`` calls ``plot(tau=..., n=...)``, a
function returning a matplotlib ``Figure``, and shows it with one slider per parameter.

Which version is shown is decided by the environment variable ``MMCL_EXPLORER``:

- ``live`` (the default, e.g. in Jupyter or Colab): ipywidgets sliders that recompute the figure.
  Without a frontend (nbmake) the figure is drawn once for the initial values and nothing waits.
- ``static``: every combination of the slider values is drawn in advance and embedded as PNG
  frames, with plain HTML range inputs and a few lines of inline JavaScript that swap the frame.
  Works offline with no kernel; each slider position shows the figure for those values.

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
import matplotlib.figure
import matplotlib.pyplot as plt
from IPython.display import display

from .. import _validation as check

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


def explore(plot: Callable[..., "object"], params: Mapping[str, Sequence], *,
            defaults: Mapping | None = None, mode: str | None = None, max_frames: int = 80,
            dpi: int = 80, description: str = ""):
    """Show ``plot(**values)`` with a slider for each parameter, live or static (see module docs).

    Parameters
    ----------
    plot : function of keyword arguments returning a matplotlib Figure (the helper closes it).
    params : ``{name: [values, ...]}``; the sliders step through these values in order.
    defaults : initial value per parameter (must be one of its values); first value otherwise.
    mode : ``"live"`` or ``"static"``; ``None`` reads ``MMCL_EXPLORER``.
    max_frames : largest number of value combinations a static demo may precompute.
    dpi : resolution of the static frames.
    description : alt text of the static frames.
    """
    if not callable(plot):
        raise ValueError("plot must be a function returning a matplotlib Figure")
    grid, start = _check_params(params, defaults)
    mode = current_mode() if mode is None else mode
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "live":
        return _live(plot, grid, start)
    n_frames = 1
    for values in grid.values():
        n_frames *= len(values)
    if n_frames > max_frames:
        raise ValueError(f"the static demo would need {n_frames} frames (more than max_frames="
                         f"{max_frames}); use fewer values per parameter")
    return _static(plot, grid, start, dpi=dpi, description=description)


def _draw(plot, values):
    fig = plot(**values)
    if not isinstance(fig, matplotlib.figure.Figure):
        raise ValueError(f"plot must return a matplotlib Figure, got {type(fig).__name__}")
    return fig


def _live(plot, grid, start):
    controls = {
        name: widgets.SelectionSlider(options=[(_format(v), v) for v in values], value=start[name],
                                      description=name, continuous_update=False,
                                      style={"description_width": "initial"},
                                      layout=widgets.Layout(width="420px"))
        for name, values in grid.items()
    }

    def show(**values):
        fig = _draw(plot, values)
        display(fig)
        plt.close(fig)

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


def _static(plot, grid, start, *, dpi, description):

    names = list(grid)
    frames = []
    for combo in itertools.product(*grid.values()):
        fig = _draw(plot, dict(zip(names, combo)))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
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
    rows = "".join(
        f'<label style="display:inline-flex;align-items:center;gap:.4em;margin-right:1.5em">'
        f'<span>{html.escape(name)}</span>'
        f'<input type="range" min="0" max="{sizes[k] - 1}" step="1" value="{index[k]}" '
        f'aria-label="{html.escape(name)}">'
        f'<output style="min-width:3em;font-family:monospace">{html.escape(labels[k][index[k]])}</output>'
        f'</label>'
        for k, name in enumerate(names))
    alt = html.escape(description or "figure for the selected parameter values")
    text = f"""<div class="mmcl-explorer" id="{uid}" style="margin:1em 0">
<div class="mmcl-explorer-controls" style="margin-bottom:.5em">{rows}</div>
<img class="mmcl-explorer-frame" data-frame="{first}" alt="{alt}" style="max-width:100%"
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
  var inputs = root.querySelectorAll("input[type=range]");
  var outputs = root.querySelectorAll("output");
  var img = root.querySelector("img.mmcl-explorer-frame");
  function update() {{
    var idx = 0;
    for (var k = 0; k < inputs.length; k++) {{
      var i = parseInt(inputs[k].value, 10);
      idx = idx * sizes[k] + i;
      outputs[k].textContent = labels[k][i];
    }}
    img.src = "data:image/png;base64," + frames[idx];
    img.setAttribute("data-frame", idx);
  }}
  for (var k = 0; k < inputs.length; k++) inputs[k].addEventListener("input", update);
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
