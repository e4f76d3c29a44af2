"""NumPy reference initializers, under their Keras names.

Every initializer is a plain function::

    values = he_normal((256, 128), seed=0)            # numpy.ndarray, float32

with the signature ``f(shape, *, seed=None, dtype="float32", **params)``. The maths
is Keras 3's (``keras/src/initializers/``), written with NumPy so that the course can
show every step; :mod:`initcourse.kerastools.keras_adapter` puts any of them into a Keras layer.

``shape`` follows Keras' layout: dense kernels are ``(in, out)``, convolution
kernels ``(*spatial, in, out)``; fans are computed by :func:`initcourse.maths.fans.compute_fans`.
``seed`` is ``None`` (fresh entropy), a non-negative int (the same array at every
call) or a :class:`numpy.random.Generator` (successive calls continue its stream).

============================== ========================= =====================================
name                           distribution              variance of the weights
============================== ========================= =====================================
``zeros``, ``ones``,           constant                  0
``constant``
``random_normal``              normal                    ``stddev**2`` (default 0.05**2)
``random_uniform``             uniform                   ``(maxval - minval)**2 / 12``
``truncated_normal``           normal cut at 2 stddev    ``(0.8796... * stddev)**2``
``variance_scaling``           one of the three above    ``scale / fan``
``glorot_normal`` / uniform    truncated / uniform       ``2 / (fan_in + fan_out)``
``he_normal`` / uniform        truncated / uniform       ``2 / fan_in``
``lecun_normal`` / uniform     truncated / uniform       ``1 / fan_in``
``orthogonal``                 Haar-random orthogonal    ``gain**2 / max(rows, cols)``
``torch_linear_default``       uniform                   ``1 / (3 * fan_in)``
``identity``                   ``gain`` times the eye    of the matrix's entries
``dirac``                      identity convolution      of the kernel's entries
``sparse``                     normal, zeros per unit    ``(1 - zeros / in) * std**2``
``torch_kaiming_*``            uniform / normal          ``gain(nonlinearity, a)**2 / fan``
``torch_xavier_*``             uniform / normal          ``gain**2 * 2 / (fan_in + fan_out)``
``torch_trunc_normal``         normal cut at ``[a, b]``  of the truncated normal
============================== ========================= =====================================

:func:`describe` gives these properties exactly, from the maths; :func:`get`
finds an initializer by name (Keras names, plus the aliases ``xavier_*``,
``kaiming_*``, ``normal``, ``uniform``, ``zero``, ``one``); :func:`register` adds
a custom one.
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass

import numpy as np

from .._validation import (
    check_real,
    as_generator,
    check_choice,
    check_fits_dtype,
    check_positive_float,
    check_shape,
)
from .fans import compute_fans

__all__ = [
    "MODES",
    "DISTRIBUTIONS",
    "TRUNCATION",
    "TRUNCATED_NORMAL_STD",
    "zeros",
    "ones",
    "constant",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
    "torch_linear_default",
    "describe",
    "get",
    "available",
    "register",
]

MODES = ("fan_in", "fan_out", "fan_avg")
"""Modes of :func:`variance_scaling`: which fan the variance is divided by."""

DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform", "normal")
"""Distributions of :func:`variance_scaling`; ``"normal"`` means truncated, as in Keras."""

TRUNCATION = 2.0
"""Truncated normals are cut at ``mean ± TRUNCATION * stddev`` (Keras/TensorFlow)."""


def _truncated_standard_normal_moments(cut: float) -> tuple[float, float]:
    """Return ``(E[z**2], E[z**4])`` of a standard normal truncated to ``[-cut, cut]``.

    Integrating by parts, ``∫ z**k φ(z) dz = -z**(k-1) φ(z) + (k-1) ∫ z**(k-2) φ(z) dz``,
    so over ``[-c, c]`` with mass ``P = erf(c / sqrt(2))``:
    ``E[z**2] = 1 - 2 c φ(c) / P`` and ``E[z**4] = 3 - (6 c + 2 c**3) φ(c) / P``.
    """
    density = math.exp(-cut * cut / 2.0) / math.sqrt(2.0 * math.pi)
    mass = math.erf(cut / math.sqrt(2.0))
    second = 1.0 - 2.0 * cut * density / mass
    fourth = 3.0 - (6.0 * cut + 2.0 * cut**3) * density / mass
    return second, fourth


_TRUNCATED_SECOND_MOMENT, _TRUNCATED_FOURTH_MOMENT = _truncated_standard_normal_moments(TRUNCATION)

TRUNCATED_NORMAL_STD = math.sqrt(_TRUNCATED_SECOND_MOMENT)
"""Standard deviation of a standard normal cut at ±2: 0.87962566103423978.

