"""Job records in Redis: the state machine, progress, per-part status and stage timings.

A job is a hash ``{prefix}:job:{id}``; its finished parts are a set ``…:done`` and the
per-part status (for dashboards) a hash ``…:parts``. All jobs are indexed newest-first in the
sorted set ``{prefix}:owner:{owner}:jobs``. Every state change is a compare-and-set in Lua, so concurrent
workers, duplicate S3 events and late task completions cannot move a job backwards.

Every change also bumps the job's ``version`` and appends it to ``…:changes`` (a one-entry
stream that long-polling readers block on); the changes that are events (``job.uploaded`` …
``job.cancelled``) are appended to the webhook outbox ``{prefix}:events`` in the same script,
so no event is ever recorded without its change, nor a change without its event.
"""
from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Iterable
from typing import Any

import redis

from chalicelib.model.errors import LimitExceededError, NotFoundError
from chalicelib.model.kinds import ACTIVE_STATES, FINAL_STATES, JobState, is_audio_part
from chalicelib.model.tasks import TaskSpec
from chalicelib.model.webhooks import FINAL_EVENTS
from chalicelib.stores.queue import encode_payload

# Listing reads the owner's index in batches, and at most this many records per page.
LIST_BATCH = 200
LIST_MAX_SCAN = 2000
WAIT_SLICE = 20.0   # seconds of one blocking read (the Redis client's socket timeout is 30)
WAITING_TTL = 60    # a crashed waiter's slot frees itself after this long
_JSON_FIELDS = ("options", "probe", "source", "plan", "output", "limits", "tasks", "estimate", "actual")

# Every script that changes a job calls emit(job hash, event type or '', now). __OUTBOX__ and
# __RETENTION__ are filled in from the store's configuration.
_EMIT = """
local function emit(job_key, event, now)
  local v = redis.call('HINCRBY', job_key, 'version', 1)
  local changes = job_key .. ':changes'
  redis.call('XADD', changes, 'MAXLEN', '1', '*', 'v', v)
  redis.call('EXPIRE', changes, __RETENTION__)
  if event ~= '' then
    local f = redis.call('HMGET', job_key, 'id', 'owner')
    redis.call('XADD', '__OUTBOX__', '*', 'type', event, 'job', f[1], 'owner', f[2] or '', 'version', v,
               'at', now)
  end
  return v
end
"""

# KEYS: job hash. ARGV: allowed-from states (comma list), new state, now, then field/value pairs.
_TRANSITION = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == state then allowed = true end end
if not allowed then return state end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updated_at', ARGV[3], 't_' .. ARGV[2], ARGV[3])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[2] == 'done' then
  -- A stream that was done before any progress was published is first playable now.
  local options = cjson.decode(redis.call('HGET', KEYS[1], 'options') or '{}')
  local streams = false
  if type(options) == 'table' and type(options.outputs) == 'table' then
    for _, o in ipairs(options.outputs) do if o == 'hls' or o == 'dash' then streams = true end end
  end
  if streams and redis.call('HSETNX', KEYS[1], 'playable_at', ARGV[3]) == 1 then
    emit(KEYS[1], 'job.playable', ARGV[3])
  end
end
emit(KEYS[1], FINAL_EVENTS[ARGV[2]] or '', ARGV[3])
return 'ok'
"""

# KEYS: job hash. ARGV: now, event type or '', then field/value pairs.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[1])
emit(KEYS[1], ARGV[2], ARGV[1])
return 1
"""

# KEYS: job hash, done set, parts hash. ARGV: now, part, merged status json.
_SET_PART = """
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
emit(KEYS[1], '', ARGV[1])
return 1
"""

# KEYS: job hash. ARGV: now, segments published. The first call marks the job playable.
_PUBLISHED = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'encoding' and state ~= 'assembling' then return 0 end
redis.call('HSET', KEYS[1], 'published_segments', ARGV[2], 'updated_at', ARGV[1])
if redis.call('HSETNX', KEYS[1], 'playable_at', ARGV[1]) == 1 then
  emit(KEYS[1], 'job.playable', ARGV[1])
  return 2
