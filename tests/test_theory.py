import math

import numpy as np
import pytest
from scipy import special

from initcourse import activations, initializers, theory
from initcourse.maths.propagation import QUANTITIES, propagate

Q = np.array([1e-8, 1e-3, 0.5, 1.0, 3.0, 1e4, 1e8])

# ------------------------------------------------------------------ quadrature


@pytest.mark.parametrize(
    "f, exact",
    [
        (lambda h: np.maximum(h, 0), lambda q: np.sqrt(q / (2 * np.pi))),
        (lambda h: np.maximum(h, 0) ** 2, lambda q: q / 2),
        (lambda h: (h > 0).astype(float), lambda q: np.full_like(q, 0.5)),
        (np.abs, lambda q: np.sqrt(2 * q / np.pi)),
        (lambda h: h**4, lambda q: 3 * q**2),
        # an oscillating f needs q small enough for cos(sqrt(q) z) to vary slowly
        (np.cos, lambda q: np.where(q <= 3, np.exp(-q / 2), np.nan)),
        # E[h Phi(h)] = q / sqrt(2 pi (1 + q)): GELU's mean
        (lambda h: h * special.ndtr(h), lambda q: q / np.sqrt(2 * np.pi * (1 + q))),
        # sech(h)**4 = tanh'(h)**2 is a spike of width 1/sqrt(q) at large q: E ~ (4/3) / sqrt(2 pi q)
        (lambda h: np.cosh(np.minimum(np.abs(h), 300)) ** -4.0, None),
    ],
)
def test_gaussian_expectation_against_closed_forms(f, exact):
    got = theory.gaussian_expectation(f, Q)
    assert got.shape == Q.shape
    if exact is None:  # only the large-q asymptote is known
        np.testing.assert_allclose(got[-2:], 4 / 3 / np.sqrt(2 * np.pi * Q[-2:]), rtol=1e-4)
        return
    expected = exact(Q)
    known = ~np.isnan(expected)
    # float64 quadrature of functions smooth on each side of 0: agreement to rounding,
    # relative 1e-12, or absolute 1e-18 where odd terms cancel (E[h Phi(h)] at q = 1e-8)
    np.testing.assert_allclose(got[known], expected[known], rtol=1e-12, atol=1e-18)


def test_gaussian_expectation_scalar_and_zero_variance():
    assert theory.gaussian_expectation(np.cos, 0.0) == 1.0
    value = theory.gaussian_expectation(lambda h: np.maximum(h, 0) ** 2, 3.0)
    assert isinstance(value, float) and value == pytest.approx(1.5, rel=1e-14)
    assert theory.gaussian_expectation(np.cos, np.ones((2, 3))).shape == (2, 3)


def test_selu_fixed_point_is_mean_zero_variance_one():
    # the SELU constants are defined so that N(0, 1) in gives mean 0 and variance 1 out
    selu = activations.get("selu")
    assert abs(theory.gaussian_expectation(selu.forward, 1.0)) < 1e-14
    assert theory.gaussian_expectation(lambda h: selu.forward(h) ** 2, 1.0) == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("q", [-1.0, np.nan, np.inf, [1.0, -0.1]])
def test_gaussian_expectation_rejects_bad_variances(q):
    with pytest.raises(ValueError, match="q must contain finite non-negative variances"):
        theory.gaussian_expectation(np.cos, q)


# ------------------------------------------------------------- mean-field map


def test_closed_forms_agree_with_quadrature_for_the_piecewise_linear_activations():
    for name, param in (("relu", None), ("leaky_relu", 0.2), ("linear", None)):
        act = activations.get(name, param)
        closed = theory.mean_field_map(Q, weight_var=1.7, activation=act)
        quadrature = 1.7 * theory.gaussian_expectation(lambda h: act.forward(h) ** 2, Q)
        np.testing.assert_allclose(closed, quadrature, rtol=1e-12)


