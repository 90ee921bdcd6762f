"""``chalice`` with the Lambda runtime pinned to LAMBDA_RUNTIME: ``python infra/chalice_cli.py deploy ...``.

Chalice 1.34 derives the runtime from the local interpreter (3.11 here → python3.11, Amazon
Linux 2, glibc 2.26), but the chunker needs PyAV 18, whose wheels are manylinux_2_28 only.
python3.12 runs on Amazon Linux 2023 (glibc 2.34): with it Chalice's packager accepts the
``av`` wheel (abi3, so the cp311 build loads on 3.12) and the functions get a runtime that can
load it.

It also fixes a ``chalice package`` bug: the REST API's function is renamed ``ApiHandler`` →
``APIHandler`` in the SAM template, but its log group (present with ``log_retention_in_days``)
still names ``${ApiHandler}``, which CloudFormation rejects. ``chalice deploy`` is unaffected.
It leaves ``__pycache__`` out of the deployment package: Chalice zips all of ``chalicelib/``, and
bytecode a local run left there (cpython-311, which python3.12 would not even load) would make
the package, and its cache key, depend on what ran locally.

And it reads three settings from ``.chalice/config.json`` that Chalice 1.34 has no config key
for, applied alike by ``chalice deploy`` (what infra/deploy.sh runs) and ``chalice package``:

``sqs_maximum_concurrency`` (per function, per stage)
    The SQS event source's ScalingConfig.MaximumConcurrency (2-1000): at most that many
    concurrent invocations, without reserved concurrency (which needs 100 unreserved in the
    account) and without the poller receiving more than the function may run (a throttled
    receive waits out the queue's visibility timeout). Chalice supports it only as an argument
    of ``@app.on_sqs_message``, fixed for every stage; the argument wins when given.
``api_gateway_throttling`` (per stage): ``{"rate_limit": requests/s, "burst_limit": requests}``
    Stage-wide method throttling of the REST API (``*/*``): a SAM MethodSetting, and for
    ``chalice deploy`` an UpdateStage call right after the stage's deployment.
CORS on API Gateway's own errors (not a setting)
    ``DEFAULT_4XX``/``DEFAULT_5XX`` gateway responses (throttled 429, unknown route 403, Lambda
    timeout 504, …) get the app's CORS headers and an ``{"error": …}`` JSON body, through the
    ``x-amazon-apigateway-gateway-responses`` extension of the Swagger document both use.
    Without them the browser sees a CORS failure instead of the status.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

LAMBDA_RUNTIME = "python3.12"
PROJECT_DIR = Path(__file__).resolve().parents[1]

SQS_MAXIMUM_CONCURRENCY = "sqs_maximum_concurrency"
API_GATEWAY_THROTTLING = "api_gateway_throttling"
GATEWAY_ERROR_TYPES = ("DEFAULT_4XX", "DEFAULT_5XX")
# $context.error.messageString is already a quoted JSON string; the app answers {"error": "..."} too.
GATEWAY_ERROR_BODY = '{"error": $context.error.messageString}'


def pin_runtime(runtime: str = LAMBDA_RUNTIME) -> None:
    """Make every Chalice ``Config`` report ``runtime`` as its Lambda Python version."""
    from chalice.config import Config

    Config.lambda_python_version = property(lambda self: runtime)


def _patch(owner: type, name: str, replacement: Any) -> None:
    """Replace ``owner.name`` once (a second call keeps the first replacement)."""
    if getattr(getattr(owner, name), "framefleet_patched", False):
        return
    replacement.framefleet_patched = True
    setattr(owner, name, replacement)


def fix_api_log_group() -> None:
    """Point the API handler's log group at ``APIHandler`` in ``chalice package`` output."""
    from chalice.package import SAMTemplateGenerator

    generate = SAMTemplateGenerator.generate

    def fixed(self: SAMTemplateGenerator, resources: object) -> dict:
        template = generate(self, resources)
        group = template["Resources"].get("ApiHandlerLogGroup")
        if group and "APIHandler" in template["Resources"]:
            group["Properties"]["LogGroupName"] = {"Fn::Sub": "/aws/lambda/${APIHandler}"}
        return template

    _patch(SAMTemplateGenerator, "generate", fixed)


