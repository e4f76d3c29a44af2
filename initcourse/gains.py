"""Activation gains: the factor an activation asks the weight standard deviation for.

A gain ``g`` turns a unit-variance-preserving scale ``1/sqrt(fan)`` into
``g/sqrt(fan)``. The values are those of PyTorch's ``torch.nn.init.calculate_gain``
(``torch/nn/init.py``), so the course can state PyTorch's recommendations next to
the Keras initializers.
"""

from __future__ import annotations

import math

from ._validation import check_choice, check_nonnegative_float

__all__ = ["ACTIVATIONS", "gain"]

_FIXED_GAINS = {
    **dict.fromkeys(
        (
            "linear",
            "identity",
            "conv1d",
            "conv2d",
            "conv3d",
            "conv_transpose1d",
            "conv_transpose2d",
            "conv_transpose3d",
            "sigmoid",
        ),
        1.0,
    ),
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4.0,
}

ACTIVATIONS = tuple(_FIXED_GAINS) + ("leaky_relu",)
"""Names accepted by :func:`gain`."""

DEFAULT_NEGATIVE_SLOPE = 0.01
"""Negative slope of ``leaky_relu`` when none is given (PyTorch's default)."""


def gain(activation: str, param=None) -> float:
    """Return the recommended gain for ``activation`` (PyTorch's ``calculate_gain``).

    Parameters
    ----------
    activation : str
        One of :data:`ACTIVATIONS`.
    param : float, optional
        Negative slope ``a >= 0`` of ``"leaky_relu"`` (default 0.01). Only
        ``"leaky_relu"`` takes a parameter; giving one to another activation
        raises instead of being ignored.

    Returns
    -------
    float
        ========================================== ===========================
        activation                                 gain
        ========================================== ===========================
        linear, identity, conv*, sigmoid           1
        tanh                                       5/3
        relu                                       sqrt(2)
        leaky_relu                                 sqrt(2 / (1 + a**2))
        selu                                       3/4
        ========================================== ===========================

    Notes
    -----
    The sigmoid's 1 is a convention, not the result of a variance argument. PyTorch
    chose SELU's 3/4 for steadier gradients, at the cost of self-normalization: a
    self-normalizing SELU network needs variance ``1 / fan_in``, i.e. gain 1 with
    ``lecun_normal`` (PyTorch's documentation says to use ``"linear"`` then).

    Examples
    --------
    >>> gain("relu")
    1.4142135623730951
    >>> gain("leaky_relu", 0.2)
    1.3867504905630728
    """
    check_choice(activation, "activation", ACTIVATIONS)
    if activation == "leaky_relu":
        slope = DEFAULT_NEGATIVE_SLOPE if param is None else check_nonnegative_float(param, "param")
        return math.sqrt(2.0 / (1.0 + slope**2))
    if param is not None:
        raise ValueError(f"param is only used by 'leaky_relu', got param={param!r} for {activation!r}")
    return _FIXED_GAINS[activation]
