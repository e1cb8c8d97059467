"""P4: the local demo from upload to registered model, against the bare training script on the same data.

The baseline runs in the XGBoost image's look-alike (its Python, xgboost and pandas), where the demo trains.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from bench.figures import Figure
from emulator.demo import Demo
from emulator.sample_data import TARGET_COLUMN, diabetes_csv
from emulator.step_environments import environment
from pipeline.images import XGBOOST

BARE_SCRIPT = Path(__file__).resolve().parent / "bare_training.py"


def bare_training_seconds(data: bytes) -> float:
    with tempfile.NamedTemporaryFile(suffix=".csv") as csv:
        csv.write(data)
        csv.flush()
        started = time.monotonic()
        python = str(environment(XGBOOST).python)
        subprocess.run([python, str(BARE_SCRIPT), csv.name, TARGET_COLUMN], check=True, capture_output=True)  # noqa: S603
        return time.monotonic() - started


def measure() -> Figure:
    data = diabetes_csv()
    baseline = bare_training_seconds(data)
    outcome = Demo(say=lambda text: None).run()  # the demo's own upload: the same data
    if not outcome.ok or outcome.upload_to_registered_seconds is None:
        raise RuntimeError("the local demo did not end in a registered model")
    return Figure(
        name="P4",
        what="local demo, upload -> registered model, / bare training script (same data, XGBoost image look-alike)",
        value=outcome.upload_to_registered_seconds,
        baseline=baseline,
        unit="s",
        goal=None,
    )


if __name__ == "__main__":
    print(json.dumps(measure().as_dict()))