def test_mean_field_map_exact_values():
    n = 250
    # He's variance keeps a ReLU layer's q exactly
    np.testing.assert_allclose(theory.mean_field_map(Q, weight_var=2 / n, fan_in=n), Q, rtol=1e-14)
    # linear, n * weight_var = 1.1: times 1.1, plus the bias variance
    assert theory.mean_field_map(2.0, weight_var=1.1 / n, fan_in=n, bias_var=0.3, activation="linear") == pytest.approx(
        2.0 * 1.1 + 0.3, rel=1e-14
    )
    # leaky ReLU: E[phi**2] = (1 + a**2) q / 2
    assert theory.mean_field_map(1.0, weight_var=1.0, activation=activations.get("leaky_relu", 0.5)) == pytest.approx(
        0.625, rel=1e-14
    )


def test_tanh_map_for_small_q():
    # tanh(h) = h - h**3/3 + ...: E[tanh(h)**2] = q - 2 q**2 + O(q**3)
    q = 1e-4
    assert theory.mean_field_map(q, weight_var=1.0, activation="tanh") == pytest.approx(q - 2 * q**2, rel=1e-7)


def test_critical_weight_var_exact_values():
    assert theory.critical_weight_var("relu") == 2.0
    assert theory.critical_weight_var("linear") == 1.0
    assert theory.critical_weight_var("tanh") == 1.0
    assert theory.critical_weight_var("elu") == 1.0
    assert theory.critical_weight_var(activations.get("leaky_relu", 0.3)) == pytest.approx(2 / 1.09, rel=1e-15)
    # per weight: He's variance, as initializers.describe states it
    n = 300
    he = initializers.describe("he_normal", (n, n))["variance"]
    assert theory.critical_weight_var("relu", fan_in=n) == pytest.approx(he, rel=1e-15)


def test_critical_weight_var_is_where_small_signals_stop_shrinking():
    for name in ("tanh", "selu", "gelu"):
        critical = theory.critical_weight_var(name)
        q = 1e-10
        below = theory.mean_field_map(q, weight_var=0.99 * critical, activation=name)
        above = theory.mean_field_map(q, weight_var=1.01 * critical, activation=name)
        assert below < q < above


def test_critical_weight_var_needs_a_zero_centred_activation():
    with pytest.raises(ValueError, match=r"sigmoid\(0\) = 0.5 is not 0"):
        theory.critical_weight_var("sigmoid")


def test_fixed_point():
    # ReLU: at critical every q is fixed; above it grows without bound, below it dies
    assert theory.fixed_point(weight_var=2.0, q0=0.37) == 0.37
    assert theory.fixed_point(weight_var=2.5) == math.inf
    assert theory.fixed_point(weight_var=1.5) == 0.0
    # with a bias: q* = b / (1 - sigma_w**2 / 2)
    assert theory.fixed_point(weight_var=1.5, bias_var=0.1) == pytest.approx(0.1 / 0.25, rel=1e-8)
    # tanh in the chaotic phase has a non-zero fixed point of the map
    q_star = theory.fixed_point(weight_var=1.5, bias_var=0.05, activation="tanh")
    assert q_star > 0.1
    assert theory.mean_field_map(q_star, weight_var=1.5, bias_var=0.05, activation="tanh") == pytest.approx(
        q_star, rel=1e-9
    )


def test_fixed_point_too_close_to_critical_says_so():
    # critical tanh without bias: q decays like 1 / (2 l), never settling to rtol
    with pytest.raises(RuntimeError, match="did not settle in max_iter=100 steps"):
        theory.fixed_point(weight_var=1.0, activation="tanh", max_iter=100)


# ------------------------------------------------------------- predicted_stats


def _by(df):
    return df.set_index(["quantity", "layer"])


