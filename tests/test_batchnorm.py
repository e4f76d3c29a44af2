import numpy as np
import pandas as pd
import pytest

from initcourse import batchnorm, models, settings

keras = settings.quiet_tensorflow()


def _model(seed=0, depth=2, output_units=3):
    settings.seed_everything(seed)
    return models.mlp(4, [8] * depth, kernel_initializer="he_normal", batchnorm=True, output_units=output_units)


def _x(n=64, seed=0):
    return np.random.default_rng(seed).normal(1.0, 2.0, (n, 4)).astype("float32")


def _statistics(model):
    return [(layer.moving_mean.numpy(), layer.moving_variance.numpy())
            for layer in batchnorm.batchnorm_layers(model)]


def test_batchnorm_layers_in_order_and_errors():
    model = _model(depth=3)
    assert [layer.name for layer in batchnorm.batchnorm_layers(model)] == ["batchnorm_1", "batchnorm_2", "batchnorm_3"]
    with pytest.raises(ValueError, match="no BatchNormalization"):
        batchnorm.batchnorm_layers(models.mlp(4, [8]))
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        batchnorm.batchnorm_layers("model")


def test_reestimated_first_layer_statistics_are_those_of_its_input():
    model, x = _model(), _x()
    table = batchnorm.reestimate_statistics(model, x)
    z = x.astype("float64") @ model.get_layer("dense_1").kernel.numpy()
    layer = model.get_layer("batchnorm_1")
    np.testing.assert_allclose(layer.moving_mean.numpy(), z.mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), z.var(axis=0), rtol=1e-4)
    assert list(table.columns) == ["layer", "units", "mean_shift", "variance_ratio"]
    assert table["layer"].tolist() == ["batchnorm_1", "batchnorm_2"]
    assert (table["units"] == 8).all()
    # the initial running statistics (0, 1) were far from those of inputs of mean 1 and std 2
    assert table.loc[0, "mean_shift"] > 0.1


def test_reestimated_network_in_inference_mode_is_the_training_mode_network_on_the_whole_set():
    model, x = _model(depth=3), _x()
    batchnorm.reestimate_statistics(model, x)
    inference = np.asarray(model(x, training=False))
    training = np.asarray(model(x, training=True))
    np.testing.assert_allclose(inference, training, rtol=1e-3, atol=1e-4)
    # re-estimating again changes nothing
    table = batchnorm.reestimate_statistics(model, x)
    assert table["mean_shift"].max() < 1e-3 and np.allclose(table["variance_ratio"], 1, atol=1e-3)


def test_reestimate_with_batches_averages_the_batch_statistics():
    model, x = _model(depth=1), _x(64)
    batchnorm.reestimate_statistics(model, x, batch_size=16)
    z = x.astype("float64") @ model.get_layer("dense_1").kernel.numpy()
    parts = z.reshape(4, 16, -1)
    layer = model.get_layer("batchnorm_1")
    np.testing.assert_allclose(layer.moving_mean.numpy(), parts.mean(axis=1).mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), parts.var(axis=1).mean(axis=0), rtol=1e-4)
    with pytest.raises(ValueError, match="batch_size"):
        batchnorm.reestimate_statistics(model, x, batch_size=0)
    with pytest.raises(ValueError, match="x must be a non-empty batch"):
        batchnorm.reestimate_statistics(model, x[0])


def test_predict_with_batch_statistics_restores_the_running_statistics():
    model, x = _model(), _x(40)
    before = _statistics(model)
    prediction = batchnorm.predict_with_batch_statistics(model, x, batch_size=16)
    assert prediction.shape == (40, 3)
    expected = np.concatenate([np.asarray(_model()(x[i:i + 16], training=True)) for i in (0, 16, 32)])
    np.testing.assert_allclose(prediction, expected, rtol=1e-5, atol=1e-6)
    for (mean, variance), (mean2, variance2) in zip(before, _statistics(model)):
        np.testing.assert_array_equal(mean, mean2)
        np.testing.assert_array_equal(variance, variance2)


