"""Dense path vs blocked engine of ``mmcl_lib.losses`` at n = 2000, and one 100-epoch ``train_clip`` run.

``python benchmarks/bench_dense_blocked.py [--repeats 9] [--write]``. CLIP (tau = 1) loss + gradients
at n = 2000, d = 256, r = 64, inner product and cosine, one BLAS thread:

- ``dense``: ``loss.value_and_grad`` with the default memory budget (the dense path of eq. 2.1);
- ``engine, kept``: the blocked engine (``mmcl_lib._blocked``) with a budget that keeps the n x n
  matrix between its two passes (what ``value_and_grad`` ran at this n before the dense path existed);
- ``engine, streamed``: the engine with blocks of 256 rows and no n x n matrix.

Then the wall time of ``training.train_clip`` (n = 300 pairs, d1 = 50, d2 = 40, r = 5, batches of 50,
100 epochs: 600 minibatch steps) and the number of input-validation calls in that run
(``mmcl_lib._validation``, counted by wrapping its functions). Prints a Markdown section; ``--write``
puts it into ``RESULTS.md`` (section ``bench_dense_blocked``). Timings are minima and medians over
interleaved repeats (``_common.alternate``) on a shared machine: read them with the load shown.
"""

from __future__ import annotations

import argparse
import collections
import functools
import time
import types

import numpy as np

import _common as C
from mmcl_lib import _validation, losses, training
from mmcl_lib.data import LatentFactorModel

try:
    from mmcl_lib import _blocked as engine
except ImportError:                # the library before the engine left losses.py (for the "before" column)
    engine = losses

N, D, R = 2000, 256, 64
BLOCK_ARRAYS, BLOCK_ROWS = engine._BLOCK_ARRAYS, engine._BLOCK_ROWS


def alternate_wall_and_cpu(fns: dict, repeats: int) -> dict:
    """Interleaved repeats (as ``_common.alternate``), each timed by wall clock and by process CPU time."""
    for fn in fns.values():
        fn()
    times = {k: ([], []) for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            w, c = time.perf_counter(), time.process_time()
            fn()
            times[k][0].append(time.perf_counter() - w)
            times[k][1].append(time.process_time() - c)
    return {k: (np.array(w), np.array(c)) for k, (w, c) in times.items()}


def cell(t) -> str:
    wall, cpu = t
    return f"{C.ms(wall.min())} / {C.ms(np.median(wall))} ({C.ms(cpu.min())})"


def loss_timings(repeats: int) -> list[list]:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((N, D)), rng.standard_normal((N, D))
    G1, G2 = rng.standard_normal((R, D)) / np.sqrt(D), rng.standard_normal((R, D)) / np.sqrt(D)
    kept = N * N * 8 + BLOCK_ARRAYS * BLOCK_ROWS * N * 8
    streamed = BLOCK_ARRAYS * BLOCK_ROWS * N * 8
    assert engine.block_plan(N, 8, kept)[1] and not engine.block_plan(N, 8, streamed)[1]
    rows = []
    for similarity in ("inner", "cosine"):
        loss = losses.clip(1.0, similarity=similarity)
        ref = loss._dense_value_and_grad(G1, G2, X, Y)
        for budget in (kept, streamed):                      # the same numbers first
            other = loss.value_and_grad(G1, G2, X, Y, memory_budget=budget)
            assert abs(other[0] - ref[0]) <= 1e-12 * abs(ref[0])
            assert all(np.allclose(a, b, rtol=1e-10, atol=1e-12 * np.abs(b).max()) for a, b in zip(other[1:], ref[1:]))
        fns = {"dense": lambda: loss._dense_value_and_grad(G1, G2, X, Y),
               "default": lambda: loss.value_and_grad(G1, G2, X, Y),
               "engine, kept": lambda: loss.value_and_grad(G1, G2, X, Y, memory_budget=kept),
               "engine, streamed": lambda: loss.value_and_grad(G1, G2, X, Y, memory_budget=streamed)}
        times = alternate_wall_and_cpu(fns, repeats)
        rows.append([similarity] + [cell(times[k]) for k in fns])
    return rows


def train_clip_problem():
    model = LatentFactorModel.random(50, 40, 5, np.random.default_rng(1))
    sample = model.sample(300, np.random.default_rng(2))
    G1, G2 = training.init_encoders(50, 40, 5, np.random.default_rng(3))
    return sample.X, sample.Y, G1, G2


def run_train_clip(X, Y, G1, G2):
    return training.train_clip(X, Y, G1, G2, rng=np.random.default_rng(4), epochs=100)


def validation_calls() -> collections.Counter:
    """Calls of each ``mmcl_lib._validation`` function during one ``train_clip`` run."""
    X, Y, G1, G2 = train_clip_problem()
    counts, saved = collections.Counter(), {}
    for name, f in list(vars(_validation).items()):
        if isinstance(f, types.FunctionType) and f.__module__ == _validation.__name__:
            def counted(*a, _f=f, _name=name, **k):
                counts[_name] += 1
                return _f(*a, **k)
            saved[name] = f
            setattr(_validation, name, functools.wraps(f)(counted))
    try:
        run_train_clip(X, Y, G1, G2)
    finally:
        for name, f in saved.items():
            setattr(_validation, name, f)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--write", action="store_true", help="write the section into RESULTS.md")
    C.threads_argument(parser)
    args = parser.parse_args()
    C.limit_threads(args.threads)
    load_before = C.load()
    rows = loss_timings(args.repeats)
    problem = train_clip_problem()
    train = alternate_wall_and_cpu({"train_clip": lambda: run_train_clip(*problem)}, max(3, args.repeats // 2))
    counts = validation_calls()
    body = "\n".join([
        "## Dense path vs blocked engine, and validation once (`bench_dense_blocked.py`)", "",
        f"`python benchmarks/bench_dense_blocked.py --write` ({C.threads_note(args.threads)}; load before: "
        f"{load_before}, after: {C.load()}). CLIP (tau = 1) value + gradients, n = {N}, d = {D}, r = {R}, "
        "wall-clock milliseconds min / median (CPU time min):", "",
        C.md_table(["similarity", "dense path", "`value_and_grad` default", "engine, n x n kept",
                    "engine, streamed (256 rows)"], rows), "",
        f"`train_clip`, n = 300, d1 = 50, d2 = 40, r = 5, batch 50, 100 epochs: {cell(train['train_clip'])} ms. "
        f"Validation calls in that run: `as_matrix` {counts['as_matrix']}, all `_validation` functions "
        f"{sum(counts.values())}.",
    ])
    print(body)
    if args.write:
        C.write_section("bench_dense_blocked", body)


if __name__ == "__main__":
    main()