def test_predicted_stats_relu_he_exact():
    n, depth = 100, 6
    df = _by(theory.predicted_stats(depth, n, weight_var=2 / n, input_var=1.0))
    layers = range(1, depth + 1)
    # q = n * (2/n) * 1 at layer 1, and ReLU with He keeps it
    np.testing.assert_allclose(df.loc["preactivation", "var"], 2.0, rtol=1e-14)
    np.testing.assert_allclose(df.loc["activation", "mean"], np.sqrt(2.0 / (2 * np.pi)), rtol=1e-14)
    np.testing.assert_allclose(df.loc["activation", "var"], 1.0 - 1.0 / np.pi, rtol=1e-14)
    # backward: E[relu'**2] = 1/2, times n * 2/n = 1 per layer: constant 1/2
    np.testing.assert_allclose(df.loc["grad_preactivation", "var"], 0.5, rtol=1e-14)
    # grad_weight = E[x_{l-1}**2] * 1/2 with E[x_0**2] = 1 and E[x_l**2] = q/2 = 1
    np.testing.assert_allclose(df.loc["grad_weight", "var"], [0.5] * len(layers), rtol=1e-14)
    assert (df.loc["preactivation", "mean"] == 0).all()


def test_predicted_stats_linear_grows_geometrically():
    n, depth, gain = 50, 8, 1.1
    df = _by(theory.predicted_stats(depth, n, weight_var=gain / n, activation="linear", input_var=2.0))
    layers = np.arange(1, depth + 1)
    np.testing.assert_allclose(df.loc["preactivation", "var"], 2.0 * gain**layers, rtol=1e-13)
    np.testing.assert_allclose(df.loc["activation", "var"], 2.0 * gain**layers, rtol=1e-13)
    np.testing.assert_allclose(df.loc["grad_preactivation", "var"], gain ** (depth - layers), rtol=1e-13)
    expected_weight = 2.0 * gain ** (layers - 1) * gain ** (depth - layers)  # E[x_{l-1}**2] * r_l
    np.testing.assert_allclose(df.loc["grad_weight", "var"], expected_weight, rtol=1e-13)


def test_predicted_stats_with_widths_and_bias_by_hand():
    w, b = 0.01, 0.2
    df = _by(theory.predicted_stats(widths=[30, 20, 10], weight_var=w, activation="relu", input_var=4.0, bias_var=b))
    q1 = 30 * w * 4.0 + b
    q2 = 20 * w * q1 / 2 + b
    assert df.loc[("preactivation", 1), "var"] == pytest.approx(q1, rel=1e-14)
    assert df.loc[("preactivation", 2), "var"] == pytest.approx(q2, rel=1e-14)
    # backward: r_2 = 1/2; r_1 = (fan-out of layer 2 = 10) * w * r_2 * 1/2
    assert df.loc[("grad_preactivation", 2), "var"] == pytest.approx(0.5, rel=1e-14)
    assert df.loc[("grad_preactivation", 1), "var"] == pytest.approx(10 * w * 0.5 * 0.5, rel=1e-14)


def test_predicted_stats_format_merges_with_propagate():
    predicted = theory.predicted_stats(3, 20, weight_var=0.1)
    assert list(predicted.columns) == ["layer", "quantity", "mean", "std", "var"]
    np.testing.assert_allclose(predicted["std"] ** 2, predicted["var"], rtol=1e-14)
    merged = propagate(3, 20, batch=10).merge(predicted, on=["layer", "quantity"], suffixes=("", "_predicted"))
    assert len(merged) == 3 * len(QUANTITIES)


def test_zero_weights_predict_zero_signals():
    df = _by(theory.predicted_stats(3, 10, weight_var=0.0))
    assert (df.loc["activation", "var"] == 0).all() and (df.loc["grad_preactivation", "var"] == 0).all()


# ------------------------------------------------- simulation against theory

WIDTH, BATCH = 500, 2000


def _ratios(activation, weight_var, depth, seed=0):
    measured = propagate(
        depth, WIDTH, initializer=math.sqrt(weight_var), activation=activation, batch=BATCH, seed=seed
    )
    predicted = theory.predicted_stats(depth, WIDTH, weight_var=weight_var, activation=activation)
    merged = measured.merge(predicted, on=["layer", "quantity"], suffixes=("", "_predicted"))
    return merged.assign(ratio=merged["var"] / merged["var_predicted"])


