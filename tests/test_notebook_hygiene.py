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
