"""Pack one release archive of the book: the HTML book, the PDF, the notebooks, the student
edition and the slides, under the version of ``pyproject.toml``.

    python tools/make_release.py           # -> _build/release/mmcl-book-<version>.zip

It packs what the other commands built and says which command to run for a missing part:

- ``jupyter-book build .``            -> ``_build/html``   (the book, offline)
- ``python tools/make_pdf.py``        -> ``_build/pdf/mmcl-book.pdf``
- ``python tools/make_student.py``    -> ``_build/student``
- ``python tools/make_slides.py``     -> ``_build/slides``

The notebooks are the committed chapters of ``book/`` (no outputs), with ``mmcl_lib``, the
requirements, the licence and the citation, so that the archive runs as it is. ``--build`` runs
the missing commands first (about 15 minutes on 2 cores: the HTML and the PDF builds each execute
every chapter). Not part of CI for that reason.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name in the archive -> (path relative to the build folder, command that makes it)
BUILT = {
    "html": ("html", ["jupyter-book", "build", "."]),
    "mmcl-book.pdf": ("pdf/mmcl-book.pdf", [sys.executable, "tools/make_pdf.py"]),
    "student": ("student", [sys.executable, "tools/make_student.py"]),
    "slides": ("slides", [sys.executable, "tools/make_slides.py"]),
}
SOURCES = ["book", "mmcl_lib", "requirements.txt", "pyproject.toml", "README.md", "LICENSE",
           "CITATION.cff", "CHANGELOG.md", "_config.yml", "_toc.yml", "experiments/results"]
SKIP = {"__pycache__", ".ipynb_checkpoints"}


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def files_under(path: Path):
    if path.is_file():
        yield path
        return
    for item in sorted(path.rglob("*")):
        if item.is_file() and not SKIP & set(item.parts) and not item.name.endswith(".nbmake.ipynb"):
            yield item


def make_release(build: Path, out: Path, *, run_missing: bool = False) -> Path:
    """Write the archive to ``out`` and return its path; ValueError names what is missing."""
    missing = [name for name, (rel, _) in BUILT.items() if not (build / rel).exists()]
    if missing and run_missing:
        for name in missing:
            subprocess.run(BUILT[name][1], cwd=ROOT, check=True)
        missing = [name for name, (rel, _) in BUILT.items() if not (build / rel).exists()]
    if missing:
        commands = "; ".join(" ".join(BUILT[n][1]).replace(sys.executable, "python")
                             for n in missing)
        raise ValueError(f"missing in {build}: {', '.join(missing)} (make them with: {commands}, "
                         f"or pass --build)")
    top = f"mmcl-book-{version()}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, (rel, _) in BUILT.items():
            base = build / rel
            for item in files_under(base):
                inner = name if base.is_file() else f"{name}/{item.relative_to(base).as_posix()}"
                archive.write(item, f"{top}/{inner}")
        for rel in SOURCES:
            for item in files_under(ROOT / rel):
                archive.write(item, f"{top}/source/{item.relative_to(ROOT).as_posix()}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "_build")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--build", action="store_true", help="run the commands of missing parts")
    args = parser.parse_args(argv)
    out = args.output or args.build_dir / "release" / f"mmcl-book-{version()}.zip"
    try:
        path = make_release(args.build_dir, out, run_missing=args.build)
    except ValueError as error:
        print(f"make_release: {error}", file=sys.stderr)
        return 1
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
