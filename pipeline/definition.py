"""The SageMaker Pipeline: preprocess -> check data -> train (built-in XGBoost) -> evaluate -> gate -> register.

`get_pipeline(config)` builds it with the SageMaker Python SDK v3 without calling AWS: the SDK's
session gets explicit region, bucket and configuration, role validation is skipped, and any request
it would still send fails at once instead of going out.

The shape, and why:
- ChooseEngine picks the Preprocess: pandas on one instance, or Spark on ProcessingInstanceCount
  instances when ProcessingEngine says spark, or says auto and the run reads more than
  SparkThresholdBytes (InputBytes, counted by the trigger). Both make the same decisions and write
  each split as at least TrainingInstanceCount part files; each is followed by its own copy of the
  steps below (the Spark copy's names end in Spark), since branches cannot rejoin.
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
- The registered model takes the rows a caller has: an inference pipeline of three containers
  (`serving_models`), Preprocess's encoder (its `transform` output) before XGBoost and the label
  mapping after it, both by pipeline/steps/serving.py in the scikit-learn image.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from pipeline.config import RUNS_FOLDER, PipelineConfig
from pipeline.images import SKLEARN, SPARK, XGBOOST, StepImage
from pipeline.parameters import BY_NAME, EVALUATE_ARGUMENTS, PARAMETERS, PREPROCESS_ARGUMENTS, Parameter
from pipeline.steps.reports import (
    BASELINE_CONSTRAINTS_FILE,
    BASELINE_OUTPUT,
    BASELINE_STATISTICS_FILE,
    DATA_REPORT_FILE,
    DATA_REPORT_OUTPUT,
    EVALUATION_FILE,
    EVALUATION_OUTPUT,
    MODEL_QUALITY_FILE,
    RUN_REPORT_FILE,
    SMOKE_CHECK_FILE,
    SMOKE_CHECK_METADATA,
    TRANSFORM_ARCHIVE,
    TRANSFORM_OUTPUT,
    DataReportPath,
    EvaluationPath,
)

# Common to every problem type; objective, eval_metric (and num_class) come from the data report.
HYPERPARAMETERS = {"num_round": 50, "max_depth": 5, "eta": 0.2, "subsample": 0.7}
MULTICLASS_OBJECTIVE = {"objective": "multi:softprob", "eval_metric": "mlogloss"}
MAX_TRAINING_SECONDS = 3600

# Each host gets its own 1/n of the part files of both splits (ShardedByS3Key). Preprocess
# writes train and validation as the same number of part files (one per host, none empty:
# preprocess.py, check_shards), and AWS gives every instance objects when there are at least
# as many objects as instances (API S3DataSource: "Don't choose more ML compute instances for
# training than available S3 objects. If you do, some nodes won't get any data"), so every
# host has validation rows: the 3.2-0 algorithm leaves a host without them out of training
# (aws/sagemaker-xgboost-container, algorithm_mode/train.py, `missing_validation_data`, PR
# #399). The SDK writes FullyReplicated for a plain URI, so the distribution is given through
# an S3DataSource (sagemaker/train/model_trainer.py, create_input_data_channel).
TRAINING_CHANNELS = {"train": "ShardedByS3Key", "validation": "ShardedByS3Key"}  # channel -> distribution
SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
PROCESSING_DIR = "/opt/ml/processing"
# Evaluate's script is one file (`code=`); the module that draws the run report reaches the job as an
# input of its own, in a folder of its own (each input needs its own local path: aws/sagemaker-python-sdk
# issue #4939), which the job's PYTHONPATH names so that `import run_report` finds it. The XGBoost image
# sets no PYTHONPATH of its own (aws/deep-learning-containers, docker/xgboost/Dockerfile), so none is
# replaced. The local runner maps the same path into the run's folder (emulator/images/container_paths.py).
REPORT_CODE = "report-code"
REPORT_CODE_DIR = f"{PROCESSING_DIR}/input/report_code"
SPARK_SUFFIX = "Spark"  # the steps after the Spark Preprocess: PreprocessSpark, CheckDataSpark, TrainSpark, ...
# The Spark Preprocess imports the pandas Preprocess's decisions: shipped with smspark-submit --py-files,
# from a channel of the job, as the SDK ships local files (sagemaker-core spark/processing.py,
# `_stage_submit_deps`: the `py-files` channel at /opt/ml/processing/input/py-files). An s3:// URI would
# instead reach spark-submit as it is (aws/sagemaker-spark-container src/smspark/cli.py
# `_get_list_of_files`), to be fetched by the cluster's S3 file system.
SPARK_PY_FILES = ("preprocess.py",)
SPARK_PY_FILES_CHANNEL = "py-files"
SPARK_PY_FILES_DIR = f"{PROCESSING_DIR}/input/{SPARK_PY_FILES_CHANNEL}"
# The Spark image's tag ends with its container version: sagemaker-spark-processing:3.5-cpu-py312-v1
# (the SDK's image_uri_config/spark.json builds it from version, processor, Python and this).
SPARK_CONTAINER_VERSION = "v1"
# Preprocess packs serving.py (and itself, which serving.py imports) into its `transform` output's
# model.tar.gz: serving.py reaches both engines' jobs as an input of its own (preprocess.py, `serving_code`).
SERVING_SCRIPT = "serving.py"
SERVING_CODE = "serving-code"
SERVING_CODE_DIR = f"{PROCESSING_DIR}/input/serving_code"
TRANSFORM_DIR = f"{PROCESSING_DIR}/{TRANSFORM_OUTPUT}"  # Evaluate's copy of it (its smoke sample)
# Preprocess writes the drift baseline with data_quality.py, which reaches both engines' jobs as an input
# of its own (preprocess.py, `data_quality_module`).
DATA_QUALITY_SCRIPT = "data_quality.py"
DATA_QUALITY_CODE = "data-quality-code"
DATA_QUALITY_CODE_DIR = f"{PROCESSING_DIR}/input/data_quality_code"
# The package's serving containers: the scikit-learn image runs SAGEMAKER_PROGRAM from
# SAGEMAKER_SUBMIT_DIRECTORY (sagemaker-containers' ServingEnv, _env.py), the layout the SDK makes when
# it repacks an entry point into model.tar.gz's code/; serving.py's stage is RETRAIN_SERVING_STAGE.
SERVING_STAGE_ENV = "RETRAIN_SERVING_STAGE"
FEATURES_STAGE, LABELS_STAGE = "features", "labels"
SERVING_ENVIRONMENT = {"SAGEMAKER_PROGRAM": SERVING_SCRIPT, "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
CONTENT_TYPES = ["text/csv"]  # what a caller sends: raw rows
RESPONSE_TYPES = ["text/csv", "application/json"]  # what the labels container answers


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
    """The pipeline, step by step as the diagram in docs/how-it-works.md draws it."""
    from sagemaker.mlops.workflow import Pipeline

    steps = _Steps(config)
    # A branch cannot rejoin the pipeline after a ConditionStep (aws/sagemaker-python-sdk issue #3565):
    # each engine's Preprocess is followed by its own copy of the rest, the Spark copy's steps named
    # with SPARK_SUFFIX. Only one copy runs.
    choose_engine = steps.choose_engine(
        spark=steps.engine_branch(SPARK_SUFFIX, steps.preprocess_spark),
        pandas=steps.engine_branch("", steps.preprocess),
    )
    return Pipeline(
        name=config.pipeline_name,
        parameters=list(steps.parameters.values()),
        steps=[choose_engine],
        sagemaker_session=steps.session,
    )


def _declare(parameter: Parameter, config: PipelineConfig) -> Any:
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString

    kind = {"String": ParameterString, "Float": ParameterFloat, "Integer": ParameterInteger}[parameter.kind]
    default = parameter.default_in(config)
    options: dict[str, Any] = {} if default is None else {"default_value": default}
    if parameter.choices:
        options["enum_values"] = list(parameter.choices)
    return kind(name=parameter.name, **options)


class _Steps:
    """Builds each step of the pipeline for one configuration; the order is `_build`'s."""

    def __init__(self, config: PipelineConfig) -> None:
        from sagemaker.core.workflow.pipeline_context import PipelineSession

        self.config = config
        boto_session = boto3.Session(region_name=config.region)
        boto_session.events.register("before-send", _refuse_requests)
        self.session = PipelineSession(
            boto_session=boto_session, default_bucket=config.default_bucket, sagemaker_config=SDK_CONFIG
        )
        self.parameters = {parameter.name: _declare(parameter, config) for parameter in PARAMETERS}
        self.images = {image: _image_uri(image, config.region) for image in (SKLEARN, XGBOOST, SPARK)}
        self.preprocess_step: Any = None
        self.data_report: Any = None

    # -- The engine, Preprocess and the checks on its report -------------------------------------------

    def choose_engine(self, spark: list[Any], pandas: list[Any]) -> Any:
        """Spark when ProcessingEngine is spark, or auto with InputBytes over SparkThresholdBytes.

        A ConditionStep's conditions must all hold, and the SDK has no And: (spark or auto) and
        (spark or over the threshold).
        """
        from sagemaker.core.workflow.conditions import ConditionEquals, ConditionGreaterThan, ConditionOr
        from sagemaker.mlops.workflow import ConditionStep

        engine, parameters = self.parameters["ProcessingEngine"], self.parameters
        is_spark = ConditionEquals(left=engine, right="spark")
        larger = ConditionGreaterThan(left=parameters["InputBytes"], right=parameters["SparkThresholdBytes"])
        return ConditionStep(
            name="ChooseEngine",
            conditions=[
                ConditionOr(conditions=[is_spark, ConditionEquals(left=engine, right="auto")]),
                ConditionOr(conditions=[is_spark, larger]),
            ],
            if_steps=spark,
            else_steps=pandas,
        )

    def engine_branch(self, suffix: str, preprocess: Callable[[], Any]) -> list[Any]:
        """One engine's Preprocess and everything after it; ``suffix`` ends the name of each step."""
        preprocess_step = preprocess()
        report = {"objective": DataReportPath.OBJECTIVE, "eval_metric": DataReportPath.EVAL_METRIC}
        check_data = self.check_data(
            suffix,
            accepted=self.choose_objective(
                suffix,
                multiclass=self.model_branch(
                    f"Multiclass{suffix}", {**MULTICLASS_OBJECTIVE, "num_class": DataReportPath.NUM_CLASS}
                ),
                otherwise=self.model_branch(suffix, report),
            ),
        )
        return [preprocess_step, check_data]

    def preprocess(self) -> Any:
        """pandas, on one instance: a second instance would only do the same work again."""
        step_args = self._processor(SKLEARN, "preprocess", 1).run(
            inputs=[self._data_input(), self._serving_code(), self._data_quality_code()],
            outputs=self._preprocess_outputs(),
            code=self.config.code_uri("preprocess.py"),
            arguments=self._preprocess_arguments(),
        )
        return self._preprocess_step("Preprocess", step_args)

    def preprocess_spark(self) -> Any:
        """Spark, on ProcessingInstanceCount instances, with the Spark image's smspark-submit."""
        processor = _pyspark_processor()(
            image_uri=self.images[SPARK],
            instance_type=self.parameters["ProcessingInstanceType"],
            instance_count=self.parameters["ProcessingInstanceCount"],
            volume_size_in_gb=self.parameters["ProcessingVolumeSizeInGB"],
            role=self.config.role_arn,
            sagemaker_session=self.session,
            base_job_name=f"{self.config.pipeline_name}-preprocess-spark",
        )
        shipped = [
            _s3_input(SPARK_PY_FILES_CHANNEL, self.config.code_uri(name), SPARK_PY_FILES_DIR) for name in SPARK_PY_FILES
        ]
        step_args = processor.run(
            submit_app=self.config.code_uri("preprocess_spark.py"),
            inputs=[self._data_input(), *shipped, self._serving_code(), self._data_quality_code()],
            outputs=self._preprocess_outputs(),
            arguments=self._preprocess_arguments(),
        )
        return self._preprocess_step(f"Preprocess{SPARK_SUFFIX}", step_args)

    def _data_input(self) -> Any:
        from sagemaker.core.workflow.functions import Join

        parameters = self.parameters
        data = Join(on="/", values=["s3:/", parameters["InputBucket"], parameters["InputKey"]])
        return _s3_input("data", data, f"{PROCESSING_DIR}/input/data", parameters["InputDataType"])

    def _serving_code(self) -> Any:
        return _s3_input(SERVING_CODE, self.config.code_uri(SERVING_SCRIPT), SERVING_CODE_DIR)

    def _data_quality_code(self) -> Any:
        return _s3_input(DATA_QUALITY_CODE, self.config.code_uri(DATA_QUALITY_SCRIPT), DATA_QUALITY_CODE_DIR)

    def _preprocess_outputs(self) -> list[Any]:
        names = ("train", "validation", "test", DATA_REPORT_OUTPUT, TRANSFORM_OUTPUT, BASELINE_OUTPUT)
        return [self._s3_output(name) for name in names]

    def _preprocess_arguments(self) -> list[Any]:
        """Its parameters, and the part files per split: at least one per training instance."""
        part_files = self.parameters["TrainingInstanceCount"].to_string()
        return [*self._arguments(PREPROCESS_ARGUMENTS), "--part-files", part_files]

    def _preprocess_step(self, name: str, step_args: Any) -> Any:
        """The engine's step, which the steps built after it (until the next one) read from."""
        from sagemaker.core.workflow.properties import PropertyFile
        from sagemaker.mlops.workflow import ProcessingStep

        self.data_report = PropertyFile(name="DataReport", output_name=DATA_REPORT_OUTPUT, path=DATA_REPORT_FILE)
        self.preprocess_step = ProcessingStep(name=name, step_args=step_args, property_files=[self.data_report])
        return self.preprocess_step

    def check_data(self, suffix: str, accepted: Any) -> Any:
        """Data that cannot train a model fails the run with the report's one-line reason."""
        return self._condition(
            f"CheckData{suffix}",
            self.from_data_report(DataReportPath.ACCEPTED),
            True,
            if_steps=[accepted],
            else_steps=[self._fail(f"DataRefused{suffix}", self.from_data_report(DataReportPath.REASON))],
        )

    def choose_objective(self, suffix: str, multiclass: list[Any], otherwise: list[Any]) -> Any:
        """Only the multi: objectives take num_class (xgboost refuses it with the others): a branch of its own."""
        return self._condition(
            f"ChooseObjective{suffix}",
            self.from_data_report(DataReportPath.PROBLEM_TYPE),
            "multiclass",
            if_steps=multiclass,
            else_steps=otherwise,
        )

    # -- Train -> Evaluate -> CheckQuality -> CheckChampion -> CreateModel + RegisterModel ------------

    def model_branch(self, suffix: str, objective: dict[str, str]) -> list[Any]:
        """``objective``: each hyperparameter a fixed value, or a path into the data report."""
        from_report = {
            name: self.from_data_report(value) if "." in value else value for name, value in objective.items()
        }
        train = self.train(suffix, from_report)
        evaluate, evaluation = self.evaluate(suffix, train)
        model_artifacts = train.properties.ModelArtifacts.S3ModelArtifacts
        register = self.register(suffix, model_artifacts, evaluate, evaluation)
        check_champion = self._condition(
            f"CheckChampion{suffix}",  # not better than production: a normal end, nothing registered
            self._from(evaluate, evaluation, EvaluationPath.REGISTER),
            True,
            if_steps=register,
            else_steps=[],
        )
        check_quality = self._condition(
            f"CheckQuality{suffix}",
            self._from(evaluate, evaluation, EvaluationPath.GATE_PASSED),
            True,
            if_steps=[check_champion],
            else_steps=[
                self._fail(f"QualityTooLow{suffix}", self._from(evaluate, evaluation, EvaluationPath.GATE_REASON))
            ],
        )
        return [train, evaluate, check_quality]

    def train(self, suffix: str, objective: dict[str, Any]) -> Any:
        from sagemaker.mlops.workflow import TrainingStep
        from sagemaker.train import ModelTrainer
        from sagemaker.train.configs import Compute, InputData, OutputDataConfig, S3DataSource, StoppingCondition

        trainer = ModelTrainer(
            training_image=self.images[XGBOOST],
            compute=Compute(
                instance_type=self.parameters["TrainingInstanceType"],
                instance_count=self.parameters["TrainingInstanceCount"],
            ),
            role=self.config.role_arn,
            sagemaker_session=self.session,
            base_job_name=f"{self.config.pipeline_name}-train",
            hyperparameters={**HYPERPARAMETERS, **objective},
            stopping_condition=StoppingCondition(max_runtime_in_seconds=MAX_TRAINING_SECONDS),
            output_data_config=OutputDataConfig(s3_output_path=f"{self.config.artifacts_uri}/models"),
            input_data_config=[
                InputData(
                    channel_name=name,
                    data_source=S3DataSource(
                        s3_data_type="S3Prefix",
                        s3_uri=self._output_uri(self.preprocess_step, name),
                        s3_data_distribution_type=shared,
                    ),
                    content_type="text/csv",
                )
                for name, shared in TRAINING_CHANNELS.items()
            ],
        )
        return TrainingStep(name=f"Train{suffix}", step_args=trainer.train())

    def evaluate(self, suffix: str, train: Any) -> tuple[Any, Any]:
        from sagemaker.core.workflow.properties import PropertyFile
        from sagemaker.mlops.workflow import ProcessingStep

        evaluation = PropertyFile(name="EvaluationReport", output_name=EVALUATION_OUTPUT, path=EVALUATION_FILE)
        from sagemaker.core.workflow.execution_variables import ExecutionVariables

        inputs = {
            "model": train.properties.ModelArtifacts.S3ModelArtifacts,
            "test": self._output_uri(self.preprocess_step, "test"),
            DATA_REPORT_OUTPUT: self._output_uri(self.preprocess_step, DATA_REPORT_OUTPUT),
            TRANSFORM_OUTPUT: self._output_uri(self.preprocess_step, TRANSFORM_OUTPUT),  # the smoke sample
        }
        report_code = _s3_input(REPORT_CODE, self.config.code_uri("run_report.py"), REPORT_CODE_DIR)
        step = ProcessingStep(
            name=f"Evaluate{suffix}",
            step_args=self._processor(XGBOOST, "evaluate", 1, {"PYTHONPATH": REPORT_CODE_DIR}).run(
                inputs=[
                    *(_s3_input(name, source, f"{PROCESSING_DIR}/{name}") for name, source in inputs.items()),
                    report_code,
                ],
                outputs=[self._s3_output(EVALUATION_OUTPUT)],
                code=self.config.code_uri("evaluate.py"),
                arguments=[
                    *self._arguments(EVALUATE_ARGUMENTS),
                    *("--model-package-group", self.config.model_package_group_name, "--region", self.config.region),
                    *("--execution-arn", ExecutionVariables.PIPELINE_EXECUTION_ARN),
                ],
            ),
            property_files=[evaluation],
        )
        return step, evaluation

    def register(self, suffix: str, model_artifacts: Any, evaluate: Any, evaluation: Any) -> list[Any]:
        from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
        from sagemaker.mlops.workflow import ModelStep
        from sagemaker.serve.model_builder import ModelBuilder

        # A list of Models is the SDK's inference pipeline (ModelBuilder._prepare_pipeline_container_defs):
        # CreateModel gets Containers, CreateModelPackage InferenceSpecification.Containers, in this order.
        # s3_model_data_url is not the containers' (each has its own); without it the builder asks S3
        # whether the session's default bucket exists (model_builder_utils.py, _get_serve_setting).
        model = ModelBuilder(
            model=self.serving_models(model_artifacts),
            s3_model_data_url=model_artifacts,
            sagemaker_session=self.session,
            role_arn=self.config.role_arn,
        )
        reports = {
            # The model-quality statistics in Model Monitor's shape, which the registry (Studio) shows;
            # the data report (what the model was trained on, how each column was encoded, the split
            # scheme), which Evaluate reads back from the model in production; and the run report.
            # CreateModelPackage's ModelMetrics has no slot for a free-form report: it goes where the
            # registry keeps a report per model, Explainability, whose content type says what it is.
            # evaluation.json (gate, decision) stays in the run's folder, which ExecutionArn names.
            "model_statistics": (evaluate, EVALUATION_OUTPUT, MODEL_QUALITY_FILE, "application/json"),
            "model_data_statistics": (self.preprocess_step, DATA_REPORT_OUTPUT, DATA_REPORT_FILE, "application/json"),
            "explainability": (evaluate, EVALUATION_OUTPUT, RUN_REPORT_FILE, "text/html"),
        }
        metrics = {
            field: MetricsSource(s3_uri=self._report_uri(step, output, file_name), content_type=content_type)
            for field, (step, output, file_name, content_type) in reports.items()
        }
        create_model = ModelStep(
            name=f"CreateModel{suffix}", step_args=model.build()
        )  # before register: it sets up the model
        register_args = model.register(
            model_package_group_name=self.config.model_package_group_name,
            content_types=CONTENT_TYPES,
            response_types=RESPONSE_TYPES,
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            approval_status=self._from(evaluate, evaluation, EvaluationPath.APPROVAL_STATUS),
            customer_metadata_properties=self._lineage(evaluate, evaluation),
            model_metrics=ModelMetrics(**metrics),
            drift_check_baselines=self._drift_baselines(),
        )
        return [create_model, ModelStep(name=f"RegisterModel{suffix}", step_args=register_args)]

    def _drift_baselines(self) -> Any:
        """The drift baseline of the training rows' raw columns (Preprocess's `baseline` output): a
        deployment points prod's data-quality monitoring schedule at it
        (functions/trigger/trigger/adapters/monitoring.py)."""
        from sagemaker.core.drift_check_baselines import DriftCheckBaselines
        from sagemaker.core.model_metrics import MetricsSource

        def source(file_name: str) -> Any:
            uri = self._report_uri(self.preprocess_step, BASELINE_OUTPUT, file_name)
            return MetricsSource(s3_uri=uri, content_type="application/json")

        return DriftCheckBaselines(
            model_data_statistics=source(BASELINE_STATISTICS_FILE),
            model_data_constraints=source(BASELINE_CONSTRAINTS_FILE),
        )

    def serving_models(self, model_artifacts: Any) -> list[Any]:
        """Features (raw rows -> features), the model (XGBoost, Train's model.tar.gz), labels (-> the label
        space): the first and last run serving.py on Preprocess's `transform` model.tar.gz.

        In an inference pipeline each container listens on SAGEMAKER_BIND_TO_PORT (developer guide, "Run
        Real-time Predictions with an Inference Pipeline"): the scikit-learn image is labelled
        accept-bind-to-port (aws/deep-learning-containers docker/sklearn/1.9-0/Dockerfile), and the XGBoost
        algorithm's server reads it (aws/sagemaker-xgboost-container algorithm_mode/serve.py).
        """
        from sagemaker.core.resources import Model
        from sagemaker.core.shapes import ContainerDefinition

        transform = self._report_uri(self.preprocess_step, TRANSFORM_OUTPUT, TRANSFORM_ARCHIVE)
        containers = [
            ContainerDefinition(
                image=self.images[SKLEARN],
                model_data_url=transform,
                environment={**SERVING_ENVIRONMENT, SERVING_STAGE_ENV: FEATURES_STAGE},
            ),
            ContainerDefinition(image=self.images[XGBOOST], model_data_url=model_artifacts),
            ContainerDefinition(
                image=self.images[SKLEARN],
                model_data_url=transform,
                environment={**SERVING_ENVIRONMENT, SERVING_STAGE_ENV: LABELS_STAGE},
            ),
        ]
        # model_name: required by the resource's shape; CreateModel in a pipeline names the model itself.
        return [Model(model_name=self.config.pipeline_name, primary_container=c) for c in containers]

    def _lineage(self, evaluate: Any, evaluation: Any) -> dict[str, Any]:
        """Which run, on which data, split how, compared with which model in production."""
        from sagemaker.core.workflow.execution_variables import ExecutionVariables

        return {
            "ExecutionArn": ExecutionVariables.PIPELINE_EXECUTION_ARN,
            "TrainingData": self.parameters["TrainingData"],
            "Input": self.from_data_report(DataReportPath.INPUT),
            "InputDataType": self.parameters["InputDataType"],
            "ObjectCount": self.from_data_report(DataReportPath.OBJECT_COUNT),
            "ObjectListSha256": self.from_data_report(DataReportPath.OBJECTS_SHA256),
            "SplitScheme": self.from_data_report(DataReportPath.SPLIT_SCHEME),
            "ChampionModelPackageArn": self._from(evaluate, evaluation, EvaluationPath.CHAMPION_ARN),
            "ChampionMetric": self._from(evaluate, evaluation, EvaluationPath.CHAMPION_METRIC),
            # What a deployment sends the staging endpoint, and the answer it expects (reports.SMOKE_CHECK).
            SMOKE_CHECK_METADATA: self._report_uri(evaluate, EVALUATION_OUTPUT, SMOKE_CHECK_FILE),
        }

    # -- the pieces every step is made of -----------------------------------------------------------

    def from_data_report(self, path: str) -> Any:
        return self._from(self.preprocess_step, self.data_report, path)

    @staticmethod
    def _from(step: Any, property_file: Any, path: str) -> Any:
        from sagemaker.core.workflow.functions import JsonGet

        return JsonGet(step_name=step.name, property_file=property_file, json_path=path)

    def _arguments(self, names: tuple[str, ...]) -> list[Any]:
        """`--option value` for each parameter; numbers as text, as a container's arguments are."""
        arguments: list[Any] = []
        for name in names:
            value = self.parameters[name]
            arguments += [BY_NAME[name].option, value if BY_NAME[name].kind == "String" else value.to_string()]
        return arguments

    def _processor(self, image: Any, name: str, instance_count: Any, env: dict[str, str] | None = None) -> Any:
        from sagemaker.core.processing import ScriptProcessor

        return ScriptProcessor(
            image_uri=self.images[image],
            command=["python3"],
            instance_type=self.parameters["ProcessingInstanceType"],
            instance_count=instance_count,
            volume_size_in_gb=self.parameters["ProcessingVolumeSizeInGB"],
            role=self.config.role_arn,
            sagemaker_session=self.session,
            base_job_name=f"{self.config.pipeline_name}-{name}",
            env=env,
        )

    def _run_uri(self, *parts: str) -> Any:
        """A location private to one execution, so concurrent runs never overwrite each other."""
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.core.workflow.functions import Join

        execution_id = ExecutionVariables.PIPELINE_EXECUTION_ID
        return Join(on="/", values=[self.config.artifacts_uri, RUNS_FOLDER, execution_id, *parts])

    def _s3_output(self, name: str) -> Any:
        from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=self._run_uri(name), local_path=f"{PROCESSING_DIR}/{name}", s3_upload_mode="EndOfJob"
            ),
        )

    @staticmethod
    def _output_uri(step: Any, name: str) -> Any:
        return step.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    def _report_uri(self, step: Any, output: str, file_name: str) -> Any:
        from sagemaker.core.workflow.functions import Join

        return Join(on="/", values=[self._output_uri(step, output), file_name])

    @staticmethod
    def _condition(name: str, left: Any, right: Any, if_steps: list[Any], else_steps: list[Any]) -> Any:
        from sagemaker.core.workflow.conditions import ConditionEquals
        from sagemaker.mlops.workflow import ConditionStep

        return ConditionStep(
            name=name,
            conditions=[ConditionEquals(left=left, right=right)],
            if_steps=if_steps,
            else_steps=else_steps,
        )

    @staticmethod
    def _fail(name: str, message: Any) -> Any:
        from sagemaker.mlops.workflow import FailStep

        return FailStep(name=name, error_message=message)


