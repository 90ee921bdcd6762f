"""The event outbox, webhook endpoints and deliveries against a real Valkey server."""
from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
import redis

from chalicelib.model.errors import ConflictError, LimitExceededError, NotFoundError
from chalicelib.model.kinds import JobState
from chalicelib.stores.clients import make_redis
from chalicelib.stores.jobs import JobStore
from chalicelib.stores.queue import PUSH_LUA, ReliableQueue
from chalicelib.stores.webhooks import WebhookStore, message_id


class World:
    """A job store and a webhook store sharing one fresh key prefix."""

    def __init__(self, r: redis.Redis) -> None:
        self.r: Any = r
        prefix = f"t{uuid.uuid4().hex[:8]}"
        process = ReliableQueue(r, "process", prefix=prefix)
        assemble = ReliableQueue(r, "assemble", prefix=prefix)
        self.jobs = JobStore(r, prefix, 3600, PUSH_LUA, process.push_keys(), assemble.push_keys())
        self.hooks = WebhookStore(r, prefix, max_endpoints=3)

    def job(self, owner: str = "alice", outputs: tuple[str, ...] = ("hls", "mp4")) -> str:
        return self.jobs.create({"owner": owner, "filename": "a.mp4", "size": 1, "source_key": "k",
                                 "options": {"outputs": list(outputs)}})

    def outbox(self) -> list[dict[str, str]]:
        return [fields for _, fields in self.r.xrange(self.jobs.outbox_key)]

    def fan_out_all(self) -> int:
        self.hooks.ensure_group()
        created = 0
        for stream_id, fields in self.hooks.read_events("c1", 100, 0, 30_000):
            created += self.hooks.fan_out(stream_id, fields, b'{"type":"%s"}' % fields["type"].encode())
        return created


@pytest.fixture
def world(redis_url: str) -> World:
    return World(make_redis(redis_url))


def test_every_state_change_that_is_an_event_is_in_the_outbox_once(world: World) -> None:
    job = world.job()
    assert world.jobs.claim(job, "tok", 300) == "claimed"
    assert world.jobs.claim(job, "tok2", 300) == "busy"            # a duplicate S3 event: no event
    assert world.jobs.transition(job, [JobState.QUEUED], JobState.PROBING)
    assert world.jobs.record_published(job, 1) is False            # not encoding: nothing recorded
    assert world.jobs.transition(job, [JobState.PROBING], JobState.ENCODING)
    assert world.jobs.record_published(job, 2) is True
    assert world.jobs.record_published(job, 4) is False
    assert not world.jobs.transition(job, [JobState.PROBING], JobState.FAILED)  # refused: no event
    assert world.jobs.transition(job, [JobState.ENCODING], JobState.DONE)
    events = world.outbox()
    assert [e["type"] for e in events] == ["job.uploaded", "job.playable", "job.done"]
    assert {e["job"] for e in events} == {job} and {e["owner"] for e in events} == {"alice"}
    versions = [int(e["version"]) for e in events]
    assert versions == sorted(versions) and versions[-1] == world.jobs.get(job)["version"]


def test_a_stream_done_before_any_progress_is_playable_at_done(world: World) -> None:
    streamed, mp4_only = world.job(), world.job(outputs=("mp4",))
    for job in (streamed, mp4_only):
        world.jobs.claim(job, "tok", 300)
        world.jobs.transition(job, [JobState.QUEUED], JobState.ASSEMBLING)
        world.jobs.transition(job, [JobState.ASSEMBLING], JobState.DONE)
    kinds = [(e["job"], e["type"]) for e in world.outbox() if e["type"] != "job.uploaded"]
    assert kinds == [(streamed, "job.playable"), (streamed, "job.done"), (mp4_only, "job.done")]
    assert world.jobs.get(streamed)["playable_at"] and "playable_at" not in world.jobs.get(mp4_only)


def test_cancel_and_fail_are_events(world: World) -> None:
    a, b = world.job(), world.job()
    assert world.jobs.cancel(a) and world.jobs.fail(b, "bad input")
    assert [e["type"] for e in world.outbox()] == ["job.cancelled", "job.failed"]


