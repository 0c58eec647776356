"""The slide decks (tools/make_slides.py): MyST rendered, numbers evaluated, offline.

- the MyST-to-Markdown renderer on small inputs (fast);
- a deck made from the fixture chapter: evaluated {eval} values, no raw MyST syntax, figures with
  their alt text, no http(s) URL for a script, a style sheet or a font, solutions left out;
- the decks in ``_build/slides`` (made by ``python tools/make_slides.py``): the same checks on
  each (skipped when there are none, unless ``MMCL_SLIDES_TEST=1``; ``MMCL_SLIDES_TEST=all``
  also demands one deck per chapter);
- in headless Chromium (playwright, Debian's chromium): the fixture deck and each built deck load
  with no request leaving ``file://``, no console error, math typeset by MathJax, and a static
  explorer's slider changes its frame.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_slides  # noqa: E402  (tools/ is not a package)

FIXTURE = ROOT / "tests" / "fixtures" / "exercise_chapter.ipynb"
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
BUILT = ROOT / "_build" / "slides"
# MMCL_SLIDES_TEST=1: _build/slides must hold decks (CI makes one, to stay fast); =all: one per chapter
REQUIRED = os.environ.get("MMCL_SLIDES_TEST", "") in ("1", "all")
ALL = os.environ.get("MMCL_SLIDES_TEST", "") == "all"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

RAW = re.compile(r"\{eval\}|\{glue|\{prf|:label:|^\s*\([A-Za-z0-9_:-]+\)=\s*$|\{cite|\{term\}|\{ref\}"
                 r"|\{doc\}|\{exercise\}|\{solution|\{admonition\}|\{dropdown\}", re.M)
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import\s+(?:url\()?["']?\s*(?:https?:)?//"""
                    r"""|url\(\s*["']?\s*(?:https?:)?//|import\s+[^;]*from\s+["'](?:https?:)?//""", re.I)


def check_deck(html: str) -> None:
    body = re.sub(r"<style.*?</style>", "", html, flags=re.S)  # CSS comments quote URLs
    text = re.sub(r"<[^>]+>", " ", body)
    raw = sorted({m.group(0).strip() for m in RAW.finditer(text)})
    assert not raw, f"raw MyST syntax on the slides: {raw}"
    assert not REMOTE.findall(html), f"remote URLs: {REMOTE.findall(html)[:5]}"
    assert "SECRET" not in html and "solution-start" not in html
    for img in re.findall(r"<img[^>]*>", html):
        assert re.search(r'alt="[^"]+"', img), f"an image without alt text: {img[:80]}"
    for src in re.findall(r'<script[^>]+src="([^"]+)"', html) + re.findall(r'<link[^>]+href="([^"]+)"', html):
        assert not src.startswith(("http", "//")), src


@pytest.fixture(scope="module")
def renderer():
    labels, docs = make_slides.collect_labels(CHAPTERS + [FIXTURE])
    return make_slides.Renderer(labels, docs, make_slides.read_bib(ROOT / "book" / "references.bib"))


def test_renderer_roles(renderer):
    text = renderer.markdown(
        "(sec-x)=\n## Title\n\nSee {prf:ref}`def-fixture-equal`, {ref}`the section <sec-x>`, "
        "{term}`sin-theta distance`, {cite}`nakada2023understanding` and {doc}`book/02_loss_to_svd`."
    )
    assert "(sec-x)=" not in text and "{" not in text
    assert "Definition (Equal similarities)" in text and "the section" in text
    assert "sin-theta distance" in text and "(Nakada et al., 2023)" in text
    assert "From loss to SVD" in text or "loss" in text.lower()


def test_renderer_boxes(renderer):
    md = ("````{prf:theorem} Gradient identity\n:label: thm-x\n\n**Gradient identity.** For all $x$,\n\n"
          "$$\na = b\n$$\n````\n\n```{admonition} Reproducing\n:class: dropdown\n\nRun it.\n```")
    text = renderer.markdown(md)
    assert text.startswith("> **Theorem (Gradient identity).** For all $x$,")
    assert text.count("Gradient identity") == 1 and ":label:" not in text and ":class:" not in text
    assert "> **Reproducing.** Run it." in text


def test_blocks_keep_math_and_lists_whole():
    md = "# T\n\nPara one.\n\n$$\na\n\nb\n$$\n\n- x\n\n- y\n\nPara two."
    kinds = [make_slides.kind_of(b) for b in make_slides.blocks(md)]
    assert kinds == ["heading", "paragraph", "math", "list", "paragraph"]


