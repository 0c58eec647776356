"""Make a printable PDF of the whole book, offline.

    python tools/make_pdf.py                 # build, then print: _build/pdf/mmcl-book.pdf
    python tools/make_pdf.py --no-build      # print an existing _build/singlehtml build

Two steps:

1. ``jupyter-book build . --builder singlehtml``: the whole book as one HTML page,
   ``_build/singlehtml/book/intro.html`` (the root page of ``_toc.yml``; this executes every
   chapter, as the HTML build does: a few minutes).
2. Headless Chromium (Debian's ``/usr/bin/chromium``, driven by the ``playwright`` package; no
   browser is downloaded) opens that page from ``file://`` with every network request refused,
   waits for MathJax and the images, opens the collapsed solutions and prints to A4 with page
   numbers.

Before printing it checks that every page of ``_toc.yml`` is in the single page and that MathJax
typeset without error; it fails (exit 1) otherwise. It prints the number of pages and the size.
(sphinx-proof's blocks need ``tools/singlehtml_nodes.py`` in the single-page build; ``_config.yml``
loads it.)

Options: ``--output PATH`` (default ``_build/pdf/mmcl-book.pdf``), ``--no-build`` (print an
existing single page, ``--html DIR``, default ``_build/singlehtml``, checked against
``--toc PATH``, default ``_toc.yml``), ``--path-output DIR`` (build under ``DIR/_build`` instead
of the repository's ``_build``), ``--chromium PATH`` (default ``$CHROMIUM`` or
``/usr/bin/chromium``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
MATHJAX_TIMEOUT_MS = 120_000

FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')

WAIT_FOR_MATHJAX = """async (timeout) => {
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > timeout) return "MathJax did not start";
    await new Promise(r => setTimeout(r, 100));
  }
  try { await MathJax.startup.promise; } catch (e) { return "MathJax failed: " + e; }
  const errors = document.querySelectorAll("mjx-merror").length;
  return errors ? errors + " MathJax errors" : "";
}"""

PREPARE_FOR_PRINT = """async () => {
  // Solutions (sphinx-exercise dropdowns) print opened; code a chapter hides stays hidden.
  document.querySelectorAll("details:not(.hide)").forEach(d => { d.open = true; });
  document.querySelectorAll(".toggle-hidden").forEach(e => e.classList.remove("toggle-hidden"));
  const imgs = Array.from(document.images);
  imgs.forEach(i => { if (i.loading === "lazy") i.loading = "eager"; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener("load", r); i.addEventListener("error", r); })));
  return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length;
}"""


def _toc_files(toc: Path) -> list[str]:
    spec = importlib.util.spec_from_file_location("check_site", ROOT / ".ci" / "check_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.toc_files(yaml.safe_load(toc.read_text(encoding="utf8")))


def build_singlehtml(path_output: Path) -> Path:
    """Run Jupyter Book's single-page HTML build under ``path_output``; return its folder."""
    jupyter_book = shutil.which("jupyter-book") or str(Path(sys.executable).parent / "jupyter-book")
    print("building the single-page HTML (executes every chapter) ...", flush=True)
    subprocess.run([jupyter_book, "build", ".", "--builder", "singlehtml",
                    "--path-output", str(path_output)], cwd=ROOT, check=True)
    return path_output / "_build" / "singlehtml"


def missing_pages(html: str, toc: Path) -> list[str]:
    """Pages of the table of contents that are not in the single page (Sphinx marks each with
    an id ``document-<page>``)."""
    _root, *rest = _toc_files(toc)      # the root page is the single page itself
    return [entry for entry in rest if f'id="document-{entry}"' not in html]


def print_pdf(index: Path, output: Path, chromium: str) -> int:
    """Print the single page to ``output``; return the number of PDF pages."""
    output.parent.mkdir(parents=True, exist_ok=True)
    refused: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(LOCAL_SCHEMES) and not (url.startswith("file://") and urlhost(url)):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.route("**/*", route)
            page.set_default_timeout(MATHJAX_TIMEOUT_MS)
            page.goto(index.as_uri(), wait_until="load")
            failure = page.evaluate(WAIT_FOR_MATHJAX, MATHJAX_TIMEOUT_MS)
            if failure:
                raise SystemExit(f"make_pdf: {failure}")
            broken = page.evaluate(PREPARE_FOR_PRINT)
            if broken:
                raise SystemExit(f"make_pdf: {broken} image(s) did not load")
            page.emulate_media(media="print")
            page.pdf(path=str(output), format="A4", print_background=True,
                     margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
                     display_header_footer=True, header_template="<div></div>",
                     footer_template=FOOTER)
        finally:
            browser.close()
    if refused:
        print(f"note: {len(refused)} request(s) to the network refused, first: {refused[0][:120]}")
    return pdf_page_count(output.read_bytes())


def urlhost(url: str) -> str:
    return url.split("//", 1)[1].split("/", 1)[0] if "//" in url else ""


def pdf_page_count(data: bytes) -> int:
    """Pages of a PDF written by Chromium (its page objects are not compressed)."""
    if not data.startswith(b"%PDF-"):
        raise ValueError("not a PDF file (no %PDF- header)")
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "_build" / "pdf" / "mmcl-book.pdf")
    parser.add_argument("--no-build", action="store_true",
                        help="print an existing single-page build")
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "singlehtml",
                        help="the single-page build to print with --no-build")
    parser.add_argument("--path-output", type=Path, default=ROOT,
                        help="build under PATH/_build (default: the repository, _build/singlehtml)")
    parser.add_argument("--toc", type=Path, default=ROOT / "_toc.yml",
                        help="the table of contents the single page must contain")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    html_dir = args.html.resolve() if args.no_build else build_singlehtml(args.path_output.resolve())
    index = html_dir / f"{_toc_files(args.toc)[0]}.html"     # the root page holds the whole book
    if not index.is_file():
        print(f"make_pdf: no single-page build at {index} (run without --no-build)", file=sys.stderr)
        return 1
    missing = missing_pages(index.read_text(encoding="utf8"), args.toc)
    if missing:
        print(f"make_pdf: the single page lacks {', '.join(missing)} (listed in {args.toc.name})",
              file=sys.stderr)
        return 1
    if not os.access(args.chromium, os.X_OK):
        print(f"make_pdf: Chromium not found at {args.chromium} (apt-get install chromium)",
              file=sys.stderr)
        return 1
    # Sphinx writes the single page at the root document's path (book/intro.html) but with links
    # relative to the build folder (_static/..., _images/...): print a copy placed there.
    printable = html_dir / "print.html"
    printable.write_text(index.read_text(encoding="utf8"), encoding="utf8")
    output = args.output if args.output.is_absolute() else Path.cwd() / args.output
    pages = print_pdf(printable, output, args.chromium)
    size_mb = output.stat().st_size / 1e6
    print(f"wrote {output} ({pages} pages, {size_mb:.1f} MB) in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
