"""Checkers for the chapters' coding exercises: your function, tested against the definition.

Each ``check_*`` function takes a function you wrote, calls it on fixed inputs
(fixed seeds, so a check gives the same answer at every run), compares what it
returns with the definition the course uses, and returns a :class:`CheckResult`::

    from initcourse import exercises

    def my_he_normal(shape, seed=None):
        ...

    exercises.check_he_normal(my_he_normal)     # ✓ or ✗, with what was measured

A wrong answer is not an error: the result says what is wrong and, for the
common mistakes (fan_in and fan_out swapped, a variance used as a standard
deviation, a missing gain, a uniform bound taken for a standard deviation, a
truncated normal without its correction, the kernel layout, an input changed
in place, orthogonal matrices without the sign correction), names the mistake.
A function that raises, returns the wrong type or shape, or returns NaN gets a
message too, never a traceback from inside the checker.

The references are the course's own definitions: the initializers' exact
properties come from :func:`initcourse.maths.initializers.describe`, the fans from
:func:`initcourse.maths.fans.compute_fans`, the unit spread from
:func:`initcourse.kerastools.inspection.unit_spread`, the truncated normal's correction from
:data:`initcourse.maths.initializers.TRUNCATED_NORMAL_STD`.

The statistical checks are sized so that a correct answer passes with
overwhelming probability and every diagnosed mistake fails: each sample
standard deviation is compared with its target within 6 standard errors
(``sqrt((kurtosis - 1) / (4 n))`` relative, with ``n`` = 18 000 to 40 000 draws,
about 2-3 %), while the mistakes change it by 12 % or more; the orthogonal
checker's distribution test allows 5.5 standard errors over 4000 draws per shape;
exact maths (the unit spread, an LSUV step) is compared to a relative 1e-6 or 1e-4.

============================== ========================================== =======
checker                        your function                              chapter
============================== ========================================== =======
:func:`check_unit_spread`      ``f(kernel) -> float``                     2
:func:`check_relu_normal`      ``f(shape, seed=None) -> array``           3
:func:`check_glorot_uniform`   ``f(shape, seed=None) -> array``           4
:func:`check_he_normal`        ``f(shape, seed=None) -> array``           5
:func:`check_orthogonal`       ``f(shape, seed=None) -> array``           6
:func:`check_lsuv_step`        ``f(kernel, x, target_var=1.0) -> array``  7
:func:`check_initializer`      any variance-scaling scheme, by name       -
============================== ========================================== =======
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
import textwrap
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..maths import initializers
from ..maths.fans import compute_fans
from ..kerastools.inspection import unit_spread

__all__ = [
    "CheckResult",
    "check_unit_spread",
    "check_initializer",
    "check_relu_normal",
    "check_glorot_uniform",
    "check_he_normal",
    "check_orthogonal",
    "check_lsuv_step",
]

SHAPES = ((400, 100), (100, 400), (3, 3, 32, 64))
"""Kernel shapes the initializer checks draw: fan_in above, equal to and below fan_out
(dense), and a convolution kernel whose fans include the receptive field."""

Z = 6.0
"""Standard errors a measured statistic may stray before it counts as wrong."""

_WIDTH = 76  # characters per line of a printed result: fits the book's column (688 px at 1280 px)


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """What a checker found: ``passed``, a ``message`` for the reader, the ``evidence`` measured.

    Prints as a few lines (``✓`` or ``✗``, the message, the evidence); ``bool(result)``
    is ``result.passed``.
    """

    exercise: str
    passed: bool
    message: str
    evidence: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"✓ {self.exercise}: correct." if self.passed else f"✗ {self.exercise}: not yet."
        lines = [head]
        message = _keep_shapes_whole(self.message[:1].upper() + self.message[1:])
        for paragraph in message.split("\n"):
            lines += textwrap.wrap(paragraph, _WIDTH, initial_indent="  ", subsequent_indent="  ") or [""]
        if self.evidence:
            lines += textwrap.wrap(
                _keep_shapes_whole("measured: " + "; ".join(f"{k} {_format(v)}" for k, v in self.evidence.items())),
                _WIDTH, initial_indent="  ", subsequent_indent="    ",
            )
        return "\n".join(lines).replace(_NO_BREAK, " ")

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's display
        printer.text(str(self))


_NO_BREAK = "\u00a0"  # textwrap breaks lines at ASCII whitespace only


def _keep_shapes_whole(text: str) -> str:
    """Join the parts of every shape such as ``(3, 3, 32, 64)`` so that no line break splits it."""
    return re.sub(r"\(\d+(?:, \d+)+\)", lambda m: m.group(0).replace(" ", _NO_BREAK), text)


def _format(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.3g}"
    if isinstance(value, tuple) and all(isinstance(v, numbers.Integral) for v in value):
        return str(tuple(int(v) for v in value))
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    return str(value)


class _Stop(Exception):
    """Raised inside a checker to end it with a result (never escapes a public function)."""

    def __init__(self, message: str, **evidence):
        super().__init__(message)
        self.message, self.evidence = message, evidence


def _checker(exercise: str):
    """Turn ``body(fn, ...) -> (message, evidence)`` into a public checker returning a CheckResult."""

    def decorate(body):
        def check(fn, *args, **kwargs) -> CheckResult:
            try:
                if not callable(fn):
                    raise _Stop(
                        f"expected a function, got {_describe_object(fn)}. Pass the function itself, "
                        "without calling it: check(my_function), not check(my_function())."
                    )
                message, evidence = body(fn, *args, **kwargs)
            except _Stop as stop:
                return CheckResult(exercise, False, stop.message, stop.evidence)
            return CheckResult(exercise, True, message, evidence)

        check.__name__, check.__qualname__, check.__doc__ = body.__name__, body.__name__, body.__doc__
        check.__wrapped__ = body
        return check

    return decorate


def _describe_object(value) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} of type {type(value).__name__}"


# --------------------------------------------------------------------------------------
# Calling the reader's function safely
# --------------------------------------------------------------------------------------


def _check_signature(fn, example_args: tuple, example_kwargs: dict, expected: str) -> None:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: just try calling it
        return
    try:
        signature.bind(*example_args, **example_kwargs)
    except TypeError as error:
        raise _Stop(f"your function cannot be called as {expected} ({error}). Give it that signature.") from None


def _call(fn, args: tuple, kwargs: dict, call_text: str):
    """Call ``fn``; turn anything it raises into a _Stop naming the call and the line."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except NotImplementedError:
        raise _Stop(
            "not implemented yet: the function raised NotImplementedError. Replace that line by your "
            "code, run its cell, then run this check again."
        ) from None
    except Exception as error:  # the reader's code: any failure is reported, not raised
        where = ""
        frames = traceback.extract_tb(error.__traceback__)
        if len(frames) > 1:  # frame 0 is this function
            last = frames[-1]
            where = f" at line {last.lineno}" + (f" ({last.line.strip()})" if last.line else "")
        raise _Stop(f"your function raised {type(error).__name__}: {error}{where}, when called as {call_text}.") from None


