"""P9 and P10: Preprocess on 200,000 rows x 20 columns with an identifier column, in its image's look-alike.

Baseline: a bare `pandas.read_csv` of the same file, in the same environment (same Python, same pandas),
each measured in a fresh process: wall time (P9) and peak resident memory (P10).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.figures import Figure
from emulator.step_environments import environment
from pipeline.images import SKLEARN

ROWS = 200_000
SCRIPT = Path(__file__).resolve().parents[1] / "pipeline" / "steps" / "preprocess.py"
# Runs a command and prints the peak resident memory of that child, in KiB.
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def write_data(folder: Path) -> Path:
    rng = np.random.default_rng(20261123)
    frame = pd.DataFrame({f"x{n}": rng.normal(size=ROWS) for n in range(17)})
    frame.insert(0, "order_id", [f"ORD-{n:08d}" for n in range(ROWS)])
    frame["region"] = rng.choice(["north", "south", "east", "west"], size=ROWS)
    frame["target"] = 2 * frame["x0"] - frame["x1"] + rng.normal(size=ROWS)
    path = folder / "input" / "data" / "orders.csv"
    path.parent.mkdir(parents=True)
    frame.to_csv(path, index=False)
    return path


def measure_command(*command: str) -> tuple[float, float]:
    """Seconds and peak MiB of one run of ``command`` in a fresh process."""
    started = time.monotonic()
    peak_kib = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True, check=True)  # noqa: S603
    return time.monotonic() - started, int(peak_kib.stdout.strip()) / 1024


def measure() -> list[Figure]:
    python = str(environment(SKLEARN).python)
    with tempfile.TemporaryDirectory() as scratch:
        data = write_data(Path(scratch))
        read_seconds, read_mib = measure_command(python, "-c", f"import pandas; pandas.read_csv({str(data)!r})")
        seconds, mib = measure_command(
            python, str(SCRIPT), "--target-column", "target", "--base-dir", str(Path(scratch))
        )
    what = f"Preprocess, {ROWS:,} rows x 20 columns with an identifier column, / bare pandas.read_csv"
    return [
        Figure(name="P9", what=f"{what} (time)", value=seconds, baseline=read_seconds, unit="s", goal=None),
        Figure(
            name="P10",
            what=f"{what} (peak memory)",
            value=mib,
            baseline=read_mib,
            unit="MiB",
            goal=1024,
            goal_on="value",
        ),
    ]


if __name__ == "__main__":
    print(json.dumps([figure.as_dict() for figure in measure()]))
