import numpy as np
import pandas as pd
import pytest

from initcourse import width


def _data(n=64, d=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    return x, np.tanh(x[:, :1] - x[:, 1:2])


def test_multipliers_are_exact():
    assert width.learning_rate_multipliers(256, "sp", base_width=32) == {"W1": 1.0, "W2": 1.0, "W3": 1.0}
    assert width.learning_rate_multipliers(256, "mup", base_width=32) == {"W1": 1.0, "W2": 0.125, "W3": 0.125}


def test_init_params_shapes_and_variances():
    # 512 x 512 entries: the sample variance is within 2 % of the target with overwhelming probability.
    sp = width.init_params(16, 512, parametrization="sp", base_width=32, seed=0)
    mup = width.init_params(16, 512, parametrization="mup", base_width=32, seed=0)
    assert sp["W1"].shape == (16, 512) and sp["W2"].shape == (512, 512) and sp["W3"].shape == (512, 1)
    assert np.var(sp["W2"]) == pytest.approx(2 / 512, rel=0.02)
    np.testing.assert_array_equal(sp["W2"], mup["W2"])
    np.testing.assert_allclose(mup["W3"], sp["W3"] * np.sqrt(32 / 512))


def test_sp_and_mup_are_the_same_network_at_the_base_width():
    x, y = _data()
    a = width.train(x, y, width=32, parametrization="sp", base_width=32, steps=3, seed=1)
    b = width.train(x, y, width=32, parametrization="mup", base_width=32, steps=3, seed=1)
    pd.testing.assert_frame_equal(a, b)


def test_gradients_match_finite_differences():
    x, y = _data(n=8)
    params = width.init_params(8, 6, seed=0)
    loss, grads = width._gradients(params, x, y)
    eps = 1e-6
    for name in width.LAYERS:
        i = (0,) * params[name].ndim
        bumped = {k: v.copy() for k, v in params.items()}
        bumped[name][i] += eps
        numeric = (width._gradients(bumped, x, y)[0] - loss) / eps
        assert grads[name][i] == pytest.approx(numeric, rel=1e-3, abs=1e-6)


def test_train_frame_and_step_zero():
    x, y = _data()
    frame = width.train(x, y, width=16, steps=4, seed=0)
    assert list(frame["step"]) == [0, 1, 2, 3, 4]
    assert frame.loc[0, ["h1_delta", "h2_delta", "out_delta"]].eq(0).all()
    assert frame["loss"].iloc[-1] < frame["loss"].iloc[0]


def test_coordinate_check_sp_grows_with_width_mup_does_not():
    # 5 Adam steps at lr 0.01: under SP the change of h2 grows roughly like the width (16x from 32 to 512,
    # measured 8-10x); under muP it stays within a factor 1.5. Thresholds leave a factor 2 of room.
    x, y = _data()
    check = width.coordinate_check(x, y, widths=[32, 512], steps=5, seeds=(0,), base_width=32)
    last = check[check.step == 5].set_index(["parametrization", "width"])["h2_delta"]
    assert last[("sp", 512)] / last[("sp", 32)] > 4
    assert 0.5 < last[("mup", 512)] / last[("mup", 32)] < 2


def test_learning_rate_sweep_columns():
    x, y = _data()
    sweep = width.learning_rate_sweep(x, y, widths=[16], learning_rates=[1e-3, 1e-2], steps=2, seeds=(0, 1))
    assert list(sweep.columns) == ["parametrization", "width", "learning_rate", "seed", "loss"]
    assert len(sweep) == 2 * 2 * 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(width=0), "width"),
    (dict(width=8, parametrization="ntk"), "parametrization"),
    (dict(width=8, learning_rate=-1.0), "learning_rate"),
    (dict(width=8, steps=0), "steps"),
])
def test_train_rejects_bad_input(kwargs, match):
    x, y = _data()
    with pytest.raises((ValueError, TypeError), match=match):
        width.train(x, y, **kwargs)


def test_bad_data_and_lists_are_refused():
    x, y = _data()
    with pytest.raises(ValueError, match="y"):
        width.train(x, y[:3], width=8)
    with pytest.raises(ValueError, match="x"):
        width.train(x[0], y, width=8)
    with pytest.raises(ValueError, match="seeds"):
        width.coordinate_check(x, y, widths=[8], seeds=(-1,))
    with pytest.raises(ValueError, match="widths"):
        width.coordinate_check(x, y, widths=[])
    with pytest.raises(ValueError, match="learning_rates"):
        width.learning_rate_sweep(x, y, widths=[8], learning_rates=[0.0])
