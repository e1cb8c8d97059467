"""A registered model served as its containers serve it: InvokeEndpoint through moto's server reaches the
model's three containers, each in its image's look-alike (emulator/endpoint_containers.py).

One run registers a classification model on rows as users have them; its model is served on three
endpoints: the whole inference pipeline, the features container alone, the XGBoost container alone
(each a model CreateModel makes, as a user deploying one container would)."""

from __future__ import annotations

import io
import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from emulator import invoke_endpoint
from emulator.endpoint_containers import LocalFleets
from emulator.moto_server import running_moto_server
from emulator.pipeline_runner import LocalPipelineRunner
from emulator.step_environments import python_for
from pipeline.cli import upsert
from tests.pipeline.conftest import BUCKET, CONFIG, REGION
from tests.template_values import DATA_PREFIX

# Its module-scoped fixtures are built once: every test of the file runs on the same worker.
pytestmark = pytest.mark.xdist_group("test_serving")

PIPELINE, FEATURES, XGBOOST = "churn-pipeline", "churn-features", "churn-xgboost"


def churn(rows: int = 300) -> pd.DataFrame:
    """Rows as a user has them: a category, a date, decimals, a missing value, a text target."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows).astype(float),
            "plan": rng.choice(["basic", "pro", "max"], rows),
            "spend": rng.normal(50, 20, rows).round(2),
            "joined": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
        }
    )
    frame.loc[::13, "age"] = np.nan
    frame["churn"] = np.where((frame["spend"] > 50) ^ (frame["plan"] == "pro"), "leaves", "stays")
    return frame


@dataclass
class Served:
    package: dict[str, Any]
    smoke: dict[str, Any]
    frame: pd.DataFrame
    runtime: Any

    def invoke(self, endpoint: str, body: bytes | str, content_type: str = "text/csv", accept: str = "text/csv") -> Any:
        data = body.encode("utf-8") if isinstance(body, str) else body
        return self.runtime.invoke_endpoint(EndpointName=endpoint, Body=data, ContentType=content_type, Accept=accept)

    def answer(self, endpoint: str, body: bytes | str, **options: str) -> str:
        return str(self.invoke(endpoint, body, **options)["Body"].read().decode("utf-8"))

    def refusal(self, endpoint: str, body: bytes | str, **options: str) -> tuple[int, str]:
        with pytest.raises(ClientError) as raised:
            self.invoke(endpoint, body, **options)
        response: Any = raised.value.response
        assert response["Error"]["Code"] == "ModelError", response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
        return int(response["OriginalStatusCode"]), str(response["OriginalMessage"])


def _run_and_register(frame: pd.DataFrame, definition: str) -> dict[str, Any]:
    s3, sagemaker = boto3.client("s3", region_name=REGION), boto3.client("sagemaker", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    upsert(CONFIG, definition)
    key = f"{DATA_PREFIX}churn.csv"
    s3.put_object(Bucket=BUCKET, Key=key, Body=frame.to_csv(index=False).encode())
    values = {"InputBucket": BUCKET, "InputKey": key, "TargetColumn": "churn"}
    execution = sagemaker.start_pipeline_execution(
        PipelineName=CONFIG.pipeline_name,
        PipelineParameters=[{"Name": name, "Value": value} for name, value in values.items()],
        ClientRequestToken=str(uuid.uuid4()),
    )["PipelineExecutionArn"]
    result = LocalPipelineRunner().run(execution)
    assert result.status == "Succeeded", result.failure_reason
    return dict(sagemaker.describe_model_package(ModelPackageName=str(result.model_package_arn)))


def _serve(fleets: LocalFleets, package: dict[str, Any]) -> None:
    """The package as one model (as the deploy function makes it), and its first two containers alone."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    role = CONFIG.role_arn
    sagemaker.create_model(
        ModelName=PIPELINE, ExecutionRoleArn=role, Containers=[{"ModelPackageName": package["ModelPackageArn"]}]
    )
    features, model, _ = package["InferenceSpecification"]["Containers"]
    for name, container in ((FEATURES, features), (XGBOOST, model)):
        own: Any = {key: container[key] for key in ("Image", "ModelDataUrl", "Environment") if key in container}
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=role, PrimaryContainer=own)
    for name in (PIPELINE, FEATURES, XGBOOST):
        fleets.serve(name, [("AllTraffic", name, 1.0)])


