"""Each function calls AWS as an identity holding exactly its role's policies from the stack, with
moto's IAM enforcement on: a permission the template does not grant is refused (see
emulator/identities.py for what moto's evaluation covers)."""

from __future__ import annotations

import boto3
import pytest

from emulator.moto_server import REGION
from tests.aws import create_placeholder_pipeline
from tests.integration.conftest import enforced_local_run
from tests.template_values import DATA_PREFIX

pytestmark = pytest.mark.end_to_end


def test_each_function_does_its_whole_job_with_only_its_roles_permissions():
    with enforced_local_run() as stack:
        create_placeholder_pipeline(stack.deployment.pipeline_name)
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        for key in (f"{DATA_PREFIX}a b.csv", f"{DATA_PREFIX}c.csv"):
            s3.put_object(Bucket=stack.deployment.bucket, Key=key, Body=b"x,target\n1,2\n")
        first = stack.event_source.drain()  # records both, starts one run, writes its manifest
        [run] = stack.targets.executions()
        stack.end_run(run["PipelineExecutionArn"])  # frees the slot, reads the run's reports, notifies
        s3.put_object(Bucket=stack.deployment.bucket, Key=f"{DATA_PREFIX}d.csv", Body=b"x,target\n1,2\n")
        sqs.send_message(QueueUrl=stack.deployment.queue_url, MessageBody="not a notification")
        second = stack.event_source.drain()  # a plain run; the bad message to the DLQ
        swept = stack.sweep.lambda_handler({}, stack.deployment.stack.lambda_context("SweepFunction"))

        assert first.invocation_errors == second.invocation_errors == []
        assert first.reported_failures == second.reported_failures == 0
        assert stack.targets.trained_keys() == [
            [f"{DATA_PREFIX}a b.csv", f"{DATA_PREFIX}c.csv"],
            [f"{DATA_PREFIX}d.csv"],
        ]
        assert len(swept["released"]) == 1  # moto's executions end at once; the sweep freed the second
        [dead] = stack.targets.dead_letters()
        assert dead["reason"].startswith("cannot be read as an S3 event notification")
        subjects = [n["subject"] for n in stack.targets.notifications()]
        assert subjects.count(f"Retraining succeeded: {stack.deployment.pipeline_name}") == 1
        assert len([s for s in subjects if s.startswith("Retraining started")]) == 2


def test_with_all_objects_the_function_lists_the_data_prefix_once_and_the_run_reads_that_list():
    with enforced_local_run({"TrainingData": "AllObjects"}) as stack:
        create_placeholder_pipeline(stack.deployment.pipeline_name)
        s3 = boto3.client("s3", region_name=REGION)
        bucket = stack.deployment.bucket
        s3.put_object(Bucket=bucket, Key=f"{DATA_PREFIX}old/history.csv", Body=b"x,target\n1,2\n3,4\n")
        s3.put_object(Bucket=bucket, Key=f"{DATA_PREFIX}folder/", Body=b"")  # a console folder: no data
        s3.put_object(Bucket=bucket, Key="elsewhere/other.csv", Body=b"x,target\n1,2\n")
        s3.put_object(Bucket=bucket, Key=f"{DATA_PREFIX}new.csv", Body=b"x,target\n5,6\n")

        drained = stack.event_source.drain()

        assert drained.invocation_errors == []
        [run] = stack.targets.executions()
        assert stack.targets.trained_keys() == [[f"{DATA_PREFIX}new.csv", f"{DATA_PREFIX}old/history.csv"]]
        assert run["Parameters"]["InputBytes"] == str(len(b"x,target\n1,2\n3,4\n") + len(b"x,target\n5,6\n"))
        assert run["Parameters"]["InputDataType"] == "ManifestFile"


@pytest.mark.parametrize(
    ("statement", "action"),
    [("StartThePipeline", "StartPipelineExecution"), ("ReadThePipelineParameters", "DescribePipeline")],
)
def test_a_statement_taken_out_of_the_role_is_refused(statement, action):
    with enforced_local_run(without=("TriggerFunction", statement)) as stack:
        create_placeholder_pipeline(stack.deployment.pipeline_name)
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=stack.deployment.bucket, Key=f"{DATA_PREFIX}a.csv", Body=b"x,target\n1,2\n"
        )
        stack.event_source.drain()

        assert stack.targets.executions() == []
        [told] = stack.targets.notifications()
        assert told["subject"] == f"Retraining NOT started: {DATA_PREFIX}a.csv"
        assert "AccessDenied" in told["message"]
        assert f"not authorized to perform: sagemaker:{action}" in told["message"]
