"""Webhook endpoints, the event outbox and deliveries, in Redis.

Keys (``P`` = the key prefix):

- ``P:events``                 the outbox stream; job scripts append to it (chalicelib/stores/jobs.py)
                               and the sender's consumer group ``fanout`` reads it
- ``P:webhook:{id}``           an endpoint (hash); ``P:owner:{owner}:webhooks`` its owner's index
- ``P:wh-event:{msg}``         an event's payload, signed and sent as is by every attempt
- ``P:delivery:{id}``          one event to one endpoint (hash); ``P:webhook:{id}:deliveries`` the
                               endpoint's latest deliveries, newest last
- ``P:webhooks:due``           delivery id → when its next attempt is due (epoch seconds)

A delivery is always in exactly one place: due (waiting, or claimed by a sender until its claim
lapses) or finished. Fan-out is idempotent (a delivery's id is derived from the event and the
endpoint), so an event read twice after a sender died is still delivered once per endpoint;
every attempt of it carries the same ``webhook-id``.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import redis

from chalicelib.model.errors import ConflictError, LimitExceededError, NotFoundError
from chalicelib.model.webhooks import DeliveryStatus, EndpointState, new_secret
from chalicelib.stores.jobs import outbox_key

GROUP = "fanout"
MAX_LISTED_DELIVERIES = 1000  # per endpoint; older ones leave its index (and expire)
_ENDPOINT_JSON = ("events",)

# KEYS: outbox, due zset. ARGV: stream id, message id, owner, type, body, now, event ttl,
# then endpoint ids of the owner. Creates the deliveries of the event (once) and acks it.
_FAN_OUT = """
local prefix, stream_id, msg, owner, kind = ARGV[10], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, ttl = tonumber(ARGV[6]), tonumber(ARGV[7])
local created = 0
local event_key = prefix .. 'wh-event:' .. msg
if redis.call('EXISTS', event_key) == 0 then
  redis.call('HSET', event_key, 'id', msg, 'type', kind, 'body', ARGV[5], 'created_at', now)
  redis.call('EXPIRE', event_key, ttl)
end
for _, endpoint in ipairs(redis.call('ZRANGE', prefix .. 'owner:' .. owner .. ':webhooks', 0, -1)) do
  local ek = prefix .. 'webhook:' .. endpoint
  local e = redis.call('HMGET', ek, 'state', 'events', 'created_at')
  local wanted = e[1] == 'enabled' and tonumber(e[3]) <= tonumber(ARGV[9])
  if wanted and e[2] and e[2] ~= '[]' then
    wanted = false
    for _, t in ipairs(cjson.decode(e[2])) do if t == kind then wanted = true end end
  end
  if wanted then
    local id = 'dlv_' .. redis.sha1hex(msg .. '/' .. endpoint):sub(1, 24)
    local dk = prefix .. 'delivery:' .. id
    if redis.call('EXISTS', dk) == 0 then
      redis.call('HSET', dk, 'id', id, 'endpoint', endpoint, 'msg', msg, 'type', kind, 'job', ARGV[8],
                 'status', 'pending', 'attempts', 0, 'created_at', now, 'next_attempt_at', now)
      redis.call('EXPIRE', dk, ttl)
      redis.call('ZADD', KEYS[2], now, id)
      local index = ek .. ':deliveries'
      redis.call('ZADD', index, now, id)
      redis.call('ZREMRANGEBYRANK', index, 0, -1 - tonumber(ARGV[11]))
      created = created + 1
    end
  end
end
redis.call('XACK', KEYS[1], 'fanout', stream_id)
return created
"""

# KEYS: due zset. ARGV: now, claim seconds, max, prefix. Take due deliveries: each is pushed
# ahead by the claim, so a sender that dies mid-delivery leaves it due again when the claim lapses.
_CLAIM_DUE = """
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
  local dk = ARGV[4] .. 'delivery:' .. id
  redis.call('HINCRBY', dk, 'attempts', 1)
  redis.call('HSET', dk, 'status', 'sending', 'last_attempt_at', now)
end
return ids
"""

# KEYS: due zset, delivery hash, endpoint hash, outbox. ARGV: now, outcome (succeeded|retry|
# failed), status code, error, response, next attempt, disable-after seconds, owner.
_SETTLE = """
local now = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('ZREM', KEYS[1], ARGV[9]) return 'gone' end
redis.call('HSET', KEYS[2], 'last_status', ARGV[3], 'last_error', ARGV[4], 'last_response', ARGV[5])
if ARGV[2] == 'succeeded' then
  redis.call('ZREM', KEYS[1], ARGV[9])
  redis.call('HSET', KEYS[2], 'status', 'succeeded', 'succeeded_at', now, 'next_attempt_at', '')
  redis.call('HDEL', KEYS[3], 'failing_since')
  return 'succeeded'
