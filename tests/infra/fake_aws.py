"""A fake ``aws`` CLI (and ``docker``, and the ``chalice`` of ``$PY infra/chalice_cli.py``) for
running infra/deploy.sh, destroy.sh and admin.sh offline.

The account's state is a JSON file (``FAKE_AWS_STATE``) that the tests set up and inspect; every
call is appended to ``FAKE_AWS_LOG`` as ``{"prog", "argv"}``. Answers have the real API's shape,
``--query`` is evaluated with JMESPath (as the CLI does) and ``--output text`` formatted like the
CLI's; errors go to stderr with the CLI's wording and exit status 255. Only the calls the scripts
make are implemented: anything else fails loudly.

    fake_aws.py aws ARGS...      # what $AWS runs
    fake_aws.py docker ARGS...
    fake_aws.py pip ARGS...      # the pip beside a venv's aws (installing the CLI's [crt] extra)
    fake_aws.py python ARGS...   # $PY: infra/chalice_cli.py is faked, the rest runs for real
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import jmespath

MULTI_VALUE = {"--parameter-overrides", "--paths", "--capabilities"}
FLAGS = {"--recursive", "--only-show-errors", "--force-new-deployment", "--no-fail-on-empty-changeset",
         "--delete", "--immutable"}
ACCOUNT = "123456789012"
PLAYBACK_SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:framefleet-playback"
KVS_ARN = f"arn:aws:cloudfront::{ACCOUNT}:key-value-store/0a1b2c3d-kvs"
PLAYBACK_SECRET = "PlaybackSecretOnlyTheStoreMaySee0123456789abcdef"
# `aws cloudformation deploy` sends a template inline only up to this size.
INLINE_TEMPLATE_LIMIT = 51_200
BUCKET_REQUIRED = ("\nTemplates with a size greater than 51,200 bytes must be deployed via an S3 Bucket. Please add "
                   "the --s3-bucket parameter to your command. The local template will be copied to that S3 bucket "
                   "and then deployed.")
MISSING_CRT = ("\nMissing Dependency: This operation requires an additional dependency. Use pip install "
               "botocore[crt] before proceeding.")


class CliError(Exception):
    def __init__(self, message: str, code: int = 255) -> None:
        super().__init__(message)
        self.code = code


def api_error(code: str, operation: str, message: str) -> CliError:
    return CliError(f"\nAn error occurred ({code}) when calling the {operation} operation: {message}")


def parse(argv: list[str]) -> tuple[list[str], dict[str, Any]]:
    """Positional arguments and ``--option value`` pairs (a flag maps to True)."""
    positional: list[str] = []
    options: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            if arg in FLAGS:
                options[arg] = True
                i += 1
            elif arg in MULTI_VALUE:
                values = []
                i += 1
                while i < len(argv) and not argv[i].startswith("--"):
                    values.append(argv[i])
                    i += 1
                options[arg] = values
            else:
                options[arg] = argv[i + 1]
                i += 2
        else:
            positional.append(arg)
            i += 1
    return positional, options


def text(value: Any) -> str:
    """The AWS CLI's ``--output text`` rendering (for the shapes the scripts ask for)."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, dict):
        return "\t".join(text(v) for v in value.values())
    if not value:
        return ""
    if all(not isinstance(v, (list, dict)) for v in value):
        return "\t".join(text(v) for v in value)
    return "\n".join(text(v) for v in value)


