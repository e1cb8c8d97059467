"""Upload -> notification -> SQS -> event source -> real handler -> pipeline run, on moto's server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import boto3
import pytest

from emulator.moto_server import REGION
from tests.aws import create_placeholder_pipeline
from tests.faults import inject_faults, json_error
from tests.template_values import DATA_PREFIX, DEFAULTS

pytestmark = pytest.mark.end_to_end
ROOT = Path(__file__).resolve().parents[2]


def queue_depth(queue_url: str) -> int:
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


ACCEPTED = [
    f"{DATA_PREFIX}plain.csv",
    f"{DATA_PREFIX}my file.csv",
    f"{DATA_PREFIX}my+file.csv",
    f"{DATA_PREFIX}données/été 2026/résultats_日本.csv",
    f"{DATA_PREFIX}region=eu/year=2026/part 0001.csv",
    f"{DATA_PREFIX}100% done.csv",
]
IGNORED = ["other/plain.csv", f"{DATA_PREFIX}notes.txt"]


def test_each_upload_starts_one_run_with_its_decoded_key(local_run):
    create_placeholder_pipeline(local_run.deployment.pipeline_name)
    s3 = boto3.client("s3", region_name=REGION)
    for key in ACCEPTED + IGNORED:
        s3.put_object(Bucket=local_run.deployment.bucket, Key=key, Body=b"x,y\n1,2\n")

    report = local_run.event_source.drain()
    local_run.settle()

    targets = local_run.targets
    # every accepted upload, decoded, in exactly one run; what arrives during a run shares the next
    trained = [key for run in targets.trained_keys() for key in run]
    assert sorted(trained) == sorted(ACCEPTED)
    assert {e["Parameters"]["InputBucket"] for e in targets.executions()} == {local_run.deployment.bucket}
    # the bucket's test event plus one message per accepted upload; the filter kept the rest out
    assert report.received == len(ACCEPTED) + 1
    assert report.reported_failures == 0
    assert len(targets.notifications()) == len(targets.executions())
    assert queue_depth(local_run.deployment.queue_url) == 0
    assert queue_depth(local_run.deployment.dead_letter_queue_url) == 0


def test_a_poison_message_reaches_the_dlq_on_its_first_delivery_and_nothing_else_does(local_run):
    create_placeholder_pipeline(local_run.deployment.pipeline_name)
    sqs = boto3.client("sqs", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    sqs.send_message(QueueUrl=local_run.deployment.queue_url, MessageBody="not a notification")
    s3.put_object(Bucket=local_run.deployment.bucket, Key=f"{DATA_PREFIX}good.csv", Body=b"x\n1\n")

    report = local_run.event_source.drain()

    targets = local_run.targets
    assert targets.trained_keys() == [[f"{DATA_PREFIX}good.csv"]]
    # not retried MaxReceiveCount times: the function put it in the DLQ at once, with the reason
    assert report.reported_failures == 0
    [dead] = targets.dead_letters()
    assert dead["body"] == "not a notification"
    assert dead["reason"].startswith("the body is not JSON: ")
    assert queue_depth(local_run.deployment.queue_url) == 0


def test_a_sagemaker_outage_delays_runs_but_loses_none(local_run):
    create_placeholder_pipeline(local_run.deployment.pipeline_name)
    s3 = boto3.client("s3", region_name=REGION)
    keys = [f"{DATA_PREFIX}burst/{n:03d}.csv" for n in range(20)]
    for key in keys:
        s3.put_object(Bucket=local_run.deployment.bucket, Key=key, Body=b"x\n1\n")

    # the first 25 attempts are throttled: two dispatches exhaust their retries; the run waits with its token
    clients = [local_run.app.core.clients.sagemaker, local_run.sweep.core.clients.sagemaker]
    with ExitStack() as stack:
        logs = [
            stack.enter_context(
                inject_faults(
                    client, "StartPipelineExecution", json_error("ThrottlingException", 400), lambda n: n <= 25
                )
            )
            for client in clients
        ]
        report = local_run.event_source.drain()
        local_run.settle()

    assert sum(log.injected for log in logs) >= 25
    assert report.reported_failures == 0  # the uploads were recorded: nothing waits in the queue
    targets = local_run.targets
    assert sorted(key for run in targets.trained_keys() for key in run) == keys
    not_started = [n for n in targets.notifications() if n["subject"].startswith("Retraining NOT started")]
    assert len(not_started) == 1  # one run was held back, and it was told once, not per attempt
    assert queue_depth(local_run.deployment.queue_url) == 0
    assert queue_depth(local_run.deployment.dead_letter_queue_url) == 0


def run_demo(*arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m emulator.demo`, as a user starts it: none of the tests' AWS settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIPELINE", "NOTIFICATION"))}
    return subprocess.run(
        [sys.executable, "-m", "emulator.demo", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_make_demo_goes_from_upload_to_a_registered_model_and_drift_on_prod_to_one_retrain():
    result = run_demo("--drift")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"InputKey        {DATA_PREFIX}2026 11/diabetes data+v1.csv" in result.stdout
    assert f"notification    Retraining started: {DATA_PREFIX}2026 11/diabetes data+v1.csv" in result.stdout
    assert "status           Succeeded" in result.stdout
    # the demo plays the reviewer
    assert f"model-package/{DEFAULTS['ModelPackageGroupName']}/1 (Approved)" in result.stdout
    assert "   | Decision:  RMSE " in result.stdout  # in the run-status notification
    assert "decision         RMSE " in result.stdout  # and in the run's summary
    assert ", no model in production: registered" in result.stdout
    assert "metrics          MSE " in result.stdout
    # the approval went to staging, passed its smoke check, then to prod, which answers rows of the file
    assert "deploy          package version 1 Approved: update (version 1 to staging)" in result.stdout
    assert "(version 1 passed on staging: to prod)" in result.stdout
    assert "notification    Deployed version 1 to prod" in result.stdout
    before_drift, drift = result.stdout.split("== drift")
    answers = [line for line in before_drift.splitlines() if " <- " in line]
    assert len(answers) == 3  # the diabetes target is a number: prod answers a number for each row
    assert all(float(line.split(" <- ")[0]) > 0 for line in answers)
    # DRIFT=1: prod's captured requests, shifted, fail the check twice; the trigger starts one retrain
    assert drift.count("monitoring      retrain-trigger-local-prod-data-quality: CompletedWithViolations") == 2
    assert "bmi            baseline_drift_check: Baseline drift distance: " in drift
    assert "data_type_check" not in drift  # integers moved stay integers: only the values drifted
    assert "notification    Retraining started: drift on prod" in drift
    assert "   | Because:   Drift: age 0." in drift  # each drifted feature, its distance, the threshold
    assert "; bmi 0.532 > 0.1; " in drift
    assert "TrainingData    AllObjects" in drift  # a request covers the data prefix, not an upload
    assert "status           Succeeded" in drift
    assert "prod answers" in drift
    assert result.stdout.rstrip().splitlines()[-1].startswith("done in ")


def test_the_demo_runs_each_of_your_files_in_turn_on_as_many_hosts_as_asked_and_writes_one_json_object_per_run(
    tmp_path,
):
    from sklearn.datasets import load_breast_cancer

    good = tmp_path / "cancer.csv"
    load_breast_cancer(as_frame=True).frame.rename(columns={"target": "malignant"}).to_csv(good, index=False)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"city;malignant\n" + "Béziers;1\n".encode("latin-1") * 40)
    out = tmp_path / "runs.json"

    result = run_demo(
        "--data", str(good), "--data", str(latin1), "--target", "malignant", "--json", str(out),
        "--training-instance-count", "3",
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr  # both ended as the pipeline decided
    assert "Traceback" not in result.stdout + result.stderr
    assert "training hosts     3" in result.stdout  # Train ran as three hosts, each a process here
    assert "3 hosts: " in result.stdout  # the Train step's line: what each host did
    registered, refused = json.loads(out.read_text())
    contract = {
        "upload",
        "execution_arn",
        "status",
        "failure_step",
        "failure_reason",
        "problem_type",
        "metrics",
        "baseline_metrics",
        "model_package_arn",
        "data_report",
        "report",
    }
    assert contract <= set(registered)
    assert contract <= set(refused)
    assert registered["upload"] == f"{DATA_PREFIX}cancer.csv"
    assert (registered["status"], registered["problem_type"]) == ("Succeeded", "binary")
    assert registered["model_package_arn"].endswith(f":model-package/{DEFAULTS['ModelPackageGroupName']}/1")
    assert registered["metrics"]["auc"] > registered["baseline_metrics"]["auc"] == 0.5
    assert registered["data_report"]["target"] == "malignant"
    reason = (
        "latin1.csv is not UTF-8 text (byte 0xe9 at offset 16); save it as UTF-8 (with or without BOM) "
        "and upload it again"
    )
    assert (refused["status"], refused["failure_step"], refused["failure_reason"]) == ("Failed", "DataRefused", reason)
    assert refused["model_package_arn"] is None
    assert refused["report"] is None  # the run ended before Evaluate
    assert f"Reason:    the data was refused: {reason}" in refused["notification"]
    assert f"failed at        DataRefused: {reason}" in result.stdout
    # prod serves the cancer model, and answers rows of its own file (not the refused last one): classes
    answers = [line.split(" <- ")[0].strip() for line in result.stdout.splitlines() if " <- " in line]
    assert len(answers) == 3
    assert set(answers) <= {"0", "1"}


def champion_files(folder: Path) -> list[Path]:
    """A first file, the same records with noisier labels, then twice as many clean records."""
    from emulator.sample_data import friedman_csv

    files = {
        "good.csv": friedman_csv(),
        "noisy.csv": friedman_csv(noise=5.0),
        "more.csv": friedman_csv() + friedman_csv(seed=1).split(b"\n", 1)[1],
    }
    for name, body in files.items():
        (folder / name).write_bytes(body)
    return [folder / name for name in files]


def test_a_model_replaces_production_only_when_it_is_better(tmp_path):
    out = tmp_path / "runs.json"
    arguments = [option for path in champion_files(tmp_path) for option in ("--data", str(path))]

    result = run_demo(*arguments, "--json", str(out))

    assert result.returncode == 0, result.stdout + result.stderr
    good, noisy, more = json.loads(out.read_text())
    assert [run["registered"] for run in (good, noisy, more)] == [True, False, True]
    assert [run["status"] for run in (good, noisy, more)] == ["Succeeded"] * 3  # not registered is no failure
    assert good["champion_metrics"] is None
    assert noisy["champion_metrics"]["rmse"] < noisy["metrics"]["rmse"]
    assert more["champion_metrics"]["rmse"] > more["metrics"]["rmse"]
    versus = f"RMSE {noisy['metrics']['rmse']:.4g} vs production {noisy['champion_metrics']['rmse']:.4g}"
    assert noisy["decision"] == f"not better than production ({versus}): not registered"
    assert f"Decision:  not better than production ({versus})" in noisy["notification"]
    assert "production model kept" in result.stdout
    # TrainingData=NewObjects: each run trained on its own upload
    assert [run["trained_objects"] for run in (good, noisy, more)] == [[run["upload"]] for run in (good, noisy, more)]
    # The third run met the first model, the one in production, not the rejected second
    assert more["model_package_arn"].endswith("/2")
    assert good["model_package_arn"] in more["notification"]
    # prod served the first model, kept it through the second run, then took the third's
    deployed = [line for line in result.stdout.splitlines() if "notification    Deployed version" in line]
    assert [line.split("notification    ")[1] for line in deployed] == [
        "Deployed version 1 to prod",
        "Deployed version 2 to prod",
    ]
    assert "   | Prod (retrain-trigger-local-prod) now serves version 2 (it served version 1)." in result.stdout
    assert "-prod-v2-" in next(line for line in result.stdout.splitlines() if line.startswith("  prod   "))


def test_with_all_objects_each_run_trains_on_every_upload_so_far(tmp_path):
    out = tmp_path / "runs.json"
    arguments = [option for path in champion_files(tmp_path) for option in ("--data", str(path))]

    result = run_demo(*arguments, "--training-data", "AllObjects", "--json", str(out))

    assert result.returncode == 0, result.stdout + result.stderr
    runs = json.loads(out.read_text())
    uploads = [run["upload"] for run in runs]
    assert [sorted(run["trained_objects"]) for run in runs] == [sorted(uploads[: n + 1]) for n in range(3)]
    # The trigger listed the prefix once and handed the run that list: nothing listed it again
    assert runs[2]["data_report"]["lineage"]["input"].endswith("/input.manifest")
