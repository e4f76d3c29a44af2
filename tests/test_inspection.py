import numpy as np
import pandas as pd
import pytest

from initcourse import inspection, models, settings

keras = settings.quiet_tensorflow()


def _batch(n=64, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype("float32"), rng.standard_normal((n, 1)).astype("float32")


def _numpy_mse_gradients(model, x, y):
    """Hand-derived gradients of mean((relu(x W1 + b1) W2 + b2 - y)**2), in float64."""
    w1, b1, w2, b2 = (np.asarray(v, dtype=np.float64) for v in model.get_weights())
    x, y = x.astype(np.float64), y.astype(np.float64)
    h = x @ w1 + b1
    a = np.maximum(h, 0.0)
    err = a @ w2 + b2 - y
    d_out = 2.0 * err / err.size  # derivative of the mean over all entries
    d_h = (d_out @ w2.T) * (h > 0)
    return {
        "dense_1/kernel": x.T @ d_h,
        "dense_1/bias": d_h.sum(axis=0),
        "output/kernel": a.T @ d_out,
        "output/bias": d_out.sum(axis=0),
    }


def test_weight_gradients_match_the_hand_derived_backprop():
    settings.seed_everything(0)
    model = models.mlp(5, [7], kernel_initializer="he_normal", bias_initializer="random_normal")
    x, y = _batch()
    grads = inspection.weight_gradients(model, x, y)
    expected = _numpy_mse_gradients(model, x, y)
    assert list(grads) == [w.path for w in model.trainable_weights] == list(expected)
    for name, g in grads.items():
        assert g.shape == expected[name].shape
        # float32 forward/backward vs float64: agreement to float32 rounding of sums of 64 terms
        np.testing.assert_allclose(g, expected[name], rtol=1e-4, atol=1e-6)


def test_weight_gradients_are_the_step_keras_sgd_takes():
    # One plain SGD step with learning rate 1 on the whole batch moves each weight by -gradient.
    settings.seed_everything(1)
    model = models.mlp(5, [6, 4], activation="tanh")
    x, y = _batch(32, seed=1)
    grads = inspection.weight_gradients(model, x, y)
    before = {w.path: w.numpy().copy() for w in model.trainable_weights}
    models.compile_model(model, learning_rate=1.0, momentum=0.0)
    model.train_on_batch(x, y)
    for w in model.trainable_weights:
        np.testing.assert_allclose(before[w.path] - w.numpy(), grads[w.path], rtol=1e-4, atol=1e-6)


def test_weight_gradients_do_not_change_the_model():
    settings.seed_everything(0)
    model = models.mlp(5, [7])
    before = [w.copy() for w in model.get_weights()]
    inspection.weight_gradients(model, *_batch())
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_zero_init_relu_gradients_are_exactly_zero_except_output_bias():
    model = models.mlp(5, [8], kernel_initializer="zeros")
    x, y = _batch()
    grads = inspection.weight_gradients(model, x, y)
    for name in ("dense_1/kernel", "dense_1/bias", "output/kernel"):
        assert not grads[name].any(), name
    # the output is b2 = 0, so d/db2 mean((b2 - y)^2) = -2 mean(y)
    np.testing.assert_allclose(grads["output/bias"], [-2.0 * y.astype(np.float64).mean()], rtol=1e-5)


def test_loss_by_name_instance_and_callable_agree():
    settings.seed_everything(0)
    model = models.mlp(4, [6], output_units=3, output_activation="softmax")
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((20, 4)).astype("float32"), rng.integers(0, 3, 20)
    by_name = inspection.weight_gradients(model, x, y, loss="sparse_categorical_crossentropy")
    by_instance = inspection.weight_gradients(model, x, y, loss=keras.losses.SparseCategoricalCrossentropy())
    by_callable = inspection.weight_gradients(model, x, y, loss=keras.losses.sparse_categorical_crossentropy)
    for name in by_name:
        np.testing.assert_allclose(by_instance[name], by_name[name], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(by_callable[name], by_name[name], rtol=1e-6, atol=1e-8)


def test_gradient_table_summarises_the_gradients_exactly():
    settings.seed_everything(3)
    model = models.mlp(5, [7], kernel_initializer="he_normal")
    x, y = _batch()
    table = inspection.gradient_table(model, x, y)
    grads = inspection.weight_gradients(model, x, y)
    assert tuple(table.columns) == inspection.GRADIENT_COLUMNS
    assert list(table["weight"]) == list(grads)
    for row in table.itertuples():
        g = grads[row.weight]
        assert row.shape == g.shape
        assert row.norm == pytest.approx(float(np.sqrt(np.sum(g.astype(np.float64) ** 2))), rel=1e-6)
        assert row.max_abs == float(np.abs(g).max())
        assert row.frac_zero == np.count_nonzero(g == 0) / g.size


def test_gradient_table_counts_dead_relu_rows_as_zero():
    # A ReLU unit whose pre-activation is negative on every sample gets no gradient:
    # its kernel column and bias entry are exactly zero.
    settings.seed_everything(0)
    model = models.mlp(3, [4], kernel_initializer="he_normal")
    layer = model.get_layer("dense_1")
    layer.bias.assign(np.array([0.0, 0.0, 0.0, -1e3], dtype="float32"))
    x, y = _batch(d=3)
    table = inspection.gradient_table(model, x, y).set_index("weight")
    assert table.loc["dense_1/kernel", "frac_zero"] == pytest.approx(0.25)
    assert table.loc["dense_1/bias", "frac_zero"] == pytest.approx(0.25)


@pytest.mark.parametrize(
    "weights, expected",
    [
        (np.full((3, 4), 0.1), 0.0),
        ([[0.0, 1.0], [2.0, -1.0]], 3.0),  # row 2: units differ by 2 - (-1)
        (np.array([0.5, 0.5, 0.5]), 0.0),  # a bias of identical units
        (np.array([0.5, -0.25]), 0.75),
        (np.ones((5, 1)), 0.0),  # one unit
        (np.stack([np.arange(6.0).reshape(2, 3)] * 2, axis=-1), 0.0),  # conv-like (2, 3, 2): units equal
    ],
)
def test_unit_spread_exact_values(weights, expected):
    assert inspection.unit_spread(weights) == expected


def test_unit_spread_is_the_largest_pairwise_difference():
    w = np.random.default_rng(0).standard_normal((6, 5))
    brute = max(np.abs(w[:, i] - w[:, j]).max() for i in range(5) for j in range(5))
    assert inspection.unit_spread(w) == brute


def test_unit_spread_of_a_conv_kernel_uses_the_last_axis():
    w = np.zeros((3, 3, 2, 4))
    w[1, 2, 0, 3] = 0.7
    assert inspection.unit_spread(w) == pytest.approx(0.7)


@pytest.mark.parametrize(
    "kernel, expected",
    [
        (np.zeros((4, 3)), 0),
        (np.full((6, 5), 0.1, dtype="float32"), 1),
        (np.outer(np.arange(1.0, 5.0), [1.0, -2.0, 3.0]), 1),
        (np.eye(4), 4),
        (np.ones((3, 3, 2, 8)), 1),
    ],
)
def test_numerical_rank_exact_cases(kernel, expected):
    assert inspection.numerical_rank(kernel) == expected


def test_numerical_rank_of_random_kernels_is_full_and_tolerance_applies():
    rng = np.random.default_rng(0)
    assert inspection.numerical_rank(rng.standard_normal((16, 32)).astype("float32")) == 16
    assert inspection.numerical_rank(rng.standard_normal((3, 3, 4, 8))) == 8  # (36, 8) matrix
    nearly_rank_one = np.diag([1.0, 1e-3])
    assert inspection.numerical_rank(nearly_rank_one) == 2
    assert inspection.numerical_rank(nearly_rank_one, rtol=1e-2) == 1


def _constant_model(value=0.1, optimizer="sgd"):
    settings.seed_everything(0)
    model = models.mlp(5, [6], kernel_initializer=keras.initializers.Constant(value))
    return models.compile_model(model, optimizer=optimizer, learning_rate=0.05)


def test_record_weights_frame_layout():
    model = _constant_model()
    x, y = _batch()
    frame = inspection.record_weights(model, x, y, epochs=3, batch_size=16)
    assert tuple(frame.columns) == inspection.RECORD_COLUMNS
    names = [w.path for w in model.weights]
    assert list(frame["epoch"]) == [e for e in range(4) for _ in names]
    assert list(frame["weight"]) == names * 4
    assert frame["rank"].dtype == "Int64"
    assert frame.loc[frame["weight"].str.endswith("bias"), "rank"].isna().all()
    assert (frame.loc[frame["epoch"] == 0, "max_abs_change"] == 0).all()
    last = frame[frame["epoch"] == 3].set_index("weight")
    for w in model.weights:
        assert last.loc[w.path, "norm"] == pytest.approx(float(np.linalg.norm(w.numpy())), rel=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_record_weights_constant_init_keeps_hidden_units_identical(optimizer):
    # Identical units get identical gradients; SGD and Adam both update elementwise,
    # so the units stay identical bit for bit.
    model = _constant_model(optimizer=optimizer)
    x, y = _batch()
    frame = inspection.record_weights(model, x, y, epochs=4, batch_size=16)
    hidden = frame[frame["weight"] == "dense_1/kernel"]
    assert (hidden["unit_spread"] == 0.0).all()
    assert (hidden["rank"] == 1).all()
    assert (hidden["max_abs_change"].iloc[1:] > 0).all()  # it does learn, as one unit


def test_record_weights_random_init_units_differ_and_kernel_has_full_rank():
    settings.seed_everything(0)
    model = models.compile_model(models.mlp(5, [6], kernel_initializer="he_normal"))
    x, y = _batch()
    hidden = inspection.record_weights(model, x, y, epochs=2, batch_size=16)
    hidden = hidden[hidden["weight"] == "dense_1/kernel"]
    assert (hidden["unit_spread"] > 0).all()
    assert (hidden["rank"] == 5).all()


def test_record_weights_zero_init_only_output_bias_moves():
    settings.seed_everything(0)
    model = models.compile_model(models.mlp(5, [6], kernel_initializer="zeros"))
    before = {w.path: w.numpy().copy() for w in model.weights}
    x, y = _batch()
    frame = inspection.record_weights(model, x, y, epochs=3, batch_size=16)
    moved = frame.groupby("weight")["max_abs_change"].max()
    assert list(moved[moved > 0].index) == ["output/bias"]
    for w in model.weights:  # max_abs_change == 0 means bit-identical
        assert np.array_equal(w.numpy(), before[w.path]) == (moved[w.path] == 0)


def test_record_weights_is_reproducible_under_seed():
    x, y = _batch()
    frames = []
    for _ in range(2):
        settings.seed_everything(5)
        model = models.compile_model(models.mlp(5, [6]))
        frames.append(inspection.record_weights(model, x, y, epochs=2, batch_size=16))
    pd.testing.assert_frame_equal(frames[0], frames[1])


def test_bad_input():
    model = models.mlp(5, [6])
    x, y = _batch()
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        inspection.weight_gradients("model", x, y)
    with pytest.raises(ValueError, match="same number of samples, got 64 and 10"):
        inspection.weight_gradients(model, x, y[:10])
    with pytest.raises(ValueError, match="at least one sample"):
        inspection.gradient_table(model, x[:0], y[:0])
    with pytest.raises(ValueError, match="loss must be a Keras loss name"):
        inspection.weight_gradients(model, x, y, loss="no_such_loss")
    with pytest.raises(ValueError, match="loss must be a Keras loss name"):
        inspection.weight_gradients(model, x, y, loss=3)
    with pytest.raises(ValueError, match="model must be compiled"):
        inspection.record_weights(model, x, y, epochs=1)
    compiled = models.compile_model(models.mlp(5, [6]))
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        inspection.record_weights(compiled, x, y, epochs=0)
    with pytest.raises(TypeError, match="batch_size must be a positive integer"):
        inspection.record_weights(compiled, x, y, epochs=1, batch_size=2.5)
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        inspection.record_weights(compiled, x, y, epochs=1, shuffle="yes")
    with pytest.raises(ValueError, match="rtol must be positive"):
        inspection.record_weights(compiled, x, y, epochs=1, rtol=0.0)
    with pytest.raises(ValueError, match="weights must be a vector or matrix, got shape"):
        inspection.unit_spread(3.0)
    with pytest.raises(ValueError, match="must not be empty"):
        inspection.unit_spread(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="weights must be a numeric array"):
        inspection.unit_spread(["a", "b"])
    with pytest.raises(ValueError, match=r"kernel must be a matrix \(2 or more dimensions\)"):
        inspection.numerical_rank(np.ones(4))
    with pytest.raises(ValueError, match="rtol must be positive, got -1.0"):
        inspection.numerical_rank(np.eye(2), rtol=-1.0)


def test_weight_gradients_leaves_batchnorm_statistics_unchanged():
    from initcourse import models

    model = models.mlp(4, [8], batchnorm=True)
    x = np.random.default_rng(0).normal(3.0, 2.0, (32, 4)).astype("float32")
    y = np.zeros((32, 1), "float32")
    before = [v.numpy().copy() for v in model.non_trainable_weights]
    inspection.weight_gradients(model, x, y)
    for v, b in zip(model.non_trainable_weights, before):
        np.testing.assert_array_equal(v.numpy(), b)