Keras divides the stddev of its truncated variance-scaling initializers by this
number so that the weights' realised variance is ``scale / fan``.
"""


# --------------------------------------------------------------------------------------
# Laws: the distribution an initializer draws from, for one shape.
# Each public initializer builds its law (validating shape and parameters) and samples
# it; describe() builds the same law and reads its properties. One source of truth.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Law:
    shape: tuple[int, ...]
    distribution: str  # "constant", "normal", "truncated_normal", "uniform", "orthogonal"
    mean: float = 0.0  # the value, for a constant
    stddev: float | None = None  # of the normal, before truncation
    low: float | None = None  # uniform bounds
    high: float | None = None
    gain: float | None = None  # orthogonal


def _constant_law(shape, value) -> _Law:
    return _Law(check_shape(shape), "constant", mean=check_real(value, "value"))


def _normal_law(distribution, shape, mean, stddev) -> _Law:
    return _Law(
        check_shape(shape),
        distribution,
        mean=check_real(mean, "mean"),
        stddev=check_positive_float(stddev, "stddev"),
    )


def _random_uniform_law(shape, minval, maxval) -> _Law:
    shape = check_shape(shape)
    minval, maxval = check_real(minval, "minval"), check_real(maxval, "maxval")
    if minval >= maxval:
        raise ValueError(f"minval must be less than maxval, got minval={minval}, maxval={maxval}")
    if not math.isfinite(maxval - minval):
        raise ValueError(f"maxval - minval must be a finite float, got minval={minval}, maxval={maxval}")
    return _Law(shape, "uniform", low=minval, high=maxval)


def _variance_scaling_law(shape, scale, mode, distribution) -> _Law:
    shape = check_shape(shape)
    scale = check_positive_float(scale, "scale")
    check_choice(mode, "mode", MODES)
    check_choice(distribution, "distribution", DISTRIBUTIONS)
    fan_in, fan_out = compute_fans(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    variance = scale / fan
    if distribution == "uniform":
        limit = math.sqrt(3.0 * variance)
        return _Law(shape, "uniform", low=-limit, high=limit)
    if distribution == "untruncated_normal":
        return _Law(shape, "normal", stddev=math.sqrt(variance))
    return _Law(shape, "truncated_normal", stddev=math.sqrt(variance) / TRUNCATED_NORMAL_STD)


def _check_matrix_shape(shape, name: str) -> tuple[int, ...]:
    shape = check_shape(shape)
    if len(shape) < 2:
        raise ValueError(f"{name} needs a shape with at least 2 dimensions, got {shape}")
    return shape


def _orthogonal_law(shape, gain) -> _Law:
    shape = _check_matrix_shape(shape, "orthogonal")
    return _Law(shape, "orthogonal", gain=check_positive_float(gain, "gain"))


def _torch_linear_default_law(shape) -> _Law:
    shape = _check_matrix_shape(shape, "torch_linear_default")
    fan_in, _ = compute_fans(shape)
    bound = 1.0 / math.sqrt(fan_in)
    return _Law(shape, "uniform", low=-bound, high=bound)


def _truncated_standard_normal(rng: np.random.Generator, shape) -> np.ndarray:
    """Standard normal draws; any outside ``±TRUNCATION`` is redrawn until inside."""
    z = rng.standard_normal(shape)
    outside = np.abs(z) > TRUNCATION
    while outside.any():
        z[outside] = rng.standard_normal(np.count_nonzero(outside))
        outside = np.abs(z) > TRUNCATION
    return z


def _haar_orthogonal(rng: np.random.Generator, shape) -> np.ndarray:
    """A Haar-random matrix with orthonormal columns (tall) or rows (wide), reshaped."""
    rows, cols = math.prod(shape[:-1]), shape[-1]
    q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    # QR alone is not Haar: Householder QR (LAPACK) chooses the sign of each diag(r)
    # entry from the data, which biases q (with NumPy, q[0, 0] <= 0 always). Flipping
    # the columns so that diag(r) > 0 makes q uniform (Haar) (Mezzadri 2007, "How to
    # generate random matrices from the classical compact groups").
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return q.reshape(shape)


def _draw(law: _Law, rng: np.random.Generator) -> np.ndarray:
    if law.distribution in _STRUCTURED:  # the laws of the frameworks' other schemes, at the end
        return _draw_structured(law, rng)
    if law.distribution == "constant":
        return np.full(law.shape, law.mean)
    if law.distribution == "normal":
        return rng.normal(law.mean, law.stddev, law.shape)
    if law.distribution == "truncated_normal":
        return law.mean + law.stddev * _truncated_standard_normal(rng, law.shape)
    if law.distribution == "uniform":
        return rng.uniform(law.low, law.high, law.shape)
    return law.gain * _haar_orthogonal(rng, law.shape)


def _check_dtype(dtype, kinds: str) -> np.dtype:
    message = f"dtype must be a NumPy dtype such as 'float32', got {dtype!r}"
    if dtype is None:  # np.dtype(None) would silently mean float64
        raise TypeError(message)
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(message) from None
    if resolved.kind not in kinds:
        accepted = "a floating-point dtype" if kinds == "f" else "a boolean, integer or floating-point dtype"
        raise ValueError(f"dtype must be {accepted}, got {resolved}")
    return resolved


def _sample(law: _Law, seed, dtype) -> np.ndarray:
    dtype = _check_dtype(dtype, "biuf" if law.distribution == "constant" else "f")
    rng = as_generator(seed)
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.asarray(_draw(law, rng))
    try:
        if not np.all(np.isfinite(values)):
            raise ValueError("the draw overflowed the float64 range")
        return check_fits_dtype(values, dtype)
    except ValueError as error:
        raise ValueError(f"{error}: parameters {_law_parameters(law)}") from None


def _law_parameters(law: _Law) -> str:
    """The public parameters behind ``law``, for messages."""
    names = {"mean": "value" if law.distribution == "constant" else "mean", "stddev": "stddev",
             "low": "minval", "high": "maxval", "gain": "gain"}
    return ", ".join(f"{names[k]}={getattr(law, k)!r}" for k in names if getattr(law, k) is not None)


# --------------------------------------------------------------------------------------
# Public initializers
# --------------------------------------------------------------------------------------

_CONSTANT_PRESETS = {"zeros": 0.0, "ones": 1.0}

# (scale, mode, distribution) of Keras' named variance-scaling initializers.
_VARIANCE_SCALING_PRESETS = {
    "glorot_normal": dict(scale=1.0, mode="fan_avg", distribution="truncated_normal"),
    "glorot_uniform": dict(scale=1.0, mode="fan_avg", distribution="uniform"),
    "he_normal": dict(scale=2.0, mode="fan_in", distribution="truncated_normal"),
    "he_uniform": dict(scale=2.0, mode="fan_in", distribution="uniform"),
    "lecun_normal": dict(scale=1.0, mode="fan_in", distribution="truncated_normal"),
    "lecun_uniform": dict(scale=1.0, mode="fan_in", distribution="uniform"),
}

_COMMON_PARAMETERS = """\
    shape : int or tuple of int
        Weight shape, Keras layout (``(in, out)``, ``(*spatial, in, out)``).
    seed : None, int >= 0 or numpy.random.Generator, optional
        ``None``: fresh entropy; an int: the same array at every call; a
        Generator: continue its stream.
    dtype : str or numpy.dtype, default "float32"
        dtype of the returned array."""


def _document(fn):
    """Fill the shared parameter descriptions into ``fn``'s docstring."""
    fn.__doc__ = fn.__doc__.replace("    {common}", _COMMON_PARAMETERS)
    return fn


