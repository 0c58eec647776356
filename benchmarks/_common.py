"""Shared helpers for the benchmark scripts: timing, machine description, RESULTS.md sections.

Each script owns one section of ``benchmarks/RESULTS.md``, delimited by the marker comments
``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; :func:`write_section` replaces only the text
between its own markers (or appends the section), so several scripts, and other authors' sections,
share the file safely. RESULTS.md and the figures are written atomically (a temporary file in the
same folder, then ``os.replace``; ``mmcl_lib.book.files``): an interrupted run leaves the previous
file complete.
"""

from __future__ import annotations

import fcntl
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg.blas import get_blas_funcs
from threadpoolctl import threadpool_info, threadpool_limits

from mmcl_lib.book.files import savefig_atomic, write_atomic

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_MD = Path(os.environ.get("MMCL_BENCH_RESULTS", HERE / "RESULTS.md"))   # another file for trial runs
RESULTS_DIR = RESULTS_MD.parent / "results"        # figures go next to the results file

def timed(fn) -> float:
    """Wall time of one call of ``fn()`` in seconds."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0

def blocked_floor(G1, G2, X, Y, rows: int, recompute: bool = False):
    """The products of CLIP loss + gradients alone, as a callable: embeddings F = X G1^T, H = Y G2^T,
    then per block of ``rows`` rows s_I = F_I H^T (twice if ``recompute``, as a method that never holds
    the n x n matrix must), s_I H and s_I^T F_I (added into place by BLAS), and back to G1 and G2.
    Reused arrays, like the library's blocked path; no element-wise work."""
    n = X.shape[0]
    gemm = get_blas_funcs("gemm", (X,))

    def run():
        F, H = X @ G1.T, Y @ G2.T
        dF, dH_t = np.empty_like(F), np.zeros_like(H).T
        buf = np.empty((rows, n), dtype=X.dtype)
        for i in range(0, n, rows):
            s = buf[:min(rows, n - i)]
            for _ in range(2 if recompute else 1):
                np.matmul(F[i:i + rows], H.T, out=s)
            np.matmul(s, H, out=dF[i:i + rows])
            dH_t = gemm(1.0, F[i:i + rows].T, s.T, beta=1.0, c=dH_t, trans_b=1, overwrite_c=1)
        return dF.T @ X, dH_t @ Y
    return run

def alternate(fns: dict, repeats: int, warmup: int = 1) -> dict[str, np.ndarray]:
    """Time each callable of ``fns`` ``repeats`` times, interleaved (a, b, c, a, b, c, ...).

    Interleaving spreads slow phases of a shared machine evenly over the contenders, so the ratio
    of medians stays meaningful when the absolute times drift.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            times[k].append(timed(fn))
    return {k: np.array(v) for k, v in times.items()}

def limit_threads(threads: int | None) -> None:
    """Limit NumPy's BLAS (threadpoolctl) and PyTorch (if imported) to ``threads`` threads; None: as configured."""
    if not threads:
        return
    threadpool_limits(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)

def threads_argument(parser) -> None:
    """Add ``--threads`` (default 1: small problems on a shared machine stall multi-threaded BLAS)."""
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS / PyTorch threads (default 1; 0 = as the machine is configured)")

def threads_note(threads: int | None) -> str:
    """How many threads a section ran with."""
    return (f"BLAS and PyTorch limited to {threads} thread(s)" if threads
            else "threads as the machine is configured")

def load() -> str:
    """``uptime``-style load averages (1, 5, 15 min) and the core count."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"

def blas_info() -> list[dict]:
    """The BLAS / OpenMP libraries loaded in this process (threadpoolctl)."""
    return threadpool_info()

def blas_summary() -> str:
    """One line per loaded BLAS: library, version, kernel (architecture) and threads."""
    rows = []
    for lib in blas_info():
        if lib.get("user_api") != "blas":
            continue
        rows.append(f"{lib.get('internal_api')} {lib.get('version')} ({Path(lib['filepath']).name}), "
                    f"kernel {lib.get('architecture', '?')}, {lib.get('num_threads')} threads")
    env = ", ".join(f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                        "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
                    if k in os.environ) or "none set"
    return "; ".join(rows) + f" [BLAS-related environment: {env}]"

def machine_description() -> str:
    """Markdown bullet list: CPU (lscpu summary), memory, Python, numpy/torch versions and BLAS."""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        info = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        info = {k.strip(): v.strip() for k, v in info.items()}
        cpu = (f"{info.get('Model name', '?')} (family {info.get('CPU family', '?')}, "
               f"model {info.get('Model', '?')}), {info.get('CPU(s)', '?')} CPUs, "
               f"L2 {info.get('L2 cache', '?')}, L3 {info.get('L3 cache', '?')}, "
               f"hypervisor {info.get('Hypervisor vendor', 'none')}")
    except (OSError, subprocess.CalledProcessError):
        cpu = platform.processor() or "unknown"
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        mem = f"{kb / 2**20:.0f} GiB"
    except OSError:
        pass
    lines = [f"- CPU: {cpu}", f"- Memory: {mem}",
             f"- OS / Python: {platform.platform()}, Python {platform.python_version()}",
             f"- numpy {np.__version__}; BLAS: {blas_summary()}"]
    try:
        import torch
        lines.append(f"- torch {torch.__version__}, {torch.get_num_threads()} intra-op threads, "
                     f"BLAS {torch.backends.mkl.is_available() and 'MKL' or 'other'}, "
                     f"CPU capability {torch.backends.cpu.get_cpu_capability()}")
    except ImportError:
        lines.append("- torch: not installed")
    return "\n".join(lines)

def write_section(name: str, body: str) -> None:
    """Put ``body`` between ``<!-- name:start -->`` and ``<!-- name:end -->`` in RESULTS.md.

    Only that span is rewritten; a new section is appended at the end.
    Writers lock the benchmarks folder while they read and replace the file, so concurrent writers
    keep each other's sections; the new text goes to a temporary file that then replaces RESULTS.md
    in one step, so an interruption leaves the previous file whole.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    lock = os.open(RESULTS_MD.parent, os.O_RDONLY)   # the folder's lock survives the file's replacement
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
        i, j = text.find(start), text.find(end)
        if i >= 0 and j > i:
            text = text[:i] + block + text[j + len(end):]
        else:
            text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + block + "\n"
        write_atomic(RESULTS_MD, text)
    finally:
        os.close(lock)                                # closing releases the lock

def md_table(header: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)

def ms(seconds: float) -> str:
    """Seconds as milliseconds with three significant digits."""
    return f"{1e3 * seconds:.3g}"

def save_figure(fig, fname: str) -> None:
    """Save a matplotlib figure under benchmarks/results/ and close it."""
    fig.tight_layout()
    RESULTS_DIR.mkdir(exist_ok=True)
    try:
        savefig_atomic(fig, RESULTS_DIR / fname, dpi=110)
    finally:
        plt.close(fig)

def footer(before: str, threads: int | None = None) -> str:
    """The closing lines of a section: threads and BLAS, load before and after, the command."""
    lines = [f"{threads_note(threads)}; {blas_summary()}." if threads is not None else "",
             f"Load before: {before}; after: {load()}.",
             f"Command: `{command_line()}`" + (" (run by `python benchmarks/run_all.py`)"
                                                 if os.environ.get("MMCL_RUN_ALL") else "")]
    return "\n".join(line for line in lines if line)

def command_line() -> str:
    """The command that produced a section, relative to the repository root."""
    args = [Path(sys.argv[0]).resolve().relative_to(ROOT).as_posix(), *sys.argv[1:]]
    return "python " + " ".join(args)
