"""Diagnose a Keras model's initialization: which layer is broken, how, and what to do.

:func:`diagnose` runs one forward and one backward pass on a batch (no training;
the model's weights are left exactly as they were) and returns a :class:`Report`:
per-layer statistics (:meth:`Report.table`) and a list of :class:`Finding` s, each
naming a layer, a problem, a severity, a sentence with the evidence and the likely
fix. :class:`Monitor` is a Keras callback that takes the same measurements during
training, adds the update-to-weight ratio, collects findings over the steps and
stops training when the loss, an activation or a gradient becomes non-finite.

Problems and thresholds
-----------------------
The thresholds come from the theory chapters and were calibrated on healthy
models (a He-initialised 10 x 64 ReLU MLP, a Glorot tanh MLP, the course's CIFAR
CNN and IMDB RNN, all of which give no warning on real or toy data, several
seeds). They are in :data:`THRESHOLDS`.

``vanishing_activations`` / ``exploding_activations``
    The variance recursion (chapters 4 and 5) says a well-initialised layer
    multiplies the mean square of the signal by a factor near 1. We measure the
    root mean square (RMS) of every layer's output relative to the RMS of the
    input of the first weight layer (the signal the network starts from; for an
    embedding model, the embedding's output). A factor off by 2 in variance per
    layer (Glorot in a ReLU net) gives ``2**(-L/2)``, 0.03 after 10 layers, and
    such networks still train; so we warn only below ``1e-2`` or above ``1e2``
    (over 10 layers, a per-layer RMS factor below 0.63 or above 1.58), and call
    an all-zero output an error. Bounded outputs (sigmoid, softmax, tanh) are not
    checked for explosion: they saturate instead.
``vanishing_gradients`` / ``exploding_gradients``
    The standard deviation of every kernel's gradient relative to that of the
    output layer's kernel. In a healthy He ReLU MLP the first layer's gradient is
    already about 20 times smaller than the output layer's (the output layer
    sees larger inputs and the full error), so we warn only beyond a factor of
    ``1e3`` either way: 50 times further than healthy. A kernel whose gradient is
    exactly zero everywhere cannot learn: an error.
``dead_units``
    A ReLU unit (``relu``, ``relu6``) whose output is 0 for every sample and
    position of the batch gets no gradient on that batch. With He initialization
    and zero biases each unit is active on about half of the inputs, but in
    narrow deep layers the pre-activations of the batch are correlated and a
    healthy 10 x 64 MLP has 14-31 % of units dead on a batch in some layers; we
    warn above 50 % and call 100 % (nothing passes the layer) an error.
``saturated_units``
    A tanh or sigmoid output whose local derivative is below 2 % of the
    activation's largest derivative (``|tanh| > 0.99``; sigmoid outside
    ``[0.005, 0.995]``) passes almost no gradient. Unit-variance pre-activations
    (Glorot's aim) saturate tanh on about 1 % of entries; we warn when more than
    25 % of a layer's entries are saturated and call 90 % an error.
``symmetric_units``
    All units of a layer have the same incoming weights (a zero or constant
    kernel, chapter 2): they compute the same function and receive the same
    gradient for ever. Always an error.
``identical_kernels``
    Two layers hold bit-identical, non-constant kernels. Independent random
    draws never coincide; this happens when one seeded initializer *instance* is
    given to two layers (in Keras 3 an unseeded instance draws its seed once,
    when it is created). A warning: the layers still differ by their inputs, but
    the weights are not the independent draws the theory assumes.
``nonfinite``
    The first layer whose output, or the weight whose gradient, holds NaN or
    infinity; or a non-finite loss. Always an error.
``initial_loss``
    For classification losses (categorical, sparse categorical, binary
    cross-entropy), an untrained network should be uncertain: for ``C``
    balanced classes the loss of a uniform prediction is ``ln C``. Logits of
    standard deviation ``s`` add about ``s**2 / 2``; a healthy He MLP without a
    scaled-down output layer starts at 1-3 times ``ln C``. We warn above 5 times
    ``ln C`` (the network is confidently wrong before training: too large
    weights or a bias in the output layer).
``unnormalized_input``
    The schemes assume inputs of unit scale (``E[x^2]`` about 1). A float input
    whose RMS exceeds 10 (pixels in 0-255, raw counts) gives the first layer a
    pre-activation that many times too large: a warning. Integer inputs of an
    ``Embedding`` are token ids and are not checked.

Layers the doctor cannot analyse (nested models, layers used more than once,
layers with several outputs) are named in :attr:`Report.skipped`. Saturation is
measured for tanh and sigmoid outputs (Dense, Conv, SimpleRNN, Activation
layers); LSTM and GRU outputs mix gates and are only checked for scale and
gradients. Importing this module imports TensorFlow (its callback class needs
Keras).

Example
-------
>>> from initcourse import doctor                       # doctest: +SKIP
>>> report = doctor.diagnose(model, x_batch, y_batch)   # doctest: +SKIP
>>> print(report)                                       # doctest: +SKIP
>>> report.table()                                      # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._model_batch import in_input_dtype
from .inspection import unit_spread
from ..settings import quiet_tensorflow

keras = quiet_tensorflow()

__all__ = [
    "PROBLEMS",
    "SEVERITIES",
    "THRESHOLDS",
    "TABLE_COLUMNS",
    "HISTORY_COLUMNS",
    "Finding",
    "Report",
    "diagnose",
    "Monitor",
]

PROBLEMS = (
    "vanishing_activations",
    "exploding_activations",
    "vanishing_gradients",
    "exploding_gradients",
    "dead_units",
    "saturated_units",
    "symmetric_units",
    "identical_kernels",
    "nonfinite",
    "initial_loss",
    "unnormalized_input",
    "normalized_output",
)
"""Every value :attr:`Finding.problem` can take."""

SEVERITIES = ("info", "warning", "error")
"""Every value :attr:`Finding.severity` can take, mildest first."""

THRESHOLDS = {
    "activation_gain_low": 1e-2,
    "activation_gain_high": 1e2,
    "gradient_ratio_low": 1e-3,
    "gradient_ratio_high": 1e3,
    "dead_warning": 0.5,
    "saturated_warning": 0.25,
    "saturated_error": 0.9,
    "saturation_derivative": 0.02,
    "initial_loss_ratio": 5.0,
    "input_rms": 10.0,
}
"""The thresholds of the module docstring, by name."""

TABLE_COLUMNS = (
    "layer", "class", "activation", "units", "act_mean", "act_std", "act_rms", "gain", "preact_mean",
    "preact_std", "dead_frac", "saturated_frac", "kernel_std", "grad_std", "grad_ratio", "unit_spread", "finite",
)
"""Columns of :meth:`Report.table`, one row per analysed layer.