end
emit(KEYS[1], '', ARGV[1])
return 1
"""

# KEYS: job hash, preparing zset. ARGV: token, now, stale seconds. Take the job for probing: the first event
# claims it; a duplicate event sees a fresh claim and backs off; a chunker that died leaves a
# stale claim that the redelivered event takes over.
# KEYS: new job hash, owner index, owner active set. ARGV: now, retention, max active (-1: none),
# upload window, job id, the job hash prefix, then field/value pairs. Counting the owner's jobs
# in progress and adding this one is one step, so parallel creates cannot pass the limit
# together. The members' hashes are named from the prefix (ElastiCache here is not a cluster:
# every key lives on one shard), so no retry is ever needed, however many creates race.
_CREATE = """
local now, max, window = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])
local active = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local v = redis.call('HMGET', ARGV[6] .. id, 'state', 'created_at')
  local state = v[1]
  if not state or state == 'done' or state == 'failed' or state == 'cancelled' then
    redis.call('SREM', KEYS[3], id)
  elseif state ~= 'awaiting_upload' or now - tonumber(v[2]) < window then
    active = active + 1
  end
end
if max >= 0 and active >= max then return 'limit:' .. active end
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
-- An upload that never arrives must not keep the record forever.
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('SADD', KEYS[3], ARGV[5])
return 'ok'
"""

_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
local now = tonumber(ARGV[2])
local job = redis.call('HGET', KEYS[1], 'id')
if state == 'awaiting_upload' then
  redis.call('HSET', KEYS[1], 'state', 'queued', 'claim', ARGV[1], 'claim_at', ARGV[2],
             'updated_at', ARGV[2], 't_queued', ARGV[2])
  redis.call('ZADD', KEYS[2], 'NX', ARGV[2], job)
  emit(KEYS[1], 'job.uploaded', ARGV[2])
  return 'claimed'
end
if state == 'queued' or state == 'probing' then
  local at = tonumber(redis.call('HGET', KEYS[1], 'claim_at') or '0')
  if now - at > tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'claim', ARGV[1], 'claim_at', ARGV[2])
    redis.call('ZADD', KEYS[2], 'NX', ARGV[2], job)
    return 'claimed'
  end
  return 'busy'
end
return state
"""

# KEYS: job hash, parts hash, then the queue keys used by the push fragment.
# ARGV: token, now, plan json, parts_total, chunks_total, audio flag, parts-status json,
#       n tasks, then n (task id, payload) pairs, then the number of audio parts.
_START_ENCODING = """
if redis.call('HGET', KEYS[1], 'state') ~= 'probing' then return 0 end
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'encoding', 'updated_at', ARGV[2], 't_encoding', ARGV[2],
           'plan', ARGV[3], 'parts_total', ARGV[4], 'chunks_total', ARGV[5], 'chunks_done', 0,
           'audio', ARGV[6], 'audio_total', ARGV[9 + 2 * tonumber(ARGV[8])], 'audio_done', 0)
local status = cjson.decode(ARGV[7])
for part, value in pairs(status) do redis.call('HSET', KEYS[2], part, value) end
local n = tonumber(ARGV[8])
local job = redis.call('HGET', KEYS[1], 'id')
local ids = {}
for i = 0, n - 1 do
  push_task(3, ARGV[9 + 2 * i], job, ARGV[10 + 2 * i])
  ids[#ids + 1] = ARGV[9 + 2 * i]
end
-- The job's own index of its tasks: cancel/fail/delete drop exactly these, never scan a queue.
redis.call('HSET', KEYS[1], 'tasks', cjson.encode(ids))
emit(KEYS[1], 'job.encoding', ARGV[2])
return 1
"""

