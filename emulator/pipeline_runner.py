"""Run a pipeline execution's steps on this machine, from the definition SageMaker (moto) holds.

moto records executions but runs nothing, and the SDK's local mode needs Docker. This runner
reads the definition that `python -m pipeline upsert` sent, resolves the execution's parameters,
and runs the steps in dependency order:

- Processing: the step's script runs with the Python and libraries of the image the step names
  (its look-alike environment, see pipeline/images.py); its S3 inputs are downloaded from (moto)
  S3 and its outputs uploaded to the S3 locations the definition names. A script that exits
  non-zero fails the step with what it wrote to /opt/ml/output/message (the job's ExitMessage).
- Training with the built-in XGBoost image: the algorithm's own training, imitated by
  emulator/images/xgboost_algorithm.py in that image's environment (its xgboost version, its
  hyperparameter checks), and ``model.tar.gz`` holding ``xgboost-model`` where SageMaker writes it.
- Condition: evaluated from the parameters and property files; branches may nest.
- Model / RegisterModel: CreateModel / CreateModelPackage on the SageMaker API (moto). The model
  package group is created when it does not exist, as SageMaker's register step creates it (the
  AWS samples' pipelines register into a group nothing else creates).
- Transform: a batch transform job, the model served by its containers' look-alikes
  (emulator/batch_transform.py).
- Fail: ends the run with the step's message.

A definition with a step of any other type, or a processing or training step on an image no
look-alike describes, is refused before any step runs, with that reason.
A processing job's program runs with the entrypoint and arguments its definition gives, its
/opt/ml mapped to a folder of that run (emulator/images/container_paths.py).
Instance types and counts, retries and caching are not imitated.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, ParamValidationError

from emulator import spark_job
from emulator.batch_transform import TransformFailed, TransformJob, run_transform
from emulator.moto_server import REGION
from emulator.step_environments import EnvironmentNotReady, environment, python_for
from emulator.training_hosts import (
    LOCAL_ADDRESS,
    REPLICATED,
    JobStopped,
    first_failure,
    free_port_pair,
    host_names,
    model_files,
    resource_config,
    run_hosts,
    share,
)
from pipeline.images import ALL_IMAGES, XGBOOST, UnknownImage, image_for

ALGORITHM_SCRIPT = Path(__file__).resolve().parent / "images" / "xgboost_algorithm.py"
CONTAINER_PROGRAM = Path(__file__).resolve().parent / "images" / "container_paths.py"

CONTAINER_ROOT = "/opt/ml"


def train_with_the_algorithm(train: Path, hyperparameters: dict[str, str], work: Path, archive: Path) -> Path:
    """The built-in algorithm's imitation on one CSV train channel, in the XGBoost image's look-alike,
    with its files under ``work``; ``archive`` becomes model.tar.gz as SageMaker writes it. Returns
    the xgboost-model file. For tests and benchmarks that need a trained model without a pipeline."""
    work.mkdir(parents=True)
    (work / "hyperparameters.json").write_text(json.dumps(hyperparameters), encoding="utf-8")
    (work / "inputdataconfig.json").write_text(json.dumps({"train": {"ContentType": "text/csv"}}), encoding="utf-8")
    subprocess.run(  # noqa: S603 - the look-alike's own interpreter and this project's script
        [
            str(environment(XGBOOST).python),
            str(ALGORITHM_SCRIPT),
            *("--hyperparameters", str(work / "hyperparameters.json"), "--channel", f"train={train}"),
            *("--input-data-config", str(work / "inputdataconfig.json")),
            *("--model-dir", str(work / "model"), "--failure-file", str(work / "failure")),
        ],
        check=True,
        capture_output=True,
    )
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(work / "model" / "xgboost-model", arcname="xgboost-model")
    return work / "model" / "xgboost-model"


class UnsupportedStep(RuntimeError):
    """A step the local runner cannot imitate."""


class StepFailed(RuntimeError):
    """A step ran and failed; the message is what SageMaker would show as the failure reason."""


@dataclass
class StepResult:
    name: str
    step_type: str
    status: str  # Executing (reported when it starts) | Succeeded | Failed | Skipped
    seconds: float = 0.0
    detail: str = ""


@dataclass
class RunResult:
    execution_arn: str
    status: str = "Executing"  # Succeeded | Failed
    failure_reason: str = ""
    failure_step: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    property_files: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def model_package_arn(self) -> str | None:
        for properties in self.properties.values():
            if "ModelPackageArn" in properties:
                return str(properties["ModelPackageArn"])
        return None

    @property
    def evaluation(self) -> dict[str, Any] | None:
        return self._property_file("EvaluationReport")

    @property
    def data_report(self) -> dict[str, Any] | None:
        return self._property_file("DataReport")

    def _property_file(self, name: str) -> dict[str, Any] | None:
        for key, document in self.property_files.items():
            if key.endswith(f".{name}"):
                return dict(document)
        return None


StepListener = Callable[[StepResult], None]


class LocalPipelineRunner:
    def __init__(self, on_step: StepListener | None = None, work_dir: Path | None = None) -> None:
        self._sagemaker = boto3.client("sagemaker", region_name=REGION)
        self._s3 = boto3.client("s3", region_name=REGION)
        self._on_step = on_step or (lambda result: None)
        self._work_dir = work_dir
        self._endpoint = self._s3.meta.endpoint_url
        if "amazonaws.com" in self._endpoint:
            # Steps run as subprocesses and call AWS themselves (Evaluate looks up the champion):
            # they must reach the local emulator, never AWS, so an in-process mock will not do.
            raise UnsupportedStep(
                f"the local runner needs a local endpoint (moto's server, AWS_ENDPOINT_URL); it has {self._endpoint}"
            )

    # -- the run -------------------------------------------------------------------------

    def run(self, execution_arn: str) -> RunResult:
        started = time.monotonic()
        execution = self._sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        pipeline_name = execution["PipelineArn"].rsplit("/", 1)[-1]
        definition = json.loads(self._sagemaker.describe_pipeline(PipelineName=pipeline_name)["PipelineDefinition"])
        given = self._sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution_arn)[
            "PipelineParameters"
        ]
        parameters = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
        parameters.update({p["Name"]: p["Value"] for p in given})
        for spec in definition.get("Parameters", []):
            parameters[spec["Name"]] = _typed(parameters[spec["Name"]], spec["Type"])
        missing = [name for name, value in parameters.items() if value is None]
        result = RunResult(execution_arn=execution_arn)
        context = _Context(
            parameters=parameters,
            execution={
                "PipelineExecutionId": execution_arn.rsplit("/", 1)[-1],
                "PipelineExecutionArn": execution_arn,
                "PipelineName": pipeline_name,
            },
            result=result,
        )
        with tempfile.TemporaryDirectory(dir=self._work_dir, prefix="pipeline-run-") as scratch:
            self._scratch = Path(scratch)
            try:
                if missing:
                    raise StepFailed(f"no value for pipeline parameter(s) {', '.join(missing)}")
                self._refuse_what_cannot_run(definition["Steps"], result)
                self._run_steps(_in_dependency_order(definition["Steps"]), context)
                result.status = "Succeeded"
            except StepFailed as failure:
                result.status = "Failed"
                result.failure_reason = str(failure)
        result.seconds = time.monotonic() - started
        return result

    def _refuse_what_cannot_run(self, steps: list[dict[str, Any]], result: RunResult) -> None:
        """Before the first step: a step type this runner has no imitation of, or a job on an image
        without a look-alike, fails the run now rather than after the steps before it ran."""
        for step in _every_step(steps):
            problem = None
            if step["Type"] not in self._handlers():
                problem = (
                    f"step {step['Name']!r} has type {step['Type']!r}, which the local runner does not run "
                    f"(it runs {', '.join(self._handlers())})"
                )
            else:
                problem = _image_problem(step)
            if problem:
                result.failure_step = step["Name"]
                # the step that cannot run is the run's failed step, as status and report show it
                result.steps.append(StepResult(step["Name"], step["Type"], "Failed", detail=problem))
                raise StepFailed(f"{problem}; no step ran")

    def _handlers(self) -> dict[str, Callable[[dict[str, Any], _Context], str]]:
        return {
            "Processing": self._processing,
            "Training": self._training,
            "Condition": self._condition,
            "Model": self._create_model,
            "RegisterModel": self._register_model,
            "Transform": self._transform,
            "Fail": self._fail,
        }

    def _run_steps(self, steps: list[dict[str, Any]], context: _Context) -> None:
        for step in steps:
            self._run_step(step, context)
            if step["Type"] == "Condition":
                branch, skipped = context.pending_branch, context.skipped_branch
                context.pending_branch, context.skipped_branch = [], []
                for other in skipped:
                    self._report(context, StepResult(other["Name"], other["Type"], "Skipped"))
                self._run_steps(_in_dependency_order(branch), context)

    def _run_step(self, step: dict[str, Any], context: _Context) -> None:
        handler = self._handlers()[step["Type"]]
        started = time.monotonic()
        self._on_step(StepResult(step["Name"], step["Type"], "Executing"))
        try:
            detail = _failing_on_aws_errors(handler, step, context)
        except StepFailed as failure:
            self._report(
                context,
                StepResult(step["Name"], step["Type"], "Failed", time.monotonic() - started, str(failure)),
            )
            context.result.failure_step = step["Name"]
            raise
        self._report(context, StepResult(step["Name"], step["Type"], "Succeeded", time.monotonic() - started, detail))

    def _report(self, context: _Context, result: StepResult) -> None:
        context.result.steps.append(result)
        self._on_step(result)

    # -- step types ----------------------------------------------------------------------

    def _processing(self, step: dict[str, Any], context: _Context) -> str:
        arguments = context.resolve(step["Arguments"])
        app = arguments["AppSpecification"]
        python = self._interpreter(step, app["ImageUri"])
        # The container's /opt/ml is this folder of the run: steps and runs never share one.
        base = self._scratch / step["Name"] / "opt" / "ml"
        job_config = _local(base, "/opt/ml/config/processingjobconfig.json")
        job_config.parent.mkdir(parents=True, exist_ok=True)
        job_config.write_text(json.dumps({"ProcessingJobName": step["Name"], **arguments}), encoding="utf-8")
        for processing_input in arguments.get("ProcessingInputs", []):
            s3_input = processing_input["S3Input"]
            local = _local(base, s3_input["LocalPath"])
            if s3_input.get("S3DataType", "S3Prefix") == "ManifestFile":
                self._download_manifest(s3_input["S3Uri"], local)
            else:
                self._download(s3_input["S3Uri"], local)
        # SageMaker makes each output's LocalPath before the container starts: a job writes into it.
        for output in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
            _local(base, output["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        command, job_environment = _container_command(step["Name"], arguments, python, base)
        completed = self._run_in_image(
            command, {**job_environment, "OPT_ML_FOLDER": str(base), **own_tmp(base.parent.parent / "tmp")}, base
        )
        if completed.returncode != 0:
            message = _exit_message(completed, _local(base, "/opt/ml/output/message"))
            raise StepFailed(f"{step['Name']}: {as_the_container_sees_it(message, base)}")
        outputs = {}
        for output in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
            s3_output = output["S3Output"]
            self._upload_dir(_local(base, s3_output["LocalPath"]), s3_output["S3Uri"])
            outputs[output["OutputName"]] = output
        context.result.properties[step["Name"]] = {
            **arguments,
            "ProcessingOutputConfig": {"Outputs": outputs},
            "ProcessingJobStatus": "Completed",
            "ProcessingJobArn": self._record_processing_job(step["Name"], arguments, context),
        }
        for property_file in step.get("PropertyFiles", []):
            output = outputs[property_file["OutputName"]]["S3Output"]
            path = _local(base, output["LocalPath"]) / property_file["FilePath"]
            context.result.property_files[f"{step['Name']}.{property_file['PropertyFileName']}"] = json.loads(
                path.read_text(encoding="utf-8")
            )
        return completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""

    def _record_processing_job(self, name: str, arguments: dict[str, Any], context: _Context) -> str:
        """The job in moto, as SageMaker keeps each job a step ran (DescribeProcessingJob then gives its
        outputs' S3 URIs, where `report` reads the step's property files); its ARN."""
        job_name = f"pipelines-{context.execution['PipelineExecutionId']}-{name}"[:63]
        fields = ("ProcessingInputs", "ProcessingOutputConfig", "ProcessingResources", "AppSpecification", "RoleArn")
        request = copy.deepcopy({field: arguments[field] for field in fields if field in arguments})
        # A definition may leave out what the SDK always writes; the record takes the API's usual values.
        for output in request.get("ProcessingOutputConfig", {}).get("Outputs", []):
            output.get("S3Output", {}).setdefault("S3UploadMode", "EndOfJob")
        request.get("ProcessingResources", {}).get("ClusterConfig", {}).setdefault("VolumeSizeInGB", 30)
        try:
            created = self._sagemaker.create_processing_job(ProcessingJobName=job_name, **request)
        except (ClientError, ParamValidationError):  # a record only: the step ran; `report` then lacks its numbers
            return ""
        return str(created["ProcessingJobArn"])

    def _run_in_image(
        self, command: list[str], job_environment: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A container's program, its AWS calls sent to the same local endpoint as the runner's."""
        environment = {
            **os.environ,
            **(job_environment or {}),
            "AWS_ENDPOINT_URL": self._endpoint,
            "AWS_DEFAULT_REGION": REGION,
        }
        return subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, check=False, timeout=3600, env=environment, cwd=cwd
        )

    def _interpreter(self, step: dict[str, Any], image_uri: str) -> Path:
        """The look-alike of the step's image; a step on an image without one fails the run with that reason."""
        try:
            return python_for(image_uri)
        except UnknownImage as unknown:
            raise StepFailed(f"{step['Name']}: {unknown}; this step cannot run locally") from None
        except EnvironmentNotReady as not_ready:  # the run fails with what to do; the stack goes on
            raise StepFailed(f"{step['Name']}: {not_ready}") from None

    def _training(self, step: dict[str, Any], context: _Context) -> str:
        arguments = context.resolve(step["Arguments"])
        image = arguments["AlgorithmSpecification"].get("TrainingImage", "")
        problem = _training_image_problem(step["Name"], image)
        if problem:
            raise StepFailed(problem)
        python = self._interpreter(step, image)
        resources = arguments.get("ResourceConfig", {})
        hosts = host_names(int(resources.get("InstanceCount", 1)))
        # Each host's /opt/ml (input/data/<channel>, input/config, model, output) is a folder of the run.
        folders = {host: self._scratch / step["Name"] / host for host in hosts}
        objects = {
            channel["ChannelName"]: self._objects(channel["DataSource"]["S3DataSource"]["S3Uri"])
            for channel in arguments["InputDataConfig"]
        }
        # Locally every host is this machine: the hosts' names resolve to 127.0.0.1, on ports of their own.
        local = ("--local-address", LOCAL_ADDRESS, "--local-port", str(free_port_pair()))
        commands = {
            host: [
                str(python),
                str(ALGORITHM_SCRIPT),
                *local,
                *self._prepare_host(arguments, hosts, index, objects, folders[host]),
            ]
            for index, host in enumerate(hosts)
        }
        limit = float(arguments.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 3600))
        try:
            outcomes = run_hosts(commands, {host: self._host_environment(folders[host]) for host in hosts}, limit)
        except JobStopped as stopped:
            raise StepFailed(f"{step['Name']}: {stopped}") from None
        failed = first_failure(outcomes)
        if failed is not None:
            completed = subprocess.CompletedProcess([], failed.returncode or 1, failed.stdout, failed.stderr)
            raise StepFailed(f"{step['Name']}: {_exit_message(completed, folders[failed.host] / 'output' / 'failure')}")
        job_name = f"pipelines-{context.execution['PipelineExecutionId']}-{step['Name']}-{uuid.uuid4().hex[:8]}"
        model_uri = f"{arguments['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job_name}/output/model.tar.gz"
        self._upload_model([folders[host] / "model" for host in hosts], model_uri)
        context.result.properties[step["Name"]] = {
            **arguments,
            "TrainingJobName": job_name,
            "TrainingJobStatus": "Completed",
            "ModelArtifacts": {"S3ModelArtifacts": model_uri},
        }
        said = [line for outcome in outcomes.values() for line in outcome.stdout.strip().splitlines()[-1:]]
        return said[0] if len(hosts) == 1 else f"{len(hosts)} hosts: " + "; ".join(said)

    def _upload_model(self, model_dirs: list[Path], model_uri: str) -> None:
        """model.tar.gz of every host's /opt/ml/model, as SageMaker uploads it at the end of the job."""
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            for name, path in model_files(model_dirs).items():
                tar.add(path, arcname=name)
        bucket, key = _split_uri(model_uri)
        self._s3.put_object(Bucket=bucket, Key=key, Body=archive.getvalue())

    def _prepare_host(
        self, arguments: dict[str, Any], hosts: list[str], index: int, objects: dict[str, list[str]], base: Path
    ) -> list[str]:
        """One host's /opt/ml as SageMaker fills it: its share of each channel, the three config files.
        Returns the algorithm's arguments that name them."""
        command: list[str] = []
        for channel in arguments["InputDataConfig"]:
            name, source = channel["ChannelName"], channel["DataSource"]["S3DataSource"]
            bucket, prefix = _split_uri(source["S3Uri"])
            local = base / "input" / "data" / name
            distribution = source.get("S3DataDistributionType", REPLICATED)
            self._download_keys(bucket, prefix, share(objects[name], distribution, len(hosts), index), local)
            command += ["--channel", f"{name}={local}"]
        config = base / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        # The API carries every hyperparameter as a string, whatever the definition resolved to.
        values = {name: _api_string(value) for name, value in arguments.get("HyperParameters", {}).items()}
        instance_type = str(arguments.get("ResourceConfig", {}).get("InstanceType", ""))
        files = {
            "hyperparameters": values,
            "input-data-config": _input_data_config(arguments["InputDataConfig"]),
            "resource-config": resource_config(hosts[index], hosts, instance_type),
        }
        for option, content in files.items():
            path = config / f"{option.replace('-', '')}.json"  # hyperparameters.json, inputdataconfig.json, ...
            path.write_text(json.dumps(content), encoding="utf-8")
            command += [f"--{option}", str(path)]
        (base / "output").mkdir(parents=True, exist_ok=True)
        return [*command, "--model-dir", str(base / "model"), "--failure-file", str(base / "output" / "failure")]

    def _job_environment(self) -> dict[str, str]:
        return {**os.environ, "AWS_ENDPOINT_URL": self._endpoint, "AWS_DEFAULT_REGION": REGION}

    def _host_environment(self, opt_ml: Path) -> dict[str, str]:
        """A training host's: the job's, and a /tmp of its own beside its /opt/ml."""
        return self._job_environment() | own_tmp(opt_ml.parent / f"{opt_ml.name}-tmp")

    def _condition(self, step: dict[str, Any], context: _Context) -> str:
        arguments = step["Arguments"]
        outcome = all(_evaluate(condition, context) for condition in arguments["Conditions"])
        context.result.properties[step["Name"]] = {"Outcome": outcome}
        chosen, skipped = ("IfSteps", "ElseSteps") if outcome else ("ElseSteps", "IfSteps")
        # The branches run (or are skipped) once the condition itself is reported.
        context.pending_branch = arguments.get(chosen, [])
        context.skipped_branch = arguments.get(skipped, [])
        runs = ", ".join(s["Name"] for s in context.pending_branch) or "nothing"
        return f"{'true' if outcome else 'false'}: runs {runs}"

    def _create_model(self, step: dict[str, Any], context: _Context) -> str:
        arguments = context.resolve(step["Arguments"])
        model_name = f"pipelines-{context.execution['PipelineExecutionId']}-{step['Name']}"[:63]
        response = self._sagemaker.create_model(ModelName=model_name, **arguments)
        context.result.properties[step["Name"]] = {"ModelName": model_name, "ModelArn": response["ModelArn"]}
        return model_name

    def _register_model(self, step: dict[str, Any], context: _Context) -> str:
        arguments = context.resolve(step["Arguments"])
        arguments = {k: v for k, v in arguments.items() if v not in ({}, None, "None")}
        metrics = arguments.get("ModelMetrics")
        if metrics:
            arguments["ModelMetrics"] = {k: v for k, v in metrics.items() if v}
        self._ensure_group(str(arguments.get("ModelPackageGroupName", "")))
        response = self._sagemaker.create_model_package(**arguments)
        context.result.properties[step["Name"]] = {"ModelPackageArn": response["ModelPackageArn"]}
        return str(response["ModelPackageArn"])

    def _ensure_group(self, group: str) -> None:
        if not group or group.startswith("arn:"):
            return
        try:
            self._sagemaker.describe_model_package_group(ModelPackageGroupName=group)
        except ClientError:
            self._sagemaker.create_model_package_group(
                ModelPackageGroupName=group, ModelPackageGroupDescription="created by a pipeline's register step"
            )

    def _transform(self, step: dict[str, Any], context: _Context) -> str:
        arguments = context.resolve(step["Arguments"])
        try:
            written = run_transform(TransformJob.from_arguments(arguments), self._scratch)
        except TransformFailed as failed:
            raise StepFailed(f"{step['Name']}: {failed}") from None
        job_name = f"pipelines-{context.execution['PipelineExecutionId']}-{step['Name']}"[:63]
        account = context.execution["PipelineExecutionArn"].split(":")[4]
        context.result.properties[step["Name"]] = {
            **arguments,
            "TransformJobName": job_name,
            "TransformJobArn": f"arn:aws:sagemaker:{REGION}:{account}:transform-job/{job_name}",
            "TransformJobStatus": "Completed",
        }
        return f"{len(written)} output object(s) under {arguments['TransformOutput']['S3OutputPath']}"

    def _fail(self, step: dict[str, Any], context: _Context) -> str:
        message = context.resolve(step["Arguments"].get("ErrorMessage", ""))
        raise StepFailed(str(message) or f"{step['Name']} failed")

    # -- S3 --------------------------------------------------------------------------------

    def _download(self, uri: str, local_dir: Path) -> None:
        bucket, prefix = _split_uri(uri)
        self._download_keys(bucket, prefix, self._objects(uri), local_dir)

    def _objects(self, uri: str) -> list[str]:
        """The keys under an S3 prefix; a prefix with no object fails the job, as on SageMaker."""
        bucket, prefix = _split_uri(uri)
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        if not keys:
            raise StepFailed(f"no object found at {uri}")
        return keys

    def _download_keys(self, bucket: str, prefix: str, keys: list[str], local_dir: Path) -> None:
        """Each key into ``local_dir`` at its path below ``prefix`` (a key that is the prefix itself: by its
        file name), as SageMaker copies an S3Prefix input."""
        local_dir.mkdir(parents=True, exist_ok=True)
        for key in keys:
            target = local_dir / (key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1])
            target.parent.mkdir(parents=True, exist_ok=True)
            self._s3.download_file(bucket, key, str(target))

    def _download_manifest(self, uri: str, local_dir: Path) -> None:
        """SageMaker's ManifestFile: [{"prefix": "s3://bucket/p/"}, "key1", ...], keys relative to the prefix."""
        bucket, key = _split_uri(uri)
        try:
            manifest = json.loads(self._s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            prefix = manifest[0]["prefix"]
            relative_keys = [str(item) for item in manifest[1:]]
        except (self._s3.exceptions.NoSuchKey, ValueError, KeyError, IndexError, TypeError) as error:
            raise StepFailed(f"{uri} is not a readable manifest file: {error}") from None
        prefix_bucket, prefix_key = _split_uri(prefix)
        for relative in relative_keys:
            target = local_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._s3.download_file(prefix_bucket, prefix_key + relative, str(target))
            except Exception as error:  # noqa: BLE001 - becomes the step's failure reason
                raise StepFailed(f"the manifest lists {prefix}{relative}, which cannot be read: {error}") from None

    def _upload_dir(self, local_dir: Path, uri: str) -> None:
        bucket, prefix = _split_uri(uri)
        for path in sorted(local_dir.rglob("*")):
            if path.is_file():
                key = f"{prefix.rstrip('/')}/{path.relative_to(local_dir).as_posix()}"
                self._s3.upload_file(str(path), bucket, key)


@dataclass
class _Context:
    parameters: dict[str, Any]
    execution: dict[str, str]
    result: RunResult
    pending_branch: list[dict[str, Any]] = field(default_factory=list)
    skipped_branch: list[dict[str, Any]] = field(default_factory=list)

    def resolve(self, value: Any) -> Any:
        """Replace Get / Std:Join / Std:JsonGet expressions with their values."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            return self._get(value["Get"])
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            return str(join["On"]).join(str(self.resolve(item)) for item in join["Values"])
        if set(value) == {"Std:JsonGet"}:
            json_get = value["Std:JsonGet"]
            reference = json_get["PropertyFile"]["Get"]  # Steps.<step>.PropertyFiles.<name>
            _, step_name, _, file_name = reference.split(".", 3)
            document = self.result.property_files.get(f"{step_name}.{file_name}")
            if document is None:
                raise StepFailed(f"property file {file_name} of step {step_name} does not exist")
            return _navigate(document, json_get["Path"])
        return {key: self.resolve(item) for key, item in value.items()}

    def _get(self, path: str) -> Any:
        root, _, rest = path.partition(".")
        if root == "Parameters":
            return self.parameters[rest]
        if root == "Execution":
            return self.execution[rest]
        if root == "Steps":
            step_name, _, property_path = rest.partition(".")
            if step_name not in self.result.properties:
                raise StepFailed(f"step {step_name} has not run, so {path} has no value")
            return _navigate(self.result.properties[step_name], property_path)
        raise UnsupportedStep(f"cannot resolve {path!r}")


def _in_dependency_order(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name = {step["Name"]: step for step in steps}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def depends_on(step: dict[str, Any]) -> set[str]:
        text = json.dumps(step.get("Arguments", {}))
        referenced = set(re.findall(r'"Steps\.([A-Za-z0-9-]+)\.', text))
        return (referenced | set(step.get("DependsOn", []))) & set(by_name) - {step["Name"]}

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in placed:
            return
        if name in path:
            raise UnsupportedStep(f"steps depend on each other in a cycle: {' -> '.join((*path, name))}")
        for dependency in sorted(depends_on(by_name[name])):
            place(dependency, (*path, name))
        placed.add(name)
        ordered.append(by_name[name])

    for step in steps:
        place(step["Name"], ())
    return ordered


def _evaluate(condition: dict[str, Any], context: _Context) -> bool:
    kind = condition["Type"]
    if kind == "Not":
        return not _evaluate(condition["Condition"], context)
    if kind == "Or":
        return any(_evaluate(inner, context) for inner in condition["Conditions"])
    if kind == "In":
        value = context.resolve(condition["QueryValue"])
        return value in [context.resolve(item) for item in condition["Values"]]
    left, right = context.resolve(condition["LeftValue"]), context.resolve(condition["RightValue"])
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "Equals": lambda a, b: a == b,
        "GreaterThan": lambda a, b: a > b,
        "GreaterThanOrEqualTo": lambda a, b: a >= b,
        "LessThan": lambda a, b: a < b,
        "LessThanOrEqualTo": lambda a, b: a <= b,
    }
    if kind not in comparisons:
        raise UnsupportedStep(f"condition type {kind!r} is not evaluated locally")
    return comparisons[kind](left, right)


_TOKEN = re.compile(r"([A-Za-z0-9_]+)|\[(\d+)\]|\['([^']*)'\]")


def _navigate(document: Any, path: str) -> Any:
    """Follow ``a.b[0]['c']`` through dicts (a list of named items is looked up by name)."""
    current = document
    for name, index, key in _TOKEN.findall(path):
        current = current[int(index)] if index else current[name or key]
    return current


def _split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _failing_on_aws_errors(
    handler: Callable[[dict[str, Any], _Context], str], step: dict[str, Any], context: _Context
) -> str:
    """An AWS error of the job (a missing bucket or object to read) fails the step with it, as SageMaker's would."""
    try:
        return handler(step, context)
    except ClientError as error:
        raise StepFailed(f"{step['Name']}: {error}") from None


def _every_step(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps and, inside each condition, both branches' steps."""
    found = []
    for step in steps:
        found.append(step)
        if step["Type"] == "Condition":
            arguments = step.get("Arguments", {})
            found += _every_step([*arguments.get("IfSteps", []), *arguments.get("ElseSteps", [])])
    return found


def _image_problem(step: dict[str, Any]) -> str | None:
    """Why a job's image cannot run here (None when it can, or when the image is known only at run time)."""
    arguments = step.get("Arguments", {})
    if step["Type"] == "Processing":
        image = arguments.get("AppSpecification", {}).get("ImageUri")
        if isinstance(image, str):
            try:
                image_for(image)
            except UnknownImage as unknown:
                return f"step {step['Name']!r}: {unknown}"
    if step["Type"] == "Training":
        image = arguments.get("AlgorithmSpecification", {}).get("TrainingImage")
        if isinstance(image, str):
            return _training_image_problem(step["Name"], image)
    return None


def _training_image_problem(name: str, image: str) -> str | None:
    try:
        if image_for(image).framework == "xgboost":
            return None
    except UnknownImage:
        pass
    known = ", ".join(f"{i.repository}:{i.version}" for i in ALL_IMAGES if i.framework == "xgboost")
    return f"{name}: trains with {image!r}; the local runner imitates only the built-in XGBoost algorithm of {known}"


def as_the_container_sees_it(message: str, base: Path) -> str:
    """A job's message with this machine's folders named as the container names them (/opt/ml/...)."""
    return message.replace(str(base), CONTAINER_ROOT)


def _local(base: Path, container_path: str) -> Path:
    """Where a path of the container (under /opt/ml) is in the run's folder ``base``."""
    return base / Path(container_path).relative_to(CONTAINER_ROOT)


def _typed(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "Float":
        return float(value)
    if kind == "Integer":
        return int(value)
    if kind == "Boolean":
        return str(value).lower() == "true"
    return str(value)


def _api_string(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _input_data_config(channels: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """/opt/ml/input/config/inputdataconfig.json: each channel's content type, input mode and distribution."""
    config: dict[str, dict[str, str]] = {}
    for channel in channels:
        described = {"TrainingInputMode": channel.get("InputMode", "File")}
        source = channel["DataSource"]["S3DataSource"]
        described["S3DistributionType"] = source.get("S3DataDistributionType", "FullyReplicated")
        if "ContentType" in channel:
            described["ContentType"] = channel["ContentType"]
        config[channel["ChannelName"]] = described
    return config


def _container_command(
    name: str, arguments: dict[str, Any], python: Path, base: Path
) -> tuple[list[str], dict[str, str]]:
    """The program a processing job's container runs, and its environment: the entrypoint and arguments
    exactly as the job gives them, /opt/ml mapped to `base`. A Python program runs as is; the Spark
    image's smspark-submit runs its app in Spark's local mode (emulator/spark_job.py)."""
    app = arguments["AppSpecification"]
    entrypoint = [*app.get("ContainerEntrypoint", []), *map(str, app.get("ContainerArguments", []))]
    job_environment = dict(arguments.get("Environment", {}))
    if spark_job.is_spark_submit(entrypoint):
        try:
            submit = spark_job.parse(entrypoint[1:])
        except spark_job.UnsupportedSparkJob as unsupported:
            raise StepFailed(f"{name}: {unsupported}") from None
        instances = int(arguments.get("ProcessingResources", {}).get("ClusterConfig", {}).get("InstanceCount", 1))
        py_files = spark_job.expanded(submit.py_files, lambda path: _local(base, path))
        job_environment |= spark_job.local_environment(python, py_files, instances)
        return [str(python), str(CONTAINER_PROGRAM), submit.app, *submit.app_arguments], job_environment
    if not entrypoint or Path(entrypoint[0]).name not in {"python", "python3"} or len(entrypoint) < 2:
        raise StepFailed(
            f"{name}: the local runner runs Python programs and Spark apps only; this job's entrypoint is {entrypoint}"
        )
    return [str(python), str(CONTAINER_PROGRAM), *entrypoint[1:]], job_environment


def own_tmp(folder: Path) -> dict[str, str]:
    """A container's /tmp is its own. Locally its programs get a folder of their own as TMPDIR, since
    what they do in a shared /tmp can race with other processes': the built-in algorithm makes a
    folder there for each channel, and xgboost lists the parent of the folder it is given, failing on
    an entry that goes away meanwhile (dmlc-core, src/io/input_split_base.cc, ConvertToURIs, then
    LocalFileSystem::GetPathInfo on every entry)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {"TMPDIR": str(folder)}


def _xgboost_message(text: str) -> str:
    """xgboost's own errors (XGBoostError) are "[time] file:line: reason", or a chain of
    "- [file:line|time]: reason" lines, then a "Stack trace:" of native frames: the reasons, on one line."""
    reasons = [line.partition("]:")[2].strip() for line in text.splitlines() if line.startswith("- [")]
    if any(reasons):
        return "; ".join(reason for reason in reasons if reason)
    last = text.splitlines()[-1]
    located = re.search(r"\[\d\d:\d\d:\d\d\] \S+:\d+: (.+)$", last)
    return located.group(1) if located else last


def _exit_message(completed: subprocess.CompletedProcess[str], message_file: Path) -> str:
    """What SageMaker would show: the container's message file, else the last line it printed.

    A built-in algorithm's failure file is "framework error: ", a traceback and the message: the message.
    """
    if message_file.exists() and message_file.read_text(encoding="utf-8").strip():
        text = message_file.read_text(encoding="utf-8").strip()
        if not text.startswith("framework error:"):
            return text.splitlines()[0]
        head, native, _ = text.partition("\nStack trace:")
        return _xgboost_message(head) if native else text.splitlines()[-1]
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit code {completed.returncode}"
