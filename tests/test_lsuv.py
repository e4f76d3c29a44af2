import itertools

import numpy as np
import pandas as pd
import pytest

from initcourse.kerastools.lsuv import REPORT_COLUMNS, lsuv, minibatches, preactivation_variances
from initcourse.kerastools.models import mlp
from initcourse.settings import quiet_tensorflow

keras = quiet_tensorflow()
layers = keras.layers


def _batch(shape, seed=0, loc=0.5, scale=3.0):
    """A batch far from unit variance, so that LSUV has work to do."""
    rng = np.random.default_rng(seed)
    return (loc + scale * rng.standard_normal(shape)).astype("float32")


def _layer_input(model, layer, batch):
    return np.asarray(keras.Model(model.inputs[0], layer.input)(batch, training=False))


def _preactivation_variance(model, layer, batch):
    """Variance of ``x @ W + b``, computed with NumPy from the layer's input (Dense only)."""
    x = _layer_input(model, layer, batch).astype(np.float64)
    w, b = (np.asarray(v, dtype=np.float64) for v in layer.get_weights())
    return float(np.var(x @ w + b))


def _output_variance(model, layer, batch):
    """Variance of a layer's own output (a linear layer's output is its pre-activation)."""
    return float(np.var(np.asarray(keras.Model(model.inputs[0], layer.output)(batch), dtype=np.float64)))


def _check_report(report, names, max_iter):
    assert isinstance(report, pd.DataFrame)
    assert tuple(report.columns) == REPORT_COLUMNS
    assert list(report["layer"]) == names
    assert (report["iterations"] <= max_iter).all()


def _kernels(model):
    return [layer.kernel.numpy() for layer in model.layers if hasattr(layer, "kernel")]


def _assert_weights_equal(model, weights):
    for got, want in zip(model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, want)


def test_fused_relu_dense_preactivation_reaches_unit_variance():
    model = mlp(20, [32] * 6, activation="relu", name="deep")
    batch = _batch((256, 20))
    report = lsuv(model, batch, seed=0)
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    _check_report(report, [layer.name for layer in dense], max_iter=10)
    for layer, row in zip(dense, report.itertuples()):
        var = _preactivation_variance(model, layer, batch)
        assert abs(var - 1.0) < 0.1
        # the reported variance is the one measured (float32 forward vs float64 NumPy)
        assert row.var_after == pytest.approx(var, rel=1e-4)
        assert row.scale == pytest.approx(np.sqrt(1.0 / row.var_before), rel=1e-6)
        np.testing.assert_array_equal(layer.bias.numpy(), 0.0)  # biases zeroed as in the paper
        assert layer.get_config()["activation"] == ("relu" if layer.name != "output" else "linear")
    # an input of variance 9 through an orthonormal kernel is far from 1: one rescaling each,
    # exact since the pre-activation is linear in the kernel
    assert (report["iterations"] == 1).all()


@pytest.mark.parametrize("units, fan_in", [(8, 20), (20, 8)])
def test_kernel_is_a_rescaled_orthonormal_matrix(units, fan_in):
    inputs = keras.Input((fan_in,))
    model = keras.Model(inputs, layers.Dense(units, activation="tanh", name="d")(inputs))
    report = lsuv(model, _batch((128, fan_in)), seed=3)
    q = model.get_layer("d").kernel.numpy().astype(np.float64) / report.loc[0, "scale"]
    gram = q.T @ q if fan_in >= units else q @ q.T  # orthonormal columns, or rows when wide
    # exact maths, float32 storage: agreement to float32 rounding
    np.testing.assert_allclose(gram, np.eye(min(units, fan_in)), atol=1e-5)


