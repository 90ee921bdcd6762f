"""CloudFormation handlers for the resource types that moto 5.2.5's CloudFormation lacks.

moto's CloudFormation skips a type it has no handler for (15 of the template's types), and
fails a stack whose Outputs read an attribute of such a resource; its AWS::S3::Bucket and
AWS::ECS::Service handlers drop most properties. moto does implement these services' *APIs*, so
each handler here creates its resource by calling that API (through boto3, inside ``mock_aws``):
botocore validates the template's properties against the real API model, and the tests then
inspect the result with ordinary describe/get calls, as they would on AWS. Where moto lacks the
API too (ElastiCache parameter groups, CloudFront cache and response headers policies, publishing
a CloudFront function), the request is validated against botocore's model and kept in this module
(``CACHE_PARAMETER_GROUPS``, ``CLOUDFRONT_POLICIES``, ``PUBLISHED_FUNCTIONS``).

Importing this module registers the handlers (in this process only).
"""
from __future__ import annotations

import json
import re
import secrets
import string
from typing import Any

import boto3
from botocore.validate import validate_parameters
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel

# Types of infra/template.yaml that these handlers create (moto's own are missing or partial).
SHIMMED_TYPES: list[str] = []
REPLACED_TYPES = {"AWS::S3::Bucket", "AWS::ECS::Service"}
# name -> {family, description, parameters}: what CreateCacheParameterGroup and
# ModifyCacheParameterGroup would have been sent (moto 5.2.5 implements neither).
CACHE_PARAMETER_GROUPS: dict[str, dict[str, Any]] = {}
# id -> the CachePolicyConfig / ResponseHeadersPolicyConfig sent (API shape; moto lacks both APIs).
CLOUDFRONT_POLICIES: dict[str, dict[str, Any]] = {}
# Functions published (AutoPublish: PublishFunction validated; moto lacks that API).
PUBLISHED_FUNCTIONS: list[str] = []
_RESOLVE_SECRET = re.compile(r"\{\{resolve:secretsmanager:(.+):SecretString:(\w+)\}\}")


