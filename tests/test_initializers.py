"""Tests of initcourse.maths.initializers against the maths and against Keras' own initializers."""

import math

import numpy as np
import pytest
from scipy import stats

from initcourse import initializers as inits
from initcourse import settings
from initcourse.maths.gains import gain

keras = settings.quiet_tensorflow()
from keras.src.initializers.random_initializers import compute_fans as keras_compute_fans  # noqa: E402

KI = keras.initializers

# Statistical checks compare a sample statistic with its theoretical value and allow
# K standard errors. With K = 5 the two-sided false-alarm rate of one check is
# 5.7e-7 (normal approximation), about 1e-4 for all the checks of this file
# together; the seeds are fixed, so every run draws the same numbers anyway.
K = 5

# Relative slack on |w| <= limit: a float64 draw just inside the bound can round
# up by half a float32 ulp (6e-8 relative) when cast.
FLOAT32_SLACK = 1e-6

# Truncation at 2 standard deviations: the realised std of a cut standard normal,
# from scipy, independent of the package's own formula.
TRUNCATED_STD = stats.truncnorm(-2.0, 2.0).std()

# Our initializer (name and parameters) and Keras' counterpart.
CASES = [
    ("zeros", {}, lambda seed: KI.Zeros()),
    ("ones", {}, lambda seed: KI.Ones()),
    ("constant", {"value": 0.3}, lambda seed: KI.Constant(0.3)),
    ("random_normal", {}, lambda seed: KI.RandomNormal(seed=seed)),
    ("random_normal", {"mean": 0.5, "stddev": 2.0}, lambda seed: KI.RandomNormal(0.5, 2.0, seed=seed)),
    ("random_uniform", {}, lambda seed: KI.RandomUniform(seed=seed)),
    ("random_uniform", {"minval": -0.1, "maxval": 0.3}, lambda seed: KI.RandomUniform(-0.1, 0.3, seed=seed)),
    ("truncated_normal", {}, lambda seed: KI.TruncatedNormal(seed=seed)),
    ("truncated_normal", {"mean": 1.0, "stddev": 0.5}, lambda seed: KI.TruncatedNormal(1.0, 0.5, seed=seed)),
    (
        "variance_scaling",
        {"scale": 0.5, "mode": "fan_out", "distribution": "truncated_normal"},
        lambda seed: KI.VarianceScaling(0.5, "fan_out", "truncated_normal", seed=seed),
    ),
    (
        "variance_scaling",
        {"scale": 2.0, "mode": "fan_avg", "distribution": "untruncated_normal"},
        lambda seed: KI.VarianceScaling(2.0, "fan_avg", "untruncated_normal", seed=seed),
    ),
    (
        "variance_scaling",
        {"scale": 3.0, "mode": "fan_in", "distribution": "uniform"},
        lambda seed: KI.VarianceScaling(3.0, "fan_in", "uniform", seed=seed),
    ),
    (
        "variance_scaling",
        {"scale": 1.0, "mode": "fan_avg", "distribution": "normal"},
        lambda seed: KI.VarianceScaling(1.0, "fan_avg", "normal", seed=seed),
    ),
    ("glorot_normal", {}, lambda seed: KI.GlorotNormal(seed=seed)),
    ("glorot_uniform", {}, lambda seed: KI.GlorotUniform(seed=seed)),
    ("he_normal", {}, lambda seed: KI.HeNormal(seed=seed)),
    ("he_uniform", {}, lambda seed: KI.HeUniform(seed=seed)),
    ("lecun_normal", {}, lambda seed: KI.LecunNormal(seed=seed)),
    ("lecun_uniform", {}, lambda seed: KI.LecunUniform(seed=seed)),
    # PyTorch's nn.Linear default, U(±1/sqrt(fan_in)), is Keras' VarianceScaling(1/3, fan_in, uniform).
    ("torch_linear_default", {}, lambda seed: KI.VarianceScaling(1.0 / 3.0, "fan_in", "uniform", seed=seed)),
]
CASE_IDS = [name + "".join(f"-{v}" for v in params.values()) for name, params, _ in CASES]