# KEYS: job hash, done set, parts hash, then the assembly queue's keys.
# ARGV: part, part status json, is-video flag, now, assembly task id, assembly payload.
_COMPLETE_PART = """
if redis.call('HGET', KEYS[1], 'state') ~= 'encoding' then return 'ignored' end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 'duplicate' end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'chunks_done', 1)
-- The audio is done with its last part (a job started before parts has no audio_total: one).
elseif redis.call('HINCRBY', KEYS[1], 'audio_done', 1) >= tonumber(redis.call('HGET', KEYS[1], 'audio_total') or '1')
then redis.call('HSET', KEYS[1], 'audio', 'done') end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[4])
emit(KEYS[1], '', ARGV[4])
if redis.call('SCARD', KEYS[2]) < tonumber(redis.call('HGET', KEYS[1], 'parts_total')) then
  return 'ok'
end
redis.call('HSET', KEYS[1], 'state', 'assembling', 't_assembling', ARGV[4])
push_task(4, ARGV[5], redis.call('HGET', KEYS[1], 'id'), ARGV[6])
local ids = cjson.decode(redis.call('HGET', KEYS[1], 'tasks') or '[]')
ids[#ids + 1] = ARGV[5]
redis.call('HSET', KEYS[1], 'tasks', cjson.encode(ids))
return 'last'
"""


def new_job_id() -> str:
    """An unguessable job id (128 bits, URL-safe)."""
    return secrets.token_hex(16)


_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""


