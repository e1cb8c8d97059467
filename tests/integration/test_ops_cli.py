"""`retrain-trigger backfill | redrive | status` against the moto server and the local function."""

from __future__ import annotations

import json

import boto3
import pytest

from emulator.moto_server import REGION
from ops.cli import main
from tests.aws import create_placeholder_pipeline

pytestmark = pytest.mark.end_to_end


def cli(local_run, *arguments: str) -> int:
    deployment = local_run.deployment
    return main(
        [
            "--queue-url",
            deployment.queue_url,
            "--dlq-url",
            deployment.dead_letter_queue_url,
            "--pipeline-name",
            deployment.pipeline_name,
            *arguments,
        ]
    )


def test_backfill_trains_on_existing_objects_once_and_status_lists_them(local_run, capsys):
    create_placeholder_pipeline(local_run.deployment.pipeline_name)
    s3 = boto3.client("s3", region_name=REGION)
    bucket = local_run.deployment.bucket
    # objects that were there before the trigger was: no notification carries them
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    keys = [f"pipeline-dataset/history/{n} old.csv" for n in range(12)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x,target\n1,2\n")
    local_run.event_source.drain()

    assert cli(local_run, "backfill", "--bucket", bucket, "--prefix", "pipeline-dataset/history/") == 0
    local_run.event_source.drain()
    assert cli(local_run, "backfill", "--bucket", bucket, "--prefix", "pipeline-dataset/history/") == 0
    local_run.event_source.drain()  # the second backfill starts nothing new
    assert cli(local_run, "status") == 0

    out = capsys.readouterr().out
    assert "backfill: 12 object(s) under" in out
    assert "1 most recent execution(s) of retrain-pipeline" in out
    for key in keys:
        assert f"s3://{bucket}/{key} (version " in out


def test_redrive_moves_dead_letters_back_to_the_trigger_queue(local_run, capsys):
    local_run.event_source.drain()  # the bucket's test event
    sqs = boto3.client("sqs", region_name=REGION)
    body = json.dumps({"Records": []})
    for _ in range(3):
        sqs.send_message(QueueUrl=local_run.deployment.dead_letter_queue_url, MessageBody=body)

    assert cli(local_run, "redrive") == 0

    moved = sqs.receive_message(QueueUrl=local_run.deployment.queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in moved] == [body] * 3
    left = sqs.receive_message(QueueUrl=local_run.deployment.dead_letter_queue_url).get("Messages", [])
    assert left == []
    assert "redrive: 3 message(s) moved" in capsys.readouterr().out
