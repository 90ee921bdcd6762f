"""infra/template.yaml and infra/bootstrap.yaml: cfn-lint, checkov and the project's own rules
(least privilege, limits)."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.fake_aws import INLINE_TEMPLATE_LIMIT
from tests.infra.helpers import BOOTSTRAP, CHALICE_CONFIG, CHECKOV_VENV, ROOT, TEMPLATE, template, tool

# A template CloudFormation reads from S3 (deploy.sh's --s3-bucket) may have up to 1 MB.
S3_TEMPLATE_LIMIT = 1_000_000
# (template, fewest checks checkov must pass on it)
TEMPLATES = [pytest.param(TEMPLATE, 120, id="template"), pytest.param(BOOTSTRAP, 7, id="bootstrap")]


@pytest.mark.parametrize(("path", "_checks"), TEMPLATES)
def test_cfn_lint_finds_nothing(path: Path, _checks: int) -> None:
    result = subprocess.run([tool("cfn-lint"), "--format", "parseable", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


@pytest.mark.parametrize(("path", "checks"), TEMPLATES)
def test_checkov_fails_no_check_and_every_skip_is_justified(tmp_path: Path, path: Path, checks: int) -> None:
    home = tmp_path  # checkov caches under ~/.cache
    checkov = tool("checkov", CHECKOV_VENV / "bin" / "checkov")
    result = subprocess.run([checkov, "--file", str(path), "--framework", "cloudformation", "--output", "json",
                             "--skip-download", "--quiet"], capture_output=True, text=True, timeout=300,
                            cwd=ROOT, env={"PATH": "/usr/bin:/bin", "BC_SKIP_MAPPING": "TRUE", "HOME": str(home)})
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert summary["failed"] == 0, failed
    assert summary["passed"] >= checks and summary["parsing_errors"] == 0
    skips = [skip for resource in template(path)["Resources"].values()
             for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])]
    assert summary["skipped"] == len(skips), "every skip in the template is one checkov applied"
    for skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"])
        assert len(skip.get("comment", "")) >= 30, f"{skip['id']} needs a real justification"


def test_templates_are_plain_yaml_within_cloudformations_size_limits() -> None:
    """The main template goes through the bootstrap stack's bucket (1 MB limit; test_scripts.py
    checks that deploy.sh uploads it); the bootstrap template is sent inline (its stack makes
    that bucket)."""
    assert TEMPLATE.stat().st_size < S3_TEMPLATE_LIMIT
    assert BOOTSTRAP.stat().st_size < INLINE_TEMPLATE_LIMIT
    for path in (TEMPLATE, BOOTSTRAP):
        # CloudFormation's YAML has no anchors or aliases.
        events = yaml.parse(path.read_text(), Loader=yaml.BaseLoader)
        assert not [e for e in events if isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None)]


def _policy_statements() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, resource in template()["Resources"].items():
        props = resource.get("Properties", {})
        docs = [p["PolicyDocument"] for p in props.get("Policies", [])]
        if resource["Type"] in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"):
            docs.append(props["PolicyDocument"])
        for doc in docs:
            out += [(name, s) for s in doc["Statement"]]
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_iam_allows_listed_actions_only() -> None:
    statements = _policy_statements()
    assert len(statements) > 20
    for name, statement in statements:
        actions = _as_list(statement["Action"])
        if statement["Effect"] == "Deny":
            continue  # a Deny (TLS only) must cover every action
        assert all("*" not in action for action in actions), (name, actions)
        if statement.get("Resource") == "*":
            assert actions == ["ecr:GetAuthorizationToken"], (name, actions)


def test_object_permissions_are_scoped_to_their_prefix() -> None:
    prefixes = {"UploadBucket": "/uploads/", "WorkBucket": "/work/", "OutputBucket": "/outputs/"}
    for name, statement in _policy_statements():
        if name.endswith("BucketPolicy") or statement["Effect"] == "Deny":
            continue
        if not any(a.startswith("s3:") and a != "s3:ListBucket" for a in _as_list(statement["Action"])):
            continue
        for resource in _as_list(statement["Resource"]):
            sub = resource["Fn::Sub"]
            bucket = re.match(r"\$\{(\w+)\.Arn\}", sub).group(1)
            # The bucket's own folder, or a narrower part of it (``outputs/*/stream/thumbs/*``).
            assert sub.split("}", 1)[1].startswith(prefixes[bucket]) and sub.endswith("*"), (name, sub)


def test_every_bucket_is_private_encrypted_and_tls_only() -> None:
    resources = template()["Resources"]
    buckets = [n for n, r in resources.items() if r["Type"] == "AWS::S3::Bucket"]
    assert len(buckets) == 5
    policies = {r["Properties"]["Bucket"]["Ref"]: r["Properties"]["PolicyDocument"]
                for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"}
    for name in buckets:
        props = resources[name]["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        deny = policies[name]["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_chunker_retries_soon_without_reserved_concurrency() -> None:
    """The event source's MaximumConcurrency bounds the chunker (reserved concurrency needs 100
    unreserved in the account, and a throttled receive waits out the visibility timeout), so the
    queue's visibility can be short: above the function timeout (Lambda requires it) and the
    chunker's stale-claim age (a retry may take over the job), at most twice the timeout."""
    from chalicelib.model.settings import Settings

    visibility = int(template()["Resources"]["UploadQueue"]["Properties"]["VisibilityTimeout"])
    stale_claim = Settings.from_env(CHALICE_CONFIG["environment_variables"]).claim_stale_seconds
    for stage in CHALICE_CONFIG["stages"].values():
        for function in stage["lambda_functions"].values():
            assert "reserved_concurrency" not in function
        on_upload = stage["lambda_functions"]["on_upload"]
        assert 2 <= on_upload["sqs_maximum_concurrency"] <= 1000  # Lambda's range
        timeout = on_upload["lambda_timeout"]
        assert max(timeout, stale_claim) < visibility <= 2 * timeout
    assert "reserved_concurrency" not in CHALICE_CONFIG
    redrive = template()["Resources"]["UploadQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 5  # 5 tries within half an hour, then the DLQ


def test_valkey_uses_a_noeviction_parameter_group_of_its_engine() -> None:
    """The default group evicts keys with a TTL (volatile-lru) under memory pressure: live jobs."""
    resources = template()["Resources"]
    redis = resources["Redis"]["Properties"]
    group = resources[redis["CacheParameterGroupName"]["Ref"]]
    assert group["Type"] == "AWS::ElastiCache::ParameterGroup"
    assert group["Properties"]["Properties"] == {"maxmemory-policy": "noeviction"}
    assert group["Properties"]["CacheParameterGroupFamily"] == \
        f"{redis['Engine']}{redis['EngineVersion'].split('.')[0]}"


def test_services_are_created_idle_and_never_reset_by_an_update() -> None:
    """DesiredCount 0 only when the stack is created (InitialDeploy=true, which deploy.sh passes
    then): on every later update it is absent, so CloudFormation leaves autoscaling's count."""
    t = template()
    assert t["Parameters"]["InitialDeploy"]["Default"] == "false"
    assert t["Conditions"]["CreatingStack"] == {"Fn::Equals": [{"Ref": "InitialDeploy"}, "true"]}
    for name in ("ProcessorService", "AssemblerService"):
        assert t["Resources"][name]["Properties"]["DesiredCount"] == \
            {"Fn::If": ["CreatingStack", 0, {"Ref": "AWS::NoValue"}]}
    assert "InitialDeploy=$INITIAL_DEPLOY" in (ROOT / "infra" / "deploy.sh").read_text()


def test_workers_stop_gracefully_within_fargate_limits() -> None:
    resources = template()["Resources"]
    for name in ("ProcessorTaskDefinition", "AssemblerTaskDefinition"):
        (container,) = resources[name]["Properties"]["ContainerDefinitions"]
        env = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert container["StopTimeout"] == 120  # Fargate's maximum = Spot's warning
        # The task is given back (heartbeat <= 5 s + release) before SIGKILL.
        assert float(env["FRAMEFLEET_STOP_GRACE_SECONDS"]) + 10 <= container["StopTimeout"]
        assert container["LinuxParameters"]["InitProcessEnabled"] is True  # tini forwards SIGTERM
        assert container["ReadonlyRootFilesystem"] is True
        assert container["HealthCheck"]["Command"][:2] == ["CMD", "python"]
    # Processors mostly on Spot (a reclaimed chunk is redone), with an on-demand base and share:
    # ECS never falls back to on-demand when Spot capacity is short. Assembly may outlast
    # Spot's warning: on-demand only.
    processors = resources["ProcessorService"]["Properties"]["CapacityProviderStrategy"]
    strategy = {s["CapacityProvider"]: s for s in processors}
    assert set(strategy) == {"FARGATE", "FARGATE_SPOT"}
    assert strategy["FARGATE"]["Base"] >= 1 and strategy["FARGATE"]["Weight"] >= 1
    assert "Base" not in strategy["FARGATE_SPOT"]  # only one provider may have a base
    assert strategy["FARGATE_SPOT"]["Weight"] > strategy["FARGATE"]["Weight"]  # Spot does most of the work
    assert resources["AssemblerService"]["Properties"]["CapacityProviderStrategy"] == \
        [{"CapacityProvider": "FARGATE", "Weight": 1}]


def test_the_upload_bucket_keeps_the_probed_version_for_a_day_only() -> None:
    """Workers read the version the chunker probed (chalicelib/events/chunker.py): the bucket is
    versioned, and a replaced or deleted version lasts a day."""
    props = template()["Resources"]["UploadBucket"]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1} and rule["Prefix"] == "uploads/"


