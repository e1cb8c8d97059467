"""Run every benchmark, print a table and write bench/results.json."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.figures import Figure

# Each figure is measured in a fresh interpreter: no import, client or moto state leaks between them.
MODULES = (
    "burst_runs",
    "cold_import",
    "record_overhead",
    "local_demo",
    "package_size",
    "preprocess_scale",
    "spark_scale",
    "distributed_training",
    "evaluate_report",
    "scheduler_calls",
    "trickle",
    "large_batch",
    "serving",
    "drift_monitoring",
    "cli_start",
)

RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> int:
    figures: list[Figure] = []
    for module in MODULES:
        completed = subprocess.run(  # noqa: S603
            [sys.executable, "-m", f"bench.{module}"], capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            print(completed.stdout[-2000:], completed.stderr[-4000:], file=sys.stderr)
            return completed.returncode
        measured = json.loads(completed.stdout.strip().splitlines()[-1])
        for item in measured if isinstance(measured, list) else [measured]:
            figure = Figure(**{k: v for k, v in item.items() if k not in ("ratio", "verdict")})
            figures.append(figure)
            print(f"measured {figure.name}", file=sys.stderr, flush=True)
    print(f"{'figure':<6} {'value':>12} {'baseline':>12} {'ratio':>8} {'goal':>10}  verdict      what")
    for f in figures:
        goal = "-" if f.goal is None else (f"{f.goal:g}" if f.goal_on == "ratio" else f"{f.goal:g} {f.unit}")
        print(
            f"{f.name:<6} {f.value:>10.3f} {f.unit:<1} {f.baseline:>10.3f} {f.unit:<1} {f.ratio:>8.3f} {goal:>10}  "
            f"{f.verdict:<12} {f.what}"
        )
    RESULTS.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"python": platform.python_version(), "processor": platform.machine()},
                "figures": [f.as_dict() for f in figures],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
