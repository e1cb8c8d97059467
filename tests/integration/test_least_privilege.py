"""Each function calls AWS as an identity holding exactly its role's policies from the stack, with
moto's IAM enforcement on: a permission the template does not grant is refused (see
emulator/identities.py for what moto's evaluation covers)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from emulator.moto_server import REGION
from tests.aws import create_placeholder_pipeline
from tests.integration.conftest import enforced_local_run
from tests.template_values import DATA_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_sagemaker.type_defs import DriftCheckBaselinesTypeDef

pytestmark = pytest.mark.end_to_end


def test_each_function_does_its_whole_job_with_only_its_roles_permissions():
    with enforced_local_run() as stack:
        create_placeholder_pipeline(stack.deployment.pipeline_name)
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
        swept = stack.sweep.lambda_handler({}, stack.deployment.stack.lambda_context("SweepFunction"))

        assert first.invocation_errors == second.invocation_errors == []
        assert first.reported_failures == second.reported_failures == 0
        assert stack.targets.trained_keys() == [
            [f"{DATA_PREFIX}a b.csv", f"{DATA_PREFIX}c.csv"],
            [f"{DATA_PREFIX}d.csv"],
        ]
        assert len(swept["released"]) == 1  # moto's executions end at once; the sweep freed the second
        [dead] = stack.targets.dead_letters()
        assert dead["reason"].startswith("the body is not JSON: ")
        subjects = [n["subject"] for n in stack.targets.notifications()]
        assert subjects.count(f"Retraining succeeded: {stack.deployment.pipeline_name}") == 1
        assert len([s for s in subjects if s.startswith("Retraining started")]) == 2


def test_with_all_objects_the_function_lists_the_data_prefix_once_and_the_run_reads_that_list():
    with enforced_local_run({"TrainingData": "AllObjects"}) as stack:
        create_placeholder_pipeline(stack.deployment.pipeline_name)
        s3 = boto3.client("s3", region_name=REGION)
        bucket = stack.deployment.bucket
        s3.put_object(Bucket=bucket, Key=f"{DATA_PREFIX}old/history.csv", Body=b"x,target\n1,2\n3,4\n")
        s3.put_object(Bucket=bucket, Key=f"{DATA_PREFIX}folder/", Body=b"")  # a console folder: no data
        s3.put_object(Bucket=bucket, Key="elsewhere/other.csv", Body=b"x,target\n1,2\n")
        s3.put_object(Bucket=bucket, Key=f"{DATA_PREFIX}new.csv", Body=b"x,target\n5,6\n")

        drained = stack.event_source.drain()

        assert drained.invocation_errors == []
        [run] = stack.targets.executions()
        assert stack.targets.trained_keys() == [[f"{DATA_PREFIX}new.csv", f"{DATA_PREFIX}old/history.csv"]]
        assert run["Parameters"]["InputBytes"] == str(len(b"x,target\n1,2\n3,4\n") + len(b"x,target\n5,6\n"))
        assert run["Parameters"]["InputDataType"] == "ManifestFile"


@pytest.mark.parametrize(
    ("statement", "action"),
    [("StartThePipeline", "StartPipelineExecution"), ("ReadThePipelineParameters", "DescribePipeline")],
)
def test_a_statement_taken_out_of_the_role_is_refused(statement, action):
    with enforced_local_run(without=("TriggerFunction", statement)) as stack:
        create_placeholder_pipeline(stack.deployment.pipeline_name)
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=stack.deployment.bucket, Key=f"{DATA_PREFIX}a.csv", Body=b"x,target\n1,2\n"
        )
        stack.event_source.drain()

        assert stack.targets.executions() == []
        [told] = stack.targets.notifications()
        assert told["subject"] == f"Retraining NOT started: {DATA_PREFIX}a.csv"
        assert "AccessDenied" in told["message"]
        assert f"not authorized to perform: sagemaker:{action}" in told["message"]


def test_the_deploy_function_deploys_and_rolls_back_with_only_its_roles_permissions():
    """A stack that deploys (Deployment Instances): an approval goes to staging, its smoke check, then
    prod; a second goes out with a canary, an alarm fires, prod rolls back; every call of the deploy
    function signed as its role. What serves the traffic is the stand-in of tests/unit/test_deploy.py
    and staging answers through moto's endpoint-results API (the serving is tested in
    tests/pipeline/test_serving.py); the endpoints' events come from emulator/endpoints.py."""
    import json

    import requests

    from emulator.endpoints import EndpointLifecycle, install
    from tests.unit.test_deploy import ANSWERS, Fleets, smoke_document

    overrides = {"Deployment": "Instances", "CanaryWaitIntervalInSeconds": "0"}
    with enforced_local_run(overrides) as stack:
        deployment, deploy = stack.deployment, stack.functions["deploy"]
        context = deployment.stack.lambda_context("DeployFunction")
        environment = deployment.stack.function_environment("DeployFunction")
        lifecycle = EndpointLifecycle(Fleets(), clock=lambda: 0.0)
        install(lifecycle)
        s3, sagemaker = boto3.client("s3", region_name=REGION), boto3.client("sagemaker", region_name=REGION)
        runs = f"pipeline-artifacts/{deployment.pipeline_name}/runs"
        group = deployment.parameters["ModelPackageGroupName"]
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
        answers = []

        def approve(run: str) -> None:
            s3.put_object(
                Bucket=deployment.bucket, Key=f"{runs}/{run}/smoke_check.json", Body=json.dumps(smoke_document(run))
            )
            requests.post(  # noqa: S113 - moto's own API: what staging answers next
                f"{os.environ['AWS_ENDPOINT_URL']}/moto-api/static/sagemaker/endpoint-results",
                json={"results": [{"Body": ANSWERS, "ContentType": "text/csv"}]},
            )
            sagemaker.create_model_package(
                ModelPackageGroupName=group,
                ModelApprovalStatus="Approved",
                InferenceSpecification={
                    "Containers": [
                        {"Image": "xgboost", "ModelDataUrl": f"s3://{deployment.bucket}/{runs}/{run}/model.tar.gz"}
                    ]
                },
                CustomerMetadataProperties={"SmokeCheck": f"s3://{deployment.bucket}/{runs}/{run}/smoke_check.json"},
                DriftCheckBaselines=drift_baseline(deployment.bucket, f"{runs}/{run}"),
            )

        def settle(alarm: str = "") -> None:
            for _ in range(40):
                lifecycle.tick()
                events = lifecycle.drain()
                for event in events:
                    answers.append(deploy.lambda_handler(event, context))
                    if alarm and event.get("detail", {}).get("EndpointStatus") == "Updating":
                        boto3.client("cloudwatch", region_name=REGION).set_alarm_state(
                            AlarmName=alarm, StateValue="ALARM", StateReason="5XX errors during the canary"
                        )
                if not events and not lifecycle.busy:
                    return
            raise AssertionError("the deployment did not settle")

        approve("first")
        settle()
        approve("second")
        settle(alarm=environment["ROLLBACK_ALARM_NAMES"].split(",")[0])

        subjects = [n["subject"] for n in stack.targets.notifications()]
        assert subjects[0] == "Deployed version 1 to prod", answers
        assert subjects[-1] == "Prod ROLLED BACK to version 1", (subjects, answers)
        assert not any("AccessDenied" in json.dumps(answer) for answer in answers), answers
        assert not any(subject.startswith("Drift monitoring NOT updated") for subject in subjects), subjects
        drift_retrains_once_with_only_the_roles_permissions(stack, environment, f"{runs}/first")


