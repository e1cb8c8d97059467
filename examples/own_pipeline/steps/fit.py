"""Fit: a linear model on the prepared rows; the last column is the target. Writes metrics.json.

python fit.py --approval-status PendingManualApproval
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

PREPARED = Path("/opt/ml/processing/prepared")
OUTPUT = Path("/opt/ml/processing/metrics")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--approval-status", required=True)
    args = parser.parse_args()
    frame = pd.read_csv(PREPARED / "prepared.csv")
    features, target = frame.iloc[:, :-1], frame.iloc[:, -1]
    model = LinearRegression().fit(features, target)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    metrics = {"r2": float(r2_score(target, model.predict(features))), "approval_status": args.approval_status}
    (OUTPUT / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    print(f"R2 {metrics['r2']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
