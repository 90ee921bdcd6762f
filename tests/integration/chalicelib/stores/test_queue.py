"""ReliableQueue against a real valkey-server."""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from chalicelib.stores.queue import LEASE_EXPIRED, ReapedTask, ReliableQueue, Task
from tests.support.servers import ValkeyProcess

LEASE = 0.5
MakeQueue = Callable[..., ReliableQueue]


def make_client(url: str, *, decode: bool = True) -> redis.Redis:
    """A client that rides out a server restart, like production's."""
    return redis.Redis.from_url(
        url,
        decode_responses=decode,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=20),
        retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
    )


@pytest.fixture(scope="module")
def client(redis_url: str) -> Iterator[redis.Redis]:
    r = make_client(redis_url)
    yield r
    r.close()


@pytest.fixture
def make_queue(client: redis.Redis) -> MakeQueue:
    """Queues under a fresh prefix, so tests never see each other's keys."""
    prefix = f"t{uuid.uuid4().hex[:8]}"

    def make(**kwargs: Any) -> ReliableQueue:
        kwargs.setdefault("lease_seconds", LEASE)
        kwargs.setdefault("prefix", prefix)
        return ReliableQueue(kwargs.pop("redis", client), "process", **kwargs)

    return make


@pytest.fixture
def q(make_queue: MakeQueue) -> ReliableQueue:
    return make_queue()


def job(job_id: str = "j1", **extra: Any) -> dict[str, Any]:
    return {"job_id": job_id, **extra}


def expire(queue: ReliableQueue, task: Task) -> None:
    """Make a lease expired now, without waiting for it."""
    queue.redis.zadd(queue.key("inflight"), {task.id: 0})


def pop(queue: ReliableQueue) -> Task:
    task = queue.pop(timeout=0)
    assert task is not None
    return task


@pytest.mark.parametrize("decode", [True, False])
def test_push_pop_ack_fifo(redis_url: str, make_queue: MakeQueue, decode: bool) -> None:
    queue = make_queue(redis=make_client(redis_url, decode=decode))
    payloads = [job(chunk=i, nested={"a": [1.5, None, "é"]}, empty=[]) for i in range(3)]
    ids = queue.push_many(payloads)
    assert queue.depth() == {"ready": 3, "inflight": 0, "dead": 0}

    first = pop(queue)
    assert (first.id, first.payload, first.attempt) == (ids[0], payloads[0], 1)
    assert first.queue == "process"
    assert queue.depth() == {"ready": 2, "inflight": 1, "dead": 0}
    assert queue.ack(first) is True
    assert queue.ack(first) is True, "a retried ack (same lease) is idempotent"
    assert [pop(queue).id for _ in range(2)] == ids[1:]
    assert queue.pop(timeout=0) is None


def test_push_with_same_task_id_is_a_no_op(q: ReliableQueue) -> None:
    assert q.push(job(n=1), task_id="abc") == "abc"
    assert q.push(job(n=2), task_id="abc") == "abc"
    assert q.depth()["ready"] == 1
    assert pop(q).payload == job(n=1)


def test_pop_waits_for_a_task_pushed_later(q: ReliableQueue) -> None:
    started = time.monotonic()
    assert q.pop(timeout=0.2) is None
    assert 0.2 <= time.monotonic() - started < 0.5

    threading.Timer(0.15, lambda: q.push(job())).start()
    task = q.pop(timeout=2)
    assert task is not None and time.monotonic() - started < 1.0


def test_expired_lease_is_reaped_back_to_ready_with_next_attempt(q: ReliableQueue) -> None:
    task_id = q.push(job())
    task = pop(q)
    assert q.reap() == []
    time.sleep(LEASE + 0.1)
    assert q.reap() == [ReapedTask(task_id, job(), 1, False, LEASE_EXPIRED, "process")]
    assert q.depth() == {"ready": 1, "inflight": 0, "dead": 0}
    again = pop(q)
    assert (again.id, again.attempt) == (task_id, 2)
    assert again.lease_token != task.lease_token


