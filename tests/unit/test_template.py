"""template.yaml: translates, lints in both forms, deploys without cycles, grants only what is needed."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_all
from samtranslator.translator.transform import transform

from emulator.deployment import TEMPLATE_PATH, load_template

# Its module-scoped fixtures are built once: every test of the file runs on the same worker.
pytestmark = pytest.mark.xdist_group("test_template")

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_DIR = ROOT / "functions" / "trigger"


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def translate(template: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """What CloudFormation receives after the SAM transform (CodeUri replaced as `sam deploy` does)."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/trigger.zip"
    return dict(transform(template, parameters or {}, _NoManagedPolicies()))


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def translated(template: dict[str, Any]) -> dict[str, Any]:
    return translate(template)


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def errors_and_warnings(template_text: str) -> list[str]:
    return [str(match) for match in lint_all(template_text) if match.rule.id[0] in "EW"]


def test_the_translated_template_passes_cfn_lint(translated):
    # cfn-lint catches some errors only after translation; E3004 is its circular-dependency check.
    assert errors_and_warnings(json.dumps(translated)) == []


def test_the_source_template_passes_cfn_lint():
    assert errors_and_warnings(TEMPLATE_PATH.read_text(encoding="utf-8")) == []


def dependencies(resource: Any) -> set[str]:
    """Logical ids a resource refers to (Ref, GetAtt, ${...} in Sub, DependsOn)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Ref" and isinstance(value, str):
                    found.add(value)
                elif key == "Fn::GetAtt":
                    found.add(value[0] if isinstance(value, list) else value.split(".")[0])
                elif key == "Fn::Sub":
                    text = value if isinstance(value, str) else value[0]
                    found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
                    walk(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(resource.get("Properties", {}))
    depends = resource.get("DependsOn", [])
    found.update([depends] if isinstance(depends, str) else depends)
    return found


def test_bucket_queue_and_policy_have_no_cycle_and_the_policy_comes_first(translated):
    resources = translated["Resources"]
    graph = {name: dependencies(resource) & set(resources) for name, resource in resources.items()}
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in visiting, f"cycle: {' -> '.join([*path, name])}"
        if name in done:
            return
        visiting.add(name)
        for dependency in graph[name]:
            visit(dependency, [*path, name])
        visiting.discard(name)
        done.add(name)

    for name in graph:
        visit(name, [])
    # S3 validates the destination when the notification is created: the policy must exist by then.
    assert "TriggerQueuePolicy" in graph["DataBucket"]


def test_only_the_data_bucket_the_retrain_topic_and_the_queued_rules_may_send_to_the_queue(template):
    policy = template["Resources"]["TriggerQueuePolicy"]["Properties"]["PolicyDocument"]
    statements = [s for s in policy["Statement"] if "Fn::If" not in s]
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    bucket_name = template["Resources"]["DataBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"] == f"arn:${{AWS::Partition}}:s3:::{bucket_name}"
    assert allow["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    # each other sender only when its parameter asks for it, and only that one
    conditional = {s["Fn::If"][0]: s["Fn::If"][1] for s in policy["Statement"] if "Fn::If" in s}
    assert set(conditional) == {"HasRetrainTopic", "QueuesEvents"}
    topic = conditional["HasRetrainTopic"]
    assert (topic["Principal"], topic["Action"]) == ({"Service": "sns.amazonaws.com"}, "sqs:SendMessage")
    assert topic["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Ref": "RetrainTopicArn"}
    rules = conditional["QueuesEvents"]
    assert rules["Principal"] == {"Service": "events.amazonaws.com"}
    names = [arn["Fn::Sub"].rsplit("/", 1)[-1] for arn in rules["Condition"]["ArnEquals"]["aws:SourceArn"]]
    resources = template["Resources"]
    assert names == [
        resources["QueuedObjectCreatedRule"]["Properties"]["Name"]["Fn::Sub"],
        resources["RetrainOnEventsRule"]["Properties"]["Name"]["Fn::Sub"],
        resources["DriftRule"]["Properties"]["Name"]["Fn::Sub"],
    ]


def test_the_notification_filters_on_the_data_prefix_and_suffix(template):
    queue_configurations = template["Resources"]["DataBucket"]["Properties"]["NotificationConfiguration"][
        "QueueConfigurations"
    ]
    [configuration] = queue_configurations["Fn::If"][1]  # with TriggerPath Queue or Both
    assert configuration["Event"] == "s3:ObjectCreated:*"
    rules = json.dumps(configuration["Filter"])
    assert '"Ref": "DataPrefix"' in rules
    assert '"Ref": "DataSuffix"' in rules


def test_partial_batch_failures_are_reported_to_the_event_source(translated, template):
    [mapping] = resources_of_type(translated, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # the queue's redrive policy is the DLQ; a function-level DLQ would never receive anything
    assert "DeadLetterConfig" not in translated["Resources"]["TriggerFunction"]["Properties"]
    redrive = template["Resources"]["TriggerQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["TriggerDeadLetterQueue", "Arn"]}


def test_queue_visibility_covers_six_function_timeouts_plus_the_longest_window(template):
    timeout = template["Globals"]["Function"]["Timeout"]
    longest_window = template["Parameters"]["BatchingWindowSeconds"]["MaxValue"]
    visibility = template["Resources"]["TriggerQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * timeout + longest_window


def statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement, those behind a condition (Fn::If) included."""
    found = []
    for statement in document["Statement"]:
        branches = statement["Fn::If"][1:] if "Fn::If" in statement else [statement]
        found += [branch for branch in branches if branch != {"Ref": "AWS::NoValue"}]
    return found


