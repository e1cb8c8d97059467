"""The SageMaker Pipeline: preprocess -> check data -> train (built-in XGBoost) -> evaluate -> gate -> register.

`get_pipeline(config)` builds it with the SageMaker Python SDK v3 without calling AWS: the SDK's
session gets explicit region, bucket and configuration, role validation is skipped, and any request
it would still send fails at once instead of going out.

The shape, and why:
- Preprocess writes data_report.json. Data that cannot train a model is a decision, not a crash:
  CheckData fails the run with the report's one-line reason (DataRefused), so the reason is the
  run's failure reason and nothing downstream runs.
- The problem type is decided from the data (ProblemType `auto`), so the objective and evaluation
  metric reach the training job through the report (JsonGet). The multi: objectives alone take
  `num_class`, which xgboost refuses with any other objective: ChooseObjective routes multiclass
  to its own Train/Evaluate/gate branch, built by the same code.
- Evaluate scores the model, the trivial baseline and the model in production (the latest Approved
  package) and decides. CheckQuality fails the run with the gate's reason (QualityTooLow); a model
  that passes but is not better than production ends the run normally, unregistered
  (CheckChampion); otherwise it is registered with its lineage, approved if AutoApprove says so.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from pipeline.config import RUNS_FOLDER, PipelineConfig
from pipeline.images import SKLEARN, XGBOOST

# The pipeline's parameters. InputBucket and InputKey are the contract with every trigger path.
INPUT_BUCKET = "InputBucket"
INPUT_KEY = "InputKey"
INPUT_DATA_TYPE = "InputDataType"  # S3Prefix: InputKey is the data; ManifestFile: it lists the data
TARGET_COLUMN = "TargetColumn"
PROBLEM_TYPE = "ProblemType"
MODEL_APPROVAL_STATUS = "ModelApprovalStatus"
MIN_R2 = "MinR2"
MIN_AUC = "MinAuc"
MIN_ACCURACY_LIFT = "MinAccuracyLift"
MSE_THRESHOLD = "MseThreshold"
MIN_IMPROVEMENT = "MinImprovement"
AUTO_APPROVE = "AutoApprove"
ID_COLUMN = "IdColumn"
TRAINING_DATA = "TrainingData"  # NewObjects | AllObjects: what the trigger gave the run (lineage)
PROCESSING_INSTANCE_TYPE = "ProcessingInstanceType"
PROCESSING_INSTANCE_COUNT = "ProcessingInstanceCount"
TRAINING_INSTANCE_TYPE = "TrainingInstanceType"
TRAINING_INSTANCE_COUNT = "TrainingInstanceCount"

PROBLEM_TYPES = ["auto", "regression", "binary", "multiclass"]
# Common to every problem type; objective, eval_metric (and num_class) come from the data report.
HYPERPARAMETERS = {"num_round": 50, "max_depth": 5, "eta": 0.2, "subsample": 0.7}
MULTICLASS_OBJECTIVE = {"objective": "multi:softprob", "eval_metric": "mlogloss"}
MAX_TRAINING_SECONDS = 3600
SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}


class OfflineViolation(RuntimeError):
    """Building the definition tried to call AWS."""


def _refuse_requests(request: Any, **_: Any) -> None:
    raise OfflineViolation(f"building the pipeline definition must not call AWS, but it tried {request.url}")


@contextmanager
def _offline_sdk(region: str) -> Iterator[None]:
    """The environment the SDK needs to build offline, for the time it builds.

    Its import creates clients (they need a region, and send nothing); its role validation calls
    IAM unless switched off; importing it sets the root logger to INFO and prints warnings.
    """
    overrides = {"SAGEMAKER_VALIDATE_ROLE": "false", "AWS_DEFAULT_REGION": region}
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    root_level = logging.getLogger().level
    logging.disable(logging.WARNING)  # it warns about fields every definition drops
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _config_validated_once():
                yield
    finally:
        logging.disable(logging.NOTSET)
        logging.getLogger().setLevel(root_level)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _config_validated_once() -> Iterator[None]:
    """Validate SDK_CONFIG once instead of at each of the ~70 look-ups a build makes.

    The SDK re-checks its whole JSON schema on every configuration look-up: 90% of a build's time
    (about 20 s) when measured. The configuration is ours and constant, so once is enough.
    """
    from sagemaker.core.config.config_manager import SageMakerConfig

    validate = SageMakerConfig.validate_sagemaker_config
    validate(SDK_CONFIG)

    def validate_unless_ours(sagemaker_config: dict[str, Any] | None = None) -> None:
        if sagemaker_config != SDK_CONFIG:
            validate(sagemaker_config)

    SageMakerConfig.validate_sagemaker_config = staticmethod(validate_unless_ours)
    try:
        yield
    finally:
        SageMakerConfig.validate_sagemaker_config = staticmethod(validate)


def get_pipeline(config: PipelineConfig) -> Any:
    """Build the `Pipeline` for ``config``. Makes no AWS call."""
    with _offline_sdk(config.region):
        return _build(config)


def definition_json(config: PipelineConfig) -> str:
    """The pipeline definition as SageMaker receives it (deterministic for a given config)."""
    with _offline_sdk(config.region):
        return str(_build(config).definition())


def _build(config: PipelineConfig) -> Any:  # noqa: PLR0915 - one factory reads best as one story
    from sagemaker.core import image_uris
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow import (
        ConditionStep,
        FailStep,
        ModelStep,
        Pipeline,
        ProcessingStep,
        TrainingStep,
    )
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig, StoppingCondition

    boto_session = boto3.Session(region_name=config.region)
    boto_session.events.register("before-send", _refuse_requests)
    session = PipelineSession(
        boto_session=boto_session, default_bucket=config.default_bucket, sagemaker_config=SDK_CONFIG
    )

    input_bucket = ParameterString(name=INPUT_BUCKET)
    input_key = ParameterString(name=INPUT_KEY)
    input_data_type = ParameterString(
        name=INPUT_DATA_TYPE, default_value="S3Prefix", enum_values=["S3Prefix", "ManifestFile"]
    )
    target_column = ParameterString(name=TARGET_COLUMN, default_value=config.target_column)
    problem_type = ParameterString(name=PROBLEM_TYPE, default_value=config.problem_type, enum_values=PROBLEM_TYPES)
    approval_status = ParameterString(name=MODEL_APPROVAL_STATUS, default_value="PendingManualApproval")
    min_r2 = ParameterFloat(name=MIN_R2, default_value=config.min_r2)
    min_auc = ParameterFloat(name=MIN_AUC, default_value=config.min_auc)
    min_accuracy_lift = ParameterFloat(name=MIN_ACCURACY_LIFT, default_value=config.min_accuracy_lift)
    mse_threshold = ParameterFloat(name=MSE_THRESHOLD, default_value=config.mse_threshold)
    min_improvement = ParameterFloat(name=MIN_IMPROVEMENT, default_value=config.min_improvement)
    auto_approve = ParameterString(
        name=AUTO_APPROVE, default_value=str(config.auto_approve).lower(), enum_values=["false", "true"]
    )
    id_column = ParameterString(name=ID_COLUMN, default_value=config.id_column)
    training_data = ParameterString(
        name=TRAINING_DATA, default_value="NewObjects", enum_values=["NewObjects", "AllObjects"]
    )
    processing_type = ParameterString(name=PROCESSING_INSTANCE_TYPE, default_value="ml.m5.xlarge")
    processing_count = ParameterInteger(name=PROCESSING_INSTANCE_COUNT, default_value=1)
    training_type = ParameterString(name=TRAINING_INSTANCE_TYPE, default_value="ml.m5.xlarge")
    training_count = ParameterInteger(name=TRAINING_INSTANCE_COUNT, default_value=1)

    def run_uri(*parts: str) -> Any:
        """A location private to one execution, so concurrent runs never overwrite each other."""
        return Join(
            on="/", values=[config.artifacts_uri, RUNS_FOLDER, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts]
        )

    def s3_input(name: str, source: Any, local_path: str, data_type: Any = "S3Prefix") -> Any:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=source, local_path=local_path, s3_data_type=data_type, s3_input_mode="File"
            ),
        )

    def s3_output(name: str, folder: str | None = None) -> Any:
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=run_uri(folder or name), local_path=f"/opt/ml/processing/{name}", s3_upload_mode="EndOfJob"
            ),
        )

    sklearn_image = image_uris.retrieve(framework=SKLEARN.framework, region=config.region, version=SKLEARN.version)
    xgboost_image = image_uris.retrieve(framework=XGBOOST.framework, region=config.region, version=XGBOOST.version)

    preprocessor = ScriptProcessor(
        image_uri=sklearn_image,
        command=["python3"],
        instance_type=processing_type,
        instance_count=processing_count,
        role=config.role_arn,
        sagemaker_session=session,
        base_job_name=f"{config.pipeline_name}-preprocess",
    )
    data_report = PropertyFile(name="DataReport", output_name="report", path="data_report.json")
    preprocess = ProcessingStep(
        name="Preprocess",
        step_args=preprocessor.run(
            inputs=[
                s3_input(
                    "data",
                    Join(on="/", values=["s3:/", input_bucket, input_key]),
                    "/opt/ml/processing/input/data",
                    data_type=input_data_type,
                )
            ],
            outputs=[s3_output("train"), s3_output("validation"), s3_output("test"), s3_output("report")],
            code=config.code_uri("preprocess.py"),
            arguments=["--target-column", target_column, "--problem-type", problem_type, "--id-column", id_column],
        ),
        property_files=[data_report],
    )

    def from_data_report(path: str) -> Any:
        return JsonGet(step_name=preprocess.name, property_file=data_report, json_path=path)

    def output_uri(step: Any, name: str) -> Any:
        return step.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    def model_branch(suffix: str, objective: dict[str, Any]) -> list[Any]:
        """Train -> Evaluate -> CheckQuality (register, or fail with the gate's reason)."""
        trainer = ModelTrainer(
            training_image=xgboost_image,
            compute=Compute(instance_type=training_type, instance_count=training_count),
            role=config.role_arn,
            sagemaker_session=session,
            base_job_name=f"{config.pipeline_name}-train",
            hyperparameters={**HYPERPARAMETERS, **objective},
            stopping_condition=StoppingCondition(max_runtime_in_seconds=MAX_TRAINING_SECONDS),
            output_data_config=OutputDataConfig(s3_output_path=f"{config.artifacts_uri}/models"),
            input_data_config=[
                InputData(channel_name=name, data_source=output_uri(preprocess, name), content_type="text/csv")
                for name in ("train", "validation")
            ],
        )
        train = TrainingStep(name=f"Train{suffix}", step_args=trainer.train())
        model_artifacts = train.properties.ModelArtifacts.S3ModelArtifacts

        evaluation_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
        evaluator = ScriptProcessor(
            image_uri=xgboost_image,
            command=["python3"],
            instance_type=processing_type,
            instance_count=1,
            role=config.role_arn,
            sagemaker_session=session,
            base_job_name=f"{config.pipeline_name}-evaluate",
        )
        evaluate = ProcessingStep(
            name=f"Evaluate{suffix}",
            step_args=evaluator.run(
                inputs=[
                    s3_input("model", model_artifacts, "/opt/ml/processing/model"),
                    s3_input("test", output_uri(preprocess, "test"), "/opt/ml/processing/test"),
                    s3_input("report", output_uri(preprocess, "report"), "/opt/ml/processing/report"),
                ],
                outputs=[s3_output("evaluation")],
                code=config.code_uri("evaluate.py"),
                arguments=[
                    "--min-r2",
                    min_r2.to_string(),
                    "--min-auc",
                    min_auc.to_string(),
                    "--min-accuracy-lift",
                    min_accuracy_lift.to_string(),
                    "--mse-threshold",
                    mse_threshold.to_string(),
                    "--min-improvement",
                    min_improvement.to_string(),
                    "--auto-approve",
                    auto_approve,
                    "--approval-status",
                    approval_status,
                    "--model-package-group",
                    config.model_package_group_name,
                    "--region",
                    config.region,
                ],
            ),
            property_files=[evaluation_report],
        )

        def from_evaluation(path: str) -> Any:
            return JsonGet(step_name=evaluate.name, property_file=evaluation_report, json_path=path)

        def report_uri(step: Any, name: str, file_name: str) -> Any:
            return Join(on="/", values=[output_uri(step, name), file_name])

        model = ModelBuilder(
            s3_model_data_url=model_artifacts,
            image_uri=xgboost_image,
            sagemaker_session=session,
            role_arn=config.role_arn,
        )
        create_model = ModelStep(name=f"CreateModel{suffix}", step_args=model.build())
        register_model = ModelStep(
            name=f"RegisterModel{suffix}",
            step_args=model.register(
                model_package_group_name=config.model_package_group_name,
                content_types=["text/csv"],
                response_types=["text/csv"],
                inference_instances=["ml.m5.large"],
                transform_instances=["ml.m5.large"],
                approval_status=from_evaluation("decision.approval_status"),
                customer_metadata_properties={
                    # Lineage: which run, on which data, compared with which model in production.
                    "ExecutionArn": ExecutionVariables.PIPELINE_EXECUTION_ARN,
                    "TrainingData": training_data,
                    "Input": from_data_report("lineage.input_for_registry"),
                    "InputDataType": input_data_type,
                    "ObjectCount": from_data_report("lineage.object_count"),
                    "ObjectListSha256": from_data_report("lineage.objects_sha256"),
                    "ChampionModelPackageArn": from_evaluation("champion_summary.model_package_arn"),
                    "ChampionMetric": from_evaluation("champion_summary.metric"),
                },
                model_metrics=ModelMetrics(
                    # The evaluation (metrics, baseline, gate, label mapping) and the data report
                    # (what the model was trained on and how each column was encoded) stay with it.
                    model_statistics=MetricsSource(
                        s3_uri=report_uri(evaluate, "evaluation", "evaluation.json"), content_type="application/json"
                    ),
                    model_data_statistics=MetricsSource(
                        s3_uri=report_uri(preprocess, "report", "data_report.json"), content_type="application/json"
                    ),
                ),
            ),
        )
        # Not better than production: a normal end, with nothing registered.
        check_champion = ConditionStep(
            name=f"CheckChampion{suffix}",
            conditions=[ConditionEquals(left=from_evaluation("decision.register"), right=True)],
            if_steps=[create_model, register_model],
            else_steps=[],
        )
        check_quality = ConditionStep(
            name=f"CheckQuality{suffix}",
            conditions=[ConditionEquals(left=from_evaluation("gate.passed"), right=True)],
            if_steps=[check_champion],
            else_steps=[FailStep(name=f"QualityTooLow{suffix}", error_message=from_evaluation("gate.reason"))],
        )
        return [train, evaluate, check_quality]

    choose_objective = ConditionStep(
        name="ChooseObjective",
        conditions=[ConditionEquals(left=from_data_report("problem_type.chosen"), right="multiclass")],
        if_steps=model_branch(
            "Multiclass", {**MULTICLASS_OBJECTIVE, "num_class": from_data_report("training.num_class")}
        ),
        else_steps=model_branch(
            "",
            {
                "objective": from_data_report("training.objective"),
                "eval_metric": from_data_report("training.eval_metric"),
            },
        ),
    )
    check_data = ConditionStep(
        name="CheckData",
        conditions=[ConditionEquals(left=from_data_report("accepted"), right=True)],
        if_steps=[choose_objective],
        else_steps=[FailStep(name="DataRefused", error_message=from_data_report("reason"))],
    )
    return Pipeline(
        name=config.pipeline_name,
        parameters=[
            input_bucket,
            input_key,
            input_data_type,
            target_column,
            problem_type,
            approval_status,
            min_r2,
            min_auc,
            min_accuracy_lift,
            mse_threshold,
            min_improvement,
            auto_approve,
            id_column,
            training_data,
            processing_type,
            processing_count,
            training_type,
            training_count,
        ],
        steps=[preprocess, check_data],
        sagemaker_session=session,
    )
