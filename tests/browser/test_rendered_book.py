"""The rendered book, opened page by page in headless Chromium.

Every ``.html`` page of the built book is loaded from ``file://``, at a desktop width (1280 px)
and at a phone width (390 px), and checked for what a reader would notice:

- no JavaScript errors: no console message of level error and no uncaught exception, with no
  list of tolerated messages (a missing local file is reported as a failed load);
- no request leaves ``file://`` (every http(s)/ws request is recorded and aborted);
- math is typeset: each ``.math`` element holds MathJax output, MathJax reports no TeX error,
  and no raw ``$$``, ``\\(``, ``\\[`` or TeX command (``\\eta``) is left in the text outside
  code;
- display equations fit: at 1280 px no display equation (``mjx-container[display="true"]``,
  dropdowns opened) is wider than its container; at 390 px (a phone: mobile emulation, where
  Chromium's default scrollbars are overlays that hide when idle) one that is wider scrolls
  sideways (``overflow-x`` auto or scroll) with a scrollbar that takes room, so that it stays
  visible, and no ancestor cuts it off; an inline formula wider than its line scrolls the same
  way (the theme would clip it); at 390 px the page itself does not scroll sideways;
- every ``<img>`` has loaded (``naturalWidth > 0``);
- no cell output shows an object's repr by accident (``<matplotlib.legend.Legend at 0x...>``);
- every explorable demo (``div.mmcl-explorer`` from :mod:`mmcl_lib.book.explorer`) responds: moving
  each of its sliders changes the frame's ``data-frame`` and ``src``, and the new frame loads;
- the sidebar links every page listed in ``_toc.yml`` (at 1280 px, where it is shown);
- console warnings count like errors;
- every figure has alt text that describes it (not empty, not its file name);
- figure text is at least 8 px high as shown at 390 px: PNGs drawn through the house style
  record their smallest text (``mmcl:smallest-text-px``, :mod:`mmcl_lib.book.style`), static
  explorers carry it as ``data-smallest-text-px``; a cell's PNG without the record fails;
- explorers' drop-down lists of named choices change the frame, as sliders do;
- at 1280 px no code cell or printed output is wider than the text column (it would scroll);
- no punctuation mark after an inline formula starts a line;
- chapter bodies carry no project notes (test files, ``MMCL_SCALE``, helper modules, paths),
  except inside the collapsed "Reproducing this chapter" dropdown.

Full-page screenshots at both widths go to ``<build>/../screenshots/`` (``_build/screenshots/``
for the default build), named ``<page>-1280.png`` and ``<page>-390.png`` (``book__notation-390.png``
for ``book/notation.html``). All problems of a page are collected and reported together, one
test per page.

Settings (environment variables):

- ``BUILD_DIR``: the built HTML, default ``_build/html`` (relative paths are taken from the
  repository root).
- ``TOC``: the table of contents the sidebar must list, default ``_toc.yml`` (for a build made
  with ``jupyter-book build --toc OTHER.yml``).
- ``CHROMIUM``: the browser executable, default ``/usr/bin/chromium`` (Debian's package). The
  ``playwright`` package drives it; no browser is downloaded.
- ``MMCL_BROWSER_TEST=1``: the build, Chromium and playwright are required, so a missing one
  fails the test instead of skipping it (``.ci/run`` sets it after the book build).

Run: ``MMCL_BROWSER_TEST=1 python -m pytest tests/browser -p no:nbmake -o addopts=""``.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("BUILD_DIR", "_build/html"))
BUILD_DIR = (BUILD_DIR if BUILD_DIR.is_absolute() else ROOT / BUILD_DIR).resolve()
SCREENSHOTS = BUILD_DIR.parent / "screenshots"
TOC = Path(os.environ.get("TOC", "_toc.yml"))
TOC = TOC if TOC.is_absolute() else ROOT / TOC
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("MMCL_BROWSER_TEST", "") == "1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
MATHJAX_TIMEOUT_MS = 30_000

DESKTOP, PHONE = 1280, 390     # viewport widths in CSS pixels
VIEWPORT_HEIGHT = {DESKTOP: 900, PHONE: 844}
TOLERANCE_PX = 1               # sub-pixel rounding of widths
MIN_TEXT_PX = 8                # smallest figure text a phone reader can read
CHAPTER_PAGE = re.compile(r"book/\d\d_[^/]+\.html$")
HELPER_MODULES = ("training_figures", "robustness_experiment", "detection_experiment",
                  "unpaired_experiment", "real_data_experiment",
                  "relatives_experiment", "filtering_experiment", "loss_figures",
                  "recovery_figures", "unpaired_figures")
PROJECT_NOTES = re.compile(r"tests/|test_\w+\.py|MMCL_SCALE|benchmarks/|experiments/|mmcl_lib\.book|"
                           r"\bbook/\w+\.ipynb|not rerun by the book build|\bglue|"
                           + "|".join(rf"\b{m}\b" for m in HELPER_MODULES))


def _unavailable(reason: str):
    """Skip in a plain pytest run; fail when the CI asked for the browser test."""
    if REQUIRED:
        pytest.fail(f"MMCL_BROWSER_TEST=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _load_check_site():
    """.ci/check_site.py, for its reading of _toc.yml (one implementation for both checks)."""
    spec = importlib.util.spec_from_file_location("check_site", ROOT / ".ci" / "check_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pages() -> list[Path]:
    if not BUILD_DIR.is_dir():
        return []
    return sorted(p for p in BUILD_DIR.rglob("*.html")
                  if not {"_static", "_sources", "_images"} & set(p.relative_to(BUILD_DIR).parts))


PAGES = _pages()
PARAMS = ([pytest.param(p, id=p.relative_to(BUILD_DIR).as_posix()) for p in PAGES]
          or [pytest.param(None, id="no-build")])


@pytest.fixture(scope="module")
def toc_urls() -> dict[str, str]:
    """file:// URL of each page in the table of contents -> its toc entry."""
    import yaml

    toc = yaml.safe_load(TOC.read_text(encoding="utf8"))
    entries = _load_check_site().toc_files(toc)
    return {(BUILD_DIR / f"{entry}.html").as_uri(): entry for entry in entries}


