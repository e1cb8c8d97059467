"""`retrain-trigger backfill | redrive | status` against the moto server and the local function."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from emulator.alarms import evaluate_alarms
from emulator.demo import read_notifications
from emulator.moto_server import REGION
from emulator.stack_options import StackOptions
from ops.cli import main
from ops.queues import peek
from tests.aws import create_placeholder_pipeline
from tests.template_values import DATA_PREFIX, DEFAULTS, MANIFEST_PREFIX

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
    keys = [f"{DATA_PREFIX}history/{n} old.csv" for n in range(12)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x,target\n1,2\n")
    local_run.event_source.drain()

    assert cli(local_run, "backfill", "--bucket", bucket, "--prefix", f"{DATA_PREFIX}history/") == 0
    local_run.event_source.drain()
    assert cli(local_run, "backfill", "--bucket", bucket, "--prefix", f"{DATA_PREFIX}history/") == 0
    local_run.event_source.drain()  # the second backfill starts nothing new
    assert cli(local_run, "status") == 0

    out = capsys.readouterr().out
    assert "backfill: 12 object(s) under" in out
    assert f"1 most recent execution(s) of {local_run.deployment.pipeline_name}" in out
    for key in keys:
        assert f"s3://{bucket}/{key} (version " in out


def test_a_backfill_after_the_uploads_starts_nothing_new(local_run, capsys):
    """The notification and the backfill name the same object version, so the backfill adds none."""
    create_placeholder_pipeline(local_run.deployment.pipeline_name)
    s3 = boto3.client("s3", region_name=REGION)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    bucket = local_run.deployment.bucket
    for n in range(3):
        s3.put_object(Bucket=bucket, Key=f"{DATA_PREFIX}daily/{n}.csv", Body=b"x,target\n1,2\n")
    local_run.settle()

    def executions() -> int:
        pipeline = local_run.deployment.pipeline_name
        return len(sagemaker.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"])

    started = executions()
    # as a user would: the stack's names, and its DataPrefix (the run's manifest is outside it)
    assert main(["--stack-name", local_run.deployment.stack.name, "backfill"]) == 0
    local_run.settle()

    assert started >= 1
    assert executions() == started
    assert f"backfill: 3 object(s) under s3://{bucket}/{DATA_PREFIX} sent" in capsys.readouterr().out


def test_retrain_trains_again_on_an_object_that_already_ran_once_per_request(local_run, capsys):
    create_placeholder_pipeline(local_run.deployment.pipeline_name)
    s3 = boto3.client("s3", region_name=REGION)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    bucket, pipeline = local_run.deployment.bucket, local_run.deployment.pipeline_name
    key = f"{DATA_PREFIX}fixed/data.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=b"x,target\n1,2\n")
    local_run.settle()

    def causes() -> list[str]:
        arns = [
            s["PipelineExecutionArn"]
            for s in sagemaker.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]
        ]
        return [
            sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn).get("PipelineExecutionDescription", "")
            for arn in arns
        ]

    assert cli(local_run, "--bucket", bucket, "backfill", "--prefix", f"{DATA_PREFIX}fixed/") == 0
    local_run.settle()
    assert len(causes()) == 1  # a backfill of what ran starts nothing

    assert cli(local_run, "--bucket", bucket, "retrain", f"s3://{bucket}/{key}") == 0
    local_run.settle()
    assert cli(local_run, "--bucket", bucket, "status") == 0

    retrained = [cause for cause in causes() if cause.startswith("Retrain requested (")]
    assert len(causes()) == 2
    assert len(retrained) == 1
    assert f"s3://{bucket}/{key}" in retrained[0]
    out = capsys.readouterr().out
    assert "retrain: 1 object(s) sent to the trigger queue as request" in out
    assert "cause        Retrain requested (" in out


def test_retrain_refuses_what_it_cannot_send_in_one_line_and_sends_nothing(local_run, capsys):
    bucket = local_run.deployment.bucket
    local_run.event_source.drain()

    missing = cli(local_run, "--bucket", bucket, "retrain", f"{DATA_PREFIX}no-such.csv")
    outside = cli(local_run, "--stack-name", local_run.deployment.stack.name, "retrain", "elsewhere/a.csv")
    empty = cli(local_run, "--bucket", bucket, "retrain", "--prefix", f"{DATA_PREFIX}nothing-here/")

    assert (missing, outside, empty) == (1, 1, 1)
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == [
        f"retrain-trigger retrain: error: no object s3://{bucket}/{DATA_PREFIX}no-such.csv; nothing was sent",
        f"retrain-trigger retrain: error: s3://{bucket}/elsewhere/a.csv is outside the data prefix "
        f"{DATA_PREFIX!r}, which the trigger skips: nothing was sent",
        f"retrain-trigger retrain: error: no objects under s3://{bucket}/{DATA_PREFIX}nothing-here/: nothing was sent",
    ]
    sqs = boto3.client("sqs", region_name=REGION)
    assert sqs.receive_message(QueueUrl=local_run.deployment.queue_url).get("Messages", []) == []


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


@pytest.mark.parametrize("local_run", [{"TrainingData": "AllObjects"}], indirect=True)
def test_status_shows_what_each_run_trained_on_how_it_scored_against_production_and_what_it_registered(
    local_run, image_environments, capsys
):
    from emulator.demo import local_pipeline_config
    from emulator.pipeline_runner import LocalPipelineRunner
    from emulator.sample_data import friedman_csv
    from pipeline.cli import upsert
    from pipeline.definition import definition_json

    deployment = local_run.deployment
    config = local_pipeline_config(deployment, auto_approve=True)
    upsert(config, definition_json(config))
    s3 = boto3.client("s3", region_name=REGION)
    local_run.event_source.drain()  # the bucket's test event
    sagemaker = boto3.client("sagemaker", region_name=REGION)

    def executions() -> set[str]:
        listed = sagemaker.list_pipeline_executions(PipelineName=deployment.pipeline_name)
        return {summary["PipelineExecutionArn"] for summary in listed["PipelineExecutionSummaries"]}

    results = []
    for name, body in (("day1.csv", friedman_csv(rows=600)), ("day2.csv", friedman_csv(rows=300, seed=1))):
        before = executions()
        s3.put_object(Bucket=deployment.bucket, Key=f"{DATA_PREFIX}{name}", Body=body)
        local_run.settle()  # the previous run's slot is freed, as its status event would
        [started] = executions() - before
        results.append(LocalPipelineRunner().run(started))
    first, second = results

    group = deployment.parameters["ModelPackageGroupName"]
    assert cli(local_run, "status", "--bucket", deployment.bucket, "--model-package-group", group) == 0

    out = capsys.readouterr().out
    blocks = {block.split()[0]: block for block in out.split("\n- ")[1:]}
    first_block, second_block = (blocks[run.execution_arn.rsplit("/", 1)[-1]] for run in results)
    assert "trained on   1 object(s), TrainingData=AllObjects" in first_block
    assert "trained on   2 object(s), TrainingData=AllObjects" in second_block
    assert f"s3://{deployment.bucket}/{DATA_PREFIX}day1.csv" in second_block
    assert "champion     none: no Approved model in the group" in first_block
    assert f"({first.model_package_arn})" in second_block  # the champion it was compared with
    assert f"model        {first.model_package_arn} (Approved)" in first_block
    decision = (second.evaluation or {})["decision"]["summary"]
    assert f"decision     {decision}" in second_block
    assert "metrics      MSE " in second_block


def test_an_empty_upload_starts_no_run_and_status_shows_it_with_the_reason(local_run, capsys):
    create_placeholder_pipeline(local_run.deployment.pipeline_name)
    s3 = boto3.client("s3", region_name=REGION)
    bucket = local_run.deployment.bucket
    s3.put_object(Bucket=bucket, Key=f"{DATA_PREFIX}empty.csv", Body=b"")
    local_run.settle()
    capsys.readouterr()

    assert cli(local_run, "status") == 0

    out = capsys.readouterr().out
    assert f"0 most recent execution(s) of {local_run.deployment.pipeline_name}" in out
    assert "1 message(s) in the dead-letter queue, not trained on:" in out
    assert f"object   s3://{bucket}/{DATA_PREFIX}empty.csv" in out
    assert "reason   s3://" in out
    assert "the object is empty (0 bytes)" in out

    # CloudWatch's alarm on the DLQ, evaluated as CloudWatch does: one e-mail, none while it stays in ALARM
    alarm = f"{local_run.deployment.stack.name}-TriggerDeadLetterAlarm"
    read_notifications(local_run.deployment.inbox_queue_url)  # what came before: "not started"
    assert alarm in evaluate_alarms()
    assert alarm not in evaluate_alarms()
    [told] = read_notifications(local_run.deployment.inbox_queue_url)
    assert told["Subject"] == f'ALARM: "{alarm}" in US East (N. Virginia)'
    message = json.loads(told["Message"])
    assert (message["NewStateValue"], message["Trigger"]["MetricName"]) == (
        "ALARM",
        "ApproximateNumberOfMessagesVisible",
    )
    assert message["AlarmDescription"].endswith("then `retrain-trigger redrive`.")

    assert cli(local_run, "--bucket", bucket, "backfill") == 0  # an empty object is named, not sent again
    local_run.settle()
    assert cli(local_run, "dlq") == 0
    out = capsys.readouterr().out
    assert f"1 empty object(s) not sent, they can never train: {DATA_PREFIX}empty.csv" in out
    assert "1 message(s) in the dead-letter queue" in out


def test_dlq_lists_each_message_with_its_reason_and_redrive_dry_run_moves_nothing(local_run, capsys):
    sqs = boto3.client("sqs", region_name=REGION)
    local_run.event_source.drain()  # the bucket's test event
    sqs.send_message(QueueUrl=local_run.deployment.queue_url, MessageBody="not a notification")
    local_run.event_source.drain()  # the function puts it in the DLQ, with the reason
    capsys.readouterr()

    assert cli(local_run, "dlq") == 0
    listed = capsys.readouterr().out
    assert "1 message(s) in the dead-letter queue" in listed
    assert "body     'not a notification'" in listed
    assert "reason   the body is not JSON: Expecting value: line 1 column 1 (char 0)" in listed

    assert cli(local_run, "redrive", "--dry-run") == 0
    assert "1 message(s) would move" in capsys.readouterr().out
    assert cli(local_run, "dlq") == 0
    assert "1 message(s) in the dead-letter queue" in capsys.readouterr().out  # still there

    assert cli(local_run, "redrive") == 0
    assert "1 message(s) moved" in capsys.readouterr().out
    [moved] = sqs.receive_message(QueueUrl=local_run.deployment.queue_url)["Messages"]
    assert moved["Body"] == "not a notification"


def test_a_local_stack_stays_up_for_an_upload_and_status_and_goes_down_leaving_nothing(
    tmp_path, monkeypatch, capsys, image_environments
):
    import os
    import shutil
    import subprocess

    from emulator import local_stack
    from emulator.local_stack import aws_cli
    from emulator.sample_data import TARGET_COLUMN, friedman_csv

    # the user's own data predicts a price; the event source waits its batching window, as Lambda does
    stack = local_stack.up(tmp_path, StackOptions(target="price", overrides=("BatchingWindowSeconds=3",)))
    try:
        assert local_stack.up(tmp_path) == stack  # a second `up` finds the running one
        assert "CSVs with a 'price' column" in "\n".join(stack.instructions())
        assert f"land in the queue {stack.inbox_queue_url}" in "\n".join(stack.instructions())
        monkeypatch.setenv("AWS_ENDPOINT_URL", stack.endpoint)
        header, rows = friedman_csv(rows=300).split(b"\n", 1)
        (tmp_path / "my.csv").write_bytes(header.replace(TARGET_COLUMN.encode(), b"price") + b"\n" + rows)
        printed = stack.instructions()
        shell = printed[printed.index("to use it (in this shell or another):") + 1 :]
        [export, upload] = [line.strip() for line in shell if line.strip().startswith(("export ", aws_cli()))]
        # the lines `local up` printed, as a user pastes them (the AWS CLI included)
        bash = shutil.which("bash") or "/bin/bash"
        subprocess.run([bash, "-c", f"{export} && {upload}"], cwd=tmp_path, check=True, timeout=300)
        command = ["--stack-name", stack.stack_name, "status"]  # as `local up` says
        deadline = time.monotonic() + 240
        out = ""
        while "Succeeded" not in out and time.monotonic() < deadline:
            time.sleep(2)
            capsys.readouterr()
            assert main(command) == 0
            out = capsys.readouterr().out
        assert f"s3://{stack.bucket}/{stack.data_prefix}my.csv" in out
        assert "Succeeded" in out
        updated_as_a_deployed_stack(local_stack, stack, tmp_path)
        as_installed(installed_cli(tmp_path), stack, tmp_path)
    finally:
        said = local_stack.down(tmp_path)
    assert said == f"local stack stopped (pid {stack.pid}); nothing is left running"
    with pytest.raises(ProcessLookupError):
        os.kill(stack.pid, 0)
    assert local_stack.read_state(tmp_path) is None


def updated_as_a_deployed_stack(local_stack, stack, tmp_path) -> None:
    """`local up` with other options updates the running stack as `sam deploy` would: a mapping the
    pipeline cannot take is refused by the deploy and the stack runs as it was; a valid change is
    applied, and the DLQ keeps what it held, so a fix can be redriven."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=stack.bucket, Key=f"{stack.data_prefix}empty.csv", Body=b"")
    sqs = boto3.client("sqs", region_name=REGION)
    deadline = time.monotonic() + 60
    while not peek(sqs, stack.dead_letter_queue_url) and time.monotonic() < deadline:
        time.sleep(1)
    mapping = f"PipelineParameters={DEFAULTS['PipelineParameters']},Nope={{key}}"
    bad = StackOptions(target="price", overrides=("BatchingWindowSeconds=3", mapping))
    with pytest.raises(SystemExit, match=r"not updated \(the stack runs as it was\): PipelineTargets: .*Nope"):
        local_stack.up(tmp_path, bad)
    assert local_stack.read_state(tmp_path) == stack
    updated = local_stack.up(tmp_path, StackOptions(target="price", overrides=("BatchingWindowSeconds=1",)))
    assert updated.options == ["--target", "price", "--override", "BatchingWindowSeconds=1"]
    assert (updated.queue_url, updated.dead_letter_queue_url, updated.pid) == (
        stack.queue_url,
        stack.dead_letter_queue_url,
        stack.pid,
    )
    assert updated.batching_window_seconds == 1
    assert "empty.csv" in peek(sqs, stack.dead_letter_queue_url)[0]["Body"]  # kept through both


