import numpy as np
import pytest

from initcourse import models, settings

keras = settings.quiet_tensorflow()


def test_mlp_structure_and_defaults():
    m = models.mlp(5, [8, 8, 4], activation="tanh", output_units=2)
    dense = [layer for layer in m.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [8, 8, 4, 2]
    assert [layer.name for layer in dense] == ["dense_1", "dense_2", "dense_3", "output"]
    assert dense[0].activation.__name__ == "tanh"
    assert dense[-1].activation.__name__ == "linear"
    assert m.input_shape == (None, 5)
    assert m(np.zeros((3, 5), "float32")).shape == (3, 2)


def test_mlp_batchnorm_drops_redundant_bias_and_keeps_output_plain():
    m = models.mlp(4, [6, 6], batchnorm=True)
    names = [layer.name for layer in m.layers]
    assert names == ["inputs", "dense_1", "batchnorm_1", "relu_1", "dense_2", "batchnorm_2", "relu_2", "output"]
    assert not m.get_layer("dense_1").use_bias
    assert m.get_layer("output").use_bias


def test_mlp_initializer_by_keras_name_matches_keras_layer():
    settings.seed_everything(0)
    m = models.mlp(50, [40], kernel_initializer="zeros", output_initializer="ones")
    assert not m.get_layer("dense_1").kernel.numpy().any()
    assert (m.get_layer("output").kernel.numpy() == 1).all()


def test_mlp_clones_a_shared_initializer_instance():
    # One unseeded Keras instance shared by two same-shape layers gives identical kernels;
    # mlp clones it per layer so the layers differ.
    init = keras.initializers.HeNormal()
    m = models.mlp(16, [16, 16], kernel_initializer=init)
    k1, k2 = m.get_layer("dense_1").kernel.numpy(), m.get_layer("dense_2").kernel.numpy()
    assert not np.array_equal(k1, k2)


def test_mlp_is_reproducible_under_seed():
    settings.seed_everything(7)
    a = models.mlp(6, [5]).get_layer("dense_1").kernel.numpy()
    settings.seed_everything(7)
    b = models.mlp(6, [5]).get_layer("dense_1").kernel.numpy()
    np.testing.assert_array_equal(a, b)


def test_mlp_accepts_course_initializers():
    m = models.mlp(30, [20], kernel_initializer="torch_linear_default")
    k = m.get_layer("dense_1").kernel.numpy()
    assert np.abs(k).max() <= 1 / np.sqrt(30)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_dim": 0, "widths": [3]}, "input_dim must be a positive integer"),
        ({"input_dim": 3, "widths": []}, "widths must be a non-empty sequence"),
        ({"input_dim": 3, "widths": [3, 0]}, r"widths\[1\] must be a positive integer"),
        ({"input_dim": 3, "widths": [3], "kernel_initializer": 3.0}, "initializer must be"),
    ],
)
def test_mlp_bad_input(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        models.mlp(**kwargs)


def test_cifar_cnn_is_the_case_study_architecture():
    m = models.cifar_cnn()
    # conv 3*3*3*32+32, conv 3*3*32*64+64, dense 2304*64+64, output 64*10+10
    assert m.count_params() == 896 + 18496 + 147520 + 650
    assert m.output_shape == (None, 10)
    assert m.get_layer("conv_1").kernel_initializer.__class__.__name__ == "GlorotUniform"


def test_imdb_rnn_uses_keras_defaults():
    m = models.imdb_rnn()
    assert m.count_params() == 10000 * 32 + (32 * 32 + 32 * 32 + 32) + 33
    assert m.get_layer("embedding").embeddings_initializer.__class__.__name__ == "RandomUniform"
    cell = m.get_layer("rnn").cell
    assert cell.recurrent_initializer.__class__.__name__ == "Orthogonal"
    assert m.output_shape == (None, 1)


def test_compile_model_defaults_to_sgd_with_momentum():
    m = models.compile_model(models.mlp(3, [4]), learning_rate=0.05)
    assert m.optimizer.__class__.__name__ == "SGD"
    assert float(m.optimizer.momentum) == pytest.approx(0.9)
    assert float(m.optimizer.learning_rate) == pytest.approx(0.05)
    m2 = models.compile_model(models.mlp(3, [4]), optimizer="adam", metrics=["mae"])
    assert m2.optimizer.__class__.__name__ == "Adam"


def test_compile_model_bad_optimizer():
    with pytest.raises(ValueError, match="optimizer must be one of 'sgd', 'adam', got 'rmsprop'"):
        models.compile_model(models.mlp(3, [4]), optimizer="rmsprop")
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        models.compile_model(models.mlp(3, [4]), learning_rate=0)


def test_imdb_rnn_mask_zero_makes_the_last_state_ignore_padding():
    assert models.imdb_rnn().get_layer("embedding").mask_zero is False
    settings.seed_everything(0)
    m = models.imdb_rnn(vocab_size=20, sequence_length=6, mask_zero=True)
    assert m.get_layer("embedding").mask_zero is True
    words = np.array([[5, 7, 9]], "int32")
    after = np.concatenate([words, np.zeros((1, 3), "int32")], axis=1)  # padding after the words
    before = np.concatenate([np.zeros((1, 3), "int32"), words], axis=1)  # padding before them
    np.testing.assert_allclose(m(after).numpy(), m(before).numpy(), rtol=1e-5)
    settings.seed_everything(0)
    plain = models.imdb_rnn(vocab_size=20, sequence_length=6)
    assert not np.allclose(plain(after).numpy(), plain(before).numpy())


def test_imdb_rnn_refuses_a_mask_zero_that_is_not_a_bool():
    with pytest.raises(TypeError, match="mask_zero must be True or False, got 1"):
        models.imdb_rnn(mask_zero=1)
