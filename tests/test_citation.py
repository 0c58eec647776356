"""LICENSE, CITATION.cff and the version: one version number, citation fields present and valid.

``cffconvert --validate`` (2.0.0) checks CITATION.cff against the CFF 1.2.0 schema. Its pins
clash with the book's environment, so it lives in a venv of its own (``tools/requirements-citation.txt``;
``.ci/run`` makes it and sets ``CFFCONVERT`` and ``MMCL_CITATION_TEST=1``, so that a missing
cffconvert fails instead of skipping); the fields the schema requires are checked here in any case.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import mmcl_lib

ROOT = Path(__file__).resolve().parents[1]
CFF = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_one_version():
    assert VERSION == mmcl_lib.__version__ == str(CFF["version"]) == "1.0.0"
    assert f"## {VERSION} " in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"version {VERSION} of the book" in (ROOT / "book" / "intro.md").read_text(encoding="utf-8")


def test_citation_fields():
    assert CFF["cff-version"] == "1.2.0"
    assert CFF["message"] and CFF["title"] and CFF["authors"]
    assert all("name" in a or "family-names" in a for a in CFF["authors"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(CFF["date-released"]))
    assert set(CFF["license"]) == {"MIT", "CC-BY-4.0"}
    paper = CFF["references"][0]
    assert paper["year"] == 2023 and paper["authors"][0]["family-names"] == "Nakada"


def test_license_says_what_covers_what():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in text and "CC BY 4.0" in text
    assert "mmcl_lib" in text and "figures" in text and "tools/slides/vendor" in text


def test_cffconvert_validates():
    cffconvert = os.environ.get("CFFCONVERT") or shutil.which("cffconvert")
    if cffconvert is None:
        if os.environ.get("MMCL_CITATION_TEST") == "1":
            pytest.fail("MMCL_CITATION_TEST=1 but cffconvert was not found (set CFFCONVERT)")
        pytest.skip("cffconvert is not installed (see tools/requirements-citation.txt)")
    out = subprocess.run([cffconvert, "--validate", "-i", str(ROOT / "CITATION.cff")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_colab_cells_install_the_tagged_version():
    """Each chapter's Colab cell installs the release tag v<version>, not the moving main."""
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "set_colab_version.py"),
                          "--check", "--tag", f"v{VERSION}"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