def _as_float_array(value, call_text: str) -> np.ndarray:
    if value is None:
        raise _Stop(f"your function returned None when called as {call_text}: did you forget the return statement?")
    try:
        array = np.asarray(value)
    except Exception:  # an exotic object NumPy cannot read
        raise _Stop(f"your function returned {_describe_object(value)}; return a NumPy array.") from None
    if array.dtype.kind not in "biuf":
        raise _Stop(f"your function returned {_describe_object(value)}; return a NumPy array of floats.")
    return array


def _check_finite(array: np.ndarray, call_text: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        raise _Stop(
            f"your function returned {int(bad.sum())} non-finite values (NaN or inf) out of {array.size}, "
            f"when called as {call_text}. Look for a division by zero or a square root of a negative number."
        )


def _check_shape(array: np.ndarray, shape: tuple, call_text: str) -> None:
    if array.shape == tuple(shape):
        return
    if array.ndim >= 2 and array.shape == tuple(shape[:-2]) + (shape[-1], shape[-2]):
        raise _Stop(
            f"your array has shape {array.shape}, but {call_text} asks for {tuple(shape)}: the last two axes "
            "are swapped. Keras kernels are (fan_in, fan_out) (convolutions: (*spatial, in, out)); "
            "PyTorch stores the transpose, (out, in)."
        )
    raise _Stop(f"your array has shape {array.shape}, but {call_text} asks for {tuple(shape)}.")


# --------------------------------------------------------------------------------------
# Chapter 2: the unit spread
# --------------------------------------------------------------------------------------


def _spread_cases() -> dict:
    rng = np.random.default_rng(2002)
    column = rng.normal(size=(16, 1))
    row = rng.normal(size=(1, 32))
    return {
        "a random (16, 32) kernel": rng.normal(0.0, 0.1, (16, 32)),
        "a kernel whose 32 columns are equal (identical units)": np.repeat(column, 32, axis=1),
        "a kernel whose 16 rows are equal (all units differ)": np.repeat(row, 16, axis=0),
        "a constant kernel": np.full((16, 32), 0.1),
        "a (64, 8) kernel": rng.uniform(-1.0, 1.0, (64, 8)),
    }


@_checker("unit_spread")
def check_unit_spread(fn):
    """Check ``fn(kernel) -> float``, the unit spread of a Dense kernel ``(in, out)`` (chapter 2).

    The definition is :func:`initcourse.kerastools.inspection.unit_spread`: the largest
    difference between two units' corresponding incoming weights,
    ``max |W[k, i] - W[k, j]|``, with units as columns (Keras' layout).
    ``fn`` is called on five fixed kernels, among them one whose columns are
    equal (spread 0) and one whose rows are equal (spread > 0), which tells rows
    and columns apart. Comparison: relative tolerance 1e-6 (exact maths).

    Returns
    -------
    CheckResult
    """
    cases = _spread_cases()
    _check_signature(fn, (np.zeros((2, 2)),), {}, "f(kernel)")
    got, expected = {}, {}
    for label, kernel in cases.items():
        given = kernel.copy()
        call_text = f"f({label})"
        value = _call(fn, (given,), {}, call_text)
        if not np.array_equal(given, kernel):
            raise _Stop(
                f"your function changed the kernel it was given ({label}). Compute the spread without "
                "modifying the input (np.ptp, np.max and np.min return new values)."
            )
        array = _as_float_array(value, call_text)
        if array.size != 1:
            raise _Stop(
                f"your function returned an array of shape {array.shape} for {label}; return one number, "
                "the largest difference over all positions and pairs of units (take the max)."
            )
        got[label], expected[label] = float(array.reshape(())), unit_spread(kernel)
        _check_finite(np.asarray(got[label]), call_text)

    def matches(values: dict) -> bool:
        return all(np.isclose(got[k], values[k], rtol=1e-6, atol=1e-12) for k in cases)

    evidence = {"yours": [got[k] for k in cases], "inspection.unit_spread": [expected[k] for k in cases]}
    if matches(expected):
        return (
            "your unit spread equals inspection.unit_spread on all five kernels, 0 exactly for identical units "
            "and positive when only the rows repeat.",
            evidence,
        )
    mistakes = (
        ({k: float(np.max(np.ptp(w, axis=0))) for k, w in cases.items()},
         "you compared the rows. In Keras' (fan_in, fan_out) layout a unit's incoming weights are a column: "
         "compare the entries of each row across the columns, then take the largest difference."),
        ({k: float(np.ptp(w)) for k, w in cases.items()},
         "you took the range of all entries of the kernel. The spread compares corresponding weights of "
         "different units: the range across each row (np.ptp(kernel, axis=1)), then the largest. A kernel whose "
         "columns are all equal must give exactly 0."),
        ({k: float(np.max(np.std(w, axis=1))) for k, w in cases.items()},
         "you computed a standard deviation across units; the spread is the largest difference, max - min."),
        ({k: float(np.max(np.abs(w[:, 0] - w[:, 1]))) for k, w in cases.items()},
         "you compared only the first two units; the spread is over every pair of units."),
    )
    for values, message in mistakes:
        if matches(values):
            raise _Stop(message, **evidence)
    label = next(k for k in cases if not np.isclose(got[k], expected[k], rtol=1e-6, atol=1e-12))
    raise _Stop(
        f"for {label} your function gives {got[label]:.4g}, the definition {expected[label]:.4g}. The unit spread "
        "is max over rows k and columns i, j of |W[k, i] - W[k, j]|.",
        **evidence,
    )


# --------------------------------------------------------------------------------------
# Chapters 3-5: variance-scaling initializers
# --------------------------------------------------------------------------------------

_TNS = initializers.TRUNCATED_NORMAL_STD


def _fan_choices(shape) -> dict:
    """Fans a reader might have used, by name."""
    fan_in, fan_out = compute_fans(shape)
    return {
        "fan_in": fan_in,
        "fan_out": fan_out,
        "fan_avg": (fan_in + fan_out) / 2.0,
        "shape[0]": shape[0],
        "shape[-2]": shape[-2],
        "shape[-1]": shape[-1],
        "size": math.prod(shape),
    }


_FAN_MESSAGES = {
    "fan_in": ("fan_in", "fan_in is the number of inputs per unit: shape[-2] times the receptive field."),
    "fan_out": ("fan_out", "Keras kernels are (fan_in, fan_out): fan_in is shape[-2] times the receptive field "
                "(fans.compute_fans), shape[-1] is fan_out. Did you swap them, or read the shape in PyTorch's "
                "(out, in) order?"),
    "fan_avg": ("(fan_in + fan_out) / 2, Glorot's fan", ""),
    "shape[0]": ("shape[0]", "For a convolution kernel (kh, kw, in, out) the fan-in is kh * kw * in, not kh: use "
                 "fans.compute_fans(shape)."),
    "shape[-2]": ("shape[-2] without the receptive field", "For a convolution kernel (kh, kw, in, out) the fan-in "
                  "is kh * kw * in, not in: use fans.compute_fans(shape)."),
    "shape[-1]": ("shape[-1], the number of units", "Keras kernels are (fan_in, fan_out), convolutions "
                  "(kh, kw, in, out): the fan-in is kh * kw * in (fans.compute_fans); the last axis counts the "
                  "units. Did you read the shape in PyTorch's (out, in) order?"),
    "size": ("the number of weights", "Divide by the fan, not by the size of the kernel."),
}


def _distribution_of(z_max: float) -> str:
    """Classify pooled standardized draws by their largest |z| (n >= 18 000)."""
    if z_max < 2.0:  # a uniform stops at sqrt(3) = 1.73 std
        return "uniform"
    if z_max < 2.6:  # a normal cut at 2 stddev stops at 2 / 0.8796 = 2.27 std
        return "truncated_normal"
    if z_max > 3.2:  # an untruncated normal exceeds 3.2 std about 25 times in 18 000 draws
        return "normal"
    return "other"


_DISTRIBUTION_WORDS = {
    "uniform": "a uniform (largest |w| is sqrt(3) = 1.73 std)",
    "truncated_normal": "a normal cut at 2 stddev (largest |w| is 2.27 std)",
    "normal": "an untruncated normal (draws beyond 3.2 std)",
    "other": "neither a uniform nor a normal",
}


def _distribution_message(name: str, expected: str, observed: str, z_max: float) -> str:
    got = f"Your draws look like {_DISTRIBUTION_WORDS[observed]}: the largest is {z_max:.2f} std."
    if expected == "uniform":
        return f"{got} {name} draws from a uniform on [-a, a], with a = sqrt(3 var)."
    if expected == "truncated_normal":
        return (
            f"{got} Keras' {name} is a truncated normal: draw from a normal of stddev sqrt(var) / {_TNS:.8f}, "
            "redraw every value beyond 2 stddev (initializers.TRUNCATED_NORMAL_STD is the divisor)."
        )
    return f"{got} {name} draws from a normal without truncation."


def _constant_choices(expected: str, observed: str, scale: float, mode: str) -> list:
    """(factor on the std, why) for the usual slips; the first entries are the likeliest."""
    if scale == 2.0 and mode == "fan_in":
        gain = "the factor 2 of He's variance 2 / fan_in"
    elif scale == 1.0 and mode == "fan_avg":
        gain = "the 2 of Glorot's 2 / (fan_in + fan_out)"
    else:
        gain = "a factor 2 in the variance"
    choices = [
        (1.0, ""),
        (1 / math.sqrt(2), f"the variance is half the target: {gain} is missing."),
        (math.sqrt(2), "the variance is twice the target: an extra factor 2 in the variance (sqrt(2) on the std)."),
    ]
    if observed == "uniform":
        choices += [
            (1 / math.sqrt(3), "your bound is sqrt(3) too small: a uniform on [-a, a] has variance a**2 / 3, so the "
                               "bound for variance var is a = sqrt(3 var), not sqrt(var)."),
            (math.sqrt(3), "your bound is sqrt(3) too large: a uniform on [-a, a] has variance a**2 / 3, so "
                           "a = sqrt(3 var)."),
        ]
    else:
        choices += [
            (math.sqrt(3), "your std is the uniform bound sqrt(3 var): a normal's std is sqrt(var); the factor "
                           "sqrt(3) belongs to the uniform's bound only."),
            (1 / math.sqrt(3), "your std is sqrt(var / 3): the division by 3 belongs to a uniform's variance "
                               "a**2 / 3, not to a normal."),
        ]
    if observed == "truncated_normal":
        choices += [
            (_TNS, f"you cut the normal at 2 stddev without the correction: truncation removes the tails, and the "
                   f"weights' std falls to {_TNS:.4f} of the stddev you drew with. Divide the stddev by "
                   f"{_TNS:.8f} (initializers.TRUNCATED_NORMAL_STD) before truncating."),
            (_TNS**2, f"you multiplied the stddev by {_TNS:.4f} instead of dividing by it: the truncation already "
                      "shrinks the std by that factor, the correction must undo it."),
        ]
    if observed == "normal":
        choices += [
            (1 / _TNS, f"your std is the truncated normal's stddev parameter, sqrt(var) / {_TNS:.4f}, but you did "
                       "not truncate: that divisor is only right for a normal cut at 2 stddev."),
        ]
    return choices


def _variance_scaling_body(fn, name: str, params: dict, label: str):
    described = {shape: initializers.describe(name, shape, **params) for shape in SHAPES}
    if any(d["distribution"] not in ("normal", "truncated_normal", "uniform") for d in described.values()):
        raise ValueError(f"check_initializer handles variance-scaling initializers; {name!r} is not one")
    _check_signature(fn, (SHAPES[0],), {"seed": 0}, "f(shape, seed=None)")
    draws = {}
    for k, shape in enumerate(SHAPES):
        call_text = f"f({shape}, seed={100 + k})"
        array = _as_float_array(_call(fn, (shape,), {"seed": 100 + k}, call_text), call_text)
        _check_shape(array, shape, call_text)
        _check_finite(array, call_text)
        if array.dtype.kind != "f":
            raise _Stop(f"your array has dtype {array.dtype}; weights are floats (e.g. float32).")
        draws[shape] = array.astype(np.float64).ravel()

    targets = np.array([described[s]["std"] for s in SHAPES])
    means = np.array([w.mean() for w in draws.values()])
    stds = np.array([w.std() for w in draws.values()])
    if np.any(stds == 0):
        raise _Stop("every weight your function draws is the same value: the units of a layer would be identical "
                    "(chapter 2). Draw random values.")
    sizes = np.array([w.size for w in draws.values()])
    kurtosis = np.array([np.mean(((w - m) / s) ** 4) for w, m, s in zip(draws.values(), means, stds)])
    tolerance = Z * np.sqrt((np.maximum(kurtosis, 1.0) - 1.0) / (4.0 * sizes)) + 1e-6
    pooled = np.concatenate([(w - m) / s for w, m, s in zip(draws.values(), means, stds)])
    z_max = float(np.abs(pooled).max())
    observed = _distribution_of(z_max)
    expected = described[SHAPES[0]]["distribution"]
    ratios = stds / targets
    evidence = {"shapes": list(SHAPES), "std / target": ratios, "largest |w - mean| / std": z_max}

    mean_z = np.abs(means) / (stds / np.sqrt(sizes))
    if np.any(mean_z > Z):
        k = int(np.argmax(mean_z))
        raise _Stop(
            f"your weights have mean {means[k]:.3g} on the {SHAPES[k]} kernel ({mean_z[k]:.0f} standard errors "
            "from 0); they must be centred on 0: draw from [-a, a], or from a normal of mean 0.",
            means=means, **evidence,
        )

    def fits(predicted_ratio) -> bool:
        return bool(np.all(np.abs(ratios / np.asarray(predicted_ratio) - 1.0) <= tolerance))

    if fits(1.0):
        if observed != expected:
            raise _Stop(
                "your standard deviation is right on every shape. " + _distribution_message(label, expected, observed, z_max),
                **evidence,
            )
        _check_seeds(fn, SHAPES[0])
        return (
            f"the std matches {label}'s on a {SHAPES[0]}, a {SHAPES[1]} and a {SHAPES[2]} kernel "
            f"(within {100 * tolerance.max():.1f} %, {Z:g} standard errors), the mean is 0, the draws are "
            f"{_DISTRIBUTION_WORDS[observed]}, and the seed makes them reproducible.",
            evidence,
        )

    ratio_text = (f"{ratios[0]:.3g}× the target on {SHAPES[0]}, "
                  + ", ".join(f"{r:.3g}× on {s}" for r, s in zip(ratios[1:-1], SHAPES[1:-1]))
                  + f" and {ratios[-1]:.3g}× on {SHAPES[-1]}")
    distribution_note = "" if observed == expected else " " + _distribution_message(label, expected, observed, z_max)
    mode, scale = _mode_and_scale(described)
    target_fan = np.array([_fan_choices(s)[mode] for s in SHAPES])

    if np.all(np.abs(stds / stds.mean() - 1.0) <= tolerance) and np.ptp(targets) > 0.1 * targets.mean():
        raise _Stop(
            f"your std is {stds.mean():.3g} on every shape ({ratio_text}): it does not depend on the "
            "layer's size, which is the problem of a fixed stddev (chapter 3). Divide the variance by the fan."
            + distribution_note,
            **evidence,
        )
    for factor, why in _constant_choices(expected, observed, scale, mode):
        for fan_name in ("fan_in", "fan_out", "fan_avg", "shape[0]", "shape[-2]", "shape[-1]", "size"):
            other = np.array([_fan_choices(s)[fan_name] for s in SHAPES])
            if (fan_name == mode and factor == 1.0) or (fan_name != mode and np.allclose(other, target_fan)):
                continue  # the correct answer, or a fan that equals the right one on every shape
            if fits(factor * np.sqrt(target_fan / other)):
                parts = [f"your std is {ratio_text}."]
                if fan_name != mode:
                    used, advice = _FAN_MESSAGES[fan_name]
                    parts.append(f"The ratio changes with the shape: your variance follows {used}, where {label} "
                                 f"uses {mode}. {advice}".rstrip())
                if why:
                    parts.append(why[0].upper() + why[1:])
                raise _Stop(" ".join(parts) + distribution_note, **evidence)
    # the variance, not its square root, where the std (or the uniform's bound) goes
    if expected == "uniform" and observed == "uniform":
        unrooted = np.array([described[s]["limit"] ** 2 / math.sqrt(3) for s in SHAPES])
    else:
        unrooted = targets**2
    if fits(unrooted / targets):
        slip = ("your bound is 3 var, not sqrt(3 var): the square root is missing." if expected == "uniform" else
                "it equals the variance scale / fan, not its square root. You used the variance where the "
                "standard deviation goes (NumPy's normal takes the std).")
        raise _Stop(
            f"your std is {ratio_text}: {slip}" + distribution_note,
            **evidence,
        )
    raise _Stop(
        f"your std is {ratio_text}, the target being sqrt({scale:g} / {mode}) ({label}). Compute the fans with "
        "fans.compute_fans(shape)." + distribution_note,
        **evidence,
    )


def _mode_and_scale(described: dict) -> tuple[str, float]:
    """The fan (``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``) and scale of a described scheme:
    the fan for which ``variance * fan`` is the same on every shape, and that product."""
    for mode in ("fan_in", "fan_out", "fan_avg"):
        products = [d["variance"] * _fan_choices(shape)[mode] for shape, d in described.items()]
        if np.allclose(products, products[0], rtol=1e-9):
            return mode, float(products[0])
    raise ValueError("the initializer's variance is not scale / fan")  # not reached for variance scaling


def _check_seeds(fn, shape) -> None:
    first = np.asarray(_call(fn, (shape,), {"seed": 7}, f"f({shape}, seed=7)"))
    again = np.asarray(_call(fn, (shape,), {"seed": 7}, f"f({shape}, seed=7)"))
    other = np.asarray(_call(fn, (shape,), {"seed": 8}, f"f({shape}, seed=8)"))
    if not np.array_equal(first, again):
        raise _Stop(
            "the statistics are right, but two calls with seed=7 gave different arrays: draw with "
            "rng = np.random.default_rng(seed) so that a seed always gives the same weights."
        )
    if np.array_equal(first, other):
        raise _Stop(
            "the statistics are right, but seed=7 and seed=8 gave the same array: the seed is ignored. "
            "Draw with rng = np.random.default_rng(seed)."
        )


def check_initializer(fn, name: str, **params) -> CheckResult:
    """Check ``fn(shape, seed=None)`` against the built-in variance-scaling initializer ``name``.

    Parameters
    ----------
    fn : callable
        Your initializer, ``fn(shape, seed=None) -> numpy.ndarray`` with Keras'
        layout ((in, out), or (*spatial, in, out)).
    name : str
        A variance-scaling scheme of :mod:`initcourse.maths.initializers`:
        ``"glorot_normal"``, ``"glorot_uniform"``, ``"he_normal"``, ``"he_uniform"``,
        ``"lecun_normal"``, ``"lecun_uniform"`` or ``"variance_scaling"``.
    **params
        Parameters of ``name`` (``scale``, ``mode``, ``distribution``).

    Returns
    -------
    CheckResult
        Passed when, on a (400, 100), a (100, 400) and a (3, 3, 32, 64) kernel, the
        sample mean is within 6 standard errors of 0, each sample std within 6
        standard errors (2-3 %) of :func:`~initcourse.maths.initializers.describe`'s, the
        pooled draws have the right distribution (uniform, normal cut at 2 stddev,
        or normal, told apart by their largest value in std units: below 2.0,
        2.0-2.6, above 3.2), a seed gives the same array twice and two seeds
        different ones. Otherwise the message names the mistake when it is one of
        the usual ones (wrong fan, missing gain, variance for std, uniform bound
        off by sqrt(3), truncation without correction, a std that ignores the shape).

    Raises
    ------
    ValueError
        If ``name`` is not a variance-scaling initializer (this is the course's
        mistake, not yours).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be the name of an initializer, got {name!r}")
    initializers.describe(name, SHAPES[0], **params)  # raises for an unknown name or bad parameters
    label = name if not params else f"{name}({', '.join(f'{k}={v!r}' for k, v in params.items())})"
    return _check_variance_scaling(fn, name, params, label)


def _check_variance_scaling(fn, name: str, params: dict, label: str) -> CheckResult:
    @_checker(label)
    def body(fn):
        return _variance_scaling_body(fn, name, params, label)

    return body(fn)


def check_relu_normal(fn) -> CheckResult:
    """Check ``fn(shape, seed=None)``: an *untruncated* normal of variance ``2 / fan_in`` (chapter 3).

    The variance a ReLU layer needs, drawn from a plain normal (Keras'
    ``VarianceScaling(2.0, "fan_in", "untruncated_normal")``); see
    :func:`check_initializer` for what is measured.
    """
    params = dict(scale=2.0, mode="fan_in", distribution="untruncated_normal")
    return _check_variance_scaling(fn, "variance_scaling", params, "relu_normal")


def check_glorot_uniform(fn) -> CheckResult:
    """Check ``fn(shape, seed=None)`` against Keras' ``glorot_uniform`` (chapter 4).

    Uniform on ``[-a, a]`` with ``a = sqrt(6 / (fan_in + fan_out))``; see
    :func:`check_initializer` for what is measured.
    """
    return check_initializer(fn, "glorot_uniform")


def check_he_normal(fn) -> CheckResult:
    """Check ``fn(shape, seed=None)`` against Keras' ``he_normal`` (chapter 5).

    A normal of stddev ``sqrt(2 / fan_in) / 0.8796...`` cut at 2 stddev, so that
    the weights' variance is ``2 / fan_in``; see :func:`check_initializer`.
    """
    return check_initializer(fn, "he_normal")


# --------------------------------------------------------------------------------------
# Chapter 6: random orthogonal matrices
# --------------------------------------------------------------------------------------

ORTHOGONAL_SHAPES = ((16, 16), (64, 16), (16, 64), (3, 3, 8, 16))
"""Shapes on which :func:`check_orthogonal` tests orthogonality: square, tall, wide, convolution."""

HAAR_DRAWS = 4000
"""Matrices per shape in :func:`check_orthogonal`'s distribution test."""


def _flat(array: np.ndarray) -> np.ndarray:
    return array.reshape(-1, array.shape[-1])


def _orthogonality_error(matrix: np.ndarray, scale: float = 1.0) -> float:
    rows, cols = matrix.shape
    gram = matrix.T @ matrix if rows >= cols else matrix @ matrix.T
    return float(np.max(np.abs(gram - scale * np.eye(gram.shape[0]))))


@_checker("orthogonal")
def check_orthogonal(fn):
    """Check ``fn(shape, seed=None)``: a Haar-random orthogonal kernel, as Keras' ``orthogonal`` (chapter 6).

    Two tests. *Each matrix*: on a square, a tall, a wide and a convolution
    shape, the kernel viewed as ``(prod(shape[:-1]), shape[-1])`` must have
    orthonormal columns (tall) or rows (wide) to 1e-4 (float32 rounding).
    *The distribution*: over 4000 seeds each for shapes (3, 3), (5, 3) and
    (3, 5), every entry's mean must be within 5.5 standard errors of 0
    (``sqrt(1 / (max(shape) * 4000))``) and, for the square one, the fraction of
    determinants +1 within 5.5 standard errors of 1/2, as for the uniform (Haar)
    distribution. QR without the sign correction fails it (its corner entry is
    never positive).

    Returns
    -------
    CheckResult
    """
    _check_signature(fn, ((3, 3),), {"seed": 0}, "f(shape, seed=None)")
    for k, shape in enumerate(ORTHOGONAL_SHAPES):
        call_text = f"f({shape}, seed={200 + k})"
        array = _as_float_array(_call(fn, (shape,), {"seed": 200 + k}, call_text), call_text)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        if rows < cols and array.shape == (rows, rows):
            raise _Stop(
                f"your array has shape {array.shape}, but {call_text} asks for {shape}: the QR of a wide matrix "
                f"gives a square Q. Take the QR of a tall ({cols}, {rows}) Gaussian matrix and transpose its Q "
                "(orthonormal rows)."
            )
        _check_shape(array, shape, call_text)
        _check_finite(array, call_text)
        matrix = _flat(array.astype(np.float64))
        error = _orthogonality_error(matrix)
        if error <= 1e-4:
            continue
        rows, cols = matrix.shape
        gram = matrix.T @ matrix if rows >= cols else matrix @ matrix.T
        c = float(np.mean(np.diag(gram)))
        which = "columns" if rows >= cols else "rows"
        if c > 0 and _orthogonality_error(matrix, c) <= 1e-4 * max(c, 1.0):
            raise _Stop(
                f"on {shape} your {which} are orthogonal but have norm {math.sqrt(c):.4g}, not 1. Keras' orthogonal "
                "has gain 1: do not rescale Q (a variance-scaling factor does not belong here).",
                orthogonality_error=error,
            )
        if len(shape) > 2 and _orthogonality_error(array.reshape(shape[0], -1).astype(np.float64)) <= 1e-4:
            raise _Stop(
                f"on {shape} your kernel is orthogonal as a ({shape[0]}, {math.prod(shape[1:])}) matrix, i.e. "
                f"flattened as (first axis, the rest). Keras orthogonalizes the (fan_in, fan_out) view, "
                f"({math.prod(shape[:-1])}, {shape[-1]}): build Q for that shape and reshape it.",
                orthogonality_error=error,
            )
        hint = ""
        if rows != cols:
            hint = (f" For a {'tall' if rows > cols else 'wide'} matrix take the QR of a "
                    f"({max(rows, cols)}, {min(rows, cols)}) Gaussian matrix"
                    + (" and transpose Q." if rows < cols else "."))
        raise _Stop(
            f"on {shape} the {which} of your matrix are not orthonormal: the largest entry of "
            f"{'W.T @ W' if rows >= cols else 'W @ W.T'} - I is {error:.3g}. Use Q of np.linalg.qr of a Gaussian "
            f"matrix.{hint}",
            orthogonality_error=error,
        )

    evidence = {}  # the orthogonality error is rounding-level (1e-16 to 1e-7), different on every machine
    for shape in ((3, 3), (5, 3), (3, 5)):
        samples = []
        for seed in range(HAAR_DRAWS):
            call_text = f"f({shape}, seed={seed})"
            array = _as_float_array(_call(fn, (shape,), {"seed": seed}, call_text), call_text)
            _check_shape(array, shape, call_text)
            _check_finite(array, call_text)
            samples.append(array.astype(np.float64))
        samples = np.stack(samples)
        errors = [_orthogonality_error(matrix) for matrix in samples]
        if max(errors) > 1e-4:
            seed = int(np.argmax(errors))
            raise _Stop(f"f({shape}, seed={seed}) is not orthogonal (largest error {max(errors):.3g}).")
        means = samples.mean(axis=0)
        se = math.sqrt(1.0 / (max(shape) * HAAR_DRAWS))
        corner_positive = float(np.mean(samples[:, 0, 0] > 0))
        evidence.update({f"{shape}: largest |mean entry|": float(np.abs(means).max()),
                         f"{shape}: fraction Q[0, 0] > 0": corner_positive})
        bad_mean = np.abs(means) > 5.5 * se
        determinant_off = False
        if shape[0] == shape[1]:
            positive = float(np.mean(np.linalg.det(samples) > 0))
            evidence[f"{shape}: fraction det = +1"] = positive
            determinant_off = abs(positive - 0.5) > 5.5 * math.sqrt(0.25 / HAAR_DRAWS)
        if bad_mean.any() or determinant_off:
            i, j = np.unravel_index(int(np.argmax(np.abs(means))), means.shape)
            if corner_positive in (0.0, 1.0):
                message = (
                    f"your matrices are orthogonal, but over {HAAR_DRAWS} draws of shape {shape} the corner entry "
                    f"Q[0, 0] is {'never' if corner_positive == 0.0 else 'always'} positive (uniformly random: half "
                    "the time). The signs are not corrected, so the distribution is not Haar: multiply each column "
                    "j of Q by sign(R[j, j]), Q * np.sign(np.diag(R)) (Mezzadri 2007)."
                )
            else:
                message = (
                    f"your matrices are orthogonal, but over {HAAR_DRAWS} draws of shape {shape} the entry "
                    f"Q[{i}, {j}] has mean {means[i, j]:.3f} (uniformly random: 0, give or take {se:.3f})"
                    + (", and the determinant is not +1 half of the time" if determinant_off else "")
                    + ": the distribution is not Haar. Multiply the columns of Q (not its rows) by sign(diag(R))."
                )
            raise _Stop(message, **evidence)
    _check_seeds(fn, (16, 16))
    return (
        f"every kernel is orthogonal (to 1e-4) in Keras' (fan_in, fan_out) view, tall, wide and convolution "
        f"shapes included, and over {HAAR_DRAWS} draws per shape the entries are centred and the determinant "
        "is +1 half of the time, as for the Haar distribution.",
        evidence,
    )


# --------------------------------------------------------------------------------------
# Chapter 7: one LSUV step
# --------------------------------------------------------------------------------------


def _lsuv_cases() -> list:
    rng = np.random.default_rng(7007)
    relu_like = np.maximum(rng.normal(0.0, 1.0, (300, 16)), 0.0) + 0.5
    return [
        # (kernel, x, target_var): a ReLU-like input (positive mean, so the units' means differ), an
        # unscaled centred input of variance 9, a wide kernel
        (rng.normal(0.0, 0.3, (16, 8)), relu_like, 2.0),
        (rng.normal(0.0, 0.05, (32, 16)), rng.normal(0.0, 3.0, (256, 32)), 1.0),
        (rng.uniform(-1.0, 1.0, (8, 24)), rng.normal(1.0, 0.5, (128, 8)), 0.5),
    ]


def _output_variance(kernel, x) -> float:
    """LSUV's measured quantity: the variance over all entries of the layer's output (zero bias)."""
    return float(np.var(x @ kernel))


@_checker("lsuv_step")
def check_lsuv_step(fn):
    """Check ``fn(kernel, x, target_var=1.0)``: one LSUV rescaling of a Dense kernel (chapter 7).

    The answer must be the kernel multiplied by one positive number such that
    the variance over *all* entries of ``x @ new_kernel`` (zero bias, before the
    activation: what :func:`initcourse.kerastools.lsuv.lsuv` normalizes) is ``target_var``,
    to a relative 1e-4, on three fixed cases (an input of variance 9, a
    ReLU-like input with a positive mean, targets 1, 2 and 0.5), without
    changing ``kernel`` or ``x``.

    Returns
    -------
    CheckResult
    """
    _check_signature(fn, (np.eye(2), np.eye(2)), {"target_var": 1.0}, "f(kernel, x, target_var=1.0)")
    rows = []
    for number, (kernel, x, target) in enumerate(_lsuv_cases(), start=1):
        kernel_in, x_in = kernel.copy(), x.copy()
        call_text = f"f(kernel of shape {kernel.shape}, x of shape {x.shape}, target_var={target:g}) (case {number})"
        value = _call(fn, (kernel_in, x_in), {"target_var": target}, call_text)
        changed = [name for name, given, original in (("kernel", kernel_in, kernel), ("x", x_in, x))
                   if not np.array_equal(given, original)]
        if changed:
            raise _Stop(
                f"your function changed its input {' and '.join(changed)} in place (in {call_text}). Return a new "
                "array, kernel * scale, and leave the arguments as they were: the caller may still need them."
            )
        new = _as_float_array(value, call_text)
        _check_shape(new, kernel.shape, call_text)
        _check_finite(new, call_text)
        new = new.astype(np.float64)
        v_before = _output_variance(kernel, x)
        v_after = _output_variance(new, x)
        c = float(np.sum(new * kernel) / np.sum(kernel * kernel))
        proportional = np.max(np.abs(new - c * kernel)) <= 1e-5 * np.max(np.abs(c * kernel)) + 1e-12
        evidence = {"case": number, "target_var": target, "variance before": v_before, "variance after": v_after}
        if not proportional:
            per_unit = np.var(x @ new, axis=0)
            if np.allclose(per_unit, target, rtol=1e-3):
                raise _Stop(
                    "every unit of your output has the target variance: you rescaled each column separately. LSUV "
                    "multiplies the whole kernel by one number, which keeps the orthonormal directions; measure the "
                    "variance over all entries of x @ kernel.", **evidence,
                )
            raise _Stop(
                "your kernel is not a multiple of the one given: LSUV only rescales the kernel, by one number "
                "(new = kernel * scale).", **evidence,
            )
        if c <= 0:
            raise _Stop(f"you multiplied the kernel by {c:.3g}; the scale must be positive.", **evidence)
        rows.append(evidence)
        if abs(v_after / target - 1.0) <= 1e-4:
            continue
        right = math.sqrt(target / v_before)
        per_unit_var = float(np.mean(np.var(x @ kernel, axis=0)))
        input_var = float(np.var(x))
        slips = (
            (1 / math.sqrt(v_before), "you ignored target_var: you divided by sqrt(var), which gives variance 1; "
                                      "multiply by sqrt(target_var / var)."),
            (1 / v_before, "you divided the kernel by the variance; divide by its square root (the standard "
                           "deviation): the output's variance scales with the square of the kernel's scale."),
            (target / v_before, "you multiplied by target_var / var; the variance scales with the square of the "
                                "kernel's scale, so the factor is sqrt(target_var / var)."),
            (math.sqrt(v_before / target), "your factor is upside down: sqrt(var / target_var) instead of "
                                           "sqrt(target_var / var)."),
            (target / math.sqrt(v_before), "you multiplied by target_var instead of sqrt(target_var)."),
            (math.sqrt(target / input_var), "you measured the variance of the layer's input x; LSUV measures the "
                                            "layer's output, x @ kernel."),
            (1 / math.sqrt(input_var), "you measured the variance of the layer's input x; LSUV measures the "
                                       "layer's output, x @ kernel."),
            (math.sqrt(target / per_unit_var), "you averaged the variances of the units; LSUV takes the variance "
                                               "over all entries of x @ kernel (np.var(x @ kernel)), which also "
                                               "counts the differences between the units' means."),
        )
        for factor, message in slips:
            if abs(c / factor - 1.0) <= 1e-3 and abs(factor / right - 1.0) > 1e-3:
                raise _Stop(message, **{"your scale": c, "right scale": right}, **evidence)
        raise _Stop(
            f"after your step the output variance is {v_after:.4g}, the target {target:g}. The scale should be "
            f"sqrt(target_var / var) with var = np.var(x @ kernel); yours is {c:.4g}, that one {right:.4g}.",
            **{"your scale": c, "right scale": right}, **evidence,
        )
    return (
        "on all three cases the new kernel is the old one times one positive number and the output variance "
        "np.var(x @ new_kernel) equals target_var; the arguments are left unchanged.",
        {key: [row[key] for row in rows] for key in ("variance before", "variance after", "target_var")},
    )
