import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402

from initcourse import plotting  # noqa: E402
from initcourse.maths.propagation import propagate, scale_sweep  # noqa: E402
from initcourse.maths.theory import predicted_stats  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture(scope="module")
def sweep():
    return scale_sweep(np.logspace(-3, 0.5, 6), depth=4, width=20, batch=30, gradient=True)


def _curve_lines(ax):
    return [line for line in ax.lines if line.get_linestyle() != "None"]


def test_use_course_style():
    with matplotlib.rc_context():
        plotting.use_course_style()
        assert tuple(matplotlib.rcParams["figure.figsize"]) == (7.0, 4.0)
        assert matplotlib.rcParams["savefig.dpi"] == 150


def test_weight_histograms_draw_a_constant_sample_as_a_line(no_warnings):
    rng = np.random.default_rng(0)
    samples = {"zeros": np.zeros((10, 10)), "normal": rng.normal(size=500), "narrow": 0.01 * rng.normal(size=500)}
    ax = plotting.plot_weight_histograms(samples, bins=20)
    assert len(ax.patches) == 2  # one step histogram per non-constant sample
    assert len(ax.lines) == 1 and ax.lines[0].get_xdata()[0] == 0.0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["zeros (all 0)", "normal", "narrow"]


def test_weight_histograms_on_given_axes():
    fig, ax = plt.subplots()
    assert plotting.plot_weight_histograms({"w": np.arange(10.0)}, ax=ax) is ax


@pytest.mark.parametrize(
    "samples, bins, match",
    [
        ({}, 10, "samples must be a non-empty mapping"),
        ([np.ones(3)], 10, "samples must be a non-empty mapping"),
        ({"w": np.array([1.0, np.nan])}, 10, r"samples\['w'\] must be a non-empty array of finite"),
        ({"w": np.array([])}, 10, "non-empty array"),
        ({"w": np.ones(3)}, 0, "bins must be a positive integer"),
    ],
)
def test_weight_histograms_bad_input(samples, bins, match):
    with pytest.raises(ValueError, match=match):
        plotting.plot_weight_histograms(samples, bins=bins)


def test_layer_stats_one_curve_per_hue(sweep, no_warnings):
    ax = plotting.plot_layer_stats(sweep, quantity="grad_preactivation", hue="scale")
    assert len(_curve_lines(ax)) == 6
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "layer" and ax.get_ylabel() == "std of grad_preactivation"


def test_layer_stats_zeros_on_a_log_axis_are_marked_not_plotted(no_warnings):
    zero = propagate(4, 10, initializer="zeros", batch=20)
    ax = plotting.plot_layer_stats(zero, quantity="activation", stat="std")
    curve, markers = ax.lines
    assert np.isnan(curve.get_ydata()).all()  # nothing passed to the log scale
    np.testing.assert_array_equal(markers.get_xdata(), [1, 2, 3, 4])
    assert plotting._OFF_SCALE_LABEL in [t.get_text() for t in ax.get_legend().get_texts()]


def test_layer_stats_mean_that_changes_sign(no_warnings):
    df = propagate(5, 10, activation="tanh", batch=20)
    ax = plotting.plot_layer_stats(df, quantity="preactivation", stat="mean")
    curve = ax.lines[0]
    mean = df[df["quantity"] == "preactivation"]["mean"].to_numpy()
    np.testing.assert_array_equal(np.isnan(curve.get_ydata()), mean <= 0)
    linear = plotting.plot_layer_stats(df, quantity="preactivation", stat="mean", log=False)
    assert linear.get_yscale() == "linear" and len(linear.lines) == 1
    np.testing.assert_array_equal(linear.lines[0].get_ydata(), mean)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(quantity="gradient"), ValueError, "quantity must be one of"),
        (dict(stat="median"), ValueError, "stat must be one of"),
        (dict(hue="initializer"), ValueError, "lacks the column"),
        (dict(), ValueError, "several rows per layer"),  # a sweep without hue
    ],
)
def test_layer_stats_bad_input(sweep, kwargs, error, match):
    with pytest.raises(error, match=match):
        plotting.plot_layer_stats(sweep, **kwargs)


def test_layer_stats_needs_a_dataframe():
    with pytest.raises(TypeError, match="df must be a pandas DataFrame"):
        plotting.plot_layer_stats({"layer": [1]})


def test_sweep_heatmap(sweep, no_warnings):
    ax = plotting.plot_sweep_heatmap(sweep, value="std")
    (mesh,) = ax.collections
    assert isinstance(mesh, QuadMesh)
    assert mesh.get_array().shape == (4, 6)  # layers x scales
    assert isinstance(mesh.norm, matplotlib.colors.LogNorm)
    assert ax.get_xscale() == "log" and len(ax.figure.axes) == 2  # with its colour bar


def test_sweep_heatmap_greys_out_zeros(sweep, no_warnings):
    df = sweep.copy()
    df.loc[df.index[:3], "std"] = 0.0  # the first three activation rows
    ax = plotting.plot_sweep_heatmap(df)
    assert ax.collections[0].get_array().mask.sum() == 3
    assert ax.get_legend() is not None


def test_sweep_heatmap_linear_scale_shows_negative_means(sweep, no_warnings):
    ax = plotting.plot_sweep_heatmap(sweep, value="mean", quantity="grad_preactivation", log=False)
    assert not np.ma.is_masked(ax.collections[0].get_array())


@pytest.mark.parametrize(
    "change, kwargs, match",
    [
        (lambda df: df, dict(value="median"), "value must be one of"),
        (lambda df: df, dict(quantity="preactivation"), "quantity must be one of"),
        (lambda df: df.assign(std=0.0), dict(), "no std value can be drawn on a log colour scale"),
        (lambda df: df.drop(columns="quantity"), dict(), r"several rows per \(scale, layer\)"),
        (lambda df: df.drop(columns="scale"), dict(), "lacks the column"),
    ],
)
def test_sweep_heatmap_bad_input(sweep, change, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plotting.plot_sweep_heatmap(change(sweep), **kwargs)


def test_predicted_vs_measured(no_warnings):
    measured = propagate(5, 50, batch=100)
    predicted = predicted_stats(5, 50, weight_var=2 / 50)
    ax = plotting.plot_predicted_vs_measured(measured, predicted, quantity="grad_preactivation")
    predicted_line, measured_line = ax.lines
    np.testing.assert_allclose(predicted_line.get_ydata(), 0.5)
    assert measured_line.get_linestyle() == "None" and ax.get_yscale() == "log"


def test_predicted_vs_measured_zero_prediction_is_marked(no_warnings):
    measured = propagate(3, 20, batch=30)
    predicted = predicted_stats(3, 20, weight_var=0.1)
    ax = plotting.plot_predicted_vs_measured(measured, predicted, quantity="preactivation", stat="mean")
    # the predicted mean is exactly 0 at every layer: all three marked, none plotted
    assert np.isnan(ax.lines[0].get_ydata()).all()
    assert any(len(line.get_xdata()) == 3 and line.get_marker() == "v" for line in ax.lines)


def test_predicted_vs_measured_bad_input():
    measured = propagate(2, 10, batch=10)
    predicted = predicted_stats(2, 10, weight_var=0.1)
    with pytest.raises(ValueError, match="stat must be one of"):
        plotting.plot_predicted_vs_measured(measured, predicted, stat="frac_zero")  # not predicted
    with pytest.raises(ValueError, match="several rows per layer"):
        plotting.plot_predicted_vs_measured(pd.concat([measured, measured]), predicted)
