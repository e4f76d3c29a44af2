"""The frameworks' default initializers, as tables.

:func:`keras_defaults` reads Keras' defaults from Keras itself: it constructs each
layer with its required arguments only and reads the initializers from the layer's
``get_config()``. Nothing is typed in, so the table follows the installed Keras.

:func:`torch_defaults` states PyTorch's defaults as :mod:`initcourse.maths.initializers`
calls in Keras' layout, one row per parameter of an example layer, with the line of
PyTorch's source that draws it. PyTorch is not a dependency of the course, so these
rows are NumPy mirrors; :func:`torch_mirror` draws them, the unit tests check them
against PyTorch's definitions, and ``make test-torch`` (with the optional ``torch``
extra installed) compares them statistically with real ``torch.nn`` layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ..maths import initializers
from .._validation import check_choice

__all__ = ["KERAS_LAYERS", "TORCH_LAYERS", "keras_defaults", "torch_defaults", "torch_mirror", "recommendations"]

# Each Keras layer with the arguments it cannot be built without.
_KERAS_LAYERS = {
    "Dense": dict(units=8),
    "Conv1D": dict(filters=8, kernel_size=3),
    "Conv2D": dict(filters=8, kernel_size=3),
    "Conv3D": dict(filters=8, kernel_size=3),
    "Embedding": dict(input_dim=100, output_dim=8),
    "SimpleRNN": dict(units=8),
    "LSTM": dict(units=8),
    "GRU": dict(units=8),
    "BatchNormalization": dict(),
    "LayerNormalization": dict(),
    "MultiHeadAttention": dict(num_heads=2, key_dim=4),
}

KERAS_LAYERS = tuple(_KERAS_LAYERS)
"""Layers listed by :func:`keras_defaults`."""

# Arguments that change an initial value without being an initializer.
_KERAS_FLAGS = ("unit_forget_bias",)


def keras_defaults(layers=KERAS_LAYERS) -> pd.DataFrame:
    """Return Keras' default initializers, read from the layers' own configs.

    Parameters
    ----------
    layers : sequence of str
        Keras layer class names from :data:`KERAS_LAYERS`.

    Returns
    -------
    pandas.DataFrame
        One row per initializer argument (and per flag such as LSTM's
        ``unit_forget_bias``), columns

        ``layer``
            Keras class name, e.g. ``"Dense"``;
        ``argument``
            e.g. ``"kernel_initializer"``;
        ``initializer``
            Keras class name of the default, e.g. ``"GlorotUniform"``; for a flag,
            ``None``;
        ``config``
            the initializer's config without its ``seed`` (e.g. ``{"minval":
            -0.05, "maxval": 0.05}``); for a flag, ``{"value": ...}``.
    """
    from ..settings import quiet_tensorflow

    keras = quiet_tensorflow()
    if isinstance(layers, str):
        layers = (layers,)
    rows = []
    for name in layers:
        check_choice(name, "layers", KERAS_LAYERS)
        config = getattr(keras.layers, name)(**_KERAS_LAYERS[name]).get_config()
        for argument, value in config.items():
            if argument.endswith("_initializer") and isinstance(value, dict):
                settings = {k: v for k, v in value.get("config", {}).items() if k != "seed" and v is not None}
                rows.append((name, argument, value["class_name"], settings))
            elif argument in _KERAS_FLAGS:
                rows.append((name, argument, None, {"value": value}))
    return pd.DataFrame(rows, columns=["layer", "argument", "initializer", "config"])


# --------------------------------------------------------------------------------------
# PyTorch (2.x), torch/nn/modules/*.py, reset_parameters / _reset_parameters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TorchParameter:
    layer: str  # PyTorch class, with the example's sizes
    argument: str  # the parameter's name in the module
    initializer: str  # an initcourse.maths.initializers name
    config: dict = field(default_factory=dict)
    shape: tuple = ()  # Keras layout
    pytorch: str = ""  # the call in PyTorch's source
    source: str = ""


def _bias_bound(fan_in: int) -> dict:
    bound = 1.0 / math.sqrt(fan_in)
    return {"minval": -bound, "maxval": bound}


def _torch_parameters() -> list[_TorchParameter]:
    p = _TorchParameter
    linear, conv = "torch/nn/modules/linear.py", "torch/nn/modules/conv.py"
    rnn, mha = "torch/nn/modules/rnn.py", "torch/nn/modules/activation.py"
    kaiming = "kaiming_uniform_(weight, a=math.sqrt(5))"
    bias = "uniform_(bias, -1/math.sqrt(fan_in), 1/math.sqrt(fan_in))"
    a5 = {"a": math.sqrt(5.0)}
    rows = [
        p("Linear(64, 32)", "weight", "torch_kaiming_uniform", a5, (64, 32), kaiming, linear),
        p("Linear(64, 32)", "bias", "random_uniform", _bias_bound(64), (32,), bias, linear),
        p("Conv2d(16, 32, 3)", "weight", "torch_kaiming_uniform", a5, (3, 3, 16, 32), kaiming, conv),
        p("Conv2d(16, 32, 3)", "bias", "random_uniform", _bias_bound(16 * 9), (32,), bias, conv),
        p("Embedding(1000, 16)", "weight", "random_normal", {"mean": 0.0, "stddev": 1.0}, (1000, 16),
          "normal_(weight)", "torch/nn/modules/sparse.py"),
    ]
    for cls, gates in (("LSTM", 4), ("GRU", 3)):
        # every weight and both biases: uniform_(w, -stdv, stdv), stdv = 1/math.sqrt(hidden_size)
        layer, bound = f"{cls}(16, 32)", _bias_bound(32)
        call = "uniform_(weight, -1/math.sqrt(hidden_size), 1/math.sqrt(hidden_size))"
        rows += [
            p(layer, "weight_ih_l0", "random_uniform", bound, (16, gates * 32), call, rnn),
            p(layer, "weight_hh_l0", "random_uniform", bound, (32, gates * 32), call, rnn),
            p(layer, "bias_ih_l0", "random_uniform", bound, (gates * 32,), call, rnn),
            p(layer, "bias_hh_l0", "random_uniform", bound, (gates * 32,), call, rnn),
        ]
    norm = "torch/nn/modules/normalization.py"
    rows += [
        p("BatchNorm2d(32)", "weight", "ones", {}, (32,), "ones_(weight)", "torch/nn/modules/batchnorm.py"),
        p("BatchNorm2d(32)", "bias", "zeros", {}, (32,), "zeros_(bias)", "torch/nn/modules/batchnorm.py"),
        p("BatchNorm2d(32)", "running_mean", "zeros", {}, (32,), "running_mean.zero_()",
          "torch/nn/modules/batchnorm.py"),
        p("BatchNorm2d(32)", "running_var", "ones", {}, (32,), "running_var.fill_(1)", "torch/nn/modules/batchnorm.py"),
        p("LayerNorm(32)", "weight", "ones", {}, (32,), "ones_(weight)", norm),
        p("LayerNorm(32)", "bias", "zeros", {}, (32,), "zeros_(bias)", norm),
        # query, key and value projections stacked: stored (3E, E), fan_in E, fan_out 3E
        p("MultiheadAttention(32, 4)", "in_proj_weight", "torch_xavier_uniform", {"gain": 1.0}, (32, 96),
          "xavier_uniform_(in_proj_weight)", mha),
        p("MultiheadAttention(32, 4)", "in_proj_bias", "zeros", {}, (96,), "constant_(in_proj_bias, 0.0)", mha),
        # out_proj is an nn.Linear: its weight keeps Linear's default, its bias is zeroed
        p("MultiheadAttention(32, 4)", "out_proj.weight", "torch_kaiming_uniform", a5, (32, 32), kaiming, linear),
        p("MultiheadAttention(32, 4)", "out_proj.bias", "zeros", {}, (32,), "constant_(out_proj.bias, 0.0)", mha),
    ]
    return rows


TORCH_LAYERS = ("Linear", "Conv2d", "Embedding", "LSTM", "GRU", "BatchNorm2d", "LayerNorm", "MultiheadAttention")
"""PyTorch modules listed by :func:`torch_defaults`."""


def torch_defaults(layers=TORCH_LAYERS) -> pd.DataFrame:
    """Return PyTorch's default initialization of common layers, as initcourse initializers.

    Parameters
    ----------
    layers : sequence of str
        PyTorch class names from :data:`TORCH_LAYERS`.

    Returns
    -------
    pandas.DataFrame
        One row per parameter of an example layer (its sizes are in ``layer``),
        columns ``layer``, ``argument`` (the parameter's name in the module),
        ``initializer`` (a name for :func:`initcourse.maths.initializers.get`), ``config``
        (its keyword arguments), ``shape`` (Keras layout: PyTorch's ``(out, in,
        *spatial)`` weight is ``(*spatial, in, out)`` here), ``std`` (of the weights,
        from :func:`initcourse.maths.initializers.describe`), ``pytorch`` (the call in
        PyTorch's source) and ``source`` (the file).

    Notes
    -----
    ``nn.Linear`` and ``nn.Conv*d`` draw their weight with ``kaiming_uniform_(a=sqrt(5))``,
    U(±1/sqrt(fan_in)), variance ``1 / (3 fan_in)``: a sixth of He's. The recurrent
    layers draw *every* weight and bias from U(±1/sqrt(hidden_size)), with no
    forget-gate bias, and add two biases (``bias_ih + bias_hh``).
    """
    if isinstance(layers, str):
        layers = (layers,)
    wanted = [check_choice(name, "layers", TORCH_LAYERS) for name in layers]
    rows = []
    for param in _torch_parameters():
        if param.layer.split("(")[0] in wanted:
            std = initializers.describe(param.initializer, param.shape, **param.config)["std"]
            rows.append((param.layer, param.argument, param.initializer, dict(param.config), param.shape, std,
                         param.pytorch, param.source))
    columns = ["layer", "argument", "initializer", "config", "shape", "std", "pytorch", "source"]
    return pd.DataFrame(rows, columns=columns)


def torch_mirror(layer: str, *, seed=None) -> dict:
    """Draw the parameters of a :func:`torch_defaults` example layer with NumPy.

    Parameters
    ----------
    layer : str
        A PyTorch class name from :data:`TORCH_LAYERS`.
    seed : None, int >= 0 or numpy.random.Generator
        As for the initializers; each parameter continues the same stream.

    Returns
    -------
    dict
        ``{argument: numpy.ndarray}`` in Keras' layout.
    """
    from .._validation import as_generator

    table = torch_defaults((layer,))
    rng = as_generator(seed)
    return {
        row.argument: initializers.get(row.initializer)(row.shape, seed=rng, **row.config)
        for row in table.itertuples()
    }


# --------------------------------------------------------------------------------------
# Which initializer for which activation
# --------------------------------------------------------------------------------------

# activation -> (Keras initializer, PyTorch call, reason, chapter that shows it)
_RECOMMENDATIONS = {
    "linear": ("glorot_uniform", "xavier_uniform_(w)", "keeps forward and backward variance, on average", "04_xavier_glorot"),
    "tanh": ("glorot_uniform", "xavier_uniform_(w, gain=calculate_gain('tanh'))",
             "tanh is linear near 0: Glorot's variance keeps signals in its linear range", "04_xavier_glorot"),
    "sigmoid": ("glorot_uniform", "xavier_uniform_(w)", "the convention (gain 1); sigmoid is not zero-centred",
                "04_xavier_glorot"),
    "relu": ("he_normal", "kaiming_normal_(w, nonlinearity='relu')",
             "ReLU zeroes half the signal: twice the variance compensates", "05_he_lecun"),
    "leaky_relu": ("variance_scaling(scale=2/(1+a**2))", "kaiming_normal_(w, a=a, nonlinearity='leaky_relu')",
                   "the negative slope keeps (1 + a**2)/2 of the variance", "05_he_lecun"),
    "selu": ("lecun_normal", "kaiming_normal_(w, nonlinearity='linear')",
             "self-normalization needs variance 1/fan_in exactly", "05_he_lecun"),
    "gelu": ("variance_scaling(scale=gain**2)", "kaiming_normal_(w, nonlinearity='linear'); w *= gain",
             "keeps unit variance at unit variance (gain from the variance map)", "05_he_lecun"),
    "silu": ("variance_scaling(scale=gain**2)", "kaiming_normal_(w, nonlinearity='linear'); w *= gain",
             "keeps unit variance at unit variance (gain from the variance map)", "05_he_lecun"),
}


def recommendations() -> pd.DataFrame:
    """Return the activation -> initializer table of the course, with the gains computed.

    Returns
    -------
    pandas.DataFrame
        Indexed by activation, columns ``gain`` (:func:`initcourse.maths.gains.gain`:
        PyTorch's ``calculate_gain``, or computed for GELU and SiLU), ``keras`` (the
        Keras initializer; ``gain**2`` is the ``scale`` of ``VarianceScaling`` where
        one is needed), ``pytorch`` (the ``torch.nn.init`` call), ``why`` and
        ``chapter``.
    """
    from ..maths.gains import gain

    rows = {}
    for activation, (keras_name, torch_call, why, chapter) in _RECOMMENDATIONS.items():
        g = gain(activation)
        rows[activation] = {"gain": g, "keras": keras_name, "pytorch": torch_call,
                            "why": why, "chapter": chapter}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("activation")
