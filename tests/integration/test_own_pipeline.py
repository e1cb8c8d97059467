"""A pipeline of the user's own (examples/own_pipeline: InputDataUrl, an instance type, no bundled
parameter), end to end on the local stack with IAM enforcement: upload -> trigger -> the mapped
parameters -> the local runner runs its steps as their definition gives them -> the notification."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest

from emulator.moto_server import ACCOUNT, REGION
from emulator.pipeline_runner import LocalPipelineRunner
from emulator.status_events import record_in_moto, status_change_event
from examples.own_pipeline.pipeline import PIPELINE_NAME, definition_json, upload_code
from tests.integration.conftest import LocalRun
from tests.integration.test_ops_cli import cli
from tests.template_values import DATA_PREFIX

pytestmark = pytest.mark.end_to_end

ONE_OBJECT = {
    "PipelineName": PIPELINE_NAME,
    "PipelineParameters": "InputDataUrl={uri},TrainingInstanceType=ml.m5.2xlarge",
    "MaxObjectsPerRun": "1",
}
EVERYTHING = {**ONE_OBJECT, "PipelineParameters": "InputDataUrl={prefix_uri}", "TrainingData": "AllObjects"}
WRONG = {**ONE_OBJECT, "PipelineParameters": "InputBucket={bucket},InputKey={key}"}
ROWS = "length,diameter,rings\n" + "\n".join(f"{n / 10},{n / 20},{n % 7 + n / 10}" for n in range(1, 40)) + "\n"


def create_own_pipeline(run: LocalRun) -> None:
    create_pipeline_of(run, PIPELINE_NAME, definition_json, upload_code)


def create_pipeline_of(run: LocalRun, name: str, definition_json: Any, upload_code: Any) -> None:
    """As its owner would: the definition the SageMaker SDK builds, and the step scripts it names."""
    deployment = run.deployment
    role = deployment.stack.outputs["PipelineExecutionRoleArn"]
    boto3.client("sagemaker", region_name=REGION).create_pipeline(
        PipelineName=name,
        PipelineDefinition=definition_json(role, deployment.bucket, REGION),
        RoleArn=role,
        ClientRequestToken=str(uuid.uuid4()),
    )
    upload_code(deployment.bucket, boto3.client("s3", region_name=REGION))


def upload(run: LocalRun, *names: str, body: str = ROWS) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for name in names:
        s3.put_object(Bucket=run.deployment.bucket, Key=f"{DATA_PREFIX}{name}", Body=body.encode())
    run.event_source.drain()


def parameters_of(execution_arn: str) -> dict[str, str]:
    listed = boto3.client("sagemaker", region_name=REGION).list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution_arn
    )
    return {p["Name"]: p["Value"] for p in listed["PipelineParameters"]}


@pytest.mark.parametrize("local_run", [ONE_OBJECT], indirect=True)
def test_the_own_pipeline_runs_with_the_mapped_values_and_its_end_reads_correctly(
    local_run, image_environments, capsys
):
    create_own_pipeline(local_run)
    upload(local_run, "abalone 1.csv")

    [execution] = local_run.targets.executions()
    assert parameters_of(execution["PipelineExecutionArn"]) == {
        "InputDataUrl": f"s3://{local_run.deployment.bucket}/{DATA_PREFIX}abalone 1.csv",
        "TrainingInstanceType": "ml.m5.2xlarge",  # the static value
    }
    result = LocalPipelineRunner().run(execution["PipelineExecutionArn"])
    assert result.status == "Succeeded", result.failure_reason
    assert [step.name for step in result.steps] == ["Prepare", "Fit"]
    record_in_moto(result)
    local_run.run_ended.lambda_handler(
        status_change_event(result), local_run.deployment.stack.lambda_context("RunStatusFunction")
    )
    metrics = boto3.client("s3", region_name=REGION).get_object(
        Bucket=local_run.deployment.bucket, Key="own-pipeline/metrics/metrics.json"
    )
    assert json.loads(metrics["Body"].read())["approval_status"] == "PendingManualApproval"  # the pipeline's default
    started, ended = local_run.targets.notifications()
    assert started["subject"] == f"Retraining started: {DATA_PREFIX}abalone 1.csv"
    assert ended["subject"] == f"Retraining succeeded: {PIPELINE_NAME}"
    assert f"s3://{local_run.deployment.bucket}/{DATA_PREFIX}abalone 1.csv" in ended["message"]
    assert "Traceback" not in ended["message"]
    capsys.readouterr()
    assert cli(local_run, "status") == 0
    status = capsys.readouterr().out
    assert (
        f"cause        Started by the upload of s3://{local_run.deployment.bucket}/{DATA_PREFIX}abalone 1.csv" in status
    )
    assert "TrainingInstanceType=ml.m5.2xlarge" in status


@pytest.mark.parametrize("local_run", [ONE_OBJECT], indirect=True)
def test_a_failed_step_of_the_own_pipeline_is_named_with_its_reason(local_run, image_environments, capsys):
    create_own_pipeline(local_run)
    upload(local_run, "empty.csv", body="length,diameter,rings\n")  # a header and no rows
    [execution] = local_run.targets.executions()

    result = LocalPipelineRunner().run(execution["PipelineExecutionArn"])
    record_in_moto(result)
    local_run.run_ended.lambda_handler(
        status_change_event(result), local_run.deployment.stack.lambda_context("RunStatusFunction")
    )

    assert (result.status, result.failure_step) == ("Failed", "Fit")
    ended = local_run.targets.notifications()[-1]
    assert ended["subject"] == f"Retraining FAILED: {PIPELINE_NAME}"
    assert "Step:      Fit\n" in ended["message"]
    assert "Reason:    ValueError" in ended["message"]  # the step's own reason, without its name again
    capsys.readouterr()
    assert cli(local_run, "status") == 0
    status = capsys.readouterr().out
    assert "failure      " in status
    assert "step Fit: ValueError" in status  # the step named once


@pytest.mark.parametrize("local_run", [EVERYTHING], indirect=True)
def test_a_burst_is_still_one_run(local_run):
    create_own_pipeline(local_run)
    upload(local_run, *(f"day {n}.csv" for n in range(5)))

    [execution] = local_run.targets.executions()
    assert parameters_of(execution["PipelineExecutionArn"]) == {
        "InputDataUrl": f"s3://{local_run.deployment.bucket}/{DATA_PREFIX}"
    }


@pytest.mark.parametrize("local_run", [WRONG], indirect=True)
def test_a_wrong_mapping_sends_the_upload_to_the_dlq_naming_the_parameters_the_pipeline_has(local_run):
    create_own_pipeline(local_run)
    upload(local_run, "abalone.csv")

    assert local_run.targets.executions() == []
    [dead] = local_run.targets.dead_letters()
    assert f"maps InputBucket, which pipeline {PIPELINE_NAME} does not declare" in dead["reason"]
    assert "InputDataUrl (String, default 's3://" in dead["reason"]
    [told] = local_run.targets.notifications()
    assert told["subject"] == f"Retraining NOT started: {DATA_PREFIX}abalone.csv"


@contextmanager
def answers_to(answers: list[dict[str, Any]]) -> Iterator[str]:
    """A pre-signed ResponseURL of CloudFormation's, played on 127.0.0.1: it keeps what it is told."""

    class Keep(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Keep)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/answer"
    finally:
        server.shutdown()


