import warnings

import numpy as np
import pytest

from initcourse import activations
from initcourse.settings import quiet_tensorflow

X = np.concatenate([np.linspace(-6.0, 6.0, 241), [-1e-3, 1e-3, -30.0, 30.0]])


def _keras_function(keras, name, param):
    """The Keras 3 activation with the course's parameter."""
    if name == "leaky_relu":
        return lambda x: keras.activations.leaky_relu(x, negative_slope=param)
    if name == "elu":
        return lambda x: keras.activations.elu(x, alpha=param)
    return getattr(keras.activations, name)


CASES = [(name, None) for name in activations.NAMES if name not in ("leaky_relu", "elu")] + [
    ("leaky_relu", None),
    ("leaky_relu", 0.2),
    ("elu", None),
    ("elu", 0.5),
]


@pytest.fixture(scope="module")
def keras():
    return quiet_tensorflow()


@pytest.mark.parametrize("name, param", CASES)
def test_forward_matches_keras(keras, name, param):
    act = activations.get(name, param)
    expected = keras.ops.convert_to_numpy(_keras_function(keras, name, act.param)(X.astype("float32")))
    # float32 Keras against float64 NumPy: agreement to float32 rounding
    np.testing.assert_allclose(act.forward(X), expected, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name, param", CASES)
def test_derivative_matches_tensorflow_gradient(keras, name, param):
    import tensorflow as tf

    act = activations.get(name, param)
    x = tf.constant(X, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = _keras_function(keras, name, act.param)(x)
    expected = tape.gradient(y, x).numpy()
    # float64 on both sides: agreement to rounding, except that TensorFlow keeps the
    # leaky slope as a float32 attribute (relative error 3e-8) and that its erfc
    # (in gelu) is accurate to about 1e-9 only. At 0 conventions differ (module
    # docstring): compared in test_left_derivative_at_the_kink.
    rtol, atol = {"gelu": (1e-5, 1e-8), "leaky_relu": (1e-7, 0.0)}.get(name, (1e-12, 1e-14))
    nonzero = X != 0
    np.testing.assert_allclose(act.derivative(X)[nonzero], expected[nonzero], rtol=rtol, atol=atol)


@pytest.mark.parametrize("name, param", CASES)
def test_derivative_matches_central_differences(name, param):
    act = activations.get(name, param)
    x = X[np.abs(X) > 1e-2]  # away from the kink at 0
    step = 1e-6
    numeric = (act.forward(x + step) - act.forward(x - step)) / (2 * step)
    # central differences of smooth pieces: error O(step**2 f''') plus rounding O(eps / step) ~ 1e-10
    np.testing.assert_allclose(act.derivative(x), numeric, rtol=1e-7, atol=1e-8)


def test_left_derivative_at_the_kink(keras):
    import tensorflow as tf

    x = tf.constant(0.0, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = keras.activations.relu(x)
    assert activations.get("relu").derivative(0.0) == tape.gradient(y, x).numpy() == 0.0
    assert activations.get("selu").derivative(0.0) == activations.SELU_SCALE * activations.SELU_ALPHA
    assert activations.get("leaky_relu", 0.2).derivative(0.0) == 0.2
    assert activations.get("elu", 0.5).derivative(0.0) == 0.5
    assert activations.get("linear").derivative(0.0) == 1.0


def test_selu_uses_keras_constants_and_gelu_is_exact():
    selu = activations.get("selu")
    np.testing.assert_allclose(selu.forward(1.0), 1.0507009873554805, rtol=1e-15)
    np.testing.assert_allclose(selu.forward(-np.inf), -1.0507009873554805 * 1.6732632423543772, rtol=1e-15)
    # gelu(x) = x * Phi(x), Phi(1) = 0.8413447460685429
    np.testing.assert_allclose(activations.get("gelu").forward(1.0), 0.8413447460685429, rtol=1e-15)


def test_default_parameters():
    assert activations.get("leaky_relu").param == 0.01  # PyTorch's, as initcourse.maths.gains
    assert activations.get("elu").param == 1.0
    assert activations.get("relu").param is None


@pytest.mark.parametrize("name", activations.NAMES)
def test_dtype_is_kept_and_ints_become_float(name):
    act = activations.get(name)
    x32 = X.astype(np.float32)
    assert act.forward(x32).dtype == np.float32
    assert act.derivative(x32).dtype == np.float32
    assert act.forward(np.arange(-3, 4)).dtype == np.float64
    assert act.forward(X.reshape(5, -1)).shape == (5, X.size // 5)


@pytest.mark.parametrize("name", activations.NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_into_out_even_in_place(name, dtype):
    act = activations.get(name)
    x = X.astype(dtype)
    expected = act.forward(x)
    out = np.empty_like(x)
    assert act.forward(x, out=out) is out
    np.testing.assert_array_equal(out, expected)
    assert act.forward(x, out=x) is x
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("name", activations.NAMES)
def test_no_overflow_warning_for_large_inputs(name):
    act = activations.get(name)
    x = np.array([-1e4, -800.0, 800.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isfinite(act.forward(x)))
        assert np.all(np.isfinite(act.derivative(x)))


def test_get_returns_an_activation_as_is():
    act = activations.get("leaky_relu", 0.3)
    assert activations.get(act) is act
    assert act.name == "leaky_relu" and act == activations.get("leaky_relu", 0.3)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="activation must be one of .*'relu'.*got 'swish'"):
        activations.get("swish")


@pytest.mark.parametrize(
    "args, error, match",
    [
        (("relu", 0.1), ValueError, "param is only used by 'leaky_relu' and 'elu'"),
        (("leaky_relu", -0.1), ValueError, "param must be non-negative"),
        (("elu", 0.0), ValueError, "param must be positive"),
        (("elu", "1"), TypeError, "param must be a real number"),
        ((activations.get("relu"), 0.1), ValueError, "param must be None"),
        ((3,), ValueError, "activation must be one of"),
    ],
)
def test_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        activations.get(*args)
