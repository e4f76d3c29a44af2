"""Residual networks without normalization: builders, schemes and the variance recursion.

A residual block adds a branch to its input, ``x_{l+1} = x_l + F(x_l)``. With
independent weights the two terms are uncorrelated, so the mean square of the
stream follows ``q_{l+1} = q_l + E[F(x_l)^2]``: the variance can only grow. The
builders here make one kind of block, a pre-activation MLP branch of two layers
(``m = 2``),

    ``F(x) = W2 relu(W1 relu(x))``,

and initialise it with one of the :data:`SCHEMES`:

``"he"``
    He-normal ``W1`` and ``W2``: each branch returns the variance it received, so
    ``q_{l+1} = 2 q_l`` and the stream doubles per block (:func:`variance_recursion`).
``"scaled"``
    He-normal ``W2`` and ``W1`` multiplied by ``L^(-1/(2m-2))`` (Fixup's factor, with
    ``L`` blocks), but no zero layer: ``q_{l+1} = q_l (1 + 1/L)``, at most ``e``
    times the input after ``L`` blocks.
``"fixup"``
    Fixup (Zhang, Dauphin & Ma, 2019): ``W1`` He-normal times ``L^(-1/(2m-2))``
    (:func:`fixup_scale`), the last layer ``W2`` of every branch and the output
    layer zero, a scalar bias before each layer and activation of the branch and a
    scalar multiplier (1) after it. At initialization every block is the identity.
``"skipinit"``
    SkipInit (De & Smith, 2020), called ReZero by Bachlechner et al. (2020): He
    branches multiplied by a trainable scalar initialised to 0: the identity at
    initialization, and the scalar learns how much of each branch to let in.
``"zero_gamma"``
    BatchNorm after each branch layer (``W1 -> BN -> relu -> W2 -> BN``) with the
    branch's last BatchNorm scale ``gamma`` initialised to 0 (Goyal et al., 2017):
    the identity at initialization, normalized afterwards.

:func:`layer_moments` measures the mean and variance of any named layers' outputs
on a batch (the residual stream after each block, with :func:`stream_layers`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._model_batch import as_batch, model_input
from .._validation import check_choice, check_positive_float, check_positive_int
from ..settings import quiet_tensorflow

__all__ = [
    "SCHEMES",
    "fixup_scale",
    "variance_recursion",
    "resnet_mlp",
    "stream_layers",
    "layer_moments",
    "reinitialize",
    "train_seeds",
]

SCHEMES = ("he", "scaled", "fixup", "skipinit", "zero_gamma")
"""Initialization schemes of :func:`resnet_mlp` (see the module docstring)."""


def fixup_scale(num_blocks: int, layers_per_branch: int = 2) -> float:
    """Fixup's factor ``L^(-1/(2m-2))`` for ``L`` residual branches of ``m`` layers each.

    Zhang et al. (2019), Fixup rule 2: scale the He-initialised layers of each branch
    (all but the last, which is set to zero) by this factor, so that the update of a
    whole network of ``L`` blocks by one SGD step stays of order one whatever ``L``.
    ``m`` must be at least 2 (a branch of one layer would be all zero).
    """
    num_blocks = check_positive_int(num_blocks, "num_blocks")
    layers_per_branch = check_positive_int(layers_per_branch, "layers_per_branch")
    if layers_per_branch < 2:
        raise ValueError(f"layers_per_branch must be at least 2 (Fixup zeroes the last layer), got {layers_per_branch}")
    return float(num_blocks ** (-1.0 / (2 * layers_per_branch - 2)))


def variance_recursion(num_blocks: int, scheme: str, *, input_var: float = 1.0) -> np.ndarray:
    """Mean square of the residual stream after each block, predicted at initialization.

    Returns ``num_blocks + 1`` values: the input's ``input_var`` and the value after
    every block of :func:`resnet_mlp` with ``scheme``, for infinitely wide layers:
    ``2^l`` for ``"he"``, ``(1 + 1/L)^l`` for ``"scaled"``, 1 for the three schemes whose
    blocks start as the identity. Times ``input_var``.
    """
    num_blocks = check_positive_int(num_blocks, "num_blocks")
    check_choice(scheme, "scheme", SCHEMES)
    input_var = check_positive_float(input_var, "input_var")
    blocks = np.arange(num_blocks + 1, dtype=float)
    if scheme == "he":
        growth = 2.0
    elif scheme == "scaled":
        growth = 1.0 + fixup_scale(num_blocks) ** 2
    else:
        growth = 1.0
    return input_var * growth**blocks


_classes: dict = {}


def _block_class(keras):
    """The residual block as one Keras layer (one layer per block keeps a deep model quick to build and trace)."""
    if "ResidualBlock" in _classes:
        return _classes["ResidualBlock"]
    ops = keras.ops

    class ResidualBlock(keras.layers.Layer):
        """``x + F(x)`` with ``F(x) = W2 relu(W1 relu(x))`` initialised by ``scheme`` (see the module docstring).

        Variables: ``w1``, ``w2`` (kernels); ``b1``, ``b2`` (the layers' biases, "he", "scaled",
        "skipinit"); Fixup's scalar biases ``c1`` .. ``c4`` and multiplier ``scale``; SkipInit's
        ``alpha``; zero-gamma's BatchNorm sublayers ``bn1``, ``bn2``. ``variable_initializers``
        maps each variable's attribute name to its initializer (used by :func:`reinitialize`).
        """

        def __init__(self, width, scheme, first_scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.width, self.scheme, self.first_scale = int(width), scheme, float(first_scale)
            if scheme == "zero_gamma":
                self.bn1 = keras.layers.BatchNormalization(name="bn_1")
                self.bn2 = keras.layers.BatchNormalization(gamma_initializer="zeros", name="bn_2")
                self.initialized_sublayers = (self.bn1, self.bn2)
            else:
                self.initialized_sublayers = ()

        def build(self, input_shape):
            n, scheme = self.width, self.scheme
            inits = {
                "w1": keras.initializers.VarianceScaling(2.0 * self.first_scale**2, "fan_in", "truncated_normal"),
                "w2": keras.initializers.Zeros() if scheme == "fixup" else keras.initializers.HeNormal(),
            }
            if scheme in ("he", "scaled", "skipinit"):
                inits.update(b1=keras.initializers.Zeros(), b2=keras.initializers.Zeros())
            if scheme == "fixup":
                inits.update({f"c{i}": keras.initializers.Zeros() for i in range(1, 5)})
                inits["scale"] = keras.initializers.Ones()
            if scheme == "skipinit":
                inits["alpha"] = keras.initializers.Zeros()
            self.variable_initializers = inits
            for name, init in inits.items():
                shape = (n, n) if name in ("w1", "w2") else (n,) if name in ("b1", "b2") else ()
                setattr(self, name, self.add_weight(shape=shape, initializer=init, name=name))
            if scheme == "zero_gamma":
                self.bn1.build((None, n))
                self.bn2.build((None, n))

        def call(self, x, training=None):
            scheme = self.scheme
            h = ops.relu(x)
            if scheme == "fixup":
                h = h + self.c1
            h = ops.matmul(h, self.w1)
            if scheme in ("he", "scaled", "skipinit"):
                h = h + self.b1
            if scheme == "zero_gamma":
                h = self.bn1(h, training=training)
            if scheme == "fixup":
                h = h + self.c2
            h = ops.relu(h)
            if scheme == "fixup":
                h = h + self.c3
            h = ops.matmul(h, self.w2)
            if scheme in ("he", "scaled", "skipinit"):
                h = h + self.b2
            if scheme == "zero_gamma":
                h = self.bn2(h, training=training)
            if scheme == "fixup":
                h = h * self.scale + self.c4
            if scheme == "skipinit":
                h = h * self.alpha
            return x + h

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "width": self.width, "scheme": self.scheme,
                    "first_scale": self.first_scale}

    _classes["ResidualBlock"] = ResidualBlock
    return ResidualBlock


def resnet_mlp(
    input_dim: int,
    width: int,
    num_blocks: int,
    *,
    scheme: str = "fixup",
    output_units: int = 1,
    output_activation: str | None = None,
    name: str | None = None,
):
    """A residual MLP ``input -> Dense(width) -> num_blocks x (x + F(x)) -> relu -> output``.

    Every branch is ``F(x) = W2 relu(W1 relu(x))`` (two layers, ``m = 2``), with
    ``scheme`` one of :data:`SCHEMES` (see the module docstring). The stem
    (``Dense(width)``, He normal, no activation) maps the input to the stream; block
    ``i`` is one layer named ``block_{i}`` (``i = 1 .. num_blocks``) whose output is the
    stream after it, with its weights as attributes (``w1``, ``w2``, ``alpha``, ``bn2`` ...);
    the stem's output is ``stem`` (:func:`stream_layers`). The output layer is
    Glorot uniform (Keras' default), zero for Fixup. Returns an uncompiled model.
    """
    keras = quiet_tensorflow()
    input_dim = check_positive_int(input_dim, "input_dim")
    width = check_positive_int(width, "width")
    num_blocks = check_positive_int(num_blocks, "num_blocks")
    check_choice(scheme, "scheme", SCHEMES)
    output_units = check_positive_int(output_units, "output_units")
    if name is None:
        name = f"resnet_{scheme}_{num_blocks}"
    Block = _block_class(keras)
    first_scale = fixup_scale(num_blocks) if scheme in ("scaled", "fixup") else 1.0
    inputs = keras.Input((input_dim,), name="inputs")
    x = keras.layers.Dense(width, kernel_initializer=keras.initializers.HeNormal(), name="stem")(inputs)
    for i in range(1, num_blocks + 1):
        x = Block(width, scheme, first_scale, name=f"block_{i}")(x)
    x = keras.layers.Activation("relu", name="final_relu")(x)
    outputs = keras.layers.Dense(output_units, activation=output_activation,
                                 kernel_initializer="zeros" if scheme == "fixup" else "glorot_uniform", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def stream_layers(model) -> list[str]:
    """Names of the residual stream's layers of a :func:`resnet_mlp` model: ``stem``, ``block_1``, ..."""
    keras = quiet_tensorflow()
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model built by resnet_mlp, got {type(model).__name__}")
    names = [layer.name for layer in model.layers]
    if "stem" not in names:
        raise ValueError(f"model {model.name!r} has no layer named 'stem': build it with residual.resnet_mlp")
    blocks = sorted((n for n in names if n.startswith("block_") and n[6:].isdigit()), key=lambda n: int(n[6:]))
    return ["stem"] + blocks


def layer_moments(model, x, layers, *, training: bool = False) -> pd.DataFrame:
    """Mean, variance and mean square of the outputs of the named ``layers`` on batch ``x``.

    Parameters
    ----------
    model : keras.Model
        A built functional or Sequential model with one input.
    x : array_like
        A batch of model inputs (finite values).
    layers : sequence of str
        Names of the layers whose outputs are measured, in the order wanted.
    training : bool
        Run the model in training mode (dropout active, BatchNorm on batch statistics).

    Returns
    -------
    pandas.DataFrame
        One row per layer, columns ``position`` (0, 1, ...), ``layer``, ``mean``, ``var``
        (over all entries of the output) and ``mean_square``. Non-finite outputs give
        inf/NaN in their row; nothing is replaced.
    """
    keras = quiet_tensorflow()
    inp = model_input(keras, model)
    batch = as_batch(x, inp)
    if isinstance(layers, str) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a sequence of layer names, got {layers!r}")
    layers = list(layers)
    if not layers:
        raise ValueError("layers must name at least one layer, got an empty sequence")
    known = {layer.name for layer in model.layers}
    missing = [n for n in layers if n not in known]
    if missing:
        raise ValueError(f"layers must be names of layers of model {model.name!r}; unknown: {missing}")
    if not isinstance(training, bool):
        raise TypeError(f"training must be True or False, got {training!r}")
    probe = keras.Model(inp, [model.get_layer(n).output for n in layers])
    outputs = probe(batch, training=training)
    if len(layers) == 1:
        outputs = [outputs]
    rows = []
    with np.errstate(over="ignore", invalid="ignore"):
        for i, (n, out) in enumerate(zip(layers, outputs)):
            a = np.asarray(out, dtype=np.float64)
            rows.append((i, n, float(a.mean()), float(a.var()), float(np.mean(a * a))))
    return pd.DataFrame(rows, columns=["position", "layer", "mean", "var", "mean_square"])


_INITIALIZED = ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "scale")


