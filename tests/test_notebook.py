import numpy as np
import pytest

from initcourse import notebook


def test_glue_converts_numpy_scalars(monkeypatch):
    recorded = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: recorded.update({name: (value, display)}))
    assert notebook.glue("ch00_x", np.float64(0.25)) == 0.25
    assert type(recorded["ch00_x"][0]) is float and recorded["ch00_x"][1] is False
    assert type(notebook.glue("ch00_n", np.int64(3))) is int
    assert notebook.glue("ch00_s", "text") == "text"
    assert type(notebook.glue("ch00_a", np.array(2.0))) is float


@pytest.mark.parametrize("name", ["", "1abc", "a-b", 3])
def test_glue_rejects_bad_names(name):
    with pytest.raises(ValueError, match="name must be a valid identifier"):
        notebook.glue(name, 1.0)


def test_glue_rejects_arrays_and_nan():
    with pytest.raises(TypeError, match="single number or string"):
        notebook.glue("ch00_v", np.ones(3))
    with pytest.raises(ValueError, match="must be finite"):
        notebook.glue("ch00_v", float("nan"))
