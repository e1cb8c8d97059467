"""Which runs a message asks for, and how each is named and identified."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trigger.planner import (
    InvalidRunRequest,
    ObjectFilter,
    UploadedObject,
    client_request_token,
    display_name,
    plan_runs,
    run_for_object,
)

UPLOAD = UploadedObject(
    bucket="data",
    key="pipeline-dataset/abalone.csv",
    event_name="ObjectCreated:Put",
    size=10,
    e_tag="etag",
    version_id="v1",
    sequencer="0A1",
)
FILTER = ObjectFilter(prefix="pipeline-dataset/", suffix=".csv")
DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")


def test_each_accepted_object_gets_one_run_and_the_others_a_reason():
    objects = [
        UPLOAD,
        replace(UPLOAD, key="elsewhere/abalone.csv"),
        replace(UPLOAD, key="pipeline-dataset/abalone.json"),
        replace(UPLOAD, event_name="ObjectRemoved:Delete"),
        replace(UPLOAD, key="pipeline-dataset/folder.csv/"),
    ]
    plan = plan_runs(objects, pipeline_name="p", object_filter=FILTER)

    assert [run.objects for run in plan.runs] == [(UPLOAD,)]
    assert [skipped.reason for skipped in plan.skipped] == [
        "key is outside the prefix 'pipeline-dataset/'",
        "key does not end with '.csv'",
        "event ObjectRemoved:Delete is not an object creation",
        "key does not end with '.csv'",
    ]


def test_what_runs_write_never_starts_a_run_even_with_an_empty_prefix():
    everything = ObjectFilter(prefix="", suffix=".csv")
    written = replace(UPLOAD, key="pipeline-artifacts/retrain-pipeline/runs/abc/train/train.csv")
    assert everything.reason_to_skip(written) == "key is under pipeline-artifacts/, where runs write their outputs"
    assert everything.reason_to_skip(UPLOAD) is None


def test_a_run_passes_bucket_and_key_as_the_contract_parameters():
    run = run_for_object(UPLOAD, pipeline_name="retrain-pipeline")
    assert run.pipeline_name == "retrain-pipeline"
    assert run.parameters == {"InputBucket": "data", "InputKey": "pipeline-dataset/abalone.csv"}
    assert "s3://data/pipeline-dataset/abalone.csv" in run.description
    assert "v1" in run.description


def test_the_same_object_version_always_gets_the_same_token_and_a_new_version_a_new_one():
    token = client_request_token(UPLOAD)
    assert token == client_request_token(replace(UPLOAD, size=99))  # redelivery, same version
    assert token != client_request_token(replace(UPLOAD, version_id="v2"))
    assert token != client_request_token(replace(UPLOAD, key="pipeline-dataset/other.csv"))
    assert token != client_request_token(replace(UPLOAD, bucket="other"))
    unversioned = replace(UPLOAD, version_id=None)
    assert client_request_token(unversioned) != client_request_token(replace(unversioned, sequencer="0A2"))


@given(key=st.text(min_size=1, max_size=1024), version=st.none() | st.text(max_size=64))
def test_tokens_and_display_names_always_fit_sagemaker(key, version):
    obj = replace(UPLOAD, key=key, version_id=version)
    token = client_request_token(obj)
    assert 32 <= len(token) <= 128
    assert DISPLAY_NAME.match(display_name(key, token))


def test_display_name_keeps_the_file_name_readable():
    assert display_name("pipeline-dataset/2026/my file (v2).csv", "abcdef0123456789") == "my-file-v2-csv-abcdef01"
    assert display_name("pipeline-dataset/日本.csv", "abcdef0123456789") == "csv-abcdef01"
    assert display_name("pipeline-dataset/日本", "abcdef0123456789") == "upload-abcdef01"


def test_a_parameter_value_over_1024_characters_is_refused_before_calling_sagemaker():
    with pytest.raises(InvalidRunRequest, match="InputKey would be 1030 characters"):
        run_for_object(replace(UPLOAD, key="k" * 1030), pipeline_name="p")


# -- TrainingData=AllObjects: the uploads only start the run ----------------------------------------


def test_with_all_objects_a_burst_starts_one_run_on_everything_under_the_prefix():
    burst = [replace(UPLOAD, key=f"pipeline-dataset/day{n}.csv", version_id=f"v{n}") for n in range(3)]

    [run] = plan_runs(burst, pipeline_name="p", object_filter=FILTER, all_objects_under="pipeline-dataset/").runs

    assert run.parameters == {"InputBucket": "data", "InputKey": "pipeline-dataset/", "TrainingData": "AllObjects"}
    assert run.manifest_key is None  # SageMaker lists the prefix when the run starts
    assert run.trains_on == "every object under s3://data/pipeline-dataset/ when it starts (TrainingData=AllObjects)"
    assert "pipeline-dataset/day0.csv" in run.description
    assert DISPLAY_NAME.match(run.display_name)


def test_with_all_objects_a_redelivered_upload_gets_the_same_run_and_the_next_upload_a_new_one():
    def plan(*objects: UploadedObject) -> str:
        [run] = plan_runs(objects, pipeline_name="p", object_filter=FILTER, all_objects_under="pipeline-dataset/").runs
        return run.client_request_token

    assert plan(UPLOAD) == plan(UPLOAD) == client_request_token(UPLOAD)
    assert plan(replace(UPLOAD, version_id="v2")) != plan(UPLOAD)


def test_new_objects_train_on_what_started_the_run():
    [single] = plan_runs([UPLOAD], pipeline_name="p", object_filter=FILTER).runs
    burst = [UPLOAD, replace(UPLOAD, key="pipeline-dataset/b.csv")]
    [several] = plan_runs(burst, pipeline_name="p", object_filter=FILTER).runs
    assert "TrainingData" not in single.parameters  # the pipeline's default: NewObjects
    assert single.training_data == several.training_data == "NewObjects"
    assert several.parameters["InputDataType"] == "ManifestFile"


def test_a_key_part_longer_than_a_file_name_can_be_is_refused_before_any_run():
    fine = replace(UPLOAD, key="pipeline-dataset/" + "é" * 125 + ".csv")  # a 254-byte name
    too_long = replace(UPLOAD, key="pipeline-dataset/" + "é" * 126 + ".csv")  # 256 bytes
    assert run_for_object(fine, pipeline_name="p").parameters["InputKey"] == fine.key
    with pytest.raises(InvalidRunRequest, match="file names are at most 255 bytes"):
        run_for_object(too_long, pipeline_name="p")
