"""One factory builds the core from its settings: the three handlers and every test use it.
Tests give it moto's clients (and inject faults on them) and a clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from trigger.adapters.clients import Clients
from trigger.adapters.data_listing import DataListing
from trigger.adapters.dead_letters import DeadLetters
from trigger.adapters.deployment_records import DeploymentRecords
from trigger.adapters.endpoints import Endpoints
from trigger.adapters.manifests import ManifestStore
from trigger.adapters.monitoring import MonitoringSchedules
from trigger.adapters.monitoring_reports import MonitoringReports
from trigger.adapters.notifications import NotificationTopic
from trigger.adapters.pipeline_executions import PipelineExecutions
from trigger.adapters.run_reports import RunReportReader
from trigger.adapters.scheduler_table import SchedulerTable
from trigger.concurrency_cap import ConcurrencyCap
from trigger.deploy_settings import DeploySettings, load_deploy_settings
from trigger.deployer import Deployer
from trigger.dispatch import Dispatcher
from trigger.pending import PendingObjects
from trigger.pipeline_check import PipelineCheck
from trigger.queue_batch import QueueBatch
from trigger.run_ledger import RunLedger
from trigger.run_status import RunStatusNotifier
from trigger.scheduler import RunScheduler
from trigger.settings import RunEndedSettings, SchedulerSettings, TriggerSettings
from trigger.sources import SourceContext
from trigger.uploads import ObjectFilter


@dataclass
class Core:
    settings: SchedulerSettings
    clients: Clients
    scheduler: RunScheduler
    queue_batch: QueueBatch
    run_status: RunStatusNotifier
    check: PipelineCheck


def build_core(
    settings: SchedulerSettings, clients: Clients | None = None, clock: Callable[[], float] = time.time
) -> Core:
    """The core of any of the scheduler's functions; the parts only one function uses read its own settings."""
    clients = clients or Clients()
    ended = settings if isinstance(settings, RunEndedSettings) else None
    table = SchedulerTable(settings.scheduler_table_name, clients.dynamodb)
    cap = ConcurrencyCap(table, settings.pipeline_name, settings.max_concurrent_executions)
    ledger = RunLedger(table, settings.pipeline_name, cap)
    pending = PendingObjects(table, settings.pipeline_name)
    executions = PipelineExecutions(clients.sagemaker)
    topic = NotificationTopic(settings.notification_topic_arn, clients.sns if settings.notification_topic_arn else None)
    dead_letters = DeadLetters(settings.dead_letter_queue_url, clients.sqs) if settings.dead_letter_queue_url else None
    check = PipelineCheck(executions, settings.mapping, settings.pipeline_name)
    dispatcher = Dispatcher(
        pending=pending,
        cap=cap,
        ledger=ledger,
        executions=executions,
        manifests=ManifestStore(clients.s3),
        dead_letters=dead_letters,
        check=check,
        shape=settings.run_shape,
        policy=settings.run_policy,
        clock=clock,
        listing=DataListing(clients.s3),
    )
    scheduler = RunScheduler(dispatcher, pending, ledger, executions, topic, clock)
    return Core(
        settings=settings,
        clients=clients,
        scheduler=scheduler,
        queue_batch=QueueBatch(
            scheduler,
            ObjectFilter(settings.data_prefix, settings.data_suffix),
            settings.run_shape,
            dead_letters,
            _source_context(settings, clients),
        ),
        run_status=RunStatusNotifier(
            executions,
            RunReportReader(clients.s3, settings.data_bucket, ended.runs_prefix if ended else ""),
            ledger,
            topic,
            ended.stack_name if ended else "",
        ),
        check=check,
    )


def build_deployer(
    settings: DeploySettings | None = None, clients: Clients | None = None, clock: Callable[[], float] = time.time
) -> Deployer:
    """The deploy function's core: its own settings, the registry and endpoints, the stage records."""
    settings = settings or load_deploy_settings()
    clients = clients or Clients()
    topic = NotificationTopic(settings.notification_topic_arn, clients.sns if settings.notification_topic_arn else None)
    return Deployer(
        settings,
        Endpoints(clients.sagemaker, clients.sagemaker_runtime, clients.s3),
        DeploymentRecords(SchedulerTable(settings.scheduler_table_name, clients.dynamodb)),
        topic,
        clock,
        schedules=MonitoringSchedules(clients.sagemaker),
    )


def _source_context(settings: SchedulerSettings, clients: Clients) -> SourceContext:
    if not isinstance(settings, TriggerSettings):
        return SourceContext(settings.data_bucket)
    return SourceContext(
        settings.data_bucket,
        settings.retrain_topic_arn,
        settings.monitoring_schedule_arn,
        MonitoringReports(clients.s3).read if settings.monitoring_schedule_arn else None,
    )
