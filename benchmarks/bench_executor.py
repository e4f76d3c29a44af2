"""Benchmark of :func:`initcourse.kerastools.experiments.run_grid` serially and on a 2-worker Dask cluster.

Run from the repository root (needs the ``dask`` extra: ``pip install ".[dask]"``)::

    python benchmarks/bench_executor.py [--variants 4] [--seeds 2] [--epochs 3]

A small grid of the kind the concept chapters train (a 4-layer ReLU MLP on the
course's Gaussian-classes task, ``variants x seeds`` runs) is trained three ways,
each with an empty cache:

- serially in this process, TensorFlow using every core for each run;
- on a ``distributed.LocalCluster`` of 2 worker processes, one thread each, one
  TensorFlow thread per run (``threads=1``): two runs at a time;
- the cluster's start-up (worker processes starting and importing TensorFlow)
  timed apart.

It prints the wall times and the speed-up, and checks that both tables agree.
Nothing is asserted about time: on two cores a small grid gains little, because
one run already uses both cores for its larger operations and each worker pays
TensorFlow's import once. The speed-up grows with the number and length of runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from initcourse import experiments, models, settings, toydata


def build(kernel_initializer="he_normal", width=128):
    model = models.mlp(32, [width] * 4, output_units=4, output_activation="softmax",
                       kernel_initializer=kernel_initializer)
    return models.compile_model(model, loss="sparse_categorical_crossentropy", learning_rate=0.05,
                                metrics=["accuracy"])


def _import_tensorflow(threads):
    """In a worker: TensorFlow imported once, with ``threads`` threads per operation."""
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    settings.quiet_tensorflow()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    import distributed

    keras = settings.quiet_tensorflow()
    task = toydata.gaussian_classes(n_train=4096, n_val=1024, input_dim=32, n_classes=4, seed=0)
    data = (task.x_train, task.y_train, task.x_val, task.y_val)
    initializers = ["he_normal", "glorot_uniform", "lecun_normal", "he_uniform", "glorot_normal", "orthogonal"]
    variants = {f"{name}": {"kernel_initializer": name} for name in initializers[: args.variants]}
    seeds = tuple(range(args.seeds))
    grid = dict(variants=variants, seeds=seeds, epochs=args.epochs, batch_size=64)
    runs = len(variants) * len(seeds)
    print(f"grid: {len(variants)} variants x {len(seeds)} seeds = {runs} runs of {args.epochs} epochs "
          f"(Keras {keras.__version__})")

    start = time.perf_counter()
    serial = experiments.run_grid(build, data, cache_dir=tempfile.mkdtemp(), **grid)
    t_serial = time.perf_counter() - start
    print(f"serial, one process:              {t_serial:7.1f} s")

    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(2)
        client.run(_import_tensorflow, 1)
        t_start = time.perf_counter() - start
        start = time.perf_counter()
        parallel = experiments.run_grid(build, data, cache_dir=tempfile.mkdtemp(), executor=client.get_executor(),
                                        threads=1, **grid)
        t_grid = time.perf_counter() - start
    print(f"cluster start (2 workers + TF):   {t_start:7.1f} s")
    print(f"grid on the cluster:              {t_grid:7.1f} s  (speed-up {t_serial / t_grid:.2f}x)")
    print(f"grid on the cluster, with start:  {t_start + t_grid:7.1f} s  (speed-up {t_serial / (t_start + t_grid):.2f}x)")
    columns = ["variant", "seed", "epoch", "val_accuracy"]
    agree = serial[columns].merge(parallel[columns], on=["variant", "seed", "epoch"], suffixes=("_serial", "_cluster"))
    gap = (agree["val_accuracy_serial"] - agree["val_accuracy_cluster"]).abs().max()
    print(f"largest validation-accuracy difference, serial vs cluster: {gap:.3g} "
          "(threads per run differ, so float rounding may)")


if __name__ == "__main__":
    main()
