import numpy as np
import pytest

from initcourse import _validation as v


def test_check_positive_int():
    assert v.check_positive_int(np.int64(3), "n") == 3
    with pytest.raises(ValueError, match="fan_in must be a positive integer, got 0"):
        v.check_positive_int(0, "fan_in")
    for bad in (2.0, True, "3", None):
        with pytest.raises(TypeError, match="n must be a positive integer"):
            v.check_positive_int(bad, "n")


def test_check_floats():
    assert v.check_nonnegative_float(0, "x") == 0.0
    assert v.check_positive_float(np.float32(0.5), "x") == 0.5
    with pytest.raises(ValueError, match="x must be positive, got 0.0"):
        v.check_positive_float(0, "x")
    with pytest.raises(ValueError, match="x must be non-negative"):
        v.check_nonnegative_float(-1e-9, "x")
    with pytest.raises(ValueError, match="x must be finite"):
        v.check_positive_float(float("nan"), "x")
    with pytest.raises(TypeError, match="x must be a real number"):
        v.check_positive_float("1", "x")


def test_check_choice_lists_choices():
    assert v.check_choice("a", "mode", ["a", "b"]) == "a"
    with pytest.raises(ValueError, match="mode must be one of 'a', 'b', got 'c'"):
        v.check_choice("c", "mode", ["a", "b"])


def test_check_shape():
    assert v.check_shape(5) == (5,)
    assert v.check_shape((3, 4)) == (3, 4)
    assert v.check_shape(()) == ()
    with pytest.raises(ValueError, match="at least one dimension"):
        v.check_shape((), allow_empty=False)
    with pytest.raises(ValueError, match=r"dimension 1 is 0"):
        v.check_shape((3, 0))
    with pytest.raises(ValueError, match=r"dimension 0 is 2.5"):
        v.check_shape((2.5, 3))
    with pytest.raises(TypeError, match="shape must be a tuple of positive integers"):
        v.check_shape("3x3")


def test_as_generator():
    g = np.random.default_rng(0)
    assert v.as_generator(g) is g
    assert v.as_generator(1).random() == np.random.default_rng(1).random()
    assert isinstance(v.as_generator(None), np.random.Generator)
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -1"):
        v.as_generator(-1)
    with pytest.raises(TypeError, match="seed must be None, a non-negative integer or a numpy.random.Generator"):
        v.as_generator(1.0)
