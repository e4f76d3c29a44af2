"""Per-layer results of a dense network: its widths, and a tidy frame of its statistics.

Shared by :mod:`initcourse.maths.propagation` (measured by simulation) and
:mod:`initcourse.maths.theory` (predicted), which describe the same networks and return
the same tidy shape, so that a measurement and its prediction line up row by row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_positive_int

__all__ = ["layer_widths", "per_layer_frame"]


def layer_widths(depth, width, widths) -> tuple[int, ...]:
    """Return ``(n_0, n_1, ..., n_depth)``: the input dimension then each layer's width."""
    if widths is None:
        if depth is None or width is None:
            raise TypeError("give depth and width, or widths")
        depth = check_positive_int(depth, "depth")
        return (check_positive_int(width, "width"),) * (depth + 1)
    if depth is not None or width is not None:
        raise TypeError("give depth and width, or widths, not both")
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or len(widths) < 2:
        raise ValueError(
            f"widths must be a sequence of at least 2 positive integers (input dimension, "
            f"then one width per layer), got {widths!r}"
        )
    return tuple(check_positive_int(n, f"widths[{i}]") for i, n in enumerate(widths))


def per_layer_frame(stats, **index):
    """Tidy frame of ``{quantity: [summary per layer]}``; ``index`` adds leading columns."""
    blocks = []
    for quantity, per_layer in stats.items():
        for layer, summary in enumerate(per_layer, start=1):
            columns = {name: np.atleast_1d(value) for name, value in summary.items()}
            blocks.append(pd.DataFrame({**index, "layer": layer, "quantity": quantity, **columns}))
    return pd.concat(blocks, ignore_index=True)
