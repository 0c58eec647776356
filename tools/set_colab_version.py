"""Pin the chapters' Colab install cell to a release tag: ``git+https://...`` -> ``git+https://...@v1.0.0``.

Usage (from the repository root; edits the notebooks in place, so run it when making a release)::

    python tools/set_colab_version.py            # the version in pyproject.toml, tag v<version>
    python tools/set_colab_version.py --tag v1.0.0 --check   # only report, exit 1 if unpinned

Only the pip URL ``git+https://github.com/<owner>/<repo>`` (with or without an ``@ref``) in a code
cell is changed; nothing else in the notebook is.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"(git\+https://github\.com/[\w.-]+/[\w.-]+?)(?:\.git)?(?:@[\w./-]+)?(?=[\"'\s#]|$)")


def pin(source: str, tag: str) -> str:
    return URL.sub(lambda m: f"{m.group(1)}@{tag}", source)


def main(argv=None) -> int:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--tag", default=f"v{version}")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a cell is not pinned")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    unpinned = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        changed = False
        for cell in nb.cells:
            if cell.cell_type == "code" and URL.search(cell.source):
                new = pin(cell.source, args.tag)
                if new != cell.source:
                    unpinned += 1
                    changed = True
                    cell.source = new
        if changed and not args.check:
            nbformat.write(nb, path)
            print(f"{path.name}: pinned to {args.tag}")
    if args.check:
        print(f"{unpinned} install cells not pinned to {args.tag}")
        return 1 if unpinned else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
