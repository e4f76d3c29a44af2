"""Tests of initcourse.maths.spectra: singular values, norm ratios, Jacobian products."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from initcourse import initializers, spectra

GAUSSIAN = {"distribution": "untruncated_normal", "mode": "fan_in", "scale": 1.0}


def _fixed(matrix):
    """An initializer that always returns ``matrix`` (to check the maths exactly)."""

    def init(shape, *, seed=None, dtype="float32"):
        assert tuple(shape) == matrix.shape
        return matrix.astype(dtype)

    return init


# --- singular_values ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(32, 32), (64, 16), (16, 64), (3, 3, 4, 8)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_singular_values_all_equal_the_gain(shape, gain):
    w = initializers.orthogonal(shape, seed=0, gain=gain, dtype="float64")
    s = spectra.singular_values(w)
    rows, cols = math.prod(shape[:-1]), shape[-1]
    assert s.shape == (min(rows, cols),)
    np.testing.assert_allclose(s, gain, rtol=1e-12)


def test_singular_values_descending_and_exact_for_a_diagonal_matrix():
    s = spectra.singular_values(np.diag([0.5, -3.0, 2.0]))
    np.testing.assert_allclose(s, [3.0, 2.0, 0.5], rtol=1e-15)


def test_singular_values_of_keras_recurrent_kernel_are_one():
    # Keras' SimpleRNN default recurrent initializer is Orthogonal: read the layer itself.
    from initcourse.settings import quiet_tensorflow

    keras = quiet_tensorflow()
    layer = keras.layers.SimpleRNN(12)
    layer.build((None, 5, 3))
    assert layer.get_config()["recurrent_initializer"]["class_name"] == "Orthogonal"
    np.testing.assert_allclose(spectra.singular_values(layer.cell.recurrent_kernel), 1.0, atol=1e-5)  # float32


@pytest.mark.parametrize("shape", [(800, 400), (400, 800), (600, 600)])
def test_gaussian_singular_values_fill_the_marchenko_pastur_edges(shape):
    # i.i.d. N(0, 1/fan_in). At these sizes the extreme singular values fluctuate around
    # the edges by Tracy-Widom amounts of order sigma*(sqrt(m)+sqrt(n))*(m*n)**(-1/6)/...,
    # about 0.01 here (for the top edge of 800x400: std of lambda ~ 0.034, of s ~ 0.01),
    # so 0.05 is about 5 standard deviations. The lower edge of the square case is 0 and
    # the smallest singular value is O(1/n) above it.
    w = initializers.variance_scaling(shape, seed=1, dtype="float64", **GAUSSIAN)
    s = spectra.singular_values(w)
    low, high = spectra.marchenko_pastur_edges(shape, 1.0 / shape[0])
    assert abs(s.max() - high) < 0.05
    assert abs(s.min() - low) < 0.05


def test_marchenko_pastur_edges_exact():
    assert spectra.marchenko_pastur_edges((100, 100), 0.01) == (0.0, 2.0)
    low, high = spectra.marchenko_pastur_edges((400, 100), 0.25)
    assert (low, high) == pytest.approx((0.5 * (20 - 10), 0.5 * (20 + 10)))
    assert spectra.marchenko_pastur_edges((100, 400), 0.25) == (low, high)  # symmetric in the shape


@pytest.mark.parametrize("shape", [(100, 100), (300, 100), (100, 300), (3, 3, 8, 50)])
def test_marchenko_pastur_density_integrates_to_one(shape):
    low, high = spectra.marchenko_pastur_edges(shape, 0.02)
    total, _ = integrate.quad(lambda s: spectra.marchenko_pastur_density(s, shape, 0.02), low, high, limit=200)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_marchenko_pastur_density_quarter_circle_and_zero_outside():
    n = 50
    s = np.array([-1.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    expected = np.where((s > 0) & (s < 2), np.sqrt(np.clip(4 - s**2, 0, None)) / np.pi, 0.0)
    np.testing.assert_allclose(spectra.marchenko_pastur_density(s, (n, n), 1.0 / n), expected, atol=1e-12)


def test_marchenko_pastur_density_matches_a_large_sample():
    # Fraction of singular values below the theoretical median. Linear statistics of
    # random-matrix spectra fluctuate by O(1/n), far less than 1/sqrt(n) for independent
    # draws; the tolerance 0.02 is > 3/sqrt(500) and therefore generous.
    shape = (1000, 500)
    w = initializers.variance_scaling(shape, seed=2, dtype="float64", **GAUSSIAN)
    s = spectra.singular_values(w)
    low, high = spectra.marchenko_pastur_edges(shape, 1e-3)
    grid = np.linspace(low, high, 4001)
    cdf = integrate.cumulative_trapezoid(spectra.marchenko_pastur_density(grid, shape, 1e-3), grid, initial=0)
    for q in (0.25, 0.5, 0.75):
        point = np.interp(q, cdf, grid)
        assert abs(np.mean(s < point) - q) < 0.02


# --- norm_ratios ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(40, 40), (20, 60)])
def test_orthogonal_preserves_norms_exactly(shape):
    # square, or wide (orthonormal rows): ||x W|| = gain ||x|| for every x
    w = initializers.orthogonal(shape, seed=3, gain=1.5, dtype="float64")
    r = spectra.norm_ratios(w, n_inputs=500, seed=0)
    assert r.shape == (500,)
    np.testing.assert_allclose(r, 1.5, rtol=1e-12)


def test_norm_ratios_bounded_by_singular_values_and_mean_square_is_frobenius():
    w = initializers.variance_scaling((60, 60), seed=4, dtype="float64", **GAUSSIAN)
    s = spectra.singular_values(w)
    r = spectra.norm_ratios(w, n_inputs=4000, seed=1)
    assert np.all(r <= s[0] * (1 + 1e-12)) and np.all(r >= s[-1] * (1 - 1e-12))
    # For isotropic x, E[||xW||^2/||x||^2] = ||W||_F^2 / rows exactly. r^2 is a weighted
    # sum of chi-square directions bounded by s_max^2; its std over the inputs is at most
    # s_max^2/2, so the standard error of the mean over 4000 inputs is < s_max^2/126;
    # we allow 4 such errors.
    expected = np.sum(w**2) / w.shape[0]
    assert abs(np.mean(r**2) - expected) < 4 * s[0] ** 2 / (2 * math.sqrt(4000))


def test_tall_orthogonal_kernel_loses_norm():
    w = initializers.orthogonal((60, 20), seed=5, dtype="float64")
    r = spectra.norm_ratios(w, n_inputs=2000, seed=0)
    assert np.all(r <= 1 + 1e-12)
    # x W keeps the component of x in a 20-dimensional subspace: E[r^2] = 20/60 exactly;
    # r^2 ~ Beta(10, 20) with std 0.084, standard error over 2000 inputs 0.0019 (x 5).
    assert np.mean(r**2) == pytest.approx(1 / 3, abs=0.01)


# --- product_singular_values / perturbation_norms -------------------------------------


def test_product_of_orthogonal_matrices_keeps_singular_values_at_gain_power():
    depth, gain = 20, 1.05
    for tied in (False, True):
        df = spectra.product_singular_values("orthogonal", 16, depth, tied=tied, init_params={"gain": gain})
        assert list(df.columns) == ["layer", "index", "singular_value"]
        assert len(df) == 16 * depth
        expected = gain ** df["layer"].to_numpy()
        np.testing.assert_allclose(df["singular_value"], expected, rtol=1e-10)


def test_linear_product_is_exact_for_fixed_matrices():
    w = np.diag([2.0, 0.5, 1.0])
    df = spectra.product_singular_values(_fixed(w), 3, 4, tied=True)
    for layer, group in df.groupby("layer"):
        np.testing.assert_allclose(group["singular_value"], [2.0**layer, 1.0, 0.5**layer], rtol=1e-14)
        assert list(group["index"]) == [1, 2, 3]


def test_gaussian_product_spreads_the_singular_values():
    df = spectra.product_singular_values("variance_scaling", 32, 16, init_params=GAUSSIAN, seed=0)
    spread = df.groupby("layer")["singular_value"].agg(lambda s: s.max() / s.min())
    # log(s_max / s_min) grows with depth (Lyapunov exponents of products of random matrices)
    assert spread.iloc[-1] > 1e3 * spread.iloc[0]


def test_nonlinear_jacobian_matches_finite_differences():
    width, depth, input_std, seed = 8, 5, 1.3, 11
    drawn = []

    def recording(shape, *, seed=None, dtype="float32"):
        w = initializers.orthogonal(shape, seed=seed, dtype=dtype, gain=1.2)
        drawn.append(w)
        return w

    df = spectra.product_singular_values(
        recording, width, depth, activation="tanh", input_std=input_std, seed=np.random.default_rng(seed)
    )
    h0 = input_std * np.random.default_rng(seed).standard_normal(width)  # the input is drawn first

    def forward(h):
        for w in drawn:
            h = np.tanh(h @ w)
        return h

    eps = 1e-6
    jac = np.stack([(forward(h0 + eps * e) - forward(h0 - eps * e)) / (2 * eps) for e in np.eye(width)])
    expected = np.linalg.svd(jac, compute_uv=False)
    got = df.loc[df["layer"] == depth, "singular_value"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)  # central differences: O(eps^2) error


def test_tanh_with_tiny_input_is_the_linear_product():
    kwargs = dict(init_params={"gain": 1.0}, seed=3)
    lin = spectra.product_singular_values("orthogonal", 10, 6, **kwargs)
    tanh = spectra.product_singular_values("orthogonal", 10, 6, activation="tanh", input_std=1e-8, **kwargs)
    np.testing.assert_allclose(tanh["singular_value"], lin["singular_value"], rtol=1e-10)


def test_orthogonal_perturbations_keep_their_norm():
    for tied in (False, True):
        df = spectra.perturbation_norms("orthogonal", 24, 50, tied=tied, n_directions=7, seed=2)
        assert list(df.columns) == ["layer", "direction", "norm_ratio"]
        assert len(df) == 50 * 7
        assert sorted(df["direction"].unique()) == list(range(7))
        np.testing.assert_allclose(df["norm_ratio"], 1.0, rtol=1e-10)


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_perturbation_norms_lie_within_the_jacobian_singular_values(activation):
    kwargs = dict(activation=activation, tied=True, seed=7)
    sv = spectra.product_singular_values("glorot_uniform", 20, 30, **kwargs)
    pn = spectra.perturbation_norms("glorot_uniform", 20, 30, n_directions=50, **kwargs)
    bounds = sv.groupby("layer")["singular_value"].agg(["min", "max"])
    ratios = pn.groupby("layer")["norm_ratio"].agg(["min", "max"])
    assert np.all(ratios["max"] <= bounds["max"] * (1 + 1e-10))
    assert np.all(ratios["min"] >= bounds["min"] * (1 - 1e-10))


def test_jacobian_functions_are_deterministic_for_a_seed():
    a = spectra.perturbation_norms("glorot_uniform", 12, 10, tied=True, activation="tanh", seed=5)
    b = spectra.perturbation_norms("glorot_uniform", 12, 10, tied=True, activation="tanh", seed=5)
    c = spectra.perturbation_norms("glorot_uniform", 12, 10, tied=True, activation="tanh", seed=6)
    assert a.equals(b)
    assert not a.equals(c)


# --- qr_orthogonal_samples ------------------------------------------------------------


@pytest.mark.parametrize("sign_correction", [True, False])
def test_qr_samples_are_orthogonal(sign_correction):
    q = spectra.qr_orthogonal_samples(5, 50, sign_correction=sign_correction, seed=0)
    assert q.shape == (50, 5, 5) and q.dtype == np.float64
    np.testing.assert_allclose(q @ np.swapaxes(q, 1, 2), np.broadcast_to(np.eye(5), q.shape), atol=1e-12)


def test_sign_correction_makes_a_diagonal_entry_uniform_in_3d():
    # An entry of a Haar-random 3x3 orthogonal matrix is uniform on [-1, 1] (a column is
    # uniform on the sphere S^2; Archimedes). KS test with n = 4000 draws: under the null,
    # p < 1e-3 happens once in 1000 seeds; the uncorrected QR is rejected with p ~ 0.
    corrected = spectra.qr_orthogonal_samples(3, 4000, sign_correction=True, seed=0)[:, 0, 0]
    plain = spectra.qr_orthogonal_samples(3, 4000, sign_correction=False, seed=0)[:, 0, 0]
    uniform = stats.uniform(loc=-1, scale=2).cdf
    assert stats.kstest(corrected, uniform).pvalue > 1e-3
    assert stats.kstest(plain, uniform).pvalue < 1e-12
    # mean 0 and variance 1/3 for the Haar entry: standard errors sqrt(1/3/n) = 0.009 and
    # sqrt((1/5 - 1/9)/n) = 0.0047; tolerances of 4 standard errors.
    assert abs(corrected.mean()) < 0.037
    assert abs(corrected.var() - 1 / 3) < 0.019


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: spectra.singular_values(np.ones(4)), ValueError, "at least 2 dimensions"),
        (lambda: spectra.singular_values(np.ones((0, 3))), ValueError, "non-empty"),
        (lambda: spectra.singular_values(np.array([[1.0, np.nan]])), ValueError, "finite"),
        (lambda: spectra.singular_values("abc"), TypeError, "weights must be an array"),
        (lambda: spectra.norm_ratios(np.eye(3), n_inputs=0), ValueError, "n_inputs"),
        (lambda: spectra.norm_ratios(np.eye(3), seed=-1), ValueError, "seed"),
        (lambda: spectra.marchenko_pastur_edges((10,), 0.1), ValueError, "at least 2 dimensions"),
        (lambda: spectra.marchenko_pastur_edges((10, 0), 0.1), ValueError, "shape"),
        (lambda: spectra.marchenko_pastur_edges((10, 10), 0.0), ValueError, "variance must be positive"),
        (lambda: spectra.marchenko_pastur_density([1.0], (10, 10), -1.0), ValueError, "variance"),
        (lambda: spectra.product_singular_values("orthogonal", 0, 3), ValueError, "width"),
        (lambda: spectra.product_singular_values("orthogonal", 4, 0), ValueError, "depth"),
        (lambda: spectra.product_singular_values("orthogonal", 4, 2.0), TypeError, "depth"),
        (lambda: spectra.product_singular_values("nope", 4, 2), ValueError, "unknown initializer"),
        (lambda: spectra.product_singular_values("orthogonal", 4, 2, activation="nope"), ValueError, "activation"),
        (lambda: spectra.product_singular_values("orthogonal", 4, 2, tied=1), TypeError, "tied"),
        (lambda: spectra.product_singular_values("orthogonal", 4, 2, input_std=0), ValueError, "input_std"),
        (lambda: spectra.product_singular_values("orthogonal", 4, 2, init_params=[1]), TypeError, "init_params"),
        (lambda: spectra.product_singular_values("orthogonal", 4, 2, init_params={"gain": -1}), ValueError, "gain"),
        (lambda: spectra.perturbation_norms("orthogonal", 4, 2, n_directions=0), ValueError, "n_directions"),
        (lambda: spectra.qr_orthogonal_samples(0, 3), ValueError, "size"),
        (lambda: spectra.qr_orthogonal_samples(3, 0), ValueError, "n_samples"),
        (lambda: spectra.qr_orthogonal_samples(3, 2, sign_correction="yes"), TypeError, "sign_correction"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()
