"""The student edition (tools/make_student.py): solutions out, stubs and checks in, and it runs.

On the fixture chapter ``tests/fixtures/exercise_chapter.ipynb`` (a tagged coding exercise and a
pen-and-paper one, markers sharing cells with text, a ``:::`` fence) and on the real chapters:
no solution text remains, every tagged exercise has its stub and its check, the student notebook
runs with ``NotImplementedError`` its only error, and with the solutions pasted back its checks pass.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "exercise_chapter.ipynb"
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
RUN_CHAPTER = ROOT / "book" / "01_clip_linear_world.ipynb"  # the fastest chapter at quick sizes

sys.path.insert(0, str(ROOT / "tools"))
import make_student as ms  # noqa: E402  (tools/ is not a package)


def solution_texts(nb) -> list[str]:
    """The lines of Markdown and code that stand between the solution markers of ``nb``."""
    out, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "code":
            if inside and "check" not in ms.tags(cell):
                out += [l for l in cell.source.split("\n") if l.strip() and not l.lstrip().startswith("#")]
            continue
        for part in ms.split_directives(cell.source):
            if isinstance(part, ms.Directive):
                inside = {"solution-start": True, "solution-end": False}.get(part.name, inside)
            elif inside:
                out += [l.strip() for l in part.split("\n") if len(l.strip()) > 12]
    return out


def outside_code(nb) -> list[tuple[str, str]]:
    """``(id, source)`` of the code cells outside the solutions, and of the checks."""
    out, inside = [], False
    for cell in ms.with_ids(nb).cells:
        if cell.cell_type == "code":
            if not inside or "check" in ms.tags(cell):
                out.append((cell.get("id"), cell.source))
            continue
        for part in ms.split_directives(cell.source):
            if isinstance(part, ms.Directive):
                inside = {"solution-start": True, "solution-end": False}.get(part.name, inside)
    return out


def execute(nb, cwd: Path):
    """Run ``nb`` (cells tagged raises-exception may fail); returns the error outputs by cell."""
    os.environ.setdefault("MMCL_SCALE", "quick")
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return [(c, o) for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.fixture(scope="module")
def fixture_edition():
    original = nbformat.read(FIXTURE, as_version=4)
    return original, ms.make_student(original)


def test_fixture_has_no_solution_left(fixture_edition):
    original, res = fixture_edition
    text = nbformat.writes(res.notebook)
    assert "SECRET" not in text
    for marker in ("solution-start", "solution-end"):
        assert marker not in text
    assert "Text after the solutions stays." in text
    assert [e.label for e in res.exercises] == ["ex-fixture-logn", "ex-fixture-pen"]
    assert not res.warnings


def test_fixture_stub_and_check(fixture_edition):
    _, res = fixture_edition
    cells = res.notebook.cells
    stubs = [i for i, c in enumerate(cells) if "stub" in ms.tags(c)]
    assert len(stubs) == 1
    stub = cells[stubs[0]].source.split("\n")
    assert stub[0].startswith("# TODO:") and stub[1].startswith("# TODO:")
    assert re.fullmatch(r"raise NotImplementedError\(.*CLIP at equal similarities.*\)", stub[-1])
    check = cells[stubs[0] + 1]
    assert "check" in ms.tags(check) and 'print("Correct:' in check.source


def test_fixture_runs_with_only_not_implemented(fixture_edition, tmp_path):
    original, res = fixture_edition
    errors = execute(res.notebook, FIXTURE.parent)
    assert errors, "the stub should raise"
    assert {o["ename"] for _, o in errors} == {"NotImplementedError"}
    assert all("raises-exception" in ms.tags(c) for c, _ in errors)


def test_fixture_solutions_pasted_back_pass(fixture_edition):
    original, res = fixture_edition
    nb = ms.paste_solutions(res.notebook, original)
    assert execute(nb, FIXTURE.parent) == []
    checks = [c for c in nb.cells if "check" in ms.tags(c)]
    assert all("Correct:" in "".join(o.get("text", "") for o in c.outputs) for c in checks)


def test_write_edition_cli(tmp_path):
    assert ms.main([str(FIXTURE), "--out", str(tmp_path)]) == 0
    written = nbformat.read(tmp_path / "book" / FIXTURE.name, as_version=4)
    nbformat.validate(written)
    assert (tmp_path / "experiments" / "results").is_dir()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_edition(path):
    original = nbformat.read(path, as_version=4)
    res = ms.make_student(original)
    text = nbformat.writes(res.notebook)
    assert "solution-start" not in text and "solution-end" not in text
    student_cells = "\n".join(c.source for c in res.notebook.cells)
    # a solution line may also stand elsewhere (an exercise repeats a formula): it is left if the
    # student edition holds it as often as the whole original does
    original_cells = "\n".join(c.source for c in original.cells)
    left = [l for l in solution_texts(original)
            if student_cells.count(l) >= original_cells.count(l) > 0]
    assert not left, f"solution text left in the student edition: {left[:3]}"
    tagged = sum("solution" in ms.tags(c) for c in original.cells)
    assert sum("stub" in ms.tags(c) for c in res.notebook.cells) == tagged
    n_checks = sum("check" in ms.tags(c) for c in original.cells)
    assert sum("check" in ms.tags(c) for c in res.notebook.cells) == n_checks
    for ex in res.exercises:  # every tagged exercise: a stub, then its check
        if ex.stub_ids:
            assert ex.check_ids, f"{ex.label}: a stub without a check"
    # the code outside the solutions is unchanged (a check may get a guard line in front)
    by_id = {c.get("id"): c.source for c in res.notebook.cells}
    for cell_id, source in outside_code(original):
        assert cell_id in by_id and by_id[cell_id].endswith(source), f"cell {cell_id} changed"


def test_chapter_runs_with_only_not_implemented():
    original = nbformat.read(RUN_CHAPTER, as_version=4)
    res = ms.make_student(original)
    errors = execute(res.notebook, RUN_CHAPTER.parent)
    assert {o["ename"] for _, o in errors} <= {"NotImplementedError"}
    assert len([c for c, _ in errors if "stub" in ms.tags(c)]) == sum(len(e.stub_ids) for e in res.exercises)
    if any(e.stub_ids for e in res.exercises):
        nb = ms.paste_solutions(res.notebook, original)
        assert execute(nb, RUN_CHAPTER.parent) == []
