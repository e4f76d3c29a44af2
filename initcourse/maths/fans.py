"""Fan-in and fan-out of a weight tensor, with Keras' conventions.

The *fan-in* of a weight is the number of inputs that feed one output unit, the
*fan-out* the number of outputs one input unit feeds. Variance-scaling
initializers (Glorot, He, LeCun) divide by one of them.

Shapes follow Keras' layout: a dense kernel is ``(in, out)``, a convolution
kernel ``(*spatial, in, out)``. PyTorch stores the transpose, ``(out, in, *spatial)``,
so the same layer has the same fans but a different shape tuple.
"""

from __future__ import annotations

import math

from .._validation import check_shape

__all__ = ["compute_fans"]


def compute_fans(shape) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a weight of shape ``shape``, as Keras 3 does.

    Parameters
    ----------
    shape : int or tuple of int
        Weight shape in Keras' layout. Every dimension must be a positive int.

    Returns
    -------
    fan_in, fan_out : int
        - ``()`` (a scalar): ``(1, 1)``;
        - ``(n,)`` (a bias or a vector): ``(n, n)``;
        - ``(in, out)`` (a dense kernel): ``(in, out)``;
        - ``(*spatial, in, out)`` (a convolution kernel): both fans multiplied by
          the receptive-field size ``prod(spatial)``, i.e.
          ``(in * prod(spatial), out * prod(spatial))``.

    Examples
    --------
    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    """
    shape = check_shape(shape, "shape")
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field
