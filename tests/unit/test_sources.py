"""Each source's parser, through the one public seam (trigger.sources.parse_body): any body either
parses into run requests (or is acknowledged) or is Unreadable with a one-line reason; none raises
anything else, so none can crash a batch."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trigger.run_requests import Unreadable
from trigger.sources import SourceContext, parse_body
from trigger.uploads import RUN_REQUEST_PREFIX

TOPIC = "arn:aws:sns:us-east-1:123456789012:data-ready"
SCHEDULE = "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/retrain-trigger-dev-prod-data-quality"
REPORTS: dict[str, Any] = {}  # a monitoring execution's report, by its S3 URI: any JSON at all
CONTEXT = SourceContext(bucket="data", retrain_topic_arn=TOPIC, read_json=REPORTS.get)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# Each source's own fields, with values of any shape: the parsers' claims see them, their models judge.
SHAPED = {
    "sns": st.fixed_dictionaries({"Type": JSON, "TopicArn": JSON, "MessageId": JSON, "Message": JSON}),
    "event": st.fixed_dictionaries({"detail-type": JSON, "source": JSON, "id": JSON, "detail": JSON}),
    "tick": st.fixed_dictionaries({"runRequest": JSON}),
    "queued": st.fixed_dictionaries({"runRequests": JSON}),
    "s3": st.fixed_dictionaries({"Records": JSON}),
    "monitoring": st.fixed_dictionaries(
        {
            "detail-type": st.just("SageMaker Processing Job State Change"),
            "detail": st.fixed_dictionaries(
                {
                    "MonitoringScheduleArn": JSON,
                    "ProcessingJobName": JSON,
                    "ProcessingJobStatus": st.sampled_from(["Completed", "Failed"]) | JSON,
                    "ExitMessage": st.just("CompletedWithViolations: 2 violations") | JSON,
                    "ProcessingOutputConfig": JSON,
                    "Environment": JSON,
                }
            ),
        }
    ),
}


def outcome(body: str) -> Any:
    try:
        return parse_body(body, CONTEXT)
    except Unreadable as unreadable:
        said = str(unreadable)
    assert said  # never empty
    assert "\n" not in said  # one line
    return said


@settings(max_examples=150)
@given(st.one_of(JSON, *SHAPED.values()))
def test_any_body_parses_or_is_unreadable_with_a_reason(document: Any) -> None:
    outcome(json.dumps(document))


@settings(max_examples=50)
@given(st.text(max_size=50))
def test_any_text_parses_or_is_unreadable(text: str) -> None:
    outcome(text)


@given(subject=st.text(max_size=200), message_id=st.uuids())
def test_a_data_ready_message_is_one_request_for_the_prefix_named_by_its_message_id(subject, message_id) -> None:
    body = {"Type": "Notification", "MessageId": str(message_id), "TopicArn": TOPIC, "Subject": subject, "Message": "x"}
    [request] = parse_body(json.dumps(body), CONTEXT).requests
    [entry] = request.entries("data", "pipeline-dataset/")
    assert (request.kind, request.request_id, entry.key) == ("message", str(message_id), "pipeline-dataset/")
    assert entry.event_name == f"{RUN_REQUEST_PREFIX}message"
    assert entry.covers_prefix
    assert request.cause.startswith("Data ready: data-ready")
    # the same message again is the same request: the pending set records it once
    [again] = parse_body(json.dumps(body), CONTEXT).requests
    assert again.entries("data", "pipeline-dataset/") == [entry]


def test_an_s3_notification_inside_an_sns_message_is_those_uploads() -> None:
    s3 = {
        "Records": [
            {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "data"}, "object": {"key": "a+b.csv"}}}
        ]
    }
    body = {
        "Type": "Notification",
        "MessageId": "m",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:any",
        "Message": json.dumps(s3),
    }
    [request] = parse_body(json.dumps(body), CONTEXT).requests
    assert request.kind == "upload"
    assert [o.key for o in request.objects] == ["a b.csv"]  # decoded once


def test_an_object_created_event_is_an_upload_with_its_key_as_it_came() -> None:
    event = {
        "id": "e1",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": "data"}, "object": {"key": "pipeline-dataset/a+b.csv", "size": 3, "etag": "t"}},
    }
    [request] = parse_body(json.dumps(event), CONTEXT).requests
    [upload] = request.objects
    assert (request.kind, upload.key, upload.size) == ("upload", "pipeline-dataset/a+b.csv", 3)  # not URL-encoded


def test_a_tick_is_named_by_its_schedule_and_time_so_a_redelivery_is_the_same_request() -> None:
    tick = {
        "runRequest": {
            "kind": "schedule",
            "schedule": "arn:aws:scheduler:us-east-1:1:schedule/default/nightly",
            "time": "T",
        }
    }
    [first] = parse_body(json.dumps(tick), CONTEXT).requests
    [again] = parse_body(json.dumps(tick), CONTEXT).requests
    assert first == again
    assert first.cause == "Scheduled retrain (nightly, T)"
    later = {"runRequest": {**tick["runRequest"], "time": "T2"}}
    assert parse_body(json.dumps(later), CONTEXT).requests[0].request_id != first.request_id


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "the body is not JSON"),
        ("[1]", "an SNS message, an EventBridge event or a run request: a JSON list"),
        ('{"hello": 1}', "an object with the fields hello"),
        ('{"runRequests": []}', "asks for nothing"),
    ],
)
def test_what_no_source_reads_is_unreadable_and_says_what_it_saw(body: str, reason: str) -> None:
    with pytest.raises(Unreadable, match=re.escape(reason)):
        parse_body(body, CONTEXT)


def execution_event(status: str = "Completed", exit_message: str = "", baseline: str = "s3://d/runs/1/c.json") -> str:
    detail = {
        "ProcessingJobName": "model-monitoring-202612070500-1a2b3c4d",
        "ProcessingJobStatus": status,
        "MonitoringScheduleArn": SCHEDULE,
        "ExitMessage": exit_message,
        "FailureReason": "Job inputs had no data" if status == "Failed" else "",
        "Environment": {"RETRAIN_TRIGGER_BASELINE": baseline, "end_time": "2026-12-07T05:00:00Z"},
        "ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": "s3://d/monitoring/x"}}]},
    }
    return json.dumps({"id": "e1", "detail-type": "SageMaker Processing Job State Change", "source": "aws.sagemaker",
                       "detail": detail})  # fmt: skip


def test_a_monitoring_execution_with_violations_is_one_drift_request_naming_what_drifted_and_by_how_much():
    REPORTS["s3://d/monitoring/x/constraint_violations.json"] = {
        "violations": [
            {"feature_name": "city", "constraint_check_type": "categorical_values_check", "description": "new: zz."},
            {"feature_name": "income", "constraint_check_type": "baseline_drift_check",
             "description": "Baseline drift distance: 0.234 exceeds threshold: 0.1 (Robust)."},
        ]
    }  # fmt: skip
    first = parse_body(execution_event(exit_message="CompletedWithViolations: 2 violations."), CONTEXT)
    [request] = first.requests
    assert request.kind == "drift"
    assert request.cause == (
        "Drift: income 0.234 > 0.1; new values: city "
        "(schedule retrain-trigger-dev-prod-data-quality, 2026-12-07T05:00:00Z)"
    )
    [entry] = request.entries("data", "pipeline-dataset/")
    assert entry.covers_prefix
    assert entry.event_name == f"{RUN_REQUEST_PREFIX}drift"
    # the next hour's violations against the same baseline are the same request; a new baseline is another
    again = parse_body(execution_event(exit_message="CompletedWithViolations: 1 violations."), CONTEXT)
    assert again.requests[0].request_id == request.request_id
    retrained = parse_body(
        execution_event(exit_message="CompletedWithViolations: 1.", baseline="s3://d/runs/2/c.json"), CONTEXT
    )
    assert retrained.requests[0].request_id != request.request_id


@pytest.mark.parametrize(
    ("status", "exit_message", "said"),
    [
        ("Completed", "Completed: Job completed successfully with no violations.", "no violations"),
        ("Failed", "", "Failed: Job inputs had no data; no run"),
    ],
)
def test_a_monitoring_execution_without_violations_or_that_failed_asks_for_no_run(status, exit_message, said):
    parsed = parse_body(execution_event(status, exit_message), CONTEXT)
    assert parsed.requests == []
    assert parsed.acknowledged.endswith(said)


def test_another_schedule_s_execution_is_not_for_this_stack():
    context = SourceContext(bucket="data", monitoring_schedule_arn=SCHEDULE.replace("dev", "prod"))
    with pytest.raises(Unreadable, match="not of this stack's schedule"):
        parse_body(execution_event(), context)


def test_the_report_the_trigger_reads_is_the_one_the_monitoring_execution_writes():
    from pipeline.steps import data_quality
    from trigger.sources import monitoring_execution

    assert monitoring_execution.VIOLATIONS_FILE == data_quality.VIOLATIONS_FILE  # the function carries its own copy