# Large enough for the statistical checks: dense, wide dense, conv2d, conv1d, conv3d.
SAMPLED_SHAPES = [(256, 128), (64, 512), (3, 3, 16, 32), (5, 32, 64), (2, 2, 2, 8, 16)]
# describe() is also checked (exactly, no sampling) on small shapes and a bias/scalar.
DESCRIBED_SHAPES = SAMPLED_SHAPES + [(3, 5), (5, 8, 4), (2, 2, 2, 3, 4), (7,), ()]
NEEDS_MATRIX = {"orthogonal", "torch_linear_default"}


def keras_theory(initializer, shape):
    """(distribution, mean, variance, limit) implied by a Keras initializer's settings."""
    if isinstance(initializer, KI.VarianceScaling):
        fan_in, fan_out = keras_compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[initializer.mode]
        variance = initializer.scale / max(1.0, fan)
        if initializer.distribution == "uniform":
            return "uniform", 0.0, variance, math.sqrt(3.0 * variance)
        if initializer.distribution == "untruncated_normal":
            return "normal", 0.0, variance, None
        stddev = math.sqrt(variance) / 0.87962566103423978  # Keras' constant
        return "truncated_normal", 0.0, (stddev * TRUNCATED_STD) ** 2, 2.0 * stddev
    if isinstance(initializer, KI.RandomNormal):
        return "normal", initializer.mean, initializer.stddev**2, None
    if isinstance(initializer, KI.TruncatedNormal):
        limit = abs(initializer.mean) + 2.0 * initializer.stddev
        return "truncated_normal", initializer.mean, (initializer.stddev * TRUNCATED_STD) ** 2, limit
    if isinstance(initializer, KI.RandomUniform):
        low, high = initializer.minval, initializer.maxval
        return "uniform", (low + high) / 2, (high - low) ** 2 / 12, max(abs(low), abs(high))
    value = {KI.Zeros: 0.0, KI.Ones: 1.0}.get(type(initializer))
    return "constant", initializer.value if value is None else value, 0.0, None


def to_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def assert_matches_theory(sample, described):
    """Check a sample's mean, variance and bound against describe()'s theory.

    Standard errors over n weights: sqrt(variance / n) for the mean; for the
    variance about the known mean, sqrt((mu4 - variance**2) / n)
    = variance * sqrt((kurtosis - 1) / n), from the distribution's fourth moment.
    """
    w = np.asarray(sample, dtype=np.float64).ravel()
    n, mean, variance = w.size, described["mean"], described["variance"]
    if variance == 0.0:
        np.testing.assert_array_equal(w, np.float32(mean))
        return
    assert abs(w.mean() - mean) <= K * math.sqrt(variance / n)
    sample_variance = np.mean((w - mean) ** 2)
    assert abs(sample_variance - variance) <= K * variance * math.sqrt((described["kurtosis"] - 1.0) / n)
    if described["limit"] is not None:
        assert np.abs(w).max() <= described["limit"] * (1.0 + FLOAT32_SLACK)


# ----------------------------------------------------------------------------------
# describe() against Keras' settings, and samples (ours and Keras') against describe()
# ----------------------------------------------------------------------------------


# Matrix-only initializers on () and (n,) raise; that is tested with the bad input.
DESCRIBED_CASES = [
    pytest.param(*case, shape, id=f"{case_id}-{shape}")
    for case, case_id in zip(CASES, CASE_IDS)
    for shape in DESCRIBED_SHAPES
    if not (case[0] in NEEDS_MATRIX and len(shape) < 2)
]


@pytest.mark.parametrize("name, params, make_keras, shape", DESCRIBED_CASES)
def test_describe_matches_keras_settings(name, params, make_keras, shape):
    distribution, mean, variance, limit = keras_theory(make_keras(0), shape)
    described = inits.describe(name, shape, **params)
    assert described["distribution"] == distribution
    assert (described["fan_in"], described["fan_out"]) == keras_compute_fans(shape)
    assert described["mean"] == pytest.approx(mean, rel=1e-12, abs=1e-15)
    assert described["variance"] == pytest.approx(variance, rel=1e-12)
    assert described["std"] == pytest.approx(math.sqrt(variance), rel=1e-12)
    assert described["limit"] == (None if limit is None else pytest.approx(limit, rel=1e-12))


