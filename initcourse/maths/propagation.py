"""Signal propagation through a deep fully connected network, by simulation.

A batch of Gaussian inputs goes forward through ``depth`` dense layers without
biases, ``h_l = x_{l-1} W_l`` and ``x_l = phi(h_l)``; then a unit-variance Gaussian
gradient ``dL/dx_depth`` comes back, ``dL/dh_l = dL/dx_l * phi'(h_l)`` and
``dL/dx_{l-1} = dL/dh_l W_l^T``. The functions here report, layer by layer, the
statistics of these signals, as tidy pandas DataFrames:

``preactivation``
    ``h_l``, the input of the activation function;
``activation``
    ``x_l = phi(h_l)``, the output of layer ``l``;
``grad_preactivation``
    ``dL/dh_l``;
``grad_weight``
    the per-example weight gradient ``dL/dW_l = outer(x_{l-1}, dL/dh_l)``, over
    examples and weight entries. This is the quantity of the variance arguments
    of Glorot & Bengio (2010) and He et al. (2015); a mini-batch gradient (the mean
    of the per-example ones) has the same mean and a variance about ``batch``
    times smaller.

:mod:`initcourse.maths.theory` predicts the same statistics from the variance recursion,
in the same format, so the two can be merged on ``layer`` and ``quantity``.
:func:`trace` returns the raw signals of the same network instead of their
statistics, and :func:`layer_histograms` bins them, one histogram per layer.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd

from . import activations, initializers
from ._per_layer import layer_widths, per_layer_frame
from .._validation import (
    NonFiniteWarning,
    as_generator,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_real,
)

__all__ = [
    "QUANTITIES", "STATS", "SIGNALS", "propagate", "trace", "layer_histograms", "scale_sweep",
    "jacobian_singular_values",
]

QUANTITIES = ("preactivation", "activation", "grad_preactivation", "grad_weight")
"""The signals measured at every layer, in the order of the returned frames."""

STATS = ("mean", "std", "var", "frac_zero")
"""The statistics measured for every signal (``frac_zero``: fraction of exact zeros)."""

MAX_BINS = 100_000
"""Largest ``bins`` of :func:`layer_histograms` (one row per layer and bin)."""

SIGNALS = ("preactivation", "activation", "grad_preactivation")
"""The signals :func:`trace` returns raw (``grad_weight``, one outer product per
example, is summarised by :func:`propagate` but not stored)."""


def _forward(x, kernels, activation, derivatives=None, overwrite=False):
    """Yield ``(h_l, x_l)`` for every layer; append ``phi'(h_l)`` to ``derivatives`` if given.

    ``x`` is ``(..., batch, n_0)``; kernel ``l`` is ``(..., n_{l-1}, n_l)``. Leading
    axes broadcast, so one call can run a stack of networks. With ``overwrite``,
    ``x_l`` is computed in the memory of ``h_l`` (the yielded ``h_l`` is then ``x_l``):
    less memory traffic when ``h_l`` itself is not needed.
    """
    for kernel in kernels:
        h = np.matmul(x, kernel)
        if derivatives is not None:
            derivatives.append(activation.derivative(h))
        x = activation.forward(h, out=h if overwrite else None)
        yield h, x


def _backward(grad, kernels, derivatives):
    """Yield ``dL/dh_l`` for ``l = depth, ..., 1``, starting from ``grad = dL/dx_depth``.

    ``dL/dh_l`` is computed in the memory of ``derivatives[l]``, which it replaces.
    """
    for layer in reversed(range(len(kernels))):
        grad_h = np.multiply(grad, derivatives[layer], out=derivatives[layer])
        yield grad_h
        if layer:
            grad = np.matmul(grad_h, np.swapaxes(kernels[layer], -1, -2))


def _row_moments(a, zeros=True):
    """Mean, variance (and fraction of exact zeros) of every row of ``a``, in float64.

    Rows are along the last axis. One fast pass in ``a``'s dtype (BLAS) gives
    ``E[a**2] - E[a]**2``; the rows where that is unsafe in this precision are
    redone in float64 with two passes (mean, then centred squares): squares that
    overflow, or that underflow for more than a 1e-4 share of the mean square
    (float32: a mean square outside about 1e-34 to 1e36, as deep layers at
    extreme scales reach), or a variance so small against the mean square that
    the subtraction would cancel (sigmoid outputs near 0.5).
    """
    n = a.shape[-1]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # such rows are redone
        mean = np.matmul(a, np.ones(n, a.dtype)).astype(np.float64) / n
        square = np.vecdot(a, a).astype(np.float64) / n
    var = square - mean**2
    info = np.finfo(a.dtype)
    # Squares below `tiny` underflow: they are those of entries below 1e-2 of the
    # row's RMS when square >= 1e4 tiny, a share under 1e-4 of the sum. A dot
    # product of n terms is accurate to about 10 eps of its sum of squares, so a
    # variance above 1e5 eps of the mean square has a relative error below 1e-4.
    safe = (square >= 1e4 * info.tiny) & np.isfinite(square) & (var >= 1e5 * info.eps * square)
    if not safe.all():
        rows = a[~safe].astype(np.float64)
        row_mean = rows.mean(axis=-1)
        centred = rows - row_mean[:, None]
        mean[~safe], var[~safe] = row_mean, np.vecdot(centred, centred) / n
    if not zeros:
        return mean, var
    return mean, var, 1.0 - np.count_nonzero(a, axis=-1) / n


def _summary(mean, var, zero=None):
    """Statistics of a signal from the moments of its rows (the last axis indexes rows).

    Law of total variance: the variance within rows plus that of the row means.
    """
    total_mean = mean.mean(axis=-1)
    total_var = var.mean(axis=-1) + ((mean - total_mean[..., None]) ** 2).mean(axis=-1)
    summary = {"mean": total_mean, "std": np.sqrt(total_var), "var": total_var}
    if zero is not None:
        summary["frac_zero"] = zero.mean(axis=-1)
    return summary


def _weight_gradient_summary(inputs, grads):
    """Statistics of the per-example ``outer(x, g)`` from the row moments of ``x`` and ``g``.

    Over the entries ``x_i g_j`` of one example's outer product the mean is
    ``m_x m_g`` and the variance ``v_x v_g + v_x m_g**2 + m_x**2 v_g``; an entry is
    zero when either factor is, a fraction ``1 - (1 - z_x) (1 - z_g)``.
    """
    (x_mean, x_var, x_zero), (g_mean, g_var, g_zero) = inputs, grads
    return _summary(
        x_mean * g_mean,
        x_var * g_var + x_var * g_mean**2 + x_mean**2 * g_var,
        1.0 - (1.0 - x_zero) * (1.0 - g_zero),
    )


def _simulate(x, kernels, activation, grad_out):
    """Run the network; return ``{quantity: [summary of layer 1, ..., layer depth]}``."""
    derivatives = []
    input_moments = [_row_moments(x)]  # of x_0, ..., x_{depth-1}: the inputs of each layer
    stats = {quantity: [] for quantity in QUANTITIES}
    for h, x in _forward(x, kernels, activation, derivatives):
        stats["preactivation"].append(_summary(*_row_moments(h)))
        input_moments.append(_row_moments(x))
        stats["activation"].append(_summary(*input_moments[-1]))
    for layer, grad_h in zip(reversed(range(len(kernels))), _backward(grad_out, kernels, derivatives)):
        grad_moments = _row_moments(grad_h)
        stats["grad_preactivation"].insert(0, _summary(*grad_moments))
        stats["grad_weight"].insert(0, _weight_gradient_summary(input_moments[layer], grad_moments))
    return stats


def _kernel_sampler(initializer, init_params):
    """Return ``sample(shape, rng) -> float64 array`` for the ``initializer`` argument."""
    if init_params is not None and not isinstance(initializer, str):
        raise ValueError("init_params can only be given with an initializer name")
    if isinstance(initializer, str):
        init = initializers.get(initializer)
        params = dict(init_params or {})
        return lambda shape, rng: init(shape, seed=rng, dtype="float64", **params)
    if isinstance(initializer, numbers.Real) and not isinstance(initializer, bool):
        stddev = check_positive_float(initializer, "initializer")
        if stddev > 1e150:  # the squares of the weights would overflow float64
            raise ValueError(f"initializer (the stddev of random_normal) must be at most 1e150, got {stddev:g}")
        return lambda shape, rng: initializers.random_normal(shape, seed=rng, dtype="float64", stddev=stddev)
    if callable(initializer):
        return lambda shape, rng: np.asarray(initializer(shape, seed=rng), dtype=np.float64)
    raise TypeError(
        "initializer must be an initializer name, a callable f(shape, seed=...) or a positive "
        f"float (the stddev of random_normal), got {initializer!r}"
    )


def propagate(
    depth=None,
    width=None,
    *,
    widths=None,
    initializer="he_normal",
    activation="relu",
    batch=1000,
    seed=0,
    input_std=1.0,
    init_params=None,
) -> pd.DataFrame:
    """Measure the forward and backward signals of a deep dense network, layer by layer.

    Parameters
    ----------
    depth, width : int
        Number of dense layers, and the width of every layer (and of the input).
    widths : sequence of int, optional
        Instead of ``depth`` and ``width``: ``(n_0, n_1, ..., n_depth)``, the input
        dimension followed by the width of each layer.
    initializer : str, callable or float, default "he_normal"
        How the kernels (shape ``(fan_in, fan_out)``, Keras layout) are drawn: a
        name for :func:`initcourse.maths.initializers.get`; a callable
        ``f(shape, seed=generator)`` returning an array of that shape; or a
        positive float ``s``, meaning ``random_normal`` with ``stddev=s``.
    activation : str or Activation, default "relu"
        See :func:`initcourse.maths.activations.get` (``get("leaky_relu", 0.2)`` for a
        parameter).
    batch : int, default 1000
        Number of input examples.
    seed : None, int or numpy.random.Generator, default 0
        The same seed gives the same frame. Inputs, kernels (layer 1 first) and the
        output gradient are drawn from it in this order.
    input_std : float, default 1.0
        Standard deviation of the i.i.d. Gaussian inputs.
    init_params : dict, optional
        Extra parameters for a named initializer, e.g. ``{"gain": 2 ** 0.5}`` for
        ``"orthogonal"``.

    Returns
    -------
    pandas.DataFrame
        One row per ``(quantity, layer)``, columns ``layer`` (1 to depth),
        ``quantity`` (see :data:`QUANTITIES` and the module docstring), ``mean``,
        ``std``, ``var`` (over examples and units, ``ddof=0``) and ``frac_zero``.

    Notes
    -----
    Computed in float64. Memory: about ``depth * width * (batch + width)`` floats
    (the kernels, and the activation derivatives kept for the backward pass).

    Examples
    --------
    >>> df = propagate(10, 100, initializer="he_normal", activation="relu")
    >>> df.query("quantity == 'activation'")[["layer", "std"]]  # doctest: +SKIP
    """
    network = _network(depth, width, widths, initializer, activation, batch, seed, input_std, init_params)
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, with the layer
        frame = per_layer_frame(_simulate(*network))
    return _flag_nonfinite(frame, "propagate")


FORWARD = ("preactivation", "activation")
BACKWARD = ("grad_preactivation", "grad_weight")


def _flag_nonfinite(frame, caller, by=None):
    """Warn, naming the layer, when the signals of ``frame`` overflowed; blank what they spoil.

    Where the forward signal of a network became inf or NaN, the backward pass ran
    through meaningless values (an inf activation has derivative 0 or NaN, which
    would read as a vanishing gradient): that network's gradient rows are set to
    NaN. ``by`` names a column that tells networks apart (``scale`` of
    :func:`scale_sweep`). Nothing happens when every value is finite.
    """
    stats = [c for c in ("mean", "std", "var") if c in frame.columns]
    bad = ~np.isfinite(frame[stats].to_numpy(dtype=np.float64)).all(axis=1)
    if not bad.any():
        return frame
    forward = frame["quantity"].isin(FORWARD).to_numpy()
    messages = []
    keys = [None] if by is None else list(dict.fromkeys(frame.loc[bad, by]))
    for key in keys:
        network = np.ones(len(frame), bool) if key is None else (frame[by] == key).to_numpy()
        label = "" if key is None else f" ({by}={key:g})"
        if (bad & forward & network).any():
            first = frame.loc[bad & forward & network, "layer"].min()
            messages.append(f"the forward signal{label} overflowed at layer {first}")
            # a non-finite mean: the values themselves left the float range (not only their squares)
            values_overflowed = forward & network & ~np.isfinite(frame["mean"].to_numpy(dtype=np.float64))
            if values_overflowed.any():
                spoiled = network & ~forward
                frame.loc[spoiled, [c for c in (*stats, "frac_zero") if c in frame.columns]] = np.nan
        elif (bad & network).any():
            last = frame.loc[bad & network, "layer"].max()
            messages.append(f"the backward signal{label} overflowed at layer {last} (counting from the input)")
    more = f" (and {len(messages) - 3} more)" if len(messages) > 3 else ""
    warnings.warn(
        f"{caller}: {'; '.join(messages[:3])}{more}: values beyond the float range are reported as inf "
        "or NaN, and gradient rows computed through an overflowed forward pass as NaN. "
        "The weights are too large for this depth (an exploding network).",
        NonFiniteWarning,
        stacklevel=3,
    )
    return frame


def _network(depth, width, widths, initializer, activation, batch, seed, input_std, init_params):
    """Check the arguments of :func:`propagate` and :func:`trace` and draw the network.

    Returns ``(x_0, kernels, activation, dL/dx_depth)``.
    """
    sizes = layer_widths(depth, width, widths)
    act = activations.get(activation)
    sample = _kernel_sampler(initializer, init_params)
    batch = check_positive_int(batch, "batch")
    input_std = check_positive_float(input_std, "input_std")
    rng = as_generator(seed)

    x = input_std * rng.standard_normal((batch, sizes[0]))
    kernels = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        kernel = sample((fan_in, fan_out), rng)
        if kernel.shape != (fan_in, fan_out):
            raise ValueError(
                f"initializer returned an array of shape {kernel.shape} for shape {(fan_in, fan_out)}"
            )
        kernels.append(kernel)
    grad_out = rng.standard_normal((batch, sizes[-1]))
    return x, kernels, act, grad_out


def trace(
    depth=None,
    width=None,
    *,
    widths=None,
    initializer="he_normal",
    activation="relu",
    batch=1000,
    seed=0,
    input_std=1.0,
    init_params=None,
) -> dict[str, list[np.ndarray]]:
    """Return the raw signals of the network that :func:`propagate` measures, layer by layer.

    Use it when the statistics of :func:`propagate` are not enough, e.g. for the
    per-layer histograms of :func:`layer_histograms`.

    Parameters
    ----------
    depth, width, widths, initializer, activation, batch, seed, input_std, init_params
        As in :func:`propagate`. The same arguments give the same network, inputs
        and output gradient: the statistics of the arrays returned here are the
        rows of ``propagate``'s frame.

    Returns
    -------
    dict of str to list of numpy.ndarray
        For each name in :data:`SIGNALS`, one float64 array of shape
        ``(batch, n_l)`` per layer, layer 1 first: ``preactivation`` ``h_l``,
        ``activation`` ``x_l = phi(h_l)`` and ``grad_preactivation`` ``dL/dh_l``.

    Notes
    -----
    Every array is kept: memory is about ``4 * depth * batch * width`` floats.

    Examples
    --------
    >>> signals = trace(5, 400, initializer="glorot_uniform", activation="tanh")
    >>> [a.shape for a in signals["activation"]][:2]
    [(1000, 400), (1000, 400)]
    """
    x, kernels, act, grad_out = _network(
        depth, width, widths, initializer, activation, batch, seed, input_std, init_params
    )
    derivatives = []
    signals = {name: [] for name in SIGNALS}
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, with the layer
        for h, x in _forward(x, kernels, act, derivatives):
            signals["preactivation"].append(h)
            signals["activation"].append(x)
        signals["grad_preactivation"] = list(_backward(grad_out, kernels, derivatives))[::-1]
    overflowed = [
        f"{name} at layer {next(i for i, a in enumerate(arrays, 1) if not np.isfinite(a).all())}"
        for name, arrays in signals.items()
        if not all(np.isfinite(a).all() for a in arrays)
    ]
    if overflowed:
        warnings.warn(
            f"trace: the signals overflowed (first non-finite {', '.join(overflowed)}); the weights are too "
            "large for this depth (an exploding network)",
            NonFiniteWarning,
            stacklevel=2,
        )
    return signals


def layer_histograms(values, *, bins=50, limits=None) -> pd.DataFrame:
    """Normalized histogram of each layer's values, on bins shared by all layers.

    Glorot and Bengio (2010) read the health of a network at initialization from
    such histograms (their Figures 6 to 8): one curve per layer, same axes.

    Parameters
    ----------
    values : sequence of array_like
        One array per layer (any shape, flattened), layer 1 first, e.g.
        ``trace(...)["activation"]``.
    bins : int, default 50
        Number of equal-width bins.
    limits : (float, float), optional
        Range of the bins. Default: from the smallest to the largest value over
        all layers (widened by 0.5 on each side if they are equal). Values outside
        the limits fall in no bin.

    Returns
    -------
    pandas.DataFrame
        One row per (layer, bin), columns ``layer`` (from 1), ``left`` and
        ``right`` (bin edges) and ``density``: the count divided by the layer's
        number of values and by the bin width, so that the curve of a layer
        integrates to the fraction of its values inside the limits (1 with the
        default limits).
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
        raise ValueError("values must be a non-empty sequence of arrays, one per layer")
    arrays = []
    for layer, array in enumerate(values, start=1):
        array = np.asarray(array, dtype=np.float64).ravel()
        if array.size == 0 or not np.all(np.isfinite(array)):
            raise ValueError(f"the values of layer {layer} must be a non-empty array of finite numbers")
        arrays.append(array)
    bins = check_positive_int(bins, "bins")
    if bins > MAX_BINS:
        raise ValueError(f"bins must be at most {MAX_BINS}, got {bins}")
    if limits is None:
        low, high = min(a.min() for a in arrays), max(a.max() for a in arrays)
        if low == high:
            low, high = low - 0.5, high + 0.5
    else:
        if isinstance(limits, (str, bytes)) or not hasattr(limits, "__len__") or len(limits) != 2:
            raise ValueError(f"limits must be a pair (low, high), got {limits!r}")
        low, high = (check_real(v, f"limits[{i}]") for i, v in enumerate(limits))
        if not low < high:
            raise ValueError(f"limits must satisfy low < high, got {limits!r}")
    edges = np.linspace(low, high, bins + 1)
    blocks = []
    for layer, array in enumerate(arrays, start=1):
        counts, _ = np.histogram(array, bins=edges)
        density = counts / (array.size * np.diff(edges))
        columns = {"layer": layer, "left": edges[:-1], "right": edges[1:], "density": density}
        blocks.append(pd.DataFrame(columns))
    return pd.concat(blocks, ignore_index=True)


