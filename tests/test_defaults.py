"""initcourse.kerastools.defaults: Keras' defaults read live, PyTorch's as tested NumPy mirrors."""

import math

import numpy as np
import pytest

from initcourse import defaults, gains, initializers
from initcourse.settings import quiet_tensorflow

# PyTorch's reset_parameters (torch/nn/modules/*.py), restated: parameter -> (kind, bound or value)
TORCH_DEFINITIONS = {
    ("Linear(64, 32)", "weight"): ("uniform", 1 / math.sqrt(64)),
    ("Linear(64, 32)", "bias"): ("uniform", 1 / math.sqrt(64)),
    ("Conv2d(16, 32, 3)", "weight"): ("uniform", 1 / math.sqrt(16 * 9)),
    ("Conv2d(16, 32, 3)", "bias"): ("uniform", 1 / math.sqrt(16 * 9)),
    ("Embedding(1000, 16)", "weight"): ("normal", 1.0),
    ("MultiheadAttention(32, 4)", "in_proj_weight"): ("uniform", math.sqrt(6 / (32 + 96))),
    ("MultiheadAttention(32, 4)", "out_proj.weight"): ("uniform", 1 / math.sqrt(32)),
    ("MultiheadAttention(32, 4)", "in_proj_bias"): ("constant", 0.0),
    ("MultiheadAttention(32, 4)", "out_proj.bias"): ("constant", 0.0),
    ("BatchNorm2d(32)", "weight"): ("constant", 1.0),
    ("BatchNorm2d(32)", "bias"): ("constant", 0.0),
    ("BatchNorm2d(32)", "running_mean"): ("constant", 0.0),
    ("BatchNorm2d(32)", "running_var"): ("constant", 1.0),
    ("LayerNorm(32)", "weight"): ("constant", 1.0),
    ("LayerNorm(32)", "bias"): ("constant", 0.0),
    **{(f"{cls}(16, 32)", p): ("uniform", 1 / math.sqrt(32))
       for cls in ("LSTM", "GRU") for p in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")},
}


@pytest.fixture(scope="module")
def keras_table():
    return defaults.keras_defaults()


def test_keras_table_columns_and_layers(keras_table):
    assert list(keras_table.columns) == ["layer", "argument", "initializer", "config"]
    assert set(keras_table["layer"]) == set(defaults.KERAS_LAYERS)
    lstm = keras_table.query("layer == 'LSTM'").set_index("argument")
    assert lstm.loc["unit_forget_bias", "config"] == {"value": True}
    assert lstm.loc["recurrent_initializer", "initializer"] == "Orthogonal"


def test_keras_table_agrees_with_the_layers_configs(keras_table):
    keras = quiet_tensorflow()
    for row in keras_table.itertuples():
        config = getattr(keras.layers, row.layer)(**defaults._KERAS_LAYERS[row.layer]).get_config()
        if not isinstance(row.initializer, str):  # a flag such as unit_forget_bias
            assert config[row.argument] == row.config["value"]
        else:
            assert config[row.argument]["class_name"] == row.initializer
            rebuilt = keras.initializers.get(config[row.argument])
            assert type(rebuilt).__name__ == row.initializer
            for key, value in row.config.items():
                assert getattr(rebuilt, key) == value


def test_keras_built_layers_follow_the_table(keras_table):
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(0)
    dense = keras.layers.Dense(300)
    dense.build((None, 500))
    kernel = keras.ops.convert_to_numpy(dense.kernel)
    assert np.abs(kernel).max() <= initializers.describe("glorot_uniform", (500, 300))["limit"]
    assert kernel.std() == pytest.approx(initializers.describe("glorot_uniform", (500, 300))["std"], rel=0.02)
    assert np.all(keras.ops.convert_to_numpy(dense.bias) == 0)
    lstm = keras.layers.LSTM(6)
    lstm.build((None, 4, 3))
    bias = keras.ops.convert_to_numpy(lstm.cell.bias).reshape(4, 6)
    np.testing.assert_array_equal(bias[1], 1.0)
    np.testing.assert_array_equal(bias[[0, 2, 3]], 0.0)
    embedding = keras.layers.Embedding(1000, 16)
    embedding.build((None,))
    assert np.abs(keras.ops.convert_to_numpy(embedding.embeddings)).max() <= 0.05


def test_keras_defaults_errors():
    with pytest.raises(ValueError, match="layers"):
        defaults.keras_defaults(["Dense", "Linear"])
    assert set(defaults.keras_defaults("Dense")["layer"]) == {"Dense"}


def test_torch_table_follows_pytorch_definitions():
    table = defaults.torch_defaults()
    assert list(table.columns[:4]) == ["layer", "argument", "initializer", "config"]
    assert set(zip(table["layer"], table["argument"])) == set(TORCH_DEFINITIONS)
    for row in table.itertuples():
        kind, value = TORCH_DEFINITIONS[(row.layer, row.argument)]
        d = initializers.describe(row.initializer, row.shape, **row.config)
        assert row.std == pytest.approx(d["std"])
        if kind == "uniform":
            assert d["distribution"] == "uniform" and d["limit"] == pytest.approx(value)
        elif kind == "normal":
            assert d["distribution"] == "normal" and d["std"] == pytest.approx(value)
        else:
            assert d["distribution"] == "constant" and d["mean"] == value
        assert row.source.startswith("torch/nn/modules/") and row.source.endswith(".py")


def test_torch_shapes_are_keras_layout_of_pytorch_shapes():
    table = defaults.torch_defaults().set_index(["layer", "argument"])
    assert table.loc[("Conv2d(16, 32, 3)", "weight"), "shape"] == (3, 3, 16, 32)  # torch (32, 16, 3, 3)
    assert table.loc[("LSTM(16, 32)", "weight_ih_l0"), "shape"] == (16, 128)  # torch (4 * 32, 16)
    assert table.loc[("GRU(16, 32)", "weight_hh_l0"), "shape"] == (32, 96)  # torch (3 * 32, 32)


def test_torch_linear_default_is_a_sixth_of_he():
    row = defaults.torch_defaults("Linear").iloc[0]
    assert initializers.describe("he_uniform", row["shape"])["variance"] / row["std"] ** 2 == pytest.approx(6.0)


def test_torch_mirror_draws_every_parameter():
    params = defaults.torch_mirror("MultiheadAttention", seed=0)
    assert {k: v.shape for k, v in params.items()} == {
        "in_proj_weight": (32, 96), "in_proj_bias": (96,), "out_proj.weight": (32, 32), "out_proj.bias": (32,)}
    again = defaults.torch_mirror("MultiheadAttention", seed=0)
    np.testing.assert_array_equal(params["in_proj_weight"], again["in_proj_weight"])
    with pytest.raises(ValueError, match="layers"):
        defaults.torch_mirror("Dense")


def test_recommendations_table():
    table = defaults.recommendations()
    assert table.loc["relu", "gain"] == gains.gain("relu")
    assert table.loc["gelu", "gain"] == pytest.approx(gains.gain("gelu"))
    assert table.loc["selu", "keras"] == "lecun_normal"
    for keras_name in table["keras"]:
        if "(" not in keras_name:
            initializers.get(keras_name)
