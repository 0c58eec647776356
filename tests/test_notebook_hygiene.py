"""Chapters are committed clean: no outputs, no execution counts, no widget state, python3 kernel."""

import json
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb")
                   if "_build" not in p.parts and not p.name.endswith(".nbmake.ipynb"))


def committed_text(path: pathlib.Path) -> str:
    """The version in git's index if the file is tracked (nbmake --overwrite may have executed
    the working copy), else the file on disk."""
    rel = path.relative_to(ROOT).as_posix()
    shown = subprocess.run(["git", "show", f":{rel}"], cwd=ROOT, capture_output=True, text=True)
    return shown.stdout if shown.returncode == 0 else path.read_text()


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks found under book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    nb = json.loads(committed_text(path))
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    assert "widgets" not in nb["metadata"]
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: a cell has stored outputs"
            assert cell.get("execution_count") is None, f"{path.name}: a cell has an execution count"


MAX_CODE_LINES = 25


def code_lines(source: str) -> int:
    """Lines of a code cell that are neither blank nor comments (``#`` lines, cell magics count)."""
    return sum(1 for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def test_code_lines_counts_only_code():
    assert code_lines("import numpy as np\n\n# a comment\n   # indented comment\nx = 1  # trailing\n") == 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_short(path):
    """A chapter shows the library call that matters; plotting and glue live in mmcl_lib.book."""
    nb = json.loads(committed_text(path))
    long_cells = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        n = code_lines(source)
        if n > MAX_CODE_LINES:
            first = next(line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#"))
            long_cells.append(f"cell {index} ({n} lines, starts {first.strip()[:60]!r})")
    assert not long_cells, (f"{path.name}: {len(long_cells)} code cell(s) longer than {MAX_CODE_LINES} "
                            f"non-blank, non-comment lines: " + "; ".join(long_cells))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_glue_through_the_book_helper(path):
    """Chapters run in a plain kernel without myst-nb (Colab): they glue with
    mmcl_lib.book.display.glue_values, never by importing myst_nb themselves."""
    nb = json.loads(committed_text(path))
    offending = [index for index, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
                 and "myst_nb" in ("".join(cell["source"]) if isinstance(cell["source"], list)
                                   else cell["source"])]
    assert not offending, f"{path.name}: cells {offending} use myst_nb directly (use display.glue_values)"