def _conv_model(conv, input_shape, fused):
    """conv -> conv (strided) -> flatten -> dense, with ReLU fused or as separate layers."""
    inputs = keras.Input(input_shape)
    x = inputs
    for i, strides in enumerate((1, 2), start=1):
        x = conv(6, 3, strides=strides, padding="same", activation="relu" if fused else None, name=f"conv_{i}")(x)
        if not fused:
            x = layers.ReLU(name=f"relu_{i}")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(3, name="output")(x)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize(
    "conv, input_shape",
    [(layers.Conv1D, (16, 4)), (layers.Conv2D, (10, 10, 3)), (layers.Conv3D, (6, 6, 6, 2))],
)
def test_conv_models_fused_and_separate_activation_agree(conv, input_shape):
    batch = _batch((32, *input_shape))
    separate = _conv_model(conv, input_shape, fused=False)
    fused = _conv_model(conv, input_shape, fused=True)
    report = lsuv(separate, batch, seed=1)
    report_fused = lsuv(fused, batch, seed=1)
    names = ["conv_1", "conv_2", "output"]
    _check_report(report, names, max_iter=10)
    for name in names:
        # without a fused activation a layer's output is its pre-activation: measure it directly
        assert abs(_output_variance(separate, separate.get_layer(name), batch) - 1.0) < 0.1
    # the fused model normalizes the same pre-activation, so it gets the same kernels
    for a, b in zip(_kernels(separate), _kernels(fused), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    pd.testing.assert_frame_equal(report, report_fused, rtol=1e-5)
    assert fused.get_layer("conv_1").get_config()["activation"] == "relu"


def test_batchnorm_model_uses_and_keeps_moving_statistics():
    model = mlp(12, [24] * 4, activation="tanh", batchnorm=True)
    bn = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    stats = [[v.numpy() for v in (layer.moving_mean, layer.moving_variance)] for layer in bn]
    batch = _batch((200, 12))
    report = lsuv(model, batch, seed=0)
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    _check_report(report, [layer.name for layer in dense], max_iter=10)
    for layer in dense:
        assert abs(_output_variance(model, layer, batch) - 1.0) < 0.1
    for layer, (mean, var) in zip(bn, stats):  # inference mode: moving statistics not updated
        np.testing.assert_array_equal(layer.moving_mean.numpy(), mean)
        np.testing.assert_array_equal(layer.moving_variance.numpy(), var)


def test_functional_model_with_branches_in_forward_order():
    inputs = keras.Input((10,))
    trunk = layers.Dense(16, activation="relu", name="trunk")(inputs)
    left = layers.Dense(8, activation="relu", name="left")(trunk)
    right = layers.Dense(8, activation="tanh", name="right")(trunk)
    merged = layers.Concatenate()([left, right])
    outputs = layers.Dense(2, name="head")(layers.Dropout(0.5)(merged))
    model = keras.Model(inputs, outputs)
    batch = _batch((300, 10))
    report = lsuv(model, batch, max_iter=3, seed=2)
    assert report["layer"].iloc[0] == "trunk" and report["layer"].iloc[-1] == "head"
    assert set(report["layer"]) == {"trunk", "left", "right", "head"}
    assert (report["iterations"] <= 3).all()
    for name in ("trunk", "left", "right", "head"):
        assert abs(_preactivation_variance(model, model.get_layer(name), batch) - 1.0) < 0.1


def test_sequential_model_and_target_variance():
    model = keras.Sequential([keras.Input((6,)), layers.Dense(12, activation="relu"), layers.Dense(4)])
    batch = _batch((256, 6))
    report = lsuv(model, batch, target_var=2.0, tol_var=0.05, seed=0)
    for layer in model.layers:
        assert abs(_preactivation_variance(model, layer, batch) - 2.0) < 0.05
    assert report["var_after"].sub(2.0).abs().lt(0.05).all()


def test_layer_already_within_tolerance_is_not_rescaled():
    model = mlp(8, [8, 8], activation="relu")
    # a tolerance wider than any variance here: the orthonormal kernels are kept as they are
    report = lsuv(model, _batch((64, 8)), tol_var=1e6, seed=0)
    assert (report["iterations"] == 0).all()
    assert (report["scale"] == 1.0).all()
    assert (report["var_before"] == report["var_after"]).all()


def test_deterministic_with_a_seed():
    batch = _batch((128, 10))
    runs = {}
    for key, seed in (("a", 7), ("b", 7), ("c", 8)):
        model = mlp(10, [16, 16], activation="relu")
        runs[key] = (lsuv(model, batch, seed=seed), _kernels(model))
    pd.testing.assert_frame_equal(runs["a"][0], runs["b"][0])
    for x, y in zip(runs["a"][1], runs["b"][1], strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(runs["a"][1][0], runs["c"][1][0])
    # a Generator continues its stream: same kernels as the int seed that created it
    model = mlp(10, [16, 16], activation="relu")
    lsuv(model, batch, seed=np.random.default_rng(7))
    for x, y in zip(_kernels(model), runs["a"][1], strict=True):
        np.testing.assert_array_equal(x, y)


def _zero_signal_model():
    """The second Dense layer receives an all-zero input: its output variance is 0."""
    inputs = keras.Input((5,))
    x = layers.Dense(8, activation="relu", name="first")(inputs)
    x = layers.Rescaling(0.0, name="kill")(x)
    outputs = layers.Dense(3, activation="relu", name="second")(x)
    return keras.Model(inputs, outputs)


def test_zero_variance_raises_naming_the_layer_and_restores_weights():
    model = _zero_signal_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"layer 'second' \(Dense\) has output variance 0\.0"):
        lsuv(model, _batch((32, 5)), seed=0)
    _assert_weights_equal(model, before)  # 'first' had been initialized: it is restored
    assert model.get_layer("second").get_config()["activation"] == "relu"


def test_constant_batch_raises():
    # the variance is taken over all elements, as in the paper: with identical samples the
    # 4 hidden units still differ, but the single output unit is constant
    model = mlp(5, [4])
    before = model.get_weights()
    with pytest.raises(ValueError, match="layer 'output'.*output variance 0.0"):
        lsuv(model, np.ones((16, 5), dtype="float32"), seed=0)
    _assert_weights_equal(model, before)


@pytest.mark.parametrize(
    "batch, kwargs, error, match",
    [
        (np.zeros((0, 5)), {}, ValueError, "at least one sample"),
        (np.zeros((8, 4)), {}, ValueError, r"batch must have shape \('n', 5\).*got \(8, 4\)"),
        (np.zeros((8, 5, 1)), {}, ValueError, "batch must have shape"),
        (np.full((8, 5), np.nan), {}, ValueError, "finite"),
        (np.array([[1.0, 2, 3, 4, np.inf]]), {}, ValueError, "finite"),
        (np.array([["a"] * 5]), {}, TypeError, "numeric"),
        (None, {"tol_var": 0.0}, ValueError, "tol_var must be positive"),
        (None, {"tol_var": -0.1}, ValueError, "tol_var must be positive"),
        (None, {"max_iter": 0}, ValueError, "max_iter must be a positive integer, got 0"),
        (None, {"max_iter": 2.0}, TypeError, "max_iter must be a positive integer"),
        (None, {"target_var": 0}, ValueError, "target_var must be positive"),
        (None, {"seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_input_raises_and_leaves_weights(batch, kwargs, error, match):
    model = mlp(5, [4])
    before = model.get_weights()
    batch = _batch((8, 5)) if batch is None else batch
    with pytest.raises(error, match=match):
        lsuv(model, batch, **kwargs)
    _assert_weights_equal(model, before)


def test_bad_models_raise():
    batch = _batch((8, 5))
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        lsuv(layers.Dense(3), batch)
    unbuilt = keras.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="no defined input"):
        lsuv(unbuilt, batch)
    inputs = keras.Input((5,))
    no_weights = keras.Model(inputs, layers.Activation("relu")(inputs))
    with pytest.raises(ValueError, match="no layer LSUV can initialize; supported layers: Dense"):
        lsuv(no_weights, batch)
    a, b = keras.Input((5,)), keras.Input((5,))
    two_inputs = keras.Model([a, b], layers.Dense(2)(layers.Add()([a, b])))
    with pytest.raises(ValueError, match="exactly one input, got 2"):
        lsuv(two_inputs, batch)
    inner = mlp(5, [4], name="inner")
    nested = keras.Model(inputs, inner(inputs))
    with pytest.raises(ValueError, match=r"nested models are not supported \(found \['inner'\]\)"):
        lsuv(nested, batch)



def test_preactivation_variances_matches_numpy_and_changes_nothing():
    model = mlp(7, [9, 9], activation="relu")
    batch = _batch((50, 7))
    before = model.get_weights()
    table = preactivation_variances(model, batch)
    assert list(table.columns) == ["layer", "class", "var"]
    assert list(table["layer"]) == ["dense_1", "dense_2", "output"]
    for layer, var in zip(model.layers[1:], table["var"]):
        # float32 forward pass against a float64 NumPy computation
        assert var == pytest.approx(_preactivation_variance(model, layer, batch), rel=1e-5)
    _assert_weights_equal(model, before)
    assert model.get_layer("dense_1").get_config()["activation"] == "relu"


def test_preactivation_variances_of_conv_model_and_lsuv_report_agree():
    batch = _batch((16, 8, 8, 2))
    model = _conv_model(layers.Conv2D, (8, 8, 2), fused=False)
    first = preactivation_variances(model, batch)
    for name, var in zip(first["layer"], first["var"]):
        assert var == pytest.approx(_output_variance(model, model.get_layer(name), batch), rel=1e-5)
    report = lsuv(model, batch, seed=0)
    np.testing.assert_allclose(preactivation_variances(model, batch)["var"], report["var_after"], rtol=1e-5)


def test_preactivation_variances_of_a_single_layer_model():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(2, name="only")(inputs))
    batch = _batch((10, 3))
    table = preactivation_variances(model, batch)
    assert list(table["layer"]) == ["only"]
    assert table["var"].iloc[0] == pytest.approx(_preactivation_variance(model, model.layers[1], batch), rel=1e-5)


def test_preactivation_variances_bad_input():
    model = mlp(5, [4])
    with pytest.raises(ValueError, match="batch must have shape"):
        preactivation_variances(model, np.zeros((3, 2)))
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        preactivation_variances("model", np.zeros((3, 5)))


# --- fresh mini-batches per measurement, min_outputs, minibatches() ---------------------------------


def test_fresh_batches_iterate_and_take_one_batch_per_measurement():
    x = _batch((512, 8), loc=0.0, scale=1.0)
    model = mlp(8, [16] * 4, activation="tanh")
    source = minibatches(x, 16, seed=0)
    drawn = []

    def next_batch():
        drawn.append(next(source))
        return drawn[-1]

    report = lsuv(model, next_batch, tol_var=0.01, max_iter=10, seed=0)
    # with a fresh 16-sample batch per measurement the estimate is noisy: some layer rescales more than once
    assert report["iterations"].max() > 1
    assert len(drawn) == int((report["iterations"] + 1).sum())  # the first measurement plus one per rescaling
    stopped = report["iterations"] < 10
    assert report.loc[stopped, "var_after"].sub(1.0).abs().lt(0.01).all()


def test_fixed_batch_through_a_callable_or_an_iterator_matches_the_array():
    batch = _batch((128, 6))
    reports, kernels = [], []
    for source in (batch, lambda: batch, itertools.repeat(batch)):
        model = mlp(6, [12, 12], activation="tanh")
        reports.append(lsuv(model, source, seed=3))
        kernels.append(_kernels(model))
    for report, kernel in zip(reports[1:], kernels[1:]):
        pd.testing.assert_frame_equal(report, reports[0])
        for x, y in zip(kernel, kernels[0], strict=True):
            np.testing.assert_array_equal(x, y)


def test_exhausted_iterator_raises_and_restores_weights():
    model = mlp(6, [12, 12], activation="relu")
    before = model.get_weights()
    with pytest.raises(ValueError, match="ran out after 2 batches"):
        lsuv(model, iter([_batch((64, 6), seed=1), _batch((64, 6), seed=2)]), tol_var=1e-9, seed=0)
    _assert_weights_equal(model, before)


def test_fresh_batch_of_the_wrong_shape_raises():
    model = mlp(6, [12], activation="relu")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"batch must have shape \('n', 6\)"):
        lsuv(model, lambda: _batch((64, 5)), seed=0)
    _assert_weights_equal(model, before)


def test_min_outputs_skips_small_layers_untouched():
    model = mlp(8, [32, 32], activation="relu")  # output layer: 1 unit
    output = model.layers[-1]
    before = output.get_weights()
    report = lsuv(model, _batch((128, 8)), min_outputs=32, seed=0)
    assert list(report["layer"]) == [layer.name for layer in model.layers if hasattr(layer, "kernel")][:-1]
    for got, want in zip(output.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, want)
    # the default processes every layer
    assert len(lsuv(mlp(8, [32, 32], activation="relu"), _batch((128, 8)), seed=0)) == 3


def test_min_outputs_counts_every_output_entry_of_a_convolution():
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, padding="same"), layers.Flatten(),
                              layers.Dense(4)])
    report = lsuv(model, _batch((32, 8, 8, 1)), min_outputs=32, seed=0)  # 8 * 8 * 2 = 128 entries, Dense 4
    assert list(report["class"]) == ["Conv2D"]


