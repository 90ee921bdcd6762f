"""Job records and their Lua state machine against a real Valkey server."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import redis

from chalicelib.model.errors import LimitExceededError
from chalicelib.model.kinds import JobState, PartName, audio_part, chunk_part
from chalicelib.stores.clients import make_redis
from chalicelib.stores.jobs import JobStore, NotFoundError, TaskSpec
from chalicelib.stores.queue import PUSH_LUA, ReliableQueue


class Fixture:
    def __init__(self, r: redis.Redis) -> None:
        prefix = f"t{uuid.uuid4().hex[:8]}"
        self.process = ReliableQueue(r, "process", prefix=prefix, lease_seconds=30)
        self.assemble = ReliableQueue(r, "assemble", prefix=prefix, lease_seconds=30)
        self.jobs = JobStore(r, prefix, 3600, PUSH_LUA, self.process.push_keys(), self.assemble.push_keys())
        self.owner = "alice"

    def new_job(self) -> str:
        return self.jobs.create({"owner": self.owner, "filename": "a.mp4", "size": 10,
                                 "source_key": "uploads/x/source.mp4"})

    def encoding_job(self, chunks: int = 3, audio: int = 1) -> str:
        job_id = self.new_job()
        assert self.jobs.claim(job_id, "tok", 300) == "claimed"
        assert self.jobs.transition(job_id, [JobState.QUEUED], JobState.PROBING)
        tasks = [TaskSpec(uuid.uuid4().hex, {"job_id": job_id, "kind": "chunk", "index": i}) for i in range(chunks)]
        tasks += [TaskSpec(uuid.uuid4().hex, {"job_id": job_id, "kind": "audio", **({"index": i} if i else {})})
                  for i in range(audio)]
        status = {chunk_part(i): {"state": "queued"} for i in range(chunks)}
        assert self.jobs.start_encoding(job_id, "tok", {"chunks": []}, status, chunks, audio, tasks)
        return job_id

    def complete(self, job_id: str, part: str) -> str:
        spec = TaskSpec(uuid.uuid4().hex, {"job_id": job_id, "kind": "assemble"})
        return self.jobs.complete_part(job_id, part, {"state": "done"}, spec)


@pytest.fixture
def fx(redis_url: str) -> Iterator[Fixture]:
    r = make_redis(redis_url)
    yield Fixture(r)
    r.close()


def test_job_ids_are_unguessable_and_records_round_trip(fx: Fixture) -> None:
    job_id = fx.new_job()
    assert len(job_id) == 32 and job_id != fx.new_job()
    job = fx.jobs.get(job_id)
    assert job["state"] == JobState.AWAITING_UPLOAD and job["size"] == 10
    with pytest.raises(NotFoundError):
        fx.jobs.get("f" * 32)
    with pytest.raises(NotFoundError):  # someone else's job does not exist for you
        fx.jobs.get(job_id, owner="mallory")
    assert fx.jobs.get(job_id, owner="alice")["id"] == job_id


def test_duplicate_event_is_ignored_but_stale_claim_is_taken_over(fx: Fixture) -> None:
    job_id = fx.new_job()
    assert fx.jobs.claim(job_id, "first", 300) == "claimed"
    assert fx.jobs.claim(job_id, "dup", 300) == "busy"
    assert fx.jobs.claim(job_id, "later", 0) == "claimed"  # the first chunker is presumed dead
    assert fx.jobs.transition(job_id, [JobState.QUEUED], JobState.PROBING)
    # The presumed-dead chunker cannot commit any more: only the current claim can.
    assert not fx.jobs.start_encoding(job_id, "first", {}, {}, 1, 0,
                                      [TaskSpec("t1", {"job_id": job_id, "kind": "chunk", "index": 0})])
    assert fx.process.depth()["ready"] == 0
    assert fx.jobs.start_encoding(job_id, "later", {}, {}, 1, 0,
                                  [TaskSpec("t2", {"job_id": job_id, "kind": "chunk", "index": 0})])
    assert fx.process.depth()["ready"] == 1 and fx.jobs.get(job_id)["state"] == JobState.ENCODING
    assert fx.jobs.claim(job_id, "again", 0) == JobState.ENCODING


def test_start_encoding_stores_plan_and_enqueues_every_task_atomically(fx: Fixture) -> None:
    job_id = fx.encoding_job(chunks=4, audio=1)
    job = fx.jobs.get(job_id)
    assert job["chunks_total"] == 4 and job["parts_total"] == 5 and job["audio"] == "pending"
    assert job["plan"] == {"chunks": []}
    assert fx.process.depth() == {"ready": 5, "inflight": 0, "dead": 0}
    payloads = [fx.process.try_pop().payload for _ in range(5)]
    assert [p.get("index") for p in payloads] == [0, 1, 2, 3, None]


def test_the_audio_is_done_with_its_last_part_and_the_job_assembles_after_every_part(fx: Fixture) -> None:
    job_id = fx.encoding_job(chunks=1, audio=3)
    job = fx.jobs.get(job_id)
    assert job["parts_total"] == 4 and job["audio_total"] == 3 and job["audio_done"] == 0
    assert fx.complete(job_id, audio_part(2)) == "ok"
    assert fx.complete(job_id, audio_part(2)) == "duplicate"
    assert fx.complete(job_id, chunk_part(0)) == "ok"
    assert fx.complete(job_id, audio_part(0)) == "ok"
    job = fx.jobs.get(job_id)
    assert job["audio"] == "pending" and job["audio_done"] == 2 and job["state"] == JobState.ENCODING
    assert fx.complete(job_id, audio_part(1)) == "last"
    job = fx.jobs.get(job_id)
    assert job["audio"] == "done" and job["state"] == JobState.ASSEMBLING and fx.assemble.depth()["ready"] == 1


def test_completions_are_idempotent_and_the_last_enqueues_one_assembly(fx: Fixture) -> None:
    job_id = fx.encoding_job(chunks=2, audio=1)
    assert fx.complete(job_id, chunk_part(0)) == "ok"
    assert fx.complete(job_id, chunk_part(0)) == "duplicate"
    assert fx.complete(job_id, PartName.AUDIO) == "ok"
    assert fx.complete(job_id, chunk_part(1)) == "last"
    assert fx.complete(job_id, chunk_part(1)) == "ignored"  # job is assembling now
    job = fx.jobs.get(job_id)
    assert job["state"] == JobState.ASSEMBLING and job["chunks_done"] == 2 and job["audio"] == "done"
    assert fx.assemble.depth()["ready"] == 1


def test_concurrent_completions_enqueue_exactly_one_assembly(fx: Fixture) -> None:
    job_id = fx.encoding_job(chunks=40, audio=0)
    parts = [chunk_part(i) for i in range(40)] * 3  # every part completed three times
    results: list[str] = []
    lock = threading.Lock()

    def complete(chunk: list[str]) -> None:
        for part in chunk:
            outcome = fx.complete(job_id, part)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=complete, args=(parts[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("last") == 1 and results.count("ok") == 39
    assert fx.assemble.depth()["ready"] == 1
    assert fx.jobs.get(job_id)["chunks_done"] == 40


def test_cancelled_job_ignores_late_completions_and_final_states_stick(fx: Fixture) -> None:
    job_id = fx.encoding_job(chunks=1, audio=0)
    assert fx.jobs.cancel(job_id)
    assert fx.complete(job_id, chunk_part(0)) == "ignored"
    assert not fx.jobs.fail(job_id, "too late")
    assert not fx.jobs.transition(job_id, [JobState.ASSEMBLING], JobState.DONE)
    job = fx.jobs.get(job_id)
    assert job["state"] == JobState.CANCELLED and job["error"] == "cancelled by the user"
    assert fx.assemble.depth()["ready"] == 0


def test_listing_pages_newest_first(fx: Fixture) -> None:
    ids = [fx.new_job() for _ in range(5)]
    first, cursor = fx.jobs.page("alice", 2)
    assert [j["id"] for j in first] == ids[::-1][:2] and cursor == first[-1]["created_at"]
    second, end = fx.jobs.page("alice", 10, cursor)
    assert [j["id"] for j in second][:3] == ids[::-1][2:5] and end is None


def test_listing_scans_a_bounded_number_of_records(fx: Fixture) -> None:
    ids = [fx.new_job() for _ in range(6)]
    fx.jobs.fail(ids[0], "x")
    # Only ids[0] matches; a scan limit of 3 stops early and hands back a cursor to go on from.
    page, cursor = fx.jobs.page("alice", 10, states=frozenset({JobState.FAILED}), max_scan=3)
    assert page == [] and cursor is not None
    page, cursor = fx.jobs.page("alice", 10, cursor, states=frozenset({JobState.FAILED}), max_scan=3)
    assert [j["id"] for j in page] == [ids[0]] and cursor is not None  # read 3: more may follow
    assert fx.jobs.page("alice", 10, cursor, states=frozenset({JobState.FAILED}), max_scan=3) == ([], None)


def test_listing_and_active_counts_are_per_owner(fx: Fixture) -> None:
    mine = [fx.new_job() for _ in range(2)]
    fx.owner = "bob"
    theirs = fx.new_job()
    assert [j["id"] for j in fx.jobs.page("alice", 10)[0]] == mine[::-1]
    assert [j["id"] for j in fx.jobs.page("bob", 10)[0]] == [theirs]
    fields = {"owner": "alice", "filename": "a.mp4", "size": 10, "source_key": "uploads/x/source.mp4"}
    with pytest.raises(LimitExceededError, match="already have 2 jobs in progress"):  # bob's does not count
        fx.jobs.create(dict(fields), max_active=2, upload_window=3600)
    # Uploads older than the window do not count.
    extra = fx.jobs.create(dict(fields), max_active=1, upload_window=0)
    fx.jobs.fail(extra, "x")
    fx.jobs.fail(mine[0], "x")  # a final job stops counting
    with pytest.raises(LimitExceededError, match="already have 1 jobs in progress"):
        fx.jobs.create(dict(fields), max_active=1, upload_window=3600)
    assert fx.jobs.create(dict(fields), max_active=2, upload_window=3600)


def test_jobs_whose_preparation_never_finishes_are_failed_by_the_sweeper(fx: Fixture) -> None:
    stuck, fine = fx.new_job(), fx.new_job()
    assert fx.jobs.claim(stuck, "t", 300) == "claimed" and fx.jobs.claim(fine, "t", 300) == "claimed"
    assert fx.jobs.sweep_stalled(3600) == []  # too young
    fx.jobs.transition(fine, [JobState.QUEUED], JobState.PROBING)
    fx.jobs.start_encoding(fine, "t", {}, {}, 1, 0, [TaskSpec("x1", {"job_id": fine, "kind": "chunk",
                                                                          "index": 0})])
    assert fx.jobs.sweep_stalled(0) == [stuck]
    assert fx.jobs.get(stuck)["state"] == JobState.FAILED and "never finished" in fx.jobs.get(stuck)["error"]
    assert fx.jobs.get(fine)["state"] == JobState.ENCODING
    assert fx.jobs.sweep_stalled(0) == []  # swept members are forgotten


def test_part_status_keeps_its_frame_count_through_running_and_retries(fx: Fixture) -> None:
    job_id = fx.new_job()
    fx.jobs.set_part(job_id, chunk_part(0), {"state": "queued", "frames": 60})
    fx.jobs.set_part(job_id, chunk_part(0), {"state": "running", "attempt": 1, "worker": "w"})
    assert fx.jobs.parts(job_id)[chunk_part(0)] == {"state": "running", "attempt": 1, "worker": "w", "frames": 60}


def test_a_job_indexes_its_own_tasks_so_cancel_touches_only_them(fx: Fixture) -> None:
    mine, theirs = fx.encoding_job(chunks=2), fx.encoding_job(chunks=3)
    for part in (chunk_part(0), chunk_part(1), PartName.AUDIO):
        fx.complete(mine, part)  # the last completion adds the assembly task to the index
    ids = fx.jobs.task_ids(mine)
    assert len(ids) == 4 and len(fx.jobs.task_ids(theirs)) == 4
    assert fx.process.drop(ids, include_dead=True) + fx.assemble.drop(ids, include_dead=True) == 4
    assert fx.process.depth()["ready"] == 4 and fx.assemble.depth()["ready"] == 0
    assert {fx.process.try_pop().payload["job_id"] for _ in range(4)} == {theirs}
