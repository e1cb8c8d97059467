"""P2: cold import of the trigger handler module, against a bare `import boto3`, in fresh interpreters."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bench.figures import Figure, median_process_seconds
from bench.lambda_setup import FUNCTION_ENVIRONMENT

FUNCTION_DIR = Path(__file__).resolve().parents[1] / "functions" / "trigger"
RUNS = 7


def median_seconds(code: str) -> float:
    environment = {**os.environ, **FUNCTION_ENVIRONMENT}
    return median_process_seconds([sys.executable, "-c", code], RUNS, cwd=FUNCTION_DIR, env=environment)


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
