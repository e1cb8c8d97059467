"""A training step on several instances runs, through the local runner, as that many hosts of the 3.2-0 algorithm.

Each case runs the pipeline definition's own Train step (its channels as the definition distributes
them), with its data in moto's S3 as part files, and scores the model.tar.gz the job uploaded.
"""

from __future__ import annotations

import copy
import io
import json
import os
import tarfile
import tempfile
import threading
import uuid
from typing import Any

import boto3
import numpy as np
import pytest
import xgboost
from hypothesis import given
from hypothesis import strategies as st

from emulator.pipeline_runner import LocalPipelineRunner, RunResult
from emulator.training_hosts import share
from tests.pipeline.conftest import BUCKET, CONFIG, REGION
from tests.pipeline.test_definition import steps_by_name

PREFIX = "distributed"
HYPERPARAMETERS = {"objective": "binary:logistic", "eval_metric": "logloss"}


def rows(count: int, seed: int) -> np.ndarray:
    """A binary problem with a known signal: label first, then 4 features."""
    generator = np.random.default_rng(seed)
    features = generator.normal(size=(count, 4))
    signal = features[:, 0] + 0.5 * features[:, 1] - 0.7 * features[:, 2] * features[:, 3]
    labels = (signal + generator.normal(scale=0.5, size=count) > 0).astype(float)
    return np.column_stack([labels, features])


def put_parts(channel: str, table: np.ndarray, parts: int, *, extra: dict[str, bytes] | None = None) -> str:
    """The channel's rows as ``parts`` CSV part files (label first, no header), as Preprocess writes them."""
    s3 = boto3.client("s3", region_name=REGION)
    prefix = f"{PREFIX}/{uuid.uuid4().hex}/{channel}"
    for number, chunk in enumerate(np.array_split(table, parts)):
        buffer = io.StringIO()
        np.savetxt(buffer, chunk, delimiter=",", fmt="%.6g")
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/part-{number:05d}.csv", Body=buffer.getvalue().encode())
    for name, body in (extra or {}).items():
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/{name}", Body=body)
    return f"s3://{BUCKET}/{prefix}"


def train_step(definition: str, channels: dict[str, str], validation_distribution: str | None = None) -> dict[str, Any]:
    """The definition's Train step, reading ``channels`` (name -> S3 URI) instead of Preprocess's outputs."""
    step = copy.deepcopy(steps_by_name(json.loads(definition))["Train"])
    arguments = step["Arguments"]
    arguments["HyperParameters"] |= HYPERPARAMETERS
    kept = [channel for channel in arguments["InputDataConfig"] if channel["ChannelName"] in channels]
    for channel in kept:
        channel["DataSource"]["S3DataSource"]["S3Uri"] = channels[channel["ChannelName"]]
        if channel["ChannelName"] == "validation" and validation_distribution:
            channel["DataSource"]["S3DataSource"]["S3DataDistributionType"] = validation_distribution
    arguments["InputDataConfig"] = kept
    return step


def run(definition: str, instances: int, channels: dict[str, str], **options: str) -> RunResult:
    return run_steps([train_step(definition, channels, **options)], instances)


def run_steps(steps: list[dict[str, Any]], instances: int) -> RunResult:
    pipeline = {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "TrainingInstanceCount", "Type": "Integer", "DefaultValue": 1},
            {"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.xlarge"},
        ],
        "Steps": steps,
    }
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    name = f"train-{uuid.uuid4().hex[:8]}"
    sagemaker.create_pipeline(
        PipelineName=name, PipelineDefinition=json.dumps(pipeline), RoleArn=CONFIG.role_arn, ClientRequestToken=name * 4
    )
    execution = sagemaker.start_pipeline_execution(
        PipelineName=name,
        PipelineParameters=[{"Name": "TrainingInstanceCount", "Value": str(instances)}],
        ClientRequestToken=str(uuid.uuid4()),
    )["PipelineExecutionArn"]
    return LocalPipelineRunner().run(execution)