def _notifier() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The webhook sender's service, task definition and container."""
    resources = template()["Resources"]
    service = resources["NotifierService"]["Properties"]
    task = resources[service["TaskDefinition"]["Ref"]]["Properties"]
    (container,) = task["ContainerDefinitions"]
    return service, task, container


def test_the_webhook_sender_always_runs_and_scales_by_its_count() -> None:
    """Never at 0 after the first deploy (deliveries must be timely), no autoscaling: Notifiers
    tasks, each claiming deliveries by lease. 0 only while the stack is created (no image yet;
    deploy.sh sets the count after pushing it)."""
    t = template()
    param = t["Parameters"]["Notifiers"]
    assert (param["Type"], int(param["Default"]), int(param["MinValue"])) == ("Number", 1, 1)
    service, task, container = _notifier()
    assert service["DesiredCount"] == {"Fn::If": ["CreatingStack", 0, {"Ref": "Notifiers"}]}
    assert service["ServiceName"] == "notifier" and container["Command"] == ["--role", "notifier"]
    targets = [r["Properties"]["ResourceId"] for r in t["Resources"].values()
               if r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"]
    assert not [target for target in targets if "NotifierService" in json.dumps(target)]
    # A deployment starts the new task before stopping the old one; on-demand (ECS does not
    # replace a reclaimed Spot task while Spot capacity is short).
    assert service["DeploymentConfiguration"]["MinimumHealthyPercent"] == 100
    assert service["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE", "Weight": 1}]
    assert (task["Cpu"], task["Memory"]) == ("256", "512")
    # The same image as the processors; SIGTERM ends in-flight deliveries within ~15 s.
    processor = t["Resources"]["ProcessorTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert container["Image"] == processor["Image"]
    assert 15 + 10 <= container["StopTimeout"] <= 120
    assert container["LinuxParameters"]["InitProcessEnabled"] is True
    assert container["ReadonlyRootFilesystem"] is True
    assert container["HealthCheck"] == processor["HealthCheck"]


def test_the_webhook_sender_gets_redis_the_output_bucket_and_the_playback_secret_only() -> None:
    """Exactly what building a job view needs: presigned download links (s3:GetObject signs them)
    and signed playback URLs, Valkey through ECS's secret as the other workers get it."""
    t = template()
    service, task, container = _notifier()
    assert {e["Name"]: e["Value"] for e in container["Environment"]} == {
        "FRAMEFLEET_OUTPUT_BUCKET": {"Ref": "OutputBucket"},
        "FRAMEFLEET_PLAYBACK_BASE_URL": {"Fn::Sub": "https://${PlaybackDistribution.DomainName}"},
        "FRAMEFLEET_PLAYBACK_SECRET_ARN": {"Ref": "PlaybackSecret"},
        "REDIS_HOST": {"Fn::GetAtt": ["Redis", "PrimaryEndPoint.Address"]},
        "REDIS_PORT": {"Fn::GetAtt": ["Redis", "PrimaryEndPoint.Port"]},
        "AWS_DEFAULT_REGION": {"Ref": "AWS::Region"}, "LOG_LEVEL": "INFO"}
    assert container["Secrets"] == [{"Name": "REDIS_AUTH_TOKEN", "ValueFrom": {"Fn::Sub": "${RedisAuthToken}:token::"}}]
    # The playback settings are the Lambdas' (infra/chalice_config.py maps these outputs).
    outputs = t["Outputs"]
    assert outputs["PlaybackBaseUrl"]["Value"] == {"Fn::Sub": "https://${PlaybackDistribution.DomainName}"}
    assert outputs["PlaybackSecretArn"]["Value"] == {"Ref": "PlaybackSecret"}
    assert outputs["MaxProcessors"]["Value"] == {"Ref": "MaxProcessors"}  # → FRAMEFLEET_MAX_PROCESSORS
    assert task["ExecutionRoleArn"] == t["Resources"]["ProcessorTaskDefinition"]["Properties"]["ExecutionRoleArn"]
    role = t["Resources"][task["TaskRoleArn"]["Fn::GetAtt"][0]]["Properties"]
    (assume,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert assume["Principal"] == {"Service": "ecs-tasks.amazonaws.com"} and "aws:SourceArn" in json.dumps(assume)
    assert "ManagedPolicyArns" not in role
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert statements == [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "${OutputBucket.Arn}/outputs/*"}},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "PlaybackSecret"}}]
    # Its logs: the execution role (shared with the other workers) may write its log group.
    execution = t["Resources"]["TaskExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    logs = next(s for s in execution if "logs:PutLogEvents" in s["Action"])
    assert {"Fn::GetAtt": ["NotifierLogs", "Arn"]} in logs["Resource"]
    assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "NotifierLogs"}