@pytest.mark.parametrize("shape", SAMPLED_SHAPES, ids=str)
@pytest.mark.parametrize("name, params, make_keras", CASES, ids=CASE_IDS)
def test_ours_and_keras_samples_match_theory(name, params, make_keras, shape):
    described = inits.describe(name, shape, **params)
    ours = inits.get(name)(shape, seed=1, **params)
    theirs = to_numpy(make_keras(1)(shape, dtype="float32"))
    assert ours.shape == theirs.shape == shape
    assert ours.dtype == theirs.dtype == np.float32
    assert_matches_theory(ours, described)
    assert_matches_theory(theirs, described)


def test_scalar_shape_follows_keras():
    # Keras gives a scalar fans (1, 1), so a variance-scaling initializer draws with
    # variance scale / 1; we do the same instead of raising.
    assert inits.describe("he_normal", ())["variance"] == pytest.approx(2.0, rel=1e-12)
    assert inits.he_normal((), seed=0).shape == ()
    assert to_numpy(KI.HeNormal(seed=0)(())).shape == ()


def test_truncated_normal_std_is_keras_constant_and_scipy_value():
    assert inits.TRUNCATED_NORMAL_STD == 0.87962566103423978
    assert inits.TRUNCATED_NORMAL_STD == pytest.approx(TRUNCATED_STD, rel=1e-14)
    assert inits.TRUNCATION == 2.0


@pytest.mark.parametrize(
    "name, params, scipy_distribution",
    [
        ("random_normal", {}, stats.norm()),
        ("random_uniform", {}, stats.uniform()),
        ("truncated_normal", {}, stats.truncnorm(-2.0, 2.0)),
        ("he_uniform", {}, stats.uniform()),
        ("he_normal", {}, stats.truncnorm(-2.0, 2.0)),
        ("variance_scaling", {"distribution": "untruncated_normal"}, stats.norm()),
    ],
)
def test_describe_kurtosis_matches_scipy(name, params, scipy_distribution):
    excess = float(scipy_distribution.stats(moments="k"))
    assert inits.describe(name, (4, 4), **params)["kurtosis"] == pytest.approx(3.0 + excess, rel=1e-12)


def test_describe_constant_has_no_kurtosis_nor_limit():
    described = inits.describe("constant", (2, 3), value=-1.5)
    assert described == {
        "distribution": "constant",
        "fan_in": 2,
        "fan_out": 3,
        "mean": -1.5,
        "variance": 0.0,
        "std": 0.0,
        "limit": None,
        "stddev_param": None,
        "kurtosis": None,
    }


def test_describe_glorot_uniform_and_normal_share_the_variance():
    uniform = inits.describe("glorot_uniform", (300, 100))
    normal = inits.describe("glorot_normal", (300, 100))
    assert uniform["variance"] == pytest.approx(normal["variance"], rel=1e-12)
    assert uniform["variance"] == pytest.approx(2.0 / 400.0, rel=1e-12)
    assert uniform["limit"] == pytest.approx(math.sqrt(6.0 / 400.0), rel=1e-12)
    assert normal["stddev_param"] == pytest.approx(math.sqrt(2.0 / 400.0) / 0.87962566103423978, rel=1e-12)
    assert normal["limit"] == pytest.approx(2.0 * normal["stddev_param"], rel=1e-12)


def test_describe_accepts_aliases():
    assert inits.describe("kaiming_normal", (10, 20)) == inits.describe("he_normal", (10, 20))


def test_truncated_samples_really_are_cut():
    # Without the redraw about 4.6% of normal draws fall beyond 2 stddev.
    values = inits.truncated_normal((100_000,), seed=3, dtype="float64", stddev=1.0)
    assert np.abs(values).max() <= 2.0
    assert np.abs(values).max() > 1.99


# ----------------------------------------------------------------------------------
# Shape, dtype, seed
# ----------------------------------------------------------------------------------


# identity, dirac and sparse accept only 2-D or convolution shapes, and identity and dirac
# are fixed arrays: tests/test_initializers_frameworks.py checks them with their own shapes.
_ANY_SHAPE = sorted(set(inits._BUILTINS) - {"identity", "dirac", "sparse"})


@pytest.mark.parametrize("name", _ANY_SHAPE)
@pytest.mark.parametrize("dtype", ["float32", "float64", np.float16])
def test_exact_shape_and_dtype(name, dtype):
    for shape in [(4, 6), (3, 3, 2, 5)]:
        values = inits.get(name)(shape, seed=0, dtype=dtype)
        assert isinstance(values, np.ndarray)
        assert values.shape == shape
        assert values.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", _ANY_SHAPE)
