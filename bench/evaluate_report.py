"""P15: what drawing the run report (report.html) adds to Evaluate, on the 200,000-row data set of P9.

The data set is Preprocess's on P9's file (200,000 rows x 20 columns, so 30,000-odd test rows), the
model the image's built-in algorithm trains with the pipeline's hyperparameters. Evaluate then runs in
its image's look-alike with the report module beside it (value) and alone, so that the report is not
drawn (baseline): the same script, rows and model otherwise; model_quality.json is written by both.
Each is run twice, alternately, in a fresh process; the faster of each pair counts. No model group:
production and the registry's history are not looked up (they need AWS).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.figures import Figure
from bench.preprocess_scale import ROWS, write_data
from emulator.pipeline_runner import train_with_the_algorithm
from emulator.step_environments import environment
from pipeline.definition import HYPERPARAMETERS
from pipeline.images import SKLEARN, XGBOOST

STEPS = Path(__file__).resolve().parents[1] / "pipeline" / "steps"
GATES = (
    *("--min-r2", "0.1", "--min-auc", "0.6", "--min-accuracy-lift", "0.05", "--mse-threshold", "0"),
    *("--min-improvement", "0", "--auto-approve", "false", "--approval-status", "PendingManualApproval"),
    *("--model-package-group", "", "--region", "us-east-1"),
)
GOAL = 1.2  # the report adds at most 20% to Evaluate's time


def prepared(base: Path) -> None:
    """Preprocess's outputs and a trained model.tar.gz under ``base``, as Evaluate's inputs."""
    write_data(base)
    preprocessed_and_trained(base)


def preprocessed_and_trained(base: Path) -> None:
    """Preprocess on the data under ``base``/input/data, then the image's algorithm on its train split."""
    preprocess = [str(environment(SKLEARN).python), str(STEPS / "preprocess.py"), "--target-column", "target"]
    subprocess.run([*preprocess, "--base-dir", str(base)], check=True, capture_output=True)  # noqa: S603
    report = json.loads((base / "report" / "data_report.json").read_text(encoding="utf-8"))
    hyperparameters = {name: str(value) for name, value in HYPERPARAMETERS.items()}
    hyperparameters |= {"objective": report["training"]["objective"], "eval_metric": report["training"]["eval_metric"]}
    train_with_the_algorithm(base / "train", hyperparameters, base / "training", base / "model" / "model.tar.gz")


def evaluate_seconds(script: Path, base: Path) -> float:
    started = time.monotonic()
    command = [str(environment(XGBOOST).python), str(script), *GATES, "--base-dir", str(base)]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603
    return time.monotonic() - started


def measure() -> Figure:
    with tempfile.TemporaryDirectory() as scratch:
        base, alone = Path(scratch) / "run", Path(scratch) / "alone"
        prepared(base)
        alone.mkdir()
        shutil.copy(STEPS / "evaluate.py", alone / "evaluate.py")  # without run_report.py: no report
        with_report, without = [], []
        for _ in range(2):
            without.append(evaluate_seconds(alone / "evaluate.py", base))
            with_report.append(evaluate_seconds(STEPS / "evaluate.py", base))
        drawn = json.loads((base / "evaluation" / "evaluation.json").read_text(encoding="utf-8"))["report"]
        if not drawn.get("drawn"):
            raise RuntimeError(f"the report was not drawn: {drawn.get('reason')}")
        size = (base / "evaluation" / "report.html").stat().st_size
    return Figure(
        name="P15",
        what=f"Evaluate with the run report ({size / 1e6:.2f} MB) / without, {ROWS:,}-row data set (regression)",
        value=min(with_report),
        baseline=min(without),
        unit="s",
        goal=GOAL,
    )


if __name__ == "__main__":
    print(json.dumps(measure().as_dict()))
