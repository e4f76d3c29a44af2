"""Use any course initializer (built-in or registered) as a Keras initializer::

    layer = keras.layers.Dense(64, kernel_initializer=KerasInitializer("he_normal", seed=1))

The weights are drawn by the NumPy function of :mod:`initcourse.maths.initializers`, so a
chapter can show exactly the array the layer starts from. The initializer is
registered with Keras' serialization (package ``"initcourse"``): a model saved with
``model.save("model.keras")`` loads again with ``keras.models.load_model``. A model
that uses a custom initializer added with :func:`initcourse.maths.initializers.register`
loads in a process where the same name has been registered.

Importing this module imports TensorFlow (quietly, see
:func:`initcourse.settings.quiet_tensorflow`).
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from ..maths import initializers
from .._validation import as_generator
from ..settings import quiet_tensorflow

__all__ = ["KerasInitializer", "keras_initializer"]

keras = quiet_tensorflow()

# Upper bound (exclusive) of the seeds drawn for an unseeded initializer.
_SEED_BOUND = 2**31 - 1


def _registered_name(fn) -> str | None:
    """The name ``fn`` is registered under, if any."""
    return next((name for name in initializers.available() if initializers.get(name) is fn), None)


@keras.saving.register_keras_serializable(package="initcourse")
class KerasInitializer(keras.initializers.Initializer):
    """A Keras initializer that draws with a NumPy initializer of :mod:`initcourse`.

    Parameters
    ----------
    name_or_fn : str or callable
        A name or alias known to :func:`initcourse.maths.initializers.get`, or a function
        ``fn(shape, *, seed=None, dtype="float32", **params) -> numpy.ndarray``
        (register it with :func:`initcourse.maths.initializers.register` to be able to
        save the model).
    seed : None or int >= 0, optional
        An int gives the same array at every call, like a seeded Keras initializer.
        ``None`` draws a fresh seed from NumPy's *global* random state
        (``np.random.randint``) at every call, so two layers get different weights
        and :func:`initcourse.settings.setup` makes a whole model reproducible.
        (An unseeded Keras initializer *instance* instead fixes its seed when it is
        created, so one instance shared by two layers gives them identical weights.)
    **params
        Parameters of the initializer, e.g. ``stddev=0.1`` or ``gain=2.0``.

    Examples
    --------
    >>> init = KerasInitializer("random_normal", seed=0, stddev=0.1)
    >>> init.get_config()
    {'name': 'random_normal', 'seed': 0, 'params': {'stddev': 0.1}}
    """

    def __init__(self, name_or_fn, *, seed=None, **params):
        self.fn = initializers.get(name_or_fn)
        self.name = name_or_fn if isinstance(name_or_fn, str) else _registered_name(self.fn)
        if isinstance(seed, np.random.Generator):
            raise TypeError("seed must be None or a non-negative integer (a Generator cannot be saved with a model)")
        as_generator(seed, "seed")  # checks the type and the sign
        self.seed = None if seed is None else int(seed)
        try:
            inspect.signature(self.fn).bind_partial((1,), seed=self.seed, dtype="float32", **params)
        except TypeError as error:
            raise TypeError(f"invalid parameters {sorted(params)} for initializer {name_or_fn!r}: {error}") from None
        self.params = dict(params)

    def __call__(self, shape, dtype=None):
        dtype = keras.backend.standardize_dtype(dtype)
        seed = np.random.randint(_SEED_BOUND) if self.seed is None else self.seed
        # NumPy has no bfloat16: draw in float32 and let Keras cast.
        numpy_dtype = "float32" if dtype == "bfloat16" else dtype
        values = np.asarray(self.fn(tuple(shape), seed=seed, dtype=numpy_dtype, **self.params))
        if values.shape != tuple(shape):
            raise ValueError(f"initializer {self.name or self.fn!r} returned shape {values.shape} for shape {tuple(shape)}")
        return keras.ops.convert_to_tensor(values, dtype=dtype)

    def get_config(self):
        if self.name is None:
            raise ValueError(
                f"cannot save initializer {self.fn!r}: register it first with "
                "initcourse.maths.initializers.register(name, fn) and pass the name"
            )
        return {"name": self.name, "seed": self.seed, "params": dict(self.params)}

    @classmethod
    def from_config(cls, config):
        if not isinstance(config, dict) or not isinstance(config.get("name"), str):
            raise ValueError(
                "config must be a dict such as {'name': 'he_normal', 'seed': 0, 'params': {}} "
                f"('seed' and 'params' optional), got {config!r}"
            )
        params = config.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError(f"config['params'] must be a dict of initializer parameters, got {params!r}")
        return cls(config["name"], seed=config.get("seed"), **params)

    def __repr__(self):
        params = "".join(f", {key}={value!r}" for key, value in self.params.items())
        return f"KerasInitializer({self.name or self.fn!r}, seed={self.seed!r}{params})"


def _unsaveable(model) -> list[str]:
    """``"<layer>.<attribute>"`` of every KerasInitializer in ``model`` that cannot be saved."""
    flatten = getattr(model, "_flatten_layers", None)
    layers = list(flatten(include_self=True, recursive=True)) if callable(flatten) else [model]
    found = []
    for layer in layers:
        for attribute, value in vars(layer).items():
            if isinstance(value, KerasInitializer) and value.name is None:
                found.append(f"{getattr(layer, 'name', '?')}.{attribute} = {value!r}")
    return found


def _guard_save(save_model):
    """Wrap Keras' ``save_model`` so that an unsaveable initializer is refused up front.

    Keras opens (and so truncates) the destination file before it serializes the
    model; without this check, an initializer that cannot be saved would destroy
    an existing file at that path before raising.
    """
    if getattr(save_model, "_initcourse_guard", False):
        return save_model

    @functools.wraps(save_model)
    def guarded(model, filepath, *args, **kwargs):
        unsaveable = _unsaveable(model)
        if unsaveable:
            raise ValueError(
                f"cannot save the model to {str(filepath)!r}: it uses initializer function(s) that are not "
                f"registered ({'; '.join(unsaveable)}). Register each with "
                "initcourse.maths.initializers.register(name, fn) and pass the name. Nothing was written."
            )
        return save_model(model, filepath, *args, **kwargs)

    guarded._initcourse_guard = True
    return guarded


def _install_save_guard() -> None:
    """Put :func:`_guard_save` around the ``save_model`` that ``Model.save`` and ``keras.saving`` call."""
    try:
        from keras.src.saving import saving_api
    except ImportError:  # another Keras layout: the check after opening the file remains
        return
    original = saving_api.save_model
    saving_api.save_model = _guard_save(original)
    for module in (keras.saving, keras.models):
        if getattr(module, "save_model", None) is original:
            module.save_model = saving_api.save_model


_install_save_guard()


def keras_initializer(name_or_fn, **kwargs) -> KerasInitializer:
    """Return ``KerasInitializer(name_or_fn, **kwargs)``.

    Examples
    --------
    >>> layer = keras.layers.Conv2D(16, 3, kernel_initializer=keras_initializer("orthogonal", gain=2.0))
    """
    return KerasInitializer(name_or_fn, **kwargs)
