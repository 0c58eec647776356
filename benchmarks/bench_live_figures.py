"""Benchmark: redraw time of every interactive figure (the time a reader waits after one slider move).

Executes each chapter (``book/*.ipynb``, default scale unless MMCL_SCALE is set) with nbclient in
static-explorer mode, with a first cell that wraps ``mmcl_lib.book.explorer._draw``: for every frame it
records the time of the chapter's plot function (what a live slider move re-runs, including cache
lookups or recomputation) plus rendering the figure to PNG the way the live explorer shows it
(``explorer.png_bytes``: one drawing pass at the figure's dpi, i.e. the book's 100 dpi, cropped like
the inline backend's ``bbox_inches="tight"``). A setting shown before is not redrawn in a live
notebook (the explorer keeps its PNG); the numbers here are for a first visit. The static build
computes the same frames (and renders them with ``savefig`` at 80 dpi, about as costly).
It also records the wall time of each cell that draws frames (IPython's ``pre_run_cell`` /
``post_run_cell`` events): whatever a chapter computes once before its explorer (a sweep the slider
only indexes into) shows up there, so moving work out of the frames cannot hide it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import _common as C

HOOK = r'''
import json as _json, time as _time, inspect as _inspect
import mmcl_lib.book.explorer as _ex
_orig_draw = _ex._draw
def _timed_draw(plot, values, _log=LOGFILE):
    t0 = _time.perf_counter()
    fig = _orig_draw(plot, values)
    t1 = _time.perf_counter()
    _ex.png_bytes(fig)                                       # what the live explorer displays
    t2 = _time.perf_counter()
    frame = _inspect.stack()[2]
    _cell["frames"] += 1
    with open(_log, "a") as fh:
        fh.write(_json.dumps({"plot": getattr(plot, "__name__", "?"), "cell_line": frame.lineno,
                              "cell": _cell["count"], "values": {k: str(v) for k, v in values.items()},
                              "plot_s": t1 - t0, "render_s": t2 - t1}) + "\n")
    return fig
_ex._draw = _timed_draw
_cell = {"count": 0, "frames": 0, "t0": 0.0}
def _pre(*_args):
    _cell.update(count=_cell["count"] + 1, frames=0, t0=_time.perf_counter())
def _post(*_args, _log=LOGFILE):
    if _cell["frames"]:
        with open(_log, "a") as fh:
            fh.write(_json.dumps({"cell": _cell["count"], "cell_s": _time.perf_counter() - _cell["t0"]}) + "\n")
get_ipython().events.register("pre_run_cell", _pre)
get_ipython().events.register("post_run_cell", _post)
'''


def run_notebook(path: Path, log: Path, timeout: int) -> str:
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(HOOK.replace("LOGFILE", repr(str(log)))))
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return "ok"
    except Exception as exc:                                   # report, do not stop the benchmark
        return f"error: {type(exc).__name__}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="notebook stems to run (default: all)")
    ap.add_argument("--timeout", type=int, default=1200)
    ap.add_argument("--keep", type=Path, help="folder to keep each chapter's per-frame log in (JSON lines)")
    ap.add_argument("--dry-run", action="store_true", help="print the table instead of writing RESULTS.md")
    args = ap.parse_args()
    os.environ["MMCL_EXPLORER"] = "static"
    os.environ.setdefault("MPLBACKEND", "Agg")
    before = C.load()
    books = sorted((C.ROOT / "book").glob("*.ipynb"))
    if args.only:
        books = [b for b in books if b.stem in args.only]
    rows = []
    for nbp in books:
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "frames.jsonl"
            t0 = time.perf_counter()
            status = run_notebook(nbp, log, args.timeout)
            wall = time.perf_counter() - t0
            recs = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                (args.keep / f"{nbp.stem}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
        frames = [r for r in recs if "plot_s" in r]
        cells = {r["cell"]: r["cell_s"] for r in recs if "cell_s" in r}
        print(f"{nbp.stem}: {status}, {wall:.0f} s, {len(frames)} frames", flush=True)
        groups: dict = {}
        for rec in frames:
            groups.setdefault((rec["plot"], rec["cell"], rec["cell_line"]), []).append(rec)
        for (plot, cell, _), group in groups.items():
            ts = sorted(r["plot_s"] + r["render_s"] for r in group)
            renders = sorted(r["render_s"] for r in group)
            med, worst = ts[len(ts) // 2], ts[-1]
            rows.append([nbp.stem, f"`{plot}`", len(ts), f"{med:.3f}", f"{worst:.3f}",
                         f"{renders[len(renders) // 2]:.3f}", f"{sum(ts):.1f}",
                         f"{cells[cell]:.1f}" if cell in cells else "?",
                         "met" if med < 0.3 and worst < 1.0 else "MISSED"])
        if not groups:
            rows.append([nbp.stem, "(no interactive figure)", 0, "", "", "", "", "", ""])
    body = "\n".join([
        "## Interactive figures: redraw time per slider move", "",
        "Per interactive figure: the time of one frame = the chapter's plot function for one slider "
        "setting (cached sweeps are only indexed; anything else is recomputed) plus rendering the "
        "figure to PNG as the live explorer does (one drawing pass at 100 dpi, cropped like the inline "
        "backend's bbox_inches=\"tight\"). A live slider move to a setting not shown "
        "before re-runs exactly this (a setting shown before is redisplayed from the explorer's PNG "
        "cache); the static build computes every frame once, so *total* is about the build time the "
        "frames add. Goal: median < 0.3 s and worst < 1 s. "
        "The first frame of a figure may include filling a cache the later frames reuse. *render* is the "
        "median PNG rendering part of a frame. *cell* is the wall time of the whole cell that shows the "
        "figure: whatever is computed once before the explorer (sweeps the sliders only index into) plus "
        "drawing every frame (here twice: the static frame and the timed PNG), i.e. the wait when the "
        "cell is run.", "",
        C.md_table(["chapter", "plot function", "frames", "median (s)", "worst (s)", "render (s)", "total (s)",
                    "cell (s)", "goal"], rows), "",
        f"Scale: MMCL_SCALE={os.environ.get('MMCL_SCALE', 'default')}.",
        C.footer(before),
    ])
    if args.dry_run:
        print(body)
    else:
        C.write_section("bench_live_figures", body)


if __name__ == "__main__":
    main()
