"""The functions' environment in the `dev` stack of the sample account, as `sam local invoke
--env-vars events/env.json` gives it: the shared `Parameters` (the template's Globals), then what
the function adds. A test keeps the file equal to the template."""

from __future__ import annotations

import json

from emulator import project

ENV_FILE = project.ROOT / "events" / "env.json"


def function_environment(function: str = "RunStatusFunction") -> dict[str, str]:
    """One function's environment (RunStatusFunction's holds every variable any function reads)."""
    env: dict[str, dict[str, str]] = json.loads(ENV_FILE.read_text(encoding="utf-8"))
    return {**env["Parameters"], **env.get(function, {})}
