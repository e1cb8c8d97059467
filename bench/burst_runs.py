"""P1: pipeline executions started by a burst of 1,000 uploads: one run per upload vs one per batch."""

from __future__ import annotations

import json
import uuid

from bench.figures import Figure
from bench.lambda_setup import BUCKET, configure_environment, upload_records

BURST = 1000
BATCH_SIZE = 1000  # the template's default BatchSize


def executions_for(batch_size: int) -> int:
    import boto3
    from moto import mock_aws

    with mock_aws():
        import app
        from emulator.lambda_context import LocalLambdaContext

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName="retrain-idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker.create_pipeline(
            PipelineName="retrain-pipeline",
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []}),
            RoleArn="arn:aws:iam::123456789012:role/pipeline",
            ClientRequestToken=str(uuid.uuid4()),
        )
        records = upload_records(BURST)
        for start in range(0, BURST, batch_size):
            app.lambda_handler({"Records": records[start : start + batch_size]}, LocalLambdaContext())
        count = 0
        for page in sagemaker.get_paginator("list_pipeline_executions").paginate(PipelineName="retrain-pipeline"):
            count += len(page["PipelineExecutionSummaries"])
        return count


def measure() -> Figure:
    configure_environment()
    per_object = executions_for(batch_size=1)
    ours = executions_for(batch_size=BATCH_SIZE)
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
