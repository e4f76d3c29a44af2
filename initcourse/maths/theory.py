"""Predicted signal statistics: the variance recursion of a deep random network.

For a dense layer ``h_l = x_{l-1} W_l + b_l`` with i.i.d. zero-mean weights of
variance ``weight_var`` and fan-in ``n_{l-1}``, and biases of variance
``bias_var``, the pre-activations of a wide network are Gaussian with variance

    q_l = n_{l-1} * weight_var * E[phi(h)**2] + bias_var,   h ~ N(0, q_{l-1})

(the input layer uses the inputs' second moment instead of ``E[phi(h)**2]``).
Going back, a gradient ``g_l = dL/dh_l`` has variance

    r_l = n_l * weight_var * E[phi'(h_{l+1})**2] * r_{l+1}   (summing over fan-out)

With ``fan_in = 1``, ``weight_var`` is the ``sigma_w**2`` of mean-field theory and
:func:`mean_field_map` is the length map of Poole et al. (2016), "Exponential
expressivity in deep neural networks through transient chaos".

Gaussian expectations ``E[f(h)]`` are exact for the piecewise-linear activations
(linear, ReLU, leaky ReLU) and computed by quadrature otherwise, see
:func:`gaussian_expectation`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from . import activations
from .._validation import NonFiniteWarning, check_nonnegative_float, check_positive_float, check_positive_int
from ._per_layer import layer_widths, per_layer_frame

__all__ = [
    "gaussian_expectation",
    "mean_field_map",
    "fixed_point",
    "critical_weight_var",
    "predicted_stats",
]

# Composite Gauss-Legendre rule in z = h / sqrt(q) on [0, 12], mirrored for z < 0.
# The ReLU family has a kink at h = 0 that Gauss-Hermite quadrature integrates
# badly (200 nodes leave an error of 1e-3 on E[relu(z)]); split there, each half is
# smooth. Panels shrink geometrically towards 0 so that steep activations at large
# q (tanh(sqrt(q) z) with q = 1e8) are resolved; beyond 12 the normal density
# holds less than 1e-32 of the mass.
_PANEL_EDGES = np.concatenate([[0.0], np.geomspace(1e-6, 1.0, 7), [2.0, 4.0, 6.0, 8.0, 12.0]])
_NODES_PER_PANEL = 24


def _half_line_rule():
    nodes, weights = np.polynomial.legendre.leggauss(_NODES_PER_PANEL)
    lo, hi = _PANEL_EDGES[:-1, None], _PANEL_EDGES[1:, None]
    z = ((hi - lo) / 2 * nodes + (hi + lo) / 2).ravel()
    w = ((hi - lo) / 2 * weights).ravel() * np.exp(-z**2 / 2) / math.sqrt(2 * math.pi)
    return np.concatenate([-z, z]), np.concatenate([w, w])


_Z, _W = _half_line_rule()


def _check_variances(q, name="q") -> np.ndarray:
    values = np.asarray(q, dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{name} must contain finite non-negative variances, got {q!r}")
    return values


def gaussian_expectation(f, q):
    """Return ``E[f(h)]`` for ``h ~ N(0, q)``, vectorised over ``q``.

    Parameters
    ----------
    f : callable
        Vectorised function of a NumPy array, e.g. ``activations.get("tanh").forward``;
        smooth except possibly at 0.
    q : float or array of float >= 0
        Variance(s) of ``h``.

    Returns
    -------
    float or numpy.ndarray
        Same shape as ``q``.

    Notes
    -----
    Composite Gauss-Legendre quadrature on each half line, split at 0: accurate to
    about 1e-13 for the activations of :mod:`initcourse.maths.activations`, their squares
    and their derivatives, kinked or steep, at any ``q`` from 0 to 1e8. It is not
    meant for functions that oscillate on the scale of ``sqrt(q)`` (``cos(h)`` at
    ``q = 1e4``).

    Examples
    --------
    >>> gaussian_expectation(lambda h: np.maximum(h, 0) ** 2, 3.0)  # q / 2
    1.5
    """
    q = _check_variances(q)
    values = f(np.sqrt(q)[..., None] * _Z) @ _W
    return values if values.ndim else float(values)


def _moments(activation, q):
    """``E[phi(h)]``, ``E[phi(h)**2]`` and ``E[phi'(h)**2]`` for ``h ~ N(0, q)``."""
    if activation.name in ("linear", "relu", "leaky_relu"):
        slope = {"linear": 1.0, "relu": 0.0}.get(activation.name, activation.param)
        # phi(h) = h for h > 0 and slope * h below, with E[max(h, 0)] = sqrt(q / (2 pi))
        positive = (1 + slope**2) / 2
        mean = (1 - slope) * np.sqrt(q / (2 * math.pi))
        # at q = 0 every h is 0: phi'(0) is the left derivative, `slope`
        derivative = np.where(q > 0, positive, slope**2)
        return mean, positive * q, derivative
    return (
        gaussian_expectation(activation.forward, q),
        gaussian_expectation(lambda h: activation.forward(h) ** 2, q),
        gaussian_expectation(lambda h: activation.derivative(h) ** 2, q),
    )


def mean_field_map(q, *, weight_var, fan_in=1, bias_var=0.0, activation="relu"):
    """Return the next layer's pre-activation variance: ``fan_in weight_var E[phi(h)**2] + bias_var``.

    Parameters
    ----------
    q : float or array of float >= 0
        Pre-activation variance of the current layer (vectorised).
    weight_var : float >= 0
        Variance of one weight. With the default ``fan_in=1`` it is ``sigma_w**2``
        of mean-field theory (the weight variance times the fan-in).
    fan_in : int, default 1
    bias_var : float >= 0, default 0.0
    activation : str or Activation, default "relu"

    Returns
    -------
    float or numpy.ndarray
        Same shape as ``q``.

    Examples
    --------
    >>> mean_field_map(1.0, weight_var=2.0)  # ReLU with He's sigma_w**2 = 2
    1.0
    """
    q = _check_variances(q)
    weight_var = check_nonnegative_float(weight_var, "weight_var")
    fan_in = check_positive_int(fan_in, "fan_in")
    bias_var = check_nonnegative_float(bias_var, "bias_var")
    _, second, _ = _moments(activations.get(activation), q)
    result = fan_in * weight_var * second + bias_var
    return result if np.ndim(result) else float(result)


def fixed_point(*, weight_var, fan_in=1, bias_var=0.0, activation="relu", q0=1.0, rtol=1e-10, max_iter=10_000):
    """Return the variance ``q*`` that :func:`mean_field_map` converges to from ``q0``.

    Parameters
    ----------
    weight_var, fan_in, bias_var, activation
        As in :func:`mean_field_map`.
    q0 : float >= 0, default 1.0
        Starting variance.
    rtol : float > 0, default 1e-10
        Stop when two successive variances differ by at most ``rtol`` times the
        larger (or are both 0).
    max_iter : int, default 10000

    Returns
    -------
    float
        ``q*``; ``inf`` when the variance grows without bound (above 1e300), 0 when
        it decays to 0 (below 1e-300). On a
        line of fixed points (ReLU at ``weight_var * fan_in = 2`` without bias)
        every ``q0`` is one and is returned.

    Raises
    ------
    RuntimeError
        If the iteration has not settled after ``max_iter`` steps (a map very
        close to critical converges slowly).

    Examples
    --------
    >>> round(fixed_point(weight_var=1.5, bias_var=0.05, activation="tanh"), 4)
    0.418
    """
    q = check_nonnegative_float(q0, "q0")
    rtol = check_positive_float(rtol, "rtol")
    max_iter = check_positive_int(max_iter, "max_iter")
    params = dict(weight_var=weight_var, fan_in=fan_in, bias_var=bias_var, activation=activation)
    for _ in range(max_iter):
        following = mean_field_map(q, **params)
        if following > 1e300:
            return math.inf
        if following < 1e-300:  # decays to 0 (no bias, below critical)
            return 0.0
        if abs(following - q) <= rtol * max(following, q):
            return following
        q = following
    raise RuntimeError(
        f"the variance map did not settle in max_iter={max_iter} steps (last q = {q:.6g}); "
        "it may be too close to critical: raise max_iter or rtol"
    )


def critical_weight_var(activation, *, fan_in=1) -> float:
    """Return the weight variance at which small signals neither shrink nor grow.

    For an activation with ``phi(0) = 0``, small pre-activations see the slopes
    ``phi'(0-)`` and ``phi'(0+)``, so ``E[phi(h)**2] ~ q (phi'(0-)**2 + phi'(0+)**2) / 2``
    and the zero signal is marginally stable at

        weight_var = 2 / (fan_in (phi'(0-)**2 + phi'(0+)**2)).

    This is the order-to-chaos boundary of mean-field theory without biases
    (Poole et al., 2016): 1 for linear and tanh, and, for the piecewise-linear
    activations, the value that keeps every variance constant: 2 for ReLU (He et
    al., 2015), ``2 / (1 + a**2)`` for leaky ReLU. With ``fan_in = n`` it is the
    variance per weight: ``critical_weight_var("relu", fan_in=n) = 2 / n``, He's.

    Parameters
    ----------
    activation : str or Activation
    fan_in : int, default 1
        With 1, the result is ``sigma_w**2``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``phi(0) != 0`` (sigmoid): the zero signal is then no fixed point.
    """
    act = activations.get(activation)
    fan_in = check_positive_int(fan_in, "fan_in")
    if act.forward(0.0) != 0:
        raise ValueError(
            f"{act.name}(0) = {act.forward(0.0):g} is not 0: zero is not a fixed point of the "
            "variance map, so there is no critical weight variance in this sense"
        )
    left, right = act.derivative(np.array([-1e-300, 1e-300]))
    return float(2.0 / (fan_in * (left**2 + right**2)))


def predicted_stats(
    depth=None,
    width=None,
    *,
    widths=None,
    weight_var,
    activation="relu",
    input_var=1.0,
    bias_var=0.0,
) -> pd.DataFrame:
    """Predict the per-layer statistics that :func:`initcourse.maths.propagation.propagate` measures.

    Parameters
    ----------
    depth, width : int
        Number of dense layers and their width (the input dimension too).
    widths : sequence of int, optional
        Instead: ``(n_0, n_1, ..., n_depth)``, input dimension then layer widths.
    weight_var : float >= 0
        Variance of one weight, the same in every layer: ``stddev**2`` of
        ``random_normal``, or ``initializers.describe(name, shape)["variance"]``.
    activation : str or Activation, default "relu"
    input_var : float > 0, default 1.0
        Second moment of the (zero-mean) inputs: ``input_std**2`` of ``propagate``.
    bias_var : float >= 0, default 0.0
        Variance of the biases (``propagate`` has none).

    Returns
    -------
    pandas.DataFrame
        Columns ``layer``, ``quantity``, ``mean``, ``std``, ``var``, in the format of
        ``propagate`` (without ``frac_zero``), so that the two merge on
        ``["layer", "quantity"]``. The ``grad_*`` rows assume, as ``propagate``, a
        unit-variance gradient at the last layer's output; ``grad_weight`` is the
        per-example weight gradient, variance ``E[x_{l-1}**2] r_l``.

    Notes
    -----
    The recursion is exact for infinitely wide layers; at width ``n`` the measured
    values scatter around it by a relative amount of order ``sqrt(depth / n)``.
    The backward pass assumes the gradient independent of the forward signal
    (the usual mean-field assumption), which is accurate at large width.
    """
    sizes = layer_widths(depth, width, widths)
    weight_var = check_nonnegative_float(weight_var, "weight_var")
    act = activations.get(activation)
    input_var = check_positive_float(input_var, "input_var")
    bias_var = check_nonnegative_float(bias_var, "bias_var")

    layers = range(1, len(sizes))
    second = {0: input_var}  # E[x_l**2], x_0 the input
    q, mean, derivative = {}, {}, {}
    for layer in layers:
        q[layer] = sizes[layer - 1] * weight_var * second[layer - 1] + bias_var
        mean[layer], second[layer], derivative[layer] = _moments_of_variance(act, q[layer])
    grad = {}
    upstream = 1.0  # variance of dL/dx at the output
    for layer in reversed(layers):
        grad[layer] = upstream * derivative[layer]
        upstream = sizes[layer] * weight_var * grad[layer]
    _warn_nonfinite(q, grad, weight_var)

    def summaries(means, variances):
        return [{"mean": m, "std": math.sqrt(v), "var": v} for m, v in zip(means, variances)]

    stats = {
        "preactivation": summaries([0.0] * len(layers), [q[l] for l in layers]),
        "activation": summaries([mean[l] for l in layers], [max(second[l] - mean[l] ** 2, 0.0) for l in layers]),
        "grad_preactivation": summaries([0.0] * len(layers), [grad[l] for l in layers]),
        "grad_weight": summaries([0.0] * len(layers), [second[l - 1] * grad[l] for l in layers]),
    }
    return per_layer_frame(stats)


def _moments_of_variance(act, q: float) -> tuple[float, float, float]:
    """:func:`_moments` at one variance ``q``, also when ``q`` overflowed to inf.

    At ``q = inf`` the piecewise-linear activations keep their exact values
    (``E[phi'**2]`` does not depend on ``q``); for the others the moments are
    unknown (NaN), except that ``E[phi(h)**2]`` stays inf.
    """
    if math.isfinite(q):
        with np.errstate(over="ignore", invalid="ignore"):
            return tuple(float(v) for v in _moments(act, np.float64(q)))
    if act.name in ("linear", "relu", "leaky_relu"):
        _, _, derivative = _moments(act, np.float64(1.0))
        return (0.0 if act.name == "linear" else math.inf), math.inf, float(derivative)
    return math.nan, math.inf, math.nan


def _warn_nonfinite(q: dict, grad: dict, weight_var: float) -> None:
    """Warn, naming the layer, when a predicted variance left the float range."""
    messages = []
    forward = [layer for layer, value in q.items() if not math.isfinite(value)]
    if forward:
        messages.append(f"the pre-activation variance overflows at layer {min(forward)}")
    backward = [layer for layer, value in grad.items() if not math.isfinite(value)]
    if backward:
        messages.append(f"the gradient variance overflows at layer {max(backward)} (counting from the input)")
    if messages:
        warnings.warn(
            f"predicted_stats: {' and '.join(messages)} with weight_var={weight_var:g}: the variance grows "
            "geometrically with depth; values beyond the float range are reported as inf (or NaN "
            "where they are undefined).",
            NonFiniteWarning,
            stacklevel=3,
        )


def prediction_ratios(measured, predicted, *, stat="var") -> pd.DataFrame:
    """Ratio measured / predicted of one statistic, for one or several simulated networks.

    Parameters
    ----------
    measured : pandas.DataFrame or sequence of DataFrames
        Frames of :func:`initcourse.maths.propagation.propagate`, e.g. one per seed.
    predicted : pandas.DataFrame
        The frame of :func:`predicted_stats` for the same architecture.
    stat : {"var", "std"}, default "var"

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(quantity, layer)`` in the order of ``predicted``, one column
        per measured frame (0, 1, ...), holding ``measured[stat] / predicted[stat]``.
        Spread across the columns is the scatter of single networks around the
        prediction; their mean is what the recursion predicts.
    """
    if stat not in ("var", "std"):
        raise ValueError(f"stat must be one of 'var', 'std', got {stat!r}")
    frames = [measured] if isinstance(measured, pd.DataFrame) else list(measured)
    if not frames or not all(isinstance(f, pd.DataFrame) for f in frames):
        raise TypeError("measured must be a DataFrame of propagate() or a non-empty sequence of them")
    if not isinstance(predicted, pd.DataFrame):
        raise TypeError(f"predicted must be the DataFrame of predicted_stats(), got {type(predicted).__name__}")
    keys = ["quantity", "layer"]
    reference = predicted.set_index(keys)[stat]
    columns = {}
    for i, frame in enumerate(frames):
        values = frame.set_index(keys)[stat]
        if not reference.index.isin(values.index).all():
            raise ValueError(
                f"measured frame {i} lacks (quantity, layer) rows of the prediction: "
                "simulate the same depth and widths as predicted"
            )
        columns[i] = values.reindex(reference.index) / reference
    return pd.DataFrame(columns, index=reference.index)


__all__.append("prediction_ratios")