def skip_bytecode() -> None:
    """Leave ``__pycache__``/``*.pyc`` of ``chalicelib/`` out of the package (and its hash)."""
    from chalice.deploy.packager import BaseLambdaDeploymentPackager

    iter_lib = BaseLambdaDeploymentPackager._iter_chalice_lib_if_needed

    def without_bytecode(self: Any, project_dir: str) -> Any:
        for full_path, zip_path in iter_lib(self, project_dir):
            if "__pycache__" not in Path(zip_path).parts and not zip_path.endswith(".pyc"):
                yield full_path, zip_path

    _patch(BaseLambdaDeploymentPackager, "_iter_chalice_lib_if_needed", without_bytecode)


def maximum_concurrency(config: Any, function_name: str) -> int | None:
    """``sqs_maximum_concurrency`` of ``function_name`` in the config's stage (None: not set)."""
    scoped = config.scope(chalice_stage=config.chalice_stage, function_name=function_name)
    value = scoped._chain_lookup(SQS_MAXIMUM_CONCURRENCY, varies_per_chalice_stage=True, varies_per_function=True)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 1000:
        raise ValueError(f"{SQS_MAXIMUM_CONCURRENCY} of {function_name} must be an integer from 2 to 1000 "
                         f"(Lambda's limits), not {value!r}")
    return value


def throttling(config: Any) -> dict[str, float | int] | None:
    """``api_gateway_throttling`` of the config's stage as ``{rate_limit, burst_limit}`` (None: not set)."""
    value = config._chain_lookup(API_GATEWAY_THROTTLING, varies_per_chalice_stage=True)
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"rate_limit", "burst_limit"}:
        raise ValueError(f"{API_GATEWAY_THROTTLING} must be {{\"rate_limit\": N, \"burst_limit\": N}}, not {value!r}")
    rate, burst = value["rate_limit"], value["burst_limit"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0:
        raise ValueError(f"{API_GATEWAY_THROTTLING}.rate_limit must be a positive number, not {rate!r}")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst <= 0:
        raise ValueError(f"{API_GATEWAY_THROTTLING}.burst_limit must be a positive integer, not {burst!r}")
    return {"rate_limit": float(rate), "burst_limit": burst}


def stage_patch_operations(limits: dict[str, float | int]) -> list[dict[str, str]]:
    """UpdateStage patch operations that throttle every method of the stage."""
    return [{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(limits["rate_limit"])},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(limits["burst_limit"])}]


def gateway_responses(cors: Any) -> dict[str, Any]:
    """The ``x-amazon-apigateway-gateway-responses`` for ``app.api.cors`` (True, a CORSConfig or falsy)."""
    from chalice.app import CORSConfig

    params: dict[str, str] = {}
    if cors:
        config = CORSConfig() if cors is True else cors
        params = {f"gatewayresponse.header.{name}": f"'{value}'"
                  for name, value in config.get_access_control_headers().items()}
    return {kind: {"responseParameters": dict(params),
                   "responseTemplates": {"application/json": GATEWAY_ERROR_BODY}}
            for kind in GATEWAY_ERROR_TYPES}


