"""Per-layer statistics of a Keras model's outputs at its current weights.

:func:`layer_output_stats` runs one batch through a model and summarises, for
every layer, what the layer hands to the next one: the mean and spread of its
output and the fraction of exact zeros (dead ReLU units, or pooled zeros). For
layers that compute an affine map before a fused activation (``Dense``,
``Conv1D/2D/3D``, ``SimpleRNN``) it also gives the spread of that
*pre-activation*, the quantity the variance arguments of the course are about.

:func:`compare_initializers` does this for several initializers of the same
architecture (one freshly built, seeded model each) and returns one tidy frame:
the fastest way to see, before any training, what an initializer does to a
particular network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .. import settings
from ._model_batch import as_batch as _as_batch
from ._model_batch import model_input as _model_input
from .lsuv import SUPPORTED_LAYERS, preactivation_variances

__all__ = ["STATS_COLUMNS", "layer_output_stats", "compare_initializers"]

STATS_COLUMNS = ("layer", "class", "output_shape", "mean", "std", "frac_zero", "preact_std")
"""Columns of :func:`layer_output_stats`."""


def layer_output_stats(model, x) -> pd.DataFrame:
    """Mean, standard deviation and fraction of zeros of every layer's output on ``x``.

    Parameters
    ----------
    model : keras.Model
        A built Sequential or functional model with one input, made of layers
        that each have one output (nested models are not supported).
    x : array_like
        A batch of model inputs, shape ``(n, *input_shape)``, finite values. A few
        hundred samples estimate a standard deviation to a few percent.

    Returns
    -------
    pandas.DataFrame
        One row per layer in the model's order (the input layer left out), columns

        - ``layer``, ``class``: the layer's name and Keras class;
        - ``output_shape``: as Keras reports it, ``None`` for the batch axis;
        - ``mean``, ``std``: over all entries of the output on the batch;
        - ``frac_zero``: fraction of output entries exactly 0.0;
        - ``preact_std``: for ``Dense`` and ``Conv`` layers, the standard
          deviation of ``x @ W + b`` (the convolution plus bias) before the
          fused activation, as measured by
          :func:`initcourse.kerastools.lsuv.preactivation_variances`; for ``SimpleRNN``,
          that of ``x_t @ W + h_{t-1} @ U + b`` over all time steps
          (``h_0 = 0``); equal to ``std`` when the activation is linear. NaN for
          layers without such an affine part (pooling, flatten, embedding,
          normalization, ...) and for a ``SimpleRNN`` that is stateful, reads
          its sequence backwards or receives a mask.

    Notes
    -----
    The forward pass runs in inference mode (``training=False``): Dropout is off
    and BatchNormalization uses its moving statistics. The model is not changed.
    """
    keras = settings.quiet_tensorflow()
    model_input = _model_input(keras, model)
    batch = _as_batch(x, model_input)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers:
        raise ValueError(f"model {model.name!r} has no layer besides its input")
    nested = [layer.name for layer in layers if isinstance(layer, keras.Model)]
    if nested:
        raise ValueError(f"nested models are not supported (found {nested}); build a flat model")
    multiple = [layer.name for layer in layers if isinstance(layer.output, (list, tuple, dict))]
    if multiple:
        raise ValueError(f"every layer must have one output; {multiple} have several")

    probe = keras.Model(model_input, {layer.name: layer.output for layer in layers})
    outputs = probe(batch, training=False)
    preact_std = {**_affine_preactivation_stds(keras, model, layers, batch),
                  **_simple_rnn_preactivation_stds(keras, model_input, layers, batch)}
    rows = []
    for layer in layers:
        values = np.asarray(outputs[layer.name], dtype=np.float64)
        rows.append((
            layer.name, type(layer).__name__, tuple(layer.output.shape),
            float(values.mean()), float(values.std()), float(np.mean(values == 0.0)),
            preact_std.get(layer.name, np.nan),
        ))
    return pd.DataFrame(rows, columns=list(STATS_COLUMNS))


def _affine_preactivation_stds(keras, model, layers, batch) -> dict:
    """``{name: std}`` of the Dense/Conv pre-activations (from :func:`preactivation_variances`)."""
    classes = tuple(getattr(keras.layers, name) for name in SUPPORTED_LAYERS)
    if not any(isinstance(layer, classes) for layer in layers):
        return {}
    variances = preactivation_variances(model, batch)
    return dict(zip(variances["layer"], np.sqrt(variances["var"])))


def _simple_rnn_preactivation_stds(keras, model_input, layers, batch) -> dict:
    """``{name: std}`` of ``x_t @ W + h_{t-1} @ U + b`` over all steps, for plain SimpleRNN layers."""
    rnns = [
        layer for layer in layers
        if isinstance(layer, keras.layers.SimpleRNN)
        and not (layer.go_backwards or layer.stateful or isinstance(layer.input, (list, tuple)))
    ]
    if not rnns:
        return {}
    inputs = keras.Model(model_input, {layer.name: layer.input for layer in rnns})(batch, training=False)
    return {
        layer.name: float(np.std(_simple_rnn_preactivations(layer, np.asarray(inputs[layer.name], np.float64))))
        for layer in rnns
    }


def _simple_rnn_preactivations(layer, inputs: np.ndarray) -> np.ndarray:
    """Pre-activations of ``layer`` at every step, shape ``(n, steps, units)``.

    The hidden states ``h_t`` come from a copy of the layer that returns its whole
    sequence; the pre-activation of step ``t`` is the cell's affine map of ``x_t``
    and ``h_{t-1}`` (``h_0 = 0``).
    """
    twin = type(layer).from_config({**layer.get_config(), "return_sequences": True, "return_state": False})
    twin.build(inputs.shape)
    twin.set_weights(layer.get_weights())
    states = np.asarray(twin(inputs.astype(layer.compute_dtype), training=False), dtype=np.float64)
    previous = np.concatenate([np.zeros_like(states[:, :1]), states[:, :-1]], axis=1)
    cell = layer.cell
    pre = inputs @ np.asarray(cell.kernel, np.float64) + previous @ np.asarray(cell.recurrent_kernel, np.float64)
    if cell.use_bias:
        pre += np.asarray(cell.bias, np.float64)
    return pre


def compare_initializers(build_model, x, initializers, *, argument="kernel_initializer", seed=0) -> pd.DataFrame:
    """:func:`layer_output_stats` at initialization, for several initializers of one model.

    For every initializer, everything is seeded with ``seed``
    (:func:`initcourse.settings.seed_everything`), a fresh model is built with
    ``build_model(**{argument: initializer})`` and its layer statistics are
    measured on ``x``.

    Parameters
    ----------
    build_model : callable
        Returns a built ``keras.Model`` (compiled or not), e.g.
        :func:`initcourse.kerastools.models.cifar_cnn`.
    x : array_like
        A batch of model inputs (see :func:`layer_output_stats`).
    initializers : sequence of str, or mapping of str to initializer
        Keras initializer names (each its own label), or ``{label: initializer}``
        with anything ``build_model`` accepts for ``argument``.
    argument : str, default "kernel_initializer"
        The parameter of ``build_model`` that receives the initializer, e.g.
        ``"embeddings_initializer"`` or ``"recurrent_initializer"``.
    seed : int, default 0
        The same seed for every initializer, so that they differ only in the
        initializer.

    Returns
    -------
    pandas.DataFrame
        Column ``initializer`` (the label) followed by :data:`STATS_COLUMNS`, one
        row per (initializer, layer), initializers in the order given.
    """
    keras = settings.quiet_tensorflow()
    if not callable(build_model):
        raise TypeError(f"build_model must be callable, got {build_model!r}")
    if not isinstance(argument, str) or not argument.isidentifier():
        raise ValueError(f"argument must be the name of a parameter of build_model, got {argument!r}")
    variants = _initializer_variants(initializers)
    frames = []
    for label, initializer in variants.items():
        settings.seed_everything(seed)
        model = build_model(**{argument: initializer})
        if not isinstance(model, keras.Model):
            raise TypeError(f"build_model must return a keras.Model, got {type(model).__name__}")
        frames.append(layer_output_stats(model, x).assign(initializer=label))
    stats = pd.concat(frames, ignore_index=True)
    return stats[["initializer", *STATS_COLUMNS]]


def _initializer_variants(initializers) -> dict:
    """``{label: initializer}`` from a sequence of names or a mapping."""
    message = (
        "initializers must be a non-empty sequence of distinct initializer names or a mapping "
        f"{{label: initializer}}, got {initializers!r}"
    )
    if isinstance(initializers, Mapping):
        variants = dict(initializers)
        if not all(isinstance(label, str) and label for label in variants):
            raise TypeError(f"initializers: every label must be a non-empty string, got {list(variants)!r}")
    elif isinstance(initializers, Sequence) and not isinstance(initializers, (str, bytes)):
        if not all(isinstance(name, str) and name for name in initializers):
            raise TypeError(message)
        if len(set(initializers)) != len(initializers):
            raise ValueError(message)
        variants = {name: name for name in initializers}
    else:
        raise TypeError(message)
    if not variants:
        raise ValueError(message)
    return variants
