"""run_grid on an executor: a Dask cluster of two worker processes gives the serial table."""

import pathlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from initcourse import experiments, settings

keras = settings.quiet_tensorflow()

VARIANTS = {"glorot": {"kernel_initializer": "glorot_uniform"}, "he": {"kernel_initializer": "he_normal"}}


def build(kernel_initializer="glorot_uniform"):
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(4, activation="relu", kernel_initializer=kernel_initializer),
        keras.layers.Dense(1, kernel_initializer=kernel_initializer),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


def make_data(n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = (x[:, :1] - 0.5 * x[:, 1:2]).astype(np.float32)
    return x[:30], y[:30], x[30:], y[30:]


def grid(**kwargs):
    return experiments.run_grid(build, make_data(), variants=VARIANTS, seeds=(0, 1), epochs=2, batch_size=10,
                                **kwargs)


def same_table(a, b):
    columns = [c for c in a.columns if c != "seconds"]
    pd.testing.assert_frame_equal(a[columns], b[columns])


def _dask_against_serial(cache_dir):
    """Run the grid serially and on a 2-worker LocalCluster; raise if the tables differ."""
    import distributed

    serial = grid(cache_dir=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        parallel = grid(cache_dir=cache_dir, executor=client.get_executor())
    same_table(serial, parallel)
    assert len(list(pathlib.Path(cache_dir).glob("*.csv"))) == 4  # written to the cache by the calling process
    cached = grid(cache_dir=cache_dir)  # the serial path reads the entries the cluster produced
    same_table(serial, cached)
    assert (cached["seconds"] == parallel["seconds"]).all()


def test_dask_local_cluster_gives_the_serial_table(tmp_path):
    pytest.importorskip("distributed")
    # In a fresh interpreter, as a user's session starts: the test process has run other
    # tests (registered names, TensorFlow settings) that are not part of what is compared.
    code = (
        f"import sys; sys.path.insert(0, {str(pathlib.Path(__file__).parent)!r})\n"
        "import test_experiments_executor as t\n"
        f"t._dask_against_serial({str(tmp_path)!r})\n"
        "print('same table')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.split()[-2:] == ["same", "table"], proc.stderr[-3000:]


def test_thread_pool_executor_and_bad_executor(tmp_path):
    # one worker thread: two Keras trainings at once in one process are not something to rely on
    with ThreadPoolExecutor(max_workers=1) as pool:
        threaded = grid(cache_dir=False, executor=pool, threads=1)
    assert list(threaded["variant"].unique()) == ["glorot", "he"]
    assert len(threaded) == 8 and np.isfinite(threaded["loss"]).all()
    with pytest.raises(TypeError, match="executor"):
        grid(cache_dir=False, executor="dask")
    with pytest.raises(ValueError, match="threads"):
        with ThreadPoolExecutor(1) as pool:
            grid(cache_dir=False, executor=pool, threads=0)


def test_other_threads_drawing_from_python_random_do_not_change_a_run():
    # What a Dask worker's event loop does now and then (jittered timers): draw from the
    # global generator while a run builds its model. The run must not notice.
    import random
    import threading

    quiet = grid(cache_dir=False)
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()

    noisy_thread = threading.Thread(target=draw, daemon=True)
    noisy_thread.start()
    try:
        noisy = grid(cache_dir=False)
    finally:
        stop.set()
        noisy_thread.join()
    same_table(quiet, noisy)
