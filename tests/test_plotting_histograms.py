import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from initcourse import plotting  # noqa: E402
from initcourse.maths.propagation import layer_histograms, trace  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def hist():
    return layer_histograms(trace(4, 30, activation="tanh", batch=40, seed=0)["activation"], bins=12)


def test_one_line_per_layer_through_the_bin_centres(hist):
    ax = plotting.plot_layer_histograms(hist)
    assert [line.get_label() for line in ax.lines] == ["layer 1", "layer 2", "layer 3", "layer 4"]
    first = hist[hist["layer"] == 1]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), (first["left"] + first["right"]) / 2)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), first["density"])
    assert len({line.get_color() for line in ax.lines}) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["layer 1", "layer 2", "layer 3", "layer 4"]


def test_rows_in_any_order_give_the_same_curves(hist):
    shuffled = hist.sample(frac=1.0, random_state=0)
    ax = plotting.plot_layer_histograms(shuffled)
    reference = plotting.plot_layer_histograms(hist)
    for line, expected in zip(ax.lines, reference.lines):
        np.testing.assert_array_equal(line.get_ydata(), expected.get_ydata())


def test_draws_on_given_axes_and_copes_with_zero_densities():
    values = [np.zeros(5), np.full(5, 10.0)]  # the second layer lies outside the limits: all densities 0
    hist = layer_histograms(values, bins=4, limits=(-1.0, 1.0))
    fig, ax = plt.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plotting.plot_layer_histograms(hist, ax=ax) is ax
    assert np.all(ax.lines[1].get_ydata() == 0)


def test_a_single_layer():
    ax = plotting.plot_layer_histograms(layer_histograms([np.arange(10.0)], bins=5))
    assert len(ax.lines) == 1


def test_bad_input(hist):
    with pytest.raises(TypeError):
        plotting.plot_layer_histograms(hist.to_numpy())
    with pytest.raises(ValueError, match="density"):
        plotting.plot_layer_histograms(hist.drop(columns="density"))
    with pytest.raises(ValueError, match="no rows"):
        plotting.plot_layer_histograms(hist.iloc[:0])
    with pytest.raises(ValueError, match="several rows"):
        plotting.plot_layer_histograms(pd.concat([hist, hist]))
