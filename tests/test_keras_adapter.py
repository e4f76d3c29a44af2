"""Tests of initcourse.kerastools.keras_adapter: course initializers inside Keras layers."""

import numpy as np
import pytest

from initcourse import initializers as inits
from initcourse import settings
from initcourse.kerastools.keras_adapter import KerasInitializer, keras_initializer

keras = settings.quiet_tensorflow()


@pytest.fixture
def fresh_registry(monkeypatch):
    """Registrations made by a test disappear after it."""
    monkeypatch.setattr(inits, "_registry", dict(inits._registry))


def scaled_ones(shape, *, seed=None, dtype="float32", factor=2.0):
    return np.full(shape, factor, dtype=dtype)


def dense_model(initializer, units=5, inputs=7):
    return keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(units, kernel_initializer=initializer)])


def conv_model(initializer):
    return keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, kernel_initializer=initializer)]
    )


# Keras' own model.save converts its TensorFlow variables with np.array(x), which
# NumPy 2 flags with this DeprecationWarning; nothing in the package causes it.
keras_save_warning = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def kernel(model):
    return model.layers[0].kernel.numpy()


def test_is_a_keras_initializer_registered_for_saving():
    assert isinstance(KerasInitializer("he_normal"), keras.initializers.Initializer)
    assert keras.saving.get_registered_name(KerasInitializer) == "initcourse>KerasInitializer"


@pytest.mark.parametrize("make_model, shape", [(dense_model, (7, 5)), (conv_model, (3, 3, 3, 4))])
def test_layer_kernel_is_exactly_the_numpy_initializer(make_model, shape):
    model = make_model(KerasInitializer("he_normal", seed=1))
    assert kernel(model).shape == shape
    np.testing.assert_array_equal(kernel(model), inits.he_normal(shape, seed=1))


def test_params_reach_the_numpy_initializer():
    model = dense_model(KerasInitializer("orthogonal", seed=3, gain=2.0))
    np.testing.assert_array_equal(kernel(model), inits.orthogonal((7, 5), seed=3, gain=2.0))


def test_aliases_work():
    model = dense_model(KerasInitializer("kaiming_uniform", seed=2))
    np.testing.assert_array_equal(kernel(model), inits.he_uniform((7, 5), seed=2))


def test_int_seed_gives_the_same_array_at_every_call():
    initializer = KerasInitializer("glorot_uniform", seed=5)
    np.testing.assert_array_equal(initializer((4, 4)), initializer((4, 4)))


def test_no_seed_draws_from_numpy_global_state():
    initializer = KerasInitializer("glorot_uniform")
    np.random.seed(0)
    first, second = initializer((4, 4)), initializer((4, 4))
    assert not np.array_equal(first, second)  # two layers sharing it differ
    np.random.seed(0)
    np.testing.assert_array_equal(first, initializer((4, 4)))


def test_settings_setup_makes_unseeded_models_reproducible():
    settings.setup(seed=3)
    first = kernel(dense_model(KerasInitializer("he_normal")))
    settings.setup(seed=3)
    again = kernel(dense_model(KerasInitializer("he_normal")))
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_returns_a_tensor_of_the_requested_dtype(dtype):
    values = KerasInitializer("lecun_normal", seed=0)((3, 6), dtype=dtype)
    assert keras.ops.is_tensor(values)
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    assert tuple(values.shape) == (3, 6)


def test_default_dtype_is_keras_floatx():
    values = KerasInitializer("zeros")((2, 2))
    assert keras.backend.standardize_dtype(values.dtype) == keras.config.floatx()


def test_get_config_and_from_config():
    initializer = KerasInitializer("random_normal", seed=4, stddev=0.1)
    config = initializer.get_config()
    assert config == {"name": "random_normal", "seed": 4, "params": {"stddev": 0.1}}
    clone = KerasInitializer.from_config(config)
    np.testing.assert_array_equal(clone((5, 5)), initializer((5, 5)))


def test_keras_initializer_builds_the_same_instance():
    made = keras_initializer("truncated_normal", seed=9, stddev=0.2)
    assert isinstance(made, KerasInitializer)
    assert made.get_config() == KerasInitializer("truncated_normal", seed=9, stddev=0.2).get_config()


@keras_save_warning
@pytest.mark.parametrize(
    "initializer",
    [KerasInitializer("he_uniform", seed=1), KerasInitializer("random_normal", stddev=0.2)],
    ids=["seeded", "unseeded-with-params"],
)
def test_save_and_load_round_trip(tmp_path, initializer):
    model = dense_model(initializer)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(kernel(loaded), kernel(model))
    restored = loaded.layers[0].kernel_initializer
    assert isinstance(restored, KerasInitializer)
    assert restored.get_config() == initializer.get_config()


@keras_save_warning
def test_registered_custom_function_works_and_round_trips(tmp_path, fresh_registry):
    inits.register("scaled_ones", scaled_ones)
    model = dense_model(KerasInitializer("scaled_ones", factor=3.0))
    np.testing.assert_array_equal(kernel(model), np.full((7, 5), 3.0, dtype=np.float32))
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.layers[0].kernel_initializer.get_config() == {
        "name": "scaled_ones",
        "seed": None,
        "params": {"factor": 3.0},
    }


def test_registered_function_passed_as_callable_is_saved_by_name(fresh_registry):
    inits.register("scaled_ones", scaled_ones)
    assert KerasInitializer(scaled_ones).get_config()["name"] == "scaled_ones"


def test_unregistered_callable_builds_but_cannot_be_saved():
    initializer = KerasInitializer(scaled_ones, factor=0.5)
    np.testing.assert_array_equal(initializer((2, 3)), np.full((2, 3), 0.5, dtype=np.float32))
    with pytest.raises(ValueError, match="register it first"):
        initializer.get_config()


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown initializer 'he'"):
        KerasInitializer("he")


@pytest.mark.parametrize(
    "seed, error, message",
    [
        (np.random.default_rng(0), TypeError, "cannot be saved with a model"),
        (-1, ValueError, "seed must be a non-negative integer"),
        (0.5, TypeError, "seed must be None, a non-negative integer"),
    ],
    ids=["Generator", "negative", "float"],
)
def test_bad_seed(seed, error, message):
    with pytest.raises(error, match=message):
        KerasInitializer("he_normal", seed=seed)


def test_unknown_parameter_is_refused_when_created():
    with pytest.raises(TypeError, match="invalid parameters \\['stddev'\\] for initializer 'he_normal'"):
        KerasInitializer("he_normal", stddev=0.1)


def test_bad_parameter_value_is_reported_by_the_numpy_initializer():
    with pytest.raises(ValueError, match="stddev must be positive"):
        KerasInitializer("random_normal", stddev=-1.0)((2, 2))


def test_custom_function_with_wrong_shape_is_reported():
    def flat(shape, *, seed=None, dtype="float32"):
        return np.zeros(int(np.prod(shape)), dtype)

    with pytest.raises(ValueError, match=r"returned shape \(6,\) for shape \(2, 3\)"):
        KerasInitializer(flat)((2, 3))