def test_int_seed_repeats_and_generator_continues(name):
    first = inits.get(name)((8, 16), seed=7)
    np.testing.assert_array_equal(first, inits.get(name)((8, 16), seed=7))
    generator = np.random.default_rng(7)
    np.testing.assert_array_equal(first, inits.get(name)((8, 16), seed=generator))
    if inits.describe(name, (8, 16))["variance"] > 0:
        assert not np.array_equal(first, inits.get(name)((8, 16), seed=generator))
        assert not np.array_equal(first, inits.get(name)((8, 16), seed=8))


def test_integer_shape_means_one_dimension():
    assert inits.random_normal(5, seed=0).shape == (5,)


def test_constants_accept_integer_and_boolean_dtypes():
    np.testing.assert_array_equal(inits.ones((2, 2), dtype="int32"), np.ones((2, 2), dtype=np.int32))
    assert inits.zeros((3,), dtype=bool).dtype == np.bool_


@pytest.mark.parametrize("name, params, make_keras", CASES[:3], ids=CASE_IDS[:3])
def test_constants_equal_keras_exactly(name, params, make_keras):
    np.testing.assert_array_equal(
        inits.get(name)((3, 4), **params), to_numpy(make_keras(0)((3, 4), dtype="float32"))
    )


# ----------------------------------------------------------------------------------
# Orthogonal
# ----------------------------------------------------------------------------------

ORTHOGONAL_SHAPES = [(6, 6), (10, 4), (4, 10), (3, 3, 8, 16), (3, 3, 4, 64), (1, 1)]


def as_matrix(values):
    return values.reshape(-1, values.shape[-1])


def assert_orthogonal(values, gain_value, atol):
    matrix = as_matrix(np.asarray(values, dtype=np.float64))
    rows, cols = matrix.shape
    gram = matrix.T @ matrix if rows >= cols else matrix @ matrix.T
    np.testing.assert_allclose(gram, gain_value**2 * np.eye(min(rows, cols)), atol=atol)


@pytest.mark.parametrize("gain_value", [1.0, 1.7])
@pytest.mark.parametrize("shape", ORTHOGONAL_SHAPES, ids=str)
def test_orthogonal_is_orthogonal_times_gain(shape, gain_value):
    assert_orthogonal(inits.orthogonal(shape, seed=0, dtype="float64", gain=gain_value), gain_value, 1e-12)
    assert_orthogonal(inits.orthogonal(shape, seed=0, gain=gain_value), gain_value, 1e-5)
    assert_orthogonal(to_numpy(KI.Orthogonal(gain_value, seed=0)(shape)), gain_value, 1e-5)


@pytest.mark.parametrize("shape", ORTHOGONAL_SHAPES, ids=str)
def test_orthogonal_mean_square_is_exactly_describes_variance(shape):
    # The rows (wide) or columns (tall) are unit vectors times gain, so the mean of
    # w**2 is gain**2 * min(rows, cols) / (rows * cols) = gain**2 / max(rows, cols)
    # for every draw: no sampling error.
    described = inits.describe("orthogonal", shape, gain=1.7)
    rows, cols = as_matrix(np.empty(shape)).shape
    assert described["variance"] == pytest.approx(1.7**2 / max(rows, cols), rel=1e-12)
    assert (described["fan_in"], described["fan_out"]) == keras_compute_fans(shape)
    for values in (
        inits.orthogonal(shape, seed=2, dtype="float64", gain=1.7),
        to_numpy(KI.Orthogonal(1.7, seed=2)(shape, dtype="float64")),
    ):
        assert np.mean(values**2) == pytest.approx(described["variance"], rel=1e-6)


