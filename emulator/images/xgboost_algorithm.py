"""The built-in XGBoost algorithm's training, as its 1.7-1 image runs it (Python 3.8, xgboost 1.7.4).

    python xgboost_algorithm.py --hyperparameters hp.json --channel train=DIR [--channel validation=DIR]
        --model-dir DIR --failure-file FILE

What it imitates: the hyperparameters arrive as strings and are checked as the algorithm checks
them (num_round required; num_class, at least 2, required by the multi: objectives);
channels are CSV with the label in the first column and no header; the model is saved with
`Booster.save_model` to `xgboost-model` (xgboost's own binary format for that file name).
A refusal is written to the failure file, as the algorithm writes /opt/ml/output/failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import xgboost

MULTI_OBJECTIVES = ("multi:softmax", "multi:softprob")


class ClientError(ValueError):
    """What the algorithm reports as `ClientError: ...` (bad hyperparameters or data)."""


def parse(hyperparameters: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, text in hyperparameters.items():
        try:
            number = float(text)
        except ValueError:
            values[name] = text
        else:
            values[name] = int(number) if number.is_integer() and "." not in text else number
    if "num_round" not in values:
        raise ClientError("Missing required hyperparameter: num_round")
    objective = values.get("objective", "reg:squarederror")
    if objective in MULTI_OBJECTIVES and "num_class" not in values:
        raise ClientError("Require input for parameter 'num_class' for multi-classification")
    if "num_class" in values and (not isinstance(values["num_class"], int) or values["num_class"] < 2):
        raise ClientError(f"Hyperparameter num_class: value {hyperparameters['num_class']!r} not in range [2, inf)")
    return values


def load_channel(folder: Path) -> xgboost.DMatrix:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    if not files:
        raise ClientError(f"No data in channel {folder.name}")
    table = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    return xgboost.DMatrix(table[:, 1:], label=table[:, 0])


def train(hyperparameters: dict[str, str], channels: dict[str, Path], model_dir: Path) -> str:
    values = parse(hyperparameters)
    rounds = values.pop("num_round")
    if "train" not in channels:
        raise ClientError("Channel 'train' is required")
    matrices = {name: load_channel(folder) for name, folder in channels.items()}
    evals = [(matrix, name) for name, matrix in matrices.items()]
    booster = xgboost.train(values, matrices["train"], num_boost_round=rounds, evals=evals, verbose_eval=False)
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / "xgboost-model"))
    return f"xgboost {xgboost.__version__}, {rounds} rounds, objective {values.get('objective')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hyperparameters", type=Path, required=True)
    parser.add_argument("--channel", action="append", default=[], help="NAME=DIR")
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--failure-file", type=Path, required=True)
    args = parser.parse_args(argv)
    channels = {name: Path(folder) for name, _, folder in (item.partition("=") for item in args.channel)}
    try:
        print(train(json.loads(args.hyperparameters.read_text()), channels, args.model_dir))
    except (ClientError, xgboost.core.XGBoostError) as error:
        message = str(error).strip().splitlines()[0]
        args.failure_file.write_text(f"ClientError: {message}", encoding="utf-8")
        print(f"ClientError: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
