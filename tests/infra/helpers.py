"""Paths, the parsed template and the dev tools that the infra tests share."""
from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
# The stack deploy.sh makes first: the bucket the main template is uploaded through.
BOOTSTRAP = ROOT / "infra" / "bootstrap.yaml"
CHALICE_CONFIG: dict[str, Any] = json.loads((ROOT / ".chalice" / "config.json").read_text())
VENV_BIN = Path(sys.executable).parent
# checkov pins boto3 1.35, the project 1.44: it lives in its own venv (make infra-tools).
CHECKOV_VENV = ROOT / ".venv" / "checkov"
# The playback distribution's viewer-request function (CloudFront Functions, cloudfront-js-2.0).
PLAYBACK_FUNCTION = ROOT / "infra" / "playback" / "viewer_request.js"


def inline_copy(source: str | None = None) -> str:
    """What template.yaml's FunctionCode must be: the function without its comment-only lines
    (the comments stay in the file; the template gets the code only)."""
    text = PLAYBACK_FUNCTION.read_text() if source is None else source
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("//"))


@functools.lru_cache(maxsize=2)
def template(path: Path = TEMPLATE) -> dict[str, Any]:
    """A template (infra/template.yaml by default) as CloudFormation reads it (short-form tags
    expanded, GetAtt split once)."""
    import cfnlint.decode

    decoded, problems = cfnlint.decode.decode(str(path))
    assert not problems, problems
    return json.loads(json.dumps(decoded))


def tool(name: str, *candidates: Path) -> str:
    """Path of a dev tool; skipped when missing, unless FRAMEFLEET_REQUIRE_INFRA_TOOLS is set (make test)."""
    for path in (*candidates, VENV_BIN / name):
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (make infra-tools)"
    if os.environ.get("FRAMEFLEET_REQUIRE_INFRA_TOOLS"):
        pytest.fail(message)
    pytest.skip(message)
