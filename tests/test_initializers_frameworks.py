"""The frameworks' other schemes: Keras Identity, PyTorch's dirac_, sparse_, kaiming_*, xavier_*, trunc_normal_.

Keras is checked live; PyTorch through its definitions (torch/nn/init.py), restated
here with PyTorch's constants. tests/test_torch_parity.py compares with real torch
when it is installed (make test-torch).
"""

import math

import numpy as np
import pytest
from scipy import stats

from initcourse import gains, initializers
from initcourse.maths.fans import compute_fans
from initcourse.settings import quiet_tensorflow

NEW = [
    "identity",
    "dirac",
    "sparse",
    "torch_kaiming_uniform",
    "torch_kaiming_normal",
    "torch_xavier_uniform",
    "torch_xavier_normal",
    "torch_trunc_normal",
]


def _shape(name):
    return (3, 3, 8, 8) if name == "dirac" else (400, 300)


@pytest.mark.parametrize("name", NEW)
def test_registered_and_float32_and_reproducible(name):
    fn = initializers.get(name)
    assert name in initializers.available()
    a, b = fn(_shape(name), seed=3), fn(_shape(name), seed=3)
    assert a.dtype == np.float32 and a.shape == _shape(name)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NEW)
def test_sample_moments_match_describe(name):
    shape = _shape(name)
    values = initializers.get(name)(shape, seed=0, dtype="float64").ravel()
    d = initializers.describe(name, shape)
    n = values.size
    if d["variance"] == 0:
        return
    se_var = d["variance"] * math.sqrt((d["kurtosis"] - 1) / n)
    assert abs(values.var() - d["variance"]) < 5 * se_var
    assert abs(values.mean() - d["mean"]) < 5 * d["std"] / math.sqrt(n) + 1e-12
    if d["limit"] is not None:
        assert np.abs(values).max() <= d["limit"] + 1e-12


# ------------------------------------------------------------------ Keras Identity


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (6, 2)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_identity_equals_keras_identity(shape, gain):
    keras = quiet_tensorflow()
    expected = keras.ops.convert_to_numpy(keras.initializers.Identity(gain=gain)(shape))
    np.testing.assert_array_equal(initializers.identity(shape, gain=gain), expected)


def test_identity_rejects_non_matrices():
    with pytest.raises(ValueError, match="2-D shape.*dirac"):
        initializers.identity((3, 3, 4, 4))


# ------------------------------------------------------------------ PyTorch dirac_


@pytest.mark.parametrize("shape", [(3, 6, 6), (3, 3, 6, 6), (3, 3, 3, 4, 4)])
def test_dirac_same_convolution_is_identity_in_keras(shape):
    keras = quiet_tensorflow()
    spatial, channels = shape[:-2], shape[-1]
    conv = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}[len(spatial)]
    layer = conv(channels, spatial, padding="same", kernel_initializer="zeros")
    x = np.random.default_rng(0).standard_normal((2, *(5,) * len(spatial), channels)).astype("float32")
    layer.build(x.shape)
    layer.kernel.assign(initializers.dirac(shape))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x, atol=1e-6)


def test_dirac_matches_torch_definition_with_groups():
    # torch: weight[g * out_per_group + d, d, centre...] = 1 for d < min(out_per_group, in)
    kernel = initializers.dirac((3, 3, 2, 6), groups=2)
    expected = np.zeros((6, 2, 3, 3))  # PyTorch layout (out, in/groups, kh, kw)
    for g in range(2):
        for d in range(2):
            expected[g * 3 + d, d, 1, 1] = 1
    np.testing.assert_array_equal(kernel, expected.transpose(2, 3, 1, 0))


def test_dirac_grouped_same_convolution_is_identity_in_keras():
    keras = quiet_tensorflow()
    layer = keras.layers.Conv2D(4, 3, padding="same", groups=2, kernel_initializer="zeros")
    x = np.random.default_rng(1).standard_normal((1, 5, 5, 4)).astype("float32")
    layer.build(x.shape)
    layer.kernel.assign(initializers.dirac((3, 3, 2, 4), groups=2))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x, atol=1e-6)


