"""What ``python infra/chalice_cli.py deploy --stage STAGE`` would do, offline: Chalice's own
deployer (app graph, build stage with the real deployment package, planner) with every API call
captured instead of made, against moto for the planner's "does it exist" look-ups and as if
nothing were deployed yet. Then the one API call infra/chalice_cli.py adds (UpdateStage) runs
against moto's API Gateway. Run in a subprocess (Chalice is patched for its whole process):

    python -m tests.infra.chalice_plan STAGE OUT.json   # {"calls": [...], "stage_settings": {...}}
"""
from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

from moto import mock_aws

from tests.infra.helpers import ROOT


def load_chalice_cli() -> Any:
    spec = importlib.util.spec_from_file_location("chalice_cli", ROOT / "infra" / "chalice_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plain(value: Any) -> Any:
    """JSON-able ``value``: planner Variables become ``{"var": name}``."""
    from chalice.deploy.planner import StringFormat, Variable

    if isinstance(value, Variable):
        return {"var": value.name}
    if isinstance(value, StringFormat):
        return {"format": value.template}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def plan(stage: str) -> list[dict[str, Any]]:
    from chalice.cli.factory import CLIFactory
    from chalice.config import Config, DeployedResources
    from chalice.deploy import deployer, models
    from chalice.deploy.executor import BaseExecutor
    from chalice.utils import UI

    calls: list[dict[str, Any]] = []

    class Capture(BaseExecutor):
        def execute(self, plan: models.Plan) -> None:
            for instruction in plan.instructions:
                if isinstance(instruction, models.APICall):
                    calls.append({"method": instruction.method_name, "params": plain(instruction.params)})

    Config.deployed_resources = lambda self, stage_name: DeployedResources.empty()  # a first deploy
    factory = CLIFactory(str(ROOT))
    config = factory.create_config_obj(chalice_stage_name=stage)
    session = factory.create_botocore_session()
    d = deployer._create_deployer(session, config, UI(), Capture, deployer.NoopResultsRecorder)
    d.deploy(config, chalice_stage_name=stage)
    return calls


def stage_settings(chalice_cli: Any, update: dict[str, Any]) -> dict[str, Any]:
    """Run the planned UpdateStage against moto's API Gateway; the stage's method settings."""
    import boto3
    from chalice.awsclient import TypedAWSClient

    apigw = boto3.client("apigateway", region_name="us-east-1")
    api = apigw.create_rest_api(name="framefleet")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api, stageName=update["api_gateway_stage"])
    client = TypedAWSClient(boto3.session.Session()._session)
    client.framefleet_update_stage(rest_api_id=api, api_gateway_stage=update["api_gateway_stage"],
                                   patch_operations=update["patch_operations"])
    return apigw.get_stage(restApiId=api, stageName=update["api_gateway_stage"]).get("methodSettings", {})


def main(stage: str, out: str) -> None:
    chalice_cli = load_chalice_cli()
    chalice_cli.install()
    with mock_aws():
        calls = plan(stage)
        (update,) = [c["params"] for c in calls if c["method"] == "framefleet_update_stage"] or [None]
        settings = stage_settings(chalice_cli, update) if update else {}
    with open(out, "w") as f:
        json.dump({"calls": calls, "stage_settings": settings}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
