"""The chapters' nbval setting: glued floats compared within a relative tolerance (book/conftest.py)."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("book_conftest", ROOT / "book" / "conftest.py")
book_conftest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(book_conftest)
GLUE = book_conftest.GLUE_MIME


def glued(text):
    return {"output_type": "display_data", "data": {GLUE: text}, "metadata": {}}


def printed(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_a_float_within_the_tolerance_takes_the_stored_text():
    stored = [printed("slope 10.0000\n"), glued("9.999999991135699"), glued("0.1414213562373095")]
    new = [printed("slope 10.0000\n"), glued("9.999999991168847"), glued("0.1414213562373095")]
    assert book_conftest.align_glued_floats(new, stored) == stored
    assert new[1]["data"][GLUE] == "9.999999991168847"  # the caller's outputs are not changed


@pytest.mark.parametrize("new_text, stored_text", [
    ("9.9999", "10.0"),           # a relative difference of 1e-5: reported
    ("45", "44"),                 # integers stay exact
    ("'he_normal'", "'glorot'"),  # strings stay exact
    ("nan", "1.5"),
])
def test_anything_else_is_left_for_nbval_to_report(new_text, stored_text):
    new, stored = [glued(new_text)], [glued(stored_text)]
    assert book_conftest.align_glued_floats(new, stored) == new


def test_printed_output_is_never_touched_and_records_pair_in_order():
    stored = [printed("0.30000000000000004\n"), glued("1.0"), glued("2.0")]
    new = [printed("0.3000000000000001\n"), glued("2.0000000000001"), glued("1.0000000000001")]
    aligned = book_conftest.align_glued_floats(new, stored)
    assert aligned[0] == new[0]
    assert [o["data"][GLUE] for o in aligned[1:]] == ["2.0000000000001", "1.0000000000001"]


def test_the_tolerance_sits_between_rounding_and_printed_precision():
    assert 1e-12 < book_conftest.GLUE_RTOL <= 1e-5
