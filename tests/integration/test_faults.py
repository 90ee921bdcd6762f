"""Faults injected into the real local stack: every job ends `done` and frame-exact, or `failed`
with a reason — never stuck, never silently wrong."""
from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from devstack.client import Client
from devstack.stack import Stack
from tests.support.media import CORPUS_FRAMES
from tests.support.stack import assert_frame_exact, running_part, submit, wait_for, worker

# Chunks last long enough to hit mid-way; one rung, so a lone surviving worker gets through the
# backlog (the stream's segments and playlists are still written, and the MP4 remuxed from them).
SLOW = {"x264_preset": "veryslow", "chunk_seconds": 2.0, "ladder": [{"height": 240}]}
VFR = "sample_with_increasing_timestamps_360p.mp4"


@pytest.fixture
def client(stack: Stack) -> Client:
    yield Client(stack.api_url)
    stack.supervise()  # whatever a test killed is replaced, as ECS replaces stopped tasks


def _attempts_within_limit(stack: Stack, status: dict[str, Any]) -> None:
    for name, part in status["parts"].items():
        assert part.get("attempt", 1) <= stack.settings.max_attempts, name


def _work_files(stack: Stack, job_id: str) -> list[str]:
    from chalicelib.stores.services import get_services

    svc = get_services()
    listing = svc.storage.s3.list_objects_v2(Bucket=svc.settings.work_bucket, Prefix=f"work/{job_id}/")
    return [o["Key"] for o in listing.get("Contents", [])]


def test_processors_killed_repeatedly(stack: Stack, client: Client, media: Path, tmp_path: Path) -> None:
    source = media / "sample_with_increasing_timestamps_320w_240h.mp4"
    job_id = submit(client, source, {"x264_preset": "veryslow", "chunk_seconds": 1.0})
    killed = []
    for _ in range(3):
        victim = wait_for(lambda: running_part(client, job_id, first_attempt=True), "a running chunk")
        proc = worker(stack, victim["worker"]).proc
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed.append(victim["name"])
        stack.supervise()
    status = client.wait(job_id, timeout=300)
    assert_frame_exact(client, status, CORPUS_FRAMES[source.name], tmp_path / "out.mp4")
    assert all(status["parts"][name]["attempt"] >= 2 for name in killed)
    _attempts_within_limit(stack, status)


def test_assembler_killed_mid_assembly(stack: Stack, client: Client, media: Path, tmp_path: Path) -> None:
    source = media / "sample_with_increasing_timestamps_320w_240h.mp4"
    for _ in range(3):  # assembly is quick: retry if it finished before we could stop it
        job_id = submit(client, source, {"x264_preset": "ultrafast", "chunk_seconds": 1.0})
        victim = wait_for(lambda job_id=job_id: running_part(client, job_id, prefix="assembly")
                          or client.job(job_id)["state"] in ("done", "failed"), "assembly to start",
                          interval=0.01)
        if isinstance(victim, dict):
            proc = worker(stack, victim["worker"]).proc
            proc.send_signal(signal.SIGSTOP)  # frozen mid-assembly …
            if client.job(job_id)["state"] == "assembling":
                proc.send_signal(signal.SIGKILL)  # … then killed
                proc.wait()
                break
            proc.send_signal(signal.SIGCONT)
    else:
        pytest.fail("never caught the assembler mid-assembly")
    stack.supervise()
    status = client.wait(job_id, timeout=120)
    assert status["parts"]["assembly"]["attempt"] >= 2
    assert_frame_exact(client, status, CORPUS_FRAMES[source.name], tmp_path / "out.mp4")
    assert _work_files(stack, job_id) == []


def test_stalled_worker_late_result_is_ignored(stack: Stack, client: Client, media: Path, tmp_path: Path) -> None:
    job_id = submit(client, media / VFR, SLOW)
    victim = wait_for(lambda: running_part(client, job_id, first_attempt=True), "a running chunk")
    proc = worker(stack, victim["worker"]).proc
    proc.send_signal(signal.SIGSTOP)
    try:
        # Past its lease: another worker takes the chunk over.
        wait_for(lambda: client.job(job_id)["parts"][victim["name"]].get("attempt", 1) >= 2,
                 "the stalled chunk to be re-issued", timeout=60)
    finally:
        proc.send_signal(signal.SIGCONT)
    status = client.wait(job_id, timeout=300)
    assert_frame_exact(client, status, CORPUS_FRAMES[VFR], tmp_path / "out.mp4")
    # The late finisher's upload is its own key and is removed when its completion is refused.
    wait_for(lambda: _work_files(stack, job_id) == [], "no work files left", timeout=60)
    _attempts_within_limit(stack, status)


def test_redis_restart_mid_job(stack: Stack, client: Client, media: Path, tmp_path: Path) -> None:
    assert stack.valkey is not None and stack.valkey.appendonly
    job_id = submit(client, media / VFR, SLOW)
    wait_for(lambda: running_part(client, job_id), "a running chunk")
    stack.valkey.restart()  # SIGTERM (AOF flushed), then the same port and data again
    status = client.wait(job_id, timeout=300)
    assert_frame_exact(client, status, CORPUS_FRAMES[VFR], tmp_path / "out.mp4")


def test_s3_unreachable_for_10_seconds_mid_job(stack: Stack, client: Client, media: Path, tmp_path: Path) -> None:
    job_id = submit(client, media / VFR, SLOW)
    wait_for(lambda: running_part(client, job_id), "a running chunk")
    stack.s3_proxy.cut(10)
    started = time.monotonic()
    status = client.wait(job_id, timeout=300)
    assert time.monotonic() - started > 5, "the job must have lived through the outage"
    assert_frame_exact(client, status, CORPUS_FRAMES[VFR], tmp_path / "out.mp4")


def _send_event(event_name: str, key: str) -> None:
    from chalicelib.stores.clients import get_sqs
    from chalicelib.stores.services import get_services

    settings = get_services().settings
    sqs = get_sqs()
    url = sqs.get_queue_url(QueueName=settings.upload_queue)["QueueUrl"]
    body = {"Records": [{"eventName": event_name, "s3": {"bucket": {"name": settings.upload_bucket},
                                                         "object": {"key": key}}}]}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


def test_event_for_an_object_that_is_gone_fails_the_job(client: Client, media: Path) -> None:
    job = client.create_job(media / "sample.mp4")
    _send_event("ObjectCreated:Put", job["key"])  # never uploaded (or deleted since)
    status = wait_for(lambda: (s := client.job(job["job_id"]))["state"] == "failed" and s, "the job to fail",
                      timeout=30)
    assert "gone" in status["error"]


def test_out_of_order_and_repeated_events_change_nothing(client: Client, media: Path) -> None:
    job_id = submit(client, media / "sample.mp4", {"x264_preset": "ultrafast"})
    status = client.wait(job_id, timeout=120)
    assert status["state"] == "done"
    key = f"uploads/{job_id}/source.mp4"
    for name in ("ObjectRemoved:Delete", "ObjectCreated:Put", "ObjectCreated:CompleteMultipartUpload"):
        _send_event(name, key)
    time.sleep(3)
    again = client.job(job_id)
    assert again["state"] == "done" and again["updated_at"] == status["updated_at"]
