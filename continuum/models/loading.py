"""Model classes named by text: ``"package.module:Class"`` or ``"path/to/file.py:Class"``.

What a scenario file's ``[model] class = ...`` and a run file's model description use to
find a model written outside continuum.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

_PREFIX = "continuum_user_models"


def load_model_class(reference: str, folder=None) -> type:
    """The :class:`~continuum.models.base.Model` subclass named by ``reference``.

    Parameters
    ----------
    reference : ``"module:Class"`` (imported with ``folder`` first on the import path) or
        ``"file.py:Class"`` (a path, relative to ``folder``).
    folder : where relative names are looked up (a scenario file's folder); default the
        current directory.
    """
    from continuum.models.base import Model

    if not isinstance(reference, str) or reference.count(":") != 1:
        raise ValueError(
            f"model class: got {reference!r}; 'module:Class' or 'file.py:Class' is required"
        )
    where, name = reference.split(":")
    folder = Path(folder or ".").resolve()
    module = _module_from_file(folder / where) if where.endswith(".py") else None
    if module is None:
        module = _import(where, folder)
    cls = getattr(module, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ValueError(f"model class: {reference!r} is not a continuum Model subclass")
    if not cls.kernel_name:
        raise ValueError(
            f"model class: {reference!r} declares no kernels (kernels = KernelSet(...))"
        )
    return cls


def _module_from_file(path: Path):
    if not path.is_file():
        raise ValueError(f"model class: no file {str(path)!r}")
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    module_name = f"{_PREFIX}.{path.stem}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[module_name]
        raise
    return module


def _import(name: str, folder: Path):
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ValueError(f"model class: cannot import {name!r} ({error})") from None
    finally:
        sys.path.remove(str(folder))


def class_reference(cls: type) -> str:
    """The text :func:`load_model_class` finds ``cls`` by again (absolute file path for
    classes loaded from a file)."""
    if cls.__module__.startswith(_PREFIX + "."):
        return f"{inspect.getsourcefile(cls)}:{cls.__qualname__}"
    return f"{cls.__module__}:{cls.__qualname__}"


def is_builtin(cls: type) -> bool:
    """Whether ``cls`` is one of continuum's own models."""
    return cls.__module__.startswith("continuum.")
