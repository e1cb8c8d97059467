"""The local runner executes the upserted definition's steps against moto, on small data."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest

from emulator.pipeline_runner import LocalPipelineRunner, StepResult
from emulator.sample_data import diabetes_csv, friedman_csv
from pipeline.cli import upsert
from pipeline.steps.reports import (
    EVALUATION_OUTPUT,
    REGISTRY_SECTIONS,
    SMOKE_CHECK_FILE,
    SMOKE_CHECK_METADATA,
    SPLIT_SCHEME,
    data_report_problems,
    evaluation_problems,
    model_quality_problems,
    smoke_check_problems,
)
from tests.pipeline.conftest import BUCKET, CONFIG, REGION
from tests.template_values import DATA_PREFIX, MANIFEST_PREFIX

DATA_KEY = f"{DATA_PREFIX}small diabetes.csv"


def start(definition: str, body: bytes, **parameters: str) -> str:
    upsert(CONFIG, definition)
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=DATA_KEY, Body=body)
    values = {"InputBucket": BUCKET, "InputKey": DATA_KEY, **parameters}
    response = boto3.client("sagemaker", region_name=REGION).start_pipeline_execution(
        PipelineName=CONFIG.pipeline_name,
        PipelineParameters=[{"Name": name, "Value": value} for name, value in values.items()],
        ClientRequestToken=str(uuid.uuid4()),
    )
    return str(response["PipelineExecutionArn"])


def model_packages() -> list[dict[str, Any]]:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    listed = sagemaker.list_model_packages(ModelPackageGroupName=CONFIG.model_package_group_name)
    return [
        dict(sagemaker.describe_model_package(ModelPackageName=item["ModelPackageArn"]))
        for item in listed["ModelPackageSummaryList"]
    ]


def read_s3_json(uri: str) -> Any:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return json.loads(boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read())


def read_s3_text(uri: str) -> str:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return str(boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read().decode())


def test_a_good_upload_ends_in_a_registered_model_with_its_evaluation(definition, served_bucket, image_environments):
    seen: list[StepResult] = []
    execution = start(definition, diabetes_csv(rows=300))

    result = LocalPipelineRunner(on_step=seen.append).run(execution)

    assert result.status == "Succeeded", result.failure_reason
    assert [(s.name, s.status) for s in result.steps] == [
        ("ChooseEngine", "Succeeded"),  # ProcessingEngine auto, and 300 rows are far below SparkThresholdBytes
        ("PreprocessSpark", "Skipped"),
        ("CheckDataSpark", "Skipped"),
        ("Preprocess", "Succeeded"),
        ("CheckData", "Succeeded"),
        ("DataRefused", "Skipped"),
        ("ChooseObjective", "Succeeded"),
        ("TrainMulticlass", "Skipped"),
        ("EvaluateMulticlass", "Skipped"),
        ("CheckQualityMulticlass", "Skipped"),
        ("Train", "Succeeded"),
        ("Evaluate", "Succeeded"),
        ("CheckQuality", "Succeeded"),
        ("QualityTooLow", "Skipped"),
        ("CheckChampion", "Succeeded"),
        ("CreateModel", "Succeeded"),
        ("RegisterModel", "Succeeded"),
    ]
    # progress was reported step by step: each step as it starts, then how it ended
    assert [s for s in seen if s.status != "Executing"] == result.steps
    assert [s.name for s in seen if s.status == "Executing"] == [s.name for s in result.steps if s.status != "Skipped"]
    [package] = model_packages()
    assert package["ModelPackageArn"] == result.model_package_arn
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    metrics = package["ModelMetrics"]
    # the registry gets Model Monitor's model-quality statistics, read back as Studio would read them
    quality = read_s3_json(metrics["ModelQuality"]["Statistics"]["S3Uri"])
    assert model_quality_problems(quality, "regression") == []
    evaluation = result.evaluation or {}
    assert quality["regression_metrics"]["rmse"]["value"] == pytest.approx(evaluation["metrics"]["rmse"])
    assert read_s3_json(metrics["ModelDataQuality"]["Statistics"]["S3Uri"]) == result.data_report
    execution_id = execution.rsplit("/", 1)[-1]
    assert metrics["ModelQuality"]["Statistics"]["S3Uri"].endswith(
        f"/runs/{execution_id}/evaluation/model_quality.json"
    )
    # the run report was drawn beside evaluation.json (its module shipped as the job's own input)
    assert evaluation["report"] == {"drawn": True, "file": "report.html"}
    assert metrics["Explainability"]["Report"]["S3Uri"].endswith(f"/runs/{execution_id}/evaluation/report.html")
    assert read_s3_text(metrics["Explainability"]["Report"]["S3Uri"]).startswith("<!DOCTYPE html>")
    # an inference pipeline: the features and labels containers on Preprocess's model data, XGBoost between
    features, model, labels = package["InferenceSpecification"]["Containers"]
    assert model["ModelDataUrl"].endswith("/output/model.tar.gz")
    assert features["ModelDataUrl"] == labels["ModelDataUrl"]
    assert features["ModelDataUrl"].endswith(f"/runs/{execution_id}/transform/model.tar.gz")
    assert [c.get("Environment", {}).get("RETRAIN_SERVING_STAGE") for c in (features, model, labels)] == [
        "features",
        None,
        "labels",
    ]
    assert features["Environment"]["SAGEMAKER_PROGRAM"] == "serving.py"
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    [model_name] = [item["ModelName"] for item in sagemaker.list_models()["Models"]]
    described = sagemaker.describe_model(ModelName=model_name)  # CreateModel made the same pipeline
    assert [c["Image"] for c in described["Containers"]] == [features["Image"], model["Image"], labels["Image"]]
    # what a deployment sends the staging endpoint, beside evaluation.json, named by the package
    smoke_uri = package["CustomerMetadataProperties"]["SmokeCheck"]
    assert smoke_uri.endswith(f"/runs/{execution_id}/evaluation/smoke_check.json")
    assert smoke_check_problems(read_s3_json(smoke_uri)) == []
    assert "xgboost 3.2.0" in next(s.detail for s in result.steps if s.name == "Train")  # the image's algorithm
    assert data_report_problems(result.data_report) == []
    assert evaluation_problems(result.evaluation) == []


def test_auto_preprocesses_small_data_with_pandas_and_data_over_the_threshold_with_spark_on_two_hosts(
    definition, served_bucket, image_environments, spark_python
):
    body = diabetes_csv(rows=300)
    size = {"InputBytes": str(len(body))}  # as the trigger counts it
    small = LocalPipelineRunner().run(start(definition, body, **size))
    large = LocalPipelineRunner().run(
        start(definition, body, **size, SparkThresholdBytes=str(len(body) - 1), TrainingInstanceCount="2")
    )

    assert small.status == large.status == "Succeeded", small.failure_reason + large.failure_reason
    ran = [[s.name for s in result.steps if s.status == "Succeeded"] for result in (small, large)]
    assert "Preprocess" in ran[0]
    assert "PreprocessSpark" not in ran[0]
    assert ran[1][:2] == ["ChooseEngine", "PreprocessSpark"]
    assert {"TrainSpark", "EvaluateSpark", "RegisterModelSpark"} <= set(ran[1])
    assert "Preprocess" not in ran[1]
    reports = [result.data_report or {} for result in (small, large)]
    assert [report["engine"] for report in reports] == ["pandas", "spark"]
    assert reports[0]["rows"] == reports[1]["rows"]  # the same rows in the same splits
    assert large.model_package_arn is not None
    assert "2 hosts" in next(s.detail for s in large.steps if s.name == "TrainSpark")


@pytest.mark.parametrize(
    ("dataset", "problem_type", "branch", "metric"),
    [
        ("diabetes", "regression", "", "r2"),
        ("breast_cancer", "binary", "", "auc"),
        ("iris", "multiclass", "Multiclass", "accuracy"),
        ("wine", "multiclass", "Multiclass", "accuracy"),
    ],
)
def test_scikit_learns_bundled_data_sets_are_registered_with_the_problem_type_they_are(  # noqa: PLR0917
    definition, served_bucket, image_environments, dataset, problem_type, branch, metric
):
    import sklearn.datasets

    frame = getattr(sklearn.datasets, f"load_{dataset}")(as_frame=True).frame
    execution = start(definition, frame.to_csv(index=False).encode())

    result = LocalPipelineRunner().run(execution)

    assert result.status == "Succeeded", result.failure_reason
    assert result.data_report["problem_type"]["chosen"] == problem_type  # type: ignore[index]
    assert f"RegisterModel{branch}" in [s.name for s in result.steps if s.status == "Succeeded"]
    evaluation = result.evaluation or {}
    assert evaluation["problem_type"] == problem_type
    assert evaluation["metrics"][metric] > evaluation["baseline_metrics"][metric]
    assert evaluation["gate"]["passed"] is True
    [package] = model_packages()
    assert package["ModelPackageArn"] == result.model_package_arn
    # Model Monitor's statistics for this problem type, read back from the package as the registry has them
    quality = read_s3_json(package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"])
    assert model_quality_problems(quality, problem_type) == []
    section = quality[REGISTRY_SECTIONS[problem_type]]
    assert section[metric]["value"] == pytest.approx(evaluation["metrics"][metric])
    if problem_type != "regression":
        names = sorted(evaluation["label_mapping"].values())
        assert sorted(section["confusion_matrix"]) == names  # the data's own labels
        assert (
            sum(map(sum, (row.values() for row in section["confusion_matrix"].values()))) == evaluation["rows"]["test"]
        )


def test_the_approval_status_parameter_reaches_the_registry(definition, served_bucket, image_environments):
    # MinR2 0: 150 rows may not reach the default gate, and the gate is not what is tested here
    execution = start(definition, diabetes_csv(rows=150), ModelApprovalStatus="Approved", MinR2="0")

    LocalPipelineRunner().run(execution)

    [package] = model_packages()
    assert package["ModelApprovalStatus"] == "Approved"


def test_a_gate_too_strict_ends_in_the_fail_step_with_its_reason_and_registers_nothing(
    definition, served_bucket, image_environments
):
    execution = start(definition, diabetes_csv(rows=300), MinR2="0.95", MseThreshold="1.5")

    result = LocalPipelineRunner().run(execution)

    assert result.status == "Failed"
    assert result.failure_step == "QualityTooLow"
    metrics = result.evaluation["metrics"]  # type: ignore[index]
    assert result.failure_reason == (
        f"model not good enough: R2 {metrics['r2']:.3f} is below MinR2 0.95; "
        f"MSE {metrics['mse']:.4g} > MseThreshold 1.5"
    )
    assert [(s.name, s.status) for s in result.steps][-2:] == [
        ("CheckChampion", "Skipped"),
        ("QualityTooLow", "Failed"),
    ]
    assert model_packages() == []


def test_data_without_the_target_column_fails_the_run_with_its_reason(definition, served_bucket, image_environments):
    execution = start(definition, b"age,sex,bmi\n" + b"50,1,22.1\n" * 30)

    result = LocalPipelineRunner().run(execution)

    assert result.status == "Failed"
    assert result.failure_step == "DataRefused"
    assert (
        result.failure_reason
        == "target column 'target' is missing in small diabetes.csv; its columns are: age, sex, bmi"
    )
    assert [s.name for s in result.steps if s.status != "Skipped"] == [
        "ChooseEngine",
        "Preprocess",
        "CheckData",
        "DataRefused",
    ]
    assert model_packages() == []


def test_the_problem_type_parameter_overrides_the_choice(definition, served_bucket, image_environments):
    execution = start(definition, diabetes_csv(rows=300), ProblemType="binary")

    result = LocalPipelineRunner().run(execution)

    assert result.status == "Failed"
    assert result.failure_reason.startswith("ProblemType binary needs exactly 2 distinct target values")


def test_a_missing_input_object_fails_with_its_location(definition, served_bucket, image_environments):
    upsert(CONFIG, definition)
    execution = boto3.client("sagemaker", region_name=REGION).start_pipeline_execution(
        PipelineName=CONFIG.pipeline_name,
        PipelineParameters=[{"Name": "InputBucket", "Value": BUCKET}, {"Name": "InputKey", "Value": "nope.csv"}],
        ClientRequestToken=str(uuid.uuid4()),
    )["PipelineExecutionArn"]

    result = LocalPipelineRunner().run(execution)

    assert result.status == "Failed"
    assert result.failure_reason == f"no object found at s3://{BUCKET}/nope.csv"


def test_a_run_over_a_burst_trains_on_every_object_its_manifest_lists(definition, served_bucket, image_environments):
    from trigger.parameter_mapping import BUNDLED_PIPELINE_MAPPING, parse_mapping
    from trigger.runs import RunShape, manifest_documents, run_for
    from trigger.uploads import UploadedObject

    s3 = boto3.client("s3", region_name=REGION)
    rows = diabetes_csv(rows=150).decode().splitlines()
    header, body = rows[0], rows[1:]
    parts = [body[:50], body[50:100], body[100:]]
    objects = []
    for n, part in enumerate(parts):
        key = f"{DATA_PREFIX}burst/part {n}.csv"
        s3.put_object(Bucket=BUCKET, Key=key, Body="\n".join([header, *part]).encode())
        objects.append(UploadedObject(bucket=BUCKET, key=key, event_name="ObjectCreated:Put", version_id=f"v{n}"))
    run = run_for(objects, RunShape(CONFIG.pipeline_name, parse_mapping(BUNDLED_PIPELINE_MAPPING), MANIFEST_PREFIX))
    folder = run.manifest_key.rsplit("/", 1)[0]  # type: ignore[union-attr]
    for name, document in manifest_documents(run).items():
        s3.put_object(Bucket=BUCKET, Key=f"{folder}/{name}", Body=document.encode())
    upsert(CONFIG, definition)
    execution = boto3.client("sagemaker", region_name=REGION).start_pipeline_execution(
        PipelineName=CONFIG.pipeline_name,
        # MinR2 0: 150 rows may not reach the default gate, and the gate is not what is tested here
        PipelineParameters=[{"Name": name, "Value": value} for name, value in {**run.parameters, "MinR2": "0"}.items()],
        ClientRequestToken=run.client_request_token,
    )["PipelineExecutionArn"]

    result = LocalPipelineRunner().run(execution)

    assert result.status == "Succeeded", result.failure_reason
    assert run.parameters["InputDataType"] == "ManifestFile"
    assert result.data_report["rows"]["used"] == 150  # type: ignore[index]  # all three parts
    assert [f["name"] for f in result.data_report["files"]] == ["part 0.csv", "part 1.csv", "part 2.csv"]  # type: ignore[index]


# -- champion / challenger -------------------------------------------------------------------------


def approve(package_arn: str | None) -> None:
    """What a reviewer does in the registry: this model goes to production."""
    boto3.client("sagemaker", region_name=REGION).update_model_package(
        ModelPackageArn=str(package_arn), ModelApprovalStatus="Approved"
    )


def test_no_champion_registers_and_records_the_lineage(definition, served_bucket, image_environments):
    execution = start(definition, diabetes_csv())

    result = LocalPipelineRunner().run(execution)

    assert result.evaluation["champion"] is None  # type: ignore[index]
    assert result.evaluation["decision"]["summary"].endswith("no model in production: registered")  # type: ignore[index]
    [package] = model_packages()
    report = result.data_report or {}
    metadata = dict(package["CustomerMetadataProperties"])
    smoke_check = f"/runs/{execution.rsplit('/', 1)[-1]}/{EVALUATION_OUTPUT}/{SMOKE_CHECK_FILE}"
    assert metadata.pop(SMOKE_CHECK_METADATA).endswith(smoke_check)
    assert metadata == {
        "ExecutionArn": execution,
        "TrainingData": "NewObjects",
        "Input": f"s3://{BUCKET}/{DATA_KEY}",
        "InputDataType": "S3Prefix",
        "ObjectCount": "1",
        "ObjectListSha256": report["lineage"]["objects_sha256"],
        "SplitScheme": SPLIT_SCHEME,
        "ChampionModelPackageArn": "none",
        "ChampionMetric": "none",
    }
    [trained] = report["lineage"]["objects"]
    body = diabetes_csv()
    assert trained == {"key": DATA_KEY, "size": len(body), "md5": hashlib.md5(body, usedforsecurity=False).hexdigest()}


def test_a_worse_challenger_is_not_registered_and_the_run_ends_normally(definition, served_bucket, image_environments):
    champion = LocalPipelineRunner().run(start(definition, friedman_csv()))
    approve(champion.model_package_arn)

    # the same records, their labels noisier
    challenger = LocalPipelineRunner().run(start(definition, friedman_csv(noise=5.0)))

    assert challenger.status == "Succeeded", challenger.failure_reason  # a normal outcome, not a failure
    assert challenger.model_package_arn is None
    evaluation = challenger.evaluation or {}
    ours, theirs = evaluation["metrics"]["rmse"], evaluation["champion"]["metrics"]["rmse"]
    assert ours > theirs
    assert evaluation["decision"]["summary"] == (
        f"not better than production (RMSE {ours:.4g} vs production {theirs:.4g}): not registered"
    )
    assert [s.status for s in challenger.steps if s.name in ("CheckChampion", "CreateModel")] == [
        "Succeeded",
        "Skipped",
    ]
    assert len(model_packages()) == 1


@pytest.mark.parametrize("auto_approve", ["false", "true"])
def test_a_better_challenger_is_registered_and_approved_when_auto_approve_is_on(
    definition, served_bucket, image_environments, auto_approve
):
    champion = LocalPipelineRunner().run(start(definition, friedman_csv(noise=5.0)))
    approve(champion.model_package_arn)

    challenger = LocalPipelineRunner().run(start(definition, friedman_csv(), AutoApprove=auto_approve))

    evaluation = challenger.evaluation or {}
    ours, theirs = evaluation["metrics"]["rmse"], evaluation["champion"]["metrics"]["rmse"]
    assert ours < theirs
    assert evaluation["decision"]["summary"] == f"RMSE {ours:.4g} vs production {theirs:.4g}: registered"
    package = next(p for p in model_packages() if p["ModelPackageArn"] == challenger.model_package_arn)
    assert package["ModelApprovalStatus"] == ("Approved" if auto_approve == "true" else "PendingManualApproval")
    assert package["CustomerMetadataProperties"]["ChampionModelPackageArn"] == champion.model_package_arn
    assert package["CustomerMetadataProperties"]["ChampionMetric"] == f"RMSE {theirs:.4g}"


CITY_EFFECT = {"lyon": 0.0, "nice": 3.0, "paris": 6.0, "lille": 3.0}


def with_city(body: bytes, cities: list[str], seed: int = 0) -> bytes:
    """The same records with a text column that moves the target (its value counts follow ``cities``)."""
    frame = pd.read_csv(io.BytesIO(body))
    frame.insert(0, "city", np.random.default_rng(seed).choice(cities, size=len(frame)))
    frame["target"] += frame["city"].map(CITY_EFFECT)
    return str(frame.to_csv(index=False)).encode()


def test_the_champion_is_compared_when_category_counts_shift_and_a_new_category_appears(
    definition, served_bucket, image_environments
):
    champion = LocalPipelineRunner().run(start(definition, with_city(friedman_csv(), ["lyon", "nice", "paris"])))
    approve(champion.model_package_arn)
    # other counts, so another frequency order, and a city the champion never saw
    shifted = ["paris"] * 5 + ["nice"] * 3 + ["lyon", "lille"]

    challenger = LocalPipelineRunner().run(start(definition, with_city(friedman_csv(noise=5.0), shifted, seed=1)))

    evaluation = challenger.evaluation or {}
    assert evaluation["champion"]["comparable"] is True, evaluation["champion"]["reason"]
    assert evaluation["champion"]["metrics"]["rmse"] < evaluation["metrics"]["rmse"]
    assert challenger.model_package_arn is None  # the noisy challenger did not replace production


def test_a_champion_that_cannot_be_compared_is_never_replaced_by_an_automatic_approval(
    definition, served_bucket, image_environments
):
    champion = LocalPipelineRunner().run(start(definition, with_city(friedman_csv(), ["lyon", "nice", "paris"])))
    approve(champion.model_package_arn)

    challenger = LocalPipelineRunner().run(start(definition, friedman_csv(), AutoApprove="true"))  # no city column

    evaluation = challenger.evaluation or {}
    assert evaluation["champion"]["comparable"] is False
    assert evaluation["decision"]["summary"].endswith(
        "production cannot be compared (it used column 'city' (category), which this run's data does not have "
        "as such): registered for review"
    )
    package = next(p for p in model_packages() if p["ModelPackageArn"] == challenger.model_package_arn)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"


@pytest.mark.parametrize(
    "old_scheme",
    # A deployment upgraded from the images whose split was pandas' row hash: its production model's
    # data report records no split scheme. Or from v1, whose Preprocess image read some numbers of
    # 16 digits or more to other doubles than float() does, and so split their rows otherwise.
    [None, "sha256-canonical-v1"],
)
def test_a_champion_split_under_another_scheme_is_registered_for_review_not_compared(
    definition, served_bucket, image_environments, old_scheme
):
    champion = LocalPipelineRunner().run(start(definition, friedman_csv(noise=5.0)))
    approve(champion.model_package_arn)
    [package] = model_packages()
    report_uri = package["ModelMetrics"]["ModelDataQuality"]["Statistics"]["S3Uri"]
    old_report = read_s3_json(report_uri)
    if old_scheme:
        old_report["split"]["scheme"] = old_scheme
    else:
        del old_report["split"]["scheme"]
    bucket, key = report_uri.removeprefix("s3://").split("/", 1)
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=key, Body=json.dumps(old_report).encode())

    challenger = LocalPipelineRunner().run(start(definition, friedman_csv(), AutoApprove="true"))

    evaluation = challenger.evaluation or {}
    assert evaluation["champion"]["comparable"] is False
    assert evaluation["decision"]["summary"].endswith(
        f"production cannot be compared (its rows were split by scheme {old_scheme or 'pandas-hash'}, this run's by "
        f"{SPLIT_SCHEME}: "
        "some of this run's test rows may be rows it was trained on): registered for review"
    )
    package = next(p for p in model_packages() if p["ModelPackageArn"] == challenger.model_package_arn)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"  # AutoApprove does not apply
    assert package["CustomerMetadataProperties"]["SplitScheme"] == SPLIT_SCHEME
