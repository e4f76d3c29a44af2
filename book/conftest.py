"""pytest settings for the chapters when nbval re-executes them (``make notebooks``).

nbval compares a cell tagged ``nbval-check-output`` with its stored output exactly. Such a
cell's printed output is seeded NumPy at a sensible precision, but its glue records hold each
number at full float precision (its ``repr``), and the last digits of those depend on the
summation order of the CPU's matrix kernels and on their number of threads (a slope of
``9.999999991135699`` on one thread count, ``9.999999991168847`` on another). The prose shows
such numbers at a few significant digits.

So a glued *float* counts as equal to the stored one within a relative ``GLUE_RTOL`` (far
above float rounding, far below any precision the book prints); glued strings and integers,
and everything a cell prints, are still compared exactly.
"""

from __future__ import annotations

import copy
import math

GLUE_MIME = "application/papermill.record/text/plain"
GLUE_RTOL = 1e-6


def _as_float(text):
    """The float a glue record's text holds, or None for anything else (int, string)."""
    if not isinstance(text, str) or not any(mark in text for mark in ".eE"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def align_glued_floats(test_outputs, reference_outputs, rtol=GLUE_RTOL):
    """Return ``test_outputs`` with each glued float replaced by the stored text when close.

    The n-th glue record of the new outputs is paired with the n-th stored one, as nbval
    pairs outputs of the same kind. A float that differs by more than ``rtol`` (relative) is
    left as it is, so nbval reports it.
    """
    glued_reference = [output["data"][GLUE_MIME] for output in reference_outputs
                       if GLUE_MIME in output.get("data", {})]
    aligned = copy.deepcopy(list(test_outputs))
    glued_test = [output for output in aligned if GLUE_MIME in output.get("data", {})]
    for output, stored in zip(glued_test, glued_reference):
        new, old = _as_float(output["data"][GLUE_MIME]), _as_float(stored)
        if new is not None and old is not None and math.isclose(new, old, rel_tol=rtol, abs_tol=0.0):
            output["data"][GLUE_MIME] = stored
    return aligned


def pytest_configure(config):
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval not installed: nothing to adjust
        return
    if getattr(IPyNbCell.compare_outputs, "_aligns_glued_floats", False):
        return
    compare_exactly = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        return compare_exactly(self, align_glued_floats(test, ref), ref, skip_compare)

    compare_outputs._aligns_glued_floats = True
    IPyNbCell.compare_outputs = compare_outputs
