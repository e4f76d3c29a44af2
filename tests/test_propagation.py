import warnings

import numpy as np
import pandas as pd
import pytest

from initcourse import activations, initializers
from initcourse.maths.propagation import QUANTITIES, STATS, propagate, scale_sweep


def _stats(a):
    return {"mean": a.mean(), "std": a.std(), "var": a.var(), "frac_zero": np.mean(a == 0)}


def _reference(sizes, initializer, activation, batch, seed, input_std=1.0):
    """Straightforward forward/backward pass with the same draws as ``propagate``."""
    rng = np.random.default_rng(seed)
    act = activations.get(activation)
    x = input_std * rng.standard_normal((batch, sizes[0]))
    kernels = [initializers.get(initializer)(shape, seed=rng, dtype="float64") for shape in zip(sizes, sizes[1:])]
    grad = rng.standard_normal((batch, sizes[-1]))
    inputs, pre = [], []
    for w in kernels:
        inputs.append(x)
        pre.append(x @ w)
        x = act.forward(pre[-1])
    rows = {q: {} for q in QUANTITIES}
    for layer in range(len(kernels), 0, -1):
        h = pre[layer - 1]
        grad_h = grad * act.derivative(h)
        per_example = inputs[layer - 1][:, :, None] * grad_h[:, None, :]  # (batch, fan_in, fan_out)
        rows["preactivation"][layer] = _stats(h)
        rows["activation"][layer] = _stats(act.forward(h))
        rows["grad_preactivation"][layer] = _stats(grad_h)
        rows["grad_weight"][layer] = _stats(per_example)
        grad = grad_h @ kernels[layer - 1].T
    return pd.DataFrame(
        [{"layer": layer, "quantity": q, **rows[q][layer]} for q in QUANTITIES for layer in sorted(rows[q])]
    )


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_propagate_matches_a_direct_computation(activation):
    # same draws, same maths: the statistics (including the per-example weight
    # gradients computed from row moments) agree to rounding
    sizes, batch = (12, 9, 7, 5), 40
    got = propagate(widths=sizes, initializer="glorot_uniform", activation=activation, batch=batch, seed=3)
    expected = _reference(sizes, "glorot_uniform", activation, batch, seed=3)
    pd.testing.assert_frame_equal(got, expected, rtol=1e-10, atol=1e-13)


def test_frame_format():
    df = propagate(4, 20, batch=50)
    assert list(df.columns) == ["layer", "quantity", *STATS]
    assert len(df) == 4 * len(QUANTITIES)
    assert list(df["quantity"].unique()) == list(QUANTITIES)
    for _, group in df.groupby("quantity"):
        assert list(group["layer"]) == [1, 2, 3, 4]
    np.testing.assert_allclose(df["var"], df["std"] ** 2, rtol=1e-12)
    assert df[list(STATS)].notna().all().all()


def test_same_seed_same_frame_and_generators_are_accepted():
    a = propagate(3, 16, batch=30, seed=5)
    pd.testing.assert_frame_equal(a, propagate(3, 16, batch=30, seed=5))
    pd.testing.assert_frame_equal(a, propagate(3, 16, batch=30, seed=np.random.default_rng(5)))
    assert not a.equals(propagate(3, 16, batch=30, seed=6))


def test_constant_width_equals_the_same_widths_list():
    pd.testing.assert_frame_equal(propagate(3, 10, batch=20), propagate(widths=[10, 10, 10, 10], batch=20))


def test_zero_initialization_gives_exact_zeros_without_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = propagate(5, 30, initializer="zeros", activation="relu", batch=40)
    assert df[list(STATS)].notna().all().all()
    # every pre-activation is 0, so every activation, and relu'(0) = 0 kills every gradient
    assert (df[["mean", "std", "var"]] == 0).all().all()
    assert (df["frac_zero"] == 1).all()


def test_float_initializer_is_random_normal_with_that_stddev():
    a = propagate(3, 16, initializer=0.3, batch=30)
    b = propagate(3, 16, initializer="random_normal", init_params={"stddev": 0.3}, batch=30)
    pd.testing.assert_frame_equal(a, b)


def test_callable_initializer_gets_the_shape_and_a_generator():
    shapes = []

    def identity_init(shape, seed):
        assert isinstance(seed, np.random.Generator)
        shapes.append(shape)
        return np.eye(*shape)

    df = propagate(widths=[6, 6, 6], initializer=identity_init, activation="linear", batch=25)
    assert shapes == [(6, 6), (6, 6)]
    # identity kernels and a linear activation: every layer sees the input itself
    pre = df[df["quantity"] == "preactivation"]
    np.testing.assert_array_equal(pre["var"].to_numpy()[0], pre["var"].to_numpy()[1])


