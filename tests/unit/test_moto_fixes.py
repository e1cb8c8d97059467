"""The emulator's speed fix to moto keeps what a failed DynamoDB transaction leaves behind."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.aws import REGION, create_scheduler_table
from trigger.adapters.scheduler_table import KEY_SCHEMA

TABLE = "moto-fix-check"
(PARTITION, _), (SORT, _) = KEY_SCHEMA  # the scheduler table's keys, as the template declares them


def put(pk: str, condition: str | None = None) -> Any:
    request: dict[str, Any] = {"TableName": TABLE, "Item": {PARTITION: {"S": pk}, SORT: {"S": "x"}}}
    if condition:
        request["ConditionExpression"] = condition
    return {"Put": request}


def test_a_cancelled_transaction_writes_none_of_its_items_and_keeps_what_was_there(aws):
    create_scheduler_table(TABLE)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.transact_write_items(TransactItems=[put("kept-1"), put("kept-2")])

    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[put(f"new-{n}") for n in range(60)] + [put("kept-1", f"attribute_not_exists({PARTITION})")]
        )

    keys = sorted(item[PARTITION]["S"] for item in dynamodb.scan(TableName=TABLE)["Items"])
    assert keys == ["kept-1", "kept-2"]
    # and the next transaction on the same table still applies in full
    dynamodb.transact_write_items(TransactItems=[put("after")])
    assert dynamodb.scan(TableName=TABLE, Select="COUNT")["Count"] == 3


def test_an_upload_to_a_versioned_bucket_is_notified_with_its_version_id_as_s3_does(aws):
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="uploads")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    notified: Any = {"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]}
    for bucket, versioned in (("versioned", True), ("plain", False)):
        s3.create_bucket(Bucket=bucket)
        if versioned:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notified)

    version = s3.put_object(Bucket="versioned", Key="a.csv", Body=b"1")["VersionId"]
    s3.put_object(Bucket="plain", Key="b.csv", Body=b"1")

    objects = {}
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]:
        for record in json.loads(message["Body"]).get("Records", []):
            objects[record["s3"]["bucket"]["name"]] = record["s3"]["object"]
    assert objects["versioned"]["versionId"] == version
    assert "versionId" not in objects["plain"]  # S3 sends none from a bucket without versioning


def test_approving_a_package_as_the_cli_does_keeps_its_metadata_as_sagemaker_does(aws):
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_model_package_group(ModelPackageGroupName="g")
    arn = sagemaker.create_model_package(
        ModelPackageGroupName="g",
        InferenceSpecification={
            "Containers": [{"Image": "xgboost"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"ExecutionArn": "run", "SmokeCheck": "s3://b/smoke_check.json"},
    )["ModelPackageArn"]

    # `aws sagemaker update-model-package --model-approval-status Approved`: nothing else named
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    sagemaker.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"Reviewer": "ana"})
    sagemaker.update_model_package(ModelPackageArn=arn, CustomerMetadataPropertiesToRemove=["Reviewer"])

    package = sagemaker.describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["CustomerMetadataProperties"] == {"ExecutionArn": "run", "SmokeCheck": "s3://b/smoke_check.json"}
