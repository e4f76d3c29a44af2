"""Tests of initcourse.course.exercises: right answers pass, each diagnosed mistake fails with its name."""

import math

import numpy as np
import pytest

from initcourse import exercises, initializers
from initcourse.course.exercises import CheckResult
from initcourse.maths.fans import compute_fans
from initcourse.kerastools.inspection import unit_spread

TNS = initializers.TRUNCATED_NORMAL_STD


# ----------------------------------------------------------------------------- readers' answers


def _truncated(rng, shape):
    z = rng.standard_normal(shape)
    while (np.abs(z) > 2).any():
        z[np.abs(z) > 2] = rng.standard_normal(int((np.abs(z) > 2).sum()))
    return z


def draw(distribution, std, corrected=True):
    """A reader's initializer: ``std(shape)`` is the std they aim at, drawn from ``distribution``."""

    def initializer(shape, seed=None):
        rng = np.random.default_rng(seed)
        s = std(shape)
        if distribution == "normal":
            return rng.normal(0.0, s, shape)
        if distribution == "uniform":
            return rng.uniform(-s * math.sqrt(3), s * math.sqrt(3), shape)
        return (s / TNS if corrected else s) * _truncated(rng, shape)

    return initializer


def fan_in(shape):
    return compute_fans(shape)[0]


def fan_out(shape):
    return compute_fans(shape)[1]


def fan_avg(shape):
    return sum(compute_fans(shape)) / 2


def not_implemented(*args, **kwargs):
    raise NotImplementedError


def assert_fails(result, *phrases):
    assert isinstance(result, CheckResult)
    assert result.passed is False and not result
    for phrase in phrases:
        assert phrase.lower() in result.message.lower(), (phrase, result.message)
    assert "not yet" in str(result)


def assert_passes(result):
    assert isinstance(result, CheckResult)
    assert result.passed is True and result, result.message
    assert str(result).startswith("✓") and repr(result) == str(result)


# ----------------------------------------------------------------------------- the result object


def test_result_prints_wrapped_lines_with_evidence():
    result = CheckResult("demo", False, "a " * 200, {"ratio": [0.70710678, 2.0], "shape": (3, 4)})
    text = str(result)
    assert text.startswith("✗ demo: not yet.")
    assert all(len(line) <= 76 for line in text.splitlines())
    assert "0.707" in text and "(3, 4)" in text


# ----------------------------------------------------------------------------- chapter 2


def test_unit_spread_right_answers_pass():
    assert_passes(exercises.check_unit_spread(unit_spread))
    assert_passes(exercises.check_unit_spread(lambda w: float(np.max(w.max(axis=1) - w.min(axis=1)))))


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda w: float(np.max(np.ptp(w, axis=0))), "compared the rows"),
        (lambda w: float(np.ptp(w)), "range of all entries"),
        (lambda w: float(np.max(np.std(w, axis=1))), "standard deviation"),
        (lambda w: float(np.max(np.abs(w[:, 0] - w[:, 1]))), "first two units"),
        (lambda w: np.ptp(w, axis=1), "return one number"),
        (lambda w: float(np.max(np.ptp(w.__isub__(w.mean()), axis=1))), "changed the kernel"),
        (lambda w: 1.0, "the definition"),
        (lambda w: float("nan"), "non-finite"),
    ],
)
def test_unit_spread_mistakes_are_named(answer, phrase):
    assert_fails(exercises.check_unit_spread(answer), phrase)


# ----------------------------------------------------------------------------- chapters 3-5


def test_course_initializers_pass_their_own_checks():
    assert_passes(exercises.check_he_normal(initializers.he_normal))
    assert_passes(exercises.check_glorot_uniform(initializers.glorot_uniform))
    assert_passes(exercises.check_initializer(initializers.lecun_uniform, "lecun_uniform"))
    assert_passes(exercises.check_relu_normal(
        lambda shape, seed=None: initializers.variance_scaling(shape, seed=seed, scale=2.0,
                                                               distribution="untruncated_normal")))


