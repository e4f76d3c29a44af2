"""Activation functions and their derivatives, in NumPy.

The signal-propagation code needs each activation ``phi`` twice: ``phi(h)`` on the
way forward and ``phi'(h)`` on the way back. :func:`get` returns both, vectorised,
under the Keras names. The constants match Keras 3 (``keras.activations``); only
the default negative slope of ``leaky_relu`` differs: the course uses PyTorch's
0.01, the one :func:`initcourse.maths.gains.gain` assumes (Keras' ``leaky_relu``
function defaults to 0.2, its ``LeakyReLU`` layer to 0.3).

At the kink ``h = 0`` of ReLU-like activations the derivative takes the value of
the left side, as PyTorch's autograd does for all of them, and TensorFlow's for
ReLU (``relu'(0) = 0``; TensorFlow's ``elu``/``selu`` take the right side). It
matters only when pre-activations are exactly 0, as after a zero initialization.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import special

from .._validation import check_choice, check_nonnegative_float, check_positive_float
from .gains import DEFAULT_NEGATIVE_SLOPE

__all__ = ["NAMES", "Activation", "get"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
DEFAULT_ELU_ALPHA = 1.0


@dataclass(frozen=True)
class Activation:
    """An activation function ``phi`` with its derivative ``phi'``.

    Attributes
    ----------
    name : str
        Keras name of the activation.
    param : float or None
        Its parameter (negative slope of ``leaky_relu``, ``alpha`` of ``elu``), else None.
    """

    name: str
    param: float | None
    _forward: Callable = field(repr=False, compare=False)
    _derivative: Callable = field(repr=False, compare=False)

    def forward(self, x, out=None):
        """Return ``phi(x)`` elementwise (float input keeps its dtype).

        ``out``, an array of ``x``'s shape and dtype (``x`` itself is allowed),
        receives the result instead of a new array, as in NumPy's ufuncs.
        """
        return self._forward(_as_float_array(x), out=out)

    def derivative(self, x):
        """Return ``phi'(x)`` elementwise (float input keeps its dtype)."""
        return self._derivative(_as_float_array(x))


def _as_float_array(x):
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _linear(x, out=None):
    if out is None or out is x:
        return x
    np.copyto(out, x)
    return out


def _linear_derivative(x):
    return np.ones_like(x)


def _leaky_relu(x, slope, out=None):
    return np.multiply(x, np.where(x > 0, 1.0, slope).astype(x.dtype), out=out)


def _leaky_relu_derivative(x, slope):
    return np.where(x > 0, 1.0, slope).astype(x.dtype)


def _relu(x, out=None):
    return np.maximum(x, 0, out=out)


def _relu_derivative(x):
    return (x > 0).astype(x.dtype)


def _elu(x, alpha, scale=1.0, out=None):
    # expm1 of min(x, 0): the branch not taken never overflows
    return np.multiply(scale, np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), out=out)


def _elu_derivative(x, alpha, scale=1.0):
    return scale * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


def _tanh_derivative(x):
    return 1 - np.tanh(x) ** 2


def _sigmoid_derivative(x):
    s = special.expit(x)
    return s * (1 - s)


def _gelu(x, out=None):
    return np.multiply(x, special.ndtr(x), out=out)


def _gelu_derivative(x):
    # d/dx [x Phi(x)] = Phi(x) + x phi(x), phi the standard normal density
    return special.ndtr(x) + x * np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)


_FIXED = {
    "linear": (_linear, _linear_derivative),
    "relu": (_relu, _relu_derivative),
    "tanh": (np.tanh, _tanh_derivative),
    "sigmoid": (special.expit, _sigmoid_derivative),
    "selu": (
        functools.partial(_elu, alpha=SELU_ALPHA, scale=SELU_SCALE),
        functools.partial(_elu_derivative, alpha=SELU_ALPHA, scale=SELU_SCALE),
    ),
    "gelu": (_gelu, _gelu_derivative),
}

NAMES = tuple(_FIXED) + ("leaky_relu", "elu")
"""Names accepted by :func:`get`."""


def get(name, param=None) -> Activation:
    """Return the activation called ``name``.

    Parameters
    ----------
    name : str or Activation
        One of :data:`NAMES` (an :class:`Activation` is returned as it is).
    param : float, optional
        Negative slope ``a >= 0`` of ``"leaky_relu"`` (default 0.01) or ``alpha > 0``
        of ``"elu"`` (default 1.0). Other activations take no parameter.

    Returns
    -------
    Activation
        With ``forward(x)`` and ``derivative(x)``. ``gelu`` is the exact
        ``x * Phi(x)`` (Keras' default, ``approximate=False``); ``selu`` uses Keras'
        ``alpha`` and ``scale``.

    Examples
    --------
    >>> relu = get("relu")
    >>> relu.forward([-1.0, 2.0]), relu.derivative([-1.0, 2.0])
    (array([0., 2.]), array([0., 1.]))
    """
    if isinstance(name, Activation):
        if param is not None:
            raise ValueError(f"param must be None when an Activation is given, got param={param!r}")
        return name
    check_choice(name, "activation", NAMES)
    if name == "leaky_relu":
        slope = DEFAULT_NEGATIVE_SLOPE if param is None else check_nonnegative_float(param, "param")
        return Activation(
            name,
            slope,
            functools.partial(_leaky_relu, slope=slope),
            functools.partial(_leaky_relu_derivative, slope=slope),
        )
    if name == "elu":
        alpha = DEFAULT_ELU_ALPHA if param is None else check_positive_float(param, "param")
        return Activation(
            name,
            alpha,
            functools.partial(_elu, alpha=alpha),
            functools.partial(_elu_derivative, alpha=alpha),
        )
    if param is not None:
        raise ValueError(
            f"param is only used by 'leaky_relu' and 'elu', got param={param!r} for {name!r}"
        )
    return Activation(name, None, *_FIXED[name])