@_document
def constant(shape, *, seed=None, dtype="float32", value=0.0) -> np.ndarray:
    """Return an array of ``shape`` filled with ``value`` (Keras ``Constant``).

    Parameters
    ----------
    {common}
    value : float, default 0.0
        The value of every weight.

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    ``dtype`` may also be a boolean or integer dtype here. ``seed`` is accepted
    (and checked) for a uniform signature; it is not used.
    """
    return _sample(_constant_law(shape, value), seed, dtype)


@_document
def zeros(shape, *, seed=None, dtype="float32") -> np.ndarray:
    """Return an array of zeros (Keras ``Zeros``).

    Parameters
    ----------
    {common}

    Returns
    -------
    numpy.ndarray
    """
    return constant(shape, seed=seed, dtype=dtype, value=_CONSTANT_PRESETS["zeros"])


@_document
def ones(shape, *, seed=None, dtype="float32") -> np.ndarray:
    """Return an array of ones (Keras ``Ones``).

    Parameters
    ----------
    {common}

    Returns
    -------
    numpy.ndarray
    """
    return constant(shape, seed=seed, dtype=dtype, value=_CONSTANT_PRESETS["ones"])


@_document
def random_normal(shape, *, seed=None, dtype="float32", mean=0.0, stddev=0.05) -> np.ndarray:
    """Draw from N(mean, stddev**2) (Keras ``RandomNormal``, string ``"normal"``).

    Parameters
    ----------
    {common}
    mean : float, default 0.0
    stddev : float > 0, default 0.05
        Keras' default; a fixed value that ignores the layer's fans.

    Returns
    -------
    numpy.ndarray
    """
    return _sample(_normal_law("normal", shape, mean, stddev), seed, dtype)


@_document
def random_uniform(shape, *, seed=None, dtype="float32", minval=-0.05, maxval=0.05) -> np.ndarray:
    """Draw from U(minval, maxval) (Keras ``RandomUniform``, string ``"uniform"``).

    Parameters
    ----------
    {common}
    minval, maxval : float, default -0.05 and 0.05
        Bounds, ``minval < maxval``. The variance is ``(maxval - minval)**2 / 12``.

    Returns
    -------
    numpy.ndarray
    """
    return _sample(_random_uniform_law(shape, minval, maxval), seed, dtype)


@_document
def truncated_normal(shape, *, seed=None, dtype="float32", mean=0.0, stddev=0.05) -> np.ndarray:
    """Draw from N(mean, stddev**2) cut at ``mean ± 2 stddev`` (Keras ``TruncatedNormal``).

    Values outside the cut are redrawn. As in Keras, ``stddev`` is *not* corrected:
    the realised standard deviation is ``TRUNCATED_NORMAL_STD * stddev``
    (≈ 0.88 stddev).

    Parameters
    ----------
    {common}
    mean : float, default 0.0
    stddev : float > 0, default 0.05
        Standard deviation of the normal before truncation.

    Returns
    -------
    numpy.ndarray
    """
    return _sample(_normal_law("truncated_normal", shape, mean, stddev), seed, dtype)


@_document
def variance_scaling(
    shape,
    *,
    seed=None,
    dtype="float32",
    scale=1.0,
    mode="fan_in",
    distribution="truncated_normal",
) -> np.ndarray:
    """Draw zero-mean weights with variance ``scale / fan`` (Keras ``VarianceScaling``).

    Parameters
    ----------
    {common}
    scale : float > 0, default 1.0
    mode : {"fan_in", "fan_out", "fan_avg"}, default "fan_in"
        ``fan`` is fan_in, fan_out or ``(fan_in + fan_out) / 2``, from
        :func:`~initcourse.maths.fans.compute_fans` (a scalar shape ``()`` has fans 1, as
        in Keras).
    distribution : {"truncated_normal", "untruncated_normal", "uniform", "normal"}
        - ``"truncated_normal"`` (and its Keras alias ``"normal"``): normal with
          stddev ``sqrt(scale / fan) / TRUNCATED_NORMAL_STD`` cut at 2 stddev, so
          that the realised variance is ``scale / fan``;
        - ``"untruncated_normal"``: normal with stddev ``sqrt(scale / fan)``;
        - ``"uniform"``: U(-limit, limit) with ``limit = sqrt(3 scale / fan)``.

    Returns
    -------
    numpy.ndarray
    """
    try:
        return _sample(_variance_scaling_law(shape, scale, mode, distribution), seed, dtype)
    except ValueError as error:
        if "parameters" not in str(error):
            raise
        raise ValueError(f"scale={scale!r} is too large for dtype {dtype}: {error}") from None


@_document
def glorot_normal(shape, *, seed=None, dtype="float32") -> np.ndarray:
    """Glorot (Xavier) normal: truncated normal with variance ``2 / (fan_in + fan_out)``.

    ``variance_scaling(scale=1, mode="fan_avg", distribution="truncated_normal")``,
    as Keras ``GlorotNormal`` (Glorot & Bengio, 2010). Alias ``"xavier_normal"``.

    Parameters
    ----------
    {common}

    Returns
    -------
    numpy.ndarray
    """
    return variance_scaling(shape, seed=seed, dtype=dtype, **_VARIANCE_SCALING_PRESETS["glorot_normal"])


@_document
def glorot_uniform(shape, *, seed=None, dtype="float32") -> np.ndarray:
    """Glorot (Xavier) uniform: U(±sqrt(6 / (fan_in + fan_out))).

    ``variance_scaling(scale=1, mode="fan_avg", distribution="uniform")``, as Keras
    ``GlorotUniform``, the default kernel initializer of Keras' Dense and Conv
    layers. Alias ``"xavier_uniform"``.

    Parameters
    ----------
    {common}

    Returns
    -------
    numpy.ndarray
    """
    return variance_scaling(shape, seed=seed, dtype=dtype, **_VARIANCE_SCALING_PRESETS["glorot_uniform"])


@_document
def he_normal(shape, *, seed=None, dtype="float32") -> np.ndarray:
    """He (Kaiming) normal: truncated normal with variance ``2 / fan_in``.

    ``variance_scaling(scale=2, mode="fan_in", distribution="truncated_normal")``, as
    Keras ``HeNormal`` (He et al., 2015). Alias ``"kaiming_normal"``; note that
    PyTorch's ``kaiming_normal_`` draws from an *untruncated* normal with the same
    variance (``variance_scaling(..., distribution="untruncated_normal")``).

    Parameters
    ----------
    {common}

    Returns
    -------
    numpy.ndarray
    """
    return variance_scaling(shape, seed=seed, dtype=dtype, **_VARIANCE_SCALING_PRESETS["he_normal"])