def installed_cli(tmp_path) -> str:
    """retrain-trigger as `pip install` gives it: the wheel, in a fresh virtual environment holding
    only its declared dependencies (from uv's cache, filled by `make`)."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    # `uv run` names itself in UV; else the uv on PATH, or the one `make` put in .tools
    uv = os.environ.get("UV") or shutil.which("uv") or str(root / ".tools" / "bin" / "uv")
    venv = tmp_path / "installed"
    subprocess.run([uv, "build", "--wheel", "-q", "-o", str(tmp_path / "dist"), str(root)], check=True, timeout=300)
    subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True, timeout=120)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    import zipfile

    carried = set(zipfile.ZipFile(wheel).namelist())  # what `local up` reads, for an install with [local]
    assert {"emulator/project/template.yaml", "emulator/project/functions/trigger/app.py"} <= carried
    assert not any(name.startswith(("bench/", "examples/")) for name in carried)
    environment = {**os.environ, "VIRTUAL_ENV": str(venv)}
    subprocess.run([uv, "pip", "install", "-q", str(wheel)], check=True, timeout=300, env=environment)
    return str(venv / "bin" / "retrain-trigger")


def as_installed(command: str, stack, folder) -> None:
    """The installed command, run from a folder that is not the repository, against the local stack:
    no emulator, no template.yaml, and the stack's own values."""
    import os
    import re
    import subprocess

    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environment["AWS_ENDPOINT_URL"] = stack.endpoint

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [command, *arguments], check=False, cwd=folder, env=environment, capture_output=True, text=True, timeout=120
        )

    assert run("--help").returncode == 0
    status = run("--stack-name", stack.stack_name, "status")
    assert status.returncode == 0, status.stderr
    assert re.search(
        r"Succeeded  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ \((just now|\d+ s ago|\d+ min ago)\)", status.stdout
    )
    check = run("--stack-name", stack.stack_name, "check")  # the deployed function's settings
    assert check.returncode == 0, check.stdout + check.stderr
    assert "the mapping fits the pipeline" in check.stdout
    assert f"InputKey={MANIFEST_PREFIX}" in check.stdout  # a burst's manifest, where the stack writes it
    mistyped = run("--stack-name", stack.stack_name, "retrain", f"{stack.data_prefix}MY.csv")
    assert mistyped.returncode == 1
    assert mistyped.stderr.strip() == (
        f"retrain-trigger retrain: error: no object s3://{stack.bucket}/{stack.data_prefix}MY.csv "
        f"(did you mean {stack.data_prefix}my.csv?); nothing was sent"
    )
    local = run("local", "up")
    assert local.returncode == 1
    assert "pip install '.[local]'" in local.stderr


