"""The presence registry and the work queued ahead, against a real Valkey server."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from chalicelib.model.estimate import QueuedWork, WorkerSeen
from chalicelib.model.kinds import Role
from chalicelib.stores import fleet as fleet_module
from chalicelib.stores.clients import make_redis
from chalicelib.stores.fleet import FleetRegistry
from chalicelib.stores.jobs import JobStore
from chalicelib.stores.queue import PUSH_LUA, ReliableQueue


class Fixture:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r
        self.prefix = f"t{uuid.uuid4().hex[:8]}"
        self.process = ReliableQueue(r, "process", prefix=self.prefix, lease_seconds=30)
        assemble = ReliableQueue(r, "assemble", prefix=self.prefix, lease_seconds=30)
        self.jobs = JobStore(r, self.prefix, 3600, PUSH_LUA, self.process.push_keys(), assemble.push_keys())
        self.fleet = FleetRegistry(r, self.prefix, self.process.key, self.jobs.key)


@pytest.fixture
def fx(redis_url: str) -> Iterator[Fixture]:
    r = make_redis(redis_url)
    yield Fixture(r)
    r.close()


def test_workers_count_while_they_beat_and_not_once_they_leave_or_go_quiet(fx: Fixture) -> None:
    fx.fleet.beat(Role.PROCESSOR, "processor-0", 2, "host-a")
    fx.fleet.beat(Role.PROCESSOR, "processor-1", 2, "host-a")
    fx.fleet.beat(Role.ASSEMBLER, "assembler-0", 4, "host-b")
    seen = sorted(fx.fleet.seen(Role.PROCESSOR, 15), key=lambda w: w.name)
    assert seen == [WorkerSeen("processor-0", 2.0, "host-a"), WorkerSeen("processor-1", 2.0, "host-a")]
    assert fx.fleet.seen(Role.ASSEMBLER, 15) == [WorkerSeen("assembler-0", 4.0, "host-b")]
    fx.fleet.leave(Role.PROCESSOR, "processor-1")
    assert [w.name for w in fx.fleet.seen(Role.PROCESSOR, 15)] == ["processor-0"]
    time.sleep(1.2)  # a worker that stopped beating (died) drops out of the window
    fx.fleet.beat(Role.PROCESSOR, "processor-2", 2, "host-a")
    assert [w.name for w in fx.fleet.seen(Role.PROCESSOR, 1.0)] == ["processor-2"]
    assert {w.name for w in fx.fleet.seen(Role.PROCESSOR, 15)} == {"processor-0", "processor-2"}


def test_entries_unseen_for_a_day_are_forgotten_by_the_next_beat(fx: Fixture) -> None:
    zset, info = f"{fx.prefix}:workers:processor", f"{fx.prefix}:workers:processor:info"
    fx.r.zadd(zset, {"ghost": time.time() - 2 * 86400})
    fx.r.hset(info, "ghost", json.dumps({"cpus": 2, "host": "gone"}))
    fx.fleet.beat(Role.PROCESSOR, "processor-0", 2, "host-a")
    assert fx.r.zrange(zset, 0, -1) == ["processor-0"] and fx.r.hkeys(info) == ["processor-0"]
    assert fleet_module.FORGET_SECONDS == 86400


def job_with_tasks(fx: Fixture, tasks: int, estimate: dict[str, Any] | None) -> tuple[str, list[str]]:
    job_id = fx.jobs.create({"owner": "alice", "filename": "a.mp4", "size": 10, "source_key": "uploads/x/s.mp4"})
    if estimate is not None:
        fx.jobs.update(job_id, estimate=estimate)
    ids = fx.process.push_many([{"job_id": job_id, "kind": "chunk", "index": i} for i in range(tasks)])
    return job_id, ids


def test_work_ahead_counts_each_jobs_ready_and_running_tasks_with_its_estimate(fx: Fixture) -> None:
    assert fx.fleet.work_ahead() == []
    stored = {"basis": {"work": {"tasks": 4, "cpu_seconds": 8.0, "fixed_seconds": 2.0}}}
    first, _ = job_with_tasks(fx, 4, stored)
    job_with_tasks(fx, 3, None)
    running = fx.process.pop(timeout=0)  # the first job's first task is in flight
    assert running is not None and running.payload["job_id"] == first
    dead = fx.process.pop(timeout=0)
    assert dead is not None
    fx.process.max_attempts = 1
    assert fx.process.fail(dead, "broken") is not None and fx.process.depth()["dead"] == 1  # a dead task is not work
    ahead = {w.cpu_seconds: w for w in fx.fleet.work_ahead()}
    assert ahead[2.0] == QueuedWork(ready=2, inflight=1, cpu_seconds=2.0, fixed_seconds=0.5)
    assert ahead[None] == QueuedWork(ready=3, inflight=0)
    assert len(ahead) == 2


def test_a_long_queue_is_read_from_a_sample(fx: Fixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet_module, "SAMPLE", 50)
    job_with_tasks(fx, 400, None)
    (work,) = fx.fleet.work_ahead()
    assert work.ready == 400 and work.inflight == 0


def test_the_last_estimated_jobs_that_are_done_give_their_outcomes(fx: Fixture) -> None:
    assert fx.fleet.outcomes() == []
    model = {"encode_seconds": 10.0, "assembly_seconds": 1.0}
    done = fx.jobs.create({"owner": "alice", "filename": "a.mp4"})
    assert fx.jobs.transition(done, ["awaiting_upload"], "done")
    fx.jobs.update(done, estimate={"made_at": 100.0, "basis": {"model": model}}, t_assembling=115.0, t_done=117.0)
    running = fx.jobs.create({"owner": "alice", "filename": "b.mp4"})
    fx.jobs.update(running, estimate={"made_at": 100.0, "basis": {"model": model}})
    for job_id in (done, running, "f" * 32):  # the last one expired
        fx.fleet.remember(job_id)
    (outcome,) = fx.fleet.outcomes()
    assert (outcome.encode_estimate, outcome.encode_actual, outcome.assembly_actual) == (10.0, 15.0, 2.0)
    for _ in range(fleet_module.RECENT_JOBS + 5):
        fx.fleet.remember(running)
    assert fx.r.llen(f"{fx.prefix}:estimates:recent") == fleet_module.RECENT_JOBS and fx.fleet.outcomes() == []
