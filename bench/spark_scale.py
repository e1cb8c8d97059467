"""P11 and P14: the Spark Preprocess at 1x, 2x and 4x a base size of synthetic data, the pandas one beside it.

    python -m bench.spark_scale [base MB]        (or SPARK_SCALE_BASE_MB; default 50: 50, 100, 200 MB,
                                                  about 30 minutes of Spark on 2 cores)

Each engine runs in its image's look-alike (the Spark one as the local runner runs a PySparkProcessor
job: local mode, two worker threads, a 1 GiB heap) on the same files: 20 columns, one of them an
identifier. Memory is each process's peak resident set (VmHWM), read from /proc while the job runs:
- Spark: in local mode the JVM is the driver and the executor; its Python workers (one per running
  task) do the per-row work. P11's figure is an executor's footprint: the JVM's peak plus the largest
  Python worker's peak.
- pandas: the one process.
P11 = that peak at 4x / at 1x (goal <= 1.5); P14 = the Spark path's time at 4x / at 1x (goal <= 4.4,
no worse than linear with its start-up). The pandas path's ratios are reported beside them, no goal.
Needs the Spark look-alike (`make step-envs SPARK=1`, created here when missing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.figures import Figure
from emulator import spark_job
from emulator.step_environments import create, environment
from pipeline.images import SKLEARN, SPARK

STEPS = Path(__file__).resolve().parents[1] / "pipeline" / "steps"
SCALES = (1, 2, 4)
CHUNK_ROWS = 10_000
SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float  # the figure's footprint: see the module's docstring
    detail: str


def write_data(path: Path, megabytes: float, seed: int = 20261127) -> None:
    """Synthetic rows (17 numbers, a category, an identifier, a target) until the file has this size."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8") as sink:
        while sink.tell() < megabytes * 1e6:
            frame = pd.DataFrame({f"x{n}": rng.normal(size=CHUNK_ROWS).round(6) for n in range(17)})
            frame.insert(0, "order_id", [f"ORD-{n:09d}" for n in range(written, written + CHUNK_ROWS)])
            frame["region"] = rng.choice(["north", "south", "east", "west"], size=CHUNK_ROWS)
            frame["target"] = (2 * frame["x0"] - frame["x1"] + rng.normal(size=CHUNK_ROWS)).round(6)
            frame.to_csv(sink, index=False, header=written == 0)
            written += CHUNK_ROWS


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            found.setdefault(parent, []).append(int(entry.name))
    return found


def _peaks_of_tree(root: int, peaks: dict[int, tuple[str, float]]) -> None:
    """Record the peak resident set (VmHWM, MiB) and the name of each process under root."""
    children, pending = _children(), [root]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            status = (Path("/proc") / str(pid) / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if "VmHWM" in fields:
            peaks[pid] = (fields["Name"].strip(), int(fields["VmHWM"].split()[0]) / 1024)


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, dict[int, tuple[str, float]]]:
    """Seconds of the command, and the peak memory of each process it started (itself left out), sampled
    while it runs."""
    peaks: dict[int, tuple[str, float]] = {}
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # noqa: S603
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            _peaks_of_tree(process.pid, peaks)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, errors = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{command[1]} failed: {errors[-3000:]}")
    own = peaks.pop(process.pid, ("", 0.0))
    return time.monotonic() - started, peaks or {process.pid: own}


def run_pandas(base: Path) -> Run:
    python = str(environment(SKLEARN).python)
    command = [python, str(STEPS / "preprocess.py"), "--target-column", "target", "--base-dir", str(base)]
    seconds, peaks = run_measured(command, dict(os.environ))
    return Run(seconds, max(peak for _, peak in peaks.values()), "one process")


def run_spark(base: Path) -> Run:
    python = create(SPARK, say=None).python
    env = {**os.environ, **spark_job.local_environment(python, [STEPS / "preprocess.py"], 2)}
    command = [str(python), str(STEPS / "preprocess_spark.py"), "--target-column", "target"]
    seconds, peaks = run_measured([*command, "--part-files", "2", "--base-dir", str(base)], env)
    jvm = max((peak for name, peak in peaks.values() if name == "java"), default=0.0)
    worker = max((peak for name, peak in peaks.values() if name.startswith("python")), default=0.0)
    return Run(seconds, jvm + worker, f"JVM {jvm:.0f} MiB + Python worker {worker:.0f} MiB")


def measure(base_mb: float) -> list[Figure]:
    runs: dict[str, dict[int, Run]] = {"pandas": {}, "spark": {}}
    with tempfile.TemporaryDirectory() as scratch:
        for scale in SCALES:
            data = Path(scratch) / f"x{scale}" / "input" / "data" / "orders.csv"
            write_data(data, base_mb * scale)
            for engine, run in (("pandas", run_pandas), ("spark", run_spark)):
                out = Path(scratch) / f"{engine}-x{scale}"
                out.mkdir()
                (out / "input").symlink_to(data.parent.parent, target_is_directory=True)
                runs[engine][scale] = run(out)
                print(f"{engine} x{scale}: {runs[engine][scale]}", file=sys.stderr, flush=True)
            data.unlink()
    return figures(runs, base_mb)


def figures(runs: dict[str, dict[int, Run]], base_mb: float) -> list[Figure]:
    size = f"{base_mb * 4:g} MB / {base_mb:g} MB of CSV"
    spark, pandas = runs["spark"], runs["pandas"]
    memory = f"(2x: {spark[2].peak_mib:.0f} MiB; 4x: {spark[4].detail})"
    return [
        Figure("P11", f"Spark Preprocess, executor peak memory, {size} {memory}", spark[4].peak_mib,
               spark[1].peak_mib, "MiB", 1.5),
        Figure("P14", f"Spark Preprocess, time, {size} (2x: {spark[2].seconds:.1f} s)", spark[4].seconds,
               spark[1].seconds, "s", 4.4),
        Figure("P11-pandas", f"pandas Preprocess, peak memory, {size} (2x: {pandas[2].peak_mib:.0f} MiB)",
               pandas[4].peak_mib, pandas[1].peak_mib, "MiB", None),
        Figure("P14-pandas", f"pandas Preprocess, time, {size} (2x: {pandas[2].seconds:.1f} s)",
               pandas[4].seconds, pandas[1].seconds, "s", None),
    ]  # fmt: skip


if __name__ == "__main__":
    base = float(sys.argv[1]) if len(sys.argv) > 1 else float(os.environ.get("SPARK_SCALE_BASE_MB", "50"))
    print(json.dumps([figure.as_dict() for figure in measure(base)]))
