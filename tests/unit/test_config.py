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


def test_only_pipeline_name_and_scheduler_table_are_required_and_the_policy_defaults_to_one_run_at_a_time():
    settings = load_settings({"PIPELINE_NAME": "retrain-pipeline", "SCHEDULER_TABLE_NAME": "t"})
    assert settings.pipeline_name == "retrain-pipeline"
    assert settings.notification_topic_arn == ""
    assert (settings.data_prefix, settings.data_suffix) == ("", "")
    assert settings.max_concurrent_executions == 1
    assert (settings.quiet_seconds, settings.min_seconds_between_runs) == (0, 0)
    assert settings.max_objects_per_run == 1000


def test_a_run_cannot_take_more_objects_than_its_item_holds():
    with pytest.raises(ConfigurationError, match="MAX_OBJECTS_PER_RUN"):
        load_settings({"PIPELINE_NAME": "p", "SCHEDULER_TABLE_NAME": "t", "MAX_OBJECTS_PER_RUN": "5000"})


def test_training_data_defaults_to_new_objects_and_all_objects_needs_a_prefix():
    required = {"PIPELINE_NAME": "retrain-pipeline", "SCHEDULER_TABLE_NAME": "t"}
    assert load_settings(required).all_objects_under is None
    settings = load_settings({**required, "TRAINING_DATA": "AllObjects", "DATA_PREFIX": "incoming/"})
    assert settings.all_objects_under == "incoming/"
    with pytest.raises(ConfigurationError, match="TRAINING_DATA=AllObjects needs a DATA_PREFIX"):
        load_settings({**required, "TRAINING_DATA": "AllObjects"})
    with pytest.raises(ConfigurationError, match="TRAINING_DATA"):
        load_settings({**required, "TRAINING_DATA": "Everything"})
