import numpy as np
import pytest
from scipy import special

from initcourse import activations, initializers
from initcourse.maths.propagation import SIGNALS, layer_histograms, propagate, trace


def _recording_initializer(kernels):
    """He normal in float64, keeping every kernel it returns."""

    def init(shape, seed):
        kernel = initializers.he_normal(shape, seed=seed, dtype="float64")
        kernels.append(kernel)
        return kernel

    return init


# ----------------------------------------------------------------------------- trace


def test_trace_shapes_per_layer():
    signals = trace(widths=(7, 5, 3, 4), batch=11, seed=0)
    assert tuple(signals) == SIGNALS
    for name in SIGNALS:
        assert [a.shape for a in signals[name]] == [(11, 5), (11, 3), (11, 4)]
        assert all(a.dtype == np.float64 for a in signals[name])
    assert len(trace(6, 8, batch=3)["activation"]) == 6


@pytest.mark.parametrize("activation", ["relu", "tanh", "linear"])
def test_trace_has_exactly_the_statistics_of_propagate(activation):
    kwargs = dict(widths=(30, 40, 20, 25), initializer="glorot_uniform", activation=activation, batch=50)
    signals = trace(**kwargs)
    frame = propagate(**kwargs).set_index(["quantity", "layer"])
    for name in SIGNALS:
        for layer, values in enumerate(signals[name], start=1):
            row = frame.loc[(name, layer)]
            # the same numbers, summed in a different order: equal to float64 rounding
            np.testing.assert_allclose(values.mean(), row["mean"], rtol=1e-10, atol=1e-15)
            np.testing.assert_allclose(values.var(), row["var"], rtol=1e-10)
            np.testing.assert_allclose(np.mean(values == 0), row["frac_zero"], rtol=1e-12)


def test_trace_follows_the_forward_and_backward_equations():
    kernels = []
    batch, widths, seed = 20, (6, 9, 7, 5), 4
    init = _recording_initializer(kernels)
    signals = trace(widths=widths, initializer=init, activation="relu", batch=batch, seed=seed)
    h, x, g = (signals[name] for name in SIGNALS)
    relu = activations.get("relu")

    # draw order (documented by propagate): inputs, kernels from layer 1 up, output gradient
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((batch, widths[0]))
    shapes = list(zip(widths[:-1], widths[1:]))
    replayed = [initializers.he_normal(shape, seed=rng, dtype="float64") for shape in shapes]
    grad_out = rng.standard_normal((batch, widths[-1]))
    for kernel, again in zip(kernels, replayed):
        np.testing.assert_array_equal(kernel, again)

    inputs = [x0, *x[:-1]]
    for layer in range(len(kernels)):
        np.testing.assert_allclose(h[layer], inputs[layer] @ kernels[layer], rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(x[layer], relu.forward(h[layer]))
    np.testing.assert_array_equal(g[-1], grad_out * relu.derivative(h[-1]))
    for layer in range(len(kernels) - 1):
        expected = (g[layer + 1] @ kernels[layer + 1].T) * relu.derivative(h[layer])
        np.testing.assert_allclose(g[layer], expected, rtol=1e-12, atol=1e-12)


def test_trace_is_seeded():
    first, again, other = (trace(3, 10, batch=8, seed=s) for s in (1, 1, 2))
    for name in SIGNALS:
        for a, b, c in zip(first[name], again[name], other[name]):
            np.testing.assert_array_equal(a, b)
            assert not np.array_equal(a, c)


def test_trace_with_zero_kernels_is_all_zeros():
    signals = trace(4, 6, initializer=lambda shape, seed: np.zeros(shape), activation="relu", batch=5)
    for name in SIGNALS:
        for values in signals[name]:
            assert np.all(values == 0) and not np.isnan(values).any()


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(depth=0, width=5), ValueError),
        (dict(depth=2, width=5, widths=(5, 5, 5)), TypeError),
        (dict(depth=2), TypeError),
        (dict(widths=(5,)), ValueError),
        (dict(depth=2, width=5, activation="softplus"), ValueError),
        (dict(depth=2, width=5, batch=0), ValueError),
        (dict(depth=2, width=5, initializer=lambda shape, seed: np.zeros((2, 2))), ValueError),
        (dict(depth=2, width=5, initializer=-1.0), ValueError),
    ],
)
def test_trace_rejects_bad_arguments_like_propagate(kwargs, error):
    with pytest.raises(error):
        trace(**kwargs)
    with pytest.raises(error):
        propagate(**kwargs)


