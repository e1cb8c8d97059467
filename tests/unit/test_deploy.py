"""Deployment: an approved package goes to staging, is smoke checked, then to prod with a canary;
prod rolls back when an alarm fires; the latest approved version wins however approvals interleave.

moto (in-process) holds the registry, the endpoints, the alarms, the table and the topic;
emulator/endpoints.py gives its endpoints SageMaker's statuses, UpdateEndpoint and events. What
serves the traffic is a stand-in here (tests/pipeline/test_serving.py serves real models), and
staging's answers are queued through moto's own endpoint-results API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from emulator.endpoints import EndpointLifecycle, install
from tests.aws import create_scheduler_table
from tests.template_values import DEFAULTS, TEMPLATE, function_variables, parameter_values, resolve
from trigger.adapters.clients import Clients
from trigger.deploy_events import EndpointStateChange, parse_deploy_event
from trigger.deploy_settings import load_deploy_settings
from trigger.deployer import Deployer
from trigger.factory import build_deployer

REGION = "us-east-1"
GROUP = parameter_values(TEMPLATE)["ModelPackageGroupName"]
BUCKET = "retrain-data"
ANSWERS = "yes\nno\nyes"


@dataclass
class Fleets:
    """What serves each endpoint's traffic (variant, model, share); a model in ``broken`` cannot start."""

    serving: dict[str, list[tuple[str, str, float]]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)

    def serve(self, endpoint_name: str, variants: list[tuple[str, str, float]]) -> None:
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        for _, model, _ in variants:
            package = sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["ModelPackageName"]
            if package in self.broken:
                raise RuntimeError(f"Could not find model data at {package}/model.tar.gz")
        self.serving[endpoint_name] = variants

    def stop(self, endpoint_name: str) -> None:
        self.serving.pop(endpoint_name, None)


@dataclass
class Stack:
    deployer: Deployer
    lifecycle: EndpointLifecycle
    fleets: Fleets
    inbox_url: str
    settings: Any

    def deliver(self, event: dict[str, Any]) -> None:
        """An event reaches the deploy function, as its rules' patterns let it."""
        change = parse_deploy_event(event)
        if isinstance(change, EndpointStateChange):
            self.deployer.on_endpoint(change)
        elif change.approval_status != "PendingManualApproval":
            self.deployer.on_package(change)

    def step(self) -> bool:
        """A moment passes: endpoints move on and their events are delivered; False once all is still."""
        self.lifecycle.tick()
        events = self.lifecycle.drain()
        for event in events:
            self.deliver(event)
        return bool(events) or self.lifecycle.busy

    def run(self, steps: int = 50) -> None:
        for _ in range(steps):
            if not self.step():
                return
        raise AssertionError("the deployment did not settle")

    def subjects(self) -> list[str]:
        sqs = boto3.client("sqs", region_name=REGION)
        found = []
        while messages := sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                found.append(json.loads(message["Body"])["Subject"])
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def prod_version(self) -> int | None:
        record = self.deployer.stage("prod")
        return record.serving.version if record.serving else None

    def staging_answers(self, *answers: str) -> None:
        """What staging answers next, through moto's own queue of endpoint results."""
        results = [
            {"Body": answer, "ContentType": "text/csv", "InvokedProductionVariant": "AllTraffic"} for answer in answers
        ]
        requests.post(  # noqa: S113 - intercepted by mock_aws
            "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results", json={"results": results}
        )


