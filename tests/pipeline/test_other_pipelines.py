"""A pipeline that is not ours, as the AWS samples write them (a definition JSON from any SDK): the
local runner makes its output folders, creates the group it registers into, runs its batch transform
with the model's containers, and speaks of the container's paths."""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
import uuid
from pathlib import Path
from typing import Any

import boto3

from emulator.pipeline_runner import LocalPipelineRunner
from emulator.status_events import record_in_moto
from emulator.step_environments import python_for
from ops.cli import main as retrain_trigger
from tests.pipeline.conftest import BUCKET, CONFIG, REGION

SKLEARN_URI = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
XGBOOST_URI = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"
GROUP = "SamplePackageGroup"  # nothing creates it before the run
PIPELINE = "sample-pipeline"

# Writes into its output folder without making it, as the samples' preprocessing scripts do.
PREPARE = """
import pandas as pd
pd.DataFrame({"x": [1.0, 2.0]}).to_csv("/opt/ml/processing/test/test.csv", header=False, index=False)
"""
# Reads a folder no input names: the error names it as the container does.
BROKEN = """
open("/opt/ml/processing/nowhere/data.csv")
"""
# In the XGBoost image's look-alike: a small model, saved as the built-in algorithm saves it, and
# xgboost's own predictions for the rows the transform will send.
TRAIN = """
import json, sys
import numpy as np, xgboost as xgb
rng = np.random.default_rng(0)
x = rng.normal(size=(200, 3))
booster = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(x, label=x @ [1.0, -2.0, 0.5]), 10)
booster.save_model(sys.argv[1])
rows = np.array(json.loads(sys.argv[2]))
print(json.dumps(booster.predict(xgb.DMatrix(rows)).tolist()))
"""
ROWS = {"batch/a.csv": [[0.1, 0.2, 0.3], [1.0, 0.0, -1.0]], "batch/more/b.csv": [[2.0, 1.0, 0.0]]}


def processing(name: str, script: str, outputs: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}},
            "AppSpecification": {
                "ImageUri": SKLEARN_URI,
                "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{script}"],
            },
            "RoleArn": CONFIG.role_arn,
            "ProcessingInputs": [
                {
                    "InputName": "code",
                    "S3Input": {
                        "S3Uri": f"s3://{BUCKET}/code/{script}",
                        "LocalPath": "/opt/ml/processing/input/code",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                }
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {"OutputName": output, "S3Output": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/{output}"}}
                    for output, uri in outputs
                ]
            },
        },
    }


def sample_definition(model_data: str) -> dict[str, Any]:
    """Processing, CreateModel, RegisterModel and Transform, as the abalone sample chains them."""
    container = {"Image": XGBOOST_URI, "ModelDataUrl": model_data}
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "BatchData", "Type": "String", "DefaultValue": f"s3://{BUCKET}/batch/"}],
        "Steps": [
            processing("Prepare", "prepare.py", [("test", f"s3://{BUCKET}/prepared/test")]),
            {
                "Name": "CreateModel",
                "Type": "Model",
                "Arguments": {"ExecutionRoleArn": CONFIG.role_arn, "PrimaryContainer": container},
            },
            {
                "Name": "Register",
                "Type": "RegisterModel",
                "Arguments": {
                    "ModelPackageGroupName": GROUP,
                    "InferenceSpecification": {
                        "Containers": [container],
                        "SupportedContentTypes": ["text/csv"],
                        "SupportedResponseMIMETypes": ["text/csv"],
                    },
                    "ModelApprovalStatus": "PendingManualApproval",
                },
            },
            {
                "Name": "Transform",
                "Type": "Transform",
                "Arguments": {
                    "ModelName": {"Get": "Steps.CreateModel.ModelName"},
                    "TransformInput": {
                        "DataSource": {
                            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": {"Get": "Parameters.BatchData"}}
                        },
                        "ContentType": "text/csv",
                        "SplitType": "Line",
                    },
                    "TransformOutput": {"S3OutputPath": f"s3://{BUCKET}/transformed", "AssembleWith": "Line"},
                    "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
                },
            },
        ],
    }


def start(definition: dict[str, Any], **parameters: str) -> str:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    name = f"{PIPELINE}-{uuid.uuid4().hex[:8]}"
    sagemaker.create_pipeline(
        PipelineName=name,
        PipelineDefinition=json.dumps(definition),
        RoleArn=CONFIG.role_arn,
        ClientRequestToken="t" * 32,
    )
    return str(
        sagemaker.start_pipeline_execution(
            PipelineName=name,
            PipelineParameters=[{"Name": key, "Value": value} for key, value in parameters.items()],
            ClientRequestToken=str(uuid.uuid4()),
        )["PipelineExecutionArn"]
    )


