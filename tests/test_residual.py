import numpy as np
import pytest

from initcourse import residual
from initcourse.settings import quiet_tensorflow, seed_everything

keras = quiet_tensorflow()


def _x(n=256, d=8, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype("float32")


def test_fixup_scale_is_exact():
    assert residual.fixup_scale(16) == pytest.approx(0.25)
    assert residual.fixup_scale(100, 3) == pytest.approx(100 ** -0.25)
    assert residual.fixup_scale(1) == 1.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_blocks=0), "num_blocks"),
    (dict(num_blocks=4, layers_per_branch=1), "layers_per_branch"),
    (dict(num_blocks=2.5), "num_blocks"),
])
def test_fixup_scale_rejects_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        residual.fixup_scale(**kwargs)


def test_variance_recursion_is_exact():
    np.testing.assert_allclose(residual.variance_recursion(5, "he"), 2.0 ** np.arange(6))
    np.testing.assert_allclose(residual.variance_recursion(4, "scaled", input_var=3.0), 3.0 * 1.25 ** np.arange(5))
    for scheme in ("fixup", "skipinit", "zero_gamma"):
        np.testing.assert_array_equal(residual.variance_recursion(7, scheme), np.ones(8))


def test_variance_recursion_rejects_bad_input():
    with pytest.raises(ValueError, match="scheme"):
        residual.variance_recursion(4, "bogus")
    with pytest.raises(ValueError, match="input_var"):
        residual.variance_recursion(4, "he", input_var=-1.0)


@pytest.mark.parametrize("scheme", residual.SCHEMES)
def test_resnet_mlp_shapes_and_stream_layers(scheme):
    model = residual.resnet_mlp(8, 16, 3, scheme=scheme, output_units=2)
    assert model.output_shape == (None, 2)
    assert residual.stream_layers(model) == ["stem", "block_1", "block_2", "block_3"]
    out = np.asarray(model(_x(4)))
    assert out.shape == (4, 2) and np.all(np.isfinite(out))


@pytest.mark.parametrize("scheme", ["fixup", "skipinit", "zero_gamma"])
def test_identity_schemes_leave_the_stream_unchanged_exactly(scheme):
    model = residual.resnet_mlp(8, 32, 6, scheme=scheme)
    m = residual.layer_moments(model, _x(), residual.stream_layers(model))
    np.testing.assert_allclose(m["mean_square"], m["mean_square"].iloc[0], rtol=1e-6)


def test_fixup_output_layer_and_last_branch_layers_are_zero():
    model = residual.resnet_mlp(8, 16, 4, scheme="fixup")
    assert not np.any(model.get_layer("output").kernel.numpy())
    for i in range(1, 5):
        assert not np.any(model.get_layer(f"block_{i}").w2.numpy())


def test_fixup_first_branch_layer_has_scaled_he_variance():
    # He normal times L^(-1/2): variance 2 / fan_in / L. 256 x 256 entries: relative error of the variance ~ 1 %.
    model = residual.resnet_mlp(8, 256, 16, scheme="fixup")
    kernel = model.get_layer("block_1").w1.numpy()
    assert np.var(kernel) == pytest.approx(2.0 / 256 / 16, rel=0.05)


def test_he_stream_doubles_per_block_statistically():
    # Width 512, 4 blocks, averaged over 4 draws: the mean square grows by 2^4 = 16 within 25 %.
    model = residual.resnet_mlp(8, 512, 4, scheme="he")
    ratios = []
    for seed in range(4):
        residual.reinitialize(model, seed)
        m = residual.layer_moments(model, _x(512), residual.stream_layers(model))
        ratios.append(m["mean_square"].iloc[-1] / m["mean_square"].iloc[0])
    assert np.mean(ratios) == pytest.approx(16.0, rel=0.25)


def test_resnet_mlp_rejects_bad_input():
    with pytest.raises(ValueError, match="scheme"):
        residual.resnet_mlp(8, 16, 2, scheme="batchnorm")
    with pytest.raises(ValueError, match="width"):
        residual.resnet_mlp(8, 0, 2)
    with pytest.raises(TypeError, match="num_blocks"):
        residual.resnet_mlp(8, 16, "2")


