"""Parsing what arrives on the trigger queue: decoding once, rejecting clearly, never crashing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.aws import SAMPLE_BUCKET
from tests.events import load_event
from trigger.events import S3EventNotification, S3TestEvent, TriggerQueueRecord

SQS_RECORD = load_event("sqs-upload.json")["Records"][0]
S3_RECORD = json.loads(SQS_RECORD["body"])["Records"][0]

# S3 keys: any unicode except surrogates (not encodable as UTF-8), 1 to 1024 UTF-8 bytes.
keys = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=300).filter(
    lambda key: len(key.encode("utf-8")) <= 1024
)


def sqs_record_with(body: Any) -> dict[str, Any]:
    return {**SQS_RECORD, "body": body if isinstance(body, str) else json.dumps(body)}


def notification_with_key(wire_key: str) -> dict[str, Any]:
    record = json.loads(json.dumps(S3_RECORD))
    record["s3"]["object"]["key"] = wire_key
    return {"Records": [record]}


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(key=keys)
def test_any_key_encoded_as_s3_sends_it_decodes_to_the_original(key):
    # S3 encodes keys like application/x-www-form-urlencoded; moto also encodes "/" as %2F.
    for wire in (quote_plus(key, safe="/"), quote_plus(key)):
        parsed = TriggerQueueRecord.model_validate(sqs_record_with(notification_with_key(wire)))
        assert isinstance(parsed.body, S3EventNotification)
        assert parsed.body.records[0].s3.object.key == key


@pytest.mark.parametrize(
    ("wire", "decoded"),
    [
        ("my+file.csv", "my file.csv"),
        ("a%2Bb.csv", "a+b.csv"),
        ("folder%2Fsub%2Fx.csv", "folder/sub/x.csv"),
        ("r%C3%A9sum%C3%A9.csv", "résumé.csv"),
        ("100%25.csv", "100%.csv"),
    ],
)
def test_known_wire_forms_decode_once(wire, decoded):
    parsed = TriggerQueueRecord.model_validate(sqs_record_with(notification_with_key(wire)))
    assert isinstance(parsed.body, S3EventNotification)
    assert parsed.body.records[0].s3.object.key == decoded


def test_a_key_whose_percent_escapes_are_not_utf8_is_rejected():
    with pytest.raises(ValidationError, match="key"):
        TriggerQueueRecord.model_validate(sqs_record_with(notification_with_key("bad%FF%FE.csv")))


def test_the_s3_test_event_parses_as_such():
    parsed = TriggerQueueRecord.model_validate(load_event("sqs-s3-test-event.json")["Records"][0])
    assert isinstance(parsed.body, S3TestEvent)
    assert parsed.body.bucket == SAMPLE_BUCKET


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def mutated_notifications() -> st.SearchStrategy[Any]:
    """Real notifications with one field removed, replaced or retyped."""
    paths = [
        ("Records",),
        ("Records", 0, "eventName"),
        ("Records", 0, "s3"),
        ("Records", 0, "s3", "bucket"),
        ("Records", 0, "s3", "bucket", "name"),
        ("Records", 0, "s3", "object"),
        ("Records", 0, "s3", "object", "key"),
        ("Records", 0, "s3", "object", "size"),
        ("Records", 0, "s3", "object", "versionId"),
    ]

    @st.composite
    def mutate(draw: st.DrawFn) -> Any:
        body = json.loads(json.dumps({"Records": [S3_RECORD]}))
        path = draw(st.sampled_from(paths))
        parent = body
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
        return body

    return mutate()


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(st.text(), json_values, mutated_notifications()))
def test_arbitrary_bodies_either_parse_or_raise_a_validation_error(body):
    try:
        parsed = TriggerQueueRecord.model_validate(sqs_record_with(body))
    except ValidationError:
        return
    assert isinstance(parsed.body, S3EventNotification | S3TestEvent)


@settings(max_examples=200)
@given(key=keys)
def test_percent_encoding_without_plus_also_decodes(key):
    # Some producers (replays, hand-written messages) use %20 instead of +; both decode the same.
    parsed = TriggerQueueRecord.model_validate(sqs_record_with(notification_with_key(quote(key, safe=""))))
    assert isinstance(parsed.body, S3EventNotification)
    assert parsed.body.records[0].s3.object.key == key


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=keys,
    version=st.none() | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=40),
    size=st.none() | st.integers(min_value=0, max_value=5 * 1024**4),
)
def test_a_dead_lettered_object_replays_as_the_same_object_version(key, version, size):
    """What the function puts in the DLQ for a refused run parses back, after a redrive, to the same
    object version: same key (encoded as S3 encodes it), version and size."""
    from trigger.events import notification_body
    from trigger.uploads import UploadedObject

    original = {"bucket": "b", "key": key, "event_name": "ObjectCreated:Put", "size": size, "version_id": version}
    [record] = TriggerQueueRecord.model_validate(sqs_record_with(notification_body([original]))).body.records  # type: ignore[union-attr]
    replayed = UploadedObject.from_record(record)
    assert (replayed.bucket, replayed.key, replayed.version_id, replayed.size) == ("b", key, version, size)
