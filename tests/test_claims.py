"""Claims as code: each helper prints a check line when the claim holds and raises a
ClaimError naming the claim and the evidence when it does not."""

import numpy as np
import pytest

from initcourse.course.claims import ClaimError, claim, claim_between, claim_close, claim_separated


def test_claim_prints_the_statement_and_evidence(capsys):
    assert claim("He beats Glorot", True, he=0.4, glorot=np.float32(1.08)) is None
    assert capsys.readouterr().out == "✓ He beats Glorot  [he=0.4, glorot=1.08]\n"


def test_claim_accepts_numpy_booleans_and_fails_with_the_statement():
    claim("numpy true", np.bool_(True))
    claim("0-d array", np.array(True))
    with pytest.raises(ClaimError, match=r"Claim does not hold: 'He beats Glorot': the condition is false \[he=0.9\]"):
        claim("He beats Glorot", np.float64(0.9) < 0.5, he=0.9)


def test_claim_error_is_an_assertion_error():
    assert issubclass(ClaimError, AssertionError)


@pytest.mark.parametrize("holds", [np.array([True, False]), 1, "yes", None])
def test_claim_refuses_conditions_that_are_not_one_boolean(holds):
    with pytest.raises(TypeError, match="holds must be True or False"):
        claim("x", holds)


@pytest.mark.parametrize("statement", ["", "   ", None, 3])
def test_every_claim_needs_a_statement(statement):
    with pytest.raises(TypeError, match="statement must be a non-empty string"):
        claim(statement, True)
    with pytest.raises(TypeError, match="statement must be a non-empty string"):
        claim_between(statement, 1.0, 0, 2)


def test_claim_between_checks_every_value_and_both_bounds(capsys):
    claim_between("ratios near 1", [0.95, 1.0, 1.04], 0.9, 1.1)
    assert "✓ ratios near 1  [values=[0.95, 1, 1.04], low=0.9, high=1.1]" in capsys.readouterr().out
    claim_between("one-sided", 5.0, low=1)
    claim_between("edges count as inside", [0.9, 1.1], 0.9, 1.1)
    with pytest.raises(ClaimError, match=r"'ratios near 1': 1 of 3 values lie outside \[0.9, 1.1\]"):
        claim_between("ratios near 1", [0.95, 1.2, 1.0], 0.9, 1.1)
    with pytest.raises(ClaimError, match="a value is not finite"):
        claim_between("finite", [1.0, np.nan], 0, 2)
    with pytest.raises(ClaimError, match="not finite"):
        claim_between("finite", np.inf, low=0)


def test_claim_between_rejects_bad_bounds_and_values():
    with pytest.raises(ValueError, match="give low, high or both"):
        claim_between("x", 1.0)
    with pytest.raises(ValueError, match="low must be <= high"):
        claim_between("x", 1.0, 2, 1)
    with pytest.raises(ValueError, match="values must hold at least one value"):
        claim_between("x", [], 0, 1)
    with pytest.raises(TypeError, match="values must be a number or a sequence of numbers"):
        claim_between("x", "abc", 0, 1)
    with pytest.raises(TypeError, match="values must be a number or a sequence of numbers"):
        claim_between("x", [object()], 0, 1)


def test_claim_separated_is_worst_winner_against_best_loser(capsys):
    claim_separated("He's loss is lower for every seed", lower=[0.3, 0.41], higher=[0.5, 1.0])
    assert "gap=0.09" in capsys.readouterr().out
    with pytest.raises(ClaimError, match="overlap"):
        claim_separated("He's loss is lower for every seed", lower=[0.3, 0.6], higher=[0.5, 1.0])
    with pytest.raises(ClaimError, match="below the margin 0.2"):
        claim_separated("clear gap", lower=[0.3], higher=[0.45], margin=0.2)
    claim_separated("clear gap", lower=[0.3], higher=[0.55], margin=0.2)
    with pytest.raises(ClaimError, match="not finite"):
        claim_separated("finite", lower=[np.nan], higher=[1.0])


@pytest.mark.parametrize("margin", [-0.1, np.nan, "0.1", True])
def test_claim_separated_rejects_bad_margins(margin):
    with pytest.raises(ValueError, match="margin must be a finite number >= 0"):
        claim_separated("x", lower=[0], higher=[1], margin=margin)


def test_claim_separated_needs_keyword_groups():
    with pytest.raises(TypeError):
        claim_separated("x", [0], [1])  # which group wins must be explicit


def test_claim_close_relative_tolerance(capsys):
    claim_close("measured matches theory", [1.02, 0.99], 1.0, rtol=0.05)
    claim_close("per-value reference", [2.0, 4.1], [2.0, 4.0], rtol=0.05)
    assert capsys.readouterr().out.count("✓") == 2
    with pytest.raises(ClaimError, match="largest relative difference 0.1 exceeds rtol 0.05"):
        claim_close("measured matches theory", [1.1, 1.0], 1.0, rtol=0.05)
    with pytest.raises(ClaimError, match="not finite"):
        claim_close("finite", [np.inf], 1.0, rtol=0.05)
    with pytest.raises(ValueError, match="reference must be one number or 2 numbers"):
        claim_close("x", [1.0, 2.0], [1.0, 2.0, 3.0], rtol=0.1)
    with pytest.raises(ValueError, match="rtol must be a finite number > 0"):
        claim_close("x", 1.0, 1.0, rtol=0)
