import numpy as np
import pytest

from initcourse import datadep, models
from initcourse.settings import quiet_tensorflow

keras = quiet_tensorflow()


def _batch(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (5.0 + 20.0 * rng.standard_normal(shape)).astype("float32")


def test_every_dense_unit_is_standardized_exactly():
    model = models.mlp(12, [32, 32, 32], activation="relu", output_units=3)
    batch = _batch((128, 12))
    report = datadep.weightnorm_init(model, batch, seed=0)
    assert list(report["layer"]) == ["dense_1", "dense_2", "dense_3", "output"]
    units = datadep.unit_moments(model, batch)
    np.testing.assert_allclose(units["mean"], 0.0, atol=1e-4)
    np.testing.assert_allclose(units["std"], 1.0, rtol=1e-4)
    np.testing.assert_allclose(report["std_after"], 1.0, rtol=1e-4)


def test_init_scale_and_keep_directions():
    model = models.mlp(6, [16], activation="tanh", output_units=2)
    before = model.get_layer("dense_1").kernel.numpy()
    batch = _batch((64, 6))
    datadep.weightnorm_init(model, batch, directions="keep", init_scale=0.1)
    after = model.get_layer("dense_1").kernel.numpy()
    ratio = after / before  # each column rescaled by one positive factor
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[0], ratio.shape), rtol=1e-4)
    assert np.all(ratio > 0)
    np.testing.assert_allclose(datadep.unit_moments(model, batch)["std"], 0.1, rtol=1e-4)


def test_conv_units_are_standardized_over_batch_and_positions():
    model = keras.Sequential([keras.Input((10, 10, 3)), keras.layers.Conv2D(8, 3, activation="relu", name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(2, name="out")])
    batch = _batch((16, 10, 10, 3))
    datadep.weightnorm_init(model, batch, seed=1)
    units = datadep.unit_moments(model, batch)
    conv = units[units.layer == "conv"]
    assert len(conv) == 8
    np.testing.assert_allclose(conv["mean"], 0.0, atol=1e-4)
    np.testing.assert_allclose(conv["std"], 1.0, rtol=1e-3)


def test_unit_moments_matches_numpy_and_leaves_the_model_alone():
    model = models.mlp(4, [5], output_units=1)
    batch = _batch((32, 4))
    weights = [w.copy() for w in model.get_weights()]
    units = datadep.unit_moments(model, batch)
    w, b = model.get_layer("dense_1").get_weights()
    pre = batch.astype(np.float64) @ w + b
    np.testing.assert_allclose(units[units.layer == "dense_1"]["mean"], pre.mean(0), rtol=1e-5)
    np.testing.assert_allclose(units[units.layer == "dense_1"]["std"], pre.std(0), rtol=1e-5)
    for a, c in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, c)


def test_bad_input_is_refused_with_the_argument_named():
    model = models.mlp(4, [5], output_units=1)
    with pytest.raises(ValueError, match="directions"):
        datadep.weightnorm_init(model, _batch((8, 4)), directions="orthogonal")
    with pytest.raises(ValueError, match="init_scale"):
        datadep.weightnorm_init(model, _batch((8, 4)), init_scale=0.0)
    with pytest.raises(ValueError, match="batch"):
        datadep.weightnorm_init(model, _batch((8, 3)))
    with pytest.raises(ValueError, match="standard deviation"):
        datadep.weightnorm_init(model, np.ones((8, 4), dtype="float32"))
    no_dense = keras.Sequential([keras.Input((4,)), keras.layers.Activation("relu")])
    with pytest.raises(ValueError, match="supported"):
        datadep.unit_moments(no_dense, _batch((8, 4)))