def drift_baseline(bucket: str, folder: str) -> DriftCheckBaselinesTypeDef:
    """A run's baseline of two columns, written where a run writes it; the package's DriftCheckBaselines."""
    import json

    import pandas as pd

    from pipeline.steps import data_quality

    statistics = data_quality.statistics(pd.DataFrame({"a": range(200), "b": ["x", "y"] * 100}))
    s3 = boto3.client("s3", region_name=REGION)
    uris = {}
    for name, document in (("Statistics", statistics), ("Constraints", data_quality.constraints(statistics))):
        key = f"{folder}/baseline/{name.lower()}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document))
        uris[name] = {"ContentType": "application/json", "S3Uri": f"s3://{bucket}/{key}"}
    return {"ModelDataQuality": uris}  # type: ignore[typeddict-item]


def drift_retrains_once_with_only_the_roles_permissions(stack: Any, environment: dict[str, str], first: str) -> None:
    """Prod's schedule points at the version prod serves (the deploy role created and updated it); an
    execution reads the captured requests and writes its report as MonitoringRole, and is refused
    without that role's WriteReports; the trigger, as its role, reads the reports of two executions
    with violations while an upload's run is going, and starts exactly one next run."""
    from datetime import timedelta

    from emulator.identities import create_identity, role_policies, signing_as
    from emulator.model_monitor import run_execution

    deployment = stack.deployment
    sagemaker, s3 = boto3.client("sagemaker", region_name=REGION), boto3.client("s3", region_name=REGION)
    create_placeholder_pipeline(deployment.pipeline_name)
    s3.put_object(Bucket=deployment.bucket, Key=f"{DATA_PREFIX}new.csv", Body=b"a,b,target\n1,x,2\n")
    stack.event_source.drain()  # an upload's run starts, and goes on (its end is delivered below)
    schedule = environment["MONITORING_SCHEDULE_NAME"]
    definition = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=schedule)["MonitoringScheduleConfig"]
    baseline = definition["MonitoringJobDefinition"]["BaselineConfig"]["ConstraintsResource"]["S3Uri"]
    assert baseline == f"s3://{deployment.bucket}/{first}/baseline/constraints.json"  # pointed back at v1
    now = captured_drifted_requests(deployment.bucket, environment)
    role = deployment.stack.physical["MonitoringRole"]
    policies = role_policies(role)
    with signing_as(create_identity("monitoring-as-its-role", policies)):
        as_role = boto3.client("s3", region_name=REGION)
    summary = run_execution(schedule, now + timedelta(seconds=1), s3=as_role)
    assert summary["MonitoringExecutionStatus"] == "CompletedWithViolations"
    for document in policies.values():
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "WriteReports"]
    with signing_as(create_identity("monitoring-without-write-reports", policies)):
        without = boto3.client("s3", region_name=REGION)
    with pytest.raises(without.exceptions.ClientError, match="AccessDenied"):
        run_execution(schedule, now + timedelta(seconds=2), s3=without)
    summary = run_execution(schedule, now + timedelta(seconds=3))  # the next hour's violations, same baseline
    assert summary["MonitoringExecutionStatus"] == "CompletedWithViolations"
    listed = sagemaker.list_pipeline_executions(PipelineName=deployment.pipeline_name)["PipelineExecutionSummaries"]
    [running] = listed  # the upload's run, still going: the drift request waits for it
    stack.event_source.drain()
    assert (
        len(sagemaker.list_pipeline_executions(PipelineName=deployment.pipeline_name)["PipelineExecutionSummaries"])
        == 1
    )
    stack.end_run(running["PipelineExecutionArn"])
    stack.settle()
    listed = sagemaker.list_pipeline_executions(PipelineName=deployment.pipeline_name)["PipelineExecutionSummaries"]
    assert len(listed) == 2  # two executions' violations while a run was going: exactly one next run
    newest = max(listed, key=lambda summary: summary["StartTime"])
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=newest["PipelineExecutionArn"])
    assert described["PipelineExecutionDescription"].startswith("Drift: a ")
    drift_shows_both_executions_and_the_one_request(deployment.stack.name)


