"""What `retrain-trigger` prints for people: times they read at a glance, the key they meant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ops.announcements import closest_key
from ops.times import ago, readable

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_a_time_reads_in_this_machines_zone_with_how_long_ago(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    import time

    time.tzset()
    try:
        assert readable(NOW - timedelta(minutes=3), now=NOW) == "2026-12-06 12:57:00 CET (3 min ago)"
        assert readable("2026-12-06T11:00:00Z", now=NOW) == "2026-12-06 12:00:00 CET (1 h ago)"
        assert readable(datetime(2026, 12, 6, 11, 59, 58), now=NOW).endswith("(just now)")  # no zone: UTC
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@given(st.text())
def test_any_text_is_shown_as_a_time_or_as_it_is_never_an_error(text):
    shown = readable(text, now=NOW)
    assert shown == text or shown.endswith(("ago)", "just now)")) or "(in " in shown


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_how_long_ago_names_one_unit(seconds):
    said = ago(timedelta(seconds=seconds))
    assert said == "just now" or said.endswith(" ago") or said.startswith("in ")
    assert sum(unit in said.split() for unit in ("s", "min", "h", "days")) <= 1


def test_the_key_meant_is_found_by_case_then_completion_then_likeness():
    keys = ["data/jan.csv", "data/feb.csv", "data/february-full.csv"]
    assert closest_key("data/JAN.csv", keys) == "data/jan.csv"
    assert closest_key("data/feb", keys) == "data/feb.csv"
    assert closest_key("data/jna.csv", keys) == "data/jan.csv"
    assert closest_key("other/thing.parquet", keys) is None


@given(st.text(max_size=30), st.lists(st.text(max_size=30), max_size=8))
def test_a_guess_is_always_one_of_the_keys(key, keys):
    guess = closest_key(key, keys)
    assert guess is None or guess in keys


def test_retrain_of_a_folder_in_the_wrong_case_offers_the_folder_and_sends_nothing(aws, capsys):
    import boto3

    from ops.cli import main as retrain_trigger
    from tests.aws import REGION

    s3, sqs = boto3.client("s3", region_name=REGION), boto3.client("sqs", region_name=REGION)
    s3.create_bucket(Bucket="data-bucket")
    s3.put_object(Bucket="data-bucket", Key="incoming/Jan/a.csv", Body=b"x,y\n1,2\n")
    queue = sqs.create_queue(QueueName="trigger")["QueueUrl"]

    code = retrain_trigger(
        ["--region", REGION, "--bucket", "data-bucket", "--queue-url", queue, "retrain", "--prefix", "incoming/jan/"]
    )

    assert code == 1
    assert capsys.readouterr().err.strip() == (
        "retrain-trigger retrain: error: no objects under s3://data-bucket/incoming/jan/ "
        "(did you mean incoming/Jan/?): nothing was sent"
    )
    assert sqs.receive_message(QueueUrl=queue).get("Messages", []) == []
