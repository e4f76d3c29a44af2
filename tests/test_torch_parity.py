"""The NumPy mirrors of PyTorch against real PyTorch (``make test-torch``).

Skipped where PyTorch is not installed (it is an optional extra:
``pip install -e ".[torch]"``); ``make test-torch`` sets INITCOURSE_REQUIRE_TORCH=1 so
that a missing PyTorch fails instead. PyTorch stores weights ``(out, in, *spatial)``;
they are compared in Keras' layout ``(*spatial, in, out)``, where the course's
initializers draw them.
"""

import math
import os

import numpy as np
import pytest

from initcourse import defaults, initializers

if os.environ.get("INITCOURSE_REQUIRE_TORCH") == "1":
    import torch
else:
    torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402


def _keras_layout(tensor):
    array = tensor.detach().double().numpy()
    return array if array.ndim < 2 else np.moveaxis(array, (0, 1), (-1, -2))


def _modules():
    return {
        "Linear(64, 32)": nn.Linear(64, 32),
        "Conv2d(16, 32, 3)": nn.Conv2d(16, 32, 3),
        "Embedding(1000, 16)": nn.Embedding(1000, 16),
        "LSTM(16, 32)": nn.LSTM(16, 32),
        "GRU(16, 32)": nn.GRU(16, 32),
        "BatchNorm2d(32)": nn.BatchNorm2d(32),
        "LayerNorm(32)": nn.LayerNorm(32),
        "MultiheadAttention(32, 4)": nn.MultiheadAttention(32, 4),
    }


def _parameter(module, name):
    state = dict(module.named_parameters()) | dict(module.named_buffers())
    return state[name]


def _check_sample(values, d, n_sigma=6):
    values = values.ravel()
    if d["variance"] == 0:
        np.testing.assert_array_equal(values, d["mean"])
        return
    assert abs(values.mean() - d["mean"]) < n_sigma * d["std"] / math.sqrt(values.size)
    se = d["variance"] * math.sqrt((d["kurtosis"] - 1) / values.size)
    assert abs(values.var() - d["variance"]) < n_sigma * se
    if d["limit"] is not None:
        assert np.abs(values).max() <= d["limit"] * (1 + 1e-6)


def test_torch_defaults_match_real_layers():
    torch.manual_seed(0)
    modules = _modules()
    for row in defaults.torch_defaults().itertuples():
        tensor = _parameter(modules[row.layer], row.argument)
        # an embedding table is (num_embeddings, dim) in both frameworks
        real = tensor.detach().double().numpy() if row.layer.startswith("Embedding") else _keras_layout(tensor)
        assert real.shape == tuple(row.shape), (row.layer, row.argument)
        _check_sample(real, initializers.describe(row.initializer, row.shape, **row.config))


@pytest.mark.parametrize("shape", [(256, 128), (3, 3, 32, 64)])
@pytest.mark.parametrize("kwargs", [{}, {"a": math.sqrt(5)}, {"mode": "fan_out", "nonlinearity": "relu"},
                                    {"a": 0.2, "mode": "fan_out"}])
@pytest.mark.parametrize("name", ["kaiming_uniform", "kaiming_normal"])
def test_kaiming(name, kwargs, shape):
    torch.manual_seed(0)
    torch_shape = (shape[-1], shape[-2], *shape[:-2])
    real = _keras_layout(getattr(nn.init, name + "_")(torch.empty(torch_shape), **kwargs))
    _check_sample(real, initializers.describe("torch_" + name, shape, **kwargs))


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal"])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(name, gain):
    shape = (3, 3, 32, 64)
    real = _keras_layout(getattr(nn.init, name + "_")(torch.empty(64, 32, 3, 3), gain=gain))
    _check_sample(real, initializers.describe("torch_" + name, shape, gain=gain))


@pytest.mark.parametrize("kwargs", [{}, {"std": 0.02}, {"mean": 0.5, "std": 1.0, "a": -1.0, "b": 1.0}])
def test_trunc_normal(kwargs):
    torch.manual_seed(0)
    real = nn.init.trunc_normal_(torch.empty(200_000), **kwargs).double().numpy()
    _check_sample(real, initializers.describe("torch_trunc_normal", (200_000,), **kwargs))


def test_sparse_on_the_same_shape():
    torch.manual_seed(0)
    real = nn.init.sparse_(torch.empty(50, 40), sparsity=0.3, std=0.5).numpy()
    ours = initializers.sparse((50, 40), seed=0, sparsity=0.3, std=0.5)
    np.testing.assert_array_equal((real == 0).sum(axis=0), (ours == 0).sum(axis=0))


@pytest.mark.parametrize("groups", [1, 2])
def test_dirac_exactly(groups):
    real = _keras_layout(nn.init.dirac_(torch.empty(6, 6 // groups, 3, 3), groups=groups))
    np.testing.assert_array_equal(real, initializers.dirac((3, 3, 6 // groups, 6), groups=groups))


def test_eye_with_gain_is_identity():
    np.testing.assert_array_equal(nn.init.eye_(torch.empty(4, 6)).numpy() * 0.5,
                                  initializers.identity((4, 6), gain=0.5))


@pytest.mark.parametrize("name", ["linear", "conv2d", "sigmoid", "tanh", "relu", "selu"])
def test_calculate_gain(name):
    from initcourse import gains

    assert gains.gain(name) == pytest.approx(nn.init.calculate_gain(name))
