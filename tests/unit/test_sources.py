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
CONTEXT = SourceContext(bucket="data", retrain_topic_arn=TOPIC)
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
