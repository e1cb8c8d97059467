"""The baseline of P4: train and evaluate XGBoost on a CSV by hand, with nothing around it.

Runs in the XGBoost image's look-alike (Python 3.12, xgboost 3.2.0, pandas 2.2.3).

python bench/bare_training.py data.csv target
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import xgboost


def main(path: str, target: str) -> float:
    frame = pd.read_csv(path).sample(frac=1.0, random_state=0).reset_index(drop=True)
    labels = frame.pop(target).to_numpy(dtype=float)
    features = frame.to_numpy(dtype=float)
    train_end, validation_end = int(0.70 * len(frame)), int(0.85 * len(frame))
    train = xgboost.DMatrix(features[:train_end], label=labels[:train_end])
    params = {"objective": "reg:squarederror", "max_depth": 5, "eta": 0.2, "subsample": 0.7}
    booster = xgboost.train(params, train, num_boost_round=50)
    predicted = booster.predict(xgboost.DMatrix(features[validation_end:]))
    return float(np.mean((labels[validation_end:] - predicted) ** 2))


if __name__ == "__main__":
    print(f"mse={main(sys.argv[1], sys.argv[2]):.1f}")
