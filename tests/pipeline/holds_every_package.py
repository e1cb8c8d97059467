"""Run by a look-alike's own Python: each distribution named (name==version) is installed at that
version, and each of its top-level modules imports. Prints what is not so, as JSON ({} when all is)."""

import importlib
import importlib.util
import json
import re
import sys
from importlib import metadata


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def modules_of() -> dict[str, set[str]]:
    """Each distribution's top-level modules, as importlib.metadata.packages_distributions (3.10+) reads
    them: top_level.txt, else the first part of each .py file it installed (the samples' images run 3.9)."""
    found: dict[str, set[str]] = {}
    for distribution in metadata.distributions():
        listed = (distribution.read_text("top_level.txt") or "").split()
        from_files = {
            file.parts[0] if len(file.parts) > 1 else file.stem
            for file in distribution.files or ()
            if file.suffix == ".py" and not file.parts[0].endswith((".dist-info", ".egg-info", ".data", ".."))
        }
        found.setdefault(normalized(distribution.metadata["Name"]), set()).update(listed or from_files)
    return found


def installs(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # imported already, by a module that replaced itself (werkzeug 0.15)
        return True


def problems(pins: list[str]) -> dict[str, str]:
    modules, found = modules_of(), {}
    for pin in pins:
        name, version = pin.split("==", 1)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[pin] = "not installed"
            continue
        if installed != version:
            found[pin] = f"installed at {installed}"
        # a distribution with no module of its own (enum-compat) holds nothing to import
        # a name top_level.txt lists without installing it (xgboost 1.7's libxgboost) is no module
        listed = (m for m in modules.get(normalized(name), ()) if not m.startswith("_"))
        for module in sorted(m for m in listed if installs(m)):
            try:
                importlib.import_module(module)
            except BaseException as error:  # noqa: BLE001 - any failure to import is the finding
                found[pin] = f"import {module}: {type(error).__name__}: {error}"
    return found


if __name__ == "__main__":
    print(json.dumps(problems(sys.argv[1:])))
