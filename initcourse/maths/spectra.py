"""Singular values and norms of random weight matrices and of their products.

An initialization preserves the size of a signal when the weight matrix ``W``
neither stretches nor shrinks the vectors it multiplies, i.e. when all its
singular values are close to 1. This module measures that:

- :func:`singular_values` of a kernel (a sample of any initializer, or a Keras
  layer's weights), and the Marchenko-Pastur law (:func:`marchenko_pastur_edges`,
  :func:`marchenko_pastur_density`) that the singular values of a large i.i.d.
  random matrix follow;
- :func:`norm_ratios`: ``||x W|| / ||x||`` over random inputs ``x``;
- :func:`product_singular_values` and :func:`perturbation_norms`: the input-output
  Jacobian of a deep network (a new matrix per layer) or of a recurrent network
  (the same matrix at every time step), its singular values and how much it
  stretches a small perturbation of the input, layer after layer;
- :func:`qr_orthogonal_samples`: orthogonal matrices from a QR factorization with
  and without the sign correction that makes them uniformly (Haar) distributed.

Vectors are rows and kernels have Keras' ``(in, out)`` layout, so a layer maps
``h -> phi(h @ W)``. ``initializer`` arguments are anything
:func:`initcourse.maths.initializers.get` accepts (a name such as ``"orthogonal"`` or a
function ``f(shape, *, seed, dtype)``), with its parameters in ``init_params``;
it is called with a :class:`numpy.random.Generator` as ``seed`` and
``dtype="float64"``.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pandas as pd

from . import activations, initializers
from .._validation import NonFiniteWarning, as_generator, check_positive_float, check_positive_int, check_shape

__all__ = [
    "singular_values",
    "marchenko_pastur_edges",
    "marchenko_pastur_density",
    "norm_ratios",
    "product_singular_values",
    "perturbation_norms",
    "qr_orthogonal_samples",
]


def _sampler(initializer, init_params):
    """Return ``draw(shape, rng) -> float64 ndarray`` for an initializer and its parameters."""
    if init_params is not None and not isinstance(init_params, dict):
        raise TypeError(f"init_params must be a dict or None, got {init_params!r}")
    fn = functools.partial(initializers.get(initializer), **(init_params or {}))

    def draw(shape, rng):
        return np.asarray(fn(shape, seed=rng, dtype="float64"), dtype=np.float64)

    return draw


def _matrix_shape(shape) -> tuple[int, int]:
    """The matrix view ``(prod(shape[:-1]), shape[-1])`` of a kernel shape (Keras' view)."""
    shape = check_shape(shape, "shape")
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions (a matrix), got {shape}")
    return math.prod(shape[:-1]), shape[-1]


def _as_matrix(weights) -> np.ndarray:
    """``weights`` as a float64 matrix in Keras' view ``(prod(shape[:-1]), shape[-1])``."""
    try:
        array = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"weights must be an array of numbers, got {type(weights).__name__}") from None
    if array.ndim < 2 or array.size == 0:
        raise ValueError(f"weights must be a non-empty array with at least 2 dimensions, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("weights must contain only finite numbers (found NaN or inf)")
    return array.reshape(-1, array.shape[-1])


def singular_values(weights) -> np.ndarray:
    """Singular values of a weight array, largest first.

    Parameters
    ----------
    weights : array_like
        A kernel with at least 2 dimensions (a NumPy array, or a Keras variable);
        a convolution kernel ``(*spatial, in, out)`` is viewed as the
        ``(prod(spatial) * in, out)`` matrix that Keras' orthogonal initializer
        orthogonalizes.

    Returns
    -------
    numpy.ndarray
        ``min(rows, cols)`` singular values in descending order (float64).

    Examples
    --------
    >>> from initcourse import initializers
    >>> s = singular_values(initializers.orthogonal((64, 32), seed=0, gain=2.0))
    >>> bool(np.allclose(s, 2.0, atol=1e-6))
    True
    """
    return np.linalg.svd(_as_matrix(weights), compute_uv=False)


def _marchenko_pastur_scale(shape, variance):
    rows, cols = _matrix_shape(shape)
    variance = check_positive_float(variance, "variance")
    return max(rows, cols), min(rows, cols), variance


def marchenko_pastur_edges(shape, variance) -> tuple[float, float]:
    """Edges of the singular-value spectrum of a large i.i.d. random matrix.

    For a ``rows x cols`` matrix with i.i.d. zero-mean entries of variance
    ``variance``, as both dimensions grow with a fixed ratio the singular values
    fill ``[sigma |sqrt(rows) - sqrt(cols)|, sigma (sqrt(rows) + sqrt(cols))]``,
    ``sigma = sqrt(variance)`` (Marchenko-Pastur law of ``W.T @ W``). The entries'
    distribution does not matter, only their variance.

    Parameters
    ----------
    shape : tuple of int
        Matrix shape (at least 2-D, viewed as in :func:`singular_values`).
    variance : float > 0
        Variance of one entry.

    Returns
    -------
    (float, float)
        Smallest and largest singular value of the limiting spectrum.

    Examples
    --------
    >>> marchenko_pastur_edges((400, 400), 1 / 400)
    (0.0, 2.0)
    """
    m, n, variance = _marchenko_pastur_scale(shape, variance)
    sigma = math.sqrt(variance)
    return sigma * (math.sqrt(m) - math.sqrt(n)), sigma * (math.sqrt(m) + math.sqrt(n))


def marchenko_pastur_density(s, shape, variance) -> np.ndarray:
    """Limiting density of the singular values of an i.i.d. random matrix.

    With ``m >= n`` the larger and smaller dimension, ``y = n / m`` and
    ``x = s**2 / (variance m)``, the eigenvalues ``x`` of ``W.T @ W / (variance m)``
    have the Marchenko-Pastur density ``sqrt((b - x)(x - a)) / (2 pi y x)`` on
    ``[a, b] = [(1 - sqrt(y))**2, (1 + sqrt(y))**2]``; the singular value
    ``s`` has that density times ``dx/ds = 2 s / (variance m)``. For a square
    matrix this is the quarter-circle law ``sqrt(4 - t**2) / pi`` in
    ``t = s / sqrt(variance n)``.

    Parameters
    ----------
    s : array_like
        Singular values at which to evaluate the density.
    shape : tuple of int
        Matrix shape (at least 2-D).
    variance : float > 0
        Variance of one entry.

    Returns
    -------
    numpy.ndarray
        The density at ``s`` (0 outside the edges and for ``s < 0``); it
        integrates to 1 over ``s``.
    """
    m, n, variance = _marchenko_pastur_scale(shape, variance)
    s = np.asarray(s, dtype=np.float64)
    y = n / m
    a, b = (1 - math.sqrt(y)) ** 2, (1 + math.sqrt(y)) ** 2
    x = s**2 / (variance * m)
    inside = (s >= 0) & (x > a) & (x < b)
    safe_x = np.where(inside, x, 1.0)  # avoid 0/0 outside the support
    density_x = np.sqrt(np.clip((b - safe_x) * (safe_x - a), 0.0, None)) / (2 * math.pi * y * safe_x)
    return np.where(inside, density_x * 2 * s / (variance * m), 0.0)


def norm_ratios(weights, *, n_inputs=1000, seed=0) -> np.ndarray:
    """``||x W|| / ||x||`` for a weight matrix ``W`` and random inputs ``x``.

    The inputs are standard normal row vectors of length ``rows``. Each ratio lies
    between the smallest and the largest singular value of ``W`` (the smallest
    counts as 0 when ``rows > cols``: a tall kernel maps ``rows`` numbers to fewer).

    Parameters
    ----------
    weights : array_like
        A kernel with at least 2 dimensions (matrix view as in :func:`singular_values`).
    n_inputs : int, default 1000
        Number of random inputs.
    seed : None, int >= 0 or numpy.random.Generator, default 0
        Seeds the inputs.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_inputs,)``.
    """
    w = _as_matrix(weights)
    n_inputs = check_positive_int(n_inputs, "n_inputs")
    x = as_generator(seed).standard_normal((n_inputs, w.shape[0]))
    return np.linalg.norm(x @ w, axis=1) / np.linalg.norm(x, axis=1)


def _jacobians(initializer, width, depth, *, activation, tied, input_std, seed, init_params):
    """Yield ``(layer, J)``, ``J = d h_layer / d h_0`` of ``h_l = phi(h_{l-1} @ W_l)``.

    With row vectors a perturbation maps as ``dh_l = dh_0 @ J`` where
    ``J = W_1 D_1 W_2 D_2 ... W_l D_l`` and ``D_l = diag(phi'(h_{l-1} @ W_l))``,
    evaluated along the forward pass of one input ``h_0 ~ N(0, input_std**2 I)``.
    ``tied`` reuses one matrix at every layer (a recurrent network without input).
    """
    width = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    if not isinstance(tied, bool):
        raise TypeError(f"tied must be True or False, got {tied!r}")
    input_std = check_positive_float(input_std, "input_std")
    phi = activations.get(activation)
    draw = _sampler(initializer, init_params)
    rng = as_generator(seed)
    shape = (width, width)
    h = input_std * rng.standard_normal(width)
    w = draw(shape, rng)
    jacobian = np.eye(width)
    for layer in range(1, depth + 1):
        if layer > 1 and not tied:
            w = draw(shape, rng)
        with np.errstate(over="ignore", invalid="ignore"):  # reported by _overflow_warning
            pre = h @ w
            jacobian = (jacobian @ w) * phi.derivative(pre)  # right-multiplying by diag(phi'(pre))
            h = phi.forward(pre)
        yield layer, jacobian


def _row_norms(v: np.ndarray) -> np.ndarray:
    """Euclidean norm of every row, without overflowing in the squares (rows scaled by their max)."""
    largest = np.max(np.abs(v), axis=1)
    scale = np.where(largest > 0, largest, 1.0)
    return largest * np.linalg.norm(v / scale[:, None], axis=1) if np.any(largest > 1e150) else np.linalg.norm(v, axis=1)


def _overflow_warning(caller: str, layer: int, depth: int) -> None:
    warnings.warn(
        f"{caller}: the Jacobian overflowed the float range at layer {layer} of {depth}: the product of "
        "the kernels grows too fast (weights too large for this depth). Layers from there on are reported as NaN.",
        NonFiniteWarning,
        stacklevel=3,
    )


def product_singular_values(
    initializer,
    width,
    depth,
    *,
    activation="linear",
    tied=False,
    input_std=1.0,
    seed=0,
    init_params=None,
) -> pd.DataFrame:
    """Singular values of a network's input-output Jacobian after every layer.

    The network is ``h_l = phi(h_{l-1} @ W_l)``, square ``width x width`` kernels,
    no biases. For ``activation="linear"`` the Jacobian after ``l`` layers is the
    product ``W_1 ... W_l``; otherwise it is evaluated along the forward pass of a
    Gaussian input (see :func:`perturbation_norms`). Orthogonal kernels keep all
    singular values of a linear product equal to their gain; i.i.d. kernels of the
    same variance spread them further apart with every layer (Saxe et al. 2013,
    Pennington et al. 2017).

    Parameters
    ----------
    initializer : str or callable
        Initializer name or function (see the module docstring).
    width, depth : int
        Width of every layer and number of layers (or time steps).
    activation : str, default "linear"
        Any name of :func:`initcourse.maths.activations.get`.
    tied : bool, default False
        ``False``: an independent kernel per layer (a deep feed-forward network);
        ``True``: the same kernel at every step (a recurrent network unrolled in
        time, with no input after ``h_0``).
    input_std : float > 0, default 1.0
        Standard deviation of the input ``h_0``'s entries (matters only for a
        nonlinear activation).
    seed : None, int >= 0 or numpy.random.Generator, default 0
        Draws the input ``h_0`` first, then the kernels in layer order.
    init_params : dict, optional
        Parameters of the initializer.

    Returns
    -------
    pandas.DataFrame
        Columns ``layer`` (1..depth), ``index`` (1..width, largest first) and
        ``singular_value``; ``width * depth`` rows.
    """
    frames = []
    overflowed = None
    for layer, jacobian in _jacobians(
        initializer, width, depth, activation=activation, tied=tied,
        input_std=input_std, seed=seed, init_params=init_params,
    ):
        if overflowed is None and not np.isfinite(jacobian).all():
            overflowed = layer
        if overflowed is None:
            s = np.linalg.svd(jacobian, compute_uv=False)
        else:  # no SVD of inf/NaN (LAPACK fails with a message on stderr)
            s = np.full(jacobian.shape[1], np.nan)
        frames.append(pd.DataFrame({"layer": layer, "index": np.arange(1, s.size + 1), "singular_value": s}))
    if overflowed is not None:
        _overflow_warning("product_singular_values", overflowed, len(frames))
    return pd.concat(frames, ignore_index=True)


def perturbation_norms(
    initializer,
    width,
    depth,
    *,
    activation="linear",
    tied=False,
    n_directions=100,
    input_std=1.0,
    seed=0,
    init_params=None,
) -> pd.DataFrame:
    """How much a small perturbation of the input is stretched, layer after layer.

    A perturbation ``d`` of the input ``h_0`` becomes ``d @ J_l`` at layer ``l``
    (to first order), ``J_l`` the Jacobian of :func:`product_singular_values`
    (same network, same ``seed``: the same matrices). The ratio
    ``||d @ J_l|| / ||d||`` is measured for ``n_directions`` random directions
    ``d``. For a recurrent network (``tied=True``), ``layer`` is the time step
    and the perturbation is one of the hidden state at time 0.

    Parameters
    ----------
    initializer : str or callable
    width, depth : int
    activation : str, default "linear"
    tied : bool, default False
    n_directions : int, default 100
        Number of random perturbation directions (standard normal).
    input_std : float > 0, default 1.0
    seed : None, int >= 0 or numpy.random.Generator, default 0
        Seeds the matrices and the input, then the directions.
    init_params : dict, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``layer`` (1..depth), ``direction`` (0..n_directions-1) and
        ``norm_ratio``; ``depth * n_directions`` rows.
    """
    n_directions = check_positive_int(n_directions, "n_directions")
    rng = as_generator(seed)
    layers = list(
        _jacobians(
            initializer, width, depth, activation=activation, tied=tied,
            input_std=input_std, seed=rng, init_params=init_params,
        )
    )
    directions = rng.standard_normal((n_directions, width))
    start = np.linalg.norm(directions, axis=1)
    finite = [bool(np.isfinite(j).all()) for _, j in layers]
    ratios = []
    with np.errstate(over="ignore", invalid="ignore"):
        for ok, (_, j) in zip(finite, layers):
            ratio = _row_norms(directions @ j) / start if ok else np.full(n_directions, np.nan)
            ratios.append(ratio)
    frame = pd.DataFrame(
        {
            "layer": np.repeat([layer for layer, _ in layers], n_directions),
            "direction": np.tile(np.arange(n_directions), len(layers)),
            "norm_ratio": np.concatenate(ratios),
        }
    )
    bad = ~np.isfinite(frame["norm_ratio"].to_numpy())
    if bad.any():
        frame.loc[frame["layer"] >= frame.loc[bad, "layer"].min(), "norm_ratio"] = np.nan
        _overflow_warning("perturbation_norms", int(frame.loc[bad, "layer"].min()), len(layers))
    return frame


def qr_orthogonal_samples(size, n_samples, *, sign_correction=True, seed=0) -> np.ndarray:
    """Random ``size x size`` orthogonal matrices from the QR factorization of Gaussians.

    ``np.linalg.qr`` (LAPACK's Householder QR) returns ``Q`` with a sign
    convention for the diagonal of ``R``; that convention leaks into ``Q``, whose
    distribution is then *not* uniform over the orthogonal group. Multiplying each
    column of ``Q`` by the sign of the matching diagonal entry of ``R`` removes it
    (Mezzadri 2007): that is :func:`initcourse.maths.initializers.orthogonal`.

    Parameters
    ----------
    size : int
        Matrix size.
    n_samples : int
        Number of matrices.
    sign_correction : bool, default True
        ``True``: draws of :func:`initcourse.maths.initializers.orthogonal` (Haar
        distributed); ``False``: the plain ``Q`` of ``np.linalg.qr``.
    seed : None, int >= 0 or numpy.random.Generator, default 0

    Returns
    -------
    numpy.ndarray
        Shape ``(n_samples, size, size)``, float64.
    """
    size = check_positive_int(size, "size")
    n_samples = check_positive_int(n_samples, "n_samples")
    if not isinstance(sign_correction, bool):
        raise TypeError(f"sign_correction must be True or False, got {sign_correction!r}")
    rng = as_generator(seed)
    if sign_correction:
        return np.stack([initializers.orthogonal((size, size), seed=rng, dtype="float64") for _ in range(n_samples)])
    q, _ = np.linalg.qr(rng.standard_normal((n_samples, size, size)))
    return q
