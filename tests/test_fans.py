"""Tests of initcourse.maths.fans: Keras 3's fan convention."""

import pytest

from initcourse import settings
from initcourse.maths.fans import compute_fans

keras = settings.quiet_tensorflow()
from keras.src.initializers.random_initializers import compute_fans as keras_compute_fans  # noqa: E402

SHAPES = [(), (7,), (3, 5), (3, 3, 16, 32), (5, 8, 4), (2, 2, 2, 3, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_compute_fans_matches_keras(shape):
    assert compute_fans(shape) == keras_compute_fans(shape)


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        (7, (7, 7)),
        ((3, 5), (3, 5)),
        ((3, 3, 16, 32), (3 * 3 * 16, 3 * 3 * 32)),
        ((5, 8, 4), (5 * 8, 5 * 4)),
        ((2, 2, 2, 3, 4), (8 * 3, 8 * 4)),
    ],
    ids=str,
)
def test_compute_fans_exact_values(shape, expected):
    fans = compute_fans(shape)
    assert fans == expected
    assert all(type(f) is int for f in fans)


@pytest.mark.parametrize("shape", [(0, 3), (3, -1), (-2,)], ids=str)
def test_compute_fans_rejects_non_positive_dimensions(shape):
    with pytest.raises(ValueError, match="shape must be a tuple of positive integers"):
        compute_fans(shape)


@pytest.mark.parametrize("shape", [(3, 2.0), (True, 3)], ids=str)
def test_compute_fans_rejects_non_integer_dimensions(shape):
    with pytest.raises(ValueError, match="shape"):
        compute_fans(shape)


@pytest.mark.parametrize("shape", ["35", None, 2.5], ids=repr)
def test_compute_fans_rejects_non_shapes(shape):
    with pytest.raises(TypeError, match="shape"):
        compute_fans(shape)
