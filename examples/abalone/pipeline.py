"""The abalone pipeline, built with the SageMaker Python SDK v3: Preprocess (scikit-learn 1.2-1) ->
Train (the built-in XGBoost 1.7-1 algorithm) -> Evaluate (XGBoost 1.7-1) -> CheckMSE -> RegisterModel and
CreateModel -> Transform (batch transform of the test rows), or Fail when the MSE is over the threshold.

Its parameters are the samples': ProcessingInstanceType, ProcessingInstanceCount, TrainingInstanceType,
ModelApprovalStatus, InputData (an s3:// URI of CSVs) and MseThreshold. Map one upload with
`PipelineParameters="InputData={uri}"` and `MaxObjectsPerRun=1`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from pipeline.definition import _offline_sdk as offline_sdk  # the same offline set-up as the bundled pipeline
from pipeline.definition import _refuse_requests as refuse_requests
from pipeline.images import SKLEARN_1_2, XGBOOST_1_7, StepImage

PIPELINE_NAME = "abalone"
MODEL_PACKAGE_GROUP = "AbalonePackageGroup"
STEPS_DIR = Path(__file__).resolve().parent / "steps"
CODE_PREFIX = "abalone/code"
BASE = "/opt/ml/processing"
SPLITS = ("train", "validation", "test", "batch")
# The samples' hyperparameters for the built-in algorithm (objective reg:linear in the samples; its
# name since XGBoost 1.0 is reg:squarederror, which 1.7 reads the same way).
HYPERPARAMETERS = {
    "objective": "reg:squarederror",
    "num_round": "50",
    "max_depth": "5",
    "eta": "0.2",
    "gamma": "4",
    "min_child_weight": "6",
    "subsample": "0.7",
}
DEFAULTS = {
    "ProcessingInstanceType": "ml.m5.xlarge",
    "ProcessingInstanceCount": 1,
    "TrainingInstanceType": "ml.m5.xlarge",
    "ModelApprovalStatus": "PendingManualApproval",
    "InputData": "s3://sagemaker-sample-files/datasets/tabular/uci_abalone/abalone.csv",
    "MseThreshold": 6.0,
}


def upload_code(bucket: str, s3: Any | None = None) -> list[str]:
    """Put the step scripts where the definition says they are; their URIs."""
    s3 = s3 or boto3.client("s3")
    for script in sorted(STEPS_DIR.glob("*.py")):
        s3.put_object(Bucket=bucket, Key=f"{CODE_PREFIX}/{script.name}", Body=script.read_bytes())
    return [f"s3://{bucket}/{CODE_PREFIX}/{script.name}" for script in sorted(STEPS_DIR.glob("*.py"))]


def definition_json(role_arn: str, bucket: str, region: str, name: str = PIPELINE_NAME) -> str:
    with offline_sdk(region):
        return str(_Builder(role_arn, bucket, region).pipeline(name).definition())


class _Builder:
    def __init__(self, role_arn: str, bucket: str, region: str) -> None:
        from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
        from sagemaker.core.workflow.pipeline_context import PipelineSession

        boto_session = boto3.Session(region_name=region)
        boto_session.events.register("before-send", refuse_requests)
        self.session = PipelineSession(boto_session=boto_session, default_bucket=bucket)
        self.role_arn, self.bucket, self.region = role_arn, bucket, region
        kinds = {"ProcessingInstanceCount": ParameterInteger, "MseThreshold": ParameterFloat}
        self.parameters = {
            name: kinds.get(name, ParameterString)(name=name, default_value=default)
            for name, default in DEFAULTS.items()
        }

    def image(self, image: StepImage) -> str:
        from sagemaker.core import image_uris

        return str(image_uris.retrieve(framework=image.framework, region=self.region, version=image.version))

    def pipeline(self, name: str) -> Any:
        from sagemaker.mlops.workflow import Pipeline

        preprocess = self.preprocess()
        train = self.train(preprocess)
        evaluate, evaluation = self.evaluate(preprocess, train)
        check = self.check(evaluate, evaluation, [*self.register_and_transform(preprocess, train)])
        steps = [preprocess, train, evaluate, check]
        return Pipeline(
            name=name, parameters=list(self.parameters.values()), steps=steps, sagemaker_session=self.session
        )

    def preprocess(self) -> Any:
        from sagemaker.mlops.workflow import ProcessingStep

        processor = self.processor(
            SKLEARN_1_2, self.parameters["ProcessingInstanceType"], self.parameters["ProcessingInstanceCount"]
        )
        return ProcessingStep(
            name="PreprocessAbaloneData",
            step_args=processor.run(
                inputs=[_s3_input("input", self.parameters["InputData"], f"{BASE}/input")],
                outputs=[self.output(split) for split in SPLITS],
                code=f"s3://{self.bucket}/{CODE_PREFIX}/preprocess.py",
            ),
        )

    def train(self, preprocess: Any) -> Any:
        from sagemaker.mlops.workflow import TrainingStep
        from sagemaker.train import ModelTrainer
        from sagemaker.train.configs import Compute, InputData, OutputDataConfig, S3DataSource

        trainer = ModelTrainer(
            training_image=self.image(XGBOOST_1_7),
            compute=Compute(instance_type=self.parameters["TrainingInstanceType"], instance_count=1),
            role=self.role_arn,
            sagemaker_session=self.session,
            base_job_name="abalone-train",
            hyperparameters=HYPERPARAMETERS,
            output_data_config=OutputDataConfig(s3_output_path=f"s3://{self.bucket}/abalone/models"),
            input_data_config=[
                InputData(
                    channel_name=channel,
                    data_source=S3DataSource(s3_data_type="S3Prefix", s3_uri=_uri(preprocess, channel)),
                    content_type="text/csv",
                )
                for channel in ("train", "validation")
            ],
        )
        return TrainingStep(name="TrainAbaloneModel", step_args=trainer.train())

    def evaluate(self, preprocess: Any, train: Any) -> tuple[Any, Any]:
        from sagemaker.core.workflow.properties import PropertyFile
        from sagemaker.mlops.workflow import ProcessingStep

        evaluation = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
        processor = self.processor(XGBOOST_1_7, self.parameters["ProcessingInstanceType"], 1)
        step = ProcessingStep(
            name="EvaluateAbaloneModel",
            step_args=processor.run(
                inputs=[
                    _s3_input("model", train.properties.ModelArtifacts.S3ModelArtifacts, f"{BASE}/model"),
                    _s3_input("test", _uri(preprocess, "test"), f"{BASE}/test"),
                ],
                outputs=[self.output("evaluation")],
                code=f"s3://{self.bucket}/{CODE_PREFIX}/evaluate.py",
            ),
            property_files=[evaluation],
        )
        return step, evaluation

    def check(self, evaluate: Any, evaluation: Any, passed: list[Any]) -> Any:
        from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
        from sagemaker.core.workflow.functions import Join, JsonGet
        from sagemaker.mlops.workflow import ConditionStep, FailStep

        mse = JsonGet(step_name=evaluate.name, property_file=evaluation, json_path="regression_metrics.mse.value")
        fail = FailStep(
            name="AbaloneMSEFail",
            error_message=Join(on=" ", values=["Execution failed due to MSE >", self.parameters["MseThreshold"]]),
        )
        return ConditionStep(
            name="CheckMSEAbaloneEvaluation",
            conditions=[ConditionLessThanOrEqualTo(left=mse, right=self.parameters["MseThreshold"])],
            if_steps=passed,
            else_steps=[fail],
        )

    def register_and_transform(self, preprocess: Any, train: Any) -> list[Any]:
        from sagemaker.core.resources import Model
        from sagemaker.core.shapes import ContainerDefinition
        from sagemaker.core.transformer import Transformer
        from sagemaker.mlops.workflow import ModelStep, TransformStep
        from sagemaker.serve.model_builder import ModelBuilder

        artifacts = train.properties.ModelArtifacts.S3ModelArtifacts
        container = ContainerDefinition(image=self.image(XGBOOST_1_7), model_data_url=artifacts)
        model = ModelBuilder(
            model=[Model(model_name=PIPELINE_NAME, primary_container=container)],
            s3_model_data_url=artifacts,
            sagemaker_session=self.session,
            role_arn=self.role_arn,
        )
        register = ModelStep(
            name="RegisterAbaloneModel",
            step_args=model.register(
                model_package_group_name=MODEL_PACKAGE_GROUP,
                content_types=["text/csv"],
                response_types=["text/csv"],
                inference_instances=["ml.t2.medium", "ml.m5.large"],
                transform_instances=["ml.m5.large"],
                approval_status=self.parameters["ModelApprovalStatus"],
            ),
        )
        create = ModelStep(name="CreateAbaloneModel", step_args=model.build())
        transformer = Transformer(
            model_name=create.properties.ModelName,
            instance_type="ml.m5.xlarge",
            instance_count=1,
            output_path=f"s3://{self.bucket}/abalone/transform",
            sagemaker_session=self.session,
        )
        transform = TransformStep(
            name="AbaloneTransform",
            step_args=transformer.transform(data=_uri(preprocess, "batch"), content_type="text/csv"),
        )
        return [register, create, transform]

    def processor(self, image: StepImage, kind: Any, instances: Any) -> Any:
        from sagemaker.core.processing import ScriptProcessor

        return ScriptProcessor(
            image_uri=self.image(image),
            command=["python3"],
            instance_type=kind,
            instance_count=instances,
            role=self.role_arn,
            sagemaker_session=self.session,
        )

    def output(self, name: str) -> Any:
        from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

        s3 = ProcessingS3Output(
            s3_uri=f"s3://{self.bucket}/abalone/{name}", local_path=f"{BASE}/{name}", s3_upload_mode="EndOfJob"
        )
        return ProcessingOutput(output_name=name, s3_output=s3)


def _uri(step: Any, output: str) -> Any:
    return step.properties.ProcessingOutputConfig.Outputs[output].S3Output.S3Uri


def _s3_input(name: str, source: Any, local: str) -> Any:
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    s3 = ProcessingS3Input(s3_uri=source, local_path=local, s3_data_type="S3Prefix", s3_input_mode="File")
    return ProcessingInput(input_name=name, s3_input=s3)