@pytest.fixture(scope="module")
def served(definition: str, image_environments: None) -> Iterator[Served]:
    frame = churn()
    with running_moto_server():
        package = _run_and_register(frame, definition)
        fleets = LocalFleets()
        invoke_endpoint.install(fleets)
        try:
            _serve(fleets, package)
            smoke_uri = package["CustomerMetadataProperties"]["SmokeCheck"]
            bucket, _, key = smoke_uri.removeprefix("s3://").partition("/")
            smoke = json.loads(boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read())
            yield Served(package, smoke, frame, boto3.client("sagemaker-runtime", region_name=REGION))
        finally:
            invoke_endpoint.uninstall()
            fleets.close()


def _xgboost_predict(served: Served, features_csv: str) -> list[float]:
    """xgboost's own Booster.predict on the features, in the XGBoost image's look-alike (xgboost 3.2.0)."""
    model_uri = served.package["InferenceSpecification"]["Containers"][1]["ModelDataUrl"]
    bucket, _, key = model_uri.removeprefix("s3://").partition("/")
    archive = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()
    code = (
        "import io, sys, tarfile, tempfile, json, numpy as np, xgboost as xgb\n"
        "folder = tempfile.mkdtemp(); tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read())).extractall(folder)\n"
        "booster = xgb.Booster(); booster.load_model(folder + '/xgboost-model')\n"
        "rows = np.loadtxt(io.StringIO(sys.argv[1]), delimiter=',', ndmin=2)\n"
        "print(json.dumps(booster.predict(xgb.DMatrix(rows)).tolist()))\n"
    )
    image = served.package["InferenceSpecification"]["Containers"][1]["Image"]
    result = subprocess.run(
        [str(python_for(image)), "-c", code, features_csv], input=archive, capture_output=True, check=True
    )
    return list(json.loads(result.stdout))


def _label_mapping(served: Served) -> dict[str, str]:
    """The classes as Preprocess numbered them (encoder.json in the features container's model data)."""
    import tarfile

    uri = served.package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    archive = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile("encoder.json")
        assert member is not None
        return dict(json.loads(member.read())["label_mapping"])


def test_the_endpoint_answers_raw_rows_with_the_class_names_evaluate_predicted_offline(served):
    smoke = served.smoke

    answer = served.answer(PIPELINE, smoke["body"], content_type=smoke["content_type"], accept=smoke["accept"])

    assert answer.splitlines() == smoke["expected"]
    assert set(smoke["expected"]) <= {"leaves", "stays"}
    # a Mac's "CSV (Macintosh)" ends its lines with a bare carriage return: the same rows, the same answers
    mac = "\r".join(smoke["body"].splitlines()) + "\r"
    assert served.answer(PIPELINE, mac).splitlines() == smoke["expected"]
    # columns in another order, application/json: the class and its probability
    frame = pd.read_csv(io.StringIO(smoke["body"]))
    shuffled = frame[list(reversed(frame.columns))].to_csv(index=False)
    predictions = json.loads(served.answer(PIPELINE, shuffled, accept="application/json"))["predictions"]
    assert [item["predicted_label"] for item in predictions] == smoke["expected"]
    assert all(0.5 <= item["score"] <= 1.0 for item in predictions)


