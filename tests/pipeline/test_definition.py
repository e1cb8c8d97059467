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
from pipeline.config import PipelineConfig, runs_prefix
from tests.pipeline.conftest import BUCKET, CONFIG, REGION
from tests.template_values import DATA_PREFIX

ROOT = Path(__file__).resolve().parents[2]
GATE_PARAMETERS = ("MinR2", "MinAuc", "MinAccuracyLift", "MseThreshold")


def steps_by_name(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step, those in condition branches (at any depth) included."""
    found: dict[str, dict[str, Any]] = {}

    def visit(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            found[step["Name"]] = step
            for branch in ("IfSteps", "ElseSteps"):
                visit(step.get("Arguments", {}).get(branch, []))

    visit(definition["Steps"])
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
    assert {name: (parameters[name]["Type"], parameters[name]["DefaultValue"]) for name in GATE_PARAMETERS} == {
        "MinR2": ("Float", 0.1),
        "MinAuc": ("Float", 0.6),
        "MinAccuracyLift": ("Float", 0.05),
        "MseThreshold": ("Float", 0.0),
    }
    assert parameters["ProblemType"]["DefaultValue"] == "auto"
    assert parameters["ProblemType"]["EnumValues"] == ["auto", "regression", "binary", "multiclass"]
    for name in ("ProcessingInstanceType", "ProcessingInstanceCount", "TrainingInstanceType", "TrainingInstanceCount"):
        assert name in parameters


def test_preprocess_reads_the_object_named_by_input_bucket_and_key(definition):
    preprocess = steps_by_name(json.loads(definition))["Preprocess"]
    [data] = [i for i in preprocess["Arguments"]["ProcessingInputs"] if i["InputName"] == "data"]
    assert data["S3Input"]["S3Uri"] == {
        "Std:Join": {"On": "/", "Values": ["s3:/", {"Get": "Parameters.InputBucket"}, {"Get": "Parameters.InputKey"}]}
    }
    assert "sagemaker-scikit-learn" in preprocess["Arguments"]["AppSpecification"]["ImageUri"]


def test_training_uses_the_built_in_xgboost_with_the_objective_the_data_report_chose(definition):
    steps = steps_by_name(json.loads(definition))
    report = {"PropertyFile": {"Get": "Steps.Preprocess.PropertyFiles.DataReport"}}
    for name in ("Train", "TrainMulticlass"):
        train = steps[name]["Arguments"]
        assert "sagemaker-xgboost:3.2-0" in train["AlgorithmSpecification"]["TrainingImage"]
        assert train["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
        assert [c["ChannelName"] for c in train["InputDataConfig"]] == ["train", "validation"]
        assert {c["ContentType"] for c in train["InputDataConfig"]} == {"text/csv"}
        # Each host its share of both splits' part files.
        sources = {c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in train["InputDataConfig"]}
        assert {name: source["S3DataDistributionType"] for name, source in sources.items()} == {
            "train": "ShardedByS3Key",
            "validation": "ShardedByS3Key",
        }
        assert train["ResourceConfig"]["InstanceCount"] == {"Get": "Parameters.TrainingInstanceCount"}
    common = {"num_round": "50", "max_depth": "5", "eta": "0.2", "subsample": "0.7"}
    assert steps["Train"]["Arguments"]["HyperParameters"] == {
        **common,
        "objective": {"Std:JsonGet": {**report, "Path": "training.objective"}},
        "eval_metric": {"Std:JsonGet": {**report, "Path": "training.eval_metric"}},
    }
    # num_class only where the objective takes it: xgboost fails with it on any other.
    assert steps["TrainMulticlass"]["Arguments"]["HyperParameters"] == {
        **common,
        "objective": "multi:softprob",
        "eval_metric": "mlogloss",
        "num_class": {"Std:JsonGet": {**report, "Path": "training.num_class"}},
    }


def test_refused_data_and_a_failed_gate_end_the_run_with_their_reason(definition):
    steps = steps_by_name(json.loads(definition))
    [data_check] = steps["CheckData"]["Arguments"]["Conditions"]
    assert data_check["LeftValue"]["Std:JsonGet"]["Path"] == "accepted"
    assert steps["DataRefused"]["Arguments"]["ErrorMessage"]["Std:JsonGet"]["Path"] == "reason"
    [route] = steps["ChooseObjective"]["Arguments"]["Conditions"]
    assert (route["LeftValue"]["Std:JsonGet"]["Path"], route["RightValue"]) == ("problem_type.chosen", "multiclass")
    for suffix in ("", "Multiclass"):
        gate = steps[f"CheckQuality{suffix}"]["Arguments"]
        [condition] = gate["Conditions"]
        assert (condition["Type"], condition["RightValue"]) == ("Equals", True)
        assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "gate.passed"
        assert [s["Name"] for s in gate["IfSteps"]] == [f"CheckChampion{suffix}"]
        assert [s["Name"] for s in gate["ElseSteps"]] == [f"QualityTooLow{suffix}"]
        # Passing the gates is not enough: not better than production ends the run with nothing registered.
        champion = steps[f"CheckChampion{suffix}"]["Arguments"]
        [condition] = champion["Conditions"]
        assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "decision.register"
        assert [s["Type"] for s in champion["IfSteps"]] == ["Model", "RegisterModel"]
        assert champion["ElseSteps"] == []
        register = steps[f"RegisterModel{suffix}"]["Arguments"]
        assert register["ModelPackageGroupName"] == CONFIG.model_package_group_name
        assert register["ModelApprovalStatus"]["Std:JsonGet"]["Path"] == "decision.approval_status"
        lineage = register["CustomerMetadataProperties"]
        assert lineage["ExecutionArn"] == {"Get": "Execution.PipelineExecutionArn"}
        assert lineage["TrainingData"] == {"Get": "Parameters.TrainingData"}
        from_reports = ("Input", "ObjectCount", "ObjectListSha256", "SplitScheme")
        assert {name: lineage[name]["Std:JsonGet"]["Path"] for name in from_reports} == {
            "Input": "lineage.input_for_registry",
            "ObjectCount": "lineage.object_count",
            "ObjectListSha256": "lineage.objects_sha256",
            "SplitScheme": "split.scheme",
        }
        assert lineage["ChampionModelPackageArn"]["Std:JsonGet"]["Path"] == "champion_summary.model_package_arn"
        registered = register["ModelMetrics"]
        assert "model_quality.json" in json.dumps(registered["ModelQuality"]["Statistics"]["S3Uri"])
        assert registered["ModelQuality"]["Statistics"]["ContentType"] == "application/json"
        assert "data_report.json" in json.dumps(registered["ModelDataQuality"]["Statistics"]["S3Uri"])
        assert "report.html" in json.dumps(registered["Explainability"]["Report"]["S3Uri"])
        assert registered["Explainability"]["Report"]["ContentType"] == "text/html"
        # the run report's module reaches Evaluate as an input of its own, on the job's PYTHONPATH
        evaluate = steps[f"Evaluate{suffix}"]["Arguments"]
        [report_code] = [i for i in evaluate["ProcessingInputs"] if i["InputName"] == "report-code"]
        assert report_code["S3Input"]["S3Uri"].endswith("/run_report.py")
        assert evaluate["Environment"] == {"PYTHONPATH": report_code["S3Input"]["LocalPath"]}
        local_paths = [i["S3Input"]["LocalPath"] for i in evaluate["ProcessingInputs"]]
        assert len(set(local_paths)) == len(local_paths)  # SageMaker wants one local path per input
        arguments = steps[f"Evaluate{suffix}"]["Arguments"]["AppSpecification"]["ContainerArguments"]
        for name in ("MinR2", "MinAuc", "MinAccuracyLift", "MseThreshold", "MinImprovement"):
            assert {"Get": f"Parameters.{name}"} in arguments[arguments.index(name_of_option(name)) + 1]["Std:Join"][
                "Values"
            ]


def test_the_registered_model_is_features_then_xgboost_then_labels(definition):
    from pipeline.images import SKLEARN, XGBOOST, image_for

    steps = steps_by_name(json.loads(definition))
    serving = {"SAGEMAKER_PROGRAM": "serving.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
    for suffix, preprocess in (("", "Preprocess"), ("Multiclass", "Preprocess"), ("Spark", "PreprocessSpark")):
        transform = {
            "Std:Join": {
                "On": "/",
                "Values": [
                    {"Get": f"Steps.{preprocess}.ProcessingOutputConfig.Outputs['transform'].S3Output.S3Uri"},
                    "model.tar.gz",
                ],
            }
        }
        trained = {"Get": f"Steps.Train{suffix}.ModelArtifacts.S3ModelArtifacts"}
        register = steps[f"RegisterModel{suffix}"]["Arguments"]
        containers = register["InferenceSpecification"]["Containers"]
        assert [image_for(c["Image"]) for c in containers] == [SKLEARN, XGBOOST, SKLEARN]
        assert [c["ModelDataUrl"] for c in containers] == [transform, trained, transform]
        assert [c.get("Environment") for c in containers] == [
            {**serving, "RETRAIN_SERVING_STAGE": "features"},
            None,
            {**serving, "RETRAIN_SERVING_STAGE": "labels"},
        ]
        assert register["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]
        assert register["InferenceSpecification"]["SupportedResponseMIMETypes"] == ["text/csv", "application/json"]
        # the model CreateModel makes is the same pipeline
        assert steps[f"CreateModel{suffix}"]["Arguments"]["Containers"] == containers
        evaluation = f"Steps.Evaluate{suffix}.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"
        assert register["CustomerMetadataProperties"]["SmokeCheck"] == {
            "Std:Join": {"On": "/", "Values": [{"Get": evaluation}, "smoke_check.json"]}
        }
        # Evaluate reads the smoke sample from Preprocess's transform output
        inputs = {i["InputName"]: i["S3Input"] for i in steps[f"Evaluate{suffix}"]["Arguments"]["ProcessingInputs"]}
        assert inputs["transform"]["S3Uri"] == transform["Std:Join"]["Values"][0]
        assert inputs["transform"]["LocalPath"] == "/opt/ml/processing/transform"


def test_both_preprocess_engines_get_the_serving_script_and_write_the_transform_output(definition):
    steps = steps_by_name(json.loads(definition))
    for name in ("Preprocess", "PreprocessSpark"):
        arguments = steps[name]["Arguments"]
        inputs = {i["InputName"]: i["S3Input"] for i in arguments["ProcessingInputs"]}
        assert inputs["serving-code"]["S3Uri"] == CONFIG.code_uri("serving.py")
        assert inputs["serving-code"]["LocalPath"] == "/opt/ml/processing/input/serving_code"
        outputs = {o["OutputName"]: o["S3Output"] for o in arguments["ProcessingOutputConfig"]["Outputs"]}
        assert outputs["transform"]["LocalPath"] == "/opt/ml/processing/transform"
        assert outputs["transform"]["S3Uri"]["Std:Join"]["Values"][-1] == "transform"


def name_of_option(parameter: str) -> str:
    return {
        "MinR2": "--min-r2",
        "MinAuc": "--min-auc",
        "MinAccuracyLift": "--min-accuracy-lift",
        "MseThreshold": "--mse-threshold",
        "MinImprovement": "--min-improvement",
    }[parameter]


def test_each_step_names_the_image_whose_python_and_libraries_are_declared(definition):
    from pipeline.images import image_for

    steps = steps_by_name(json.loads(definition))
    preprocess = image_for(steps["Preprocess"]["Arguments"]["AppSpecification"]["ImageUri"])
    evaluate = image_for(steps["Evaluate"]["Arguments"]["AppSpecification"]["ImageUri"])
    train = image_for(steps["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"])
    assert (preprocess.name, preprocess.python) == ("sklearn-1.9-0", "3.12")
    assert (evaluate.name, evaluate.python) == (train.name, train.python) == ("xgboost-3.2-0", "3.12")


def test_runs_write_to_their_own_folder_outside_the_data_prefix(definition):
    config = steps_by_name(json.loads(definition))["Preprocess"]["Arguments"]["ProcessingOutputConfig"]
    for output in config["Outputs"]:
        parent, folder, execution, *_ = output["S3Output"]["S3Uri"]["Std:Join"]["Values"]
        # where the template's lifecycle rule and RunStatusFunction look for a run's folder
        assert f"{parent}/{folder}/" == f"s3://{BUCKET}/{runs_prefix(CONFIG.pipeline_name)}"
        assert execution == {"Get": "Execution.PipelineExecutionId"}
    assert DATA_PREFIX not in json.dumps(config)


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
    from tests.aws import SAMPLE_BUCKET, create_scheduler_table
    from tests.events import load_event

    create_scheduler_table()
    arn = upsert(CONFIG, definition)
    assert upsert(CONFIG, definition) == arn  # the second time it updates

    sagemaker = boto3.client("sagemaker", region_name=REGION)
    stored = sagemaker.describe_pipeline(PipelineName=CONFIG.pipeline_name)
    assert json.loads(stored["PipelineDefinition"]) == json.loads(definition)
    assert sagemaker.describe_model_package_group(ModelPackageGroupName=CONFIG.model_package_group_name)
    s3 = boto3.client("s3", region_name=REGION)
    for script in ("preprocess.py", "evaluate.py", "serving.py"):
        key = CONFIG.code_uri(script).removeprefix(f"s3://{BUCKET}/")
        assert (
            s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == (ROOT / "pipeline" / "steps" / script).read_bytes()
        )

    response = app.lambda_handler(load_event("sqs-upload.json"), lambda_context)

    assert response["batchItemFailures"] == []
    # the pipeline the function starts (PIPELINE_NAME of events/env.json) is the one upsert made
    [execution] = sagemaker.list_pipeline_executions(PipelineName=CONFIG.pipeline_name)["PipelineExecutionSummaries"]
    parameters = sagemaker.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution["PipelineExecutionArn"]
    )
    assert {p["Name"]: p["Value"] for p in parameters["PipelineParameters"]} == {
        "InputBucket": SAMPLE_BUCKET,
        "InputKey": f"{DATA_PREFIX}abalone.csv",
        "InputDataType": "S3Prefix",
        "TrainingData": "NewObjects",
        "InputBytes": "1024",  # the upload's size in the notification (events/sqs-upload.json)
    }


def test_every_threshold_can_be_set_without_code_from_the_cli():
    from pipeline.cli import parse_args, resolve_config
    from pipeline.definition import definition_json

    options = ["--min-r2", "0.3", "--min-auc", "0.7", "--min-accuracy-lift", "0.1", "--mse-threshold", "4000"]
    champion = ["--min-improvement", "0.02", "--auto-approve", "true", "--id-column", "patient"]
    arguments = ["definition", "--region", REGION, "--bucket", BUCKET, *options, *champion]
    arguments += ["--problem-type", "regression"]
    config = resolve_config(parse_args(arguments))

    parameters = {p["Name"]: p.get("DefaultValue") for p in json.loads(definition_json(config))["Parameters"]}
    names = (*GATE_PARAMETERS, "ProblemType", "MinImprovement", "AutoApprove", "IdColumn")
    assert {name: parameters[name] for name in names} == {
        "MinR2": 0.3,
        "MinAuc": 0.7,
        "MinAccuracyLift": 0.1,
        "MseThreshold": 4000.0,
        "ProblemType": "regression",
        "MinImprovement": 0.02,
        "AutoApprove": "true",
        "IdColumn": "patient",
    }