@pytest.mark.parametrize("seed_offset", range(5))
def test_right_answers_pass_whatever_their_random_stream(seed_offset):
    # The checker fixes the seeds it passes, but a correct answer must not depend on
    # them: shifted streams give other samples, and all pass (6 standard errors).
    he = draw("truncated", lambda s: math.sqrt(2 / fan_in(s)))
    glorot = draw("uniform", lambda s: math.sqrt(1 / fan_avg(s)))
    relu = draw("normal", lambda s: math.sqrt(2 / fan_in(s)))

    def shifted(fn):
        return lambda shape, seed=None: fn(shape, seed=None if seed is None else seed + 1000 * (seed_offset + 1))

    assert_passes(exercises.check_he_normal(shifted(he)))
    assert_passes(exercises.check_glorot_uniform(shifted(glorot)))
    assert_passes(exercises.check_relu_normal(shifted(relu)))


@pytest.mark.parametrize(
    "answer, phrases",
    [
        (draw("normal", lambda s: math.sqrt(2 / fan_in(s))), ["truncated normal", "0.8796"]),
        (draw("truncated", lambda s: math.sqrt(2 / fan_in(s)), corrected=False), ["without the correction"]),
        (draw("truncated", lambda s: math.sqrt(2 / fan_out(s))), ["follows fan_out", "(fan_in, fan_out)"]),
        (draw("truncated", lambda s: math.sqrt(1 / fan_in(s))), ["half the target", "factor 2"]),
        (draw("truncated", lambda s: math.sqrt(4 / fan_in(s))), ["twice the target"]),
        (draw("truncated", lambda s: 2 / fan_in(s)), ["used the variance where the standard deviation goes"]),
        (draw("truncated", lambda s: math.sqrt(2 / s[0])), ["shape[0]", "kh * kw * in"]),
        (draw("truncated", lambda s: math.sqrt(2 / s[-2])), ["without the receptive field"]),
        (draw("truncated", lambda s: math.sqrt(2 / s[-1])), ["shape[-1], the number of units", "(out, in)"]),
        (draw("truncated", lambda s: 0.05), ["on every shape", "fixed stddev"]),
        (draw("uniform", lambda s: math.sqrt(2 / fan_in(s))), ["uniform", "truncated normal"]),
        (lambda shape, seed=None: (TNS * math.sqrt(2 / fan_in(shape)))
         * _truncated(np.random.default_rng(seed), shape), ["instead of dividing"]),
    ],
)
def test_he_normal_mistakes_are_named(answer, phrases):
    assert_fails(exercises.check_he_normal(answer), *phrases)


@pytest.mark.parametrize(
    "answer, phrases",
    [
        (draw("uniform", lambda s: math.sqrt(1 / fan_avg(s)) / math.sqrt(3)), ["bound is sqrt(3) too small", "a**2 / 3"]),
        (draw("uniform", lambda s: math.sqrt(3 / fan_avg(s))), ["bound is sqrt(3) too large"]),
        (draw("normal", lambda s: math.sqrt(1 / fan_avg(s))), ["uniform on [-a, a]", "untruncated normal"]),
        (draw("normal", lambda s: math.sqrt(3 / fan_avg(s))), ["uniform bound", "uniform on [-a, a]"]),
        (draw("uniform", lambda s: math.sqrt(1 / fan_in(s))), ["follows fan_in", "fan_avg"]),
        (draw("uniform", lambda s: math.sqrt(1 / fan_out(s))), ["follows fan_out"]),
        (draw("uniform", lambda s: math.sqrt(1 / (2 * fan_avg(s)))), ["half the target", "glorot"]),
        (lambda shape, seed=None: np.random.default_rng(seed).uniform(
            -6 / sum(compute_fans(shape)), 6 / sum(compute_fans(shape)), shape), ["square root is missing"]),
        (lambda shape, seed=None: np.random.default_rng(seed).uniform(
            0, math.sqrt(6 / sum(compute_fans(shape))), shape), ["mean", "centred on 0"]),
    ],
)
def test_glorot_uniform_mistakes_are_named(answer, phrases):
    assert_fails(exercises.check_glorot_uniform(answer), *phrases)


