"""The command-line tools answer an ordinary mistake with one line, never a traceback."""

from __future__ import annotations

import pytest

from ops.cli import main as retrain_trigger
from pipeline.cli import main as pipeline_cli


@pytest.mark.parametrize(
    ("tool", "arguments", "prefix"),
    [
        (retrain_trigger, ["--stack-name", "nope", "status"], "retrain-trigger status: error: "),
        (retrain_trigger, ["--pipeline-name", "nope", "status"], "retrain-trigger status: error: "),
        (pipeline_cli, ["upsert", "--stack-name", "nope"], "python -m pipeline upsert: error: "),
    ],
)
def test_a_stack_or_pipeline_that_does_not_exist_is_one_line(  # noqa: PLR0917
    aws, capsys, monkeypatch, tool, arguments, prefix
):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")  # read as the AWS CLI reads it

    assert tool(arguments) == 1

    err = capsys.readouterr().err
    assert err.startswith(prefix)
    assert "nope" in err
    assert len(err.strip().splitlines()) == 1
