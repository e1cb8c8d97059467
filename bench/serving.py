"""P16: predictions per second through a local endpoint / xgboost's own Booster.predict on the same rows.

A model is trained on 2,000 rows (Preprocess, then the image's built-in algorithm) and served as the
bundled pipeline registers it: the features, XGBoost and labels containers, each in its image's
look-alike (emulator/endpoint_containers.py), reached by InvokeEndpoint through moto's server with
raw rows (the target left out), REQUEST_ROWS a request. The baseline is Booster.predict in the XGBoost
image's look-alike on the same rows' features, as a DMatrix, one call per request's rows. The ratio is
the endpoint's rate over the baseline's (below 1: serving costs that much); the serving overhead per
request is the difference of the two times per request.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import pandas as pd

from bench.evaluate_report import preprocessed_and_trained
from bench.figures import Figure
from emulator import invoke_endpoint
from emulator.endpoint_containers import LocalFleets
from emulator.moto_server import REGION, running_moto_server
from emulator.sample_data import friedman_csv
from emulator.step_environments import environment
from pipeline.definition import (
    FEATURES_STAGE,
    LABELS_STAGE,
    SERVING_ENVIRONMENT,
    SERVING_STAGE_ENV,
)
from pipeline.images import SKLEARN, XGBOOST

REGISTRY = "683313688378.dkr.ecr.us-east-1.amazonaws.com"  # the images' registry in us-east-1 (SDK's image_uris)
IMAGES = {SKLEARN: f"{REGISTRY}/sagemaker-scikit-learn:1.9-0-cpu-py3", XGBOOST: f"{REGISTRY}/sagemaker-xgboost:3.2-0"}
REQUEST_ROWS, REQUESTS = 100, 40
BUCKET = "bench-serving"
PREDICT = """
import io, json, sys, tarfile, tempfile, time, numpy as np, xgboost as xgb
folder = tempfile.mkdtemp(); tarfile.open(sys.argv[1]).extractall(folder)
booster = xgb.Booster(); booster.load_model(folder + "/xgboost-model"); booster.set_param("nthread", 1)
matrix = xgb.DMatrix(np.loadtxt(io.StringIO(sys.stdin.read()), delimiter=",", ndmin=2))
booster.predict(matrix)
started = time.perf_counter()
for _ in range(int(sys.argv[2])):
    booster.predict(matrix)
print(time.perf_counter() - started)
"""


def trained(base: Path) -> pd.DataFrame:
    """Preprocess's transform and a model.tar.gz under ``base``; returns the raw rows."""
    data = base / "input" / "data" / "friedman.csv"
    data.parent.mkdir(parents=True)
    data.write_bytes(friedman_csv(rows=2000, noise=0.5))
    preprocessed_and_trained(base)
    return pd.read_csv(data).drop(columns="target")


def serve(base: Path, fleets: LocalFleets) -> None:
    s3, sagemaker = boto3.client("s3", region_name=REGION), boto3.client("sagemaker", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(str(base / "transform" / "model.tar.gz"), BUCKET, "transform/model.tar.gz")
    s3.upload_file(str(base / "model" / "model.tar.gz"), BUCKET, "model/model.tar.gz")
    transform = f"s3://{BUCKET}/transform/model.tar.gz"

    def stage(name: str) -> dict[str, object]:
        return {
            "Image": IMAGES[SKLEARN],
            "ModelDataUrl": transform,
            "Environment": {**SERVING_ENVIRONMENT, SERVING_STAGE_ENV: name},
        }

    model = {"Image": IMAGES[XGBOOST], "ModelDataUrl": f"s3://{BUCKET}/model/model.tar.gz"}
    containers = [stage(FEATURES_STAGE), model, stage(LABELS_STAGE)]
    role = "arn:aws:iam::123456789012:role/bench"
    sagemaker.create_model(ModelName="bench", ExecutionRoleArn=role, Containers=containers)  # type: ignore[arg-type]
    sagemaker.create_model(ModelName="bench-features", ExecutionRoleArn=role, PrimaryContainer=containers[0])  # type: ignore[arg-type]
    fleets.serve("bench", [("AllTraffic", "bench", 1.0)])
    fleets.serve("bench-features", [("AllTraffic", "bench-features", 1.0)])


def endpoint_seconds(body: bytes) -> float:
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    runtime.invoke_endpoint(EndpointName="bench", Body=body, ContentType="text/csv", Accept="text/csv")
    started = time.perf_counter()
    for _ in range(REQUESTS):
        answer = runtime.invoke_endpoint(EndpointName="bench", Body=body, ContentType="text/csv", Accept="text/csv")
        if len(answer["Body"].read().splitlines()) != REQUEST_ROWS:
            raise RuntimeError("the endpoint did not answer one prediction a row")
    return time.perf_counter() - started


def predict_seconds(base: Path, body: bytes) -> float:
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    features = runtime.invoke_endpoint(EndpointName="bench-features", Body=body, ContentType="text/csv")
    command = [str(environment(XGBOOST).python), "-c", PREDICT, str(base / "model" / "model.tar.gz"), str(REQUESTS)]
    done = subprocess.run(command, input=features["Body"].read().decode(), capture_output=True, text=True, check=True)  # noqa: S603
    return float(done.stdout.strip())


def measure() -> Figure:
    with tempfile.TemporaryDirectory() as scratch, running_moto_server():
        base = Path(scratch)
        rows = trained(base)
        body = rows.head(REQUEST_ROWS).to_csv(index=False).encode("utf-8")
        fleets = LocalFleets(base / "endpoints")
        invoke_endpoint.install(fleets)
        try:
            serve(base, fleets)
            through_endpoint, baseline = endpoint_seconds(body), predict_seconds(base, body)
        finally:
            invoke_endpoint.uninstall()
            fleets.close()
    predictions = REQUEST_ROWS * REQUESTS
    overhead_ms = (through_endpoint - baseline) / REQUESTS * 1000
    return Figure(
        name="P16",
        what=f"predictions/s through the local endpoint (3 containers, {REQUEST_ROWS} raw rows a request) / "
        f"xgboost's Booster.predict on the same rows; serving overhead {overhead_ms:.1f} ms a request",
        value=predictions / through_endpoint,
        baseline=predictions / baseline,
        unit="pred/s",
        goal=None,
    )


if __name__ == "__main__":
    print(json.dumps(measure().as_dict()))
