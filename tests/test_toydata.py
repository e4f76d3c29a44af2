import numpy as np
import pytest

from initcourse import toydata


def test_teacher_regression_shapes_determinism_and_scale():
    a = toydata.teacher_regression(200, 100, 8, seed=1)
    b = toydata.teacher_regression(200, 100, 8, seed=1)
    assert a.x_train.shape == (200, 8) and a.y_train.shape == (200, 1)
    assert a.x_val.shape == (100, 8) and a.y_val.shape == (100, 1)
    assert a.x_train.dtype == np.float32
    for u, w in zip(a, b):
        np.testing.assert_array_equal(u, w)
    y = np.concatenate([a.y_train, a.y_val])
    # standardised before the split, without noise: exact up to float32 rounding
    assert abs(y.mean()) < 1e-5 and abs(y.std() - 1) < 1e-5
    assert not np.array_equal(toydata.teacher_regression(200, 100, 8, seed=2).y_train, a.y_train)


def test_gaussian_classes_balanced_and_labelled():
    d = toydata.gaussian_classes(400, 200, 5, n_classes=4, seed=0)
    y = np.concatenate([d.y_train, d.y_val])
    np.testing.assert_array_equal(np.bincount(y), [150, 150, 150, 150])
    assert d.x_train.shape == (400, 5) and d.y_train.dtype == np.int32


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_train": 0}, "n_train"), ({"noise": -1.0}, "noise"), ({"input_dim": 2.5}, "input_dim")],
)
def test_teacher_regression_bad_input(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        toydata.teacher_regression(**kwargs)


def test_gaussian_classes_needs_two_classes():
    with pytest.raises(ValueError, match="n_classes must be at least 2"):
        toydata.gaussian_classes(n_classes=1)
