"""Small synthetic problems for the concept chapters.

The concept chapters need tasks that train in seconds on a laptop and whose
difficulty does not hide the effect of the initialization. Both generators return
a :class:`Split` of float32 arrays and are deterministic for a given ``seed``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import as_generator, check_nonnegative_float, check_positive_int

__all__ = ["Split", "teacher_regression", "gaussian_classes"]


class Split(NamedTuple):
    """Training and validation arrays."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def _split(x, y, n_train):
    return Split(x[:n_train], y[:n_train], x[n_train:], y[n_train:])


def teacher_regression(
    n_train: int = 1000,
    n_val: int = 500,
    input_dim: int = 16,
    *,
    hidden: int = 32,
    noise: float = 0.0,
    seed=0,
) -> Split:
    """Regression targets produced by a random one-hidden-layer tanh "teacher" net.

    Inputs are standard normal; the target is ``tanh(x W1) w2`` standardised to
    unit variance, plus Gaussian noise of standard deviation ``noise``. The task is
    learnable by a student of any depth, so a student that does not learn is held
    back by its optimisation, not by the data.
    """
    n_train = check_positive_int(n_train, "n_train")
    n_val = check_positive_int(n_val, "n_val")
    input_dim = check_positive_int(input_dim, "input_dim")
    hidden = check_positive_int(hidden, "hidden")
    noise = check_nonnegative_float(noise, "noise")
    rng = as_generator(seed)
    n = n_train + n_val
    x = rng.standard_normal((n, input_dim))
    w1 = rng.standard_normal((input_dim, hidden)) / np.sqrt(input_dim)
    w2 = rng.standard_normal((hidden, 1)) / np.sqrt(hidden)
    y = np.tanh(x @ w1) @ w2
    y = (y - y.mean()) / y.std()
    y = y + noise * rng.standard_normal(y.shape)
    return _split(x.astype("float32"), y.astype("float32"), n_train)


def gaussian_classes(
    n_train: int = 1000,
    n_val: int = 500,
    input_dim: int = 16,
    *,
    n_classes: int = 4,
    separation: float = 2.0,
    seed=0,
) -> Split:
    """Classification data: ``n_classes`` isotropic Gaussian clusters, balanced.

    Class centres are random directions of length ``separation`` (in units of the
    within-class standard deviation, 1). Labels are integers ``0..n_classes-1``
    (use ``sparse_categorical_crossentropy``). Rows are shuffled.
    """
    n_train = check_positive_int(n_train, "n_train")
    n_val = check_positive_int(n_val, "n_val")
    input_dim = check_positive_int(input_dim, "input_dim")
    n_classes = check_positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    separation = check_nonnegative_float(separation, "separation")
    rng = as_generator(seed)
    n = n_train + n_val
    centres = rng.standard_normal((n_classes, input_dim))
    centres *= separation / np.linalg.norm(centres, axis=1, keepdims=True)
    y = np.arange(n) % n_classes
    rng.shuffle(y)
    x = centres[y] + rng.standard_normal((n, input_dim))
    return _split(x.astype("float32"), y.astype("int32"), n_train)
