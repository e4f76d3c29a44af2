"""Helpers for the chapters' notebooks.

:func:`glue` records a computed value under a name so the book's prose can quote
it (``{glue:text}`name:.3f` `` in MyST), which keeps every number in the text tied
to the cell that computed it.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["glue"]


def glue(name: str, value, *, display: bool = False) -> None:
    """Record ``value`` for the book under ``name``.

    Returns nothing, so a cell that ends with a ``glue`` call shows no output.

    NumPy scalars are converted to Python numbers first: MyST-NB formats glued
    values from their ``repr``, and ``repr(np.float64(0.5))`` is
    ``'np.float64(0.5)'``, which a format spec such as ``:.3f`` cannot parse.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a valid identifier such as 'ch01_final_std', got {name!r}")
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (np.ndarray, list, tuple, dict)):
        raise TypeError(f"value must be a single number or string, got {type(value).__name__}")
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and not np.isfinite(value):
        raise ValueError(f"value for {name!r} must be finite, got {value}")
    from myst_nb import glue as _glue

    _glue(name, value, display=display)