def test_fan_out_creates_one_delivery_per_subscribed_endpoint_once(world: World) -> None:
    everything = world.hooks.create_endpoint("alice", "https://a.example/h", [])
    only_done = world.hooks.create_endpoint("alice", "https://b.example/h", ["job.done"])
    world.hooks.create_endpoint("bob", "https://c.example/h", [])  # someone else's
    job = world.job()
    world.jobs.claim(job, "tok", 300)
    world.jobs.cancel(job)
    assert world.fan_out_all() == 2
    # Read again (a sender died before acking, say): nothing new.
    stream_id, fields = world.r.xrange(world.jobs.outbox_key)[0]
    assert world.hooks.fan_out(stream_id, fields, b"{}") == 0
    assert [d["type"] for d in world.hooks.deliveries("alice", everything["id"])] == ["job.cancelled", "job.uploaded"]
    assert world.hooks.deliveries("alice", only_done["id"]) == []
    assert {d["msg"] for d in world.hooks.deliveries("alice", everything["id"])} == {
        message_id(i) for i, _ in world.r.xrange(world.jobs.outbox_key)}


def test_an_endpoint_made_after_an_event_does_not_get_it(world: World) -> None:
    job = world.job()
    world.jobs.claim(job, "tok", 300)
    time.sleep(0.01)
    late = world.hooks.create_endpoint("alice", "https://a.example/h", [])
    assert world.fan_out_all() == 0 and world.hooks.deliveries("alice", late["id"]) == []


def test_an_unacked_event_is_taken_over_after_the_idle_time(world: World) -> None:
    world.hooks.create_endpoint("alice", "https://a.example/h", [])
    world.hooks.ensure_group()
    job = world.job()
    world.jobs.claim(job, "tok", 300)
    assert len(world.hooks.read_events("dead-sender", 10, 0, 60_000)) == 1   # read, never fanned out
    assert world.hooks.read_events("next", 10, 0, 60_000) == []               # not idle long enough
    time.sleep(0.05)
    (taken,) = world.hooks.read_events("next", 10, 0, 10)
    assert world.hooks.fan_out(taken[0], taken[1], b"{}") == 1
    world.hooks.trim_outbox()
    assert world.r.xlen(world.jobs.outbox_key) == 0


def test_a_claim_lapses_and_the_delivery_is_due_again(world: World) -> None:
    world.hooks.create_endpoint("alice", "https://a.example/h", [])
    job = world.job()
    world.jobs.claim(job, "tok", 300)
    world.fan_out_all()
    (first,) = world.hooks.claim_due(10, claim_seconds=0.2)
    assert world.hooks.claim_due(10, claim_seconds=0.2) == []  # claimed: nobody else takes it
    time.sleep(0.3)
    assert world.hooks.claim_due(10, claim_seconds=30) == [first]
    outgoing = world.hooks.outgoing(first)
    assert not isinstance(outgoing, str) and outgoing.attempt == 2 and outgoing.msg_id.startswith("msg_")


def test_settling_retries_succeeds_and_disables_a_failing_endpoint(world: World) -> None:
    endpoint = world.hooks.create_endpoint("alice", "https://a.example/h", [])
    other = world.hooks.create_endpoint("alice", "https://b.example/h", ["webhook.disabled"])
    for _ in range(2):
        job = world.job()
        world.jobs.claim(job, "tok", 300)
    world.fan_out_all()
    first, second = world.hooks.claim_due(10, 30)
    later = time.time() + 60
    assert world.hooks.settle(first, "retry", status=500, response="x" * 10, next_attempt=later) == "retry"
    record = world.hooks.delivery("alice", endpoint["id"], first)
    assert record["status"] == "pending" and record["next_attempt_at"] == pytest.approx(later)
    assert record["last_status"] == 500 and world.hooks.claim_due(10, 30) == []  # not due yet
    assert world.hooks.endpoint("alice", endpoint["id"])["failing_since"]
    # Failing for longer than allowed: disabled, with an event for the owner's other endpoints.
    assert world.hooks.settle(second, "retry", status=500, next_attempt=later, disable_after=0) == "disabled"
    assert world.hooks.endpoint("alice", endpoint["id"])["state"] == "disabled"
    assert world.outbox()[-1]["type"] == "webhook.disabled"
    assert world.fan_out_all() == 1 and len(world.hooks.deliveries("alice", other["id"])) == 1
    # A disabled endpoint's deliveries are not sent.
    world.r.zadd(world.hooks.due_key, {first: 0})
    assert world.hooks.outgoing(first) == "the endpoint is disabled"
    # Enabled again: failures forgotten; a success clears them too.
    world.hooks.update_endpoint("alice", endpoint["id"], state="enabled")
    assert "failing_since" not in world.hooks.endpoint("alice", endpoint["id"])
    assert world.hooks.settle(first, "succeeded", status=204) == "succeeded"
    assert world.hooks.delivery("alice", endpoint["id"], first)["status"] == "succeeded"


