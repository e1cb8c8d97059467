"""A local stack that stays up: `retrain-trigger local up` / `local down` (also `make local`).

`up` starts, in the background, moto's server with the template's resources, the pipeline, the
event source in front of the trigger function, the pipeline runner and the run-ended and sweep
functions, then prints the endpoint and the names to use with `aws --endpoint-url` and
`retrain-trigger`. `down` stops it and checks that nothing is left running. What the stack is
(pid, endpoint, names) is kept in `.local-stack/state.json`; its log in `.local-stack/log`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from emulator import project
from emulator.moto_server import LOCAL_ENVIRONMENT, REGION
from emulator.stack_options import StackOptions, add_stack_options, stack_options

STATE_DIR = project.WORK / ".local-stack"
# The AWS CLI on PyPI is v1: it ignores AWS_ENDPOINT_URL for some services (its `sqs` commands go to
# https://queue.amazonaws.com/), as does AWS CLI v2 before 2.13 (Debian 12's is 2.9.19). The lines
# printed here pass --endpoint-url, which every version honours; the tests run them with this one.
AWS_CLI_FROM_PYPI = "awscli==1.46.3"


@cache
def aws_cli() -> str:
    """The AWS CLI on this machine if it runs (a pyenv shim may name one that does not), or v1 from
    PyPI through uvx (`make` may have installed uv in .tools)."""
    found = shutil.which("aws")
    if found and subprocess.run([found, "--version"], capture_output=True, check=False, timeout=60).returncode == 0:  # noqa: S603 - the aws on PATH
        return "aws"
    uvx = shutil.which("uvx") or str(STATE_DIR.parent / ".tools" / "bin" / "uvx")
    return f"{uvx} --from {AWS_CLI_FROM_PYPI} aws"


START_SECONDS = 180
SWEEP_SECONDS = 60
ALARM_SECONDS = 60  # CloudWatch evaluates an alarm every minute
# Local only: run prod's drift check every this many seconds instead of at the hour (to try drift now).
MONITORING_EVERY = "RETRAIN_TRIGGER_MONITORING_SECONDS"
UPDATE_REQUEST, UPDATE_ANSWER = "update.json", "update-answer.json"  # `local up` on a running stack


@dataclass(frozen=True)
class LocalStack:
    pid: int
    endpoint: str
    bucket: str
    data_prefix: str
    queue_url: str
    dead_letter_queue_url: str
    pipeline_name: str
    model_package_group: str
    topic_arn: str
    stack_name: str
    target_column: str  # what the pipeline predicts: a column every uploaded CSV has ("" for one's own)
    inbox_queue_url: str = ""  # the queue subscribed to the topic: what a person would have received
    prod_endpoint: str = ""  # "" when the stack does not deploy (Deployment None)
    batching_window_seconds: float = 0.0  # the event source's: a run starts that long after an upload
    options: list[str] = field(default_factory=list)  # what `local up` was given (StackOptions.as_arguments)

    def instructions(self) -> list[str]:
        exports = " ".join(f"{k}={v}" for k, v in {**LOCAL_ENVIRONMENT, "AWS_ENDPOINT_URL": self.endpoint}.items())
        beside = Path(sys.executable).parent / "retrain-trigger"  # the install that runs this stack
        cli = str(beside) if beside.exists() else shutil.which("retrain-trigger") or "retrain-trigger"
        aws = f'{aws_cli()} --endpoint-url "$AWS_ENDPOINT_URL"'
        return [
            f"local stack up (pid {self.pid}) at {self.endpoint}",
            f"  bucket          {self.bucket}",
            f"                  (upload under {self.data_prefix} CSVs"
            + (f" with a '{self.target_column}' column)" if self.target_column else ")"),
            f"  trigger queue   {self.queue_url}",
            f"                  (a run starts {self.batching_window_seconds:g} s after the first upload of a burst:"
            " BatchingWindowSeconds, which `--override BatchingWindowSeconds=N` sets)",
            f"  dead letters    {self.dead_letter_queue_url}",
            f"  pipeline        {self.pipeline_name}, "
            + (
                f"models in {self.model_package_group}"
                if self.target_column
                else f"which registers where its definition says (deploys watch {self.model_package_group})"
            ),
            f"  notifications   the topic's e-mails land in the queue {self.inbox_queue_url}",
            "                  (read them with `retrain-trigger notifications`)",
            "",
            "to use it (in this shell or another):",
            f"  export {exports}",
            f"  {aws} s3 cp my.csv s3://{self.bucket}/{self.data_prefix}my.csv",
            f"  {cli} --stack-name {self.stack_name} status",
            f"  {cli} --stack-name {self.stack_name} dlq",
            *self._deployment_lines(cli, aws),
            f"  {cli} local down",
        ]

    def _deployment_lines(self, cli: str, aws: str) -> list[str]:
        if not self.prod_endpoint:
            return ["  (nothing is deployed: Deployment None; `--override Deployment=Serverless` deploys)"]
        return [
            "  (a registered model deploys once Approved: `status` gives its ARN, then",
            f"   {aws} sagemaker update-model-package --model-package-arn ARN --model-approval-status Approved;",
            "   prod bakes each update CanaryWaitIntervalInSeconds: 600 s unless",
            "   `--override CanaryWaitIntervalInSeconds=5`)",
            f"  {cli} --stack-name {self.stack_name} deployments",
            f"  {cli} --stack-name {self.stack_name} predict --stage prod rows.csv",
            f"  {aws} sagemaker-runtime invoke-endpoint --endpoint-name {self.prod_endpoint} "
            "--content-type text/csv --accept text/csv --body fileb://rows.csv answer.csv",
            "  (prod's requests are checked for drift at each hour, as on AWS; to check every minute, start",
            f"   the stack with {MONITORING_EVERY}=60 in its environment; DriftMonitoring=None checks nothing)",
            f"  {cli} --stack-name {self.stack_name} drift",
        ]


def state_file(state_dir: Path) -> Path:
    return state_dir / "state.json"


def read_state(state_dir: Path = STATE_DIR) -> LocalStack | None:
    path = state_file(state_dir)
    return LocalStack(**json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None


def _alive(pid: int) -> bool:
    try:  # our own child that ended is reaped here (else it would linger as a zombie)
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def up(state_dir: Path = STATE_DIR, options: StackOptions | None = None) -> LocalStack:
    """Start the stack in the background (or find the one running) and wait until it serves; a running
    stack asked for other options is updated with them, as `sam deploy` updates a deployed stack."""
    running = read_state(state_dir)
    if running and _alive(running.pid):
        asked = (options or StackOptions()).as_arguments()
        changed = asked != running.options or (options is not None and options.pipeline_definition is not None)
        if asked and changed:  # a bare `local up` finds the running stack; a definition is read again
            return _update(state_dir, running, asked)
        return running
    _look_alikes_ready(options or StackOptions())
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file(state_dir).unlink(missing_ok=True)
    with (state_dir / "log").open("w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, this module
            [
                sys.executable,
                *("-m", "emulator.local_stack", "serve", "--state-dir", str(state_dir)),
                *(options or StackOptions()).as_arguments(),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        stack = read_state(state_dir)
        if stack:
            return stack
        if process.poll() is not None:
            raise SystemExit(f"retrain-trigger local: error: {_why_it_stopped(state_dir / 'log')}")
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"the local stack did not start within {START_SECONDS} s; see {state_dir / 'log'}")


def _update(state_dir: Path, running: LocalStack, asked: list[str]) -> LocalStack:
    """Ask the running stack to update itself (SIGUSR1 and the options in update.json); wait for its answer."""
    answer = state_dir / UPDATE_ANSWER
    answer.unlink(missing_ok=True)
    (state_dir / UPDATE_REQUEST).write_text(json.dumps(asked), encoding="utf-8")
    os.kill(running.pid, signal.SIGUSR1)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and _alive(running.pid):
        if answer.exists():
            refused = json.loads(answer.read_text(encoding="utf-8"))["error"]
            if refused:
                raise SystemExit(f"retrain-trigger local: error: not updated (the stack runs as it was): {refused}")
            print(f"local stack updated with {' '.join(asked)}: its queues, DLQ, ledger and data are kept")
            return read_state(state_dir) or running
        time.sleep(0.3)
    raise RuntimeError(f"the local stack did not answer the update within {START_SECONDS} s; see {state_dir / 'log'}")


def _look_alikes_ready(options: StackOptions) -> None:
    """The look-alikes of the bundled steps' images and of those a given definition names, made now
    if they are not yet (as `make local` makes the first ones)."""
    from emulator.step_environments import MissingInterpreter, create
    from pipeline.images import STEP_IMAGES, UnknownImage, image_for

    named = []
    if options.pipeline_definition is not None:  # every ECR image URI the definition holds
        text = options.pipeline_definition.read_text(encoding="utf-8")
        for uri in sorted(set(re.findall(r'[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[^"\s]+', text))):
            try:
                named.append(image_for(uri))
            except UnknownImage as unknown:  # said now; the runner refuses each run before any step
                print(f"retrain-trigger local: warning: {unknown}: a run of this definition will be refused")
    try:
        for image in dict.fromkeys([*STEP_IMAGES, *named]):
            create(image)
    except (MissingInterpreter, RuntimeError) as missing:  # no Python of the image, or no uv to make it
        raise SystemExit(f"retrain-trigger local: error: {missing}") from None


def _why_it_stopped(log: Path) -> str:
    """The last error line of the stack's log (a refused deploy says why in one line), and where the log is."""
    lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.split(":", 1)[0].endswith(("Error", "Exception"))]
    reason = errors[-1].split(": ", 1)[-1] if errors else "the local stack stopped while starting"
    return f"{reason} (the whole log: {log})"


