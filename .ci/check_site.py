"""Check the built book in _build/html: every page of _toc.yml was built, and nothing loads
from the network.

Fails (exit 1, with one line per problem) when
- _build/html is missing or holds fewer pages than _toc.yml lists, or a page listed in _toc.yml
  has no built .html;
- any built .html page loads a script or stylesheet from http://, https:// or // (<script src>,
  <link rel=stylesheet|preload|modulepreload href>, @import or url() in <style> or style="");
- any built .css file has such an @import or url();
- a page source (.md or .ipynb) under book/ is missing from _toc.yml (the build only reads
  files listed there: only_build_toc_files is true).

Usage: python .ci/check_site.py [ROOT]   (ROOT is the book's folder, default: current directory)
"""

from __future__ import annotations

import re
import json
import sys
from html.parser import HTMLParser
from pathlib import Path

import yaml

EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
CSS_EXTERNAL = re.compile(
    r"""(?:@import\s+(?:url\(\s*)?|url\(\s*)["']?\s*((?:https?:)?//[^"')\s;]*)""", re.IGNORECASE
)
LOADING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch"}


# a top-level line (not inside a def) that draws: plt.show(), a subplots/figure call or a plot_* helper
MAKES_FIGURE = re.compile(r"^\S.*(plt\.show\(\)|subplots\(|plt\.figure\(|\bplot_\w+\()", re.M)


def toc_files(toc: dict) -> list[str]:
    """The root and every `file:` entry of a jb-book _toc.yml, in order."""
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return found


class ExternalLoads(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "script" and EXTERNAL.match(a.get("src", "")):
            self.problems.append(f"<script src={a['src']!r}>")
        if tag == "link":
            rels = set(a.get("rel", "").lower().split())
            if rels & LOADING_RELS and EXTERNAL.match(a.get("href", "")):
                self.problems.append(f"<link rel={a.get('rel')!r} href={a['href']!r}>")
        if tag in ("iframe", "img", "embed", "source") and EXTERNAL.match(a.get("src", "")):
            # not scripts or stylesheets, but they break offline reading as well
            self.problems.append(f"<{tag} src={a['src']!r}>")
        for url in CSS_EXTERNAL.findall(a.get("style", "")):
            self.problems.append(f"style=\"...url({url})...\" on <{tag}>")
        if tag == "style":
            self._in_style = True

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            for url in CSS_EXTERNAL.findall(data):
                self.problems.append(f"<style> loads {url}")


def main(root: Path) -> int:
    html_dir = root / "_build" / "html"
    errors: list[str] = []
    if not html_dir.is_dir():
        print(f"check_site: FAIL: {html_dir} does not exist (did the book build run?)")
        return 1

    pages = sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.parts)
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf8"))
    entries = toc_files(toc)
    missing = [e for e in entries if not (html_dir / f"{e}.html").is_file()]
    for entry in missing:
        errors.append(f"{entry}: listed in _toc.yml but {entry}.html was not built")
    # only_build_toc_files is on (so private --toc builds of one chapter work): check here that
    # every page source under book/ is in the toc, so no chapter is silently left out
    listed = set(entries)
    for source in sorted((root / "book").rglob("*")):
        if source.suffix in (".md", ".ipynb") and not any(part.startswith((".", "_")) for part in
                                                           source.relative_to(root).parts):
            name = source.relative_to(root).with_suffix("").as_posix()
            if name not in listed:
                errors.append(f"{name}: page source in book/ but not listed in _toc.yml")
    # genindex, search and the index redirect come on top of the toc pages
    if len(pages) < len(entries):
        errors.append(f"only {len(pages)} .html pages built, _toc.yml lists {len(entries)}")

    for page in pages:
        parser = ExternalLoads()
        parser.feed(page.read_text(encoding="utf8", errors="replace"))
        for problem in parser.problems:
            errors.append(f"{page.relative_to(html_dir)}: external load {problem}")
    for css in sorted(html_dir.rglob("*.css")):
        for url in CSS_EXTERNAL.findall(css.read_text(encoding="utf8", errors="replace")):
            errors.append(f"{css.relative_to(html_dir)}: external @import/url({url})")

    # every figure a chapter draws reaches the page: a cell that makes a figure (and is not an
    # interactive explorer, which embeds its frames as HTML) has an image output
    executed = sorted((root / "_build" / "jupyter_execute").rglob("*.ipynb"))
    if not executed:
        errors.append("no executed notebooks in _build/jupyter_execute")
    for nb_path in executed:
        for k, cell in enumerate(json.loads(nb_path.read_text(encoding="utf8"))["cells"]):
            source = "".join(cell.get("source", []))
            if cell["cell_type"] == "code" and MAKES_FIGURE.search(source) and "explore(" not in source:
                if not any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])):
                    errors.append(f"{nb_path.name}: code cell {k} makes a figure but shows none")

    if errors:
        print(f"check_site: FAIL: {len(errors)} problem(s) in {html_dir}:")
        for line in errors[:200]:
            print(f"  - {line}")
        if len(errors) > 200:
            print(f"  ... and {len(errors) - 200} more")
        return 1
    print(f"check_site: OK: {len(pages)} pages ({len(entries)} in _toc.yml), "
          "no external scripts or stylesheets")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()))
