"""The function as `sam local invoke -e events/<file>` would run it, against moto's SageMaker and SNS."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest

from app import lambda_handler
from tests.aws import SAMPLE_BUCKET
from tests.events import EVENTS, load_event
from tests.faults import inject_faults, json_error
from tests.template_values import DATA_PREFIX

TOPIC = "arn:aws:sns:us-east-1:123456789012:data-ready"  # events/sqs-retrain-topic-message.json's


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def decoded_keys(event: dict[str, Any]) -> list[str]:
    from urllib.parse import unquote_plus

    keys = []
    for record in event["Records"]:
        for s3_record in json.loads(record["body"]).get("Records", []):
            keys.append(unquote_plus(s3_record["s3"]["object"]["key"]))
    return keys


@pytest.mark.parametrize("event_file", sorted(path.name for path in EVENTS.glob("sqs-*.json")))
def test_every_sample_event_is_handled_without_crashing(event_file, targets, lambda_context):
    # Given a sample event that `sam local invoke -e` would pass
    event = load_event(event_file)
    # When the handler runs
    response = lambda_handler(event, lambda_context)
    # Then it answers in the partial batch response format, naming only messages of the event
    assert set(response) == {"batchItemFailures"}
    assert set(failed_ids(response)) <= {record["messageId"] for record in event["Records"]}


def test_one_upload_starts_one_run_with_bucket_and_key(targets, lambda_context):
    event = load_event("sqs-upload.json")

    response = lambda_handler(event, lambda_context)

    assert failed_ids(response) == []
    [execution] = targets.executions()
    assert execution["Parameters"] == {
        "InputBucket": SAMPLE_BUCKET,
        "InputKey": f"{DATA_PREFIX}abalone.csv",
        "InputDataType": "S3Prefix",
        "TrainingData": "NewObjects",
        "InputBytes": "1024",  # the size the notification gives
    }
    assert execution["PipelineExecutionDisplayName"].startswith("abalone-csv-")


def test_every_record_of_every_message_in_a_batch_is_in_the_one_run_the_batch_starts(targets, lambda_context):
    # Given three messages holding six S3 records, one of them outside the suffix filter
    event = load_event("sqs-batch.json")

    response = lambda_handler(event, lambda_context)

    assert failed_ids(response) == []
    assert targets.trained_keys() == [[f"{DATA_PREFIX}batch/day-0{day}.csv" for day in range(1, 6)]]
    [execution] = targets.executions()
    manifest_key = execution["Parameters"]["InputKey"]
    assert execution["Parameters"]["InputDataType"] == "ManifestFile"
    assert manifest_key.startswith(os.environ["MANIFEST_PREFIX"])
    manifest = (
        boto3.client("s3", region_name="us-east-1")
        .get_object(Bucket=execution["Parameters"]["InputBucket"], Key=manifest_key)["Body"]
        .read()
    )
    assert json.loads(manifest) == [
        {"prefix": f"s3://{SAMPLE_BUCKET}/"},
        *[f"{DATA_PREFIX}batch/day-0{day}.csv" for day in range(1, 6)],
    ]


def test_encoded_keys_reach_the_pipeline_decoded(targets, lambda_context):
    event = load_event("sqs-encoded-keys.json")

    lambda_handler(event, lambda_context)

    [trained] = targets.trained_keys()
    assert trained == sorted(
        [
            f"{DATA_PREFIX}my file.csv",
            f"{DATA_PREFIX}a+b=c&d.csv",
            f"{DATA_PREFIX}données/été 2026/résultats_日本.csv",
            f"{DATA_PREFIX}region=eu/year=2026/month=11/part 0001.csv",
        ]
    )
    # and the wire form really was encoded, so the test proves the decoding
    wire = json.loads(event["Records"][0]["body"])["Records"][0]["s3"]["object"]["key"]
    assert wire == f"{DATA_PREFIX}my+file.csv"


def test_s3_test_event_is_acknowledged_and_starts_nothing(targets, lambda_context):
    response = lambda_handler(load_event("sqs-s3-test-event.json"), lambda_context)

    assert failed_ids(response) == []
    assert targets.executions() == []
    assert targets.notifications() == []


def test_malformed_messages_go_to_the_dlq_at_once_with_their_reason(targets, lambda_context, caplog):
    # Given a batch with a body that is not JSON, a good upload, and a notification without an object
    event = load_event("sqs-malformed-body.json")
    not_json, _good, no_object = (record["messageId"] for record in event["Records"])

    response = lambda_handler(event, lambda_context)

    # Then nothing is retried: the two bad messages are in the DLQ on their first delivery, each
    # with its own body and a reason naming what is wrong; the good upload started its run.
    assert failed_ids(response) == []
    dead = targets.dead_letters()
    assert [letter["body"] for letter in dead] == [event["Records"][0]["body"], event["Records"][2]["body"]]
    assert dead[0]["reason"].startswith("the body is not JSON: ")
    assert dead[1]["reason"].startswith("cannot be read as an S3 event notification: ")
    assert "object: Field required" in dead[1]["reason"]
    assert "S3TestEvent" not in dead[1]["reason"]  # the test-event reading of the body is left out
    assert targets.started_keys() == [f"{DATA_PREFIX}after-the-bad-one.csv"]
    logged = [record.__dict__.get("message_id") for record in caplog.records if record.levelname == "ERROR"]
    assert logged == [not_json, no_object]


def test_a_malformed_message_is_retried_only_if_the_dlq_cannot_take_it(targets, lambda_context):
    event = load_event("sqs-malformed-body.json")
    event["Records"] = [event["Records"][0], event["Records"][2]]
    boto3.client("sqs", region_name="us-east-1").delete_queue(QueueUrl=targets.dead_letter_url)

    response = lambda_handler(event, lambda_context)

    # the queue's redrive policy then takes them to the DLQ: still nothing lost
    assert failed_ids(response) == [record["messageId"] for record in event["Records"]]


def test_objects_outside_prefix_or_suffix_and_deletions_start_nothing(targets, lambda_context):
    event = load_event("sqs-upload.json")
    body = json.loads(event["Records"][0]["body"])
    template = body["Records"][0]
    outside = []
    for key, name in (
        ("other-prefix/abalone.csv", "ObjectCreated:Put"),
        (f"{DATA_PREFIX}abalone.parquet", "ObjectCreated:Put"),
        (f"{DATA_PREFIX}abalone.csv", "ObjectRemoved:Delete"),
    ):
        record = json.loads(json.dumps(template))
        record["eventName"] = name
        record["s3"]["object"]["key"] = quote_plus(key, safe="/")
        outside.append(record)
    event["Records"][0]["body"] = json.dumps({"Records": outside})

    response = lambda_handler(event, lambda_context)

    assert failed_ids(response) == []
    assert targets.executions() == []


def test_a_key_sagemaker_would_reject_goes_to_the_dlq_at_once_with_the_reason(targets, lambda_context, caplog):
    event = load_event("sqs-batch.json")
    too_long = json.loads(event["Records"][1]["body"])
    too_long["Records"][0]["s3"]["object"]["key"] = DATA_PREFIX + "x" * 1100 + ".csv"
    event["Records"][1]["body"] = json.dumps(too_long)

    event["Records"] = [event["Records"][1]]

    response = lambda_handler(event, lambda_context)

    assert failed_ids(response) == []
    [dead] = targets.dead_letters()
    assert dead["body"] == event["Records"][0]["body"]
    assert "at most 1024" in dead["reason"]
    assert targets.executions() == []
    [refusal] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert refusal.__dict__["permanent"] is True


def test_an_empty_upload_starts_no_run_and_waits_in_the_dlq_with_the_reason(targets, lambda_context, capsys):
    event = load_event("sqs-empty-upload.json")

    response = lambda_handler(event, lambda_context)

    assert failed_ids(response) == []  # acknowledged: it is in the DLQ, not back in the queue
    assert targets.executions() == []
    [dead] = targets.dead_letters()
    assert dead["body"] == event["Records"][0]["body"]
    assert dead["reason"].startswith(f"s3://{SAMPLE_BUCKET}/{DATA_PREFIX}empty.csv: the object is empty (0 bytes)")
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [metric["EmptyUploadRefused"] for metric in emitted if "EmptyUploadRefused" in metric] == [[1.0]]


def test_success_publishes_one_readable_notification(targets, lambda_context):
    lambda_handler(load_event("sqs-upload.json"), lambda_context)

    [execution] = targets.executions()
    [notification] = targets.notifications()
    assert notification["subject"] == f"Retraining started: {DATA_PREFIX}abalone.csv"
    assert f"s3://{SAMPLE_BUCKET}/{DATA_PREFIX}abalone.csv" in (notification["message"])
    assert execution["PipelineExecutionArn"] in notification["message"]
    assert "console.aws.amazon.com/sagemaker" in notification["message"]


def test_a_run_sagemaker_refuses_for_good_puts_its_uploads_in_the_dlq_and_says_so(aws, lambda_context):
    from tests.aws import create_trigger_targets
    from trigger.events import TriggerQueueRecord

    targets = create_trigger_targets(pipeline_name="some-other-pipeline")  # not the configured one
    event = load_event("sqs-upload.json")

    response = lambda_handler(event, lambda_context)
    again = lambda_handler(event, lambda_context)  # the upload was forgotten: a redrive records it again

    assert failed_ids(response) == failed_ids(again) == []
    dead = targets.dead_letters()
    assert len(dead) == 2
    assert "StartPipelineExecution" in dead[0]["reason"]
    assert "retrain-pipeline" in dead[0]["reason"]
    # the dead letter is an S3 notification of the upload, so redriving it replays the upload
    replayed = TriggerQueueRecord.model_validate({**event["Records"][0], "body": dead[0]["body"]})
    assert [r.s3.object.key for r in replayed.body.records] == decoded_keys(event)  # type: ignore[union-attr]
    told = targets.notifications()
    assert [n["subject"] for n in told] == [f"Retraining NOT started: {DATA_PREFIX}abalone.csv"] * 2
    assert all("moved to the trigger's dead-letter queue" in n["message"] for n in told)


def sagemaker_client() -> Any:
    import app

    return app.core.clients.sagemaker


def test_a_throttled_start_is_reported_once_and_started_by_the_next_dispatch(targets, lambda_context):
    import sweep

    event = load_event("sqs-upload.json")

    with inject_faults(sagemaker_client(), "StartPipelineExecution", json_error("ThrottlingException", 400)) as log:
        response = lambda_handler(event, lambda_context)
        lambda_handler(event, lambda_context)  # a redelivery while SageMaker still throttles

    # retried with backoff up to the configured attempts (each dispatch), and the upload is kept
    assert log.attempts == 20
    assert len(log.sleeps) == 18
    assert failed_ids(response) == []
    assert targets.executions() == []
    [notification] = targets.notifications()  # once for the run, not per delivery
    assert notification["subject"] == f"Retraining NOT started: {DATA_PREFIX}abalone.csv"
    assert "ThrottlingException" in notification["message"]
    # once SageMaker takes calls again, the sweep starts that same run
    result = sweep.lambda_handler({}, lambda_context)
    [execution] = targets.executions()
    assert result["started"] == [execution["PipelineExecutionArn"]]
    assert targets.started_keys() == [f"{DATA_PREFIX}abalone.csv"]


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("InternalFailure", 500)])
def test_a_start_that_is_throttled_or_5xx_a_few_times_succeeds_once(code, status, targets, lambda_context):
    event = load_event("sqs-upload.json")

    with inject_faults(
        sagemaker_client(), "StartPipelineExecution", json_error(code, status), should_fail=lambda n: n <= 3
    ) as log:
        response = lambda_handler(event, lambda_context)

    assert log.injected == 3
    assert failed_ids(response) == []
    assert targets.started_keys() == [f"{DATA_PREFIX}abalone.csv"]


def test_sns_outage_does_not_fail_a_run_that_started(targets, lambda_context):
    boto3.client("sns", region_name="us-east-1").delete_topic(TopicArn=targets.topic_arn)

    response = lambda_handler(load_event("sqs-upload.json"), lambda_context)

    assert failed_ids(response) == []
    assert len(targets.executions()) == 1


@pytest.mark.parametrize(
    ("sample", "cause"),
    [
        ("sqs-schedule-tick.json", "Scheduled retrain (retrain-trigger-dev-retrain, 2026-12-07T02:00:00Z)"),
        ("sqs-eventbridge-event.json", "Event: aws.sagemaker SageMaker Model Package State Change of account"),
        ("sqs-retrain-topic-message.json", "Data ready: data-ready (sales 2026-12-06 loaded)"),
        (
            "sqs-monitoring-execution.json",
            "Drift: bmi 0.532 > 0.1 (schedule retrain-trigger-dev-prod-data-quality, 2026-12-07T09:00:00Z)",
        ),
    ],
)
def test_each_run_request_sample_starts_one_run_on_the_data_prefix(targets, lambda_context, monkeypatch, sample, cause):
    """The events/ samples of the sources besides uploads, as `sam local invoke -e` gives them."""
    import app
    from trigger.factory import build_core
    from trigger.settings import TriggerSettings, load_settings

    # the sample's topic and monitoring schedule, as a stack deployed with RetrainTopicArn and a Deployment names them
    schedule = "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/retrain-trigger-dev-prod-data-quality"
    environment = {**os.environ, "RETRAIN_TOPIC_ARN": TOPIC, "MONITORING_SCHEDULE_ARN": schedule}
    monkeypatch.setattr(app, "core", build_core(load_settings(environment, TriggerSettings)))
    report = json.loads(load_event(sample)["Records"][0]["body"]).get("detail", {}).get("ProcessingOutputConfig")
    if report:  # the execution's constraint_violations.json, where it wrote it
        bucket, _, folder = report["Outputs"][0]["S3Output"]["S3Uri"].removeprefix("s3://").partition("/")
        violation = {
            "feature_name": "bmi",
            "constraint_check_type": "baseline_drift_check",
            "description": "Baseline drift distance: 0.5316 exceeds threshold: 0.1 (Robust).",
        }
        body = json.dumps({"violations": [violation]})
        boto3.client("s3", region_name="us-east-1").put_object(
            Bucket=bucket, Key=f"{folder}/constraint_violations.json", Body=body
        )
    response = app.lambda_handler(load_event(sample), lambda_context)

    assert failed_ids(response) == []
    [execution] = targets.executions()
    assert (execution["Parameters"]["InputKey"], execution["Parameters"]["TrainingData"]) == (DATA_PREFIX, "AllObjects")
    described = boto3.client("sagemaker", region_name="us-east-1").describe_pipeline_execution(
        PipelineExecutionArn=execution["PipelineExecutionArn"]
    )
    assert described["PipelineExecutionDescription"].startswith(cause)
