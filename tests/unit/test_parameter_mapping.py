"""PipelineParameters: the parameters a run of any SageMaker pipeline gets, checked against the
pipeline's own definition before the first start."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops.cli import main as retrain_trigger
from tests.aws import REGION, TriggerTargets
from tests.events import load_event
from tests.template_values import DATA_PREFIX, MANIFEST_PREFIX
from tests.unit.test_runs import UPLOAD
from trigger.parameter_mapping import MAX_VALUE_LENGTH, PLACEHOLDERS, MappingError, parse_mapping
from trigger.runs import RunShape, refusal_of, run_for

FOREIGN = "abalone-style"
# The parameters of a pipeline of the user's own, which reads one S3 URI and knows nothing of ours.
FOREIGN_PARAMETERS = [
    {"Name": "ProcessingInstanceCount", "Type": "Integer", "DefaultValue": 1},
    {"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.xlarge"},
    {"Name": "ModelApprovalStatus", "Type": "String", "DefaultValue": "PendingManualApproval"},
    {"Name": "InputDataUrl", "Type": "String", "DefaultValue": "s3://sagemaker-sample/abalone.csv"},
]
FOREIGN_MAPPING = "InputDataUrl={uri},TrainingInstanceType=ml.m5.2xlarge"


def shape(mapping: str, training_data: str = "NewObjects") -> RunShape:
    return RunShape("p", parse_mapping(mapping), MANIFEST_PREFIX, DATA_PREFIX, training_data)


def test_static_values_and_placeholders_render_per_run():
    run = run_for([UPLOAD], shape(FOREIGN_MAPPING + ",Count={object_count},Version=v{version}"))
    assert run.parameters == {
        "InputDataUrl": f"s3://data/{DATA_PREFIX}abalone.csv",
        "TrainingInstanceType": "ml.m5.2xlarge",
        "Count": "1",
        "Version": "vv1",
    }


def test_a_manifest_placeholder_gives_every_run_a_manifest_even_of_one_upload():
    one = run_for([UPLOAD], shape("Manifest={manifest_uri},Type={input_data_type}"))
    assert one.manifest_key is not None
    assert one.parameters == {"Manifest": f"s3://data/{one.manifest_key}", "Type": "S3Prefix"}
    several = run_for([UPLOAD, replace(UPLOAD, key=f"{DATA_PREFIX}b.csv")], shape("Manifest={manifest_uri}"))
    assert several.parameters["Manifest"].endswith("/input.manifest")


def test_all_objects_passes_the_prefix():
    run = run_for([UPLOAD], shape("Data={prefix_uri},Mode={training_data}", training_data="AllObjects"))
    assert run.parameters == {"Data": f"s3://data/{DATA_PREFIX}", "Mode": "AllObjects"}


def test_literal_commas_and_braces_are_written_as_documented():
    run = run_for([UPLOAD], shape("Hosts=a{comma}b,Json={{{key}}}"))
    assert run.parameters == {"Hosts": "a,b", "Json": "{" + UPLOAD.key + "}"}


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("InputDataUrl", "pair 'InputDataUrl' is not Name=value"),
        ("A={uri},B={objectkey}", "pair 'B={objectkey}' has an unknown placeholder {objectkey}"),
        ("A={uri", "pair 'A={uri' has a lone '{'"),
        ("A=1,A=2", "maps A more than once"),
        ("Bad Name=1", "pair 'Bad Name=1': 'Bad Name' is not a SageMaker parameter name"),
        ("", "PipelineParameters is empty"),
        ("TrainingInstanceType=ml.m5.2xlarge", "passes the run no data: map the pipeline's input to {uri}"),
    ],
)
def test_a_malformed_mapping_is_refused_naming_the_pair(mapping, message):
    with pytest.raises(MappingError, match=message.replace("{", r"\{").replace("(", r"\(")):
        parse_mapping(mapping)


names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,20}", fullmatch=True)
texts = st.text(alphabet=st.characters(blacklist_characters="{},"), max_size=30)
values = st.lists(st.one_of(texts, st.sampled_from([f"{{{name}}}" for name in PLACEHOLDERS])), max_size=4).map("".join)


@given(pairs=st.dictionaries(names, values, min_size=1, max_size=5), key=st.text(min_size=1, max_size=1024))
def test_any_key_s3_allows_renders_within_sagemakers_limits_or_is_refused_with_a_reason(pairs, key):
    mapping = ",".join([f"{name}={value}" for name, value in pairs.items() if name != "Data"] + ["Data={uri}"])
    obj = replace(UPLOAD, key=key)
    refusal = refusal_of(obj, shape(mapping))
    if refusal is None:
        rendered = run_for([obj], shape(mapping)).parameters
        assert set(rendered) == {*pairs, "Data"}
        assert all(len(value) <= MAX_VALUE_LENGTH for value in rendered.values())
    else:
        assert "at most" in refusal


def create_foreign_pipeline() -> None:
    boto3.client("sagemaker", region_name=REGION).create_pipeline(
        PipelineName=FOREIGN,
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": FOREIGN_PARAMETERS, "Steps": []}),
        RoleArn="arn:aws:iam::123456789012:role/pipeline",
        ClientRequestToken=str(uuid.uuid4()),
    )


def test_check_lists_the_pipelines_parameters_and_an_example_run(aws, capsys):
    create_foreign_pipeline()
    code = retrain_trigger(
        ["check", "--pipeline-name", FOREIGN, "--bucket", "data", "--pipeline-parameters", FOREIGN_MAPPING]
    )
    out = capsys.readouterr().out
    # MaxObjectsPerRun is 1000 unless the stack says otherwise: {uri} of a burst would be its manifest
    assert code == 1
    assert "MaxObjectsPerRun=1" in out
    assert "ProcessingInstanceCount (Integer, default 1)" in out


def test_check_refuses_a_name_the_pipeline_lacks_and_a_static_value_of_the_wrong_type(aws, capsys):
    create_foreign_pipeline()
    mapping = "InputBucket={bucket},InputKey={key},InputDataType={input_data_type},ProcessingInstanceCount=two"
    code = retrain_trigger(["check", "--pipeline-name", FOREIGN, "--pipeline-parameters", mapping])
    out = capsys.readouterr().out
    assert code == 1
    assert f"error: PipelineParameters maps InputBucket, which pipeline {FOREIGN} does not declare" in out
    assert "InputDataUrl (String, default 's3://sagemaker-sample/abalone.csv')" in out
    assert "error: ProcessingInstanceCount is an Integer parameter, and 'two' is not an Integer" in out


def foreign_core(mapping: str, **variables: str):
    from trigger.factory import build_core
    from trigger.settings import load_settings

    environment = {**os.environ, "PIPELINE_NAME": FOREIGN, "PIPELINE_PARAMETERS": mapping, **variables}
    return build_core(load_settings(environment))


def test_a_foreign_pipeline_gets_the_mapped_values_static_one_included(
    targets: TriggerTargets, lambda_context, monkeypatch
):
    import app

    create_foreign_pipeline()
    monkeypatch.setattr(app, "core", foreign_core(FOREIGN_MAPPING, MAX_OBJECTS_PER_RUN="1"))

    app.lambda_handler(load_event("sqs-upload.json"), lambda_context)

    sagemaker = boto3.client("sagemaker", region_name=REGION)
    [summary] = sagemaker.list_pipeline_executions(PipelineName=FOREIGN)["PipelineExecutionSummaries"]
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=summary["PipelineExecutionArn"])
    assert {p["Name"]: p["Value"] for p in parameters["PipelineParameters"]} == {
        "InputDataUrl": f"s3://{os.environ['DATA_BUCKET']}/{DATA_PREFIX}abalone.csv",
        "TrainingInstanceType": "ml.m5.2xlarge",
    }


def test_a_wrong_mapping_sends_the_uploads_to_the_dlq_with_the_reason_and_one_notification(
    targets: TriggerTargets, lambda_context, monkeypatch
):
    import app

    create_foreign_pipeline()
    monkeypatch.setattr(
        app, "core", foreign_core("InputBucket={bucket},InputKey={key},InputDataType={input_data_type}")
    )
    event = load_event("sqs-upload.json")

    app.lambda_handler(event, lambda_context)

    assert (
        boto3.client("sagemaker", region_name=REGION).list_pipeline_executions(PipelineName=FOREIGN)[
            "PipelineExecutionSummaries"
        ]
        == []
    )
    [dead] = targets.dead_letters()
    assert f"maps InputBucket, which pipeline {FOREIGN} does not declare; " in dead["reason"]
    assert f"pipeline {FOREIGN} declares: " in dead["reason"]
    assert "InputDataUrl (String" in dead["reason"]
    [told] = targets.notifications()
    assert told["subject"].startswith("Retraining NOT started")
    assert "InputDataUrl" in told["message"]