def deploy_environment(**overrides: str) -> dict[str, str]:
    """DeployFunction's environment as the template sets it, for a stack with Deployment=Instances."""
    values = parameter_values(TEMPLATE, Deployment="Instances", CanaryWaitIntervalInSeconds="0", **overrides)
    values |= {
        "DataBucket": BUCKET,
        "SchedulerTable": "scheduler",
        "NotificationTopic": f"arn:aws:sns:{REGION}:123456789012:notifications",
        "ProdEndpoint5XXAlarm": "retrain-trigger-dev-prod-5xx",
        "ProdEndpointLatencyAlarm": "retrain-trigger-dev-prod-latency",
    }
    resolved = {
        name: resolve(value, values, TEMPLATE) for name, value in function_variables(TEMPLATE, "DeployFunction").items()
    }
    resolved["MODEL_EXECUTION_ROLE_ARN"] = "arn:aws:iam::123456789012:role/model"
    if resolved["DRIFT_MONITORING"] == "DataQuality":
        resolved["MONITORING_ROLE_ARN"] = "arn:aws:iam::123456789012:role/monitoring"
    return {name: str(value) for name, value in resolved.items() if isinstance(value, str)}


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        environment = deploy_environment()
        create_scheduler_table(environment["SCHEDULER_TABLE_NAME"])
        sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name="notifications")["TopicArn"]
        inbox = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for name in environment["ROLLBACK_ALARM_NAMES"].split(","):
            cloudwatch.put_metric_alarm(
                AlarmName=name, MetricName="Invocation5XXErrors", Namespace="AWS/SageMaker", Statistic="Sum",
                Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
            )  # fmt: skip
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        for run in ("first", "second"):
            s3.put_object(Bucket=BUCKET, Key=f"runs/{run}/smoke_check.json", Body=json.dumps(smoke_document(run)))
        boto3.client("sagemaker", region_name=REGION).create_model_package_group(ModelPackageGroupName=GROUP)
        fleets = Fleets()
        lifecycle = EndpointLifecycle(fleets, clock=lambda: 0.0)
        install(lifecycle)
        settings = load_deploy_settings(environment)
        deployer = build_deployer(settings, Clients(), clock=lambda: 1_765_000_000.0)
        yield Stack(deployer, lifecycle, fleets, inbox, settings)


def smoke_document(run: str) -> dict[str, Any]:
    """Rows of a run's test split and Evaluate's answers (moto answers the same rows the same way:
    each run has its own rows)."""
    body = f"a,b\n1,2\n3,4\n5,{len(run)}\n"
    return {"content_type": "text/csv", "accept": "text/csv", "body": body, "expected": ANSWERS.split("\n")}


