"""What the pipeline definition depends on: names, places and the execution role."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

STEPS_DIR = Path(__file__).resolve().parent / "steps"
# The step scripts, the module Evaluate draws its run report with, and the endpoint's serving script
# (Preprocess packs it into the model data): `upsert` uploads each one.
STEP_SCRIPTS = (
    "preprocess.py",
    "preprocess_spark.py",
    "evaluate.py",
    "run_report.py",
    "serving.py",
    "data_quality.py",
)

# Where runs write their artefacts in the data bucket. Outside DataPrefix, so that the CSV splits
# a run writes never start another run.
ARTIFACTS_PREFIX = "pipeline-artifacts"
RUNS_FOLDER = "runs"  # each execution writes under <artifacts>/runs/<execution id>/


def runs_prefix(pipeline_name: str) -> str:
    """The key prefix of every run's folder (the template passes it to RunStatusFunction as RUNS_PREFIX)."""
    return f"{ARTIFACTS_PREFIX}/{pipeline_name}/{RUNS_FOLDER}/"


@dataclass(frozen=True)
class PipelineConfig:
    """Everything environment-specific. Same values, same definition, byte for byte."""

    region: str
    role_arn: str
    default_bucket: str
    pipeline_name: str = "retrain-pipeline"
    model_package_group_name: str = "retrain-models"
    target_column: str = "target"
    # Defaults of the pipeline parameters that decide what is trained and what is registered.
    problem_type: str = "auto"  # auto | regression | binary | multiclass
    min_r2: float = 0.1  # regression: R2 on the test split (the training mean scores about 0)
    min_auc: float = 0.6  # binary: AUC on the test split (the baseline scores 0.5)
    min_accuracy_lift: float = 0.05  # multiclass: accuracy above always predicting the majority class
    mse_threshold: float = 0.0  # regression: an absolute MSE ceiling as well; 0 = off
    # Against the model in production (the latest Approved package of the group).
    min_improvement: float = 0.0  # relative: 0.01 = the new model must be 1% better; 0 = not worse
    auto_approve: bool = False  # approve a new model that passes and beats production
    id_column: str = ""  # assign rows to splits by this column (default: the row's features)
    # Which Preprocess runs: pandas on one instance, or Spark on ProcessingInstanceCount instances;
    # auto: Spark when the run's input (InputBytes) is larger than spark_threshold_bytes.
    processing_engine: str = "auto"  # auto | pandas | spark
    spark_threshold_bytes: int = 1024**3
    # Train's instances; Preprocess writes each split as one part file per instance.
    training_instance_count: int = 1

    @property
    def artifacts_uri(self) -> str:
        return f"s3://{self.default_bucket}/{ARTIFACTS_PREFIX}/{self.pipeline_name}"

    def code_uri(self, script: str) -> str:
        """Content-addressed: changing a script changes the definition, and `upsert` updates it."""
        digest = hashlib.sha256((STEPS_DIR / script).read_bytes()).hexdigest()[:16]
        return f"{self.artifacts_uri}/code/{digest}/{script}"
