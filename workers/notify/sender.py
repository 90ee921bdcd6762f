"""The webhook sender (``python -m workers --role notifier``): fans the outbox out into
deliveries and delivers them, at least once, with backoff.

Two loops share one process: the fan-out reads new outbox entries (blocking, so an event is
picked up within milliseconds) and turns each into one delivery per subscribed endpoint; the
delivery loop claims due deliveries and posts them from a thread pool. Every step is a Redis
script, so any number of senders can run, and one that dies mid-delivery only delays it: the
claim lapses and another sender (or its restart) sends it again with the same ``webhook-id``.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any

from chalicelib.logs import get_logger
from chalicelib.model.errors import NotFoundError
from chalicelib.model.webhooks import EventType, retry_delay, sign_headers
from chalicelib.rest.views import job_view
from chalicelib.stores.services import Services
from chalicelib.stores.webhooks import Outgoing, WebhookStore
from workers.notify.transport import DeliveryRefused, Resolver, post, system_resolver

FAN_OUT_BATCH = 100
RECLAIM_IDLE_MS = 30_000   # an outbox entry read but not fanned out for this long: its reader died
IDLE_POLL_SECONDS = 0.5    # how often the delivery loop looks for due retries (or other senders' fan-outs)
OUTBOX_TRIM_SECONDS = 60.0


def payload(svc: Services, store: WebhookStore, fields: dict[str, str]) -> bytes:
    """The Standard Webhooks body of an outbox entry: ``{type, timestamp, data}``; ``data`` is the
    job as ``GET /jobs/{id}`` shows it when the event is fanned out (or the disabled endpoint)."""
    kind = fields.get("type", "")
    data: dict[str, Any]
    if kind == EventType.WEBHOOK_DISABLED:
        try:
            endpoint = store.endpoint(None, fields.get("endpoint", ""))
        except NotFoundError:
            endpoint = {"id": fields.get("endpoint")}
        data = {k: endpoint.get(k) for k in ("id", "url", "events", "state", "disabled_at", "disabled_reason")}
    else:
        try:
            data = job_view(svc, svc.jobs.get(fields.get("job", "")), with_parts=False)
        except NotFoundError:  # deleted before its event went out
            data = {"job_id": fields.get("job"), "state": None}
    at = datetime.fromtimestamp(float(fields.get("at") or time.time()), UTC)
    return json.dumps({"type": kind, "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                       "data": data}, separators=(",", ":")).encode()


class Sender:
    """Fans out and delivers until ``stop`` is set."""

    def __init__(self, svc: Services, store: WebhookStore, name: str | None = None,
                 resolver: Resolver = system_resolver) -> None:
        self.svc = svc
        self.store = store
        self.settings = svc.settings
        self.name = name or f"notifier-{secrets.token_hex(4)}"
        self.resolver = resolver
        self.stop = threading.Event()
        self._wake = threading.Event()
        self._slots = threading.Semaphore(self.settings.webhook_concurrency)
        self._pool = ThreadPoolExecutor(self.settings.webhook_concurrency, thread_name_prefix="webhook")
        self.log = get_logger()

    @property
    def claim_seconds(self) -> float:
        """How long a claimed delivery is ours: the attempt's deadline with a margin."""
        return self.settings.webhook_timeout * 3

    def run(self) -> None:
        """Both loops, until ``stop``; then wait for the deliveries in flight."""
        self.log.info("webhook sender started", extra={"worker": self.name})
        try:
            self.store.ensure_group()
        except Exception:  # Redis not up yet: read_events creates the group when it answers
            self.log.warning("could not create the fan-out group yet", exc_info=True)
        fan_out = threading.Thread(target=self._fan_out_loop, name="fan-out", daemon=True)
        fan_out.start()
        try:
            self._deliver_loop()
        finally:
            fan_out.join(timeout=5)
            self._pool.shutdown(wait=True)
            self.log.info("webhook sender stopped", extra={"worker": self.name})

    # -- fan-out ---------------------------------------------------------------------------
    def _fan_out_loop(self) -> None:
        trimmed = 0.0
        while not self.stop.is_set():
            try:
                if self.fan_out_once(block_ms=1000) == 0 and time.monotonic() - trimmed > OUTBOX_TRIM_SECONDS:
                    self.store.trim_outbox()
                    trimmed = time.monotonic()
            except Exception:  # Redis down or restarting: the entries wait in the outbox
                self.log.warning("fan-out failed; retrying", exc_info=True)
                self.stop.wait(1.0)

    def fan_out_once(self, block_ms: int = 0) -> int:
        """Fan out what the outbox holds for us; returns the number of entries handled (a missing
        consumer group is created by ``read_events``)."""
        entries = self.store.read_events(self.name, FAN_OUT_BATCH, block_ms, RECLAIM_IDLE_MS)
        for stream_id, fields in entries:
            if self.store.fan_out(stream_id, fields, payload(self.svc, self.store, fields)):
                self._wake.set()
        return len(entries)

    # -- delivery --------------------------------------------------------------------------
    def _deliver_loop(self) -> None:
        while not self.stop.is_set():
            self._wake.clear()  # before claiming: a fan-out from now on cuts the wait below short
            try:
                started = self.deliver_due()
            except Exception:  # Redis down: claims wait in the due set
                self.log.warning("claiming deliveries failed; retrying", exc_info=True)
                self.stop.wait(1.0)
                continue
            if not started:
                self._wake.wait(IDLE_POLL_SECONDS)

    def deliver_due(self) -> int:
        """Start an attempt for every due delivery a free slot can take; returns how many."""
        free = 0
        while self._slots.acquire(blocking=False):
            free += 1
        ids = self.store.claim_due(free, self.claim_seconds)
        for _ in range(free - len(ids)):
            self._slots.release()
        for delivery_id in ids:
            self._pool.submit(self._attempt_in_slot, delivery_id)
        return len(ids)

    def _attempt_in_slot(self, delivery_id: str) -> None:
        try:
            self.attempt(delivery_id)
        except Exception:  # Redis trouble while settling: the claim lapses, it is sent again
            self.log.warning("delivery attempt could not be recorded", exc_info=True,
                             extra={"delivery": delivery_id})
        finally:
            self._slots.release()
            self._wake.set()  # a free slot: claim the next due delivery now, not at the next poll

    def attempt(self, delivery_id: str) -> str:
        """Send one attempt of a claimed delivery and record its outcome (returned)."""
        outgoing = self.store.outgoing(delivery_id)
        if isinstance(outgoing, str):
            return self.store.settle(delivery_id, "failed", error=outgoing)
        headers = sign_headers(outgoing.secrets, outgoing.msg_id, int(time.time()), outgoing.body)
        try:
            answer = post(outgoing.url, outgoing.body, headers, timeout=self.settings.webhook_timeout,
                          resolver=self.resolver, allow_loopback=self.settings.webhook_allow_loopback)
        except DeliveryRefused as exc:
            return self._failed(outgoing, None, str(exc), "")
        except (OSError, HTTPException, ValueError) as exc:  # a failed attempt: no connection, no answer
            return self._failed(outgoing, None, f"{type(exc).__name__}: {exc}"[:300], "")
        if 200 <= answer.status < 300:
            outcome = self.store.settle(delivery_id, "succeeded", status=answer.status, response=answer.body)
            self.log.info("webhook delivered", extra={"delivery": delivery_id, "webhook_id": outgoing.msg_id,
                                                      "attempt": outgoing.attempt,
                                                      "latency": round(time.time() - outgoing.created_at, 3)})
            return outcome
        note = "redirects are not followed" if 300 <= answer.status < 400 else f"answered {answer.status}"
        return self._failed(outgoing, answer.status, note, answer.body)

    def _failed(self, outgoing: Outgoing, status: int | None, error: str, response: str) -> str:
        """A failed attempt: retry with backoff while within the retry window, else give up."""
        settings = self.settings
        elapsed = time.time() - outgoing.created_at
        if elapsed >= settings.webhook_retry_window_seconds:
            outcome, next_at = "failed", 0.0
        else:
            outcome, next_at = "retry", time.time() + retry_delay(outgoing.attempt, settings.webhook_retry_base_seconds)
        result = self.store.settle(outgoing.delivery_id, outcome, status=status, error=error, response=response,
                                   next_attempt=next_at, disable_after=settings.webhook_disable_after_seconds)
        self.log.info("webhook attempt failed", extra={"delivery": outgoing.delivery_id, "error": error,
                                                       "attempt": outgoing.attempt, "outcome": result})
        if result == "disabled":
            self._wake.set()
        return result