class JobStore:
    """Reads and atomically updates job records."""

    def __init__(self, r: redis.Redis, prefix: str, retention_seconds: int, queue_push_lua: str,
                 process_queue_keys: list[str], assemble_queue_keys: list[str]) -> None:
        self.r: Any = r  # redis-py types replies as bytes | str; ours decode (decode_responses=True)
        self.prefix = prefix
        self.retention = retention_seconds
        self.preparing_key = f"{prefix}:preparing"  # claimed jobs by claim time (for sweep_stalled)
        self.outbox_key = outbox_key(prefix)
        self._process_keys = process_queue_keys
        self._assemble_keys = assemble_queue_keys
        finals = ", ".join(f"{state}='{event}'" for state, event in FINAL_EVENTS.items())
        emit = (_EMIT.replace("__OUTBOX__", self.outbox_key).replace("__RETENTION__", str(int(retention_seconds)))
                + f"local FINAL_EVENTS = {{{finals}}}\n")
        self._transition = r.register_script(emit + _TRANSITION)
        self._update = r.register_script(emit + _UPDATE)
        self._set_part = r.register_script(emit + _SET_PART)
        self._published = r.register_script(emit + _PUBLISHED)
        self._claim = r.register_script(emit + _CLAIM)
        self._create = r.register_script(_CREATE)
        self._start = r.register_script(queue_push_lua + emit + _START_ENCODING)
        self._complete = r.register_script(queue_push_lua + emit + _COMPLETE_PART)
        self._unlock = r.register_script(_UNLOCK)

    # -- keys ----------------------------------------------------------------------------
    def key(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def _done_key(self, job_id: str) -> str:
        return f"{self.key(job_id)}:done"

    def _parts_key(self, job_id: str) -> str:
        return f"{self.key(job_id)}:parts"

    def _changes_key(self, job_id: str) -> str:
        return f"{self.key(job_id)}:changes"

    # -- reads ---------------------------------------------------------------------------
    def _owner_index(self, owner: str) -> str:
        return f"{self.prefix}:owner:{owner}:jobs"

    def _owner_active(self, owner: str) -> str:
        return f"{self.prefix}:owner:{owner}:active"

    def create(self, fields: dict[str, Any], *, max_active: float | None = None, upload_window: float = 0.0) -> str:
        """Store a new job of ``fields["owner"]`` in ``awaiting_upload``; returns its id.

        With ``max_active``: LimitExceededError when the owner already has that many jobs in
        progress (uploads older than ``upload_window`` seconds do not count), checked and taken
        in one atomic step."""
        job_id = fields.get("id") or new_job_id()
        owner = fields["owner"]
        now = time.time()
        record = {**fields, "id": job_id, "state": JobState.AWAITING_UPLOAD, "created_at": now,
                  "updated_at": now, f"t_{JobState.AWAITING_UPLOAD}": now}
        keys = [self.key(job_id), self._owner_index(owner), self._owner_active(owner)]
        args: list[Any] = [now, self.retention, -1 if max_active is None else max_active, upload_window, job_id,
                           self.key("")]
        for k, v in _encode(record).items():
            args += [k, v]
        result = str(self._create(keys=keys, args=args))
        if result.startswith("limit:"):
            active = int(result.split(":", 1)[1])
            raise LimitExceededError(f"you already have {active} jobs in progress (limit {int(max_active or 0)}); "
                                     "wait for one to finish or cancel one")
        return job_id

    def get(self, job_id: str, owner: str | None = None) -> dict[str, Any]:
        """The decoded job record; NotFoundError if unknown, expired or (given ``owner``) not theirs."""
        raw = self.r.hgetall(self.key(job_id)) if _valid_id(job_id) else {}
        # Someone else's job is indistinguishable from a job that does not exist.
        if not raw or (owner is not None and raw.get("owner") != owner):
            raise NotFoundError(f"job {job_id} not found")
        return _decode(raw)

    def parts(self, job_id: str) -> dict[str, dict[str, Any]]:
        """Per-part status: ``{"v00000": {"state": "done", ...}, "audio": {...}}``."""
        return {k: json.loads(v) for k, v in self.r.hgetall(self._parts_key(job_id)).items()}

    def page(self, owner: str, limit: int, before: float | None = None, *, states: frozenset[str] = frozenset(),
             name: str = "", oldest_first: bool = False,
             max_scan: int = LIST_MAX_SCAN) -> tuple[list[dict[str, Any]], float | None]:
        """A page of ``owner``'s jobs and the cursor of the next page (None: no more).

        Newest first (or oldest first), created strictly after/before ``before``, keeping those
        in ``states`` (all when empty) whose filename contains ``name`` (case-insensitive).
        At most ``max_scan`` records are read per page, so a filter that matches little still
        answers quickly: the page may then be short with a cursor to continue from.
        """
        index = self._owner_index(owner)
        needle = name.casefold()
        jobs: list[dict[str, Any]] = []
        cursor, scanned = before, 0
        while len(jobs) < limit and scanned < max_scan:
            batch = min(LIST_BATCH, max_scan - scanned)
            if oldest_first:
                low = f"({cursor}" if cursor is not None else "-inf"
                ids_scores = self.r.zrangebyscore(index, low, "+inf", start=0, num=batch, withscores=True)
            else:
                high = f"({cursor}" if cursor is not None else "+inf"
                ids_scores = self.r.zrevrangebyscore(index, high, "-inf", start=0, num=batch, withscores=True)
            if not ids_scores:
                return jobs, None
            pipe = self.r.pipeline()
            for job_id, _ in ids_scores:
                pipe.hgetall(self.key(job_id))
            for (job_id, score), raw in zip(ids_scores, pipe.execute()):
                scanned += 1
                cursor = float(score)
                if not raw:  # expired record: drop it from the index lazily
                    self.r.zrem(index, job_id)
                    continue
                if (states and raw.get("state") not in states) or needle not in raw.get("filename", "").casefold():
                    continue
                jobs.append(_decode(raw))
                if len(jobs) == limit:
                    break
            if len(ids_scores) < batch and len(jobs) < limit:
                return jobs, None
        return jobs, cursor

    # -- state changes -------------------------------------------------------------------
    def transition(self, job_id: str, from_states: Iterable[str], to_state: str, **fields: Any) -> bool:
        """Compare-and-set the state; True if this call made the change."""
        args: list[Any] = [",".join(from_states), to_state, time.time()]
        for k, v in _encode(fields).items():
            args += [k, v]
        result = str(self._transition(keys=[self.key(job_id)], args=args))
        if result == "ok" and to_state in FINAL_STATES:
            self._expire(job_id)
        return result == "ok"

    def claim(self, job_id: str, token: str, stale_seconds: float) -> str:
        """Claim an uploaded job for probing: ``claimed``, ``busy``, ``missing`` or its state."""
        keys = [self.key(job_id), self.preparing_key]
        return str(self._claim(keys=keys, args=[token, time.time(), stale_seconds]))

    def sweep_stalled(self, max_age: float) -> list[str]:
        """Fail jobs whose preparation (probe and plan) started over ``max_age`` seconds ago and
        never finished — e.g. the chunker kept crashing until SQS moved the event to its DLQ."""
        stalled = []
        for job_id in self.r.zrangebyscore(self.preparing_key, "-inf", time.time() - max_age):
            if self.transition(job_id, [JobState.QUEUED, JobState.PROBING], JobState.FAILED,
                               error="the upload could not be analysed: preparation never finished"):
                stalled.append(job_id)
            self.r.zrem(self.preparing_key, job_id)
        return stalled

    def start_encoding(self, job_id: str, token: str, plan: dict[str, Any], parts_status: dict[str, Any],
                       chunks_total: int, audio_parts: int, tasks: list[TaskSpec]) -> bool:
        """Store the plan, move ``probing → encoding`` and enqueue every task, atomically."""
        args: list[Any] = [token, time.time(), json.dumps(plan), chunks_total + audio_parts, chunks_total,
                           "pending" if audio_parts else "none",
                           json.dumps({k: json.dumps(v) for k, v in parts_status.items()}), len(tasks)]
        for t in tasks:
            args += [t.task_id, encode_payload(t.payload)[1]]
        args.append(audio_parts)
        keys = [self.key(job_id), self._parts_key(job_id), *self._process_keys]
        return bool(self._start(keys=keys, args=args))

    def complete_part(self, job_id: str, part: str, status: dict[str, Any], assembly: TaskSpec) -> str:
        """Record a finished part: ``ok``, ``last`` (assembly enqueued), ``duplicate`` or ``ignored``."""
        keys = [self.key(job_id), self._done_key(job_id), self._parts_key(job_id), *self._assemble_keys]
        args = [part, json.dumps(status), "0" if is_audio_part(part) else "1", time.time(),
                assembly.task_id, encode_payload(assembly.payload)[1]]
        return str(self._complete(keys=keys, args=args))

    def set_part(self, job_id: str, part: str, status: dict[str, Any]) -> None:
        """Update a part's dashboard status unless it is already done; fields not given (its
        frame count) are kept."""
        if self.r.sismember(self._done_key(job_id), part):
            return
        known = self.r.hget(self._parts_key(job_id), part)
        merged = {**(json.loads(known) if known else {}), **status}
        self._set_part(keys=[self.key(job_id), self._done_key(job_id), self._parts_key(job_id)],
                       args=[time.time(), part, json.dumps(merged)])

    def update(self, job_id: str, **fields: Any) -> None:
        """Set informational fields (never the state) of an existing job."""
        fields.pop("state", None)
        args: list[Any] = [time.time(), ""]
        for k, v in _encode(fields).items():
            args += [k, v]
        self._update(keys=[self.key(job_id)], args=args)

    def record_published(self, job_id: str, segments: int) -> bool:
        """Record how many segments the stream has published; True the first time (the job became
        playable: ``playable_at`` is set and ``job.playable`` is emitted, atomically)."""
        return int(self._published(keys=[self.key(job_id)], args=[time.time(), segments])) == 2

    def wait_for_change(self, job_id: str, since: int, timeout: float) -> int:
        """Block until the job's version is newer than ``since`` or ``timeout`` seconds passed;
        returns the version then. Race-free: it blocks on the change stream from the last entry
        it has read, so a change between the first look and the wait is still seen."""
        deadline = time.monotonic() + timeout
        version = int(self.r.hget(self.key(job_id), "version") or 0)
        key = self._changes_key(job_id)
        last = self.r.xrevrange(key, count=1)
        last_id = last[0][0] if last else "0-0"
        version = max(version, int(last[0][1]["v"]) if last else 0)
        while version <= since:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # Below the client's socket timeout, so a long wait is several short blocks.
            got = self.r.xread({key: last_id}, count=1, block=max(1, int(min(remaining, WAIT_SLICE) * 1000)))
            if got:
                last_id, fields = got[0][1][-1]
                version = int(fields["v"])
        return version

    def waiting(self, owner: str, limit: int) -> _Waiting:
        """A slot among ``owner``'s at most ``limit`` waiting requests (LimitExceededError when
        they are all taken), released when the ``with`` block ends."""
        return _Waiting(self.r, f"{self._owner_index(owner)}:waiting", limit)

    def bump(self, job_id: str, counter: str) -> int:
        """Increment an integer field of the job; returns the new value."""
        return int(self.r.hincrby(self.key(job_id), counter, 1))

    def lock(self, job_id: str, name: str, ttl_seconds: float) -> str | None:
        """Take the job's lock ``name`` for at most ``ttl_seconds``: a token, or None if it is held."""
        token = uuid.uuid4().hex
        taken = self.r.set(f"{self.key(job_id)}:lock:{name}", token, nx=True, px=int(ttl_seconds * 1000))
        return token if taken else None

    def unlock(self, job_id: str, name: str, token: str) -> None:
        """Release a lock taken with ``token`` (never one that expired and was taken by another)."""
        self._unlock(keys=[f"{self.key(job_id)}:lock:{name}"], args=[token])

    def fail(self, job_id: str, reason: str) -> bool:
        """Move any active job to ``failed`` with a human-readable reason."""
        return self.transition(job_id, ACTIVE_STATES, JobState.FAILED, error=reason[:2000])

    def cancel(self, job_id: str) -> bool:
        """Move any active job to ``cancelled``."""
        return self.transition(job_id, ACTIVE_STATES, JobState.CANCELLED, error="cancelled by the user")

    def task_ids(self, job_id: str) -> list[str]:
        """Ids of every task enqueued for the job (its chunks, audio and assembly)."""
        raw = self.r.hget(self.key(job_id), "tasks")
        return [str(i) for i in json.loads(raw)] if raw else []

    def state(self, job_id: str) -> str | None:
        """Just the state (cheap; workers poll it while encoding)."""
        state: str | None = self.r.hget(self.key(job_id), "state")
        return state

    def delete(self, job_id: str) -> None:
        """Remove a job's records entirely."""
        owner = self.r.hget(self.key(job_id), "owner") or ""
        pipe = self.r.pipeline()
        pipe.delete(self.key(job_id), self._done_key(job_id), self._parts_key(job_id), self._changes_key(job_id))
        pipe.zrem(self._owner_index(owner), job_id)
        pipe.srem(self._owner_active(owner), job_id)
        pipe.execute()

    def _expire(self, job_id: str) -> None:
        pipe = self.r.pipeline()
        for key in (self.key(job_id), self._parts_key(job_id), self._changes_key(job_id)):
            pipe.expire(key, self.retention)
        pipe.delete(self._done_key(job_id))
        pipe.execute()


class _Waiting:
    """One of an owner's waiting-request slots (a counter that expires if a holder dies)."""

    def __init__(self, r: Any, key: str, limit: int) -> None:
        self.r, self.key, self.limit = r, key, limit

    def __enter__(self) -> _Waiting:
        pipe = self.r.pipeline()
        pipe.incr(self.key)
        pipe.expire(self.key, WAITING_TTL)
        taken = int(pipe.execute()[0])
        if taken > self.limit:
            self.r.decr(self.key)
            raise LimitExceededError(f"you already have {self.limit} requests waiting for changes; "
                                     "wait for one to return")
        return self

    def __exit__(self, *exc: object) -> None:
        self.r.decr(self.key)


def outbox_key(prefix: str) -> str:
    """The stream every job event is appended to (the webhook outbox)."""
    return f"{prefix}:events"


def _valid_id(job_id: str) -> bool:
    return 8 <= len(job_id) <= 64 and all(c in "0123456789abcdef" for c in job_id)


def _encode(fields: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v) if k in _JSON_FIELDS else str(v) for k, v in fields.items() if v is not None}


def _decode(raw: dict[str, str]) -> dict[str, Any]:
    job: dict[str, Any] = {}
    for k, v in raw.items():
        if k in _JSON_FIELDS:
            job[k] = json.loads(v)
        elif k in ("size", "chunks_total", "chunks_done", "parts_total", "part_size", "published_segments",
                   "version", "audio_total", "audio_done"):
            job[k] = int(v)
        elif k.startswith("t_") or k in ("created_at", "updated_at", "claim_at", "playable_at", "poster_time"):
            job[k] = float(v)
        else:
            job[k] = v
    return job
