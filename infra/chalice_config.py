"""Write the infrastructure stack's outputs into a stage of .chalice/config.json.

    python infra/chalice_config.py --stage prod --outputs outputs.json

``outputs.json`` is ``aws cloudformation describe-stacks --query Stacks[0].Outputs`` (a list of
``{OutputKey, OutputValue}``). Only the stage's deployment-specific values change: bucket and
queue names, Valkey's host and port, the ARN of the secret holding its AUTH token, the playback
distribution's URL and the ARN of the secret that playback tokens are signed with, the metrics
namespace, subnets, the security group and the role.

Neither secret is ever in the file, nor in any Lambda's environment: the Lambdas read Valkey's
AUTH token from Secrets Manager at their first Redis use (``FRAMEFLEET_REDIS_AUTH_SECRET_ARN``)
and the playback signing secret at their first playback URL (``FRAMEFLEET_PLAYBACK_SECRET_ARN``).
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

CONFIG = Path(__file__).resolve().parents[1] / ".chalice" / "config.json"

# Stack output -> stage environment variable.
ENV_OUTPUTS = {
    "UploadBucket": "FRAMEFLEET_UPLOAD_BUCKET",
    "WorkBucket": "FRAMEFLEET_WORK_BUCKET",
    "OutputBucket": "FRAMEFLEET_OUTPUT_BUCKET",
    "UploadQueueName": "FRAMEFLEET_UPLOAD_QUEUE",
    "MetricsNamespace": "POWERTOOLS_METRICS_NAMESPACE",
    "PlaybackBaseUrl": "FRAMEFLEET_PLAYBACK_BASE_URL",
    "PlaybackSecretArn": "FRAMEFLEET_PLAYBACK_SECRET_ARN",
}


def outputs_map(outputs: list[dict[str, str]] | dict[str, str]) -> dict[str, str]:
    """``[{OutputKey, OutputValue}]`` (describe-stacks) or a plain mapping → mapping."""
    if isinstance(outputs, dict):
        return dict(outputs)
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}


def apply_outputs(config: dict[str, Any], stage: str, outputs: dict[str, str]) -> dict[str, Any]:
    """A copy of ``config`` with ``stage`` pointing at the deployed infrastructure."""
    if outputs.get("Stage", stage) != stage:
        raise SystemExit(f"these outputs are of stage {outputs['Stage']!r}, not {stage!r}")
    new = copy.deepcopy(config)
    stage_config = new.setdefault("stages", {}).setdefault(stage, {})
    env = stage_config.setdefault("environment_variables", {})
    for output, variable in ENV_OUTPUTS.items():
        env[variable] = outputs[output]
    # REDIS_HOST/REDIS_PORT make a rediss:// URL (TLS is on); the token comes from the secret.
    env.pop("REDIS_URL", None)
    env["REDIS_HOST"], env["REDIS_PORT"] = outputs["RedisHost"], outputs["RedisPort"]
    env["FRAMEFLEET_REDIS_AUTH_SECRET_ARN"] = outputs["RedisAuthSecretArn"]
    if "MaxProcessors" in outputs:  # the chunker's estimate counts on the fleet scaling up to this
        env["FRAMEFLEET_MAX_PROCESSORS"] = outputs["MaxProcessors"]
    env.pop("FRAMEFLEET_PLAYBACK_SECRET", None)  # a plain (local) secret: the ARN's wins, never a value
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
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text())
    updated = apply_outputs(config, args.stage, outputs_map(json.loads(args.outputs.read_text())))
    args.config.write_text(json.dumps(updated, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