@pytest.fixture(scope="module")
def browser():
    if not PAGES:
        _unavailable(f"no built book at {BUILD_DIR} (run jupyter-book build first)")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        # playwright hides scrollbars by default; a reader sees them, and the equation check
        # needs them to take room
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              ignore_default_args=["--hide-scrollbars"])
        yield chromium
        chromium.close()


# --- JavaScript run in the page ------------------------------------------------------------------

WAIT_FOR_MATHJAX = """async (timeout) => {
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > timeout) return "MathJax did not start";
    await new Promise(r => setTimeout(r, 50));
  }
  try { await MathJax.startup.promise; } catch (e) { return "MathJax failed: " + e; }
  return "";
}"""

MATH_PROBLEMS = r"""() => {
  const problems = [];
  const maths = Array.from(document.querySelectorAll(".math"));
  const untypeset = maths.filter(m => !m.querySelector("mjx-container"));
  if (untypeset.length)
    problems.push(untypeset.length + " of " + maths.length + " math elements not typeset, first: "
                  + JSON.stringify(untypeset[0].textContent.trim().slice(0, 80)));
  for (const err of document.querySelectorAll("mjx-merror"))
    problems.push("MathJax error: " + JSON.stringify(
      (err.getAttribute("data-mjx-error") || err.textContent).slice(0, 120)));
  // Raw TeX in text outside code, scripts and typeset math.
  const skip = "pre, code, kbd, samp, script, style, textarea, mjx-container, .highlight, .MathJax";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  // delimiters, or a TeX command such as \eta (e.g. a section title with math used as link text)
  const raw = /\$\$|\\\(|\\\)|\\\[|\\\]|\\[A-Za-z]{2,}/;
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    const m = node.textContent.match(raw);
    if (m) {
      const i = node.textContent.indexOf(m[0]);
      found.push(JSON.stringify(node.textContent.slice(Math.max(0, i - 30), i + 50).trim()));
    }
  }
  if (found.length)
    problems.push("raw TeX left in the text (" + found.length + "x), first: " + found[0]);
  return problems;
}"""