@pytest.mark.parametrize("local_run", [{**EVERYTHING, "TriggerPath": "Both"}], indirect=True)
def test_the_rule_starts_the_own_pipeline_with_the_mapping_and_the_schedule_ticks_into_the_queue_set_by_its_role(
    local_run,
):
    from emulator.cloudformation import intrinsics

    stack = local_run.deployment.stack
    create_own_pipeline(local_run)  # the deploy reads what it declares (DescribePipeline, as its role)
    rule = stack.physical["ObjectCreatedRule"]  # the name the template gives it
    events = boto3.client("events", region_name=REGION)
    events.remove_targets(Rule=rule, Ids=["pipeline"])  # what the deploy set, taken away
    properties = intrinsics(stack)(stack.translated["Resources"]["PipelineTargets"]["Properties"])
    answers: list[dict[str, Any]] = []
    update = {
        "RequestType": "Update",
        "ResponseURL": "",
        "StackId": stack.name,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "PipelineTargets",
        "ResourceType": "Custom::PipelineTargets",
        "PhysicalResourceId": properties["Schedule"]["Name"],
        "ResourceProperties": properties,
        "OldResourceProperties": properties,
    }

    with answers_to(answers) as response_url:
        update["ResponseURL"] = response_url
        local_run.functions["pipeline_targets"].lambda_handler(update, stack.lambda_context("PipelineTargetsFunction"))

    assert [answer["Status"] for answer in answers] == ["SUCCESS"]
    [target] = events.list_targets_by_rule(Rule=rule)["Targets"]
    expected = [{"Name": "InputDataUrl", "Value": f"s3://{local_run.deployment.bucket}/{DATA_PREFIX}"}]
    assert target["SageMakerPipelineParameters"]["PipelineParameterList"] == expected
    # read from moto's backend: its Scheduler refuses the signature of a signing identity (moto 5.2.5)
    from moto.scheduler.models import scheduler_backends

    schedule = scheduler_backends[ACCOUNT][REGION].get_schedule(None, properties["Schedule"]["Name"])
    # the schedule's tick is a run request in the trigger queue: the queue path renders the mapping per run
    assert schedule.target["Arn"] == local_run.deployment.queue_arn
    assert json.loads(schedule.target["Input"])["runRequest"]["kind"] == "schedule"

    # the pipeline exists: a name it does not declare fails the deploy, as `check` would say, and changes nothing
    misnamed = {**properties, "PipelineParameters": "InputDataUri={uri}"}
    with answers_to(answers) as response_url:
        refused = {**update, "ResponseURL": response_url, "ResourceProperties": misnamed}
        local_run.functions["pipeline_targets"].lambda_handler(refused, stack.lambda_context("PipelineTargetsFunction"))
    assert answers[-1]["Status"] == "FAILED"
    assert answers[-1]["Reason"].startswith("PipelineParameters: PipelineParameters maps InputDataUri, which pipeline")
    [target] = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert target["SageMakerPipelineParameters"]["PipelineParameterList"] == expected
