"""Run status notifications: the exact message a person reads, once per run end."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from tests.aws import SAMPLE_BUCKET, TriggerTargets
from tests.events import load_event
from tests.template_values import DATA_PREFIX
from trigger.notifications import RunEnding, run_ended
from trigger.status_events import PipelineStatusEvent


@pytest.fixture
def idempotency_table(targets: TriggerTargets) -> str:
    return os.environ["IDEMPOTENCY_TABLE_NAME"]  # created with the targets


def event_for_new_execution(targets: TriggerTargets, sample: str) -> dict[str, Any]:
    """The sample event, about an execution that exists in moto (the function describes it)."""
    execution_arn = boto3.client("sagemaker", region_name="us-east-1").start_pipeline_execution(
        PipelineName=targets.pipeline_name,
        PipelineParameters=[{"Name": "InputBucket", "Value": "b"}, {"Name": "InputKey", "Value": "k"}],
        ClientRequestToken=str(uuid.uuid4()),
    )["PipelineExecutionArn"]
    event = load_event(sample)
    event["detail"]["pipelineExecutionArn"] = execution_arn
    event["resources"][1] = execution_arn
    return event


def expected_message(status: str, execution_arn: str, reason_line: str = "") -> str:
    """The message for the sample events, which differ only in status (and reason)."""
    return (
        f"Run diabetes-data-v1-csv-b5f934fe of pipeline retrain-pipeline ended: {status}.\n"
        "\n"
        f"Execution: {execution_arn}\n"
        f"Cause:     Started by the upload of s3://{SAMPLE_BUCKET}/"
        f"{DATA_PREFIX}2026 11/diabetes data+v1.csv\n"
        "Started:   2026-11-22 10:15:31 UTC\n"
        "Ended:     2026-11-22 10:42:02 UTC (took 26 min 31 s)\n"
        f"{reason_line}"
        "Console:   https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1#/pipelines/retrain-pipeline\n"
    )


def test_a_succeeded_run_is_told_once_in_words(targets, idempotency_table, lambda_context):
    import run_ended

    event = event_for_new_execution(targets, "pipeline-status-succeeded.json")
    execution_arn = event["detail"]["pipelineExecutionArn"]

    run_ended.lambda_handler(event, lambda_context)
    run_ended.lambda_handler(json.loads(json.dumps(event)), lambda_context)  # SageMaker sent it twice

    [notification] = targets.notifications()
    assert notification["subject"] == "Retraining succeeded: retrain-pipeline"
    assert notification["message"] == expected_message("Succeeded", execution_arn)


def test_a_failed_run_is_told_with_its_status(targets, idempotency_table, lambda_context):
    import run_ended

    event = event_for_new_execution(targets, "pipeline-status-failed.json")
    execution_arn = event["detail"]["pipelineExecutionArn"]

    run_ended.lambda_handler(event, lambda_context)

    [notification] = targets.notifications()
    assert notification["subject"] == "Retraining FAILED: retrain-pipeline"
    # moto records no failure reason for an execution; the message says so rather than invent one.
    assert notification["message"] == expected_message(
        "Failed", execution_arn, "Reason:    not reported; see the failed step in the console\n"
    )


def test_a_failure_reason_from_sagemaker_is_quoted():
    change = PipelineStatusEvent.model_validate(load_event("pipeline-status-failed.json")).detail
    reason = "Step MseAboveThreshold failed: Model MSE 5012.3 is above the threshold 4000.0"
    text = run_ended(change, RunEnding(failure_reason=reason, failed_step="CheckMse")).body
    assert "Step:      CheckMse\n" in text
    assert "Reason:    Step MseAboveThreshold failed: Model MSE 5012.3 is above the threshold 4000.0\n" in text


def test_a_run_that_registered_a_model_and_then_failed_says_which_version_is_in_the_registry():
    change = PipelineStatusEvent.model_validate(load_event("pipeline-status-failed.json")).detail
    package = "arn:aws:sagemaker:us-east-1:123456789012:model-package/AbalonePackageGroup/3"
    told = run_ended(change, RunEnding(failure_reason="Transform: ...", failed_step="Transform", registered=(package,)))
    assert told.subject == f"Retraining FAILED: {change.pipeline_name} after registering AbalonePackageGroup version 3"
    assert f"Registered: AbalonePackageGroup version 3 ({package})\n" in told.body
    succeeded = PipelineStatusEvent.model_validate(load_event("pipeline-status-succeeded.json")).detail
    assert (
        run_ended(succeeded, RunEnding(registered=(package,))).subject
        == f"Retraining succeeded: {change.pipeline_name}"
    )


def test_a_run_that_fails_after_succeeding_is_a_new_message(targets, idempotency_table, lambda_context):
    import run_ended

    succeeded = event_for_new_execution(targets, "pipeline-status-succeeded.json")
    failed = load_event("pipeline-status-failed.json")
    failed["detail"]["pipelineExecutionArn"] = succeeded["detail"]["pipelineExecutionArn"]

    run_ended.lambda_handler(succeeded, lambda_context)
    run_ended.lambda_handler(failed, lambda_context)

    assert [n["subject"] for n in targets.notifications()] == [
        "Retraining succeeded: retrain-pipeline",
        "Retraining FAILED: retrain-pipeline",
    ]


def test_times_render_in_utc_whatever_the_offset():
    change = PipelineStatusEvent.model_validate(load_event("pipeline-status-succeeded.json")).detail
    assert change.started == datetime(2026, 11, 22, 10, 15, 31, tzinfo=UTC)


def put_run_report(execution_arn: str, name: str, document: dict[str, Any]) -> None:
    """A report where the pipeline's step writes it for that run."""
    key = f"{os.environ['RUNS_PREFIX']}{execution_arn.rsplit('/', 1)[-1]}/{name}"
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=os.environ["DATA_BUCKET"], Key=key, Body=json.dumps(document).encode()
    )


