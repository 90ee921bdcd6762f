"""Reliable work queue on Redis lists with leases, retries and a dead set.

Every task is always in exactly one place: the ready list, the in-flight sorted set
(score = lease deadline, Redis server ms), the dead sorted set (score = time of death),
or gone (acked / dropped). Every transition is one Lua script, so a worker that dies
between two round trips cannot lose or duplicate a task; its lease simply expires and
``reap()`` (run periodically by any worker) hands the task to someone else.

Keys, for ``ReliableQueue(r, "process", prefix="ff")`` (``P`` = ``ff:q:process``):

- ``P:ready``     list of task ids, popped from the head
- ``P:inflight``  zset id -> lease deadline (ms, Redis ``TIME``)
- ``P:dead``      zset id -> time of death (ms)
- ``P:payload``   hash id -> payload JSON (opaque to Lua, never re-encoded)
- ``P:job``       hash id -> job_id
- ``P:attempts``  hash id -> number of pops so far
- ``P:lease``     hash id -> current lease token (only while in flight)
- ``P:error``     hash id -> last error
- ``P:done:<token>`` string, short TTL: outcome of the op that ended that lease, so a
  client retry of ``ack``/``fail``/``release`` whose first reply was lost returns the
  same answer instead of "lease lost".
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

from redis import Redis

from chalicelib.model.errors import QueueError
from chalicelib.model.tasks import ReapedTask, Task

LEASE_EXPIRED = "lease expired: worker died or stalled"

# Seconds a lease-ending outcome is remembered for client retries (redis-py's Retry gives
# up long before this).
_DONE_TTL_MS = 3_600_000
_PUSH_BATCH = 500
_REAP_BATCH = 100

# Shared by every script. KEYS[1..8] always have this layout; deadlines come from the
# Redis server clock so workers on hosts with skewed clocks agree on expiry.
_PRELUDE = """
local ready, inflight, dead = KEYS[1], KEYS[2], KEYS[3]
local payloads, jobs, attempts, leases, errors = KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function forget(id)
  redis.call('ZREM', inflight, id)
  redis.call('ZREM', dead, id)
  for _, h in ipairs({payloads, jobs, attempts, leases, errors}) do
    redis.call('HDEL', h, id)
  end
end

-- End the lease of an in-flight task: back to ready, or dead when attempts are used up.
local function settle(id, err, front, max_attempts, now)
  redis.call('ZREM', inflight, id)
  redis.call('HDEL', leases, id)
  if err ~= '' then
    redis.call('HSET', errors, id, err)
  end
  local n = tonumber(redis.call('HGET', attempts, id) or '0')
  if n >= max_attempts then
    redis.call('ZADD', dead, now, id)
    return 1, n
  end
  if front then
    redis.call('LPUSH', ready, id)
  else
    redis.call('RPUSH', ready, id)
  end
  return 0, n
end
"""

# The one way a task enters a queue, also embedded in other modules' scripts (a job's state
# change and its tasks' enqueue must be one atomic step): ``push_task(base, id, job, payload)``
# with the queue's 8 keys at KEYS[base..base+7]. HSETNX makes a retried push a no-op.
PUSH_LUA = """
local function push_task(base, id, job, payload)
  if redis.call('HSETNX', KEYS[base + 3], id, payload) == 0 then return 0 end
  redis.call('HSET', KEYS[base + 4], id, job)
  redis.call('HSET', KEYS[base + 5], id, 0)
  redis.call('RPUSH', KEYS[base], id)
  return 1
end
"""

# ARGV: (id, job_id, payload)*.
_PUSH = _PRELUDE + PUSH_LUA + """
local added = 0
for i = 1, #ARGV, 3 do
  added = added + push_task(1, ARGV[i], ARGV[i + 1], ARGV[i + 2])
end
return added
"""

# ARGV: token, lease_ms
_POP = _PRELUDE + """
local id = redis.call('LPOP', ready)
while id do
  local payload = redis.call('HGET', payloads, id)
  if payload then
    redis.call('ZADD', inflight, now_ms() + tonumber(ARGV[2]), id)
    redis.call('HSET', leases, id, ARGV[1])
    local n = redis.call('HINCRBY', attempts, id, 1)
    return {id, payload, n}
  end
  id = redis.call('LPOP', ready)
