"""initcourse.kerastools.transfer: class subsets, cached pre-training, new heads."""

import numpy as np
import pytest

from initcourse import models, transfer
from initcourse.settings import quiet_tensorflow


def _data(n=64):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 6)).astype("float32"), np.arange(n) % 4


def _builder():
    model = models.mlp(6, [8], output_units=3, output_activation="softmax")
    return models.compile_model(model, loss="sparse_categorical_crossentropy")


def test_class_subset_relabels():
    x, y = _data()
    xs, ys = transfer.class_subset(x, y, [3, 1])
    assert len(xs) == 32 and set(ys) == {0, 1}
    np.testing.assert_array_equal(xs[ys == 0], x[y == 3])
    with pytest.raises(ValueError, match="do not occur"):
        transfer.class_subset(x, y, [7])
    with pytest.raises(ValueError, match="distinct"):
        transfer.class_subset(x, y, [1, 1])


def test_pretrain_caches_weights(tmp_path):
    x, y = _data()
    y = y % 3
    first = transfer.pretrain(_builder, (x, y), seed=0, epochs=1, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("pretrained-*.weights.h5"))) == 1
    again = transfer.pretrain(_builder, (x, y), seed=0, epochs=1, cache_dir=tmp_path)
    for a, b in zip(first.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="data"):
        transfer.pretrain(_builder, x, epochs=1)


@pytest.mark.parametrize("freeze", [True, False])
def test_with_new_head(freeze):
    keras = quiet_tensorflow()
    x, y = _data()
    pre = transfer.pretrain(_builder, (x, y % 3), seed=0, epochs=1, cache_dir=False)
    model = transfer.with_new_head(pre, 4, head_initializer="zeros", freeze=freeze)
    assert model.output_shape == (None, 4)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.get_layer("new_head").kernel), 0)
    body = model.layers[1]
    np.testing.assert_array_equal(body.get_weights()[0], pre.get_weights()[0])
    n_trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert (n_trainable == 8 * 4 + 4) == freeze
    with pytest.raises(TypeError, match="freeze"):
        transfer.with_new_head(pre, 4, freeze="yes")
