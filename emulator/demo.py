"""`make demo`: an upload becomes a registered model, then the model in prod, on this machine, against moto.

    python -m emulator.demo [--data FILE.csv ... --target COLUMN] [--problem-type TYPE] [--json OUT]
                            [--training-data NewObjects|AllObjects] [--id-column COLUMN]
                            [--no-auto-approve] [--processing-engine auto|pandas|spark]
                            [--spark-threshold-bytes N] [--training-instance-count N]
                            [--verbose] [--strict]

moto's server plays AWS; the resources are those template.yaml declares; the pipeline is the real
definition built with the SageMaker SDK and upserted; the real Lambda handler starts the run; the
local runner executes that run's steps, each with the Python and libraries of its SageMaker image.

Without --data it uploads the diabetes data set that ships with scikit-learn. Each --data file is
uploaded in turn, and its run ends before the next upload, on the same local stack, so each run
meets the model the previous ones put in production. The demo plays the reviewer: the pipeline's
AutoApprove is on, so a model that beats production is approved and becomes the next run's
champion (--no-auto-approve leaves new models PendingManualApproval, the deployed default). The
stack deploys (Deployment Serverless, a short bake: emulator/demo_serving.py): each approval goes to
staging, is smoke checked, then to prod; at the end prod answers rows of the last file. The
exit status is 0 when every run ended as the pipeline decided (registered, not registered, or
refused with a reason); it is non-zero only when the local tooling itself failed, or, with
--strict, when any run did not succeed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from emulator import invoke_endpoint
from emulator.alarms import evaluate_alarms
from emulator.demo_drift import DRIFT_STANDARD_DEVIATIONS, monitor, send_to_prod, shifted_requests
from emulator.demo_serving import (
    DEMO_DEPLOYMENT,
    DEMO_DRIFT_DEPLOYMENT,
    deployment_summary,
    prod_execution,
    show_deployment_steps,
    show_prod,
)
from emulator.deploy_function import LocalDeployFunction
from emulator.deployment import LocalDeployment, deploy_locally, function_environment, load_template, parameter_defaults
from emulator.endpoint_containers import LocalFleets
from emulator.event_source import QueueEventSource
from emulator.moto_server import REGION, running_moto_server
from emulator.pipeline_runner import LocalPipelineRunner, RunResult, StepResult, UnsupportedStep
from emulator.sample_data import diabetes_csv
from emulator.status_events import record_in_moto, status_change_event
from emulator.step_environments import EnvironmentNotReady, MissingInterpreter, create, environment
from ops.queues import peek
from ops.report import download_report
from pipeline.cli import upsert
from pipeline.config import PipelineConfig, runs_prefix
from pipeline.definition import definition_json
from pipeline.images import SPARK
from pipeline.parameters import PROCESSING_ENGINES
from trigger.adapters.dead_letters import REASON_ATTRIBUTE
from trigger.events import S3EventNotification
from trigger.reports import describe_metrics

# A key that only arrives intact if it is decoded: a space, a plus and folders.
# Under the stack's DataPrefix: a folder with a space, a name with a space and a plus.
DEMO_NAME = "2026 11/diabetes data+v1.csv"
# The event source gathers a burst this long before invoking the function: the template's
# BatchingWindowSeconds is a minute, which the demo, one upload at a time, would only wait out.
DEMO_BATCHING_WINDOW_SECONDS = "1"
REPORTS = Path("demo-reports")  # where each run's report.html is downloaded to, beside where the demo runs
PROBLEM_TYPES = ("auto", "regression", "binary", "multiclass")


class ToolingFailed(RuntimeError):
    """The local stack, not the data, failed: no run could be started or followed."""


def read_notifications(inbox_queue_url: str) -> list[dict[str, Any]]:
    """The SNS envelopes delivered to the inbox queue subscribed to the topic."""
    sqs = boto3.client("sqs", region_name=REGION)
    notifications: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=inbox_queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return notifications
        for message in messages:
            notifications.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=inbox_queue_url, ReceiptHandle=message["ReceiptHandle"])


def local_pipeline_config(deployment: LocalDeployment, **defaults: Any) -> PipelineConfig:
    """The pipeline as `upsert` would configure it for this stack; ``defaults`` set parameter defaults."""
    return PipelineConfig(
        region=REGION,
        role_arn=deployment.stack.outputs["PipelineExecutionRoleArn"],
        default_bucket=deployment.bucket,
        pipeline_name=deployment.pipeline_name,
        model_package_group_name=deployment.parameters["ModelPackageGroupName"],
        **defaults,
    )


def _fresh_import(module: str) -> Any:
    """Import a function's module and its package anew, as a cold start does, so that its clients,
    settings and logger follow the current environment."""
    for name in [name for name in sys.modules if name in (module, "trigger") or name.startswith("trigger.")]:
        del sys.modules[name]
    return importlib.import_module(module)


@dataclass(frozen=True)
class Upload:
    key: str
    body: bytes

    @classmethod
    def of_file(cls, path: Path, prefix: str, suffix: str) -> Upload:
        """Under the data prefix, with the suffix the notification filter wants."""
        name = path.name if path.name.endswith(suffix) else path.name + suffix
        return cls(key=f"{prefix}{name}", body=path.read_bytes())


@dataclass
class DemoRun:
    """One upload and how its run ended; `as_json` is the --json contract."""

    upload: str
    execution_arn: str
    result: RunResult
    notification: str = ""
    upload_to_end_seconds: float = 0.0
    report: Path | None = None  # report.html, downloaded
    no_report: str = ""  # why there is none

    def as_json(self) -> dict[str, Any]:
        evaluation = self.result.evaluation or {}
        report = self.result.data_report or {}
        champion = evaluation.get("champion") or {}
        return {
            "upload": self.upload,
            "execution_arn": self.execution_arn,
            "status": self.result.status,
            "failure_step": self.result.failure_step,
            "failure_reason": self.result.failure_reason or None,
            "problem_type": (report.get("problem_type") or {}).get("chosen"),
            "metrics": evaluation.get("metrics", {}),
            "baseline_metrics": evaluation.get("baseline_metrics", {}),
            "model_package_arn": self.result.model_package_arn,
            "data_report": report,
            "champion_metrics": champion.get("metrics"),  # null: no model in production to compare with
            "registered": self.result.model_package_arn is not None,
            "trained_objects": [o["key"] for o in (report.get("lineage") or {}).get("objects", [])],
            "decision": (evaluation.get("decision") or {}).get("summary"),
            "notification": self.notification,
            "report": str(self.report) if self.report else None,
            "seconds": round(self.upload_to_end_seconds, 1),
        }


@dataclass
class DemoOutcome:
    ok: bool
    runs: list[DemoRun] = field(default_factory=list)
    problem: str = ""
    deployments: list[dict[str, Any]] = field(default_factory=list)  # the deploy function's answers

    @property
    def upload_to_registered_seconds(self) -> float | None:
        registered = [run.upload_to_end_seconds for run in self.runs if run.result.model_package_arn]
        return registered[-1] if registered else None


class StepProgress:
    """Shows a step while it runs, with its elapsed time, then its result on the same line."""

    def __init__(self, say: Callable[[str], None], live: bool) -> None:
        self.say = say
        self.live = live
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    def __call__(self, step: StepResult) -> None:
        if step.status == "Executing":
            self._start(step)
            return
        self._end()
        timing = f"{step.seconds:6.1f} s" if step.status != "Skipped" else " " * 8
        self.say(f"   {step.name:<28} {step.step_type:<14} {step.status:<10}{timing}  {step.detail}")

    def _start(self, step: StepResult) -> None:
        """On a terminal the line counts up in place; elsewhere (a log, CI) a line every 10 s."""
        if not self.live:
            self.say(f"   {step.name:<28} {step.step_type:<14} running ...")
        self._stop.clear()
        started = time.monotonic()

        def tick() -> None:
            while not self._stop.wait(0.5 if self.live else 10):
                elapsed = time.monotonic() - started
                line = f"   {step.name:<28} {step.step_type:<14} running {elapsed:5.1f} s"
                if self.live:
                    sys.stdout.write(f"\r{line}")
                    sys.stdout.flush()
                else:
                    self.say(line)

        self._ticker = threading.Thread(target=tick, daemon=True)
        self._ticker.start()

    def _end(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None
            if self.live:
                sys.stdout.write("\r\033[K")
                sys.stdout.flush()


def demo_overrides(training_data: str | None, *, drift: bool = False) -> dict[str, str]:
    """The template parameters the demo deploys with: its deployment, its short batching window."""
    return {
        **(DEMO_DRIFT_DEPLOYMENT if drift else DEMO_DEPLOYMENT),
        "BatchingWindowSeconds": DEMO_BATCHING_WINDOW_SECONDS,
        **({"TrainingData": training_data} if training_data else {}),
    }


class Demo:
    def __init__(self, say: Callable[[str], None] = print, verbose: bool = False, live: bool = False) -> None:
        self.say = say
        self.verbose = verbose
        self.progress = StepProgress(say, live)

    def run(
        self,
        uploads: list[Upload] | None = None,
        *,
        target: str | None = None,
        problem_type: str = "auto",
        training_data: str | None = None,  # the TrainingData template parameter; None: its default
        auto_approve: bool = True,
        id_column: str = "",
        processing_engine: str = "auto",
        spark_threshold_bytes: int | None = None,
        training_instance_count: int = 1,
        drift: bool = False,
    ) -> DemoOutcome:
        started = time.monotonic()
        outcome = DemoOutcome(ok=False)
        with running_moto_server() as endpoint:
            deployment = deploy_locally(demo_overrides(training_data, drift=drift))
            defaults: dict[str, Any] = {
                "problem_type": problem_type,
                "auto_approve": auto_approve,
                "id_column": id_column,
                "processing_engine": processing_engine,
                "training_instance_count": training_instance_count,
            }
            if spark_threshold_bytes is not None:
                defaults["spark_threshold_bytes"] = spark_threshold_bytes
            if target:
                defaults["target_column"] = target
            config = local_pipeline_config(deployment, **defaults)
            outcome.problem = self.prepare_spark(config, uploads or [])
            if outcome.problem:
                return outcome
            self.say("building the pipeline definition with the SageMaker SDK (offline) ...")
            pipeline_arn = upsert(config, definition_json(config))
            self.show_deployment(deployment, endpoint, pipeline_arn, config)
            event_source = self.start_function(deployment)
            demo_upload = Upload(deployment.parameters["DataPrefix"] + DEMO_NAME, diabetes_csv())
            stack = (deployment, config, event_source)
            if not self._serve(uploads or [demo_upload], stack, outcome, drift=drift):
                return outcome
        outcome.ok = True
        self.say("")
        self.say(f"done in {time.monotonic() - started:.1f} s")
        return outcome

    def _serve(
        self,
        uploads: list[Upload],
        stack: tuple[LocalDeployment, PipelineConfig, QueueEventSource],
        outcome: DemoOutcome,
        *,
        drift: bool,
    ) -> bool:
        """Each upload's run and deployments, prod's answers, and with ``drift`` the drift retrain.
        False when the tooling failed (the outcome says why)."""
        deployment, config, _ = stack
        with self.serving(deployment) as deploy:
            if not self._each_upload(uploads, stack, deploy, outcome):
                return False
            self.show_summary(outcome.runs, config)
            self.say("")
            self.show_prod(deploy, outcome.runs, uploads, config)
            if drift and not self.drift(uploads, stack, deploy, outcome):
                return False
            outcome.deployments = deployment_summary(deploy)
        return True

    def _each_upload(
        self,
        uploads: list[Upload],
        stack: tuple[LocalDeployment, PipelineConfig, QueueEventSource],
        deploy: LocalDeployFunction,
        outcome: DemoOutcome,
    ) -> bool:
        """Each upload in turn: its run, the deployments its approval started, what a person was told.
        False when the tooling failed (the outcome says why)."""
        deployment, config, event_source = stack
        for number, upload in enumerate(uploads, start=1):
            try:
                outcome.runs.append(self.run_one(number, upload, deployment, config, event_source))
                show_deployment_steps(self.say, deploy, "7.")
                evaluate_alarms()  # the DLQ's alarm, after an upload that could never train
                self.show_notifications(deployment, "8.")
            except (ToolingFailed, UnsupportedStep, EnvironmentNotReady) as failure:
                outcome.problem = str(failure)
                self.say(f"FAILED: {failure}")
                return False
        return True

    def drift(
        self,
        uploads: list[Upload],
        stack: tuple[LocalDeployment, PipelineConfig, QueueEventSource],
        deploy: LocalDeployFunction,
        outcome: DemoOutcome,
    ) -> bool:
        """Prod gets shifted rows; two monitoring executions find the drift; one retrain runs and is deployed
        if it wins. False when the tooling failed (the outcome says why)."""
        deployment, config, event_source = stack
        served = prod_execution(deploy)
        body = next((u.body for u, r in zip(uploads, outcome.runs, strict=False) if r.execution_arn == served), None)
        if body is None or not deploy.monitoring_schedule:
            self.say("drift: prod serves no model, or the stack watches no drift: nothing to check")
            return True
        self.say("")
        self.say("== drift: prod receives rows unlike its training data")
        answered, refused = send_to_prod(deploy, shifted_requests(body, config.target_column))
        self.say(
            f"1. requests        {answered} to prod, numeric columns moved by {DRIFT_STANDARD_DEVIATIONS:g} standard "
            "deviations; prod captures each (DataCaptureConfig)"
        )
        if not answered:
            outcome.problem = f"prod refused every shifted request: {refused}"
            self.say(f"FAILED: {outcome.problem}")
            return False
        monitor(self.say, deploy.monitoring_schedule, "2.")
        monitor(self.say, deploy.monitoring_schedule, "   again:", seconds_later=2, each=False)
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        before, since = _execution_arns(sagemaker, deployment.pipeline_name), time.monotonic()
        report = event_source.drain()
        self.say(f"   trigger         {report.invocations} invocation(s) for the two executions' events: one request")
        started = sorted(_execution_arns(sagemaker, deployment.pipeline_name) - before)
        if len(started) != 1:
            outcome.problem = f"the drift started {len(started)} executions instead of one"
            self.say(f"FAILED: {outcome.problem}")
            return False
        outcome.runs.append(self.follow("(drift)", started[0], deployment, config, since))
        show_deployment_steps(self.say, deploy, "7.")
        self.show_notifications(deployment, "8.")
        self.say("")
        self.show_prod(deploy, outcome.runs, uploads, config)
        return True

    def run_one(
        self,
        number: int,
        upload: Upload,
        deployment: LocalDeployment,
        config: PipelineConfig,
        event_source: QueueEventSource,
    ) -> DemoRun:
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        before = _execution_arns(sagemaker, deployment.pipeline_name)
        uploaded_at = time.monotonic()
        put = boto3.client("s3", region_name=REGION).put_object(
            Bucket=deployment.bucket, Key=upload.key, Body=upload.body
        )
        self.say("")
        self.say(f"== run {number}")
        self.say(f"1. uploaded        s3://{deployment.bucket}/{upload.key}")
        self.say(f"                   {len(upload.body):,} bytes, version {put.get('VersionId')}")
        self.show_messages(event_source)
        started = sorted(_execution_arns(sagemaker, deployment.pipeline_name) - before)
        refusal = _dead_letter_reason(deployment, upload.key) if not started else None
        if refusal is not None:  # the trigger refused it (an empty file): no run, the reason in the DLQ
            self.say(f"3. not started     the trigger put it in the dead-letter queue: {refusal}")
            result = RunResult(execution_arn="", status="NotStarted", failure_reason=refusal, failure_step="trigger")
            return DemoRun(upload.key, "", result, upload_to_end_seconds=time.monotonic() - uploaded_at)
        if len(started) != 1:
            self.show_notifications(deployment, "4.")
            raise ToolingFailed(f"the upload of {upload.key} started {len(started)} executions instead of one")
        return self.follow(upload.key, started[0], deployment, config, uploaded_at)

    def follow(
        self, key: str, execution_arn: str, deployment: LocalDeployment, config: PipelineConfig, since: float
    ) -> DemoRun:
        """A started run: its execution, its steps run locally, its end told, its report."""
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        self.show_execution(sagemaker, execution_arn)
        self.show_notifications(deployment, "4.")
        self.say("5. the execution's steps, run locally from the definition SageMaker holds:")
        result = LocalPipelineRunner(on_step=self.progress).run(execution_arn)
        record_in_moto(result)
        run = DemoRun(key, execution_arn, result, upload_to_end_seconds=time.monotonic() - since)
        told = self.tell_run_status(deployment, result)
        if len(told) != 1:
            raise ToolingFailed(f"the end of run {execution_arn} was notified {len(told)} times instead of once")
        run.notification = str(told[0]["Message"])
        run.report, not_drawn = download_report(
            boto3.client("s3", region_name=REGION), deployment.bucket, deployment.pipeline_name, execution_arn, REPORTS
        )
        run.no_report = f"Evaluate could not draw it: {not_drawn}" if not_drawn else "the run ended before Evaluate"
        self.show_run(run, config)
        return run

    def show_prod(
        self, deploy: LocalDeployFunction, runs: list[DemoRun], uploads: list[Upload], config: PipelineConfig
    ) -> None:
        """Prod answering rows of the file whose run trained the model it serves."""
        served = prod_execution(deploy)
        key = next((run.upload for run in runs if served and run.execution_arn == served), None)
        body = next((upload.body for upload in uploads if upload.key == key), None)
        release = deploy.deployer.stage("prod").serving
        what = f"version {release.version}, trained on {key}" if release and key else ""
        show_prod(self.say, deploy, body, config.target_column, what)

    @contextmanager
    def serving(self, deployment: LocalDeployment) -> Iterator[LocalDeployFunction]:
        """The deploy function, and the endpoints' containers it deploys (stopped at the end)."""
        fleets = LocalFleets()
        invoke_endpoint.install(fleets)
        try:
            yield LocalDeployFunction(deployment, fleets, configure=self._configure)
        finally:
            invoke_endpoint.uninstall()
            fleets.close()

    def _configure(self, environment: dict[str, str]) -> None:
        """A function's environment as the template sets it; without --verbose, its JSON logs and
        metrics stay quiet (the demo says what happened in its own lines)."""
        os.environ.update(environment)
        if not self.verbose:
            os.environ.update(POWERTOOLS_LOG_LEVEL="CRITICAL", POWERTOOLS_METRICS_DISABLED="true")

    def start_function(self, deployment: LocalDeployment) -> QueueEventSource:
        """The real function, configured as the template configures it, behind a local event source."""
        self._configure(function_environment(deployment))
        app = _fresh_import("app")
        event_source = QueueEventSource(
            deployment.queue_url,
            deployment.queue_arn,
            app.lambda_handler,
            batch_size=deployment.batch_size,
            context=deployment.stack.lambda_context("TriggerFunction"),
            batching_window_seconds=deployment.batching_window_seconds,
        )
        # S3 sent a test event when the notification was configured; the function acknowledges it.
        event_source.drain(idle_seconds=0.2)
        return event_source

    def tell_run_status(self, deployment: LocalDeployment, result: RunResult) -> list[dict[str, Any]]:
        """What SageMaker's status event makes the run status function send, as a person reads it."""
        self._configure(function_environment(deployment, "RunStatusFunction"))
        run_ended = _fresh_import("run_ended")
        run_ended.lambda_handler(status_change_event(result), deployment.stack.lambda_context("RunStatusFunction"))
        return self.show_notifications(deployment, "6.")

    def prepare_spark(self, config: PipelineConfig, uploads: list[Upload]) -> str:
        """Builds the Spark image's look-alike once when a run may preprocess with Spark: the engine is
        spark, or auto and the uploads together are over the threshold (with AllObjects a run reads them
        all). Returns why it could not, or ""."""
        total = sum(len(upload.body) for upload in uploads)
        if config.processing_engine == "pandas" or (
            config.processing_engine == "auto" and total <= config.spark_threshold_bytes
        ):
            return ""
        if not environment(SPARK).is_ready():
            self.say(f"building the look-alike of {SPARK.repository}:{SPARK.version} (once; a JDK from PyPI) ...")
            try:
                create(SPARK, say=self.say)
            except MissingInterpreter as missing:
                self.say(f"FAILED: {missing}")
                return str(missing)
        return ""

    def show_deployment(
        self, deployment: LocalDeployment, endpoint: str, pipeline_arn: str, config: PipelineConfig
    ) -> None:
        self.say(f"moto server        {endpoint}")
        self.say(f"data bucket        {deployment.bucket}")
        self.say(
            f"trigger queue      {deployment.queue_url}   batching window {deployment.batching_window_seconds:g} s"
            f" (the template's default is {parameter_defaults(load_template())['BatchingWindowSeconds']} s)"
        )
        self.say(f"dead-letter queue  {deployment.dead_letter_queue_url}")
        self.say(f"notification topic {deployment.topic_arn}")
        self.say(f"pipeline           {pipeline_arn}")
        self.say(f"target column      {config.target_column}   problem type {config.problem_type}")
        self.say(
            f"processing engine  {config.processing_engine}"
            + (f"   (Spark above {config.spark_threshold_bytes:,} bytes)" if config.processing_engine == "auto" else "")
        )
        self.say(f"training hosts     {config.training_instance_count}")
        self.say(
            f"training data      {deployment.parameters['TrainingData']}   "
            f"AutoApprove {str(config.auto_approve).lower()}"
            + ("   (the demo plays the reviewer)" if config.auto_approve else "")
        )

    def show_messages(self, event_source: QueueEventSource) -> None:
        report = event_source.drain()
        for event in report.events:
            for record in event["Records"]:
                for s3_record in json.loads(record["body"]).get("Records", []):
                    self.say(f"2. message         {record['messageId']} ({s3_record['eventName']})")
                    self.say(f"   key as sent     {s3_record['s3']['object']['key']}")
        self.say(
            f"   handler         {report.invocations} invocation(s), {report.deleted} message(s) deleted, "
            f"{report.reported_failures} reported as failed"
        )

    def show_execution(self, sagemaker: Any, arn: str) -> None:
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
        self.say(f"3. execution       {arn}")
        self.say(f"   display name    {described.get('PipelineExecutionDisplayName')}")
        for parameter in parameters:
            self.say(f"   {parameter['Name']:<15} {parameter['Value']}")

    def show_notifications(self, deployment: LocalDeployment, number: str) -> list[dict[str, Any]]:
        notifications = read_notifications(deployment.inbox_queue_url)
        for notification in notifications:
            self.say(f"{number} notification    {notification.get('Subject')}")
            for line in notification["Message"].splitlines():
                self.say(f"   | {line}")
        return notifications

    def show_run(self, run: DemoRun, config: PipelineConfig) -> None:
        say, result = self.say, run.result
        say("")
        say(f"  execution        {run.execution_arn}")
        say(f"  status           {result.status}")
        if result.failure_reason:
            say(f"  failed at        {result.failure_step}: {result.failure_reason}")
        report = result.data_report or {}
        if report.get("engine"):
            say(f"  preprocessed by  {report['engine']}")
        if report.get("problem_type"):
            chosen = report["problem_type"]
            say(f"  problem type     {chosen['chosen']} ({chosen['rule']})")
            rows = report["rows"]
            say(
                f"  rows             {rows['used']:,} used of {rows['rows_read']:,} read; "
                f"{rows['train']:,} train / {rows['validation']:,} validation / {rows['test']:,} test; "
                f"{len(report['features'])} features"
            )
        evaluation = result.evaluation
        if evaluation:
            say(f"  metrics          {describe_metrics(evaluation['metrics'])}")
            say(f"  baseline         {describe_metrics(evaluation['baseline_metrics'])}")
            say(f"  gate             {evaluation['gate']['summary']}")
            champion = evaluation.get("champion")
            if champion and champion.get("metrics"):
                say(f"  production       {describe_metrics(champion['metrics'])} ({champion['model_package_arn']})")
            say(f"  decision         {evaluation['decision']['summary']}")
        lineage = report.get("lineage") or {}
        if lineage.get("objects"):
            keys = [o["key"] for o in lineage["objects"]]
            shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
            verb = "trained on" if report.get("accepted") else "read"
            say(f"  {verb:<16} {len(keys)} object(s): {shown}")
        if result.model_package_arn:
            sagemaker = boto3.client("sagemaker", region_name=REGION)
            package = sagemaker.describe_model_package(ModelPackageName=result.model_package_arn)
            say(f"  model package    {result.model_package_arn} ({package['ModelApprovalStatus']})")
            containers = package["InferenceSpecification"]["Containers"]
            say(f"  model            {containers[min(1, len(containers) - 1)]['ModelDataUrl']}")
        else:
            say("  model package    none registered")
        execution_id = run.execution_arn.rsplit("/", 1)[-1]
        say(f"  artefacts        s3://{config.default_bucket}/{runs_prefix(config.pipeline_name)}{execution_id}/")
        say(f"  report           {run.report or 'none: ' + run.no_report}")
        say(f"  upload -> end    {run.upload_to_end_seconds:.1f} s")

    def show_summary(self, runs: list[DemoRun], config: PipelineConfig) -> None:
        if len(runs) < 2:
            return
        self.say("")
        self.say(f"Summary: {len(runs)} uploads to pipeline {config.pipeline_name}")
        for run in runs:
            if run.result.model_package_arn:
                sagemaker = boto3.client("sagemaker", region_name=REGION)
                package = sagemaker.describe_model_package(ModelPackageName=run.result.model_package_arn)
                ending = f"registered {run.result.model_package_arn} ({package['ModelApprovalStatus']})"
            elif run.result.failure_reason:
                ending = f"not registered: {run.result.failure_reason}"
            else:
                decision = ((run.result.evaluation or {}).get("decision") or {}).get("summary", "")
                ending = decision or "not registered"
            self.say(f"  {run.upload}: {run.result.status}, {ending}")


