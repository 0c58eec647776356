"""Write one offline reveal.js slide deck per chapter, into _build/slides/.

Usage (from the repository root)::

    python tools/make_slides.py                       # every chapter, at MMCL_SCALE=quick
    python tools/make_slides.py book/02_loss_to_svd.ipynb --scale default --out /tmp/slides

What it does, per chapter:

1. runs the chapter in a kernel (by default at ``MMCL_SCALE=quick``, so the numbers on the slides
   are those of the small runs; ``--scale default`` gives the rendered book's numbers) with the
   explorer in its static mode, and evaluates each Markdown cell's ``{eval}`` roles right after the
   code above it, as the book's inline execution does;
2. turns MyST-only syntax into plain Markdown: ``{prf:...}`` boxes and ``{exercise}`` become
   quoted boxes with their kind and title, ``(label)=`` targets go, ``{cite}`` becomes
   "(Author et al., year)", ``{term}``, ``{ref}``, ``{prf:ref}`` and ``{doc}`` their text (or the
   target's title), dropdowns and admonitions a quoted paragraph; solutions are left out;
3. chooses what goes on a slide by a simple rule: each heading starts a slide; definitions,
   theorems, lemmas, propositions, algorithms, exercises and figures get a slide each; lists,
   display equations and tables stay on the current slide; other prose (proofs, remarks,
   captions, paragraphs) becomes the slide's speaker notes (press ``s``). Code is not shown;
   figures keep their alt text;
4. exports with nbconvert's reveal.js exporter and the template in ``tools/slides/templates``:
   reveal.js 4.6.1, require.js 2.3.8 and jQuery 2.2.4 vendored in ``tools/slides/vendor`` (see its
   README), theme ``white``, the book's offline MathJax 3 (from ``sphinx-mathjax-offline``), no
   mermaid import, so a deck makes no network request when opened from ``file://``.

Output: ``<out>/<chapter>.slides.html`` next to ``<out>/vendor/`` and ``<out>/mathjax/``; the
folder can be copied or zipped as it is.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import sys
import sysconfig
import time
from pathlib import Path

import nbformat

from mmcl_lib.book.quotes import EVAL_ROLE

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_student import Directive, split_directives, tags  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "slides"
DEFAULT_OUT = ROOT / "_build" / "slides"
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"

BOX_KINDS = {  # sphinx-proof / sphinx-exercise directives that get a slide of their own
    "prf:definition": "Definition", "prf:theorem": "Theorem", "prf:lemma": "Lemma",
    "prf:proposition": "Proposition", "prf:corollary": "Corollary", "prf:algorithm": "Algorithm",
    "prf:assumption": "Assumption", "prf:axiom": "Axiom", "prf:conjecture": "Conjecture",
    "prf:criterion": "Criterion", "prf:example": "Example", "prf:property": "Property",
    "prf:problem": "Problem", "exercise": "Exercise",
}
NOTE_KINDS = {"prf:proof": "Proof", "prf:remark": "Remark", "prf:observation": "Observation",
              "note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning",
              "caution": "Caution", "attention": "Attention", "hint": "Hint", "seealso": "See also",
              "admonition": "", "dropdown": "", "margin": "", "sidebar": "", "topic": "",
              "epigraph": "", "card": ""}
DROP = {"solution", "solution-start", "solution-end", "glossary", "nb-exec-table", "bibliography",
        "tableofcontents", "toctree", "code-cell"}

_ROLE = re.compile(r"\{(?P<role>[A-Za-z0-9_:+-]+)\}`(?P<content>[^`]*)`")
_TARGET = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
_TEXT_TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>\s*$", re.S)


# ---------------------------------------------------------------------------------------------
# What the references point at: section titles, box titles, chapter titles, citations


def _first_heading(text: str) -> str | None:
    m = re.search(r"^#{1,6}\s+(.+?)\s*$", text, re.M)
    return m.group(1) if m else None


def collect_labels(paths) -> tuple[dict, dict]:
    """``labels`` (label -> readable text) and ``docs`` (book/xx -> page title)."""
    labels, docs = {}, {}
    for path in paths:
        path = Path(path)
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            texts = [c.source for c in nb.cells if c.cell_type == "markdown"]
        else:
            texts = [path.read_text(encoding="utf-8")]
        title = None
        for text in texts:
            title = title or _first_heading(text)
            lines = text.split("\n")
            for i, line in enumerate(lines):
                m = _TARGET.match(line)
                if m:
                    nxt = next((l for l in lines[i + 1 :] if l.strip()), "")
                    h = re.match(r"^#{1,6}\s+(.+?)\s*$", nxt)
                    labels[m.group("label")] = h.group(1) if h else "the figure"
            for part in _walk(text):
                label = part.options.get("label")
                if not label:
                    continue
                kind = BOX_KINDS.get(part.name) or NOTE_KINDS.get(part.name) or part.name
                labels[label] = f"{kind} ({_plain_roles(part.arg)})" if part.arg else kind
        docs[f"book/{path.stem}"] = docs[path.stem] = title or path.stem
    return labels, docs


def _walk(text):
    for part in split_directives(text):
        if isinstance(part, Directive):
            yield part
            yield from _walk(part.body)


def _plain_roles(text: str) -> str:
    return _ROLE.sub(lambda m: _TEXT_TARGET.sub(r"\g<text>", m.group("content")), text)


def read_bib(path: Path) -> dict:
    """``key -> "Author et al., year"`` from a BibTeX file (enough for citations on slides)."""
    out = {}
    if not path.exists():
        return out
    text = path.read_text(encoding="utf-8")
    for m in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)\n\}", text, re.S):
        key, body = m.group(1), m.group(2)
        author = re.search(r"author\s*=\s*[{\"](.*?)[}\"]\s*,?\s*\n", body, re.S)
        year = re.search(r"year\s*=\s*[{\"]?(\d{4})", body)
        names = [a.strip() for a in re.split(r"\s+and\s+", author.group(1))] if author else []
        lasts = [(n.split(",")[0] if "," in n else n.split()[-1]).strip("{} ") for n in names if n]
        if len(lasts) > 2 or "others" in lasts:
            who = f"{lasts[0]} et al."
        else:
            who = " and ".join(lasts) or key
        out[key] = f"{who}, {year.group(1)}" if year else who
    return out


# ---------------------------------------------------------------------------------------------
# MyST to plain Markdown


class Renderer:
    def __init__(self, labels: dict, docs: dict, bib: dict):
        self.labels, self.docs, self.bib = labels, docs, bib

    def role(self, m: re.Match) -> str:
        role, content = m.group("role"), m.group("content")
        tt = _TEXT_TARGET.match(content)
        text, target = (tt.group("text"), tt.group("target")) if tt else (None, content.strip())
        if role in ("cite", "cite:p", "cite:ps", "cite:alp"):
            return "(" + "; ".join(self.bib.get(k.strip(), k.strip()) for k in target.split(",")) + ")"
        if role.startswith("cite"):
            return "; ".join(self.bib.get(k.strip(), k.strip()) for k in target.split(","))
        if role == "math":
            return f"${content}$"
        if role == "eq":
            return text or f"({target})"
        if role in ("ref", "prf:ref", "numref", "doc", "any"):
            if text:
                return text
            if role == "doc":
                key = target[:-3] if target.endswith(".md") else target
                return self.docs.get(key) or self.docs.get(Path(key).name) or key
            return self.labels.get(target, target.replace("-", " "))
        return text or content  # any other role (term, abbr, code, ...): its text

    def roles(self, text: str) -> str:
        return _ROLE.sub(self.role, text)

    def inline(self, text: str) -> str:
        """Roles rendered and ``(label)=`` lines removed, in text without directives."""
        lines = [l for l in text.split("\n") if not _TARGET.match(l)]
        text = "\n".join(lines)
        text = re.sub(r"(\$\$)\s*\([A-Za-z0-9_:-]+\)\s*$", r"\1", text, flags=re.M)  # $$ ... $$ (label)
        return self.roles(text)

    def box(self, d: Directive, kind: str) -> str:
        """A directive as a quoted box: **Kind (title).** body."""
        title = self.roles(d.arg).strip()
        if d.name in ("admonition", "dropdown") and not title:
            title = "Note"
        head = f"{kind} ({title})" if kind and title else (kind or title)
        body = self.markdown(d.body)
        lead = re.match(r"^\*\*(?P<b>[^*]+?)\.?\*\*\.?\s*", body.lstrip())
        if title and lead and title.lower().startswith(lead.group("b").lower()):
            body = body.lstrip()[lead.end():]  # a body that opens with its own title in bold
        text = (f"**{head}.** " if head else "") + body
        return "\n".join("> " + l if l.strip() else ">" for l in text.split("\n"))

    def markdown(self, text: str) -> str:
        """All of ``text`` as plain Markdown (nested directives included)."""
        out = []
        for part in split_directives(text):
            if isinstance(part, str):
                out.append(self.inline(part))
            else:
                out.append(self.directive(part))
        return "\n".join(p for p in out if p is not None)

    def directive(self, d: Directive) -> str | None:
        if d.name in DROP:
            return None
        if d.name in BOX_KINDS:
            return self.box(d, BOX_KINDS[d.name])
        if d.name in NOTE_KINDS:
            return self.box(d, NOTE_KINDS[d.name])
        if d.name in ("math",):
            return "$$\n" + d.body.strip() + "\n$$"
        if d.name in ("figure", "image"):
            alt = d.options.get("alt", "")
            caption = self.markdown(d.body).strip()
            return f"![{alt}]({d.arg})" + (f"\n\n{caption}" if caption else "")
        if d.name in ("code", "code-block", "sourcecode"):
            return f"```{d.arg}\n{d.body}\n```"
        return self.box(d, d.name.split(":")[-1].capitalize())  # unknown: a box all the same


# ---------------------------------------------------------------------------------------------
# Blocks of a Markdown cell and where they go (a new slide, the current one, the notes)


def blocks(text: str) -> list[str]:
    """Markdown split at blank lines, keeping fences, display math, quotes and lists whole."""
    out, buf = [], []
    fence = None
    in_math = False
    for line in text.split("\n"):
        stripped = line.strip()
        if fence:
            buf.append(line)
            if stripped.startswith(fence):
                fence = None
            continue
        if re.match(r"^(`{3,}|~{3,})", stripped):
            fence = stripped[:3]
            buf.append(line)
            continue
        if stripped.startswith("$$"):
            if not (in_math is False and stripped.count("$$") >= 2 and len(stripped) > 2):
                in_math = not in_math
            buf.append(line)
            continue
        if in_math:
            buf.append(line)
            continue
        if not stripped:
            if buf:
                out.append("\n".join(buf))
                buf = []
            continue
        if re.match(r"^#{1,6}\s", stripped) and buf:
            out.append("\n".join(buf))
            buf = []
        buf.append(line)
        if re.match(r"^#{1,6}\s", stripped):
            out.append("\n".join(buf))
            buf = []
    if buf:
        out.append("\n".join(buf))
    merged: list[str] = []
    for b in out:  # a list or a quote broken by blank lines is one block
        if merged and kind_of(b) == kind_of(merged[-1]) and kind_of(b) in ("list", "quote"):
            merged[-1] += "\n\n" + b
        elif merged and kind_of(b) == "paragraph" and b.startswith(("   ", "  ", "\t")) \
                and kind_of(merged[-1]) == "list":
            merged[-1] += "\n\n" + b
        else:
            merged.append(b)
    return merged


def kind_of(block: str) -> str:
    s = block.lstrip()
    if re.match(r"^#{1,6}\s", s):
        return "heading"
    if re.match(r"^([-*+]|\d+[.)])\s", s):
        return "list"
    if s.startswith("$$"):
        return "math"
    if s.startswith("|"):
        return "table"
    if s.startswith(">"):
        return "quote"
    if s.startswith(("```", "~~~")):
        return "code"
    return "paragraph"


def md_cell(source: str, slide_type: str):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["slideshow"] = {"slide_type": slide_type}
    return cell


class Deck:
    """Collects slide cells and decides their slide types."""

    def __init__(self):
        self.cells = []
        self.has_content = False  # does the current slide already show something besides a title?
        self.section = ""  # the current heading's text, repeated on the slides that follow it

    def heading(self, text):
        self.cells.append(md_cell(text, "slide"))
        self.has_content = text.lstrip().startswith("# ")  # the title slide shows what follows it
        if not text.lstrip().startswith("# "):
            self.section = re.sub(r"^#+\s*", "", text.strip())

    def own_slide(self, cell):
        if self.has_content:
            if self.section:
                self.cells.append(md_cell(f"#### {self.section}", "slide"))
                cell.metadata["slideshow"] = {"slide_type": "-"}
            else:
                cell.metadata["slideshow"] = {"slide_type": "slide"}
        else:
            cell.metadata["slideshow"] = {"slide_type": "-"}
        self.cells.append(cell)
        self.has_content = True

    def on_slide(self, text):
        self.cells.append(md_cell(text, "-" if self.cells else "slide"))
        self.has_content = True

    def notes(self, text):
        if self.cells and self.cells[-1].metadata["slideshow"]["slide_type"] == "notes":
            self.cells[-1].source += "\n\n" + text
        else:
            self.cells.append(md_cell(text, "notes"))


# ---------------------------------------------------------------------------------------------
# Running a chapter: code cells in order, {eval} roles evaluated where they stand



def _plain_text(outputs) -> str:
    for out in outputs:
        if out.get("output_type") in ("execute_result", "display_data") and "text/plain" in out.get("data", {}):
            return out["data"]["text/plain"]
        if out.get("output_type") == "stream":
            return out.get("text", "").strip()
        if out.get("output_type") == "error":
            raise RuntimeError(f"{out.get('ename')}: {out.get('evalue')}")
    raise RuntimeError("no value")


def run_chapter(nb, *, cwd: Path, env: dict, timeout: int = 600):
    """Execute ``nb`` in place; returns ``{markdown cell index: evaluated source}``."""
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(cwd)}})
    evaluated = {}
    with client.setup_kernel(env={**os.environ, **env}):   # the kernel's environment
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
                continue
            if cell.cell_type != "markdown":
                continue
            source = cell.source
            if "{eval}" in source:
                def value(m):
                    probe = nbformat.v4.new_code_cell(m.group("expr"))
                    client.execute_cell(probe, index)
                    nb.cells[index] = cell  # nbclient stores the executed cell at its index
                    return _plain_text(probe.outputs).strip("'\"")
                source = EVAL_ROLE.sub(value, source)
            evaluated[index] = source
    return evaluated


# ---------------------------------------------------------------------------------------------
# From the executed chapter to the slide notebook


def _keep_output(out) -> bool:
    if out.get("output_type") not in ("display_data", "execute_result"):
        return False
    data = out.get("data", {})
    return any(k.startswith("image/") for k in data) or "text/html" in data


def slide_notebook(nb, evaluated: dict, renderer: Renderer):
    deck = Deck()
    in_solution = False
    for index, cell in enumerate(nb.cells):
        cell_tags = tags(cell)
        if "remove-cell" in cell_tags:
            continue
        if cell.cell_type == "code":
            if in_solution or {"solution", "check", "remove-output"} & set(cell_tags):
                continue
            outputs = [o for o in cell.get("outputs", []) if _keep_output(o)]
            if not outputs:
                continue
            alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
            for o in outputs:
                if alt:
                    o.setdefault("metadata", {})["alt"] = alt
            figure = nbformat.v4.new_code_cell(source="", outputs=outputs)
            figure.metadata["tags"] = ["slide-figure"]
            deck.own_slide(figure)
            continue
        if cell.cell_type != "markdown":
            continue
        source = evaluated.get(index, cell.source)
        for part in split_directives(source):
            if isinstance(part, Directive):
                if part.name == "solution-start":
                    in_solution = True
                    continue
                if part.name == "solution-end":
                    in_solution = False
                    continue
                if in_solution:
                    continue
                rendered = renderer.directive(part)
                if rendered is None:
                    continue
                if part.name in BOX_KINDS:
                    deck.own_slide(md_cell(rendered, "-"))
                else:
                    deck.notes(rendered)
                continue
            if in_solution:
                continue
            for block in blocks(renderer.inline(part)):
                kind = kind_of(block)
                if kind == "heading":
                    deck.heading(block)
                elif kind in ("list", "math", "table"):
                    deck.on_slide(block)
                else:
                    deck.notes(block)
    out = nbformat.v4.new_notebook(cells=deck.cells, metadata=copy.deepcopy(nb.metadata))
    out.metadata.pop("widgets", None)  # the static explorer needs no widget manager (and its CDN)
    return out


# ---------------------------------------------------------------------------------------------
# Export


def _mathjax_dir() -> Path:
    """sphinx-mathjax-offline's MathJax 3 (a folder named with hyphens: not importable)."""
    mathjax = Path(sysconfig.get_paths()["purelib"]) / "sphinx-mathjax-offline" / "static" / "mathjax"
    if (mathjax / "tex-chtml.js").exists():
        return mathjax
    raise FileNotFoundError("MathJax 3 from sphinx-mathjax-offline not found (pip install -r requirements.txt)")


