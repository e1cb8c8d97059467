"""The example pipeline: Prepare -> Fit, both on the scikit-learn 1.9-0 image.

Its parameters are the ones a pipeline of one's own typically has: ProcessingInstanceCount,
TrainingInstanceType, ModelApprovalStatus and InputDataUrl (one s3:// URI). Map them with
`PipelineParameters="InputDataUrl={uri},TrainingInstanceType=ml.m5.2xlarge"` and `MaxObjectsPerRun=1`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from pipeline.definition import _offline_sdk as offline_sdk  # the same offline set-up as the bundled pipeline
from pipeline.definition import _refuse_requests as refuse_requests
from pipeline.images import SKLEARN

PIPELINE_NAME = "abalone-style"
STEPS_DIR = Path(__file__).resolve().parent / "steps"
CODE_PREFIX = "own-pipeline/code"
PREPARED = "/opt/ml/processing/prepared"
DEFAULTS = {
    "ProcessingInstanceCount": 1,
    "TrainingInstanceType": "ml.m5.xlarge",
    "ModelApprovalStatus": "PendingManualApproval",
    "InputDataUrl": "s3://sagemaker-sample-files/datasets/tabular/uci_abalone/abalone.csv",
}


def code_uri(bucket: str, script: str) -> str:
    return f"s3://{bucket}/{CODE_PREFIX}/{script}"


def upload_code(bucket: str, s3: Any | None = None) -> list[str]:
    """Put the step scripts where the definition says they are; their URIs."""
    s3 = s3 or boto3.client("s3")
    for script in sorted(STEPS_DIR.glob("*.py")):
        s3.put_object(Bucket=bucket, Key=f"{CODE_PREFIX}/{script.name}", Body=script.read_bytes())
    return [code_uri(bucket, script.name) for script in sorted(STEPS_DIR.glob("*.py"))]


def definition_json(role_arn: str, bucket: str, region: str, name: str = PIPELINE_NAME) -> str:
    with offline_sdk(region):
        return str(_build(role_arn, bucket, region, name).definition())


def _build(role_arn: str, bucket: str, region: str, name: str) -> Any:
    from sagemaker.core import image_uris
    from sagemaker.core.workflow.parameters import ParameterInteger, ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow import Pipeline, ProcessingStep

    boto_session = boto3.Session(region_name=region)
    boto_session.events.register("before-send", refuse_requests)
    session = PipelineSession(boto_session=boto_session, default_bucket=bucket)
    count = ParameterInteger(name="ProcessingInstanceCount", default_value=DEFAULTS["ProcessingInstanceCount"])
    instance_type = ParameterString(name="TrainingInstanceType", default_value=DEFAULTS["TrainingInstanceType"])
    approval = ParameterString(name="ModelApprovalStatus", default_value=DEFAULTS["ModelApprovalStatus"])
    data = ParameterString(name="InputDataUrl", default_value=DEFAULTS["InputDataUrl"])
    image = image_uris.retrieve(framework=SKLEARN.framework, region=region, version=SKLEARN.version)
    prepare = ProcessingStep(
        name="Prepare",
        step_args=_processor(image, "ml.m5.xlarge", count, role_arn, session).run(
            inputs=[_s3_input(data, "/opt/ml/processing/input/data")],
            outputs=[_output(bucket, "prepared", PREPARED)],
            code=code_uri(bucket, "prepare.py"),
        ),
    )
    prepared = prepare.properties.ProcessingOutputConfig.Outputs["prepared"].S3Output.S3Uri
    fit = ProcessingStep(
        name="Fit",
        step_args=_processor(image, instance_type, 1, role_arn, session).run(
            inputs=[_s3_input(prepared, PREPARED)],
            outputs=[_output(bucket, "metrics", "/opt/ml/processing/metrics")],
            code=code_uri(bucket, "fit.py"),
            arguments=["--approval-status", approval],
        ),
    )
    return Pipeline(
        name=name, parameters=[count, instance_type, approval, data], steps=[prepare, fit], sagemaker_session=session
    )


def _processor(image: str, kind: Any, instances: Any, role_arn: str, session: Any) -> Any:
    from sagemaker.core.processing import ScriptProcessor

    return ScriptProcessor(
        image_uri=image,
        command=["python3"],
        instance_type=kind,
        instance_count=instances,
        role=role_arn,
        sagemaker_session=session,
    )


def _output(bucket: str, folder: str, local: str) -> Any:
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

    s3 = ProcessingS3Output(s3_uri=f"s3://{bucket}/own-pipeline/{folder}", local_path=local, s3_upload_mode="EndOfJob")
    return ProcessingOutput(output_name=folder, s3_output=s3)


def _s3_input(source: Any, local: str) -> Any:
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    s3 = ProcessingS3Input(s3_uri=source, local_path=local, s3_data_type="S3Prefix", s3_input_mode="File")
    return ProcessingInput(input_name=local.rsplit("/", 1)[-1], s3_input=s3)
