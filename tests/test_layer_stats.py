import numpy as np
import pandas as pd
import pytest

from initcourse import layer_stats, lsuv, models, settings
from initcourse.kerastools.layer_stats import compare_initializers, layer_output_stats

keras = settings.quiet_tensorflow()
layers = keras.layers


def _dense_model(activation="relu"):
    inputs = keras.Input((3,))
    outputs = layers.Dense(2, activation=activation, name="d")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("d").set_weights([
        np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]], np.float32),
        np.array([0.25, -0.5], np.float32),
    ])
    return model


X3 = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 2.0], [0.5, -1.0, 1.0], [2.0, 1.0, -1.0]], np.float32)


def test_dense_statistics_are_exact():
    model = _dense_model()
    w, b = (np.asarray(v, np.float64) for v in model.get_layer("d").get_weights())
    pre = X3.astype(np.float64) @ w + b
    out = np.maximum(pre, 0.0)
    stats = layer_output_stats(model, X3)
    assert list(stats.columns) == list(layer_stats.STATS_COLUMNS)
    row = stats.iloc[0]
    assert (row["layer"], row["class"], row["output_shape"]) == ("d", "Dense", (None, 2))
    assert row["mean"] == pytest.approx(out.mean(), rel=1e-6)
    assert row["std"] == pytest.approx(out.std(), rel=1e-6)
    assert row["frac_zero"] == np.mean(out == 0.0)  # a count of exact zeros: exact
    assert row["preact_std"] == pytest.approx(pre.std(), rel=1e-6)


def test_linear_layer_preactivation_is_its_output():
    stats = layer_output_stats(_dense_model(activation=None), X3).iloc[0]
    assert stats["preact_std"] == pytest.approx(stats["std"], rel=1e-6)


def test_conv_model_rows_and_preactivation_without_the_relu():
    inputs = keras.Input((8, 8, 2))
    x = layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Flatten(name="flat")(x)
    outputs = layers.Dense(3, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs)
    batch = np.random.default_rng(0).standard_normal((16, 8, 8, 2)).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    stats = layer_output_stats(model, batch)
    assert stats["layer"].tolist() == ["conv", "pool", "flat", "out"]  # input layer left out
    assert stats["output_shape"].tolist() == [(None, 6, 6, 4), (None, 3, 3, 4), (None, 36), (None, 3)]
    # The same convolution without activation, same weights: its output is the pre-activation.
    linear = layers.Conv2D(4, 3)
    linear.build((None, 8, 8, 2))
    linear.set_weights(model.get_layer("conv").get_weights())
    conv = stats.set_index("layer").loc["conv"]
    assert conv["preact_std"] == pytest.approx(np.std(np.asarray(linear(batch), np.float64)), rel=1e-5)
    assert conv["frac_zero"] > 0.2  # about half the ReLU outputs are 0 at random weights
    assert stats.set_index("layer").loc[["pool", "flat"], "preact_std"].isna().all()
    assert stats.set_index("layer").loc["out", "mean"] == pytest.approx(1 / 3, rel=1e-5)  # softmax rows sum to 1
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "model unchanged"


def test_conv_preactivation_agrees_with_lsuv_measurement():
    model = models.cifar_cnn(input_shape=(12, 12, 3))
    batch = np.random.default_rng(1).random((8, 12, 12, 3)).astype(np.float32)
    stats = layer_output_stats(model, batch).dropna(subset=["preact_std"]).set_index("layer")["preact_std"]
    variances = lsuv.preactivation_variances(model, batch).set_index("layer")["var"]
    np.testing.assert_allclose(stats.loc[variances.index] ** 2, variances, rtol=1e-12)


def _simple_rnn_by_hand(layer, x):
    """Pre-activations and final state of a SimpleRNN, written out with NumPy."""
    w, u, b = (np.asarray(v, np.float64) for v in layer.get_weights())
    h = np.zeros((x.shape[0], u.shape[0]))
    pre = []
    for t in range(x.shape[1]):
        pre.append(x[:, t] @ w + h @ u + b)
        h = np.tanh(pre[-1])
    return np.stack(pre, axis=1), h