@pytest.mark.parametrize(
    ("local_run", "warned"), [({}, True), ({"NotificationEmail": "ops@example.com"}, False)], indirect=["local_run"]
)
def test_a_deploy_without_notification_email_ends_with_a_warning_output(local_run, warned):
    """`sam deploy` prints the stack's outputs: with nobody subscribed, one of them says so and how to fix it."""
    outputs = local_run.deployment.stack.outputs

    assert ("NotificationWarning" in outputs) is warned
    if warned:
        assert "NotificationEmail=you@example.com" in outputs["NotificationWarning"]


def test_report_downloads_the_latest_runs_report_and_says_why_a_run_has_none(local_run, capsys, tmp_path, monkeypatch):
    from pipeline.config import runs_prefix

    create_placeholder_pipeline(local_run.deployment.pipeline_name)
    s3 = boto3.client("s3", region_name=REGION)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    bucket, pipeline = local_run.deployment.bucket, local_run.deployment.pipeline_name
    for n in range(2):
        s3.put_object(Bucket=bucket, Key=f"{DATA_PREFIX}day{n}.csv", Body=b"x,target\n1,2\n")
        local_run.settle()
    summaries = sagemaker.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]
    first, latest = sorted((s["StartTime"], s["PipelineExecutionArn"].rsplit("/", 1)[-1]) for s in summaries)
    # where Evaluate writes them: the latest run drew its report, the first could not
    for (_, run), report in (
        (latest, {"drawn": True, "file": "report.html"}),
        (first, {"drawn": False, "reason": "x"}),
    ):
        folder = f"{runs_prefix(pipeline)}{run}/evaluation/"
        s3.put_object(Bucket=bucket, Key=folder + "evaluation.json", Body=json.dumps({"report": report}).encode())
        s3.put_object(Bucket=bucket, Key=folder + "report.html", Body=f"<html>{run}</html>".encode())
    opened: list[str] = []

    def open_in_browser(uri: str) -> bool:
        opened.append(uri)
        return True

    monkeypatch.setattr("webbrowser.open", open_in_browser)
    capsys.readouterr()

    assert cli(local_run, "--bucket", bucket, "report", "--to", str(tmp_path), "--open") == 0
    assert cli(local_run, "--bucket", bucket, "report", "--run", first[1]) == 1

    out, err = capsys.readouterr()
    path = tmp_path / f"report-{latest[1]}.html"
    assert out.strip() == str(path)
    assert path.read_text() == f"<html>{latest[1]}</html>"
    assert opened == [path.as_uri()]
    assert err.strip() == (
        f"retrain-trigger report: error: run {first[1]} has no report: Evaluate could not draw it (x); "
        "evaluation.json holds the metrics and the decision"
    )
