"""Run a container's Python program on this machine the way SageMaker runs it in its image.

    python container_paths.py <program> [arguments...]      (OPT_ML_FOLDER=<the run's folder for /opt/ml>)

The program gets exactly the arguments the job gives it; every path under /opt/ml that it opens,
lists, creates or removes through Python is the same path under OPT_ML_FOLDER, so one run's jobs
never share a folder and nothing is written outside it. Native code that opens an /opt/ml path
itself (not through Python) is not mapped. Runs in the image look-alike: standard library only.
"""

from __future__ import annotations

import builtins
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


def _wrap(function: Any, mapped: Any, count: int) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args = tuple(mapped(arg) if n < count else arg for n, arg in enumerate(args))
        for name in ("file", "path", "src", "dst"):
            if name in kwargs:
                kwargs[name] = mapped(kwargs[name])
        return function(*args, **kwargs)

    return wrapper


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


def main() -> None:
    folder = os.environ.pop("OPT_ML_FOLDER")
    mapped = install(folder)
    sys.modules.setdefault("container_paths", sys.modules[__name__])  # the program may import local_path
    program = sys.argv[1]
    sys.argv = sys.argv[1:]
    # The import system reads sys.path without Python's os functions: a PYTHONPATH folder of the job
    # under /opt/ml (Evaluate's run-report module) is mapped here instead.
    sys.path[:] = [mapped(entry) for entry in sys.path]
    sys.path.insert(0, os.path.dirname(mapped(program)))
    runpy.run_path(mapped(program), run_name="__main__")


if __name__ == "__main__":
    main()
