"""Evaluate scores a test split of several part files chunk by chunk, with memory that does not grow with rows.

Each case runs pipeline/steps/evaluate.py in the XGBoost image's look-alike, as the pipeline does, on a
model trained by the imitated built-in algorithm. Metrics that need every score (AUC, the curves) are
exact up to --exact-rows test rows and computed on a uniform sample beyond: lowered here to take that path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.pipeline_runner import train_with_the_algorithm
from tests.pipeline.conftest import RunScript

# Its module-scoped fixtures are built once: every test of the file runs on the same worker.
pytestmark = pytest.mark.xdist_group("test_evaluate_chunks")

ROWS = 1200
GATES = (
    *("--min-r2", "0.1", "--min-auc", "0.6", "--min-accuracy-lift", "0.05", "--mse-threshold", "0"),
    *("--min-improvement", "0", "--auto-approve", "false", "--approval-status", "PendingManualApproval"),
    *("--model-package-group", "", "--region", "us-east-1"),
)
PROBLEMS: dict[str, dict[str, Any]] = {
    "regression": {"hyperparameters": {"objective": "reg:squarederror"}, "baseline": {"mean": 0.3}},
    "binary": {"hyperparameters": {"objective": "binary:logistic"}, "baseline": {"class_shares": [0.55, 0.45]}},
    "multiclass": {
        "hyperparameters": {"objective": "multi:softprob", "num_class": "3"},
        "baseline": {"class_shares": [0.4, 0.35, 0.25]},
    },
}


def table(problem_type: str, rows: int, seed: int) -> np.ndarray:
    """Label first, then 4 features with a known signal."""
    generator = np.random.default_rng(seed)
    features = generator.normal(size=(rows, 4))
    signal = features[:, 0] - 0.8 * features[:, 1] + 0.5 * features[:, 2] * features[:, 3]
    noisy = signal + generator.normal(scale=0.6, size=rows)
    labels = {"regression": noisy, "binary": noisy > 0, "multiclass": np.digitize(noisy, [-0.5, 0.7])}[problem_type]
    return np.column_stack([np.asarray(labels, dtype=float), features])


def write_parts(folder: Path, rows: np.ndarray, parts: int, empty: int = 0) -> None:
    """``rows`` as ``parts`` part files, then ``empty`` part files with no rows (as a split written as
    more files than it has rows)."""
    folder.mkdir(parents=True)
    for number, chunk in enumerate(np.array_split(rows, parts)):
        np.savetxt(folder / f"part-{number:05d}.csv", chunk, delimiter=",", fmt="%.17g")
    for number in range(parts, parts + empty):
        (folder / f"part-{number:05d}.csv").write_bytes(b"")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, image_environments: None) -> dict[str, Path]:
    """A model of each problem type, trained once, in model.tar.gz as the algorithm writes it."""
    models = {}
    for problem_type, problem in PROBLEMS.items():
        base = tmp_path_factory.mktemp(problem_type)
        write_parts(base / "train", table(problem_type, 2000, 1), 1)
        hyperparameters = {"num_round": "20", **problem["hyperparameters"]}
        train_with_the_algorithm(base / "train", hyperparameters, base / "work", base / "model.tar.gz")
        models[problem_type] = base / "model.tar.gz"
    return models


def evaluate(run_step: RunScript, base: Path, problem_type: str, model: Path, *options: str) -> dict[str, Any]:
    (base / "model").mkdir(parents=True)
    shutil.copy(model, base / "model" / "model.tar.gz")
    (base / "report").mkdir()
    report = {"problem_type": {"chosen": problem_type}, "baseline": PROBLEMS[problem_type]["baseline"]}
    (base / "report" / "data_report.json").write_text(json.dumps(report))
    result = run_step("evaluate.py", base, *GATES, *options)
    assert result.returncode == 0, result.stderr
    return dict(json.loads((base / "evaluation" / "evaluation.json").read_text()))


@pytest.mark.parametrize("problem_type", list(PROBLEMS))
def test_part_files_and_empty_ones_give_the_metrics_of_one_file(run_step, trained, tmp_path, problem_type):
    rows = table(problem_type, ROWS, 2)
    write_parts(tmp_path / "one" / "test", rows, 1)
    write_parts(tmp_path / "parts" / "test", rows, 4, empty=2)

    whole = evaluate(run_step, tmp_path / "one", problem_type, trained[problem_type])
    parts = evaluate(run_step, tmp_path / "parts", problem_type, trained[problem_type])

    assert parts["metrics"] == whole["metrics"]
    assert parts["baseline_metrics"] == whole["baseline_metrics"]
    assert parts["rows"] == {"test": ROWS}
    assert parts["scoring"]["exact"] is True
    assert parts["scoring"]["statement"].startswith(
        f"AUC, the curves, the standard deviations and the pictures: exact on {ROWS:,} rows"
    )


@pytest.mark.parametrize("problem_type", list(PROBLEMS))
def test_above_the_exact_rows_auc_is_taken_on_a_stated_uniform_sample_and_the_rest_on_every_row(
    run_step, trained, tmp_path, problem_type
):
    rows = table(problem_type, ROWS, 3)
    for name in ("exact", "sampled"):
        write_parts(tmp_path / name / "test", rows, 3, empty=1)

    exact = evaluate(run_step, tmp_path / "exact", problem_type, trained[problem_type])
    sampled = evaluate(run_step, tmp_path / "sampled", problem_type, trained[problem_type], "--exact-rows", "500")

    assert sampled["scoring"] == {
        "rows": ROWS,
        "exact": False,
        "sample_rows": 500,
        "exact_rows_limit": 500,
        "sample_seed": 0,
        "statement": "AUC, the curves, the standard deviations and the pictures: on a uniform sample of 500 "
        f"of {ROWS:,} rows; the other metrics on all {ROWS:,} rows",
    }
    for which in ("metrics", "baseline_metrics"):
        summed = {name: value for name, value in sampled[which].items() if name != "auc"}
        assert summed == pytest.approx({name: exact[which][name] for name in summed}, rel=1e-6)
    if problem_type == "binary":
        assert sampled["metrics"]["auc"] == pytest.approx(exact["metrics"]["auc"], abs=0.05)
        assert sampled["metrics"]["auc"] != exact["metrics"]["auc"]
    page = (tmp_path / "sampled" / "evaluation" / "report.html").read_text()
    assert f"the pictures: on a uniform sample of 500 of {ROWS:,} rows; the other metrics on all" in page