def copy_assets(out: Path) -> None:
    shutil.copytree(HERE / "vendor", out / "vendor", dirs_exist_ok=True)
    mj = _mathjax_dir()
    (out / "mathjax" / "output" / "chtml").mkdir(parents=True, exist_ok=True)
    shutil.copy2(mj / "tex-chtml.js", out / "mathjax" / "tex-chtml.js")
    shutil.copytree(mj / "output" / "chtml" / "fonts", out / "mathjax" / "output" / "chtml" / "fonts",
                    dirs_exist_ok=True)


def export(slide_nb, title: str) -> str:
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(
        extra_template_basedirs=[str(HERE / "templates")],
        template_name="mmcl_reveal",
        reveal_url_prefix="vendor/reveal.js",
        reveal_theme="white",
        reveal_scroll=True,
        jquery_url="vendor/jquery/dist/jquery.min.js",
        require_js_url="vendor/requirejs/require.js",
        mathjax_url="mathjax/tex-chtml.js",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    slide_nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(slide_nb)
    return body


def make_deck(path: Path, out: Path, *, scale: str, renderer: Renderer, log=print) -> Path:
    nb = nbformat.read(path, as_version=4)
    t0 = time.time()
    env = {"MMCL_SCALE": scale, "MMCL_EXPLORER": "static", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    evaluated = run_chapter(nb, cwd=path.parent, env=env)
    slides = slide_notebook(nb, evaluated, renderer)
    title = next((_first_heading(c.source) for c in slides.cells if c.cell_type == "markdown"
                  and _first_heading(c.source)), path.stem)
    html = export(slides, re.sub(r"[*_`$]", "", title))
    target = out / f"{path.stem}.slides.html"
    target.write_text(html, encoding="utf-8")
    n = sum(1 for c in slides.cells if c.metadata.get("slideshow", {}).get("slide_type") == "slide")
    log(f"{target.name}: {n} slides, {len(html) / 1e6:.1f} MB, {time.time() - t0:.0f} s")
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapters (default: book/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default _build/slides)")
    parser.add_argument("--scale", default=os.environ.get("MMCL_SCALE", "quick"),
                        help="MMCL_SCALE for running the chapters (default quick)")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in (args.notebooks or sorted((ROOT / "book").glob(CHAPTER_GLOB)))]
    book_pages = sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md"))
    labels, docs = collect_labels(book_pages)
    renderer = Renderer(labels, docs, read_bib(ROOT / "book" / "references.bib"))
    args.out.mkdir(parents=True, exist_ok=True)
    copy_assets(args.out)
    for path in paths:
        make_deck(path, args.out, scale=args.scale, renderer=renderer)
    print(f"slides: {len(paths)} decks in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
