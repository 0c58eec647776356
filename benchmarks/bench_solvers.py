"""Spectral solver vs gradient descent: wall time to the same gradient-norm tolerance (Chapter 2).

Run from the repository root:  python benchmarks/bench_solvers.py [--sizes chapter large] [--threads 1]
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


def run(name, tol, max_iter, seed=0):
    n, d1, d2, r, noise, tau, rho = SIZES[name]
    rng = np.random.default_rng(seed)
    sample = data.LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise).sample(n, rng)
    X, Y = sample.X, sample.Y
    G1, G2 = 0.01 * rng.standard_normal((r, d1)), 0.01 * rng.standard_normal((r, d2))
    loss = losses.clip(tau, rho=rho)
    out = {}
    for label, solver, kw in (("spectral", solvers.spectral_solver, {}),
                              ("krylov", solvers.spectral_solver,
                               {"svd": "krylov", "rng": np.random.default_rng(seed)}),
                              ("gd", solvers.gradient_descent, {})):
        start = time.perf_counter()
        fit = solver(loss, G1, G2, X, Y, tol=tol, max_iter=max_iter, **kw)
        out[label] = (fit, time.perf_counter() - start)
        print(f"  {name} {label}: {fit.n_iter} iterations, {out[label][1]:.2f} s", file=sys.stderr, flush=True)
    (sp, t_sp), (kr, t_kr), (gd, t_gd) = out["spectral"], out["krylov"], out["gd"]
    f_gd = gd.history.loss[-1]

    def cmp(fit):
        dist = metrics.sin_theta(metrics.orthonormal_basis(fit.G1.T), metrics.orthonormal_basis(gd.G1.T))
        return f"{abs(fit.history.loss[-1] - f_gd) / abs(f_gd):.1e} / {dist:.1e}"

    def it(fit):
        return f"{fit.n_iter} ({'ok' if fit.converged else 'NOT converged'})"

    return (f"| {name} | n={n}, d1={d1}, d2={d2}, r={r}, tau={tau:g}, rho={rho:g} | {tol:g} "
            f"| {it(sp)} | {t_sp:.2f} | {it(kr)} | {t_kr:.2f} | {it(gd)} | {t_gd:.2f} "
            f"| {t_gd / t_sp:.1f}x | {t_gd / t_kr:.1f}x | {cmp(sp)} | {cmp(kr)} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--max-iter", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (threadpoolctl)")
    args = parser.parse_args()
    if args.threads:
        threadpool_limits(args.threads)
    print("| size | problem | tol | exact spectral iters | s | Krylov spectral iters | s | GD iters | GD s "
          "| speed-up exact | speed-up Krylov | exact vs GD: rel. loss gap / sin-theta(G1) "
          "| Krylov vs GD: same |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sizes:
        print(run(name, args.tol, args.max_iter), flush=True)


if __name__ == "__main__":
    main()