def _check_scales(scales) -> np.ndarray:
    message = f"scales must be a non-empty 1-D sequence of positive finite numbers, got {scales!r}"
    try:
        values = np.asarray(scales, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(message)
    return values


def _check_scales_fit(scales, dtype) -> None:
    with np.errstate(over="ignore", under="ignore"):
        cast = scales.astype(dtype)
    bad = ~np.isfinite(cast) | (cast <= 0)
    if bad.any():
        raise ValueError(
            f"scales must be representable in dtype {dtype}: {scales[bad][0]:g} is not "
            f"(range about {np.finfo(dtype).tiny:g} to {np.finfo(dtype).max:g}); use dtype='float64'"
        )


def scale_sweep(
    scales,
    *,
    depth=10,
    width=100,
    batch=1000,
    activation="relu",
    seed=0,
    gradient=False,
    dtype="float32",
) -> pd.DataFrame:
    """Measure per-layer signals for many weight scales at once, in one batched run.

    Every scale ``s`` gets its own network with weights ``W ~ N(0, s**2)``. All the
    networks run together as a stack: ``np.matmul`` of ``(S, batch, width)``
    activations with ``(S, width, width)`` kernels, with a Python loop over layers
    only.

    Parameters
    ----------
    scales : sequence of float > 0
        Standard deviations of the weights, e.g. ``np.logspace(-4, 1, 50)``.
    depth, width : int, default 10 and 100
        Number of layers, and their width (the input dimension too).
    batch : int, default 1000
        Number of input examples.
    activation : str or Activation, default "relu"
    seed : None, int or numpy.random.Generator, default 0
    gradient : bool, default False
        Also back-propagate a unit-variance Gaussian gradient from the output and
        measure ``grad_preactivation`` (about twice the time, and memory for
        ``depth`` stacks of derivatives).
    dtype : {"float32", "float64"}, default "float32"
        Arithmetic of the simulation (statistics are always accumulated safely,
        see Notes).

    Returns
    -------
    pandas.DataFrame
        One row per ``(quantity, scale, layer)``; columns ``scale``, ``layer``,
        ``quantity`` (``"activation"``, and ``"grad_preactivation"`` with
        ``gradient=True``), ``mean``, ``std`` and ``var`` (as in :func:`propagate`).

    Notes
    -----
    *Common random numbers.* All networks share the input batch, the output
    gradient and the standard-normal draws of their kernels: the kernel of layer
    ``l`` at scale ``s`` is ``s * Z_l``. The differences between scales are then
    due to the scale alone, not to sampling noise, and one draw serves every scale.
    (For a ReLU network this makes every signal exactly proportional to
    ``s**layer``: ReLU is positively homogeneous.)

    *float32* is the default for speed: BLAS multiplies twice as many float32
    numbers per instruction, and a ``(50, 1000, 100)`` float32 stack (20 MB) stays
    in a typical L3 cache; see ``benchmarks/bench_sweep.py``. Its range (about
    1e-38 to 3e38) holds the default sweep, whose ReLU activations span about
    1e-32 to 1e18, but not their squares: rows whose mean square leaves about 1e-34
    to 1e36 get their statistics redone in float64. Use ``dtype="float64"`` when
    signals leave the float32 range themselves (deeper nets: they would turn into
    0 or inf), when a spread below about 1e-7 of the mean matters (sigmoid at tiny
    scales, where every output rounds to 0.5), or for gradients in the chaotic
    regime (tanh or sigmoid at large scales), which amplify rounding: there float32
    and float64 give different values of the same order of magnitude.
    """
    scales = _check_scales(scales)
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    batch = check_positive_int(batch, "batch")
    act = activations.get(activation)
    if not isinstance(gradient, bool):
        raise TypeError(f"gradient must be True or False, got {gradient!r}")
    dtype = np.dtype(check_choice(dtype, "dtype", ("float32", "float64")))
    _check_scales_fit(scales, dtype)
    rng = as_generator(seed)

    # drawn in float64 whatever the dtype, so that both dtypes run the same networks (up to rounding)
    x = rng.standard_normal((batch, width)).astype(dtype)
    stacked_scales = scales.astype(dtype)[:, None, None]
    kernels = [stacked_scales * rng.standard_normal((width, width)).astype(dtype) for _ in range(depth)]
    derivatives = [] if gradient else None
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, with the scale and layer
        layers = _forward(x, kernels, act, derivatives, overwrite=True)
        stats = {"activation": [_summary(*_row_moments(out, zeros=False)) for _, out in layers]}
        if gradient:
            grad_out = rng.standard_normal((batch, width)).astype(dtype)
            grads = _backward(grad_out, kernels, derivatives)  # last layer first
            stats["grad_preactivation"] = [_summary(*_row_moments(g, zeros=False)) for g in grads][::-1]
    return _flag_nonfinite(per_layer_frame(stats, scale=scales), "scale_sweep", by="scale")


def jacobian_singular_values(
    depth=None,
    width=None,
    *,
    widths=None,
    initializer="he_normal",
    activation="relu",
    batch=1000,
    seed=0,
    input_std=1.0,
    init_params=None,
    examples=5,
) -> pd.DataFrame:
    """Mean singular value of every layer's Jacobian ``dx_l/dx_{l-1}``, at initialization.

    This is the quantity of Glorot & Bengio (2010, Section 4.2.2): for one input,
    layer ``l`` maps a small change ``dx_{l-1}`` to
    ``dx_l = (dx_{l-1} W_l) * phi'(h_l)``, i.e. multiplies it by the matrix
    ``J_l = W_l diag(phi'(h_l))``; the mean of ``J_l``'s singular values says by how
    much the layer stretches (above 1) or shrinks (below 1) perturbations on average.

    Parameters
    ----------
    depth, width, widths, initializer, activation, batch, seed, input_std, init_params
        As in :func:`propagate`: the same arguments give the same network and inputs.
    examples : int
        The Jacobians are taken at the first ``examples`` inputs of the batch
        (``1 <= examples <= batch``); one singular value decomposition per layer
        and example.

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``layer`` (from 1), ``mean`` (the mean singular value,
        averaged over the examples), ``min`` and ``max`` (of the per-example means).

    Examples
    --------
    >>> frame = jacobian_singular_values(3, 50, initializer="glorot_uniform", activation="tanh", batch=10)
    >>> list(frame.columns)
    ['layer', 'mean', 'min', 'max']
    """
    x, kernels, act, _ = _network(depth, width, widths, initializer, activation, batch, seed, input_std, init_params)
    examples = check_positive_int(examples, "examples")
    if examples > x.shape[0]:
        raise ValueError(f"examples must be at most batch ({x.shape[0]}), got {examples}")
    derivatives = []
    for _ in _forward(x[:examples], kernels, act, derivatives):
        pass
    rows = []
    for layer, (kernel, slopes) in enumerate(zip(kernels, derivatives), start=1):
        # J_l for every example at once: (examples, n_{l-1}, n_l)
        jacobians = kernel[None, :, :] * slopes[:, None, :]
        means = np.linalg.svd(jacobians, compute_uv=False).mean(axis=-1)
        rows.append({"layer": layer, "mean": float(means.mean()), "min": float(means.min()),
                     "max": float(means.max())})
    return pd.DataFrame(rows)
