import numpy as np
import pytest

from initcourse import notebook


def test_glue_converts_numpy_scalars(monkeypatch):
    recorded = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: recorded.update({name: (value, display)}))
    assert notebook.glue("ch00_x", np.float64(0.25)) is None
    assert recorded["ch00_x"] == (0.25, False) and type(recorded["ch00_x"][0]) is float
    notebook.glue("ch00_n", np.int64(3))
    notebook.glue("ch00_s", "text")
    notebook.glue("ch00_a", np.array(2.0))
    assert type(recorded["ch00_n"][0]) is int
    assert recorded["ch00_s"][0] == "text"
    assert type(recorded["ch00_a"][0]) is float


@pytest.mark.parametrize("name", ["", "1abc", "a-b", 3])
def test_glue_rejects_bad_names(name):
    with pytest.raises(ValueError, match="name must be a valid identifier"):
        notebook.glue(name, 1.0)


def test_glue_rejects_arrays_and_nan():
    with pytest.raises(TypeError, match="single number or string"):
        notebook.glue("ch00_v", np.ones(3))
    with pytest.raises(ValueError, match="must be finite"):
        notebook.glue("ch00_v", float("nan"))


def test_stored_values_reads_what_a_chapter_glued():
    from pathlib import Path

    values = notebook.stored_values(Path(__file__).parent.parent / "book" / "12_debugging.ipynb")
    assert isinstance(values["ch12_dead_max"], (int, float))
    assert all(name.startswith("ch12_") for name in values)


def test_stored_values_of_an_unexecuted_notebook_is_empty(tmp_path):
    import json

    path = tmp_path / "empty.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "1", "outputs": []}]}))
    assert notebook.stored_values(path) == {}


def test_stored_values_names_the_bad_path(tmp_path):
    with pytest.raises(ValueError, match="path must name a .ipynb"):
        notebook.stored_values(tmp_path / "x.md")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        notebook.stored_values(tmp_path / "x.ipynb")


def test_glue_binds_the_name_in_a_running_kernel(monkeypatch):
    # The prose's inline expressions ({eval}`ch00_x`) evaluate in the kernel when a reader
    # runs the markdown cells in JupyterLab: glue puts the name in the notebook's namespace.
    class Shell:
        user_ns = {}

    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: None)
    monkeypatch.setattr(notebook, "_ipython", lambda: Shell)
    notebook.glue("ch00_bound", np.float64(0.5))
    assert Shell.user_ns == {"ch00_bound": 0.5} and type(Shell.user_ns["ch00_bound"]) is float
    monkeypatch.setattr(notebook, "_ipython", lambda: None)
    notebook.glue("ch00_unbound", 1.0)  # outside IPython: nothing to bind, no error
    assert "ch00_unbound" not in Shell.user_ns


def test_glue_outside_ipython_finds_no_shell():
    assert notebook._ipython() is None