def _dead_letter_reason(deployment: LocalDeployment, key: str) -> str | None:
    """Why the trigger put the upload of ``key`` in the dead-letter queue, if it did."""
    sqs = boto3.client("sqs", region_name=REGION)
    for message in peek(sqs, deployment.dead_letter_queue_url, MessageAttributeNames=["All"]):
        try:
            keys = [r.s3.object.key for r in S3EventNotification.model_validate_json(message["Body"]).records]
        except ValueError:
            continue
        if key in keys:
            attributes: dict[str, Any] = message.get("MessageAttributes") or {}
            return str((attributes.get(REASON_ATTRIBUTE) or {}).get("StringValue") or "no reason attached")
    return None


def _execution_arns(sagemaker: Any, pipeline_name: str) -> set[str]:
    paginator = sagemaker.get_paginator("list_pipeline_executions")
    return {
        str(summary["PipelineExecutionArn"])
        for page in paginator.paginate(PipelineName=pipeline_name)
        for summary in page["PipelineExecutionSummaries"]
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator.demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, action="append", default=[], help="a CSV file to upload (repeatable)")
    parser.add_argument("--target", help="the column to predict (default: the pipeline's TargetColumn, 'target')")
    parser.add_argument("--problem-type", default="auto", choices=PROBLEM_TYPES)
    parser.add_argument("--json", type=Path, help="write one object per run to this file")
    training_data = load_template()["Parameters"]["TrainingData"]
    parser.add_argument(
        "--training-data",
        default=training_data["Default"],
        choices=training_data["AllowedValues"],
        help="the TrainingData template parameter: each run trains on its upload, or on every upload so far",
    )
    parser.add_argument("--id-column", default="", help="split rows by this column (the IdColumn parameter)")
    parser.add_argument(
        "--processing-engine",
        default=PipelineConfig.processing_engine,
        choices=PROCESSING_ENGINES,
        help="the ProcessingEngine parameter: pandas, spark (needs `make step-envs SPARK=1`), or auto (by size)",
    )
    parser.add_argument(
        "--spark-threshold-bytes",
        type=int,
        help="the SparkThresholdBytes parameter: auto uses Spark above it "
        f"(default {PipelineConfig.spark_threshold_bytes:,})",
    )
    parser.add_argument(
        "--training-instance-count",
        type=int,
        default=PipelineConfig.training_instance_count,
        help="the TrainingInstanceCount parameter: Train runs as this many hosts, each a process here",
    )
    parser.add_argument(
        "--no-auto-approve",
        action="store_true",
        help="leave new models PendingManualApproval (then no run has a model in production to beat)",
    )
    _switches(parser)
    args = parser.parse_args(argv)
    for path in args.data:
        if not path.is_file():
            parser.error(f"--data {path}: no such file")
    if args.training_instance_count < 1:
        parser.error(f"--training-instance-count {args.training_instance_count}: at least 1")
    if args.spark_threshold_bytes is not None and args.spark_threshold_bytes < 0:
        parser.error(f"--spark-threshold-bytes {args.spark_threshold_bytes}: at least 0")
    return args


