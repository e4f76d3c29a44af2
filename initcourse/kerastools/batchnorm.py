"""Batch normalization's two modes, and re-estimating its running statistics.

A Keras ``BatchNormalization`` layer normalizes with the statistics of the current
mini-batch in *training mode* and with running averages (``moving_mean``,
``moving_variance``) in *inference mode* (``predict``, ``evaluate`` and the
validation metrics of ``fit``). The running averages start at mean 0 and
variance 1 and follow the batch statistics with ``momentum`` (0.99 by default),
so after a short training they still partly describe the *initial* network.
This module measures what that costs:

- :func:`batchnorm_layers` lists a model's normalization layers, in order;
- :func:`reestimate_statistics` replaces the running statistics by the
  statistics of the layers' inputs over a data set ("precise" statistics, Wu and
  Johnson 2021), layer after layer, and reports how far the old ones were from
  them;
- :func:`predict_with_batch_statistics` predicts in training mode, mini-batch by
  mini-batch, and leaves the running statistics as they were (a plain Keras call
  with ``training=True`` updates them);
- :func:`evaluate_modes` scores one trained model three ways: with the running
  statistics, with re-estimated ones, and with batch statistics;
- :func:`train_and_evaluate_modes` trains a grid of variants over seeds (like
  :func:`initcourse.kerastools.experiments.run_grid`, without its cache) and scores every
  final model with :func:`evaluate_modes`.

Every function that changes statistics for a measurement restores them, except
:func:`reestimate_statistics`, whose purpose is to change them.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import settings
from .._validation import check_choice, check_positive_int

__all__ = [
    "batchnorm_layers",
    "reestimate_statistics",
    "predict_with_batch_statistics",
    "evaluate_modes",
    "train_and_evaluate_modes",
    "MODES",
    "SCORES",
]

MODES = ("running statistics", "re-estimated statistics", "batch statistics")
SCORES = ("accuracy", "mse")


# --------------------------------------------------------------------------- checks


def _check_model(model):
    keras = settings.quiet_tensorflow()
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    return keras


def _check_x(x, name: str = "x") -> np.ndarray:
    try:
        array = np.asarray(x, dtype="float32")
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from None
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(f"{name} must be a non-empty batch of examples (at least 2-D), got shape {array.shape}")
    return array


def _check_batch_size(batch_size, *, allow_none: bool) -> int | None:
    if batch_size is None and allow_none:
        return None
    return check_positive_int(batch_size, "batch_size")


def _batches(n: int, batch_size: int | None):
    step = n if batch_size is None else batch_size
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


# --------------------------------------------------------------------------- layers and statistics


def batchnorm_layers(model) -> list:
    """The ``BatchNormalization`` layers of ``model``, in the model's layer order.

    Layers of nested models are included (depth first). Raises ``ValueError`` if
    there are none.
    """
    _check_model(model)
    found = _find_batchnorm(model)
    if not found:
        raise ValueError(f"model {model.name!r} has no BatchNormalization layer")
    return found


def _find_batchnorm(model) -> list:
    keras = settings.quiet_tensorflow()
    found = []

    def visit(container):
        for layer in container.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                found.append(layer)
            elif isinstance(layer, keras.Model):
                visit(layer)

    visit(model)
    return found


def _save(layers) -> list:
    return [(layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy()) for layer in layers]


def _restore(layers, saved) -> None:
    for layer, (mean, variance) in zip(layers, saved):
        layer.moving_mean.assign(mean)
        layer.moving_variance.assign(variance)


def _reduction_axes(layer, ndim: int) -> tuple[int, ...]:
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    kept = {a % ndim for a in axes}
    return tuple(a for a in range(ndim) if a not in kept)


def reestimate_statistics(model, x, *, batch_size=None) -> pd.DataFrame:
    """Set every BatchNormalization layer's running statistics from data ``x``.

    Layer after layer, in order, the layer's input is computed over ``x`` in
    inference mode (so with the statistics already re-estimated for the layers
    before it) and its running mean and variance are set to the input's mean and
    variance. The weights are not touched.

    Parameters
    ----------
    model : keras.Model
        A functional or sequential model (built) with at least one
        ``BatchNormalization`` layer; modified in place.
    x : array
        Inputs, typically (a sample of) the training data.
    batch_size : int or None
        ``None`` (default): the statistics of all of ``x`` at once (population
        statistics). An integer: the average over mini-batches of that size of each
        batch's mean and (biased) variance, the quantity the running averages of
        training estimate when they have forgotten their start.

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``layer``, ``units``, ``mean_shift`` (the largest
        ``|old mean - new mean| / sqrt(new variance)`` over the units) and
        ``variance_ratio`` (the median over the units of old variance / new
        variance): 0 and 1 when the old running statistics were already right.
    """
    _check_model(model)
    x = _check_x(x)
    batch_size = _check_batch_size(batch_size, allow_none=True)
    keras = settings.quiet_tensorflow()
    rows = []
    for layer in batchnorm_layers(model):
        try:
            inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
            feed = keras.Model(inputs, layer.input)
        except Exception as error:  # a layer used twice, or not reachable from the model's inputs
            raise ValueError(
                f"cannot compute the input of layer {layer.name!r} from the inputs of model {model.name!r}: {error}"
            ) from None
        means, variances = [], []
        for part in _batches(len(x), batch_size):
            z = np.asarray(feed(x[part], training=False), dtype="float64")
            axes = _reduction_axes(layer, z.ndim)
            means.append(z.mean(axis=axes))
            variances.append(z.var(axis=axes))
        mean, variance = np.mean(means, axis=0), np.mean(variances, axis=0)
        old_mean, old_variance = layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy()
        layer.moving_mean.assign(mean.astype(old_mean.dtype))
        layer.moving_variance.assign(variance.astype(old_variance.dtype))
        floor = np.maximum(variance, np.finfo("float32").tiny)
        rows.append({
            "layer": layer.name,
            "units": int(mean.size),
            "mean_shift": float(np.max(np.abs(old_mean - mean) / np.sqrt(floor))),
            "variance_ratio": float(np.median(old_variance / floor)),
        })
    return pd.DataFrame(rows)


def predict_with_batch_statistics(model, x, *, batch_size: int) -> np.ndarray:
    """``model``'s outputs on ``x`` in training mode, mini-batch by mini-batch.

    Each mini-batch of ``batch_size`` consecutive examples (the last one may be
    smaller) is normalized with its own statistics, as during training. The running
    statistics, which such calls update, are restored afterwards. Other layers that
    behave differently in training (dropout) also run in training mode.
    """
    _check_model(model)
    x = _check_x(x)
    batch_size = _check_batch_size(batch_size, allow_none=False)
    layers = batchnorm_layers(model)
    saved = _save(layers)
    try:
        outputs = [np.asarray(model(x[part], training=True)) for part in _batches(len(x), batch_size)]
    finally:
        _restore(layers, saved)
    return np.concatenate(outputs)


def _score(score: str, y, prediction) -> float:
    y = np.asarray(y)
    prediction = np.asarray(prediction, dtype="float64")
    if score == "accuracy":
        labels = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
        return float(np.mean(np.argmax(prediction, axis=-1) == labels))
    return float(np.mean((prediction.reshape(len(y), -1) - y.reshape(len(y), -1)) ** 2))


def evaluate_modes(model, x, y, *, x_reestimate, score: str = "accuracy", batch_size: int = 32) -> dict:
    """Score ``model`` on ``(x, y)`` with three choices of normalization statistics.

    Parameters
    ----------
    model : keras.Model
        A model with BatchNormalization layers; left unchanged.
    x, y : arrays
        The examples to score (e.g. the validation set); ``y`` holds integer class
        labels for ``score="accuracy"`` (the model outputs one score per class) and
        targets for ``score="mse"``.
    x_reestimate : array
        The inputs the statistics are re-estimated on (the training inputs).
    score : {"accuracy", "mse"}
    batch_size : int
        Mini-batch size of the batch-statistics mode (use the training batch size).

    Returns
    -------
    dict
        ``{mode: score}`` for the modes of :data:`MODES`: ``"running statistics"``
        (inference mode as Keras runs it), ``"re-estimated statistics"`` (inference
        mode after :func:`reestimate_statistics` on ``x_reestimate``) and
        ``"batch statistics"`` (:func:`predict_with_batch_statistics`).
    """
    _check_model(model)
    check_choice(score, "score", SCORES)
    x = _check_x(x)
    x_reestimate = _check_x(x_reestimate, "x_reestimate")
    if len(np.asarray(y)) != len(x):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(np.asarray(y))}")
    layers = batchnorm_layers(model)
    result = {
        "running statistics": _score(score, y, model(x, training=False)),
        "batch statistics": _score(score, y, predict_with_batch_statistics(model, x, batch_size=batch_size)),
    }
    saved = _save(layers)
    try:
        reestimate_statistics(model, x_reestimate)
        result["re-estimated statistics"] = _score(score, y, model(x, training=False))
    finally:
        _restore(layers, saved)
    return {mode: result[mode] for mode in MODES}


# --------------------------------------------------------------------------- training


def _check_data(data):
    if all(hasattr(data, name) for name in ("x_train", "y_train", "x_val", "y_val")):
        data = (data.x_train, data.y_train, data.x_val, data.y_val)
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence) or len(data) != 4:
        raise TypeError(f"data must be (x_train, y_train, x_val, y_val) or have those attributes, got {type(data).__name__}")
    if any(part is None for part in data):
        raise ValueError("data: all of x_train, y_train, x_val, y_val are needed")
    return data


def train_and_evaluate_modes(
    build_model: Callable, data, *, variants: Mapping, seeds: Sequence[int] = (0, 1, 2), epochs: int,
    batch_size: int = 32, score: str = "accuracy", record: Callable | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train every variant with every seed; score each final model in every mode.

    Parameters
    ----------
    build_model : callable
        ``build_model(**params)`` returns a compiled ``keras.Model``; called right
        after :func:`initcourse.settings.seed_everything` with the run's seed.
    data : tuple or object with ``x_train, y_train, x_val, y_val``
    variants : mapping
        ``{label: {builder parameter: value}}``.
    seeds : sequence of int
    epochs, batch_size : int
        Passed to ``model.fit`` (with the validation set as ``validation_data``).
    score : {"accuracy", "mse"}
        The score of :func:`evaluate_modes`; models without BatchNormalization get
        only the running-statistics score (the others would be the same).
    record : callable or None
        ``record(model)`` returns a mapping ``{name: number}`` measured on each
        trained model (e.g. a layer's weights); each name becomes a column of
        ``final``.

    Returns
    -------
    history : pandas.DataFrame
        One row per (variant, seed, epoch): ``variant``, ``seed``, ``epoch`` and the
        Keras history (``loss``, ``val_loss``, metrics), the format of
        :func:`initcourse.kerastools.experiments.run_grid` (usable with
        :func:`initcourse.kerastools.experiments.curves`).
    final : pandas.DataFrame
        One row per (variant, seed, mode): ``variant``, ``seed``, ``mode``,
        ``score`` of the trained model on the validation set, and the columns of
        ``record``.

    Notes
    -----
    Keras traces a model's training step the first time the model is fitted, which
    costs more than training a small network. Runs whose models have the same
    architecture and compile settings (initializers aside) are therefore trained on
    one Keras model, loaded each time with the freshly built model's weights and
    optimizer state: the run is the same as with the fresh model (the unit tests
    check it), only faster.
    """
    if not callable(build_model):
        raise TypeError(f"build_model must be callable, got {build_model!r}")
    x_train, y_train, x_val, y_val = _check_data(data)
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError(f"variants must be a non-empty mapping {{label: {{parameter: value}}}}, got {variants!r}")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise TypeError(f"seeds must be a non-empty sequence of non-negative integers, got {seeds!r}")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seeds must be non-negative integers, got {seed!r}")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    check_choice(score, "score", SCORES)
    if record is not None and not callable(record):
        raise TypeError(f"record must be a callable record(model) -> {{name: number}} or None, got {record!r}")
    keras = settings.quiet_tensorflow()
    histories, finals = [], []
    trainers = {}  # one Keras model per architecture: its traced training step is reused
    for label, params in variants.items():
        for seed in seeds:
            settings.seed_everything(int(seed))
            fresh = build_model(**dict(params))
            if not isinstance(fresh, keras.Model) or not getattr(fresh, "compiled", False):
                raise TypeError(f"build_model must return a compiled keras.Model, got {type(fresh).__name__}")
            model = _reuse(trainers, fresh)
            history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                                batch_size=batch_size, verbose=0)
            frame = pd.DataFrame({"epoch": np.arange(1, epochs + 1), **history.history})
            frame.insert(0, "variant", label)
            frame.insert(1, "seed", int(seed))
            histories.append(frame)
            if _find_batchnorm(model):
                scores = evaluate_modes(model, x_val, y_val, x_reestimate=x_train, score=score, batch_size=batch_size)
            else:  # no BatchNormalization: one mode only
                scores = {"running statistics": _score(score, y_val, model(x_val, training=False))}
            extra = {} if record is None else {str(k): float(v) for k, v in dict(record(model)).items()}
            finals += [{"variant": label, "seed": int(seed), "mode": mode, "score": value, **extra}
                       for mode, value in scores.items()]
    return pd.concat(histories, ignore_index=True), pd.DataFrame(finals)