def qr_without_sign_correction(rng, n):
    """The common shortcut: Q of a Gaussian matrix's QR, signs left as LAPACK sets them."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q


def haar_p_values(samples):
    """KS p-values of each entry of 3x3 samples against U(-1, 1).

    A Haar-random orthogonal matrix has uniformly distributed columns (and rows) on
    the unit sphere, and on the sphere of R^3 each coordinate is uniform on [-1, 1]
    (Archimedes' hat-box theorem).
    """
    entries = np.asarray(samples).reshape(len(samples), 9)
    return [stats.kstest(entries[:, j], stats.uniform(-1.0, 2.0).cdf).pvalue for j in range(9)]


def test_orthogonal_is_haar_distributed_and_uncorrected_qr_is_not():
    # 9 KS tests at level 1e-4 each: false-alarm rate about 1e-3 in total.
    n_samples, alpha = 3000, 1e-4
    rng = np.random.default_rng(11)
    corrected = [inits.orthogonal((3, 3), seed=rng, dtype="float64") for _ in range(n_samples)]
    assert min(haar_p_values(corrected)) > alpha
    rng = np.random.default_rng(11)
    uncorrected = [qr_without_sign_correction(rng, 3) for _ in range(n_samples)]
    assert min(haar_p_values(uncorrected)) < alpha
    # Haar on O(3): det = +1 and -1 equally often (binomial standard error sqrt(1/4n)).
    positive = np.mean([np.linalg.det(q) > 0 for q in corrected])
    assert abs(positive - 0.5) <= K * math.sqrt(0.25 / n_samples)


def test_orthogonal_kurtosis_of_a_3d_unit_vector_is_uniform_kurtosis():
    # A coordinate of a uniform unit vector of R^3 is U(-1, 1): kurtosis 9/5 = 3n/(n+2).
    assert inits.describe("orthogonal", (3, 1))["kurtosis"] == pytest.approx(1.8, rel=1e-12)


# ----------------------------------------------------------------------------------
# PyTorch's default
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keras_shape, torch_fan_in",
    [
        ((20, 30), 20),  # nn.Linear(20, 30): PyTorch weight (30, 20), fan_in 20
        ((3, 3, 16, 32), 144),  # nn.Conv2d(16, 32, 3): PyTorch weight (32, 16, 3, 3)
        ((5, 8, 4), 40),  # nn.Conv1d(8, 4, 5): PyTorch weight (4, 8, 5)
    ],
    ids=str,
)
def test_torch_linear_default_bound_and_variance(keras_shape, torch_fan_in):
    described = inits.describe("torch_linear_default", keras_shape)
    assert described["fan_in"] == torch_fan_in
    assert described["distribution"] == "uniform"
    # kaiming_uniform_(a=sqrt(5)): bound = gain * sqrt(3 / fan_in)
    pytorch_bound = gain("leaky_relu", math.sqrt(5.0)) * math.sqrt(3.0 / torch_fan_in)
    assert described["limit"] == pytest.approx(pytorch_bound, rel=1e-12)
    assert described["limit"] == pytest.approx(1.0 / math.sqrt(torch_fan_in), rel=1e-12)
    assert described["variance"] == pytest.approx(1.0 / (3.0 * torch_fan_in), rel=1e-12)
    he_variance = inits.describe("he_uniform", keras_shape)["variance"]
    assert described["variance"] / he_variance == pytest.approx(1.0 / 6.0, rel=1e-12)


def test_torch_linear_default_sampled():
    shape = (512, 256)
    values = inits.torch_linear_default(shape, seed=4)
    assert_matches_theory(values, inits.describe("torch_linear_default", shape))
    assert np.abs(values).max() <= 1.0 / math.sqrt(512) * (1.0 + FLOAT32_SLACK)


# ----------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------


@pytest.fixture
def fresh_registry(monkeypatch):
    """Registrations made by a test disappear after it."""
    monkeypatch.setattr(inits, "_registry", dict(inits._registry))


def test_available_lists_canonical_names_sorted():
    names = inits.available()
    assert names == sorted(names)
    assert set(names) == {
        "zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal",
        "variance_scaling", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
        "lecun_normal", "lecun_uniform", "orthogonal", "torch_linear_default",
        "identity", "dirac", "sparse", "torch_kaiming_uniform", "torch_kaiming_normal",
        "torch_xavier_uniform", "torch_xavier_normal", "torch_trunc_normal",
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(inits._BUILTINS))
def test_get_by_canonical_name(name):
    assert inits.get(name) is getattr(inits, name)


@pytest.mark.parametrize(
    "alias, canonical",
    [
        ("xavier_normal", "glorot_normal"),
        ("xavier_uniform", "glorot_uniform"),
        ("kaiming_normal", "he_normal"),
        ("kaiming_uniform", "he_uniform"),
        ("normal", "random_normal"),
        ("uniform", "random_uniform"),
        ("zero", "zeros"),
        ("one", "ones"),
    ],
)
def test_get_aliases(alias, canonical):
    assert inits.get(alias) is inits.get(canonical)


@pytest.mark.parametrize(
    "keras_name, keras_class",
    [("normal", KI.RandomNormal), ("uniform", KI.RandomUniform), ("zero", KI.Zeros), ("one", KI.Ones)],
)
def test_keras_short_names_mean_the_same_in_keras(keras_name, keras_class):
    assert isinstance(KI.get(keras_name), keras_class)
    ours = inits.get(keras_name)
    assert ours.__name__ == {KI.RandomNormal: "random_normal", KI.RandomUniform: "random_uniform",
                             KI.Zeros: "zeros", KI.Ones: "ones"}[keras_class]  # fmt: skip


def test_get_returns_a_callable_unchanged():
    def custom(shape, *, seed=None, dtype="float32"):
        return np.zeros(shape, dtype)

    assert inits.get(custom) is custom


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown initializer 'he_norma'.*he_normal.*xavier_uniform"):
        inits.get("he_norma")


def test_get_rejects_non_names():
    with pytest.raises(TypeError, match="name_or_callable"):
        inits.get(3)


def scaled_ones(shape, *, seed=None, dtype="float32", factor=2.0):
    return np.full(shape, factor, dtype=dtype)


def test_register_makes_a_custom_initializer_available(fresh_registry):
    assert inits.register("scaled_ones", scaled_ones) is scaled_ones
    assert inits.get("scaled_ones") is scaled_ones
    assert "scaled_ones" in inits.available()
    np.testing.assert_array_equal(inits.get("scaled_ones")((2,), factor=3.0), [3.0, 3.0])


def test_register_refuses_to_overwrite_silently(fresh_registry):
    inits.register("scaled_ones", scaled_ones)

    def other(shape, *, seed=None, dtype="float32"):
        return np.ones(shape, dtype)

    with pytest.raises(ValueError, match="already registered; pass overwrite=True"):
        inits.register("scaled_ones", other)
    assert inits.get("scaled_ones") is scaled_ones
    inits.register("scaled_ones", other, overwrite=True)
    assert inits.get("scaled_ones") is other


@pytest.mark.parametrize("name", ["he_normal", "xavier_uniform", "uniform"])
def test_register_never_replaces_builtin_names(fresh_registry, name):
    with pytest.raises(ValueError, match="built-in initializer name"):
        inits.register(name, scaled_ones, overwrite=True)
    assert inits.get(name).__module__ == "initcourse.maths.initializers"


@pytest.mark.parametrize("name", ["my-init", "", None, "2x"])
def test_register_rejects_bad_names(fresh_registry, name):
    with pytest.raises(ValueError, match="name must be a Python identifier"):
        inits.register(name, scaled_ones)


def test_register_rejects_non_callables_and_bad_signatures(fresh_registry):
    with pytest.raises(TypeError, match="fn must be callable"):
        inits.register("not_callable", 3.0)
    with pytest.raises(TypeError, match=r"fn must accept \(shape, \*, seed=None, dtype='float32'"):
        inits.register("no_seed", lambda shape: np.zeros(shape))
    assert "no_seed" not in inits.available()


def test_describe_refuses_registered_custom_initializers(fresh_registry):
    inits.register("scaled_ones", scaled_ones)
    with pytest.raises(ValueError, match="built-in initializers only"):
        inits.describe("scaled_ones", (2, 2))


# ----------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(inits._BUILTINS))
@pytest.mark.parametrize("shape", [(0, 3), (3, -2), (2, 2.0), (True, 3)], ids=str)
def test_non_positive_or_non_integer_dimensions(name, shape):
    with pytest.raises(ValueError, match="shape must be a tuple of positive integers"):
        inits.get(name)(shape)
    with pytest.raises(ValueError, match="shape must be a tuple of positive integers"):
        inits.describe(name, shape)


@pytest.mark.parametrize("name", sorted(inits._BUILTINS))
def test_non_shapes(name):
    with pytest.raises(TypeError, match="shape must be a tuple of positive integers"):
        inits.get(name)("3x3")


@pytest.mark.parametrize("name", ["orthogonal", "torch_linear_default"])
@pytest.mark.parametrize("shape", [(), (5,)], ids=str)
def test_matrix_initializers_need_two_dimensions(name, shape):
    with pytest.raises(ValueError, match=f"{name} needs a shape with at least 2 dimensions"):
        inits.get(name)(shape)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        inits.describe(name, shape)


def test_keras_orthogonal_also_needs_two_dimensions():
    with pytest.raises(ValueError, match="at least two-dimensional"):
        KI.Orthogonal(seed=0)((5,))


def test_unknown_mode_and_distribution():
    with pytest.raises(ValueError, match="mode must be one of 'fan_in', 'fan_out', 'fan_avg', got 'fan_sum'"):
        inits.variance_scaling((3, 3), mode="fan_sum")
    with pytest.raises(ValueError, match="distribution must be one of .*'untruncated_normal'.*got 'gaussian'"):
        inits.variance_scaling((3, 3), distribution="gaussian")


@pytest.mark.parametrize("scale", [0, -1.0, float("nan")])
def test_non_positive_scale(scale):
    with pytest.raises(ValueError, match="scale must be"):
        inits.variance_scaling((3, 3), scale=scale)
    with pytest.raises(ValueError, match="scale must be"):
        inits.describe("variance_scaling", (3, 3), scale=scale)


def test_non_numeric_scale():
    with pytest.raises(TypeError, match="scale must be a real number"):
        inits.variance_scaling((3, 3), scale="2")


@pytest.mark.parametrize("name", ["random_normal", "truncated_normal"])
@pytest.mark.parametrize("stddev", [0.0, -0.05])
def test_non_positive_stddev(name, stddev):
    with pytest.raises(ValueError, match="stddev must be positive"):
        inits.get(name)((3, 3), stddev=stddev)


@pytest.mark.parametrize("minval, maxval", [(0.1, 0.1), (0.5, -0.5)])
def test_minval_not_below_maxval(minval, maxval):
    with pytest.raises(ValueError, match="minval must be less than maxval"):
        inits.random_uniform((3, 3), minval=minval, maxval=maxval)


def test_non_positive_gain():
    with pytest.raises(ValueError, match="gain must be positive"):
        inits.orthogonal((3, 3), gain=0.0)


def test_non_finite_constant():
    with pytest.raises(ValueError, match="value must be finite"):
        inits.constant((3,), value=float("inf"))


@pytest.mark.parametrize("name", _ANY_SHAPE)
@pytest.mark.parametrize(
    "seed, error, message",
    [
        (1.5, TypeError, "seed must be None, a non-negative integer or a numpy.random.Generator"),
        ("0", TypeError, "seed must be None, a non-negative integer or a numpy.random.Generator"),
        (np.random.RandomState(0), TypeError, "seed must be None"),
        (-1, ValueError, "seed must be a non-negative integer"),
    ],
    ids=["float", "str", "RandomState", "negative"],
)
def test_wrong_seed(name, seed, error, message):
    with pytest.raises(error, match=message):
        inits.get(name)((3, 3), seed=seed)


@pytest.mark.parametrize("name", ["random_normal", "he_uniform", "orthogonal"])
def test_random_initializers_need_a_float_dtype(name):
    with pytest.raises(ValueError, match="dtype must be a floating-point dtype, got int32"):
        inits.get(name)((3, 3), dtype="int32")


@pytest.mark.parametrize("dtype", [None, "nonsense"])
def test_unknown_dtype(dtype):
    with pytest.raises(TypeError, match="dtype must be a NumPy dtype"):
        inits.he_normal((3, 3), dtype=dtype)


def test_describe_rejects_unknown_parameters():
    with pytest.raises(TypeError, match="he_normal takes no parameters; got unexpected scale"):
        inits.describe("he_normal", (3, 3), scale=3.0)
    with pytest.raises(TypeError, match="random_normal takes mean, stddev; got unexpected seed"):
        inits.describe("random_normal", (3, 3), seed=0)


def test_describe_unknown_name():
    with pytest.raises(ValueError, match="unknown initializer 'gaussian'"):
        inits.describe("gaussian", (3, 3))