def trained_model(tmp_path: Path) -> tuple[str, dict[str, list[float]]]:
    """model.tar.gz in S3 and, per batch file, xgboost's own predictions for its rows."""
    model = tmp_path / "xgboost-model"
    rows = [row for file_rows in ROWS.values() for row in file_rows]
    completed = subprocess.run(
        [str(python_for(XGBOOST_URI)), "-c", TRAIN, str(model), json.dumps(rows)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    predictions = json.loads(completed.stdout)
    expected, start_at = {}, 0
    for key, file_rows in ROWS.items():
        expected[key] = predictions[start_at : start_at + len(file_rows)]
        start_at += len(file_rows)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        tar.add(model, arcname="xgboost-model")
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=archive.getvalue())
    return f"s3://{BUCKET}/model/model.tar.gz", expected


def put(key: str, body: str) -> None:
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=key, Body=body.encode())


def test_a_samples_pipeline_runs_to_its_batch_transform_and_registers_into_a_group_it_never_created(
    served_bucket, image_environments, tmp_path, capsys
):
    model_data, expected = trained_model(tmp_path)
    put("code/prepare.py", PREPARE)
    for key, rows in ROWS.items():
        put(key, "".join(",".join(map(str, row)) + "\n" for row in rows))
    put("bad/rows.csv", "1.0,abc,2.0\n")
    definition = sample_definition(model_data)

    result = LocalPipelineRunner().run(start(definition))

    assert result.status == "Succeeded", result.failure_reason
    assert [(step.name, step.status) for step in result.steps] == [
        ("Prepare", "Succeeded"),
        ("CreateModel", "Succeeded"),
        ("Register", "Succeeded"),
        ("Transform", "Succeeded"),
    ]
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.get_object(Bucket=BUCKET, Key="prepared/test/test.csv")["Body"].read() == b"1.0\n2.0\n"
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    [package] = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert package["ModelPackageArn"] == result.model_package_arn
    for key, predictions in expected.items():
        output = s3.get_object(Bucket=BUCKET, Key=f"transformed/{key.removeprefix('batch/')}.out")["Body"].read()
        answered = [float(line) for line in output.decode().splitlines()]  # one answer a line, AssembleWith Line
        assert all(abs(a - p) < 1e-5 for a, p in zip(answered, predictions, strict=True))

    refused = LocalPipelineRunner().run(start(definition, BatchData=f"s3://{BUCKET}/bad/"))

    assert (refused.status, refused.failure_step) == ("Failed", "Transform")
    assert refused.failure_reason.startswith("Transform: Received client error (4")
    assert "from primary with message" in refused.failure_reason
    # what a user is shown: the run failed, and the model it registered before is in the registry
    record_in_moto(refused)
    pipeline = refused.execution_arn.split("/")[1]
    assert retrain_trigger(["--region", REGION, "--pipeline-name", pipeline, "status"]) == 0
    shown = capsys.readouterr().out
    assert f"model        {refused.model_package_arn} (PendingManualApproval)" in shown
    # `report` for a pipeline that draws none: what the run's steps did, in their order
    assert retrain_trigger(["--pipeline-name", pipeline, "--bucket", BUCKET, "report", "--to", str(tmp_path)]) == 0
    did = capsys.readouterr().out.splitlines()
    assert did[0].startswith(f"run {refused.execution_arn.rsplit('/', 1)[-1]} of pipeline {pipeline} ended Failed;")
    assert [line.split()[:2] for line in did[1:]] == [
        ["Prepare", "Succeeded"],
        ["CreateModel", "Succeeded"],
        ["Register", "Succeeded"],
        ["Transform", "Failed"],
    ]
    version = str(refused.model_package_arn).rsplit("/", 1)[-1]
    assert did[3].endswith(f"registered samplepackagegroup version {version} (PendingManualApproval)")
    assert "Received client error (4" in did[4]
    assert re.search(
        r"failure      step Transform: Received client error \(4\d\d\) from primary with message .+\n", shown
    )


def test_a_jobs_error_names_the_containers_path_and_a_step_it_cannot_run_is_refused_before_any_runs(
    served_bucket, image_environments, capsys
):
    put("code/broken.py", BROKEN)
    broken = {"Version": "2020-12-01", "Parameters": [], "Steps": [processing("Broken", "broken.py", [])]}

    failed = LocalPipelineRunner().run(start(broken))

    assert failed.failure_step == "Broken"
    assert "No such file or directory: '/opt/ml/processing/nowhere/data.csv'" in failed.failure_reason
    assert "pipeline-run-" not in failed.failure_reason  # not this machine's folder

    later = {"Name": "Notify", "Type": "Lambda", "Arguments": {}}
    branch = {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {"Conditions": [], "IfSteps": [later], "ElseSteps": []},
    }
    refused = LocalPipelineRunner().run(start({**broken, "Steps": [*broken["Steps"], branch]}))

    assert (refused.status, refused.failure_step) == ("Failed", "Notify")
    # no step ran: the one that cannot is the run's only step, failed with the reason status shows
    assert [(step.name, step.status) for step in refused.steps] == [("Notify", "Failed")]
    assert "step 'Notify' has type 'Lambda', which the local runner does not run" in refused.failure_reason
    assert refused.failure_reason.endswith("; no step ran")
    record_in_moto(refused)
    pipeline = refused.execution_arn.split("/")[1]
    assert retrain_trigger(["--region", REGION, "--pipeline-name", pipeline, "status"]) == 0
    assert "failure      step Notify: step 'Notify' has type 'Lambda'" in capsys.readouterr().out
