"""Data-dependent initialization: every unit's pre-activation standardized on a batch.

Salimans & Kingma (2016, section 3) initialise a weight-normalized network from
data: draw each unit's weight direction ``v`` at random, run a batch through the
network, and set the unit's scale ``g`` and bias ``b`` so that its pre-activation
``t = v.x / ||v||`` has mean 0 and standard deviation 1 on that batch,
``g = 1/sigma[t]``, ``b = -mu[t]/sigma[t]``, one layer after the other. In a plain
(not weight-normalized) layer the same result is reached by dividing each column
of the kernel by its unit's standard deviation and setting the bias to ``-mu/sigma``:
:func:`weightnorm_init` does that to the Dense and Conv layers of a Keras model.

Compared with LSUV (:mod:`initcourse.kerastools.lsuv`), which divides a whole layer's kernel by
one number until the layer's output variance is 1, this standardizes every unit
separately and also removes its mean, so a shifted input (data not centred) is
corrected too. Both use data; an initializer that only receives a shape, as a Keras
initializer does, cannot.

:func:`unit_moments` measures what it sets: each unit's mean and standard deviation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._model_batch import as_batch, model_input
from .._validation import as_generator, check_choice, check_positive_float
from ..settings import quiet_tensorflow

__all__ = ["SUPPORTED_LAYERS", "DIRECTIONS", "weightnorm_init", "unit_moments"]

SUPPORTED_LAYERS = ("Dense", "Conv1D", "Conv2D", "Conv3D")
"""Keras layer classes whose units are standardized."""

DIRECTIONS = ("normal", "keep")
"""``"normal"``: redraw every kernel from N(0, 0.05^2) as the paper does; ``"keep"``: keep the kernel's direction."""


def _layers(keras, model):
    nested = [layer.name for layer in model.layers if isinstance(layer, keras.Model)]
    if nested:
        raise ValueError(f"model must not contain nested models; found {nested}")
    return [layer for layer in model.layers if type(layer).__name__ in SUPPORTED_LAYERS]


def _preactivation(layer, inputs) -> np.ndarray:
    """The layer's ``x W + b`` (or convolution plus bias), without its activation, as float64."""
    if type(layer).__name__ == "Dense":
        out = np.asarray(inputs, dtype=np.float64) @ np.asarray(layer.kernel, dtype=np.float64)
    else:
        out = np.asarray(layer.convolution_op(inputs, layer.kernel), dtype=np.float64)
    if layer.bias is not None:
        out = out + np.asarray(layer.bias, dtype=np.float64)
    return out


def _unit_stats(out: np.ndarray):
    axes = tuple(range(out.ndim - 1))  # all but the channel (unit) axis
    return out.mean(axis=axes), out.std(axis=axes)


def weightnorm_init(model, batch, *, directions: str = "normal", init_scale: float = 1.0, seed=None) -> pd.DataFrame:
    """Standardize every unit of ``model``'s Dense/Conv layers on ``batch``, in place, layer by layer.

    For each layer in forward order: (optionally) redraw the kernel's directions,
    run ``batch`` through the network (earlier layers already initialised), compute
    each unit's pre-activation mean ``mu`` and standard deviation ``sigma``, then divide
    the unit's kernel column by ``sigma / init_scale`` and set its bias to
    ``-mu * init_scale / sigma`` (a layer without bias only gets the division).

    Parameters
    ----------
    model : keras.Model
        A built Sequential or functional model with one input.
    batch : array_like
        A batch of model inputs (a few hundred samples).
    directions : {"normal", "keep"}
        Redraw each kernel from N(0, 0.05^2) first (Salimans & Kingma) or keep it.
    init_scale : float
        The standard deviation each unit ends with (1 in the paper).
    seed : None, int or numpy.random.Generator
        Seed of the redrawn directions.

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``layer``, ``class``, ``units``, ``mean_before``/``std_before``
        (the spread of the units' means, and the mean of their standard deviations,
        before), ``mean_after``/``std_after`` (the same after).
    """
    keras = quiet_tensorflow()
    inp = model_input(keras, model)
    batch = as_batch(batch, inp)
    check_choice(directions, "directions", DIRECTIONS)
    init_scale = check_positive_float(init_scale, "init_scale")
    rng = as_generator(seed)
    layers = _layers(keras, model)
    if not layers:
        raise ValueError(f"model {model.name!r} has no layer of the supported classes {SUPPORTED_LAYERS}")
    saved = model.get_weights()
    try:
        return _standardize(keras, inp, layers, batch, directions, init_scale, rng)
    except ValueError:
        model.set_weights(saved)  # leave the model as it was
        raise


def _standardize(keras, inp, layers, batch, directions, init_scale, rng) -> pd.DataFrame:
    rows = []
    for layer in layers:
        if directions == "normal":
            kernel = (0.05 * rng.standard_normal(tuple(layer.kernel.shape))).astype(layer.kernel.dtype)
            layer.kernel.assign(kernel)
        if layer.bias is not None:
            layer.bias.assign(np.zeros(layer.bias.shape, dtype=layer.bias.dtype))
        layer_input = keras.Model(inp, layer.input)(batch, training=False)
        mu, sigma = _unit_stats(_preactivation(layer, layer_input))
        if not (np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
            dead = int(np.sum(~(sigma > 0)))
            raise ValueError(
                f"layer {layer.name!r} has {dead} unit(s) with zero or non-finite standard deviation on the batch: "
                "a unit that is constant on the batch cannot be standardized. Check the batch (are its samples "
                "distinct?) and the layers before this one. The model's weights were left unchanged."
            )
        factor = init_scale / sigma
        kernel = np.asarray(layer.kernel, dtype=np.float64) * factor  # broadcasts over the last (unit) axis
        layer.kernel.assign(kernel.astype(layer.kernel.dtype))
        if layer.bias is not None:
            layer.bias.assign((-mu * factor).astype(layer.bias.dtype))
        mu_after, sigma_after = _unit_stats(_preactivation(layer, layer_input))
        rows.append((layer.name, type(layer).__name__, int(mu.size), float(np.std(mu)), float(np.mean(sigma)),
                     float(np.std(mu_after)), float(np.mean(sigma_after))))
    return pd.DataFrame(rows, columns=["layer", "class", "units", "mean_before", "std_before", "mean_after",
                                       "std_after"])


def unit_moments(model, batch) -> pd.DataFrame:
    """Mean and standard deviation of every unit's pre-activation on ``batch``, per Dense/Conv layer.

    The model is not changed. Returns one row per (layer, unit): ``layer``, ``unit``
    (index of the output channel), ``mean`` and ``std`` (over the batch and, for a
    convolution, the positions).
    """
    keras = quiet_tensorflow()
    inp = model_input(keras, model)
    batch = as_batch(batch, inp)
    layers = _layers(keras, model)
    if not layers:
        raise ValueError(f"model {model.name!r} has no layer of the supported classes {SUPPORTED_LAYERS}")
    probe = keras.Model(inp, {layer.name: layer.input for layer in layers})
    inputs = probe(batch, training=False)
    frames = []
    for layer in layers:
        mu, sigma = _unit_stats(_preactivation(layer, inputs[layer.name]))
        frames.append(pd.DataFrame({"layer": layer.name, "unit": np.arange(mu.size), "mean": mu, "std": sigma}))
    return pd.concat(frames, ignore_index=True)
