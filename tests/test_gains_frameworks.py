"""gains.gain covers PyTorch's calculate_gain and adds GELU and SiLU/Swish from the variance map."""

import math

import numpy as np
import pytest
from scipy import special

from initcourse import gains

# torch.nn.init.calculate_gain (PyTorch 2.x), restated
TORCH_GAINS = {
    **dict.fromkeys(["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                     "conv_transpose3d", "sigmoid"], 1.0),
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4.0,
}


@pytest.mark.parametrize("name, expected", TORCH_GAINS.items())
def test_every_torch_nonlinearity(name, expected):
    assert gains.gain(name) == expected


@pytest.mark.parametrize("slope", [None, 0.0, 0.2, math.sqrt(5)])
def test_leaky_relu_as_torch(slope):
    a = 0.01 if slope is None else slope
    assert gains.gain("leaky_relu", slope) == pytest.approx(math.sqrt(2.0 / (1 + a**2)))


@pytest.mark.parametrize("name, forward", [("gelu", lambda z: z * special.ndtr(z)),
                                           ("silu", lambda z: z * special.expit(z)),
                                           ("swish", lambda z: z * special.expit(z))])
def test_smooth_gains_keep_unit_variance(name, forward):
    z = np.random.default_rng(0).standard_normal(2_000_000)
    monte_carlo = 1 / np.sqrt(np.mean(forward(z) ** 2))
    assert gains.gain(name) == pytest.approx(monte_carlo, rel=5e-3)


def test_smooth_gain_values():
    assert gains.gain("gelu") == pytest.approx(1.53353, abs=1e-5)
    assert gains.gain("silu") == gains.gain("swish") == pytest.approx(1.67653, abs=1e-5)


def test_variance_gain_reproduces_homogeneous_gains():
    assert gains.variance_gain("relu") == pytest.approx(math.sqrt(2), rel=1e-10)
    assert gains.variance_gain("linear") == pytest.approx(1.0, rel=1e-10)
    assert gains.variance_gain("selu") == pytest.approx(1.0, rel=1e-6)  # self-normalizing


def test_smooth_gain_rejects_param_and_unknown_names():
    with pytest.raises(ValueError, match="param"):
        gains.gain("gelu", 0.1)
    with pytest.raises(ValueError, match="activation"):
        gains.variance_gain("softplus")
    assert {"gelu", "silu", "swish"} <= set(gains.ACTIVATIONS)
