"""The SageMaker Pipeline: preprocess -> train (built-in XGBoost) -> evaluate -> MSE gate -> register.

`get_pipeline(config)` builds it with the SageMaker Python SDK v3 without calling AWS: the SDK's
session gets explicit region, bucket and configuration, role validation is skipped, and any request
it would still send fails at once instead of going out.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from pipeline.config import PipelineConfig

# The pipeline's parameters. InputBucket and InputKey are the contract with every trigger path.
INPUT_BUCKET = "InputBucket"
INPUT_KEY = "InputKey"
INPUT_DATA_TYPE = "InputDataType"  # S3Prefix: InputKey is the data; ManifestFile: it lists the data
TARGET_COLUMN = "TargetColumn"
MODEL_APPROVAL_STATUS = "ModelApprovalStatus"
MSE_THRESHOLD = "MseThreshold"
PROCESSING_INSTANCE_TYPE = "ProcessingInstanceType"
PROCESSING_INSTANCE_COUNT = "ProcessingInstanceCount"
TRAINING_INSTANCE_TYPE = "TrainingInstanceType"
TRAINING_INSTANCE_COUNT = "TrainingInstanceCount"

DEFAULT_MSE_THRESHOLD = 4000.0  # the diabetes target's variance is about 5,900
XGBOOST_VERSION = "1.7-1"
SKLEARN_VERSION = "1.2-1"
HYPERPARAMETERS = {
    "objective": "reg:squarederror",
    "num_round": 50,
    "max_depth": 5,
    "eta": 0.2,
    "subsample": 0.7,
}
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


def _build(config: PipelineConfig) -> Any:
    from sagemaker.core import image_uris
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
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
    approval_status = ParameterString(name=MODEL_APPROVAL_STATUS, default_value="PendingManualApproval")
    mse_threshold = ParameterFloat(name=MSE_THRESHOLD, default_value=DEFAULT_MSE_THRESHOLD)
    processing_type = ParameterString(name=PROCESSING_INSTANCE_TYPE, default_value="ml.m5.xlarge")
    processing_count = ParameterInteger(name=PROCESSING_INSTANCE_COUNT, default_value=1)
    training_type = ParameterString(name=TRAINING_INSTANCE_TYPE, default_value="ml.m5.xlarge")
    training_count = ParameterInteger(name=TRAINING_INSTANCE_COUNT, default_value=1)

    def run_uri(*parts: str) -> Any:
        """A location private to one execution, so concurrent runs never overwrite each other."""
        return Join(on="/", values=[config.artifacts_uri, "runs", ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])

    def s3_input(name: str, source: Any, local_path: str, data_type: Any = "S3Prefix") -> Any:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=source, local_path=local_path, s3_data_type=data_type, s3_input_mode="File"
            ),
        )

    def s3_output(name: str) -> Any:
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=run_uri(name), local_path=f"/opt/ml/processing/{name}", s3_upload_mode="EndOfJob"
            ),
        )

    sklearn_image = image_uris.retrieve(framework="sklearn", region=config.region, version=SKLEARN_VERSION)
    xgboost_image = image_uris.retrieve(framework="xgboost", region=config.region, version=XGBOOST_VERSION)

    preprocessor = ScriptProcessor(
        image_uri=sklearn_image,
        command=["python3"],
        instance_type=processing_type,
        instance_count=processing_count,
        role=config.role_arn,
        sagemaker_session=session,
        base_job_name=f"{config.pipeline_name}-preprocess",
    )
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
            outputs=[s3_output("train"), s3_output("validation"), s3_output("test")],
            code=config.code_uri("preprocess.py"),
            arguments=["--target-column", target_column],
        ),
    )

    def split_uri(name: str) -> Any:
        return preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    trainer = ModelTrainer(
        training_image=xgboost_image,
        compute=Compute(instance_type=training_type, instance_count=training_count),
        role=config.role_arn,
        sagemaker_session=session,
        base_job_name=f"{config.pipeline_name}-train",
        hyperparameters=HYPERPARAMETERS,
        stopping_condition=StoppingCondition(max_runtime_in_seconds=MAX_TRAINING_SECONDS),
        output_data_config=OutputDataConfig(s3_output_path=f"{config.artifacts_uri}/models"),
        input_data_config=[
            InputData(channel_name=name, data_source=split_uri(name), content_type="text/csv")
            for name in ("train", "validation")
        ],
    )
    train = TrainingStep(name="Train", step_args=trainer.train())
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
        name="Evaluate",
        step_args=evaluator.run(
            inputs=[
                s3_input("model", model_artifacts, "/opt/ml/processing/model"),
                s3_input("test", split_uri("test"), "/opt/ml/processing/test"),
            ],
            outputs=[s3_output("evaluation")],
            code=config.code_uri("evaluate.py"),
        ),
        property_files=[evaluation_report],
    )
    evaluation_uri = Join(
        on="/",
        values=[
            evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
            "evaluation.json",
        ],
    )

    model = ModelBuilder(
        s3_model_data_url=model_artifacts,
        image_uri=xgboost_image,
        sagemaker_session=session,
        role_arn=config.role_arn,
    )
    create_model = ModelStep(name="CreateModel", step_args=model.build())
    register_model = ModelStep(
        name="RegisterModel",
        step_args=model.register(
            model_package_group_name=config.model_package_group_name,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            approval_status=approval_status,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(s3_uri=evaluation_uri, content_type="application/json")
            ),
        ),
    )
    mse = JsonGet(step_name=evaluate.name, property_file=evaluation_report, json_path="regression_metrics.mse.value")
    too_high = FailStep(
        name="MseAboveThreshold",
        error_message=Join(on=" ", values=["Model MSE", mse, "is above the threshold", mse_threshold]),
    )
    gate = ConditionStep(
        name="CheckMse",
        conditions=[ConditionLessThanOrEqualTo(left=mse, right=mse_threshold)],
        if_steps=[create_model, register_model],
        else_steps=[too_high],
    )
    return Pipeline(
        name=config.pipeline_name,
        parameters=[
            input_bucket,
            input_key,
            input_data_type,
            target_column,
            approval_status,
            mse_threshold,
            processing_type,
            processing_count,
            training_type,
            training_count,
        ],
        steps=[preprocess, train, evaluate, gate],
        sagemaker_session=session,
    )
