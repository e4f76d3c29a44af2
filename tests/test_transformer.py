import numpy as np
import pytest

from initcourse import residual, transformer
from initcourse.settings import quiet_tensorflow, seed_everything

keras = quiet_tensorflow()


def _tokens(n=16, length=8, vocab=50, seed=0):
    return np.random.default_rng(seed).integers(1, vocab, size=(n, length))


def test_residual_scale_is_exact():
    assert transformer.residual_scale(8) == pytest.approx(0.25)
    assert transformer.residual_scale(2) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="num_layers"):
        transformer.residual_scale(0)


@pytest.mark.parametrize("norm", transformer.NORMS)
def test_encoder_shapes_and_stream_layers(norm):
    model = transformer.encoder(vocab_size=50, sequence_length=8, d_model=16, num_heads=2, ff_dim=32,
                                num_layers=2, norm=norm, output_units=3, output_activation=None)
    assert model.output_shape == (None, 3)
    assert transformer.stream_layers(model) == [f"stream_{k}" for k in range(5)]
    assert np.asarray(model(_tokens())).shape == (16, 3)


def test_residual_scaling_multiplies_the_projections_exactly():
    kwargs = dict(vocab_size=50, sequence_length=8, d_model=16, num_heads=2, ff_dim=32, num_layers=4)
    seed_everything(0)
    plain = transformer.encoder(**kwargs)
    seed_everything(0)
    scaled = transformer.encoder(residual_scaling=True, **kwargs)
    factor = transformer.residual_scale(4)
    for a, b in zip(plain.weights, scaled.weights, strict=True):
        if a.path.endswith("attention_output/kernel") or (a.path.endswith("dense_2/kernel")):
            np.testing.assert_allclose(b.numpy(), a.numpy() * factor, rtol=1e-6)
        else:
            np.testing.assert_array_equal(b.numpy(), a.numpy())


def test_post_ln_stream_has_unit_variance_per_token():
    # With a unit-scale embedding LayerNorm's epsilon (1e-3) is negligible: every stream tensor has variance ~1.
    model = transformer.encoder(vocab_size=50, sequence_length=8, d_model=32, num_heads=2, ff_dim=32, num_layers=2,
                                norm="post", embedding_initializer=keras.initializers.RandomNormal(stddev=1.0))
    m = residual.layer_moments(model, _tokens(), transformer.stream_layers(model))
    np.testing.assert_allclose(m["var"].iloc[1:], 1.0, rtol=0.01)


def test_pre_ln_stream_grows_and_embedding_scale_multiplies_the_embedding():
    seed_everything(0)
    model = transformer.encoder(vocab_size=50, sequence_length=8, d_model=32, num_heads=2, ff_dim=64, num_layers=3,
                                norm="pre", embedding_scale=4.0)
    m = residual.layer_moments(model, _tokens(), transformer.stream_layers(model))
    emb = np.asarray(keras.Model(model.inputs[0], model.get_layer("embedding").output)(_tokens()), dtype=np.float64)
    assert m["var"].iloc[0] == pytest.approx(16.0 * emb.var(), rel=1e-4)
    assert m["var"].iloc[-1] > m["var"].iloc[0]


@pytest.mark.parametrize("kwargs, match", [
    (dict(norm="middle"), "norm"),
    (dict(d_model=30, num_heads=4), "d_model"),
    (dict(embedding_scale=0.0), "embedding_scale"),
    (dict(residual_scaling="yes"), "residual_scaling"),
    (dict(num_layers=0), "num_layers"),
])
def test_encoder_rejects_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        transformer.encoder(**kwargs)


def test_stream_layers_rejects_other_models():
    with pytest.raises(ValueError, match="encoder"):
        transformer.stream_layers(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))