@pytest.mark.parametrize("value, error", [(0, ValueError), (1.5, TypeError), (1000, ValueError)])
def test_bad_min_outputs_raises(value, error):
    with pytest.raises(error, match="min_outputs"):
        lsuv(mlp(4, [8], activation="relu"), _batch((32, 4)), min_outputs=value, seed=0)


def test_minibatches_draws_distinct_samples_reproducibly():
    x = np.arange(50.0).reshape(25, 2)
    first = [next(minibatches(x, 10, seed=4)) for _ in range(2)]
    np.testing.assert_array_equal(first[0], first[1])  # same seed, same batches
    source = minibatches(x, 10, seed=4)
    a, b = next(source), next(source)
    for batch in (a, b):
        assert batch.shape == (10, 2)
        assert len(set(batch[:, 0])) == 10  # no sample twice in a batch
        assert set(batch[:, 0]) <= set(x[:, 0])
    assert not np.array_equal(a, b)


@pytest.mark.parametrize(
    "x, batch_size, error, match",
    [
        (np.zeros((5, 2)), 6, ValueError, "batch_size must be at most"),
        (np.zeros((5, 2)), 0, ValueError, "batch_size"),
        (np.zeros((0, 2)), 1, ValueError, "at least one sample"),
    ],
)
def test_minibatches_bad_input(x, batch_size, error, match):
    with pytest.raises(error, match=match):
        minibatches(x, batch_size)
