"""Layer-sequential unit-variance (LSUV) initialization of a Keras model.

Mishkin & Matas (2015), "All you need is a good init", Algorithm 1:

1. pre-initialize every convolution and fully connected kernel with an
   orthonormal matrix (Saxe et al., 2013);
2. go through these layers in forward order; for each one, run the data batch
   through the network (the earlier layers already rescaled), measure the
   variance of the layer's output and divide the kernel by its square root,
   until the variance is within ``tol_var`` of the target or ``max_iter``
   rescalings have been made.

The result is a model in which every Dense/Conv layer's pre-activation output has
unit variance on that batch, whatever the activations, the depth or the scale of
the data. :func:`preactivation_variances` measures that quantity for any model.
"""

from __future__ import annotations

import collections.abc
import contextlib

import numpy as np
import pandas as pd

from .._validation import as_generator, check_positive_float, check_positive_int
from ._model_batch import as_batch as _as_batch
from ._model_batch import model_input as _model_input
from ..maths.initializers import orthogonal
from ..settings import quiet_tensorflow

__all__ = ["SUPPORTED_LAYERS", "REPORT_COLUMNS", "lsuv", "minibatches", "preactivation_variances"]

SUPPORTED_LAYERS = ("Dense", "Conv1D", "Conv2D", "Conv3D")
"""Keras layer classes whose kernels LSUV rescales."""

REPORT_COLUMNS = ("layer", "class", "iterations", "var_before", "var_after", "scale")
"""Columns of the report returned by :func:`lsuv`."""


def lsuv(model, batch, *, tol_var=0.1, max_iter=10, target_var=1.0, seed=None, min_outputs=1) -> pd.DataFrame:
    """Initialize ``model`` in place with LSUV and return a per-layer report.

    Parameters
    ----------
    model : keras.Model
        A built Sequential or functional model with one input. Its ``Dense``,
        ``Conv1D``, ``Conv2D`` and ``Conv3D`` layers are initialized, in forward
        order; every other layer (BatchNormalization, Dropout, pooling, ...) keeps
        its weights and is only run forward. Nested models are not supported.
    batch : array_like, iterator or callable
        Either one batch of model inputs, shape ``(n, *input_shape)``, finite
        values, used for every measurement (a few hundred samples give a variance
        estimate good to a few percent); or a source of fresh batches, one per
        measurement (per forward pass), as when the authors' Caffe script reads
        the next mini-batch at every pass: an iterator (a generator, or
        :func:`minibatches`) or a callable without arguments that returns a
        batch. A layer takes up to ``max_iter + 1`` batches.
    tol_var : float, default 0.1
        Stop rescaling a layer once ``|var - target_var| < tol_var``.
    max_iter : int, default 10
        At most this many rescalings per layer.
    target_var : float, default 1.0
        The output variance to reach (1 in the paper).
    seed : None, int or numpy.random.Generator
        Seed of the orthonormal pre-initialization (same seed, same kernels).
    min_outputs : int, default 1
        Leave a layer untouched (no orthonormal kernel, no rescaling, no row in
        the report) when its output has fewer than ``min_outputs`` entries per
        sample. The default processes every layer; the authors' Keras script
        skips layers with fewer than 32 (``min_outputs=32``), such as a small
        output layer, whose variance is poorly estimated on a small batch.

    Returns
    -------
    pandas.DataFrame
        One row per initialized layer (skipped layers have none), in forward order, with columns
        ``layer`` (name), ``class``, ``iterations`` (rescalings made),
        ``var_before`` (output variance with the orthonormal kernel),
        ``var_after`` (output variance when it stopped) and ``scale`` (the factor
        the orthonormal kernel was multiplied by).

    Raises
    ------
    ValueError
        On a bad argument or batch, a model without supported layers, or when a
        layer's output variance on the batch is zero or not finite (a constant
        output cannot be rescaled to unit variance; skipping that layer would
        leave it silently un-normalized). On any error the model's weights are
        restored to what they were before the call.

    Notes
    -----
    *Which output is normalized.* The variance measured is that of the layer's
    *pre-activation* output, ``x @ W + b`` (or the convolution plus bias), also
    for layers with a fused activation such as ``Dense(64, activation="relu")``:
    the activation is switched to linear while the layer is measured and
    restored afterwards. This is what the paper normalizes (the output of the
    convolution or inner-product layer; in its Caffe networks the nonlinearity is
    a separate layer, and the authors' Caffe script stops the forward pass at the
    layer, before an in-place ReLU). It also makes the result independent of how
    the model is written: ``Dense(relu)`` and ``Dense`` followed by
    ``Activation("relu")`` get the same kernels. Normalizing after a bounded
    activation instead would chase a target that may not exist (a tanh output
    has variance below 1 whatever the scale).

    *Iterations.* Biases are set to zero (a choice of this implementation: the
    paper's Algorithm 1 only rescales kernels, and the authors' scripts keep the
    biases the framework initialized, zero by default), so the measured output
    is linear in the kernel and one division by ``sqrt(var / target_var)`` reaches
    the target up to rounding: with one fixed batch, LSUV stops after at most one
    rescaling per layer. The loop is the published algorithm; when every
    measurement uses a fresh mini-batch (pass an iterator or a callable as
    ``batch``), as in the authors' Caffe script, the estimate moves between
    passes and several iterations can be needed.

    Forward passes run in inference mode (``training=False``): Dropout is off and
    BatchNormalization uses, and does not update, its moving statistics.

    References
    ----------
    Mishkin, D. and Matas, J. (2015). All you need is a good init. ICLR 2016.
    arXiv:1511.06422.
    """
    keras = quiet_tensorflow()
    tol_var = check_positive_float(tol_var, "tol_var")
    max_iter = check_positive_int(max_iter, "max_iter")
    target_var = check_positive_float(target_var, "target_var")
    min_outputs = check_positive_int(min_outputs, "min_outputs")
    rng = as_generator(seed)
    model_input = _model_input(keras, model)
    next_batch = _batch_source(batch, model_input)
    layers = _supported_layers(keras, model)
    if min_outputs > 1:
        layers = [layer for layer in layers if _outputs_per_sample(layer) >= min_outputs]
    if not layers:
        raise ValueError(f"min_outputs={min_outputs} skips every layer of model {model.name!r}")

    snapshot = model.get_weights()
    try:
        rows = [
            _lsuv_layer(keras, model_input, layer, next_batch, rng, tol_var, max_iter, target_var)
            for layer in layers
        ]
    except BaseException:
        model.set_weights(snapshot)
        raise
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