def _without_initializers(config):
    """``config`` without initializers and the optimizer's auto-numbered name."""
    if isinstance(config, dict):
        return {k: _without_initializers(v) for k, v in config.items()
                if not k.endswith("_initializer") and not (k == "name" and "learning_rate" in config)}
    if isinstance(config, (list, tuple)):
        return [_without_initializers(v) for v in config]
    return config


def _signature(model) -> str:
    """What must agree for two compiled models to share one traced training step."""
    return json.dumps({
        "model": _without_initializers(model.get_config()),
        "compile": _without_initializers(model.get_compile_config()),
        "weights": [(w.path, tuple(w.shape), str(w.dtype)) for w in model.weights],
        "optimizer": [(v.path.split("/", 1)[-1], tuple(v.shape)) for v in model.optimizer.variables],
    }, sort_keys=True, default=repr)


def _reuse(trainers: dict, fresh):
    """The model to train for ``fresh``: an earlier model of the same architecture and
    compile settings, given ``fresh``'s weights and optimizer state, or ``fresh``.

    Keras traces a model's training step the first time it is fitted, which costs more
    than training the course's small networks; loading a fresh model's initial state
    into an already-traced one gives the same training run (same weights, same
    optimizer state, same seeded shuffling) without that cost.
    """
    key = _signature(fresh)
    trainer = trainers.get(key)
    if trainer is None:
        trainers[key] = fresh
        return fresh
    trainer.set_weights(fresh.get_weights())
    for target, source in zip(trainer.optimizer.variables, fresh.optimizer.variables):
        target.assign(source)
    return trainer
