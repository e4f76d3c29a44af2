"""Benchmark of :func:`initcourse.maths.propagation.scale_sweep` against NumPy's own matmul.

Run from the repository root::

    python benchmarks/bench_sweep.py [--repeats 7]

It times the sweep of the scale chapter, ``scale_sweep(np.logspace(-4, 1, 50),
depth=10, width=100, batch=1000)``, as the best of several runs, and converts the
time into a matmul rate:

- forward: ``2 * S * depth * batch * width**2`` floating-point operations
  (``S`` = 50 scales, one ``(batch, width) @ (width, width)`` product per scale
  and layer);
- with ``gradient=True``, add ``2 * S * (depth - 1) * batch * width**2`` for the
  backward products ``dL/dh_l @ W_l.T`` of layers ``depth, ..., 2`` (the weight
  gradients' statistics come from row moments, without a matmul).

The activations, derivatives, statistics and random draws are not counted: they
are the overhead that the ratio to NumPy's rate shows. NumPy's rate is measured
in the same run on the same stacked shapes, ``(S, batch, width) @ (S, width, width)``
repeated once per counted product, in turn with the sweep. Targets: the default
sweep under 1 s on two cores, and at least half of NumPy's rate. Nothing is
asserted: figures are printed. On a machine busy with other work, multithreaded
BLAS timings swing widely; ``OPENBLAS_NUM_THREADS=1`` gives steadier ratios.
"""

from __future__ import annotations

import argparse
import functools
import os
import time

import numpy as np

from initcourse.maths.propagation import scale_sweep

SCALES = np.logspace(-4, 1, 50)
DEPTH, WIDTH, BATCH = 10, 100, 1000


def best_times(functions, repeats):
    """Best wall time of each function, running them in turn ``repeats`` times.

    Interleaving puts the sweep and its reference under the same conditions on a
    machine shared with other work.
    """
    for fn in functions:
        fn()  # warm-up: first-touch memory, BLAS threads
    best = [float("inf")] * len(functions)
    for _ in range(repeats):
        for i, fn in enumerate(functions):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def matmul_products(dtype, n_products):
    """``n_products`` stacked products of the sweep's shapes, allocating their outputs as the sweep does."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SCALES.size, BATCH, WIDTH)).astype(dtype)
    w = rng.standard_normal((SCALES.size, WIDTH, WIDTH)).astype(dtype)

    def products():
        for _ in range(n_products):
            np.matmul(x, w)

    return products


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case (best is kept)")
    args = parser.parse_args()

    print(f"scale_sweep: {SCALES.size} scales x {DEPTH} layers, width {WIDTH}, batch {BATCH}")
    print(f"CPU cores visible: {os.cpu_count()}; load average: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"best of {args.repeats} runs\n")
    header = f"{'case':<28}{'time (s)':>10}{'GFLOP/s':>10}{'numpy GFLOP/s':>15}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    for dtype in ("float32", "float64"):
        for gradient in (False, True):
            n_products = DEPTH + (DEPTH - 1 if gradient else 0)
            flops = 2 * SCALES.size * BATCH * WIDTH**2 * n_products
            seconds, reference_seconds = best_times(
                [
                    functools.partial(
                        scale_sweep, SCALES, depth=DEPTH, width=WIDTH, batch=BATCH, gradient=gradient, dtype=dtype
                    ),
                    matmul_products(dtype, n_products),
                ],
                args.repeats,
            )
            rate, reference = flops / seconds / 1e9, flops / reference_seconds / 1e9
            case = f"{dtype}, {'forward+backward' if gradient else 'forward'}"
            print(f"{case:<28}{seconds:>10.3f}{rate:>10.1f}{reference:>15.1f}{rate / reference:>8.2f}")
    print("\ntargets (default case, float32 forward): time < 1 s, ratio >= 0.5")


if __name__ == "__main__":
    main()