@pytest.mark.parametrize("shape, groups, match", [((4, 4), 1, "1 to 3 spatial"), ((3, 3, 4, 6), 4, "groups must divide")])
def test_dirac_errors(shape, groups, match):
    with pytest.raises(ValueError, match=match):
        initializers.dirac(shape, groups=groups)


# ------------------------------------------------------------------ sparse (Martens 2010)


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_sparse_zeros_per_output_unit(sparsity):
    w = initializers.sparse((50, 40), seed=0, sparsity=sparsity, std=0.5)
    zeros_per_column = (w == 0).sum(axis=0)
    assert np.all(zeros_per_column == math.ceil(sparsity * 50))


def test_sparse_nonzeros_are_normal_with_std():
    w = initializers.sparse((400, 300), seed=1, sparsity=0.75, std=0.2, dtype="float64")
    nonzero = w[w != 0]
    assert abs(nonzero.std() - 0.2) < 5 * 0.2 / math.sqrt(2 * nonzero.size)
    assert stats.kstest(nonzero / 0.2, "norm").pvalue > 1e-3


@pytest.mark.parametrize("kwargs, match", [({"sparsity": 1.5}, "sparsity"), ({"std": 0}, "std")])
def test_sparse_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        initializers.sparse((4, 4), **kwargs)
    with pytest.raises(ValueError, match="2-D"):
        initializers.sparse((4,))


# ------------------------------------------------------------------ kaiming_* and xavier_*


def _torch_gain(nonlinearity, a):
    # torch.nn.init.calculate_gain, restated
    return {"relu": math.sqrt(2.0), "tanh": 5.0 / 3.0, "linear": 1.0, "selu": 0.75}.get(
        nonlinearity, math.sqrt(2.0 / (1 + a**2))
    )


@pytest.mark.parametrize("shape", [(64, 32), (3, 3, 16, 8), (5, 7, 2)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("leaky_relu", 0.0), ("leaky_relu", math.sqrt(5)), ("leaky_relu", 0.2),
                                             ("relu", 0.0), ("tanh", 0.0), ("linear", 0.0)])
def test_kaiming_follows_torch_definition(shape, mode, nonlinearity, a):
    fan_in, fan_out = compute_fans(shape)
    std = _torch_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    uniform = initializers.describe("torch_kaiming_uniform", shape, a=a, mode=mode, nonlinearity=nonlinearity)
    normal = initializers.describe("torch_kaiming_normal", shape, a=a, mode=mode, nonlinearity=nonlinearity)
    assert uniform["distribution"] == "uniform" and uniform["limit"] == pytest.approx(math.sqrt(3) * std)
    assert normal["distribution"] == "normal" and normal["std"] == pytest.approx(std)


def test_kaiming_defaults_are_he_and_sqrt5_is_torch_linear_default():
    shape = (3, 3, 16, 8)
    assert initializers.describe("torch_kaiming_uniform", shape)["limit"] == pytest.approx(
        initializers.describe("he_uniform", shape)["limit"])
    assert initializers.describe("torch_kaiming_uniform", shape, a=math.sqrt(5))["limit"] == pytest.approx(
        initializers.describe("torch_linear_default", shape)["limit"])
    np.testing.assert_array_equal(
        initializers.torch_kaiming_uniform(shape, seed=2, a=math.sqrt(5)),
        initializers.torch_linear_default(shape, seed=2))


