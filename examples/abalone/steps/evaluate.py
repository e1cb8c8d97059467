"""Evaluate, in the XGBoost 1.7-1 image: Train's model (xgboost-model in model.tar.gz, saved by the
built-in algorithm with Booster.save_model) on the test split -> evaluation.json with the mean squared
error in the samples' shape: {"regression_metrics": {"mse": {"value": ..., "standard_deviation": ...}}}."""

import json
import pathlib
import tarfile

import numpy as np
import pandas as pd
import xgboost

BASE = pathlib.Path("/opt/ml/processing")


def main() -> None:
    with tarfile.open(BASE / "model" / "model.tar.gz") as archive:
        archive.extractall(BASE / "model")  # noqa: S202 - the model Train just wrote
    booster = xgboost.Booster()
    booster.load_model(str(BASE / "model" / "xgboost-model"))
    test = pd.read_csv(BASE / "test" / "test.csv", header=None)
    labels, features = test.iloc[:, 0].to_numpy(), test.iloc[:, 1:]
    predictions = booster.predict(xgboost.DMatrix(features.to_numpy()))
    errors = (labels - predictions) ** 2
    report = {
        "regression_metrics": {"mse": {"value": float(np.mean(errors)), "standard_deviation": float(np.std(errors))}}
    }
    (BASE / "evaluation").mkdir(parents=True, exist_ok=True)
    (BASE / "evaluation" / "evaluation.json").write_text(json.dumps(report))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
