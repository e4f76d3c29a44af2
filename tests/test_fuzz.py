"""Fuzzing the NumPy side of the public API with bad and extreme arguments.

Every call must either succeed with finite, correctly shaped output, or raise
ValueError/TypeError with a message naming the argument. A simulation whose
signals really overflow may instead return inf/NaN together with the course's
NonFiniteWarning, which names the layer.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from initcourse import gains, initializers, inspection, propagation, spectra, theory
from initcourse._validation import NonFiniteWarning

BAD = [None, -1, 0, 2.5, -2.5, "x", True, math.nan, math.inf, -math.inf, 1e308, 10**30, [], (1, 2), {}, object()]


def _shape_of(result):
    return result.shape if isinstance(result, np.ndarray) else None


def _finite(result) -> bool:
    if isinstance(result, pd.DataFrame):
        numeric = result.select_dtypes("number")
        return bool(np.isfinite(numeric.to_numpy(dtype=np.float64)).all())
    if isinstance(result, np.ndarray):
        return bool(np.isfinite(result.astype(np.float64)).all()) if result.dtype.kind in "biuf" else False
    return math.isfinite(float(result))


# (name, function, positional arguments, keyword arguments, expected shape or None)
TARGETS = [
    ("random_normal", initializers.random_normal, ((4, 3),), dict(seed=0, dtype="float32", mean=0.0, stddev=0.5), (4, 3)),
    ("random_uniform", initializers.random_uniform, ((4, 3),), dict(seed=0, dtype="float32", minval=-1.0, maxval=1.0), (4, 3)),
    ("truncated_normal", initializers.truncated_normal, ((4, 3),), dict(seed=0, dtype="float32", mean=0.0, stddev=0.5), (4, 3)),
    ("variance_scaling", initializers.variance_scaling, ((4, 3),),
     dict(seed=0, dtype="float32", scale=1.0, mode="fan_in", distribution="uniform"), (4, 3)),
    ("he_normal", initializers.he_normal, ((4, 3),), dict(seed=0, dtype="float32"), (4, 3)),
    ("orthogonal", initializers.orthogonal, ((4, 3),), dict(seed=0, dtype="float32", gain=1.0), (4, 3)),
    ("constant", initializers.constant, ((4, 3),), dict(seed=0, dtype="float32", value=0.5), (4, 3)),
    ("describe", initializers.describe, ("random_normal", (4, 3)), dict(stddev=0.5), None),
    ("gain", gains.gain, ("leaky_relu",), dict(param=0.1), None),
    ("propagate", propagation.propagate, (), dict(depth=3, width=4, batch=5, seed=0, input_std=1.0,
                                                  activation="tanh", initializer="glorot_normal"), None),
    ("scale_sweep", propagation.scale_sweep, ([0.5, 1.0],), dict(depth=2, width=4, batch=5, seed=0, dtype="float32",
                                                                  activation="relu", gradient=True), None),
    ("layer_histograms", propagation.layer_histograms, ([[1.0, 2.0, 3.0]],), dict(bins=4, limits=(0.0, 4.0)), None),
    ("predicted_stats", theory.predicted_stats, (3, 4), dict(weight_var=0.5, input_var=1.0, bias_var=0.0,
                                                             activation="tanh"), None),
    ("mean_field_map", theory.mean_field_map, (1.0,), dict(weight_var=1.0, fan_in=1, bias_var=0.0, activation="tanh"), None),
    ("product_singular_values", spectra.product_singular_values, ("orthogonal", 4, 3),
     dict(activation="tanh", input_std=1.0, seed=0), None),
    ("perturbation_norms", spectra.perturbation_norms, ("orthogonal", 4, 3),
     dict(n_directions=3, input_std=1.0, seed=0), None),
    ("norm_ratios", spectra.norm_ratios, (np.eye(3),), dict(n_inputs=5, seed=0), (5,)),
    ("numerical_rank", inspection.numerical_rank, (np.eye(3),), dict(rtol=1e-6), None),
]


def _cases():
    for name, fn, args, kwargs, shape in TARGETS:
        for argument in kwargs:
            for index, value in enumerate(BAD):
                yield pytest.param(fn, args, {**kwargs, argument: value}, argument, shape,
                                   id=f"{name}-{argument}-{index}")


@pytest.mark.parametrize("fn, args, kwargs, argument, shape", list(_cases()))
def test_bad_argument_gives_a_result_or_a_clear_error(fn, args, kwargs, argument, shape):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except (ValueError, TypeError) as error:
            assert argument in str(error) or argument.replace("_", " ") in str(error), (
                f"{fn.__name__}({argument}={kwargs[argument]!r}): message does not name the argument: {error}"
            )
            return
    if isinstance(result, dict):
        result = np.array([v for v in result.values() if isinstance(v, (int, float)) and not isinstance(v, bool)])
    if shape is not None:
        assert _shape_of(result) == shape
    if not _finite(result):
        assert any(issubclass(w.category, NonFiniteWarning) for w in caught), (
            f"{fn.__name__}({argument}={kwargs[argument]!r}) returned non-finite values without a warning"
        )