``act_*``: the layer's output on the batch; ``gain``: ``act_rms`` over the RMS of
the signal the network starts from; ``preact_*``: the output before a fused
activation (Dense and Conv layers); ``dead_frac``: fraction of ReLU units never
positive; ``saturated_frac``: fraction of tanh/sigmoid output entries whose
derivative is below 2 % of its maximum; ``kernel_std``, ``grad_std``: the
kernel (embedding table, RNN input kernel) and its gradient; ``grad_ratio``:
``grad_std`` over the output layer's; ``unit_spread``: see
:func:`initcourse.kerastools.inspection.unit_spread` (0: all units identical); ``finite``:
whether the output is finite."""

HISTORY_COLUMNS = ("step", "epoch", "layer", "statistic", "value")
"""Columns of :attr:`Monitor.history` (a tidy frame)."""

_RELU = {"relu", "relu6"}
_BOUNDED = {"sigmoid", "softmax", "tanh", "hard_sigmoid", "softsign"}
_CLASSIFICATION = {"categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"}


@dataclass(frozen=True)
class Finding:
    """One problem found in one layer.

    Attributes
    ----------
    layer : str
        The Keras layer name (``"<model>"`` for problems of the whole model, such
        as the initial loss or the input).
    problem : str
        One of :data:`PROBLEMS`.
    severity : str
        One of :data:`SEVERITIES`.
    message : str
        A sentence naming the layer, the evidence, the likely cause and fix.
    evidence : dict
        The measured numbers.
    step : int or None
        The training step at which :class:`Monitor` found it; ``None`` for
        :func:`diagnose`.
    """

    layer: str
    problem: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)
    step: int | None = None

    def __str__(self) -> str:
        at = "" if self.step is None else f" (step {self.step})"
        return f"[{self.severity}] {self.problem}{at}: {self.message}"


class Report:
    """The result of :func:`diagnose`.

    Attributes
    ----------
    findings : list of Finding
        Most severe first, then in layer order.
    loss : float or None
        The loss on the batch (``None`` without targets).
    reference_loss : float or None
        ``ln C`` for classification losses, else ``None``.
    skipped : list of str
        Layers that could not be analysed (see the module docstring).
    """

    def __init__(self, model_name, n_samples, stats, findings, loss, reference_loss, skipped):
        self.model_name = model_name
        self.n_samples = n_samples
        self._stats = stats
        order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
        layer_order = {name: i for i, name in enumerate(stats["layer"])}
        self.findings = sorted(findings, key=lambda f: (order[f.severity], layer_order.get(f.layer, -1)))
        self.loss = loss
        self.reference_loss = reference_loss
        self.skipped = list(skipped)

    def table(self) -> pd.DataFrame:
        """Per-layer statistics, one row per analysed layer (:data:`TABLE_COLUMNS`)."""
        return self._stats.copy()

    def problems(self, severity: str = "warning") -> set:
        """The set of ``(layer, problem)`` pairs found at ``severity`` or worse."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
        level = SEVERITIES.index(severity)
        return {(f.layer, f.problem) for f in self.findings if SEVERITIES.index(f.severity) >= level}

    @property
    def healthy(self) -> bool:
        """True when there is no warning and no error (infos are allowed)."""
        return not self.problems("warning")

    def __str__(self) -> str:
        head = f"Diagnosis of model {self.model_name!r} on {self.n_samples} samples"
        if self.loss is not None:
            head += f"; loss {self.loss:.4g}"
            if self.reference_loss is not None:
                head += f" (ln C = {self.reference_loss:.4g})"
        if not self.findings:
            lines = ["no findings: nothing looks wrong on this batch"]
        else:
            lines = [str(f) for f in self.findings]
        if self.skipped:
            lines.append(f"not analysed: {', '.join(self.skipped)}")
        return "\n".join([head, *("  " + line for line in lines)])

    def __repr__(self) -> str:
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        return (f"Report(model={self.model_name!r}, errors={counts['error']}, warnings={counts['warning']}, "
                f"infos={counts['info']})")

    def _repr_html_(self) -> str:
        colour = {"error": "#c0392b", "warning": "#d68910", "info": "#2e86c1"}
        items = "".join(
            f"<li><b style='color:{colour[f.severity]}'>{f.severity}</b> <code>{html.escape(f.problem)}</code>: "
            f"{html.escape(f.message)}</li>"
            for f in self.findings
        ) or "<li>no findings: nothing looks wrong on this batch</li>"
        head = html.escape(str(self).splitlines()[0])
        return f"<p>{head}</p><ul>{items}</ul>"

    def plot(self, *, axes=None):
        """Draw the per-layer picture: activation RMS gain, gradient ratio, dead/saturated fractions.

        Returns the matplotlib figure (three panels, layers on the x axis, the
        warning thresholds dashed).
        """
        import matplotlib.pyplot as plt

        df = self._stats
        if axes is None:
            fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
        fig = axes[0].figure
        x = np.arange(len(df))
        panels = [
            ("gain", "activation RMS / input RMS", (THRESHOLDS["activation_gain_low"], THRESHOLDS["activation_gain_high"]), True),
            ("grad_ratio", "gradient std / output layer's", (THRESHOLDS["gradient_ratio_low"], THRESHOLDS["gradient_ratio_high"]), True),
        ]
        for ax, (column, label, limits, log) in zip(axes[:2], panels):
            values = df[column].to_numpy(dtype=float)
            keep = np.isfinite(values) & (values > 0)
            ax.plot(x[keep], values[keep], "o-")
            for limit in limits:
                ax.axhline(limit, ls="--", color="0.5", lw=1)
            ax.set_yscale("log")
            ax.set_ylabel(label)
        ax = axes[2]
        ax.bar(x - 0.2, df["dead_frac"].fillna(0), width=0.4, label="dead (ReLU)")
        ax.bar(x + 0.2, df["saturated_frac"].fillna(0), width=0.4, label="saturated (tanh/sigmoid)")
        ax.axhline(THRESHOLDS["dead_warning"], ls="--", color="0.5", lw=1)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("fraction")
        ax.legend(fontsize=8)
        for ax in axes:
            ax.set_xticks(x)
            ax.set_xticklabels(df["layer"], rotation=60, ha="right", fontsize=8)
        fig.suptitle(f"{self.model_name}: {len(self.findings)} finding(s)")
        fig.tight_layout()
        return fig


