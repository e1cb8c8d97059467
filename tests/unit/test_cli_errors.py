"""The command-line tools answer an ordinary mistake with one line, never a traceback."""

from __future__ import annotations

import boto3
import pytest

from ops.cli import main as retrain_trigger
from pipeline.cli import main as pipeline_cli


@pytest.mark.parametrize(
    ("tool", "arguments", "prefix"),
    [
        (retrain_trigger, ["--stack-name", "nope", "status"], "retrain-trigger status: error: stack nope does not"),
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


def test_a_pipeline_not_yet_created_says_how_to_create_it(aws, capsys):
    assert retrain_trigger(["--region", "us-east-1", "--pipeline-name", "nope", "status"]) == 1
    err = capsys.readouterr().err
    assert "python -m pipeline upsert --stack-name" in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def nothing_configured(monkeypatch, tmp_path):
    """A machine where AWS was never set up: no credentials, no region, no config files."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never AWS, even if signing went through
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # an earlier command's session knew a region


def test_missing_credentials_are_one_line_with_the_fix(nothing_configured, capsys):
    assert retrain_trigger(["--region", "us-east-1", "--pipeline-name", "p", "status"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "retrain-trigger status: error: no AWS credentials: set AWS_PROFILE or run `aws configure`"


def test_a_missing_region_is_one_line_with_the_fix(nothing_configured, monkeypatch, capsys):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # without a region no endpoint can be built: nothing is sent
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert retrain_trigger(["--pipeline-name", "p", "status"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "retrain-trigger status: error: no AWS region: pass --region or set AWS_REGION"


def test_a_role_name_where_an_arn_is_needed_is_one_line_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert pipeline_cli(["definition", "--role-arn", "my-role", "--bucket", "b"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(
        "python -m pipeline definition: error: --role-arn my-role is not a role ARN: pass arn:aws:iam::"
    )


def test_a_command_without_the_names_it_needs_says_which_option_gives_them(monkeypatch, capsys):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert retrain_trigger(["status"]) == 1
    assert capsys.readouterr().err == (
        "retrain-trigger status: error: no pipeline name: pass --stack-name or --pipeline-name\n"
    )


@pytest.mark.parametrize("command", ["status", "dlq", "redrive", "backfill"])
@pytest.mark.parametrize("order", ["before", "after"])
def test_where_options_work_before_or_after_the_command(order, command):
    from ops.cli import parse_args

    options = ["--pipeline-name", "p", "--dlq-url", "d", "--queue-url", "q", "--bucket", "b", "--stack-name", "s"]
    args = parse_args([*options, command] if order == "before" else [command, *options])
    assert (args.pipeline_name, args.dlq_url, args.queue_url, args.bucket, args.stack_name) == ("p", "d", "q", "b", "s")


@pytest.mark.parametrize("command", ["definition", "upsert"])
@pytest.mark.parametrize("order", ["before", "after"])
def test_where_pipeline_options_work_before_or_after_the_command(order, command, monkeypatch):
    from pipeline.cli import parse_args

    monkeypatch.setenv("PIPELINE_NAME", "from-the-environment")
    options = ["--bucket", "b", "--region", "eu-west-1", "--role-arn", "r", "--stack-name", "s"]
    args = parse_args([*options, command] if order == "before" else [command, *options])
    assert (args.bucket, args.region, args.role_arn, args.stack_name) == ("b", "eu-west-1", "r", "s")
    assert args.pipeline_name == "from-the-environment"  # an option not given keeps its default
    assert parse_args(["--bucket", "b", command, "--bucket", "c"]).bucket == "c"  # after the command wins


def test_upsert_into_a_bucket_that_does_not_exist_is_one_line_with_the_fix(aws, capsys):
    role = "arn:aws:iam::123456789012:role/retrain-pipeline"
    assert pipeline_cli(["--region", "us-east-1", "--bucket", "no-such-bucket", "upsert", "--role-arn", role]) == 1
    err = capsys.readouterr().err
    assert err.startswith("python -m pipeline upsert: error: ")
    assert err.strip().endswith("check --bucket (the stack's DataBucketName), or use --stack-name")
    assert len(err.strip().splitlines()) == 1


def test_status_shows_the_latest_runs_first_and_no_more_than_the_limit(aws, capsys):
    from tests.aws import create_placeholder_pipeline

    create_placeholder_pipeline("p")
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bucket-of-runs")
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    arns = [
        sagemaker.start_pipeline_execution(
            PipelineName="p",
            PipelineParameters=[
                {"Name": "InputBucket", "Value": "bucket-of-runs"},
                {"Name": "InputKey", "Value": f"k{n}.csv"},
            ],
            ClientRequestToken=f"token-{n:032d}",
        )["PipelineExecutionArn"]
        for n in range(3)
    ]
    assert retrain_trigger(["--region", "us-east-1", "--pipeline-name", "p", "status", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 most recent execution(s) of p" in out
    assert arns[-1] in out
    assert arns[0] not in out


def test_output_piped_into_a_reader_that_stops_early_ends_without_a_traceback(capsys):
    """`retrain-trigger status | head -2`: the reader closes the pipe while the command still prints."""
    import argparse

    from pipeline.command_line import run_command

    def prints_into_a_closed_pipe(args: argparse.Namespace) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    args = argparse.Namespace(command="status", region="us-east-1", stack_name=None)
    assert run_command("retrain-trigger", args, prints_into_a_closed_pipe, lambda error: []) == 1
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--override", "MaxObjectsPerRun"], "--override MaxObjectsPerRun: write NAME=VALUE"),
        (["--pipeline-definition", "no-such.json", "--pipeline-name", "p"], "no-such.json: no such file"),
        (["--pipeline-definition", "pyproject.toml"], "--pipeline-definition needs --pipeline-name"),
    ],
)
def test_local_up_refuses_a_mistake_in_one_line(arguments, said):
    from ops.cli import main

    with pytest.raises(SystemExit, match=said):
        main(["local", "up", *arguments])


def test_local_up_passes_ones_own_pipeline_and_mapping_to_the_stack():
    from emulator.stack_options import StackOptions

    options = StackOptions(
        pipeline_name="mine", pipeline_parameters="InputDataUrl={uri}", overrides=("MaxObjectsPerRun=1",)
    )
    assert options.template_parameters() == {
        "MaxObjectsPerRun": "1",
        "PipelineName": "mine",
        "PipelineParameters": "InputDataUrl={uri}",
    }


def test_dlq_shows_each_key_decoded_as_the_user_wrote_it():
    from ops.dead_letters import describe_dead_letter
    from trigger.adapters.dead_letters import REASON_ATTRIBUTE
    from trigger.events import notification_body

    body = notification_body([{"bucket": "b", "key": "2026/my file+v1 (é).csv", "event_name": "ObjectCreated:Put"}])
    assert "my+file" in body or "my%20file" in body  # the body is encoded as S3 sends it
    lines = describe_dead_letter(
        {"MessageId": "m", "Body": body, "MessageAttributes": {REASON_ATTRIBUTE: {"StringValue": "why"}}}
    )
    assert lines == ["- m", "    object   s3://b/2026/my file+v1 (é).csv", "    reason   why"]


def test_a_local_stack_that_could_not_deploy_says_why_in_one_line(tmp_path):
    from emulator.local_stack import _why_it_stopped

    log = tmp_path / "log"
    log.write_text(
        "Traceback (most recent call last):\n  File ...\n"
        "RuntimeError: stack retrain-trigger-local: CREATE_FAILED PipelineTargets: PipelineParameters: "
        "InputDataUrl={uri}: EventBridge cannot pass this value\n",
        encoding="utf-8",
    )
    said = _why_it_stopped(log)
    assert said.startswith("stack retrain-trigger-local: CREATE_FAILED PipelineTargets: PipelineParameters:")
    assert said.endswith(f"(the whole log: {log})")
