"""Run Chapter 6 at MMCL_SCALE=paper and record the results (JSON and a Markdown table).

Usage: python experiments/chapter6_paper_scale.py   (several minutes on two cores)
Writes experiments/results/chapter6_paper_scale.json and .md atomically; Chapter 6 shows the table.
"""

import json
from pathlib import Path

from mmcl_lib import real_data
from mmcl_lib.book import files
from mmcl_lib.book import real_data_experiment as rdx

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    views, labels = real_data.load_multiple_features(rdx.PAPER_SETTINGS["views"])
    results = rdx.paper_scale(views, labels)
    files.write_atomic(OUT / "chapter6_paper_scale.json", json.dumps(results, indent=1))
    files.write_atomic(OUT / "chapter6_paper_scale.md", rdx.paper_scale_markdown(results))
    print(rdx.paper_scale_markdown(results))


if __name__ == "__main__":
    main()
