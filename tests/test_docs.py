"""Every public object of the library says which result of the paper it implements and where the book
derives or uses it, and every book label it names exists (so the references cannot rot)."""

import importlib
import inspect
import pathlib
import pkgutil
import re

import pytest

import mmcl_lib

ROOT = pathlib.Path(__file__).resolve().parents[1]
CORE = sorted(m.name for m in pkgutil.iter_modules(mmcl_lib.__path__)
              if not m.name.startswith("_") and not m.ispkg)
BOOK_TEXT = "\n".join(p.read_text() for p in sorted((ROOT / "book").glob("*.*"))
                      if p.suffix in (".ipynb", ".md"))
LABELS = set(re.findall(r"\(([\w-]+)\)=", BOOK_TEXT)) | set(re.findall(r":label: ([\w-]+)", BOOK_TEXT))


def public_objects(module_name):
    module = importlib.import_module(f"mmcl_lib.{module_name}")
    for name, obj in vars(module).items():
        if (not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
                and obj.__module__ == module.__name__):
            yield name, obj


def test_the_core_never_imports_the_book_machinery():
    for name in CORE:
        source = (ROOT / "mmcl_lib" / f"{name}.py").read_text()
        assert not re.search(r"^\s*(from|import) [\w.]*\bbook\b", source, re.M), name


@pytest.mark.parametrize("module_name", CORE)
def test_public_objects_cite_the_paper_and_the_book(module_name):
    problems = []
    for name, obj in public_objects(module_name):
        doc = inspect.getdoc(obj) or ""
        match = re.search(r"Paper: (.+?)\. Book: (.+?)\.?$", " ".join(doc.split()), re.S)
        if not match:
            problems.append(f"{name}: no 'Paper: ... Book: ...' line")
            continue
        labels = re.findall(r"``([\w-]+)``", match.group(2))
        if not labels:
            problems.append(f"{name}: 'Book:' names no label")
        problems += [f"{name}: label {label!r} is not in the book" for label in labels if label not in LABELS]
    assert not problems, f"mmcl_lib.{module_name}: " + "; ".join(problems)