@pytest.mark.parametrize(
    "activation, weight_var", [("linear", 1.0 / WIDTH), ("tanh", 1.0 / WIDTH), ("tanh", 1.5 / WIDTH)]
)
def test_simulation_matches_theory_odd_activations(activation, weight_var):
    # With an odd activation, examples stay uncorrelated, so a layer's measured
    # variance averages batch * width nearly independent entries. Per layer it moves
    # by ~sqrt(2 / (width * batch)) (sampling) and ~sqrt(2) / width (the norm of the
    # random kernel); over l layers these add up to a relative standard deviation of
    # about sqrt(l) * sqrt(2 / (n B) + 2 / n**2) = 0.007 at l = 5. Tolerance: 5 sigma.
    depth = 5
    ratios = _ratios(activation, weight_var, depth)
    tolerance = 5 * math.sqrt(depth) * math.sqrt(2 / (WIDTH * BATCH) + 2 / WIDTH**2)
    np.testing.assert_allclose(ratios["ratio"], 1.0, atol=tolerance)


def test_simulation_matches_theory_relu():
    # ReLU outputs have a positive mean that correlates all examples, so batch
    # averaging does not help much: each layer multiplies the second moment by a
    # random factor with Var[log] ~ 5 / width (Hanin & Rolnick 2018, "How to start
    # training"), accumulating over layers. Tolerance: |log ratio| within 4 sigma
    # of that, plus the sampling term of the first layer (inputs independent).
    # A forward signal at layer l went through l - 1 such factors; a gradient
    # depends on every layer (masks forward, kernels backward): depth - 1.
    depth = 3
    ratios = _ratios("relu", 2.0 / WIDTH, depth)
    factors = np.where(ratios["quantity"].str.startswith("grad"), depth - 1, ratios["layer"] - 1)
    sigma = np.sqrt(2 / (WIDTH * BATCH) + 5 * factors / WIDTH + 2 / WIDTH**2)
    assert np.all(np.abs(np.log(ratios["ratio"])) < 4 * sigma)


@pytest.mark.parametrize("activation, weight_var", [("relu", 2.0 / WIDTH), ("tanh", 1.5 / WIDTH)])
def test_mean_field_map_predicts_each_layer_from_the_measured_one(activation, weight_var):
    # One step of the recursion, from the measured previous pre-activation variance:
    # given the layer's input, the next variance fluctuates only through the kernel
    # W (relative std <= sqrt(2 / width), the worst case of fully correlated
    # examples) and the batch: tolerance 4 sqrt(2 / width) = 0.25.
    measured = propagate(6, WIDTH, initializer=math.sqrt(weight_var), activation=activation, batch=BATCH)
    q = measured[measured["quantity"] == "preactivation"]["var"].to_numpy()
    predicted_next = theory.mean_field_map(q[:-1], weight_var=weight_var, fan_in=WIDTH, activation=activation)
    np.testing.assert_allclose(q[1:] / predicted_next, 1.0, atol=4 * math.sqrt(2 / WIDTH))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: theory.predicted_stats(3, 10, weight_var=-1.0), ValueError, "weight_var must be non-negative"),
        (lambda: theory.predicted_stats(3, 10, weight_var=0.1, input_var=0.0), ValueError, "input_var must be"),
        (lambda: theory.predicted_stats(3, 10, weight_var=0.1, bias_var=-0.1), ValueError, "bias_var"),
        (lambda: theory.predicted_stats(0, 10, weight_var=0.1), ValueError, "depth must be a positive integer"),
        (lambda: theory.predicted_stats(3, 10), TypeError, "weight_var"),
        (lambda: theory.predicted_stats(3, 10, weight_var=0.1, activation="swish"), ValueError, "activation"),
        (lambda: theory.mean_field_map(1.0, weight_var=1.0, fan_in=0), ValueError, "fan_in must be a positive"),
        (lambda: theory.mean_field_map(-1.0, weight_var=1.0), ValueError, "q must contain"),
        (lambda: theory.critical_weight_var("relu", fan_in=1.5), TypeError, "fan_in must be a positive integer"),
        (lambda: theory.fixed_point(weight_var=1.0, q0=-1.0), ValueError, "q0 must be non-negative"),
        (lambda: theory.fixed_point(weight_var=1.0, rtol=0.0), ValueError, "rtol must be positive"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
