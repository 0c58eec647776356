"""Run every benchmark and record the results in benchmarks/RESULTS.md (plots in benchmarks/results/).

    pip install -r requirements.txt -r benchmarks/requirements.txt
    python benchmarks/run_all.py

Each benchmark runs in its own process and writes its own section of RESULTS.md (between its marker
comments), so sections written by other scripts are kept. The loss-and-gradient benchmark runs twice:
with the machine's BLAS configuration, and once more with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
removed from that one command's environment (if they are set), to show what they cost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import _common as C

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
    if not path.exists():
        print(f"--- {script}: not present, skipped", flush=True)
        return True
    print(f"--- {script} {' '.join(args)}", flush=True)
    t0 = time.perf_counter()
    env = dict(env or os.environ)
    # every script, ours or not, imports this checkout's mmcl_lib
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(C.ROOT), env.get("PYTHONPATH")]))
    env["MMCL_RUN_ALL"] = "1"
    rc = subprocess.run([sys.executable, str(path), *args], cwd=C.ROOT, env=env).returncode
    print(f"--- {script}: exit {rc}, {time.perf_counter() - t0:.0f} s", flush=True)
    return rc == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small settings, to check the scripts run")
    quick = ap.parse_args().quick
    start = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    before = C.load()
    has_title = C.RESULTS_MD.exists() and any(
        line.startswith("# ") for line in C.RESULTS_MD.read_text().splitlines())
    header = "\n".join([
        *([] if has_title else ["# Benchmark results", ""]),
        "## Issue 8 benchmarks: machine, command and load", "",
        "The sections below up to the book's execution times (markers `bench_*`) are produced by one "
        "command, from the repository root, after "
        "`pip install -r requirements.txt -r benchmarks/requirements.txt`:", "",
        "```bash", "python benchmarks/run_all.py" + (" --quick" if quick else ""), "```", "",
        f"Run started {start}; {before} at the start (the run is still going if no end line follows).", "",
        "Machine:", "", C.machine_description(),
    ])
    C.write_section("run_all", header)
    ok = {}
    ok["bench_loss_grad"] = run("bench_loss_grad.py", quick=quick)
    if any(v in os.environ for v in BLAS_VARS):
        env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
        ok["bench_loss_grad (BLAS variables unset)"] = run(
            "bench_loss_grad.py", "--section", "bench_loss_grad_blas_unset",
            "--title", "Loss and gradients, with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset", env=env,
            quick=quick)
    ok["bench_loss_grad (one thread)"] = run(
        "bench_loss_grad.py", "--section", "bench_loss_grad_1thread", "--threads", "1",
        "--title", "Loss and gradients, one thread each (NumPy BLAS and PyTorch)", quick=quick)
    ok["bench_recipe"] = run("bench_recipe.py", quick=quick)
    ok["bench_scaling"] = run("bench_scaling.py", quick=quick)
    ok["bench_solvers"] = run("bench_solvers.py", "--threads", "1",
                             *(["--sizes", "chapter"] if quick else []))
    ok["bench_book"] = run("bench_book.py", quick=quick)
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
