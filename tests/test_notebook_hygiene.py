"""Chapters are committed clean and valid, and their prose quotes numbers one way.

Clean: no outputs, execution counts, widget state or evaluated inline expressions; metadata is
exactly the python3 kernelspec (what the JupyterLab save plus the README's nbstripout filter
gives back). Valid: ``nbformat.validate`` passes (a 4.4 notebook with cell ids does not).
Prose: numbers only through ``{eval}`prose["name:fmt"]`` (mmcl_lib.book.quotes), no glue.
Code: lines fit the text column (80 characters), no cell ends with ``;`` (IPython would then
silence the next inline evaluations of the page).
"""

import json
import pathlib
import re
import subprocess

import nbformat
import pytest

from mmcl_lib.book.quotes import EVAL_ROLE

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb")
                   if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts
                   and not p.name.endswith(".nbmake.ipynb"))
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
MAX_LINE = 80


def committed_text(path: pathlib.Path) -> str:
    """The version in git's index if the file is tracked (nbmake --overwrite may have executed
    the working copy), else the file on disk."""
    rel = path.relative_to(ROOT).as_posix()
    shown = subprocess.run(["git", "show", f":{rel}"], cwd=ROOT, capture_output=True, text=True)
    return shown.stdout if shown.returncode == 0 else path.read_text()


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks found under book/"


def source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_checkpoint_folders_are_not_collected():
    assert not any(".ipynb_checkpoints" in p.parts for p in NOTEBOOKS)
    assert ".ipynb_checkpoints/" in (ROOT / ".gitignore").read_text().split()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid(path):
    nbformat.validate(nbformat.reads(committed_text(path), as_version=nbformat.NO_CONVERT))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_canonical_form(path):
    """Byte for byte what JupyterLab's save plus the README's nbstripout filter writes."""
    text = committed_text(path)
    assert text == nbformat.writes(nbformat.reads(text, as_version=nbformat.NO_CONVERT)) + "\n"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    nb = json.loads(committed_text(path))
    assert nb["metadata"] == {"kernelspec": KERNELSPEC}, f"{path.name}: metadata {nb['metadata']}"
    for index, cell in enumerate(nb["cells"]):
        assert "user_expressions" not in cell["metadata"], f"{path.name}: cell {index} keeps values"
        assert "execution" not in cell["metadata"], f"{path.name}: cell {index} keeps timings"
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: cell {index} has stored outputs"
            assert cell.get("execution_count") is None, f"{path.name}: cell {index} has a count"


PROSE_KEY = re.compile(r'prose\["[A-Za-z_][A-Za-z0-9_]*(:[^"]*)?"\]\Z')


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_prose_quotes_numbers_through_eval(path):
    nb = json.loads(committed_text(path))
    text = [source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
    glued = [t for t in text if "{glue" in t]
    assert not glued, f"{path.name}: glue roles left (use {{eval}}`prose[...]`): {glued[0][:80]!r}"
    bad = [e for t in text for e in EVAL_ROLE.findall(t) if not PROSE_KEY.match(e)]
    assert not bad, f"{path.name}: inline expressions not of the form prose[\"name:fmt\"]: {bad}"
    code = "".join(source(c) for c in nb["cells"] if c["cell_type"] == "code")
    assert "glue" not in code, f"{path.name}: code still glues numbers (use prose.add)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_quoted_numbers_are_not_added_in_removed_cells(path):
    """MyST-NB's inline execution runs a ``remove-cell`` cell only together with the next shown
    code cell, so Markdown between the two cannot quote the numbers it adds; ``remove-input``
    hides a cell just as well and runs it in its place."""
    cells = json.loads(committed_text(path))["cells"]
    bad = []
    for i, cell in enumerate(cells):
        if (cell["cell_type"] != "code" or "prose.add" not in source(cell)
                or "remove-cell" not in cell["metadata"].get("tags", [])):
            continue
        for later in cells[i + 1:]:
            if later["cell_type"] == "code" and "remove-cell" not in later["metadata"].get("tags", []):
                break
            if later["cell_type"] == "markdown" and "{eval}" in source(later):
                bad.append(i)
                break
    assert not bad, (f"{path.name}: cells {bad} add quoted numbers in a remove-cell cell that "
                     "Markdown quotes before the next shown code cell (tag it remove-input)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_fits_the_column_and_stays_audible(path):
    nb = json.loads(committed_text(path))
    wide, silenced = [], []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        lines = source(cell).rstrip().splitlines()
        wide += [f"cell {index}: {line[:50]!r}..." for line in lines if len(line) > MAX_LINE]
        if lines and lines[-1].split("#")[0].rstrip().endswith(";"):
            silenced.append(index)
    assert not wide, f"{path.name}: {len(wide)} code lines over {MAX_LINE} characters: {wide[:5]}"
    assert not silenced, f"{path.name}: cells {silenced} end with ';' (silences the prose's numbers)"


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
def test_chapters_do_not_import_myst_nb(path):
    """Chapters run in a plain kernel without myst-nb (Colab, JupyterLab)."""
    nb = json.loads(committed_text(path))
    offending = [index for index, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
                 and "myst_nb" in source(cell)]
    assert not offending, f"{path.name}: cells {offending} import myst_nb"