def test_a_run_refused_for_its_data_is_told_the_reason_from_its_report(
    targets, idempotency_table, lambda_context, capsys
):
    import run_ended

    event = event_for_new_execution(targets, "pipeline-status-failed.json")
    execution_arn = event["detail"]["pipelineExecutionArn"]
    reason = "target column 'price' is missing in houses.csv; its columns are: rooms, area"
    put_run_report(execution_arn, "report/data_report.json", {"accepted": False, "reason": reason})

    run_ended.lambda_handler(event, lambda_context)

    [notification] = targets.notifications()
    assert notification["message"] == expected_message(
        "Failed", execution_arn, f"Reason:    the data was refused: {reason}\n"
    )
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [metric["DataRefused"] for metric in emitted if "DataRefused" in metric] == [[1.0]]


def test_a_run_that_ended_tells_its_problem_type_metrics_baseline_and_gate(targets, idempotency_table, lambda_context):
    import run_ended

    event = event_for_new_execution(targets, "pipeline-status-failed.json")
    execution_arn = event["detail"]["pipelineExecutionArn"]
    put_run_report(
        execution_arn,
        "report/data_report.json",
        {"accepted": True, "problem_type": {"requested": "auto", "chosen": "binary", "rule": "2 values"}},
    )
    put_run_report(
        execution_arn,
        "evaluation/evaluation.json",
        {
            "metrics": {"auc": 0.55123, "accuracy": 0.6},
            "baseline_metrics": {"auc": 0.5, "accuracy": 0.62},
            "gate": {"passed": False, "summary": "AUC 0.551 is below MinAuc 0.6", "reason": "model not good enough"},
        },
    )

    run_ended.lambda_handler(event, lambda_context)

    [notification] = targets.notifications()
    assert notification["message"] == expected_message(
        "Failed",
        execution_arn,
        "Reason:    model not good enough\n"
        "Problem:   binary (auto: 2 values)\n"
        "Metrics:   AUC 0.5512, accuracy 0.6\n"
        "Baseline:  AUC 0.5, accuracy 0.62\n"
        "Gate:      AUC 0.551 is below MinAuc 0.6\n",
    )


