"""Cache keys: a digest of everything that decides a training run's result.

Shared by :mod:`initcourse.kerastools.experiments` and :mod:`initcourse.kerastools.transfer`, which both
store results on disk under a key that changes whenever the builder, its
parameters, the data or the seed could change the result.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import re
import types
from collections.abc import Mapping

import numpy as np

__all__ = ["fingerprint", "describe", "cache_key"]


def fingerprint(array) -> str:
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.data if array.dtype != object else repr(array.tolist()).encode())
    return digest.hexdigest()


def _describe_callable(func, home_module: str | None, seen: set):
    """Name and source of a function or class.

    A plain function of ``home_module`` (the builder's module; the function's own
    when None) also brings the values it depends on: its defaults, its closure
    variables and the globals it refers to (modules excepted), described in turn.
    """
    name = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):  # no source file (e.g. code given to exec): the compiled code
        code = getattr(func, "__code__", None)
        if code is not None:
            consts = [c for c in code.co_consts if not isinstance(c, types.CodeType)]
            source = f"{code.co_code.hex()} {code.co_names} {consts!r}"
        else:
            source = None
    description = {"callable": name, "source": source}
    home_module = home_module or getattr(func, "__module__", None)
    if not isinstance(func, types.FunctionType) or func.__module__ != home_module or func in seen:
        return description
    seen.add(func)
    closure = zip(func.__code__.co_freevars, func.__closure__ or ())
    referenced = inspect.getclosurevars(func).globals
    context = {
        "defaults": func.__defaults__,
        "kwdefaults": func.__kwdefaults__,
        "closure": {var: cell.cell_contents for var, cell in closure if var != "__class__"},
        "globals": {k: v for k, v in referenced.items() if not isinstance(v, types.ModuleType)},
    }
    description["context"] = describe(context, home_module, seen)
    return description


def describe(obj, home_module: str | None = None, seen: set | None = None):
    """A JSON-able description of ``obj`` that changes when its behaviour can."""
    seen = set() if seen is None else seen
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else repr(obj)
    if isinstance(obj, np.generic):
        return describe(obj.item(), home_module, seen)
    if isinstance(obj, np.ndarray):
        return {"ndarray": fingerprint(obj)}
    if isinstance(obj, Mapping):
        return {str(k): describe(v, home_module, seen) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [type(obj).__name__] + [describe(v, home_module, seen) for v in obj]
    if isinstance(obj, (set, frozenset)):  # iteration order depends on PYTHONHASHSEED: sort
        items = [describe(v, home_module, seen) for v in obj]
        return [type(obj).__name__] + sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(obj, functools.partial):
        return {"partial": describe([obj.func, obj.args, obj.keywords], home_module, seen)}
    if inspect.isroutine(obj) or inspect.isclass(obj):
        return _describe_callable(obj, home_module, seen)
    if callable(getattr(obj, "get_config", None)):  # Keras initializers, optimizers, layers...
        try:
            config = obj.get_config()
        except Exception:  # not serializable: its attributes say what it does
            config = vars(obj) if hasattr(obj, "__dict__") else repr(obj)
        return {"class": _describe_callable(type(obj), None, seen), "config": describe(config, home_module, seen)}
    if type(obj).__repr__ is object.__repr__:  # "<... object at 0x...>": an address, new every process
        state = vars(obj) if hasattr(obj, "__dict__") else None
        return {"class": _describe_callable(type(obj), None, seen), "state": describe(state, home_module, seen)}
    # other reprs may still embed an address (a bound method's instance, ...): drop it
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", repr(obj))
    return {"repr": f"{type(obj).__module__}.{type(obj).__qualname__}:{text}"}


def cache_key(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:40]
