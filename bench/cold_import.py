"""P2: cold import of the trigger handler module, against a bare `import boto3`, in fresh interpreters."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.figures import Figure
from bench.lambda_setup import FUNCTION_ENVIRONMENT

FUNCTION_DIR = Path(__file__).resolve().parents[1] / "functions" / "trigger"
RUNS = 7


def median_seconds(code: str) -> float:
    environment = {**os.environ, **FUNCTION_ENVIRONMENT}
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=FUNCTION_DIR, env=environment, check=True)  # noqa: S603
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure() -> Figure:
    baseline = median_seconds("import boto3")
    value = median_seconds("import app")
    return Figure(
        name="P2",
        what=f"cold import of the handler module / bare `import boto3` (median of {RUNS} fresh interpreters)",
        value=value,
        baseline=baseline,
        unit="s",
        goal=1.3,
    )


if __name__ == "__main__":
    print(json.dumps(measure().as_dict()))
