"""The step scripts on their own, as `python preprocess.py ...` runs them in (or out of) a container."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost

from emulator.sample_data import diabetes_csv

STEPS = Path(__file__).resolve().parents[2] / "pipeline" / "steps"


def run_script(script: str, base: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(STEPS / script), *arguments, "--base-dir", str(base)],
        capture_output=True,
        text=True,
        check=False,
    )


def with_input(tmp_path: Path, content: bytes, name: str = "data.csv") -> Path:
    folder = tmp_path / "input" / "data"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(content)
    return tmp_path


def test_preprocess_writes_label_first_headerless_splits(tmp_path):
    base = with_input(tmp_path, diabetes_csv())

    result = run_script("preprocess.py", base, "--target-column", "target")

    assert result.returncode == 0, result.stderr
    parts = {
        name: np.loadtxt(base / name / f"{name}.csv", delimiter=",", ndmin=2)
        for name in ("train", "validation", "test")
    }
    assert sum(len(part) for part in parts.values()) == 442
    assert [len(parts[name]) for name in ("train", "validation", "test")] == [309, 66, 67]
    original = pd.read_csv(io.BytesIO(diabetes_csv()))
    assert set(parts["train"][:, 0]) <= set(original["target"])  # the label column comes first
    assert parts["train"].shape[1] == original.shape[1]


def test_preprocess_one_hot_encodes_categorical_columns(tmp_path):
    frame = pd.DataFrame({"colour": ["red", "blue"] * 10, "size": range(20), "target": range(20)})
    base = with_input(tmp_path, frame.to_csv(index=False).encode())

    result = run_script("preprocess.py", base, "--target-column", "target")

    assert result.returncode == 0, result.stderr
    train = np.loadtxt(base / "train" / "train.csv", delimiter=",", ndmin=2)
    assert train.shape[1] == 1 + 1 + 2  # label, size, colour_blue, colour_red
    assert set(np.unique(train[:, 2:])) <= {0.0, 1.0}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "data.csv is empty"),
        (b"a,b,target\n", "the file has a header but no data rows"),
        (b"a,b\n" + b"1,2\n" * 20, "target column 'target' is missing; the columns are: a, b"),
        (
            b"a,target\n" + b"1,2\n" * 19 + b"1,lots\n",
            "target column 'target' has 1 non-numeric or empty value(s), first at data row 20: 'lots'",
        ),
        (b"a,target\n" + b"1,2\n" * 5, "only 5 data rows; at least 10 are needed"),
        (
            b"a,target\n" + b"1,2\n" * 19 + b"oops,2\n",
            "column 'a' is numeric but holds non-numeric values such as 'oops'",
        ),
    ],
)
def test_preprocess_refuses_bad_data_with_a_readable_reason(tmp_path, content, reason):
    base = with_input(tmp_path, content)

    result = run_script("preprocess.py", base, "--target-column", "target")

    assert result.returncode == 1
    assert f"ERROR: {reason}" in result.stderr
    assert not (base / "train").exists()


def test_evaluate_reports_the_metrics_of_the_model_on_the_test_split(tmp_path):
    rng = np.random.default_rng(7)
    features = rng.normal(size=(60, 3))
    labels = features @ np.array([2.0, -1.0, 0.5]) + rng.normal(scale=0.1, size=60)
    booster = xgboost.train({"objective": "reg:squarederror"}, xgboost.DMatrix(features, label=labels), 20)
    (tmp_path / "model").mkdir()
    model_file = tmp_path / "xgboost-model.ubj"
    booster.save_model(str(model_file))
    with tarfile.open(tmp_path / "model" / "model.tar.gz", "w:gz") as archive:
        archive.add(model_file, arcname="xgboost-model")
    (tmp_path / "test").mkdir()
    np.savetxt(tmp_path / "test" / "test.csv", np.column_stack([labels, features]), delimiter=",")

    result = run_script("evaluate.py", tmp_path)

    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    predicted = booster.predict(xgboost.DMatrix(features))
    expected_mse = float(np.mean((labels - predicted) ** 2))
    assert report["regression_metrics"]["mse"]["value"] == pytest.approx(expected_mse)
    assert report["regression_metrics"]["rmse"]["value"] == pytest.approx(expected_mse**0.5)
    assert 0.0 < report["regression_metrics"]["r2"]["value"] <= 1.0
    assert report["rows"] == {"test": 60}
