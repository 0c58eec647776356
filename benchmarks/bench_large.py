"""Benchmark: CLIP loss + gradients at large n in bounded memory (blocked mmcl_lib) vs PyTorch autograd.

For each n (d1 = d2 = 256, r = 64, tau = 0.5, float64 unless --float32) every contender runs in its own
child process, so that its peak resident memory (``ru_maxrss``) is its own; the child's address space is
capped (``--cap-gib``, default 8) so that a contender that needs more fails with an allocation error
instead of pushing a shared machine into swap or the OOM killer. Reported per call: wall time (one
call after a warm-up at n <= 8192, a single call above), peak RSS of the process, and for mmcl_lib the
extra memory traced by tracemalloc during one call. The matmul floor (seven products, no n x n
matrix kept) is timed in the mmcl_lib child.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

import _common as C

D, R, TAU = 256, 64, 0.5


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
            from mmcl_lib.losses import clip
            loss = clip(TAU)
            call = lambda: loss.value_and_grad(G1, G2, X, Y)  # noqa: E731
            if n <= 8192:
                call()
            out["time"] = C.timed(call)
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            call()
            out["traced_extra"] = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()

            def floor():
                Fm, Hm = X @ G1.T, Y @ G2.T
                dF, dH = np.zeros_like(Fm), np.zeros_like(Hm)
                step = 2048
                for i in range(0, n, step):          # blocks, so the floor keeps no n x n matrix either
                    s = Fm[i:i + step] @ Hm.T
                    dF[i:i + step] = s @ Hm
                    dH += s.T @ Fm[i:i + step]
                return dF.T @ X, dH.T @ Y
            out["floor"] = C.timed(floor)
        else:
            import torch
            torch.set_num_threads(threads or torch.get_num_threads())
            from bench_loss_grad import torch_clip_value_and_grad
            tdt = {"float64": torch.float64, "float32": torch.float32}[dtype]
            run = torch_clip_value_and_grad(TAU, tdt)(G1, G2, X, Y)
            if n <= 8192:
                run()
            out["time"] = C.timed(run)
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
    for n in args.ns:
        for kind in (["mmcl", "torch"] if args.torch else ["mmcl"]):
            if kind == "torch" and any(r["kind"] == "torch" and r["status"] != "ok" for r in res.values()):
                res[(kind, n)] = {"kind": kind, "n": n, "status": "not run (ran out at a smaller n)",
                                  "maxrss": None}
            else:
                res[(kind, n)] = run_child(kind, n, args.dtype, args.cap_gib, args.threads)
            print(res[(kind, n)], flush=True)
    base = res.get(("mmcl", args.ns[0]), {})
    for n in args.ns:
        m, t = res[("mmcl", n)], res.get(("torch", n), {"status": "not run", "maxrss": None})
        scale = (n / args.ns[0]) ** 2
        rows.append([n,
                     f"{m['time']:.2f}" if m.get("time") else m["status"],
                     f"{m['floor']:.2f}" if m.get("floor") else "",
                     f"{m['time'] / m['floor']:.2f}" if m.get("floor") else "",
                     f"{m['time'] / (scale * base['time']):.2f}" if m.get("time") and base.get("time") else "",
                     f"{m['traced_extra'] / 2**20:.0f}" if m.get("traced_extra") else "",
                     f"{m['maxrss'] / 2**20:.0f}" if m.get("maxrss") else "",
                     f"{t['time']:.2f}" if t.get("time") else t["status"],
                     f"{t['maxrss'] / 2**20:.0f}" if t.get("maxrss") else ""])
    body = "\n".join([
        f"## CLIP loss + gradients at large n, {args.dtype}: blocked mmcl_lib vs PyTorch", "",
        f"`clip({TAU}).value_and_grad`, d1 = d2 = {D}, r = {R}, Gaussian data, {args.dtype}; each contender "
        f"in its own process with its address space capped at {args.cap_gib:g} GiB (RLIMIT_AS), so "
        "running out of memory is an allocation error, not swap. Times are single calls (after a warm-up "
        "for n <= 8192), in seconds. *floor* = the seven products in row blocks (no n x n matrix); "
        "*time / n^2 from first* = time divided by the first row's time scaled by (n/n_0)^2 (1 = exact "
        "n^2 scaling). *traced* = extra memory allocated during one call (tracemalloc); *RSS* = the "
        "child process's peak resident memory, including Python, NumPy or PyTorch and the data.", "",
        C.md_table(["n", "mmcl_lib (s)", "floor (s)", "mmcl / floor", "time / n^2 from first",
                    "mmcl traced extra (MiB)", "mmcl peak RSS (MiB)", "torch (s)", "torch peak RSS (MiB)"],
                   rows), "",
        C.footer(before, args.threads),
    ])
    C.write_section(f"bench_large_{args.dtype}", body)


if __name__ == "__main__":
    main()
