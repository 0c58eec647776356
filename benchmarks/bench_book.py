"""Benchmark 4: execution time of each chapter of the book, so growth is visible.

Source of the numbers, in this order: the execution-statistics table of a built book
(``_build/html/book/exec_stats.html``, written by myst-nb's ``nb-exec-table``) if it is newer than
every notebook; otherwise each ``book/*.ipynb`` is executed here with nbclient, at the default scale
(``MMCL_SCALE=default``, ``MMCL_EXPLORER=static``, working directory ``book/``, as the book build runs it). Outputs are kept in
memory only: the notebooks on disk are not changed.
"""

from __future__ import annotations

import argparse
import os
import time
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import nbformat
from nbclient import NotebookClient

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import _common as C  # noqa: E402

BOOK = C.ROOT / "book"
DEFAULT_HTML = C.ROOT / "_build" / "html" / "book" / "exec_stats.html"


class _TableCells(HTMLParser):
    """Collect the text of the cells of every table row."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def from_html(path: Path) -> list[tuple[str, float, str]]:
    """(document, seconds, status) rows of a built book's execution-statistics page."""
    parser = _TableCells()
    parser.feed(path.read_text())
    header, *body = parser.rows
    i_doc, i_time, i_status = (header.index(k) for k in ("Document", "Run Time (s)", "Status"))
    return [(row[i_doc], float(row[i_time]), row[i_status]) for row in body]


def execute_all(notebooks: list[Path], timeout: int) -> list[tuple[str, float, str]]:
    """Run each notebook with nbclient at the default scale; (document, seconds, status) rows."""

    os.environ["MMCL_SCALE"] = "default"
    os.environ["MMCL_EXPLORER"] = "static"     # precompute the demos' frames, as the book build does
    rows = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(BOOK)}})
        t0 = time.perf_counter()
        try:
            client.execute()
            status = "ok"
        except Exception as exc:                     # report the failure, keep timing the others
            status = f"failed ({type(exc).__name__})"
        rows.append((f"book/{path.stem}", time.perf_counter() - t0, status))
        print(f"{path.name}: {rows[-1][1]:.1f} s, {status}", flush=True)
    return rows


def plot(rows, fname):
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(rows) + 1.2))
    names = [r[0].removeprefix("book/") for r in rows]
    ax.barh(names[::-1], [r[1] for r in rows][::-1], color="tab:blue")
    ax.set_xlabel("execution time (s)")
    ax.set_ylabel("chapter")
    ax.set_title(f"Book execution time per chapter (total {sum(r[1] for r in rows):.0f} s)", fontsize=10)
    C.save_figure(fig, fname)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, default=DEFAULT_HTML, help="a built book's exec_stats.html")
    ap.add_argument("--execute", action="store_true", help="execute the notebooks even if the HTML exists")
    ap.add_argument("--only", nargs="*", help="notebook stems to execute (default: all of book/*.ipynb)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = ap.parse_args()
    notebooks = sorted(BOOK.glob("*.ipynb"))
    if args.only:
        notebooks = [p for p in notebooks if p.stem in args.only]
    before = C.load()
    fresh = (args.html.exists() and notebooks
             and args.html.stat().st_mtime > max(p.stat().st_mtime for p in notebooks))
    if fresh and not args.execute:
        rows = from_html(args.html)
        source = f"the execution-statistics table of the built book (`{args.html.relative_to(C.ROOT)}`)"
    else:
        rows = execute_all(notebooks, args.timeout)
        source = ("executing each notebook with nbclient here (`MMCL_SCALE=default`, `MMCL_EXPLORER=static`, working directory "
                  "`book/`); no up-to-date built book was found")
    if not rows:
        body = "## Book execution time per chapter\n\nNo chapter notebooks (book/*.ipynb) were found."
    else:
        plot(rows, "book_exec.png")
        total = sum(r[1] for r in rows)
        body = "\n".join([
            "## Book execution time per chapter", "",
            f"From {source}. Wall seconds per notebook, in file order.", "",
            C.md_table(["notebook", "time (s)", "status"], [[d, f"{t:.1f}", s] for d, t, s in rows]
                       + [["**total**", f"**{total:.1f}**", ""]]), "",
            "![execution time per chapter](results/book_exec.png)", "",
            "Chapters run while other work shares the machine are slower than on an idle one.",
            C.footer(before),
        ])
    C.write_section("bench_book", body)


if __name__ == "__main__":
    main()