def test_the_webhook_sender_reaches_the_internet_and_valkey_and_nothing_reaches_it() -> None:
    """Receivers are any public URL on any port (the sender refuses private addresses itself);
    the same subnets and public-IP choice as the processors; no inbound rule anywhere."""
    resources = template()["Resources"]
    service, _, _ = _notifier()
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    processor = resources["ProcessorService"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["SecurityGroups"] == [{"Ref": "NotifierSecurityGroup"}]
    assert (network["Subnets"], network["AssignPublicIp"]) == (processor["Subnets"], processor["AssignPublicIp"])
    group = resources["NotifierSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    (egress,) = group["SecurityGroupEgress"]
    assert (egress["IpProtocol"], int(egress["FromPort"]), int(egress["ToPort"]), egress["CidrIp"]) == \
        ("tcp", 0, 65535, "0.0.0.0/0")
    ingress = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    assert not [i for i in ingress if i["GroupId"] == {"Ref": "NotifierSecurityGroup"}]
    assert [(i["GroupId"], int(i["FromPort"]), int(i["ToPort"])) for i in ingress
            if i["SourceSecurityGroupId"] == {"Ref": "NotifierSecurityGroup"}] == \
        [({"Ref": "RedisSecurityGroup"}, 6379, 6379)]


def test_every_task_definition_runs_a_role_the_entry_point_knows() -> None:
    """`python -m workers --role R` accepts the Role values only (workers/__main__.py)."""
    from chalicelib.model.kinds import Role

    resources = template()["Resources"]
    commands = [r["Properties"]["ContainerDefinitions"][0]["Command"] for r in resources.values()
                if r["Type"] == "AWS::ECS::TaskDefinition"]
    assert sorted(c[1] for c in commands) == ["assembler", "notifier", "processor"]
    assert {c[1] for c in commands} <= {r.value for r in Role}
