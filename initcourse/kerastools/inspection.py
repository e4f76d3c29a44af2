"""Look inside a Keras model: weight gradients, identical units, weights during training.

The functions answer three questions that come up whenever a network does not
learn:

- *Which weights get a gradient at all?* :func:`weight_gradients` computes the
  gradient of the loss with respect to every trainable weight on one batch;
  :func:`gradient_table` summarises it per weight (norm, largest entry, fraction
  of entries that are exactly zero).
- *Are the units of a layer different from each other?* :func:`unit_spread`
  is zero exactly when every unit of a layer has the same incoming weights;
  :func:`numerical_rank` gives the rank of a kernel (1 when all units are equal).
- *How do the weights move during training?* :func:`record_weights` trains a
  compiled model and returns per-epoch statistics of every weight.

Weights are named by their Keras path, ``"<layer>/kernel"`` and ``"<layer>/bias"``.
Units are along the last axis of a weight, as in Keras' layout: a Dense kernel is
``(in, out)`` (column ``j`` holds the incoming weights of unit ``j``), a
convolution kernel ``(*spatial, in, out)``, a bias ``(out,)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._model_batch import in_input_dtype
from .._validation import check_positive_float, check_positive_int
from ..settings import quiet_tensorflow

__all__ = [
    "GRADIENT_COLUMNS",
    "RECORD_COLUMNS",
    "weight_gradients",
    "gradient_table",
    "unit_spread",
    "numerical_rank",
    "record_weights",
]

GRADIENT_COLUMNS = ("weight", "shape", "norm", "max_abs", "frac_zero")
"""Columns of :func:`gradient_table`."""

RECORD_COLUMNS = ("epoch", "weight", "norm", "max_abs_change", "unit_spread", "rank")
"""Columns of :func:`record_weights`."""


def weight_gradients(model, x, y, *, loss="mse") -> dict[str, np.ndarray]:
    """Gradient of the loss on one batch with respect to every trainable weight.

    One forward and backward pass (a ``tf.GradientTape``), in training mode as in a
    training step of ``model.fit``. The model is not changed.

    Parameters
    ----------
    model : keras.Model
        A built model.
    x, y : array_like
        The batch: inputs and targets, the same number of samples (at least one).
    loss : str, keras.losses.Loss or callable, default "mse"
        Anything ``keras.losses.get`` accepts. A per-sample loss is averaged over
        the batch, which is Keras' default reduction, so the gradient is the one
        ``model.fit`` would use for this batch (without regularization terms).

    Returns
    -------
    dict of str to numpy.ndarray
        ``{"<layer>/kernel": gradient, "<layer>/bias": gradient, ...}`` in the
        order of ``model.trainable_weights``; each gradient has its weight's shape.
        A weight the loss does not depend on at all gets a zero array.

    Examples
    --------
    >>> grads = weight_gradients(model, x, y)          # doctest: +SKIP
    >>> grads["dense_1/kernel"].shape                  # doctest: +SKIP
    (16, 32)
    """
    keras = quiet_tensorflow()
    import tensorflow as tf

    x, y = _check_batch(keras, model, x, y)
    loss_fn = _check_loss(keras, loss)
    weights = model.trainable_weights
    # A training-mode call updates non-trainable state (BatchNormalization's moving
    # statistics): keep a copy and put it back so the model is left as it was.
    state = [v.numpy() for v in model.non_trainable_weights]
    try:
        with tf.GradientTape() as tape:
            value = keras.ops.mean(loss_fn(y, model(x, training=True)))
        grads = tape.gradient(value, weights, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    finally:
        for v, saved in zip(model.non_trainable_weights, state):
            v.assign(saved)
    # An Embedding's gradient is sparse (tf.IndexedSlices: the rows of the batch's
    # tokens): made dense, it has the weight's shape like every other gradient.
    return {
        w.path: np.asarray(tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g)
        for w, g in zip(weights, grads)
    }


def gradient_table(model, x, y, *, loss="mse") -> pd.DataFrame:
    """Per-weight summary of :func:`weight_gradients`.

    Parameters are those of :func:`weight_gradients`.

    Returns
    -------
    pandas.DataFrame
        One row per trainable weight, columns ``weight`` (Keras path), ``shape``,
        ``norm`` (Euclidean norm of the whole gradient), ``max_abs`` (largest
        absolute entry) and ``frac_zero`` (fraction of entries exactly 0.0:
        1.0 means this weight cannot move under a gradient step).
    """
    rows = [
        (name, g.shape, float(np.linalg.norm(g)), float(np.max(np.abs(g))), float(np.mean(g == 0)))
        for name, g in weight_gradients(model, x, y, loss=loss).items()
    ]
    return pd.DataFrame(rows, columns=list(GRADIENT_COLUMNS))


def unit_spread(weights) -> float:
    """Largest difference between two units' corresponding incoming weights.

    With units along the last axis (see the module docstring) this is
    ``max |w[..., i] - w[..., j]|`` over all pairs of units ``i, j`` and all
    positions ``...``; it equals the largest range ``max - min`` across units.

    Parameters
    ----------
    weights : array_like
        A kernel or bias with at least one dimension, e.g. a Dense kernel
        ``(in, out)``.

    Returns
    -------
    float
        ``0.0`` exactly when every unit has the same incoming weights (always the
        case for a layer with one unit); ``nan`` if the weights contain NaN.

    Examples
    --------
    >>> unit_spread(np.full((3, 4), 0.1))
    0.0
    >>> unit_spread([[0.0, 1.0], [2.0, -1.0]])
    3.0
    """
    w = _as_units_matrix(weights, "weights", min_ndim=1)
    return float(np.max(np.ptp(w, axis=1)))


def numerical_rank(kernel, *, rtol=None) -> int:
    """Numerical rank of a kernel viewed as a matrix (inputs x units).

    The kernel is reshaped to ``(prod(shape[:-1]), shape[-1])`` (a convolution
    kernel's receptive field flattened, as in Keras' fan computation) and its
    singular values are counted above the tolerance ``rtol * largest``.

    Parameters
    ----------
    kernel : array_like
        A weight with at least two dimensions.
    rtol : float or None
        Relative tolerance. ``None`` uses ``max(rows, cols) * eps`` with ``eps``
        the machine epsilon of the kernel's float type (NumPy's and LAPACK's
        convention): singular values this small are indistinguishable from
        rounding errors of the matrix entries.

    Returns
    -------
    int
        ``0`` for an all-zero kernel, ``1`` when all units are proportional
        (in particular identical), ``min(rows, cols)`` at full rank.

    Raises
    ------
    ValueError
        If the kernel contains NaN or inf (a diverged run): its rank is undefined.
    """
    w = _as_units_matrix(kernel, "kernel", min_ndim=2)
    if rtol is not None:
        rtol = check_positive_float(rtol, "rtol")
    if not np.all(np.isfinite(w)):
        raise ValueError("kernel contains NaN or inf (a diverged run?): its numerical rank is undefined")
    if not np.issubdtype(w.dtype, np.floating):
        w = w.astype(np.float64)
    elif w.dtype.itemsize < 4:  # LAPACK has no float16: compute in float32, tolerance of float16
        if rtol is None:
            rtol = max(w.shape) * float(np.finfo(w.dtype).eps)
        w = w.astype(np.float32)
    try:
        return int(np.linalg.matrix_rank(w, rtol=rtol))
    except np.linalg.LinAlgError:  # SVD did not converge (extreme but finite entries)
        return int(np.linalg.matrix_rank(w.astype(np.float64) / np.max(np.abs(w)), rtol=rtol))


def record_weights(model, x, y, *, epochs, batch_size=32, shuffle=True, rtol=None) -> pd.DataFrame:
    """Train a compiled model with ``model.fit`` and record its weights every epoch.

    The model is trained in place (as ``model.fit`` would, silently). Statistics
    are taken before training (epoch 0) and after every epoch.

    Parameters
    ----------
    model : keras.Model
        A compiled model (e.g. from :func:`initcourse.kerastools.models.compile_model`).
    x, y : array_like
        Training inputs and targets, the same number of samples.
    epochs : int
        Number of epochs to train.
    batch_size : int, default 32
        Mini-batch size, passed to ``model.fit``.
    shuffle : bool, default True
        Passed to ``model.fit``.
    rtol : float or None
        Tolerance of :func:`numerical_rank`.

    Returns
    -------
    pandas.DataFrame
        One row per (epoch, weight), for all weights of the model (trainable or
        not), columns

        ``epoch``
            0 (before training) to ``epochs``;
        ``weight``
            Keras path, ``"<layer>/kernel"``;
        ``norm``
            Euclidean norm of the weight;
        ``max_abs_change``
            largest ``|w - w_initial|``; exactly ``0.0`` if and only if the weight
            equals its initial value bit for bit (the difference of two
            different finite floats is never zero);
        ``unit_spread``
            :func:`unit_spread` of the weight;
        ``rank``
            :func:`numerical_rank` for weights with two or more dimensions,
            missing (``<NA>``) for biases and other vectors, and for weights
            that hold NaN or inf (a run that diverged: its rows are kept, with
            ``norm`` inf or NaN).
    """
    keras = quiet_tensorflow()
    if not getattr(model, "compiled", False):
        raise ValueError(
            "model must be compiled before training; use initcourse.kerastools.models.compile_model(model) "
            "or model.compile(...)"
        )
    x, y = _check_batch(keras, model, x, y)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    if rtol is not None:
        rtol = check_positive_float(rtol, "rtol")

    initial = {w.path: np.array(w.numpy()) for w in model.weights}
    rows = []

    def record(epoch: int) -> None:
        for w in model.weights:
            value = np.asarray(w.numpy())
            finite = bool(np.all(np.isfinite(value)))
            if not finite:  # a diverged run: statistics in float64, inf/NaN where they are
                value = value.astype(np.float64)
            rank = numerical_rank(value, rtol=rtol) if value.ndim >= 2 and finite and value.size else pd.NA
            rows.append(
                (
                    epoch,
                    w.path,
                    float(np.linalg.norm(value.astype(np.float64))),
                    float(np.max(np.abs(value - initial[w.path]), initial=0.0)),
                    unit_spread(value) if value.ndim >= 1 else float("nan"),
                    rank,
                )
            )

    class _Recorder(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            record(epoch + 1)

    record(0)
    model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, verbose=0, callbacks=[_Recorder()])
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    frame["rank"] = frame["rank"].astype("Int64")
    return frame


def _as_units_matrix(weights, name: str, *, min_ndim: int) -> np.ndarray:
    """``weights`` as a 2-D array (positions x units), units on the last axis."""
    w = np.asarray(weights)
    if not np.issubdtype(w.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {w.dtype}")
    if w.ndim < min_ndim:
        need = "a vector or matrix" if min_ndim == 1 else "a matrix (2 or more dimensions)"
        raise ValueError(f"{name} must be {need}, got shape {w.shape}")
    if w.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {w.shape}")
    return w.reshape(-1, w.shape[-1])


def _check_loss(keras, loss):
    """The Keras loss function for ``loss``, or a clear error."""
    try:
        loss_fn = keras.losses.get(loss)
    except (ValueError, TypeError):
        loss_fn = None
    if loss_fn is None or not callable(loss_fn):
        raise ValueError(
            f"loss must be a Keras loss name (e.g. 'mse'), a keras.losses.Loss or a callable, got {loss!r}"
        )
    return loss_fn


def _check_batch(keras, model, x, y):
    """Check that ``model`` is a built Keras model and ``x, y`` a non-empty batch."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ValueError("model must be built (create it from keras.Input, or call it once on data)")
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or len(x) == 0:
        raise ValueError(f"x and y must hold at least one sample, got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same number of samples, got {len(x)} and {len(y)}")
    inputs = getattr(model, "inputs", None)
    if inputs and len(inputs) == 1:
        x = in_input_dtype(x, inputs[0].dtype, "x")
    return x, y
