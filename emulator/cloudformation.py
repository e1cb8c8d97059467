"""The local stack, created by moto's CloudFormation from the SAM-translated template.yaml.

`create_stack` translates the template as `sam deploy` would (the functions' code is uploaded to a
local code bucket and referenced by its s3:// URI), creates the stack on moto, then applies,
through the service APIs and from the same translated template, what moto's CloudFormation skips
or drops (each listed in `GAPS`, with the reason). Names, ARNs, environments and outputs are read
back from the stack: nothing here restates what the template says.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import re
import sys
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from emulator import moto_fixes, project
from emulator.intrinsics import Intrinsics, pseudo_parameters
from emulator.lambda_context import LocalLambdaContext
from emulator.moto_server import ACCOUNT, REGION

ROOT = project.ROOT
TEMPLATE_PATH = ROOT / "template.yaml"
CODE_BUCKET = "retrain-trigger-local-code"  # where `sam package` would put the functions' code
# Not used locally (moto runs no layer), but the default resolves an SSM parameter moto lacks.
LOCAL_LAYER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:powertools-local:1"

# moto says, for each resource type it skips, that it skips it: GAPS below says it once, with the reason.
warnings.filterwarnings("ignore", message=r"Tried to parse .* not supported by moto's CloudFormation")
logging.getLogger("moto").addFilter(lambda record: "No Moto CloudFormation support" not in record.getMessage())

# The handler module of each custom resource type, as the template's ServiceToken function names it.
CUSTOM_RESOURCE_HANDLERS = {"Custom::PipelineTargets": "pipeline_targets"}

# What moto's CloudFormation (5.2.5) skips or drops, and what this module does about each.
GAPS = {
    "bucket versioning and notification configuration": "dropped by moto: applied with the S3 API",
    "DynamoDB time to live": "dropped by moto: applied with the DynamoDB API",
    "IAM inline policies": "stored by moto as Python objects: put again with the IAM API",
    "Lambda event source mapping": "created, then disabled: without Docker moto cannot run the function; "
    "emulator/event_source.py plays the mapping",
    "bucket policy (TLS only)": "skipped by moto; not applied: moto would deny every request, since no "
    "request it receives carries aws:SecureTransport",
    "queue and topic policies": "skipped by moto; not applied: moto does not check resource policies "
    "on delivery (the unit tests check their statements)",
    "EventBridge Scheduler schedules": "skipped by moto: the local stack calls the sweep itself; the retrain "
    "schedule's tick is not sent (send its body by hand: events/sqs-schedule-tick.json)",
    "custom resources": "moto would invoke the function in Docker: it answers in this process (emulator/moto_fixes.py)",
    "CloudWatch alarms": "skipped by moto (and a reference to one fails the stack): their names and ARNs "
    "are written in before moto reads the template, and the alarms are put with the CloudWatch API; those on "
    "SQS queue depth and Lambda errors are evaluated as CloudWatch evaluates them and send their e-mail "
    "(emulator/alarms.py), the others are not evaluated (a test sets their state)",
    "SNS subscriptions": "skipped by moto: a queue's (RetrainTopicArn's) is made with the SNS API; the e-mail "
    "one is not (the local stack subscribes a queue to read notifications)",
    "template Rules": "ignored by moto: the functions refuse the same configuration at start",
    "function layers, architectures, tracing, logging config": "dropped by moto: the functions run "
    "in this process with the project's Powertools",
}


@dataclass(frozen=True)
class Stack:
    name: str
    parameters: dict[str, str]
    outputs: dict[str, str]
    physical: dict[str, str]  # logical id -> physical id
    translated: dict[str, Any]

    functions: dict[str, dict[str, Any]]  # logical id -> the function's configuration, as Lambda returns it

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """The function's environment as the stack created it."""
        variables = (self.functions[logical_id].get("Environment") or {}).get("Variables") or {}
        return {name: str(value) for name, value in variables.items()}

    def lambda_context(self, logical_id: str) -> LocalLambdaContext:
        """A context as Lambda would give the function: its name, timeout and memory from the stack."""
        configuration = self.functions[logical_id]
        return LocalLambdaContext(
            function_name=configuration["FunctionName"],
            timeout_seconds=configuration["Timeout"],
            memory_limit_in_mb=configuration["MemorySize"],
        )


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return dict(yaml_parse(path.read_text(encoding="utf-8")))


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def translate(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """What `sam deploy` sends to CloudFormation, with the code at CODE_BUCKET."""
    template = json.loads(json.dumps(template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            code_dir = resource["Properties"]["CodeUri"].rstrip("/")
            resource["Properties"]["CodeUri"] = f"s3://{CODE_BUCKET}/{code_dir.replace('/', '-')}.zip"
    translated: dict[str, Any] = transform(template, parameters, _NoManagedPolicies())
    return translated


def upload_code(template: dict[str, Any]) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=CODE_BUCKET)
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        code_dir = resource["Properties"]["CodeUri"].rstrip("/")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as package:
            for path in sorted((ROOT / code_dir).rglob("*.py")):
                if "__pycache__" not in path.parts:
                    package.write(path, path.relative_to(ROOT / code_dir))
        s3.put_object(Bucket=CODE_BUCKET, Key=f"{code_dir.replace('/', '-')}.zip", Body=archive.getvalue())


def create_stack(name: str, overrides: dict[str, str] | None = None) -> Stack:
    template = load_template()
    parameters = {**parameter_defaults(template), "PowertoolsLayerArn": LOCAL_LAYER, **(overrides or {})}
    # alarm references written in: moto and the local intrinsics then read the same template
    translated = _with_alarm_references_written_in(translate(template, parameters))
    upload_code(template)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    try:
        cloudformation.create_stack(
            StackName=name,
            TemplateBody=json.dumps({key: value for key, value in translated.items() if key != "Rules"}),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
    except (ClientError, ResponseParserError) as refused:
        raise RuntimeError(f"stack {name}: {refusal_of(refused)}") from None
    _answer_custom_resources(cloudformation)
    stack = _read_back(cloudformation, name, parameters, translated, "CREATE_COMPLETE")
    _apply_what_moto_skips(stack)
    return stack


def update_stack(stack: Stack, overrides: dict[str, str], rolling_back: bool = False) -> Stack:
    """The stack updated with new parameters, as `sam deploy` updates a deployed one: each resource
    whose properties change is updated in place (queues, the DLQ, tables and the bucket keep what they
    hold), and the custom resources get an Update request. An update a custom resource refuses is
    rolled back to the stack's parameters, as CloudFormation rolls back, and raises with the reason."""
    template = load_template()
    parameters = {**parameter_defaults(template), "PowertoolsLayerArn": LOCAL_LAYER, **overrides}
    if parameters == stack.parameters and not rolling_back:
        return stack  # no change: CloudFormation updates nothing (moto would refuse "No updates")
    translated = _with_alarm_references_written_in(translate(template, parameters))
    upload_code(template)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    try:
        cloudformation.update_stack(
            StackName=stack.name,
            TemplateBody=json.dumps(_without_absent_resources(translated, parameters, stack.name)),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
        _answer_custom_resources(cloudformation)
        updated = _read_back(cloudformation, stack.name, parameters, translated, "UPDATE_COMPLETE")
    except (RuntimeError, ClientError, ResponseParserError) as refused:
        if not rolling_back:  # CloudFormation's rollback: the previous parameters again
            update_stack(stack, stack.parameters, rolling_back=True)
        raise RuntimeError(refusal_of(refused)) from None
    _apply_what_moto_skips(updated, alarms=False)  # an alarm keeps its state across an update
    return updated


def refusal_of(error: Exception) -> str:
    """What refused a create or an update, in one line: a resource's reason (a custom resource's, or
    EventBridge's for a rule's pattern), not botocore's. moto answers some refusals in JSON where the
    query protocol expects XML: botocore then cannot parse them, and the reason is in the raw body."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Message") or error)
    if isinstance(error, ResponseParserError):
        said = re.search(r'"message":\s*"([^"]*)"', str(error))
        return said.group(1) if said else str(error).splitlines()[0]
    return str(error).split(": ", 1)[-1].removeprefix("UPDATE_FAILED ")


def _without_absent_resources(translated: dict[str, Any], parameters: dict[str, str], name: str) -> dict[str, Any]:
    """The template as moto's UpdateStack can take it. moto's update parses every changed resource
    without its Condition (a GetAtt of an absent resource then fails the update): the resources whose
    condition is false, which CloudFormation neither creates nor updates, are left out. And moto's
    update checks a function's Layers, which its create drops (GAPS): they are left out too."""
    condition = Intrinsics(translated, {**parameters, **pseudo_parameters(name)}).condition
    resources = {
        logical_id: _without_layers(resource)
        for logical_id, resource in translated["Resources"].items()
        if "Condition" not in resource or condition(resource["Condition"])
    }
    return {**{key: value for key, value in translated.items() if key != "Rules"}, "Resources": resources}


def _without_layers(resource: dict[str, Any]) -> dict[str, Any]:
    if resource["Type"] != "AWS::Lambda::Function":
        return resource
    properties = {key: value for key, value in resource["Properties"].items() if key != "Layers"}
    return {**resource, "Properties": properties}


def _read_back(
    cloudformation: Any, name: str, parameters: dict[str, str], translated: dict[str, Any], complete: str
) -> Stack:
    """The stack as moto holds it; raises with the first reason an event gives unless it is ``complete``."""
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    if described["StackStatus"] != complete:
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
        failed = [e for e in events if e.get("ResourceStatus", "").endswith("_FAILED")] or events
        reason = next((e["ResourceStatusReason"] for e in failed if e.get("ResourceStatusReason")), "")
        raise RuntimeError(f"stack {name}: {described['StackStatus']} {reason}".strip())
    physical = {
        summary["LogicalResourceId"]: summary.get("PhysicalResourceId", "")
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=name)
        for summary in page["StackResourceSummaries"]
    }
    lambda_client = boto3.client("lambda", region_name=REGION)
    return Stack(
        name=name,
        parameters=parameters,
        outputs={output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])},
        physical=physical,
        translated=translated,
        functions={
            logical_id: dict(lambda_client.get_function_configuration(FunctionName=physical[logical_id]))
            for logical_id, resource in translated["Resources"].items()
            if resource["Type"] == "AWS::Lambda::Function" and logical_id in physical
        },
    )


def _with_alarm_references_written_in(translated: dict[str, Any]) -> dict[str, Any]:
    """Each reference to an alarm (which moto skips, failing any GetAtt or Ref of it) replaced by what
    CloudFormation returns for it: Ref its name, Arn arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME
    (AWS::CloudWatch::Alarm, "Return values")."""
    names = {
        logical_id: _sub_text(resource["Properties"]["AlarmName"])
        for logical_id, resource in translated["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm" and "AlarmName" in resource["Properties"]
    }

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"} and node["Ref"] in names:
            return {"Fn::Sub": names[node["Ref"]]}
        if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in names:
            arn = "arn:aws:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:" + names[node["Fn::GetAtt"][0]]
            return {"Fn::Sub": arn}
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            text = node["Fn::Sub"]
            for logical_id, name in names.items():
                text = text.replace("${" + logical_id + "}", name)
            return {"Fn::Sub": text}
        return {key: rewrite(value) for key, value in node.items()}

    return {key: rewrite(value) for key, value in translated.items()}


def _sub_text(name: Any) -> str:
    """An alarm's name as Fn::Sub text (the template names each alarm with a plain string or a Sub)."""
    if isinstance(name, str):
        return name
    if isinstance(name, dict) and isinstance(name.get("Fn::Sub"), str):
        return str(name["Fn::Sub"])
    raise ValueError(f"an AlarmName the local stack cannot write in: {name!r}")


def _answer_custom_resources(cloudformation: Any) -> None:
    """Each custom resource's function answers its request here, in this process (moto would need
    Docker), to the endpoint the stack was created on (moto builds the ResponseURL from its
    settings' host and port, not from the server that serves it)."""
    from urllib.parse import urlsplit

    endpoint = cloudformation.meta.endpoint_url
    while moto_fixes.CUSTOM_RESOURCE_REQUESTS:
        event = moto_fixes.CUSTOM_RESOURCE_REQUESTS.pop(0)
        response_url = urlsplit(
            event["ResponseURL"] if "://" in event["ResponseURL"] else "http://" + event["ResponseURL"]
        )
        event["ResponseURL"] = f"{endpoint}{response_url.path}?{response_url.query}"
        module = CUSTOM_RESOURCE_HANDLERS[event["ResourceType"]]
        # imported anew: its clients then talk to this endpoint, whatever an earlier import saw
        handler = importlib.reload(sys.modules[module]) if module in sys.modules else importlib.import_module(module)
        handler.lambda_handler(event, LocalLambdaContext(function_name=module))


def intrinsics(stack: Stack) -> Intrinsics:
    """The evaluator of the translated template's intrinsic functions against the created stack."""
    values = {**stack.parameters, **pseudo_parameters(stack.name)}
    return Intrinsics(
        stack.translated, values, stack.physical, lambda logical_id, name: _attribute(stack, logical_id, name)
    )


def _attribute(stack: Stack, logical_id: str, attribute: str) -> str:
    resource_type = stack.translated["Resources"][logical_id]["Type"]
    physical = stack.physical[logical_id]
    if attribute == "QueueName":
        return physical.rsplit("/", 1)[-1]
    if attribute != "Arn":
        raise ValueError(f"{logical_id}.{attribute} is not resolved locally")
    arns = {
        "AWS::SQS::Queue": lambda: f"arn:aws:sqs:{REGION}:{ACCOUNT}:{physical.rsplit('/', 1)[-1]}",
        "AWS::S3::Bucket": lambda: f"arn:aws:s3:::{physical}",
        "AWS::DynamoDB::Table": lambda: f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{physical}",
        "AWS::IAM::Role": lambda: boto3.client("iam", region_name=REGION).get_role(RoleName=physical)["Role"]["Arn"],
        "AWS::KMS::Key": lambda: f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{physical}",
        "AWS::Logs::LogGroup": lambda: f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{physical}:*",
        "AWS::Lambda::Function": lambda: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}",
        "AWS::Events::Rule": lambda: f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{physical}",
    }
    return arns[resource_type]()


def _apply_what_moto_skips(stack: Stack, alarms: bool = True) -> None:
    resolve = intrinsics(stack)
    resources = stack.translated["Resources"]
    exists = {
        name
        for name, resource in resources.items()
        if "Condition" not in resource or resolve.condition(resource["Condition"])
    }
    lambda_client = boto3.client("lambda", region_name=REGION)
    for name in exists:
        if resources[name]["Type"] == "AWS::Lambda::EventSourceMapping":
            lambda_client.update_event_source_mapping(UUID=stack.physical[name], Enabled=False)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    for name in sorted(exists):
        resource = resources[name]
        properties = resolve(resource.get("Properties", {}))
        if resource["Type"] == "AWS::DynamoDB::Table" and "TimeToLiveSpecification" in properties:
            dynamodb.update_time_to_live(
                TableName=stack.physical[name], TimeToLiveSpecification=properties["TimeToLiveSpecification"]
            )
        elif resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                # SAM writes some of its generated policies without a Version, which IAM reads as
                # 2008-10-17 and moto's PutRolePolicy refuses; the statements are the same.
                document = {"Version": "2012-10-17", **policy["PolicyDocument"]}
                iam.put_role_policy(
                    RoleName=stack.physical[name], PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document)
                )
        elif resource["Type"] == "AWS::S3::Bucket":
            _apply_bucket(s3, stack.physical[name], properties)
        elif resource["Type"] == "AWS::SNS::Subscription" and properties["Protocol"] == "sqs":
            _subscribe(properties)
        elif resource["Type"] == "AWS::CloudWatch::Alarm" and alarms:
            # an unnamed alarm gets a name made from the stack's and its own, as CloudFormation makes one
            named = {"AlarmName": f"{stack.name}-{name}", **properties}
            boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(**named)