@_document
def he_uniform(shape, *, seed=None, dtype="float32") -> np.ndarray:
    """He (Kaiming) uniform: U(±sqrt(6 / fan_in)), variance ``2 / fan_in``.

    ``variance_scaling(scale=2, mode="fan_in", distribution="uniform")``, as Keras
    ``HeUniform``. Alias ``"kaiming_uniform"``.

    Parameters
    ----------
    {common}

    Returns
    -------
    numpy.ndarray
    """
    return variance_scaling(shape, seed=seed, dtype=dtype, **_VARIANCE_SCALING_PRESETS["he_uniform"])


@_document
def lecun_normal(shape, *, seed=None, dtype="float32") -> np.ndarray:
    """LeCun normal: truncated normal with variance ``1 / fan_in``.

    ``variance_scaling(scale=1, mode="fan_in", distribution="truncated_normal")``, as
    Keras ``LecunNormal``; the initializer of self-normalizing (SELU) networks.

    Parameters
    ----------
    {common}

    Returns
    -------
    numpy.ndarray
    """
    return variance_scaling(shape, seed=seed, dtype=dtype, **_VARIANCE_SCALING_PRESETS["lecun_normal"])


@_document
def lecun_uniform(shape, *, seed=None, dtype="float32") -> np.ndarray:
    """LeCun uniform: U(±sqrt(3 / fan_in)), variance ``1 / fan_in``.

    ``variance_scaling(scale=1, mode="fan_in", distribution="uniform")``, as Keras
    ``LecunUniform``.

    Parameters
    ----------
    {common}

    Returns
    -------
    numpy.ndarray
    """
    return variance_scaling(shape, seed=seed, dtype=dtype, **_VARIANCE_SCALING_PRESETS["lecun_uniform"])


@_document
def orthogonal(shape, *, seed=None, dtype="float32", gain=1.0) -> np.ndarray:
    """A random orthogonal matrix times ``gain`` (Keras ``Orthogonal``; Saxe et al., 2013).

    The shape is viewed as a matrix of ``rows = prod(shape[:-1])`` by
    ``cols = shape[-1]``. A Gaussian matrix of the taller orientation is factored
    as ``Q R``; each column of ``Q`` is multiplied by the sign of ``R``'s diagonal
    entry, which makes ``Q`` uniformly (Haar) distributed; a wide shape gets the
    transpose (orthonormal rows). The result satisfies ``W.T @ W = gain**2 I``
    (tall) or ``W @ W.T = gain**2 I`` (wide), for the matrix view ``W``.

    Parameters
    ----------
    {common}
    gain : float > 0, default 1.0
        Multiplies the orthogonal matrix.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``shape`` has fewer than 2 dimensions.
    """
    return _sample(_orthogonal_law(shape, gain), seed, dtype)


@_document
def torch_linear_default(shape, *, seed=None, dtype="float32") -> np.ndarray:
    """PyTorch's default weight initialization of ``nn.Linear`` and ``nn.Conv*d``.

    PyTorch's ``reset_parameters`` (``torch/nn/modules/linear.py`` and
    ``conv.py``) calls ``init.kaiming_uniform_(weight, a=math.sqrt(5))``. With
    ``a = sqrt(5)`` the leaky-ReLU gain is ``sqrt(2 / (1 + 5)) = sqrt(1/3)``, the
    bound ``gain * sqrt(3 / fan_in)`` is ``1 / sqrt(fan_in)``, so the weights are
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with variance ``1 / (3 fan_in)``: a sixth
    of He's ``2 / fan_in``, not "Kaiming uniform" in the usual sense.

    Parameters
    ----------
    {common}

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``shape`` has fewer than 2 dimensions (PyTorch cannot compute fans then
        either).

    Notes
    -----
    ``shape`` is in *Keras'* layout, ``(in, out)`` or ``(*spatial, in, out)``, so
    ``fan_in = in * prod(spatial)``. PyTorch stores the same weight as
    ``(out, in, *spatial)`` and computes the same ``fan_in`` from it.

    PyTorch draws the *bias* of those layers from U(±1/sqrt(fan_in)) too, with the
    weight's fan_in: ``random_uniform((out,), minval=-b, maxval=b)`` with
    ``b = 1 / sqrt(fan_in)``.
    """
    return _sample(_torch_linear_default_law(shape), seed, dtype)


# --------------------------------------------------------------------------------------
# Registry and theoretical description
# --------------------------------------------------------------------------------------

_BUILTINS = {
    fn.__name__: fn
    for fn in (
        zeros,
        ones,
        constant,
        random_normal,
        random_uniform,
        truncated_normal,
        variance_scaling,
        glorot_normal,
        glorot_uniform,
        he_normal,
        he_uniform,
        lecun_normal,
        lecun_uniform,
        orthogonal,
        torch_linear_default,
    )
}

# Law builders, called with the shape and the public function's parameters.
_LAWS = {
    "constant": _constant_law,
    "random_normal": functools.partial(_normal_law, "normal"),
    "random_uniform": _random_uniform_law,
    "truncated_normal": functools.partial(_normal_law, "truncated_normal"),
    "variance_scaling": _variance_scaling_law,
    "orthogonal": _orthogonal_law,
    "torch_linear_default": _torch_linear_default_law,
    **{name: functools.partial(_constant_law, value=v) for name, v in _CONSTANT_PRESETS.items()},
    **{name: functools.partial(_variance_scaling_law, **p) for name, p in _VARIANCE_SCALING_PRESETS.items()},
}

_ALIASES = {
    "xavier_normal": "glorot_normal",
    "xavier_uniform": "glorot_uniform",
    "kaiming_normal": "he_normal",
    "kaiming_uniform": "he_uniform",
    # Keras' own short names (keras.initializers.get)
    "normal": "random_normal",
    "uniform": "random_uniform",
    "zero": "zeros",
    "one": "ones",
}

_registry = dict(_BUILTINS)