def _lsuv_layer(keras, model_input, layer, next_batch, rng, tol_var, max_iter, target_var) -> dict:
    """Orthonormal pre-init of one layer, then rescale it to the target variance."""
    kernel = orthogonal(tuple(layer.kernel.shape), seed=rng, dtype=layer.kernel.dtype)
    layer.kernel.assign(kernel)
    if layer.bias is not None:
        layer.bias.assign(np.zeros(layer.bias.shape, dtype=layer.bias.dtype))
    probe = keras.Model(model_input, layer.input)
    # With one fixed batch, the layer's input does not change while this layer is
    # rescaled: compute it once. With fresh batches, every measurement gets its own.
    fixed_input = probe(next_batch.fixed, training=False) if next_batch.fixed is not None else None

    def output_variance() -> float:
        layer_input = fixed_input if fixed_input is not None else probe(next_batch(), training=False)
        var = _preactivation_variance(keras, layer, layer_input)
        if not np.isfinite(var) or var <= 0.0:
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}) has output variance {var} on the "
                "batch: LSUV cannot rescale a constant or non-finite output. Check the batch "
                "(are all its samples equal?) and the layers before this one. "
                "The model's weights were left unchanged."
            )
        return var

    var = var_before = output_variance()
    scale, iterations = 1.0, 0
    while abs(var - target_var) >= tol_var and iterations < max_iter:
        scale *= np.sqrt(target_var / var)
        layer.kernel.assign((kernel * scale).astype(kernel.dtype))
        iterations += 1
        var = output_variance()
    return dict(
        zip(REPORT_COLUMNS, (layer.name, type(layer).__name__, iterations, var_before, var, float(scale)))
    )


def preactivation_variances(model, batch) -> pd.DataFrame:
    """Variance of every Dense/Conv layer's pre-activation output on ``batch``.

    The quantity :func:`lsuv` normalizes (see its Notes): ``x @ W + b`` (or the
    convolution plus bias), before any fused activation, over all elements of
    the output, in inference mode. The model is not changed.

    Parameters
    ----------
    model : keras.Model
        A built Sequential or functional model with one input (as for :func:`lsuv`).
    batch : array_like
        A batch of model inputs, shape ``(n, *input_shape)``, finite values.

    Returns
    -------
    pandas.DataFrame
        One row per Dense/Conv layer in forward order, columns ``layer``, ``class``
        and ``var``.
    """
    keras = quiet_tensorflow()
    model_input = _model_input(keras, model)
    batch = _as_batch(batch, model_input)
    layers = _supported_layers(keras, model)
    probe = keras.Model(model_input, {layer.name: layer.input for layer in layers})
    inputs = probe(batch, training=False)
    return pd.DataFrame(
        [
            (layer.name, type(layer).__name__, _preactivation_variance(keras, layer, inputs[layer.name]))
            for layer in layers
        ],
        columns=["layer", "class", "var"],
    )


