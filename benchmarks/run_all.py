"""Run every benchmark and record the results in benchmarks/RESULTS.md (plots in benchmarks/results/).

    pip install -r requirements.txt -r benchmarks/requirements.txt
    python benchmarks/run_all.py

Each benchmark runs in its own process and writes its own section of RESULTS.md (between its marker
comments), so sections written by other scripts are kept. The loss-and-gradient benchmark runs twice:
with the machine's BLAS configuration, and once more with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
removed from that one command's environment (if they are set), to show what they cost.

A progress bar over the benchmark sections shows on a terminal (``--progress`` / ``--no-progress``).
Ctrl-C ends the running benchmark; the sections finished before it stay in RESULTS.md (every write
replaces the file in one step), and ``--from NAME`` reruns from a given section onwards.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import _common as C
from mmcl_lib.book.progress import bar

BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
QUICK = {  # --quick: small settings that check every script end to end in about a minute
    "bench_loss_grad.py": ["--ns", "128", "256", "--repeats", "3"],
    "bench_recipe.py": ["--seeds", "2", "--epochs", "5"],
    "bench_scaling.py": ["--ns", "128", "256", "512", "--ds", "64", "128", "256", "--n-for-d", "256",
                         "--repeats", "3"],
    "bench_book.py": ["--only", "interactive_figures"],
}


def run(script: str, *args: str, env: dict | None = None, quick: bool = False) -> bool:
    path = C.HERE / script
    if quick:
        args = (*QUICK.get(script, []), *args)
    print(f"--- {script} {' '.join(args)}", flush=True)
    t0 = time.perf_counter()
    env = dict(env or os.environ)
    env["MMCL_RUN_ALL"] = "1"
    rc = subprocess.run([sys.executable, str(path), *args], cwd=C.ROOT, env=env).returncode
    print(f"--- {script}: exit {rc}, {time.perf_counter() - t0:.0f} s", flush=True)
    return rc == 0


def sections(quick: bool) -> list[tuple[str, str, tuple, dict | None]]:
    """The benchmark runs in order: ``(name, script, extra arguments, environment or None)``."""
    out = [("bench_loss_grad", "bench_loss_grad.py", (), None)]
    if any(v in os.environ for v in BLAS_VARS):
        env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
        out.append(("bench_loss_grad (BLAS variables unset)", "bench_loss_grad.py",
                    ("--section", "bench_loss_grad_blas_unset", "--title",
                     "Loss and gradients, with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"), env))
    out += [
        ("bench_loss_grad (one thread)", "bench_loss_grad.py",
         ("--section", "bench_loss_grad_1thread", "--threads", "1",
          "--title", "Loss and gradients, one thread each (NumPy BLAS and PyTorch)"), None),
        ("bench_recipe", "bench_recipe.py", (), None),
        ("bench_scaling", "bench_scaling.py", (), None),
        ("bench_solvers", "bench_solvers.py",   # d = 1000 takes half an hour: run it on its own (README)
         ("--threads", "1", "--sizes", *(["chapter"] if quick else ["chapter", "large"])), None),
        ("bench_book", "bench_book.py", (), None),
        ("bench_large (float64)", "bench_large.py", ("--ns", "1024", "4096") if quick else (), None),
        ("bench_large (float32)", "bench_large.py", ("--dtype", "float32", *(("--ns", "1024", "4096") if quick else ())), None),
        ("bench_live_figures", "bench_live_figures.py", ("--only", "interactive_figures") if quick else (), None),
    ]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small settings, to check the scripts run")
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="progress bar over the sections (default: only when stderr is a terminal)")
    ap.add_argument("--from", dest="start_at", metavar="SCRIPT",
                    help="start at this benchmark script (e.g. bench_recipe.py), skipping the ones before")
    parsed = ap.parse_args()
    quick = parsed.quick
    progress = sys.stderr.isatty() if parsed.progress is None else parsed.progress
    steps = sections(quick)
    if parsed.start_at:
        scripts = [script for _, script, _, _ in steps]
        if parsed.start_at not in scripts:
            ap.error(f"--from must be one of {sorted(set(scripts))}, got {parsed.start_at!r}")
        steps = steps[scripts.index(parsed.start_at):]
    start = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    before = C.load()
    has_title = C.RESULTS_MD.exists() and any(
        line.startswith("# ") for line in C.RESULTS_MD.read_text().splitlines())
    header = "\n".join([
        *([] if has_title else ["# Benchmark results", ""]),
        "## Benchmarks: machine, command and load", "",
        "The sections below up to the book's execution times (markers `bench_*`) are produced by one "
        "command, from the repository root, after "
        "`pip install -r requirements.txt -r benchmarks/requirements.txt`:", "",
        "```bash", "python benchmarks/run_all.py" + (" --quick" if quick else ""), "```", "",
        f"Run started {start}; {before} at the start (the run is still going if no end line follows).", "",
        "Machine:", "", C.machine_description(),
    ])
    C.write_section("run_all", header)
    ok = {}
    with bar(steps, desc="benchmark sections", unit="section", progress=progress) as shown:
        for name, script, args, env in shown:
            shown.set_postfix_str(name)
            try:
                ok[name] = run(script, *args, env=env, quick=quick)
            except KeyboardInterrupt:   # the running benchmark has been ended by subprocess.run
                C.write_section("run_all", header + f"\n\nRun interrupted during {name}; the sections "
                                "finished before it are complete.")
                print(f"\nStopped during {name}: the sections finished before it are in RESULTS.md; "
                      f"run `python benchmarks/run_all.py{' --quick' if quick else ''} --from {script}` "
                      "to go on from there.", file=sys.stderr)
                sys.exit(130)
    failed = [k for k, v in ok.items() if not v]
    C.write_section("run_all", header.replace(" (the run is still going if no end line follows)", "") + "\n" + "\n".join([
        "", f"Run ended {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {C.load()} at the end.",
        "With a load average above the core count other processes shared the CPUs: absolute times are "
        "then inflated and the numbers are provisional; ratios of contenders run alternately are "
        "affected less.",
        "Failed: " + ", ".join(failed) if failed else "All benchmarks completed.",
    ]))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
