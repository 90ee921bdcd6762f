"""Webhooks against the real stack: real receivers, a real sender process, real Valkey restarts."""
from __future__ import annotations

import signal
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from devstack.client import ApiError, Client
from devstack.stack import Stack
from tests.support.receivers import Received, webhook_receiver
from tests.support.stack import submit, wait_for, worker

STREAM = {"chunk_seconds": 2.0, "ladder": [{"height": 240}], "outputs": ["hls", "mp4"]}
LIFECYCLE = ("job.uploaded", "job.encoding", "job.playable", "job.done")


@pytest.fixture
def client(stack: Stack) -> Client:
    return Client(stack.api_url, stack.api_key)


def _events_of(received: list[Received], job_id: str) -> dict[str, list[Received]]:
    by_type: dict[str, list[Received]] = defaultdict(list)
    for r in received:
        if (r.payload.get("data") or {}).get("job_id") == job_id:
            by_type[r.payload["type"]].append(r)
    return by_type


def _accepted_all(job_id: str, types: tuple[str, ...]) -> Callable[[list[Received]], bool]:
    def done(received: list[Received]) -> bool:
        got = _events_of([r for r in received if r.status < 300], job_id)
        return all(got.get(t) for t in types)
    return done


def test_a_job_sends_every_event_signed_with_its_facts(client: Client, media: Path) -> None:
    with webhook_receiver() as receiver:
        endpoint = client.add_webhook(receiver.url)
        receiver.secret = endpoint["secret"]
        assert endpoint["secret"].startswith("whsec_") and endpoint["state"] == "enabled"
        try:
            job_id = submit(client, media / "sample.mp4", STREAM)
            received = receiver.wait_for(_accepted_all(job_id, LIFECYCLE), timeout=240)
            events = _events_of(received, job_id)
            assert all(r.verified for rs in events.values() for r in rs), "a signature did not verify"
            # One event, one message id; every event its own.
            ids = {t: {r.msg_id for r in events[t]} for t in LIFECYCLE}
            assert all(len(v) == 1 for v in ids.values()) and len({next(iter(v)) for v in ids.values()}) == 4
            done = events["job.done"][0].payload
            assert done["data"]["state"] == "done" and done["data"]["output"]["url"].startswith("http")
            assert done["data"]["output"]["frames"] > 0 and done["data"]["playback_url"]
            assert done["timestamp"].endswith("Z")
            assert events["job.playable"][0].payload["data"]["playable_at"]
            # Happened in this order (each event's own time), whatever order they arrived in.
            stamps = [events[t][0].payload["timestamp"] for t in LIFECYCLE]
            assert stamps == sorted(stamps)
            # The receiver answered; the sender records it a moment later.
            def settled() -> list[dict] | None:
                found = [d for d in client.webhook_deliveries(endpoint["id"]) if d["job_id"] == job_id]
                return found if len(found) == 4 and all(d["status"] == "succeeded" for d in found) else None
            mine = wait_for(settled, "settled", 10)
            assert {d["type"] for d in mine} == set(LIFECYCLE)
            assert all(d["status"] == "succeeded" and d["last_status"] == 200 and d["attempts"] == 1 for d in mine)
            assert {d["event_id"] for d in mine} == {next(iter(v)) for v in ids.values()}
        finally:
            client.delete_webhook(endpoint["id"])


def test_events_survive_a_killed_sender_a_valkey_restart_and_a_failing_receiver(
        stack: Stack, client: Client, media: Path) -> None:
    """The receiver answers 500 five times, then 200; the sender is killed in the middle of a
    delivery and Valkey restarts: every event arrives, duplicates carry the same id."""
    with webhook_receiver(statuses=[500] * 5) as receiver:
        receiver.delay = 1.0  # every answer takes a while: the kill lands while one is awaited
        endpoint = client.add_webhook(receiver.url)
        receiver.secret = endpoint["secret"]
        try:
            job_id = submit(client, media / "sample.mp4", STREAM)
            receiver.wait_started(2, timeout=60)
            notifier = worker(stack, "notifier-3")
            notifier.proc.send_signal(signal.SIGKILL)  # its in-flight delivery is never settled
            assert receiver.started > len(receiver.received), "no delivery was in flight at the kill"
            notifier.proc.wait(10)
            assert stack.valkey is not None
            stack.valkey.restart()
            stack.supervise()
            received = receiver.wait_for(_accepted_all(job_id, LIFECYCLE), timeout=240)
            events = _events_of(received, job_id)
            assert sum(r.status == 500 for r in received) == 5
            for kind in LIFECYCLE:
                assert len({r.msg_id for r in events[kind]}) == 1, f"{kind} came with different ids"
            assert all(r.verified for rs in events.values() for r in rs)
            retried = wait_for(lambda: [d for d in client.webhook_deliveries(endpoint["id"])
                                        if d["attempts"] > 1 and d["status"] == "succeeded"], "settled", 10)
            assert retried[0]["last_status"] == 200
        finally:
            client.delete_webhook(endpoint["id"])