def model_of(result: RunResult) -> xgboost.Booster:
    """The booster in the model.tar.gz the job uploaded, which must hold xgboost-model and nothing else."""
    uri = result.properties["Train"]["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        assert archive.getnames() == ["xgboost-model"]
        booster = xgboost.Booster()
        booster.load_model(bytearray(archive.extractfile("xgboost-model").read()))  # type: ignore[union-attr]
    return booster


def auc(booster: xgboost.Booster, table: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(table[:, 0], booster.predict(xgboost.DMatrix(table[:, 1:]))))


@pytest.fixture
def data(served_bucket: str) -> dict[str, np.ndarray]:
    return {"train": rows(3000, 1), "validation": rows(600, 2), "test": rows(1500, 3)}


def test_three_hosts_train_a_model_as_good_as_one_host_does(definition, data, image_environments):
    channels = {name: put_parts(name, data[name], 3) for name in ("train", "validation")}

    alone, together = run(definition, 1, channels), run(definition, 3, channels)

    assert (alone.status, together.status) == ("Succeeded", "Succeeded"), together.failure_reason
    assert together.steps[-1].detail == "3 hosts: " + "; ".join(  # each host's share of each split
        f"algo-{n}, 1000 train, 200 validation rows: xgboost 3.2.0, 50 rounds, objective binary:logistic"
        for n in (1, 2, 3)
    )
    one, three = auc(model_of(alone), data["test"]), auc(model_of(together), data["test"])
    assert one > 0.8
    assert abs(three - one) / one < 0.02


def test_a_host_whose_shard_is_empty_leaves_and_the_others_train(definition, data, image_environments):
    channels = {name: put_parts(name, data[name], 2) for name in ("train", "validation")}

    result = run(definition, 3, channels)  # 2 part files for 3 hosts: algo-3 gets none

    assert result.status == "Succeeded", result.failure_reason
    assert "host algo-3 not used in distributed training" in result.steps[-1].detail
    assert auc(model_of(result), data["test"]) > 0.8


def test_without_a_validation_channel_every_host_with_training_data_trains(definition, data, image_environments):
    result = run(definition, 3, {"train": put_parts("train", data["train"], 3)})

    assert result.status == "Succeeded", result.failure_reason
    assert "not used" not in result.steps[-1].detail
    assert auc(model_of(result), data["test"]) > 0.8


def test_hosts_without_a_validation_shard_leave_as_in_the_3_2_0_algorithm(definition, data, image_environments):
    """A validation channel sharded over fewer files than hosts (PR #399): those hosts leave the ring."""
    channels = {
        "train": put_parts("train", data["train"], 3),
        "validation": put_parts("validation", data["validation"], 1),
    }

    result = run(definition, 3, channels, validation_distribution="ShardedByS3Key")

    assert result.status == "Succeeded", result.failure_reason
    detail = result.steps[-1].detail
    assert "host algo-2 not used" in detail
    assert "host algo-3 not used" in detail
    assert auc(model_of(result), data["test"]) > 0.75


def test_one_host_failing_fails_the_step_with_its_reason_and_stops_the_others(definition, data, image_environments):
    hidden = {".hidden.csv": b"1,0,0,0,0\n"}  # the first key in order: algo-1's share
    channels = {
        "train": put_parts("train", data["train"], 3, extra=hidden),
        "validation": put_parts("validation", data["validation"], 1),
    }

    result = run(definition, 3, channels)

    assert (result.status, result.failure_step) == ("Failed", "Train")
    assert result.failure_reason == "Train: Hidden file found in the data path! Remove that before training."
    assert result.seconds < 60


def test_an_error_of_xgboost_itself_fails_the_step_with_its_one_line_reason(definition, data, image_environments):
    channels = {"train": put_parts("train", data["train"], 2)}
    step = train_step(definition, channels)
    step["Arguments"]["HyperParameters"]["updater"] = "grow_nonsense"  # the algorithm passes it on to xgboost

    result = run_steps([step], 2)

    assert (result.status, result.failure_step) == ("Failed", "Train")
    assert result.failure_reason == "Train: Unknown tree updater grow_nonsense"


def test_hosts_read_their_data_while_other_programs_come_and_go_in_tmp(definition, data, image_environments):
    """Each container has a /tmp of its own: what others do in this machine's /tmp cannot fail a host."""
    channels = {name: put_parts(name, data[name], 2) for name in ("train", "validation")}
    stop = threading.Event()

    def come_and_go() -> None:  # folders made and removed in /tmp, hundreds at a time
        while not stop.is_set():
            folders = [tempfile.mkdtemp(prefix="other-program-") for _ in range(300)]
            for folder in folders:
                os.rmdir(folder)

    others = threading.Thread(target=come_and_go)
    others.start()
    try:
        result = run(definition, 2, channels)
    finally:
        stop.set()
        others.join()

    assert result.status == "Succeeded", result.failure_reason


@given(
    keys=st.lists(st.text(alphabet="abc/-._0123456789", min_size=1, max_size=12), unique=True, max_size=40),
    hosts=st.integers(min_value=1, max_value=8),
)
def test_sharded_by_s3_key_gives_each_object_to_one_host_and_shares_differ_by_at_most_one(keys, hosts):
    shares = [share(keys, "ShardedByS3Key", hosts, index) for index in range(hosts)]

    assert sorted(key for part in shares for key in part) == sorted(keys)
    assert max(map(len, shares)) - min(map(len, shares)) <= 1
    assert all(share(keys, "FullyReplicated", hosts, index) == sorted(keys) for index in range(hosts))
