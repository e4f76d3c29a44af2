"""Argument checks shared by the public functions of :mod:`initcourse`.

Every public function validates its arguments at the boundary with these helpers,
so that a bad call fails with a message that names the argument and the values it
accepts, instead of a traceback from deep inside numpy or Keras.
"""

from __future__ import annotations

import numbers
from typing import Iterable, Sequence

import numpy as np

__all__ = [
    "check_positive_int",
    "check_real",
    "check_nonnegative_float",
    "check_positive_float",
    "check_choice",
    "check_shape",
    "as_generator",
    "check_fits_dtype",
    "NonFiniteWarning",
    "MAX_ELEMENTS",
]

MAX_ELEMENTS = 2**31
"""Largest number of elements a shape may have (about 8 GB in float32): a larger
shape is almost certainly a mistake, refused before any memory is allocated."""


class NonFiniteWarning(RuntimeWarning):
    """A computed signal overflowed (inf) or became undefined (NaN).

    Issued by the simulations and predictions of :mod:`initcourse` when values
    actually become non-finite, with the layer where it first happened; the
    affected values are reported as inf/NaN rather than as misleading numbers.
    """


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer, else raise.

    Booleans and floats (even ``3.0``) are rejected: a dimension is a count.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r} of type {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    if value > MAX_ELEMENTS:  # a count this large cannot be meant (and would exhaust memory or time)
        raise ValueError(f"{name} must be at most {MAX_ELEMENTS}, got {value}")
    return int(value)


def check_real(value, name: str) -> float:
    """Return ``value`` as a finite ``float``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_nonnegative_float(value, name: str) -> float:
    """Return ``value`` as a finite ``float`` >= 0, else raise."""
    value = check_real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return value


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as a finite ``float`` > 0, else raise."""
    value = check_real(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (strings), else raise listing them."""
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def check_shape(shape, name: str = "shape", *, allow_empty: bool = True) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of positive ints, else raise.

    ``shape`` may be an int (a 1-D shape) or a sequence of ints. With
    ``allow_empty=False`` the scalar shape ``()`` is rejected.
    """
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a tuple of positive integers, got {shape!r}")
    dims = tuple(shape)
    if not dims and not allow_empty:
        raise ValueError(f"{name} must have at least one dimension, got ()")
    for i, d in enumerate(dims):
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d <= 0:
            raise ValueError(
                f"{name} must be a tuple of positive integers, got {shape!r} (dimension {i} is {d!r})"
            )
    dims = tuple(int(d) for d in dims)
    size = 1
    for d in dims:
        size *= d
    if size > MAX_ELEMENTS:
        raise ValueError(f"{name} {dims} has {size} elements, more than the {MAX_ELEMENTS} accepted")
    return dims


def check_fits_dtype(values: np.ndarray, dtype, name: str = "dtype") -> np.ndarray:
    """Return ``values`` cast to ``dtype`` if every value is representable there, else raise.

    Refuses what a plain ``astype`` would do silently: wrap an integer around
    (300 as int8), truncate a fraction (0.7 as int32), turn a finite float into
    inf (1e6 as float16), or make a non-0/1 value a boolean.
    """
    dtype = np.dtype(dtype)
    values = np.asarray(values)
    if values.size == 0 or values.dtype == dtype:
        return values.astype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(values) | (values != np.round(values)) | (values < info.min) | (values > info.max)
        if bad.any():
            raise ValueError(
                f"{name} {dtype} cannot hold the value {values[bad].flat[0].item()!r} exactly "
                f"(integers from {info.min} to {info.max}); choose another value or dtype"
            )
    elif dtype.kind == "b":
        bad = (values != 0) & (values != 1)
        if bad.any():
            raise ValueError(f"{name} bool holds only 0 and 1, got the value {values[bad].flat[0].item()!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        result = values.astype(dtype)
    if dtype.kind in "fc":
        with np.errstate(invalid="ignore"):
            overflow = np.isfinite(values) & ~np.isfinite(result)
        if overflow.any():
            raise ValueError(
                f"{name} {dtype} cannot hold the value {values[overflow].flat[0].item()!r} "
                f"(largest magnitude {float(np.finfo(dtype).max):g}); choose smaller parameters or a wider dtype"
            )
    return result


def as_generator(seed, name: str = "seed") -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``seed``.

    ``seed`` may be ``None`` (fresh entropy), a non-negative int, or an existing
    ``Generator`` (returned as is, so successive calls continue its stream).
    """
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{name} must be None, a non-negative integer or a numpy.random.Generator, "
            f"got {seed!r} of type {type(seed).__name__}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed}")
    return np.random.default_rng(int(seed))