def test_simple_rnn_preactivation_matches_the_recurrence():
    inputs = keras.Input((7, 4))
    rnn = layers.SimpleRNN(5, bias_initializer="random_normal", name="rnn")
    model = keras.Model(inputs, rnn(inputs))
    x = np.random.default_rng(2).standard_normal((6, 7, 4)).astype(np.float32)
    pre, last = _simple_rnn_by_hand(rnn, x.astype(np.float64))
    np.testing.assert_allclose(np.asarray(model(x)), last, rtol=1e-4, atol=1e-6)  # the hand recurrence is Keras'
    row = layer_output_stats(model, x).iloc[0]
    assert row["preact_std"] == pytest.approx(pre.std(), rel=1e-5)
    assert row["std"] == pytest.approx(last.std(), rel=1e-4)


def test_simple_rnn_not_computed_backwards_or_masked():
    tokens = keras.Input((5,), dtype="int32")
    x = layers.Embedding(10, 3, mask_zero=True, name="emb")(tokens)
    x = layers.SimpleRNN(4, name="masked")(x)
    masked = keras.Model(tokens, x)
    sequence = keras.Input((5, 3))
    backwards = keras.Model(sequence, layers.SimpleRNN(4, go_backwards=True, name="back")(sequence))
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
    assert np.isnan(layer_output_stats(masked, ids).set_index("layer").loc["masked", "preact_std"])
    assert np.isnan(layer_output_stats(backwards, np.ones((2, 5, 3))).iloc[0]["preact_std"])


def test_inference_mode_dropout_is_off():
    inputs = keras.Input((50,))
    model = keras.Model(inputs, layers.Dropout(0.5, name="drop")(inputs))
    x = np.ones((4, 50), np.float32)
    row = layer_output_stats(model, x).iloc[0]
    assert (row["mean"], row["std"], row["frac_zero"]) == (1.0, 0.0, 0.0)


def test_sequential_model_with_input():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="a"), layers.Dense(1, name="b")])
    assert layer_output_stats(model, X3)["layer"].tolist() == ["a", "b"]


@pytest.mark.parametrize(
    "x, error, message",
    [
        (np.zeros((0, 3)), ValueError, "at least one sample"),
        (np.zeros((4, 2)), ValueError, r"shape \('n', 3\)"),
        (np.full((4, 3), np.nan), ValueError, "finite"),
        (np.array([["a", "b", "c"]]), TypeError, "numeric"),
    ],
)
def test_bad_batch(x, error, message):
    with pytest.raises(error, match=message):
        layer_output_stats(_dense_model(), x)


def test_bad_models():
    with pytest.raises(TypeError, match="keras.Model"):
        layer_output_stats("not a model", X3)
    with pytest.raises(ValueError, match="no defined input"):
        layer_output_stats(keras.Sequential([layers.Dense(2)]), X3)
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(2)], name="inner")
    outer_input = keras.Input((3,))
    with pytest.raises(ValueError, match=r"nested models.*'inner'"):
        layer_output_stats(keras.Model(outer_input, inner(outer_input)), X3)
    sequence = keras.Input((5, 3))
    _, state = layers.SimpleRNN(4, return_state=True, name="two")(sequence)
    with pytest.raises(ValueError, match=r"one output.*'two'"):
        layer_output_stats(keras.Model(sequence, state), np.ones((2, 5, 3)))


# ----------------------------------------------------------------------------- compare_initializers


def _wide_net(kernel_initializer):
    return models.mlp(256, [256], kernel_initializer=kernel_initializer)


