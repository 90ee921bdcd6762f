"""``chalice`` with the Lambda runtime pinned to LAMBDA_RUNTIME: ``python infra/chalice_cli.py deploy ...``.

Chalice 1.34 derives the runtime from the local interpreter (3.11 here → python3.11, Amazon
Linux 2, glibc 2.26), but the chunker needs PyAV 18, whose wheels are manylinux_2_28 only.
python3.12 runs on Amazon Linux 2023 (glibc 2.34): with it Chalice's packager accepts the
``av`` wheel (abi3, so the cp311 build loads on 3.12) and the functions get a runtime that can
load it.

It also fixes a ``chalice package`` bug: the REST API's function is renamed ``ApiHandler`` →
``APIHandler`` in the SAM template, but its log group (present with ``log_retention_in_days``)
still names ``${ApiHandler}``, which CloudFormation rejects. ``chalice deploy`` is unaffected.
Everything else is plain Chalice.
"""
from __future__ import annotations

import sys
from pathlib import Path

LAMBDA_RUNTIME = "python3.12"
PROJECT_DIR = Path(__file__).resolve().parents[1]


def pin_runtime(runtime: str = LAMBDA_RUNTIME) -> None:
    """Make every Chalice ``Config`` report ``runtime`` as its Lambda Python version."""
    from chalice.config import Config

    Config.lambda_python_version = property(lambda self: runtime)


def fix_api_log_group() -> None:
    """Point the API handler's log group at ``APIHandler`` in ``chalice package`` output."""
    from chalice.package import SAMTemplateGenerator

    generate = SAMTemplateGenerator.generate
    if getattr(generate, "framefleet_fixed", False):
        return

    def fixed(self: SAMTemplateGenerator, resources: object) -> dict:
        template = generate(self, resources)
        group = template["Resources"].get("ApiHandlerLogGroup")
        if group and "APIHandler" in template["Resources"]:
            group["Properties"]["LogGroupName"] = {"Fn::Sub": "/aws/lambda/${APIHandler}"}
        return template

    fixed.framefleet_fixed = True
    SAMTemplateGenerator.generate = fixed


def main(argv: list[str] | None = None) -> int:
    import warnings

    from chalice.cli import main as chalice_main

    pin_runtime()
    fix_api_log_group()
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