def _pyspark_processor() -> type:
    """PySparkProcessor with `--py-files` the job's py-files channel (SPARK_PY_FILES_DIR), which `upsert`
    fills: the SDK would otherwise upload the files when the definition is built, which must call no AWS."""
    from sagemaker.core.spark.processing import PySparkProcessor

    class ShippingPySparkProcessor(PySparkProcessor):  # type: ignore[misc]
        def _set_entrypoint(self, command: list[str], user_script_name: str) -> None:
            super()._set_entrypoint([*command, "--py-files", SPARK_PY_FILES_DIR], user_script_name)

    return ShippingPySparkProcessor


def _image_uri(image: StepImage, region: str) -> str:
    """The image's URI in ``region``, as the SDK retrieves it (no AWS call)."""
    from sagemaker.core import image_uris

    if image.framework != "spark":
        return str(image_uris.retrieve(framework=image.framework, region=region, version=image.version))
    # The Spark images come per Python (py39, py312) and container version, and for CPU instances only.
    return str(
        image_uris.retrieve(
            framework=image.framework,
            region=region,
            version=image.version,
            py_version="py" + image.python.replace(".", ""),
            container_version=SPARK_CONTAINER_VERSION,
            instance_type="ml.m5.xlarge",
        )
    )


def _s3_input(name: str, source: Any, local_path: str, data_type: Any = "S3Prefix") -> Any:
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(s3_uri=source, local_path=local_path, s3_data_type=data_type, s3_input_mode="File"),
    )
