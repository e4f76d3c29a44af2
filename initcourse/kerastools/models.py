"""Keras 3 model builders used across the course.

All builders start from ``keras.Input`` (Keras 3 idiom; ``input_shape=`` on a layer
is deprecated) and return an *uncompiled* model; :func:`compile_model` compiles
one with the course's default optimiser, plain SGD with momentum. Plain SGD is
the default because Adam divides every step by a running RMS of the gradient,
which hides the vanishing-gradient problems that several chapters measure.

Kernel initializers may be given as

- a Keras name (``"he_normal"``) or a Keras ``Initializer`` instance;
- a course-only name (``"torch_linear_default"``) or a NumPy initializer function
  from :mod:`initcourse.maths.initializers`, wrapped in
  :class:`initcourse.kerastools.keras_adapter.KerasInitializer`.

An initializer *instance* is cloned for every layer, so two layers never share one
seeded instance by accident (that sharing gives identical kernels; see the
debugging chapter).
"""

from __future__ import annotations

from typing import Sequence

from .._validation import check_positive_float, check_positive_int, check_nonnegative_float
from ..settings import quiet_tensorflow

__all__ = ["resolve_initializer", "mlp", "cifar_cnn", "imdb_rnn", "compile_model"]


def _is_registered_custom(name: str) -> bool:
    """True for a name added with :func:`initcourse.maths.initializers.register`."""
    from ..maths import initializers

    return name in initializers.available() and name not in initializers._BUILTINS


def resolve_initializer(spec):
    """Return a fresh Keras initializer for ``spec`` (see the module docstring)."""
    keras = quiet_tensorflow()
    if isinstance(spec, keras.initializers.Initializer):
        return spec.__class__.from_config(spec.get_config())
    if isinstance(spec, str) and _is_registered_custom(spec):
        # a name the user registered wins over a Keras name it may shadow ("identity")
        from .keras_adapter import KerasInitializer

        return KerasInitializer(spec)
    if isinstance(spec, str):
        try:
            return keras.initializers.get(spec)
        except ValueError:
            pass  # not a Keras name: try the course's own registry below
    if isinstance(spec, str) or callable(spec):
        from .keras_adapter import KerasInitializer

        return KerasInitializer(spec)
    raise TypeError(
        "initializer must be a Keras initializer name or instance, a course initializer name, "
        f"or a callable f(shape, seed=..., dtype=...), got {spec!r}"
    )


def mlp(
    input_dim: int,
    widths: Sequence[int],
    *,
    activation: str = "relu",
    kernel_initializer="glorot_uniform",
    bias_initializer="zeros",
    output_units: int = 1,
    output_activation: str | None = None,
    output_initializer=None,
    batchnorm: bool = False,
    name: str = "mlp",
):
    """A fully connected network ``input_dim -> widths... -> output_units``.

    Parameters
    ----------
    input_dim : int
        Number of input features.
    widths : sequence of int
        Width of every hidden layer (its length is the hidden depth).
    activation : str
        Hidden activation (any Keras activation name).
    kernel_initializer, bias_initializer
        Initializers of the hidden layers (see the module docstring).
    output_units : int
        Width of the output layer.
    output_activation : str or None
        Activation of the output layer (``None``: linear, for regression or logits).
    output_initializer
        Kernel initializer of the output layer; defaults to ``kernel_initializer``.
    batchnorm : bool
        If true, every hidden layer is ``Dense(use_bias=False) -> BatchNormalization
        -> activation``: the bias would be cancelled by BatchNorm's mean subtraction
        (BatchNorm's own shift plays its role). The output layer never gets BatchNorm.
    name : str
        Model name; layers are named ``dense_1``, ``dense_2``, ..., ``output``.
    """
    keras = quiet_tensorflow()
    input_dim = check_positive_int(input_dim, "input_dim")
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) == 0:
        raise ValueError(f"widths must be a non-empty sequence of positive integers, got {widths!r}")
    widths = [check_positive_int(w, f"widths[{i}]") for i, w in enumerate(widths)]
    output_units = check_positive_int(output_units, "output_units")
    if output_initializer is None:
        output_initializer = kernel_initializer

    inputs = keras.Input((input_dim,), name="inputs")
    x = inputs
    for i, width in enumerate(widths, start=1):
        dense = keras.layers.Dense(
            width,
            activation=None if batchnorm else activation,
            use_bias=not batchnorm,
            kernel_initializer=resolve_initializer(kernel_initializer),
            bias_initializer=resolve_initializer(bias_initializer),
            name=f"dense_{i}",
        )
        x = dense(x)
        if batchnorm:
            x = keras.layers.BatchNormalization(name=f"batchnorm_{i}")(x)
            x = keras.layers.Activation(activation, name=f"{activation}_{i}")(x)
    outputs = keras.layers.Dense(
        output_units,
        activation=output_activation,
        kernel_initializer=resolve_initializer(output_initializer),
        bias_initializer="zeros",
        name="output",
    )(x)
    return keras.Model(inputs, outputs, name=name)


