"""A small Keras transformer encoder, Pre-LN or Post-LN, for studying the residual stream.

Each of the ``num_layers`` layers has two sublayers, self-attention and a two-layer
feed-forward network (FFN), each with a residual connection. Where the LayerNorm goes
decides what the stream does at initialization:

``norm="post"`` (Vaswani et al., 2017)
    ``x <- LN(x + F(x))``: the stream is renormalized after every sublayer, so its
    variance stays 1, but every gradient goes through all ``2N`` LayerNorms.
``norm="pre"`` (GPT-2; Xiong et al., 2020)
    ``x <- x + F(LN(x))``: the stream is never renormalized. Every sublayer sees a
    normalized input and adds an output of about the same variance ``c``, so the
    stream's variance grows linearly, ``var(x_k) ~ var(x_0) + k c`` after ``k``
    sublayers, and a final LayerNorm precedes the head.

``residual_scaling=True`` applies GPT-2's rule (Radford et al., 2019): the kernels of
the projections that write into the stream (attention output, second FFN layer) are
multiplied by ``1/sqrt(2N)``, so the ``2N`` additions together contribute what one
unscaled sublayer would: ``var(x_{2N}) ~ var(x_0) + c``.

``embedding_scale`` multiplies the token embedding before the first layer; Keras'
default embedding (uniform on [-0.05, 0.05], variance 1/1200) is small next to a
sublayer's output unless it is scaled (Vaswani et al. multiply by ``sqrt(d_model)``).
The stream's tensor after the embedding is the layer ``stream_0``, after sublayer ``k``
``stream_k`` (:func:`stream_layers`); measure them with
:func:`initcourse.kerastools.residual.layer_moments`. There is no positional encoding: the
model is about propagation, not word order.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_positive_float, check_positive_int
from ..settings import quiet_tensorflow

__all__ = ["NORMS", "residual_scale", "encoder", "stream_layers"]

NORMS = ("pre", "post")
"""Where the LayerNorm of each sublayer goes (see the module docstring)."""


def residual_scale(num_layers: int) -> float:
    """GPT-2's factor ``1/sqrt(2N)`` for the residual projections of ``N`` layers (``2N`` sublayers)."""
    num_layers = check_positive_int(num_layers, "num_layers")
    return float(1.0 / np.sqrt(2.0 * num_layers))


def encoder(
    *,
    vocab_size: int = 1000,
    sequence_length: int = 32,
    d_model: int = 64,
    num_heads: int = 4,
    ff_dim: int = 128,
    num_layers: int = 6,
    norm: str = "pre",
    residual_scaling: bool = False,
    embedding_initializer="uniform",
    embedding_scale: float = 1.0,
    kernel_initializer="glorot_uniform",
    output_units: int = 1,
    output_activation: str | None = "sigmoid",
    name: str | None = None,
):
    """Token ids ``(batch, sequence_length)`` -> embedding -> ``num_layers`` encoder layers -> mean pool -> output.

    See the module docstring for ``norm``, ``residual_scaling`` and
    ``embedding_scale``. ``kernel_initializer`` is used by every Dense and attention
    kernel (each layer gets a fresh copy); ``ff_dim`` is the FFN's hidden width (ReLU).
    Returns an uncompiled model.
    """
    keras = quiet_tensorflow()
    from .models import resolve_initializer

    vocab_size = check_positive_int(vocab_size, "vocab_size")
    sequence_length = check_positive_int(sequence_length, "sequence_length")
    d_model = check_positive_int(d_model, "d_model")
    num_heads = check_positive_int(num_heads, "num_heads")
    if d_model % num_heads:
        raise ValueError(f"d_model must be a multiple of num_heads, got d_model={d_model}, num_heads={num_heads}")
    ff_dim = check_positive_int(ff_dim, "ff_dim")
    num_layers = check_positive_int(num_layers, "num_layers")
    check_choice(norm, "norm", NORMS)
    if not isinstance(residual_scaling, bool):
        raise TypeError(f"residual_scaling must be True or False, got {residual_scaling!r}")
    embedding_scale = check_positive_float(embedding_scale, "embedding_scale")
    output_units = check_positive_int(output_units, "output_units")
    if name is None:
        name = f"{norm}_ln_encoder"
    layers = keras.layers
    scale = residual_scale(num_layers) if residual_scaling else 1.0

    tokens = keras.Input((sequence_length,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, d_model, embeddings_initializer=resolve_initializer(embedding_initializer),
                         name="embedding")(tokens)
    x = layers.Rescaling(embedding_scale, name="stream_0")(x)
    projections = []
    k = 0
    for i in range(1, num_layers + 1):
        for part in ("attn", "ffn"):
            k += 1
            p = f"layer_{i}_{part}_"
            h = layers.LayerNormalization(name=p + "norm")(x) if norm == "pre" else x
            if part == "attn":
                attention = layers.MultiHeadAttention(num_heads, d_model // num_heads,
                                                      kernel_initializer=resolve_initializer(kernel_initializer),
                                                      name=p + "attention")
                h = attention(h, h)
                projections.append((attention, "attention_output/kernel"))
            else:
                h = layers.Dense(ff_dim, activation="relu", kernel_initializer=resolve_initializer(kernel_initializer),
                                 name=p + "dense_1")(h)
                dense = layers.Dense(d_model, kernel_initializer=resolve_initializer(kernel_initializer),
                                     name=p + "dense_2")
                h = dense(h)
                projections.append((dense, "kernel"))
            if norm == "pre":
                x = layers.Add(name=f"stream_{k}")([x, h])
            else:
                x = layers.Add(name=p + "add")([x, h])
                x = layers.LayerNormalization(name=f"stream_{k}")(x)
    if norm == "pre":
        x = layers.LayerNormalization(name="final_norm")(x)
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = layers.Dense(output_units, activation=output_activation, name="output")(x)
    model = keras.Model(tokens, outputs, name=name)
    if scale != 1.0:
        for layer, suffix in projections:
            (kernel,) = [v for v in layer.weights if v.path.endswith(suffix)]
            kernel.assign(kernel.numpy() * np.asarray(scale, dtype=kernel.dtype))
    return model


def stream_layers(model) -> list[str]:
    """Names of the residual stream's layers of an :func:`encoder` model: ``stream_0``, ``stream_1``, ..."""
    keras = quiet_tensorflow()
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model built by transformer.encoder, got {type(model).__name__}")
    names = [layer.name for layer in model.layers if layer.name.startswith("stream_") and layer.name[7:].isdigit()]
    if "stream_0" not in names:
        raise ValueError(f"model {model.name!r} has no layer named 'stream_0': build it with transformer.encoder")
    return sorted(names, key=lambda n: int(n[7:]))
