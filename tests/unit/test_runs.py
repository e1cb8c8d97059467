"""Which uploads the trigger takes, and the run it starts for them: parameters, token, names."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import runs_prefix
from tests.template_values import DATA_PREFIX, MANIFEST_PREFIX
from trigger.parameter_mapping import BUNDLED_PIPELINE_MAPPING, parse_mapping
from trigger.runs import (
    ListedObject,
    RunShape,
    client_request_token,
    display_name,
    lists_the_prefix,
    manifest_documents,
    refusal_of,
    run_for,
)
from trigger.uploads import ObjectFilter, UploadedObject

UPLOAD = UploadedObject(
    bucket="data",
    key=f"{DATA_PREFIX}abalone.csv",
    event_name="ObjectCreated:Put",
    size=10,
    e_tag="etag",
    version_id="v1",
    sequencer="0A1",
)
FILTER = ObjectFilter(prefix=DATA_PREFIX, suffix=".csv")
DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
SHAPE = RunShape("retrain-pipeline", parse_mapping(BUNDLED_PIPELINE_MAPPING), MANIFEST_PREFIX, DATA_PREFIX)
EVERYTHING = replace(SHAPE, training_data="AllObjects")


def test_only_created_objects_under_the_prefix_with_the_suffix_are_accepted_and_the_others_get_a_reason():
    objects = [
        UPLOAD,
        replace(UPLOAD, key="elsewhere/abalone.csv"),
        replace(UPLOAD, key=f"{DATA_PREFIX}abalone.json"),
        replace(UPLOAD, event_name="ObjectRemoved:Delete"),
        replace(UPLOAD, key=f"{DATA_PREFIX}folder.csv/"),
    ]
    assert [FILTER.reason_to_skip(obj) for obj in objects] == [
        None,
        f"key is outside the prefix '{DATA_PREFIX}'",
        "key does not end with '.csv'",
        "event ObjectRemoved:Delete is not an object creation",
        "key does not end with '.csv'",
    ]
    assert ObjectFilter(prefix=DATA_PREFIX).reason_to_skip(objects[-1]) == "key is a folder marker"


def test_what_runs_write_never_starts_a_run_even_with_an_empty_prefix():
    everything = ObjectFilter(prefix="", suffix=".csv")
    for written in (f"{runs_prefix('retrain-pipeline')}abc/train/train.csv", f"{MANIFEST_PREFIX}abc/input.manifest"):
        assert everything.reason_to_skip(replace(UPLOAD, key=written)) == (
            f"key is under {everything.artifacts_prefix}, where runs write their outputs"
        )
    assert everything.reason_to_skip(UPLOAD) is None


def test_a_run_of_one_upload_passes_the_bundled_pipeline_its_bucket_and_key():
    run = run_for([UPLOAD], SHAPE)
    assert run.pipeline_name == "retrain-pipeline"
    assert run.parameters == {
        "InputBucket": "data",
        "InputKey": f"{DATA_PREFIX}abalone.csv",
        "InputDataType": "S3Prefix",
        "TrainingData": "NewObjects",
        "InputBytes": "10",  # ProcessingEngine auto chooses the engine by it
    }
    assert run.manifest_key is None
    assert f"s3://data/{DATA_PREFIX}abalone.csv" in run.description
    assert "v1" in run.description


def test_the_same_object_version_always_gets_the_same_token_and_a_new_version_a_new_one():
    token = client_request_token(UPLOAD)
    assert token == client_request_token(replace(UPLOAD, size=99))  # redelivery, same version
    assert token != client_request_token(replace(UPLOAD, version_id="v2"))
    assert token != client_request_token(replace(UPLOAD, key=f"{DATA_PREFIX}other.csv"))
    assert token != client_request_token(replace(UPLOAD, bucket="other"))
    unversioned = replace(UPLOAD, version_id=None)
    assert client_request_token(unversioned) != client_request_token(replace(unversioned, sequencer="0A2"))


def test_a_retrain_request_is_a_new_run_once_and_says_why():
    again = replace(UPLOAD, retrain_request="20261127T120000Z-abc123")

    assert client_request_token(again) != client_request_token(UPLOAD)
    assert client_request_token(again) == client_request_token(replace(again, size=99))  # redelivered: same run
    assert client_request_token(again) != client_request_token(replace(again, retrain_request="another"))
    run = run_for([again], SHAPE)
    assert run.description.startswith("Retrain requested (20261127T120000Z-abc123). Trains on s3://")
    assert run_for([UPLOAD], SHAPE).description.startswith("Started by the upload of")


@given(key=st.text(min_size=1, max_size=1024), version=st.none() | st.text(max_size=64))
def test_tokens_and_display_names_always_fit_sagemaker(key, version):
    obj = replace(UPLOAD, key=key, version_id=version)
    token = client_request_token(obj)
    assert 32 <= len(token) <= 128
    assert DISPLAY_NAME.match(display_name(key, token))


def test_display_name_keeps_the_file_name_readable():
    assert display_name(f"{DATA_PREFIX}2026/my file (v2).csv", "abcdef0123456789") == "my-file-v2-csv-abcdef01"
    assert display_name(f"{DATA_PREFIX}日本.csv", "abcdef0123456789") == "csv-abcdef01"
    assert display_name(f"{DATA_PREFIX}日本", "abcdef0123456789") == "upload-abcdef01"


def test_a_key_over_1024_characters_is_refused_before_calling_sagemaker():
    assert "1030 characters long" in str(refusal_of(replace(UPLOAD, key="k/" * 515), SHAPE))


# -- TrainingData=AllObjects: the uploads only start the run ----------------------------------------


def test_with_all_objects_a_burst_starts_one_run_on_everything_under_the_prefix():
    burst = [replace(UPLOAD, key=f"{DATA_PREFIX}day{n}.csv", version_id=f"v{n}") for n in range(3)]

    run = run_for(burst, EVERYTHING)

    assert run.parameters == {
        "InputBucket": "data",
        "InputKey": DATA_PREFIX,
        "InputDataType": "S3Prefix",
        "TrainingData": "AllObjects",
        "InputBytes": "0",  # nothing listed: not known
    }
    assert run.manifest_key is None  # SageMaker lists the prefix when the run starts
    assert run.trains_on == f"every object under s3://data/{DATA_PREFIX} when it starts (TrainingData=AllObjects)"
    assert f"{DATA_PREFIX}day0.csv" in run.description
    assert DISPLAY_NAME.match(run.display_name)


def test_with_all_objects_a_redelivered_upload_gets_the_same_run_and_the_next_upload_a_new_one():
    def plan(*objects: UploadedObject) -> str:
        return run_for(list(objects), EVERYTHING).client_request_token

    assert plan(UPLOAD) == plan(UPLOAD) == client_request_token(UPLOAD)
    assert plan(replace(UPLOAD, version_id="v2")) != plan(UPLOAD)


def test_new_objects_train_on_what_started_the_run_a_burst_through_its_manifest():
    burst = [UPLOAD, replace(UPLOAD, key=f"{DATA_PREFIX}b.csv")]
    several = run_for(burst, SHAPE)
    assert several.parameters["InputDataType"] == "ManifestFile"
    assert several.parameters["InputKey"] == several.manifest_key
    assert several.parameters["InputKey"].startswith(MANIFEST_PREFIX)
    assert several.parameters["TrainingData"] == "NewObjects"
    assert several.parameters["InputBytes"] == str(sum(obj.size or 0 for obj in burst))


def test_with_all_objects_and_its_size_mapped_the_run_reads_the_listing_it_was_given_as_its_manifest():
    assert lists_the_prefix(EVERYTHING)
    assert not lists_the_prefix(SHAPE)
    assert not lists_the_prefix(replace(EVERYTHING, mapping=parse_mapping("Data={prefix_uri}")))
    listed = tuple(ListedObject(f"{DATA_PREFIX}day{n}.csv", 1000 * (n + 1)) for n in range(4))

    run = run_for([UPLOAD], EVERYTHING, listed)

    assert run.parameters["InputDataType"] == "ManifestFile"
    assert run.parameters["InputKey"] == run.manifest_key
    assert run.parameters["InputBytes"] == "10000"
    documents = manifest_documents(run)
    assert json.loads(documents["input.manifest"]) == [{"prefix": "s3://data/"}, *(obj.key for obj in listed)]
    listing = json.loads(documents["objects.json"])
    assert [obj["key"] for obj in listing["objects"]] == [UPLOAD.key]  # what started it
    assert listing["reads"] == {"objects": 4, "bytes": 10000}
    assert (
        run.trains_on
        == f"the 4 objects (10,000 bytes) under s3://data/{DATA_PREFIX} when it started (TrainingData=AllObjects)"
    )
    assert run.client_request_token == run_for([UPLOAD], EVERYTHING).client_request_token  # same upload, same run


def test_a_key_part_longer_than_a_file_name_can_be_is_refused_before_any_run():
    fine = replace(UPLOAD, key=DATA_PREFIX + "é" * 125 + ".csv")  # a 254-byte name
    too_long = replace(UPLOAD, key=DATA_PREFIX + "é" * 126 + ".csv")  # 256 bytes
    assert refusal_of(fine, SHAPE) is None
    assert run_for([fine], SHAPE).parameters["InputKey"] == fine.key
    assert "file names are at most 255 bytes" in str(refusal_of(too_long, SHAPE))