def _canonical_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r} of type {type(name).__name__}")
    canonical = _ALIASES.get(name, name)
    if canonical not in _registry:
        valid = ", ".join(sorted([*_registry, *_ALIASES]))
        raise ValueError(f"unknown initializer {name!r}; valid names are: {valid}")
    return canonical


def get(name_or_callable):
    """Return the initializer function for a name (or a callable, unchanged).

    Parameters
    ----------
    name_or_callable : str or callable
        A name from :func:`available`, an alias (``"xavier_normal"``,
        ``"xavier_uniform"``, ``"kaiming_normal"``, ``"kaiming_uniform"``, and Keras'
        ``"normal"``, ``"uniform"``, ``"zero"``, ``"one"``), or a callable, returned
        as is.

    Returns
    -------
    callable
        ``f(shape, *, seed=None, dtype="float32", **params) -> numpy.ndarray``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones.
    """
    if callable(name_or_callable):
        return name_or_callable
    if not isinstance(name_or_callable, str):
        raise TypeError(
            f"name_or_callable must be an initializer name or a callable, got {name_or_callable!r}"
        )
    return _registry[_canonical_name(name_or_callable)]


def available() -> list[str]:
    """Return the canonical names of all initializers (built-in and registered), sorted."""
    return sorted(_registry)


def register(name: str, fn, *, overwrite: bool = False):
    """Add a custom initializer under ``name``, for :func:`get` and the Keras adapter.

    Parameters
    ----------
    name : str
        A Python identifier; built-in names and aliases are reserved.
    fn : callable
        ``fn(shape, *, seed=None, dtype="float32", **params) -> numpy.ndarray``.
    overwrite : bool, default False
        Replace an initializer registered earlier under ``name`` (for example when a
        notebook cell is run again). Without it, an existing name is an error.

    Returns
    -------
    callable
        ``fn``, unchanged.

    Notes
    -----
    A Keras model saved with a registered initializer can be loaded again in a
    process where the same name has been registered.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier such as 'my_init', got {name!r}")
    if name in _BUILTINS or name in _ALIASES:
        raise ValueError(f"{name!r} is a built-in initializer name and cannot be replaced; choose another name")
    if name in _registry and not overwrite:
        raise ValueError(f"an initializer named {name!r} is already registered; pass overwrite=True to replace it")
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    try:
        inspect.signature(fn).bind_partial((1,), seed=None, dtype="float32")
    except TypeError:
        raise TypeError(
            "fn must accept (shape, *, seed=None, dtype='float32', ...), "
            f"got {getattr(fn, '__name__', fn)!r} with signature {inspect.signature(fn)}"
        ) from None
    _check_returns_shape(fn, name)
    _registry[name] = fn
    return fn


def _check_returns_shape(fn, name: str) -> None:
    """Call ``fn`` once on a small shape: it must return a float array of that shape."""
    try:
        sample = np.asarray(fn((2, 3), seed=0, dtype="float32"))
    except Exception as error:  # noqa: BLE001 - any failure of the trial call is reported
        raise TypeError(
            f"fn for {name!r} failed on fn((2, 3), seed=0, dtype='float32'): {type(error).__name__}: {error}"
        ) from error
    if sample.shape != (2, 3) or not np.issubdtype(sample.dtype, np.number):
        raise ValueError(
            f"fn for {name!r} must return a numeric array of the requested shape: "
            f"fn((2, 3), seed=0, dtype='float32') returned {sample.dtype} of shape {sample.shape}"
        )


def _bind_parameters(name: str, params: dict) -> dict:
    """Complete ``params`` with the defaults of built-in ``name``'s signature."""
    signature = inspect.signature(_BUILTINS[name])
    accepted = [p for p in signature.parameters if p not in ("shape", "seed", "dtype")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) if accepted else "no parameters"
        raise TypeError(f"{name} takes {takes}; got unexpected {', '.join(unknown)}")
    return {p: params.get(p, signature.parameters[p].default) for p in accepted}


def describe(name: str, shape, **params) -> dict:
    """Return the exact theoretical properties of a built-in initializer for ``shape``.

    Nothing is sampled: the values follow from the initializer's definition.

    Parameters
    ----------
    name : str
        A built-in name or alias (see :func:`available`).
    shape : int or tuple of int
        Weight shape, Keras layout.
    **params
        The initializer's parameters (``stddev``, ``scale``, ``gain``, ...);
        defaults as in the function.

    Returns
    -------
    dict
        ``distribution``
            ``"constant"``, ``"normal"``, ``"truncated_normal"``, ``"uniform"``,
            ``"orthogonal"``, ``"identity"``, ``"dirac"``, ``"sparse"`` or
            ``"bounded_normal"`` (``torch_trunc_normal``: absolute bounds);
        ``fan_in``, ``fan_out``
            from :func:`~initcourse.maths.fans.compute_fans`;
        ``mean``, ``variance``, ``std``
            of the weights as drawn (after truncation; for ``orthogonal`` the
            variance of one entry, ``gain**2 / max(rows, cols)``);
        ``limit``
            bound on ``|w|``: the uniform bound or the truncation cut, else ``None``;
        ``stddev_param``
            the normal's stddev before truncation, else ``None``;
        ``kurtosis``
            ``E[(w - mean)**4] / variance**2`` (3 for a normal, 1.8 for a uniform),
            ``None`` for a constant. With it, the standard error of a sample
            variance over ``n`` independent weights is
            ``variance * sqrt((kurtosis - 1) / n)``.

    Raises
    ------
    ValueError
        For an unknown name, or a name registered with :func:`register` (its maths
        is unknown).

    Examples
    --------
    >>> d = describe("glorot_uniform", (256, 128))
    >>> round(d["limit"], 4), round(d["std"], 4)
    (0.125, 0.0722)
    """
    canonical = _canonical_name(name)
    if canonical not in _BUILTINS:
        raise ValueError(f"describe knows the built-in initializers only; {name!r} is a registered custom one")
    law = _LAWS[canonical](shape, **_bind_parameters(canonical, params))
    try:
        return _describe_law(law)
    except OverflowError:
        given = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "the defaults"
        raise ValueError(
            f"the parameters of {name!r} ({given}) give a variance that overflows a float; choose smaller values"
        ) from None


