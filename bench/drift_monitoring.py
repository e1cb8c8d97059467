"""P17: a monitoring execution's analysis of a day of captured requests at 10 requests a second /
a bare pandas read of the same capture records; P17m: its peak resident memory (goal under 1 GB).

The records are written as data capture writes them (emulator/data_capture.py: JSON Lines, a file
per minute here, as SageMaker buffers them), each request one headerless CSV row of the baseline's
ten numeric columns, the way a caller sends a single prediction. The execution's work is
emulator/model_monitor.py `analyse_records`: the records read as rows, their statistics and the
violations against the baseline (the last quarter of the day drifted). The baseline is `pandas.read_json`
of the same files (lines=True): reading the records, no analysis. Each runs in a fresh process;
reading from S3 is left out of both (moto holds S3 in memory).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.figures import Figure
from emulator.data_capture import record

REQUESTS_PER_SECOND = 10
SECONDS = 24 * 3600
FILE_SECONDS = 60
COLUMNS = 10
CAPTURE = {
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
}

# The child's own measurement: seconds and peak resident memory (KiB) of the analysis or the read.
CHILD = """
import json, resource, sys, time
from pathlib import Path
started = time.perf_counter()
files = sorted(Path(sys.argv[2]).glob("*.jsonl"))
if sys.argv[1] == "analyse":
    from emulator.model_monitor import analyse_records
    baseline = json.loads(Path(sys.argv[3]).read_text())
    records = (json.loads(line) for path in files for line in path.read_text().splitlines() if line)
    _, found = analyse_records(records, baseline["statistics"], baseline["constraints"])
    assert found, "the drifted quarter of the day was not found"
else:
    import pandas as pd
    frame = pd.concat([pd.read_json(path, lines=True) for path in files], ignore_index=True)
    assert len(frame) > 0
print(json.dumps({"seconds": time.perf_counter() - started,
                  "kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def write_day(folder: Path, seconds: int) -> Path:
    """A day of capture files, and the baseline of the undrifted distribution; the baseline's path."""
    import pandas as pd

    from pipeline.steps import data_quality

    rng = np.random.default_rng(0)
    names = [f"f{n}" for n in range(COLUMNS)]
    start = datetime(2026, 12, 6, tzinfo=UTC)
    for minute in range(seconds // FILE_SECONDS):
        values = rng.normal(0, 1, (FILE_SECONDS * REQUESTS_PER_SECOND, COLUMNS)).round(4)
        if minute >= seconds // FILE_SECONDS * 3 // 4:
            values[:, 0] += 2.0  # the last quarter of the day: f0 drifted by two standard deviations
        at = start + timedelta(minutes=minute)
        lines = [
            record(CAPTURE, (",".join(map(str, row)).encode(), "text/csv"), (b"0.5", "text/csv"), at) for row in values
        ]
        (folder / f"{minute:05d}.jsonl").write_text("".join(lines), encoding="utf-8")
    training = pd.DataFrame(rng.normal(0, 1, (20_000, COLUMNS)).round(4), columns=names)
    statistics = data_quality.statistics(training)
    baseline = folder.parent / "baseline.json"
    baseline.write_text(json.dumps({"statistics": statistics, "constraints": data_quality.constraints(statistics)}))
    return baseline


def child(*arguments: str) -> dict[str, float]:
    completed = subprocess.run(  # noqa: S603 - the bench's own child
        [sys.executable, "-c", CHILD, *arguments], capture_output=True, text=True, check=True
    )
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def measure(seconds: int = SECONDS) -> list[Figure]:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "capture"
        folder.mkdir()
        baseline = write_day(folder, seconds)
        analysed = child("analyse", str(folder), str(baseline))
        read = child("read", str(folder))
    records = seconds * REQUESTS_PER_SECOND
    return [
        Figure(
            name="P17",
            what=f"a monitoring execution's analysis of {records:,} captured requests (a day at "
            f"{REQUESTS_PER_SECOND}/s) / pandas.read_json of the same records",
            value=analysed["seconds"],
            baseline=read["seconds"],
            unit="s",
            goal=None,
        ),
        Figure(
            name="P17m",
            what="the analysis' peak resident memory (goal under 1 GB) / pandas.read_json's",
            value=analysed["kib"] / 1024,
            baseline=read["kib"] / 1024,
            unit="MiB",
            goal=1024,
            goal_on="value",
        ),
    ]


if __name__ == "__main__":
    started = time.perf_counter()
    day = int(sys.argv[1]) if len(sys.argv) > 1 else SECONDS
    print(json.dumps([figure.as_dict() for figure in measure(day)]))
