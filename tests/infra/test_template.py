"""infra/template.yaml: cfn-lint, checkov and the project's own rules (least privilege, limits)."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.infra.helpers import CHALICE_CONFIG, CHECKOV_VENV, ROOT, TEMPLATE, template, tool

# `aws cloudformation deploy` sends a template inline only up to this size (larger needs a bucket).
INLINE_TEMPLATE_LIMIT = 51_200


def test_cfn_lint_finds_nothing() -> None:
    result = subprocess.run([tool("cfn-lint"), "--format", "parseable", str(TEMPLATE)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_checkov_fails_no_check_and_every_skip_is_justified(tmp_path: Path) -> None:
    home = tmp_path  # checkov caches under ~/.cache
    checkov = tool("checkov", CHECKOV_VENV / "bin" / "checkov")
    result = subprocess.run([checkov, "--file", str(TEMPLATE), "--framework", "cloudformation", "--output", "json",
                             "--skip-download", "--quiet"], capture_output=True, text=True, timeout=300,
                            cwd=ROOT, env={"PATH": "/usr/bin:/bin", "BC_SKIP_MAPPING": "TRUE", "HOME": str(home)})
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert summary["failed"] == 0, failed
    assert summary["passed"] >= 90 and summary["parsing_errors"] == 0
    skips = [skip for resource in template()["Resources"].values()
             for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])]
    assert summary["skipped"] == len(skips), "every skip in the template is one checkov applied"
    for skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"])
        assert len(skip.get("comment", "")) >= 30, f"{skip['id']} needs a real justification"


def test_template_is_plain_yaml_cloudformation_accepts_inline() -> None:
    text = TEMPLATE.read_text()
    assert len(text.encode()) < INLINE_TEMPLATE_LIMIT
    # CloudFormation's YAML has no anchors or aliases.
    events = yaml.parse(text, Loader=yaml.BaseLoader)
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
    prefixes = {"UploadBucket": "/uploads/*", "WorkBucket": "/work/*", "OutputBucket": "/outputs/*"}
    for name, statement in _policy_statements():
        if name.endswith("BucketPolicy") or statement["Effect"] == "Deny":
            continue
        if not any(a.startswith("s3:") and a != "s3:ListBucket" for a in _as_list(statement["Action"])):
            continue
        for resource in _as_list(statement["Resource"]):
            sub = resource["Fn::Sub"]
            bucket = re.match(r"\$\{(\w+)\.Arn\}", sub).group(1)
            assert sub.endswith(prefixes[bucket]), (name, sub)


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
