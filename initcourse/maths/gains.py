"""Activation gains: the factor an activation asks the weight standard deviation for.

A gain ``g`` turns a unit-variance-preserving scale ``1/sqrt(fan)`` into
``g/sqrt(fan)``. The values are those of PyTorch's ``torch.nn.init.calculate_gain``
(``torch/nn/init.py``), so the course can state PyTorch's recommendations next to
the Keras initializers.
"""

from __future__ import annotations

import functools
import math

from .._validation import check_choice, check_nonnegative_float

__all__ = ["ACTIVATIONS", "SMOOTH_ACTIVATIONS", "gain", "variance_gain"]

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

SMOOTH_ACTIVATIONS = ("gelu", "silu", "swish")
"""Activations PyTorch's ``calculate_gain`` does not know; their gains come from :func:`variance_gain`."""

ACTIVATIONS = tuple(_FIXED_GAINS) + ("leaky_relu",) + SMOOTH_ACTIVATIONS
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
        gelu (exact, ``x Phi(x)``)                 1.5335 (:func:`variance_gain`)
        silu, swish (``x sigmoid(x)``)             1.6765 (:func:`variance_gain`)
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
    if activation in SMOOTH_ACTIVATIONS:
        if param is not None:
            raise ValueError(f"param is only used by 'leaky_relu', got param={param!r} for {activation!r}")
        return variance_gain(activation)
    if activation == "leaky_relu":
        slope = DEFAULT_NEGATIVE_SLOPE if param is None else check_nonnegative_float(param, "param")
        if slope > 1e150:  # slope**2 would overflow: the same value, computed without squaring
            return math.sqrt(2.0) / math.hypot(1.0, slope)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if param is not None:
        raise ValueError(f"param is only used by 'leaky_relu', got param={param!r} for {activation!r}")
    return _FIXED_GAINS[activation]


def _silu(h):
    from scipy.special import expit

    return h * expit(h)


@functools.cache
def variance_gain(activation: str) -> float:
    """Return ``1 / sqrt(E[phi(z)**2])`` for ``z ~ N(0, 1)``: the gain that keeps unit variance.

    With weights of variance ``g**2 / fan_in`` and no bias, a layer maps pre-activations
    of variance 1 to pre-activations of variance ``g**2 E[phi(z)**2]`` (the variance map
    of :mod:`initcourse.maths.theory`); this ``g`` makes 1 its fixed point. For the
    positively homogeneous activations it is PyTorch's gain at every variance (sqrt(2)
    for ReLU, 1 for linear); for the smooth ones it holds at variance 1 exactly and
    approximately nearby. PyTorch's ``calculate_gain`` has no entry for GELU or
    SiLU/Swish; the expectation is computed by
    :func:`initcourse.maths.theory.gaussian_expectation` (quadrature, about 1e-13 accurate):
    GELU (exact) 1.53353, SiLU = Swish (``x sigmoid(x)``, beta = 1) 1.67653.
    For tanh this rule gives 1.5925 and for SELU 1.0, where PyTorch's table says 5/3
    and 3/4 (chosen for other reasons, see :func:`gain`).

    Parameters
    ----------
    activation : str
        ``"linear"``, ``"relu"``, ``"tanh"``, ``"selu"``, ``"gelu"``,
        ``"silu"`` or ``"swish"``.

    Returns
    -------
    float
    """
    from . import activations, theory

    check_choice(activation, "activation", _VARIANCE_GAIN_ACTIVATIONS)
    if activation in ("silu", "swish"):
        forward = _silu
    else:
        forward = activations.get(activation).forward
    return float(1.0 / math.sqrt(theory.gaussian_expectation(lambda h: forward(h) ** 2, 1.0)))


_VARIANCE_GAIN_ACTIVATIONS = ("linear", "relu", "tanh", "selu", "gelu", "silu", "swish")
