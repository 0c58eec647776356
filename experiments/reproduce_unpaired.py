"""Reproduce the synthetic experiment of Nakada et al. (2023), section 5.1: the value of unpaired data.

    python experiments/reproduce_unpaired.py                 # full: 5 seeds, N = 500, 1000, ..., 5000
    python experiments/reproduce_unpaired.py --grid quick --seeds 2

Writes experiments/results/unpaired_table.md, unpaired.png and unpaired_runs.json, and prints the
command and the wall time. Settings (paper-notes 5.1): d1 = 40, d2 = 39, r = 10, noise std 0.3,
n = 300 pairs, 10000 test pairs, cosine similarity, tau = 1, AdamW lr 2e-3, batch 50, 100 + 100 epochs.
Seeds run in parallel processes (--jobs, default 2).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # one BLAS thread per worker process
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402

from mmcl_lib.book.unpaired_experiment import PAPER, markdown_table, plot_summary, run_seed, summarise  # noqa: E402

GRIDS = {"full": list(range(500, 5001, 500)), "quick": [500, 2000, 5000]}
RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0, 1, ...), default 5")
    parser.add_argument("--grid", choices=sorted(GRIDS), default="full", help="values of N")
    parser.add_argument("--jobs", type=int, default=2, help="parallel processes, default 2")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output folder")
    args = parser.parse_args(argv)
    command = "python experiments/reproduce_unpaired.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    Ns = GRIDS[args.grid]

    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        runs = list(pool.map(partial(run_seed, Ns=Ns), range(args.seeds)))
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)   # the worker processes, after they ended
    cpu = usage.ru_utime + usage.ru_stime
    summary = summarise(runs)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    args.out.mkdir(parents=True, exist_ok=True)
    header = (f"# Value of unpaired data: reproduction of section 5.1\n\n"
              f"Command: `{command.strip()}`  \n"
              f"Wall time: {wall:.0f} s with {args.jobs} processes on {os.cpu_count()} cores; CPU time of "
              f"the workers {cpu:.0f} s (load average at the end {load:.1f}; Python "
              f"{platform.python_version()})  \n"
              f"Settings: {', '.join(f'{k} = {v}' for k, v in PAPER.items())}; "
              f"seeds 0..{args.seeds - 1}; matching: 3 rounds, cosine threshold 0.8.  \n"
              f"Cells: top-1 retrieval accuracy, mean ± standard deviation over {args.seeds} seeds.\n\n")
    det = "\n".join(f"| {m} | " + " | ".join(f"{p:.3f}" for p in v) + " |"
                    for m, v in summary["detection_precision"].items())
    det_table = ("\n\nDetection precision of the last epoch / round (mean over seeds):\n\n"
                 "| method | " + " | ".join(f"N = {N}" for N in Ns) + " |\n|---|" + "---|" * len(Ns) + "\n" + det)
    (args.out / "unpaired_table.md").write_text(header + markdown_table(summary) + det_table + "\n")
    (args.out / "unpaired_runs.json").write_text(json.dumps(
        {"command": command.strip(), "wall_time_s": wall, "cpu_time_s": cpu, "settings": PAPER, "runs": runs,
         "summary": summary}, indent=1))
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    plot_summary(summary, ax)
    ax.set_title(f"Section 5.1 reproduction ({args.seeds} seeds, band = ± 1 sd)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out / "unpaired.png", dpi=110)
    print(markdown_table(summary))
    print(f"command: {command.strip()}\nwall time: {wall:.1f} s, CPU time of the workers: {cpu:.1f} s")


if __name__ == "__main__":
    main()
