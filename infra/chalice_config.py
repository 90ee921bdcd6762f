"""Write the infrastructure stack's outputs into a stage of .chalice/config.json.

    python infra/chalice_config.py --stage prod --outputs outputs.json [--redis-token-env VAR]

``outputs.json`` is ``aws cloudformation describe-stacks --query Stacks[0].Outputs`` (a list of
``{OutputKey, OutputValue}``). Only the stage's deployment-specific values change: bucket and
queue names, REDIS_URL, the metrics namespace, subnets, the security group and the role.

The Valkey AUTH token is never written to the file by default (the file is in git). With
``--redis-token-env VAR`` the token from that environment variable goes into REDIS_URL;
infra/deploy.sh does that only for the duration of ``chalice deploy`` and restores the file.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

CONFIG = Path(__file__).resolve().parents[1] / ".chalice" / "config.json"

# Stack output -> stage environment variable.
ENV_OUTPUTS = {
    "UploadBucket": "FRAMEFLEET_UPLOAD_BUCKET",
    "WorkBucket": "FRAMEFLEET_WORK_BUCKET",
    "OutputBucket": "FRAMEFLEET_OUTPUT_BUCKET",
    "UploadQueueName": "FRAMEFLEET_UPLOAD_QUEUE",
    "MetricsNamespace": "POWERTOOLS_METRICS_NAMESPACE",
}


def outputs_map(outputs: list[dict[str, str]] | dict[str, str]) -> dict[str, str]:
    """``[{OutputKey, OutputValue}]`` (describe-stacks) or a plain mapping → mapping."""
    if isinstance(outputs, dict):
        return dict(outputs)
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}


def redis_url(outputs: dict[str, str], token: str | None = None) -> str:
    """``rediss://`` URL of the replication group's primary endpoint (TLS is on)."""
    auth = f":{quote(token, safe='')}@" if token else ""
    return f"rediss://{auth}{outputs['RedisHost']}:{outputs['RedisPort']}/0"


def apply_outputs(config: dict[str, Any], stage: str, outputs: dict[str, str],
                  redis_token: str | None = None) -> dict[str, Any]:
    """A copy of ``config`` with ``stage`` pointing at the deployed infrastructure."""
    if outputs.get("Stage", stage) != stage:
        raise SystemExit(f"these outputs are of stage {outputs['Stage']!r}, not {stage!r}")
    new = copy.deepcopy(config)
    stage_config = new.setdefault("stages", {}).setdefault(stage, {})
    env = stage_config.setdefault("environment_variables", {})
    for output, variable in ENV_OUTPUTS.items():
        env[variable] = outputs[output]
    env["REDIS_URL"] = redis_url(outputs, redis_token)
    stage_config["iam_role_arn"] = outputs["LambdaRoleArn"]
    stage_config["subnet_ids"] = outputs["PrivateSubnetIds"].split(",")
    stage_config["security_group_ids"] = [outputs["LambdaSecurityGroupId"]]
    new["manage_iam_role"] = False
    return new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--outputs", type=Path, required=True, help="describe-stacks Outputs as JSON")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--redis-token-env", help="environment variable holding the Valkey AUTH token")
    args = parser.parse_args(argv)
    token = None
    if args.redis_token_env:
        token = os.environ.get(args.redis_token_env)
        if not token:
            raise SystemExit(f"{args.redis_token_env} is empty")
    config = json.loads(args.config.read_text())
    updated = apply_outputs(config, args.stage, outputs_map(json.loads(args.outputs.read_text())), token)
    args.config.write_text(json.dumps(updated, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
