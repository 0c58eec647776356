"""Benchmark 3: how the time and peak memory of CLIP loss + gradients grow with n and with d.

``mmcl_lib.losses.clip(tau).value_and_grad`` on Gaussian data (d1 = d2 = d, r = 64). Time = median
wall time; peak memory = the largest extra memory the call allocates, measured with tracemalloc
(NumPy reports its array buffers to it) in a separate, untimed call. Exponents are least-squares
slopes on log-log axes over the larger half of the grid (the asymptotic regime).
"""

from __future__ import annotations

import argparse
import tracemalloc

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import _common as C  # noqa: E402
from bench_loss_grad import R, TAU, make_problem  # noqa: E402
from mmcl_lib.losses import clip  # noqa: E402


def peak_bytes(fn) -> int:
    """Peak memory traced during one call of ``fn`` (bytes above the level before the call)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def measure(n: int, d: int, repeats: int) -> tuple[float, int]:
    G1, G2, X, Y = make_problem(n, d=d, r=R)
    loss = clip(TAU)
    call = lambda: loss.value_and_grad(G1, G2, X, Y)  # noqa: E731
    t = C.alternate({"mmcl": call}, repeats)["mmcl"]
    return float(np.median(t)), peak_bytes(call)


def slope(x, y) -> float:
    """Least-squares slope of log y on log x over the larger half of the points (at least three)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    k = max(0, min(len(x) // 2, len(x) - 3))          # keep at least three points
    return float(np.polyfit(np.log(x[k:]), np.log(y[k:]), 1)[0])


def sweep(values, make_args, repeats):
    times, mems = [], []
    for v in values:
        n, d = make_args(v)
        t, m = measure(n, d, repeats if n * d <= 2**20 else max(3, repeats // 3))
        times.append(t)
        mems.append(m)
        print(f"n={n}, d={d}: {C.ms(t)} ms, peak {m / 2**20:.1f} MiB", flush=True)
    return np.array(times), np.array(mems)


def plot(values, times, mems, xlabel, fname, expected):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, y, label in ((axes[0], times * 1e3, "time (ms)"), (axes[1], mems / 2**20, "peak memory (MiB)")):
        k = slope(values, y)
        ax.loglog(values, y, "o-", label=f"measured (fitted exponent {k:.2f})")
        ref = y[-1] * (np.asarray(values, float) / values[-1]) ** expected
        ax.loglog(values, ref, "--", color="gray", label=f"slope {expected} reference")
        ax.set_xticks(values, [str(v) for v in values], minor=False)
        ax.set_xticks([], minor=True)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(f"CLIP loss + gradients (mmcl_lib), r = {R}", fontsize=10)
    C.save_figure(fig, fname)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    ap.add_argument("--ds", type=int, nargs="+", default=[128, 256, 512, 1024, 2048, 4096])
    ap.add_argument("--n-for-d", type=int, default=1024)
    ap.add_argument("--d-for-n", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=9)
    C.threads_argument(ap)
    args = ap.parse_args()
    C.limit_threads(args.threads)
    before = C.load()
    tn, mn = sweep(args.ns, lambda n: (n, args.d_for_n), args.repeats)
    td, md = sweep(args.ds, lambda d: (args.n_for_d, d), args.repeats)
    plot(args.ns, tn, mn, f"n (d1 = d2 = {args.d_for_n})", "scaling_n.png", 2)
    plot(args.ds, td, md, f"d1 = d2 = d (n = {args.n_for_d})", "scaling_d.png", 1)
    rows = [[f"n = {n}, d = {args.d_for_n}", C.ms(t), f"{m / 2**20:.1f}"] for n, t, m in zip(args.ns, tn, mn)]
    rows += [[f"n = {args.n_for_d}, d = {d}", C.ms(t), f"{m / 2**20:.1f}"] for d, t, m in zip(args.ds, td, md)]
    n2 = args.ns[-1] ** 2 * 8 / 2**20
    body = "\n".join([
        "## Scaling of loss + gradients with n and d", "",
        f"`clip({TAU}).value_and_grad`, r = {R}, Gaussian data. Median wall time; peak = extra memory "
        "allocated during one call (tracemalloc). Fitted exponents are log-log least-squares slopes over "
        "the larger half of each grid.", "",
        f"- vs n (d = {args.d_for_n}): time exponent **{slope(args.ns, tn):.2f}** (expected 2: the n x n "
        f"similarity and weight matrices), memory exponent **{slope(args.ns, mn):.2f}** (expected 2). "
        f"At n = {args.ns[-1]} the peak is {mn[-1] / 2**20:.0f} MiB = {mn[-1] / 2**20 / n2:.1f} n x n "
        f"float64 matrices of {n2:.0f} MiB.",
        f"- vs d (n = {args.n_for_d}): time exponent **{slope(args.ds, td):.2f}** (expected at most 1: "
        f"only the O(n d r) products grow with d), memory exponent **{slope(args.ds, md):.2f}** "
        "(the n x n arrays dominate until n r is small against d r).", "",
        "![time and memory vs n](results/scaling_n.png)", "",
        "![time and memory vs d](results/scaling_d.png)", "",
        C.md_table(["problem", "time (ms)", "peak memory (MiB)"], rows), "",
        C.footer(before, args.threads),
    ])
    C.write_section("bench_scaling", body)


if __name__ == "__main__":
    main()
