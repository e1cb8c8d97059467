"""Preprocess, in the scikit-learn 1.2-1 image: the abalone CSV (no header; sex, seven measurements,
rings) -> train, validation and test CSVs (rings first, no header) with sex one-hot encoded and the
measurements standardised, split 70/15/15, and the test rows' features alone in batch/ for the batch
transform. Writes into its output folders without creating them, as
the samples' script does: SageMaker creates every ProcessingOutput folder before the job starts."""

import argparse
import glob

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MEASUREMENTS = ["length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight"]
COLUMNS = ["sex", *MEASUREMENTS, "rings"]
BASE = "/opt/ml/processing"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    files = sorted(glob.glob(f"{BASE}/input/*.csv"))
    if not files:
        raise SystemExit(f"no CSV in {BASE}/input")
    frame = pd.concat([pd.read_csv(path, header=None, names=COLUMNS) for path in files], ignore_index=True)
    encode = ColumnTransformer(
        [("measurements", StandardScaler(), MEASUREMENTS), ("sex", OneHotEncoder(handle_unknown="ignore"), ["sex"])]
    )
    features = encode.fit_transform(frame[["sex", *MEASUREMENTS]])
    rows = np.column_stack([frame["rings"].to_numpy(dtype=float), features])
    np.random.default_rng(args.seed).shuffle(rows)
    train_end, validation_end = int(0.7 * len(rows)), int(0.85 * len(rows))
    splits = {"train": rows[:train_end], "validation": rows[train_end:validation_end], "test": rows[validation_end:]}
    for name, split in splits.items():
        pd.DataFrame(split).to_csv(f"{BASE}/{name}/{name}.csv", header=False, index=False)
    pd.DataFrame(splits["test"][:, 1:]).to_csv(f"{BASE}/batch/batch.csv", header=False, index=False)
    print(f"{len(rows)} rows from {len(files)} file(s): " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))


if __name__ == "__main__":
    main()
