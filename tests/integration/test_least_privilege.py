"""Each function calls AWS as an identity holding exactly its role's policies from the stack, with
moto's IAM enforcement on: a permission the template does not grant is refused (see
emulator/identities.py for what moto's evaluation covers)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from emulator.deployment import LocalDeployment, deploy_locally
from emulator.event_source import QueueEventSource
from emulator.identities import functions_as_their_roles
from emulator.moto_server import REGION, running_moto_server
from tests.aws import TriggerTargets, create_placeholder_pipeline
from tests.events import load_event
from tests.template_values import DATA_PREFIX

pytestmark = pytest.mark.end_to_end


@dataclass
class EnforcedStack:
    deployment: LocalDeployment
    handlers: dict[str, Any]
    event_source: QueueEventSource

    @property
    def targets(self) -> TriggerTargets:
        d = self.deployment
        return TriggerTargets(d.pipeline_name, d.topic_arn, d.inbox_queue_url, d.dead_letter_queue_url)

    def end_run(self, execution_arn: str) -> None:
        event = load_event("pipeline-status-succeeded.json")
        event["detail"]["pipelineExecutionArn"] = execution_arn
        event["resources"][1] = execution_arn
        self.handlers["run_ended"](event, self.deployment.stack.lambda_context("RunStatusFunction"))


@contextmanager
def enforced_stack(without: tuple[str, str] | None = None) -> Iterator[EnforcedStack]:
    """The local stack with enforcement on; ``without``: (function, statement Sid) left out of its role."""
    saved = dict(os.environ)
    try:
        with running_moto_server():
            deployment = deploy_locally()
            create_placeholder_pipeline(deployment.pipeline_name)
            with functions_as_their_roles(deployment.stack, without) as modules:
                handlers = {name: module.lambda_handler for name, module in modules.items()}
                event_source = QueueEventSource(
                    deployment.queue_url,
                    deployment.queue_arn,
                    handlers["app"],
                    batch_size=deployment.batch_size,
                    context=deployment.stack.lambda_context("TriggerFunction"),
                )
                yield EnforcedStack(deployment, handlers, event_source)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        for name in ("app", "run_ended", "sweep"):
            importlib.reload(importlib.import_module(name))


def test_each_function_does_its_whole_job_with_only_its_roles_permissions():
    with enforced_stack() as stack:
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        for key in (f"{DATA_PREFIX}a b.csv", f"{DATA_PREFIX}c.csv"):
            s3.put_object(Bucket=stack.deployment.bucket, Key=key, Body=b"x,target\n1,2\n")
        first = stack.event_source.drain()  # records both, starts one run, writes its manifest
        [run] = stack.targets.executions()
        stack.end_run(run["PipelineExecutionArn"])  # frees the slot, reads the run's reports, notifies
        s3.put_object(Bucket=stack.deployment.bucket, Key=f"{DATA_PREFIX}d.csv", Body=b"x,target\n1,2\n")
        sqs.send_message(QueueUrl=stack.deployment.queue_url, MessageBody="not a notification")
        second = stack.event_source.drain()  # a plain run; the bad message to the DLQ
        swept = stack.handlers["sweep"]({}, stack.deployment.stack.lambda_context("SweepFunction"))

        assert first.invocation_errors == second.invocation_errors == []
        assert first.reported_failures == second.reported_failures == 0
        assert stack.targets.trained_keys() == [
            [f"{DATA_PREFIX}a b.csv", f"{DATA_PREFIX}c.csv"],
            [f"{DATA_PREFIX}d.csv"],
        ]
        assert len(swept["released"]) == 1  # moto's executions end at once; the sweep freed the second
        [dead] = stack.targets.dead_letters()
        assert dead["reason"].startswith("cannot be read as an S3 event notification")
        subjects = [n["subject"] for n in stack.targets.notifications()]
        assert subjects.count(f"Retraining succeeded: {stack.deployment.pipeline_name}") == 1
        assert len([s for s in subjects if s.startswith("Retraining started")]) == 2


def test_a_statement_taken_out_of_the_role_is_refused():
    with enforced_stack(without=("TriggerFunction", "StartThePipeline")) as stack:
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=stack.deployment.bucket, Key=f"{DATA_PREFIX}a.csv", Body=b"x,target\n1,2\n"
        )
        stack.event_source.drain()

        assert stack.targets.executions() == []
        [told] = stack.targets.notifications()
        assert told["subject"] == f"Retraining NOT started: {DATA_PREFIX}a.csv"
        assert "AccessDenied" in told["message"]
        assert "not authorized to perform: sagemaker:StartPipelineExecution" in told["message"]