@pytest.mark.parametrize(
    "answer, phrases",
    [
        (draw("normal", lambda s: 0.05), ["on every shape"]),
        (draw("normal", lambda s: 2 / fan_in(s)), ["variance where the standard deviation goes"]),
        (draw("normal", lambda s: math.sqrt(2 / fan_out(s))), ["follows fan_out"]),
        (draw("truncated", lambda s: math.sqrt(2 / fan_in(s))), ["without truncation"]),
        (draw("normal", lambda s: math.sqrt(2 / fan_in(s)) / TNS), ["did not truncate"]),
    ],
)
def test_relu_normal_mistakes_are_named(answer, phrases):
    assert_fails(exercises.check_relu_normal(answer), *phrases)


def test_initializer_checks_report_seed_handling():
    bound = lambda shape: math.sqrt(6 / sum(compute_fans(shape)))  # noqa: E731
    global_state = lambda shape, seed=None: np.random.uniform(-bound(shape), bound(shape), shape)  # noqa: E731
    fixed = lambda shape, seed=None: np.random.default_rng(0).uniform(-bound(shape), bound(shape), shape)  # noqa: E731
    assert_fails(exercises.check_glorot_uniform(global_state), "different arrays", "default_rng(seed)")
    assert_fails(exercises.check_glorot_uniform(fixed), "seed is ignored")


@pytest.mark.parametrize(
    "answer, phrases",
    [
        (not_implemented, ["not implemented yet"]),
        (lambda shape, seed=None: 1 / 0, ["ZeroDivisionError", "f((400, 100), seed=100)"]),
        (lambda shape: np.zeros(shape), ["cannot be called as f(shape, seed=None)"]),
        (lambda shape, seed=None: None, ["returned None", "return statement"]),
        (lambda shape, seed=None: "weights", ["of type str"]),
        (lambda shape, seed=None: np.full(shape, np.nan), ["non-finite"]),
        (lambda shape, seed=None: np.zeros(shape), ["same value"]),
        (lambda shape, seed=None: np.ones(shape, dtype=int), ["dtype int"]),
        (lambda shape, seed=None: np.random.default_rng(seed).integers(-3, 4, shape), ["dtype int64", "floats"]),
        (lambda shape, seed=None: np.zeros(shape[::-1]), ["last two axes are swapped", "(fan_in, fan_out)"]),
        (lambda shape, seed=None: np.zeros((2, 2)), ["asks for (400, 100)"]),
        (42, ["expected a function"]),
    ],
)
def test_initializer_checks_handle_bad_functions(answer, phrases):
    assert_fails(exercises.check_he_normal(answer), *phrases)


def test_check_initializer_refuses_a_scheme_it_cannot_check():
    with pytest.raises(ValueError, match="variance-scaling"):
        exercises.check_initializer(initializers.orthogonal, "orthogonal")
    with pytest.raises(ValueError):
        exercises.check_initializer(initializers.he_normal, "no_such_initializer")


# ----------------------------------------------------------------------------- chapter 6


def qr_orthogonal(correct_signs=True, view="keras", gain=1.0):
    def initializer(shape, seed=None):
        rng = np.random.default_rng(seed)
        rows, cols = (math.prod(shape[:-1]), shape[-1]) if view == "keras" else (shape[0], math.prod(shape[1:]))
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        if correct_signs:
            q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return gain * q.reshape(shape)

    return initializer


def test_orthogonal_right_answers_pass():
    assert_passes(exercises.check_orthogonal(qr_orthogonal()))
    assert_passes(exercises.check_orthogonal(initializers.orthogonal))


def test_orthogonal_haar_check_is_not_fooled_by_one_random_stream():
    for offset in (10_000, 20_000):
        fn = qr_orthogonal()
        assert_passes(exercises.check_orthogonal(lambda shape, seed=None, fn=fn, o=offset: fn(shape, seed=seed + o)))


def wide_qr_directly(shape, seed=None):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal(shape))
    return q * np.sign(np.diag(r))


def positive_diagonal_of_q(shape, seed=None):
    rows, cols = math.prod(shape[:-1]), shape[-1]
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(q))
    return (q.T if rows < cols else q).reshape(shape)