class Account:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.state: dict[str, Any] = json.loads(path.read_text())

    def save(self) -> None:
        self.path.write_text(json.dumps(self.state, indent=1))

    # ------------------------------------------------------------ helpers
    @property
    def stack(self) -> dict[str, Any] | None:
        """The stage's main stack (state key ``stack``; the bootstrap stack is ``bootstrap``)."""
        return self.state.get("stack")

    def named(self, name: str) -> dict[str, Any] | None:
        stack = self.state.get(slot(name))
        return stack if stack is not None and stack["name"] == name else None

    def require_stack(self, name: str, operation: str) -> dict[str, Any]:
        stack = self.named(name)
        if stack is None:
            raise api_error("ValidationError", operation, f"Stack with id {name} does not exist")
        return stack

    def lambda_group(self) -> str | None:
        stack = self.stack
        for r in (stack or {}).get("resources", []):
            if r["LogicalResourceId"] == "LambdaSecurityGroup" and r["ResourceStatus"] != "DELETE_COMPLETE":
                return str(r["PhysicalResourceId"])
        return None

    # ------------------------------------------------------------ services
    def sts(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        assert op == "get-caller-identity", op
        return {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/deployer", "UserId": "AIDEXAMPLE"}

    def configure(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        assert op == "get" and pos == ["region"], (op, pos)
        return "us-east-1"

    def iam(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        roles = self.state.setdefault("roles", [])
        if op == "get-role":
            if opt["--role-name"] not in roles:
                raise api_error("NoSuchEntity", "GetRole", f"The role with name {opt['--role-name']} cannot be found.")
            return {"Role": {"RoleName": opt["--role-name"], "Arn": f"arn:aws:iam::{ACCOUNT}:role/x"}}
        if op == "create-service-linked-role":
            assert opt["--aws-service-name"] == "ecs.amazonaws.com"
            if self.state.get("slr_denied"):
                raise api_error("AccessDenied", "CreateServiceLinkedRole", "User is not authorized to perform: "
                                "iam:CreateServiceLinkedRole")
            if "AWSServiceRoleForECS" in roles or self.state.get("slr_race"):
                raise api_error("InvalidInput", "CreateServiceLinkedRole", "Service role name AWSServiceRoleForECS "
                                "has been taken in this account, please try a different suffix.")
            roles.append("AWSServiceRoleForECS")
            arn = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
            return {"Role": {"RoleName": "AWSServiceRoleForECS", "Arn": arn}}
        raise CliError(f"fake iam: {op} not implemented")

    def cloudformation(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        name = opt.get("--stack-name")
        if self.state.get("cfn_error"):
            raise api_error("ExpiredToken", "DescribeStacks", "The security token included in the request is expired")
        if op == "describe-stacks":
            stack = self.require_stack(name, "DescribeStacks")
            out = {"StackName": name, "StackStatus": stack["status"]}
            if stack.get("outputs"):
                out["Outputs"] = stack["outputs"]
            return {"Stacks": [out]}
        if op == "list-stack-resources":
            stack = self.require_stack(name, "ListStackResources")
            return {"StackResourceSummaries": stack.get("resources", [])}
        if op == "describe-stack-events":
            self.require_stack(name, "DescribeStackEvents")
            return {"StackEvents": [{"LogicalResourceId": "LambdaSecurityGroup", "ResourceStatus": "DELETE_FAILED",
                                     "ResourceStatusReason": "resource sg has a dependent object"}]}
        if op == "delete-stack":
            stack = self.named(name)
            if stack is not None:
                stack["status"] = "DELETE_IN_PROGRESS"
            return None
        if op == "wait" and pos == ["stack-delete-complete"]:
            return self.finish_delete(name)
        if op == "deploy":
            return self.deploy(name, opt)
        raise CliError(f"fake cloudformation: {op} not implemented")

    def finish_delete(self, name: str) -> None:
        stack = self.named(name)
        if stack is None:
            return None
        group = self.lambda_group() if slot(name) == "stack" else None
        blocked = [e for e in self.state.get("enis", []) if e["group"] == group]
        own = {r["PhysicalResourceId"] for r in stack["resources"]
               if r["ResourceType"] == "AWS::S3::Bucket" and r["ResourceStatus"] != "DELETE_COMPLETE"}
        full = [b for b, objects in self.state.get("buckets", {}).items() if objects and b in own]
        if self.state.get("delete_failures", 0) > 0 or blocked or full:
            self.state["delete_failures"] = max(0, self.state.get("delete_failures", 0) - 1)
            stack["status"] = "DELETE_FAILED"
            for r in stack["resources"]:
                if r["LogicalResourceId"] not in ("LambdaSecurityGroup",) and r["ResourceType"] != "AWS::S3::Bucket":
                    r["ResourceStatus"] = "DELETE_COMPLETE"
            raise CliError('\nWaiter StackDeleteComplete failed: Waiter encountered a terminal failure state: For '
                           'expression "Stacks[].StackStatus" we matched expected path: "DELETE_FAILED" at least once')
        for r in stack["resources"]:
            if r["ResourceType"] == "AWS::S3::Bucket":
                self.state.get("buckets", {}).pop(r["PhysicalResourceId"], None)
        self.state[slot(name)] = None
        self.state["deleted_stacks"] = self.state.get("deleted_stacks", 0) + 1
        return None

    def upload_template(self, opt: dict[str, Any]) -> None:
        """What the CLI does with --template-file before making the change set: inline up to the
        limit, else only through --s3-bucket (a missing bucket fails the upload)."""
        body = Path(opt["--template-file"]).read_bytes()
        bucket = opt.get("--s3-bucket")
        if bucket is None:
            if len(body) > INLINE_TEMPLATE_LIMIT:
                raise CliError(BUCKET_REQUIRED)
            return
        objects = self.state.get("buckets", {}).get(bucket)
        if objects is None:
            raise CliError(f"\nS3 Bucket does not exist. Execute the command to create a new bucket\n"
                           f"aws s3 mb s3://{bucket}")
        key = f"{hashlib.md5(body).hexdigest()}.template"  # noqa: S324 - the CLI's key, not security
        if key not in objects:
            objects.append(key)

    def deploy(self, name: str, opt: dict[str, Any]) -> Any:
        params = dict(p.split("=", 1) for p in opt.get("--parameter-overrides", []))
        self.state.setdefault("deploys", []).append(params)
        stack = self.named(name)
        if stack is not None and stack["status"] == "ROLLBACK_COMPLETE":
            raise CliError(f"\nAn error occurred (ValidationError) when calling the CreateChangeSet operation: Stack:"
                           f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{name}/x is in ROLLBACK_COMPLETE state "
                           f"and can not be updated.")
        self.upload_template(opt)
        if slot(name) == "bootstrap":
            bucket = f"{name}-{ACCOUNT}"
            self.state["bootstrap"] = {"name": name, "status": "UPDATE_COMPLETE" if stack else "CREATE_COMPLETE",
                                       "outputs": [{"OutputKey": "TemplateBucket", "OutputValue": bucket}],
                                       "resources": [{"LogicalResourceId": "TemplateBucket",
                                                      "ResourceType": "AWS::S3::Bucket",
                                                      "PhysicalResourceId": bucket,
                                                      "ResourceStatus": "CREATE_COMPLETE"}]}
            self.state.setdefault("buckets", {}).setdefault(bucket, [])
            return None
        if self.state.get("create_fails") and stack is None:
            self.state["stack"] = {"name": name, "status": "ROLLBACK_COMPLETE", "outputs": [],
                                   "resources": [dict(r, ResourceStatus="DELETE_COMPLETE") for r in stack_resources()]}
            raise CliError("\nFailed to create/update the stack. Run the following command\nto fetch the list of "
                           "events leading up to the failure\naws cloudformation describe-stack-events --stack-name "
                           f"{name}")
        created = stack is None
        previous = {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("outputs", [])}
        notifiers = params.get("Notifiers", previous.get("Notifiers", "1"))  # UsePreviousValue, else the default
        self.state["stack"] = {"name": name, "status": "CREATE_COMPLETE" if created else "UPDATE_COMPLETE",
                               "outputs": stack_outputs(params.get("Stage", "dev"), notifiers),
                               "resources": stack_resources()}
        for r in stack_resources():
            if r["ResourceType"] == "AWS::S3::Bucket":
                self.state.setdefault("buckets", {}).setdefault(r["PhysicalResourceId"], [])
        print(f"\nSuccessfully created/updated stack - {name}")
        return None

    def ec2(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        enis = self.state.setdefault("enis", [])
        if op == "describe-network-interfaces":
            key, values = opt["--filters"].split(",", 1)
            assert key == "Name=group-id", key
            group = values.removeprefix("Values=")
            found = []
            for eni in enis:
                if eni["group"] != group:
                    continue
                if eni["status"] == "in-use" and eni.get("release_after", -1) > 0:
                    eni["release_after"] -= 1
                    if eni["release_after"] == 0:
                        eni["status"] = "available"
                found.append({"NetworkInterfaceId": eni["id"], "Status": eni["status"],
                              "Description": eni.get("description", ""), "Groups": [{"GroupId": group}]})
            return {"NetworkInterfaces": found}
        if op == "delete-network-interface":
            eni_id = opt["--network-interface-id"]
            eni = next((e for e in enis if e["id"] == eni_id), None)
            if eni is None:
                raise api_error("InvalidNetworkInterfaceID.NotFound", "DeleteNetworkInterface",
                                f"The networkInterface ID '{eni_id}' does not exist")
            if eni["status"] != "available":
                raise api_error("InvalidNetworkInterface.InUse", "DeleteNetworkInterface",
                                f"Network interface '{eni_id}' is currently in use.")
            enis.remove(eni)
            return None
        raise CliError(f"fake ec2: {op} not implemented")

    def s3api(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        assert op == "head-bucket", op
        if opt["--bucket"] not in self.state.get("buckets", {}):
            raise CliError("\nAn error occurred (404) when calling the HeadBucket operation: Not Found")
        return None

    def s3(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        if op == "rm":
            assert opt.get("--recursive"), "only whole buckets are emptied"
            bucket = pos[0].removeprefix("s3://").split("/")[0]
            if bucket not in self.state.get("buckets", {}):
                raise CliError("fatal error: An error occurred (NoSuchBucket) when calling the ListObjectsV2 "
                               "operation: The specified bucket does not exist", 1)
            self.state["buckets"][bucket] = []
            return None
        raise CliError(f"fake s3: {op} not implemented")

    def ecr(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        live = self.stack is not None and self.stack["status"] not in ("ROLLBACK_COMPLETE", "DELETE_FAILED")
        if op == "describe-repositories":
            if not live:
                raise api_error("RepositoryNotFoundException", "DescribeRepositories", "The repository does not exist")
            return {"repositories": [{"repositoryName": opt["--repository-names"]}]}
        if op == "describe-images":
            tag = opt["--image-ids"].removeprefix("imageTag=")
            if not live or tag not in self.state.get("images", []):
                raise api_error("ImageNotFoundException", "DescribeImages", "The image does not exist")
            return {"imageDetails": [{"imageTags": [tag]}]}
        if op == "get-login-password":
            return "ecr-password"
        raise CliError(f"fake ecr: {op} not implemented")

    def secretsmanager(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        assert op == "get-secret-value", op
        if opt["--secret-id"] == PLAYBACK_SECRET_ARN:
            return {"SecretString": json.dumps({"secret": self.state.get("playback_secret", PLAYBACK_SECRET)})}
        return {"SecretString": json.dumps({"token": "t0ken"})}

    def cloudfront_keyvaluestore(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        """DescribeKeyValueStore and PutKey (IfMatch = the current ETag), signed with SigV4A: an
        AWS CLI v1 without awscrt fails (``kvs_needs_crt`` until ``pip`` installed the extra)."""
        if self.state.get("kvs_needs_crt") and not self.state.get("crt_installed"):
            raise CliError(MISSING_CRT)
        store = self.state.setdefault("kvs", {"etag": "ETAG0", "items": {}})
        if op == "put-key":
            opt = json.loads(Path(opt["--cli-input-json"].removeprefix("file://")).read_text())
            operation = "PutKey"
        elif op == "describe-key-value-store":
            opt = {"KvsARN": opt["--kvs-arn"]}
            operation = "DescribeKeyValueStore"
        else:
            raise CliError(f"fake cloudfront-keyvaluestore: {op} not implemented")
        if opt["KvsARN"] != KVS_ARN or self.state.get("kvs_denied"):
            raise api_error("AccessDeniedException", operation, "User is not authorized to perform: "
                            f"cloudfront-keyvaluestore:{operation} on resource: {opt['KvsARN']}")
        if op == "put-key":
            if opt["IfMatch"] != store["etag"]:
                raise api_error("ConflictException", "PutKey", "Pre-condition failed: ETag mismatch")
            store["items"][opt["Key"]] = opt["Value"]
            store["etag"] = f"ETAG{int(store['etag'].removeprefix('ETAG')) + 1}"
        size = sum(len(k) + len(v) for k, v in store["items"].items())
        answer = {"ItemCount": len(store["items"]), "TotalSizeInBytes": size, "ETag": store["etag"]}
        if op == "describe-key-value-store":
            answer.update(KvsARN=KVS_ARN, Status="READY")
        return answer

    def ecs(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        assert op == "update-service" and opt.get("--force-new-deployment"), op
        services = self.state.setdefault("services", {})
        service = services.setdefault(opt["--service"], {"desiredCount": 0, "deployments": 0})
        service["deployments"] += 1
        if "--desired-count" in opt:
            service["desiredCount"] = int(opt["--desired-count"])
        return {"service": {"serviceName": opt["--service"], "taskDefinition": "arn:td/1",
                            "desiredCount": service["desiredCount"]}}

    def lambda_(self, op: str, pos: list[str], opt: dict[str, Any]) -> Any:
        assert op == "invoke", op
        function = opt["--function-name"]
        if function not in self.state.get("functions", []):
            raise api_error("ResourceNotFoundException", "Invoke",
                            f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}")
        payload = json.loads(Path(opt["--payload"].removeprefix("fileb://")).read_text())
        self.state.setdefault("invocations", []).append({"function": function, "payload": payload})
        keys = self.state.setdefault("keys", [])
        action = payload.get("action")
        if action == "list_keys":
            answer: Any = {"keys": [{k: v for k, v in key.items() if k != "secret"} for key in keys]}
        elif action == "create_key":
            key_id = secrets.token_hex(4)
            keys.append({"id": key_id, "owner": payload["owner"], "name": payload.get("name", ""),
                         "created_at": time.time(), "limits": payload.get("limits", {})})
            answer = {"key": f"ffk_{key_id}_{secrets.token_urlsafe(32)}", "id": key_id}
        elif action == "revoke_key":
            before = len(keys)
            keys[:] = [k for k in keys if k["id"] != payload["key_id"]]
            answer = {"revoked": payload["key_id"]} if len(keys) < before else {"error": "no key with id x"}
        else:
            Path(pos[0]).write_text(json.dumps({"errorMessage": f"bad action {action}", "errorType": "KeyError"}))
            return {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST"}
        Path(pos[0]).write_text(json.dumps(answer))
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST"}


def slot(stack_name: str) -> str:
    """The state key of a stack: ``bootstrap`` for the templates' bucket stack, else ``stack``."""
    return "bootstrap" if stack_name.endswith("-bootstrap") else "stack"


def stack_resources() -> list[dict[str, str]]:
    resources = [("LambdaSecurityGroup", "AWS::EC2::SecurityGroup", "sg-lambda"),
                 ("WorkerSecurityGroup", "AWS::EC2::SecurityGroup", "sg-worker"),
                 ("Vpc", "AWS::EC2::VPC", "vpc-1")]
    resources += [(f"{kind}Bucket", "AWS::S3::Bucket", f"framefleet-dev-{kind.lower()}-{ACCOUNT}")
                  for kind in ("Upload", "Work", "Output", "Artifact", "Frontend")]
    return [{"LogicalResourceId": logical, "ResourceType": kind, "PhysicalResourceId": physical,
             "ResourceStatus": "CREATE_COMPLETE"} for logical, kind, physical in resources]


def stack_outputs(stage: str, notifiers: str = "1") -> list[dict[str, str]]:
    values = {"Stage": stage, **{f"{kind}Bucket": f"framefleet-{stage}-{kind.lower()}-{ACCOUNT}"
                                 for kind in ("Upload", "Work", "Output", "Artifact", "Frontend")},
              "UploadQueueName": f"framefleet-{stage}-upload-events", "RedisHost": "master.example.cache.amazonaws.com",
              "RedisPort": "6379", "RedisAuthSecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:x",
              "LambdaRoleArn": f"arn:aws:iam::{ACCOUNT}:role/lambda", "LambdaSecurityGroupId": "sg-lambda",
              "PrivateSubnetIds": "subnet-a,subnet-b", "ClusterName": f"framefleet-{stage}",
              "ProcessorServiceName": "processor", "AssemblerServiceName": "assembler",
              "NotifierServiceName": "notifier", "Notifiers": notifiers,
              "MetricsNamespace": f"Framefleet/{stage}", "DistributionId": "E123",
              "FrontendUrl": "https://d123.cloudfront.net", "PlaybackBaseUrl": "https://dplay.cloudfront.net",
              "PlaybackSecretArn": PLAYBACK_SECRET_ARN, "PlaybackKeyValueStoreArn": KVS_ARN}
    return [{"OutputKey": k, "OutputValue": v} for k, v in values.items()]


def log(prog: str, argv: list[str]) -> None:
    with open(os.environ["FAKE_AWS_LOG"], "a") as f:
        f.write(json.dumps({"prog": prog, "argv": argv}) + "\n")


def aws(argv: list[str]) -> int:
    log("aws", argv)
    account = Account(Path(os.environ["FAKE_AWS_STATE"]))
    service, op, *rest = argv
    positional, options = parse(rest)
    handler = getattr(account, "lambda_" if service == "lambda" else service.replace("-", "_"))
    try:
        result = handler(op, positional, options)
    except CliError as exc:
        account.save()
        print(str(exc), file=sys.stderr)
        return exc.code
    account.save()
    if result is None:
        return 0
    if "--query" in options:
        result = jmespath.search(options["--query"], result)
    if isinstance(result, str) and "--query" not in options and options.get("--output") != "json":
        print(result)
    elif options.get("--output") == "text":
        print(text(result))
    else:
        print(json.dumps(result, indent=4))
    return 0


def docker(argv: list[str]) -> int:
    log("docker", argv)
    if argv[:1] == ["login"]:
        sys.stdin.read()
    if argv[:2] == ["buildx", "build"]:
        account = Account(Path(os.environ["FAKE_AWS_STATE"]))
        tag = argv[argv.index("-t") + 1].rsplit(":", 1)[1]
        account.state.setdefault("images", []).append(tag)
        account.save()
    return 0


def pip(argv: list[str]) -> int:
    log("pip", argv)
    assert argv[:2] == ["install", "--quiet"] and argv[2].startswith("awscli[crt]=="), argv
    account = Account(Path(os.environ["FAKE_AWS_STATE"]))
    account.state["crt_installed"] = True
    account.save()
    return 0


def python(argv: list[str]) -> int:
    if argv[:1] != ["infra/chalice_cli.py"]:
        os.execv(sys.executable, [sys.executable, *argv])  # noqa: S606 - the real interpreter, as $PY
    log("chalice", argv[1:])
    command = argv[1]
    stage = argv[argv.index("--stage") + 1]
    account = Account(Path(os.environ["FAKE_AWS_STATE"]))
    deployed = Path(".chalice/deployed") / f"{stage}.json"
    if command == "deploy":
        # What chalice deploy reads (the Valkey token is in it only now).
        account.state["config_during_deploy"] = json.loads(Path(".chalice/config.json").read_text())
        functions = account.state.setdefault("functions", [])
        functions += [f"framefleet-{stage}-{name}" for name in account.state.get("chalice_functions", ["admin"])]
        deployed.parent.mkdir(parents=True, exist_ok=True)
        deployed.write_text(json.dumps({"resources": [{"name": "api_handler"}]}))
    elif command == "url":
        print("https://abc123.execute-api.us-east-1.amazonaws.com/api/")
    elif command == "delete":
        if account.state.get("chalice_delete_fails"):
            print("chalice: ResourceDoesNotExistError", file=sys.stderr)
            return 2
        account.state["functions"] = []
        # Lambda releases the functions' network interfaces a few polls later.
        for eni in account.state.get("enis", []):
            if eni.get("release_after", -1) == -1 and not eni.get("stuck"):
                eni["release_after"] = 2
        deployed.write_text(json.dumps({"resources": []}))
    else:
        print(f"fake chalice: {command} not implemented", file=sys.stderr)
        return 2
    account.save()
    return 0


if __name__ == "__main__":
    prog, *args = sys.argv[1:]
    sys.exit({"aws": aws, "docker": docker, "pip": pip, "python": python}[prog](args))
