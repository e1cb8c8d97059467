"""The AWS samples' abalone pipeline (examples/abalone: their shape, their images, scikit-learn 1.2-1 and
XGBoost 1.7-1), end to end on the local stack with IAM enforcement: an upload starts it with the mapped
InputData, every step runs as SageMaker runs it (the output folders made before Preprocess, the group
created by RegisterModel, the batch transform served by the XGBoost 1.7-1 container), and the user is
told what happened: the registered version, the transform's output."""

from __future__ import annotations

import boto3
import numpy as np
import pytest

from emulator.demo import read_notifications
from emulator.moto_server import REGION
from emulator.pipeline_runner import LocalPipelineRunner
from emulator.status_events import record_in_moto, status_change_event
from emulator.step_environments import create
from examples.abalone.pipeline import MODEL_PACKAGE_GROUP, PIPELINE_NAME, definition_json, upload_code
from pipeline.images import SAMPLE_IMAGES
from tests.integration.test_ops_cli import cli
from tests.integration.test_own_pipeline import create_pipeline_of
from tests.template_values import DATA_PREFIX

pytestmark = pytest.mark.end_to_end

CHECK = "CheckMSEAbaloneEvaluation"
ONE_UPLOAD = {"PipelineName": PIPELINE_NAME, "PipelineParameters": "InputData={uri}", "MaxObjectsPerRun": "1"}


def abalone_csv(rows: int, seed: int = 0) -> bytes:
    """Rows shaped as the UCI abalone data (no header: sex, seven measurements, rings)."""
    rng = np.random.default_rng(seed)
    rings = rng.integers(3, 20, size=rows)
    length = 0.2 + rings * 0.025 + rng.normal(0, 0.02, rows)
    lines = [
        f"{rng.choice(['M', 'F', 'I'])},{lg:.3f},{lg * 0.8:.3f},{lg * 0.3:.3f},"
        f"{lg**3 * 4:.4f},{lg**3 * 1.8:.4f},{lg**3 * 0.9:.4f},{lg**3 * 1.2:.4f},{r}"
        for lg, r in zip(length, rings, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("local_run", [ONE_UPLOAD], indirect=True)
def test_the_abalone_sample_runs_unchanged_registers_and_transforms_and_says_so(local_run, capsys, tmp_path):
    for image in SAMPLE_IMAGES:
        create(image, say=None)
    deployment = local_run.deployment
    create_pipeline_of(local_run, PIPELINE_NAME, definition_json, upload_code)
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=deployment.bucket, Key=f"{DATA_PREFIX}abalone.csv", Body=abalone_csv(400))
    local_run.event_source.drain()

    [execution] = local_run.targets.executions()
    result = LocalPipelineRunner().run(execution["PipelineExecutionArn"])
    assert result.status == "Succeeded", result.failure_reason
    ran = [step.name for step in result.steps if step.status == "Succeeded"]
    assert ran[:4] == [
        "PreprocessAbaloneData",
        "TrainAbaloneModel",
        "EvaluateAbaloneModel",
        "CheckMSEAbaloneEvaluation",
    ]
    assert set(ran[4:]) == {"RegisterAbaloneModel", "CreateAbaloneModel", "AbaloneTransform"}

    # the transform's output, as SageMaker names it: <input file>.out, one prediction per row sent
    batch = s3.get_object(Bucket=deployment.bucket, Key="abalone/batch/batch.csv")["Body"].read().decode()
    out = s3.get_object(Bucket=deployment.bucket, Key="abalone/transform/batch.csv.out")["Body"].read().decode()
    predictions = [float(line) for line in out.split()]
    assert len(predictions) == len(batch.splitlines())
    assert all(3 <= value <= 20 for value in predictions)
    [package] = boto3.client("sagemaker", region_name=REGION).list_model_packages(
        ModelPackageGroupName=MODEL_PACKAGE_GROUP
    )["ModelPackageSummaryList"]
    assert package["ModelPackageStatus"] == "Completed"

    record_in_moto(result)
    read_notifications(deployment.inbox_queue_url)
    local_run.run_ended.lambda_handler(
        status_change_event(result), deployment.stack.lambda_context("RunStatusFunction")
    )
    [told] = read_notifications(deployment.inbox_queue_url)
    # a model package's ARN names its group in lower case, on AWS as in moto
    assert f"Registered: {MODEL_PACKAGE_GROUP.lower()} version 1 (" in told["Message"]
    capsys.readouterr()
    assert cli(local_run, "--bucket", deployment.bucket, "report", "--to", str(tmp_path)) == 0
    said = capsys.readouterr().out.splitlines()
    did = {line.split()[0]: line for line in said[1:]}
    assert did["RegisterAbaloneModel"].endswith("version 1 (PendingManualApproval)")
    assert did["AbaloneTransform"].split()[1] == "Succeeded"
    # the metrics the evaluation wrote in its property file, under its step
    mse = result.property_files["EvaluateAbaloneModel.EvaluationReport"]["regression_metrics"]["mse"]["value"]
    evaluated = said.index(did["EvaluateAbaloneModel"])
    assert said[evaluated + 1].split() == ["regression_metrics.mse.value", f"{mse:g}"]
    assert said[evaluated + 2].split()[0] == "regression_metrics.mse.standard_deviation"