end
if ARGV[2] == 'retry' then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[6]), ARGV[9])
  redis.call('HSET', KEYS[2], 'status', 'pending', 'next_attempt_at', ARGV[6])
else
  redis.call('ZREM', KEYS[1], ARGV[9])
  redis.call('HSET', KEYS[2], 'status', 'failed', 'next_attempt_at', '')
end
if redis.call('EXISTS', KEYS[3]) == 1 and redis.call('HGET', KEYS[3], 'state') == 'enabled' then
  redis.call('HSETNX', KEYS[3], 'failing_since', now)
  local since = tonumber(redis.call('HGET', KEYS[3], 'failing_since'))
  if now - since >= tonumber(ARGV[7]) then
    redis.call('HSET', KEYS[3], 'state', 'disabled', 'disabled_at', now,
               'disabled_reason', 'every delivery failed for ' .. math.floor(now - since) .. ' s')
    redis.call('XADD', KEYS[4], '*', 'type', 'webhook.disabled', 'owner', ARGV[8],
               'endpoint', redis.call('HGET', KEYS[3], 'id'), 'at', now)
    return 'disabled'
  end
end
return ARGV[2]
"""


@dataclass(frozen=True)
class Outgoing:
    """What one attempt of a delivery sends: where, what, signed with which secrets."""

    delivery_id: str
    msg_id: str
    url: str
    body: bytes
    secrets: list[str]
    attempt: int
    created_at: float


class WebhookStore:
    """Endpoints, outbox reading, deliveries."""

    def __init__(self, r: redis.Redis, prefix: str, *, max_endpoints: int = 20,
                 event_ttl_seconds: int = 7 * 24 * 3600) -> None:
        self.r: Any = r
        self.prefix = f"{prefix}:"
        self.outbox = outbox_key(prefix)
        self.due_key = f"{prefix}:webhooks:due"
        self.max_endpoints = max_endpoints
        self.event_ttl = event_ttl_seconds
        self._fan_out = r.register_script(_FAN_OUT)
        self._claim_due = r.register_script(_CLAIM_DUE)
        self._settle = r.register_script(_SETTLE)

    # -- keys ----------------------------------------------------------------------------
    def _endpoint_key(self, endpoint_id: str) -> str:
        return f"{self.prefix}webhook:{endpoint_id}"

    def _owner_key(self, owner: str) -> str:
        return f"{self.prefix}owner:{owner}:webhooks"

    def _delivery_key(self, delivery_id: str) -> str:
        return f"{self.prefix}delivery:{delivery_id}"

    def _event_key(self, msg_id: str) -> str:
        return f"{self.prefix}wh-event:{msg_id}"

    # -- endpoints -----------------------------------------------------------------------
    def create_endpoint(self, owner: str, url: str, events: list[str], description: str = "") -> dict[str, Any]:
        """A new enabled endpoint of ``owner``, with its signing secret (the only time it is shown,
        with ``rotate_secret``'s)."""
        if self.r.zcard(self._owner_key(owner)) >= self.max_endpoints:
            raise LimitExceededError(f"you already have {self.max_endpoints} webhook endpoints; delete one first")
        endpoint_id = f"ep_{secrets.token_hex(8)}"
        now = time.time()
        record: dict[str, Any] = {"id": endpoint_id, "owner": owner, "url": url, "events": json.dumps(events),
                  "description": description, "secret": new_secret(), "state": EndpointState.ENABLED,
                  "created_at": now, "updated_at": now}
        pipe = self.r.pipeline()
        pipe.hset(self._endpoint_key(endpoint_id), mapping=record)
        pipe.zadd(self._owner_key(owner), {endpoint_id: now})
        pipe.execute()
        return _endpoint(record)

    def endpoint(self, owner: str | None, endpoint_id: str) -> dict[str, Any]:
        """One endpoint (with its secrets); NotFoundError if unknown or not ``owner``'s."""
        raw = self.r.hgetall(self._endpoint_key(endpoint_id)) if _valid(endpoint_id, "ep_") else {}
        if not raw or (owner is not None and raw.get("owner") != owner):
            raise NotFoundError(f"webhook endpoint {endpoint_id} not found")
        return _endpoint(raw)

    def endpoints(self, owner: str) -> list[dict[str, Any]]:
        """``owner``'s endpoints, oldest first."""
        pipe = self.r.pipeline()
        for endpoint_id in self.r.zrange(self._owner_key(owner), 0, -1):
            pipe.hgetall(self._endpoint_key(endpoint_id))
        return [_endpoint(raw) for raw in pipe.execute() if raw]

    def update_endpoint(self, owner: str, endpoint_id: str, **fields: Any) -> dict[str, Any]:
        """Change the URL, events, description or state (enabling clears the failure record)."""
        self.endpoint(owner, endpoint_id)
        changes: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        if "events" in changes:
            changes["events"] = json.dumps(changes["events"])
        key = self._endpoint_key(endpoint_id)
        pipe = self.r.pipeline()
        pipe.hset(key, mapping={**changes, "updated_at": time.time()})
        if changes.get("state") == EndpointState.ENABLED:
            pipe.hdel(key, "failing_since", "disabled_at", "disabled_reason")
        pipe.execute()
        return self.endpoint(owner, endpoint_id)

    def rotate_secret(self, owner: str, endpoint_id: str, grace_seconds: float) -> dict[str, Any]:
        """A new secret; the previous one still signs (beside it) for ``grace_seconds``."""
        current = self.endpoint(owner, endpoint_id)
        self.r.hset(self._endpoint_key(endpoint_id), mapping={
            "secret": new_secret(), "previous_secret": current["secret"],
            "previous_until": time.time() + grace_seconds, "updated_at": time.time()})
        return self.endpoint(owner, endpoint_id)

    def delete_endpoint(self, owner: str, endpoint_id: str) -> None:
        """Delete an endpoint; its pending deliveries fail when they come due."""
        self.endpoint(owner, endpoint_id)
        pipe = self.r.pipeline()
        pipe.delete(self._endpoint_key(endpoint_id))
        pipe.zrem(self._owner_key(owner), endpoint_id)
        pipe.execute()

    # -- deliveries (API side) -------------------------------------------------------------
    def deliveries(self, owner: str, endpoint_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The endpoint's latest deliveries, newest first."""
        self.endpoint(owner, endpoint_id)
        ids = self.r.zrevrange(f"{self._endpoint_key(endpoint_id)}:deliveries", 0, limit - 1)
        pipe = self.r.pipeline()
        for delivery_id in ids:
            pipe.hgetall(self._delivery_key(delivery_id))
        return [_delivery(raw) for raw in pipe.execute() if raw]

    def delivery(self, owner: str, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
        """One delivery of the endpoint; NotFoundError otherwise."""
        self.endpoint(owner, endpoint_id)
        raw = self.r.hgetall(self._delivery_key(delivery_id)) if _valid(delivery_id, "dlv_") else {}
        if not raw or raw.get("endpoint") != endpoint_id:
            raise NotFoundError(f"delivery {delivery_id} not found")
        return _delivery(raw)

    def redeliver(self, owner: str, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
        """Send a finished delivery again now (same ``webhook-id``, a new attempt)."""
        found = self.delivery(owner, endpoint_id, delivery_id)
        if found["status"] in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            raise ConflictError(f"delivery {delivery_id} is still {found['status']}")
        if not self.r.exists(self._event_key(found["msg"])):
            raise ConflictError(f"the event of delivery {delivery_id} is older than its retention")
        now = time.time()
        pipe = self.r.pipeline()
        pipe.hset(self._delivery_key(delivery_id), mapping={"status": DeliveryStatus.PENDING, "next_attempt_at": now})
        pipe.hincrby(self._delivery_key(delivery_id), "redeliveries", 1)
        pipe.zadd(self.due_key, {delivery_id: now})
        pipe.execute()
        return self.delivery(owner, endpoint_id, delivery_id)

    # -- the sender's side -------------------------------------------------------------------
    def ensure_group(self) -> None:
        """Create the fan-out consumer group (from the outbox's first entry) if it is missing."""
        try:
            self.r.xgroup_create(self.outbox, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def read_events(self, consumer: str, count: int, block_ms: int,
                    reclaim_idle_ms: int) -> list[tuple[str, dict[str, str]]]:
        """Outbox entries for ``consumer``: first any another consumer read and left unacked for
        ``reclaim_idle_ms`` (it died), then new ones (waiting up to ``block_ms``; 0: not at all)."""
        try:
            _, claimed, *_ = self.r.xautoclaim(self.outbox, GROUP, consumer, reclaim_idle_ms, "0-0", count=count)
            if claimed:
                return [(i, f) for i, f in claimed if f]
            # BLOCK 0 would wait forever: no block at all then.
            got = self.r.xreadgroup(GROUP, consumer, {self.outbox: ">"}, count=count, block=block_ms or None)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self.ensure_group()  # Valkey lost the group (a restart without persistence): from the start
            return []
        return [(i, f) for _, entries in got for i, f in entries if f]

    def fan_out(self, stream_id: str, fields: dict[str, str], body: bytes) -> int:
        """Create the deliveries of one outbox entry to its owner's subscribed endpoints (those
        that existed when it happened) and ack it; returns how many were created."""
        at = float(fields.get("at") or time.time())
        args: list[Any] = [stream_id, message_id(stream_id), fields.get("owner", ""), fields.get("type", ""), body,
                time.time(), self.event_ttl, fields.get("job", ""), at, self.prefix, MAX_LISTED_DELIVERIES]
        return int(self._fan_out(keys=[self.outbox, self.due_key], args=args))

    def trim_outbox(self) -> None:
        """Drop outbox entries every consumer has acked (the oldest pending one stays)."""
        pending = self.r.xpending_range(self.outbox, GROUP, min="-", max="+", count=1)
        if pending:
            self.r.xtrim(self.outbox, minid=pending[0]["message_id"], approximate=False)
            return
        groups = {g["name"]: g for g in self.r.xinfo_groups(self.outbox)}
        last = groups.get(GROUP, {}).get("last-delivered-id")
        if last and last != "0-0":
            self.r.xtrim(self.outbox, minid=_next_id(last), approximate=False)

    def claim_due(self, limit: int, claim_seconds: float) -> list[str]:
        """Up to ``limit`` deliveries due now, each claimed for ``claim_seconds``."""
        if limit <= 0:
            return []
        return [str(i) for i in self._claim_due(keys=[self.due_key],
                                                args=[time.time(), claim_seconds, limit, self.prefix])]

    def outgoing(self, delivery_id: str) -> Outgoing | str:
        """What to send for a claimed delivery, or why it cannot be sent (endpoint deleted or
        disabled, event expired)."""
        raw = self.r.hgetall(self._delivery_key(delivery_id))
        if not raw:
            return "the delivery expired"
        endpoint = self.r.hgetall(self._endpoint_key(raw["endpoint"]))
        if not endpoint:
            return "the endpoint was deleted"
        if endpoint.get("state") != EndpointState.ENABLED:
            return "the endpoint is disabled"
        body = self.r.hget(self._event_key(raw["msg"]), "body")
        if body is None:
            return "the event is older than its retention"
        valid = [endpoint["secret"]]
        if endpoint.get("previous_secret") and float(endpoint.get("previous_until") or 0) > time.time():
            valid.append(endpoint["previous_secret"])
        return Outgoing(delivery_id, raw["msg"], endpoint["url"], body.encode(), valid, int(raw.get("attempts") or 1),
                        float(raw["created_at"]))

    def settle(self, delivery_id: str, outcome: str, *, status: int | None = None, error: str = "",
               response: str = "", next_attempt: float = 0.0, disable_after: float = 5 * 86400) -> str:
        """Record an attempt: ``succeeded``, ``retry`` at ``next_attempt`` or ``failed`` (given up).
        A failure may disable the endpoint (failing for ``disable_after`` seconds): then
        ``disabled`` is returned and a ``webhook.disabled`` event is in the outbox."""
        raw = self.r.hmget(self._delivery_key(delivery_id), "endpoint")
        endpoint_id = raw[0] or ""
        owner = self.r.hget(self._endpoint_key(endpoint_id), "owner") or ""
        keys = [self.due_key, self._delivery_key(delivery_id), self._endpoint_key(endpoint_id), self.outbox]
        args: list[Any] = [time.time(), outcome, "" if status is None else status, error[:500], response, next_attempt,
                disable_after, owner, delivery_id]
        return str(self._settle(keys=keys, args=args))

    def backlog(self) -> dict[str, int]:
        """Deliveries waiting (due or not) and outbox entries not yet fanned out (for metrics)."""
        lag = 0
        try:
            groups = self.r.xinfo_groups(self.outbox)
            lag = int(next((g.get("lag") or 0 for g in groups if g["name"] == GROUP), 0))
        except redis.ResponseError:
            pass
        return {"deliveries": int(self.r.zcard(self.due_key)), "events": lag}


def message_id(stream_id: str) -> str:
    """The ``webhook-id`` of an outbox entry: the same for every attempt and every endpoint."""
    return f"msg_{stream_id}"


def _next_id(stream_id: str) -> str:
    ms, seq = stream_id.split("-")
    return f"{ms}-{int(seq) + 1}"


def _valid(value: str, prefix: str) -> bool:
    return value.startswith(prefix) and len(value) <= 64 and value[len(prefix):].isalnum()


def _endpoint(raw: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(raw)
    out["events"] = json.loads(raw.get("events") or "[]")
    for k in ("created_at", "updated_at", "failing_since", "disabled_at", "previous_until"):
        if raw.get(k):
            out[k] = float(raw[k])
    return out


def _delivery(raw: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(raw)
    for k in ("attempts", "redeliveries"):
        out[k] = int(raw.get(k) or 0)
    for k in ("created_at", "next_attempt_at", "last_attempt_at", "succeeded_at"):
        out[k] = float(raw[k]) if raw.get(k) else None
    out["last_status"] = int(raw["last_status"]) if raw.get("last_status") else None
    return out
