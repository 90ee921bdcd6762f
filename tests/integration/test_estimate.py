"""The estimate on the real local stack: every job carries one after probing, counted on the
processors actually running, and the actual figures next to it once done."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib.model.kinds import Role
from devstack.client import Client
from devstack.stack import Stack
from tests.support.stack import run_job, submit, wait_for

SOURCE = "sample_with_increasing_timestamps_320w_240h.mp4"  # 15.5 s, 60 fps, audio: several tasks
FAST = {"x264_preset": "ultrafast", "max_height": 240}


def processors(stack: Stack) -> int:
    return sum(1 for w in stack.workers if w.name.startswith(Role.PROCESSOR) and w.alive())


def registered(stack: Stack) -> int:
    """The processors in the presence registry, once every running one is (a worker joins it at its
    first loop, a second or two after it starts)."""
    from chalicelib.stores.services import get_services

    fleet = get_services().fleet
    assert fleet is not None
    return wait_for(lambda: (n := len(fleet.seen(Role.PROCESSOR, stack.settings.worker_seen_seconds))) ==
                    processors(stack) and n, "the processors to register", timeout=60)


def estimated(client: Client, job_id: str) -> dict[str, Any]:
    """The job's view once it has left probing (the estimate is made at the end of it)."""
    def planned() -> dict[str, Any] | None:
        view = client.job(job_id)
        return None if view["state"] in ("awaiting_upload", "queued", "probing") else view

    return wait_for(planned, "the job to be planned", timeout=120)


def test_a_job_carries_an_estimate_after_probing_and_the_actual_once_done(stack: Stack, media: Path) -> None:
    client = Client(stack.api_url, stack.api_key)
    registered(stack)
    job_id = submit(client, media / SOURCE, FAST)
    view = estimated(client, job_id)
    estimate = view["estimate"]
    basis = estimate["basis"]
    assert basis["fleet"] == "local" and basis["workers"] == basis["workers_running"] == processors(stack)
    assert basis["assemblers"] == 1 and basis["cores"] > 0
    assert basis["work"]["tasks"] == view["progress"]["chunks_total"] + 1  # the chunks and the audio
    assert estimate["ready_in_seconds"] > 0 and estimate["cost_usd"] > 0 and view["actual"] is None
    assert "Fargate" in basis["summary"] and "$0.04048/vCPU-h" in basis["price"]
    done = client.wait(job_id, timeout=300)
    assert done["state"] == "done" and done["estimate"] == estimate
    actual = done["actual"]
    assert 0 < actual["ready_in_seconds"] < 120 and actual["cost_usd"] > 0
    listed = next(j for j in client._call("GET", "/jobs", params={"limit": 20})["jobs"] if j["job_id"] == job_id)
    assert listed["actual"] == {"ready_in_seconds": actual["ready_in_seconds"], "cost_usd": None}


def test_the_estimate_counts_the_processors_running_now(stack: Stack, media: Path) -> None:
    client = Client(stack.api_url, stack.api_key)
    before = registered(stack)
    extra = stack.start_worker(Role.PROCESSOR)
    try:
        # The new worker is in the registry once it beats (its first loop, a second or two after start).
        def counted() -> str | None:
            job = submit(client, media / SOURCE, FAST)
            return job if estimated(client, job)["estimate"]["basis"]["workers"] == before + 1 else None

        job_id = wait_for(counted, "the new processor to be counted", timeout=120, interval=1.0)
        assert client.wait(job_id, timeout=300)["state"] == "done"
    finally:
        extra.stop()
        stack.workers.remove(extra)
    # A worker that stops leaves the registry at once.
    job = run_job(client, media / SOURCE, FAST)
    assert job["state"] == "done" and job["estimate"]["basis"]["workers"] == before == processors(stack)