def _preactivation_variance(keras, layer, layer_input) -> float:
    """Variance of ``layer``'s output on ``layer_input`` with its activation switched off."""
    with _linear_activation(keras, layer):
        return float(np.var(np.asarray(layer(layer_input), dtype=np.float64)))


@contextlib.contextmanager
def _linear_activation(keras, layer):
    """Switch ``layer``'s fused activation to linear for the block, then restore it."""
    activation = layer.activation
    layer.activation = keras.activations.linear
    try:
        yield
    finally:
        layer.activation = activation


def _supported_layers(keras, model) -> list:
    """The model's Dense/Conv layers in forward order; reject nested models."""
    nested = [layer.name for layer in model.layers if isinstance(layer, keras.Model)]
    if nested:
        raise ValueError(f"nested models are not supported (found {nested}); build a flat model")
    classes = tuple(getattr(keras.layers, name) for name in SUPPORTED_LAYERS)
    layers = [layer for layer in model.layers if isinstance(layer, classes)]
    for layer in layers:
        calls = len(getattr(layer, "_inbound_nodes", ()) or ())
        if calls > 1:
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}) is called {calls} times in the model (a shared "
                "layer): LSUV gives each layer one output variance and cannot normalize a shared one; "
                "use a separate layer per call"
            )
    for layer in model.layers:
        if isinstance(layer, classes):
            continue
        flatten = getattr(layer, "_flatten_layers", None)
        sublayers = flatten(include_self=False, recursive=True) if callable(flatten) else ()
        inner = [sub.name for sub in sublayers if isinstance(sub, classes)]
        if inner:
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}) contains {', '.join(map(repr, inner))} "
                f"({'/'.join(SUPPORTED_LAYERS)}), which LSUV cannot reach: it initializes the model's own "
                "layers only. Use those layers directly in the model"
            )
    if not layers:
        raise ValueError(
            f"model {model.name!r} has no layer LSUV can initialize; supported layers: "
            + ", ".join(SUPPORTED_LAYERS)
        )
    return layers


def _outputs_per_sample(layer) -> int:
    """Number of entries of ``layer``'s output per sample (unknown dimensions count as 1)."""
    try:
        shape = tuple(layer.output.shape)
    except (AttributeError, ValueError):  # a layer called more than once: count its units
        shape = (None, int(layer.kernel.shape[-1]))
    return int(np.prod([d for d in shape[1:] if d is not None]))


class _BatchSource:
    """The next batch for a measurement: the fixed one, or a fresh one each call."""

    def __init__(self, draw, model_input, fixed=None):
        self._draw, self._model_input, self.fixed, self.drawn = draw, model_input, fixed, 0

    def __call__(self) -> np.ndarray:
        if self.fixed is not None:
            return self.fixed
        try:
            batch = self._draw()
        except StopIteration:
            raise ValueError(
                f"the batch iterator ran out after {self.drawn} batches: LSUV takes one batch per "
                "measurement, up to max_iter + 1 per layer (use an endless source such as minibatches())"
            ) from None
        self.drawn += 1
        return _as_batch(batch, self._model_input)


def _batch_source(batch, model_input) -> _BatchSource:
    """Wrap ``batch`` (an array, an iterator of arrays or a callable) as a :class:`_BatchSource`."""
    if isinstance(batch, collections.abc.Iterator):
        return _BatchSource(lambda: next(batch), model_input)
    if callable(batch):
        return _BatchSource(batch, model_input)
    return _BatchSource(None, model_input, fixed=_as_batch(batch, model_input))


def minibatches(x, batch_size, *, seed=None):
    """An endless iterator of random mini-batches of ``x``, for :func:`lsuv`.

    Each batch holds ``batch_size`` distinct samples drawn at random from ``x``
    (along its first axis); successive batches are drawn independently.

    Parameters
    ----------
    x : array_like
        The samples, shape ``(n, ...)``.
    batch_size : int
        Samples per batch, at most ``n``.
    seed : None, int or numpy.random.Generator
        Seed of the draws.
    """
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"x must hold at least one sample along its first axis, got shape {x.shape}")
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size > x.shape[0]:
        raise ValueError(f"batch_size must be at most the number of samples {x.shape[0]}, got {batch_size}")
    rng = as_generator(seed)

    def draw():
        while True:
            yield x[rng.choice(x.shape[0], size=batch_size, replace=False)]

    return draw()