def _subscribe(properties: dict[str, Any]) -> None:
    """The queue's subscription (SNS's Subscribe is idempotent: an update makes it again harmlessly)."""
    sns = boto3.client("sns", region_name=REGION)
    try:
        sns.subscribe(
            TopicArn=properties["TopicArn"],
            Protocol="sqs",
            Endpoint=properties["Endpoint"],
            Attributes={"RawMessageDelivery": str(properties.get("RawMessageDelivery", False)).lower()},
        )
    except sns.exceptions.NotFoundException:
        raise RuntimeError(
            f"RetrainTopicArn {properties['TopicArn']}: no such topic. Locally, start the stack without it, "
            "create the topic against its endpoint (aws sns create-topic), then `local up` with it: the running "
            "stack is updated"
        ) from None


def _apply_bucket(s3: Any, bucket: str, properties: dict[str, Any]) -> None:
    """Versioning and notifications, which moto drops."""
    if "VersioningConfiguration" in properties:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=properties["VersioningConfiguration"])
    notification = properties.get("NotificationConfiguration") or {}
    queues = [
        {
            "QueueArn": queue["Queue"],
            "Events": [queue["Event"]],
            **({"Filter": {"Key": {"FilterRules": queue["Filter"]["S3Key"]["Rules"]}}} if queue.get("Filter") else {}),
        }
        for queue in notification.get("QueueConfigurations", [])
    ]
    configuration: dict[str, Any] = {"QueueConfigurations": queues} if queues else {}
    if notification.get("EventBridgeConfiguration"):
        configuration["EventBridgeConfiguration"] = {}
    if configuration:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