def test_init_params_reach_the_initializer_and_orthogonal_preserves_norms_exactly():
    gain = 1.5
    df = propagate(4, 32, initializer="orthogonal", init_params={"gain": gain}, activation="linear", batch=64)
    pre = df[df["quantity"] == "preactivation"]
    mean_square = (pre["var"] + pre["mean"] ** 2).to_numpy()
    # x @ (gain Q) with Q orthogonal: every example's squared norm is multiplied by gain**2 exactly
    np.testing.assert_allclose(mean_square[1:] / mean_square[:-1], gain**2, rtol=1e-12)


def test_input_std_scales_the_forward_signals_of_a_relu_net_exactly():
    # ReLU is positively homogeneous: inputs times c give every forward signal times c,
    # and the same derivative masks, hence the same gradients
    a = propagate(3, 20, batch=30, input_std=1.0).set_index(["quantity", "layer"])
    b = propagate(3, 20, batch=30, input_std=3.0).set_index(["quantity", "layer"])
    for quantity in ("preactivation", "activation"):
        np.testing.assert_allclose(b.loc[quantity, "std"], 3.0 * a.loc[quantity, "std"], rtol=1e-12)
    np.testing.assert_allclose(b.loc["grad_preactivation", "std"], a.loc["grad_preactivation", "std"], rtol=1e-12)


def test_relu_kills_half_the_units():
    width, batch = 200, 500
    df = propagate(3, width, batch=batch).set_index(["quantity", "layer"])
    zero = df.loc["activation", "frac_zero"].to_numpy()
    # layer 1 (independent Gaussian inputs): each of the batch * width pre-activations
    # is positive with probability 1/2, binomial standard error 0.5 / sqrt(1e5); 4 of them
    assert abs(zero[0] - 0.5) < 4 * 0.5 / np.sqrt(batch * width)
    # deeper, ReLU outputs have a positive mean: unit j's pre-activations share a
    # random offset and unit j is off with its own probability P_j, spread with
    # Var[P_j] = arcsin(rho) / (2 pi) <= 1/4 (rho: correlation between examples).
    # The average over units is within 4 * 0.5 / sqrt(width)
    np.testing.assert_allclose(zero[1:], 0.5, atol=4 * 0.5 / np.sqrt(width))
    assert (df.loc["preactivation", "frac_zero"] == 0).all()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(depth=0, width=5), ValueError, "depth must be a positive integer"),
        (dict(depth=2, width=2.5), TypeError, "width must be a positive integer"),
        (dict(depth=2), TypeError, "give depth and width, or widths"),
        (dict(depth=2, width=3, widths=[3, 3, 3]), TypeError, "not both"),
        (dict(widths=[4]), ValueError, "widths must be a sequence of at least 2"),
        (dict(widths=[4, 0]), ValueError, r"widths\[1\] must be a positive integer"),
        (dict(depth=2, width=3, batch=0), ValueError, "batch must be a positive integer"),
        (dict(depth=2, width=3, input_std=0.0), ValueError, "input_std must be positive"),
        (dict(depth=2, width=3, initializer="he_nromal"), ValueError, "unknown initializer 'he_nromal'"),
        (dict(depth=2, width=3, initializer=-0.1), ValueError, "initializer must be positive"),
        (dict(depth=2, width=3, initializer=True), TypeError, "initializer must be an initializer name"),
        (dict(depth=2, width=3, initializer=0.1, init_params={"stddev": 1}), ValueError, "init_params"),
        (dict(depth=2, width=3, activation="softmax"), ValueError, "activation must be one of"),
        (dict(depth=2, width=3, seed=-1), ValueError, "seed must be a non-negative integer"),
        (dict(depth=2, width=3, initializer=lambda shape, seed: np.ones(3)), ValueError, "returned an array of shape"),
    ],
)
def test_propagate_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        propagate(**kwargs)


# ----------------------------------------------------------------------------- sweep


def _scaled_normal(scale):
    return lambda shape, seed: scale * seed.standard_normal(shape)


