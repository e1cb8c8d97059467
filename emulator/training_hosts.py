"""A training job's instances on this machine: one worker process per host, as SageMaker starts them.

SageMaker starts `ResourceConfig.InstanceCount` containers, names their hosts algo-1 .. algo-N and
writes each one's /opt/ml/input/config/resourceconfig.json ("How Amazon SageMaker Provides Training
Information", Distributed Training Configuration:
https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-running-container.html).
Each host gets its channels as the channel's `S3DataDistributionType` says (API S3DataSource,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_S3DataSource.html): FullyReplicated,
the whole data set on every host; ShardedByS3Key, "If there are n ML compute instances launched for
a training job, each instance gets approximately 1/n of the number of S3 objects", and with more
instances than objects "some nodes won't get any data".

Not documented, and chosen here: which objects go to which host. The objects are taken in key
order and dealt out in turn (algo-1 the 1st, algo-2 the 2nd, ...), so shares differ by at most one.

A job with several hosts ends when every host has ended, and fails as soon as one host fails: the
others are stopped, and the failed host's message is the job's. Locally the hosts are processes on
127.0.0.1 (the imitated algorithm resolves every host name to the address the runner gives it).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

SHARDED = "ShardedByS3Key"
REPLICATED = "FullyReplicated"
LOCAL_ADDRESS = "127.0.0.1"
POLL_SECONDS = 0.2


def host_names(count: int) -> list[str]:
    """algo-1 .. algo-N, as SageMaker names a training job's hosts."""
    return [f"algo-{number}" for number in range(1, count + 1)]


def resource_config(host: str, hosts: Sequence[str], instance_type: str) -> dict[str, object]:
    """/opt/ml/input/config/resourceconfig.json of one host."""
    return {
        "current_host": host,
        "current_instance_type": instance_type,
        "hosts": list(hosts),
        "network_interface_name": "eth0",
    }


def share(keys: Sequence[str], distribution: str, hosts: int, index: int) -> list[str]:
    """The S3 keys host number ``index`` (from 0) of ``hosts`` gets of a channel's objects."""
    ordered = sorted(keys)
    if distribution == SHARDED:
        return ordered[index::hosts]
    return ordered


def free_port_pair() -> int:
    """A port P with P and P + 1 free on 127.0.0.1: the algorithm's two rings (9099 and 9100 on AWS)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind((LOCAL_ADDRESS, 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind((LOCAL_ADDRESS, port + 1))
                except OSError:
                    continue
                return port
    raise OSError("no two consecutive free ports on 127.0.0.1")


@dataclass
class HostOutcome:
    host: str
    returncode: int | None  # None: stopped because another host failed, or the job ran out of time
    stdout: str
    stderr: str


class JobStopped(RuntimeError):
    """The job ran past its maximum runtime; every host was stopped."""


def run_hosts(
    commands: dict[str, list[str]], environments: dict[str, dict[str, str]], timeout: float
) -> dict[str, HostOutcome]:
    """Start every host's command, with its environment, at once; wait for all, stopping the rest as
    soon as one fails.

    Raises JobStopped when ``timeout`` seconds pass first (SageMaker's MaxRuntimeInSeconds).
    Each host's output goes to a file, so that a chatty host never blocks on a full pipe.
    """
    with contextlib.ExitStack() as files:
        outputs = {
            host: (files.enter_context(tempfile.TemporaryFile("w+")), files.enter_context(tempfile.TemporaryFile("w+")))
            for host in commands
        }
        processes = {
            host: subprocess.Popen(  # noqa: S603 - the look-alike's interpreter and this project's script
                command, stdout=outputs[host][0], stderr=outputs[host][1], text=True, env=environments[host]
            )
            for host, command in commands.items()
        }
        stopped = set()
        try:
            _wait(list(processes.values()), timeout)
        finally:
            for host, process in processes.items():
                if process.poll() is None:
                    process.kill()
                    stopped.add(host)
                process.wait()
        return {
            host: _outcome(host, None if host in stopped else process.returncode, *outputs[host])
            for host, process in processes.items()
        }


def _wait(processes: list[subprocess.Popen[str]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(process.poll() is None for process in processes):
        if any(process.poll() not in (None, 0) for process in processes):
            return
        if time.monotonic() > deadline:
            raise JobStopped(f"the job ran longer than its MaxRuntimeInSeconds ({timeout:g} s)")
        time.sleep(POLL_SECONDS)


def _outcome(host: str, returncode: int | None, stdout: IO[str], stderr: IO[str]) -> HostOutcome:
    stdout.seek(0)
    stderr.seek(0)
    return HostOutcome(host, returncode, stdout.read(), stderr.read())


def first_failure(outcomes: dict[str, HostOutcome]) -> HostOutcome | None:
    """The host whose failure fails the job: one that ended with an error (not one stopped for it)."""
    failed = [outcome for outcome in outcomes.values() if outcome.returncode not in (0, None)]
    return failed[0] if failed else None


def model_files(model_dirs: Sequence[Path]) -> dict[str, Path]:
    """What SageMaker puts in model.tar.gz: every host's /opt/ml/model, merged ("If multiple containers
    in a single training job write to this directory they should ensure no file/directory names
    clash. SageMaker AI aggregates the result in a TAR file": "How Amazon SageMaker AI Processes
    Training Output", https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-output.html).
    The built-in algorithm writes xgboost-model on one host only, the master of its training ring."""
    files: dict[str, Path] = {}
    for folder in model_dirs:
        for path in sorted(folder.rglob("*")) if folder.exists() else []:
            if path.is_file():
                files.setdefault(path.relative_to(folder).as_posix(), path)
    return files