def _describe_law(law: _Law) -> dict:
    """The properties :func:`describe` returns, for one law."""
    fan_in, fan_out = compute_fans(law.shape)
    limit = stddev_param = None
    if law.distribution in _STRUCTURED:
        mean, variance, kurtosis, limit, stddev_param = _structured_moments(law)
    elif law.distribution == "constant":
        mean, variance, kurtosis = law.mean, 0.0, None
    elif law.distribution == "normal":
        mean, variance, kurtosis = law.mean, law.stddev**2, 3.0
        stddev_param = law.stddev
    elif law.distribution == "truncated_normal":
        mean, variance = law.mean, (TRUNCATED_NORMAL_STD * law.stddev) ** 2
        kurtosis = _TRUNCATED_FOURTH_MOMENT / _TRUNCATED_SECOND_MOMENT**2
        limit, stddev_param = abs(law.mean) + TRUNCATION * law.stddev, law.stddev
    elif law.distribution == "uniform":
        mean, variance, kurtosis = (law.low + law.high) / 2.0, (law.high - law.low) ** 2 / 12.0, 9.0 / 5.0
        limit = max(abs(law.low), abs(law.high))
    else:  # orthogonal: each column (or row) is uniform on the unit sphere of R^n
        n = max(math.prod(law.shape[:-1]), law.shape[-1])
        mean, variance, kurtosis = 0.0, law.gain**2 / n, 3.0 * n / (n + 2.0)
    return {
        "distribution": law.distribution,
        "fan_in": fan_in,
        "fan_out": fan_out,
        "mean": mean,
        "variance": variance,
        "std": math.sqrt(variance),
        "limit": limit,
        "stddev_param": stddev_param,
        "kurtosis": kurtosis,
    }


# --------------------------------------------------------------------------------------
# The frameworks' other schemes: Keras Identity, and PyTorch's torch.nn.init functions
# with PyTorch's own parameters (torch/nn/init.py), as laws like the ones above.
# --------------------------------------------------------------------------------------

from .._validation import check_nonnegative_float, check_positive_int  # noqa: E402

TORCH_MODES = ("fan_in", "fan_out")
"""Modes of PyTorch's ``kaiming_*_`` functions (PyTorch has no ``fan_avg`` there)."""


@dataclass(frozen=True)
class _StructuredLaw(_Law):
    """A law with parameters the Keras laws do not have (sparsity, groups)."""

    sparsity: float | None = None  # sparse: fraction of zeros per column
    groups: int = 1  # dirac: convolution groups


def _identity_law(shape, gain) -> _Law:
    shape = check_shape(shape)
    if len(shape) != 2:
        raise ValueError(f"identity needs a 2-D shape (rows, cols), got {shape}; for a convolution use 'dirac'")
    return _Law(shape, "identity", gain=check_real(gain, "gain"))


def _dirac_law(shape, groups) -> _Law:
    shape = check_shape(shape)
    if len(shape) not in (3, 4, 5):
        raise ValueError(
            f"dirac needs a convolution kernel shape (*spatial, in, out) with 1 to 3 spatial dimensions, got {shape}"
        )
    groups = check_positive_int(groups, "groups")
    if shape[-1] % groups:
        raise ValueError(f"groups must divide the number of output channels {shape[-1]}, got groups={groups}")
    return _StructuredLaw(shape, "dirac", groups=groups)


def _sparse_law(shape, sparsity, std) -> _Law:
    shape = check_shape(shape)
    if len(shape) != 2:
        raise ValueError(f"sparse needs a 2-D shape (in, out), got {shape}")
    sparsity = check_real(sparsity, "sparsity")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be a fraction in [0, 1], got {sparsity}")
    return _StructuredLaw(shape, "sparse", stddev=check_positive_float(std, "std"), sparsity=sparsity)


def _torch_fan(shape, mode, name) -> tuple[tuple[int, ...], int]:
    """PyTorch's ``_calculate_correct_fan``: the same fans as Keras, 2 dimensions at least."""
    shape = _check_matrix_shape(shape, name)
    check_choice(mode, "mode", TORCH_MODES)
    fan_in, fan_out = compute_fans(shape)
    return shape, fan_in if mode == "fan_in" else fan_out


def _torch_kaiming_std(shape, a, mode, nonlinearity, name) -> tuple[tuple[int, ...], float]:
    from .gains import gain

    shape, fan = _torch_fan(shape, mode, name)
    a = check_real(a, "a")
    if nonlinearity == "leaky_relu":
        g = gain("leaky_relu", check_nonnegative_float(a, "a"))
    else:
        if a != 0:
            raise ValueError(
                f"a (the negative slope) is only used with nonlinearity='leaky_relu', got a={a} "
                f"with nonlinearity={nonlinearity!r}"
            )
        g = gain(nonlinearity)
    return shape, g / math.sqrt(fan)


def _torch_kaiming_uniform_law(shape, a, mode, nonlinearity) -> _Law:
    shape, std = _torch_kaiming_std(shape, a, mode, nonlinearity, "torch_kaiming_uniform")
    bound = math.sqrt(3.0) * std
    return _Law(shape, "uniform", low=-bound, high=bound)


def _torch_kaiming_normal_law(shape, a, mode, nonlinearity) -> _Law:
    shape, std = _torch_kaiming_std(shape, a, mode, nonlinearity, "torch_kaiming_normal")
    return _Law(shape, "normal", stddev=std)


def _torch_xavier_std(shape, gain, name) -> tuple[tuple[int, ...], float]:
    shape = _check_matrix_shape(shape, name)
    fan_in, fan_out = compute_fans(shape)
    return shape, check_positive_float(gain, "gain") * math.sqrt(2.0 / (fan_in + fan_out))


def _torch_xavier_uniform_law(shape, gain) -> _Law:
    shape, std = _torch_xavier_std(shape, gain, "torch_xavier_uniform")
    bound = math.sqrt(3.0) * std
    return _Law(shape, "uniform", low=-bound, high=bound)


def _torch_xavier_normal_law(shape, gain) -> _Law:
    shape, std = _torch_xavier_std(shape, gain, "torch_xavier_normal")
    return _Law(shape, "normal", stddev=std)


