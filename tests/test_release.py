"""tools/make_release.py packs the built parts and the sources under the one version."""

import importlib.util
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_release", ROOT / "tools" / "make_release.py")
release = importlib.util.module_from_spec(spec)
spec.loader.exec_module(release)


def fake_build(tmp_path: Path) -> Path:
    build = tmp_path / "_build"
    (build / "html" / "book").mkdir(parents=True)
    (build / "html" / "book" / "intro.html").write_text("<html></html>")
    (build / "pdf").mkdir()
    (build / "pdf" / "mmcl-book.pdf").write_bytes(b"%PDF-1.7")
    for part in ("student", "slides"):
        (build / part).mkdir()
        (build / part / "01.html").write_text(part)
    return build


def test_archive_holds_every_part_under_the_version(tmp_path):
    out = release.make_release(fake_build(tmp_path), tmp_path / "r.zip")
    top = f"mmcl-book-{release.version()}"
    names = set(zipfile.ZipFile(out).namelist())
    for entry in ("html/book/intro.html", "mmcl-book.pdf", "student/01.html", "slides/01.html",
                  "source/book/01_clip_linear_world.ipynb", "source/mmcl_lib/__init__.py",
                  "source/LICENSE", "source/CITATION.cff", "source/requirements.txt"):
        assert f"{top}/{entry}" in names, entry
    assert not any("__pycache__" in n or ".ipynb_checkpoints" in n for n in names)


def test_missing_parts_are_named_with_their_command(tmp_path):
    build = fake_build(tmp_path)
    (build / "pdf" / "mmcl-book.pdf").unlink()
    with pytest.raises(ValueError, match=r"mmcl-book\.pdf.*tools/make_pdf\.py"):
        release.make_release(build, tmp_path / "r.zip")