LOAD_ALL_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { if (i.loading === "lazy") i.loading = "eager"; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener("load", r); i.addEventListener("error", r); })));
  return imgs.filter(i => !(i.complete && i.naturalWidth > 0))
             .map(i => (i.getAttribute("src") || "(no src)").slice(0, 100));
}"""

EXPLORER_STATE = """(root) => {
  const img = root.querySelector("img.mmcl-explorer-frame");
  return img ? { frame: img.getAttribute("data-frame"), src: img.getAttribute("src") } : null;
}"""

WAIT_FRAME_LOADED = """async (root) => {
  const img = root.querySelector("img.mmcl-explorer-frame");
  if (!img.complete) await new Promise(r => { img.addEventListener("load", r);
                                              img.addEventListener("error", r); });
  return img.naturalWidth > 0;
}"""

SIDEBAR_LINKS = """() => {
  const nav = document.querySelector(".bd-sidebar-primary");
  return nav ? Array.from(nav.querySelectorAll("a[href]"), a => a.href) : null;
}"""


OPEN_DROPDOWNS = """() => {
  // Equations inside collapsed solutions and dropdowns have no width: open them to measure
  // (and mark them, so that CLOSE_DROPDOWNS restores the page a reader sees).
  document.querySelectorAll("details:not([open])").forEach(d => {
    d.open = true; d.setAttribute("data-mmcl-opened", ""); });
  document.querySelectorAll(".toggle-hidden").forEach(e => {
    e.classList.remove("toggle-hidden"); e.setAttribute("data-mmcl-unhidden", ""); });
  return true;
}"""

CLOSE_DROPDOWNS = """() => {
  document.querySelectorAll("[data-mmcl-opened]").forEach(d => {
    d.open = false; d.removeAttribute("data-mmcl-opened"); });
  document.querySelectorAll("[data-mmcl-unhidden]").forEach(e => {
    e.classList.add("toggle-hidden"); e.removeAttribute("data-mmcl-unhidden"); });
  return true;
}"""

DISPLAY_EQUATIONS = r"""(tolerance) => {
  const tex = new Map();
  try {
    for (const item of MathJax.startup.document.math) tex.set(item.typesetRoot, item.math);
  } catch (e) {}
  const found = [];
  for (const el of document.querySelectorAll('mjx-container[display="true"]')) {
    const box = el.getBoundingClientRect();
    if (!box.width && !box.height) continue;          // not displayed at all
    const style = getComputedStyle(el);
    // ancestors that cut off what sticks out of them
    const clippedBy = [];
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox !== "hidden" && ox !== "clip") continue;
      const r = a.getBoundingClientRect();
      if (box.left < r.left - tolerance || box.right > r.right + tolerance)
        clippedBy.push(a.tagName.toLowerCase() + (a.className ? "." + String(a.className).split(" ")[0] : ""));
    }
    const source = tex.get(el) || el.textContent || "";
    found.push({
      tex: source.replace(/\s+/g, " ").trim().slice(0, 90),
      content: el.scrollWidth, width: el.clientWidth, overflowX: style.overflowX,
      scrollbar: el.offsetHeight - el.clientHeight - parseFloat(style.borderTopWidth || 0)
                 - parseFloat(style.borderBottomWidth || 0),
      clippedBy,
    });
  }
  return found;
}"""

STRAY_REPRS = r"""() => {
  // Outputs such as "<matplotlib.legend.Legend at 0x7f...>": the value of a cell's last line
  // shown by accident (end the line with ";" or assign it).
  const pattern = /<[A-Za-z_][\w.]* (?:object )?at 0x[0-9a-f]+>/;
  const found = [];
  for (const out of document.querySelectorAll(".cell_output, .output")) {
    const m = out.textContent.match(pattern);
    if (m) found.push(m[0]);
  }
  return Array.from(new Set(found));
}"""

INLINE_MATH = r"""(tolerance) => {
  // Inline formulas whose typeset width exceeds their box: the theme clips span.math.
  const tex = new Map();
  try {
    for (const item of MathJax.startup.document.math) tex.set(item.typesetRoot, item.math);
  } catch (e) {}
  const found = [];
  for (const span of document.querySelectorAll("span.math")) {
    const math = span.querySelector("mjx-math");
    const container = span.querySelector("mjx-container");
    if (!math) continue;
    const content = math.getBoundingClientRect().width, box = span.getBoundingClientRect().width;
    if (!box || content <= box + tolerance) continue;
    const style = getComputedStyle(span);
    found.push({
      tex: (tex.get(container) || span.textContent || "").replace(/\s+/g, " ").trim().slice(0, 90),
      content: Math.round(content), width: Math.round(box), overflowX: style.overflowX,
      scrollbar: span.offsetHeight - span.clientHeight,
    });
  }
  return found;
}"""

PAGE_WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"

FIGURES = """() => Array.from(document.querySelectorAll("article img, .bd-article img"))
  .filter(i => i.getBoundingClientRect().width > 0 || i.closest(".cell_output"))
  .map(i => ({src: i.getAttribute("src") || "", alt: i.getAttribute("alt"),
              natural: i.naturalWidth, shown: i.getBoundingClientRect().width,
              inCell: !!i.closest(".cell_output"),
              recorded: i.getAttribute("data-smallest-text-px")}))"""

WIDE_CODE = """(tolerance) => Array.from(document.querySelectorAll(
    ".cell_input pre, .cell_output pre, div.highlight pre"))
  .filter(p => p.getBoundingClientRect().width > 0 && p.scrollWidth > p.clientWidth + tolerance)
  .map(p => (p.textContent.split("\\n").find(l => l.length > 60) || p.textContent).slice(0, 60))"""

PUNCTUATION_ORPHANS = r"""() => {
  const found = [];
  for (const span of document.querySelectorAll("span.math")) {
    const next = span.nextSibling;
    if (!next || next.nodeType !== Node.TEXT_NODE || !/^[.,;:!?)]/.test(next.textContent)) continue;
    const range = document.createRange();
    range.setStart(next, 0); range.setEnd(next, 1);
    const mark = range.getBoundingClientRect(), math = span.getBoundingClientRect();
    if (mark.width && math.width && mark.top > math.top + math.height / 2)
      found.push((span.textContent.slice(-25) + next.textContent.slice(0, 5)).trim());
  }
  return found;
}"""

PROJECT_TEXT = """() => {
  const body = document.querySelector(".bd-article") || document.body;
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const out = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(".cell_input, script, style, .bd-sidebar-secondary")) continue;
    const box = el.closest("details, .dropdown, .toggle");
    const title = box ? (box.querySelector("summary, .summary-title, .admonition-title") || box) : null;
    if (title && /Reproducing this chapter/.test(title.textContent)) continue;
    out.push(n.textContent);
  }
  return out.join(" ");
}"""


# --- the checks ----------------------------------------------------------------------------------

def _check_explorers(page) -> list[str]:
    problems = []
    for e, root in enumerate(page.query_selector_all("div.mmcl-explorer")):
        name = f"demo #{e + 1} ({root.get_attribute('id')})"
        sliders = root.query_selector_all("input[type=range]")
        state = root.evaluate(EXPLORER_STATE)
        if state is None or state["frame"] is None:
            problems.append(f"{name}: no img.mmcl-explorer-frame with data-frame")
            continue
        if not sliders:
            problems.append(f"{name}: no slider")
        for k, slider in enumerate(sliders):
            label = slider.get_attribute("aria-label") or f"slider {k + 1}"
            low, high = int(slider.get_attribute("min")), int(slider.get_attribute("max"))
            if high <= low:
                continue  # a single value: nothing to move
            before = root.evaluate(EXPLORER_STATE)
            key = "ArrowLeft" if int(slider.input_value()) >= high else "ArrowRight"
            if slider.is_visible():      # as a reader would: focus the slider, press an arrow key
                slider.scroll_into_view_if_needed()
                slider.press(key)
            else:                        # e.g. inside a collapsed dropdown: same event from JS
                slider.evaluate("(el, d) => { el.value = +el.value + d; "
                                "el.dispatchEvent(new Event('input', {bubbles: true})); }",
                                -1 if key == "ArrowLeft" else 1)
            after = root.evaluate(EXPLORER_STATE)
            if after["frame"] == before["frame"]:
                problems.append(f"{name}: moving slider {label!r} did not change data-frame "
                                f"(stayed {before['frame']})")
            if after["src"] == before["src"]:
                problems.append(f"{name}: moving slider {label!r} did not change the image")
            elif not root.evaluate(WAIT_FRAME_LOADED):
                problems.append(f"{name}: after moving slider {label!r} the new frame "
                                f"{after['frame']} did not load")
    return problems


def _check_choices(page) -> list[str]:
    """Drop-down lists of named choices (string parameters of an explorer) change the frame."""
    problems = []
    for e, root in enumerate(page.query_selector_all("div.mmcl-explorer")):
        for k, select in enumerate(root.query_selector_all("select")):
            label = select.get_attribute("aria-label") or f"choice {k + 1}"
            count = select.evaluate("el => el.options.length")
            if count < 2:
                continue
            before = root.evaluate(EXPLORER_STATE)
            current = select.evaluate("el => el.selectedIndex")
            select.evaluate("(el, i) => { el.selectedIndex = i; "
                            "el.dispatchEvent(new Event('change', {bubbles: true})); }",
                            (current + 1) % count)
            after = root.evaluate(EXPLORER_STATE)
            if after["src"] == before["src"]:
                problems.append(f"demo #{e + 1}: choosing another {label!r} did not change the image")
    return problems


def _check_figures(page, path: Path, width: int) -> list[str]:
    """Alt text on every figure; at the phone width, figure text of at least MIN_TEXT_PX."""
    problems = []
    for fig in page.evaluate(FIGURES):
        src, alt = fig["src"], (fig["alt"] or "").strip()
        name = src if not src.startswith("data:") else "an interactive figure's frame"
        if width >= DESKTOP and (not alt or alt == src or re.search(r"\.(png|jpe?g|svg)$", alt)):
            problems.append(f"figure {name[:80]} has no alt text describing it (alt={alt[:40]!r})")
        if width >= DESKTOP or not fig["natural"] or not fig["shown"]:
            continue
        recorded = fig["recorded"]
        if recorded is None and not src.startswith("data:") and src.endswith(".png"):
            file = (path.parent / src).resolve()
            recorded = Image.open(file).text.get("mmcl:smallest-text-px") if file.exists() else None
        if recorded is None:
            if fig["inCell"] and src.endswith(".png"):
                problems.append(f"figure {name[:80]} records no text size (draw it with the house style)")
            continue
        shown_px = float(recorded) * fig["shown"] / fig["natural"]
        if shown_px < MIN_TEXT_PX:
            problems.append(f"figure {name[:80]}: smallest text {shown_px:.1f} px at {width} px "
                            f"(at least {MIN_TEXT_PX})")
    return problems


def _check_wide_code(page) -> list[str]:
    return [f"code or output wider than the column at {DESKTOP} px: {line!r}"
            for line in page.evaluate(WIDE_CODE, TOLERANCE_PX)]


def _check_punctuation(page, width: int) -> list[str]:
    return [f"punctuation after an inline formula starts a line at {width} px: {text!r}"
            for text in page.evaluate(PUNCTUATION_ORPHANS)]


def _check_project_notes(page, path: Path) -> list[str]:
    if not CHAPTER_PAGE.search(path.as_posix()):
        return []
    text = page.evaluate(PROJECT_TEXT)
    found = sorted({m.group(0) for m in PROJECT_NOTES.finditer(text)})
    return [f"project notes in the chapter body (outside 'Reproducing this chapter'): {found}"
            ] if found else []


def _redirect_target(path: Path) -> str | None:
    match = re.search(r'http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"',
                      path.read_text(encoding="utf8", errors="replace"), re.IGNORECASE)
    return match.group(1) if match else None


def _screenshot_name(path: Path, width: int) -> str:
    return path.relative_to(BUILD_DIR).with_suffix("").as_posix().replace("/", "__") + f"-{width}.png"


def _check_math(page) -> list[str]:
    problems = []
    if page.locator(".math").count():   # Sphinx loads MathJax only on pages with math
        failure = page.evaluate(WAIT_FOR_MATHJAX, MATHJAX_TIMEOUT_MS)
        if failure:
            problems.append(f"the page has math but {failure}")
    return problems + page.evaluate(MATH_PROBLEMS)


def _check_equations(page, width: int) -> list[str]:
    """At the desktop width every display equation fits its container; at the phone width one
    that does not must scroll, with a scrollbar that takes room, and nothing may cut it off."""
    page.evaluate(OPEN_DROPDOWNS)
    try:
        equations = page.evaluate(DISPLAY_EQUATIONS, TOLERANCE_PX)
    finally:
        page.evaluate(CLOSE_DROPDOWNS)
    problems = []
    for eq in equations:
        name = f"display equation {eq['tex']!r}"
        overflows = eq["content"] > eq["width"] + TOLERANCE_PX
        if eq["clippedBy"]:
            problems.append(f"{name} is cut off by {', '.join(eq['clippedBy'])} at {width} px")
        if width >= DESKTOP and overflows:
            problems.append(f"{name} is {eq['content']} px wide, its container {eq['width']} px "
                            f"at {width} px (break it over lines)")
        elif overflows and eq["overflowX"] not in ("auto", "scroll"):
            problems.append(f"{name} is {eq['content']} px wide in {eq['width']} px at {width} px "
                            f"and does not scroll (overflow-x: {eq['overflowX']})")
        elif overflows and eq["scrollbar"] < 3:
            problems.append(f"{name} overflows at {width} px but shows no scrollbar "
                            f"({eq['scrollbar']:.0f} px tall)")
    return problems


def _check_inline_math(page, width: int) -> list[str]:
    """An inline formula wider than the column must scroll with a visible scrollbar."""
    problems = []
    for eq in page.evaluate(INLINE_MATH, 2):
        name = f"inline formula {eq['tex']!r} ({eq['content']} px in {eq['width']} px)"
        if eq["overflowX"] not in ("auto", "scroll"):
            problems.append(f"{name} is cut off at {width} px (overflow-x: {eq['overflowX']})")
        elif eq["scrollbar"] < 3:
            problems.append(f"{name} scrolls at {width} px but shows no scrollbar")
    return problems


def _check_stray_reprs(page) -> list[str]:
    return [f"a cell output shows an object's repr: {text}" for text in page.evaluate(STRAY_REPRS)]


def _check_page_width(page, width: int) -> list[str]:
    content, viewport = page.evaluate(PAGE_WIDTH)
    if content > viewport + TOLERANCE_PX:
        return [f"the page scrolls sideways at {width} px: {content} px wide"]
    return []


def _check_images(page) -> list[str]:
    return [f"image did not load: {src}" for src in page.evaluate(LOAD_ALL_IMAGES)]


def _check_sidebar(page, toc_urls: dict[str, str]) -> list[str]:
    links = page.evaluate(SIDEBAR_LINKS)
    if links is None:
        return ["no sidebar (.bd-sidebar-primary)"]
    linked = {urldefrag(link).url for link in links}
    missing = [entry for url, entry in toc_urls.items() if url not in linked]
    return [f"the sidebar does not list {', '.join(missing)} (in {TOC.name})"] if missing else []


def _screenshot(page, path: Path, width: int) -> list[str]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / _screenshot_name(path, width)), full_page=True)
    return []


def _settle(page, requests: list[str], quiet_ms: int = 400, limit_ms: int = 10_000) -> None:
    """Wait until no request has started for quiet_ms (late fonts, lazy scripts, timers)."""
    page.evaluate("document.fonts.ready.then(() => true)")
    waited, seen = 0, -1
    while seen != len(requests) and waited < limit_ms:
        seen = len(requests)
        page.wait_for_timeout(quiet_ms)
        waited += quiet_ms


def _visit(browser, path: Path, width: int, toc_urls: dict[str, str]) -> list[str]:
    """Open one page at one viewport width, run the checks, return the problems found."""
    url = path.as_uri()
    problems: list[str] = []
    external: list[str] = []
    console: list[str] = []
    requests: list[str] = []

    # The phone width is a phone (mobile emulation, touch): Chromium then draws overlay
    # scrollbars, which take no room and hide when idle, as on a real phone.
    phone = width < DESKTOP
    context = browser.new_context(viewport={"width": width, "height": VIEWPORT_HEIGHT[width]},
                                  is_mobile=phone, has_touch=phone)

    def route(request_route):
        request_url = request_route.request.url
        host = urlsplit(request_url).netloc
        if request_url.startswith("file://") and host:
            # "//host/x.js" in a page opened from file:// - over http(s) it goes to the network
            external.append(f"{request_url} (a protocol-relative //{host} URL)")
            request_route.abort()
        elif request_url.startswith(LOCAL_SCHEMES):
            request_route.continue_()
        else:
            external.append(request_url)
            request_route.abort()

    context.route("**/*", route)
    context.route_web_socket(re.compile(".*"), lambda ws: external.append(ws.url) or ws.close())
    page = context.new_page()
    page.set_default_timeout(30_000)

    def on_console(message):
        if message.type not in ("error", "warning"):
            return
        origin = (message.location or {}).get("url", "")
        if origin and not origin.startswith(LOCAL_SCHEMES):
            return  # the failed load of an aborted external request: reported below
        if origin.startswith("file:") and "Failed to load resource" in message.text:
            return  # a missing local file: reported once, with its URL, by on_request_failed
        console.append(f"{message.type}: " + message.text[:300]
                       + (f" (at {origin})" if origin else ""))

    def on_request_failed(request):
        if request.url.startswith("file:///"):
            problems.append(f"failed to load {request.url[:150]}: {request.failure}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: console.append(f"uncaught exception: {error}"))
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", on_request_failed)

    def run(check, *args):
        """One check; a timeout or crash in it is reported and the other checks still run."""
        try:
            problems.extend(check(*args))
        except Exception as error:
            name = check.__name__.strip("_").replace("check_", "")
            problems.append(f"{name}: {type(error).__name__}: {str(error).splitlines()[0]}")

    try:
        page.goto(url, wait_until="load")
        target = _redirect_target(path)
        if target is not None:  # index.html: a redirect to the root page, which is checked itself
            expected = urldefrag((path.parent / target).resolve().as_uri()).url
            page.wait_for_url(expected)
            page.wait_for_load_state("load")
        else:
            run(_check_math, page)
            run(_check_images, page)
            run(_check_inline_math, page, width)
            run(_check_equations, page, width)   # before the screenshot: a full-page screenshot
            run(_check_figures, page, path, width)
            run(_check_punctuation, page, width)
            if width < DESKTOP:                  # leaves the page with hidden scrollbars
                run(_check_page_width, page, width)
            run(_screenshot, page, path, width)
            if width >= DESKTOP:
                run(_check_sidebar, page, toc_urls)
                run(_check_stray_reprs, page)
                run(_check_explorers, page)
                run(_check_choices, page)
                run(_check_wide_code, page)
                run(_check_project_notes, page, path)
        _settle(page, requests)
    except Exception as error:  # the page did not load or the browser crashed
        problems.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        context.close()

    problems += [f"JavaScript error: {line}" for line in console]
    problems += [f"request left file:// (aborted): {u[:150]}" for u in dict.fromkeys(external)]
    return [f"[{width} px] {problem}" for problem in problems]


@pytest.mark.parametrize("path", PARAMS)
def test_page_in_browser(path, browser, toc_urls):
    problems = _visit(browser, path, DESKTOP, toc_urls) + _visit(browser, path, PHONE, toc_urls)
    if problems:
        pytest.fail(f"{path.relative_to(BUILD_DIR)}: {len(problems)} problem(s)\n  - "
                    + "\n  - ".join(problems), pytrace=False)