def test_late_ack_after_reissue_is_rejected_and_keeps_new_lease(q: ReliableQueue) -> None:
    q.push(job())
    stale = pop(q)
    expire(q, stale)
    q.reap()
    fresh = pop(q)
    assert q.ack(stale) is False
    assert q.heartbeat(stale) is False
    assert q.fail(stale, "boom") is None
    assert q.release(stale) is None
    assert q.depth() == {"ready": 0, "inflight": 1, "dead": 0}
    assert q.ack(fresh) is True
    assert q.depth() == {"ready": 0, "inflight": 0, "dead": 0}


def test_exhausted_attempts_go_dead_with_last_error(make_queue: MakeQueue) -> None:
    q = make_queue(max_attempts=2)
    task_id = q.push(job())
    first = pop(q)
    assert q.fail(first, "ffmpeg exploded") == ReapedTask(
        task_id, job(), 1, False, "ffmpeg exploded", "process"
    )
    assert q.fail(first, "ffmpeg exploded").attempt == 1, "retried fail is not counted twice"
    second = pop(q)
    assert second.attempt == 2
    expire(q, second)
    assert q.reap() == [ReapedTask(task_id, job(), 2, True, LEASE_EXPIRED, "process")]
    assert q.depth() == {"ready": 0, "inflight": 0, "dead": 1}
    assert q.redis.hget(q.key("error"), task_id) == LEASE_EXPIRED
    assert q.pop(timeout=0) is None


def test_fail_on_last_attempt_reports_dead(make_queue: MakeQueue) -> None:
    q = make_queue(max_attempts=1)
    q.push(job())
    result = q.fail(pop(q), "bad input")
    assert result is not None and result.dead and result.error == "bad input"
    assert q.depth() == {"ready": 0, "inflight": 0, "dead": 1}


def test_heartbeat_extends_the_lease(q: ReliableQueue) -> None:
    q.push(job())
    task = pop(q)
    for _ in range(4):
        time.sleep(LEASE / 2)
        assert q.heartbeat(task) is True
        assert q.reap() == []
    assert q.ack(task) is True
    assert q.heartbeat(task) is False


def test_release_puts_task_first_and_refunds_the_attempt(q: ReliableQueue) -> None:
    first_id, _ = q.push_many([job(n=1), job(n=2)])
    task = pop(q)
    released = q.release(task)
    assert released is not None and not released.dead and released.attempt == 0
    again = pop(q)
    assert (again.id, again.attempt) == (first_id, 1)
    counted = q.release(again, "s3 throttled")
    assert counted is not None and counted.attempt == 1
    assert pop(q).attempt == 2


def test_drop_removes_queued_and_abandons_inflight_tasks_of_a_job(q: ReliableQueue) -> None:
    ids = q.push_many([job("a", n=0), job("b", n=1), job("a", n=2), job("b", n=3), job("a", n=4)])
    running = pop(q)
    assert running.payload["job_id"] == "a"
    mine = [ids[0], ids[2], ids[4]]
    assert q.drop(mine) == 3
    assert q.depth() == {"ready": 2, "inflight": 0, "dead": 0}  # exact, though the list holds stale ids
    assert q.ack(running) is False and q.heartbeat(running) is False
    assert q.fail(running, "x") is None
    assert [pop(q).id for _ in range(2)] == [ids[1], ids[3]]
    assert q.try_pop() is None and q.depth()["ready"] == 0
    assert q.drop(mine) == 0


def test_drop_never_scans_the_queue(q: ReliableQueue, client: redis.Redis) -> None:
    """Cancelling one job costs the same with 2,000 other tasks queued as with none."""
    others = q.push_many([job("busy", n=i) for i in range(2000)])
    mine = q.push_many([job("a", n=i) for i in range(3)])
    pop(q)
    before = {k: v["calls"] for k, v in client.info("commandstats").items()}
    assert q.drop(mine) == 3
    after = {k: v["calls"] for k, v in client.info("commandstats").items()}
    scans = {"cmdstat_lrange", "cmdstat_zrange", "cmdstat_lrem", "cmdstat_hgetall", "cmdstat_hkeys",
             "cmdstat_zrangebyscore"}
    assert all(after.get(k, 0) == before.get(k, 0) for k in scans), {k: after.get(k) for k in scans}
    assert q.depth()["ready"] == len(others) - 1


