"""Execute every chapter twice and check that every number its prose quotes is identical in both.

The prose quotes numbers with MyST's inline ``{eval}`prose["name:fmt"]`` role
(``mmcl_lib.book.quotes``); a number that changes from one build to the next (a timing, an unseeded
draw) would make a sentence true in one build and false in the next. Each run executes the chapter
at its default size and then evaluates every expression of its Markdown cells in the same kernel
(the values are set once, so the end of the run shows what the sentence showed). Not part of CI
(it executes the book twice, several minutes); run it before a release:

    python .ci/check_prose_numbers.py [book/01_clip_linear_world.ipynb ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from mmcl_lib.book.quotes import EVAL_ROLE

ROOT = Path(__file__).resolve().parents[1]
MARK = "MMCL-PROSE-NUMBERS "


def quoted_numbers(path: Path) -> dict[str, str]:
    """Execute ``path`` as the book build does; each inline expression with the text it shows."""
    nb = nbformat.read(path, as_version=4)
    expressions = sorted({e for c in nb.cells if c.cell_type == "markdown"
                          for e in EVAL_ROLE.findall(c.source)})
    probe = f"import json\nprint({MARK!r} + json.dumps({{e: str(eval(e)) for e in {expressions!r}}}))"
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    return json.loads(text.split(MARK, 1)[1])


def main(paths: list[str]) -> int:
    os.environ.setdefault("MMCL_EXPLORER", "static")
    os.environ.pop("MMCL_SCALE", None)
    notebooks = [Path(p) for p in paths] or sorted((ROOT / "book").glob("[0-9]*.ipynb"))
    failures = 0
    for path in notebooks:
        first, second = quoted_numbers(path), quoted_numbers(path)
        changed = sorted(k for k in first.keys() | second.keys() if first.get(k) != second.get(k))
        status = "identical" if not changed else f"DIFFER: {changed}"
        print(f"{path.name}: {len(first)} quoted numbers, {status}", flush=True)
        failures += bool(changed) or not first
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="chapters to check (default: all)")
    sys.exit(main(parser.parse_args().notebooks))