def register(
    status: Any = "Approved", group: str = GROUP, run: str = "first", *, smoke: bool = True, baseline: bool = True
) -> str:
    """A package as a run registers it: its smoke check and (as the bundled pipeline does) its drift baseline."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    folder = f"s3://{BUCKET}/runs/{run}/baseline"
    baselines: dict[str, Any] = {
        "ModelDataQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": f"{folder}/statistics.json"},
            "Constraints": {"ContentType": "application/json", "S3Uri": f"{folder}/constraints.json"},
        }
    }
    return str(
        sagemaker.create_model_package(
            **({"DriftCheckBaselines": baselines} if baseline else {}),  # type: ignore[arg-type]
            ModelPackageGroupName=group,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [{"Image": "xgboost", "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            CustomerMetadataProperties={
                **({"SmokeCheck": f"s3://{BUCKET}/runs/{run}/smoke_check.json"} if smoke else {}),
                "Input": "s3://d/a.csv",
            },
        )["ModelPackageArn"]
    )


def set_status(package_arn: str, status: Any) -> None:
    boto3.client("sagemaker", region_name=REGION).update_model_package(
        ModelPackageArn=package_arn, ModelApprovalStatus=status
    )


def test_an_approved_model_goes_to_staging_then_after_its_smoke_check_to_prod(stack):
    stack.staging_answers(ANSWERS)
    register()
    stack.run()
    assert stack.prod_version() == 1
    assert stack.subjects() == ["Deployed version 1 to prod"]
    prod = boto3.client("sagemaker", region_name=REGION).describe_endpoint(
        EndpointName=stack.settings.prod_endpoint_name
    )
    assert prod["EndpointStatus"] == "InService"
    assert [model for _, model, _ in stack.fleets.serving[stack.settings.prod_endpoint_name]] == [
        prod["EndpointConfigName"]
    ]


def schedule_baseline(stack: Stack) -> str:
    described = boto3.client("sagemaker", region_name=REGION).describe_monitoring_schedule(
        MonitoringScheduleName=stack.settings.monitoring_schedule_name
    )
    definition = described["MonitoringScheduleConfig"]["MonitoringJobDefinition"]
    assert definition["MonitoringInputs"][0]["EndpointInput"]["EndpointName"] == stack.settings.prod_endpoint_name
    return str(definition["BaselineConfig"]["ConstraintsResource"]["S3Uri"])


def test_prod_captures_its_requests_and_is_checked_against_the_baseline_of_the_version_it_serves(stack):
    stack.staging_answers(ANSWERS, ANSWERS)
    register()
    stack.run()
    assert schedule_baseline(stack) == f"s3://{BUCKET}/runs/first/baseline/constraints.json"
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    configs = {
        stage: sagemaker.describe_endpoint_config(
            EndpointConfigName=sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"]
        )
        for stage, name in (
            ("staging", stack.settings.staging_endpoint_name),
            ("prod", stack.settings.prod_endpoint_name),
        )
    }
    capture = configs["prod"]["DataCaptureConfig"]
    assert capture["DestinationS3Uri"] == f"s3://{BUCKET}/pipeline-artifacts/{DEFAULTS['PipelineName']}/data-capture"
    assert capture["InitialSamplingPercentage"] == 100
    assert "DataCaptureConfig" not in configs["staging"] or not configs["staging"]["DataCaptureConfig"]
    register(run="second")
    stack.run()
    assert stack.prod_version() == 2
    assert schedule_baseline(stack) == f"s3://{BUCKET}/runs/second/baseline/constraints.json"


def test_a_version_without_a_drift_baseline_is_deployed_and_a_person_is_told_it_is_not_watched(stack):
    stack.staging_answers(ANSWERS)
    register(baseline=False)  # a pipeline of one's own need not register DriftCheckBaselines
    stack.run()
    assert stack.prod_version() == 1
    assert stack.subjects() == ["Deployed version 1 to prod", "Drift monitoring NOT updated for version 1"]


def test_a_package_without_a_smoke_check_goes_to_prod_and_the_record_says_it_was_not_checked(stack):
    register(smoke=False)  # a pipeline of one's own registers what it registers
    stack.run()
    assert stack.prod_version() == 1
    last = stack.deployer.stage("staging").last
    assert (last.kind, last.version) == ("smoke_skipped", 1)
    assert last.reason == "the package names no SmokeCheck: staging was only checked to be in service"


def test_the_second_version_goes_out_with_a_canary_and_the_later_of_two_approvals_ends_in_prod(stack):
    stack.staging_answers(ANSWERS, ANSWERS, ANSWERS)
    register()
    stack.run()
    register()  # two approvals close together: 2 is still on staging when 3 arrives
    stack.lifecycle.tick()
    register()
    stack.run()
    assert stack.prod_version() == 3
    assert stack.subjects()[-1] == "Deployed version 3 to prod"
    assert stack.deployer.stage("staging").serving.version == 3


def test_an_alarm_during_the_canary_rolls_prod_back_to_the_version_it_served(stack):
    stack.staging_answers(ANSWERS, ANSWERS)
    register()
    stack.run()
    stack.lifecycle = EndpointLifecycle(stack.fleets, clock=iter([0.0, 1.0, *[5.0] * 100]).__next__)
    install(stack.lifecycle)
    baking = stack.settings.model_copy(update={"canary_wait_interval_in_seconds": 3})
    stack.deployer = build_deployer(baking, Clients(), clock=lambda: 1_765_000_000.0)
    register()
    prod = stack.settings.prod_endpoint_name
    for _ in range(20):  # staging, its smoke check, then prod's canary takes a quarter of the traffic
        stack.step()
        if len(stack.fleets.serving[prod]) == 2:
            break
    shares = sorted(share for _, _, share in stack.fleets.serving[prod])
    assert shares == [0.25, 0.75]
    boto3.client("cloudwatch", region_name=REGION).set_alarm_state(
        AlarmName="retrain-trigger-dev-prod-5xx", StateValue="ALARM", StateReason="errors"
    )
    stack.run()
    assert stack.prod_version() == 1
    assert stack.subjects()[-1] == "Prod ROLLED BACK to version 1"
    assert schedule_baseline(stack) == f"s3://{BUCKET}/runs/first/baseline/constraints.json"  # pointed back
    assert len(stack.fleets.serving[stack.settings.prod_endpoint_name]) == 1


def test_a_smoke_check_mismatch_leaves_prod_untouched(stack):
    stack.staging_answers(ANSWERS, "yes\nyes\nyes")
    register()
    stack.run()
    register(run="second")
    stack.run()
    assert stack.prod_version() == 1
    assert stack.deployer.stage("staging").serving.version == 2
    assert stack.subjects()[-1] == "Smoke check FAILED: version 2 stays out of prod"


def test_rejecting_the_version_in_prod_puts_back_the_latest_still_approved(stack):
    stack.staging_answers(ANSWERS, ANSWERS, ANSWERS)
    register()
    stack.run()
    second = register()
    stack.run()
    assert stack.prod_version() == 2
    set_status(second, "Rejected")
    stack.run()
    assert stack.prod_version() == 1
    assert stack.subjects()[-1] == "Prod back on version 1: version 2 is no longer approved"


def test_a_model_whose_artefacts_are_gone_fails_once_and_the_previous_keeps_serving(stack):
    stack.staging_answers(ANSWERS)
    register()
    stack.run()
    gone = register(status="PendingManualApproval")
    stack.fleets.broken.add(gone)
    set_status(gone, "Approved")
    stack.run()
    stack.run()  # nothing is retried
    assert stack.subjects()[-1] == "Deployment of version 2 to staging FAILED"
    assert stack.deployer.stage("staging").serving.version == 1
    assert stack.prod_version() == 1


def test_a_package_of_another_group_deploys_nothing_and_says_so(stack):
    boto3.client("sagemaker", region_name=REGION).create_model_package_group(ModelPackageGroupName="other")
    arn = register(group="other")
    event = stack.lifecycle.drain()[0]
    assert stack.deployer.on_package(parse_deploy_event(event))["step"] == "nothing"
    assert stack.subjects() == ["Deployment ignored a package of other"]
    assert arn


def test_the_sample_events_are_what_the_deploy_function_s_rules_let_through():
    """events/model-package-approved.json and events/endpoint-in-service.json (for `sam local invoke
    DeployFunction`) match the template's rules as EventBridge matches them, and parse; another
    group's package and another stack's endpoint do not match."""
    from moto.events.models import EventPattern

    from tests.events import load_event

    values = parameter_values(TEMPLATE, Stage="dev")
    rules = TEMPLATE["Resources"]["DeployFunction"]["Properties"]["Events"].values()
    patterns = [EventPattern.load(json.dumps(resolve(rule["Properties"]["Pattern"], values))) for rule in rules]
    approved, in_service = load_event("model-package-approved.json"), load_event("endpoint-in-service.json")
    other_group = {**approved, "detail": {**approved["detail"], "ModelPackageGroupName": "someone-elses"}}
    other_stack = {**in_service, "detail": {**in_service["detail"], "EndpointName": "retrain-trigger-test-prod"}}

    def matched(event: dict[str, Any]) -> bool:
        return any(pattern.matches_event(event) for pattern in patterns)  # type: ignore[arg-type]

    assert [matched(event) for event in (approved, in_service, other_group, other_stack)] == [True, True, False, False]
    package, endpoint = parse_deploy_event(approved), parse_deploy_event(in_service)
    assert not isinstance(package, EndpointStateChange)
    assert (package.approval_status, package.version) == ("Approved", 3)
    assert isinstance(endpoint, EndpointStateChange)
    assert (endpoint.endpoint_name, endpoint.status) == ("retrain-trigger-dev-staging", "InService")


def test_a_monitoring_execution_that_fails_says_why_and_asks_for_no_run(stack):
    """Prod's schedule runs: without the baseline's files, then without captured requests, the execution
    fails with the reason, and its event is acknowledged by the trigger's source without a request."""
    from emulator.model_monitor import NO_DATA, run_execution
    from trigger.sources import SourceContext, parse_body

    stack.staging_answers(ANSWERS)
    register()
    stack.run()
    events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="trigger")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Processing Job State Change"]}
    events.put_rule(Name="drift", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="drift", Targets=[{"Id": "queue", "Arn": arn}])
    schedule = stack.settings.monitoring_schedule_name

    missing = run_execution(schedule)
    statistics = f"s3://{BUCKET}/runs/first/baseline/statistics.json"
    assert (missing["MonitoringExecutionStatus"], missing["FailureReason"]) == (
        "Failed",
        f"the baseline statistics {statistics} cannot be read: NoSuchKey",
    )
    s3 = boto3.client("s3", region_name=REGION)
    for name in ("statistics", "constraints"):
        s3.put_object(Bucket=BUCKET, Key=f"runs/first/baseline/{name}.json", Body=b'{"version": 0, "features": []}')
    empty = run_execution(schedule)
    assert (empty["MonitoringExecutionStatus"], empty["FailureReason"]) == ("Failed", NO_DATA)

    context = SourceContext(
        bucket=BUCKET, monitoring_schedule_arn=f"arn:aws:sagemaker:{REGION}:123456789012:monitoring-schedule/{schedule}"
    )
    said = [
        parse_body(m["Body"], context) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    ]
    assert [parsed.requests for parsed in said] == [[], []]
    assert said[-1].acknowledged.endswith(f"Failed: {NO_DATA}; no run")
    listed = boto3.client("sagemaker", region_name=REGION).list_monitoring_executions(MonitoringScheduleName=schedule)
    assert [e["MonitoringExecutionStatus"] for e in listed["MonitoringExecutionSummaries"]] == ["Failed", "Failed"]