# --------------------------------------------------------------------------- checks of the arguments


def _check_model(model):
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ValueError("model must be built: create it from keras.Input, or call it once on data")
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError("model must have a defined input (build it from keras.Input)")
    if len(inputs) != 1:
        raise ValueError(f"model must have exactly one input, got {len(inputs)}")
    if len(model.outputs) != 1:
        raise ValueError(f"model must have exactly one output, got {len(model.outputs)}")
    return inputs[0]


def _check_x(x, model_input):
    try:
        x = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"x must be an array of model inputs: {error}") from None
    if x.dtype.kind not in "biuf":
        raise TypeError(f"x must be numeric, got dtype {x.dtype}")
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must hold at least one sample, got shape {x.shape}")
    expected = tuple(model_input.shape[1:])
    if len(x.shape[1:]) != len(expected) or any(e is not None and e != s for e, s in zip(expected, x.shape[1:])):
        raise ValueError(f"x has samples of shape {x.shape[1:]}, the model expects {expected} (None: any size)")
    return in_input_dtype(x, getattr(model_input, "dtype", "float32"), "x")


def _output_activation(model):
    layer = model.layers[-1]
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", None) if act is not None else None


def _resolve_loss(model, y, loss):
    """The loss function and its name; ``(None, None)`` without targets."""
    if y is None:
        if loss is not None:
            raise ValueError("loss was given without y: give the targets y too, or leave loss out")
        return None, None
    if loss is None:
        compiled = getattr(model, "loss", None)
        if isinstance(compiled, str) or isinstance(compiled, keras.losses.Loss):
            loss = compiled
        else:
            activation = _output_activation(model)
            units = model.outputs[0].shape[-1]
            if activation == "softmax":
                loss = "sparse_categorical_crossentropy" if y.ndim == 1 or y.shape[-1] == 1 else "categorical_crossentropy"
            elif activation == "sigmoid" and units == 1:
                loss = "binary_crossentropy"
            else:
                loss = "mse"
    try:
        fn = keras.losses.get(loss)
    except (ValueError, TypeError):
        fn = None
    if fn is None or not callable(fn):
        raise ValueError(f"loss must be a Keras loss name (e.g. 'mse'), a keras.losses.Loss or a callable, got {loss!r}")
    if isinstance(loss, str):
        name = loss
    else:
        name = getattr(fn, "name", None) or getattr(fn, "__name__", "loss")
        config = getattr(fn, "get_config", lambda: {})()
        if config.get("from_logits"):
            name += " (from logits)"
    return fn, name


def _check_targets(y, x, name, output_shape):
    units = output_shape[-1]
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != len(x):
        raise ValueError(f"y must hold one target per sample of x ({len(x)}), got shape {y.shape}")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y must be numeric, got dtype {y.dtype}")
    if name == "sparse_categorical_crossentropy":
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            raise ValueError("loss 'sparse_categorical_crossentropy' needs integer class labels in y, got fractions")
        if y.size and (y.min() < 0 or y.max() >= units):
            raise ValueError(f"loss 'sparse_categorical_crossentropy' needs labels in 0..{units - 1} "
                             f"(the model has {units} outputs), got labels {int(y.min())}..{int(y.max())}")
    elif name == "categorical_crossentropy":
        if y.ndim != 2 or y.shape[1] != units:
            raise ValueError(f"loss 'categorical_crossentropy' needs one-hot targets of shape (n, {units}), got "
                             f"{y.shape}; for integer labels use 'sparse_categorical_crossentropy'")
    elif name == "binary_crossentropy":
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError("loss 'binary_crossentropy' needs targets in [0, 1], got values "
                             f"{float(y.min()):.4g}..{float(y.max()):.4g}")
    if name != "sparse_categorical_crossentropy" and y.ndim == len(output_shape) - 1 and output_shape[-1] == 1:
        y = y[..., None]  # one target per sample for a one-unit output, as model.fit accepts
    return y