@pytest.fixture(scope="module")
def fixture_deck(tmp_path_factory, renderer):
    out = tmp_path_factory.mktemp("slides")
    make_slides.copy_assets(out)
    return make_slides.make_deck(FIXTURE, out, scale="quick", renderer=renderer, log=lambda *a: None)


def test_fixture_deck(fixture_deck):
    html = fixture_deck.read_text(encoding="utf-8")
    check_deck(html)
    assert "With 8 pairs the CLIP loss at equal similarities is 2.079" in html  # {eval} values
    assert "Definition (Equal similarities)" in html and "(Nakada et al., 2023)" in html
    assert 'alt="The curve log n rising' in html
    assert '<aside class="notes">' in html  # prose as speaker notes
    assert "Exercise (CLIP at equal similarities)" in html
    for asset in ("vendor/reveal.js/dist/reveal.js", "vendor/requirejs/require.js",
                  "vendor/jquery/dist/jquery.min.js", "mathjax/tex-chtml.js"):
        assert (fixture_deck.parent / asset).exists(), asset


def built_deck(chapter: Path) -> Path:
    """The chapter's deck in _build/slides; a missing one fails only as MMCL_SLIDES_TEST says."""
    if not list(BUILT.glob("*.slides.html")):
        if REQUIRED:
            pytest.fail(f"no decks in {BUILT}: run python tools/make_slides.py first")
        pytest.skip("no _build/slides (run python tools/make_slides.py)")
    deck = BUILT / f"{chapter.stem}.slides.html"
    if not deck.exists():
        if ALL:
            pytest.fail(f"no deck for {chapter.name}")
        pytest.skip(f"no deck for {chapter.name} (made only with python tools/make_slides.py)")
    return deck


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_built_deck(chapter):
    check_deck(built_deck(chapter).read_text(encoding="utf-8"))


# --- in the browser -------------------------------------------------------------------------


def open_deck(path: Path) -> dict:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if REQUIRED:
            raise
        pytest.skip("playwright is not installed")
    if not Path(CHROMIUM).exists():
        if REQUIRED:
            pytest.fail(f"no Chromium at {CHROMIUM}")
        pytest.skip("no Chromium")
    found = {"remote": [], "errors": [], "failed": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})

        def route(r):
            if r.request.url.startswith("file:") or r.request.url.startswith("data:"):
                r.continue_()
            else:
                found["remote"].append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("console", lambda m: m.type == "error" and found["errors"].append(m.text))
        page.on("pageerror", lambda e: found["errors"].append(str(e)))
        page.on("requestfailed", lambda r: found["failed"].append(r.url))
        page.goto(path.as_uri())
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        page.evaluate("() => MathJax.startup.promise")
        page.wait_for_function("() => document.querySelector('.reveal.ready') !== null", timeout=20000)
        found["math"] = page.evaluate("() => document.querySelectorAll('mjx-container').length")
        found["tex_errors"] = page.evaluate("() => document.querySelectorAll('mjx-merror').length")
        found["slides"] = page.evaluate("() => document.querySelectorAll('.slides > section').length")
        found["explorers"] = page.evaluate("() => document.querySelectorAll('.mmcl-explorer').length")
        if found["explorers"]:
            found["explorer_moves"] = page.evaluate("""() => {
                const box = document.querySelector('.mmcl-explorer');
                const img = box.querySelector('img.mmcl-explorer-frame') || box.querySelector('img');
                const sliders = box.querySelectorAll('input[type=range]');
                if (!img || !sliders.length) return false;
                return Array.from(sliders).every(slider => {
                    if (+slider.min === +slider.max) return true;  // one value only (small sizes)
                    const before = img.getAttribute('src');
                    slider.value = +slider.value >= +slider.max ? slider.min : slider.max;
                    slider.dispatchEvent(new Event('input', {bubbles: true}));
                    slider.dispatchEvent(new Event('change', {bubbles: true}));
                    return img.getAttribute('src') !== before;
                });
            }""")
        browser.close()
    return found


def assert_clean(found):
    assert not found["remote"], f"requests leaving file://: {found['remote'][:5]}"
    assert not found["errors"], f"console errors: {found['errors'][:5]}"
    assert not found["failed"], f"failed loads: {found['failed'][:5]}"
    assert found["math"] > 0 and found["tex_errors"] == 0
    if found["explorers"]:
        assert found["explorer_moves"], "the explorer's slider did not change its frame"


def test_fixture_deck_in_browser(fixture_deck):
    found = open_deck(fixture_deck)
    assert_clean(found)
    assert found["slides"] >= 4


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_built_deck_in_browser(chapter):
    assert_clean(open_deck(built_deck(chapter)))
