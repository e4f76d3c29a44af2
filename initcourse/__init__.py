"""initcourse: the helper package of the course on neural-network weight initialization.

:mod:`initcourse.settings` (seeds, quiet TensorFlow, quick/full mode) is used by every
layer; the other modules are grouped in three layers, each using only the ones above it:

:mod:`initcourse.maths` (NumPy only)
    ``initializers``, ``fans``, ``gains``: reference initializers by Keras name, fan
    computation, activation gains; ``activations`` and their derivatives;
    ``propagation`` (forward/backward signal statistics, by simulation) and ``theory``
    (the variance recursion and mean-field map that predict them); ``spectra``
    (singular values, norm preservation); ``toydata`` (small tasks); ``width``
    (standard parametrization and muP, coordinate check).
:mod:`initcourse.kerastools` (Keras models)
    ``keras_adapter`` (any course initializer in a Keras layer); ``models`` (builders);
    ``inspection``, ``layer_stats`` (gradients, weights, per-layer statistics); ``lsuv``;
    ``batchnorm`` (modes, re-estimated statistics); ``doctor`` (diagnose a model's
    initialization, monitor training); ``experiments`` (variants x seeds, cached) and
    ``transfer``; ``data`` (CIFAR-10, IMDB, online or offline); ``defaults`` (Keras' and
    PyTorch's defaults as tables); ``residual``, ``transformer`` (Fixup, SkipInit,
    zero-gamma, Pre-/Post-LN, GPT-2 scaling); ``datadep`` (weight normalization's
    data-dependent initialization).
:mod:`initcourse.course` (the book's plumbing)
    ``plotting`` (drawing only);
    ``claims`` (the chapters' checked sentences); ``notebook`` and ``bookvalues`` (glued
    values, stored for JupyterLab and the HTML book); ``exercises`` (checkers with
    feedback); ``explore`` (ipywidgets explorers); ``htmlfigures`` (kernel-free explorable
    figures).

Every public module is also reachable by its short name, imported on first use:
``from initcourse import doctor`` or ``initcourse.doctor`` after ``import initcourse``.
Importing :mod:`initcourse` itself is cheap; TensorFlow is imported only by the
modules that need it. Models saved with a course initializer load again after
``import initcourse``: the package registers its Keras objects as soon as Keras
is imported (or at once if it already is).
"""

import importlib.abc
import sys

__version__ = "0.1.0"


def _importing(name: str) -> bool:
    """True while module ``name`` is being imported (it is in sys.modules, not yet complete)."""
    module = sys.modules.get(name)
    return module is not None and bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


def _register_keras_objects() -> bool:
    """Register :class:`initcourse.kerastools.keras_adapter.KerasInitializer` with Keras once both
    Keras and TensorFlow are completely imported; return True when done."""
    if "keras" not in sys.modules or _importing("keras") or _importing("tensorflow"):
        return False
    from .kerastools import keras_adapter  # noqa: F401  (registers on import)

    return True


class _RegisterAfterKerasImport(importlib.abc.MetaPathFinder):
    """Run :func:`_register_keras_objects` right after ``keras`` or ``tensorflow`` is imported.

    TensorFlow imports Keras and Keras imports TensorFlow: the registration waits
    until neither is half-imported. The finder removes itself once it has registered.
    """

    _names = ("keras", "tensorflow")

    def find_spec(self, name, path=None, target=None):
        if name not in self._names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        execute = loader.exec_module

        def exec_module(module):
            execute(module)
            module.__spec__._initializing = False  # importlib clears it only after we return
            try:
                if _register_keras_objects() and self in sys.meta_path:
                    sys.meta_path.remove(self)
            finally:
                module.__spec__._initializing = True

        loader.exec_module = exec_module
        return spec


if not _register_keras_objects():
    sys.meta_path.insert(0, _RegisterAfterKerasImport())


# Every public module is reachable by its short name: ``from initcourse import doctor``
# or ``initcourse.doctor`` after ``import initcourse``, imported on first use.
_LAYER_OF = {
    "activations": "maths",
    "fans": "maths",
    "gains": "maths",
    "initializers": "maths",
    "propagation": "maths",
    "spectra": "maths",
    "theory": "maths",
    "toydata": "maths",
    "width": "maths",
    "batchnorm": "kerastools",
    "data": "kerastools",
    "datadep": "kerastools",
    "defaults": "kerastools",
    "doctor": "kerastools",
    "experiments": "kerastools",
    "inspection": "kerastools",
    "keras_adapter": "kerastools",
    "layer_stats": "kerastools",
    "lsuv": "kerastools",
    "models": "kerastools",
    "residual": "kerastools",
    "transfer": "kerastools",
    "transformer": "kerastools",
    "bookvalues": "course",
    "claims": "course",
    "exercises": "course",
    "explore": "course",
    "htmlfigures": "course",
    "notebook": "course",
    "plotting": "course",
}


def __getattr__(name):
    layer = _LAYER_OF.get(name)
    if layer is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f"{__name__}.{layer}.{name}")
    globals()[name] = module
    return module


def __dir__():
    return sorted(set(globals()) | set(_LAYER_OF))
