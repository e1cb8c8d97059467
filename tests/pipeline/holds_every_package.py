"""Run by a look-alike's own Python: each distribution named (name==version) is installed at that
version, and each of its top-level modules imports. Prints what is not so, as JSON ({} when all is)."""

import importlib
import json
import re
import sys
from importlib import metadata


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def modules_of() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for module, distributions in metadata.packages_distributions().items():
        for distribution in distributions:
            found.setdefault(normalized(distribution), set()).add(module)
    return found


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
        for module in sorted(m for m in modules.get(normalized(name), ()) if not m.startswith("_")):
            try:
                importlib.import_module(module)
            except BaseException as error:  # noqa: BLE001 - any failure to import is the finding
                found[pin] = f"import {module}: {type(error).__name__}: {error}"
    return found


if __name__ == "__main__":
    print(json.dumps(problems(sys.argv[1:])))
