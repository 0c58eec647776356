"""Execute every chapter twice and check that every glued value is identical in both runs.

The prose of the book quotes numbers through myst-nb's glue; a number that changes from one build
to the next (a timing, an unseeded draw) would make a sentence true in one build and false in the
next. Not part of CI (it executes the book twice, a few minutes); run it before a release:

    python .ci/check_glue.py [book/01_clip_linear_world.ipynb ...]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def glued_values(path: Path) -> dict[str, str]:
    """Execute ``path`` as the book build does and return each glued name with its text/plain value."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    values = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:                   # myst-nb keeps the value under a prefixed mime type
                data = output.get("data", {})
                values[name] = next((v for k, v in data.items() if k.endswith("text/plain")), None)
    return values


def main(paths: list[str]) -> int:
    os.environ.setdefault("MMCL_EXPLORER", "static")
    os.environ.pop("MMCL_SCALE", None)
    notebooks = [Path(p) for p in paths] or sorted((ROOT / "book").glob("[0-9]*.ipynb"))
    failures = 0
    for path in notebooks:
        first, second = glued_values(path), glued_values(path)
        changed = sorted(k for k in first.keys() | second.keys() if first.get(k) != second.get(k))
        status = "identical" if not changed else f"DIFFER: {changed}"
        print(f"{path.name}: {len(first)} glued values, {status}", flush=True)
        empty = sorted(k for k, v in first.items() if not v)
        if empty:
            status += f"; no text value for {empty}"
        failures += bool(changed) or bool(empty) or not first
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="chapters to check (default: all)")
    sys.exit(main(parser.parse_args().notebooks))
