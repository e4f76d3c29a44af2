"""Transfer learning for the practical-tips chapter: pre-train once, then fit new heads.

:func:`class_subset` takes some classes of a dataset (relabelled 0, 1, ...);
:func:`pretrain` trains a network once and caches its weights, keyed like the
experiment cache of :mod:`initcourse.kerastools.experiments` (builder, data, epochs, seed,
versions), so re-running a chapter does not train it again; :func:`with_new_head`
puts a freshly initialised classification layer on the pre-trained network's
penultimate layer, with the body frozen or trainable.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import __version__

from .. import settings
from .._validation import check_positive_int
from ._cache_keys import cache_key, describe, fingerprint
from .experiments import default_cache_dir

__all__ = ["class_subset", "pretrain", "with_new_head"]


def class_subset(x, y, classes):
    """Return the examples of ``classes`` as ``(x, y)``, labels renumbered ``0..len(classes)-1``.

    Parameters
    ----------
    x : numpy.ndarray
        Examples, first axis the example.
    y : numpy.ndarray of int
        Labels, one per example.
    classes : sequence of int
        The classes to keep, in the order of their new labels.
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    classes = [int(c) for c in classes]
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be a non-empty sequence of distinct labels, got {classes!r}")
    missing = sorted(set(classes) - set(np.unique(y).tolist()))
    if missing:
        raise ValueError(f"classes {missing} do not occur in y")
    keep = np.isin(y, classes)
    relabel = {c: i for i, c in enumerate(classes)}
    return x[keep], np.array([relabel[int(c)] for c in y[keep]], dtype=y.dtype)


def pretrain(build_model, data, *, seed=0, epochs, batch_size=64, cache_dir=None):
    """Train ``build_model()`` on ``data`` once and return the trained model.

    Parameters
    ----------
    build_model : callable
        ``build_model()`` returns a compiled ``keras.Model``; called right after
        :func:`initcourse.settings.seed_everything` with ``seed``.
    data : tuple
        ``(x_train, y_train)``.
    seed : int
    epochs, batch_size : int
    cache_dir : str, os.PathLike, None or False
        Where the weights are kept (``None``: the experiment cache folder,
        ``$INITCOURSE_CACHE``); ``False``: always train.

    Returns
    -------
    keras.Model
        Trained (or loaded from the cache), compiled.
    """
    if not callable(build_model):
        raise TypeError(f"build_model must be callable, got {build_model!r}")
    if not isinstance(data, tuple) or len(data) != 2:
        raise TypeError("data must be a tuple (x_train, y_train)")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    keras = settings.quiet_tensorflow()
    settings.seed_everything(seed)
    model = build_model()
    path = None
    if cache_dir is not False:
        if not isinstance(cache_dir, (str, os.PathLike, type(None))):
            raise TypeError(f"cache_dir must be a folder path, None or False, got {cache_dir!r}")
        folder = default_cache_dir() if cache_dir is None else Path(cache_dir)
        key = cache_key({
            "pretrain": describe(build_model), "data": [fingerprint(a) for a in data], "seed": seed,
            "epochs": epochs, "batch_size": batch_size,
            "versions": {"initcourse": __version__, "keras": keras.__version__},
        })
        path = folder / f"pretrained-{key}.weights.h5"
        if path.exists():
            model.load_weights(path)
            return model
    model.fit(*data, epochs=epochs, batch_size=batch_size, verbose=0)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save_weights(path)
    return model


def with_new_head(pretrained, num_classes, *, head_initializer="glorot_uniform", freeze=True, name="transfer"):
    """A copy of ``pretrained`` whose last layer is replaced by a new softmax layer.

    Parameters
    ----------
    pretrained : keras.Model
        A functional model; everything up to its penultimate layer's output is kept,
        with the trained weights (copied: ``pretrained`` is not changed).
    num_classes : int
        Units of the new softmax layer.
    head_initializer
        Kernel initializer of the new layer (see :mod:`initcourse.kerastools.models`); its bias
        starts at zero.
    freeze : bool
        If true, only the new layer is trained.

    Returns
    -------
    keras.Model
        Uncompiled.
    """
    from .models import resolve_initializer

    keras = settings.quiet_tensorflow()
    num_classes = check_positive_int(num_classes, "num_classes")
    if not isinstance(freeze, bool):
        raise TypeError(f"freeze must be True or False, got {freeze!r}")
    body = keras.models.clone_model(pretrained)
    body.set_weights(pretrained.get_weights())
    features = body.layers[-2].output
    trunk = keras.Model(body.inputs, features, name="body")
    trunk.trainable = not freeze
    inputs = keras.Input(pretrained.input_shape[1:], name="inputs")
    head = keras.layers.Dense(num_classes, activation="softmax", name="new_head",
                              kernel_initializer=resolve_initializer(head_initializer))
    return keras.Model(inputs, head(trunk(inputs)), name=name)
