"""Reproduce the synthetic experiment of Nakada et al. (2023), section 5.1: the value of unpaired data.

    python experiments/reproduce_unpaired.py                 # full: 5 seeds, N = 500, 1000, ..., 5000
    python experiments/reproduce_unpaired.py --grid quick --seeds 2

Writes experiments/results/unpaired_table.md, unpaired.png and unpaired_runs.json (each atomically)
and prints the table. Settings (the paper's Section 5.1): d1 = 40, d2 = 39, r = 10, noise std 0.3,
n = 300 pairs, 10000 test pairs, cosine similarity, tau = 1, AdamW lr 2e-3, batch 50, 100 + 100 epochs.

The work is cut into units (per seed: one shared unit, then one per N) that joblib.Parallel runs in
parallel processes (--jobs, default 2). Each finished unit is cached at once by joblib.Memory under
OUT/.units/ (keyed by its arguments and the library's code), so Ctrl-C loses at most the units in
progress: rerunning the same command runs only the missing ones, and --fresh recomputes them all.
A progress bar shows on a terminal (--progress / --no-progress). To run the units on a Dask or Ray
cluster, wrap main() in joblib.parallel_config(backend="dask") (see experiments/README.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # one BLAS thread per worker process
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

from mmcl_lib.book.unpaired_experiment import Interrupted, markdown_table, reproduce, summarise, write_report  # noqa: E402

GRIDS = {"full": list(range(500, 5001, 500)), "quick": [500, 2000, 5000]}
RESULTS = Path(__file__).resolve().parent / "results"


def _stop(signum, frame):
    raise KeyboardInterrupt   # SIGTERM (kill, timeout) stops as cleanly as Ctrl-C


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0, 1, ...), default 5")
    parser.add_argument("--grid", choices=sorted(GRIDS), default="full", help="values of N")
    parser.add_argument("--jobs", type=int, default=2, help="parallel processes, default 2")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output folder (its .units/ is the joblib cache of the units)")
    parser.add_argument("--fresh", action="store_true", help="recompute every unit of these settings (overwriting the cached ones)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bar (default: only when stderr is a terminal)")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        parser.error("--seeds and --jobs must be at least 1")
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    # the recorded command names the settings only (not --out, --jobs, --fresh or --progress),
    # so runs with the same settings record the same files
    command = f"python experiments/reproduce_unpaired.py --seeds {args.seeds} --grid {args.grid}"
    resume = " ".join(["python experiments/reproduce_unpaired.py", *(sys.argv[1:] if argv is None else argv)])
    signal.signal(signal.SIGTERM, _stop)
    start = time.perf_counter()
    try:
        rep = reproduce(range(args.seeds), GRIDS[args.grid], args.out / ".units", jobs=args.jobs,
                        fresh=args.fresh, progress=progress)
    except Interrupted as stop:
        print(f"\nStopped: {stop.done} of {stop.total} units are stored in {stop.folder}; "
              f"run `{resume.replace(' --fresh', '')}` again to finish the rest.", file=sys.stderr)
        return 130
    try:
        write_report(rep, command, args.out)
    except KeyboardInterrupt:
        print(f"\nStopped while writing the results: every unit is stored and each file is either the old "
              f"or the new one; run `{resume.replace(' --fresh', '')}` again to write them.", file=sys.stderr)
        return 130
    print(markdown_table(summarise(rep.runs)))
    print(f"command: {command}\n{rep.computed} units run now, {rep.reused} reused; this call "
          f"{time.perf_counter() - start:.1f} s; the units took {rep.timing['unit_wall_time_s']:.1f} s of wall "
          f"time and {rep.timing['cpu_time_s']:.1f} s of CPU time; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
