"""The webhook sender in process, on a real Valkey with real receivers: giving up, disabling."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from chalicelib.model.kinds import JobState
from chalicelib.model.settings import Settings
from chalicelib.stores.clients import make_redis
from chalicelib.stores.services import Services, build_services, webhook_store
from chalicelib.stores.webhooks import WebhookStore
from tests.support.receivers import webhook_receiver
from tests.support.stack import wait_for
from workers.notify.sender import Sender


@pytest.fixture
def world(redis_url: str) -> Iterator[tuple[Services, WebhookStore, Sender]]:
    settings = replace(Settings(), key_prefix=f"t{uuid.uuid4().hex[:8]}", webhook_allow_loopback=True,
                       webhook_retry_base_seconds=0.05, webhook_retry_window_seconds=1.0,
                       webhook_disable_after_seconds=3600.0, webhook_timeout=2.0)
    r = make_redis(redis_url)
    svc = build_services(settings, r, s3=None)
    store = webhook_store(settings, r)
    sender = Sender(svc, store, "test-sender")
    thread = threading.Thread(target=sender.run, daemon=True)
    thread.start()
    yield svc, store, sender
    sender.stop.set()
    thread.join(10)


def _uploaded_job(svc: Services) -> str:
    job = svc.jobs.create({"owner": "alice", "filename": "a.mp4", "size": 1, "source_key": "k",
                           "options": {"outputs": ["mp4"]}})
    assert svc.jobs.claim(job, "tok", 300) == "claimed"
    return job


def test_a_receiver_that_never_accepts_is_given_up_on_after_the_window(world: tuple[Services, WebhookStore,
                                                                                     Sender]) -> None:
    svc, store, _ = world
    with webhook_receiver(statuses=[500] * 1000) as receiver:
        endpoint = store.create_endpoint("alice", receiver.url, [])
        _uploaded_job(svc)

        def given_up() -> dict | None:
            found = store.deliveries("alice", endpoint["id"])
            return found[0] if found and found[0]["status"] == "failed" else None
        delivery = wait_for(given_up, "the delivery to be given up", timeout=15)
    assert delivery["attempts"] >= 3 and delivery["last_status"] == 500
    assert len(delivery["last_response"]) == 1024  # the receiver's 5000-byte page, cut
    assert delivery["created_at"] + 1.0 <= delivery["last_attempt_at"] + 0.5
    assert len({r.msg_id for r in receiver.received}) == 1


def test_an_endpoint_failing_too_long_is_disabled_with_an_event(world: tuple[Services, WebhookStore,
                                                                               Sender]) -> None:
    svc, store, sender = world
    object.__setattr__(sender, "settings", replace(sender.settings, webhook_disable_after_seconds=0.3,
                                                   webhook_retry_window_seconds=60.0))
    with webhook_receiver(statuses=[500] * 1000) as failing, webhook_receiver() as watcher:
        bad = store.create_endpoint("alice", failing.url, [])
        good = store.create_endpoint("alice", watcher.url, ["webhook.disabled"])
        watcher.secret = good["secret"]
        _uploaded_job(svc)
        (notice,) = watcher.wait_for(lambda got: len(got) >= 1, timeout=15)
        assert notice.verified and notice.payload["type"] == "webhook.disabled"
        assert notice.payload["data"]["id"] == bad["id"] and notice.payload["data"]["state"] == "disabled"
        assert store.endpoint("alice", bad["id"])["disabled_reason"].startswith("every delivery failed")
        # Nothing more goes to a disabled endpoint.
        tried = len(failing.received)
        job = _uploaded_job(svc)
        svc.jobs.transition(job, [JobState.QUEUED], JobState.FAILED, error="x")
        wait_for(lambda: all(d["status"] == "failed" for d in store.deliveries("alice", bad["id"])), "settled", 10)
        assert len(failing.received) <= tried + 1
