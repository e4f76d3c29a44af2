"""Width scaling: standard parametrization (SP) versus muP, for a small MLP trained with Adam.

The network is ``x -> W1 -> relu -> W2 -> relu -> W3 -> f`` with ``d`` inputs,
two hidden layers of ``width`` units and one output, no biases, trained on the mean
squared error with Adam (NumPy, exact gradients). The two parametrizations differ in
the output layer's initial variance and in each layer's learning rate (Yang & Hu,
2021; Yang et al., 2021, Table 3, Adam), with ``n = width`` and a base width ``b``
at which both are the same network:

========  ========================  ==========================  ==================
layer     initial variance (SP)     initial variance (muP)      Adam LR (SP / muP)
========  ========================  ==========================  ==================
``W1``    ``1/d``                   ``1/d``                     ``eta`` / ``eta``
``W2``    ``2/n``                   ``2/n``                     ``eta`` / ``eta b/n``
``W3``    ``1/n``                   ``(1/n)(b/n)``              ``eta`` / ``eta b/n``
========  ========================  ==========================  ==================

Under SP one Adam step moves every entry of ``W2`` by about ``eta`` in a direction
correlated with its input, so a hidden pre-activation moves by about ``eta n``: after a
few steps the activations grow with the width, and the learning rate that is best for
a narrow network is too large for a wide one. Under muP every layer's update changes
its output by an amount that does not depend on ``n``, so the activations (and the
best learning rate) stay put as the width grows. :func:`coordinate_check` measures the
first, :func:`learning_rate_sweep` the second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import as_generator, check_choice, check_positive_float, check_positive_int

__all__ = [
    "PARAMETRIZATIONS",
    "LAYERS",
    "init_params",
    "learning_rate_multipliers",
    "train",
    "coordinate_check",
    "learning_rate_sweep",
]

PARAMETRIZATIONS = ("sp", "mup")
"""``"sp"``: standard parametrization; ``"mup"``: maximal-update parametrization."""

LAYERS = ("W1", "W2", "W3")
"""The weight matrices of the MLP, input to output."""

_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8


def _check(width, parametrization, base_width):
    return (check_positive_int(width, "width"), check_choice(parametrization, "parametrization", PARAMETRIZATIONS),
            check_positive_int(base_width, "base_width"))


def learning_rate_multipliers(width: int, parametrization: str, *, base_width: int = 64) -> dict:
    """Each layer's Adam learning rate as a multiple of the global ``eta`` (the table above)."""
    width, parametrization, base_width = _check(width, parametrization, base_width)
    hidden = base_width / width if parametrization == "mup" else 1.0
    return {"W1": 1.0, "W2": hidden, "W3": hidden}


def init_params(input_dim: int, width: int, *, parametrization: str = "sp", base_width: int = 64, seed=0) -> dict:
    """Initial weights ``{"W1", "W2", "W3"}`` (float64, Gaussian) for the table's parametrization."""
    input_dim = check_positive_int(input_dim, "input_dim")
    width, parametrization, base_width = _check(width, parametrization, base_width)
    rng = as_generator(seed)
    out_var = 1.0 / width * (base_width / width if parametrization == "mup" else 1.0)
    return {
        "W1": rng.standard_normal((input_dim, width)) * np.sqrt(1.0 / input_dim),
        "W2": rng.standard_normal((width, width)) * np.sqrt(2.0 / width),
        "W3": rng.standard_normal((width, 1)) * np.sqrt(out_var),
    }


def _forward(params, x):
    h1 = x @ params["W1"]
    a1 = np.maximum(h1, 0.0)
    h2 = a1 @ params["W2"]
    a2 = np.maximum(h2, 0.0)
    return h1, a1, h2, a2, a2 @ params["W3"]


def _gradients(params, x, y):
    h1, a1, h2, a2, f = _forward(params, x)
    err = f - y
    loss = float(np.mean(err**2))
    d_f = 2.0 * err / err.size
    g3 = a2.T @ d_f
    d_h2 = (d_f @ params["W3"].T) * (h2 > 0)
    g2 = a1.T @ d_h2
    d_h1 = (d_h2 @ params["W2"].T) * (h1 > 0)
    g1 = x.T @ d_h1
    return loss, {"W1": g1, "W2": g2, "W3": g3}


def _rms(a) -> float:
    return float(np.sqrt(np.mean(np.square(a))))


def _check_xy(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"x must be a 2-D array (samples, features) with at least one sample, got shape {x.shape}")
    if y.ndim == 1:
        y = y[:, None]
    if y.shape != (x.shape[0], 1):
        raise ValueError(f"y must hold one target per sample of x, shape ({x.shape[0]},) or ({x.shape[0]}, 1), "
                         f"got {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must contain only finite values")
    return x, y


def train(x, y, *, width: int, parametrization: str = "sp", learning_rate: float = 1e-3, steps: int = 10,
          batch_size: int = 64, base_width: int = 64, seed=0) -> pd.DataFrame:
    """Train the MLP with Adam for ``steps`` steps and record the activations after every step.

    The mini-batches are drawn from ``(x, y)`` in a seeded random order (with exactly
    ``batch_size`` samples, every step uses all of them); the activations are
    measured on the first ``batch_size`` samples of ``x`` (a fixed probe batch) at
    step 0 (initialization) and after every step.

    Returns
    -------
    pandas.DataFrame
        One row per step (0 .. ``steps``) with ``step``, ``loss`` (mean squared error on
        the probe batch), and for each of ``h1``, ``h2`` (hidden pre-activations) and
        ``out`` the RMS of its entries on the probe batch (``h1_rms`` ...) and the RMS
        of its change since initialization (``h1_delta`` ...). A run that overflows
        gives inf/NaN from that step on.
    """
    x, y = _check_xy(x, y)
    width, parametrization, base_width = _check(width, parametrization, base_width)
    learning_rate = check_positive_float(learning_rate, "learning_rate")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    rows = []
    _run(x, y, width, parametrization, learning_rate, steps, batch_size, base_width, seed, rows)
    columns = ["step", "loss", "h1_rms", "h1_delta", "h2_rms", "h2_delta", "out_rms", "out_delta"]
    return pd.DataFrame(rows, columns=columns)


