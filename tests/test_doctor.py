"""Tests of initcourse.kerastools.doctor: every problem found where it is, and nowhere else."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from initcourse import doctor, models, settings

keras = settings.quiet_tensorflow()
K = keras.initializers

RNG = np.random.default_rng(0)
X16 = RNG.standard_normal((128, 16)).astype("float32")
Y4 = (np.arange(128) % 4).astype("int32")


def mlp(widths=(32, 32, 32, 32), seed=0, **kwargs):
    settings.seed_everything(seed)
    kwargs.setdefault("kernel_initializer", "he_normal")
    return models.mlp(16, list(widths), output_units=4, output_activation="softmax", **kwargs)


def problems(report, severity="warning"):
    return {problem for _, problem in report.problems(severity)}


# --------------------------------------------------------------------------- no false alarms


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_healthy_he_relu_mlp_10x64_gives_no_warning(seed):
    report = doctor.diagnose(mlp([64] * 10, seed=seed), X16, Y4)
    assert report.healthy, str(report)
    assert 1.0 < report.loss / math.log(4) < doctor.THRESHOLDS["initial_loss_ratio"]


@pytest.mark.parametrize("seed", [0, 1])
def test_healthy_glorot_tanh_mlp_gives_no_warning(seed):
    model = mlp([64] * 10, seed=seed, activation="tanh", kernel_initializer="glorot_uniform")
    assert doctor.diagnose(model, X16, Y4).healthy


@pytest.mark.parametrize("init", ["glorot_uniform", "he_normal"])
def test_course_cifar_cnn_gives_no_warning(init):
    settings.seed_everything(0)
    x = RNG.uniform(0, 1, (32, 32, 32, 3)).astype("float32")  # pixels in [0, 1], as the course loads them
    report = doctor.diagnose(models.cifar_cnn(kernel_initializer=init), x, np.arange(32) % 10)
    assert report.healthy, str(report)


def test_course_imdb_rnn_gives_no_warning():
    settings.seed_everything(0)
    tokens = RNG.integers(2, 10000, (32, 200)).astype("int32")
    tokens[:, :80] = 0  # padding first, as in the case study
    report = doctor.diagnose(models.imdb_rnn(), tokens, np.arange(32) % 2)
    assert report.healthy, str(report)
    assert report.reference_loss == pytest.approx(math.log(2))


# --------------------------------------------------------------------------- every problem found


def _shared_instance_model():
    init = K.RandomNormal(stddev=0.1)
    inputs = keras.Input((16,))
    h = keras.layers.Dense(16, activation="relu", kernel_initializer=init, name="first")(inputs)
    h = keras.layers.Dense(16, activation="relu", kernel_initializer=init, name="second")(h)
    return keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="output")(h))


def _batchnorm_tiny_model():
    inputs = keras.Input((16,))
    h = keras.layers.Dense(32, use_bias=False, kernel_initializer=K.RandomNormal(stddev=1e-6), name="tiny")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Activation("relu", name="act")(h)
    return keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="output")(h))


BROKEN = {
    "vanishing_activations": (lambda: mlp(kernel_initializer=K.RandomNormal(stddev=0.01)), X16, "dense_2"),
    "exploding_activations": (lambda: mlp(kernel_initializer=K.RandomNormal(stddev=1.0)), X16, "dense_4"),
    "vanishing_gradients": (lambda: mlp(bias_initializer=K.Constant(-10.0)), X16, "dense_1"),
    "exploding_gradients": (_batchnorm_tiny_model, X16, "tiny"),
    "dead_units": (lambda: mlp(bias_initializer=K.Constant(-10.0)), X16, "dense_1"),
    "saturated_units": (lambda: mlp(activation="tanh", kernel_initializer=K.RandomNormal(stddev=1.0)), X16, "dense_1"),
    "symmetric_units": (lambda: mlp(kernel_initializer="zeros"), X16, "dense_1"),
    "identical_kernels": (_shared_instance_model, X16, "second"),
    "initial_loss": (lambda: mlp(output_initializer=K.RandomNormal(stddev=5.0)), X16, "<model>"),
    "unnormalized_input": (lambda: mlp(), 60 * X16 + 128, "<model>"),
}


@pytest.mark.parametrize("problem", sorted(BROKEN))
def test_each_problem_is_found_in_its_layer(problem):
    build, x, layer = BROKEN[problem]
    report = doctor.diagnose(build(), x, Y4)
    assert (layer, problem) in report.problems("warning"), str(report)
    finding = next(f for f in report.findings if f.problem == problem)
    assert finding.severity in ("warning", "error")
    assert (layer in finding.message) or layer == "<model>"
    assert finding.evidence


def test_every_problem_kind_has_a_broken_model():
    assert set(BROKEN) | {"nonfinite", "normalized_output"} == set(doctor.PROBLEMS)


@pytest.mark.parametrize("healthy", ["he", "tanh"])
def test_healthy_models_have_none_of_the_broken_problems(healthy):
    model = mlp() if healthy == "he" else mlp(activation="tanh", kernel_initializer="glorot_uniform")
    assert problems(doctor.diagnose(model, X16, Y4), "info") == set()


def test_nonfinite_names_the_first_layer_that_overflows():
    model = mlp()
    weights = model.get_layer("dense_3").get_weights()
    model.get_layer("dense_3").set_weights([np.full_like(weights[0], np.nan), weights[1]])
    report = doctor.diagnose(model, X16, Y4)
    assert report.findings[0].problem == "nonfinite" and report.findings[0].layer == "dense_3"
    assert report.findings[0].severity == "error"


def test_dead_units_message_names_the_negative_bias():
    report = doctor.diagnose(mlp(bias_initializer=K.Constant(-10.0)), X16, Y4)
    finding = next(f for f in report.findings if f.problem == "dead_units")
    assert finding.severity == "error" and "100%" in finding.message and "bias" in finding.message
    assert finding.evidence["preact_mean"] < -5


def test_without_targets_gradients_are_checked_and_loss_is_not():
    report = doctor.diagnose(mlp(bias_initializer=K.Constant(-10.0)), X16)
    assert report.loss is None
    assert {"vanishing_gradients", "dead_units"} <= problems(report)


# --------------------------------------------------------------------------- report, weights, layers


def test_diagnose_leaves_weights_and_state_untouched():
    inputs = keras.Input((16,))
    h = keras.layers.Dense(32, name="dense")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Dropout(0.5, name="drop")(h)
    model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="output")(h))
    before = [np.array(w.numpy()) for w in model.weights]
    doctor.diagnose(model, X16 * 3 + 1, Y4)
    for a, w in zip(before, model.weights):
        np.testing.assert_array_equal(a, w.numpy())


def test_report_table_text_html_and_plot():
    report = doctor.diagnose(mlp(bias_initializer=K.Constant(-10.0)), X16, Y4)
    table = report.table()
    assert list(table.columns) == list(doctor.TABLE_COLUMNS)
    assert list(table["layer"]) == ["dense_1", "dense_2", "dense_3", "dense_4", "output"]
    assert table.loc[0, "dead_frac"] == 1.0
    text = str(report)
    assert "dead_units" in text and "dense_1" in text
    assert "<li>" in report._repr_html_()
    fig = report.plot()
    assert len(fig.axes) == 3
    matplotlib.pyplot.close(fig)
    assert all(f.problem in doctor.PROBLEMS and f.severity in doctor.SEVERITIES for f in report.findings)


def test_functional_model_with_recurrent_conv_and_normalization_layers():
    inputs = keras.Input((12,), dtype="int32")
    h = keras.layers.Embedding(50, 8, name="emb")(inputs)
    h = keras.layers.Conv1D(8, 3, activation="relu", name="conv")(h)
    h = keras.layers.LayerNormalization(name="ln")(h)
    h = keras.layers.LSTM(8, return_sequences=True, name="lstm")(h)
    h = keras.layers.GRU(8, name="gru")(h)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(h)
    settings.seed_everything(0)
    model = keras.Model(inputs, outputs)
    report = doctor.diagnose(model, RNG.integers(0, 50, (16, 12)), np.arange(16) % 2)
    assert list(report.table()["layer"]) == ["emb", "conv", "ln", "lstm", "gru", "output"]
    assert report.skipped == []


def test_nested_model_is_named_as_not_analysed():
    inner = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8, activation="relu")], name="inner")
    inputs = keras.Input((16,))
    outputs = keras.layers.Dense(4, activation="softmax", name="output")(inner(inputs))
    report = doctor.diagnose(keras.Model(inputs, outputs), X16, Y4)
    assert report.skipped == ["inner"]
    assert "inner" in str(report)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args, kwargs, error, words",
    [
        ((X16[:0], Y4[:0]), {}, ValueError, "at least one sample"),
        ((X16[:, :8], Y4), {}, ValueError, "shape"),
        ((X16, Y4[:10]), {}, ValueError, "one target per sample"),
        ((X16, Y4 + 4), {}, ValueError, "labels in 0..3"),
        ((X16, Y4), {"loss": "categorical_crossentropy"}, ValueError, "one-hot"),
        ((X16, Y4), {"loss": "no_such_loss"}, ValueError, "loss must be"),
        ((X16,), {"loss": "mse"}, ValueError, "without y"),
        ((np.array(["a"] * 4),), {}, TypeError, "numeric"),
    ],
)
def test_bad_input_raises_a_clear_error_and_leaves_weights(args, kwargs, error, words):
    model = mlp()
    before = [np.array(w.numpy()) for w in model.weights]
    with pytest.raises(error, match=words):
        doctor.diagnose(model, *args, **kwargs)
    for a, w in zip(before, model.weights):
        np.testing.assert_array_equal(a, w.numpy())


def test_model_that_is_not_a_model_or_not_built():
    with pytest.raises(TypeError, match="keras.Model"):
        doctor.diagnose("model", X16)
    with pytest.raises(ValueError, match="built"):
        doctor.diagnose(keras.Sequential([keras.layers.Dense(4)]), X16)


# --------------------------------------------------------------------------- monitor


def _fit(model, monitor, lr, epochs=2):
    models.compile_model(model, loss="sparse_categorical_crossentropy", learning_rate=lr)
    model.fit(X16, Y4, epochs=epochs, batch_size=16, verbose=0, callbacks=[monitor])
    return model


def test_monitor_records_tidy_history_with_update_ratio():
    monitor = doctor.Monitor(X16[:64], Y4[:64], every=4)
    _fit(mlp(), monitor, lr=0.01)
    history = monitor.history
    assert list(history.columns) == list(doctor.HISTORY_COLUMNS)
    assert sorted(history["step"].unique()) == [0, 4, 8, 12, 16]
    assert {"act_std", "dead_frac", "grad_std", "update_ratio"} <= set(history["statistic"])
    ratios = history[history["statistic"] == "update_ratio"]["value"]
    assert ((ratios > 0) & (ratios < 1)).all()
    assert monitor.stopped_at is None and monitor.findings == []
    fig = monitor.plot("act_std")
    matplotlib.pyplot.close(fig)


def test_monitor_stops_training_on_nonfinite_values():
    monitor = doctor.Monitor(X16[:64], Y4[:64], every=100)
    model = _fit(mlp(), monitor, lr=1e4, epochs=5)
    assert monitor.stopped_at is not None and monitor.stopped_at < 5 * 8
    assert model.optimizer.iterations.numpy() == monitor.stopped_at
    finding = monitor.findings[-1]
    assert finding.problem == "nonfinite" and finding.step == monitor.stopped_at
    assert finding.layer.startswith("dense_") or finding.layer == "output"
    assert monitor.first_step("nonfinite") == monitor.stopped_at


def test_monitor_rejects_bad_every():
    with pytest.raises(ValueError, match="every"):
        doctor.Monitor(X16, Y4, every=0)


# --------------------------------------------------------------------------- a normalized output


def _regressor(output_layer=None, units=1):
    inputs = keras.Input((16,))
    h = keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal", name="hidden")(inputs)
    h = keras.layers.BatchNormalization(name="hidden_bn")(h)
    out = keras.layers.Dense(units, name="output")(h)
    if output_layer is not None:
        out = output_layer(out)
    return keras.Model(inputs, out)


Y_REGRESSION = (10 * np.random.default_rng(3).standard_normal((len(X16), 1)) + 5).astype("float32")


def test_batchnorm_after_a_regression_output_is_named_with_the_targets_scale():
    report = doctor.diagnose(_regressor(keras.layers.BatchNormalization(name="output_bn")), X16, Y_REGRESSION)
    finding = next(f for f in report.findings if f.problem == "normalized_output")
    assert finding.layer == "output_bn" and finding.severity == "warning"
    assert "output_bn" in finding.message and "remove the normalization" in finding.message
    # Training mode: the batch of predictions has mean beta = 0 and std gamma = 1 (up to BN's epsilon).
    assert finding.evidence["prediction_mean"] == pytest.approx(0.0, abs=1e-5)
    assert finding.evidence["prediction_std"] == pytest.approx(1.0, abs=1e-2)
    assert finding.evidence["target_std"] == pytest.approx(np.std(Y_REGRESSION))


def test_layernorm_of_one_output_unit_is_an_error():
    report = doctor.diagnose(_regressor(keras.layers.LayerNormalization(name="output_ln")), X16, Y_REGRESSION)
    finding = next(f for f in report.findings if f.problem == "normalized_output")
    assert finding.severity == "error" and finding.evidence["prediction_std"] == pytest.approx(0.0, abs=1e-6)


def test_normalization_inside_the_network_is_not_a_normalized_output():
    report = doctor.diagnose(_regressor(), X16, Y_REGRESSION)
    assert "normalized_output" not in {f.problem for f in report.findings}
    # batch normalization before a softmax activation is not the model's output either
    inputs = keras.Input((16,))
    h = keras.layers.BatchNormalization(name="logit_bn")(keras.layers.Dense(4, name="logits")(inputs))
    model = keras.Model(inputs, keras.layers.Activation("softmax", name="probabilities")(h))
    assert "normalized_output" not in {f.problem for f in doctor.diagnose(model, X16, Y4).findings}