# ----------------------------------------------------------------------------- layer_histograms


def _area(frame):
    """The integral of one layer's histogram curve."""
    return (frame["density"] * (frame["right"] - frame["left"])).sum()


def test_layer_histograms_by_hand():
    hist = layer_histograms([np.array([0.0, 0.0, 1.0, 3.0])], bins=3)
    assert list(hist.columns) == ["layer", "left", "right", "density"]
    np.testing.assert_array_equal(hist["left"], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(hist["right"], [1.0, 2.0, 3.0])
    # counts 2, 1, 1 (the last bin includes its right edge) over 4 values and bin width 1
    np.testing.assert_array_equal(hist["density"], [0.5, 0.25, 0.25])


def test_layer_histograms_share_bins_and_integrate_to_one():
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(50, 4)), 3 * rng.normal(size=300), rng.uniform(-1, 8, size=77)]
    hist = layer_histograms(values, bins=17)
    assert hist["layer"].tolist() == [1] * 17 + [2] * 17 + [3] * 17
    per_layer = [frame for _, frame in hist.groupby("layer")]
    for frame in per_layer[1:]:
        np.testing.assert_array_equal(frame["left"], per_layer[0]["left"])
    assert hist["left"].min() == min(v.min() for v in values)
    assert hist["right"].max() == max(v.max() for v in values)
    for frame, v in zip(per_layer, values):
        np.testing.assert_allclose(_area(frame), 1.0, rtol=1e-12)
        edges = np.append(frame["left"].to_numpy(), frame["right"].iloc[-1])
        np.testing.assert_allclose(frame["density"], np.histogram(v, bins=edges, density=True)[0], rtol=1e-12)


def test_layer_histograms_with_limits_integrate_to_the_fraction_inside():
    rng = np.random.default_rng(1)
    values = [rng.normal(size=1000), rng.normal(size=500) * 0.1]
    hist = layer_histograms(values, bins=10, limits=(-1.0, 1.5))
    assert hist["left"].min() == -1.0 and hist["right"].max() == 1.5
    for (_, frame), v in zip(hist.groupby("layer"), values):
        inside = np.mean((v >= -1.0) & (v <= 1.5))
        np.testing.assert_allclose(_area(frame), inside, rtol=1e-12)


def test_layer_histograms_of_a_constant():
    hist = layer_histograms([np.zeros(10)], bins=2)
    np.testing.assert_array_equal(hist["left"], [-0.5, 0.0])
    np.testing.assert_array_equal(hist["density"], [0.0, 2.0])


def test_layer_histograms_estimate_the_normal_density():
    n, bins = 200_000, 40
    values = np.random.default_rng(2).standard_normal(n)
    hist = layer_histograms([values], bins=bins, limits=(-4.0, 4.0))
    width = 8.0 / bins
    p = special.ndtr(hist["right"]) - special.ndtr(hist["left"])
    # a bin's count is Binomial(n, p): its density has standard error sqrt(p (1 - p) / n) / width.
    # 5 standard errors: a false alarm in one of the 40 bins has probability about 40 * 6e-7.
    standard_error = np.sqrt(p * (1 - p) / n) / width
    assert np.all(np.abs(hist["density"] - p / width) <= 5 * standard_error)


@pytest.mark.parametrize(
    "values, kwargs, error",
    [
        ([], {}, ValueError),
        ("abc", {}, ValueError),
        ([np.array([])], {}, ValueError),
        ([np.array([0.0, np.nan])], {}, ValueError),
        ([np.array([0.0, np.inf])], {}, ValueError),
        ([np.ones(3)], {"bins": 0}, ValueError),
        ([np.ones(3)], {"bins": 2.5}, TypeError),
        ([np.ones(3)], {"limits": (1.0, 0.0)}, ValueError),
        ([np.ones(3)], {"limits": (1.0, 1.0)}, ValueError),
        ([np.ones(3)], {"limits": (0.0, np.inf)}, ValueError),
        ([np.ones(3)], {"limits": (0.0,)}, ValueError),
        ([np.ones(3)], {"limits": ("a", 1.0)}, TypeError),
    ],
)
def test_layer_histograms_rejects_bad_input(values, kwargs, error):
    with pytest.raises(error):
        layer_histograms(values, **kwargs)


def test_layer_histograms_error_names_the_layer():
    with pytest.raises(ValueError, match="layer 2"):
        layer_histograms([np.ones(3), np.array([np.nan])])