def test_evaluate_modes_scores_and_leaves_the_model_unchanged():
    model, x = _model(), _x(64)
    y = np.random.default_rng(1).integers(0, 3, 64)
    before = _statistics(model)
    scores = batchnorm.evaluate_modes(model, x, y, x_reestimate=_x(128, seed=2), score="accuracy", batch_size=16)
    assert list(scores) == list(batchnorm.MODES)
    assert all(0 <= v <= 1 for v in scores.values())
    # with the initial statistics, inference mode is the accuracy of the un-normalized network
    plain = np.mean(np.argmax(np.asarray(model(x, training=False)), axis=1) == y)
    assert scores["running statistics"] == pytest.approx(plain)
    for (mean, variance), (mean2, variance2) in zip(before, _statistics(model)):
        np.testing.assert_array_equal(mean, mean2)
        np.testing.assert_array_equal(variance, variance2)
    regression = _model(output_units=1)
    mse = batchnorm.evaluate_modes(regression, x, np.zeros((64, 1)), x_reestimate=x, score="mse")
    assert mse["running statistics"] == pytest.approx(float(np.mean(np.asarray(regression(x)) ** 2)), rel=1e-5)
    with pytest.raises(ValueError, match="score"):
        batchnorm.evaluate_modes(model, x, y, x_reestimate=x, score="f1")
    with pytest.raises(ValueError, match="same length"):
        batchnorm.evaluate_modes(model, x, y[:10], x_reestimate=x)


def _build(batchnorm_on, scale):
    settings_scale = keras.initializers.VarianceScaling(scale=2.0 * scale**2)
    model = models.mlp(4, [8, 8], kernel_initializer=settings_scale, batchnorm=batchnorm_on, output_units=3)
    return models.compile_model(model, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                                metrics=["accuracy"])


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = rng.integers(0, 3, 96)
    return x[:64], y[:64], x[64:], y[64:]


def test_train_and_evaluate_modes_tables_and_reuse_gives_the_fresh_runs():
    variants = {"BN, c=1": {"batchnorm_on": True, "scale": 1.0}, "BN, c=3": {"batchnorm_on": True, "scale": 3.0},
                "plain": {"batchnorm_on": False, "scale": 1.0}}
    history, final = batchnorm.train_and_evaluate_modes(_build, _data(), variants=variants, seeds=(0, 1), epochs=2,
                                                        batch_size=16)
    assert list(history.columns[:3]) == ["variant", "seed", "epoch"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.columns)
    assert len(history) == 3 * 2 * 2
    assert list(final.columns) == ["variant", "seed", "mode", "score"]
    assert set(final[final["variant"] == "plain"]["mode"]) == {"running statistics"}
    assert len(final[final["variant"] == "BN, c=3"]) == 2 * len(batchnorm.MODES)
    # the last BN run was trained on the model of the first one; a fresh model gives the same run
    x_train, y_train, x_val, y_val = _data()
    settings.seed_everything(1)
    fresh = _build(True, 3.0)
    losses = fresh.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=2, batch_size=16, verbose=0)
    reused = history[(history["variant"] == "BN, c=3") & (history["seed"] == 1)]["loss"].to_numpy()
    np.testing.assert_allclose(reused, losses.history["loss"], rtol=1e-6)
    # Keras' val_accuracy is the running-statistics score
    last = history[history["epoch"] == 2].set_index(["variant", "seed"])["val_accuracy"]
    running = final[final["mode"] == "running statistics"].set_index(["variant", "seed"])["score"]
    pd.testing.assert_series_equal(running.sort_index(), last.sort_index(), check_names=False, atol=1e-6)


def test_train_and_evaluate_modes_argument_errors():
    variants = {"a": {"batchnorm_on": True, "scale": 1.0}}
    with pytest.raises(TypeError, match="build_model must be callable"):
        batchnorm.train_and_evaluate_modes(None, _data(), variants=variants, epochs=1)
    with pytest.raises(ValueError, match="variants"):
        batchnorm.train_and_evaluate_modes(_build, _data(), variants={}, epochs=1)
    with pytest.raises(ValueError, match="seeds"):
        batchnorm.train_and_evaluate_modes(_build, _data(), variants=variants, seeds=(-1,), epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        batchnorm.train_and_evaluate_modes(_build, _data(), variants=variants, epochs=0)
    with pytest.raises(TypeError, match="data"):
        batchnorm.train_and_evaluate_modes(_build, "data", variants=variants, epochs=1)
    with pytest.raises(TypeError, match="compiled keras.Model"):
        batchnorm.train_and_evaluate_modes(lambda **p: models.mlp(4, [8]), _data(), variants={"a": {}}, epochs=1)