class _Shim:
    """A created resource: its physical id (what Ref returns) and its GetAtt attributes.

    Handlers derive from ``(_Shim, CloudFormationModel)``: moto finds handlers among the
    *direct* subclasses of ``CloudFormationModel``.
    """

    TYPE = ""
    ATTRS: tuple[str, ...] = ()

    def __init__(self, physical_id: str, attrs: dict[str, Any] | None = None) -> None:
        self._physical_id = physical_id
        self.attrs = attrs or {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.TYPE:  # not an intermediate base
            SHIMMED_TYPES.append(cls.TYPE)

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRS

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.attrs[attribute_name]

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> _Shim:
        props = cloudformation_json.get("Properties", {})
        return cls.create(props, resource_name, region_name)

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        raise NotImplementedError


def _client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    return out


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    names = {"AllowedHeaders": "AllowedHeaders", "AllowedMethods": "AllowedMethods",
             "AllowedOrigins": "AllowedOrigins", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
    out = {names[k]: v for k, v in rule.items() if k in names}
    if "MaxAgeSeconds" in out:
        out["MaxAgeSeconds"] = int(out["MaxAgeSeconds"])
    return out


def _queue_notification(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"QueueArn": config["Queue"], "Events": [config["Event"]]}
    rules = config.get("Filter", {}).get("S3Key", {}).get("Rules")
    if rules:
        out["Filter"] = {"Key": {"FilterRules": rules}}
    return out


class Bucket(_Shim, CloudFormationModel):
    """Replaces moto's AWS::S3::Bucket handler, which applies only encryption and tags."""

    TYPE = "AWS::S3::Bucket"
    ATTRS = ("Arn", "DomainName", "RegionalDomainName")

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        s3 = _client("s3", region)
        bucket = props.get("BucketName", name.lower())
        s3.create_bucket(Bucket=bucket)
        if "BucketEncryption" in props:
            rules = [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                      "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False))}
                     for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in props:
            block = {k: bool(v) for k, v in props["PublicAccessBlockConfiguration"].items()}
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
        if "OwnershipControls" in props:
            s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=props["OwnershipControls"])
        if "CorsConfiguration" in props:
            rules = [_cors_rule(rule) for rule in props["CorsConfiguration"]["CorsRules"]]
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
        if "LifecycleConfiguration" in props:
            rules = [_lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
            s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
        if "NotificationConfiguration" in props:
            queues = props["NotificationConfiguration"].get("QueueConfigurations", [])
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
                "QueueConfigurations": [_queue_notification(q) for q in queues]})
        return cls(bucket, {"Arn": f"arn:aws:s3:::{bucket}", "DomainName": f"{bucket}.s3.amazonaws.com",
                            "RegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com"})


class BucketPolicy(_Shim, CloudFormationModel):
    TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        _client("s3", region).put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"]))
        return cls(props["Bucket"])


class QueuePolicy(_Shim, CloudFormationModel):
    TYPE = "AWS::SQS::QueuePolicy"

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        sqs = _client("sqs", region)
        for url in props["Queues"]:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
        return cls(name)


class Secret(_Shim, CloudFormationModel):
    TYPE = "AWS::SecretsManager::Secret"
    ATTRS = ("Id",)

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        spec = props["GenerateSecretString"]
        alphabet = string.ascii_letters + string.digits
        if not spec.get("ExcludePunctuation"):
            alphabet += string.punctuation
        value = json.loads(spec.get("SecretStringTemplate", "{}"))
        value[spec["GenerateStringKey"]] = "".join(secrets.choice(alphabet) for _ in range(spec["PasswordLength"]))
        arn = _client("secretsmanager", region).create_secret(
            Name=props.get("Name", name), Description=props.get("Description", ""),
            SecretString=json.dumps(value))["ARN"]
        return cls(arn, {"Id": arn})


def resolve_secret(value: str, region: str) -> str:
    """Resolve a ``{{resolve:secretsmanager:ARN:SecretString:KEY}}`` dynamic reference."""
    match = _RESOLVE_SECRET.fullmatch(value)
    if not match:
        return value
    secret = _client("secretsmanager", region).get_secret_value(SecretId=match.group(1))["SecretString"]
    return str(json.loads(secret)[match.group(2)])


class CacheSubnetGroup(_Shim, CloudFormationModel):
    TYPE = "AWS::ElastiCache::SubnetGroup"

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        group = props.get("CacheSubnetGroupName", name).lower()
        _client("elasticache", region).create_cache_subnet_group(
            CacheSubnetGroupName=group, CacheSubnetGroupDescription=props["Description"],
            SubnetIds=props["SubnetIds"])
        return cls(group)


def _validate(service: str, operation: str, params: dict[str, Any], region: str) -> None:
    """Raise like botocore would if ``params`` do not fit ``operation``'s input shape."""
    shape = _client(service, region).meta.service_model.operation_model(operation).input_shape
    validate_parameters(params, shape)


class CacheParameterGroup(_Shim, CloudFormationModel):
    """moto has neither the handler nor the API: the two calls CloudFormation makes are checked
    against the API model and recorded in CACHE_PARAMETER_GROUPS."""

    TYPE = "AWS::ElastiCache::ParameterGroup"

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        group = props.get("CacheParameterGroupName", name).lower()
        create = {"CacheParameterGroupName": group, "CacheParameterGroupFamily": props["CacheParameterGroupFamily"],
                  "Description": props["Description"]}
        modify = {"CacheParameterGroupName": group,
                  "ParameterNameValues": [{"ParameterName": k, "ParameterValue": str(v)}
                                          for k, v in props.get("Properties", {}).items()]}
        _validate("elasticache", "CreateCacheParameterGroup", create, region)
        _validate("elasticache", "ModifyCacheParameterGroup", modify, region)
        CACHE_PARAMETER_GROUPS[group] = {"family": create["CacheParameterGroupFamily"],
                                         "description": create["Description"],
                                         "parameters": {p["ParameterName"]: p["ParameterValue"]
                                                        for p in modify["ParameterNameValues"]}}
        return cls(group)


class ReplicationGroup(_Shim, CloudFormationModel):
    TYPE = "AWS::ElastiCache::ReplicationGroup"
    ATTRS = ("PrimaryEndPoint.Address", "PrimaryEndPoint.Port")

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        group_id = props.get("ReplicationGroupId", name[-40:].lower().strip("-"))
        args = {k: v for k, v in props.items() if k not in ("ReplicationGroupId",)}
        if "AuthToken" in args:
            args["AuthToken"] = resolve_secret(args["AuthToken"], region)
        group = _client("elasticache", region).create_replication_group(ReplicationGroupId=group_id, **args)
        group = group["ReplicationGroup"]
        endpoint = (group.get("NodeGroups") or [{}])[0].get("PrimaryEndpoint") or {}
        return cls(group_id, {"PrimaryEndPoint.Address": endpoint.get("Address", f"{group_id}.cache.local"),
                              "PrimaryEndPoint.Port": str(endpoint.get("Port", 6379))})


class ScalableTarget(_Shim, CloudFormationModel):
    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        _client("application-autoscaling", region).register_scalable_target(**_drop_none({
            "ServiceNamespace": props["ServiceNamespace"], "ResourceId": props["ResourceId"],
            "ScalableDimension": props["ScalableDimension"], "MinCapacity": int(props["MinCapacity"]),
            "MaxCapacity": int(props["MaxCapacity"]), "RoleARN": props.get("RoleARN")}))
        # Like CloudFormation's: resource id, dimension and namespace, '|'-separated.
        return cls("|".join([props["ResourceId"], props["ScalableDimension"], props["ServiceNamespace"]]))


class ScalingPolicy(_Shim, CloudFormationModel):
    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
    ATTRS = ("Arn",)

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        resource_id, dimension, namespace = props["ScalingTargetId"].split("|")
        config = json.loads(json.dumps(props["StepScalingPolicyConfiguration"]), parse_int=int)
        for step in config.get("StepAdjustments", []):
            for bound in ("MetricIntervalLowerBound", "MetricIntervalUpperBound"):
                if bound in step:
                    step[bound] = float(step[bound])
            step["ScalingAdjustment"] = int(step["ScalingAdjustment"])
        for key in ("Cooldown", "MinAdjustmentMagnitude"):
            if key in config:
                config[key] = int(config[key])
        arn = _client("application-autoscaling", region).put_scaling_policy(
            PolicyName=props["PolicyName"], ServiceNamespace=namespace, ResourceId=resource_id,
            ScalableDimension=dimension, PolicyType=props["PolicyType"],
            StepScalingPolicyConfiguration=config)["PolicyARN"]
        return cls(arn, {"Arn": arn})


class Alarm(_Shim, CloudFormationModel):
    TYPE = "AWS::CloudWatch::Alarm"
    ATTRS = ("Arn",)

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        alarm = props.get("AlarmName", name)
        args = dict(props, AlarmName=alarm, EvaluationPeriods=int(props["EvaluationPeriods"]),
                    Period=int(props["Period"]), Threshold=float(props["Threshold"]))
        _client("cloudwatch", region).put_metric_alarm(**args)
        return cls(alarm, {"Arn": f"arn:aws:cloudwatch:{region}:123456789012:alarm:{alarm}"})


def _camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys as the ECS API's camelCase ones."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


class EcsService(_Shim, CloudFormationModel):
    """Replaces moto's AWS::ECS::Service handler, which drops CapacityProviderStrategy and
    NetworkConfiguration."""

    TYPE = "AWS::ECS::Service"
    ATTRS = ("Name", "ServiceArn")

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        args = _camel(props)
        args["desiredCount"] = int(args.get("desiredCount", 1))
        for strategy in args.get("capacityProviderStrategy", []):
            strategy.update({k: int(v) for k, v in strategy.items() if k in ("weight", "base")})
        deployment = args.get("deploymentConfiguration", {})
        deployment.update({k: int(v) for k, v in deployment.items() if k.endswith("Percent")})
        service = _client("ecs", region).create_service(**args)["service"]
        return cls(service["serviceArn"], {"Name": service["serviceName"], "ServiceArn": service["serviceArn"]})


class OriginAccessControl(_Shim, CloudFormationModel):
    TYPE = "AWS::CloudFront::OriginAccessControl"
    ATTRS = ("Id",)

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        oac = _client("cloudfront", region).create_origin_access_control(
            OriginAccessControlConfig=props["OriginAccessControlConfig"])["OriginAccessControl"]
        return cls(oac["Id"], {"Id": oac["Id"]})


# CloudFront's API wraps every list in {Quantity, Items}; CloudFormation's shape does not (or
# has {Items} only, as in response headers policies).
_CLOUDFRONT_LISTS = {"Origins", "CustomErrorResponses", "AllowedMethods", "CachedMethods", "Aliases",
                     "FunctionAssociations", "KeyValueStoreAssociations"}


def _cloudfront_shape(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _cloudfront_shape(item)
            if key in _CLOUDFRONT_LISTS and isinstance(item, list):
                item = {"Quantity": len(item), "Items": item}
            elif isinstance(item, dict) and set(item) == {"Items"}:
                item = {"Quantity": len(item["Items"]), "Items": item["Items"]}
            out[key] = item
        return out
    if isinstance(value, list):
        return [_cloudfront_shape(v) for v in value]
    return value


class Distribution(_Shim, CloudFormationModel):
    TYPE = "AWS::CloudFront::Distribution"
    ATTRS = ("DomainName", "Id")

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        config = _cloudfront_shape(props["DistributionConfig"])
        for error in config.get("CustomErrorResponses", {}).get("Items", []):
            error.update(ErrorCode=int(error["ErrorCode"]), ResponseCode=str(error["ResponseCode"]))
        config.update(CallerReference=name, Comment=config.get("Comment", ""))
        behavior = config["DefaultCacheBehavior"]
        if "CachedMethods" in behavior:  # the API nests it in AllowedMethods
            behavior["AllowedMethods"]["CachedMethods"] = behavior.pop("CachedMethods")
        dist = _client("cloudfront", region).create_distribution(DistributionConfig=config)["Distribution"]
        return cls(dist["Id"], {"DomainName": dist["DomainName"], "Id": dist["Id"]})


class CloudFrontFunction(_Shim, CloudFormationModel):
    TYPE = "AWS::CloudFront::Function"
    ATTRS = ("FunctionARN", "FunctionMetadata.FunctionARN", "Stage")

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        cloudfront = _client("cloudfront", region)
        function = cloudfront.create_function(
            Name=props["Name"], FunctionConfig=_cloudfront_shape(props["FunctionConfig"]),
            FunctionCode=props["FunctionCode"].encode())
        arn = function["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
        if props.get("AutoPublish"):
            _validate("cloudfront", "PublishFunction", {"Name": props["Name"], "IfMatch": function["ETag"]}, region)
            PUBLISHED_FUNCTIONS.append(props["Name"])
        return cls(props["Name"], {"FunctionARN": arn, "FunctionMetadata.FunctionARN": arn,
                                   "Stage": "LIVE" if props.get("AutoPublish") else "DEVELOPMENT"})


class KeyValueStore(_Shim, CloudFormationModel):
    TYPE = "AWS::CloudFront::KeyValueStore"
    ATTRS = ("Arn", "Id", "Status")

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        store = _client("cloudfront", region).create_key_value_store(
            **_drop_none({"Name": props["Name"], "Comment": props.get("Comment")}))["KeyValueStore"]
        return cls(store["Name"], {"Arn": store["ARN"], "Id": store["Id"], "Status": store["Status"]})


class _CloudFrontPolicy(_Shim):
    """moto has neither the handler nor the API: the create call is checked against the API
    model and its config recorded in CLOUDFRONT_POLICIES under a made-up id."""

    OPERATION = ""
    CONFIG = ""

    @classmethod
    def create(cls, props: dict[str, Any], name: str, region: str) -> _Shim:
        config = _cloudfront_shape(props[cls.CONFIG])
        _validate("cloudfront", cls.OPERATION, {cls.CONFIG: config}, region)
        policy_id = f"{name.lower()}-{secrets.token_hex(4)}"
        CLOUDFRONT_POLICIES[policy_id] = config
        return cls(policy_id, {"Id": policy_id})


class CachePolicy(_CloudFrontPolicy, CloudFormationModel):
    TYPE = "AWS::CloudFront::CachePolicy"
    ATTRS = ("Id",)
    OPERATION, CONFIG = "CreateCachePolicy", "CachePolicyConfig"


class ResponseHeadersPolicy(_CloudFrontPolicy, CloudFormationModel):
    TYPE = "AWS::CloudFront::ResponseHeadersPolicy"
    ATTRS = ("Id",)
    OPERATION, CONFIG = "CreateResponseHeadersPolicy", "ResponseHeadersPolicyConfig"


for _cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    _cache.cache_clear()