def _torch_trunc_normal_law(shape, mean, std, a, b) -> _Law:
    shape = check_shape(shape)
    mean, std = check_real(mean, "mean"), check_positive_float(std, "std")
    a, b = check_real(a, "a"), check_real(b, "b")
    if not a < b:
        raise ValueError(f"the bounds must satisfy a < b, got a={a}, b={b}")
    law = _Law(shape, "bounded_normal", mean=mean, stddev=std, low=a, high=b)
    if _bounded_normal_mass(law) < 1e-6:
        raise ValueError(
            f"[a, b] = [{a}, {b}] holds almost none of N({mean}, {std}**2): choose bounds near the mean"
        )
    return law


def _bounded_normal_mass(law: _Law) -> float:
    from scipy.special import ndtr

    return float(ndtr((law.high - law.mean) / law.stddev) - ndtr((law.low - law.mean) / law.stddev))


def _bounded_normal_moments(law: _Law) -> tuple[float, float, float]:
    """Mean, variance and kurtosis of N(mean, stddev**2) restricted to [low, high].

    Raw moments of the standardised variable on [alpha, beta] follow from integrating
    by parts: ``m_k = (k - 1) m_{k-2} + (alpha**(k-1) phi(alpha) - beta**(k-1) phi(beta)) / P``.
    """
    alpha, beta = (law.low - law.mean) / law.stddev, (law.high - law.mean) / law.stddev
    mass = _bounded_normal_mass(law)

    def phi(z):
        return math.exp(-z * z / 2.0) / math.sqrt(2.0 * math.pi)

    m = [1.0, (phi(alpha) - phi(beta)) / mass]
    for k in (2, 3, 4):
        m.append((k - 1) * m[k - 2] + (alpha ** (k - 1) * phi(alpha) - beta ** (k - 1) * phi(beta)) / mass)
    mu = m[1]
    var = m[2] - mu**2
    fourth = m[4] - 4 * mu * m[3] + 6 * mu**2 * m[2] - 3 * mu**4
    return law.mean + law.stddev * mu, law.stddev**2 * var, fourth / var**2


