"""The imitation of the built-in XGBoost 3.2-0 algorithm refuses what the real one refuses, and trains as it does.

Each case runs emulator/images/xgboost_algorithm.py in the XGBoost image's look-alike, as the local
runner does, with the files SageMaker would write to /opt/ml/input/config.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.pipeline_runner import ALGORITHM_SCRIPT
from emulator.step_environments import environment
from pipeline.images import XGBOOST

ROWS = "".join(f"{(n + 1) % 2},{n},{n * 0.5}\n" for n in range(40))
CSV = {"ContentType": "text/csv", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}
HYPERPARAMETERS = {"num_round": "5", "objective": "binary:logistic", "eval_metric": "logloss"}


@dataclass
class Outcome:
    returncode: int
    failure: str
    stdout: str

    @property
    def reason(self) -> str:
        """What the local runner reports, as SageMaker reports the failure file's message."""
        return self.failure.strip().splitlines()[-1] if self.failure.strip() else ""


def run_algorithm(
    base: Path,
    channels: dict[str, dict[str, str]],
    hyperparameters: dict[str, str] | None = None,
    data_config: dict[str, dict[str, str]] | None = None,
) -> Outcome:
    """``channels``: channel -> file name -> content, under base/input/data/<channel>/."""
    config = base / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters or HYPERPARAMETERS))
    (config / "inputdataconfig.json").write_text(json.dumps(data_config or dict.fromkeys(channels, CSV)))
    command = [str(environment(XGBOOST).python), str(ALGORITHM_SCRIPT)]
    for name, files in channels.items():
        folder = base / "input" / "data" / name
        folder.mkdir(parents=True)
        for file_name, content in files.items():
            (folder / file_name).write_text(content)
        command += ["--channel", f"{name}={folder}"]
    command += ["--hyperparameters", str(config / "hyperparameters.json")]
    command += ["--input-data-config", str(config / "inputdataconfig.json")]
    command += ["--model-dir", str(base / "model"), "--failure-file", str(base / "output" / "failure")]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    failure = base / "output" / "failure"
    return Outcome(completed.returncode, failure.read_text() if failure.exists() else "", completed.stdout)


def test_it_trains_on_label_first_csv_and_writes_xgboost_model_as_the_image_does(image_environments, tmp_path):
    outcome = run_algorithm(tmp_path, {"train": {"train.csv": ROWS}, "validation": {"validation.csv": ROWS}})

    assert outcome.returncode == 0, outcome.failure
    assert outcome.stdout.strip() == "xgboost 3.2.0, 5 rounds, objective binary:logistic"
    predict = (
        "import sys, xgboost; booster = xgboost.Booster(); booster.load_model(sys.argv[1]); "
        "print(booster.num_features(), booster.num_boosted_rounds())"
    )
    loaded = subprocess.run(
        [str(environment(XGBOOST).python), "-c", predict, str(tmp_path / "model" / "xgboost-model")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.split() == ["2", "5"]  # the label column is not a feature


@pytest.mark.parametrize(
    ("channels", "hyperparameters", "data_config", "reason"),
    [
        ({"train": {"t.csv": ROWS}, "test": {"t.csv": ROWS}}, None, None, "Extraneous channel found: test"),
        ({"validation": {"v.csv": ROWS}}, None, None, "Missing required channel: train"),
        (
            {"train": {"t.csv": ROWS}},
            {"num_round": "5", "objective": "multi:softprob"},
            None,
            "Require input for parameter 'num_class' for multi-classification",
        ),
        (
            {"train": {"t.csv": ROWS}},
            {"objective": "binary:logistic"},
            None,
            "Missing required hyperparameter: num_round",
        ),
        (
            {"train": {"t.csv": ROWS}},
            {"num_round": "5", "silent": "0"},
            None,
            "Extraneous hyperparameter found: silent",
        ),
        (
            {"train": {"t.csv": ROWS}},
            {"num_round": "5", "subsample": "0"},
            None,
            "Hyperparameter subsample: 0.0 is not in (0, 1]",
        ),
        (
            {"train": {"t.csv": ROWS}},
            {"num_round": "5", "objective": "multi:softprob", "num_class": "1"},
            None,
            "Hyperparameter num_class: 1 is not in [2, +inf)",
        ),
        (
            {"train": {"t.csv": ROWS}},
            {"num_round": "5", "objective": "reg:squarederror", "eval_metric": "auc"},
            None,
            "Metric 'auc' can only be applied for classification and ranking problems.",
        ),
        (
            {"train": {"t.csv": ROWS}},
            None,
            {"train": {**CSV, "ContentType": "application/json"}},
            "Channel configuration for 'train' channel is not supported: "
            "{'ContentType': 'application/json', 'TrainingInputMode': 'File', 'S3DistributionType': 'FullyReplicated'}",
        ),
        (
            {"train": {"t.csv": ROWS, ".hidden.csv": ROWS}},
            None,
            None,
            "Hidden file found in the data path! Remove that before training.",
        ),
        ({"train": {"t.csv": ""}}, None, None, "No data in training channel path"),
    ],
)
def test_what_the_algorithm_refuses_is_refused_with_its_message_in_the_failure_file(  # noqa: PLR0917
    image_environments, tmp_path, channels, hyperparameters, data_config, reason
):
    outcome = run_algorithm(tmp_path, channels, hyperparameters, data_config)

    assert outcome.returncode == 1
    assert outcome.failure.startswith("framework error: \nTraceback (most recent call last):")
    assert outcome.reason.startswith(reason)
    assert not (tmp_path / "model" / "xgboost-model").exists()


def test_a_channel_without_a_content_type_is_read_as_libsvm_as_the_algorithm_defaults(image_environments, tmp_path):
    libsvm = "".join(f"{n % 2} 1:{n} 2:{n * 0.5}\n" for n in range(40))

    as_default = run_algorithm(tmp_path / "libsvm", {"train": {"t.txt": libsvm}}, data_config={"train": {}})
    csv_without_type = run_algorithm(tmp_path / "csv", {"train": {"t.csv": ROWS}}, data_config={"train": {}})

    assert as_default.returncode == 0, as_default.failure
    assert csv_without_type.returncode == 1  # CSV rows are no libsvm lines
    assert csv_without_type.reason.endswith(
        "of file 't.csv' is not 'LIBSVM' format. Please ensure the file is in 'LIBSVM' format."
    )


def test_a_header_row_is_read_as_a_row_of_data_as_the_algorithm_reads_it(image_environments, tmp_path):
    # The 3.2-0 algorithm has no header handling: xgboost reads the header as one more row, label 0,
    # its features missing. Preprocess never writes one; a hand-made channel with a header trains on it.
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import xgboost_algorithm as a; "
        "m = a.load_channel('train', Path(sys.argv[2]), 'text/csv'); "
        "print(m.num_row(), m.num_col(), m.get_label()[:2].tolist())"
    )
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "train.csv").write_text("target,a,b\n" + ROWS)

    loaded = subprocess.run(
        [str(environment(XGBOOST).python), "-W", "ignore", "-c", code, str(ALGORITHM_SCRIPT.parent), str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )

    assert loaded.stdout.strip().split(maxsplit=2) == ["41", "2", "[0.0, 1.0]"]
