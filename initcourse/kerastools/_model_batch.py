"""The one input of a Keras model, and a batch checked against it.

Shared by :mod:`initcourse.kerastools.lsuv` and :mod:`initcourse.kerastools.layer_stats`, which both take
a model and a data batch from the user.
"""

from __future__ import annotations

import numpy as np

__all__ = ["model_input", "as_batch", "in_input_dtype"]


def model_input(keras, model):
    """The single symbolic input of a built Sequential or functional model."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    try:
        inputs = model.inputs
    except AttributeError:
        inputs = None
    if not inputs:
        raise ValueError(
            f"model {model.name!r} has no defined input: build it from keras.Input "
            "(Sequential or functional), or call it once on data"
        )
    if len(inputs) != 1:
        raise ValueError(f"model must have exactly one input, got {len(inputs)}")
    return inputs[0]


def as_batch(batch, model_input) -> np.ndarray:
    """Check ``batch`` against the model's input and return it in the input's dtype."""
    try:
        array = np.asarray(batch)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"batch must be a numeric array, got {type(batch).__name__}") from exc
    if array.dtype.kind not in "biuf":
        raise TypeError(f"batch must be a numeric array, got dtype {array.dtype}")
    expected = tuple(model_input.shape)
    if array.ndim != len(expected) or any(
        want is not None and want != got for want, got in zip(expected[1:], array.shape[1:])
    ):
        wanted = ("n",) + tuple("?" if d is None else d for d in expected[1:])
        raise ValueError(
            f"batch must have shape {wanted} to match the model's input, got {array.shape}"
        )
    if array.shape[0] == 0 or array.size == 0:
        raise ValueError(f"batch must hold at least one sample, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("batch must contain only finite values (it has NaN or inf)")
    return in_input_dtype(array, model_input.dtype, "batch")


def in_input_dtype(array, dtype, name: str) -> np.ndarray:
    """``array`` in the dtype of a model input, refusing what the cast would change.

    Keras casts a float batch for an integer input (an ``Embedding``'s token ids)
    by truncation, so ``2.7`` would silently become token ``2``; ids outside the
    integer type would wrap around. Both are refused with a message naming ``name``.
    """
    text = str(dtype)
    target = np.dtype(text if ("int" in text or "float" in text) else "float32")
    array = np.asarray(array)
    if target.kind in "iu" and array.size:
        if array.dtype.kind == "f":
            fractional = array[array != np.round(array)]
            if fractional.size:
                raise ValueError(
                    f"{name} must hold whole numbers for the model's integer input ({target}; token ids), got "
                    f"{fractional.size} fractional value(s) such as {fractional.flat[0]!r}; round them yourself "
                    "(np.rint(x).astype(int)) if that is what you mean"
                )
        info = np.iinfo(target)
        low, high = array.min(), array.max()
        if low < info.min or high > info.max:
            raise ValueError(
                f"{name} must hold values in {info.min}..{info.max} for the model's {target} input, "
                f"got values {low}..{high}"
            )
    return array.astype(target, copy=False)
