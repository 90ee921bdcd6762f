"""``chalice deploy`` (what infra/deploy.sh runs, not ``chalice package``) planned offline by
Chalice's own deployer: tests/infra/chalice_plan.py captures every API call it would make for a
first deploy of each stage, and runs the stage throttling call against moto's API Gateway."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.helpers import CHALICE_CONFIG, ROOT

STAGES = sorted(CHALICE_CONFIG["stages"])


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = {}
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    for stage in STAGES:
        target = tmp_path_factory.mktemp(f"plan-{stage}") / "plan.json"
        result = subprocess.run([sys.executable, "-m", "tests.infra.chalice_plan", stage, str(target)], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        out[stage] = json.loads(Path(target).read_text())
    return out


def calls(plan: dict[str, Any], method: str) -> list[dict[str, Any]]:
    return [c["params"] for c in plan["calls"] if c["method"] == method]


@pytest.mark.parametrize("stage", STAGES)
def test_the_chunker_is_bounded_by_its_event_source_not_by_reserved_concurrency(
        plans: dict[str, dict[str, Any]], stage: str) -> None:
    plan = plans[stage]
    (source,) = calls(plan, "create_lambda_event_source")
    assert source["function_name"] == {"var": "on_upload_lambda_arn"}
    assert source["maximum_concurrency"] == CHALICE_CONFIG["stages"][stage]["lambda_functions"]["on_upload"][
        "sqs_maximum_concurrency"]
    # Chalice removes reserved concurrency that a function no longer has configured.
    assert calls(plan, "put_function_concurrency") == []
    functions = {c["function_name"] for c in calls(plan, "create_function")}
    assert {c["function_name"] for c in calls(plan, "delete_function_concurrency")} == functions


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_is_throttled_right_after_its_deployment(plans: dict[str, dict[str, Any]], stage: str) -> None:
    plan = plans[stage]
    methods = [c["method"] for c in plan["calls"]]
    assert methods.index("framefleet_update_stage") == methods.index("deploy_rest_api") + 1
    (update,) = calls(plan, "framefleet_update_stage")
    assert update["rest_api_id"] == {"var": "rest_api_id"} and update["api_gateway_stage"] == "api"
    limits = CHALICE_CONFIG["stages"][stage]["api_gateway_throttling"]
    # moto's API Gateway accepted the patch operations: every method of the stage is throttled.
    settings = plan["stage_settings"]["*/*"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == \
        (float(limits["rate_limit"]), limits["burst_limit"])


@pytest.mark.parametrize("stage", STAGES)
def test_gateway_errors_carry_cors_in_the_imported_api(plans: dict[str, dict[str, Any]], stage: str) -> None:
    (api,) = calls(plans[stage], "import_rest_api")
    responses = api["swagger_document"]["x-amazon-apigateway-gateway-responses"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert responses[kind]["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"


@pytest.mark.parametrize("stage", STAGES)
def test_the_admin_function_is_deployed_in_the_vpc_and_nothing_triggers_it(
        plans: dict[str, dict[str, Any]], stage: str) -> None:
    """Needs app.py's ``@app.lambda_function(name="admin")`` (docs/AWS_CHECKS.md)."""
    plan = plans[stage]
    config = CHALICE_CONFIG["stages"][stage]
    admin = [c for c in calls(plan, "create_function") if c["function_name"] == f"framefleet-{stage}-admin"]
    assert admin, "app.py has no @app.lambda_function(name='admin')"
    (admin_fn,) = admin
    assert admin_fn["handler"] == "app.admin" and admin_fn["timeout"] == 30
    assert admin_fn["subnet_ids"] == config["subnet_ids"]
    assert admin_fn["security_group_ids"] == config["security_group_ids"]
    assert admin_fn["role_arn"] == config["iam_role_arn"]
    assert admin_fn["environment_variables"]["FRAMEFLEET_REDIS_AUTH_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    triggers = [c for c in plan["calls"] if c["method"] in ("create_lambda_event_source", "connect_rule_to_lambda",
                                                            "add_permission_for_apigateway")]
    assert not [c for c in triggers if "admin" in json.dumps(c)]


def test_the_extra_settings_are_validated() -> None:
    """A bad value stops ``chalice deploy``/``package`` with a message, not with Lambda's error."""
    from chalice.config import Config

    from tests.infra.chalice_plan import load_chalice_cli

    chalice_cli = load_chalice_cli()  # its functions only: nothing is patched in this process

    def config(function: dict[str, Any], stage: dict[str, Any] | None = None) -> Config:
        disk = {"stages": {"dev": {**(stage or {}), "lambda_functions": {"on_upload": function}}}}
        return Config(chalice_stage="dev", config_from_disk=disk)

    assert chalice_cli.maximum_concurrency(config({"sqs_maximum_concurrency": 2}), "on_upload") == 2
    assert chalice_cli.maximum_concurrency(config({}), "on_upload") is None
    for bad in (1, 1001, "4", True, 4.0):
        with pytest.raises(ValueError, match="sqs_maximum_concurrency"):
            chalice_cli.maximum_concurrency(config({"sqs_maximum_concurrency": bad}), "on_upload")
    limits = {"api_gateway_throttling": {"rate_limit": 10, "burst_limit": 20}}
    assert chalice_cli.throttling(config({}, limits)) == {"rate_limit": 10.0, "burst_limit": 20}
    assert chalice_cli.throttling(config({})) is None
    for bad in ({"rate_limit": 10}, {"rate_limit": 0, "burst_limit": 1}, {"rate_limit": 1, "burst_limit": 1.5}):
        with pytest.raises(ValueError, match="api_gateway_throttling"):
            chalice_cli.throttling(config({}, {"api_gateway_throttling": bad}))
    assert chalice_cli.stage_patch_operations({"rate_limit": 10.0, "burst_limit": 20}) == [
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "10.0"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "20"}]
