"""initcourse: the helper package of the course on neural-network weight initialization.

The package is a set of small modules, one concept each:

- :mod:`initcourse.settings`: seeding, quiet TensorFlow, quick/full run mode;
- :mod:`initcourse.initializers`, :mod:`initcourse.fans`, :mod:`initcourse.gains`:
  NumPy reference initializers by Keras name, fan computation, activation gains;
- :mod:`initcourse.keras_adapter`: use any course initializer in a Keras layer;
- :mod:`initcourse.activations`: activation functions and their derivatives;
- :mod:`initcourse.propagation`: forward/backward signal statistics, by simulation;
- :mod:`initcourse.theory`: the variance recursion and mean-field map that predict them;
- :mod:`initcourse.spectra`: singular values and norm preservation;
- :mod:`initcourse.models`, :mod:`initcourse.toydata`: Keras model builders, small tasks;
- :mod:`initcourse.experiments`: train variants x seeds, cached, tidy results;
- :mod:`initcourse.inspection`, :mod:`initcourse.layer_stats`: gradients, weights and
  per-layer statistics of Keras models;
- :mod:`initcourse.lsuv`: layer-sequential unit-variance initialization;
- :mod:`initcourse.batchnorm`: batch normalization's modes, re-estimated running statistics;
- :mod:`initcourse.doctor`: diagnose a Keras model's initialization, and monitor training;
- :mod:`initcourse.data`: CIFAR-10 and IMDB, online or from offline samples;
- :mod:`initcourse.defaults`: Keras' and PyTorch's default initializers, as tables;
- :mod:`initcourse.transfer`: pre-train once (cached), then fit a new head;
- :mod:`initcourse.plotting`: the standard pictures (drawing only, no computing);
- :mod:`initcourse.notebook`: helpers for the chapters' notebooks.

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
    """Register :class:`initcourse.keras_adapter.KerasInitializer` with Keras once both
    Keras and TensorFlow are completely imported; return True when done."""
    if "keras" not in sys.modules or _importing("keras") or _importing("tensorflow"):
        return False
    from . import keras_adapter  # noqa: F401  (registers on import)

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
