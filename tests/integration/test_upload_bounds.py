"""Uploads are bounded and the source cannot change after it is checked (live stack)."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from devstack.client import Client
from devstack.stack import Stack
from tests.support.media import decode_report
from tests.support.stack import submit, wait_for


def _services() -> Any:
    from chalicelib.stores.services import get_services

    return get_services()


def _versions(stack: Stack, key: str) -> list[str]:
    listed = _services().storage.s3.list_object_versions(Bucket=stack.settings.upload_bucket, Prefix=key)
    return [v["VersionId"] for v in listed.get("Versions", [])] + [m["VersionId"] for m in
                                                                   listed.get("DeleteMarkers", [])]


def test_a_second_upload_after_probing_changes_nothing(stack: Stack, media: Path, tmp_path: Path) -> None:
    client = Client(stack.api_url)
    source = media / "sample_with_increasing_timestamps_320w_240h.mp4"  # 932 frames
    job_id = submit(client, source, {"x264_preset": "veryslow", "chunk_seconds": 1.0})
    wait_for(lambda: client.job(job_id)["state"] in ("encoding", "assembling", "done", "failed"), "planning")
    key = _services().jobs.get(job_id)["source_key"]
    # An attacker (or a buggy client) with a still-valid upload URL sends another video to the key.
    _services().storage.s3.put_object(Bucket=stack.settings.upload_bucket, Key=key,
                                      Body=(media / "sample.mp4").read_bytes(), ContentType="video/mp4")
    status = client.wait(job_id, timeout=240)
    assert status["state"] == "done", status.get("error")
    out = tmp_path / "out.mp4"
    client.download(status["output"]["url"], out)
    assert decode_report(out) == (932, "")  # the probed video, not the one sent later


def test_parallel_creates_cannot_pass_the_concurrent_job_limit(stack: Stack) -> None:
    key = _services().keys.create("racer", "limit race", {"max_active_jobs": 5})
    body = {"filename": "r.mp4", "size": 10, "content_type": "video/mp4"}

    def create(_: int) -> int:
        return requests.post(f"{stack.api_url}/jobs", json=body, headers={"X-Api-Key": key}, timeout=30).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(create, range(40)))
    assert sorted(codes) == [201] * 5 + [429] * 35


def test_a_multipart_upload_must_add_up_to_the_declared_size(stack: Stack, media: Path) -> None:
    client = Client(stack.api_url)
    data = (media / "sample.mp4").read_bytes()
    job = client.create_job(media / "sample.mp4")
    job_id = job["job_id"]
    upload = client._call("POST", f"/jobs/{job_id}/multipart")
    assert upload["parts"] == 1
    signed = client._call("GET", f"/jobs/{job_id}/multipart/{upload['upload_id']}/parts/1")
    assert signed["content_length"] == len(data)
    # The URL signs the length (S3 refuses another; moto does not check signatures at all).
    assert "content-length" in parse_qs(urlparse(signed["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
    put = requests.put(signed["url"], data=data + b"padding", timeout=60)
    etag = put.headers["ETag"]
    resp = requests.post(f"{stack.api_url}/jobs/{job_id}/multipart/{upload['upload_id']}/complete",
                         json={"parts": [{"PartNumber": 1, "ETag": etag}]}, headers=client.api_headers, timeout=30)
    assert resp.status_code == 400 and f"add up to {len(data) + 7} bytes" in resp.json()["error"]
    assert client.job(job_id)["state"] == "awaiting_upload"
    beyond = requests.get(f"{stack.api_url}/jobs/{job_id}/multipart/{upload['upload_id']}/parts/2",
                          headers=client.api_headers, timeout=30)
    assert beyond.status_code == 400 and "no part 2" in beyond.json()["error"]


def test_a_source_of_another_size_is_rejected_and_deleted(stack: Stack, media: Path) -> None:
    client = Client(stack.api_url)
    job = client.create_job(media / "sample.mp4")
    bigger = (media / "sample_video_only.mp4").read_bytes()
    _services().storage.s3.put_object(Bucket=stack.settings.upload_bucket, Key=job["key"], Body=bigger)
    status = client.wait(job["job_id"], timeout=60)
    assert status["state"] == "failed" and "but the job was created for" in status["error"]
    deadline = time.monotonic() + 10
    while _versions(stack, job["key"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _versions(stack, job["key"]) == []  # no version left behind, not even a delete marker