def test_the_xgboost_container_answers_what_xgboost_s_own_predict_gives_for_the_same_rows(served):
    features = served.answer(FEATURES, served.smoke["body"])

    scores = served.answer(XGBOOST, features).splitlines()
    as_json = json.loads(served.answer(XGBOOST, features, accept="application/json"))

    expected = _xgboost_predict(served, features)
    assert [float(score) for score in scores] == expected  # text/csv: one score a line, as the container writes it
    assert as_json == {"predictions": [{"score": score} for score in expected]}
    mapping = _label_mapping(served)
    labels = [mapping[str(int(score >= 0.5))] for score in expected]  # binary: the positive class from 0.5
    assert served.answer(PIPELINE, served.smoke["body"]).splitlines() == labels


def test_bad_rows_get_the_container_s_status_and_one_line_and_the_endpoint_keeps_serving(served):
    header = "age,plan,spend,joined"
    cases = {
        "missing column": ("age,plan,joined\n30,pro,2024-05-01\n", "text/csv"),
        "extra column, no header": ("30,pro,12.5,2024-05-01,stays,surplus\n", "text/csv"),
        "unparseable value": (f"{header}\nthirty,pro,12.5,2024-05-01\n", "text/csv"),
        "empty body": (" \n", "text/csv"),
        "wrong content type": (f"{header}\n30,pro,12.5,2024-05-01\n", "application/x-npy"),
        "a column named twice": (f"{header},age\n30,pro,12.5,2024-05-01,31\n", "text/csv"),
    }

    refusals = {name: served.refusal(PIPELINE, body, content_type=kind) for name, (body, kind) in cases.items()}

    assert {name: status for name, (status, _) in refusals.items()} == {
        "missing column": 400,
        "extra column, no header": 400,
        "unparseable value": 400,
        "empty body": 400,
        "wrong content type": 415,
        "a column named twice": 400,
    }
    assert all(message and "\n" not in message for _, message in refusals.values())
    assert "'spend'" in refusals["missing column"][1]
    # an extra column with a header is ignored, as a file's is
    extra = served.answer(PIPELINE, f"{header},note\n30,pro,12.5,2024-05-01,hello\n")
    assert extra.strip() in ("leaves", "stays")


def test_the_xgboost_container_answers_its_own_status_codes(served):
    features = served.answer(FEATURES, served.smoke["body"]).splitlines()[0]
    width = len(features.split(","))

    too_wide = served.refusal(XGBOOST, ",".join(["1"] * (width + 5)))
    not_numbers = served.refusal(XGBOOST, "a,b,c")
    wrong_type = served.refusal(XGBOOST, features, content_type="text/plain")
    wrong_accept = served.refusal(XGBOOST, features, accept="application/xml")

    assert too_wide[0] == 400
    assert too_wide[1].startswith("Unable to evaluate payload provided:")
    assert not_numbers[0] == 415
    assert not_numbers[1].startswith("Loading csv data failed with Exception")
    assert wrong_type == (415, "Content-type text/plain not supported")
    assert wrong_accept[0] == 406
    assert wrong_accept[1].startswith("Accept type application/xml is not supported")
    assert served.answer(XGBOOST, features, accept="*/*").strip()  # */*: text/csv, the container's default


def test_an_unknown_endpoint_is_a_validation_error(served):
    with pytest.raises(ClientError) as raised:
        served.invoke("nobody-serves-this", "1,2\n")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "Endpoint nobody-serves-this of account" in raised.value.response["Error"]["Message"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(lambda text: text.encode("utf-8")))
@example(body=b"\r0")  # a carriage return ends a row (it raised csv's "new-line character seen in unquoted field")
def test_whatever_the_body_the_endpoint_answers_200_or_a_client_error_and_never_falls_over(served, body):
    try:
        served.invoke(PIPELINE, body)
    except ClientError as error:
        response: Any = error.response
        assert response["Error"]["Code"] == "ModelError"
        assert 400 <= int(response["OriginalStatusCode"]) < 500, response["OriginalMessage"]
    assert served.answer(PIPELINE, served.smoke["body"]).splitlines() == served.smoke["expected"]
