"""Helpers for tests against the running local stack."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from devstack.client import Client
from devstack.procs import Service
from devstack.stack import Stack
from tests.support.media import decode_report

T = TypeVar("T")


def submit(client: Client, path: Path, options: dict[str, Any] | None = None) -> str:
    """Create a job and upload ``path`` as a browser would; returns the job id."""
    job = client.create_job(path, options)
    client.upload(path, job)
    return str(job["job_id"])


def run_job(client: Client, path: Path, options: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    """Submit and wait for a final state."""
    return client.wait(submit(client, path, options), timeout=timeout)


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 60, interval: float = 0.05) -> T:
    """Poll ``probe`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def running_part(client: Client, job_id: str, prefix: str = "v", first_attempt: bool = False) -> dict | None:
    """Status of a part of ``job_id`` that is running right now (name starting with ``prefix``)."""
    parts = client.job(job_id).get("parts", {})
    for name, part in sorted(parts.items()):
        if name.startswith(prefix) and part.get("state") == "running":
            if not first_attempt or part.get("attempt") == 1:
                return {**part, "name": name}
    return None


def worker(stack: Stack, name: str) -> Service:
    """The worker process called ``name``."""
    return next(w for w in stack.workers if w.name == name)


def assert_frame_exact(client: Client, status: dict[str, Any], expected_frames: int, dest: Path) -> None:
    """Download a done job's output and check it decodes cleanly to exactly ``expected_frames``."""
    assert status["state"] == "done", status.get("error")
    client.download(status["output"]["url"], dest)
    frames, errors = decode_report(dest)
    assert frames == expected_frames and errors == "", (frames, errors)
