"""P18: `retrain-trigger --help` as users start it (the installed console script), against a bare
`python -c "import boto3"`, in fresh processes. Every command that talks to a deployed stack starts
the same way: the command line imports only what parsing needs, and a command's module when it runs."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from bench.figures import Figure, median_process_seconds

RUNS = 7


def measure() -> Figure:
    script = shutil.which("retrain-trigger", path=str(Path(sys.executable).parent))
    if script is None:
        raise SystemExit("bench P18: no retrain-trigger script beside this Python: run it with `make bench`")
    baseline = median_process_seconds([sys.executable, "-c", "import boto3"], RUNS)
    value = median_process_seconds([script, "--help"], RUNS)
    return Figure(
        name="P18",
        what=f"`retrain-trigger --help` / bare `python -c 'import boto3'` (median of {RUNS} fresh processes)",
        value=value,
        baseline=baseline,
        unit="s",
        goal=1.5,
    )


if __name__ == "__main__":
    print(json.dumps(measure().as_dict()))
