"""Write the student edition of the book's chapters: solutions out, coding exercises as stubs.

Usage (from the repository root)::

    python tools/make_student.py                  # every chapter, into _build/student/
    python tools/make_student.py book/02_loss_to_svd.ipynb --out /tmp/student

The chapters mark their exercises with sphinx-exercise's gated directives::

    ````{exercise} Title
    :label: ex-label
    ...
    ````
    ````{solution-start} ex-label
    :class: dropdown
    ````
    solution text, and code cells (a coding exercise's cell is tagged ``solution`` and starts
    with ``# TODO: ...`` comment lines)
    ````{solution-end}
    ````

followed by a code cell tagged ``check``. The markers may share a Markdown cell with other text
(the exercise before them, the next exercise after them). In the student edition

- everything between a ``solution-start`` and its ``solution-end`` marker, the markers included,
  is removed (Markdown text and code cells alike); a self-contained ``{solution}`` block too;
- a code cell tagged ``solution`` becomes a stub: its leading ``# TODO`` comment lines plus
  ``raise NotImplementedError("...")`` naming the exercise (same cell id, tags ``stub`` and
  ``raises-exception``, so "Run all" goes on past it);
- a ``check`` cell stays. If it uses names that only the removed solution defined, one guard
  line is put in front of it, so that before the student has answered it says so with a
  ``NotImplementedError`` instead of a ``NameError`` (it is tagged ``raises-exception`` too);
- everything else (text, figures, the explorer, the Colab install cell) is unchanged.

The chapters keep their file names; the tree mirrors the repository (``<out>/book/*.ipynb`` and
the recorded results under ``<out>/experiments/results/`` that chapters read), so the student
notebooks run from ``<out>/book`` exactly as the chapters run from ``book/``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "_build" / "student"
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"

# ---------------------------------------------------------------------------------------------
# A small reader for MyST directives (``` or ::: fences with a {name}); make_slides uses it too.

_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\{(?P<name>[^}\s]+)\}[ \t]*(?P<arg>.*?)\s*$")
_OPTION = re.compile(r"^:(?P<key>[A-Za-z0-9_-]+):[ \t]*(?P<value>.*)$")


@dataclass
class Directive:
    """One fenced MyST directive: ``name``, its argument, ``:key: value`` options and body."""

    name: str
    arg: str
    options: dict = field(default_factory=dict)
    body: str = ""
    raw: str = ""


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (
        len(stripped) >= len(fence)
        and set(stripped) == {fence[0]}
    )


def split_directives(text: str) -> list:
    """``text`` as a list of plain-text strings and :class:`Directive` objects, in order.

    Only top-level directives are split off; nested ones stay in their parent's ``body``. An
    unclosed fence runs to the end of the text (as in MyST).
    """
    lines = text.split("\n")
    parts: list = []
    buf: list[str] = []
    i = 0
    in_code = None  # a plain ``` code fence (no {name}): directives inside it are not directives
    while i < len(lines):
        line = lines[i]
        if in_code is not None:
            buf.append(line)
            if _closes(line, in_code):
                in_code = None
            i += 1
            continue
        m = _OPEN.match(line)
        if not m:
            plain = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
            if plain:
                in_code = plain.group(1)
            buf.append(line)
            i += 1
            continue
        if buf:
            parts.append("\n".join(buf))
            buf = []
        fence = m.group("fence")
        j = i + 1
        body: list[str] = []
        while j < len(lines) and not _closes(lines[j], fence):
            body.append(lines[j])
            j += 1
        raw = "\n".join(lines[i : j + 1])
        options = {}
        k = 0
        while k < len(body) and _OPTION.match(body[k]):
            opt = _OPTION.match(body[k])
            options[opt.group("key")] = opt.group("value")
            k += 1
        while k < len(body) and not body[k].strip():
            k += 1
        parts.append(Directive(m.group("name"), m.group("arg"), options, "\n".join(body[k:]), raw))
        i = j + 1
        # the line after a closing fence starts a new text part
    if buf:
        parts.append("\n".join(buf))
    return parts


# ---------------------------------------------------------------------------------------------
# The student edition


def tags(cell) -> list:
    return list(cell.get("metadata", {}).get("tags", []))


def _tidy(text: str) -> str:
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


def _names(source: str, stored: bool) -> set[str]:
    """Names a cell assigns (``stored``) or reads; IPython magics and bad syntax give none."""
    try:
        tree = ast.parse("\n".join(l for l in source.split("\n") if not l.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return set()
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store if stored else ast.Load):
            out.add(node.id)
        elif stored and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif stored and isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
    return out


def todo_lines(source: str) -> list[str]:
    """The leading comment lines of a solution cell (its ``# TODO: ...`` instructions)."""
    lines = []
    for line in source.split("\n"):
        if line.lstrip().startswith("#"):
            lines.append(line.rstrip())
        elif line.strip():
            break
    return lines


@dataclass
class Exercise:
    label: str
    title: str = ""
    stub_ids: list = field(default_factory=list)
    check_ids: list = field(default_factory=list)
    solution_names: set = field(default_factory=set)


@dataclass
class StudentResult:
    notebook: nbformat.NotebookNode
    exercises: list  # of Exercise, in order
    warnings: list


def with_ids(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` in nbformat 4.5 whose cells all have ids (``cell-<i>`` where missing)."""
    out = copy.deepcopy(nb)
    out.nbformat, out.nbformat_minor = 4, max(5, out.get("nbformat_minor", 5))
    for i, cell in enumerate(out.cells):
        if not cell.get("id"):
            cell["id"] = f"cell-{i}"
    return out


def make_student(nb: nbformat.NotebookNode) -> StudentResult:
    """The student edition of one chapter (a new notebook; ``nb`` is not changed)."""
    out = with_ids(nb)
    cells = []
    in_solution = False
    current: Exercise | None = None
    last_exercise: dict = {}  # the label and title of the latest {exercise}
    exercises: list[Exercise] = []
    warnings: list[str] = []
    defined_outside: set[str] = set()  # names assigned by the code cells the student keeps

    for cell in out.cells:
        if cell.cell_type == "markdown":
            kept = []
            for part in split_directives(cell.source):
                if isinstance(part, Directive):
                    if part.name == "exercise":
                        last_exercise = {"label": part.options.get("label", ""), "title": part.arg}
                    if part.name == "solution-start":
                        label = part.arg.split()[0] if part.arg else last_exercise.get("label", "")
                        title = last_exercise.get("title", "") if label == last_exercise.get("label") else ""
                        current = Exercise(label=label, title=title)
                        exercises.append(current)
                        in_solution = True
                        continue
                    if part.name == "solution-end":
                        in_solution = False
                        continue
                    if part.name == "solution":  # a self-contained solution block
                        continue
                    if not in_solution:
                        kept.append(part.raw)
                elif not in_solution:
                    kept.append(part)
            text = _tidy("\n".join(kept))
            if text:
                cell.source = text
                cells.append(cell)
            continue
        if cell.cell_type != "code":
            if not in_solution:
                cells.append(cell)
            continue
        cell_tags = tags(cell)
        if "check" in cell_tags:
            ex = exercises[-1] if exercises else None
            needed = sorted(_names(cell.source, stored=False) & (ex.solution_names if ex else set())
                            - defined_outside)
            if ex is not None:
                ex.check_ids.append(cell.get("id"))
            if needed:
                name = ex.title or ex.label
                cell.source = (
                    f"if not {{{', '.join(repr(n) for n in needed)}}} <= globals().keys():"
                    f"  # defined by your answer above\n"
                    f"    raise NotImplementedError({f'Exercise {name}: run your answer above first'!r})\n"
                    + cell.source
                )
                cell.metadata["tags"] = cell_tags + ["raises-exception"]
            defined_outside |= _names(cell.source, stored=True)
            cells.append(cell)
            continue
        if not in_solution:
            if "solution" in cell_tags:
                warnings.append(f"cell {cell.get('id')}: tagged solution outside a solution block; kept")
            defined_outside |= _names(cell.source, stored=True)
            cells.append(cell)
            continue
        # a code cell inside a solution
        current.solution_names |= _names(cell.source, stored=True)
        if "solution" not in cell_tags:
            continue
        lines = todo_lines(cell.source)
        if not any(l.lstrip("# ").upper().startswith("TODO") for l in lines):
            warnings.append(f"exercise {current.label}: its solution cell does not start with '# TODO:'")
            lines = ["# TODO: write your answer here."] + lines
        name = current.title or current.label
        message = f"Exercise {name}: replace this line by your code"
        cell.source = "\n".join(lines + [f"raise NotImplementedError({message!r})"])
        cell.outputs = []
        cell.execution_count = None
        cell.metadata["tags"] = [t for t in cell_tags if t != "solution"] + ["stub", "raises-exception"]
        current.stub_ids.append(cell.get("id"))
        cells.append(cell)
    if in_solution:
        warnings.append(f"exercise {current.label}: solution-start without solution-end")
    out.cells = cells
    return StudentResult(out, exercises, warnings)


def paste_solutions(student: nbformat.NotebookNode, original: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student notebook with each stub replaced by the original solution cell (same id)."""
    by_id = {c.get("id"): c for c in with_ids(original).cells}
    nb = copy.deepcopy(student)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "stub" in tags(cell):
            nb.cells[i] = copy.deepcopy(by_id[cell.get("id")])
    return nb


def chapters(root: Path = ROOT) -> list[Path]:
    return sorted((root / "book").glob(CHAPTER_GLOB))


def write_edition(paths, out: Path, root: Path = ROOT) -> list[tuple[Path, StudentResult]]:
    """Write the student edition of ``paths`` under ``out`` (``out/book/...``); returns results."""
    out = Path(out)
    (out / "book").mkdir(parents=True, exist_ok=True)
    results = []
    for path in paths:
        path = Path(path)
        nb = nbformat.read(path, as_version=4)
        res = make_student(nb)
        target = out / "book" / path.name
        nbformat.write(res.notebook, target)
        results.append((target, res))
    results_dir = root / "experiments" / "results"
    if results_dir.is_dir():  # the recorded runs that chapters read (../experiments/results/...)
        shutil.copytree(results_dir, out / "experiments" / "results", dirs_exist_ok=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapters (default: book/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default _build/student)")
    args = parser.parse_args(argv)
    paths = args.notebooks or chapters()
    results = write_edition(paths, args.out)
    total = 0
    for target, res in results:
        n_stub = sum(len(e.stub_ids) for e in res.exercises)
        n_check = sum(len(e.check_ids) for e in res.exercises)
        print(f"{target.relative_to(args.out)}: {len(res.exercises)} solutions removed, "
              f"{n_stub} stubs, {n_check} checks")
        for w in res.warnings:
            print(f"  warning: {w}", file=sys.stderr)
        total += len(res.exercises)
    print(f"student edition: {len(results)} notebooks, {total} solutions removed, in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