def add_stage_settings() -> None:
    """Apply ``sqs_maximum_concurrency``, ``api_gateway_throttling`` and the CORS gateway responses."""
    from chalice.awsclient import TypedAWSClient
    from chalice.deploy import models
    from chalice.deploy.appgraph import ApplicationGraphBuilder
    from chalice.deploy.planner import PlanStage, Variable
    from chalice.deploy.swagger import SwaggerGenerator
    from chalice.package import SAMTemplateGenerator

    create_sqs = ApplicationGraphBuilder._create_sqs_subscription

    def sqs_subscription(self: Any, config: Any, deployment: Any, sqs_config: Any, stage_name: str) -> Any:
        source = create_sqs(self, config, deployment, sqs_config, stage_name)
        if source.maximum_concurrency is None:
            source.maximum_concurrency = maximum_concurrency(config, sqs_config.name)
        return source

    _patch(ApplicationGraphBuilder, "_create_sqs_subscription", sqs_subscription)

    create_rest_api = ApplicationGraphBuilder._create_rest_api_model

    def rest_api_model(self: Any, config: Any, deployment: Any, stage_name: str) -> Any:
        rest_api = create_rest_api(self, config, deployment, stage_name)
        rest_api.framefleet_throttling = throttling(config)
        return rest_api

    _patch(ApplicationGraphBuilder, "_create_rest_api_model", rest_api_model)

    generate_swagger = SwaggerGenerator.generate_swagger

    def swagger(self: Any, app: Any, rest_api: Any = None) -> dict[str, Any]:
        api = generate_swagger(self, app, rest_api)
        api["x-amazon-apigateway-gateway-responses"] = gateway_responses(app.api.cors)
        return api

    _patch(SwaggerGenerator, "generate_swagger", swagger)

    # chalice package: the AWS::Serverless::Api's MethodSettings.
    generate_restapi = SAMTemplateGenerator._generate_restapi

    def sam_restapi(self: Any, resource: Any, template: dict[str, Any]) -> None:
        generate_restapi(self, resource, template)
        limits = getattr(resource, "framefleet_throttling", None)
        if limits:
            template["Resources"]["RestAPI"]["Properties"]["MethodSettings"] = [{
                "ResourcePath": "/*", "HttpMethod": "*",
                "ThrottlingRateLimit": limits["rate_limit"], "ThrottlingBurstLimit": limits["burst_limit"]}]

    _patch(SAMTemplateGenerator, "_generate_restapi", sam_restapi)

    # chalice deploy: UpdateStage right after the deployment that creates or updates the stage.
    def framefleet_update_stage(self: Any, rest_api_id: str, api_gateway_stage: str,
                                patch_operations: list[dict[str, str]]) -> None:
        self._client("apigateway").update_stage(restApiId=rest_api_id, stageName=api_gateway_stage,
                                                patchOperations=patch_operations)

    if not hasattr(TypedAWSClient, "framefleet_update_stage"):
        TypedAWSClient.framefleet_update_stage = framefleet_update_stage

    plan_restapi = PlanStage._plan_restapi

    def planned_restapi(self: Any, resource: Any) -> list[Any]:
        plan = list(plan_restapi(self, resource))
        limits = getattr(resource, "framefleet_throttling", None)
        if not limits:
            return plan
        calls = [i for i, step in enumerate(plan)
                 if getattr(step[0] if isinstance(step, tuple) else step, "method_name", "") == "deploy_rest_api"]
        if len(calls) != 1:
            raise RuntimeError("Chalice's REST API plan changed: no single deploy_rest_api call to throttle after")
        plan.insert(calls[0] + 1, models.APICall(
            method_name="framefleet_update_stage",
            params={"rest_api_id": Variable("rest_api_id"), "api_gateway_stage": resource.api_gateway_stage,
                    "patch_operations": stage_patch_operations(limits)}))
        return plan

    _patch(PlanStage, "_plan_restapi", planned_restapi)


def install() -> None:
    """Everything this module changes in Chalice (idempotent)."""
    pin_runtime()
    fix_api_log_group()
    skip_bytecode()
    add_stage_settings()


def main(argv: list[str] | None = None) -> int:
    import warnings

    from chalice.cli import main as chalice_main

    install()
    # Chalice warns that the local Python (3.11) differs from the runtime: that is the point.
    warnings.filterwarnings("ignore", message="You are currently running python")
    args = list(sys.argv[1:] if argv is None else argv)
    if "--project-dir" not in args:
        args = ["--project-dir", str(PROJECT_DIR), *args]
    sys.argv = ["chalice", *args]
    try:
        chalice_main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