def cifar_cnn(
    *,
    kernel_initializer="glorot_uniform",
    input_shape: Sequence[int] = (32, 32, 3),
    num_classes: int = 10,
    name: str = "cifar_cnn",
):
    """The small CNN of the CIFAR-10 case study (two conv/pool blocks, Dense 64, softmax).

    The same ``kernel_initializer`` is used for every layer, as in the experiment
    it reproduces, so the comparison isolates the initialization scheme.
    """
    keras = quiet_tensorflow()
    num_classes = check_positive_int(num_classes, "num_classes")
    input_shape = tuple(check_positive_int(d, "input_shape") for d in input_shape)
    layers = keras.layers

    def init():
        return resolve_initializer(kernel_initializer)

    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(32, 3, activation="relu", kernel_initializer=init(), name="conv_1")(inputs)
    x = layers.MaxPooling2D(2, name="pool_1")(x)
    x = layers.Conv2D(64, 3, activation="relu", kernel_initializer=init(), name="conv_2")(x)
    x = layers.MaxPooling2D(2, name="pool_2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", kernel_initializer=init(), name="dense")(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_initializer=init(), name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def imdb_rnn(
    *,
    vocab_size: int = 10000,
    sequence_length: int = 200,
    embedding_dim: int = 32,
    units: int = 32,
    embeddings_initializer="uniform",
    kernel_initializer="glorot_uniform",
    recurrent_initializer="orthogonal",
    mask_zero: bool = False,
    name: str = "imdb_rnn",
):
    """Embedding -> SimpleRNN -> sigmoid sentiment classifier (the IMDB case study).

    The defaults are Keras' own layer defaults: ``"uniform"`` (U(-0.05, 0.05)) for
    the embedding, ``glorot_uniform`` for the input kernel and ``orthogonal`` for the
    recurrent kernel. Keras 3 removed ``Embedding(input_length=...)``: the sequence
    length comes from ``keras.Input``. With ``mask_zero=True`` the embedding marks
    token id 0 (padding) as masked and the RNN skips those steps, carrying its state
    over them, so the last state is the one after the last word wherever the padding is.
    """
    keras = quiet_tensorflow()
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    sequence_length = check_positive_int(sequence_length, "sequence_length")
    embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
    units = check_positive_int(units, "units")
    if not isinstance(mask_zero, bool):
        raise TypeError(f"mask_zero must be True or False, got {mask_zero!r}")
    layers = keras.layers
    inputs = keras.Input((sequence_length,), dtype="int32", name="tokens")
    x = layers.Embedding(
        vocab_size, embedding_dim, embeddings_initializer=resolve_initializer(embeddings_initializer),
        mask_zero=mask_zero, name="embedding",
    )(inputs)
    x = layers.SimpleRNN(
        units,
        kernel_initializer=resolve_initializer(kernel_initializer),
        recurrent_initializer=resolve_initializer(recurrent_initializer),
        name="rnn",
    )(x)
    outputs = layers.Dense(1, activation="sigmoid", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


OPTIMIZERS = ("sgd", "adam")


def compile_model(
    model,
    *,
    loss: str = "mse",
    optimizer: str = "sgd",
    learning_rate: float = 0.01,
    momentum: float = 0.9,
    metrics: Sequence[str] = (),
    clipnorm: float | None = None,
):
    """Compile ``model`` with SGD+momentum (default) or Adam and return it.

    ``clipnorm`` (off by default) clips each gradient's norm; the course leaves it
    off so that exploding gradients stay visible.
    """
    keras = quiet_tensorflow()
    from .._validation import check_choice

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model (e.g. from initcourse.kerastools.models.mlp), got {type(model).__name__}")
    try:
        known_loss = loss is not None and keras.losses.get(loss) is not None
    except (ValueError, TypeError):
        known_loss = False
    if not known_loss:
        raise ValueError(
            f"loss must be a Keras loss name such as 'mse' or 'sparse_categorical_crossentropy', "
            f"a keras.losses.Loss or a callable, got {loss!r}"
        )
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    learning_rate = check_positive_float(learning_rate, "learning_rate")
    momentum = check_nonnegative_float(momentum, "momentum")
    extra = {} if clipnorm is None else {"clipnorm": check_positive_float(clipnorm, "clipnorm")}
    if optimizer == "sgd":
        opt = keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum, **extra)
    else:
        opt = keras.optimizers.Adam(learning_rate=learning_rate, **extra)
    model.compile(optimizer=opt, loss=loss, metrics=list(metrics))
    # Create the optimizer's variables now: otherwise fit() traces its training step
    # twice (once more after the first trace creates them). Results are unchanged.
    opt.build(model.trainable_variables)
    return model