def test_a_failed_delivery_records_the_answer_and_can_be_redelivered(client: Client, media: Path) -> None:
    with webhook_receiver(statuses=[503]) as receiver:
        endpoint = client.add_webhook(receiver.url, events=["job.uploaded"])
        receiver.secret = endpoint["secret"]
        try:
            job_id = submit(client, media / "sample.mp4", STREAM)
            receiver.wait_for(_accepted_all(job_id, ("job.uploaded",)), timeout=60)
            (delivery,) = wait_for(lambda: [d for d in client.webhook_deliveries(endpoint["id"])
                                            if d["job_id"] == job_id and d["status"] == "succeeded"], "settled", 10)
            assert delivery["attempts"] == 2 and delivery["status"] == "succeeded"
            # Only the subscribed type was sent.
            time.sleep(1.0)
            assert {r.payload["type"] for r in receiver.received} == {"job.uploaded"}
            again = client._call("POST", f"/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/redeliver")
            assert again["status"] == "pending" and again["redeliveries"] == 1
            got = receiver.wait_for(lambda rs: len(rs) == 3, timeout=30)
            assert got[2].msg_id == got[0].msg_id and got[2].verified
        finally:
            client.delete_webhook(endpoint["id"])


def test_a_rotated_secret_signs_beside_the_old_one(client: Client, media: Path) -> None:
    with webhook_receiver() as receiver:
        endpoint = client.add_webhook(receiver.url, events=["job.uploaded"])
        rotated = client._call("POST", f"/webhooks/{endpoint['id']}/rotate")
        assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_expires_at"] > time.time()
        try:
            job_id = submit(client, media / "sample.mp4", STREAM)
            for secret in (endpoint["secret"], rotated["secret"]):  # a receiver with either verifies
                receiver.secret = secret
                got = receiver.wait_for(_accepted_all(job_id, ("job.uploaded",)), timeout=60)
                from standardwebhooks.webhooks import Webhook
                Webhook(secret).verify(got[-1].body, got[-1].headers)
        finally:
            client.delete_webhook(endpoint["id"])


def test_private_addresses_are_refused(client: Client, stack: Stack) -> None:
    for url in ("http://169.254.169.254/latest/meta-data", "http://10.0.0.1/x", "http://[::ffff:192.168.1.1]/",
                "ftp://example.com/", "http://user:pw@example.com/"):
        with pytest.raises(ApiError, match="HTTP 400"):
            client.add_webhook(url)


def test_endpoints_are_per_owner(client: Client, stack: Stack) -> None:
    endpoint = client.add_webhook("https://example.com/hooks")
    other_key = _other_owner_key(stack)
    try:
        other = Client(stack.api_url, other_key)
        assert other._call("GET", "/webhooks") == {"webhooks": []}
        for method, path in (("GET", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/rotate")):
            with pytest.raises(ApiError, match="HTTP 404"):
                other._call(method, f"/webhooks/{endpoint['id']}{path}")
        listed = client._call("GET", "/webhooks")["webhooks"]
        assert [e["id"] for e in listed if e["id"] == endpoint["id"]] and "secret" not in listed[0]
    finally:
        client.delete_webhook(endpoint["id"])


def _other_owner_key(stack: Stack) -> str:
    from chalicelib.stores.services import get_services
    return get_services().keys.create("someone-else", "webhook test")


def test_long_poll_answers_at_the_next_change(client: Client, media: Path, stack: Stack) -> None:
    job_id = submit(client, media / "sample.mp4", STREAM)
    first = client.job(job_id)
    started = time.monotonic()
    changed = client.job(job_id, wait=20, since=first["version"])
    assert changed["version"] > first["version"] and time.monotonic() - started < 19
    final = client.wait(job_id, timeout=240)
    assert final["state"] == "done"
    started = time.monotonic()
    again = client.job(job_id, wait=20, since=final["version"])  # final: answered at once
    assert again["version"] == final["version"] and time.monotonic() - started < 2
    resp = requests.get(f"{stack.api_url}/jobs/{job_id}", params={"wait": "30"},
                        headers={"X-Api-Key": stack.api_key}, timeout=10)
    assert resp.status_code == 400 and "wait" in resp.json()["error"]