def test_kaiming_normal_is_untruncated_unlike_keras_he_normal():
    keras = quiet_tensorflow()
    shape = (500, 400)
    ours = initializers.torch_kaiming_normal(shape, seed=0, nonlinearity="relu")
    theirs = keras.ops.convert_to_numpy(keras.initializers.HeNormal(seed=0)(shape))
    std = math.sqrt(2 / 500)
    assert np.abs(theirs).max() <= 2 * std / initializers.TRUNCATED_NORMAL_STD + 1e-6
    assert (np.abs(ours) > 2 * std / initializers.TRUNCATED_NORMAL_STD).mean() > 0.02
    assert ours.var() == pytest.approx(theirs.var(), rel=0.02)


@pytest.mark.parametrize("shape", [(64, 32), (3, 3, 16, 8)])
def test_xavier_gain_one_is_keras_glorot(shape):
    keras = quiet_tensorflow()
    glorot = keras.ops.convert_to_numpy(keras.initializers.GlorotUniform(seed=0)(shape))
    d = initializers.describe("torch_xavier_uniform", shape)
    assert np.abs(glorot).max() <= d["limit"] and np.abs(glorot).max() > 0.95 * d["limit"]
    assert initializers.describe("torch_xavier_normal", shape, gain=gains.gain("tanh"))["std"] == pytest.approx(
        5 / 3 * math.sqrt(2 / sum(compute_fans(shape))))


@pytest.mark.parametrize("name", ["torch_kaiming_uniform", "torch_kaiming_normal"])
def test_kaiming_errors(name):
    fn = initializers.get(name)
    with pytest.raises(ValueError, match="mode"):
        fn((4, 4), mode="fan_avg")
    with pytest.raises(ValueError, match="only used with nonlinearity='leaky_relu'"):
        fn((4, 4), a=0.1, nonlinearity="relu")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        fn((4,))
    with pytest.raises(ValueError, match="activation"):
        fn((4, 4), nonlinearity="softplus")


# ------------------------------------------------------------------ trunc_normal_


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 1.0, -1.0, 1.0), (0.0, 0.02, -2.0, 2.0),
                                             (1.0, 2.0, 0.0, 10.0)])
def test_trunc_normal_matches_scipy_truncnorm(mean, std, a, b):
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    d = initializers.describe("torch_trunc_normal", (10,), mean=mean, std=std, a=a, b=b)
    assert d["mean"] == pytest.approx(law.mean(), abs=1e-12 + 1e-9 * std)
    assert d["variance"] == pytest.approx(law.var(), rel=1e-9)
    assert d["kurtosis"] == pytest.approx(law.stats(moments="k") + 3, rel=1e-6)
    x = initializers.torch_trunc_normal((20000,), seed=0, mean=mean, std=std, a=a, b=b, dtype="float64")
    assert x.min() >= a and x.max() <= b
    assert stats.kstest(x, law.cdf).pvalue > 1e-3


def test_trunc_normal_bounds_are_absolute_not_in_stddevs():
    x = initializers.torch_trunc_normal((100000,), seed=0, std=0.02)
    assert x.std() == pytest.approx(0.02, rel=0.02)  # ±2 is 100 std away: nothing is cut
    keras_like = initializers.truncated_normal((100000,), seed=0, stddev=0.02)
    assert keras_like.std() < 0.9 * 0.02


@pytest.mark.parametrize("kwargs, match", [({"a": 1.0, "b": 1.0}, "a < b"), ({"a": 50.0, "b": 60.0}, "almost none"),
                                           ({"std": -1.0}, "std")])
def test_trunc_normal_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        initializers.torch_trunc_normal((3,), **kwargs)


def test_new_initializers_work_in_keras_layers():
    keras = quiet_tensorflow()
    from initcourse.kerastools.keras_adapter import KerasInitializer

    layer = keras.layers.Dense(6, kernel_initializer=KerasInitializer("identity", gain=2.0))
    layer.build((None, 6))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.kernel), 2 * np.eye(6))
    dense = keras.layers.Dense(8, kernel_initializer=KerasInitializer("torch_kaiming_normal", seed=0, mode="fan_out"))
    dense.build((None, 4))
    assert tuple(dense.kernel.shape) == (4, 8)
