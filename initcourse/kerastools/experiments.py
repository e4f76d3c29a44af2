"""Train a grid of model variants over several seeds, with results cached on disk.

:func:`run_grid` trains one model per (variant, seed) and returns a tidy
:class:`pandas.DataFrame` with one row per epoch; :func:`summarize` and
:func:`curves` reduce it over the seeds. The same runner serves the case
studies (a CNN on CIFAR-10, an RNN on IMDB) and the small synthetic problems of
the concept chapters: anything that a ``build_model(**params)`` function can
build and compile.

Caching
    Every (variant, seed) run is stored as one CSV file named by a hash of
    everything that decides its result: the variant's parameters, the seed, the
    number of epochs, the batch size, a fingerprint of the data arrays, the
    versions of this package and Keras, and the builder: its qualified name and
    source code and, for a function, its default values, its closure variables and
    the global names it uses (values, functions and classes, each with its source;
    a function of the builder's own module with its own dependencies in turn).
    Calling again with the same configuration reads the files instead of
    training; changing any of these retrains (so does a global that the builder
    itself modifies, such as a list it appends to). Code reached through a module
    attribute (``models.mlp(...)`` in a builder) counts only as the module's name:
    after editing such code, pass ``cache_dir=False`` or delete the cache folder.
    Files are written to a temporary name and renamed, so an interrupted run never
    leaves a partial entry; an entry that cannot be read back as a complete result
    is trained again (with a warning). The folder is ``cache_dir``, else the
    environment variable ``INITCOURSE_CACHE``, else
    ``~/.cache/initcourse/experiments``. Entries are plain CSV, never pickles.

Progress
    A ``tqdm`` bar over the runs is shown only when asked for: ``progress=True``
    or the environment variable ``INITCOURSE_PROGRESS=1``. It is off by default
    so that notebook outputs stored in the book carry no progress text.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__

from .. import settings
from ._cache_keys import cache_key, describe, fingerprint
from .._validation import check_choice, check_positive_int

__all__ = ["run_grid", "summarize", "curves", "default_cache_dir"]

CACHE_ENV_VAR = "INITCOURSE_CACHE"
PROGRESS_ENV_VAR = "INITCOURSE_PROGRESS"
GOALS = ("auto", "max", "min")


def default_cache_dir() -> Path:
    """``$INITCOURSE_CACHE``, else ``~/.cache/initcourse/experiments``."""
    return Path(os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "initcourse" / "experiments")


# --------------------------------------------------------------------------- argument checks


def _check_data(data):
    """Return ``(x_train, y_train, x_val, y_val)``; the validation pair may be None."""
    if all(hasattr(data, name) for name in ("x_train", "y_train", "x_val", "y_val")):
        data = (data.x_train, data.y_train, data.x_val, data.y_val)
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence) or len(data) != 4:
        raise TypeError(
            "data must be (x_train, y_train, x_val, y_val) or a Dataset from initcourse.kerastools.data, "
            f"got {type(data).__name__}"
        )
    x_train, y_train, x_val, y_val = data
    if x_train is None or y_train is None or len(x_train) == 0 or len(x_train) != len(y_train):
        raise ValueError("data: x_train and y_train must be non-empty and of equal length")
    if (x_val is None) != (y_val is None) or (x_val is not None and (len(x_val) == 0 or len(x_val) != len(y_val))):
        raise ValueError("data: x_val and y_val must both be None, or non-empty and of equal length")
    return x_train, y_train, x_val, y_val


def _check_variants(variants) -> dict:
    if not isinstance(variants, Mapping) or len(variants) == 0:
        raise ValueError(
            "variants must be a non-empty mapping {label: {builder parameter: value}}, "
            f"got {variants!r}"
        )
    for label, params in variants.items():
        if not isinstance(label, str) or not label:
            raise TypeError(f"variants: every label must be a non-empty string, got {label!r}")
        if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
            raise TypeError(
                f"variants[{label!r}] must be a mapping of builder parameter names to values, got {params!r}"
            )
    return {label: dict(params) for label, params in variants.items()}


def _check_seeds(seeds) -> tuple[int, ...]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise TypeError(f"seeds must be a non-empty sequence of non-negative integers such as (0, 1, 2), got {seeds!r}")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seeds must be non-negative integers, got {seed!r} in {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds!r}")
    return tuple(int(s) for s in seeds)


def _show_progress(progress) -> bool:
    if progress is None:
        return os.environ.get(PROGRESS_ENV_VAR, "").strip() == "1"
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None, got {progress!r}")
    return progress


# --------------------------------------------------------------------------- cache files


def _well_formed(text: str) -> bool:
    """True if the CSV text ends with a newline and every row has all its fields, none empty.

    Entries are written with NaN as ``nan``, so an empty field (or a missing one)
    only comes from a row cut short.
    """
    if not text.endswith("\n"):
        return False
    lines = text.splitlines()
    width = lines[0].count(",") if lines else -1
    return len(lines) >= 2 and all(
        line.count(",") == width and "" not in line.split(",") for line in lines
    )


def _read_entry(path: Path, epochs: int) -> pd.DataFrame | None:
    """The stored run at ``path``, or None if it is missing or not a complete result."""
    if not path.exists():
        return None
    frame = None
    try:
        text = path.read_text()
        if _well_formed(text):
            frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        frame = None
    complete = (
        frame is not None
        and list(frame.columns[:1]) == ["epoch"]
        and "seconds" in frame.columns
        and all(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes)
        and frame["epoch"].tolist() == list(range(1, epochs + 1))
    )
    if not complete:
        warnings.warn(f"ignoring the unreadable or incomplete cache entry {path.name}; training again", stacklevel=3)
        return None
    return frame


def _write_entry(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` to ``path`` atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            frame.to_csv(f, index=False, na_rep="nan", lineterminator="\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _usable_cache(folder: Path) -> Path | None:
    """``folder`` if entries can be written there, else None with a warning naming it.

    Checked before any training, by creating (and removing) a file in it.
    """
    try:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"{folder} exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        warnings.warn(
            f"the experiment cache folder {str(folder)!r} cannot be written ({error.strerror or error}); "
            "running without the cache. Pass cache_dir= (or set INITCOURSE_CACHE to) a writable folder, "
            "or cache_dir=False.",
            stacklevel=3,
        )
        return None
    return folder


def _store(path: Path, frame: pd.DataFrame) -> None:
    """:func:`_write_entry`, turning a failure into a warning: the result itself is kept."""
    try:
        _write_entry(path, frame)
    except OSError as error:
        warnings.warn(f"could not store the cache entry {str(path)!r} ({error}); the result is not cached",
                      stacklevel=3)


# --------------------------------------------------------------------------- training


def _train(keras, build_model, params, seed, data, epochs, batch_size, verbose) -> pd.DataFrame:
    x_train, y_train, x_val, y_val = data
    settings.seed_everything(seed)
    with _private_python_random(seed):
        return _build_and_fit(keras, build_model, params, data, epochs, batch_size, verbose)


@contextlib.contextmanager
def _private_python_random(seed):
    """Keras draws from a private copy of Python's seeded ``random`` while the block runs.

    Keras takes the seed of every unseeded initializer (``"he_normal"``, ...) from
    Python's global ``random``. In an executor's worker process other threads draw
    from it too (the event loop's jittered timers, Dask's size estimates), at
    moments that vary from run to run, so the same (variant, seed) would start from
    other weights now and then. A private generator seeded with the run's seed gives
    the numbers the global one gives right after ``seed_everything(seed)`` in a quiet
    process (``keras.utils.set_random_seed`` only calls ``random.seed(seed)``), and
    no other thread can touch it.
    """
    try:
        from keras.src.random import seed_generator
    except ImportError:  # another Keras layout: nothing to redirect
        yield
        return
    private = random.Random(seed)
    shared = seed_generator.python_random
    seed_generator.python_random = private
    try:
        yield
    finally:
        seed_generator.python_random = shared


def _build_and_fit(keras, build_model, params, data, epochs, batch_size, verbose) -> pd.DataFrame:
    x_train, y_train, x_val, y_val = data
    model = build_model(**params)
    if not isinstance(model, keras.Model) or not getattr(model, "compiled", False):
        raise TypeError(f"build_model must return a compiled keras.Model, got {type(model).__name__}"
                        + ("" if not isinstance(model, keras.Model) else " that is not compiled"))
    starts, seconds = {}, []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: starts.__setitem__(epoch, time.perf_counter()),
        on_epoch_end=lambda epoch, logs: seconds.append(time.perf_counter() - starts[epoch]),
    )
    history = model.fit(
        x_train, y_train, validation_data=None if x_val is None else (x_val, y_val),
        epochs=epochs, batch_size=batch_size, verbose=verbose, callbacks=[timer],
    )
    frame = pd.DataFrame({"epoch": np.arange(1, epochs + 1), **history.history})
    frame["seconds"] = seconds
    return frame


def _train_remote(build_model, params, seed, data, epochs, batch_size, verbose, mode, deterministic, threads):
    """One run in a worker process (an executor's): the same settings as the caller's, then :func:`_train`.

    TensorFlow's thread pools are sized with ``threads`` when TensorFlow is not
    imported yet in this worker (several workers on one machine then do not
    compete for the same cores), the run mode and op determinism follow the
    caller's, so the result is the one the serial path gives.
    """
    if threads is not None and "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    settings.set_mode(mode)
    keras = settings.quiet_tensorflow()
    if deterministic:
        settings.enable_determinism()
    return _train(keras, build_model, params, seed, data, epochs, batch_size, verbose)


def _determinism_enabled() -> bool:
    """Whether TensorFlow's op determinism is on in this process (passed on to workers)."""
    try:  # the public module has enable_op_determinism only; the query lives beside it
        from tensorflow.python.framework import config as tf_config

        return bool(tf_config.is_op_determinism_enabled())
    except (ImportError, AttributeError):  # another TensorFlow layout
        return False


def _check_executor(executor):
    if executor is None:
        return None
    from concurrent.futures import Executor

    if not isinstance(executor, Executor) and not callable(getattr(executor, "submit", None)):
        raise TypeError(
            "executor must be None or a concurrent.futures.Executor (a ProcessPoolExecutor, or "
            f"distributed.Client(...).get_executor()), got {type(executor).__name__}"
        )
    return executor


def _threads_per_run(executor, threads):
    if threads is not None:
        return check_positive_int(threads, "threads")
    workers = getattr(executor, "_max_workers", None)  # ProcessPoolExecutor, ThreadPoolExecutor
    if isinstance(workers, int) and workers > 0:
        return max(1, (os.cpu_count() or 1) // workers)
    return 1


def run_grid(
    build_model, data, *, variants, seeds=(0, 1, 2), epochs, batch_size=64, cache_dir=None,
    progress=None, verbose=0, executor=None, threads=None,
) -> pd.DataFrame:
    """Train every variant with every seed; return one row per (variant, seed, epoch).

    Parameters
    ----------
    build_model : callable
        ``build_model(**params)`` returns a compiled ``keras.Model``. It is called
        right after :func:`initcourse.settings.seed_everything` with the run's seed,
        so Keras initializers given by name draw reproducible weights.
    data : tuple or Dataset
        ``(x_train, y_train, x_val, y_val)`` (the validation pair may be ``None``),
        or a :class:`initcourse.kerastools.data.Dataset`.
    variants : mapping
        ``{label: {builder parameter: value}}``, e.g.
        ``{"he_normal": {"kernel_initializer": "he_normal"}}``.
    seeds : sequence of int
        Distinct non-negative seeds; every variant is trained once per seed.
    epochs, batch_size : int
        Passed to ``model.fit``.
    cache_dir : str, os.PathLike, None or False
        Cache folder (see the module docstring); ``None``: the default folder;
        ``False``: no caching.
    progress : bool or None
        Show a progress bar over the runs; ``None``: only if ``INITCOURSE_PROGRESS=1``.
    verbose : {0, 1, 2, "auto"}
        Keras' own per-epoch output (0: none).
    executor : concurrent.futures.Executor or None
        ``None`` (default): train the runs one after another in this process.
        Otherwise the runs that are not in the cache are submitted to it and run
        in parallel: a ``concurrent.futures.ProcessPoolExecutor`` on this machine,
        or a cluster through Dask's distributed scheduler,
        ``distributed.Client(...).get_executor()``. Each run sets the seed, the run
        mode and TensorFlow's op determinism as this process has them; a small grid
        gives the serial table exactly (tested), but a larger model trained in
        another process can differ by float rounding, as on another machine:
        compare such results with tolerances. This process reads and writes the
        cache, so the workers need no access to it. ``build_model`` and the data
        are sent to the workers: with a process pool, ``build_model`` must be a
        module-level function (Dask also sends closures and lambdas).
    threads : int or None
        TensorFlow threads of each run in a worker process (set when TensorFlow
        is first imported there). ``None``: the machine's cores divided by the
        executor's workers when it tells how many (a process pool), else 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``variant``, ``seed``, ``epoch`` (from 1), every metric of the Keras
        history (``loss``, ``val_loss``, ``accuracy``, ...) and ``seconds`` (wall
        time of the epoch, as measured when the run was trained).
    """
    if not callable(build_model):
        raise TypeError(f"build_model must be callable, got {build_model!r}")
    data = _check_data(data)
    variants = _check_variants(variants)
    seeds = _check_seeds(seeds)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if verbose not in (0, 1, 2, "auto") or isinstance(verbose, bool):
        raise ValueError(f"verbose must be one of 0, 1, 2, 'auto', got {verbose!r}")
    show = _show_progress(progress)
    if cache_dir is not False and not isinstance(cache_dir, (str, os.PathLike, type(None))):
        raise TypeError(
            f"cache_dir must be a folder path, None (default folder) or False (no cache), got {cache_dir!r}"
        )

    executor = _check_executor(executor)
    threads = _threads_per_run(executor, threads) if executor is not None else None
    if cache_dir is not False and cache_dir is not None and not str(cache_dir).strip():
        raise ValueError("cache_dir must name a folder, got an empty path (use False for no cache)")

    keras = settings.quiet_tensorflow()
    folder = None
    if cache_dir is not False:
        folder = _usable_cache(default_cache_dir() if cache_dir is None else Path(cache_dir))
    if folder is not None:
        home = getattr(build_model, "__module__", None)
        shared = {
            "builder": describe(build_model),
            "epochs": epochs,
            "batch_size": batch_size,
            "data": [None if a is None else fingerprint(a) for a in data],
            "versions": {"initcourse": __version__, "keras": keras.__version__},
        }

    runs = [(label, seed) for label in variants for seed in seeds]
    bar = None
    if show:  # imported only when shown: tqdm.auto warns on stderr where widgets are missing
        from tqdm.auto import tqdm

        bar = tqdm(total=len(runs), desc="runs")
    found, paths = {}, {}
    for label, seed in runs:
        if folder is not None:
            key = cache_key({**shared, "params": describe(variants[label], home), "seed": seed})
            paths[label, seed] = folder / f"{key}.csv"
            frame = _read_entry(paths[label, seed], epochs)
            if frame is not None:
                found[label, seed] = frame
                if bar is not None:
                    bar.update()

    def finish(run, frame):
        found[run] = frame
        if run in paths:
            _store(paths[run], frame)
        if bar is not None:
            bar.update()

    missing = [run for run in runs if run not in found]
    try:
        if executor is None:
            for label, seed in missing:
                finish((label, seed), _train(keras, build_model, variants[label], seed, data, epochs, batch_size, verbose))
        else:
            from concurrent.futures import as_completed

            options = (settings.get_mode(), _determinism_enabled(), threads)
            futures = {
                executor.submit(
                    _train_remote, build_model, variants[label], seed, data, epochs, batch_size, verbose, *options
                ): (label, seed)
                for label, seed in missing
            }
            try:
                for future in as_completed(futures):
                    finish(futures[future], future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()
    frames = []
    for label, seed in runs:
        frame = found[label, seed].copy()
        frame.insert(0, "variant", label)
        frame.insert(1, "seed", seed)
        frames.append(frame)
    results = pd.concat(frames, ignore_index=True)
    metrics = [c for c in results.columns if c not in ("variant", "seed", "epoch", "seconds")]
    return results[["variant", "seed", "epoch", *metrics, "seconds"]]


# --------------------------------------------------------------------------- summaries


def _check_results(results, metric: str) -> pd.DataFrame:
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be the DataFrame returned by run_grid, got {type(results).__name__}")
    missing = [c for c in ("variant", "seed", "epoch") if c not in results.columns]
    if missing:
        raise ValueError(f"results lacks the column(s) {missing}: pass the DataFrame returned by run_grid")
    if not isinstance(metric, str) or metric not in results.columns or metric in ("variant", "seed", "epoch"):
        available = [c for c in results.columns if c not in ("variant", "seed", "epoch", "seconds")]
        raise ValueError(f"metric must be one of {available}, got {metric!r}")
    if results.empty:
        raise ValueError("results is empty")
    if results.duplicated(["variant", "seed", "epoch"]).any():
        raise ValueError("results has repeated (variant, seed, epoch) rows")
    return results.sort_values(["epoch"], kind="stable")


def _goal(metric: str, goal: str) -> str:
    check_choice(goal, "goal", GOALS)
    if goal != "auto":
        return goal
    return "min" if "loss" in metric or "error" in metric else "max"


def _spread(grouped, prefix: str = "") -> pd.DataFrame:
    """``n_seeds`` and mean/std (ddof=1)/min/max of a grouped series; NaN propagates."""
    return pd.DataFrame({
        "n_seeds": grouped.size(),
        f"{prefix}mean": grouped.mean(skipna=False),
        f"{prefix}std": grouped.std(skipna=False),
        f"{prefix}min": grouped.min(skipna=False),
        f"{prefix}max": grouped.max(skipna=False),
    })


def curves(results: pd.DataFrame, metric: str = "val_accuracy") -> pd.DataFrame:
    """Mean, std, min and max of ``metric`` over the seeds, per variant and epoch.

    Returns a tidy frame with columns ``variant``, ``epoch``, ``n_seeds``, ``mean``,
    ``std`` (sample standard deviation, ddof=1: NaN with one seed), ``min``, ``max``.
    A seed whose value is NaN (a diverged run) makes the epoch's statistics NaN
    rather than being silently left out.
    """
    results = _check_results(results, metric)
    frame = _spread(results.groupby(["variant", "epoch"])[metric])
    # variants in their order of first appearance, epochs ascending
    return frame.reindex(pd.unique(results["variant"]), level="variant").reset_index()


def summarize(
    results: pd.DataFrame, *, metric: str = "val_accuracy", threshold=None, goal: str = "auto"
) -> pd.DataFrame:
    """One row per variant summarising ``metric`` over the seeds.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`run_grid`.
    metric : str
        A metric column of ``results``.
    threshold : float or None
        If given, also report how many epochs each seed needed to reach it.
    goal : {"auto", "max", "min"}
        Whether higher or lower values are better; ``"auto"``: lower for names
        containing ``loss`` or ``error``, higher otherwise.

    Returns
    -------
    pandas.DataFrame
        Indexed by variant (in order of first appearance), with columns

        - ``n_seeds``;
        - ``final_mean``, ``final_std`` (ddof=1), ``final_min``, ``final_max``: the
          value at each seed's last epoch, over the seeds;
        - ``best_mean``, ``best_epoch``: the best value of the seed-mean curve
          (:func:`curves`) and the epoch where it occurs;
        - with ``threshold``: ``epochs_to_threshold``, the mean over the seeds that
          reached the threshold of the first epoch at which they did (NaN when
          none did), and ``seeds_reached``, how many did.

        A NaN value (a diverged run) propagates into the final statistics and the
        mean curve; ``best_*`` skip epochs whose mean is NaN (NaN if all are).
    """
    results = _check_results(results, metric)
    goal = _goal(metric, goal)
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not math.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number or None, got {threshold!r}")

    order = pd.unique(results["variant"])
    final = results.groupby(["variant", "seed"]).tail(1).groupby("variant")[metric]
    summary = _spread(final, prefix="final_").reindex(order)
    mean_curve = curves(results, metric).dropna(subset=["mean"])
    by_variant = mean_curve.groupby("variant")["mean"]
    best = mean_curve.loc[by_variant.idxmax() if goal == "max" else by_variant.idxmin()].set_index("variant")
    summary["best_mean"] = best["mean"].reindex(order)
    summary["best_epoch"] = best["epoch"].reindex(order)

    if threshold is not None:
        reached = results[metric] >= threshold if goal == "max" else results[metric] <= threshold
        first = results[reached].groupby(["variant", "seed"], sort=False)["epoch"].min().groupby("variant")
        summary["epochs_to_threshold"] = first.mean().reindex(summary.index)
        summary["seeds_reached"] = first.size().reindex(summary.index, fill_value=0)
    summary.index.name = "variant"
    return summary
