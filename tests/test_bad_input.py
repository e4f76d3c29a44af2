"""Reproductions of bad or extreme input: each ends in a correct result or a clear error or warning."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from initcourse import (
    experiments, gains, initializers, inspection, lsuv, models, propagation, settings, spectra, theory,
)
from initcourse._validation import NonFiniteWarning
from initcourse.kerastools.keras_adapter import KerasInitializer

keras = settings.quiet_tensorflow()


# --------------------------------------------------------------------------- saving


def test_unsaveable_initializer_is_refused_before_the_file_is_touched(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"an existing model")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        2, kernel_initializer=KerasInitializer(lambda shape, seed=None, dtype="float32": np.zeros(shape, dtype)))])
    with pytest.raises(ValueError, match=r"not registered \(dense.*kernel_initializer.*Nothing was written"):
        model.save(path)
    with pytest.raises(ValueError, match="not registered"):
        keras.saving.save_model(model, path)
    assert path.read_bytes() == b"an existing model"


def test_saved_model_loads_after_import_initcourse_only(tmp_path):
    path = tmp_path / "model.keras"
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, kernel_initializer=KerasInitializer("he_normal", seed=1))])
    model.save(path)
    for first in ("import initcourse; import keras", "import keras; import initcourse",
                  "import tensorflow; import initcourse; import keras"):
        code = f"{first}; m = keras.models.load_model({str(path)!r}); print(type(m.layers[0].kernel_initializer).__name__)"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert proc.stdout.strip().splitlines()[-1:] == ["KerasInitializer"], (first, proc.stderr[-2000:])


def test_from_config_fills_defaults_and_names_what_is_missing():
    assert KerasInitializer.from_config({"name": "he_normal"}).seed is None
    with pytest.raises(ValueError, match="config must be a dict"):
        KerasInitializer.from_config({"seed": 1})


# --------------------------------------------------------------------------- overflow


def test_propagate_reports_the_layer_where_an_exploding_network_overflows():
    with pytest.warns(NonFiniteWarning, match="propagate: the forward signal overflowed at layer"):
        frame = propagation.propagate(depth=1000, width=16, initializer=1.0, activation="relu", batch=8)
    grads = frame[frame["quantity"].isin(["grad_preactivation", "grad_weight"])]
    assert grads[["var", "frac_zero"]].isna().all().all()  # not "vanishing": unknown
    assert (frame.query("quantity == 'activation' and layer == 1000")["frac_zero"] < 1).all()


def test_normal_runs_stay_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        propagation.propagate(10, 32, batch=50)
        propagation.scale_sweep(np.logspace(-4, 1, 5), depth=10, width=20, batch=50, gradient=True)
        theory.predicted_stats(50, 100, weight_var=0.02)
        spectra.product_singular_values("random_normal", 8, 20, init_params={"stddev": 0.3})


def test_predicted_stats_overflow_is_reported_for_every_activation():
    for activation in ("relu", "selu", "gelu"):
        with pytest.warns(NonFiniteWarning, match="pre-activation variance overflows at layer"):
            frame = theory.predicted_stats(depth=2000, width=100, weight_var=0.05, activation=activation)
        assert np.isinf(frame.query("quantity == 'preactivation' and layer == 2000")["var"]).all()


def test_scale_sweep_refuses_unrepresentable_scales_and_reports_overflow():
    with pytest.raises(ValueError, match="scales must be representable in dtype float32"):
        propagation.scale_sweep([1e40])
    with pytest.warns(NonFiniteWarning, match=r"scale_sweep: the forward signal \(scale=1e\+30\) overflowed at layer 2"):
        frame = propagation.scale_sweep([1.0, 1e30], depth=4, width=10, batch=20)
    assert np.isfinite(frame.query("scale == 1.0")["var"]).all()


def test_spectra_report_the_overflowing_layer_instead_of_failing_in_lapack():
    with pytest.warns(NonFiniteWarning, match="product_singular_values: the Jacobian overflowed .* at layer"):
        frame = spectra.product_singular_values("random_normal", 16, 800, init_params={"stddev": 1.0})
    assert frame["singular_value"].isna().any() and len(frame) == 16 * 800
    with pytest.warns(NonFiniteWarning, match="perturbation_norms"):
        spectra.perturbation_norms("random_normal", 16, 800, init_params={"stddev": 1.0}, n_directions=4)


def test_layer_histograms_limits_the_number_of_bins():
    with pytest.raises(ValueError, match="bins must be at most"):
        propagation.layer_histograms([[1, 2]], bins=10**9)


# --------------------------------------------------------------------------- run_grid cache


def _build():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


DATA = (np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), None, None)


def _grid(cache_dir, **params):
    return experiments.run_grid(_build, DATA, variants={"a": params}, seeds=(0,), epochs=2, batch_size=4,
                                cache_dir=cache_dir)


def test_cut_short_cache_entry_is_trained_again(tmp_path):
    first = _grid(tmp_path)
    (entry,) = tmp_path.glob("*.csv")
    text = entry.read_text()
    entry.write_text(text[: text.rindex(",") + 1])  # the last row loses its last field
    with pytest.warns(UserWarning, match="incomplete cache entry"):
        again = _grid(tmp_path)
    assert np.isfinite(again["seconds"]).all()
    pd.testing.assert_series_equal(first["loss"], again["loss"])


def test_unwritable_cache_falls_back_to_no_cache_naming_the_folder(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.warns(UserWarning, match=f"cache folder '{blocker / 'sub'}' cannot be written"):
        assert len(_grid(blocker / "sub")) == 2
    monkeypatch.setenv(experiments.CACHE_ENV_VAR, str(blocker))
    with pytest.warns(UserWarning, match="cannot be written"):
        assert len(_grid(None)) == 2
    with pytest.raises(ValueError, match="cache_dir must name a folder"):
        _grid("")


def test_cache_entry_replaced_by_a_folder_is_reported_not_raised(tmp_path):
    _grid(tmp_path)
    (entry,) = tmp_path.glob("*.csv")
    entry.unlink()
    entry.mkdir()
    with pytest.warns(UserWarning) as record:
        assert len(_grid(tmp_path)) == 2
    assert any("could not store the cache entry" in str(w.message) for w in record)


def test_cache_keys_do_not_depend_on_the_process():
    # Sets, frozensets and objects with a default repr, keyed in two processes with
    # different string hashing: one subprocess per hash seed computes all three keys.
    code = (
        "from initcourse.kerastools import _cache_keys as e\n"
        "class Plain:\n"
        "    def __init__(self, width):\n"
        "        self.width = width\n"
        "for value in ({3, 1, 'a', (2, 'b')}, frozenset({'x', 'y', 'z'}), Plain(4)):\n"
        "    print(e.cache_key(e.describe({'p': value})))\n"
    )
    outputs = []
    for hash_seed in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout.split())
    assert len(outputs[0]) == 3
    assert outputs[0] == outputs[1]


# --------------------------------------------------------------------------- inspection


def test_embedding_gradients_are_dense_arrays():
    settings.seed_everything(0)
    model = models.imdb_rnn(vocab_size=30, sequence_length=6, embedding_dim=4, units=3)
    x = np.random.default_rng(0).integers(1, 30, (5, 6))
    grads = inspection.weight_gradients(model, x, np.ones((5, 1)), loss="binary_crossentropy")
    assert grads["embedding/embeddings"].shape == (30, 4)
    table = inspection.gradient_table(model, x, np.ones((5, 1)), loss="binary_crossentropy")
    assert np.isfinite(table["norm"]).all()


def test_record_weights_of_a_diverging_run_keeps_every_row():
    settings.seed_everything(0)
    model = models.mlp(8, [16, 16], kernel_initializer=keras.initializers.RandomNormal(stddev=10))
    models.compile_model(model, learning_rate=1.0)
    rng = np.random.default_rng(0)
    frame = inspection.record_weights(model, rng.normal(size=(64, 8)), rng.normal(size=(64, 1)), epochs=2)
    assert len(frame) == 3 * len(model.weights)


def test_numerical_rank_refuses_non_finite_and_handles_float16():
    with pytest.raises(ValueError, match="kernel contains NaN or inf"):
        inspection.numerical_rank(np.array([[np.inf, 1.0], [0.0, 1.0]]))
    assert inspection.numerical_rank(np.eye(3, dtype=np.float16)) == 3


# --------------------------------------------------------------------------- lsuv


def test_lsuv_refuses_a_shared_layer_and_a_dense_inside_a_custom_layer():
    batch = np.random.default_rng(0).normal(size=(32, 4))
    inputs = keras.Input((4,))
    shared = keras.layers.Dense(4, name="shared")
    model = keras.Model(inputs, shared(shared(inputs)))
    with pytest.raises(ValueError, match="layer 'shared' .* called 2 times"):
        lsuv.lsuv(model, batch)

    class Block(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = keras.layers.Dense(4, name="inner")

        def call(self, x):
            return self.inner(x)

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), Block(name="block")])
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="layer 'block' \\(Block\\) contains 'inner'"):
        lsuv.lsuv(model, batch)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))


# --------------------------------------------------------------------------- casts and ranges


@pytest.mark.parametrize("value, dtype", [(300, "int8"), (-1, "uint8"), (0.7, "int32"), (2, "bool")])
def test_constant_refuses_values_the_dtype_cannot_hold(value, dtype):
    with pytest.raises(ValueError, match=f"dtype {dtype}"):
        initializers.constant((2,), value=value, dtype=dtype)


def test_float_overflow_in_the_dtype_is_refused():
    with pytest.raises(ValueError, match="dtype float16 cannot hold"):
        initializers.variance_scaling((16, 16), scale=1e12, dtype="float16", seed=0)
    assert initializers.constant((2,), value=3, dtype="int8").tolist() == [3, 3]


def test_huge_arguments_give_clear_errors_instead_of_overflow():
    assert 0 < gains.gain("leaky_relu", 1e200) < 1e-199
    with pytest.raises(ValueError, match="overflows"):
        initializers.describe("orthogonal", (3, 4), gain=1e300)
    with pytest.raises(ValueError, match="maxval - minval"):
        initializers.random_uniform((3,), minval=-1e308, maxval=1e308)
    with pytest.raises(ValueError, match="shape .* elements, more than"):
        initializers.he_normal((10**30, 2))


# --------------------------------------------------------------------------- registry, settings, models


def test_register_checks_what_the_function_returns():
    with pytest.raises(ValueError, match="must return a numeric array of the requested shape"):
        initializers.register("scalar_init", lambda shape, seed=None, dtype="float32": 1.0)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        initializers.register("short_init", lambda shape, seed=None, dtype="float32": np.zeros(3, dtype))
    assert "scalar_init" not in initializers.available()


def test_a_registered_name_wins_over_the_keras_name_it_shadows():
    def half(shape, *, seed=None, dtype="float32"):
        return np.full(shape, 0.5, dtype)

    assert keras.initializers.get("Orthogonal") is not None  # a name Keras knows
    initializers.register("Orthogonal", half, overwrite=True)
    try:
        model = models.mlp(3, [3], kernel_initializer="Orthogonal")
        dense = [layer for layer in model.layers if hasattr(layer, "kernel")]
        assert np.all(dense[0].kernel.numpy() == 0.5)
    finally:
        initializers._registry.pop("Orthogonal", None)


def test_settings_check_everything_before_changing_anything():
    settings.set_mode(None)
    try:
        with pytest.raises(ValueError, match=r"seed must be an integer from 0 to 2\*\*32 - 1"):
            settings.setup(seed=2**32)
        with pytest.raises(ValueError, match="seed"):
            settings.setup(seed=-1, mode="full")
        assert settings.get_mode() == "quick"
        assert settings.set_mode(" FULL ") == "full"
    finally:
        settings.set_mode(None)


def test_compile_model_names_a_bad_model_or_loss():
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        models.compile_model("x")
    with pytest.raises(ValueError, match="loss must be a Keras loss name"):
        models.compile_model(models.mlp(2, [2]), loss="nope")


# --------------------------------------------------------------------------- token ids


@pytest.fixture(scope="module")
def token_model():
    from initcourse import models

    return models.imdb_rnn(vocab_size=50, sequence_length=8, embedding_dim=4, units=4)


@pytest.mark.parametrize("where", ["doctor", "layer_stats", "inspection"])
def test_float_token_ids_are_refused_not_truncated(token_model, where):
    from initcourse import doctor, inspection, layer_stats

    tokens = np.tile(np.arange(8, dtype="float64"), (4, 1)) + 0.5
    y = np.zeros(4)
    call = {
        "doctor": lambda x: doctor.diagnose(token_model, x, y),
        "layer_stats": lambda x: layer_stats.layer_output_stats(token_model, x),
        "inspection": lambda x: inspection.weight_gradients(token_model, x, y[:, None]),
    }[where]
    with pytest.raises(ValueError, match=r"(x|batch) must hold whole numbers .* token ids"):
        call(tokens)
    with pytest.raises(ValueError, match=r"(x|batch) must hold values in -2147483648\.\.2147483647"):
        call(tokens * 0 + 2.0**40)
    call(np.rint(tokens - 0.5))  # whole numbers stored as floats are fine