@pytest.mark.parametrize(
    "answer, phrases",
    [
        (qr_orthogonal(correct_signs=False), ["signs are not corrected", "not haar", "sign(r[j, j])", "never positive"]),
        (positive_diagonal_of_q, ["not haar", "always positive"]),
        (qr_orthogonal(view="first"), ["(first axis, the rest)", "(72, 16)"]),
        (qr_orthogonal(gain=0.5), ["norm 0.5"]),
        (wide_qr_directly, ["asks for (16, 64)", "transpose"]),
        (lambda shape, seed=None: np.random.default_rng(seed).standard_normal(shape) / math.sqrt(shape[0]),
         ["not orthonormal"]),
        (not_implemented, ["not implemented yet"]),
        (lambda shape: np.eye(shape[0]), ["cannot be called"]),
    ],
)
def test_orthogonal_mistakes_are_named(answer, phrases):
    assert_fails(exercises.check_orthogonal(answer), *phrases)


# ----------------------------------------------------------------------------- chapter 7


def lsuv_right(kernel, x, target_var=1.0):
    return kernel * np.sqrt(target_var / np.var(x @ kernel))


def lsuv_in_place(kernel, x, target_var=1.0):
    kernel *= np.sqrt(target_var / np.var(x @ kernel))
    return kernel


def test_lsuv_step_right_answers_pass():
    assert_passes(exercises.check_lsuv_step(lsuv_right))
    assert_passes(exercises.check_lsuv_step(
        lambda k, x, target_var=1.0: (k * np.sqrt(target_var) / np.std(x @ k)).astype(np.float32)))


@pytest.mark.parametrize(
    "answer, phrases",
    [
        (lambda k, x, target_var=1.0: k / np.std(x @ k), ["ignored target_var"]),
        (lambda k, x, target_var=1.0: k / np.var(x @ k), ["divided the kernel by the variance", "square root"]),
        (lambda k, x, target_var=1.0: k * target_var / np.var(x @ k), ["target_var / var", "sqrt(target_var / var)"]),
        (lambda k, x, target_var=1.0: k * np.sqrt(np.var(x @ k) / target_var), ["upside down"]),
        (lambda k, x, target_var=1.0: k * target_var / np.std(x @ k), ["instead of sqrt(target_var)"]),
        (lambda k, x, target_var=1.0: k * np.sqrt(target_var / np.var(x)), ["input x"]),
        (lambda k, x, target_var=1.0: k * np.sqrt(target_var / np.var(x @ k, axis=0).mean()),
         ["averaged the variances of the units"]),
        (lambda k, x, target_var=1.0: k * np.sqrt(target_var / np.var(x @ k, axis=0)), ["each column separately"]),
        (lambda k, x, target_var=1.0: -lsuv_right(k, x, target_var), ["must be positive"]),
        (lambda k, x, target_var=1.0: k + 0.1, ["not a multiple"]),
        (lsuv_in_place, ["in place"]),
        (lambda k, x, target_var=1.0: k.T, ["last two axes are swapped"]),
        (lambda k, x, target_var=1.0: k * np.nan, ["non-finite"]),
        (lambda k, x, target_var=1.0: None, ["returned None"]),
        (lambda k, x: k, ["cannot be called as f(kernel, x, target_var=1.0)"]),
        (not_implemented, ["not implemented yet"]),
        ("lsuv", ["expected a function"]),
    ],
)
def test_lsuv_step_mistakes_are_named(answer, phrases):
    assert_fails(exercises.check_lsuv_step(answer), *phrases)


def test_a_checker_never_raises_what_the_readers_function_raises():
    class Weird(Exception):
        pass

    def raises_weird(*args, **kwargs):
        raise Weird("from the reader")

    for check in (exercises.check_unit_spread, exercises.check_he_normal, exercises.check_orthogonal,
                  exercises.check_lsuv_step):
        assert_fails(check(raises_weird), "Weird", "from the reader")


def test_checks_are_deterministic():
    answer = draw("truncated", lambda s: math.sqrt(2 / fan_in(s)))
    assert str(exercises.check_he_normal(answer)) == str(exercises.check_he_normal(answer))
