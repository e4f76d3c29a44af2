"""Tests of initcourse.course.explore: the computing functions against propagation/theory/lsuv,
the plotting functions, and the widget layer driven headless (controls changed from code)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from initcourse import explore, initializers, lsuv, propagation, theory  # noqa: E402
from initcourse.kerastools.models import mlp  # noqa: E402
from initcourse.settings import quiet_tensorflow  # noqa: E402

keras = quiet_tensorflow()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _rows(frame, source, quantity):
    part = frame[(frame["source"] == source) & (frame["quantity"] == quantity)]
    return part.sort_values("layer").reset_index(drop=True)


# --------------------------------------------------------------------------- propagation_profile


def test_profile_columns_and_rows():
    profile = explore.propagation_profile(6, 32, batch=50)
    assert tuple(profile.columns) == explore.PROFILE_COLUMNS
    assert set(profile["source"]) == {"measured", "predicted"}
    assert set(profile["quantity"]) == set(propagation.QUANTITIES)
    assert len(profile) == 2 * 4 * 6


def test_profile_measured_part_is_propagate_and_predicted_part_is_the_recursion():
    profile = explore.propagation_profile(8, 40, initializer="glorot_uniform", activation="tanh", batch=60, seed=3)
    direct = propagation.propagate(8, 40, initializer="glorot_uniform", activation="tanh", batch=60, seed=3)
    for quantity in propagation.QUANTITIES:
        got = _rows(profile, "measured", quantity)
        want = direct[direct["quantity"] == quantity].sort_values("layer").reset_index(drop=True)
        np.testing.assert_array_equal(got["var"], want["var"])
    variance = initializers.describe("glorot_uniform", (40, 40))["variance"]
    predicted = theory.predicted_stats(8, 40, weight_var=variance, activation="tanh")
    for quantity in propagation.QUANTITIES:
        got = _rows(profile, "predicted", quantity)
        want = predicted[predicted["quantity"] == quantity].sort_values("layer").reset_index(drop=True)
        np.testing.assert_allclose(got["var"], want["var"], rtol=1e-12)


def test_gain_multiplies_the_same_draws():
    # ReLU is positively homogeneous: with the same draws times g, the activation variance at
    # layer l is g^(2l) times larger, the gradient at layer l g^(2(depth-l)) times (exact maths).
    depth, gain = 5, 1.7
    base = explore.propagation_profile(depth, 30, gain=1.0, batch=40, seed=1)
    scaled = explore.propagation_profile(depth, 30, gain=gain, batch=40, seed=1)
    layers = np.arange(1, depth + 1)
    ratio = _rows(scaled, "measured", "activation")["var"] / _rows(base, "measured", "activation")["var"]
    np.testing.assert_allclose(ratio, gain ** (2 * layers), rtol=1e-9)
    grad = _rows(scaled, "measured", "grad_preactivation")["var"] / _rows(base, "measured", "grad_preactivation")["var"]
    np.testing.assert_allclose(grad, gain ** (2 * (depth - layers)), rtol=1e-9)
    predicted = _rows(scaled, "predicted", "activation")["var"] / _rows(base, "predicted", "activation")["var"]
    np.testing.assert_allclose(predicted, gain ** (2 * layers), rtol=1e-9)


def test_measurement_agrees_with_prediction_on_average():
    # Statistical: the mean of measured/predicted over 8 networks, within 3 standard errors of 1
    # (single networks scatter by ~10% at depth 5, width 128).
    ratios = []
    for seed in range(8):
        profile = explore.propagation_profile(5, 128, activation="relu", batch=200, seed=seed)
        m = _rows(profile, "measured", "preactivation")["var"].iloc[-1]
        p = _rows(profile, "predicted", "preactivation")["var"].iloc[-1]
        ratios.append(m / p)
    ratios = np.array(ratios)
    se = ratios.std(ddof=1) / np.sqrt(len(ratios))
    assert abs(ratios.mean() - 1) < 3 * se + 1e-3


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"gain": -1.0}, ValueError, "gain"),
        ({"gain": "big"}, TypeError, "gain"),
        ({"initializer": 0.05}, TypeError, "initializer"),
        ({"initializer": "nope"}, ValueError, "nope"),
        ({"activation": "swish"}, ValueError, "activation"),
        ({"depth": 0}, ValueError, "depth"),
        ({"width": 2.5}, TypeError, "width"),
    ],
)
def test_profile_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        explore.propagation_profile(**{"depth": 3, "width": 8, "batch": 10, **kwargs})


# --------------------------------------------------------------------------- propagation_grid


def test_grid_is_the_sweep_and_the_recursion():
    gains = [0.5, 1.0, 2 ** 0.5]
    grid = explore.propagation_grid(gains, depth=4, width=16, batch=32, activations=("relu", "tanh"), seed=2)
    assert tuple(grid.columns) == explore.GRID_COLUMNS
    assert len(grid) == 2 * 3 * 4 * 2 * 2  # activations x gains x layers x quantities x sources
    assert sorted(grid["gain"].unique()) == sorted(gains)  # the requested values, exactly
    sweep = propagation.scale_sweep(np.array(gains) / 4, depth=4, width=16, batch=32, activation="tanh", seed=2,
                                    gradient=True)
    got = grid[(grid["activation"] == "tanh") & (grid["source"] == "measured")]
    merged = got.merge(sweep.assign(gain=sweep["scale"] * 4).round({"gain": 9}).drop(columns="scale"),
                       left_on=[got["gain"].round(9), "layer", "quantity"], right_on=["gain", "layer", "quantity"])
    assert len(merged) == len(got)
    np.testing.assert_array_equal(merged["var_x"], merged["var_y"])
    predicted = theory.predicted_stats(4, 16, weight_var=0.5**2 / 16, activation="relu")
    want = predicted[predicted["quantity"] == "activation"].sort_values("layer")["var"].to_numpy()
    rows = grid[(grid["activation"] == "relu") & (grid["source"] == "predicted") & (grid["gain"] == 0.5)
                & (grid["quantity"] == "activation")].sort_values("layer")
    np.testing.assert_allclose(rows["var"], want, rtol=1e-12)


@pytest.mark.parametrize(
    "gains, kwargs, match",
    [([], {}, "gains"), ([1.0, -2.0], {}, r"gains\[1\]"), ("12", {}, "gains"), ([1.0], {"activations": "relu"}, "activations"),
     ([1.0], {"width": 0}, "width")],
)
def test_grid_bad_input(gains, kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        explore.propagation_grid(gains, **{"depth": 2, "width": 8, "batch": 8, **kwargs})


# --------------------------------------------------------------------------- lsuv_steps


def _model(depth=4, width=24, seed=0):
    keras.utils.set_random_seed(seed)
    return mlp(width, [width] * depth, activation="relu", kernel_initializer="glorot_uniform", output_units=5)


def _data(n=128, width=24, seed=0, scale=3.0):
    return (scale * np.random.default_rng(seed).standard_normal((n, width))).astype("float32")


def test_lsuv_steps_records_what_lsuv_measured_and_changes_nothing():
    batch = _data()
    model, twin = _model(), _model()
    before = lsuv.preactivation_variances(model, batch)
    report, steps = explore.lsuv_steps(model, batch, seed=4)
    twin_report = lsuv.lsuv(twin, batch, seed=4)
    # the observer does not change LSUV's result
    pd.testing.assert_frame_equal(report, twin_report)
    for got, want in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    assert tuple(steps.columns) == explore.STEP_COLUMNS
    n_layers = len(before)
    assert steps["step"].max() == sum(report["iterations"] + 1)
    assert len(steps) == n_layers * (steps["step"].max() + 1)
    first = steps[steps["step"] == 0]
    assert set(first["stage"]) == {"initial"}
    np.testing.assert_allclose(first["var"], before["var"], rtol=1e-6)
    # the processed layer's values at its first and last step are LSUV's var_before and var_after
    for row in report.itertuples():
        own = steps[(steps["processing"] == row.layer) & (steps["layer"] == row.layer)].sort_values("step")
        assert list(own["iteration"]) == list(range(row.iterations + 1))
        assert own["stage"].iloc[0] == "orthonormal"
        np.testing.assert_allclose(own["var"].iloc[0], row.var_before, rtol=1e-5)
        np.testing.assert_allclose(own["var"].iloc[-1], row.var_after, rtol=1e-5)
    last = steps[steps["step"] == steps["step"].max()]
    assert (np.abs(last["var"] - 1.0) < 0.1).all()


def test_lsuv_steps_with_fresh_minibatches_needs_a_probe():
    data = _data(n=512)
    with pytest.raises(ValueError, match="probe"):
        explore.lsuv_steps(_model(), lsuv.minibatches(data, 32, seed=0))
    report, steps = explore.lsuv_steps(_model(), lsuv.minibatches(data, 32, seed=0), probe=data[:128], seed=0,
                                       tol_var=0.05)
    assert steps["step"].max() == sum(report["iterations"] + 1)
    # fresh batches: the estimate moves, some layer takes more than one rescaling
    assert report["iterations"].max() >= 1


def test_lsuv_steps_bad_input():
    with pytest.raises(ValueError, match="tol_var"):
        explore.lsuv_steps(_model(), _data(), tol_var=-1)


# --------------------------------------------------------------------------- plotting


def test_plot_profile_draws_prediction_and_measurement_per_panel():
    profile = explore.propagation_profile(6, 32, batch=50)
    axes = explore.plot_propagation_profile(profile, quantities=("activation", "grad_preactivation", "preactivation"))
    assert len(axes) == 3
    for ax in axes:
        assert len(ax.get_lines()) >= 2
        assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="quantities"):
        explore.plot_propagation_profile(profile, quantities=("nope",))
    with pytest.raises(ValueError, match="profile"):
        explore.plot_propagation_profile(profile.drop(columns="source"))


def test_plot_lsuv_steps():
    _, steps = explore.lsuv_steps(_model(depth=3), _data(), seed=0)
    left, right = explore.plot_lsuv_steps(steps, step=2)
    assert len(left.get_lines()) == 2  # every layer, and the one being normalized
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), steps.loc[steps["step"] == 2, "var"])
    assert "step 2" in left.get_title()
    assert len(right.get_lines()) == steps["position"].max() + 2  # every layer, the last again, the marker
    with pytest.raises(ValueError, match="step"):
        explore.plot_lsuv_steps(steps, step=10_000)
    with pytest.raises(ValueError, match="steps"):
        explore.plot_lsuv_steps(steps.drop(columns="stage"))


# --------------------------------------------------------------------------- widgets, headless


def test_propagation_explorer_recomputes_when_controls_change():
    explorer = explore.PropagationExplorer(depth=5, width=32, batch=40)
    data, image = explorer.data.copy(), explorer.image.value
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    explorer.controls["depth"].value = 9
    assert explorer.data["layer"].max() == 9 and explorer.image.value != image
    image = explorer.image.value
    explorer.controls["activation"].value = "tanh"
    assert not explorer.data["var"].equals(data["var"]) and explorer.image.value != image
    explorer.controls["gain"].value = 2.0
    explorer.controls["initializer"].value = "lecun_normal"
    sigma = 2.0 * initializers.describe("lecun_normal", (32, 32))["std"]
    assert f"{sigma * np.sqrt(32):.3f}" in explorer.status.value
    expected = explore.propagation_profile(9, 32, initializer="lecun_normal", gain=2.0, activation="tanh", batch=40)
    pd.testing.assert_frame_equal(explorer.data, expected)
    assert explorer.values()["seed"] == 0


def test_propagation_explorer_shows_warnings_in_its_status_line(monkeypatch):
    # Within the explorer's limits float64 does not overflow; a warning of the computation
    # (such as propagate's NonFiniteWarning) must reach the status line, not stderr.
    original = explore.propagation_profile

    def warning_profile(*args, **kwargs):
        import warnings

        warnings.warn("the forward signal overflowed at layer 7", RuntimeWarning)
        return original(*args, **kwargs)

    explorer = explore.PropagationExplorer(depth=2, width=16, batch=20)
    monkeypatch.setattr(explore, "propagation_profile", warning_profile)
    explorer.controls["depth"].value = 3
    assert "overflowed at layer 7" in explorer.status.value


def test_propagation_explorer_bad_input():
    with pytest.raises(ValueError, match="initializer"):
        explore.PropagationExplorer(initializer="zeros")
    with pytest.raises(ValueError, match="gain"):
        explore.PropagationExplorer(gain=100.0)
    with pytest.raises(ValueError, match="seed"):
        explore.PropagationExplorer(seed=-1)


def test_lsuv_explorer_step_slider_redraws_and_settings_rerun():
    explorer = explore.LSUVExplorer(depth=3, width=16, batch_size=32)
    steps = explorer.data
    assert explorer.controls["step"].max == steps["step"].max()
    assert explorer.controls["step"].value == steps["step"].max()
    image = explorer.image.value
    explorer.controls["step"].value = 1
    assert explorer.data is steps and explorer.image.value != image  # only redrawn
    explorer.controls["depth"].value = 5
    assert explorer.data is not steps and explorer.report["layer"].tolist()[-1] == "output"
    assert len(explorer.report) == 6
    assert explorer.controls["step"].value == explorer.data["step"].max()
    explorer.controls["fresh_batches"].value = True
    assert explorer.data["step"].max() == sum(explorer.report["iterations"] + 1)


def test_explorers_without_ipywidgets_say_how_to_get_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now raises ImportError
    with pytest.raises(ImportError, match="pip install ipywidgets"):
        explore.PropagationExplorer(depth=2, width=8, batch=10)


def test_lsuv_explorer_bad_input():
    with pytest.raises(ValueError, match="depth"):
        explore.LSUVExplorer(depth=99)
    with pytest.raises(ValueError, match="activation"):
        explore.LSUVExplorer(activation="sigmoid")