def captured_drifted_requests(bucket: str, environment: dict[str, str]) -> Any:
    """An hour of prod's requests as its data capture writes them, far from the baseline; their time."""
    from datetime import UTC, datetime

    from emulator.data_capture import record

    now = datetime.now(UTC)
    capture = {"CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}
    lines = [record(capture, (f"{500 + n},z".encode(), "text/csv"), (b"1", "text/csv"), now) for n in range(50)]
    prefix = environment["DATA_CAPTURE_URI"].removeprefix(f"s3://{bucket}/")
    key = f"{prefix}/{environment['PROD_ENDPOINT_NAME']}/AllTraffic/{now:%Y/%m/%d/%H}/captured.jsonl"
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=key, Body="".join(lines).encode())
    return now


def drift_shows_both_executions_and_the_one_request(stack_name: str) -> None:
    """`retrain-trigger drift`, as an operator asks."""
    import io
    from contextlib import redirect_stdout

    from ops.cli import main

    shown = io.StringIO()
    with redirect_stdout(shown):
        assert main(["--stack-name", stack_name, "drift"]) == 0
    lines = shown.getvalue()
    assert lines.count("CompletedWithViolations") == 2
    assert "  a: baseline_drift_check: Baseline drift distance: " in lines
    assert lines.count("retrain: asked for one") == 1
    assert lines.count("retrain: the same request as") == 1
