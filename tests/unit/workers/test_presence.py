"""Workers keep their entry in the presence registry fresh: each loop, during long tasks, gone on stop."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import replace

import pytest

from chalicelib.model.estimate import Outcome, QueuedWork, WorkerSeen
from chalicelib.model.kinds import JobState, QueueName, Role, TaskKind, task_payload
from chalicelib.model.tasks import Task
from chalicelib.stores.services import Services
from tests.support.fakes import fake_services
from workers import loop
from workers.loop import Worker


class RecordingFleet:
    """Records what the worker tells the registry (``fail``: every call raises, as Redis down)."""

    def __init__(self, fail: bool = False) -> None:
        self.beats: list[tuple[str, str, float, str]] = []
        self.left: list[tuple[str, str]] = []
        self.fail = fail

    def beat(self, role: str, name: str, cpus: float, host: str) -> None:
        if self.fail:
            raise ConnectionError("redis down")
        self.beats.append((role, name, cpus, host))

    def leave(self, role: str, name: str) -> None:
        if self.fail:
            raise ConnectionError("redis down")
        self.left.append((role, name))

    def seen(self, role: str, within: float) -> list[WorkerSeen]:
        return []

    def work_ahead(self) -> list[QueuedWork]:
        return []

    def remember(self, job_id: str) -> None:
        del job_id

    def outcomes(self) -> list[Outcome]:
        return []


def worker_with(fleet: RecordingFleet, lease_seconds: float = 120.0) -> tuple[Worker, Services]:
    fakes = fake_services()
    svc = replace(fakes.services, fleet=fleet, settings=replace(fakes.services.settings, lease_seconds=lease_seconds))
    return Worker(svc, Role.PROCESSOR, {}, name="processor-7"), svc


def run_briefly(worker: Worker, seconds: float) -> None:
    threading.Timer(seconds, worker.stop.set).start()
    worker.run()


def test_a_running_worker_beats_with_its_cores_and_machine_and_leaves_when_it_stops(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop, "BEAT_SECONDS", 0.05)
    fleet = RecordingFleet()
    worker, _ = worker_with(fleet)
    run_briefly(worker, 0.3)
    assert fleet.beats and set(fleet.beats) == {("processor", "processor-7", len(os.sched_getaffinity(0)),
                                                 loop.host_id())}
    assert fleet.left == [("processor", "processor-7")]
    assert loop.host_id() == loop.host_id() and len(loop.host_id()) == 12


def test_beats_are_spaced_by_beat_seconds() -> None:
    fleet = RecordingFleet()
    worker, _ = worker_with(fleet)
    for _ in range(5):
        worker.beat()
    assert len(fleet.beats) == 1


def test_a_long_task_keeps_beating_from_the_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop, "BEAT_SECONDS", 0.05)
    fleet = RecordingFleet()
    worker, svc = worker_with(fleet, lease_seconds=0.8)  # heartbeat every 0.2 s
    job_id = svc.jobs.create({"owner": "alice", "filename": "a.mp4"})
    svc.jobs.transition(job_id, [JobState.AWAITING_UPLOAD], JobState.ENCODING)

    def slow(svc: Services, task: Task, cancel: threading.Event) -> None:
        time.sleep(1.0)

    worker.handlers[TaskKind.CHUNK] = slow
    svc.queues[QueueName.PROCESS].push(task_payload(job_id, TaskKind.CHUNK, 0))
    task = worker.queue.pop(timeout=0)
    assert task is not None
    worker.execute(task)
    assert len(fleet.beats) >= 3


def test_a_registry_outage_does_not_stop_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop, "BEAT_SECONDS", 0.05)
    worker, _ = worker_with(RecordingFleet(fail=True))
    run_briefly(worker, 0.2)  # returns: the failures were logged, not raised
