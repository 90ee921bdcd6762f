"""Soak: 20 jobs submitted at once on 2 processors while workers are killed at random.

Half the jobs of the first soak (40, 92 s of CI) in the same mix, killed at the same pace (a
running chunk's worker at each poll, every 1-3 s): 4 to 6 kills instead of 4 to 8, as the jobs
are done in about half the time."""
from __future__ import annotations

import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devstack.client import Client
from devstack.stack import Stack
from tests.support.media import CORPUS_FRAMES
from tests.support.stack import assert_frame_exact, submit, worker

MIX = (["sample.mp4"] * 10 + ["bbb_800x640_768kbps_30fps_avc_pyramid_3b.mp4"] * 6
       + ["sample_with_increasing_timestamps_320w_240h.mp4"] * 4)
KILLS = (4, 6)  # at least, at most
OPTIONS = {"x264_preset": "ultrafast", "chunk_seconds": 1.0}


@pytest.mark.soak
def test_soak_jobs_with_random_worker_kills(stack: Stack, media: Path, tmp_path: Path) -> None:
    from chalicelib.stores.services import get_services

    svc = get_services()
    client = Client(stack.api_url)
    rng = random.Random(20261129)
    with ThreadPoolExecutor(8) as pool:
        job_ids = list(pool.map(lambda name: submit(client, media / name, OPTIONS), MIX))
    kills, deadline = 0, time.monotonic() + 600
    while True:
        statuses = [client.job(j) for j in job_ids]
        if all(s["state"] in ("done", "failed", "cancelled") for s in statuses):
            break
        assert time.monotonic() < deadline, "soak did not finish"
        running = [(p["worker"], p) for s in statuses for name, p in s["parts"].items()
                   if name.startswith("v") and p.get("state") == "running" and p.get("attempt") == 1]
        if running and kills < KILLS[1]:
            name, _ = rng.choice(running)
            proc = worker(stack, name).proc
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
        stack.supervise()
        time.sleep(rng.uniform(1.0, 3.0))

    assert kills >= KILLS[0], "the soak must actually kill workers"
    for name, status in zip(MIX, statuses):
        assert_frame_exact(client, status, CORPUS_FRAMES[name], tmp_path / f"{status['job_id']}.mp4")
        for part in status["parts"].values():
            assert part.get("attempt", 1) <= svc.settings.max_attempts
    # Nothing left behind but the job records, and those expire.
    for queue in (svc.process_queue, svc.assemble_queue):
        assert queue.depth() == {"ready": 0, "inflight": 0, "dead": 0}
        for part in ("payload", "job", "attempts", "lease", "error"):
            assert svc.redis.hlen(queue.key(part)) == 0
    for job_id in job_ids:
        for key in svc.redis.scan_iter(match=f"{svc.settings.key_prefix}:job:{job_id}*"):
            assert key.endswith((job_id, ":parts", ":changes")), key  # :changes: the long polls' stream
            assert 0 < svc.redis.ttl(key) <= svc.settings.job_retention_seconds
    for key in svc.redis.scan_iter(match=f"{svc.settings.key_prefix}:q:*"):
        assert 0 < svc.redis.ttl(key) <= 3600, f"{key} would stay forever"
    listing = svc.storage.s3.list_objects_v2(Bucket=svc.settings.work_bucket, Prefix="work/")
    leftovers = [o["Key"] for o in listing.get("Contents", []) if o["Key"].split("/")[1] in job_ids]
    assert leftovers == []