end
return false
"""

# ARGV: id, token, lease_ms
_HEARTBEAT = _PRELUDE + """
if redis.call('HGET', leases, ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('ZADD', inflight, now_ms() + tonumber(ARGV[3]), ARGV[1])
return 1
"""

# KEYS[9] = P:done:<token>. ARGV: id, token, done_ttl_ms
_ACK = _PRELUDE + """
if redis.call('HGET', leases, ARGV[1]) ~= ARGV[2] then
  if redis.call('GET', KEYS[9]) == 'ack' then
    return 1
  end
  return 0
end
forget(ARGV[1])
redis.call('SET', KEYS[9], 'ack', 'PX', ARGV[3])
return 1
"""

# KEYS[9] = P:done:<token>. ARGV: id, token, done_ttl_ms, op, error ('' = none),
# front (0/1), refund (0/1), max_attempts. Returns {dead, attempts} or nil if lease lost.
_SETTLE = _PRELUDE + """
local id, op = ARGV[1], ARGV[4]
if redis.call('HGET', leases, id) ~= ARGV[2] then
  local prev = redis.call('GET', KEYS[9])
  if prev then
    local prev_op, d, n = string.match(prev, '^(%a+):(%d):(%d+)$')
    if prev_op == op then
      return {tonumber(d), tonumber(n)}
    end
  end
  return false
end
if ARGV[7] == '1' then
  redis.call('HINCRBY', attempts, id, -1)
end
local d, n = settle(id, ARGV[5], ARGV[6] == '1', tonumber(ARGV[8]), now_ms())
redis.call('SET', KEYS[9], op .. ':' .. d .. ':' .. n, 'PX', ARGV[3])
return {d, n}
"""

# ARGV: max_attempts, limit, reason. Returns {{id, payload, dead, attempts}, ...}.
_REAP = _PRELUDE + """
local now = now_ms()
local ids = redis.call('ZRANGEBYSCORE', inflight, '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local d, n = settle(id, ARGV[3], false, tonumber(ARGV[1]), now)
  out[#out + 1] = {id, redis.call('HGET', payloads, id) or '{}', d, n}
end
return out
"""

# ARGV: include_dead (0/1), then task ids (a job's, from its record). Touches only those tasks:
# a ready id stays in the list without its payload, and pop skips it.
_DROP = _PRELUDE + """
local dropped = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('HEXISTS', payloads, id) == 1
     and (ARGV[1] == '1' or not redis.call('ZSCORE', dead, id)) then
    forget(id)
    dropped = dropped + 1
  end
end
return dropped
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def encode_payload(payload: dict[str, Any]) -> tuple[str, str]:
    """Validate a payload; return ``(job_id, payload_json)``."""
    if not isinstance(payload, dict):
        raise QueueError(f"task payload must be a dict, not {type(payload).__name__}")
    job_id = payload.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise QueueError("task payload needs a non-empty string 'job_id'")
    try:
        return job_id, json.dumps(payload, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise QueueError(f"task payload is not JSON-serializable: {exc}") from exc


class ReliableQueue:
    """At-least-once queue: pop leases a task; ack, fail, release or lease expiry ends it."""

    def __init__(
        self,
        redis: Redis,
        name: str,
        *,
        lease_seconds: float = 60,
        max_attempts: int = 3,
        prefix: str = "ff",
        poll_interval: float = 0.1,
    ) -> None:
        if lease_seconds <= 0 or max_attempts < 1 or poll_interval <= 0:
            raise ValueError("lease_seconds and poll_interval must be > 0, max_attempts >= 1")
        self.redis: Any = redis  # redis-py types replies as bytes | str; ours decode (decode_responses=True)
        self.name = name
        self.key_prefix = f"{prefix}:q:{name}"
        self.lease_ms = max(1, round(lease_seconds * 1000))
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self._keys = [
            f"{self.key_prefix}:{part}"
            for part in (
                "ready", "inflight", "dead", "payload", "job", "attempts", "lease", "error"
            )
        ]
        self._push = redis.register_script(_PUSH)
        self._pop = redis.register_script(_POP)
        self._heartbeat = redis.register_script(_HEARTBEAT)
        self._ack = redis.register_script(_ACK)
        self._settle = redis.register_script(_SETTLE)
        self._reap = redis.register_script(_REAP)
        self._drop = redis.register_script(_DROP)

    def push_keys(self) -> list[str]:
        """The 8 keys that ``PUSH_LUA``'s ``push_task`` expects, in order."""
        return list(self._keys)

    def key(self, part: str) -> str:
        """Full Redis key of one part of this queue (``ready``, ``inflight``, ``dead``, ...)."""
        return f"{self.key_prefix}:{part}"

    def push(self, payload: dict[str, Any], *, task_id: str | None = None) -> str:
        """Append a task; pushing an id that is still queued, in flight or dead is a no-op."""
        return self.push_many([payload], task_ids=None if task_id is None else [task_id])[0]

    def push_many(
        self, payloads: list[dict[str, Any]], *, task_ids: list[str] | None = None
    ) -> list[str]:
        """Append tasks in order (atomic per batch of 500); returns their ids."""
        ids = task_ids if task_ids is not None else [uuid.uuid4().hex for _ in payloads]
        if len(ids) != len(payloads):
            raise ValueError("task_ids and payloads differ in length")
        args: list[str] = []
        for task_id, payload in zip(ids, payloads):
            args += [task_id, *encode_payload(payload)]
        step = 3 * _PUSH_BATCH
        for start in range(0, len(args), step):
            self._push(keys=self._keys, args=args[start : start + step])
        return ids

    def try_pop(self) -> Task | None:
        """Lease the task at the head of the ready list, if any."""
        token = uuid.uuid4().hex
        found = self._pop(keys=self._keys, args=[token, self.lease_ms])
        if not found:
            return None
        task_id, payload, attempt = found
        return Task(_text(task_id), json.loads(payload), int(attempt), token, self.name)

    def pop(self, timeout: float = 1.0) -> Task | None:
        """Lease the next task, polling up to ``timeout`` seconds (0: don't wait)."""
        # Polling an atomic script (instead of BLMOVE into a processing list + a second
        # step) leaves no window in which a dying worker could strand a task.
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            task = self.try_pop()
            remaining = deadline - time.monotonic()
            if task is not None or remaining <= 0:
                return task
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.poll_interval)

    def heartbeat(self, task: Task) -> bool:
        """Extend the lease to now + lease_seconds; False if the lease was lost."""
        args: list[str | int] = [task.id, task.lease_token, self.lease_ms]
        return bool(self._heartbeat(keys=self._keys, args=args))

    def ack(self, task: Task) -> bool:
        """Finish a task; False if the lease was lost (reaped, re-issued, dropped)."""
        args: list[str | int] = [task.id, task.lease_token, _DONE_TTL_MS]
        return bool(self._ack(keys=[*self._keys, self._done_key(task)], args=args))

    def fail(self, task: Task, error: str) -> ReapedTask | None:
        """Record a failed attempt: retry at the back, or dead if attempts are used up.

        Returns None (and changes nothing) if the lease was already lost.
        """
        return self._end(task, "fail", error, front=False, refund=False)

    def release(self, task: Task, error: str | None = None) -> ReapedTask | None:
        """Give the task back to the head of the ready list now (graceful shutdown).

        With ``error=None`` the attempt is refunded (not counted). With an error it counts
        as a failed attempt, so it may go dead: check ``.dead`` like ``fail``'s result.
        Returns None if the lease was already lost.
        """
        return self._end(task, "release", error, front=True, refund=error is None)

    def reap(self) -> list[ReapedTask]:
        """Requeue (or bury) tasks whose lease expired; safe to run from many workers."""
        reaped: list[ReapedTask] = []
        while True:
            args: list[str | int] = [self.max_attempts, _REAP_BATCH, LEASE_EXPIRED]
            batch = self._reap(keys=self._keys, args=args)
            for task_id, payload, dead, attempt in batch:
                reaped.append(
                    ReapedTask(
                        _text(task_id), json.loads(payload), int(attempt), bool(dead),
                        LEASE_EXPIRED, self.name,
                    )
                )
            if len(batch) < _REAP_BATCH:
                return reaped

    def drop(self, task_ids: list[str], *, include_dead: bool = False) -> int:
        """Cancel tasks by id (a job's, as its record lists them): queued ones will never be
        handed out, in-flight ones lose their lease. Touches only these tasks, never the whole
        queue. Returns how many were removed; dead ones are kept for inspection unless
        ``include_dead`` (a finished job's clean-up)."""
        removed = 0
        for start in range(0, len(task_ids), _PUSH_BATCH):
            batch = task_ids[start : start + _PUSH_BATCH]
            removed += int(self._drop(keys=self._keys, args=[int(include_dead), *batch]))
        return removed

    def depth(self) -> dict[str, int]:
        """Counts: ``{"ready": n, "inflight": n, "dead": n}``."""
        # Every task has a payload until it is acked or dropped, and is in exactly one of ready,
        # in flight or dead: so ready = tasks - inflight - dead (the ready list may still hold
        # ids of dropped tasks, which pop skips).
        pipe = self.redis.pipeline(transaction=True)
        pipe.hlen(self.key("payload"))
        pipe.zcard(self.key("inflight"))
        pipe.zcard(self.key("dead"))
        tasks, inflight, dead = pipe.execute()
        return {"ready": tasks - inflight - dead, "inflight": inflight, "dead": dead}

    def _done_key(self, task: Task) -> str:
        return self.key(f"done:{task.lease_token}")

    def _end(
        self, task: Task, op: str, error: str | None, *, front: bool, refund: bool
    ) -> ReapedTask | None:
        args: list[str | int] = [
            task.id, task.lease_token, _DONE_TTL_MS, op, error or "",
            int(front), int(refund), self.max_attempts,
        ]
        result = self._settle(keys=[*self._keys, self._done_key(task)], args=args)
        if not result:
            return None
        dead, attempt = result
        return ReapedTask(task.id, task.payload, int(attempt), bool(dead), error, self.name)