def _run(x, y, width, parametrization, learning_rate, steps, batch_size, base_width, seed, rows=None):
    """Adam on the MLP; appends per-step measurements to ``rows`` when given; returns the final weights."""
    rng = as_generator(seed)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    params = {k: v.astype(np.float32) for k, v in
              init_params(x.shape[1], width, parametrization=parametrization, base_width=base_width, seed=rng).items()}
    rates = {k: learning_rate * m for k, m in learning_rate_multipliers(width, parametrization,
                                                                          base_width=base_width).items()}
    m1 = {k: np.zeros_like(v) for k, v in params.items()}
    m2 = {k: np.zeros_like(v) for k, v in params.items()}
    probe, probe_y = x32[:batch_size], y32[:batch_size]
    start = _forward(params, probe) if rows is not None else None

    def record(step):
        h1, _, h2, _, f = _forward(params, probe)
        rows.append((step, float(np.mean((f - probe_y) ** 2)), _rms(h1), _rms(h1 - start[0]), _rms(h2),
                     _rms(h2 - start[2]), _rms(f), _rms(f - start[4])))

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if rows is not None:
            record(0)
        order = rng.permutation(x.shape[0])
        position = 0
        for step in range(1, steps + 1):
            if position + batch_size > x.shape[0]:
                order, position = rng.permutation(x.shape[0]), 0
            index = order[position:position + batch_size]
            position += batch_size
            _, grads = _gradients(params, x32[index], y32[index])
            for k in LAYERS:
                m1[k] = _BETA1 * m1[k] + (1 - _BETA1) * grads[k]
                m2[k] = _BETA2 * m2[k] + (1 - _BETA2) * grads[k] ** 2
                m_hat = m1[k] / (1 - _BETA1**step)
                v_hat = m2[k] / (1 - _BETA2**step)
                params[k] = (params[k] - rates[k] * m_hat / (np.sqrt(v_hat) + _EPS)).astype(np.float32)
            if rows is not None:
                record(step)
    return params


def _check_seed(value, name) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer seed, got {value!r}")
    return int(value)


def _check_list(values, name, check):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence, got {values!r}")
    values = [check(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


def coordinate_check(x, y, *, widths, learning_rate: float = 1e-2, steps: int = 5, seeds=(0, 1, 2),
                     parametrizations=PARAMETRIZATIONS, batch_size: int = 64, base_width: int = 64) -> pd.DataFrame:
    """The coordinate check of Yang et al.: activation sizes after a few steps, across widths.

    Trains every (parametrization, width, seed) with :func:`train` at the same
    ``learning_rate`` and returns its rows with ``parametrization``, ``width`` and
    ``seed`` columns added (one row per step).
    """
    widths = _check_list(widths, "widths", check_positive_int)
    seeds = _check_list(seeds, "seeds", _check_seed)
    parametrizations = _check_list(parametrizations, "parametrizations",
                                   lambda p, n: check_choice(p, n, PARAMETRIZATIONS))
    frames = []
    for p in parametrizations:
        for n in widths:
            for s in seeds:
                frame = train(x, y, width=n, parametrization=p, learning_rate=learning_rate, steps=steps,
                              batch_size=batch_size, base_width=base_width, seed=s)
                frames.append(frame.assign(parametrization=p, width=n, seed=s))
    columns = ["parametrization", "width", "seed"]
    result = pd.concat(frames, ignore_index=True)
    return result[columns + [c for c in result.columns if c not in columns]]


def learning_rate_sweep(x, y, *, widths, learning_rates, steps: int = 30, seeds=(0, 1, 2),
                        parametrizations=PARAMETRIZATIONS, batch_size: int = 64,
                        base_width: int = 64) -> pd.DataFrame:
    """Final training loss for every (parametrization, width, learning rate, seed).

    Returns columns ``parametrization``, ``width``, ``learning_rate``, ``seed`` and
    ``loss`` (mean squared error on all of ``(x, y)`` after ``steps`` Adam steps of
    mini-batches of ``batch_size``; inf/NaN for a run that diverged).
    """
    x, y = _check_xy(x, y)
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    base_width = check_positive_int(base_width, "base_width")
    widths = _check_list(widths, "widths", check_positive_int)
    learning_rates = _check_list(learning_rates, "learning_rates", check_positive_float)
    seeds = _check_list(seeds, "seeds", _check_seed)
    parametrizations = _check_list(parametrizations, "parametrizations",
                                   lambda p, n: check_choice(p, n, PARAMETRIZATIONS))
    rows = []
    for p in parametrizations:
        for n in widths:
            for lr in learning_rates:
                for s in seeds:
                    params = _run(x, y, n, p, lr, steps, batch_size, base_width, s)
                    with np.errstate(over="ignore", invalid="ignore"):
                        f = _forward(params, x.astype(np.float32))[4]
                        rows.append((p, n, lr, s, float(np.mean((f - y) ** 2))))
    return pd.DataFrame(rows, columns=["parametrization", "width", "learning_rate", "seed", "loss"])