def _draw_structured(law: _Law, rng: np.random.Generator) -> np.ndarray:
    if law.distribution == "identity":
        return law.gain * np.eye(*law.shape)
    if law.distribution == "dirac":
        # Keras layout (*spatial, in, out); PyTorch's dirac_ sets weight[g*per + d, d, centre] = 1.
        kernel = np.zeros(law.shape)
        per_group = law.shape[-1] // law.groups
        centre = tuple(k // 2 for k in law.shape[:-2])
        for g in range(law.groups):
            for d in range(min(per_group, law.shape[-2])):
                kernel[(*centre, d, g * per_group + d)] = 1.0
        return kernel
    if law.distribution == "sparse":
        rows, cols = law.shape
        values = rng.normal(0.0, law.stddev, law.shape)
        n_zeros = math.ceil(law.sparsity * rows)
        for col in range(cols):
            values[rng.permutation(rows)[:n_zeros], col] = 0.0
        return values
    # bounded_normal: inverse CDF of the normal restricted to [low, high], as PyTorch's trunc_normal_
    from scipy.special import ndtr, ndtri

    lo, hi = ndtr((law.low - law.mean) / law.stddev), ndtr((law.high - law.mean) / law.stddev)
    z = ndtri(rng.uniform(lo, hi, law.shape))
    return np.clip(law.mean + law.stddev * z, law.low, law.high)


def _structured_moments(law: _Law) -> tuple:
    """``(mean, variance, kurtosis, limit, stddev_param)`` of the laws of this section."""
    if law.distribution in ("identity", "dirac"):
        # a fixed array: the moments of its entries
        values = _draw_structured(law, None).ravel()
        mean, variance = float(values.mean()), float(values.var())
        kurtosis = float(np.mean((values - mean) ** 4) / variance**2) if variance > 0 else None
        return mean, variance, kurtosis, float(np.abs(values).max()), None
    if law.distribution == "sparse":
        keep = 1.0 - math.ceil(law.sparsity * law.shape[0]) / law.shape[0]
        variance = keep * law.stddev**2
        kurtosis = 3.0 / keep if keep > 0 else None
        return 0.0, variance, kurtosis, None, law.stddev
    mean, variance, kurtosis = _bounded_normal_moments(law)
    return mean, variance, kurtosis, max(abs(law.low), abs(law.high)), law.stddev


_STRUCTURED = ("identity", "dirac", "sparse", "bounded_normal")


@_document
def identity(shape, *, seed=None, dtype="float32", gain=1.0) -> np.ndarray:
    """``gain`` times the identity matrix (Keras ``Identity``, PyTorch ``eye_`` with a gain).

    A non-square shape gets ones on the main diagonal and zeros elsewhere, as
    ``numpy.eye(rows, cols)``. Through a linear layer of the same width the identity
    passes its input unchanged, so a deep linear stack of them starts as the identity
    map (Le et al., 2015, used it for the recurrent kernel of ReLU RNNs).

    Parameters
    ----------
    {common}
    gain : float, default 1.0
        Multiplies the identity matrix.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``shape`` is not 2-D (Keras raises too; use :func:`dirac` for a kernel).
    """
    return _sample(_identity_law(shape, gain), seed, dtype)


@_document
def dirac(shape, *, seed=None, dtype="float32", groups=1) -> np.ndarray:
    """A convolution kernel that copies its input: PyTorch's ``dirac_``, in Keras' layout.

    For the kernel ``(*spatial, in, out)``, output channel ``d`` of every group gets a
    single 1 at the centre of the window on input channel ``d`` (for the first
    ``min(in, out / groups)`` channels); everything else is 0. A "same"-padded
    convolution with ``in == out`` and an odd window then is the identity map; extra
    output channels are zero.

    Parameters
    ----------
    {common}
    groups : int >= 1, default 1
        Number of convolution groups; must divide ``out``.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``shape`` has not 3 to 5 dimensions, or ``groups`` does not divide ``out``.
    """
    return _sample(_dirac_law(shape, groups), seed, dtype)


@_document
def sparse(shape, *, seed=None, dtype="float32", sparsity=0.9, std=0.01) -> np.ndarray:
    """Sparse initialization (Martens, 2010; PyTorch ``sparse_``).

    Every column of the ``(in, out)`` kernel, i.e. every output unit, gets exactly
    ``ceil(sparsity * in)`` zero incoming weights at random positions; the others
    are drawn from N(0, std**2). The variance of a weight is ``(1 - zeros / in) * std**2``.

    Parameters
    ----------
    {common}
    sparsity : float in [0, 1], default 0.9
        Fraction of each unit's incoming weights set to zero (PyTorch requires it,
        without a default).
    std : float > 0, default 0.01
        Standard deviation of the non-zero weights (PyTorch's default).

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    PyTorch's ``sparse_(w, sparsity)`` zeros ``ceil(sparsity * rows)`` entries of each
    *column* of the tensor it is given. Given a tensor of the same shape as here, it
    does exactly this; given a PyTorch ``nn.Linear`` weight, stored ``(out, in)``, its
    columns are the *input* units, so each input unit loses ``ceil(sparsity * out)``
    outgoing weights instead, a different pattern with the same variance.
    """
    return _sample(_sparse_law(shape, sparsity, std), seed, dtype)


@_document
def torch_kaiming_uniform(
    shape, *, seed=None, dtype="float32", a=0.0, mode="fan_in", nonlinearity="leaky_relu"
) -> np.ndarray:
    """PyTorch's ``kaiming_uniform_``: U(±gain * sqrt(3 / fan)), with PyTorch's parameters.

    ``gain = gains.gain(nonlinearity, a)``, PyTorch's ``calculate_gain``. With the
    defaults (``a=0``, leaky ReLU) the gain is sqrt(2), Keras' ``he_uniform``;
    ``a=sqrt(5)`` is the default of ``nn.Linear`` and ``nn.Conv*d``
    (:func:`torch_linear_default`).

    Parameters
    ----------
    {common}
    a : float >= 0, default 0.0
        Negative slope of the leaky ReLU; only with ``nonlinearity="leaky_relu"``
        (PyTorch silently ignores it otherwise; here another value raises).
    mode : {"fan_in", "fan_out"}, default "fan_in"
    nonlinearity : str, default "leaky_relu"
        A name of :data:`initcourse.maths.gains.ACTIVATIONS`; PyTorch recommends
        ``"relu"`` or ``"leaky_relu"``.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``shape`` has fewer than 2 dimensions (PyTorch raises too).
    """
    return _sample(_torch_kaiming_uniform_law(shape, a, mode, nonlinearity), seed, dtype)


@_document
def torch_kaiming_normal(
    shape, *, seed=None, dtype="float32", a=0.0, mode="fan_in", nonlinearity="leaky_relu"
) -> np.ndarray:
    """PyTorch's ``kaiming_normal_``: N(0, gain**2 / fan), *not* truncated.

    Keras' ``he_normal`` has the same variance but truncates at 2 stddev.

    Parameters
    ----------
    {common}
    a : float >= 0, default 0.0
        Negative slope, with ``nonlinearity="leaky_relu"`` only.
    mode : {"fan_in", "fan_out"}, default "fan_in"
    nonlinearity : str, default "leaky_relu"
        A name of :data:`initcourse.maths.gains.ACTIVATIONS`.

    Returns
    -------
    numpy.ndarray
    """
    return _sample(_torch_kaiming_normal_law(shape, a, mode, nonlinearity), seed, dtype)


@_document
def torch_xavier_uniform(shape, *, seed=None, dtype="float32", gain=1.0) -> np.ndarray:
    """PyTorch's ``xavier_uniform_``: U(±gain * sqrt(6 / (fan_in + fan_out))).

    With ``gain=1`` it is Keras' ``glorot_uniform``.

    Parameters
    ----------
    {common}
    gain : float > 0, default 1.0
        E.g. ``gains.gain("tanh")``.

    Returns
    -------
    numpy.ndarray
    """
    return _sample(_torch_xavier_uniform_law(shape, gain), seed, dtype)


@_document
def torch_xavier_normal(shape, *, seed=None, dtype="float32", gain=1.0) -> np.ndarray:
    """PyTorch's ``xavier_normal_``: N(0, gain**2 * 2 / (fan_in + fan_out)), not truncated.

    Keras' ``glorot_normal`` has the same variance (gain 1) but truncates at 2 stddev.

    Parameters
    ----------
    {common}
    gain : float > 0, default 1.0

    Returns
    -------
    numpy.ndarray
    """
    return _sample(_torch_xavier_normal_law(shape, gain), seed, dtype)


@_document
def torch_trunc_normal(shape, *, seed=None, dtype="float32", mean=0.0, std=1.0, a=-2.0, b=2.0) -> np.ndarray:
    """PyTorch's ``trunc_normal_``: N(mean, std**2) restricted to the *absolute* bounds [a, b].

    Unlike Keras' ``truncated_normal`` (cut at ``mean ± 2 stddev``), ``a`` and ``b``
    are values, not multiples of ``std``: the defaults cut N(0, 1) at ±2, but with
    ``std=0.02`` (a transformer's embedding, as in ViT) the bounds ±2 cut nothing.
    Drawn by the inverse CDF, as PyTorch does.

    Parameters
    ----------
    {common}
    mean : float, default 0.0
    std : float > 0, default 1.0
        Standard deviation of the normal before truncation.
    a, b : float, default -2.0 and 2.0
        Lower and upper bound, ``a < b``.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``a >= b`` or [a, b] holds less than 1e-6 of the normal's mass.
    """
    return _sample(_torch_trunc_normal_law(shape, mean, std, a, b), seed, dtype)


_MORE = (
    identity,
    dirac,
    sparse,
    torch_kaiming_uniform,
    torch_kaiming_normal,
    torch_xavier_uniform,
    torch_xavier_normal,
    torch_trunc_normal,
)
_BUILTINS.update({fn.__name__: fn for fn in _MORE})
_registry.update({fn.__name__: fn for fn in _MORE})
_LAWS.update(
    {
        "identity": _identity_law,
        "dirac": _dirac_law,
        "sparse": _sparse_law,
        "torch_kaiming_uniform": _torch_kaiming_uniform_law,
        "torch_kaiming_normal": _torch_kaiming_normal_law,
        "torch_xavier_uniform": _torch_xavier_uniform_law,
        "torch_xavier_normal": _torch_xavier_normal_law,
        "torch_trunc_normal": _torch_trunc_normal_law,
    }
)
__all__ += ["TORCH_MODES", *(fn.__name__ for fn in _MORE)]