def down(state_dir: Path = STATE_DIR) -> str:
    stack = read_state(state_dir)
    if stack is None:
        return "no local stack is running"
    if _alive(stack.pid):
        os.killpg(stack.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _alive(stack.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(stack.pid):
            os.killpg(stack.pid, signal.SIGKILL)
    state_file(state_dir).unlink(missing_ok=True)
    try:
        urllib.request.urlopen(f"{stack.endpoint}/moto-api/", timeout=2)  # noqa: S310 - our own loopback endpoint
    except OSError:
        return f"local stack stopped (pid {stack.pid}); nothing is left running"
    raise RuntimeError(f"{stack.endpoint} still answers after the stack stopped")


@dataclass(frozen=True)
class _Parts:
    """What a running stack is made of; an update makes them anew from the updated stack."""

    deployment: Any
    options: StackOptions
    target_column: str
    event_source: Any
    sweep: Any
    run_ended: Any
    deploy: Any  # None when the stack does not deploy (Deployment None)


def serve(state_dir: Path, options: StackOptions) -> None:
    """The stack itself: runs until SIGTERM; SIGUSR1 applies the options in update.json."""
    from emulator.deployment import deploy_locally
    from emulator.moto_server import running_moto_server
    from emulator.status_events import executions_that_keep_running

    stopping: list[int] = []
    updating: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    signal.signal(signal.SIGUSR1, lambda signum, frame: updating.append(signum))
    # Executions stay Executing until their local run ends, as SageMaker's do while their jobs run:
    # the cap, the sweep and `status` then see what they would see on AWS.
    with running_moto_server(serial=True) as endpoint, executions_that_keep_running():
        deployment = deploy_locally(options.template_parameters())
        parts = _start_parts(deployment, options, _deploy_function(deployment))
        _write_state(state_dir, parts, endpoint)
        try:
            _serve_until_stopped(parts, stopping, partial(_apply_update, updating, state_dir, endpoint))
        finally:
            if parts.deploy:
                parts.deploy.close()
                invoke_endpoint_uninstall()
    print("stopped", flush=True)


def _start_parts(deployment: Any, options: StackOptions, deploy: Any) -> _Parts:
    """The pipeline, and the functions imported anew with the stack's environments (a cold start)."""
    from emulator.demo import Demo, _fresh_import
    from emulator.deployment import function_environment

    target_column = create_pipeline(deployment, options)
    event_source = Demo(say=lambda line: print(line, flush=True)).start_function(deployment)
    os.environ.update(function_environment(deployment, "SweepFunction"))
    sweep = _fresh_import("sweep")
    os.environ.update(function_environment(deployment, "RunStatusFunction"))
    run_ended = _fresh_import("run_ended")
    return _Parts(deployment, options, target_column, event_source, sweep, run_ended, deploy)


def _write_state(state_dir: Path, parts: _Parts, endpoint: str) -> None:
    deployment = parts.deployment
    stack = LocalStack(
        pid=os.getpid(),
        endpoint=endpoint,
        bucket=deployment.bucket,
        data_prefix=deployment.parameters["DataPrefix"],
        queue_url=deployment.queue_url,
        dead_letter_queue_url=deployment.dead_letter_queue_url,
        pipeline_name=deployment.pipeline_name,
        model_package_group=deployment.parameters["ModelPackageGroupName"],
        topic_arn=deployment.topic_arn,
        stack_name=deployment.stack.name,
        target_column=parts.target_column,
        inbox_queue_url=deployment.inbox_queue_url,
        prod_endpoint=parts.deploy.prod_endpoint if parts.deploy else "",
        batching_window_seconds=deployment.batching_window_seconds,
        options=parts.options.as_arguments(),
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(state_file(state_dir), json.dumps(asdict(stack)))
    print("\n".join(stack.instructions()), flush=True)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _apply_update(updating: list[int], state_dir: Path, endpoint: str, parts: _Parts) -> _Parts:
    """The parts after an update asked for since the last call (the same parts if none was asked, or
    if it was refused: the answer says why)."""
    if not updating:
        return parts
    updating.clear()
    try:
        parts = _updated(parts, json.loads((state_dir / UPDATE_REQUEST).read_text(encoding="utf-8")))
    except (Exception, SystemExit) as refused:  # noqa: BLE001 - whatever stops an update, the stack runs on
        print(f"update refused: {refused}", flush=True)
        _write_atomically(state_dir / UPDATE_ANSWER, json.dumps({"error": str(refused)}))
        return parts
    _write_state(state_dir, parts, endpoint)
    _write_atomically(state_dir / UPDATE_ANSWER, json.dumps({"error": ""}))
    return parts


def _updated(parts: _Parts, arguments: list[str]) -> _Parts:
    from emulator.deployment import load_template, parameter_defaults, update_locally

    parser = argparse.ArgumentParser(prog="retrain-trigger local up")
    add_stack_options(parser)
    options = stack_options(parser.parse_args(arguments))
    wanted = {**parameter_defaults(load_template()), **options.template_parameters()}
    if wanted["Deployment"] != parts.deployment.parameters["Deployment"]:
        raise RuntimeError(
            f"Deployment {wanted['Deployment']}: the endpoints are made when the stack starts; "
            "`retrain-trigger local down` (the queues and DLQ go with it), then `local up` with it"
        )
    deployment = update_locally(parts.deployment, options.template_parameters())
    return _start_parts(deployment, options, parts.deploy)


def invoke_endpoint_uninstall() -> None:
    from emulator import invoke_endpoint

    invoke_endpoint.uninstall()


def _deploy_function(deployment: Any) -> Any:
    """The deploy function and the endpoints' containers, when the stack deploys (Deployment not None)."""
    if "DeployFunction" not in deployment.stack.functions:
        return None
    from emulator import invoke_endpoint
    from emulator.deploy_function import LocalDeployFunction
    from emulator.endpoint_containers import LocalFleets

    fleets = LocalFleets()
    invoke_endpoint.install(fleets)
    return LocalDeployFunction(deployment, fleets)


def _serve_until_stopped(parts: _Parts, stopping: list[int], update: Callable[[_Parts], _Parts]) -> None:
    """The event source, the runner of each new execution, its status event, the sweep, the
    endpoints' deployments (their events delivered to the deploy function), the alarms, and an update
    when one is asked for."""
    from emulator.alarms import evaluate_alarms
    from emulator.model_monitor import run_due
    from emulator.pipeline_runner import LocalPipelineRunner
    from emulator.status_events import record_in_moto, record_step, status_change_event

    sagemaker = boto3.client("sagemaker", region_name=REGION)
    seen: set[str] = set()
    last_sweep = last_alarms = time.monotonic()
    monitoring_every = int(os.environ.get(MONITORING_EVERY, "0") or 0)
    while not stopping:
        parts = update(parts)
        parts.event_source.poll_once()
        for arn in _executions(sagemaker, parts.deployment.pipeline_name) - seen:
            seen.add(arn)
            print(f"running {arn}", flush=True)
            result = LocalPipelineRunner(on_step=partial(record_step, arn)).run(arn)
            record_in_moto(result)
            print(f"{arn} ended: {result.status} {result.failure_reason or ''}", flush=True)
            context = parts.deployment.stack.lambda_context("RunStatusFunction")
            parts.run_ended.lambda_handler(status_change_event(result), context)
        if parts.deploy:
            parts.deploy.step()
            for execution in run_due(every_seconds=monitoring_every):  # prod's drift check, when scheduled
                print(f"monitoring execution {execution['MonitoringExecutionStatus']}", flush=True)
        if time.monotonic() - last_sweep > SWEEP_SECONDS:
            parts.sweep.lambda_handler({}, parts.deployment.stack.lambda_context("SweepFunction"))
            last_sweep = time.monotonic()
        if time.monotonic() - last_alarms > ALARM_SECONDS:
            for name in evaluate_alarms():
                print(f"alarm {name} changed state", flush=True)
            last_alarms = time.monotonic()
        time.sleep(0.5)


def create_pipeline(deployment: Any, options: StackOptions) -> str:
    """The bundled pipeline (upserted as `python -m pipeline upsert` would), or one's own from its
    definition JSON; the target column the bundled one predicts, or "" for one's own."""
    import uuid

    from emulator.demo import local_pipeline_config
    from pipeline.cli import upsert
    from pipeline.definition import definition_json

    if options.pipeline_definition is not None:
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        role = deployment.stack.outputs["PipelineExecutionRoleArn"]
        definition = options.pipeline_definition.read_text(encoding="utf-8")
        try:
            sagemaker.create_pipeline(
                PipelineName=deployment.pipeline_name,
                PipelineDefinition=definition,
                RoleArn=role,
                ClientRequestToken=str(uuid.uuid4()),
            )
        except ClientError as exists:  # an update of a running stack: the definition as given now
            if exists.response["Error"]["Code"] not in ("ResourceInUse", "ValidationException"):
                raise
            sagemaker.update_pipeline(
                PipelineName=deployment.pipeline_name, PipelineDefinition=definition, RoleArn=role
            )
        return ""
    # the pipeline's own TargetColumn default unless one was given
    config = local_pipeline_config(deployment, **({"target_column": options.target} if options.target else {}))
    upsert(config, definition_json(config))
    return config.target_column


def _executions(sagemaker: Any, pipeline_name: str) -> set[str]:
    pages = sagemaker.get_paginator("list_pipeline_executions").paginate(PipelineName=pipeline_name)
    return {s["PipelineExecutionArn"] for page in pages for s in page["PipelineExecutionSummaries"]}


def show_notifications(state_dir: Path = STATE_DIR) -> int:
    """What the topic sent while the stack was up, newest first, as a person would read the e-mails."""
    stack = read_state(state_dir)
    if stack is None or not _alive(stack.pid):
        print(
            "retrain-trigger notifications: error: no local stack is running: start one with `retrain-trigger local up`"
        )
        return 1
    sqs = boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url=stack.endpoint,
        aws_access_key_id=LOCAL_ENVIRONMENT["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
    )
    from ops.queues import peek

    envelopes = [json.loads(message["Body"]) for message in peek(sqs, stack.inbox_queue_url)]  # each stays
    envelopes.sort(key=lambda envelope: str(envelope.get("Timestamp", "")), reverse=True)
    for envelope in envelopes:
        print(f"--- {envelope.get('Timestamp', '')}  {envelope.get('Subject', '')}\n{envelope.get('Message', '')}")
    print(f"{len(envelopes)} notification(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="retrain-trigger local")
    parser.add_argument("action", choices=["up", "down", "serve"])
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
    add_stack_options(parser)
    args = parser.parse_args(argv)
    options = stack_options(args)
    if args.action == "serve":
        serve(args.state_dir, options)
    elif args.action == "up":
        print("\n".join(up(args.state_dir, options).instructions()))
    else:
        print(down(args.state_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
