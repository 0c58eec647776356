"""The printable PDF of the book (tools/make_pdf.py).

The full run builds the single-page HTML (executing every chapter, a few minutes) and prints it
with Chromium, so it runs only when asked: ``MMCL_PDF_TEST=1 python -m pytest tests/test_book_pdf.py``.
The small checks of its helpers run always.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "make_pdf.py"


def _load():
    spec = importlib.util.spec_from_file_location("make_pdf", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_page_count_of_a_chromium_pdf():
    make_pdf = _load()
    data = b"%PDF-1.4\n1 0 obj <</Type /Pages /Count 2>>\n2 0 obj <</Type /Page>>\n3 0 obj <</Type/Page>>"
    assert make_pdf.pdf_page_count(data) == 2
    with pytest.raises(ValueError, match="PDF"):
        make_pdf.pdf_page_count(b"<html>")


def test_missing_pages_names_the_toc_pages_absent_from_the_single_page(tmp_path):
    make_pdf = _load()
    toc = tmp_path / "toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/a\n  - file: book/b\n")
    assert make_pdf.missing_pages('<section id="document-book/a">', toc) == ["book/b"]
    assert make_pdf.missing_pages('id="document-book/a" id="document-book/b"', toc) == []


@pytest.mark.skipif(os.environ.get("MMCL_PDF_TEST") != "1",
                    reason="builds and prints the whole book (minutes): set MMCL_PDF_TEST=1")
def test_make_pdf_prints_the_whole_book(tmp_path):
    output = tmp_path / "book.pdf"
    done = subprocess.run([sys.executable, str(SCRIPT), "--output", str(output)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    pages = _load().pdf_page_count(output.read_bytes())
    assert pages >= 60, f"only {pages} pages"          # eight chapters and the course pages
    assert f"({pages} pages" in done.stdout
