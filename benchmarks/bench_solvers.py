"""Spectral solver vs gradient descent: wall time to the same gradient-norm tolerance (Chapter 2).

Run from the repository root:  python benchmarks/bench_solvers.py [--sizes chapter large] [--solvers exact krylov] [--threads 1]
Prints a Markdown table (one row per problem size) for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from mmcl_lib import data, losses, metrics, solvers
from threadpoolctl import threadpool_limits

SIZES = {  # name: (n, d1, d2, r, noise_std, tau, rho)
    "chapter": (300, 30, 24, 8, 0.3, 1.0, 0.3),     # the default sizes of Chapter 2
    "large": (2000, 200, 200, 20, 1.0, 1.0, 0.5),
    "large_d1000": (2000, 1000, 1000, 20, 1.0, 1.0, 0.5),
}


SOLVERS = {  # label: (solver, extra keyword arguments given the seed)
    "exact": (solvers.spectral_solver, lambda seed: {}),
    "krylov": (solvers.spectral_solver, lambda seed: {"svd": "krylov", "rng": np.random.default_rng(seed)}),
}


def run(name, tol, max_iter, which, seed=0):
    n, d1, d2, r, noise, tau, rho = SIZES[name]
    rng = np.random.default_rng(seed)
    sample = data.LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise).sample(n, rng)
    X, Y = sample.X, sample.Y
    G1, G2 = 0.01 * rng.standard_normal((r, d1)), 0.01 * rng.standard_normal((r, d2))
    loss = losses.clip(tau, rho=rho)
    out = {}
    for label in [*which, "gd"]:
        solver, kw = SOLVERS[label] if label != "gd" else (solvers.gradient_descent, lambda seed: {})
        start = time.perf_counter()
        fit = solver(loss, G1, G2, X, Y, tol=tol, max_iter=max_iter, **kw(seed))
        out[label] = (fit, time.perf_counter() - start)
        print(f"  {name} {label}: {fit.n_iter} iterations, {out[label][1]:.2f} s", file=sys.stderr, flush=True)
    gd, t_gd = out["gd"]
    f_gd = gd.history.loss[-1]

    def cells(label):
        if label not in out:
            return "not run | | | "
        fit, t = out[label]
        dist = metrics.sin_theta(metrics.orthonormal_basis(fit.G1.T), metrics.orthonormal_basis(gd.G1.T))
        return (f"{fit.n_iter} ({'ok' if fit.converged else 'NOT converged'}) | {t:.2f} | {t_gd / t:.1f}x "
                f"| {(fit.history.loss[-1] - f_gd) / abs(f_gd):+.1e} / {dist:.1e}")

    return (f"| {name} | n={n}, d1={d1}, d2={d2}, r={r}, tau={tau:g}, rho={rho:g} | {tol:g} "
            f"| {gd.n_iter} ({'ok' if gd.converged else 'NOT converged'}) | {t_gd:.2f} "
            f"| {cells('exact')} | {cells('krylov')} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--max-iter", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (threadpoolctl)")
    parser.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=list(SOLVERS),
                        help="spectral variants to time against gradient descent (default: both)")
    args = parser.parse_args()
    if args.threads:
        threadpool_limits(args.threads)
    print("| size | problem | tol | GD iters | GD s | exact spectral iters | s | speed-up | (loss - GD's) / |GD's| "
          "/ sin-theta(G1) vs GD | Krylov spectral iters | s | speed-up | (loss - GD's) / |GD's| / sin-theta(G1) vs GD |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sizes:
        print(run(name, args.tol, args.max_iter, args.solvers), flush=True)


if __name__ == "__main__":
    main()
