"""Tests of initcourse.maths.gains: PyTorch calculate_gain's values, exactly."""

import math

import pytest

from initcourse.maths.gains import ACTIVATIONS, DEFAULT_NEGATIVE_SLOPE, gain

EXPECTED = {
    "linear": 1.0,
    "identity": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "selu": 0.75,
    "leaky_relu": math.sqrt(2.0 / (1.0 + 0.01**2)),
}


def test_every_activation_has_an_expected_value():
    # GELU and SiLU/Swish are computed, and tested in tests/test_gains_frameworks.py
    assert set(ACTIVATIONS) - {"gelu", "silu", "swish"} == set(EXPECTED)


@pytest.mark.parametrize("activation", sorted(EXPECTED))
def test_gain_exact_values(activation):
    assert gain(activation) == EXPECTED[activation]


def test_leaky_relu_default_slope_is_pytorch_default():
    assert DEFAULT_NEGATIVE_SLOPE == 0.01
    assert gain("leaky_relu") == gain("leaky_relu", 0.01)


@pytest.mark.parametrize(
    "slope, expected",
    [
        (0, math.sqrt(2.0)),  # a = 0 is the ReLU
        (0.2, math.sqrt(2.0 / 1.04)),
        (1.0, 1.0),  # a = 1 is the identity
        (math.sqrt(5.0), math.sqrt(1.0 / 3.0)),  # PyTorch's nn.Linear default
    ],
)
def test_leaky_relu_with_slope(slope, expected):
    assert gain("leaky_relu", slope) == pytest.approx(expected, rel=1e-15)


def test_leaky_relu_with_zero_slope_equals_relu():
    assert gain("leaky_relu", 0.0) == gain("relu")


@pytest.mark.parametrize("activation", ["Relu", "mish", "", "softmax"])
def test_unknown_activation_lists_the_accepted_ones(activation):
    with pytest.raises(ValueError, match="activation must be one of .*'relu'.*'leaky_relu'"):
        gain(activation)


def test_non_string_activation_is_rejected():
    with pytest.raises(ValueError, match="activation must be one of"):
        gain(None)


def test_param_for_an_activation_without_parameter_is_rejected():
    with pytest.raises(ValueError, match="param is only used by 'leaky_relu'"):
        gain("relu", 0.1)


def test_negative_slope_is_rejected():
    with pytest.raises(ValueError, match="param must be non-negative"):
        gain("leaky_relu", -0.1)


@pytest.mark.parametrize("param", ["0.1", True])
def test_non_numeric_slope_is_rejected(param):
    with pytest.raises(TypeError, match="param must be a real number"):
        gain("leaky_relu", param)