def test_layer_moments_matches_numpy():
    model = residual.resnet_mlp(8, 16, 2, scheme="he")
    x = _x(32)
    m = residual.layer_moments(model, x, ["stem", "block_2"])
    assert list(m.columns) == ["position", "layer", "mean", "var", "mean_square"]
    stem = np.asarray(keras.Model(model.inputs[0], model.get_layer("stem").output)(x), dtype=np.float64)
    assert m["mean"].iloc[0] == pytest.approx(stem.mean(), rel=1e-5, abs=1e-7)
    assert m["var"].iloc[0] == pytest.approx(stem.var(), rel=1e-5)
    assert m["mean_square"].iloc[0] == pytest.approx(np.mean(stem**2), rel=1e-5)


def test_layer_moments_rejects_bad_input():
    model = residual.resnet_mlp(8, 16, 2, scheme="he")
    with pytest.raises(ValueError, match="layers"):
        residual.layer_moments(model, _x(4), ["nope"])
    with pytest.raises(TypeError, match="layers"):
        residual.layer_moments(model, _x(4), "stem")
    with pytest.raises(ValueError, match="batch"):
        residual.layer_moments(model, _x(4, d=3), ["stem"])
    with pytest.raises(TypeError, match="training"):
        residual.layer_moments(model, _x(4), ["stem"], training="yes")


def test_stream_layers_rejects_other_models():
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="resnet_mlp"):
        residual.stream_layers(other)


def test_reinitialize_draws_new_kernels_and_resets_constants():
    model = residual.resnet_mlp(8, 16, 2, scheme="zero_gamma")
    residual.reinitialize(model, 0)
    first = model.get_layer("block_1").w1.numpy().copy()
    model.get_layer("block_1").bn2.gamma.assign(np.full(16, 3.0, dtype="float32"))
    count = residual.reinitialize(model, 1)
    assert count > 0
    assert not np.allclose(model.get_layer("block_1").w1.numpy(), first)
    assert not np.any(model.get_layer("block_1").bn2.gamma.numpy())
    residual.reinitialize(model, 0)
    np.testing.assert_array_equal(model.get_layer("block_1").w1.numpy(), first)
    with pytest.raises(ValueError, match="seed"):
        residual.reinitialize(model, -1)


def test_reinitialize_restores_skipinit_alpha():
    model = residual.resnet_mlp(8, 16, 2, scheme="skipinit")
    model.get_layer("block_1").alpha.assign(0.7)
    residual.reinitialize(model, 3)
    assert float(model.get_layer("block_1").alpha.numpy()) == 0.0


def test_train_seeds_returns_a_row_per_seed_and_epoch_and_stops_on_divergence():
    seed_everything(0)
    x = _x(64)
    y = x[:, :1].copy()
    good = residual.train_seeds(residual.resnet_mlp(8, 16, 2, scheme="fixup"), x, y, seeds=(0, 1), epochs=2,
                                batch_size=32, validation_data=(x, y))
    assert list(good.columns) == ["seed", "epoch", "loss", "val_loss"]
    assert len(good) == 4 and np.all(np.isfinite(good["loss"]))
    bad = residual.train_seeds(residual.resnet_mlp(8, 16, 12, scheme="he"), x * 100, y * 100, seeds=(0,),
                               epochs=3, batch_size=8, learning_rate=1.0)
    assert not np.isfinite(bad["loss"].iloc[-1])


def test_train_seeds_rejects_bad_input():
    model = residual.resnet_mlp(8, 16, 2, scheme="fixup")
    x = _x(16)
    with pytest.raises(ValueError, match="seeds"):
        residual.train_seeds(model, x, x[:, :1], seeds=(1, 1), epochs=1)
    with pytest.raises(ValueError, match="y"):
        residual.train_seeds(model, x, x[:4, :1], epochs=1)
    with pytest.raises(TypeError, match="initialize"):
        residual.train_seeds(model, x, x[:, :1], epochs=1, initialize=3)
    with pytest.raises(TypeError, match="validation_data"):
        residual.train_seeds(model, x, x[:, :1], epochs=1, validation_data=x)
