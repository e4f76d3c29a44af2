"""Course-wide settings: seeding, quiet TensorFlow, and the quick/full switch.

Every chapter starts with::

    from initcourse import settings
    settings.setup(seed=0)

which seeds Python, NumPy and Keras/TensorFlow in one call, imports TensorFlow
without its start-up log lines, and turns on TensorFlow's op determinism.

What determinism promises, and what it cannot
    With a seed and op determinism, re-running a chapter on the same machine, with
    the same library versions and thread settings, gives bit-identical training
    runs. It does *not* make results identical across machines: the CPU kernels
    (oneDNN/Eigen) pick code paths by instruction set and thread count, so float
    rounding differs from one CPU to another, and a training run amplifies those
    differences. That is why the chapters check their claims with tolerances
    taken from the spread over seeds (:mod:`initcourse.course.claims`), and compare
    printed output exactly only where it comes from seeded NumPy.
    The cost: deterministic kernels made a small CNN epoch on a 2-core CPU about
    20-40 % slower; an RNN was unaffected. ``setup(seed, deterministic=False)``
    skips it.

The *run mode* decides how big the case studies are:

``"quick"`` (default)
    small data subsets and few epochs; what the book and the tests use.
``"full"``
    full datasets and more epochs, for readers with time (or a GPU).

Choose it with the environment variable ``INITCOURSE_MODE=full`` before starting
Jupyter, or in a notebook with ``settings.set_mode("full")`` before the experiment.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import warnings

import numpy as np

from ._validation import check_choice

__all__ = [
    "MODES",
    "get_mode",
    "set_mode",
    "is_full",
    "seed_everything",
    "quiet_tensorflow",
    "enable_determinism",
    "setup",
]

MODES = ("quick", "full")
MODE_ENV_VAR = "INITCOURSE_MODE"

_mode_override: str | None = None


def get_mode() -> str:
    """Return the current run mode, ``"quick"`` or ``"full"``.

    A value given to :func:`set_mode` wins; otherwise the environment variable
    ``INITCOURSE_MODE`` is read (default ``"quick"``).
    """
    if _mode_override is not None:
        return _mode_override
    value = os.environ.get(MODE_ENV_VAR, "quick").strip().lower() or "quick"
    return check_choice(value, f"environment variable {MODE_ENV_VAR}", MODES)


def set_mode(mode: str | None) -> str:
    """Set the run mode for this process (``None`` returns to the environment's)."""
    global _mode_override
    _mode_override = None if mode is None else _check_mode(mode)
    return get_mode()


def _check_mode(mode) -> str:
    """``mode`` as one of :data:`MODES`, case and surrounding spaces ignored (as for the environment)."""
    if isinstance(mode, str):
        mode = mode.strip().lower()
    return check_choice(mode, "mode", MODES)


SEED_MAX = 2**32 - 1
"""Largest seed of :func:`seed_everything`: NumPy's global state takes 32-bit seeds."""


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer from 0 to 2**32 - 1, got {seed!r}")
    if not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed must be an integer from 0 to 2**32 - 1 (NumPy's global seed range), got {seed}")
    return int(seed)


def is_full() -> bool:
    """True when the run mode is ``"full"``."""
    return get_mode() == "full"


@contextlib.contextmanager
def _stderr_to_devnull():
    """Redirect file descriptor 2 (C-level stderr) to /dev/null for the block."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (some embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_tf_ready = False


def quiet_tensorflow():
    """Import TensorFlow and Keras without start-up noise; return ``keras``.

    TensorFlow's C++ runtime prints absl/oneDNN/CUDA lines on first import that
    ``TF_CPP_MIN_LOG_LEVEL`` alone does not remove. We set the variable, send the
    process's C-level stderr to ``/dev/null`` during the import and a first op,
    and lower Python-side TensorFlow/absl loggers to errors. Safe to call twice.
    """
    global _tf_ready
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not _tf_ready:
        with _stderr_to_devnull(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import tensorflow as tf

            if get_mode() == "quick":
                _hide_gpus(tf)
            tf.constant(0.0) + 1.0  # first op: triggers the remaining one-time log lines
        tf.get_logger().setLevel(logging.ERROR)
        logging.getLogger("absl").setLevel(logging.ERROR)
        _tf_ready = True
    import keras

    return keras


def _hide_gpus(tf) -> None:
    """Run quick mode on the CPU even where a GPU is visible, so its results never depend on one.

    Full mode leaves TensorFlow's default: a visible GPU is used. The choice is made
    when TensorFlow starts (at the first :func:`quiet_tensorflow`), so set the mode
    before that: ``INITCOURSE_MODE=full`` or ``setup(seed, mode="full")``.
    """
    try:
        if tf.config.list_physical_devices("GPU"):
            tf.config.set_visible_devices([], "GPU")
    except (RuntimeError, ValueError):  # TensorFlow already started: too late to choose
        pass


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy's global state and Keras/TensorFlow.

    Keras' ``keras.utils.set_random_seed`` seeds all three; TensorFlow is only
    imported (quietly) when it is not already, so a NumPy-only chapter pays no
    import time.
    """
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(seed)


def enable_determinism() -> None:
    """Ask TensorFlow for deterministic kernels (``enable_op_determinism``).

    Once on, it stays on for the process (TensorFlow offers no way back).
    See the module docstring for what it promises and what it costs.
    """
    quiet_tensorflow()
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


def setup(seed: int = 0, *, mode: str | None = None, deterministic: bool = True) -> str:
    """Quiet TensorFlow, seed everything, make ops deterministic, set the run mode.

    ``deterministic=True`` (the default) calls :func:`enable_determinism`, so a
    chapter re-run on the same machine repeats every training run exactly.
    Returns the run mode in effect, so a chapter can show it.
    """
    if not isinstance(deterministic, bool):
        raise TypeError(f"deterministic must be True or False, got {deterministic!r}")
    seed = _check_seed(seed)
    if mode is not None:  # checked before anything changes, set before TensorFlow starts (GPU choice)
        set_mode(mode)
    seed_everything(seed)
    if deterministic:
        enable_determinism()
    return get_mode()
