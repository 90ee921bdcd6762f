"""Access control on the live stack: API keys, owners, per-owner limits, presigned URL bounds."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from devstack.client import ApiError, Client
from devstack.stack import Stack
from tests.support.stack import run_job, submit

ROUTES = [("POST", "/jobs"), ("GET", "/jobs"), ("GET", "/jobs/{id}"), ("DELETE", "/jobs/{id}"),
          ("POST", "/jobs/{id}/cancel"), ("POST", "/jobs/{id}/multipart"), ("GET", "/jobs/{id}/multipart/u"),
          ("DELETE", "/jobs/{id}/multipart/u"), ("GET", "/jobs/{id}/multipart/u/parts/1"),
          ("POST", "/jobs/{id}/multipart/u/complete")]


def _services() -> Any:
    from chalicelib.stores.services import get_services

    return get_services()


def _key(owner: str, **limits: float) -> str:
    return str(_services().keys.create(owner, "test", limits))


@pytest.fixture(scope="module")
def alice_job(stack: Stack, media: Path) -> str:
    """A finished job owned by the stack's local owner."""
    status = run_job(Client(stack.api_url), media / "sample.mp4", {"x264_preset": "ultrafast"})
    assert status["state"] == "done"
    return str(status["job_id"])


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "ffk_nope_nope"}, {"Authorization": "Bearer garbage"}])
def test_every_route_but_health_needs_a_valid_key(stack: Stack, alice_job: str, headers: dict) -> None:
    for method, path in ROUTES:
        resp = requests.request(method, stack.api_url + path.format(id=alice_job), headers=headers, json={},
                                timeout=10)
        assert resp.status_code == 401, (method, path, resp.status_code)
        assert "API key" in resp.json()["error"] and "Traceback" not in resp.text
    assert requests.get(f"{stack.api_url}/health", timeout=10).status_code == 200


def test_bearer_header_works_too(stack: Stack, alice_job: str) -> None:
    resp = requests.get(f"{stack.api_url}/jobs/{alice_job}", headers={"Authorization": f"Bearer {stack.api_key}"},
                        timeout=10)
    assert resp.status_code == 200


def test_another_owners_job_is_a_404_everywhere(stack: Stack, alice_job: str) -> None:
    mallory = {"X-Api-Key": _key("mallory")}
    for method, path in ROUTES[2:]:
        resp = requests.request(method, stack.api_url + path.format(id=alice_job), headers=mallory,
                                json={"parts": [{"PartNumber": 1, "ETag": "x"}]}, timeout=10)
        assert resp.status_code == 404, (method, path, resp.status_code)
    listing = requests.get(f"{stack.api_url}/jobs", headers=mallory, timeout=10).json()
    assert alice_job not in [j["job_id"] for j in listing["jobs"]]
    # … and Alice's job is untouched.
    assert Client(stack.api_url).job(alice_job)["state"] == "done"


def test_revoked_key_is_refused_and_keys_are_hashed_at_rest(stack: Stack) -> None:
    key = _key("carol")
    client = Client(stack.api_url, key)
    assert client._call("GET", "/jobs")["jobs"] == []
    key_id = key.split("_")[1]
    svc = _services()
    dump = " ".join(f"{k} {v}" for k, v in svc.redis.hgetall(svc.keys.by_hash).items())
    assert key not in dump and key.split("_", 2)[2] not in dump
    svc.keys.revoke(key_id)
    with pytest.raises(ApiError, match="401"):
        client._call("GET", "/jobs")


def test_limits_per_owner_are_enforced_before_upload(stack: Stack, media: Path) -> None:
    client = Client(stack.api_url, _key("dave", max_active_jobs=2, max_upload_bytes=200_000,
                                       max_duration_seconds=5, max_pixels=640 * 480))
    small = media / "sample.mp4"  # 101 674 bytes
    with pytest.raises(ApiError, match="400.*200000"):
        client.create_job(media / "sample_with_increasing_timestamps_320w_240h.mp4")
    body = {"filename": "a.mp4", "size": 1000, "content_type": "video/mp4"}
    with pytest.raises(ApiError, match="400.*limit"):
        client._call("POST", "/jobs", json={**body, "duration": 3600})
    with pytest.raises(ApiError, match="400.*resolution"):
        client._call("POST", "/jobs", json={**body, "width": 1920, "height": 1080})
    client.create_job(small)
    client.create_job(small)
    with pytest.raises(ApiError, match="429.*2 jobs in progress"):
        client.create_job(small)


def test_owner_limits_are_enforced_on_the_real_file_too(stack: Stack, media: Path) -> None:
    client = Client(stack.api_url, _key("erin", max_duration_seconds=5))
    status = run_job(client, media / "sample_with_increasing_timestamps_360p.mp4", {"x264_preset": "ultrafast"})
    assert status["state"] == "failed" and "over the 5 s limit" in status["error"]


def test_presigned_urls_are_bounded(stack: Stack, media: Path, alice_job: str) -> None:
    client = Client(stack.api_url)
    source = media / "sample.mp4"
    job = client.create_job(source)
    policy = json.loads(base64.b64decode(job["upload"]["fields"]["policy"]))
    expires = time.mktime(time.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime())
    assert 0 < expires <= 15 * 60 + 5
    size = source.stat().st_size
    assert {"key": f"uploads/{job['job_id']}/source.mp4"} in policy["conditions"]
    assert ["content-length-range", size, size] in policy["conditions"]
    assert {"Content-Type": "video/mp4"} in policy["conditions"]
    part = client._call("POST", f"/jobs/{job['job_id']}/multipart")
    url = client._call("GET", f"/jobs/{job['job_id']}/multipart/{part['upload_id']}/parts/1")["url"]
    query = parse_qs(urlparse(url).query)
    assert int(query["X-Amz-Expires"][0]) <= 900 and urlparse(url).path.endswith(f"uploads/{job['job_id']}/source.mp4")
    download = client.job(alice_job)["output"]["url"]
    assert int(parse_qs(urlparse(download).query)["X-Amz-Expires"][0]) == stack.settings.download_url_expiry == 3600


def test_keys_cli_creates_lists_and_revokes(stack: Stack) -> None:
    env = {**os.environ, "REDIS_URL": stack.settings.redis_url}

    def cli(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "devstack.cli", "keys", *args], env=env, capture_output=True,
                              text=True, timeout=60, check=True)
        return proc.stdout.strip()

    key = cli("create", "--owner", "frank", "--max-active-jobs", "3")
    assert key.startswith("ffk_")
    records = [json.loads(line) for line in cli("list").splitlines()]
    mine = [r for r in records if r["owner"] == "frank"]
    assert mine and mine[0]["limits"] == {"max_active_jobs": 3} and key not in json.dumps(records)
    assert requests.get(f"{stack.api_url}/jobs", headers={"X-Api-Key": key}, timeout=10).status_code == 200
    cli("revoke", mine[0]["id"])
    assert requests.get(f"{stack.api_url}/jobs", headers={"X-Api-Key": key}, timeout=10).status_code == 401


def test_other_owners_jobs_are_isolated_from_cancel(stack: Stack, media: Path) -> None:
    mine = Client(stack.api_url)
    job_id = submit(mine, media / "sample.mp4", {"x264_preset": "ultrafast"})
    with pytest.raises(ApiError, match="404"):
        Client(stack.api_url, _key("grace")).cancel(job_id)
    assert mine.wait(job_id, timeout=120)["state"] == "done"