def test_redeliver_only_finished_deliveries(world: World) -> None:
    endpoint = world.hooks.create_endpoint("alice", "https://a.example/h", [])
    job = world.job()
    world.jobs.claim(job, "tok", 300)
    world.fan_out_all()
    (delivery,) = world.hooks.claim_due(10, 30)
    with pytest.raises(ConflictError):
        world.hooks.redeliver("alice", endpoint["id"], delivery)
    world.hooks.settle(delivery, "failed", error="gave up")
    again = world.hooks.redeliver("alice", endpoint["id"], delivery)
    assert again["status"] == "pending" and again["redeliveries"] == 1
    assert world.hooks.claim_due(10, 30) == [delivery]
    with pytest.raises(NotFoundError):
        world.hooks.redeliver("bob", endpoint["id"], delivery)


def test_rotation_keeps_the_old_secret_valid_for_the_grace(world: World) -> None:
    endpoint = world.hooks.create_endpoint("alice", "https://a.example/h", [])
    rotated = world.hooks.rotate_secret("alice", endpoint["id"], grace_seconds=60)
    job = world.job()
    world.jobs.claim(job, "tok", 300)
    world.fan_out_all()
    (delivery,) = world.hooks.claim_due(10, 30)
    outgoing = world.hooks.outgoing(delivery)
    assert not isinstance(outgoing, str) and outgoing.secrets == [rotated["secret"], endpoint["secret"]]
    world.hooks.rotate_secret("alice", endpoint["id"], grace_seconds=0)
    outgoing = world.hooks.outgoing(delivery)
    assert not isinstance(outgoing, str) and len(outgoing.secrets) == 1


def test_endpoints_per_owner_are_limited(world: World) -> None:
    for i in range(3):
        world.hooks.create_endpoint("alice", f"https://a.example/{i}", [])
    with pytest.raises(LimitExceededError):
        world.hooks.create_endpoint("alice", "https://a.example/4", [])
    world.hooks.create_endpoint("bob", "https://a.example/1", [])


def test_wait_for_change_wakes_at_the_change_and_times_out_without_one(world: World) -> None:
    job = world.job()
    version = world.jobs.get(job).get("version", 0)
    started = time.monotonic()
    assert world.jobs.wait_for_change(job, version, 0.3) == version
    assert 0.25 < time.monotonic() - started < 2
    threading.Timer(0.2, world.jobs.update, args=(job,), kwargs={"filename": "b.mp4"}).start()
    started = time.monotonic()
    assert world.jobs.wait_for_change(job, version, 10) == version + 1
    assert time.monotonic() - started < 2
    assert world.jobs.wait_for_change(job, version, 10) == version + 1  # already newer: at once


def test_waiting_slots_are_bounded_per_owner(world: World) -> None:
    with world.jobs.waiting("alice", 2), world.jobs.waiting("alice", 2):
        with pytest.raises(LimitExceededError):
            world.jobs.waiting("alice", 2).__enter__()
        with world.jobs.waiting("bob", 2):
            pass
    with world.jobs.waiting("alice", 2), world.jobs.waiting("alice", 2):
        pass
