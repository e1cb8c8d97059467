"""`retrain-trigger status` while a run goes on: the local stack keeps it Executing, as SageMaker
does, and shows the step it is in."""

from __future__ import annotations

import re

import boto3

from emulator.pipeline_runner import RunResult, StepResult
from emulator.status_events import executions_that_keep_running, record_in_moto, record_step
from ops.cli import main
from tests.aws import REGION, SAMPLE_BUCKET, create_placeholder_pipeline


def test_a_running_run_shows_as_executing_with_its_step_until_it_ends(aws, capsys):
    create_placeholder_pipeline("p")
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=SAMPLE_BUCKET)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    with executions_that_keep_running():
        arn = sagemaker.start_pipeline_execution(
            PipelineName="p",
            PipelineParameters=[
                {"Name": "InputBucket", "Value": SAMPLE_BUCKET},
                {"Name": "InputKey", "Value": "k.csv"},
            ],
            ClientRequestToken="t" * 32,
        )["PipelineExecutionArn"]
    record_step(arn, StepResult("Preprocess", "Processing", "Executing"))

    assert main(["--pipeline-name", "p", "status"]) == 0
    running = capsys.readouterr().out
    assert "Executing" in running
    assert re.search(
        r"running      step Preprocess since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ \((just now|\d+ s ago)\)", running
    )

    record_step(arn, StepResult("Preprocess", "Processing", "Succeeded"))
    record_in_moto(RunResult(arn, status="Succeeded", steps=[StepResult("Preprocess", "Processing", "Succeeded")]))
    assert main(["--pipeline-name", "p", "status"]) == 0
    ended = capsys.readouterr().out
    assert "Succeeded" in ended
    assert "running " not in ended
