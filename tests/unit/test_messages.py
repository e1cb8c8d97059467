from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_runs import SHAPE, UPLOAD
from trigger.notifications import console_link, run_not_started, run_started
from trigger.runs import run_for

EXECUTION = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/retrain-pipeline/execution/abc123"


def test_console_link_points_at_the_pipeline_in_its_region():
    assert console_link(EXECUTION) == (
        "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/pipelines/retrain-pipeline"
    )


# Any key a run accepts: up to 1,024 characters, each part short enough to be a file name.
accepted_keys = (
    st.lists(st.text(max_size=60), min_size=1, max_size=17).map("/".join).filter(lambda key: 0 < len(key) <= 1024)
)


@given(key=accepted_keys)
def test_subjects_are_what_sns_accepts_for_any_key(key):
    run = run_for([replace(UPLOAD, key=key)], SHAPE)
    notifications = (
        run_started(run, EXECUTION),
        run_not_started(run, "x", permanent=False),
        run_not_started(run, "x", permanent=True),
    )
    for notification in notifications:
        assert len(notification.subject) < 100
        assert all(" " <= char <= "~" for char in notification.subject)


def test_a_failed_start_says_what_failed_and_what_happens_next():
    run = run_for([UPLOAD], SHAPE)
    transient = run_not_started(run, "ThrottlingException: slow down", permanent=False)
    assert "Reason: ThrottlingException: slow down" in transient.body
    assert "tried again with the same ClientRequestToken" in transient.body
    assert "dead-letter" not in transient.body
    permanent = run_not_started(run, "ValidationException: no such parameter", permanent=True)
    assert "moved to the trigger's dead-letter queue" in permanent.body
    assert "retrain-trigger redrive" in permanent.body