def test_a_challenger_worse_than_production_reads_as_a_normal_end_with_both_metrics(
    targets, idempotency_table, lambda_context
):
    import run_ended

    event = event_for_new_execution(targets, "pipeline-status-succeeded.json")
    execution_arn = event["detail"]["pipelineExecutionArn"]
    champion = "arn:aws:sagemaker:us-east-1:123456789012:model-package/retrain-models/3"
    summary = "not better than production (RMSE 61.2 vs production 59.9): not registered"
    put_run_report(
        execution_arn,
        "report/data_report.json",
        {
            "accepted": True,
            "problem_type": {"requested": "auto", "chosen": "regression", "rule": "numeric"},
            "lineage": {
                "input": f"s3://data/{DATA_PREFIX}",
                "objects": [{"key": f"{DATA_PREFIX}day{n}.csv"} for n in range(5)],
            },
            "engine": "spark",
        },
    )
    put_run_report(
        execution_arn,
        "evaluation/evaluation.json",
        {
            "metrics": {"rmse": 61.2},
            "baseline_metrics": {"rmse": 77.0},
            "gate": {"passed": True, "summary": "R2 0.4 >= MinR2 0.1", "reason": ""},
            "champion": {"model_package_arn": champion, "metrics": {"rmse": 59.9}, "comparable": True},
            "decision": {"register": False, "summary": summary},
        },
    )

    run_ended.lambda_handler(event, lambda_context)

    [notification] = targets.notifications()
    assert notification["subject"] == "Retraining succeeded, production model kept: retrain-pipeline"
    assert (
        "Metrics:   RMSE 61.2\n"
        "Baseline:  RMSE 77\n"
        "Gate:      R2 0.4 >= MinR2 0.1\n"
        f"Champion:  RMSE 59.9 ({champion})\n"
        f"Decision:  {summary}\n"
        f"Data:      5 object(s) from s3://data/{DATA_PREFIX}: {DATA_PREFIX}day0.csv, "
        f"{DATA_PREFIX}day1.csv, {DATA_PREFIX}day2.csv and 2 more\n"
        "Engine:    spark (ProcessingEngine)\n"  # which Preprocess ran, as ProcessingEngine auto chose
    ) in notification["message"]


def test_without_a_topic_the_end_of_a_run_is_only_logged(targets, lambda_context, monkeypatch):
    import importlib

    import run_ended

    monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", "")
    try:
        importlib.reload(run_ended)
        event = event_for_new_execution(targets, "pipeline-status-succeeded.json")
        told = run_ended.lambda_handler(event, lambda_context)
    finally:
        monkeypatch.undo()
        importlib.reload(run_ended)
    assert told["message_id"] is None
    assert targets.notifications() == []


def test_the_run_ended_message_links_the_report_in_the_s3_console_or_says_why_there_is_none():
    from trigger.run_reports import RunReports

    change = PipelineStatusEvent.model_validate(load_event("pipeline-status-succeeded.json")).detail
    folder = "s3://data-bucket/pipeline-artifacts/retrain-pipeline/runs/exec 1/"
    drawn = RunReports(None, {"report": {"drawn": True, "file": "report.html"}}, folder)
    not_drawn = RunReports(None, {"report": {"drawn": False, "reason": "matplotlib failed: no font"}}, folder)

    with_report = run_ended(change, RunEnding(reports=drawn, stack_name="retrain-trigger-dev")).body
    without = run_ended(change, RunEnding(reports=not_drawn)).body

    region = change.execution_arn.split(":")[3]
    assert (
        f"Report:    https://s3.console.aws.amazon.com/s3/object/data-bucket?region={region}"
        "&prefix=pipeline-artifacts%2Fretrain-pipeline%2Fruns%2Fexec%201%2Fevaluation%2Freport.html\n"
    ) in with_report
    assert "X-Amz-Signature" not in with_report  # never a presigned URL: it would expire
    command = (
        f"`retrain-trigger --stack-name retrain-trigger-dev report --run {change.execution_arn.rsplit('/', 1)[-1]}`"
    )
    assert f"({folder}evaluation/report.html; {command} downloads it)" in with_report
    assert "Report:    not drawn: matplotlib failed: no font\n" in without
    assert "Report:" not in run_ended(change, RunEnding(reports=RunReports(None, None, folder))).body
