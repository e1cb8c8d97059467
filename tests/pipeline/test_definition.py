"""The pipeline definition: deterministic, offline, with the contract parameters and the four stages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from pipeline.cli import upsert
from pipeline.config import PipelineConfig
from tests.pipeline.conftest import BUCKET, CONFIG, REGION

ROOT = Path(__file__).resolve().parents[2]


def steps_by_name(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for step in definition["Steps"]:
        found[step["Name"]] = step
        for branch in ("IfSteps", "ElseSteps"):
            for inner in step.get("Arguments", {}).get(branch, []):
                found[inner["Name"]] = inner
    return found


def test_the_same_configuration_gives_byte_identical_json(definition):
    from pipeline.definition import definition_json

    assert definition_json(CONFIG) == definition


def test_another_configuration_changes_what_it_names(definition):
    from pipeline.definition import definition_json

    other = definition_json(PipelineConfig(region="eu-west-1", role_arn=CONFIG.role_arn, default_bucket="other"))
    assert "eu-west-1" in other
    assert "s3://other/" in other
    assert "s3://retrain-data/" not in other
    assert other != definition


def test_it_declares_the_contract_parameters(definition):
    parameters = {p["Name"]: p for p in json.loads(definition)["Parameters"]}
    assert parameters["InputBucket"]["Type"] == "String"
    assert parameters["InputKey"]["Type"] == "String"
    assert parameters["ModelApprovalStatus"]["DefaultValue"] == "PendingManualApproval"
    assert parameters["MseThreshold"]["Type"] == "Float"
    for name in ("ProcessingInstanceType", "ProcessingInstanceCount", "TrainingInstanceType", "TrainingInstanceCount"):
        assert name in parameters


def test_preprocess_reads_the_object_named_by_input_bucket_and_key(definition):
    preprocess = steps_by_name(json.loads(definition))["Preprocess"]
    [data] = [i for i in preprocess["Arguments"]["ProcessingInputs"] if i["InputName"] == "data"]
    assert data["S3Input"]["S3Uri"] == {
        "Std:Join": {"On": "/", "Values": ["s3:/", {"Get": "Parameters.InputBucket"}, {"Get": "Parameters.InputKey"}]}
    }
    assert "sagemaker-scikit-learn" in preprocess["Arguments"]["AppSpecification"]["ImageUri"]


def test_training_uses_the_built_in_xgboost_with_the_seed_hyperparameters(definition):
    train = steps_by_name(json.loads(definition))["Train"]["Arguments"]
    assert "sagemaker-xgboost" in train["AlgorithmSpecification"]["TrainingImage"]
    assert train["HyperParameters"] == {
        "objective": "reg:squarederror",
        "num_round": "50",
        "max_depth": "5",
        "eta": "0.2",
        "subsample": "0.7",
    }
    assert train["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    assert [c["ChannelName"] for c in train["InputDataConfig"]] == ["train", "validation"]


def test_the_gate_registers_below_the_threshold_and_fails_with_the_mse_above_it(definition):
    steps = steps_by_name(json.loads(definition))
    gate = steps["CheckMse"]["Arguments"]
    [condition] = gate["Conditions"]
    assert condition["Type"] == "LessThanOrEqualTo"
    assert condition["RightValue"] == {"Get": "Parameters.MseThreshold"}
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "regression_metrics.mse.value"
    assert [s["Type"] for s in gate["IfSteps"]] == ["Model", "RegisterModel"]
    assert [s["Type"] for s in gate["ElseSteps"]] == ["Fail"]
    register = steps["RegisterModel"]["Arguments"]
    assert register["ModelPackageGroupName"] == "retrain-models"
    assert register["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    assert "evaluation.json" in json.dumps(register["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"])
    assert "Std:JsonGet" in json.dumps(steps["MseAboveThreshold"]["Arguments"]["ErrorMessage"])


def test_runs_write_to_their_own_folder_outside_the_data_prefix(definition):
    outputs = json.dumps(steps_by_name(json.loads(definition))["Preprocess"]["Arguments"]["ProcessingOutputConfig"])
    assert '"Get": "Execution.PipelineExecutionId"' in outputs
    assert "s3://retrain-data/pipeline-artifacts/" in outputs
    assert "pipeline-dataset/" not in outputs


def test_building_makes_no_network_call_and_needs_no_credentials():
    # A fresh interpreter, with no AWS variables at all and every socket connection refused.
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from pipeline.config import PipelineConfig\n"
        "from pipeline.definition import definition_json\n"
        "print(len(definition_json(PipelineConfig(region='us-east-1', role_arn='arn:aws:iam::1:role/r', "
        "default_bucket='b'))))\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment["AWS_CONFIG_FILE"] = environment["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) > 1000


def test_the_cli_prints_the_definition(definition):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "definition",
            "--region",
            REGION,
            "--bucket",
            BUCKET,
            "--role-arn",
            CONFIG.role_arn,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == json.loads(definition)


def test_upsert_creates_a_pipeline_the_trigger_function_starts(definition, data_bucket, lambda_context):
    import app
    from tests.aws import create_idempotency_table
    from tests.events import load_event

    create_idempotency_table()
    arn = upsert(CONFIG, definition)
    assert upsert(CONFIG, definition) == arn  # the second time it updates

    sagemaker = boto3.client("sagemaker", region_name=REGION)
    stored = sagemaker.describe_pipeline(PipelineName="retrain-pipeline")
    assert json.loads(stored["PipelineDefinition"]) == json.loads(definition)
    assert sagemaker.describe_model_package_group(ModelPackageGroupName="retrain-models")
    s3 = boto3.client("s3", region_name=REGION)
    for script in ("preprocess.py", "evaluate.py"):
        key = CONFIG.code_uri(script).removeprefix(f"s3://{BUCKET}/")
        assert (
            s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == (ROOT / "pipeline" / "steps" / script).read_bytes()
        )

    response = app.lambda_handler(load_event("sqs-upload.json"), lambda_context)

    assert response["batchItemFailures"] == []
    [execution] = sagemaker.list_pipeline_executions(PipelineName="retrain-pipeline")["PipelineExecutionSummaries"]
    parameters = sagemaker.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution["PipelineExecutionArn"]
    )
    assert {p["Name"]: p["Value"] for p in parameters["PipelineParameters"]} == {
        "InputBucket": "retrain-trigger-dev-data-123456789012-us-east-1",
        "InputKey": "pipeline-dataset/abalone.csv",
    }
