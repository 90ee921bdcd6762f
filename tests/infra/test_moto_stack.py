"""Deploy infra/template.yaml into moto's CloudFormation and inspect the result through the
AWS APIs. moto 5.2.5's CloudFormation lacks handlers for 15 of the template's types and drops
most properties of two more; tests/infra/moto_cfn.py creates those through moto's service APIs."""
from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from moto import mock_aws

from tests.infra.helpers import BOOTSTRAP, CHALICE_CONFIG, ROOT, inline_copy, template

REGION = "us-east-1"
MAX_PROCESSORS = 6
PROD_NOTIFIERS = 2


@dataclass
class Stack:
    name: str
    outputs: dict[str, str]
    resources: dict[str, dict[str, Any]]   # logical id -> describe_stack_resources entry

    def physical(self, logical_id: str) -> str:
        return self.resources[logical_id]["PhysicalResourceId"]


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def deploy(name: str, body: dict[str, Any] | None = None, **parameters: str) -> Stack:
    cf = client("cloudformation")
    cf.create_stack(StackName=name, TemplateBody=json.dumps(body or template()), Capabilities=["CAPABILITY_IAM"],
                    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    resources = {r["LogicalResourceId"]: r for r in cf.describe_stack_resources(StackName=name)["StackResources"]
                 if "LogicalResourceId" in r}
    return Stack(name, {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}, resources)


@pytest.fixture(scope="module")
def stacks() -> Iterator[dict[str, Stack]]:
    with warnings.catch_warnings(record=True) as caught, mock_aws():
        warnings.simplefilter("always")
        from tests.infra import moto_cfn  # noqa: F401 - registers the missing handlers

        # dev as deploy.sh creates a stack; prod without InitialDeploy (an update's parameters).
        yield {"bootstrap": deploy("framefleet-dev-bootstrap", template(BOOTSTRAP)),
               "dev": deploy("framefleet-dev", Stage="dev", MaxProcessors=str(MAX_PROCESSORS), InitialDeploy="true"),
               "prod": deploy("framefleet-prod", Stage="prod", UseNatGateway="true",
                              Notifiers=str(PROD_NOTIFIERS))}
    unsupported = [str(w.message) for w in caught if "not supported by moto" in str(w.message)]
    assert not unsupported, unsupported


@pytest.fixture(scope="module")
def dev(stacks: dict[str, Stack]) -> Stack:
    return stacks["dev"]


def test_every_resource_is_created(stacks: dict[str, Stack]) -> None:
    declared = template()["Resources"]
    conditional = {n for n, r in declared.items() if r.get("Condition") == "UseNat"}
    assert set(stacks["dev"].resources) == set(declared) - conditional
    assert set(stacks["prod"].resources) == set(declared)
    assert set(stacks["bootstrap"].resources) == set(template(BOOTSTRAP)["Resources"])
    for stack in stacks.values():
        assert {r["ResourceStatus"] for r in stack.resources.values()} == {"CREATE_COMPLETE"}


def test_buckets_are_encrypted_private_owner_enforced_and_tls_only(stacks: dict[str, Stack]) -> None:
    s3, dev = client("s3"), stacks["dev"]
    buckets = [dev.outputs[output] for output in ("UploadBucket", "WorkBucket", "OutputBucket", "ArtifactBucket",
                                                  "FrontendBucket")]
    assert stacks["bootstrap"].outputs["TemplateBucket"] == "framefleet-dev-bootstrap-123456789012"
    for bucket in [*buckets, stacks["bootstrap"].outputs["TemplateBucket"]]:
        (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                         "RestrictPublicBuckets": True}
        ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        deny = policy["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"
        assert f"arn:aws:s3:::{bucket}" in deny["Resource"]


def test_frontend_bucket_is_readable_only_by_its_distribution(dev: Stack) -> None:
    policy = json.loads(client("s3").get_bucket_policy(Bucket=dev.outputs["FrontendBucket"])["Policy"])
    allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow == [{
        "Sid": "CloudFrontReads", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{dev.outputs['FrontendBucket']}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn":
                                       f"arn:aws:cloudfront::123456789012:distribution/{dev.outputs['DistributionId']}"}}}]
    dist = client("cloudfront").get_distribution(Id=dev.outputs["DistributionId"])["Distribution"]
    config = dist["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    oac = client("cloudfront").get_origin_access_control(Id=dev.physical("FrontendOriginAccess"))
    assert oac["OriginAccessControl"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert dev.outputs["FrontendUrl"] == f"https://{dist['DomainName']}"


def test_streams_are_readable_only_through_the_playback_distribution(dev: Stack) -> None:
    """The output bucket stays private: CloudFront may GetObject streaming packages only, and only
    for the playback distribution (OAC, SigV4); its function checks each request's token."""
    from tests.infra.moto_cfn import CLOUDFRONT_POLICIES, PUBLISHED_FUNCTIONS

    cloudfront, bucket = client("cloudfront"), dev.outputs["OutputBucket"]
    dist_id = dev.physical("PlaybackDistribution")
    policy = json.loads(client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    assert [s for s in policy["Statement"] if s["Effect"] == "Allow"] == [{
        "Sid": "PlaybackReadsStreams", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/outputs/*/stream/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": f"arn:aws:cloudfront::123456789012:distribution/{dist_id}"}}}]
    dist = cloudfront.get_distribution(Id=dist_id)["Distribution"]
    assert dev.outputs["PlaybackBaseUrl"] == f"https://{dist['DomainName']}"
    config = dist["DistributionConfig"]
    (origin,) = config["Origins"]["Items"]
    assert origin["DomainName"] == f"{bucket}.s3.{REGION}.amazonaws.com"
    oac = cloudfront.get_origin_access_control(Id=dev.physical("PlaybackOriginAccess"))
    oac_config = oac["OriginAccessControl"]["OriginAccessControlConfig"]
    assert (oac_config["OriginAccessControlOriginType"], oac_config["SigningBehavior"],
            oac_config["SigningProtocol"]) == ("s3", "always", "sigv4")
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert sorted(behavior["AllowedMethods"]["Items"]) == ["GET", "HEAD", "OPTIONS"]
    assert config["HttpVersion"] == "http2and3" and config["PriceClass"] == "PriceClass_100"
    # moto keeps neither the policies (no such API: validated and recorded) nor the association.
    cache = CLOUDFRONT_POLICIES[behavior["CachePolicyId"]]
    assert cache["MinTTL"] == 0 and cache["MaxTTL"] >= 31536000
    cors = CLOUDFRONT_POLICIES[behavior["ResponseHeadersPolicyId"]]["CorsConfig"]
    assert cors["AccessControlAllowOrigins"] == {"Quantity": 1, "Items": ["*"]}
    # The function: the file's inline copy, on runtime 2.0, reading the stack's key value store.
    function = cloudfront.describe_function(Name=dev.physical("PlaybackFunction"))["FunctionSummary"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["FunctionConfig"]["KeyValueStoreAssociations"]["Items"] == [
        {"KeyValueStoreARN": dev.outputs["PlaybackKeyValueStoreArn"]}]
    code = cloudfront.get_function(Name=dev.physical("PlaybackFunction"))["FunctionCode"].read().decode()
    assert code == inline_copy() and dev.physical("PlaybackFunction") in PUBLISHED_FUNCTIONS
    store = cloudfront.describe_key_value_store(Name=dev.physical("PlaybackKeyValueStore"))["KeyValueStore"]
    assert store["ARN"] == dev.outputs["PlaybackKeyValueStoreArn"]


def test_the_playback_secret_is_48_random_characters_under_secret(dev: Stack) -> None:
    value = client("secretsmanager").get_secret_value(SecretId=dev.outputs["PlaybackSecretArn"])["SecretString"]
    (secret,) = json.loads(value).values()
    assert set(json.loads(value)) == {"secret"} and len(secret) == 48 and secret.isalnum()
    other = client("secretsmanager").get_secret_value(SecretId=client("cloudformation").describe_stack_resource(
        StackName="framefleet-prod", LogicalResourceId="PlaybackSecret")["StackResourceDetail"]["PhysicalResourceId"])
    assert json.loads(other["SecretString"])["secret"] != secret  # one per stage


def test_uploads_notify_the_chunker_queue_which_has_a_dead_letter_queue(dev: Stack) -> None:
    s3, sqs = client("s3"), client("sqs")
    url = sqs.get_queue_url(QueueName=dev.outputs["UploadQueueName"])["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attrs["RedrivePolicy"])
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dev.outputs["UploadDeadLetterQueueUrl"],
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert redrive["deadLetterTargetArn"] == dlq_arn and int(redrive["maxReceiveCount"]) == 5
    assert int(attrs["VisibilityTimeout"]) == 360 and attrs["SqsManagedSseEnabled"] == "true"
    policy = json.loads(attrs["Policy"])["Statement"][0]
    assert policy["Principal"] == {"Service": "s3.amazonaws.com"} and policy["Action"] == "sqs:SendMessage"
    assert policy["Condition"]["ArnEquals"]["aws:SourceArn"] == f"arn:aws:s3:::{dev.outputs['UploadBucket']}"

    bucket = dev.outputs["UploadBucket"]
    # moto ignores policy conditions, so the TLS-only Deny would refuse these (https) PUTs.
    policy_text = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="elsewhere/file.bin", Body=b"x")  # not under uploads/: no event
        s3.put_object(Bucket=bucket, Key="uploads/0123abcd/source.mp4", Body=b"video")
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy_text)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
    keys = [unquote_plus(r["s3"]["object"]["key"]) for m in messages for r in json.loads(m["Body"]).get("Records", [])]
    assert keys == ["uploads/0123abcd/source.mp4"]
    for message in messages:  # S3's s3:TestEvent from setting up the notification
        if "Records" not in json.loads(message["Body"]):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    messages = [m for m in messages if "Records" in json.loads(m["Body"])]
    # A message the chunker keeps failing on ends in the DLQ after maxReceiveCount receives.
    for _ in range(5):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"],
                                      VisibilityTimeout=0)
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", messages)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
    dead = sqs.receive_message(QueueUrl=dev.outputs["UploadDeadLetterQueueUrl"])["Messages"]
    assert "uploads%2F0123abcd%2Fsource.mp4" in dead[0]["Body"]


def test_lifecycle_expires_media_and_aborts_stale_multipart_uploads(dev: Stack) -> None:
    s3 = client("s3")
    expected = {"UploadBucket": ("uploads/", 7), "WorkBucket": ("work/", 2), "OutputBucket": ("outputs/", 7)}
    for output, (prefix, days) in expected.items():
        (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=dev.outputs[output])["Rules"]
        assert rule["Status"] == "Enabled" and rule["Filter"]["Prefix"] == prefix
        assert rule["Expiration"]["Days"] == days
        assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1


def test_upload_cors_allows_the_frontend_and_exposes_etag(dev: Stack) -> None:
    (rule,) = client("s3").get_bucket_cors(Bucket=dev.outputs["UploadBucket"])["CORSRules"]
    assert dev.outputs["FrontendUrl"] in rule["AllowedOrigins"]
    assert {"PUT", "POST"} <= set(rule["AllowedMethods"]) and rule["ExposeHeaders"] == ["ETag"]


def test_valkey_is_replicated_encrypted_authenticated_and_reachable_only_from_our_groups(dev: Stack) -> None:
    (group,) = client("elasticache").describe_replication_groups(
        ReplicationGroupId=dev.physical("Redis"))["ReplicationGroups"]
    assert group["AutomaticFailover"] == "enabled" and group["MultiAZ"] == "enabled"
    assert group["TransitEncryptionEnabled"] and group["AtRestEncryptionEnabled"] and group["AuthTokenEnabled"]
    ec2 = client("ec2")
    (redis_sg,) = ec2.describe_security_groups(GroupIds=[dev.physical("RedisSecurityGroup")])["SecurityGroups"]
    sources = {pair["GroupId"] for perm in redis_sg["IpPermissions"] for pair in perm["UserIdGroupPairs"]}
    assert sources == {dev.physical("LambdaSecurityGroup"), dev.physical("WorkerSecurityGroup"),
                       dev.physical("NotifierSecurityGroup")}
    assert all(not perm.get("IpRanges") for perm in redis_sg["IpPermissions"])
    subnets = ec2.describe_subnets(SubnetIds=dev.outputs["PrivateSubnetIds"].split(","))["Subnets"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 2


def test_workers_run_one_image_with_graceful_stop_and_the_token_as_a_secret(dev: Stack) -> None:
    ecs = client("ecs")
    cluster = dev.outputs["ClusterName"]
    services = ecs.describe_services(cluster=cluster, services=["processor", "assembler"])["services"]
    # (moto keeps no capacity provider strategy: test_template checks Spot for processors)
    images = set()
    for service in services:
        assert service["desiredCount"] == 0  # created idle: InitialDeploy=true
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        (container,) = task["containerDefinitions"]
        images.add(container["image"])
        assert container["stopTimeout"] == 120
        env = {e["name"]: e["value"] for e in container["environment"]}
        assert env["REDIS_HOST"] == dev.outputs["RedisHost"]
        assert env["FRAMEFLEET_WORK_BUCKET"] == dev.outputs["WorkBucket"]
        assert container["secrets"] == [{"name": "REDIS_AUTH_TOKEN",
                                         "valueFrom": dev.outputs["RedisAuthSecretArn"] + ":token::"}]
        assert container["command"] == ["--role", service["serviceName"]]
    assert images == {f"{dev.outputs['RepositoryUri']}:bootstrap"}


def test_services_without_initial_deploy_leave_the_desired_count_out(stacks: dict[str, Stack]) -> None:
    """Without DesiredCount ECS's CreateService defaults to 1 (as CloudFormation documents for a new
    service), which is why deploy.sh creates the stack with InitialDeploy=true; on an update the
    property is absent, so UpdateService keeps autoscaling's count."""
    prod = stacks["prod"]
    services = client("ecs").describe_services(cluster=prod.outputs["ClusterName"],
                                               services=["processor", "assembler"])["services"]
    assert [s["desiredCount"] for s in services] == [1, 1]


def test_the_webhook_sender_runs_the_image_with_its_environment_and_no_inbound(stacks: dict[str, Stack]) -> None:
    """Created at 0 tasks (dev, InitialDeploy=true), otherwise Notifiers; the playback settings
    the Lambdas get; on the processors' subnets; a security group that only lets it out."""
    ecs, ec2 = client("ecs"), client("ec2")
    dev, prod = stacks["dev"], stacks["prod"]
    for stack, count in ((dev, 0), (prod, PROD_NOTIFIERS)):
        (service,) = ecs.describe_services(cluster=stack.outputs["ClusterName"],
                                           services=[stack.outputs["NotifierServiceName"]])["services"]
        assert service["desiredCount"] == count and stack.outputs["Notifiers"] == str(1 if stack is dev else count)
        (processor,) = ecs.describe_services(cluster=stack.outputs["ClusterName"], services=["processor"])["services"]
        network = service["networkConfiguration"]["awsvpcConfiguration"]
        theirs = processor["networkConfiguration"]["awsvpcConfiguration"]
        assert set(network["subnets"]) == set(theirs["subnets"])
        assert network["assignPublicIp"] == theirs["assignPublicIp"]
        assert network["securityGroups"] == [stack.physical("NotifierSecurityGroup")]
    (service,) = ecs.describe_services(cluster=dev.outputs["ClusterName"], services=["notifier"])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    # (moto's task definition handler keeps neither the size nor the roles: test_template checks them)
    (container,) = task["containerDefinitions"]
    assert container["image"] == f"{dev.outputs['RepositoryUri']}:bootstrap"
    assert container["command"] == ["--role", "notifier"] and container["stopTimeout"] == 30
    assert {e["name"]: e["value"] for e in container["environment"]} == {
        "FRAMEFLEET_OUTPUT_BUCKET": dev.outputs["OutputBucket"],
        "FRAMEFLEET_PLAYBACK_BASE_URL": dev.outputs["PlaybackBaseUrl"],
        "FRAMEFLEET_PLAYBACK_SECRET_ARN": dev.outputs["PlaybackSecretArn"],
        "REDIS_HOST": dev.outputs["RedisHost"], "REDIS_PORT": dev.outputs["RedisPort"],
        "AWS_DEFAULT_REGION": REGION, "LOG_LEVEL": "INFO"}
    assert container["secrets"] == [{"name": "REDIS_AUTH_TOKEN",
                                     "valueFrom": dev.outputs["RedisAuthSecretArn"] + ":token::"}]
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/framefleet-dev/notifier"
    (group,) = ec2.describe_security_groups(GroupIds=[dev.physical("NotifierSecurityGroup")])["SecurityGroups"]
    assert group["IpPermissions"] == []  # (moto's handler drops egress rules: test_template checks them)
    # No autoscaling: it runs its count.
    resource = f"service/{dev.outputs['ClusterName']}/notifier"
    assert client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"] == []


def test_valkey_never_evicts(dev: Stack) -> None:
    from moto.elasticache.models import elasticache_backends

    from tests.infra.moto_cfn import CACHE_PARAMETER_GROUPS

    group_name = dev.physical("RedisParameterGroup")
    group = CACHE_PARAMETER_GROUPS[group_name]
    assert group["parameters"] == {"maxmemory-policy": "noeviction"}
    (replication,) = client("elasticache").describe_replication_groups(
        ReplicationGroupId=dev.physical("Redis"))["ReplicationGroups"]
    assert replication["Engine"] == "valkey"
    # ElastiCache's families are named after the engine's major version.
    version = template()["Resources"]["Redis"]["Properties"]["EngineVersion"]
    assert group["family"] == f"valkey{version.split('.')[0]}"
    # moto keeps the group's name on the replication group but has no API that returns it.
    backend = elasticache_backends["123456789012"][REGION]
    assert backend.replication_groups[dev.physical("Redis")].cache_parameter_group_name == group_name


def test_task_roles_reach_only_their_prefixes(dev: Stack) -> None:
    iam = client("iam")

    def statements(logical_id: str) -> list[dict[str, Any]]:
        role = dev.physical(logical_id)
        names = iam.list_role_policies(RoleName=role)["PolicyNames"]
        docs = [iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names]
        # moto's CloudFormation stores inline policies as Python reprs
        return [s for d in docs for s in (ast.literal_eval(d) if isinstance(d, str) else d)["Statement"]]

    work = f"arn:aws:s3:::{dev.outputs['WorkBucket']}/work/*"
    stream = f"arn:aws:s3:::{dev.outputs['OutputBucket']}/outputs/*"
    processor = statements("ProcessorTaskRole")
    # Processors write parts and the stream's segments and EVENT playlists, and read no output.
    assert {"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": [work, stream]} in processor
    assert not any("s3:GetObject" in json.dumps(s) and dev.outputs["OutputBucket"] in json.dumps(s)
                   for s in processor)
    assert not any(dev.outputs["UploadBucket"] in json.dumps(s) and "s3:PutObject" in json.dumps(s) for s in processor)
    assembler = statements("AssemblerTaskRole")
    assert not any(dev.outputs["UploadBucket"] in json.dumps(s) for s in assembler)
    # The assembler composes the MP4 server-side: scratch uploads under work/, copies into outputs/.
    assert {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                                          "s3:AbortMultipartUpload"], "Resource": work} in assembler
    # The webhook sender: presigned download links and the playback signing key, nothing else.
    assert statements("NotifierTaskRole") == [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": stream},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": dev.outputs["PlaybackSecretArn"]}]


def _capacity(policy: dict[str, Any], threshold: float, backlog: float, maximum: int) -> int:
    """What Application Auto Scaling sets for ``backlog`` with an ExactCapacity step policy."""
    for step in policy["StepScalingPolicyConfiguration"]["StepAdjustments"]:
        low = step.get("MetricIntervalLowerBound", float("-inf")) + threshold
        high = step.get("MetricIntervalUpperBound", float("inf")) + threshold
        if low <= backlog < high:
            return min(step["ScalingAdjustment"], maximum)
    raise AssertionError(f"no step for {backlog}")


def test_processors_scale_on_backlog_from_zero_to_max_and_back(dev: Stack) -> None:
    aas, cw = client("application-autoscaling"), client("cloudwatch")
    resource = f"service/{dev.outputs['ClusterName']}/processor"
    (target,) = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, MAX_PROCESSORS)
    policies = {p["PolicyARN"]: p for p in aas.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]}
    alarms = {a["AlarmActions"][0]: a for a in cw.describe_alarms()["MetricAlarms"]
              if a["AlarmActions"][0] in policies}
    assert len(alarms) == 2
    out = next(a for a in alarms.values() if a["ComparisonOperator"] == "GreaterThanOrEqualToThreshold")
    idle = next(a for a in alarms.values() if a["ComparisonOperator"] == "LessThanThreshold")
    for alarm in (out, idle):
        assert (alarm["Namespace"], alarm["MetricName"]) == ("Framefleet/dev", "Backlog")
        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {"service": "framefleet", "queue": "process"}
        assert policies[alarm["AlarmActions"][0]]["StepScalingPolicyConfiguration"]["AdjustmentType"] == \
            "ExactCapacity"
    assert out["EvaluationPeriods"] == 1 and out["Period"] == 60  # scale out within a minute or two
    assert idle["EvaluationPeriods"] == 5 and idle["TreatMissingData"] == "breaching"
    scale_out = policies[out["AlarmActions"][0]]
    capacity = {b: _capacity(scale_out, out["Threshold"], b, MAX_PROCESSORS) for b in (1, 2, 3, 4, 7, 8, 500)}
    assert capacity == {1: 1, 2: 2, 3: 2, 4: 4, 7: 4, 8: MAX_PROCESSORS, 500: MAX_PROCESSORS}
    assert _capacity(policies[idle["AlarmActions"][0]], idle["Threshold"], 0, MAX_PROCESSORS) == 0


def test_assembler_scales_too(dev: Stack) -> None:
    resource = f"service/{dev.outputs['ClusterName']}/assembler"
    (target,) = client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 2)
    assert len(client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]) == 2


def test_nat_variant_keeps_workers_off_public_ips(stacks: dict[str, Stack]) -> None:
    ecs, ec2 = client("ecs"), client("ec2")
    for stage, assign, subnets in (("dev", "ENABLED", ("PublicSubnetA", "PublicSubnetB")),
                                   ("prod", "DISABLED", ("PrivateSubnetA", "PrivateSubnetB"))):
        stack = stacks[stage]
        (service,) = ecs.describe_services(cluster=stack.outputs["ClusterName"], services=["processor"])["services"]
        network = service["networkConfiguration"]["awsvpcConfiguration"]
        assert network["assignPublicIp"] == assign
        assert set(network["subnets"]) == {stack.physical(s) for s in subnets}
    (table,) = ec2.describe_route_tables(RouteTableIds=[stacks["prod"].physical("PrivateRouteTable")])["RouteTables"]
    assert any(r.get("NatGatewayId") == stacks["prod"].physical("NatGateway") for r in table["Routes"])


def test_outputs_fill_the_chalice_stage(dev: Stack) -> None:
    spec = importlib.util.spec_from_file_location("chalice_config", ROOT / "infra" / "chalice_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.apply_outputs(CHALICE_CONFIG, "dev", dev.outputs)
    stage = config["stages"]["dev"]
    assert stage["environment_variables"]["FRAMEFLEET_UPLOAD_QUEUE"] == dev.outputs["UploadQueueName"]
    env = stage["environment_variables"]
    assert "REDIS_URL" not in env and env["REDIS_HOST"] == dev.outputs["RedisHost"] and env["REDIS_PORT"] == "6379"
    assert env["FRAMEFLEET_REDIS_AUTH_SECRET_ARN"] == dev.outputs["RedisAuthSecretArn"]
    assert env["FRAMEFLEET_PLAYBACK_BASE_URL"] == dev.outputs["PlaybackBaseUrl"]
    assert env["FRAMEFLEET_PLAYBACK_SECRET_ARN"] == dev.outputs["PlaybackSecretArn"]
    assert "FRAMEFLEET_PLAYBACK_SECRET" not in env  # an ARN, never the value
    assert env["FRAMEFLEET_MAX_PROCESSORS"] == dev.outputs["MaxProcessors"]  # the estimate's fleet
    assert stage["iam_role_arn"] == dev.outputs["LambdaRoleArn"]
    assert stage["security_group_ids"] == [dev.physical("LambdaSecurityGroup")]
    assert config["stages"]["prod"] == CHALICE_CONFIG["stages"]["prod"]  # other stages untouched
    with pytest.raises(SystemExit):
        module.apply_outputs(CHALICE_CONFIG, "prod", dev.outputs)


def test_moto_lacks_handlers_for_exactly_the_shimmed_types() -> None:
    """Which types moto itself cannot deploy (a fresh process: the shims are not registered there)."""
    from tests.infra.moto_cfn import REPLACED_TYPES, SHIMMED_TYPES

    code = ("import json, sys; from moto.cloudformation.parsing import get_model_map; "
            "print(json.dumps(sorted(set(json.load(sys.stdin)) - set(get_model_map()))))")
    types = sorted({r["Type"] for r in template()["Resources"].values()})
    result = subprocess.run([sys.executable, "-c", code], input=json.dumps(types), capture_output=True,
                            text=True, timeout=120, cwd=ROOT, check=True)
    assert json.loads(result.stdout) == sorted(set(SHIMMED_TYPES) - REPLACED_TYPES)
