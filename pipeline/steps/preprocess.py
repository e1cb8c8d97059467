"""Preprocess: validate the uploaded CSV, encode it and split it for the built-in XGBoost algorithm.

Runs in the SageMaker scikit-learn container, or on its own:

    python preprocess.py --target-column target --base-dir /tmp/processing

Reads every CSV under {base-dir}/input/data (one header row each), writes train/validation/test CSVs
with the label first and no header under {base-dir}/train, /validation and /test.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

SPLIT_SEED = 20261122
TRAIN_FRACTION = 0.70
VALIDATION_FRACTION = 0.15
MIN_ROWS = 10


class DataError(ValueError):
    """The input cannot train a model; the message says why in words a data owner understands."""


def read_input(input_dir: Path) -> pd.DataFrame:
    files = sorted(path for path in input_dir.rglob("*") if path.is_file())
    if not files:
        raise DataError(f"no input file found under {input_dir}")
    frames = []
    for path in files:
        try:
            frames.append(pd.read_csv(path))
        except pd.errors.EmptyDataError:
            raise DataError(f"{path.name} is empty") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise DataError(f"{path.name} is not a readable CSV file: {error}") from None
    return pd.concat(frames, ignore_index=True)


def validate(frame: pd.DataFrame, target_column: str) -> None:
    if frame.empty:
        raise DataError("the file has a header but no data rows")
    if target_column not in frame.columns:
        columns = ", ".join(map(str, frame.columns[:20]))
        raise DataError(f"target column {target_column!r} is missing; the columns are: {columns}")
    target = pd.to_numeric(frame[target_column], errors="coerce")
    bad_rows = frame.index[target.isna()].tolist()
    if bad_rows:
        raise DataError(
            f"target column {target_column!r} has {len(bad_rows)} non-numeric or empty value(s), "
            f"first at data row {bad_rows[0] + 1}: {frame[target_column].iloc[bad_rows[0]]!r}"
        )
    if len(frame) < MIN_ROWS:
        raise DataError(f"only {len(frame)} data rows; at least {MIN_ROWS} are needed to train and evaluate")


def encode(frame: pd.DataFrame, target_column: str) -> pd.DataFrame:
    """Label first, then numeric features, then one-hot encoded categorical features."""
    label = pd.to_numeric(frame[target_column])
    features = frame.drop(columns=[target_column])
    numeric = features.select_dtypes(include="number")
    categorical = features.drop(columns=numeric.columns)
    for column in categorical.columns:
        values = categorical[column].dropna().astype(str)
        looks_numeric = pd.to_numeric(values, errors="coerce").notna()
        if len(values) and looks_numeric.mean() > 0.9:  # mostly numbers: garbage, not a category
            first = values[~looks_numeric].iloc[0]
            raise DataError(f"column {column!r} is numeric but holds non-numeric values such as {first!r}")
    parts = [label.rename(target_column), numeric.astype(float)]
    if len(categorical.columns):
        parts.append(pd.get_dummies(categorical.astype("string"), dummy_na=False, dtype=float))
    return pd.concat(parts, axis=1)


def split(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    shuffled = table.sample(frac=1.0, random_state=SPLIT_SEED).reset_index(drop=True)
    train_end = int(TRAIN_FRACTION * len(shuffled))
    validation_end = int((TRAIN_FRACTION + VALIDATION_FRACTION) * len(shuffled))
    return shuffled[:train_end], shuffled[train_end:validation_end], shuffled[validation_end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target-column", required=True)
    parser.add_argument("--base-dir", type=Path, default=Path("/opt/ml/processing"))
    args = parser.parse_args(argv)
    try:
        frame = read_input(args.base_dir / "input" / "data")
        validate(frame, args.target_column)
        table = encode(frame, args.target_column)
    except DataError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    for name, part in zip(("train", "validation", "test"), split(table), strict=True):
        out = args.base_dir / name
        out.mkdir(parents=True, exist_ok=True)
        part.to_csv(out / f"{name}.csv", header=False, index=False, float_format="%.10g")
        print(f"{name}: {len(part)} rows, {part.shape[1] - 1} features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
