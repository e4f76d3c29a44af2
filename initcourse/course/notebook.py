"""Helpers for the chapters' notebooks.

:func:`glue` records a computed value under a name so the book's prose can quote
it, which keeps every number in the text tied to the cell that computed it. The
prose quotes it as an inline expression, ``{eval}`name``` or, formatted,
``{eval}`f"{name:.3f}"```; :mod:`initcourse.course.bookvalues` stores the formatted values
in the markdown cells (JupyterLab and the HTML book show them without a kernel),
and in a running kernel the expression evaluates to the same text because
:func:`glue` also binds ``name`` in the notebook's namespace.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["glue", "stored_values"]


def glue(name: str, value, *, display: bool = False) -> None:
    """Record ``value`` for the book under ``name``.

    Returns nothing, so a cell that ends with a ``glue`` call shows no output.

    NumPy scalars are converted to Python numbers first: MyST-NB formats glued
    values from their ``repr``, and ``repr(np.float64(0.5))`` is
    ``'np.float64(0.5)'``, which a format spec such as ``:.3f`` cannot parse.

    In an IPython kernel, ``name`` is also bound to the value in the notebook's
    namespace, so that the prose's inline expressions (``{eval}`name```) evaluate
    when a reader runs the notebook's markdown cells in JupyterLab.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a valid identifier such as 'ch01_final_std', got {name!r}")
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (np.ndarray, list, tuple, dict)):
        raise TypeError(f"value must be a single number or string, got {type(value).__name__}")
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and not np.isfinite(value):
        raise ValueError(f"value for {name!r} must be finite, got {value}")
    from myst_nb import glue as _glue

    _glue(name, value, display=display)
    shell = _ipython()
    if shell is not None:
        shell.user_ns[name] = value


def _ipython():
    """The running IPython shell, or None outside one."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return None
    return get_ipython()


GLUE_MIME = "application/papermill.record/text/plain"


def stored_values(path) -> dict:
    """The values an executed notebook glued, read from its stored outputs.

    Returns ``{name: value}`` for every :func:`glue` call whose output the notebook file
    holds (numbers come back as numbers, strings as strings). Reading the stored outputs
    needs no kernel; a notebook that was never executed has none, and gives ``{}``.
    """
    import ast
    import json
    from pathlib import Path

    path = Path(path)
    if path.suffix != ".ipynb":
        raise ValueError(f"path must name a .ipynb notebook, got {str(path)!r}")
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} does not exist")
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    values = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get(GLUE_MIME)
            if name is None or text is None:
                continue
            text = "".join(text) if isinstance(text, list) else text
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[name] = text
    return values
