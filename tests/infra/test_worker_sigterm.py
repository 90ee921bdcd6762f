"""SIGTERM to real worker processes mid-task (Fargate Spot / ECS stop), on a real local stack:
Valkey, the moto server, the API and the chunker; the workers are started here, one at a time.

The guarantee: a stopped worker exits 0 and its task is either finished or back at the head of
the queue with its attempt refunded — never lost, never charged.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chalicelib.model.settings import Settings
from devstack.client import Client
from devstack.testsrc import make_synthetic_clip
from tests.support.stack import running_part, submit, wait_for

ROOT = Path(__file__).resolve().parents[2]
# 720p, 3 s chunks at x264 "slow": each chunk encodes for ~3-4 s on 2 cores, long enough to
# signal a worker in the middle of one.
OPTIONS = {"x264_preset": "slow", "chunk_seconds": 3.0}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Valkey + moto server + API + chunker, and no workers (each test starts its own)."""
    from devstack.stack import start_stack

    saved = os.environ.pop("REDIS_URL", None)
    settings = replace(Settings.from_env({}), lease_seconds=4.0, max_attempts=3, log_level="WARNING")
    stack = start_stack(workers=0, assemblers=0, home=tmp_path_factory.mktemp("sigterm-stack"), settings=settings)
    yield stack
    stack.close()
    if saved is not None:
        os.environ["REDIS_URL"] = saved


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sigterm-src") / "src-9s-720p.mp4"
    make_synthetic_clip(str(path), 9, width=1280, height=720)
    return path


@pytest.fixture(scope="module")
def svc(local: Any) -> Any:
    from chalicelib.stores.clients import make_redis
    from chalicelib.stores.services import build_services

    return build_services(local.settings, make_redis(local.settings.redis_url), None)


class WorkerProcess:
    """One worker process, as an ECS task runs it."""

    def __init__(self, local: Any, argv: list[str], log: Path, **env: str) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env={**local.worker_env(), **env},
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def signal(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"worker still running after {timeout} s:\n{self.log.read_text()[-3000:]}") from exc

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def cli_worker(local: Any, tmp_path: Path, name: str, role: str = "processor", **env: str) -> WorkerProcess:
    """A worker started by the one entry point the container and the local stack use."""
    return WorkerProcess(local, ["-m", "workers", "--role", role, "--name", name],
                         tmp_path / f"{name}.log", **env)


def task_of(svc: Any, job_id: str, part: str) -> str:
    """Id of the process-queue task of ``part`` of ``job_id``."""
    payloads = svc.redis.hgetall(svc.process_queue.key("payload"))
    for task_id, raw in payloads.items():
        if f'"job_id":"{job_id}"' in raw and (('"kind":"audio"' in raw) == (part == "audio")):
            if part == "audio" or f'"index":{int(part[1:])}' in raw:
                return str(task_id)
    raise AssertionError(f"no task for {job_id} {part}")


def attempts(svc: Any, task_id: str) -> int:
    return int(svc.redis.hget(svc.process_queue.key("attempts"), task_id) or 0)


def ready_ids(svc: Any) -> list[str]:
    return list(svc.redis.lrange(svc.process_queue.key("ready"), 0, -1))


def start_job(local: Any, source: Path) -> tuple[Client, str]:
    client = Client(local.api_url)
    job_id = submit(client, source, OPTIONS)
    wait_for(lambda: client.job(job_id)["state"] == "encoding", "encoding", timeout=60)
    return client, job_id


def running_chunk(client: Client, job_id: str) -> dict[str, Any]:
    return wait_for(lambda: running_part(client, job_id), "a running chunk", timeout=60)


def test_sigterm_finishes_the_current_task_then_exits_0(local: Any, source: Path, svc: Any,
                                                        tmp_path: Path) -> None:
    client, job_id = start_job(local, source)
    with cli_worker(local, tmp_path, "finisher") as worker:
        part = running_chunk(client, job_id)
        task_id = task_of(svc, job_id, part["name"])
        others = ready_ids(svc)
        worker.signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    status = client.job(job_id)
    assert status["parts"][part["name"]]["state"] == "done", status["parts"][part["name"]]
    assert status["parts"][part["name"]]["attempt"] == 1
    assert svc.process_queue.depth()["inflight"] == 0
    assert task_id not in ready_ids(svc)
    # It took nothing new after the signal: the rest of the job is still queued, untouched.
    assert ready_ids(svc) == others and all(attempts(svc, t) == 0 for t in others)
    client.cancel(job_id)


def test_second_sigterm_gives_the_task_back_without_spending_an_attempt(
        local: Any, source: Path, svc: Any, tmp_path: Path) -> None:
    client, job_id = start_job(local, source)
    with cli_worker(local, tmp_path, "releaser") as worker:
        part = running_chunk(client, job_id)
        task_id = task_of(svc, job_id, part["name"])
        worker.signal(signal.SIGTERM)
        time.sleep(0.3)
        worker.signal(signal.SIGTERM)
        started = time.monotonic()
        assert worker.wait(30) == 0
        stopped_in = time.monotonic() - started
    assert stopped_in < 10, f"an aborted chunk should stop within a heartbeat, took {stopped_in:.1f} s"
    assert ready_ids(svc)[0] == task_id, "released to the head of the queue"
    assert attempts(svc, task_id) == 0, "the interrupted attempt is refunded"
    assert svc.process_queue.depth()["inflight"] == 0
    assert client.job(job_id)["state"] == "encoding"
    # Not lost: a fresh processor and an assembler finish the job, the chunk on its first charged attempt.
    with cli_worker(local, tmp_path, "successor") as successor, \
            cli_worker(local, tmp_path, "assembler", role="assembler") as assembler:
        status = client.wait(job_id, timeout=180)
        for proc in (successor, assembler):
            proc.signal(signal.SIGTERM)
            assert proc.wait(60) == 0
    assert status["state"] == "done", status.get("error")
    assert status["parts"][part["name"]]["attempt"] == 1


def test_entrypoint_gives_the_task_back_before_sigkill(local: Any, source: Path, svc: Any,
                                                               tmp_path: Path) -> None:
    """ECS sends one SIGTERM; past the grace period the entry point releases the task itself."""
    client, job_id = start_job(local, source)
    with cli_worker(local, tmp_path, "ecs-task", FRAMEFLEET_STOP_GRACE_SECONDS="0.5") as worker:
        part = running_chunk(client, job_id)
        task_id = task_of(svc, job_id, part["name"])
        worker.signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    assert ready_ids(svc)[0] == task_id and attempts(svc, task_id) == 0
    assert client.job(job_id)["parts"][part["name"]]["state"] != "done"
    assert svc.process_queue.depth()["inflight"] == 0
    assert "stop grace over" in (tmp_path / "ecs-task.log").read_text()
    client.cancel(job_id)


def test_sigterm_while_idle_takes_no_new_task(local: Any, svc: Any, tmp_path: Path) -> None:
    """A task that arrives after the signal, while the worker waits for work, stays queued."""
    with cli_worker(local, tmp_path, "idler", FRAMEFLEET_LOG_LEVEL="INFO") as worker:
        wait_for(lambda: "worker started" in worker.log.read_text(), "the worker to start", timeout=30)
        time.sleep(0.3)  # inside its polling loop
        worker.signal(signal.SIGTERM)
        task_id = svc.process_queue.push({"job_id": "no-such-job", "kind": "audio"})
        assert worker.wait(30) == 0
    try:
        assert task_id in ready_ids(svc) and attempts(svc, task_id) == 0
    finally:
        svc.process_queue.drop([task_id], include_dead=True)