def reinitialize(model, seed) -> int:
    """Draw every weight of ``model`` afresh from its layer's own initializer, seeded; return the count.

    A deep model costs seconds to build and to trace for training; training it from
    several seeds needs only new initial weights. Every variable ``kernel``, ``bias``,
    ``gamma``, ``beta``, ``moving_mean``, ``moving_variance`` or ``scale`` of a layer
    that has the matching ``<name>_initializer`` (Keras' Dense, Conv, BatchNormalization),
    and every variable a layer lists in a ``variable_initializers`` mapping (this module's
    residual blocks, and their ``initialized_sublayers``), is assigned a new draw of a
    copy of that initializer with its own seed derived from ``seed``. Constant
    initializers give their constant back (a trained BatchNorm ``gamma`` returns to 1).
    """
    keras = quiet_tensorflow()
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    count = 0
    targets = []
    for layer in model.layers:
        targets += [layer, *getattr(layer, "initialized_sublayers", ())]
    for layer in targets:
        explicit = getattr(layer, "variable_initializers", None)
        if explicit is not None:
            pairs = [(getattr(layer, name), init) for name, init in explicit.items()]
        else:
            pairs = [(getattr(layer, name, None), getattr(layer, f"{name}_initializer", None)) for name in _INITIALIZED]
        for variable, initializer in pairs:
            if variable is None or initializer is None or not hasattr(variable, "assign"):
                continue
            config = initializer.get_config()
            if "seed" in config:
                config = {**config, "seed": int(rng.integers(2**31 - 1))}
            fresh = initializer.__class__.from_config(config)
            variable.assign(fresh(tuple(variable.shape), dtype=variable.dtype))
            count += 1
    return count


