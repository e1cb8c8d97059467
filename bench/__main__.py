"""Run every benchmark, print a table and write bench/results.json."""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import local_demo
from bench.figures import Figure

RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> int:
    figures: list[Figure] = []
    for module in (local_demo,):
        figure = module.measure()
        figures.append(figure)
        print(f"measured {figure.name}", file=sys.stderr, flush=True)
    print(f"{'figure':<6} {'value':>12} {'baseline':>12} {'ratio':>8} {'goal':>6}  verdict      what")
    for f in figures:
        goal = f"{f.goal:g}" if f.goal is not None else "-"
        print(
            f"{f.name:<6} {f.value:>10.3f} {f.unit:<1} {f.baseline:>10.3f} {f.unit:<1} {f.ratio:>8.2f} {goal:>6}  "
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
