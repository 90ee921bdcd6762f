"""The worker loop's outcome handlers on fake stores: one test per outcome."""
from __future__ import annotations

import threading

import pytest

from chalicelib.model.errors import (
    InvalidMediaError,
    InvalidOptionsError,
    JobAbandoned,
    MediaError,
    MediaTimeoutError,
    StorageError,
    VerificationError,
)
from chalicelib.model.kinds import JobState, PartState, QueueName, Role, TaskKind, chunk_part, task_payload
from chalicelib.model.tasks import Task
from chalicelib.stores.services import Services
from tests.support.fakes import Fakes, fake_services
from workers import loop
from workers.cancel import Handler
from workers.loop import Worker


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Fakes:
    monkeypatch.setattr(loop, "retry_delay", lambda attempt: 0.0)
    return fake_services()


def encoding_job(fakes: Fakes) -> str:
    job_id = fakes.jobs.create({"owner": "alice", "filename": "a.mp4"})
    fakes.jobs.records[job_id]["state"] = JobState.ENCODING
    fakes.queues[QueueName.PROCESS].push(task_payload(job_id, TaskKind.CHUNK, 0))
    return job_id


def run_one(fakes: Fakes, handler: Handler, role: Role = Role.PROCESSOR) -> Worker:
    worker = Worker(fakes.services, role, {TaskKind.CHUNK: handler}, name="w1")
    task = worker.queue.pop(timeout=0)
    assert task is not None
    worker.execute(task)
    return worker


def test_success_acks_and_the_part_ran_on_this_worker(fakes: Fakes) -> None:
    job_id = encoding_job(fakes)
    seen: list[str] = []

    def handler(svc: Services, task: Task, cancel: threading.Event) -> None:
        seen.append(fakes.jobs.parts(job_id)[chunk_part(0)]["worker"])

    run_one(fakes, handler)
    assert seen == ["w1"] and fakes.queues[QueueName.PROCESS].acked == ["t0"]
    assert fakes.jobs.state(job_id) == JobState.ENCODING


@pytest.mark.parametrize("error", [
    InvalidMediaError("not a video"),
    VerificationError("3 frames, expected 4"),
    # ffmpeg rejecting the source or our own intermediates (sandbox.run: not retryable)
    MediaError("assembling output failed: input stream missing"),
    MediaError("encoding chunk 0 failed: crashed (segmentation fault)", retryable=False),
])
def test_a_deterministic_failure_fails_the_job_at_once(fakes: Fakes, error: Exception) -> None:
    job_id = encoding_job(fakes)

    def handler(svc: Services, task: Task, cancel: threading.Event) -> None:
        raise error

    run_one(fakes, handler)
    queue = fakes.queues[QueueName.PROCESS]
    assert fakes.jobs.get(job_id)["error"] == str(error) and fakes.jobs.state(job_id) == JobState.FAILED
    assert queue.acked == ["t0"] and queue.failed == [] and queue.ready == []


def test_a_bug_that_repeats_fails_the_job_at_once_without_its_details(fakes: Fakes) -> None:
    job_id = encoding_job(fakes)

    def handler(svc: Services, task: Task, cancel: threading.Event) -> None:
        raise InvalidOptionsError("options of job in bucket ff-secret")

    run_one(fakes, handler)
    assert fakes.jobs.state(job_id) == JobState.FAILED and "ff-secret" not in fakes.jobs.get(job_id)["error"]
    assert fakes.queues[QueueName.PROCESS].failed == []


@pytest.mark.parametrize("error", [
    MediaTimeoutError("encoding chunk 0 timed out after 300s"),
    MediaError("encoding chunk 0 failed: killed (possibly out of memory)", retryable=True),
    StorageError("S3 is unwell"),
    ConnectionError("Redis went away"),
])
def test_a_transient_failure_is_given_back_as_a_failed_attempt(fakes: Fakes, error: Exception) -> None:
    job_id = encoding_job(fakes)

    def handler(svc: Services, task: Task, cancel: threading.Event) -> None:
        raise error

    run_one(fakes, handler)
    queue = fakes.queues[QueueName.PROCESS]
    assert len(queue.failed) == 1 and len(queue.ready) == 1 and queue.acked == []
    assert fakes.jobs.state(job_id) == JobState.ENCODING
    assert fakes.jobs.parts(job_id)[chunk_part(0)]["state"] == PartState.RETRIED


def test_a_transient_failure_is_retried_then_fails_the_job_on_the_last_attempt(fakes: Fakes) -> None:
    job_id = encoding_job(fakes)

    def handler(svc: Services, task: Task, cancel: threading.Event) -> None:
        raise OSError("connection reset")

    worker = run_one(fakes, handler)
    queue = fakes.queues[QueueName.PROCESS]
    internal = "an internal error (OSError; the details are in the service's logs)"
    assert queue.failed == [("t0", internal)] and len(queue.ready) == 1
    part = fakes.jobs.parts(job_id)[chunk_part(0)]
    assert part["state"] == PartState.RETRIED and part["error"] == internal
    for _ in range(2):
        task = worker.queue.pop(timeout=0)
        assert task is not None
        worker.execute(task)
    assert fakes.jobs.state(job_id) == JobState.FAILED
    assert fakes.jobs.get(job_id)["error"] == f"chunk 0 failed after 3 attempts: {internal}"


def test_an_abandoned_task_is_acked_or_given_back_when_stopping(fakes: Fakes) -> None:
    job_id = encoding_job(fakes)

    def handler(svc: Services, task: Task, cancel: threading.Event) -> None:
        raise JobAbandoned("job cancelled")

    run_one(fakes, handler)
    queue = fakes.queues[QueueName.PROCESS]
    assert queue.acked == ["t0"] and queue.released == []
    queue.push(task_payload(job_id, TaskKind.CHUNK, 1))
    worker = Worker(fakes.services, Role.PROCESSOR, {TaskKind.CHUNK: handler}, name="w2")
    worker.abort.set()  # shutting down: the task goes back without spending an attempt
    task = worker.queue.pop(timeout=0)
    assert task is not None
    worker.execute(task)
    assert queue.released == [task.id] and queue.ready[0].attempt == 0


def test_a_task_of_a_finished_job_is_not_run(fakes: Fakes) -> None:
    job_id = encoding_job(fakes)
    fakes.jobs.cancel(job_id)
    ran: list[Task] = []
    run_one(fakes, lambda svc, task, cancel: ran.append(task))
    assert ran == [] and fakes.queues[QueueName.PROCESS].acked == ["t0"]


def test_each_role_drains_its_own_queue(fakes: Fakes) -> None:
    assert Worker(fakes.services, Role.ASSEMBLER, {}).queue is fakes.queues[QueueName.ASSEMBLE]
    assert Worker(fakes.services, Role.PROCESSOR, {}).queue is fakes.queues[QueueName.PROCESS]
