"""Benchmark: redraw time of every interactive figure (the time a reader waits after one slider move).

Executes each chapter (``book/*.ipynb``, default scale unless MMCL_SCALE is set) with nbclient in
static-explorer mode, with a first cell that wraps ``mmcl_lib.book.explorer._draw``: for every frame it
records the time of the chapter's plot function (what a live slider move re-runs, including cache
lookups or recomputation) plus rendering the figure to PNG at the notebook's default resolution. The
static build precomputes exactly these frames, so the same numbers are the build's per-frame cost.
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
import io as _io, json as _json, time as _time, inspect as _inspect
import mmcl_lib.book.explorer as _ex
_orig_draw = _ex._draw
def _timed_draw(plot, values, _log=LOGFILE):
    t0 = _time.perf_counter()
    fig = _orig_draw(plot, values)
    t1 = _time.perf_counter()
    fig.savefig(_io.BytesIO(), format="png")
    t2 = _time.perf_counter()
    frame = _inspect.stack()[2]
    with open(_log, "a") as fh:
        fh.write(_json.dumps({"plot": getattr(plot, "__name__", "?"), "cell_line": frame.lineno,
                              "values": {k: str(v) for k, v in values.items()},
                              "plot_s": t1 - t0, "render_s": t2 - t1}) + "\n")
    return fig
_ex._draw = _timed_draw
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
        print(f"{nbp.stem}: {status}, {wall:.0f} s, {len(recs)} frames", flush=True)
        groups: dict = {}
        for rec in recs:
            groups.setdefault((rec["plot"], rec["cell_line"]), []).append(rec["plot_s"] + rec["render_s"])
        for (plot, _), ts in groups.items():
            ts = sorted(ts)
            rows.append([nbp.stem, f"`{plot}`", len(ts), f"{ts[len(ts) // 2]:.3f}", f"{ts[-1]:.3f}",
                         f"{sum(ts):.1f}",
                         "met" if ts[len(ts) // 2] < 0.3 and ts[-1] < 1.0 else "MISSED"])
        if not groups:
            rows.append([nbp.stem, "(no interactive figure)", 0, "", "", "", ""])
    body = "\n".join([
        "## Interactive figures: redraw time per slider move", "",
        "Per interactive figure: the time of one frame = the chapter's plot function for one slider "
        "setting (cached sweeps are only indexed; anything else is recomputed) plus rendering the "
        "figure to PNG. A live slider move re-runs exactly this; the static build precomputes every "
        "frame, so *total* is the build time the figure adds. Goal: median < 0.3 s and worst < 1 s. "
        "The first frame of a figure may include filling a cache the later frames reuse.", "",
        C.md_table(["chapter", "plot function", "frames", "median (s)", "worst (s)", "total (s)", "goal"],
                   rows), "",
        f"Scale: MMCL_SCALE={os.environ.get('MMCL_SCALE', 'default')}.",
        C.footer(before),
    ])
    C.write_section("bench_live_figures", body)


if __name__ == "__main__":
    main()