# --------------------------------------------------------------------------- measuring


def _activation_name(layer) -> str | None:
    if isinstance(layer, keras.layers.ReLU):
        plain = not getattr(layer, "negative_slope", 0) and getattr(layer, "threshold", 0) == 0
        return "relu" if plain else "leaky_relu"
    if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
        return None  # the output mixes gates: not one activation
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", None) if callable(act) else None


def _kernel_of(layer):
    """The layer's main weight: kernel, embedding table or RNN input kernel; or None."""
    for w in layer.trainable_weights:
        if w.path.endswith("/kernel") or w.path.endswith("/embeddings"):
            return w
    return None


_AFFINE = ("Dense", "Conv1D", "Conv2D", "Conv3D")


class _Probe:
    """What :func:`diagnose` and :class:`Monitor` need to measure one model, built once."""

    def __init__(self, model):
        self.model = model
        model_input = _check_model(model)
        self.model_input = model_input
        self.layers, self.skipped, tensors = [], [], []
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            if isinstance(layer, keras.Model):
                self.skipped.append(layer.name)
                continue
            try:
                out = layer.output
                inp = layer.input if type(layer).__name__ in _AFFINE else None
            except (AttributeError, ValueError, RuntimeError):
                self.skipped.append(layer.name)
                continue
            if isinstance(out, (list, tuple, dict)):
                self.skipped.append(layer.name)
                continue
            self.layers.append(layer)
            tensors.append((out, inp))
        outputs = {}
        for layer, (out, inp) in zip(self.layers, tensors):
            outputs[f"out:{layer.name}"] = out
            if inp is not None and not isinstance(inp, (list, tuple)) and _activation_name(layer) not in (None, "linear"):
                outputs[f"in:{layer.name}"] = inp
        outputs["model_output"] = model.outputs[0]
        self.tap = keras.Model(model_input, outputs)
        self.twins = {}
        for layer in self.layers:
            if f"in:{layer.name}" in outputs:
                twin = type(layer).from_config({**layer.get_config(), "activation": "linear", "name": layer.name + "_pre"})
                twin.build(outputs[f"in:{layer.name}"].shape)
                self.twins[layer.name] = twin
        # The signal the network starts from: the input of the first layer that computes on floats.
        self.reference = None
        for layer in self.layers:
            if isinstance(layer, keras.layers.Embedding):
                self.reference = ("out", layer.name)
                break
            if _kernel_of(layer) is not None:
                self.reference = ("input", None)
                break
        self.kernels = {layer.name: _kernel_of(layer) for layer in self.layers}
        self.output_kernel = next((k for k in reversed(list(self.kernels.values())) if k is not None), None)

    def measure(self, x, y, loss_fn, *, seed=0):
        """Per-layer table, loss, and the first non-finite place, on one batch in training mode."""
        import tensorflow as tf

        model = self.model
        saved = [np.array(v.numpy()) for v in model.non_trainable_variables]
        weights = model.trainable_weights
        try:
            with tf.GradientTape() as tape:
                outs = self.tap(x, training=True)
                pred = outs["model_output"]
                if loss_fn is None:
                    # No targets: back-propagate a fixed random unit-variance signal.
                    probe = np.random.default_rng(seed).standard_normal(tuple(pred.shape)).astype(str(pred.dtype.name))
                    value = keras.ops.mean(keras.ops.sum(keras.ops.reshape(pred * probe, (pred.shape[0], -1)), axis=1))
                else:
                    value = keras.ops.mean(loss_fn(y, pred))
            grads = tape.gradient(value, weights, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        except (ValueError, TypeError, tf.errors.InvalidArgumentError) as error:
            raise ValueError(f"the loss could not be computed from the model's output and y: {error}") from None
        finally:
            for v, s in zip(model.non_trainable_variables, saved):
                v.assign(s)
        grad_of = {w.path: np.asarray(tf.convert_to_tensor(g)) for w, g in zip(weights, grads)}  # embeddings: sparse
        loss = None if loss_fn is None else float(value)
        outs = {k: np.asarray(v) for k, v in outs.items()}
        pre = {}
        for name, twin in self.twins.items():
            layer = next(l for l in self.layers if l.name == name)
            twin.set_weights(layer.get_weights())
            pre[name] = np.asarray(twin(outs[f"in:{name}"], training=False))

        if self.reference is None:
            ref_rms = float(np.sqrt(np.mean(np.square(x.astype(np.float64)))))
        elif self.reference[0] == "input":
            ref_rms = float(np.sqrt(np.mean(np.square(x.astype(np.float64)))))
        else:
            ref_rms = float(np.sqrt(np.mean(np.square(outs[f"out:{self.reference[1]}"].astype(np.float64)))))
        out_grad = grad_of.get(self.output_kernel.path) if self.output_kernel is not None else None
        out_grad_std = float(np.std(out_grad)) if out_grad is not None else float("nan")

        rows = []
        for layer in self.layers:
            a = outs[f"out:{layer.name}"]
            a64 = a.astype(np.float64) if a.dtype.kind == "f" else None
            act = _activation_name(layer)
            row = dict.fromkeys(TABLE_COLUMNS, np.nan)
            row.update(layer=layer.name, **{"class": type(layer).__name__}, activation=act or "",
                       units=int(a.shape[-1]) if a.ndim > 1 else 1)
            finite = a64 is None or bool(np.all(np.isfinite(a64)))
            row["finite"] = finite
            if a64 is not None and finite:
                rms = float(np.sqrt(np.mean(np.square(a64))))
                row.update(act_mean=float(a64.mean()), act_std=float(a64.std()), act_rms=rms,
                           gain=rms / ref_rms if ref_rms > 0 else np.nan)
                units_axis = a64.reshape(-1, a64.shape[-1]) if a64.ndim > 1 else a64.reshape(-1, 1)
                if act in _RELU:
                    row["dead_frac"] = float(np.mean(np.max(units_axis, axis=0) <= 0))
                elif act == "tanh":
                    row["saturated_frac"] = float(np.mean(1 - a64 ** 2 < THRESHOLDS["saturation_derivative"]))
                elif act == "sigmoid":
                    row["saturated_frac"] = float(np.mean(a64 * (1 - a64) < 0.25 * THRESHOLDS["saturation_derivative"]))
            if layer.name in pre:
                p = pre[layer.name].astype(np.float64)
                if np.all(np.isfinite(p)):
                    row.update(preact_mean=float(p.mean()), preact_std=float(p.std()))
            elif act == "linear" and a64 is not None and finite:
                row.update(preact_mean=row["act_mean"], preact_std=row["act_std"])
            kernel = self.kernels[layer.name]
            if kernel is not None:
                k = np.asarray(kernel.numpy())
                g = grad_of[kernel.path]
                row["kernel_std"] = float(np.std(k))
                if np.all(np.isfinite(g)):
                    row["grad_std"] = float(np.std(g))
                    row["grad_ratio"] = row["grad_std"] / out_grad_std if out_grad_std > 0 else np.nan
                if np.all(np.isfinite(k)) and k.ndim >= 2:
                    row["unit_spread"] = unit_spread(k)
            rows.append(row)
        table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
        table["units"] = table["units"].astype(int)
        table["finite"] = table["finite"].astype(bool)
        nonfinite_grads = [w.path for w in weights if not np.all(np.isfinite(grad_of[w.path]))]
        nonfinite_weights = [w.path for w in model.weights if not np.all(np.isfinite(np.asarray(w.numpy())))]
        return table, loss, ref_rms, nonfinite_grads, nonfinite_weights


def _pct(v) -> str:
    return f"{100 * v:.0f}%"


def _findings(probe, table, x, loss, loss_name, reference_loss, ref_rms, nonfinite_grads, nonfinite_weights, step=None,
              y=None):
    """The findings for one measurement (see the module docstring for the thresholds)."""
    t = THRESHOLDS
    found = []

    def add(layer, problem, severity, message, **evidence):
        found.append(Finding(layer, problem, severity, message, evidence, step))

    # Non-finite values: report the first place only, everything else is a consequence.
    bad = table.index[~table["finite"]]
    if nonfinite_weights:
        add(nonfinite_weights[0].split("/")[0], "nonfinite", "error",
            f"layer {nonfinite_weights[0].split('/')[0]}: weight {nonfinite_weights[0]} holds NaN or infinity "
            "(training diverged: lower the learning rate, clip gradients, check the initial scale)",
            weights=nonfinite_weights)
        return found
    if len(bad):
        name = table.loc[bad[0], "layer"]
        add(name, "nonfinite", "error",
            f"layer {name}: the output holds NaN or infinity, the first layer that does (an overflow: "
            "weights or inputs far too large)", layers=list(table.loc[bad, "layer"]))
        return found
    if loss is not None and not math.isfinite(loss):
        add("<model>", "nonfinite", "error", f"the loss is {loss} although every layer's output is finite "
            "(a probability of exactly 0 or 1 under cross-entropy: saturated output layer)", loss=loss)
        return found
    if nonfinite_grads:
        name = nonfinite_grads[0].split("/")[0]
        add(name, "nonfinite", "error", f"layer {name}: the gradient of {nonfinite_grads[0]} holds NaN or infinity",
            weights=nonfinite_grads)
        return found

    # The input.
    if probe.reference == ("input", None) and x.dtype.kind == "f" and ref_rms > t["input_rms"]:
        add("<model>", "unnormalized_input", "warning",
            f"the input has RMS {ref_rms:.3g} (mean {float(np.mean(x)):.3g}, std {float(np.std(x)):.3g}); "
            "the initialization schemes assume inputs of unit scale: standardize the input (e.g. pixels / 255, "
            "or subtract the mean and divide by the std of the training data)", input_rms=ref_rms)

    # A normalization layer as the model's output.
    last = probe.layers[-1] if probe.layers else None
    if (last is not None and type(last).__name__ in ("BatchNormalization", "LayerNormalization")
            and last.output is probe.model.outputs[0]):
        row = table.loc[table["layer"] == last.name].iloc[0]
        units = int(probe.model.outputs[0].shape[-1])
        constant = type(last).__name__ == "LayerNormalization" and units == 1
        targets = ""
        evidence = {"prediction_mean": float(row["act_mean"]), "prediction_std": float(row["act_std"])}
        if y is not None and loss_name not in _CLASSIFICATION:
            evidence.update(target_mean=float(np.mean(y)), target_std=float(np.std(y)))
            targets = f"; the targets have mean {evidence['target_mean']:.3g} and std {evidence['target_std']:.3g}"
        if constant:
            what = (f"layer {last.name}: the model's output is a LayerNormalization of one unit, which is always its "
                    f"offset beta (measured std {row['act_std']:.3g}): the prediction ignores the input")
        else:
            what = (f"layer {last.name}: the model's output is normalized: in training every batch of predictions is "
                    f"forced to mean beta and std gamma (measured mean {row['act_mean']:.3g}, std {row['act_std']:.3g}) "
                    f"whatever the input{targets}; the output layer's bias gets no gradient and inference uses "
                    "running statistics instead of the batch's")
        add(last.name, "normalized_output", "error" if constant else "warning",
            what + "; remove the normalization after the output (normalize the hidden layers instead), and "
            "standardize the targets or start the output bias at their mean", **evidence)

    # Initial loss.
    if loss is not None and reference_loss is not None and loss > t["initial_loss_ratio"] * reference_loss:
        ratio = loss / reference_loss
        add("<model>", "initial_loss", "warning",
            f"the initial loss {loss:.3g} is {ratio:.1f} times ln C = {reference_loss:.3g}, the loss of an uncertain "
            "classifier: the untrained network is confidently wrong; the logits are too large (scale down the "
            "output layer's kernel, zero its bias, check the hidden layers' scale)", loss=loss,
            reference=reference_loss, ratio=ratio)

    # Symmetry and shared kernels.
    kernels = {name: np.asarray(k.numpy()) for name, k in probe.kernels.items() if k is not None}
    output_name = next((n for n in reversed(list(probe.kernels)) if probe.kernels[n] is not None), None)
    for name, k in kernels.items():
        # The output layer's units are told apart by the targets: a zero output layer is a valid choice.
        if name != output_name and k.ndim >= 2 and k.shape[-1] > 1 and unit_spread(k) == 0.0:
            add(name, "symmetric_units", "error",
                f"layer {name}: all {k.shape[-1]} units have the same incoming weights (every entry {float(k.flat[0]):.3g}): "
                "they compute the same function and get the same gradient for ever; use a random initializer "
                "(e.g. he_normal for ReLU, glorot_uniform for tanh)", value=float(k.flat[0]), units=int(k.shape[-1]))
    names = [n for n, k in kernels.items() if np.ptp(k) > 0]
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = kernels[first], kernels[second]
            if a.shape == b.shape and np.array_equal(a, b):
                add(second, "identical_kernels", "warning",
                    f"layer {second}: its kernel is identical to layer {first}'s ({a.size} equal entries): one "
                    "initializer instance was given to both layers, and in Keras 3 it draws the same numbers each "
                    "time; give every layer its own instance or a string name", same_as=first, shape=a.shape)

    # Activations: the first layer that crosses a threshold.
    vanishing = exploding = None
    for _, row in table.iterrows():
        if probe.kernels[row["layer"]] is None and row["class"] not in ("BatchNormalization", "LayerNormalization"):
            continue
        if row["class"] == "Embedding":
            continue
        gain = row["gain"]
        if (vanishing is None and np.isfinite(gain) and gain < t["activation_gain_low"]
                and row["activation"] in ("", "linear", "tanh", *_RELU)):
            vanishing = row
        if (exploding is None and np.isfinite(gain) and gain > t["activation_gain_high"]
                and row["activation"] not in _BOUNDED):
            exploding = row
    if vanishing is not None:
        zero = vanishing["act_rms"] == 0
        what = ("every output is exactly 0: no signal passes (dead units or zero weights)" if zero else
                f"the output's RMS is {vanishing['act_rms']:.3g}, {vanishing['gain']:.2g} times the input's: the "
                "signal dies out with depth")
        add(vanishing["layer"], "vanishing_activations", "error" if zero else "warning",
            f"layer {vanishing['layer']}: {what}; the weights are too small for the activation, or a bias is too "
            "negative (use He for ReLU, Glorot/LeCun for tanh, zero biases)",
            rms=vanishing["act_rms"], gain=vanishing["gain"])
    if exploding is not None:
        add(exploding["layer"], "exploding_activations", "warning",
            f"layer {exploding['layer']}: the output's RMS is {exploding['act_rms']:.3g}, {exploding['gain']:.3g} times "
            "the input's: the signal grows with depth; the weights are too large (use the fan-scaled scheme of the "
            "activation: He for ReLU, Glorot/LeCun for tanh)", rms=exploding["act_rms"], gain=exploding["gain"])

    # Gradients.
    for _, row in table.iterrows():
        name = row["layer"]
        if probe.kernels[name] is None or name == output_name:
            continue
        ratio, g = row["grad_ratio"], row["grad_std"]
        if g == 0:
            add(name, "vanishing_gradients", "error",
                f"layer {name}: the kernel's gradient is exactly zero: it cannot learn (units dead or identical, "
                "or the layers above pass no signal)", grad_std=0.0)
        elif np.isfinite(ratio) and ratio < t["gradient_ratio_low"]:
            add(name, "vanishing_gradients", "warning",
                f"layer {name}: the kernel's gradient std {g:.3g} is {ratio:.2g} times the output layer's: the error "
                "signal dies out on its way down; rescale the layers above (He for ReLU, Glorot for tanh), avoid "
                "saturated units", grad_std=g, ratio=ratio)
        elif np.isfinite(ratio) and ratio > t["gradient_ratio_high"]:
            add(name, "exploding_gradients", "warning",
                f"layer {name}: the kernel's gradient std {g:.3g} is {ratio:.3g} times the output layer's: the error "
                "signal grows on its way down; the layers above are scaled too large, or the input is unnormalized",
                grad_std=g, ratio=ratio)

    # Dead and saturated units.
    for _, row in table.iterrows():
        name, dead, sat = row["layer"], row["dead_frac"], row["saturated_frac"]
        if np.isfinite(dead) and dead > t["dead_warning"]:
            cause = ""
            if np.isfinite(row["preact_mean"]) and row["preact_mean"] < -row["preact_std"]:
                cause = (f" the pre-activations have mean {row['preact_mean']:.3g} and std {row['preact_std']:.3g}, "
                         "so almost all are negative (a negative bias, or inputs shifted below 0);")
            add(name, "dead_units", "error" if dead == 1.0 else "warning",
                f"layer {name}: {_pct(dead)} of units never activate on this batch;{cause} they get no gradient; "
                "use zero biases and He initialization (or a leaky activation)", dead_frac=dead,
                preact_mean=row["preact_mean"], preact_std=row["preact_std"])
        if np.isfinite(sat) and sat > t["saturated_warning"]:
            add(name, "saturated_units", "error" if sat > t["saturated_error"] else "warning",
                f"layer {name}: {_pct(sat)} of {row['activation']} outputs are saturated (derivative below 2% of its "
                f"maximum); pre-activation std {row['preact_std']:.3g}: the weights (or the input) are too large "
                "for a squashing activation; use Glorot/LeCun scaling and unit-scale inputs",
                saturated_frac=sat, preact_std=row["preact_std"])
    return _merge(found)


def _merge(found):
    """One finding per problem: the first layer that has it, the others named in its message."""
    merged, by_problem = [], {}
    for f in found:
        if f.layer == "<model>" or f.problem == "identical_kernels":
            merged.append(f)
        elif f.problem in by_problem:
            by_problem[f.problem].append(f)
        else:
            by_problem[f.problem] = [f]
            merged.append(f)
    result = []
    for f in merged:
        group = by_problem.get(f.problem, [f]) if f.layer != "<model>" and f.problem != "identical_kernels" else [f]
        if len(group) == 1:
            result.append(f)
            continue
        others = [g.layer for g in group[1:]]
        worst = max((g.severity for g in group), key=SEVERITIES.index)
        message = f.message.rstrip(".") + f". The same in {len(others)} later layer(s): {', '.join(others)}."
        result.append(Finding(f.layer, f.problem, worst, message, {**f.evidence, "also_in": others}, f.step))
    return result


def _reference_loss(loss_name, model):
    if loss_name not in _CLASSIFICATION:
        return None
    units = model.outputs[0].shape[-1]
    return math.log(2) if loss_name == "binary_crossentropy" else math.log(units)


def diagnose(model, x, y=None, *, loss=None) -> Report:
    """Diagnose ``model`` on one batch: per-layer statistics and findings.

    One forward and one backward pass in training mode (as in a training step);
    the model's weights and state are left exactly as they were.

    Parameters
    ----------
    model : keras.Model
        A built model with one input and one output (Sequential or functional).
    x : array_like
        A batch of inputs, shape ``(n, *input_shape)``; a few hundred samples.
    y : array_like or None
        Targets, one per sample. Without them the gradients are those of a
        random unit-variance signal sent back from the output, and the initial
        loss is not checked.
    loss : str, keras.losses.Loss, callable or None
        The loss of ``y``. ``None``: the compiled model's loss, else inferred from
        the output layer (softmax: (sparse) categorical cross-entropy; one sigmoid
        unit: binary cross-entropy; otherwise mean squared error).

    Returns
    -------
    Report

    Raises
    ------
    TypeError
        ``model`` is not a ``keras.Model``, ``x`` or ``y`` is not numeric.
    ValueError
        The model is not built or has several inputs/outputs; ``x`` is empty or
        of the wrong shape; ``y`` has the wrong length; ``loss`` is unknown or
        does not fit ``y`` (e.g. labels out of range).
    """
    probe = _Probe(model)
    x = _check_x(x, probe.model_input)
    loss_fn, loss_name = _resolve_loss(model, None if y is None else np.asarray(y), loss)
    if y is not None:
        y = _check_targets(y, x, loss_name, tuple(model.outputs[0].shape))
    return _run(probe, x, y, loss_fn, loss_name)


def _run(probe, x, y, loss_fn, loss_name, step=None):
    with np.errstate(all="ignore"):  # overflowing statistics are reported as findings, not warnings
        table, loss, ref_rms, bad_grads, bad_weights = probe.measure(x, y, loss_fn)
        reference = _reference_loss(loss_name, probe.model)
        findings = _findings(probe, table, x, loss, loss_name, reference, ref_rms, bad_grads, bad_weights, step=step, y=y)
    return Report(probe.model.name, len(x), table, findings, loss, reference, probe.skipped)


# --------------------------------------------------------------------------- monitoring


_HISTORY_STATS = ("act_std", "act_rms", "preact_std", "dead_frac", "saturated_frac", "grad_std", "grad_ratio")


class Monitor(keras.callbacks.Callback):
    """A Keras callback: the doctor's statistics over training, and a stop on non-finite values.

    Parameters
    ----------
    x, y : array_like
        A fixed monitoring batch (a few hundred samples) and its targets
        (``y`` may be ``None``, see :func:`diagnose`).
    every : int, default 10
        Measure before training and after every ``every``-th training step.
    loss : as in :func:`diagnose`.

    Attributes
    ----------
    history : pandas.DataFrame
        Tidy, columns :data:`HISTORY_COLUMNS`; ``statistic`` is one of the
        table's columns ``act_std``, ``act_rms``, ``preact_std``, ``dead_frac``,
        ``saturated_frac``, ``grad_std``, ``grad_ratio``, or ``update_ratio``:
        ``||W_after - W_before|| / ||W_before||`` of the kernel over the step
        just taken (about ``1e-3`` is the usual healthy value).
    findings : list of Finding
        Each (layer, problem) once, at the first step it was found (warnings and
        errors), with :attr:`Finding.step` set.
    stopped_at : int or None
        The step at which training was stopped because of non-finite values.

    Notes
    -----
    The loss reported by Keras is checked after every step; when it is not
    finite, training stops (``model.stop_training``) and a ``nonfinite`` finding
    names the step and the first layer whose weights or output are not finite.
    """

    def __init__(self, x, y=None, *, every: int = 10, loss=None):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be a positive integer (steps between measurements), got {every!r}")
        self.x, self.y, self.every, self._loss = x, y, int(every), loss
        self.findings = []
        self.stopped_at = None
        self._rows = []
        self._step = 0
        self._epoch = 0
        self._seen = set()
        self._before = None

    @property
    def history(self) -> pd.DataFrame:
        return pd.DataFrame(self._rows, columns=list(HISTORY_COLUMNS))

    def on_train_begin(self, logs=None):
        self._probe = _Probe(self.model)
        self._xb = _check_x(self.x, self._probe.model_input)
        self._loss_fn, self._loss_name = _resolve_loss(self.model, None if self.y is None else np.asarray(self.y),
                                                       self._loss)
        self._yb = None if self.y is None else _check_targets(self.y, self._xb, self._loss_name,
                                                              tuple(self.model.outputs[0].shape))
        self._record(extra={})

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self._step + 1) % self.every == 0:
            self._before = {n: np.array(k.numpy()) for n, k in self._probe.kernels.items() if k is not None}

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        value = (logs or {}).get("loss")
        if value is not None and not math.isfinite(float(value)):
            report = _run(self._probe, self._xb, self._yb, self._loss_fn, self._loss_name, step=self._step)
            nonfinite = [f for f in report.findings if f.problem == "nonfinite"]
            finding = nonfinite[0] if nonfinite else Finding(
                "<model>", "nonfinite", "error", f"the training loss became {value}", {"loss": float(value)}, self._step)
            self.findings.append(Finding(finding.layer, "nonfinite", "error",
                                         f"the training loss is {float(value)}; " + finding.message,
                                         {**finding.evidence, "loss": float(value)}, self._step))
            self.stopped_at = self._step
            self.model.stop_training = True
            return
        if self._step % self.every == 0:
            extra = {}
            if self._before is not None:
                for name, k in self._probe.kernels.items():
                    if k is None:
                        continue
                    before = self._before[name]
                    with np.errstate(all="ignore"):
                        norm = float(np.linalg.norm(before))
                        change = float(np.linalg.norm(np.asarray(k.numpy()) - before))
                    extra[name] = change / norm if norm > 0 else np.nan
            self._before = None
            self._record(extra)

    def _record(self, extra):
        report = _run(self._probe, self._xb, self._yb, self._loss_fn, self._loss_name, step=self._step)
        table = report.table()
        for _, row in table.iterrows():
            for stat in _HISTORY_STATS:
                value = row[stat]
                if pd.notna(value):
                    self._rows.append((self._step, self._epoch, row["layer"], stat, float(value)))
            if row["layer"] in extra:
                self._rows.append((self._step, self._epoch, row["layer"], "update_ratio", extra[row["layer"]]))
        for f in report.findings:
            if f.severity != "info" and (f.layer, f.problem) not in self._seen:
                self._seen.add((f.layer, f.problem))
                self.findings.append(f)
        if any(f.problem == "nonfinite" for f in report.findings):
            self.stopped_at = self._step
            self.model.stop_training = True

    def first_step(self, problem: str, layer: str | None = None):
        """The first step at which ``problem`` was found (in ``layer``, if given), or ``None``."""
        if problem not in PROBLEMS:
            raise ValueError(f"problem must be one of {PROBLEMS}, got {problem!r}")
        steps = [f.step for f in self.findings if f.problem == problem and (layer is None or f.layer == layer)]
        return min(steps) if steps else None

    def plot(self, statistic: str = "act_std", *, axes=None):
        """Draw ``statistic`` as a layer x step heat map, and dead/saturated fractions over steps.

        Returns the matplotlib figure; steps at which findings were first
        raised are marked with dotted lines.
        """
        import matplotlib.pyplot as plt
        from matplotlib import colors

        history = self.history
        if statistic not in set(history["statistic"]):
            raise ValueError(f"statistic must be one of {sorted(set(history['statistic']))}, got {statistic!r}")
        if axes is None:
            fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
        fig = axes[0].figure
        grid = history[history["statistic"] == statistic].pivot_table(index="layer", columns="step", values="value")
        order = [n for n in dict.fromkeys(history["layer"]) if n in grid.index]
        grid = grid.loc[order]
        values = grid.to_numpy(dtype=float)
        positive = values[np.isfinite(values) & (values > 0)]
        norm = colors.LogNorm(positive.min(), positive.max()) if positive.size and positive.max() > positive.min() else None
        steps = grid.columns.to_numpy()
        mesh = axes[0].pcolormesh(np.arange(len(steps) + 1), np.arange(len(order) + 1),
                                  np.where(values > 0, values, np.nan) if norm else values, norm=norm, shading="flat")
        fig.colorbar(mesh, ax=axes[0], label=statistic)
        ticks = np.arange(len(steps)) if len(steps) <= 12 else np.linspace(0, len(steps) - 1, 8).astype(int)
        axes[0].set_xticks(ticks + 0.5)
        axes[0].set_xticklabels(steps[ticks])
        axes[0].set_yticks(np.arange(len(order)) + 0.5)
        axes[0].set_yticklabels(order, fontsize=8)
        axes[0].invert_yaxis()
        axes[0].set_xlabel("step")
        axes[0].grid(False)
        ax = axes[1]
        for stat, style in (("dead_frac", "-"), ("saturated_frac", "--")):
            part = history[history["statistic"] == stat]
            for layer, rows in part.groupby("layer", sort=False):
                ax.plot(rows["step"], rows["value"], style, label=f"{layer} {stat.split('_')[0]}")
        for f in self.findings:
            ax.axvline(f.step, ls=":", color="0.4", lw=1)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("step")
        ax.set_ylabel("fraction of units / entries")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        return fig
