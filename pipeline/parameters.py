"""The pipeline's parameters, each declared once: name, type, default, allowed values and what it does.

The definition declares them from this table, `python -m pipeline` makes an option of each one
whose default is configurable (`--min-r2` sets MinR2's default), and the step scripts receive them
under the same option names. The names are the contract: triggers pass InputBucket and InputKey.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.steps.reports import REQUESTABLE_PROBLEM_TYPES, TRAINING_DATA

PROCESSING_ENGINES = ("auto", "pandas", "spark")

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig


@dataclass(frozen=True)
class Parameter:
    name: str  # as the definition names it: the contract
    kind: str  # String | Float | Integer, as SageMaker types it
    help: str
    config_field: str | None = None  # the PipelineConfig field that holds its default (an option of the CLI)
    default: str | int | None = None  # a fixed default; None with no config field: a run must give it
    choices: tuple[str, ...] = ()

    @property
    def option(self) -> str:
        """`MinAccuracyLift` -> `--min-accuracy-lift`: the CLI's and the step scripts' name for it."""
        return "--" + re.sub(r"(?<!^)(?=[A-Z])", "-", self.name).lower()

    def default_in(self, config: PipelineConfig) -> Any:
        """Its default in the definition built from ``config``."""
        if self.config_field is None:
            return self.default
        value = getattr(config, self.config_field)
        return str(value).lower() if isinstance(value, bool) else value


PARAMETERS = (
    Parameter("InputBucket", "String", "the bucket of the data (the contract with every trigger)"),
    Parameter("InputKey", "String", "the data's key or prefix, or the manifest's key (the contract)"),
    Parameter(
        "InputDataType",
        "String",
        "S3Prefix: InputKey is the data; ManifestFile: it lists the data",
        default="S3Prefix",
        choices=("S3Prefix", "ManifestFile"),
    ),
    Parameter("TargetColumn", "String", "TargetColumn: the column to predict", config_field="target_column"),
    Parameter(
        "ProblemType",
        "String",
        "ProblemType: auto, regression, binary or multiclass",
        config_field="problem_type",
        choices=REQUESTABLE_PROBLEM_TYPES,
    ),
    Parameter(
        "ModelApprovalStatus",
        "String",
        "the approval status of a registered model that AutoApprove does not approve",
        default="PendingManualApproval",
    ),
    Parameter("MinR2", "Float", "MinR2: regression needs at least this R2 on the test split", config_field="min_r2"),
    Parameter("MinAuc", "Float", "MinAuc: binary classification needs at least this AUC", config_field="min_auc"),
    Parameter(
        "MinAccuracyLift",
        "Float",
        "MinAccuracyLift: multiclass accuracy above the majority class",
        config_field="min_accuracy_lift",
    ),
    Parameter(
        "MseThreshold",
        "Float",
        "MseThreshold: an absolute MSE ceiling for regression; 0 turns it off",
        config_field="mse_threshold",
    ),
    Parameter(
        "MinImprovement",
        "Float",
        "MinImprovement: how much better than production, relative (0.01 = 1%; 0: not worse)",
        config_field="min_improvement",
    ),
    Parameter(
        "AutoApprove",
        "String",
        "AutoApprove: approve a new model that beats production",
        config_field="auto_approve",
        choices=("false", "true"),
    ),
    Parameter(
        "IdColumn",
        "String",
        "IdColumn: split rows by this column instead of their feature values",
        config_field="id_column",
    ),
    Parameter(
        "TrainingData",
        "String",
        "what the trigger gave the run (recorded in the model's lineage)",
        default=TRAINING_DATA[0],
        choices=TRAINING_DATA,
    ),
    Parameter(
        "InputBytes",
        "Integer",
        "the total size of what the run reads, in bytes, as the trigger counted it; 0: not known",
        default=0,
    ),
    Parameter(
        "ProcessingEngine",
        "String",
        "ProcessingEngine: pandas (one instance), spark (ProcessingInstanceCount instances), or auto: "
        "spark when InputBytes is over SparkThresholdBytes",
        config_field="processing_engine",
        choices=PROCESSING_ENGINES,
    ),
    Parameter(
        "SparkThresholdBytes",
        "Integer",
        "SparkThresholdBytes: with ProcessingEngine auto, a run reading more bytes than this preprocesses with Spark",
        config_field="spark_threshold_bytes",
    ),
    Parameter("ProcessingInstanceType", "String", "instance type of Preprocess and Evaluate", default="ml.m5.xlarge"),
    Parameter("ProcessingInstanceCount", "Integer", "instance count of the Spark Preprocess", default=1),
    Parameter(
        "ProcessingVolumeSizeInGB",
        "Integer",
        "disk of each Preprocess and Evaluate instance, in GB: each Preprocess instance downloads the whole input",
        default=30,
    ),
    Parameter("TrainingInstanceType", "String", "instance type of Train", default="ml.m5.xlarge"),
    Parameter(
        "TrainingInstanceCount",
        "Integer",
        "TrainingInstanceCount: instance count of Train; Preprocess writes each split as this many part files",
        config_field="training_instance_count",
    ),
)

BY_NAME = {parameter.name: parameter for parameter in PARAMETERS}
CONFIGURABLE = tuple(parameter for parameter in PARAMETERS if parameter.config_field)

# What each step script receives, by parameter name (as `--option value`).
PREPROCESS_ARGUMENTS = ("TargetColumn", "ProblemType", "IdColumn")
EVALUATE_ARGUMENTS = (
    "MinR2",
    "MinAuc",
    "MinAccuracyLift",
    "MseThreshold",
    "MinImprovement",
    "AutoApprove",
    "ModelApprovalStatus",
)