def test_sweep_frame_format():
    scales = [0.01, 0.1, 1.0]
    df = scale_sweep(scales, depth=4, width=8, batch=16)
    assert list(df.columns) == ["scale", "layer", "quantity", "mean", "std", "var"]
    assert len(df) == 3 * 4 and set(df["quantity"]) == {"activation"}
    assert sorted(df.groupby(["scale", "layer"]).size().index) == [(s, l) for s in scales for l in range(1, 5)]
    grad = scale_sweep(scales, depth=4, width=8, batch=16, gradient=True)
    assert list(grad["quantity"].unique()) == ["activation", "grad_preactivation"]
    # the backward draw comes last: the forward rows do not depend on gradient=
    pd.testing.assert_frame_equal(grad[grad["quantity"] == "activation"], df)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_sweep_is_one_propagate_per_scale(activation):
    # kernel l at scale s is s * Z_l, drawn after the inputs, as propagate draws
    # kernels from its generator: the float64 sweep reproduces propagate per scale
    scales = [0.05, 0.2, 1.3]
    sweep = scale_sweep(
        scales, depth=3, width=10, batch=20, activation=activation, seed=4, gradient=True, dtype="float64"
    )
    for scale in scales:
        single = propagate(3, 10, batch=20, activation=activation, seed=4, initializer=_scaled_normal(scale))
        for quantity in ("activation", "grad_preactivation"):
            got = sweep[(sweep["scale"] == scale) & (sweep["quantity"] == quantity)]
            expected = single[single["quantity"] == quantity]
            np.testing.assert_allclose(got[["mean", "std", "var"]], expected[["mean", "std", "var"]], rtol=1e-10)


def test_sweep_relu_signals_scale_as_a_power_of_the_scale():
    # common random numbers + positive homogeneity: std at layer l is scale**l times that at scale 1
    df = scale_sweep([0.5, 1.0, 2.0], depth=4, width=30, batch=50, gradient=True, dtype="float64")
    base = df[df["scale"] == 1.0].set_index(["quantity", "layer"])["std"]
    for scale in (0.5, 2.0):
        got = df[df["scale"] == scale].set_index(["quantity", "layer"])["std"]
        layers = got.index.get_level_values("layer")
        # forward: scale**l; backward through layers l+1..depth: scale**(depth - l)
        power = np.where(got.index.get_level_values("quantity") == "activation", layers, 4 - layers)
        np.testing.assert_allclose(got / base, scale**power, rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "selu", "linear"])
def test_float32_sweep_matches_float64_over_the_full_range(activation):
    # the slides' sweep: activations span about 1e-32 to 1e18, whose squares leave
    # float32; statistics of those rows are redone in float64. float32 rounding of
    # 10 layers of width-100 dot products stays below 1e-4 relative
    # (non-chaotic activations: ReLU-like and linear)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low = scale_sweep(np.logspace(-4, 1, 12), activation=activation, batch=200, gradient=True)
    high = scale_sweep(np.logspace(-4, 1, 12), activation=activation, batch=200, gradient=True, dtype="float64")
    assert low["std"].min() < 1e-25 and high["std"].max() > 1e15
    np.testing.assert_allclose(low["std"], high["std"], rtol=1e-4)
    assert np.all(np.abs(low["mean"] - high["mean"]) <= 1e-4 * high["std"])


def test_sweep_keeps_a_small_spread_around_a_large_mean():
    # sigmoid at a small scale: outputs 0.5 + O(1e-4); a one-pass E[x**2] - E[x]**2
    # would lose the variance (1e-8 against 0.25) to cancellation in float32
    low = scale_sweep([1e-3], depth=2, width=50, batch=100, activation="sigmoid")
    high = scale_sweep([1e-3], depth=2, width=50, batch=100, activation="sigmoid", dtype="float64")
    np.testing.assert_allclose(low["std"], high["std"], rtol=1e-3)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(scales=[]), ValueError, "scales must be a non-empty 1-D sequence"),
        (dict(scales=[0.1, -1.0]), ValueError, "scales must be"),
        (dict(scales=[[0.1]]), ValueError, "scales must be"),
        (dict(scales=[np.nan]), ValueError, "scales must be"),
        (dict(scales="0.1"), ValueError, "scales must be"),
        (dict(scales=[0.1], depth=0), ValueError, "depth must be a positive integer"),
        (dict(scales=[0.1], gradient="yes"), TypeError, "gradient must be True or False"),
        (dict(scales=[0.1], dtype="float16"), ValueError, "dtype must be one of 'float32', 'float64'"),
        (dict(scales=[0.1], activation="nope"), ValueError, "activation must be one of"),
    ],
)
def test_sweep_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        scale_sweep(**kwargs)
