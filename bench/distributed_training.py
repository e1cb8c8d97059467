"""P12 and P13: the built-in algorithm's training on 4 hosts against 1 host, on the same synthetic data.

Bench-only (minutes at the base size). The imitated 3.2-0 algorithm runs in the XGBoost image's
look-alike, each host a process with its own /opt/ml folder, its resourceconfig.json and its
share of the train and validation splits' part files as the pipeline's Train step distributes them
(pipeline/definition.py, TRAINING_CHANNELS), joined by xgboost's tracker as the local runner joins
them (emulator/training_hosts.py).

- P12: the largest peak resident memory of the 4 hosts / the single host's peak (goal <= 0.4);
- P13: |AUC of the 4-host model - AUC of the 1-host model| / the 1-host AUC, both on the same test
  split (goal <= 0.01).

    python -m bench.distributed_training [--rows N]      (or BENCH_TRAINING_ROWS=N; default BASE_ROWS)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.figures import Figure
from emulator.pipeline_runner import ALGORITHM_SCRIPT, own_tmp
from emulator.step_environments import environment
from emulator.training_hosts import (
    LOCAL_ADDRESS,
    first_failure,
    free_port_pair,
    host_names,
    resource_config,
    run_hosts,
    share,
)
from pipeline.definition import HYPERPARAMETERS, TRAINING_CHANNELS
from pipeline.images import XGBOOST

BASE_ROWS = 5_000_000  # x 20 features: about 1 GB of CSV for the train split, the largest of P9's sizes
FEATURES = 20
PART_FILES = 4  # each split as Preprocess writes it for 4 instances
WRITE_ROWS = 250_000
# Runs a command and prints the peak resident memory of that child, in KiB.
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
TRAINING = {**{name: str(value) for name, value in HYPERPARAMETERS.items()}, "objective": "binary:logistic"}


def rows(count: int, seed: int) -> np.ndarray:
    """A binary problem with interactions: label first, then FEATURES columns."""
    generator = np.random.default_rng(seed)
    features = generator.normal(size=(count, FEATURES)).astype(np.float32)
    signal = features[:, 0] - 0.7 * features[:, 1] + 0.5 * features[:, 2] * features[:, 3] + np.sin(features[:, 4])
    labels = (signal + generator.normal(scale=0.8, size=count) > 0).astype(np.float32)
    return np.column_stack([labels, features])


def write_split(folder: Path, count: int, seed: int, parts: int) -> None:
    """``count`` rows as ``parts`` CSV part files, label first, no header, WRITE_ROWS rows at a time."""
    folder.mkdir(parents=True)
    per_part = -(-count // parts)
    for part in range(parts):
        with (folder / f"part-{part:05d}.csv").open("w", encoding="utf-8") as handle:
            start = part * per_part
            for offset in range(start, min(start + per_part, count), WRITE_ROWS):
                size = min(WRITE_ROWS, start + per_part - offset, count - offset)
                block = rows(size, seed * 1_000 + offset // WRITE_ROWS)
                pd.DataFrame(block).to_csv(handle, header=False, index=False, float_format="%.6g")


def train(data: Path, work: Path, instances: int) -> tuple[float, list[float], Path]:
    """Seconds, each host's peak MiB, and the model the job would upload."""
    hosts = host_names(instances)
    python = str(environment(XGBOOST).python)
    local = ("--local-address", LOCAL_ADDRESS, "--local-port", str(free_port_pair()))
    commands = {}
    for index, host in enumerate(hosts):
        base = work / host
        channels = []
        for channel, distribution in TRAINING_CHANNELS.items():
            folder = base / "input" / "data" / channel
            folder.mkdir(parents=True)
            files = sorted(path.name for path in (data / channel).iterdir())
            for name in share(files, distribution, len(hosts), index):
                os.symlink(data / channel / name, folder / name)
            channels += ["--channel", f"{channel}={folder}"]
        config = base / "input" / "config"
        config.mkdir(parents=True)
        csv = {"ContentType": "text/csv", "TrainingInputMode": "File"}
        (config / "hyperparameters.json").write_text(json.dumps(TRAINING))
        (config / "inputdataconfig.json").write_text(json.dumps({"train": csv, "validation": csv}))
        (config / "resourceconfig.json").write_text(json.dumps(resource_config(host, hosts, "ml.m5.xlarge")))
        commands[host] = [
            *(sys.executable, "-c", PEAK, python, str(ALGORITHM_SCRIPT), *local, *channels),
            *("--hyperparameters", str(config / "hyperparameters.json")),
            *("--input-data-config", str(config / "inputdataconfig.json")),
            *("--resource-config", str(config / "resourceconfig.json")),
            *("--model-dir", str(base / "model"), "--failure-file", str(base / "output" / "failure")),
        ]
    started = time.monotonic()
    environments = {host: {**os.environ, **own_tmp(work / f"{host}-tmp")} for host in hosts}  # as the runner's
    outcomes = run_hosts(commands, environments, timeout=3600)
    seconds = time.monotonic() - started
    failed = first_failure(outcomes)
    if failed is not None:
        raise RuntimeError(f"{failed.host} failed: {failed.stderr[-2000:]}")
    peaks = [int(outcome.stdout.strip().splitlines()[-1]) / 1024 for outcome in outcomes.values()]
    [model] = [
        work / host / "model" / "xgboost-model" for host in hosts if (work / host / "model" / "xgboost-model").exists()
    ]
    return seconds, peaks, model


def auc(model: Path, test: np.ndarray) -> float:
    import xgboost
    from sklearn.metrics import roc_auc_score

    booster = xgboost.Booster()
    booster.load_model(str(model))
    return float(roc_auc_score(test[:, 0], booster.predict(xgboost.DMatrix(test[:, 1:]))))


def measure(count: int) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="bench-training-") as scratch:
        data = Path(scratch) / "data"
        write_split(data / "train", count, 1, PART_FILES)
        write_split(data / "validation", max(count // 5, 1), 2, PART_FILES)
        test = rows(max(count // 5, 1_000), 3)
        one_seconds, [one_peak], one_model = train(data, Path(scratch) / "one", 1)
        four_seconds, four_peaks, four_model = train(data, Path(scratch) / "four", 4)
        one_auc, four_auc = auc(one_model, test), auc(four_model, test)
    what = (
        f"training, {count:,} rows x {FEATURES} features in {PART_FILES} part files, 4 hosts vs 1 "
        f"(the imitated 3.2-0 algorithm; times {four_seconds:.0f} s vs {one_seconds:.0f} s; "
        f"host peaks {', '.join(f'{peak:.0f}' for peak in four_peaks)} MiB)"
    )
    return [
        Figure(
            "P12", f"{what}: the largest host's peak memory / the single host's", max(four_peaks), one_peak, "MiB", 0.4
        ),
        Figure(
            "P13",
            f"{what}: |AUC 4 hosts - AUC 1 host| / AUC 1 host, on the same test split "
            f"({four_auc:.4f} vs {one_auc:.4f})",
            abs(four_auc - one_auc),
            one_auc,
            "AUC",
            0.01,
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_TRAINING_ROWS") or BASE_ROWS))
    print(json.dumps([figure.as_dict() for figure in measure(parser.parse_args().rows)]))
