"""Prepare: read the CSV the job was given, drop rows with a missing value, write it back.

python prepare.py            (inside the job: /opt/ml/processing/input/data -> /opt/ml/processing/prepared)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

INPUT = Path("/opt/ml/processing/input/data")
OUTPUT = Path("/opt/ml/processing/prepared")


def main() -> int:
    files = sorted(path for path in INPUT.rglob("*") if path.is_file())
    if not files:
        Path("/opt/ml/output/message").parent.mkdir(parents=True, exist_ok=True)
        Path("/opt/ml/output/message").write_text(f"no input file under {INPUT}", encoding="utf-8")
        return 1
    frame = pd.concat([pd.read_csv(path) for path in files]).dropna()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUTPUT / "prepared.csv", index=False)
    print(f"{len(frame)} rows from {len(files)} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
