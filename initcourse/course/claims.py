"""Claims as code: the chapters assert what their prose says about results.

A sentence such as "He trains and Glorot stalls, for every seed" is only as good as
the run that produced it. On another CPU, TensorFlow's float rounding differs, and a
training run's numbers move. So the chapters never compare such numbers for exact
equality; they state the claim once more, as code, with a tolerance justified by the
spread measured over seeds, and the claim is checked wherever the chapter runs::

    from initcourse.course.claims import claim_separated
    claim_separated(
        "He's final loss is below Glorot's for every seed",
        lower=he_losses, higher=glorot_losses,
    )

Every function prints one line, "✓ <the claim> [the evidence]", when the claim
holds (so a reader sees what was checked on the run in front of them) and raises :class:`ClaimError` naming the claim and the measured
evidence when it does not, so a test run (nbval re-executes every chapter) fails on
the exact sentence that stopped being true.

The functions:

- :func:`claim` — any condition you computed, with the evidence to show;
- :func:`claim_between` — every value lies in ``[low, high]``;
- :func:`claim_separated` — every value of one group lies below every value of
  another (optionally by a margin): "A beats B for every seed";
- :func:`claim_close` — values agree with a reference within a relative tolerance.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ClaimError", "claim", "claim_between", "claim_separated", "claim_close"]


class ClaimError(AssertionError):
    """A claim made by the prose does not hold for the numbers just measured."""


@dataclass(frozen=True)
class _Checked:
    """A claim that held: its statement and the evidence it was checked on."""

    statement: str
    evidence: dict = field(default_factory=dict)

    def __str__(self) -> str:
        text = f"✓ {self.statement}"
        if self.evidence:
            text += f"  [{_format_evidence(self.evidence)}]"
        return text


def _report(statement: str, evidence: dict) -> None:
    print(_Checked(statement, dict(evidence)))


def _format_value(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return "[" + ", ".join(_format_value(v) for v in array.ravel().tolist()) + "]"
    return str(value)


def _format_evidence(evidence: dict) -> str:
    return ", ".join(f"{key}={_format_value(value)}" for key, value in evidence.items())


def _check_statement(statement) -> str:
    if not isinstance(statement, str) or not statement.strip():
        raise TypeError(f"statement must be a non-empty string (the sentence being checked), got {statement!r}")
    return statement.strip()


def _as_values(values, name: str) -> np.ndarray:
    """Return ``values`` as a non-empty 1-D float array with only finite entries."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {values!r}")
    try:
        array = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {values!r}") from None
    if array.size == 0:
        raise ValueError(f"{name} must hold at least one value, got an empty sequence")
    return array


def _fail(statement: str, why: str, evidence: dict):
    raise ClaimError(f"Claim does not hold: {statement!r}: {why} [{_format_evidence(evidence)}]")


def claim(statement: str, holds, **evidence) -> None:
    """Check a claim whose condition the chapter computed itself.

    Parameters
    ----------
    statement : str
        The sentence of the prose that is being checked.
    holds : bool
        The computed condition (a NumPy boolean is accepted; an array is not:
        say with ``.all()`` or ``.any()`` what is meant).
    **evidence
        The numbers the condition was computed from; shown in the check line
        and in the error.
    """
    statement = _check_statement(statement)
    if isinstance(holds, np.ndarray) and holds.ndim == 0:
        holds = holds.item()
    if not isinstance(holds, (bool, np.bool_)):
        raise TypeError(
            f"holds must be True or False, got {type(holds).__name__}; "
            "for an array say with .all() or .any() which is meant"
        )
    if not holds:
        _fail(statement, "the condition is false", evidence)
    _report(statement, evidence)


def claim_between(statement: str, values, low=None, high=None) -> None:
    """Check that every one of ``values`` lies in ``[low, high]``.

    ``low`` or ``high`` may be ``None`` for a one-sided bound. Non-finite values
    never satisfy a claim.
    """
    statement = _check_statement(statement)
    array = _as_values(values, "values")
    if low is None and high is None:
        raise ValueError("give low, high or both: a claim_between without bounds checks nothing")
    low_f = -np.inf if low is None else float(low)
    high_f = np.inf if high is None else float(high)
    if np.isnan(low_f) or np.isnan(high_f) or low_f > high_f:
        raise ValueError(f"low must be <= high, got low={low}, high={high}")
    evidence = {"values": array if array.size > 1 else array[0]}
    if low is not None:
        evidence["low"] = low_f
    if high is not None:
        evidence["high"] = high_f
    if not np.all(np.isfinite(array)):
        _fail(statement, "a value is not finite", evidence)
    outside = (array < low_f) | (array > high_f)
    if outside.any():
        _fail(statement, f"{int(outside.sum())} of {array.size} values lie outside [{low_f:.4g}, {high_f:.4g}]", evidence)
    _report(statement, evidence)


def claim_separated(statement: str, *, lower, higher, margin: float = 0.0) -> None:
    """Check that every value of ``lower`` lies below every value of ``higher``.

    This is the robust form of "A beats B": with one value per seed, it holds
    only when the worst seed of the winner is better than the best seed of the
    loser. ``margin`` asks for a gap of at least that size
    (``min(higher) - max(lower) >= margin``).
    """
    statement = _check_statement(statement)
    low_values = _as_values(lower, "lower")
    high_values = _as_values(higher, "higher")
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    gap = float(high_values.min() - low_values.max()) if np.all(np.isfinite(low_values)) and np.all(
        np.isfinite(high_values)) else float("nan")
    evidence = {"lower": low_values, "higher": high_values, "gap": gap}
    if margin:
        evidence["margin"] = float(margin)
    if not np.isfinite(gap):
        _fail(statement, "a value is not finite", evidence)
    if gap < margin:
        _fail(statement, f"the groups overlap or the gap {gap:.4g} is below the margin {float(margin):.4g}", evidence)
    _report(statement, evidence)


def claim_close(statement: str, values, reference, *, rtol: float) -> None:
    """Check that ``values`` agree with ``reference`` within relative tolerance ``rtol``.

    ``reference`` is a number or an array of the same length as ``values``; the
    check is ``|values - reference| <= rtol * |reference|`` for every entry.
    """
    statement = _check_statement(statement)
    array = _as_values(values, "values")
    ref = _as_values(reference, "reference")
    if ref.size not in (1, array.size):
        raise ValueError(f"reference must be one number or {array.size} numbers (one per value), got {ref.size}")
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not np.isfinite(rtol) or rtol <= 0:
        raise ValueError(f"rtol must be a finite number > 0, got {rtol!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(array - ref) / np.abs(ref)
    evidence = {"values": array if array.size > 1 else array[0], "reference": ref if ref.size > 1 else ref[0],
                "rtol": float(rtol)}
    if not (np.all(np.isfinite(array)) and np.all(np.isfinite(ref))):
        _fail(statement, "a value is not finite", evidence)
    if not np.all(relative <= rtol):
        _fail(statement, f"largest relative difference {np.nanmax(relative):.4g} exceeds rtol {float(rtol):.4g}",
              evidence)
    _report(statement, evidence)
