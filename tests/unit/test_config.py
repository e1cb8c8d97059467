from __future__ import annotations

import pytest

from trigger.settings import ConfigurationError, load_settings


def test_missing_pipeline_name_fails_with_a_message_that_names_it():
    with pytest.raises(ConfigurationError, match="PIPELINE_NAME"):
        load_settings({"NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t"})


def test_empty_pipeline_name_is_refused_too():
    with pytest.raises(ConfigurationError, match="PIPELINE_NAME"):
        load_settings({"PIPELINE_NAME": ""})


def test_missing_scheduler_table_fails_with_a_message_that_names_it():
    with pytest.raises(ConfigurationError, match="SCHEDULER_TABLE_NAME"):
        load_settings({"PIPELINE_NAME": "retrain-pipeline"})


REQUIRED = {"PIPELINE_NAME": "retrain-pipeline", "SCHEDULER_TABLE_NAME": "t", "MANIFEST_PREFIX": "m/"}


def test_only_pipeline_name_scheduler_table_and_manifest_prefix_are_required_and_one_run_at_a_time_is_the_default():
    settings = load_settings(REQUIRED)
    assert settings.pipeline_name == "retrain-pipeline"
    assert settings.notification_topic_arn == ""
    assert (settings.data_prefix, settings.data_suffix) == ("", "")
    assert settings.max_concurrent_executions == 1
    assert (settings.quiet_seconds, settings.min_seconds_between_runs) == (0, 0)
    assert settings.max_objects_per_run == 1000


def test_a_run_cannot_take_more_objects_than_its_item_holds():
    with pytest.raises(ConfigurationError, match="MAX_OBJECTS_PER_RUN"):
        load_settings({**REQUIRED, "MAX_OBJECTS_PER_RUN": "5000"})


def test_training_data_defaults_to_new_objects_and_all_objects_needs_a_prefix():
    required = REQUIRED
    assert load_settings(required).run_shape.training_data == "NewObjects"
    settings = load_settings({**required, "TRAINING_DATA": "AllObjects", "DATA_PREFIX": "incoming/"})
    assert (settings.run_shape.training_data, settings.run_shape.data_prefix) == ("AllObjects", "incoming/")
    with pytest.raises(ConfigurationError, match="TRAINING_DATA=AllObjects needs a DATA_PREFIX"):
        load_settings({**required, "TRAINING_DATA": "AllObjects"})
    with pytest.raises(ConfigurationError, match="TRAINING_DATA"):
        load_settings({**required, "TRAINING_DATA": "Everything"})


def test_the_default_mapping_is_the_bundled_pipelines_and_a_malformed_one_fails_at_start_naming_the_pair():
    assert load_settings(REQUIRED).mapping.names == [
        "InputBucket",
        "InputKey",
        "InputDataType",
        "TrainingData",
        "InputBytes",
    ]
    with pytest.raises(ConfigurationError, match="PipelineParameters pair 'InputDataUrl' is not Name=value"):
        load_settings({**REQUIRED, "PIPELINE_PARAMETERS": "InputDataUrl"})


def test_a_mapping_that_would_pass_a_manifest_as_data_is_refused_unless_runs_take_one_object():
    mapping = {"PIPELINE_PARAMETERS": "InputDataUrl={uri}"}
    with pytest.raises(ConfigurationError, match="MaxObjectsPerRun=1"):
        load_settings({**REQUIRED, **mapping})
    assert load_settings({**REQUIRED, **mapping, "MAX_OBJECTS_PER_RUN": "1"}).mapping.names == ["InputDataUrl"]
    with_type = "InputDataUrl={uri},InputType={input_data_type}"
    assert load_settings({**REQUIRED, "PIPELINE_PARAMETERS": with_type}).mapping.names == ["InputDataUrl", "InputType"]


def test_each_function_reads_its_own_settings_and_the_run_ended_function_needs_its_table_and_reports():
    from trigger.settings import RunEndedSettings, SweepSettings, TriggerSettings

    with pytest.raises(
        ConfigurationError, match=r"IDEMPOTENCY_TABLE_NAME: Field required; RUNS_PREFIX: Field required"
    ):
        load_settings(REQUIRED, RunEndedSettings)
    ended = load_settings({**REQUIRED, "IDEMPOTENCY_TABLE_NAME": "i", "RUNS_PREFIX": "runs/"}, RunEndedSettings)
    assert (ended.idempotency_table_name, ended.runs_prefix, ended.pipeline_name) == ("i", "runs/", "retrain-pipeline")
    topic = {"RETRAIN_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t", "DATA_PREFIX": "in/"}
    with pytest.raises(ConfigurationError, match="DATA_BUCKET: Field required"):  # what a request on the prefix reads
        load_settings({**REQUIRED, **topic}, TriggerSettings)
    with pytest.raises(ConfigurationError, match="RETRAIN_TOPIC_ARN asks for runs on everything under DATA_PREFIX"):
        load_settings({**REQUIRED, **topic, "DATA_BUCKET": "b", "DATA_PREFIX": ""}, TriggerSettings)
    trigger = load_settings({**REQUIRED, **topic, "DATA_BUCKET": "b"}, TriggerSettings)
    assert trigger.retrain_topic_arn.endswith(":t")
    # what another function needs is not part of a function's settings: nothing optional stands in for it
    assert "runs_prefix" not in TriggerSettings.model_fields
    assert "retrain_topic_arn" not in RunEndedSettings.model_fields
    assert set(SweepSettings.model_fields) == set(RunEndedSettings.model_fields) - {
        "idempotency_table_name",
        "runs_prefix",
        "stack_name",
    }
