"""Evaluate: score the trained model on the test split and write evaluation.json.

Runs in the SageMaker XGBoost container, or on its own:

    python evaluate.py --base-dir /tmp/processing

Reads {base-dir}/model/model.tar.gz (holding `xgboost-model`) and {base-dir}/test/*.csv (label
first, no header); writes {base-dir}/evaluation/evaluation.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import xgboost


def load_model(model_dir: Path) -> xgboost.Booster:
    with tempfile.TemporaryDirectory() as unpacked, tarfile.open(model_dir / "model.tar.gz") as archive:
        member = archive.getmember("xgboost-model")  # the only file used; nothing else is unpacked
        if not member.isfile():
            raise ValueError("xgboost-model in model.tar.gz is not a regular file")
        archive.extract(member, unpacked)
        booster = xgboost.Booster()
        booster.load_model(str(Path(unpacked) / "xgboost-model"))
    return booster


def load_test(test_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(test_dir.glob("*.csv"))
    table = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    return table[:, 0], table[:, 1:]


def regression_report(actual: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    errors = actual - predicted
    mse = float(np.mean(errors**2))
    total = float(np.sum((actual - actual.mean()) ** 2))
    r2 = 1.0 - float(np.sum(errors**2)) / total if total > 0 else 0.0
    # The layout SageMaker Model Registry shows as model quality metrics.
    return {
        "regression_metrics": {
            "mse": {"value": mse, "standard_deviation": float(np.std(errors**2))},
            "rmse": {"value": math.sqrt(mse), "standard_deviation": float(np.std(errors))},
            "r2": {"value": r2, "standard_deviation": "NaN"},
        },
        "rows": {"test": len(actual)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-dir", type=Path, default=Path("/opt/ml/processing"))
    args = parser.parse_args(argv)
    booster = load_model(args.base_dir / "model")
    actual, features = load_test(args.base_dir / "test")
    predicted = booster.predict(xgboost.DMatrix(features))
    report = regression_report(actual, predicted)
    out = args.base_dir / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    metrics = report["regression_metrics"]
    print(f"mse={metrics['mse']['value']:.4g} rmse={metrics['rmse']['value']:.4g} r2={metrics['r2']['value']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