def test_every_iam_statement_names_its_resource(translated):
    # No resource-level support (Service Authorization Reference): these can only be granted on "*".
    # cloudwatch:PutMetricData is limited by its namespace condition instead.
    wildcard_allowed = {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "sagemaker:ListModelPackages",
        "cloudwatch:PutMetricData",
    }
    for name, role in resources_of_type(translated, "AWS::IAM::Role").items():
        assert not role["Properties"].get("ManagedPolicyArns"), name
        for policy in role["Properties"]["Policies"]:
            for statement in statements_of(policy["PolicyDocument"]):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if statement["Resource"] == "*":
                    assert set(actions) <= wildcard_allowed, (name, statement)
                assert "*" not in "".join(actions), (name, statement)


def test_the_function_may_start_only_the_configured_pipeline(translated):
    role = translated["Resources"]["TriggerFunctionRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in statements_of(p["PolicyDocument"])]
    [start] = [s for s in statements if "sagemaker:StartPipelineExecution" in s["Action"]]
    assert start["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:pipeline/${PipelineName}"
    }


def test_pipeline_name_must_be_lower_case_to_match_its_arn(template):
    pattern = re.compile(template["Parameters"]["PipelineName"]["AllowedPattern"])
    assert pattern.match("retrain-pipeline")
    assert not pattern.match("Retrain-Pipeline")


def test_encryption_and_tls_everywhere(template):
    resources = template["Resources"]
    for queue in resources_of_type(template, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    for topic in resources_of_type(template, "AWS::SNS::Topic").values():
        assert topic["Properties"]["KmsMasterKeyId"]
    bucket = resources["DataBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    for policy_name in ("DataBucketPolicy", "TriggerQueuePolicy", "NotificationTopicPolicy"):
        statements = resources[policy_name]["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s.get("Effect") == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), policy_name


def test_the_function_runs_our_handler_with_powertools_from_the_layer(template):
    function = template["Resources"]["TriggerFunction"]["Properties"]
    assert function["CodeUri"] == "functions/trigger/"
    assert function["Handler"] == "app.lambda_handler"
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"
    assert template["Globals"]["Function"]["Architectures"] == ["arm64"]
    assert "powertools" in json.dumps(template["Globals"]["Function"]["Layers"])


def test_the_function_package_holds_only_our_code():
    requirements = (FUNCTION_DIR / "requirements.txt").read_text(encoding="utf-8")
    assert [line for line in requirements.splitlines() if line.strip() and not line.startswith("#")] == []
    files = [path.relative_to(FUNCTION_DIR) for path in FUNCTION_DIR.rglob("*") if path.is_file()]
    packaged = [path for path in files if "__pycache__" not in path.parts]
    assert all(path.suffix == ".py" or path.name == "requirements.txt" for path in packaged), packaged
    handlers = {"app.py", "run_ended.py", "sweep.py", "pipeline_targets.py", "deploy.py"}
    assert {path.parts[0] for path in packaged} == {*handlers, "requirements.txt", "trigger"}


SCHEDULER_FUNCTIONS = ("TriggerFunction", "RunStatusFunction", "SweepFunction")


@pytest.mark.parametrize("function", SCHEDULER_FUNCTIONS)
def test_each_function_can_be_built_from_the_template_alone(template, function):
    """Its handler exists in its code root, and its environment, resolved for a deployment, is a
    configuration the shared core accepts, naming tables the template declares."""
    from tests.template_values import function_variables, parameter_values, resolve
    from trigger.settings import load_settings

    properties = template["Resources"][function]["Properties"]
    module, handler = properties["Handler"].split(".")
    code = (ROOT / properties["CodeUri"] / f"{module}.py").read_text(encoding="utf-8")
    assert f"def {handler}(" in code
    declared = function_variables(template, function)
    referenced = {
        value["Ref"]
        for value in declared.values()
        if isinstance(value, dict) and value.get("Ref") in template["Resources"]
    }
    assert {template["Resources"][name]["Type"] for name in referenced} <= {
        "AWS::DynamoDB::Table",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::S3::Bucket",
    }
    assert "SchedulerTable" in referenced
    values = {**parameter_values(template), **{name: f"{name}-resolved" for name in referenced}}
    settings = load_settings({name: str(resolve(value, values, template)) for name, value in declared.items()})
    assert settings.scheduler_table_name == "SchedulerTable-resolved"
    assert settings.max_concurrent_executions == 1  # the default: one retrain at a time


def test_the_scheduler_table_has_the_keys_and_expiry_the_scheduler_writes(template):
    from trigger.adapters.scheduler_table import KEY_SCHEMA, TTL_ATTRIBUTE

    table = template["Resources"]["SchedulerTable"]["Properties"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == KEY_SCHEMA
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_the_run_policy_parameters_accept_what_the_functions_accept(template):
    from trigger.settings import TriggerSettings

    parameters = template["Parameters"]
    fields = TriggerSettings.model_fields
    max_objects = next(m.le for m in fields["max_objects_per_run"].metadata if hasattr(m, "le"))
    assert parameters["MaxObjectsPerRun"]["MaxValue"] == max_objects
    for name in ("MaxConcurrentExecutions", "QuietSeconds", "MaxWaitSeconds", "MinSecondsBetweenRuns"):
        assert parameters[name]["MinValue"] == 0, name
    assert parameters["QuietSeconds"]["Default"] == 0  # a lone upload still starts promptly


def test_the_sweep_runs_every_few_minutes(translated):
    schedules = resources_of_type(translated, "AWS::Scheduler::Schedule").values()
    [sweep] = [s for s in schedules if "SweepFunction" in json.dumps(s["Properties"]["Target"])]
    assert sweep["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    assert sweep["Properties"]["State"] == "ENABLED"


def test_outputs_are_described(template):
    outputs = template["Outputs"]
    assert set(outputs) >= {
        "DataBucketName",
        "TriggerQueueUrl",
        "TriggerDeadLetterQueueUrl",
        "NotificationTopicArn",
        "TriggerFunctionName",
    }
    assert all(output.get("Description") for output in outputs.values())


def test_contract_parameters_exist_with_their_defaults(template):
    parameters = template["Parameters"]
    assert parameters["PipelineName"]["Default"] == "retrain-pipeline"
    assert parameters["DataPrefix"]["Default"] == "pipeline-dataset/"
    assert parameters["DataSuffix"]["Default"] == ".csv"
    assert parameters["NotificationEmail"]["Default"] == ""
    assert parameters["Stage"]["Default"] == "dev"
    assert "PowertoolsLayerArn" in parameters


def test_an_email_subscription_exists_only_when_an_address_is_given(template):
    subscription = template["Resources"]["NotificationEmailSubscription"]
    assert subscription["Condition"] == "HasNotificationEmail"
    assert template["Conditions"]["HasNotificationEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "NotificationEmail"}, ""]}]
    }


def test_the_pipeline_role_may_pass_only_itself_and_touch_only_the_data_bucket(template, translated):
    role = template["Resources"]["PipelineExecutionRole"]["Properties"]
    statements = {s["Sid"]: s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]}
    assert statements["PassItselfToTheJobs"]["Resource"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{role['RoleName']['Fn::Sub']}"
    }
    assert statements["ReadDataWriteArtifacts"]["Resource"] == {"Fn::Sub": "${DataBucket.Arn}/*"}
    assert statements["ListTheDataBucket"]["Resource"] == {"Fn::GetAtt": ["DataBucket", "Arn"]}
    register = json.dumps(statements["RegisterInTheModelGroup"]["Resource"])
    assert "model-package-group/${ModelPackageGroupName}" in register
    outputs = translated["Outputs"]
    assert outputs["PipelineExecutionRoleArn"]["Value"] == {"Fn::GetAtt": ["PipelineExecutionRole", "Arn"]}


@pytest.mark.parametrize("pipeline_name", ["retrain-pipeline", "churn"])
def test_run_status_reads_reports_where_the_pipeline_writes_them(template, pipeline_name):
    from pipeline.config import runs_prefix
    from tests.template_values import function_variables, parameter_values, resolve

    values = parameter_values(template, PipelineName=pipeline_name)
    environment = function_variables(template, "RunStatusFunction")
    assert resolve(environment["RUNS_PREFIX"], values) == runs_prefix(pipeline_name)


@pytest.mark.parametrize("pipeline_name", ["retrain-pipeline", "churn"])
def test_lifecycle_rules_expire_run_folders_and_manifests_but_never_registered_models(template, pipeline_name):
    from pipeline.config import PipelineConfig, runs_prefix
    from tests.template_values import function_variables, parameter_values, resolve

    values = parameter_values(template, PipelineName=pipeline_name)
    bucket = template["Resources"]["DataBucket"]
    rules = {r["Id"]: resolve(r, values, template) for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    environment = function_variables(template, "TriggerFunction")
    assert rules["run-artifacts"]["Prefix"] == runs_prefix(pipeline_name)
    assert rules["manifests"]["Prefix"] == environment["MANIFEST_PREFIX"]
    # prod's captured requests and monitoring reports, where the deploy function sends them
    deploy = {
        k: resolve(v, {**values, "DataBucket": "b"}, template)
        for k, v in function_variables(template, "DeployFunction").items()
    }
    assert f"s3://b/{rules['data-capture']['Prefix']}" == deploy["DATA_CAPTURE_URI"] + "/"
    assert f"s3://b/{rules['monitoring-reports']['Prefix']}" == deploy["MONITORING_OUTPUT_URI"] + "/"
    assert all(rule["Status"] == "Enabled" for rule in rules.values())  # by default
    assert rules["noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == "365"
    config = PipelineConfig(role_arn="r", default_bucket="b", region="us-east-1", pipeline_name=pipeline_name)
    models = f"{config.artifacts_uri}/models/".removeprefix("s3://b/")
    assert not any(models.startswith(rule.get("Prefix", "\0")) for rule in rules.values() if "ExpirationInDays" in rule)
    # 0 turns a rule off
    off = parameter_values(template, PipelineName=pipeline_name, RunArtifactDays="0")
    [run_rule] = [r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"] if r["Id"] == "run-artifacts"]
    assert resolve(run_rule, off, template)["Status"] == "Disabled"


def test_the_data_bucket_outlives_the_stack(template):
    bucket = template["Resources"]["DataBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_events_env_json_is_each_functions_environment_in_the_dev_stack_of_the_sample_account(template):
    """`sam local invoke --env-vars events/env.json` gets what the template gives each function
    (Stage dev, account 123456789012, us-east-1: the account and bucket of the events/ samples)."""
    import tomllib

    from tests.aws import SAMPLE_BUCKET
    from tests.template_values import ACCOUNT, REGION, parameter_values, resolve

    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    stack_name = config["default"]["global"]["parameters"]["stack_name"]  # the dev stack of samconfig.toml
    values = {**parameter_values(template), "AWS::StackName": stack_name}
    resources = template["Resources"]

    def name(resource: str, key: str) -> str:
        return str(resolve(resources[resource]["Properties"][key], values))

    physical = {
        "SchedulerTable": name("SchedulerTable", "TableName"),
        "IdempotencyTable": name("IdempotencyTable", "TableName"),
        "TriggerDeadLetterQueue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/"
        + name("TriggerDeadLetterQueue", "QueueName"),
        "NotificationTopic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name('NotificationTopic', 'TopicName')}",
        "DataBucket": name("DataBucket", "BucketName"),
    }
    assert physical["DataBucket"] == SAMPLE_BUCKET
    env = json.loads((ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    # SAM's --env-vars: "Parameters" applies to every function; a function's own key adds to it.
    assert set(env) == {"Parameters", "TriggerFunction", "RunStatusFunction", "DeployFunction"}

    def resolved(variables: dict[str, Any]) -> dict[str, str]:
        return {k: str(resolve(v, {**values, **physical}, template)) for k, v in variables.items()}

    assert env["Parameters"] == resolved(template["Globals"]["Function"]["Environment"]["Variables"])
    for function in SCHEDULER_FUNCTIONS:
        own = resources[function]["Properties"].get("Environment", {}).get("Variables", {})
        assert env.get(function, {}) == resolved(own), function
    # the deploy function exists in a stack that deploys: Deployment Serverless there; the model role's
    # ARN is CloudFormation's to make (a generated name), so the sample names one in the sample account
    values["Deployment"] = "Serverless"
    physical |= {alarm: name(alarm, "AlarmName") for alarm in ("ProdEndpoint5XXAlarm", "ProdEndpointLatencyAlarm")}
    deploy = resolved(resources["DeployFunction"]["Properties"]["Environment"]["Variables"])
    role = env["DeployFunction"].pop("MODEL_EXECUTION_ROLE_ARN")
    assert role.startswith(f"arn:aws:iam::{ACCOUNT}:role/{stack_name}-ModelExecutionRole-")
    deploy.pop("MODEL_EXECUTION_ROLE_ARN")
    assert env["DeployFunction"] == deploy


def test_prod_shares_no_stage_pipeline_or_model_group_with_dev(template):
    import tomllib

    from samcli.cli.types import CfnParameterOverridesType

    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))

    def overrides(environment: str) -> dict[str, str]:
        text = config[environment]["deploy"]["parameters"]["parameter_overrides"]
        given = CfnParameterOverridesType().convert(text, None, None)  # read as `sam deploy` reads it
        assert set(given) <= set(template["Parameters"]), environment
        return {
            name: given.get(name, str(template["Parameters"][name].get("Default"))) for name in template["Parameters"]
        }

    dev, prod = overrides("default"), overrides("prod")
    for name in ("Stage", "PipelineName", "ModelPackageGroupName"):
        assert dev[name] != prod[name], name
    # a first deploy fills in two values: the region and the e-mail (empty until then, and warned about)
    assert config["default"]["global"]["parameters"]["region"]
    assert dev["NotificationEmail"] == ""


def test_the_dashboard_shows_metrics_the_functions_emit(template):
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    body = json.loads(template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"])
    code = "\n".join(path.read_text(encoding="utf-8") for path in FUNCTION_DIR.rglob("*.py"))
    ours = [m for w in body["widgets"] for m in w["properties"]["metrics"] if m[0] != "AWS/SQS"]
    assert {m[1] for m in ours} >= {
        "RunStarted",
        "ObjectsInRun",
        "DuplicateSuppressed",
        "PendingObjects",
        "EmptyUploadRefused",
        "DataRefused",
    }
    for namespace, name, dimension, value, *_ in ours:
        assert (namespace, dimension, value) == (
            environment["POWERTOOLS_METRICS_NAMESPACE"],
            "service",
            environment["POWERTOOLS_SERVICE_NAME"],
        )
        assert f'name="{name}"' in code, name


def test_one_python_for_the_project_what_make_runs_and_the_lambda_runtime(template):
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    version = (ROOT / ".python-version").read_text(encoding="utf-8").strip()
    assert project["project"]["requires-python"] == f">={version},<3.{int(version.split('.')[1]) + 1}"
    assert template["Globals"]["Function"]["Runtime"] == f"python{version}"
    assert project["tool"]["mypy"]["python_version"] == version


def test_every_gap_of_the_local_stack_is_in_the_docs_with_its_reason():
    from emulator.cloudformation import GAPS

    readme = (ROOT / "docs" / "local.md").read_text(encoding="utf-8")
    for what, how in GAPS.items():
        assert f"| {what} | {how} |" in readme, what


def test_what_moto_does_not_evaluate_in_iam_is_in_the_docs():
    from emulator.identities import EVALUATION_GAPS

    readme = (ROOT / "docs" / "local.md").read_text(encoding="utf-8")
    for what, how in EVALUATION_GAPS.items():
        assert f"| {what} | {how} |" in readme, what


def test_the_docs_sam_local_invoke_names_real_functions_events_and_the_templates_layer(template):
    """The `sam local invoke` commands of docs/deploy.md run as written for a user with Docker: each names a
    function of the template and a file of events/, and the layer comes from the SSM parameter the
    template resolves (SAM CLI does not resolve it)."""
    import re

    readme = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = readme.split("## Try the function with `sam local invoke`", 1)[1].split("\n## ", 1)[0]
    invocations = re.findall(r"^invoke (\w+) ([\w.-]+)", section, flags=re.MULTILINE)
    assert len(invocations) >= 7
    for function, event in invocations:
        assert template["Resources"][function]["Type"] == "AWS::Serverless::Function"
        assert (ROOT / "events" / event).is_file(), event
    layer = template["Globals"]["Function"]["Layers"][0]["Fn::If"][1]
    [parameter] = re.findall(r"\{\{resolve:ssm:([^}]+)\}\}", layer)
    assert f"aws ssm get-parameter --name {parameter} " in section


def test_the_functions_read_the_reports_by_the_one_definition_beside_the_step_scripts():
    """The function package holds only functions/trigger/: it carries pipeline/steps/reports.py through a
    link, which `sam build` and the local stack's packaging copy as the file itself."""
    carried = ROOT / "functions" / "trigger" / "trigger" / "reports.py"
    assert carried.is_symlink()
    assert carried.resolve() == (ROOT / "pipeline" / "steps" / "reports.py").resolve()


def test_the_default_mapping_is_the_one_the_functions_know_and_the_bundled_pipeline_declares(template):
    from pipeline.parameters import BY_NAME
    from trigger.parameter_mapping import BUNDLED_PIPELINE_MAPPING, parse_mapping

    assert template["Parameters"]["PipelineParameters"]["Default"] == BUNDLED_PIPELINE_MAPPING
    assert set(parse_mapping(BUNDLED_PIPELINE_MAPPING).names) <= set(BY_NAME)


def test_the_model_monitor_image_accounts_are_the_sdk_s(template):
    """MONITORING_IMAGE_URI's account per region is the one the SageMaker SDK names (the SDK is the source)."""
    from importlib import resources

    registries = json.loads(
        resources.files("sagemaker.core").joinpath("image_uri_config/model-monitor.json").read_text(encoding="utf-8")
    )["versions"][""]["registries"]
    accounts = {region: entry["Account"] for region, entry in template["Mappings"]["ModelMonitorAccounts"].items()}
    assert accounts == registries