def test_drop_with_dead_leaves_no_keys_of_the_job(make_queue: MakeQueue, client: redis.Redis) -> None:
    q = make_queue(max_attempts=1)
    ids = q.push_many([job("a", n=0), job("a", n=1)])
    outcome = q.fail(pop(q), "boom")
    assert outcome is not None and outcome.dead
    assert q.drop(ids) == 1 and q.depth()["dead"] == 1
    assert q.drop(ids, include_dead=True) == 1
    assert q.depth() == {"ready": 0, "inflight": 0, "dead": 0}
    for part in ("payload", "job", "attempts", "lease", "error"):
        assert client.hlen(q.key(part)) == 0, part


def test_concurrent_workers_process_each_task_exactly_once(make_queue: MakeQueue) -> None:
    q = make_queue(lease_seconds=30)
    ids = q.push_many([job(str(i % 7), n=i) for i in range(400)])
    seen: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        worker_q = make_queue(lease_seconds=30)
        while (task := worker_q.pop(timeout=0.2)) is not None:
            worker_q.reap()  # racing reapers must not disturb live leases
            assert worker_q.ack(task)
            with lock:
                seen.append(task.id)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    assert q.depth() == {"ready": 0, "inflight": 0, "dead": 0}


def test_concurrent_reapers_reap_each_expired_task_once(make_queue: MakeQueue) -> None:
    q = make_queue()
    q.push_many([job(n=i) for i in range(150)])
    for _ in range(150):
        expire(q, pop(q))
    results: list[list[ReapedTask]] = []
    reapers = [make_queue() for _ in range(6)]
    threads = [threading.Thread(target=lambda r=r: results.append(r.reap())) for r in reapers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reaped = Counter(r.id for batch in results for r in batch)
    assert len(reaped) == 150 and set(reaped.values()) == {1}
    assert q.depth() == {"ready": 150, "inflight": 0, "dead": 0}


def test_task_of_a_dead_worker_is_reaped_and_done_by_another(make_queue: MakeQueue) -> None:
    task_id = make_queue().push(job())
    assert pop(make_queue()).id == task_id  # this worker dies: never acks
    survivor = make_queue()
    deadline = time.monotonic() + 5
    while (task := survivor.pop(timeout=0.1)) is None:
        survivor.reap()
        assert time.monotonic() < deadline
    assert (task.id, task.attempt) == (task_id, 2)
    assert survivor.ack(task)


@pytest.mark.parametrize("hard", [False, True], ids=["sigterm", "sigkill"])
def test_restart_with_aof_loses_nothing(valkey: ValkeyProcess, hard: bool) -> None:
    r = make_client(valkey.url)
    q = ReliableQueue(r, "process", lease_seconds=30, prefix="ff")
    ids = q.push_many([job(n=i) for i in range(6)])
    acked, failed, running = pop(q), pop(q), pop(q)
    q.ack(acked)
    q.fail(failed, "transient")

    valkey.restart(hard=hard)

    assert q.depth() == {"ready": 4, "inflight": 1, "dead": 0}
    assert q.heartbeat(running) is True, "the lease token survives the restart"
    assert q.ack(running) is True
    assert q.ack(acked) is True, "retry memory survives too"
    rest = []
    while (task := q.pop(timeout=0)) is not None:
        rest.append(task.id)
        q.ack(task)
    assert rest == [*ids[3:], failed.id]
    r.close()


class QueueMachine(RuleBasedStateMachine):
    """Random op sequences vs. a model; expiry is forced by rewriting lease scores.

    Tasks are drawn by their position in insertion order, never from sorted ids: the ids are
    random uuids, so a sorted position would name another task when hypothesis replays a case.
    """

    MAX_ATTEMPTS = 2
    client: redis.Redis

    def __init__(self) -> None:
        super().__init__()
        self.q: ReliableQueue
        self.ready: deque[str] = deque()
        self.inflight: dict[str, Task] = {}
        self.expired: list[str] = []  # in expiry order (scores 1, 2, ...) = reap order
        self.dead: set[str] = set()
        self.attempts: Counter[str] = Counter()
        self.jobs: dict[str, str] = {}
        self.stale: list[tuple[Task, bool]] = []  # ended leases, and whether by ack
        self.clock = 0

    @initialize()
    def setup(self) -> None:
        self.q = ReliableQueue(
            self.client, "m", lease_seconds=60, max_attempts=self.MAX_ATTEMPTS,
            prefix=f"sm{uuid.uuid4().hex[:8]}",
        )

    def _end(self, task: Task, *, acked: bool = False) -> None:
        del self.inflight[task.id]
        if task.id in self.expired:
            self.expired.remove(task.id)
        self.stale.append((task, acked))

    def _settle(self, task_id: str, front: bool) -> bool:
        if self.attempts[task_id] >= self.MAX_ATTEMPTS:
            self.dead.add(task_id)
            return True
        (self.ready.appendleft if front else self.ready.append)(task_id)
        return False

    @rule(job_id=st.sampled_from(["a", "b"]), n=st.integers(1, 3))
    def push(self, job_id: str, n: int) -> None:
        ids = self.q.push_many([job(job_id)] * n)
        self.ready.extend(ids)
        self.jobs.update(dict.fromkeys(ids, job_id))

    @rule()
    def pop(self) -> None:
        task = self.q.pop(timeout=0)
        if not self.ready:
            assert task is None
            return
        assert task is not None and task.id == self.ready.popleft()
        self.attempts[task.id] += 1
        assert task.attempt == self.attempts[task.id]
        self.inflight[task.id] = task

    @precondition(lambda self: self.inflight)
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        task = self.inflight[data.draw(st.sampled_from(list(self.inflight)))]
        assert self.q.ack(task) is True
        self._end(task, acked=True)
        self.attempts.pop(task.id)

    @precondition(lambda self: self.inflight)
    @rule(data=st.data(), release=st.booleans())
    def give_back(self, data: st.DataObject, release: bool) -> None:
        task = self.inflight[data.draw(st.sampled_from(list(self.inflight)))]
        self._end(task)
        if release:
            result = self.q.release(task)
            self.attempts[task.id] -= 1
        else:
            result = self.q.fail(task, "err")
        assert result is not None
        assert result.dead == self._settle(task.id, front=release)
        assert result.attempt == self.attempts[task.id]

    @precondition(lambda self: set(self.inflight) - set(self.expired))
    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        task_id = data.draw(st.sampled_from([t for t in self.inflight if t not in self.expired]))
        self.clock += 1
        self.q.redis.zadd(self.q.key("inflight"), {task_id: self.clock})
        self.expired.append(task_id)

    @rule()
    def reap(self) -> None:
        reaped = self.q.reap()
        assert [r.id for r in reaped] == self.expired
        for r in reaped:
            self._end(self.inflight[r.id])
            assert r.dead == self._settle(r.id, front=False)

    @precondition(lambda self: any(not acked for _, acked in self.stale))
    @rule(data=st.data())
    def late_ack(self, data: st.DataObject) -> None:
        task = data.draw(st.sampled_from([t for t, acked in self.stale if not acked]))
        assert self.q.ack(task) is False

    @rule(job_id=st.sampled_from(["a", "b"]))
    def drop(self, job_id: str) -> None:
        doomed = [i for i in [*self.ready, *self.inflight] if self.jobs.get(i) == job_id]
        mine = [i for i, j in self.jobs.items() if j == job_id]
        assert self.q.drop(mine) == len(doomed)
        self.ready = deque(i for i in self.ready if i not in doomed)
        for task_id in doomed:
            if task_id in self.inflight:
                self._end(self.inflight[task_id])

    @invariant()
    def depth_matches(self) -> None:
        assert self.q.depth() == {
            "ready": len(self.ready), "inflight": len(self.inflight), "dead": len(self.dead),
        }
        for task, _ in self.stale[-3:]:
            assert self.q.heartbeat(task) is False


def test_state_machine(client: redis.Redis) -> None:
    QueueMachine.client = client
    QueueMachine.TestCase.settings = settings(
        max_examples=100, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    QueueMachine.TestCase().runTest()