def train_seeds(model, x, y, *, seeds=(0, 1, 2), epochs: int, batch_size: int = 64, learning_rate: float = 0.01,
                momentum: float = 0.9, loss: str = "mse", initialize=None, validation_data=None) -> pd.DataFrame:
    """Train ``model`` once per seed with SGD + momentum, each time from fresh weights.

    The model is compiled once and traced once; before every seed its weights are
    redrawn (:func:`reinitialize`) and the optimizer's state is reset; the batch order
    of every epoch is a permutation drawn by NumPy from the seed (Keras' own seed is
    left alone: setting it again would retrace the training step). ``initialize``, if given, is called as
    ``initialize(model, seed)`` after the redraw, for a data-dependent initialization
    (LSUV, :func:`initcourse.kerastools.datadep.weightnorm_init`). A run whose loss becomes non-finite is stopped at
    that step. Returns one row per (seed, epoch): ``seed``, ``epoch`` (from 1) and
    ``loss`` (the training loss of the epoch; inf/NaN for a diverged run, whose
    last epoch is the one where it diverged). With ``validation_data=(x_val, y_val)``
    a column ``val_loss`` holds the loss on it in inference mode (dropout off) after
    the run's last epoch (on every row of the run).
    """
    keras = quiet_tensorflow()
    from .models import compile_model

    if isinstance(seeds, (int, np.integer)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a sequence of non-negative integers, got {seeds!r}")
    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty sequence of distinct integers, got {seeds!r}")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    inp = model_input(keras, model)
    x = as_batch(x, inp)
    y = np.asarray(y)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have one row per sample of x ({x.shape[0]}), got {y.shape[0]}")
    if initialize is not None and not callable(initialize):
        raise TypeError(f"initialize must be None or a callable initialize(model, seed), got {initialize!r}")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be None or a pair (x_val, y_val)")
        x_val, y_val = as_batch(validation_data[0], inp), np.asarray(validation_data[1])
        if y_val.shape[0] != x_val.shape[0]:
            raise ValueError(f"validation_data's y must have one row per sample of its x ({x_val.shape[0]}), "
                             f"got {y_val.shape[0]}")
    compile_model(model, loss=loss, learning_rate=learning_rate, momentum=momentum)
    optimizer = model.optimizer

    class _StopOnNonFinite(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if logs and not np.isfinite(float(logs.get("loss", 0.0))):
                self.model.stop_training = True

    rows = []
    for seed in seeds:
        # Keras' global seed is set once, before the first run: setting it again would make TensorFlow trace
        # the training step anew. The batch order of each run comes from NumPy, seeded by the run's seed.
        order_rng = np.random.default_rng(int(seed))
        reinitialize(model, int(seed))
        if initialize is not None:
            initialize(model, int(seed))
        for variable in optimizer.variables:
            if variable.name != "learning_rate":
                variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
        losses = []
        for _ in range(epochs):
            order = order_rng.permutation(x.shape[0])
            history = model.fit(x[order], y[order], epochs=1, batch_size=batch_size, shuffle=False, verbose=0,
                                callbacks=[_StopOnNonFinite()])
            losses.append(float(history.history["loss"][-1]))
            if not np.isfinite(losses[-1]):
                break
        val = np.nan
        if validation_data is not None:
            val = float(model.evaluate(x_val, y_val, batch_size=max(batch_size, 256), verbose=0))
        for epoch, value in enumerate(losses, start=1):
            rows.append((int(seed), epoch, value, val))
    frame = pd.DataFrame(rows, columns=["seed", "epoch", "loss", "val_loss"])
    return frame if validation_data is not None else frame.drop(columns="val_loss")
