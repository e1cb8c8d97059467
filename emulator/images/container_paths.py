"""Run a container's Python program on this machine the way SageMaker runs it in its image.

    python container_paths.py <program> [arguments...]      (OPT_ML_FOLDER=<the run's folder for /opt/ml>)

The program gets exactly the arguments the job gives it; every path under /opt/ml that it opens,
lists, creates or removes through Python is the same path under OPT_ML_FOLDER, so one run's jobs
never share a folder and nothing is written outside it. Native code that opens an /opt/ml path
itself (not through Python) is not mapped, except the openers NATIVE_OPENERS lists (pandas's readers
before 1.2, xgboost's model and file loading), which get the mapped path. Runs in the image
look-alike: standard library only.
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import io
import os
import runpy
import sys
from typing import Any

CONTAINER_ROOT = "/opt/ml"
# The os functions whose first argument is a path (pathlib, shutil, glob and os.path use these).
_PATH_FIRST = (
    "open",
    "stat",
    "lstat",
    "listdir",
    "scandir",
    "mkdir",
    "rmdir",
    "remove",
    "unlink",
    "access",
    "chdir",
    "utime",
    "chmod",
    "readlink",
    "truncate",
    "listxattr",  # shutil.copystat copies extended attributes (copytree, copy2)
    "getxattr",
    "setxattr",
)
_TWO_PATHS = ("rename", "replace", "link", "symlink")


def _mapper(folder: str) -> Any:
    def mapped(path: Any) -> Any:
        if isinstance(path, (str, os.PathLike)):
            text = os.fspath(path)
            if isinstance(text, str) and (text == CONTAINER_ROOT or text.startswith(CONTAINER_ROOT + "/")):
                return folder + text[len(CONTAINER_ROOT) :]
        return path

    return mapped


class _Wrapped:
    """The function with its first ``count`` path arguments mapped. A callable object, not a function:
    Python 3.9's pathlib keeps os functions as class attributes (_NormalAccessor.open = os.open), where
    a function would bind as a method and get the accessor as its first argument."""

    def __init__(self, function: Any, mapped: Any, count: int) -> None:
        self.function, self.mapped, self.count = function, mapped, count

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        args = tuple(self.mapped(arg) if n < self.count else arg for n, arg in enumerate(args))
        for name in ("file", "path", "src", "dst", "filepath_or_buffer", "fname"):
            if name in kwargs:
                kwargs[name] = self.mapped(kwargs[name])
        return self.function(*args, **kwargs)


def _wrap(function: Any, mapped: Any, count: int) -> Any:
    return _Wrapped(function, mapped, count)


_installed: list[Any] = []


def local_path(path: str) -> str:
    """The path on this machine behind a container path, for what does not go through Python's os
    functions (the import system): a serving script's code folder put on sys.path."""
    return str(_installed[0](path)) if _installed else path


def install(folder: str) -> Any:
    """Map /opt/ml to ``folder`` for this process; returns the mapping function."""
    mapped = _mapper(folder)
    _installed[:] = [mapped]
    builtins.open = io.open = _wrap(io.open, mapped, 1)
    for name in _PATH_FIRST:
        if hasattr(os, name):
            setattr(os, name, _wrap(getattr(os, name), mapped, 1))
    for name in _TWO_PATHS:
        if hasattr(os, name):
            setattr(os, name, _wrap(getattr(os, name), mapped, 2))
    return mapped


# What opens a path in native code, by module: (class or "", attribute) whose first path argument is
# mapped once the module is imported. pandas before 1.2 (the scikit-learn 1.2-1 image's 1.1.3) opens a
# path given to read_csv or read_table in C (pandas/_libs/parsers.pyx, new_file_source); xgboost's
# Booster.load_model and save_model, and a DMatrix of a file, open it in libxgboost.
NATIVE_OPENERS = {
    "pandas": (("", "read_csv"), ("", "read_table")),
    "xgboost": (("Booster", "load_model"), ("Booster", "save_model"), ("DMatrix", "__init__")),
}


class _MappedNativeOpeners(importlib.abc.MetaPathFinder):
    """Once a module of NATIVE_OPENERS is imported, its openers get the mapped path."""

    def __init__(self, mapped: Any) -> None:
        self.mapped = mapped

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in NATIVE_OPENERS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        load, openers, mapped = spec.loader.exec_module, NATIVE_OPENERS[name], self.mapped

        def exec_module(module: Any) -> None:
            load(module)
            for owner, attribute in openers:
                if owner:  # a method: a function, so that it binds; the path follows self
                    cls = getattr(module, owner)
                    setattr(cls, attribute, _method_with_mapped_path(getattr(cls, attribute), mapped))
                else:
                    setattr(module, attribute, _wrap(getattr(module, attribute), mapped, 1))

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _method_with_mapped_path(method: Any, mapped: Any) -> Any:
    def with_mapped_path(self: Any, *args: Any, **kwargs: Any) -> Any:
        return method(self, *(mapped(arg) if n == 0 else arg for n, arg in enumerate(args)), **kwargs)

    return with_mapped_path


def main() -> None:
    folder = os.environ.pop("OPT_ML_FOLDER")
    mapped = install(folder)
    sys.modules.setdefault("container_paths", sys.modules[__name__])  # the program may import local_path
    program = sys.argv[1]
    sys.argv = sys.argv[1:]
    # The import system reads sys.path without Python's os functions: a PYTHONPATH folder of the job
    # under /opt/ml (Evaluate's run-report module) is mapped here instead.
    sys.path[:] = [mapped(entry) for entry in sys.path]
    sys.meta_path.insert(0, _MappedNativeOpeners(mapped))
    sys.path.insert(0, os.path.dirname(mapped(program)))
    runpy.run_path(mapped(program), run_name="__main__")


if __name__ == "__main__":
    main()