def _switches(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--drift",
        action="store_true",
        help="then send prod shifted rows, run its drift check, and let the violation start one retrain",
    )
    parser.add_argument("--verbose", action="store_true", help="also print the function's logs and metrics")
    parser.add_argument("--strict", action="store_true", help="exit 3 when any run did not succeed (for CI)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    template = parameter_defaults(load_template())
    uploads = [Upload.of_file(path, template["DataPrefix"], template["DataSuffix"]) for path in args.data]
    demo = Demo(say=lambda text: print(text, flush=True), verbose=args.verbose, live=sys.stdout.isatty())
    outcome = demo.run(
        uploads or None,
        target=args.target,
        problem_type=args.problem_type,
        training_data=args.training_data,
        auto_approve=not args.no_auto_approve,
        id_column=args.id_column,
        processing_engine=args.processing_engine,
        spark_threshold_bytes=args.spark_threshold_bytes,
        training_instance_count=args.training_instance_count,
        drift=args.drift,
    )
    if args.json:
        args.json.write_text(json.dumps([run.as_json() for run in outcome.runs], indent=2) + "\n", encoding="utf-8")
        print(f"written to {args.json}")
    if not outcome.ok:
        return 1
    failed = [run.as_json()["status"] for run in outcome.runs if run.as_json()["status"] != "Succeeded"]
    if args.strict and failed:
        print(f"--strict: {len(failed)} of {len(outcome.runs)} run(s) did not succeed", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