def test_compare_initializers_is_tidy_and_seeded():
    x = np.random.default_rng(3).standard_normal((64, 256)).astype(np.float32)
    stats = compare_initializers(_wide_net, x, {"a": "he_normal", "b": "he_normal", "g": "glorot_uniform"})
    assert list(stats.columns) == ["initializer", *layer_stats.STATS_COLUMNS]
    assert stats["initializer"].tolist() == ["a", "a", "b", "b", "g", "g"]
    numbers = ["mean", "std", "frac_zero", "preact_std"]
    # the same seed for every initializer: identical initializers give identical numbers
    a, b = (stats.query("initializer == @k")[numbers].to_numpy() for k in "ab")
    np.testing.assert_array_equal(a, b)
    again = compare_initializers(_wide_net, x, {"a": "he_normal", "b": "he_normal", "g": "glorot_uniform"})
    pd.testing.assert_frame_equal(stats, again)


def test_compare_initializers_matches_the_variance_of_each_scheme():
    # Pre-activation variance of the first layer is fan_in * Var(w) * E[x^2].
    # Relative sampling error of this estimate: about sqrt((kurtosis - 1) / 65536) ~ 0.5 %
    # from the 256 x 256 weights and sqrt(2 / (512 * 256)) ~ 0.4 % from the inputs
    # (E[x^2] over the batch); a 5 % tolerance is about 7 standard errors.
    x = np.random.default_rng(4).standard_normal((512, 256)).astype(np.float32)
    second_moment = float(np.mean(x.astype(np.float64) ** 2))
    stats = compare_initializers(_wide_net, x, ["he_normal", "glorot_uniform", "lecun_normal"], seed=5)
    first = stats.query("layer == 'dense_1'").set_index("initializer")["preact_std"] ** 2
    expected = {"he_normal": 2 / 256, "glorot_uniform": 2 / 512, "lecun_normal": 1 / 256}
    for name, weight_var in expected.items():
        assert first[name] == pytest.approx(256 * weight_var * second_moment, rel=0.05)


def test_compare_initializers_other_argument_reads_keras_default():
    tokens = np.random.default_rng(5).integers(0, 100, (8, 20))

    def build(embeddings_initializer):
        return models.imdb_rnn(vocab_size=100, sequence_length=20, embeddings_initializer=embeddings_initializer)

    stats = compare_initializers(build, tokens, ["uniform", "zeros"], argument="embeddings_initializer")
    embedding = stats.query("layer == 'embedding'").set_index("initializer")
    limit = keras.initializers.get("uniform").get_config()["maxval"]  # Keras' default bound, 0.05
    # The embedding output is a lookup of the table: U(-limit, limit) has std limit / sqrt(3).
    # 160 lookups hit about 80 distinct rows, ~2,500 independent entries; the relative standard
    # error of a std from n uniform draws is sqrt((kurtosis - 1) / n) / 2 ~ 0.9 % (kurtosis 1.8),
    # so 10 % is more than 10 standard errors.
    assert embedding.loc["uniform", "std"] == pytest.approx(limit / np.sqrt(3), rel=0.10)
    assert embedding.loc["zeros", "std"] == 0.0 and embedding.loc["zeros", "frac_zero"] == 1.0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(initializers=[]), ValueError, "non-empty"),
        (dict(initializers="he_normal"), TypeError, "sequence"),
        (dict(initializers=["he_normal", "he_normal"]), ValueError, "distinct"),
        (dict(initializers=[3]), TypeError, "names"),
        (dict(initializers={1: "he_normal"}), TypeError, "label"),
        (dict(initializers={}), ValueError, "non-empty"),
        (dict(initializers=["he_normal"], argument="not valid"), ValueError, "argument"),
        (dict(initializers=["he_normal"], seed=-1), ValueError, "seed"),
    ],
)
def test_compare_initializers_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        compare_initializers(_wide_net, np.zeros((2, 256)), **kwargs)


def test_compare_initializers_bad_builder():
    with pytest.raises(TypeError, match="callable"):
        compare_initializers("cifar_cnn", np.zeros((2, 256)), ["he_normal"])
    with pytest.raises(TypeError, match="keras.Model"):
        compare_initializers(lambda kernel_initializer: None, np.zeros((2, 256)), ["he_normal"])
