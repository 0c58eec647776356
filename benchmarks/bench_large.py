"""Benchmark: CLIP loss + gradients at large n in bounded memory (blocked mmcl_lib) vs PyTorch autograd.

For each n (d1 = d2 = 256, r = 64, tau = 0.5, float64 unless --dtype float32) every contender runs in its own
child process, so that its peak resident memory (``ru_maxrss``) is its own; the child's address space is
capped (``--cap-gib``, default 8) so that a contender that needs more fails with an allocation error
instead of pushing a shared machine into swap or the OOM killer. Reported per call: wall time (after
a warm-up call, the best of interleaved calls of the contender and the floors: see ``repeats``), peak
RSS of the process, and for mmcl_lib the extra memory traced by tracemalloc during one call. The matmul floors (the seven products alone, and
with the similarity block computed twice as a bounded-memory method must) are timed in the mmcl_lib child.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

import matplotlib.pyplot as plt

import _common as C
from mmcl_lib.book.display import log_ticks

D, R, TAU = 256, 64, 0.5


def repeats(n: int) -> int:
    """Timed calls per contender: the best of 5 up to n = 4096, of 3 at 8192, one call above."""
    return 5 if n <= 4096 else 3 if n <= 8192 else 1


def child(kind: str, n: int, dtype: str, cap_gib: float, threads: int) -> dict:
    resource.setrlimit(resource.RLIMIT_AS, (int(cap_gib * 2**30), int(cap_gib * 2**30)))
    # Imports after the cap on purpose: the libraries' own memory counts against it, as in a real run.
    import numpy as np
    C.limit_threads(threads)
    from bench_loss_grad import make_problem
    G1, G2, X, Y = (a.astype(dtype) for a in make_problem(n, d=D, r=R))
    out = {"kind": kind, "n": n, "dtype": dtype}
    try:
        if kind == "mmcl":
            import tracemalloc

            from mmcl_lib.losses import DEFAULT_MEMORY_BUDGET, block_plan, clip
            loss = clip(TAU)
            call = lambda: loss.value_and_grad(G1, G2, X, Y)  # noqa: E731
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            call()                                   # also the warm-up
            out["traced_extra"] = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()

            rows = block_plan(n, np.dtype(dtype).itemsize, DEFAULT_MEMORY_BUDGET)[0]
            floor, floor4 = (C.blocked_floor(G1, G2, X, Y, rows, recompute) for recompute in (False, True))
            times = C.alternate({"time": call, "floor": floor, "floor4": floor4},
                                repeats=repeats(n), warmup=0)
            out.update({k: float(v.min()) for k, v in times.items()})
        else:
            if kind == "dense":                       # the unblocked reference kept in the library as the
                from mmcl_lib.losses import clip     # test oracle: whole n x n matrices, float64
                run = lambda: clip(TAU)._dense_value_and_grad(G1, G2, X, Y)  # noqa: E731
            else:
                import torch
                torch.set_num_threads(threads or torch.get_num_threads())
                from bench_loss_grad import torch_clip_value_and_grad
                tdt = {"float64": torch.float64, "float32": torch.float32}[dtype]
                run = torch_clip_value_and_grad(TAU, tdt)(G1, G2, X, Y)
            run()                                    # warm-up
            out["time"] = float(C.alternate({"run": run}, repeats=repeats(n), warmup=0)["run"].min())
        out["status"] = "ok"
    except (MemoryError, RuntimeError) as exc:              # torch raises RuntimeError on allocation failure
        out["status"] = f"out of memory ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"
    out["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


def run_child(kind, n, dtype, cap, threads):
    cmd = [sys.executable, __file__, "--child", kind, "--n", str(n), "--dtype", dtype,
           "--cap-gib", str(cap), "--threads", str(threads)]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=C.ROOT)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1][:100]
        return {"kind": kind, "n": n, "status": f"failed (exit {p.returncode}: {tail})", "maxrss": None}
    return json.loads(lines[-1])


def plot(ns, res, kinds, dtype):
    """Time and peak RSS against n, log-log, one line per contender (out-of-memory sizes left out)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    labels = {"mmcl": "mmcl_lib (blocked)", "dense": "dense reference", "torch": "PyTorch autograd"}
    for kind in kinds:
        ok = [n for n in ns if res[(kind, n)].get("time")]
        if ok:
            axes[0].loglog(ok, [res[(kind, n)]["time"] for n in ok], "o-", label=labels[kind])
            axes[1].loglog(ok, [res[(kind, n)]["maxrss"] / 2**30 for n in ok], "o-", label=labels[kind])
    floor = [n for n in ns if res[("mmcl", n)].get("floor")]
    axes[0].loglog(floor, [res[("mmcl", n)]["floor"] for n in floor], "k:", label="matmul floor")
    for ax, ylabel in zip(axes, ("time per call (s)", "peak RSS (GiB)")):
        ax.set_xticks(ns, [str(n) for n in ns], minor=False)
        ax.set_xticks([], minor=True)
        log_ticks(ax, "y")                       # labelled ticks wherever the range lies
        ax.set(xlabel="n (batch size)", ylabel=ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"CLIP loss + gradients, d = {D}, r = {R}, {dtype}; missing points ran out of memory", fontsize=10)
    C.save_figure(fig, f"large_n_{dtype}.png")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", type=int, nargs="+", default=[4096, 8192, 16384, 32768])
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--cap-gib", type=float, default=8.0)
    ap.add_argument("--torch", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--child")
    ap.add_argument("--n", type=int)
    C.threads_argument(ap)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.dtype, args.cap_gib, args.threads)), flush=True)
        return
    before = C.load()
    rows, res = [], {}
    kinds = ["mmcl", "dense"] + (["torch"] if args.torch else [])
    for n in args.ns:
        for kind in kinds:
            if kind != "mmcl" and any(r["kind"] == kind and r["status"] != "ok" for r in res.values()):
                res[(kind, n)] = {"kind": kind, "n": n, "status": "not run (ran out at a smaller n)",
                                  "maxrss": None}
            else:
                res[(kind, n)] = run_child(kind, n, args.dtype, args.cap_gib, args.threads)
            print(res[(kind, n)], flush=True)
    base = res.get(("mmcl", args.ns[0]), {})

    def ratio(a, b, scale=1.0):
        return f"{a / (scale * b):.2f}" if a and b else ""

    missing = {"status": "not run", "maxrss": None}
    for n in args.ns:
        m, t, u = res[("mmcl", n)], res.get(("torch", n), missing), res[("dense", n)]
        scale = (n / args.ns[0]) ** 2
        rows.append([n,
                     f"{m['time']:.2f}" if m.get("time") else m["status"],
                     f"{m['floor']:.2f}" if m.get("floor") else "",
                     f"{m['floor4']:.2f}" if m.get("floor4") else "",
                     ratio(m.get("time"), m.get("floor")),
                     ratio(m.get("time"), m.get("floor4")),
                     ratio(m.get("time"), base.get("floor"), scale),
                     ratio(m.get("floor"), base.get("floor"), scale),
                     f"{m['traced_extra'] / 2**20:.0f}" if m.get("traced_extra") else "",
                     f"{m['maxrss'] / 2**20:.0f}" if m.get("maxrss") else "",
                     f"{u['time']:.2f}" if u.get("time") else u["status"],
                     f"{u['maxrss'] / 2**20:.0f}" if u.get("maxrss") and u.get("time") else "",
                     f"{t['time']:.2f}" if t.get("time") else t["status"],
                     f"{t['maxrss'] / 2**20:.0f}" if t.get("maxrss") and t.get("time") else ""])
    plot(args.ns, res, kinds, args.dtype)
    body = "\n".join([
        f"## CLIP loss + gradients at large n, {args.dtype}: blocked mmcl_lib vs PyTorch", "",
        f"`clip({TAU}).value_and_grad`, d1 = d2 = {D}, r = {R}, Gaussian data, {args.dtype}; each contender "
        f"in its own process with its address space capped at {args.cap_gib:g} GiB (RLIMIT_AS), so "
        "running out of memory is an allocation error, not swap. Times in seconds: after a warm-up call, "
        "the best of 5 interleaved calls up to n = 4096, of 3 at n = 8192, a single call above. *floor* = the seven matrix products of the loss and its gradients "
        "alone (embeddings, s = F H^T, s H, s^T F, back to G1 and G2), in the library's row blocks with "
        "reused arrays; *two-pass floor* = the same with s computed twice, the least a method that never "
        "holds the n x n matrix must multiply (mmcl_lib holds it only when it fits its 256 MiB budget, "
        "here at n = 4096). *vs floor scaled* = time divided by the first row's floor times (n/n_0)^2. "
        "*traced* = extra memory allocated during one call (tracemalloc); *RSS* = the child process's "
        "peak resident memory, including Python, NumPy or PyTorch and the data. *dense* = the unblocked "
        "computation through whole n x n matrices that the library keeps as the reference of its tests "
        "(`ContrastiveLoss._dense_value_and_grad`, float64).", "",
        C.md_table(["n", "mmcl_lib (s)", "floor (s)", "two-pass floor (s)", "mmcl / floor",
                    "mmcl / two-pass floor", "mmcl vs floor scaled from first", "floor vs floor scaled",
                    "mmcl traced extra (MiB)", "mmcl peak RSS (MiB)", "dense (s)", "dense peak RSS (MiB)",
                    "torch (s)", "torch peak RSS (MiB)"],
                   rows), "",
        f"![time and peak memory against n](results/large_n_{args.dtype}.png)", "",
        C.footer(before, args.threads),
    ])
    C.write_section(f"bench_large_{args.dtype}", body)


if __name__ == "__main__":
    main()
