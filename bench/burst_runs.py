"""P1: pipeline executions started by a burst of 1,000 uploads: the handler of the usual pattern (one
StartPipelineExecution per upload) against ours (one run for everything pending), both on moto."""

from __future__ import annotations

import json
import uuid

from bench.figures import Figure
from bench.lambda_setup import BUCKET, PIPELINE_NAME, configure_environment, upload_records

BURST = 1000
BATCH_SIZE = 1000  # the template's default BatchSize


def executions_for(one_run_per_upload: bool) -> int:
    import boto3
    from moto import mock_aws

    from tests.aws import create_placeholder_pipeline, create_scheduler_table

    with mock_aws():
        import app
        from emulator.lambda_context import LocalLambdaContext
        from trigger.events import TriggerQueueRecord

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        create_scheduler_table()
        create_placeholder_pipeline(PIPELINE_NAME)
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        records = upload_records(BURST)
        if one_run_per_upload:
            for record in records:
                for s3_record in TriggerQueueRecord.model_validate(record).body.records:  # type: ignore[union-attr]
                    sagemaker.start_pipeline_execution(
                        PipelineName=PIPELINE_NAME,
                        PipelineParameters=[
                            {"Name": "InputBucket", "Value": s3_record.s3.bucket.name},
                            {"Name": "InputKey", "Value": s3_record.s3.object.key},
                        ],
                        ClientRequestToken=str(uuid.uuid4()),
                    )
        else:
            for start in range(0, BURST, BATCH_SIZE):
                app.lambda_handler({"Records": records[start : start + BATCH_SIZE]}, LocalLambdaContext())
        count = 0
        for page in sagemaker.get_paginator("list_pipeline_executions").paginate(PipelineName=PIPELINE_NAME):
            count += len(page["PipelineExecutionSummaries"])
        return count


def measure() -> Figure:
    configure_environment()
    per_object = executions_for(one_run_per_upload=True)
    ours = executions_for(one_run_per_upload=False)
    return Figure(
        name="P1",
        what=f"executions for a {BURST}-upload burst: ours (BatchSize {BATCH_SIZE}) / one run per upload",
        value=ours,
        baseline=per_object,
        unit="",
        goal=3,
        goal_on="value",
    )


if __name__ == "__main__":
    print(json.dumps(measure().as_dict()))
